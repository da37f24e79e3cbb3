// 3. HTTP: GET /v1/slots under autocannon against a bare node:http baseline, then POST /v1/bookings
//    throughput, on the embedded database in an on-disk DATA_DIR that a previous start initialised.
// 5. Memory: the server's peak RSS while all of that runs, plus one start with DATA_DIR=memory.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { addDaysIso, createUser, createUsers, dateAhead, hold, putSchedule } from './lib/api.js';
import { ADMIN_KEY, expectStatus, pool, profileArgs, RssSampler, startEngine } from './lib/proc.js';
import { CONNECTIONS, LOAD_NOTE, loadVersusBare, type LoadResult } from './lib/versus-bare.js';
import { int, met, ms, ratio, type Table } from './lib/report.js';

const POST_COUNT = 2000; // 20 providers x 100 slots; 400 clients x 5 holds (the per-client hold limit)
const POST_PROVIDERS = 20;

const cpuPerRequest = (r: LoadResult) => (r.cpuMicrosPerRequest === undefined ? '' : r.cpuMicrosPerRequest.toFixed(1));

/** A slot-read row of table 3, its ratio to the bare server's run alternated with it. */
export function slotsRow(label: string, r: LoadResult, bare: LoadResult): (string | number)[] {
  const x = r.reqPerSec / bare.reqPerSec;
  return [label, int(r.reqPerSec), ms(r.p50), ms(r.p99), `${int(r.ok)} / ${int(r.non2xx)} / ${int(r.errors)}`, ratio(x), cpuPerRequest(r),
    `≥ 0.5x bare: ${met(x >= 0.5)}; p99 < 25 ms: ${met(r.p99 < 25)}`];
}

/** The bare server's row beside a slot-read row. */
export function bareRow(label: string, bare: LoadResult): (string | number)[] {
  return [label, int(bare.reqPerSec), ms(bare.p50), ms(bare.p99), `${int(bare.ok)} / ${int(bare.non2xx)} / ${int(bare.errors)}`, '1.00x', cpuPerRequest(bare), ''];
}

