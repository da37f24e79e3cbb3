import { describe, expect, it } from 'vitest';
import { EndpointCircuits } from '../../src/features/webhooks/endpoint-circuit.js';

describe('EndpointCircuits (issue 14, item 2: endpoints that keep timing out are left alone)', () => {
  const e = 'http://hooks.example:8080';
  const t0 = Date.parse('2027-03-01T09:00:00Z');

  it('opens after 3 timeouts in a row, lets one try through after the cool-down, and doubles it when that times out too', () => {
    const c = new EndpointCircuits({ threshold: 3, cooldownMs: 60_000 });
    c.record(e, 'timeout', t0);
    c.record(e, 'timeout', t0);
    expect(c.isOpen(e, t0)).toBe(false);
    c.record(e, 'timeout', t0);
    expect(c.isOpen(e, t0 + 59_999)).toBe(true);
    expect(c.openEndpoints(t0)).toEqual([e]);
    expect(c.isOpen(e, t0 + 60_000)).toBe(false);
    c.record(e, 'timeout', t0 + 60_000);
    expect(c.isOpen(e, t0 + 60_000 + 119_999)).toBe(true);
    expect(c.isOpen(e, t0 + 60_000 + 120_000)).toBe(false);
  });

  it('an answer (any status) closes it; other endpoints are not affected', () => {
    const c = new EndpointCircuits({ threshold: 2, cooldownMs: 1_000 });
    c.record(e, 'timeout', t0);
    c.record(e, 'answered', t0);
    c.record(e, 'timeout', t0);
    expect(c.isOpen(e, t0)).toBe(false);
    c.record(e, 'timeout', t0);
    expect(c.isOpen(e, t0)).toBe(true);
    expect(c.isOpen('http://other.example', t0)).toBe(false);
    c.record(e, 'answered', t0 + 1_000);
    expect(c.openEndpoints(t0 + 1_000)).toEqual([]);
  });
});
