// Timing helpers shared by the benchmarks. Numbers only: nothing here ever fails a run.
import { performance } from 'node:perf_hooks';

export interface Timing {
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  minMs: number;
  runs: number;
  firstMs: number; // the very first call (cold: JIT, caches)
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i]!;
}

/**
 * Runs `fn` `warmup` times (the first call, whose result is returned, is one of them), then until `maxRuns` runs or `maxMs` of measuring have passed
 * (at least `minRuns`), timing each call. Bounded in count and time.
 */
export function measure<T>(
  fn: () => T,
  o: { warmup: number; maxRuns: number; maxMs: number; minRuns?: number },
): { timing: Timing; first: T } {
  let t = performance.now();
  const first = fn();
  const firstMs = performance.now() - t;
  const warmEnd = performance.now() + o.maxMs; // warm-up gets at most as long as measuring
  for (let i = 1; i < o.warmup && performance.now() < warmEnd; i++) fn();
  const samples: number[] = [];
  const deadline = performance.now() + o.maxMs;
  const minRuns = o.minRuns ?? 5;
  while (samples.length < o.maxRuns && (samples.length < minRuns || performance.now() < deadline)) {
    t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const timing = {
    medianMs: quantile(samples, 0.5),
    p10Ms: quantile(samples, 0.1),
    p90Ms: quantile(samples, 0.9),
    minMs: samples[0] ?? NaN,
    runs: samples.length,
    firstMs,
  };
  return { timing, first };
}