export interface HttpResult {
  http: Table;
  memory: { rows: (string | number)[][]; raw: unknown };
  raw: unknown;
  bareReqPerSec: number;
  /** For the before/after table. */
  summary: { slots: LoadResult; eventTypeSlots: LoadResult; createdPerSec: number; startMB: number; loadPeaksMB: number[]; hwmMB: number; inMemoryStartMB: number | null; inMemoryHwmMB: number | null };
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

/**
 * The server as a user runs it after the first start: an on-disk DATA_DIR that a previous start
 * already initialised (initdb + migrations). Starts once, waits for /health, stops with SIGTERM,
 * starts again and returns that second process.
 */
async function startInitialisedServer(log: (s: string) => void, dataDir: string) {
  log(`  http: first start on DATA_DIR=${dataDir} (snapshot or initdb, migrations), then SIGTERM`);
  let t0 = performance.now();
  const first = await startEngine({ env: { DATA_DIR: dataDir } });
  const firstStartS = seconds(t0);
  await first.stop();
  log('  http: second start on the same DATA_DIR (the measured server)');
  t0 = performance.now();
  const server = await startEngine({ env: { DATA_DIR: dataDir }, nodeArgs: profileArgs() });
  return { server, firstStartS, secondStartS: seconds(t0) };
}

/** DATA_DIR=memory, only to show its start-up memory: it loads the migrated snapshot (or runs initdb) at every start. Cheap (a few seconds). */
async function inMemoryStart(log: (s: string) => void) {
  log('  http: one start with DATA_DIR=memory (memory only)');
  const t0 = performance.now();
  const server = await startEngine({ env: { DATA_DIR: 'memory' } });
  const startS = seconds(t0);
  const rss = new RssSampler(server.pid); // its first sample: just started
  try {
    rss.mark('first second after /health');
    await sleep(1000);
    return { ...rss.stop(), startS };
  } finally {
    rss.stop();
    await server.stop();
  }
}

export async function httpBench(log: (s: string) => void): Promise<HttpResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'booking-bench-data-'));
  let started: Awaited<ReturnType<typeof startInitialisedServer>>;
  try {
    started = await startInitialisedServer(log, dataDir);
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const { server, firstStartS, secondStartS } = started;
  const rss = new RssSampler(server.pid);
  let stopped = false;
  try {
    const base = server.url;
    // A provider in Berlin, Mon-Fri 09:00-17:00, one hour off, 20 holds by 4 clients, in a week >= 3 days ahead.
    rss.mark('seeding');
    const provider = await createUser(base, 'provider', 'slots-provider', 'Europe/Berlin');
    await putSchedule(base, provider.id, 'Europe/Berlin', '09:00', '17:00', ['monday', 'tuesday', 'wednesday', 'thursday', 'friday']);
    const monday = dateAhead(3, 1);
    const sunday = addDaysIso(monday, 6);
    const wednesday = addDaysIso(monday, 2);
    await expectStatus(201, `${base}/v1/providers/${provider.id}/time-off`, {
      method: 'POST', key: ADMIN_KEY, body: { start: `${wednesday}T12:00:00Z`, end: `${wednesday}T13:00:00Z`, reason: 'bench' },
    });
    const slotsUrl = `${base}/v1/slots?providerId=${provider.id}&from=${monday}&to=${sunday}`;
    const clients = await createUsers(base, 'client', 'slots-client', 4);
    const before = await expectStatus(200, slotsUrl, { key: clients[0]!.key });
    const picks = (before.json.slots as { start: string }[]).filter((_, i) => i % 7 === 3).slice(0, 20);
    for (const [i, s] of picks.entries()) await expectStatus(201, `${base}/v1/bookings`, { method: 'POST', key: clients[i % 4]!.key, body: { providerId: provider.id, start: s.start } });
    const sample = await expectStatus(200, slotsUrl, { key: clients[0]!.key });
    const slotCount = sample.json.slots.length as number;

    log(`  http: GET /v1/slots, ${CONNECTIONS} connections, alternating with the bare node:http server`);
    rss.mark('GET /v1/slots load');
    const { ours, bare: baseline, bodyBytes } = await loadVersusBare(slotsUrl, clients[1]!.key, server.pid);

    // The same provider's week as a public event type's slots, without a key (what a booking page asks).
    log(`  http: GET /v1/slots?eventTypeId (public type, no key), ${CONNECTIONS} connections, alternating with the bare node:http server`);
    const type = await expectStatus(201, `${base}/v1/event-types`, {
      method: 'POST', key: provider.key, body: { slug: 'bench-visit', title: 'Visit', durations: [30], minimumNotice: 0, public: true },
    });
    const typeUrl = `${base}/v1/slots?eventTypeId=${type.json.id}&from=${monday}&to=${sunday}`;
    const typeSlotCount = (await expectStatus(200, typeUrl)).json.slots.length as number;
    rss.mark('GET /v1/slots?eventTypeId load');
    const typeLoad = await loadVersusBare(typeUrl, undefined, server.pid);
    rss.mark('idle');

    log(`  http: POST /v1/bookings, ${POST_COUNT} holds on distinct slots, ${CONNECTIONS} in flight`);
    rss.mark('seeding');
    const providers = await createUsers(base, 'provider', 'post-provider', POST_PROVIDERS);
    await pool(providers.map((p) => () => putSchedule(base, p.id, 'UTC', '08:00', '18:00')), 8);
    const posters = await createUsers(base, 'client', 'post-client', POST_COUNT / 5);
    const day0 = dateAhead(3);
    const perProvider = POST_COUNT / POST_PROVIDERS; // 100 = 10 days x 10 hours
    const tasks = Array.from({ length: POST_COUNT }, (_, i) => {
      const p = providers[i % POST_PROVIDERS]!;
      const k = Math.floor(i / POST_PROVIDERS) % perProvider;
      const start = `${addDaysIso(day0, Math.floor(k / 10))}T${String(8 + (k % 10)).padStart(2, '0')}:00:00Z`;
      const client = posters[Math.floor(i / 5)]!; // each client: 5 holds, with 5 different providers
      return () => hold(base, client.key, p.id, start, CONNECTIONS);
    });
    rss.mark('POST /v1/bookings load');
    const t0 = performance.now();
    const replies = await pool(tasks, CONNECTIONS);
    const postSeconds = (performance.now() - t0) / 1000;
    const mem = rss.stop();
    const statuses: Record<string, number> = {};
    for (const r of replies) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const created = statuses['201'] ?? 0;

    // The measured server is done: stop it (SIGTERM, as a user would) before the in-memory start,
    // so that the two never share the cores.
    await server.stop();
    stopped = true;
    let inMemory: Awaited<ReturnType<typeof inMemoryStart>> | Error;
    try {
      inMemory = await inMemoryStart(log);
    } catch (e) {
      inMemory = e as Error;
    }

    const rows: (string | number)[][] = [
      slotsRow(`GET /v1/slots (7 days, ${slotCount} slots), embedded DB`, ours, baseline),
      bareRow(`bare node:http, same ${int(bodyBytes)}-byte body`, baseline),
      slotsRow(`GET /v1/slots?eventTypeId (public type, 30 min, same week: ${typeSlotCount} slots; no key), embedded DB`, typeLoad.ours, typeLoad.bare),
      bareRow(`bare node:http, the event-type row's ${int(typeLoad.bodyBytes)}-byte body`, typeLoad.bare),
      [`POST /v1/bookings (${int(POST_COUNT)} distinct slots)`, `${int(created / postSeconds)} created/s`, '', '', `${int(created)} / ${int(POST_COUNT - created)} / 0`, '', '', `statuses ${JSON.stringify(statuses)} in ${postSeconds.toFixed(1)} s`],
    ];
    const who = 'server (embedded DB, initialised DATA_DIR on disk, second start)';
    const memRows: (string | number)[][] = Object.entries(mem.peaks)
      .map(([phase, mb]) => [`${who}: ${phase === 'start' ? 'just started' : phase}`, mb.toFixed(0), '']);
    memRows.push([`${who}: VmHWM at the end (kernel high-water mark)`, mem.hwmMB.toFixed(0), `< 200 MB: ${met(mem.hwmMB < 200)}`]);
    memRows.push(inMemory instanceof Error
      ? ['DATA_DIR=memory: loads the migrated snapshot (initdb without one) at every start', `failed: ${inMemory.message.slice(0, 200)}`, '']
      : [`DATA_DIR=memory: loads the migrated snapshot (initdb without one) at every start (VmHWM of one start, 1 s after /health; RSS just started ${(inMemory.peaks.start ?? NaN).toFixed(0)} MB, peak in the next second ${(inMemory.peaks['first second after /health'] ?? NaN).toFixed(0)} MB)`, inMemory.hwmMB.toFixed(0), `< 200 MB: ${met(inMemory.hwmMB < 200)}`]);
    const loadPeaksMB = Object.entries(mem.peaks).filter(([phase]) => phase !== 'start').map(([, mb]) => mb);
    return {
      http: {
        title: '3. HTTP (server: the command line of `npm start` on an on-disk DATA_DIR initialised by a previous start, LOG_LEVEL=warn; autocannon in the bench process)',
        columns: ['request', 'req/s', 'p50 ms', 'p99 ms', '2xx / non-2xx / errors', 'ours / bare', 'server CPU µs / request', 'target met?'],
        rows,
        notes: [
          `The embedded server runs as a user runs it after the first start: DATA_DIR is a fresh temp dir under ${os.tmpdir()}; the bench starts the server once on it (the migrated snapshot, or initdb without one; ready in ${firstStartS.toFixed(1)} s), stops it with SIGTERM, starts it again (ready in ${secondStartS.toFixed(1)} s) and measures that second process. The dir is removed afterwards.`,
          `${LOAD_NOTE} Same client key every request (no If-None-Match, so every answer is a full 200 with the slots of a 7-day range: Mon-Fri 09:00-17:00 Europe/Berlin, 20 holds, one hour off).`,
          'The bare server is a node:http child answering every request with the exact bytes of one of our slot responses; both servers and autocannon share the 2 cores, so the bare figure is partly limited by autocannon itself. Each slot row has its own bare run (the PostgreSQL row: against the bytes of its own answer, in table 4\'s run), and its ratio is to that one.',
          'Server CPU µs / request: the server process\'s user + system time (/proc/<pid>/stat) over the measured slices divided by the requests answered in them (the embedded server\'s includes its in-process database, idle under reads). It moves much less with the machine\'s load than req/s does.',
          `POST: ${POST_PROVIDERS} providers (UTC, 08:00-18:00 daily) x 10 days x 10 hours, ${POST_COUNT / 5} clients with 5 holds each (the per-client hold limit), no two requests for the same provider and time; ${CONNECTIONS} requests in flight.`,
        ],
      },
      memory: { rows: memRows, raw: { onDisk: mem, inMemory: inMemory instanceof Error ? { error: inMemory.message } : inMemory } },
      raw: { dataDir: { firstStartS, secondStartS }, ours, baseline, bodyBytes, slotCount, eventTypeSlots: { ...typeLoad, slotCount: typeSlotCount }, post: { count: POST_COUNT, seconds: postSeconds, statuses } },
      bareReqPerSec: baseline.reqPerSec,
      summary: {
        slots: ours,
        eventTypeSlots: typeLoad.ours,
        createdPerSec: created / postSeconds,
        startMB: mem.peaks.start ?? NaN,
        loadPeaksMB,
        hwmMB: mem.hwmMB,
        inMemoryStartMB: inMemory instanceof Error ? null : inMemory.peaks.start ?? null,
        inMemoryHwmMB: inMemory instanceof Error ? null : inMemory.hwmMB,
      },
    };
  } finally {
    rss.stop();
    if (!stopped) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
