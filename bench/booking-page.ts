// The booking page in Debian's Chromium (playwright-core, headless): time to interactive, cold and
// warm cache, and page weight (the JS and CSS the server sends, raw and gzip). Numbers only.
//
// Time to interactive (TTI), measured inside the page, in ms from navigation start (performance.timeOrigin):
//   1. T_button: the first moment a free-time button (`.time-list button`, the contract's "each free time is
//      a button") is in the document and not disabled, seen by a MutationObserver installed before any of
//      the page's scripts run;
//   2. TTI is the earliest t >= T_button such that no long task (PerformanceObserver 'longtask', tasks of
//      50 ms or more on the main thread) runs in [t, t + 500 ms]: t starts at T_button and moves to the end
//      of any long task that overlaps the window, until a 500 ms window is quiet. The run ends when that
//      window has passed (bounded: 20 s per run).
// Cold: a new browser context per run (empty HTTP cache). Warm: one context that loaded the page once
// before the measured runs, so the hashed assets (Cache-Control: immutable) come from its cache; the HTML
// (no-cache) and the API calls go to the server every time.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createUser, dateAhead, putSchedule } from './lib/api.js';
import { ADMIN_KEY, expectStatus, startEngine } from './lib/proc.js';
import { ms, skippedTable, type Table } from './lib/report.js';
import { quantile } from './lib/stats.js';

export const BOOKING_PAGE_TITLE = 'Booking page in Chromium: time to interactive and page weight';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RUNS = 10; // per cache state
const QUIET_MS = 500;
const RUN_LIMIT_MS = 20_000;
const SLUG = 'bench-page';

/** Installed before the page's own scripts: records T_button and every long task. */
const OBSERVERS = `(() => {
  const w = window;
  w.__bench = { button: null, longTasks: [] };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__bench.longTasks.push([e.startTime, e.startTime + e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch { w.__bench.noLongTaskApi = true; }
  const look = () => {
    if (w.__bench.button !== null) return;
    const b = document.querySelector('.time-list button');
    if (b && !b.disabled) w.__bench.button = performance.now();
  };
  new MutationObserver(look).observe(document, { childList: true, subtree: true, attributes: true });
})();`;

interface Settled { tti: number; button: number; longTasks: number; noLongTaskApi: boolean }

/** In the page (a function, not a string: the page's CSP forbids eval): TTI once its quiet window has passed, else null. */
function ttiIfSettled(quietMs: number): Settled | null {
  const b = (window as unknown as { __bench?: { button: number | null; longTasks: [number, number][]; noLongTaskApi?: boolean } }).__bench;
  if (!b || b.button === null) return null;
  let t = b.button;
  for (let moved = true, guard = 0; moved && guard < 10_000; guard++) {
    moved = false;
    for (const [s, e] of b.longTasks) if (s < t + quietMs && e > t) { t = e; moved = true; }
  }
  if (performance.now() < t + quietMs) return null;
  return { tti: t, button: b.button, longTasks: b.longTasks.length, noLongTaskApi: !!b.noLongTaskApi };
}

interface Run { tti: number; button: number; longTasks: number }
interface Weight { file: string; kind: 'js' | 'css'; rawBytes: number; sentBytes: number; contentEncoding: string | null; gzipBytes: number }

/** The bytes the server sends for one asset when the browser offers gzip and brotli (node's http does not decompress). */
function fetchAsSent(url: string): Promise<{ body: Buffer; encoding: string | null }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { 'accept-encoding': 'gzip, deflate, br' }, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => (res.statusCode === 200
        ? resolve({ body: Buffer.concat(chunks), encoding: (res.headers['content-encoding'] as string | undefined) ?? null })
        : reject(new Error(`GET ${url}: ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${url}`)));
    req.on('error', reject);
  });
}

async function pageWeight(base: string): Promise<Weight[]> {
  const html = (await expectStatus(200, `${base}/book/${SLUG}`)).body;
  const assets = [...html.matchAll(/(?:src|href)="(\/book\/assets\/[^"]+\.(js|css))"/g)];
  if (assets.length === 0) throw new Error('no /book/assets/*.js or *.css in the page');
  const out: Weight[] = [];
  for (const [, file, kind] of assets) {
    const { body, encoding } = await fetchAsSent(`${base}${file}`);
    // Only uncompressed answers can be measured raw here; a compressing server would need decoding.
    if (encoding !== null) throw new Error(`${file} came with Content-Encoding ${encoding}: teach bench/booking-page.ts to decode it`);
    out.push({ file: file!, kind: kind as 'js' | 'css', rawBytes: body.length, sentBytes: body.length, contentEncoding: encoding, gzipBytes: gzipSync(body, { level: 9 }).length });
  }
  return out;
}

