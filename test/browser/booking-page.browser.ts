/**
 * The booking page in Debian's Chromium driven by playwright-core: a guest
 * books, a second browser sees the time go, the manage link reschedules and
 * cancels, a time taken meanwhile is explained, keyboard-only booking works,
 * axe-core finds nothing serious, and screenshots at 360 and 1280 px land in docs/.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { localInstant, providerAlwaysOpen } from '../http/booking-helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DAY = upcomingDate(3, 9); // a Wednesday 9+ days ahead
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server: TestServer;
let base: string;
let browser: Browser;
let typeId: string;
let providerCall: Awaited<ReturnType<typeof providerAlwaysOpen>>['call'];

async function context(width = 1280, extra: { bypassCSP?: boolean } = {}): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width, height: 900 }, timezoneId: 'Europe/Berlin', locale: 'en-GB', ...extra });
}

const timeButton = (page: Page, hhmm: string) => page.getByRole('button', { name: new RegExp(`^${hhmm} on `) });

async function openDay(page: Page) {
  await page.goto(`${base}/book/browser-demo?date=${DAY}`);
  await expect.poll(() => timeButton(page, '10:00').count(), { timeout: 10_000 }).toBe(1);
}

async function fillAndBook(page: Page, hhmm: string, email: string) {
  await timeButton(page, hhmm).click();
  await page.getByLabel('Name', { exact: true }).fill('Grace Hopper');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('What brings you here?').fill('A checkup');
  await page.getByRole('button', { name: /^Book / }).click();
}

beforeAll(async () => {
  server = await startTestServer({ MAX_HOLDS_PER_CLIENT: '50' });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const address = server.app.server.address();
  if (typeof address !== 'object' || !address) throw new Error('not listening');
  base = `http://127.0.0.1:${address.port}`;
  const provider = await providerAlwaysOpen(server);
  providerCall = provider.call;
  const res = await provider.call('POST', '/v1/event-types', {
    slug: 'browser-demo', title: 'Consultation', description: 'A first conversation.', location: 'Video call',
    durations: [30, 60], minimumNotice: 0, public: true, cancellationNotice: 60,
    questions: [
      { id: 'reason', label: 'What brings you here?', type: 'text', required: true, maxLength: 200 },
      { id: 'first_visit', label: 'First visit', type: 'boolean' },
    ],
  });
  expect(res.statusCode, res.body).toBe(201);
  typeId = res.json().id;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the booking page in Chromium', () => {
  it('serves the page, its hashed assets with a year\'s cache, and a 404 page for an unknown slug', async () => {
    const page = await fetch(`${base}/book/browser-demo`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const js = /src="(\/book\/assets\/main-[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${base}${js}`);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${base}/book/no-such-type`)).status).toBe(404);
    const embed = await fetch(`${base}/book/embed.js`);
    expect(embed.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await embed.text()).toContain("createElement('iframe')");
    expect((await fetch(`${base}/book/assets/../../package.json`)).status).toBe(404);
  });

  it('a guest books; a second browser sees the time disappear without a reload; the manage link reschedules and cancels', async () => {
    const a = await (await context()).newPage();
    const b = await (await context()).newPage();
    await openDay(a);
    await openDay(b);
    await expect.poll(() => a.getByRole('heading', { name: 'Consultation' }).count()).toBe(1);
    await fillAndBook(a, '10:00', 'grace@example.com');
    await a.getByRole('heading', { name: 'Booked' }).waitFor({ timeout: 10_000 });
    expect(await a.getByText(/10:00–10:30/).count()).toBe(1);
    const ics = a.getByRole('link', { name: /Add to calendar/ });
    expect(await ics.getAttribute('download')).toBe('browser-demo.ics');
    // Live: the other visitor's 10:00 goes away by itself.
    await expect.poll(() => timeButton(b, '10:00').count(), { timeout: 5_000 }).toBe(0);
    expect(await timeButton(b, '10:30').count()).toBe(1);

    await a.getByRole('link', { name: 'Manage this booking' }).click();
    await a.getByText('Status: confirmed').waitFor();
    await a.getByRole('button', { name: 'Reschedule' }).click();
    await expect.poll(() => timeButton(a, '11:00').count(), { timeout: 10_000 }).toBe(1);
    await timeButton(a, '11:00').click();
    await a.getByRole('button', { name: 'Reschedule to 11:00' }).click();
    await a.getByText(/Moved to 11:00/).waitFor();
    await expect.poll(() => timeButton(b, '10:00').count(), { timeout: 5_000 }).toBe(1); // freed
    await a.getByRole('button', { name: 'Cancel booking' }).click();
    await a.getByText(/Cancelled/).first().waitFor();
    expect(await a.getByText('Status: cancelled').count()).toBe(1);
    await a.context().close();
    await b.context().close();
  });

  it('a time taken meanwhile is explained in words, with the next free times offered', async () => {
    const page = await (await context()).newPage();
    await openDay(page);
    await timeButton(page, '14:00').click();
    await page.getByLabel('Name', { exact: true }).fill('Ada');
    // Someone else takes 14:00 through the API before this visitor presses Book.
    const taken = await server.app.inject({
      method: 'POST', url: '/v1/bookings', headers: { 'content-type': 'application/json' }, remoteAddress: '192.0.2.77',
      payload: JSON.stringify({ eventTypeId: typeId, start: localInstant(DAY, '14:00'), answers: { reason: 'x' }, guest: { name: 'Other', email: 'other@example.com' } }),
    });
    expect(taken.statusCode, taken.body).toBe(201);
    const alert = page.getByRole('alert').filter({ hasText: /taken/ });
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toMatch(/14:00 was (just )?taken/);
    expect(await alert.getByRole('button', { name: /^14:30/ }).count()).toBe(1);
    await page.context().close();
  });

  it('the server\'s 409 is explained too (no live update in between)', async () => {
    const ctx = await context();
    // Without the stream the page cannot know: the hold's 409 slot_taken is what it shows.
    await ctx.routeWebSocket(/\/v1\/stream/, (ws) => ws.close());
    const page = await ctx.newPage();
    await openDay(page);
    await timeButton(page, '15:00').click();
    const taken = await server.app.inject({
      method: 'POST', url: '/v1/bookings', headers: { 'content-type': 'application/json' }, remoteAddress: '192.0.2.78',
      payload: JSON.stringify({ eventTypeId: typeId, start: localInstant(DAY, '15:00'), answers: { reason: 'x' }, guest: { name: 'Other', email: 'other2@example.com' } }),
    });
    expect(taken.statusCode).toBe(201);
    await page.getByLabel('Name', { exact: true }).fill('Ada');
    await page.getByLabel('Email', { exact: true }).fill('ada@example.com');
    await page.getByLabel('What brings you here?').fill('x');
    await page.getByRole('button', { name: /^Book 15:00/ }).click();
    const alert = page.getByRole('alert').filter({ hasText: /Sorry, 15:00 was taken meanwhile/ });
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.getByRole('button', { name: /^15:30/ }).count()).toBe(1);
    await ctx.close();
  });

  it('the questions show their validation messages', async () => {
    const page = await (await context()).newPage();
    await openDay(page);
    await timeButton(page, '16:00').click();
    await page.getByLabel('Email', { exact: true }).fill('not-an-email');
    await page.getByRole('button', { name: /^Book / }).click();
    expect(await page.getByText('Please enter your name.').count()).toBe(1);
    expect(await page.getByText(/Please enter an email address/).count()).toBe(1);
    expect(await page.getByText('Please answer “What brings you here?”.').count()).toBe(1);
    await page.context().close();
  });

  it('embeds on another page with one script tag', async () => {
    const page = await (await context()).newPage();
    await page.setContent(`<h1>Another site</h1><script src="${base}/book/embed.js" data-slug="browser-demo" data-date="${DAY}"></script>`);
    const frame = page.frameLocator('iframe[title="Booking"]');
    await frame.getByRole('heading', { name: 'Consultation' }).waitFor({ timeout: 10_000 });
    await expect.poll(async () => (await page.locator('iframe').boundingBox())?.height ?? 0, { timeout: 5_000 }).toBeGreaterThan(700);
    await page.context().close();
  });

  it('books with the keyboard only', async () => {
    const page = await (await context()).newPage();
    await openDay(page);
    const target = timeButton(page, '12:00');
    // Tab until the 12:00 button has the focus (bounded).
    for (let i = 0; i < 200 && !(await target.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
    expect(await target.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    const typeInto = async (label: string | RegExp, text: string) => {
      const field = typeof label === 'string' ? page.getByLabel(label, { exact: true }) : page.getByLabel(label);
      for (let i = 0; i < 60 && !(await field.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
      await page.keyboard.type(text);
    };
    await typeInto('Name', 'Keyboard User');
    await typeInto('Email', 'keys@example.com');
    await typeInto(/^What brings you here\?/, 'Only keys');
    const book = page.getByRole('button', { name: /^Book 12:00/ });
    for (let i = 0; i < 20 && !(await book.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Booked' }).waitFor({ timeout: 10_000 });
    await page.context().close();
  });

  it('axe-core finds no serious or critical violations; screenshots at 360 and 1280 px', async () => {
    for (const width of [360, 1280]) {
      // bypassCSP: the page's policy forbids inline scripts, and axe is injected as one.
      const page = await (await context(width, { bypassCSP: true })).newPage();
      await openDay(page);
      await timeButton(page, '09:00').click();
      await page.getByLabel('Name', { exact: true }).focus();
      await page.addScriptTag({ content: AXE });
      const result = await page.evaluate(async () => (window as any).axe.run(document, { resultTypes: ['violations'] }));
      const bad = result.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical');
      expect(bad.map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`)).toEqual([]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `horizontal overflow at ${width} px`).toBeLessThanOrEqual(0);
      await page.screenshot({ path: `docs/booking-page-${width}.png`, fullPage: true });
      await page.context().close();
    }
  });
});
