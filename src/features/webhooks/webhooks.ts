import { EVENT_TYPES } from '../../db/events-repo.js';
import {
  countWebhooksOf,
  deleteWebhook as deleteWebhookRow,
  findWebhook,
  insertWebhook,
  listDeliveries,
  listWebhooks as listWebhookRows,
  type DeliveryRecord,
  type DeliveryStatus,
  type WebhookRecord,
} from '../../db/webhooks-repo.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { formatInstant } from '../../domain/zoned-time.js';
import { checkHost } from '../../integrations/calendars/host-check.js';
import { requireAccess } from '../access/policy.js';
import type { AppContext, Principal } from '../context.js';
import { openSecret, sealSecret } from '../../platform/crypto/encryption.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../platform/pagination.js';
import { newId } from '../../platform/crypto/secrets.js';
import { newWebhookSecret } from './webhook-signing.js';
import type { CreateWebhookBody } from '../../http/schemas/webhooks.js';

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  createdAt: string;
}

export interface DeliveryView {
  id: string;
  event: string;
  eventId: string;
  status: DeliveryStatus;
  attempts: number;
  lastAttemptAt: string | null;
  responseStatus?: number;
  nextAttemptAt?: string;
  error?: string;
}

function toWebhookView(w: WebhookRecord): WebhookView {
  return { id: w.id, url: w.url, events: w.events, description: w.description, createdAt: formatInstant(w.createdAt) };
}

function toDeliveryView(d: DeliveryRecord): DeliveryView {
  return {
    id: d.id,
    event: d.eventType,
    eventId: d.eventId,
    status: d.status,
    attempts: d.attempts,
    lastAttemptAt: d.lastAttemptAt === null ? null : formatInstant(d.lastAttemptAt),
    ...(d.responseStatus !== null ? { responseStatus: d.responseStatus } : {}),
    ...(d.status === 'pending' ? { nextAttemptAt: formatInstant(d.nextAttemptAt) } : {}),
    ...(d.lastError !== null && d.status !== 'succeeded' ? { error: d.lastError } : {}),
  };
}

/**
 * The signing secret must be readable again to sign, so it is sealed with
 * ENCRYPTION_KEY (bound to the webhook's id) when the server has one, and kept
 * as `plain.<secret>` when it has none (documented in the README).
 */
function storeSecret(ctx: AppContext, webhookId: string, secret: string): string {
  return ctx.config.encryptionKey ? sealSecret(ctx.config.encryptionKey, secret, webhookId) : `plain.${secret}`;
}

/** Throws SecretUnreadableError when the secret was sealed under another (or no) key. */
export function readWebhookSecret(encryptionKey: Buffer | null, webhookId: string, stored: string): string {
  if (stored.startsWith('plain.')) return stored.slice('plain.'.length);
  return openSecret(encryptionKey ?? Buffer.alloc(0), stored, webhookId);
}

/** http(s) only; a host that is (or resolves to) a loopback/private address is refused unless allowed. */
async function checkTargetUrl(raw: string, allowPrivate: boolean): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw invalidField('url', 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidField('url', 'must be an http or https URL');
  if (url.username !== '' || url.password !== '') throw invalidField('url', 'must not carry a user name or password');
  try {
    await checkHost(url, { allowPrivateAddresses: allowPrivate });
  } catch (error) {
    throw invalidField('url', (error as Error).message);
  }
  return url.href;
}

export async function createWebhook(
  ctx: AppContext,
  caller: Principal,
  input: CreateWebhookBody,
): Promise<WebhookView & { secret: string }> {
  const known = new Set<string>(EVENT_TYPES);
  input.events.forEach((e, i) => {
    if (!known.has(e)) throw invalidField(`events/${i}`, `unknown event "${e}"; one of ${EVENT_TYPES.join(', ')}`);
  });
  if (input.events.length === 0) throw invalidField('events', 'must name at least one event');
  const url = await checkTargetUrl(input.url, ctx.config.webhookAllowPrivateUrls);
  const id = newId('wh');
  const secret = newWebhookSecret();
  const created = await ctx.db.transaction(async (tx) => {
    // One user's webhooks are added one at a time, so the cap holds under concurrency.
    await tx.query('SELECT pg_advisory_xact_lock(724106, hashtext($1))', [caller.userId]);
    if ((await countWebhooksOf(tx, caller.userId)) >= ctx.config.maxWebhooksPerUser) {
      throw new AppError('quota_exceeded', `A user may have at most ${ctx.config.maxWebhooksPerUser} webhooks; delete one first.`);
    }
    return insertWebhook(tx, {
      id,
      ownerId: caller.userId,
      url,
      events: [...new Set(input.events)],
      description: input.description ?? null,
      secretStored: storeSecret(ctx, id, secret),
    });
  });
  return { ...toWebhookView(created), secret };
}

async function visibleWebhook(ctx: AppContext, caller: Principal, id: string): Promise<WebhookRecord> {
  const w = await findWebhook(ctx.db, id);
  if (!w) throw new AppError('not_found', `No webhook with id "${id}".`);
  requireAccess(caller, { on: 'webhook', action: 'read', ownerId: w.ownerId }, id);
  return w;
}

export async function listWebhooks(ctx: AppContext, caller: Principal, query: { limit: number; cursor?: string }): Promise<Page<WebhookView>> {
  const after = decodeCursor(query.cursor);
  const rows = await listWebhookRows(ctx.db, {
    ownerId: caller.role === 'admin' ? null : caller.userId,
    after: after ? { createdAt: after.sortValue, id: after.id } : null,
    limit: query.limit + 1,
  });
  return toPage(rows, query.limit, toWebhookView, (w) => encodeCursor(w.createdAt, w.id));
}

export async function deleteWebhook(ctx: AppContext, caller: Principal, id: string): Promise<void> {
  await visibleWebhook(ctx, caller, id);
  await deleteWebhookRow(ctx.db, id);
}

export async function listWebhookDeliveries(
  ctx: AppContext,
  caller: Principal,
  id: string,
  query: { limit: number; cursor?: string },
): Promise<Page<DeliveryView>> {
  await visibleWebhook(ctx, caller, id);
  const after = decodeCursor(query.cursor);
  const rows = await listDeliveries(ctx.db, {
    webhookId: id,
    after: after ? { createdAt: after.sortValue, id: after.id } : null,
    limit: query.limit + 1,
  });
  return toPage(rows, query.limit, toDeliveryView, (d) => encodeCursor(d.createdAt, d.id));
}
