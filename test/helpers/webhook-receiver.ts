import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signWebhook } from '../../src/features/webhooks/webhook-signing.js';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: any };
}

/**
 * A webhook receiver on 127.0.0.1 that records every request. `answers` maps a
 * path to the statuses it answers in turn (the last one repeats); other paths get 200.
 */
export async function startReceiver(answers: Record<string, number[]> = {}) {
  const requests: ReceivedRequest[] = [];
  const seen = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      requests.push({ path, headers: req.headers, body, json: JSON.parse(body) });
      const n = seen.get(path) ?? 0;
      seen.set(path, n + 1);
      const list = answers[path] ?? [200];
      res.statusCode = list[Math.min(n, list.length - 1)]!;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    at: (path: string) => requests.filter((r) => r.path === path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** True when the request carries a valid Standard Webhooks v1 signature under the secret. */
export function hasValidSignature(r: ReceivedRequest, secret: string): boolean {
  const id = String(r.headers['webhook-id']);
  const timestamp = Number(r.headers['webhook-timestamp']);
  const expected = signWebhook(secret, id, timestamp, r.body);
  return String(r.headers['webhook-signature']).split(' ').includes(expected);
}

/** Polls until check() is true, at most `ms` (bounded); returns whether it became true. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}
