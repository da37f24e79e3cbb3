// 1. The pure slot engine against two npm peers, same input, each in its own process (TZ=UTC).
import type { Timing } from './lib/stats.js';
import { met, ms, ratio, type Table } from './lib/report.js';
import { runNodeJson } from './lib/proc.js';

interface ChildResult { impl: string; duration: number; slots: string[]; timing: Timing }

const PEERS = [
  { impl: 'slot-calculator', label: 'slot-calculator 2.2.1' },
  { impl: 'time-slots-finder', label: 'time-slots-finder 0.5.5' },
];

/** Greedy non-overlapping subset of our slots (what "step by the slot length" engines list). */
function tiled(slots: string[]): Set<string> {
  const out = new Set<string>();
  let lastEnd = -Infinity;
  for (const s of slots) {
    const [start, end] = s.split('/').map(Number) as [number, number];
    if (start >= lastEnd) { out.add(s); lastEnd = end; }
  }
  return out;
}

export async function engineBench(log: (s: string) => void): Promise<{ table: Table; raw: unknown }> {
  const rows: (string | number)[][] = [];
  const raw: unknown[] = [];
  for (const duration of [15, 60]) {
    const run = (impl: string) => {
      log(`  engine: ${impl}, duration ${duration}`);
      // time-slots-finder loops forever across DST unless the process zone is UTC.
      return runNodeJson<ChildResult>('bench/engine-child.ts', [impl, String(duration)], { env: { TZ: 'UTC' }, timeoutMs: 90_000 });
    };
    const ours = await run('ours');
    const oursSet = new Set(ours.slots);
    const oursTiled = tiled(ours.slots);
    // The v2 path on the same input: an event type with buffers and a per-day limit (fewer slots: the buffers and the limit remove some).
    const typed = await run('ours-event-type');
    const peers: { label: string; r?: ChildResult; error?: string }[] = [];
    for (const p of PEERS) {
      try { peers.push({ label: p.label, r: await run(p.impl) }); } catch (e) { peers.push({ label: p.label, error: (e as Error).message }); }
    }
    const measured = peers.filter((p) => p.r).map((p) => p.r!.timing.medianMs);
    const fastestPeer = measured.length ? Math.min(...measured) : NaN;
    const speedup = fastestPeer / ours.timing.medianMs;
    rows.push([
      duration, 'ours (booking-engine)', ms(ours.timing.medianMs), `${ms(ours.timing.p10Ms)}–${ms(ours.timing.p90Ms)}`, ours.timing.runs,
      ours.slots.length, '—', '—', '1.00x',
      `< 1 ms: ${met(ours.timing.medianMs < 1)}; ≥ 10x faster peer (${ratio(speedup)}): ${met(speedup >= 10)}`,
    ]);
    rows.push([
      duration, 'ours, event type (buffers 10/5, perDay 8)', ms(typed.timing.medianMs), `${ms(typed.timing.p10Ms)}–${ms(typed.timing.p90Ms)}`,
      typed.timing.runs, typed.slots.length, '—', '—', ratio(typed.timing.medianMs / ours.timing.medianMs),
      `< 1 ms: ${met(typed.timing.medianMs < 1)}`,
    ]);
    for (const p of peers) {
      if (!p.r) {
        rows.push([duration, p.label, 'failed', '', 0, '', '', '', '', p.error!.slice(0, 120)]);
        continue;
      }
      const theirs = new Set(p.r.slots);
      const missing = p.r.slots.filter((x) => !oursSet.has(x)).length;
      const extra = ours.slots.filter((x) => !theirs.has(x)).length;
      const vsTiled = p.r.slots.filter((x) => !oursTiled.has(x)).length + [...oursTiled].filter((x) => !theirs.has(x)).length;
      rows.push([
        duration, p.label, ms(p.r.timing.medianMs), `${ms(p.r.timing.p10Ms)}–${ms(p.r.timing.p90Ms)}`, p.r.timing.runs,
        p.r.slots.length, `${missing} / ${extra}`, String(vsTiled), ratio(p.r.timing.medianMs / ours.timing.medianMs), '',
      ]);
    }
    raw.push({
      duration,
      ours: { slots: ours.slots.length, timing: ours.timing },
      eventType: { slots: typed.slots.length, timing: typed.timing },
      peers: peers.map((p) => ({ label: p.label, error: p.error, slots: p.r?.slots.length, timing: p.r?.timing })),
    });
  }
  return {
    raw,
    table: {
      title: '1. Slot engine, pure (1 provider, 90 days from 2027-03-01, Mon-Fri 09:00-17:00 Europe/Berlin, 200 bookings, 20 time-off blocks)',
      columns: ['duration', 'engine', 'median ms', 'p10–p90 ms', 'runs', 'slots', 'peer∖ours / ours∖peer', '≠ ours tiled', 'time vs ours', 'target met?'],
      rows,
      notes: [
        'Full computation each run: weekly-rule expansion + slots (ours: effectiveAvailability + computeSlots; peers: one call of their API on their native input, output converted to epoch ms). Median after warm-up; each engine in a fresh child process with TZ=UTC.',
        'Same input for all: both peers take the zone-local weekly hours (Europe/Berlin, across the 2027-03-28 DST change) natively, so no UTC-window workaround was needed; bookings and time off are busy instants (slot-calculator: `unavailability` ISO strings; time-slots-finder: an iCalendar feed in UTC, `slotStartMinuteStep: 15`).',
        '"peer∖ours / ours∖peer": slots only the peer lists / only we list. Both peers list non-overlapping slots (they step by the slot length), we list every 15-minute start, so at 60 min ours∖peer is large by design; "≠ ours tiled" compares the peer with our slots greedily thinned to non-overlapping ones (symmetric difference).',
        'time-slots-finder takes seconds per call (most of its profile is dayjs\'s timezone plugin), so it gets 3 timed runs after one warm-up; ours keeps a per-process memo of UTC offsets, warm after the first call as in a running server (the cold first call is in results.json as firstMs).',
      ],
    },
  };
}
