import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/**
 * A calendar host on 127.0.0.1 for tests: each path answers the way the test
 * set it (a fixture file, an HTTP status, a redirect, a body that never ends
 * or never starts), and every request is counted.
 *
 *   const ics = await startIcsServer();
 *   ics.serve('/feeds/s3cret/cal.ics', { file: 'open-ended.ics' });
 *   ics.url('/feeds/s3cret/cal.ics'); // http://127.0.0.1:PORT/feeds/s3cret/cal.ics
 */
export type Answer =
  | { file: string; gzip?: boolean }
  | { text: string }
  | { status: number }
  | { redirect: string }
  | { hang: true }
  | { stream: number }; // bytes of filler, sent without a Content-Length

export interface IcsServer {
  readonly port: number;
  url(path: string): string;
  serve(path: string, answer: Answer): void;
  /** Requests per path (query strings stripped). */
  hits(path: string): number;
  close(): Promise<void>;
}

export const fixtureText = (name: string) =>
  readFileSync(new URL(`../fixtures/calendars/${name}`, import.meta.url), 'utf8');

export async function startIcsServer(): Promise<IcsServer> {
  const answers = new Map<string, Answer>();
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const answer = answers.get(path) ?? { status: 404 };
    if ('hang' in answer) return; // never answers; closeAllConnections() ends it
    if ('status' in answer) return res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(`status ${answer.status}`);
    if ('redirect' in answer) return res.writeHead(302, { location: answer.redirect }).end();
    if ('stream' in answer) {
      res.writeHead(200, { 'content-type': 'text/calendar' });
      const chunk = Buffer.alloc(64 * 1024, 'X');
      let sent = 0;
      const pump = () => {
        // Bounded by the size asked for; stops early when the client goes away.
        while (sent < answer.stream && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    const text = 'file' in answer ? fixtureText(answer.file) : answer.text;
    if ('file' in answer && answer.gzip) {
      return res.writeHead(200, { 'content-type': 'text/calendar', 'content-encoding': 'gzip' }).end(gzipSync(text));
    }
    return res.writeHead(200, { 'content-type': 'text/calendar; charset=utf-8' }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    serve: (path, answer) => void answers.set(path, answer),
    hits: (path) => counts.get(path) ?? 0,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
