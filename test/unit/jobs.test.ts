import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startJobs, type Job, type RunningJobs } from '../../src/platform/jobs/jobs.js';

/** A promise a test resolves itself, to hold a round open. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
}

/** A round that waits until the signal aborts. */
const untilAborted = (signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

describe('startJobs: one poll loop for the background jobs', () => {
  let running: RunningJobs | null = null;
  const errors: [string, unknown][] = [];
  const onError = (name: string, error: unknown) => errors.push([name, error]);

  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2027-03-01T09:00:00Z') });
    errors.length = 0;
  });
  afterEach(async () => {
    const stopping = running?.stop();
    running = null;
    await vi.runOnlyPendingTimersAsync();
    await stopping;
    vi.useRealTimers();
  });

  it('runs each job every everyMs, the first round one period after the start', async () => {
    const runs: string[] = [];
    running = startJobs([
      { name: 'fast', everyMs: 100, run: async () => { runs.push(`fast@${Date.now() % 10_000}`); } },
      { name: 'slow', everyMs: 250, run: async () => { runs.push(`slow@${Date.now() % 10_000}`); } },
    ], { onError });
    await vi.advanceTimersByTimeAsync(99);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(401);
    expect(runs).toEqual(['fast@100', 'fast@200', 'slow@250', 'fast@300', 'fast@400', 'fast@500', 'slow@500']);
  });

  it('keeps jobs independent: a round that hangs never delays another job', async () => {
    let fast = 0;
    running = startJobs([
      { name: 'hangs', everyMs: 100, run: untilAborted },
      { name: 'fast', everyMs: 100, run: async () => { fast += 1; } },
    ], { onError });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fast).toBe(10);
  });

  it('never overlaps a job with itself: ticks that fall during a round are skipped', async () => {
    let inFlight = 0;
    let most = 0;
    const starts: number[] = [];
    const t0 = Date.now();
    running = startJobs([{
      name: 'long',
      everyMs: 100,
      run: async () => {
        starts.push(Date.now() - t0);
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 250));
        inFlight -= 1;
      },
    }], { onError });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(most).toBe(1);
    // 100 + 250 ends at 350: the ticks at 200 and 300 fell during the round, the next is 400.
    expect(starts).toEqual([100, 400, 700, 1_000]);
  });

  it('runs a round again at once while it says its batch was full, at most maxRunsPerRound times', async () => {
    let calls = 0;
    let fullFor = 3;
    running = startJobs([{
      name: 'outbox',
      everyMs: 1_000,
      run: async () => { calls += 1; return fullFor-- > 0; },
    }], { onError, maxRunsPerRound: 5 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(4); // three full batches, then one that was not
    calls = 0;
    fullFor = Infinity;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(5); // always full: bounded; the rest waits for the next tick
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(10);
  });

  it('stop() aborts every round in flight and resolves only once they and settle() have ended', async () => {
    const order: string[] = [];
    const settled = gate();
    let seen: AbortSignal | null = null;
    const jobs = startJobs([
      { name: 'a', everyMs: 100, run: async (signal) => { seen = signal; await untilAborted(signal); await Promise.resolve(); order.push('a ended'); } },
      {
        name: 'b',
        everyMs: 100,
        run: async () => {},
        settle: async () => { await settled.promise; order.push('b settled'); },
      },
    ], { onError });
    await vi.advanceTimersByTimeAsync(100);
    expect(seen!.aborted).toBe(false);
    let stopped = false;
    const stopping = jobs.stop().then(() => { stopped = true; });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen!.aborted).toBe(true);
    expect(order).toEqual(['a ended']);
    expect(stopped).toBe(false);
    settled.open();
    await stopping;
    expect(order).toEqual(['a ended', 'b settled']);
    // Nothing runs after stop(), nudged or not.
    jobs.nudge('b');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(order).toEqual(['a ended', 'b settled']);
  });

  it('nudge() runs an idle job at once, and a running one once more right after its round', async () => {
    const starts: number[] = [];
    const t0 = Date.now();
    let hold = gate();
    running = startJobs([{
      name: 'hooks',
      everyMs: 60_000,
      run: async () => { starts.push(Date.now() - t0); await hold.promise; },
    }], { onError });
    await vi.advanceTimersByTimeAsync(10);
    running.nudge('hooks');
    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toEqual([10]);
    running.nudge('hooks');
    running.nudge('hooks'); // nudges during one round ask for one more round, not two
    await vi.advanceTimersByTimeAsync(5);
    expect(starts).toEqual([10]);
    const first = hold;
    hold = gate();
    first.open();
    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toEqual([10, 15]);
    hold.open();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(starts).toEqual([10, 15]);
    expect(() => running!.nudge('nobody')).toThrow(/no job is named nobody/);
  });

  it('routes errors with the job\'s name: a round that throws, and errors a round reports; the job runs again on its next tick', async () => {
    const boom = new Error('boom');
    const itemFailed = new Error('one item failed');
    let failing = 0;
    let healthy = 0;
    running = startJobs([
      { name: 'failing', everyMs: 100, run: async () => { failing += 1; throw boom; } },
      { name: 'reporting', everyMs: 100, run: async (_signal, report) => { healthy += 1; report(itemFailed); } },
    ], { onError });
    await vi.advanceTimersByTimeAsync(200);
    expect(failing).toBe(2);
    expect(healthy).toBe(2);
    expect(errors.filter(([name]) => name === 'failing')).toEqual([['failing', boom], ['failing', boom]]);
    expect(errors.filter(([name]) => name === 'reporting')).toEqual([['reporting', itemFailed], ['reporting', itemFailed]]);
    expect(errors).toHaveLength(4);
  });

  it('refuses two jobs with one name', () => {
    const job: Job = { name: 'twice', everyMs: 100, run: async () => {} };
    expect(() => startJobs([job, job], { onError })).toThrow(/two jobs are named twice/);
  });
});
