// Tables (Markdown, also readable on a terminal) and the description of the machine.
import os from 'node:os';

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes: string[];
}

export function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
  };
}

export function renderTable(t: Table): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map(String))];
  const widths = t.columns.map((_, i) => Math.max(3, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${widths.map((w, i) => (r[i] ?? '').padEnd(w)).join(' | ')} |`;
  const out = [`### ${t.title}`, '', line(t.columns), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`];
  for (const r of t.rows) out.push(line(r.map(String)));
  if (t.notes.length) out.push('', ...t.notes.map((n) => `- ${n}`));
  return `${out.join('\n')}\n`;
}

/** A table that could not be measured, with the reason instead of numbers. */
export function skippedTable(title: string, reason: string): Table {
  return { title, columns: ['status'], rows: [[`skipped: ${reason}`]], notes: [] };
}

// Number formatting: a few significant digits; ratios with an "x".
export const ms = (v: number) => (!Number.isFinite(v) ? 'n/a' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
export const us = (v: number) => ms(v); // same digits, other unit
export const ratio = (v: number) => (!Number.isFinite(v) ? 'n/a' : v >= 100 ? `${v.toFixed(0)}x` : v >= 10 ? `${v.toFixed(1)}x` : `${v.toFixed(2)}x`);
export const int = (v: number) => (!Number.isFinite(v) ? 'n/a' : Math.round(v).toLocaleString('en-US'));
export const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

/**
 * The baseline for the before/after table: figures of the run of 2026-11-22 04:50 UTC (RESULTS.md of
 * that run, tree 2e31a63), made before the slot cache, the events outbox, rate limits and the calendar
 * write-back landed in src/. Hard-coded on purpose: that tree is no longer what `npm run bench` measures.
 * (The run before it, 04:31 UTC, was the baseline of the one-query slot inputs: 182 req/s embedded, 412 PostgreSQL.)
 */
export const BASELINE = {
  label: 'before the slot cache',
  run: '2026-11-22 04:50 UTC',
  loadAverage: '2.9-5.8',
  slotsEmbedded: { reqPerSec: 346, p99: 1942 },
  slotsPostgres: { reqPerSec: 783, p99: 145 },
  postCreatedPerSec: 178,
  contentionHoldsPerSec: 83,
  embeddedStartMB: 296, // on-disk DATA_DIR, second start
  embeddedInMemoryHwmMB: 731, // DATA_DIR=memory: VmHWM of one start
  embeddedLoadMB: [355, 360] as const,
  postgresServerMB: [197, 275] as const,
};

export interface AfterFigures {
  slotsEmbedded?: { reqPerSec: number; p99: number };
  slotsPostgres?: { reqPerSec: number; p99: number };
  postCreatedPerSec?: number;
  contentionHoldsPerSec?: number;
  embeddedStartMB?: number; // on-disk DATA_DIR, second start
  inMemoryStartMB?: number; // DATA_DIR=memory, as the baseline ran
  inMemoryHwmMB?: number;
  embeddedLoadMB?: number[];
  postgresServerMB?: number[];
}

const range = (xs: number[] | undefined) => (xs && xs.length ? [Math.min(...xs), Math.max(...xs)] as const : undefined);
const mb = (r: readonly [number, number]) => (Math.round(r[0]) === Math.round(r[1]) ? `${r[0].toFixed(0)}` : `${r[0].toFixed(0)}–${r[1].toFixed(0)}`);

/** Before/after: the hard-coded baseline next to this run's figures, with the ratio new/old. */
export function beforeAfterTable(after: AfterFigures): Table {
  const B = BASELINE;
  const row = (what: string, before: number, now: number | undefined, unit: string, better: 'higher' | 'lower', show = int) =>
    [what, `${show(before)}${unit}`, now === undefined || !Number.isFinite(now) ? 'not measured' : `${show(now)}${unit}`,
      now === undefined ? '' : ratio(now / before), better];
  const rowRange = (what: string, before: readonly [number, number], now: readonly [number, number] | undefined) =>
    [what, `${mb(before)} MB`, now ? `${mb(now)} MB` : 'not measured', now ? ratio(now[1] / before[1]) : '', 'lower'];
  return {
    title: `Before/after: this run vs the baseline "${B.label}" (run of ${B.run})`,
    columns: ['figure', `before (${B.label})`, 'after (this run)', 'after / before', 'better is'],
    rows: [
      row('GET /v1/slots, embedded DB: req/s', B.slotsEmbedded.reqPerSec, after.slotsEmbedded?.reqPerSec, '', 'higher'),
      row('GET /v1/slots, embedded DB: p99', B.slotsEmbedded.p99, after.slotsEmbedded?.p99, ' ms', 'lower', ms),
      row('GET /v1/slots, PostgreSQL: req/s', B.slotsPostgres.reqPerSec, after.slotsPostgres?.reqPerSec, '', 'higher'),
      row('GET /v1/slots, PostgreSQL: p99', B.slotsPostgres.p99, after.slotsPostgres?.p99, ' ms', 'lower', ms),
      row('POST /v1/bookings, embedded DB: created/s', B.postCreatedPerSec, after.postCreatedPerSec, '', 'higher'),
      row('contention (table 4): successful holds/s', B.contentionHoldsPerSec, after.contentionHoldsPerSec, '', 'higher'),
      row('embedded server RSS just started (on-disk DATA_DIR, second start)', B.embeddedStartMB, after.embeddedStartMB, ' MB', 'lower'),
      row('embedded server VmHWM, DATA_DIR=memory (start-up peak: initdb)', B.embeddedInMemoryHwmMB, after.inMemoryHwmMB, ' MB', 'lower'),
      rowRange('embedded server peak RSS under load: seeding, GET, idle, POST', B.embeddedLoadMB, range(after.embeddedLoadMB)),
      rowRange('PostgreSQL-backed servers (table 4): peak RSS, all phases', B.postgresServerMB, range(after.postgresServerMB)),
    ],
    notes: [
      'What changed in src/ between the two: (1) GET /v1/slots answers from a slot cache keyed by the provider\'s availability version (src/app/slot-cache.ts; in process here, no REDIS_URL): a hit costs the API key lookup plus one small query (the version and the database clock) instead of the full input query and the computation; (2) every hold, confirm and cancel also writes its events outbox rows (and webhook deliveries when subscribed) and takes a per-client lock for the hold cap; (3) rate limits exist (off for bench servers: RATE_LIMIT_PER_MINUTE=0); (4) the cache keeps the rendered body and its ETag beside each entry, so a hit skips formatting, hashing and serialising; (5) on the embedded database, queries outside transactions run as named prepared statements in one call into PGlite (src/db/embedded-statements.ts) instead of parse/describe/bind/execute/sync calls with a fresh plan each time.',
      'The bench itself runs as in the baseline run: same inputs, same load, same phases.',
      `The baseline ran with load average ${B.loadAverage} on the same 2 cores; compare with this run's load average in the header: part of any difference may be noise. Ratios of MB ranges are of the top of each range.`,
    ],
  };
}
