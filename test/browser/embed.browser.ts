/**
 * The README's two embed snippets ("Embedding on another site"), copied from
 * the README as written with only the origin replaced, on a page of another
 * site (http://localhost:<other port>, the engine on http://127.0.0.1:<port>):
 * a guest books the demo type inside the frame, in Debian's Chromium.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SLUG, seedDemo } from '../../src/features/demo/seed.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const README_ORIGIN = 'https://book.example.com';

/** The ```html blocks of the README's section "Embedding on another site", in order. */
function readmeSnippets(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const from = readme.indexOf('**Embedding on another site**');
  if (from < 0) throw new Error('README.md has no "Embedding on another site"');
  const section = readme.slice(from, readme.indexOf('\n#', from));
  return [...section.matchAll(/```html\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

let engine: TestServer;
let base: string;
let host: Server;
let hostOrigin: string;
let browser: Browser;
let iframeSnippet: string;
let scriptSnippet: string;
const hostPages = new Map<string, string>();

beforeAll(async () => {
  const snippets = readmeSnippets();
  expect(snippets).toHaveLength(2);
  [iframeSnippet, scriptSnippet] = snippets as [string, string];
  expect(iframeSnippet).toContain(`<iframe src="${README_ORIGIN}/book/${DEMO_SLUG}"`);
  expect(scriptSnippet).toContain(`<script src="${README_ORIGIN}/book/embed.js" data-slug="${DEMO_SLUG}"`);

  engine = await startTestServer({ MAX_HOLDS_PER_CLIENT: '50' });
  await engine.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(engine.app.server.address() as AddressInfo).port}`;
  // The demo the README's snippets name, as `npm run demo` makes it.
  expect(await seedDemo(engine.ctx, { onlyIfEmpty: false })).toMatch(new RegExp(`/book/${DEMO_SLUG}$`));

  // Another site: its own server on another port, reached by another host name (localhost), so another origin and site.
  host = createServer((req, res) => {
    const body = hostPages.get(req.url ?? '');
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' }).end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  hostOrigin = `http://localhost:${(host.address() as AddressInfo).port}`;
  const pageWith = (snippet: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A clinic</title></head>
<body><h1>Book with us</h1>
${snippet.replaceAll(README_ORIGIN, base)}
<p>Footer of the clinic's site</p></body></html>`;
  hostPages.set('/iframe.html', pageWith(iframeSnippet));
  hostPages.set('/script.html', pageWith(scriptSnippet));

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => host?.close(resolve));
  await engine?.close();
});

async function hostPage(path: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Europe/Berlin', locale: 'en-GB' });
  const page = await context.newPage();
  const res = await page.goto(`${hostOrigin}${path}`);
  expect(res?.status()).toBe(200);
  return page;
}

/** Inside the frame: the first day with free times (this month or the next two), its first time, the form, Book. */
async function bookInFrame(frame: FrameLocator, email: string): Promise<void> {
  await frame.getByRole('heading', { name: 'Demo consultation' }).waitFor({ timeout: 15_000 });
  const freeDay = frame.getByRole('button', { name: /, free times$/ });
  for (let month = 0; month < 3; month++) {
    await frame.getByText('Loading free times…').waitFor({ state: 'detached', timeout: 15_000 });
    if (await freeDay.count() > 0) break;
    await frame.getByRole('button', { name: 'Next month' }).click();
  }
  await freeDay.first().click();
  const time = frame.getByRole('button', { name: /^\d\d:\d\d on / }).first();
  await time.waitFor({ timeout: 15_000 });
  const hhmm = (await time.textContent())!.trim();
  await time.click();
  await frame.getByLabel('Name', { exact: true }).fill('Grace Hopper');
  await frame.getByLabel('Email', { exact: true }).fill(email);
  await frame.getByLabel(/^What would you like to talk about\?/).fill('A first talk');
  await frame.getByRole('button', { name: new RegExp(`^Book ${hhmm}`) }).click();
  await frame.getByRole('heading', { name: 'Booked' }).waitFor({ timeout: 15_000 });
}

async function bookingsOf(email: string) {
  const { rows } = await engine.db.query<{ status: string; event_type_slug: string }>(
    `SELECT b.status, t.slug AS event_type_slug FROM bookings b JOIN event_types t ON t.id = b.event_type_id WHERE b.guest_email = $1`,
    [email],
  );
  return rows;
}

describe('the README\'s embed snippets on another site', () => {
  it('the iframe snippet: the page loads in the frame and a guest books', async () => {
    const page = await hostPage('/iframe.html');
    const frame = page.frameLocator(`iframe[src="${base}/book/${DEMO_SLUG}"]`);
    await bookInFrame(frame, 'iframe-guest@example.com');
    expect(await bookingsOf('iframe-guest@example.com')).toEqual([{ status: 'confirmed', event_type_slug: DEMO_SLUG }]);
    await page.context().close();
  });

  it('the script snippet: embed.js puts the frame where the tag stands, grows it to the page, and a guest books', async () => {
    const page = await hostPage('/script.html');
    const iframe = page.locator('iframe');
    await iframe.waitFor({ state: 'attached', timeout: 15_000 });
    expect(await iframe.getAttribute('src')).toBe(`${base}/book/${DEMO_SLUG}`);
    // Inserted right after the script tag, before the site's footer.
    expect(await page.evaluate(() => document.querySelector('script[data-slug]')?.nextElementSibling?.tagName)).toBe('IFRAME');
    const frame = page.frameLocator('iframe');
    await frame.getByRole('heading', { name: 'Demo consultation' }).waitFor({ timeout: 15_000 });
    // The frame tells the host page its height (postMessage across origins); embed.js sets it.
    await expect.poll(() => iframe.evaluate((el) => (el as HTMLIFrameElement).style.height), { timeout: 10_000 }).toMatch(/^\d+px$/);
    await bookInFrame(frame, 'script-guest@example.com');
    expect(await bookingsOf('script-guest@example.com')).toEqual([{ status: 'confirmed', event_type_slug: DEMO_SLUG }]);
    await page.context().close();
  });
});
