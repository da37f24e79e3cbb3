import type { Queryable } from './database.js';

/** The provider's feed token, created on first ask; concurrent first asks agree on one. */
export async function ensureFeedToken(q: Queryable, providerId: string, candidate: string): Promise<string> {
  await q.query(
    'INSERT INTO calendar_feeds (provider_id, token) VALUES ($1, $2) ON CONFLICT (provider_id) DO NOTHING',
    [providerId, candidate],
  );
  const { rows } = await q.query<{ token: string }>('SELECT token FROM calendar_feeds WHERE provider_id = $1', [providerId]);
  return rows[0]!.token;
}

export async function findFeedToken(q: Queryable, providerId: string): Promise<string | null> {
  const { rows } = await q.query<{ token: string }>('SELECT token FROM calendar_feeds WHERE provider_id = $1', [providerId]);
  return rows[0]?.token ?? null;
}

/** Replaces the provider's feed token: the old one stops working at once. */
export async function replaceFeedToken(q: Queryable, providerId: string, token: string): Promise<string> {
  await q.query(
    `INSERT INTO calendar_feeds (provider_id, token) VALUES ($1, $2)
     ON CONFLICT (provider_id) DO UPDATE SET token = EXCLUDED.token`,
    [providerId, token],
  );
  return token;
}
