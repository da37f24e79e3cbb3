import WebSocket from 'ws';

/** A ws client that queues parsed JSON frames; every wait is bounded. */
export interface StreamClient {
  ws: WebSocket;
  messages: any[];
  send(message: unknown): void;
  /** The first queued (or later) message matching, removed from the queue; rejects after timeoutMs. */
  next(match: (m: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Resolves true if no matching message arrives within ms. */
  quiet(match: (m: any) => boolean, ms: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function openStream(url: string, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<StreamClient> {
  const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
  const messages: any[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const w of [...waiters]) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
  });
  const take = (match: (m: any) => boolean) => {
    const i = messages.findIndex(match);
    return i >= 0 ? messages.splice(i, 1)[0] : undefined;
  };
  return {
    ws,
    messages,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    next(match, timeout = 1_000) {
      return new Promise((resolve, reject) => {
        const found = take(match);
        if (found !== undefined) return resolve(found);
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message within ${timeout} ms; queued: ${JSON.stringify(messages)}`));
        }, timeout);
        const check = () => {
          const m = take(match);
          if (m === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(m);
        };
        waiters.add(check);
      });
    },
    async quiet(match, ms) {
      await new Promise((r) => setTimeout(r, ms));
      return !messages.some(match);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        const timer = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 2_000);
        ws.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        ws.close();
      }),
  };
}

/** The HTTP status with which an upgrade was refused (or 101 if it was not). */
export function upgradeStatus(url: string, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}
