import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A CalDAV-ish server on 127.0.0.1 for write-back tests: one calendar at
 * /cal/ whose objects can be PUT and DELETEd, and whose REPORT answers every
 * stored object (no time-range filtering), as a sync reads them. A PROPFIND
 * of /cal/ says it is a calendar, so discovery from that URL finds it. Every PUT/DELETE is recorded; writes can be
 * switched to fail (an HTTP status), to hang (never answer), or to be held
 * until the test releases them (to look at a write while it is in flight).
 *
 *   const dav = await startFakeCaldav();
 *   dav.calendarUrl;        // http://127.0.0.1:PORT/cal/
 *   dav.objects.get('/cal/bkg_…_booking-engine.ics');
 *   dav.failWrites(500); … dav.recover();
 */
export interface RecordedWrite {
  method: 'PUT' | 'DELETE';
  path: string;
  body: string;
  contentType: string | undefined;
  authorization: string | undefined;
  /** The HTTP status it was answered with (0 while held or hanging). */
  status: number;
}

export interface FakeCaldav {
  readonly url: string;
  readonly calendarUrl: string;
  /** Stored calendar objects by path. */
  readonly objects: Map<string, string>;
  readonly writes: RecordedWrite[];
  failWrites(status: number): void;
  hangWrites(): void;
  /** Writes wait until release() and are then carried out normally. */
  holdWrites(): void;
  release(): void;
  recover(): void;
  /** Resolves when `n` writes have been received (answered or not). */
  waitForWrites(n: number): Promise<void>;
  close(): Promise<void>;
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const CALENDAR_PROPFIND = '<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
  + '<d:response><d:href>/cal/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop>'
  + '<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>';

function multistatus(objects: Map<string, string>): string {
  const responses = [...objects].map(([href, text]) =>
    `<d:response><d:href>${escapeXml(href)}</d:href><d:propstat><d:prop><c:calendar-data>${escapeXml(text)}</c:calendar-data></d:prop>`
    + '<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>');
  return `<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">${responses.join('')}</d:multistatus>`;
}

export async function startFakeCaldav(): Promise<FakeCaldav> {
  const objects = new Map<string, string>();
  const writes: RecordedWrite[] = [];
  let mode: { fail: number } | 'ok' | 'hang' | 'hold' = 'ok';
  let held: (() => void)[] = [];
  let waiters: { n: number; resolve: () => void }[] = [];

  const carryOut = (req: IncomingMessage, res: ServerResponse, path: string, body: string, record: RecordedWrite) => {
    let status: number;
    if (req.method === 'PUT') {
      status = objects.has(path) ? 204 : 201;
      objects.set(path, body);
    } else {
      status = objects.delete(path) ? 204 : 404;
    }
    record.status = status;
    res.writeHead(status).end();
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'REPORT' && path === '/cal/') {
        return res.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' }).end(multistatus(objects));
      }
      if (req.method === 'PROPFIND' && path === '/cal/') {
        return res.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' }).end(CALENDAR_PROPFIND);
      }
      if ((req.method !== 'PUT' && req.method !== 'DELETE') || !path.startsWith('/cal/')) return res.writeHead(405).end();
      const record: RecordedWrite = {
        method: req.method, path, body, contentType: req.headers['content-type'], authorization: req.headers.authorization, status: 0,
      };
      writes.push(record);
      waiters = waiters.filter((w) => (writes.length >= w.n ? (w.resolve(), false) : true));
      if (mode === 'hang') return;
      if (mode === 'hold') return void held.push(() => carryOut(req, res, path, body, record));
      if (typeof mode === 'object') {
        record.status = mode.fail;
        return res.writeHead(mode.fail, { 'content-type': 'text/plain' }).end('no');
      }
      carryOut(req, res, path, body, record);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    calendarUrl: `${url}cal/`,
    objects,
    writes,
    failWrites: (status) => { mode = { fail: status }; },
    hangWrites: () => { mode = 'hang'; },
    holdWrites: () => { mode = 'hold'; },
    release() {
      mode = 'ok';
      const pending = held;
      held = [];
      for (const go of pending) go();
    },
    recover: () => { mode = 'ok'; },
    waitForWrites: (n) => (writes.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
