import { describe, expect, it } from 'vitest';
import { createAppMetrics } from '../../src/platform/metrics/app-metrics.js';
import { Registry } from '../../src/platform/metrics/metrics.js';

describe('metrics registry (Prometheus text format 0.0.4)', () => {
  it('renders counters, gauges and histograms exactly', () => {
    const r = new Registry();
    const requests = r.counter('http_requests_total', 'Requests answered.', ['method', 'status']);
    requests.labels('GET', '200').inc();
    requests.labels('GET', '200').inc(2);
    requests.labels('POST', '409').inc();
    const expired = r.counter('holds_expired_total', 'Holds expired.');
    expired.inc(4);
    r.gauge('db_pool_connections', 'Open connections.', [], (g) => g.set(3));
    const latency = r.histogram('latency_seconds', 'Latency.', ['route'], [0.1, 1]);
    latency.labels('/a').observe(0.05);
    latency.labels('/a').observe(0.1); // le is inclusive: counts in the 0.1 bucket
    latency.labels('/a').observe(5);

    expect(r.render()).toBe(
      [
        '# HELP http_requests_total Requests answered.',
        '# TYPE http_requests_total counter',
        'http_requests_total{method="GET",status="200"} 3',
        'http_requests_total{method="POST",status="409"} 1',
        '# HELP holds_expired_total Holds expired.',
        '# TYPE holds_expired_total counter',
        'holds_expired_total 4',
        '# HELP db_pool_connections Open connections.',
        '# TYPE db_pool_connections gauge',
        'db_pool_connections 3',
        '# HELP latency_seconds Latency.',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{route="/a",le="0.1"} 2',
        'latency_seconds_bucket{route="/a",le="1"} 2',
        'latency_seconds_bucket{route="/a",le="+Inf"} 3',
        'latency_seconds_sum{route="/a"} 5.15',
        'latency_seconds_count{route="/a"} 3',
        '',
      ].join('\n'),
    );
  });

  it('escapes label values and help text', () => {
    const r = new Registry();
    r.counter('odd_total', 'A help with \\ and\na newline.', ['path']).labels('say "hi"\\\n').inc();
    expect(r.render()).toContain('# HELP odd_total A help with \\\\ and\\na newline.\n');
    expect(r.render()).toContain('odd_total{path="say \\"hi\\"\\\\\\n"} 1\n');
  });

  it('an unlabelled counter shows 0 before its first increment; a labelled one shows no series', () => {
    const r = new Registry();
    r.counter('a_total', 'A.');
    r.counter('b_total', 'B.', ['x']);
    expect(r.render()).toBe('# HELP a_total A.\n# TYPE a_total counter\na_total 0\n# HELP b_total B.\n# TYPE b_total counter\n');
  });

  it('returns the same series for the same label values, and refuses misuse', () => {
    const r = new Registry();
    const c = r.counter('c_total', 'C.', ['a', 'b']);
    expect(c.labels('x', 'y')).toBe(c.labels('x', 'y'));
    expect(c.labels('x', 'y')).not.toBe(c.labels('y', 'x'));
    expect(() => c.labels('x')).toThrow(/2 label values/);
    expect(() => c.labels('x', 'y').inc(-1)).toThrow();
    expect(() => r.counter('c_total', 'again')).toThrow(/already registered/);
    expect(() => r.counter('bad name', 'x')).toThrow(/invalid metric name/);
    expect(() => r.histogram('h', 'x', ['le'])).toThrow(/invalid label name/);
    expect(() => r.histogram('h2', 'x', [], [1, 1])).toThrow(/distinct/);
  });

  it('the app metrics start every booking outcome at 0 and read the pool at scrape time', () => {
    let waiting = 0;
    const m = createAppMetrics({ poolStats: () => ({ total: 10, idle: 7, waiting }) });
    m.countBooking('conflict');
    waiting = 2;
    const text = m.registry.render();
    for (const outcome of ['held', 'not_bookable', 'too_many_holds', 'confirmed', 'cancelled', 'expired_on_confirm']) {
      expect(text).toContain(`bookings_total{outcome="${outcome}"} 0\n`);
    }
    expect(text).toContain('bookings_total{outcome="conflict"} 1\n');
    expect(text).toContain('db_pool_connections 10\n');
    expect(text).toContain('db_pool_idle_connections 7\n');
    expect(text).toContain('db_pool_waiting_clients 2\n');
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(text).toContain('rate_limited_total{limit="requests"} 0\n');
  });
});
