// 2. Growth curve of our engine: time and time per unit (bookings, days, providers).
import { int, ms, ratio, type Table } from './lib/report.js';
import { runNodeJson } from './lib/proc.js';

interface Row { axis: string; n: number; unit: string; medianMs: number; slots: number }

export async function growthBench(log: (s: string) => void): Promise<{ table: Table; raw: unknown }> {
  log('  growth: bookings, range, providers');
  const rows = await runNodeJson<Row[]>('bench/growth-child.ts', [], { env: { TZ: 'UTC' }, timeoutMs: 120_000 });
  const table: (string | number)[][] = [];
  let axis = '';
  let base: Row | undefined;
  for (const r of rows) {
    if (r.axis !== axis) { axis = r.axis; base = r; }
    const perUnitUs = (r.medianMs * 1000) / r.n;
    const basePerUnit = (base!.medianMs * 1000) / base!.n;
    table.push([r.axis, int(r.n), ms(r.medianMs), `${ms(perUnitUs)} µs/${r.unit}`, ratio(r.n / base!.n), ratio(r.medianMs / base!.medianMs), ratio(perUnitUs / basePerUnit), int(r.slots)]);
  }
  return {
    raw: rows,
    table: {
      title: '2. Growth of our engine (duration 15, median of up to 500 runs)',
      columns: ['axis', 'n', 'median ms', 'per unit', 'n vs first', 'time vs first', 'per unit vs first', 'slots'],
      rows: table,
      notes: [
        'Linear growth shows as "time vs first" tracking "n vs first" (per unit roughly flat); n log n as per unit growing slowly. Per-unit time falls where a fixed cost (rule expansion over 90 days) dominates.',
        'Bookings: 90 days, busy pieces 15-60 min drawn at random inside working hours and allowed to overlap (10,000 cannot be disjoint for one provider: at that size nothing is free).',
        'Range: the same 200 bookings for every range (the engine is given all of them). Providers: 90 days and 200 bookings each, five zones in turn, one synchronous batch.',
      ],
    },
  };
}
