/**
 * A bounded storm of holds, confirms and cancels from many clients spread
 * over several server processes. Every POST carries an Idempotency-Key; a
 * request cut off (its process killed) is retried with the same key on
 * another process, and some finished requests are re-sent with the same key
 * to a different process to check the replay. Everything is logged, so the
 * test can check what the clients were told against what SQL says.
 *
 * A key is never reused for another (client, start): so "one key, at most one
 * booking" can be checked in SQL as "at most one booking per client and start".
 *
 * What a hold asks for is the caller's (`hold`): a provider's time, or an event
 * type's (round robin, seats), so several storms can run at once on one cluster.
 */
import { call, isAnswer, type Outcome } from './client.js';

export interface Party {
  id: string;
  apiKey: string;
}

export interface StormTarget {
  name: string;
  baseUrl: string;
}

export type RequestKind = 'hold' | 'confirm' | 'cancel';

export interface RequestLog {
  kind: RequestKind;
  target: string;
  key: string;
  /** A deliberate re-send of a finished request with its key (not a retry after a failure). */
  replay: boolean;
  startedAt: number;
  endedAt: number;
  outcome: Outcome;
}

export interface StormOptions {
  /** The body of a hold at this start, e.g. `{ providerId, start, duration }` or `{ eventTypeId, start }`. */
  hold: (start: string) => Record<string, unknown>;
  clients: Party[];
  /**
   * Candidate hold starts (instants on the grid, inside working time): one list for every client, or each
   * client's own (the c-th client's list), e.g. disjoint lists so that no two requests ask for one start.
   */
  starts: string[] | ((client: number) => string[]);
  iterationsPerClient: number;
  /** The processes to use now; the test shrinks it when it kills one. */
  targets: () => StormTarget[];
  random: () => number;
  keyPrefix: string;
  confirmRate?: number;
  replayRate?: number;
}

export interface StormResult {
  log: RequestLog[];
  /** Bookings whose confirm was answered 200 "confirmed" (first answer or replay). */
  confirmedIds: Set<string>;
  /** Hold key -> the booking ids its 201 answers carried (must be one). */
  holdIdsByKey: Map<string, Set<string>>;
  /** Hold key -> the (client, start) it asked for. */
  holdRequests: Map<string, { clientId: string; start: string }>;
  /** A replay whose status or booking differed from the first answer. */
  replayMismatches: string[];
  /** Keys still "in flight" after the retries: claimed by a process that died holding them. */
  abandonedKeys: string[];
  durationMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RETRIES = 4;

export function startStorm(o: StormOptions): { progress: { holds: number; requests: number }; done: Promise<StormResult> } {
  const progress = { holds: 0, requests: 0 };
  const log: RequestLog[] = [];
  const confirmedIds = new Set<string>();
  const holdIdsByKey = new Map<string, Set<string>>();
  const holdRequests = new Map<string, { clientId: string; start: string }>();
  const replayMismatches: string[] = [];
  const abandonedKeys: string[] = [];
  const confirmRate = o.confirmRate ?? 0.65;
  const replayRate = o.replayRate ?? 0.25;

  const pick = (avoid: string | null): StormTarget => {
    const all = o.targets();
    const others = all.filter((t) => t.name !== avoid);
    const from = others.length > 0 ? others : all;
    return from[Math.floor(o.random() * from.length)]!;
  };

  const once = async (kind: RequestKind, target: StormTarget, client: Party, path: string, body: unknown, key: string, replay: boolean) => {
    const startedAt = Date.now();
    const outcome = await call(target.baseUrl, client.apiKey, 'POST', path, { body, idempotencyKey: key });
    log.push({ kind, target: target.name, key, replay, startedAt, endedAt: Date.now(), outcome });
    progress.requests += 1;
    return outcome;
  };

  /** Sends until answered (a cut connection or an in-flight key is retried elsewhere, same key); maybe replays. */
  const send = async (kind: RequestKind, client: Party, path: string, body: unknown, key: string): Promise<Outcome> => {
    let last: Outcome | null = null;
    let previous: string | null = null;
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const target = pick(previous);
      previous = target.name;
      last = await once(kind, target, client, path, body, key, false);
      const inFlight = isAnswer(last) && last.status === 409 && last.body?.code === 'idempotency_in_flight';
      if (isAnswer(last) && !inFlight) break;
      await sleep(100 * (attempt + 1));
    }
    const abandoned = !!last && isAnswer(last) && last.status === 409 && last.body?.code === 'idempotency_in_flight';
    if (abandoned) abandonedKeys.push(key);
    if (!last || !isAnswer(last) || abandoned || last.status >= 500 || last.status === 429) return last!;
    if (o.random() < replayRate) {
      // The replay goes to another process; one killed meanwhile is skipped (a cut replay proves nothing).
      let again: Outcome = await once(kind, pick(previous), client, path, body, key, true);
      for (let n = 0; n < RETRIES && !isAnswer(again); n++) again = await once(kind, pick(null), client, path, body, key, true);
      const same =
        isAnswer(again) && again.replayed && again.status === last.status && (again.body?.id ?? null) === (last.body?.id ?? null);
      if (!same) replayMismatches.push(`${kind} ${key}: first ${last.status} ${last.text.slice(0, 120)}; replay ${isAnswer(again) ? `${again.status} replayed=${again.replayed} ${again.text.slice(0, 120)}` : again.status}`);
      if (isAnswer(again)) record(kind, key, again);
    }
    return last;
  };