export async function bookingPageBench(log: (s: string) => void): Promise<{ table: Table; raw: unknown }> {
  if (!existsSync(CHROMIUM)) {
    log(`  booking page: ${CHROMIUM} not found, skipped`);
    return { table: skippedTable(BOOKING_PAGE_TITLE, `${CHROMIUM} not found (apt-get install chromium to measure it)`), raw: { skipped: `${CHROMIUM} not found` } };
  }
  const { chromium } = await import('playwright-core');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-page-'));
  const server = await startEngine({ env: { DATA_DIR: dataDir, MAX_HOLDS_PER_CLIENT: '50' } });
  let browser: Awaited<ReturnType<typeof chromium.launch>> | null = null;
  try {
    // A provider open every day, all day, and a public type with one question, on a fresh embedded database.
    const provider = await createUser(server.url, 'provider', 'page-host', 'Europe/Berlin');
    await putSchedule(server.url, provider.id, 'Europe/Berlin', '00:00', '24:00');
    await expectStatus(201, `${server.url}/v1/event-types`, {
      method: 'POST', key: ADMIN_KEY,
      body: {
        slug: SLUG, title: 'Consultation', durations: [30, 60], minimumNotice: 0, public: true, hosts: [{ providerId: provider.id }],
        questions: [{ id: 'topic', label: 'What brings you here?', type: 'text', required: true, maxLength: 200 }],
      },
    });
    const url = `${server.url}/book/${SLUG}?date=${dateAhead(2)}`;
    const weights = await pageWeight(server.url);

    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const contextOptions = { viewport: { width: 1280, height: 900 }, timezoneId: 'Europe/Berlin', locale: 'en-GB' };
    const measureOnce = async (context: Awaited<ReturnType<NonNullable<typeof browser>['newContext']>>): Promise<Run> => {
      const page = await context.newPage();
      try {
        await page.goto(url, { waitUntil: 'commit', timeout: RUN_LIMIT_MS });
        const settled = await page.waitForFunction(ttiIfSettled, QUIET_MS, { timeout: RUN_LIMIT_MS, polling: 50 });
        const r = (await settled.jsonValue())!;
        if (r.noLongTaskApi) throw new Error('this Chromium has no longtask PerformanceObserver');
        return { tti: r.tti, button: r.button, longTasks: r.longTasks };
      } finally {
        await page.close();
      }
    };

    const cold: Run[] = [];
    log(`  booking page: ${RUNS} cold loads (a new context each)`);
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext(contextOptions);
      await context.addInitScript(OBSERVERS);
      try { cold.push(await measureOnce(context)); } finally { await context.close(); }
    }
    log(`  booking page: ${RUNS} warm loads (one context, primed once)`);
    const warm: Run[] = [];
    const context = await browser.newContext(contextOptions);
    await context.addInitScript(OBSERVERS);
    try {
      await measureOnce(context); // primes the cache; not counted
      for (let i = 0; i < RUNS; i++) warm.push(await measureOnce(context));
    } finally {
      await context.close();
    }

    const row = (label: string, runs: Run[]) => {
      const tti = runs.map((r) => r.tti).sort((a, b) => a - b);
      const button = runs.map((r) => r.button).sort((a, b) => a - b);
      return [label, runs.length, ms(quantile(tti, 0.5)), ms(quantile(tti, 0.1)), ms(quantile(tti, 0.9)), ms(tti[tti.length - 1]!),
        ms(quantile(button, 0.5)), runs.reduce((n, r) => n + r.longTasks, 0)];
    };
    const kb = (n: number) => (n / 1024).toFixed(1);
    const sum = (kind: 'js' | 'css', f: (w: Weight) => number) => weights.filter((w) => w.kind === kind).reduce((n, w) => n + f(w), 0);
    const encodings = [...new Set(weights.map((w) => w.contentEncoding ?? 'none'))].join(', ');
    const table: Table = {
      title: BOOKING_PAGE_TITLE,
      columns: ['load', 'runs', 'TTI median ms', 'p10', 'p90', 'max', 'first time button, median ms', 'long tasks (all runs)'],
      rows: [row('cold cache (new context)', cold), row('warm cache (same context)', warm)],
      notes: [
        `Page weight, as the server sends it (Content-Encoding: ${encodings}): JS ${kb(sum('js', (w) => w.sentBytes))} KB (gzip -9 ${kb(sum('js', (w) => w.gzipBytes))} KB), ` +
          `CSS ${kb(sum('css', (w) => w.sentBytes))} KB (gzip -9 ${kb(sum('css', (w) => w.gzipBytes))} KB); KB = 1024 bytes; ${weights.map((w) => w.file).join(', ')}.`,
        `TTI: ms from navigation start until the first free-time button is rendered and enabled and then no long task (PerformanceObserver 'longtask', >= 50 ms) runs for ${QUIET_MS} ms (bench/booking-page.ts); "first time button" is the first part alone.`,
        `Debian's Chromium (${CHROMIUM}), headless, 1280x900, Europe/Berlin; the server (the command line of npm start) on a fresh embedded DATA_DIR on the same 2 cores; /book/${SLUG}?date=<a day with free times>, one question.`,
      ],
    };
    return { table, raw: { url: url.replace(server.url, ''), quietMs: QUIET_MS, cold, warm, weights } };
  } finally {
    await browser?.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// `npx tsx bench/booking-page.ts`: this table alone, printed.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const { renderTable } = await import('./lib/report.js');
  const { table, raw } = await bookingPageBench((s) => process.stderr.write(`${s}\n`));
  process.stdout.write(`${renderTable(table)}\n${JSON.stringify(raw)}\n`);
  process.exit(0);
}
