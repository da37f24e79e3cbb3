/**
 * A circuit per webhook endpoint (scheme://host:port): after `threshold`
 * attempts in a row that timed out, the endpoint is left alone for a
 * cool-down, doubled each time it opens again (up to `maxCooldownMs`); its
 * deliveries stay pending, spending no attempts. After the cool-down one
 * round is let through: an answer closes the circuit, another timeout opens
 * it again. Kept in this process's memory.
 *
 *   const c = new EndpointCircuits({ threshold: 3, cooldownMs: 60_000 });
 *   c.record('https://hooks.example', 'timeout', now) x3  ->  c.isOpen('https://hooks.example', now) === true
 *   c.isOpen('https://hooks.example', now + 60_000)       ->  false (one more try)
 */
export type AttemptOutcome = 'answered' | 'timeout' | 'failed';

interface Circuit {
  timeoutsInARow: number;
  openUntil: number;
  cooldownMs: number;
}

export class EndpointCircuits {
  private readonly circuits = new Map<string, Circuit>();
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly maxCooldownMs: number;

  constructor(options: { threshold?: number; cooldownMs?: number; maxCooldownMs?: number } = {}) {
    this.threshold = options.threshold ?? 3;
    this.cooldownMs = options.cooldownMs ?? 60_000;
    this.maxCooldownMs = options.maxCooldownMs ?? 16 * this.cooldownMs;
  }

  record(endpoint: string, outcome: AttemptOutcome, nowMs: number): void {
    if (outcome !== 'timeout') {
      // Any answer (even an error status) or a refused connection is not a hang.
      this.circuits.delete(endpoint);
      return;
    }
    const c = this.circuits.get(endpoint) ?? { timeoutsInARow: 0, openUntil: 0, cooldownMs: this.cooldownMs / 2 };
    c.timeoutsInARow += 1;
    if (c.timeoutsInARow >= this.threshold && c.openUntil <= nowMs) {
      c.cooldownMs = Math.min(this.maxCooldownMs, c.cooldownMs * 2);
      c.openUntil = nowMs + c.cooldownMs;
    }
    this.circuits.set(endpoint, c);
  }

  isOpen(endpoint: string, nowMs: number): boolean {
    return (this.circuits.get(endpoint)?.openUntil ?? 0) > nowMs;
  }

  openEndpoints(nowMs: number): string[] {
    return [...this.circuits].filter(([, c]) => c.openUntil > nowMs).map(([endpoint]) => endpoint);
  }
}
