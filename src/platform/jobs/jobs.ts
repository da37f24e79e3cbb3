/**
 * One poll loop for every background job of a process: one timer, armed for
 * the job due soonest. Each job runs on its own (a slow round of one never
 * delays another), never overlaps itself, and reports its errors under its name.
 *
 * @example
 * const jobs = startJobs([
 *   { name: 'sweep', everyMs: 30_000, run: (signal) => sweep(signal) },
 *   // true: the batch was full, more may be due: run again at once (at most maxRunsPerRound times)
 *   { name: 'outbox', everyMs: 1_000, run: async (signal) => (await sendDue(signal)) === BATCH },
 * ], { onError: (name, error) => log.error({ err: error, job: name }, `job ${name} failed`) });
 * jobs.nudge('outbox'); // run it soon: now if it is idle, once more right after the round in flight if not
 * await jobs.stop();    // aborts the rounds in flight and waits for them
 */
export interface Job {
  readonly name: string;
  /** Rounds start on a grid of everyMs; a tick that falls while the job still runs is skipped. */
  readonly everyMs: number;
  /**
   * One round. `signal` aborts at stop(). Resolving to true means a full
   * batch: the loop runs it again at once, a bounded number of times.
   * `report` takes errors that do not end the round (one item of a batch).
   */
  run(signal: AbortSignal, report: (error: unknown) => void): Promise<boolean | void>;
  /** Work the job started that outlives its rounds; stop() waits for it after aborting. */
  settle?(): Promise<void>;
}

export interface JobsOptions {
  /** A round that threw, or an error a round reported, with the job's name. */
  onError(name: string, error: unknown): void;
  /** Back-to-back runs of one round while each says its batch was full (default 10). */
  maxRunsPerRound?: number;
}

export interface RunningJobs {
  /** Runs the job soon: at once when idle, or once more as soon as its round in flight ends. */
  nudge(name: string): void;
  /** Stops the timer, aborts every round in flight and resolves once they (and each job's settle()) have ended. */
  stop(): Promise<void>;
}

interface JobState {
  readonly job: Job;
  nextAt: number;
  nudged: boolean;
  round: Promise<void> | null;
}

/** setTimeout's longest wait; a longer one would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export function startJobs(jobs: readonly Job[], options: JobsOptions): RunningJobs {
  const maxRuns = options.maxRunsPerRound ?? 10;
  const controller = new AbortController();
  const states = new Map<string, JobState>();
  const startedAt = Date.now();
  for (const job of jobs) {
    if (states.has(job.name)) throw new Error(`two jobs are named ${job.name}`);
    if (!(job.everyMs > 0)) throw new Error(`job ${job.name}: everyMs must be positive`);
    states.set(job.name, { job, nextAt: startedAt + job.everyMs, nudged: false, round: null });
  }
  let timer: NodeJS.Timeout | null = null;

  const runRound = async (job: Job): Promise<void> => {
    const report = (error: unknown) => options.onError(job.name, error);
    try {
      for (let i = 0; i < maxRuns && !controller.signal.aborted; i += 1) {
        if ((await job.run(controller.signal, report)) !== true) break;
      }
    } catch (error) {
      report(error);
    }
  };

  const start = (state: JobState, now: number) => {
    state.nudged = false;
    state.round = runRound(state.job).finally(() => {
      state.round = null;
      // The next tick of the grid this round started on, as setInterval with a "running" flag would give.
      const ticks = Math.max(1, Math.ceil((Date.now() - now) / state.job.everyMs));
      state.nextAt = now + ticks * state.job.everyMs;
      arm();
    });
  };

  const tick = () => {
    timer = null;
    if (controller.signal.aborted) return;
    const now = Date.now();
    for (const state of states.values()) {
      if (!state.round && (state.nudged || state.nextAt <= now)) start(state, now);
    }
    arm();
  };

  /** Arms the one timer for the idle job due soonest. */
  function arm(): void {
    if (controller.signal.aborted) return;
    let due = Infinity;
    for (const state of states.values()) {
      if (!state.round) due = Math.min(due, state.nudged ? 0 : state.nextAt);
    }
    if (timer) clearTimeout(timer);
    timer = null;
    if (due === Infinity) return;
    timer = setTimeout(tick, Math.min(Math.max(0, due - Date.now()), MAX_TIMEOUT_MS));
    timer.unref();
  }

  arm();
  return {
    nudge(name) {
      const state = states.get(name);
      if (!state) throw new Error(`no job is named ${name}`);
      if (controller.signal.aborted) return;
      state.nudged = true;
      if (!state.round) arm();
    },
    async stop() {
      controller.abort();
      if (timer) clearTimeout(timer);
      timer = null;
      await Promise.all([...states.values()].map((s) => s.round));
      await Promise.all([...states.values()].map((s) => s.job.settle?.()));
    },
  };
}
