// Teams (issue 9): 6. slot listing of a round-robin / collective event type, pure engine, 1-50 hosts;
// 7. 300 simultaneous round-robin holds over 100 starts x 3 hosts on the two PostgreSQL servers of table 4.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { addDaysIso, createUser, createUsers, dateAhead, putSchedule } from './lib/api.js';
import { ADMIN_KEY, expectStatus, request, runNodeJson, type Server } from './lib/proc.js';
import { int, met, ms, ratio, type Table } from './lib/report.js';
import { quantile, type Timing } from './lib/stats.js';

// ---------------------------------------------------------------------------------------------
// 6. Slot listing, pure engine

interface SlotsRow {
  assignment: 'roundRobin' | 'collective';
  hosts: number;
  params: { days: number; duration: number; interval: number; bufferBefore: number; bufferAfter: number; perDay: number; bookings: number; timeOff: number };
  timing: Timing;
  unionTiming: Timing;
  starts: number;
  hostStarts: number[];
  bookingsPerHost: number[];
}

const CONFIGS: ['roundRobin' | 'collective', number][] = [['roundRobin', 1], ['roundRobin', 10], ['roundRobin', 50], ['collective', 10]];

export async function teamSlotsBench(log: (s: string) => void): Promise<{ table: Table; raw: unknown }> {
  const results: SlotsRow[] = [];
  for (const [assignment, hosts] of CONFIGS) {
    log(`  teams: ${assignment}, ${hosts} host(s)`);
    results.push(await runNodeJson<SlotsRow>('bench/teams-child.ts', [assignment, String(hosts)], { env: { TZ: 'UTC' }, timeoutMs: 120_000 }));
  }
  return { raw: results, table: teamSlotsTable(results) };
}