  const record = (kind: RequestKind, key: string, a: Outcome) => {
    if (!isAnswer(a)) return;
    if (kind === 'hold' && a.status === 201) {
      const ids = holdIdsByKey.get(key) ?? new Set<string>();
      ids.add(a.body.id);
      holdIdsByKey.set(key, ids);
    }
    if (kind === 'confirm' && a.status === 200 && a.body?.status === 'confirmed') confirmedIds.add(a.body.id);
  };

  const worker = async (client: Party, c: number) => {
    const used = new Set<number>();
    const starts = typeof o.starts === 'function' ? o.starts(c) : o.starts;
    for (let j = 0; j < o.iterationsPerClient; j++) {
      let s = Math.floor(o.random() * starts.length);
      for (let k = 0; used.has(s) && k < starts.length; k++) s = (s + 1) % starts.length;
      if (used.has(s)) break;
      used.add(s);
      const start = starts[s]!;
      const holdKey = `${o.keyPrefix}-c${c}-h${j}`;
      holdRequests.set(holdKey, { clientId: client.id, start });
      const held = await send('hold', client, '/v1/bookings', o.hold(start), holdKey);
      progress.holds += 1;
      record('hold', holdKey, held);
      if (!isAnswer(held) || held.status !== 201) continue;
      const id = held.body.id as string;
      if (o.random() < confirmRate) {
        const confirmed = await send('confirm', client, `/v1/bookings/${id}/confirm`, undefined, `${o.keyPrefix}-c${c}-k${j}`);
        record('confirm', `${o.keyPrefix}-c${c}-k${j}`, confirmed);
      } else {
        await send('cancel', client, `/v1/bookings/${id}/cancel`, { reason: 'storm' }, `${o.keyPrefix}-c${c}-x${j}`);
      }
    }
  };

  const started = Date.now();
  const done = Promise.all(o.clients.map(worker)).then(() => ({
    log,
    confirmedIds,
    holdIdsByKey,
    holdRequests,
    replayMismatches,
    abandonedKeys,
    durationMs: Date.now() - started,
  }));
  return { progress, done };
}

/** Counts by status (409s split by problem code), for the summary and for failure messages. */
export function histogram(log: RequestLog[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const r of log) {
    const o = r.outcome;
    const label = isAnswer(o) && o.status === 409 && o.body?.code ? `409 ${o.body.code}` : String(o.status);
    h[label] = (h[label] ?? 0) + 1;
  }
  return h;
}

export function summary(name: string, result: StormResult, extra: Record<string, unknown> = {}): string {
  const byTarget: Record<string, number> = {};
  for (const r of result.log) byTarget[r.target] = (byTarget[r.target] ?? 0) + 1;
  const seconds = result.durationMs / 1000;
  return JSON.stringify({
    storm: name,
    requests: result.log.length,
    replays: result.log.filter((r) => r.replay).length,
    durationSeconds: Number(seconds.toFixed(2)),
    requestsPerSecond: Number((result.log.length / seconds).toFixed(1)),
    statuses: histogram(result.log),
    byProcess: byTarget,
    confirmed: result.confirmedIds.size,
    abandonedKeys: result.abandonedKeys.length,
    ...extra,
  });
}
