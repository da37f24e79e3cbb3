import pg from 'pg';

/**
 * LISTEN on `channel` over a connection of its own (a pooled one would be
 * handed to others). A lost connection is re-opened, tried every second until
 * it works; while it is down no wake-ups arrive, which only makes the listener fall back on
 * whatever it does without them (the change feed still polls).
 */
export async function listenOn(url: string, channel: string, onNotify: () => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  const open = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify();
    });
    next.on('error', () => {
      if (client !== next) return;
      client = null;
      next.end().catch(() => {});
      reopenLater();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      next.end().catch(() => {});
      throw error;
    }
    if (stopped) return void next.end().catch(() => {});
    client = next;
  };
  // Every second until it works again (the server may be down for longer than one try).
  const reopenLater = (): void => {
    if (stopped) return;
    retry = setTimeout(() => void open().catch(reopenLater), 1_000).unref();
  };
  await open();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    await client?.end().catch(() => {});
    client = null;
  };
}

/**
 * NOTIFY without waiting: one in flight at a time, and any calls made meanwhile
 * become one more NOTIFY after it (a listener only needs to know that
 * something happened since it last looked, not how many times).
 */
export function notifier(pool: pg.Pool): (channel: string) => void {
  const state = new Map<string, 'sending' | 'again'>();
  const send = (channel: string): void => {
    state.set(channel, 'sending');
    pool.query(`NOTIFY ${pg.escapeIdentifier(channel)}`).catch(() => {}).finally(() => {
      if (state.get(channel) === 'again') send(channel);
      else state.delete(channel);
    });
  };
  return (channel) => {
    if (state.has(channel)) state.set(channel, 'again');
    else send(channel);
  };
}