/** Table 6 from the children's rows (also usable on results.json's teamSlots). */
export function teamSlotsTable(results: SlotsRow[]): Table {
  const one = results.find((r) => r.assignment === 'roundRobin' && r.hosts === 1)!;
  const rows = results.map((r) => {
    const t = r.timing;
    const per = (v: number) => v / r.hosts;
    const avgStarts = r.hostStarts.reduce((a, b) => a + b, 0) / r.hosts;
    return [
      r.assignment === 'roundRobin' ? 'round robin (union)' : 'collective (intersection)', r.hosts,
      ms(t.medianMs), `${ms(t.p10Ms)}–${ms(t.p90Ms)}`, ms(t.minMs), t.runs,
      ms(per(t.medianMs)), `${ms(per(t.p10Ms))}–${ms(per(t.p90Ms))}`,
      ms(r.unionTiming.medianMs),
      ratio(r.hosts / one.hosts), ratio(t.medianMs / one.timing.medianMs), ratio(t.minMs / one.timing.minMs), ratio(per(t.medianMs) / one.timing.medianMs),
      `${int(r.starts)} (${int(avgStarts)})`,
    ];
  });
  const p = one.params;
  const rr10 = results.find((r) => r.assignment === 'roundRobin' && r.hosts === 10)!;
  const rr50 = results.find((r) => r.assignment === 'roundRobin' && r.hosts === 50)!;
  return {
    title: `6. Team event type: slot listing, pure engine (${p.days} days from 2027-03-01, duration ${p.duration}, grid ${p.interval}, buffers ${p.bufferBefore}/${p.bufferAfter}, perDay ${p.perDay}; per host ${p.bookings} bookings, ${p.timeOff} time-off blocks)`,
    columns: ['assignment', 'hosts', 'median ms', 'p10–p90 ms', 'min ms', 'runs', 'per host: median ms', 'per host: p10–p90 ms',
      'union / intersection alone: median ms', 'hosts vs 1', 'median vs 1 host', 'min vs 1 host', 'per host vs 1 host', 'starts (per host, mean)'],
    rows,
    notes: [
      'One computation = what GET /v1/slots?eventTypeId does after reading its inputs, for every host: effectiveAvailability (weekly rules, overrides, time off -> working time), computeEventSlots (the host\'s local 15-minute grid, buffers, busy time) and filterByLimits (perDay 8, counted from the host\'s booking starts); then combineHosts from src/features/event-types/host-slots.ts, imported as is (its module level loads domain code and src/db/bookings-repo.ts\'s SQL text, no driver and no I/O): union for round robin, intersection for collective. No HTTP, no database, no slot cache, no clock cuts (earliest start = range start).',
      `Each host: the fixture generator (bench/lib/fixture.ts) with its own seed (7000 + host index), Mon-Fri 09:00-17:00 Europe/Berlin across the 2027-03-28 DST change, ${p.bookings} disjoint bookings of 15-60 min (table 1's density of 200 per 90 days) widened by the buffers, ${p.timeOff} time-off blocks (a quarter of them whole days); every booking counts towards perDay. Hosts differ only in bookings and time off, as in a team sharing one schedule.`,
      'Each configuration in a fresh child process (TZ=UTC): warm-up, then up to 500 timed runs or 3 s; "per host" = the time of one computation divided by the hosts. "min vs 1 host" is less sensitive to the load than the median; linear growth shows as the ratios tracking "hosts vs 1". The 1-host round robin is the single-host path: combineHosts returns that host\'s starts without counting.',
      `Growth in this run: from 10 to 50 round-robin hosts (5x) the computation took ${ratio(rr50.timing.medianMs / rr10.timing.medianMs)} the time by median and ${ratio(rr50.timing.minMs / rr10.timing.minMs)} by min; the union alone ${ratio(rr50.unionTiming.medianMs / rr10.unionTiming.medianMs)}. The 1-host figure is the smallest and the noisiest on this shared machine (its median was between 0.14 and 0.28 ms in the runs made while writing this bench), so the ratios against it move from run to run more than those between 10 and 50 hosts.`,
      'Starts: the combined answer, then the mean per host. Round robin over 50 hosts reaches every grid start of the 23 workdays (31 a day); collective over 10 hosts finds no start where all ten are free: each host is free at about half the grid (357 of 713 starts), and about 0.5^10 of starts survive the intersection.',
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 7. Contention of round-robin holds over two servers on one PostgreSQL

const HOSTS = 3;
const STARTS = 100;
const TOTAL = STARTS * HOSTS;
const SOCKETS_PER_SERVER = 256;

export const TEAM_RACE_TITLE = `7. Team contention: ${TOTAL} simultaneous round-robin holds over ${STARTS} starts x ${HOSTS} hosts, two server processes, one PostgreSQL`;

/** `afterTable4`: whether table 4's race and read load ran on these servers first (a full run) or not (BENCH_ONLY). */
export async function teamRace(a: Server, b: Server, dbUrl: string, log: (s: string) => void, afterTable4: boolean): Promise<{ table: Table; raw: unknown }> {
  log(`  teams: seeding ${HOSTS} hosts, a round-robin event type, ${TOTAL} clients`);
  const monday = dateAhead(3, 1);
  const hosts = [];
  for (let i = 0; i < HOSTS; i++) {
    const h = await createUser(a.url, 'provider', `team-host${i}`, 'Europe/Berlin');
    await putSchedule(a.url, h.id, 'Europe/Berlin', '09:00', '17:00', ['monday', 'tuesday', 'wednesday', 'thursday', 'friday']);
    hosts.push(h);
  }
  const slug = `team-race-${Math.random().toString(36).slice(2, 10)}`;
  const type = await expectStatus(201, `${a.url}/v1/event-types`, {
    method: 'POST', key: ADMIN_KEY,
    body: { slug, title: 'Team race', durations: [30], slotInterval: 30, assignment: 'roundRobin', hosts: hosts.map((h) => ({ providerId: h.id })) },
  });
  const typeId: string = type.json.id;
  const listed = async () => {
    const r = await expectStatus(200, `${a.url}/v1/slots?eventTypeId=${typeId}&from=${monday}&to=${addDaysIso(monday, 13)}`, { key: ADMIN_KEY });
    return (r.json.slots as { start: string }[]).map((s) => s.start);
  };
  const starts = (await listed()).slice(0, STARTS);
  if (starts.length !== STARTS) throw new Error(`expected ${STARTS} free starts of the type, found ${starts.length}`);
  const clients = await createUsers(a.url, 'client', 'team-client', TOTAL);

  // Request r: start r % 100 by client r (one hold per client); a start's three requests go to alternating servers.
  const order = Array.from({ length: TOTAL }, (_, r) => r);
  let seed = 54321;
  for (let i = order.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  log(`  teams: ${TOTAL} holds at once`);
  const latencies: number[] = [];
  const t0 = performance.now();
  const replies = await Promise.all(order.map(async (r): Promise<{ status: number; providerId?: string; code?: string }> => {
    const server = (r + Math.floor(r / STARTS)) % 2 === 0 ? a : b;
    const sent = performance.now();
    try {
      const x = await request(`${server.url}/v1/bookings`, {
        method: 'POST', key: clients[r]!.key, body: { eventTypeId: typeId, start: starts[r % STARTS] }, maxSockets: SOCKETS_PER_SERVER,
      });
      return { status: x.status, providerId: x.status === 201 ? (x.json?.providerId as string) : undefined, code: x.json?.code as string | undefined };
    } catch {
      return { status: 0 };
    } finally {
      latencies.push(performance.now() - sent);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((x, y) => x - y);
  const statuses: Record<string, number> = {};
  for (const x of replies) {
    const k = x.status === 201 || !x.code ? String(x.status) : `${x.status} ${x.code}`;
    statuses[k] = (statuses[k] ?? 0) + 1;
  }
  const created = replies.filter((x) => x.status === 201).length;
  const answerCounts = hosts.map((h) => replies.filter((x) => x.providerId === h.id).length);

  const check = new pg.Client({ connectionString: dbUrl });
  await check.connect();
  const live = (t: string) => `${t}.status IN ('held', 'confirmed') AND (${t}.status = 'confirmed' OR ${t}.expires_at > now())`;
  let liveCount: number;
  let overlaps: number;
  let sqlCounts: number[];
  let startsWithThreeHosts: number;
  try {
    liveCount = Number((await check.query(`SELECT count(*) AS n FROM bookings b WHERE b.event_type_id = $1 AND ${live('b')}`, [typeId])).rows[0].n);
    // Every pair of blocked ranges of one host whose bookings are both live and that overlap, excluding seats of one
    // occurrence (the exclusion constraint's own rule), over all the hosts' blocks (not only this type's).
    overlaps = Number((await check.query(
      `SELECT count(*) AS n
         FROM booking_blocks x JOIN bookings b1 ON b1.id = x.booking_id,
              booking_blocks y JOIN bookings b2 ON b2.id = y.booking_id
        WHERE x.provider_id = ANY($1) AND y.provider_id = x.provider_id AND x.booking_id < y.booking_id
          AND x.occurrence <> y.occurrence
          AND tstzrange(x.blocked_start, x.blocked_end, '[)') && tstzrange(y.blocked_start, y.blocked_end, '[)')
          AND ${live('b1')} AND ${live('b2')}`,
      [hosts.map((h) => h.id)],
    )).rows[0].n);
    const perHost = await check.query(
      `SELECT bb.provider_id, count(*) AS n FROM booking_blocks bb JOIN bookings b ON b.id = bb.booking_id
        WHERE b.event_type_id = $1 AND ${live('b')} GROUP BY bb.provider_id`,
      [typeId],
    );
    const byId = new Map(perHost.rows.map((r) => [r.provider_id as string, Number(r.n)]));
    sqlCounts = hosts.map((h) => byId.get(h.id) ?? 0);
    startsWithThreeHosts = Number((await check.query(
      `SELECT count(*) AS n FROM (SELECT b.start_at FROM bookings b WHERE b.event_type_id = $1 AND ${live('b')}
        GROUP BY b.start_at HAVING count(DISTINCT b.provider_id) = ${HOSTS}) s`,
      [typeId],
    )).rows[0].n);
  } finally {
    await check.end();
  }
  const stillListed = (await listed()).filter((s) => starts.includes(s)).length;

  const others = Object.entries(statuses).filter(([s]) => s !== '201');
  const even = TOTAL / HOSTS;
  const rows: (string | number)[][] = [
    ['201 Created', int(created), int(TOTAL), met(created === TOTAL)],
    ['other answers (0 = transport error)', others.length ? others.map(([s, n]) => `${s}: ${n}`).join(', ') : 'none', 'none', met(others.length === 0)],
    ['live bookings of the type in the database', int(liveCount), int(TOTAL), met(liveCount === TOTAL)],
    ['pairs of overlapping live blocked ranges of one host (SQL, booking_blocks)', int(overlaps), '0', met(overlaps === 0)],
    ['live bookings per host (SQL, booking_blocks)', sqlCounts.join(' / '), hosts.map(() => even).join(' / '), met(sqlCounts.every((n) => n === even))],
    ['created per host (201 answers\' providerId)', answerCounts.join(' / '), hosts.map(() => even).join(' / '), met(answerCounts.every((n) => n === even))],
    ['starts held by all three hosts (SQL)', int(startsWithThreeHosts), int(STARTS), met(startsWithThreeHosts === STARTS)],
    ['the 100 starts still listed by GET /v1/slots afterwards', int(stillListed), '0', met(stillListed === 0)],
    ['wall time for all requests', `${seconds.toFixed(2)} s`, '', ''],
    ['successful holds/s', int(created / seconds), '', ''],
    ['latency p50 / p99 / max (client side, from send)', `${ms(quantile(latencies, 0.5))} / ${ms(quantile(latencies, 0.99))} / ${ms(latencies[latencies.length - 1] ?? NaN)} ms`, '', ''],
  ];
  const env = (k: string, d: number) => `${k}=${process.env[k] ?? `${d} (default)`}`;
  return {
    raw: { typeId, seconds, statuses, created, liveCount, overlaps, sqlCounts, answerCounts, startsWithThreeHosts, stillListed,
      latencyMs: { p50: quantile(latencies, 0.5), p90: quantile(latencies, 0.9), p99: quantile(latencies, 0.99), max: latencies[latencies.length - 1] } },
    table: {
      title: TEAM_RACE_TITLE,
      columns: ['check', 'value', 'expected', 'met?'],
      rows,
      notes: [
        `${afterTable4 ? 'The same two servers and database as table 4 (DATABASE_URL, pool of 10 each, rate limits off: RATE_LIMIT_PER_MINUTE=0), after table 4\'s race and read load' : 'Two servers on a fresh database, started as for table 4 (DATABASE_URL, pool of 10 each, rate limits off: RATE_LIMIT_PER_MINUTE=0); table 4 itself not run (BENCH_ONLY)'}, with hosts, clients and an event type of their own. ${HOSTS} hosts with equal priority and weight, Mon-Fri 09:00-17:00 Europe/Berlin; the type: round robin, duration 30, slotInterval 30, no buffers and no limits, so the ${STARTS} starts (the first ${STARTS} listed from the first Monday at least 3 days ahead) never overlap one another and each can take one booking per host.`,
        `Each start requested by ${HOSTS} different clients at once, split between the two servers (alternating); ${TOTAL} clients with one hold each, all ${TOTAL} requests issued at once (up to ${SOCKETS_PER_SERVER} connections per server), shuffled. One hold per client, so no client cap can be reached and the servers keep their configuration: ${env('MAX_HOLDS_PER_CLIENT', 5)}, ${env('MAX_BOOKINGS_PER_CLIENT_PER_PROVIDER', 20)}, ${env('MAX_BOOKINGS_PER_CLIENT', 50)}.`,
        'Round-robin holds of one type are serialised by the type\'s advisory lock in PostgreSQL, across both servers. Holds/s counts the 201s over the wall time of all requests; latency is per request, from the moment it was issued (all at once) to its answer, so it includes waiting for a connection and for the lock.',
        'Overlaps: pairs of one host\'s booking_blocks rows whose bookings are live (confirmed, or held and unexpired by the database clock) and whose blocked ranges intersect, over every block of the three hosts. Per host: live blocks of the type\'s bookings in booking_blocks; the 201 answers\' providerId counted separately.',
      ],
    },
  };
}
