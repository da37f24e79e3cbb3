import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../db/database.js';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  readIdempotencyKey,
  reclaimStaleKey,
  releaseIdempotencyKey,
} from '../db/idempotency-repo.js';
import { AppError, invalidField } from '../domain/errors.js';

export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/**
 * A claim still unanswered after this long belongs to a process that died
 * mid-request; a retry may take it over. Requests never run this long.
 */
const ABANDONED_AFTER_SECONDS = 300;

/** Key order in the body does not make a request different. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What a stored key is compared with: method, path (no query string) and the canonical body. */
export function idempotencyRequestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${canonicalJson(body ?? null)}`).digest('hex');
}

function requestHash(request: FastifyRequest): string {
  return idempotencyRequestHash(request.method, request.url.split('?')[0] ?? request.url, request.body);
}

/** The response headers that are part of the answer, so a replay repeats them. */
const REPLAYED_HEADERS = ['content-type', 'location', 'www-authenticate', 'allow'];

function replayedHeaders(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = reply.getHeader(name);
    if (value !== undefined) out[name] = String(value);
  }
  return out;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Top-level fields of the answer that are secrets shown once (an API key, a signing secret): never stored for a replay. */
    secretFields?: string[];
  }
}

/**
 * The answer as it is kept for replays: without the route's secret fields,
 * and saying which were left out, so a replay tells the client the secret is
 * not shown again instead of showing it to any key of the user for 24 hours.
 *
 *   {"id":"key_1","apiKey":"bk_..."}  ->  {"id":"key_1","notShownAgain":["apiKey"]}
 */
export function withoutSecrets(payload: string, secretFields: readonly string[] | undefined): string {
  if (!secretFields || secretFields.length === 0) return payload;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return payload;
  const body = { ...(parsed as Record<string, unknown>) };
  const removed = secretFields.filter((field) => field in body);
  if (removed.length === 0) return payload;
  for (const field of removed) delete body[field];
  return JSON.stringify({ ...body, notShownAgain: removed });
}

interface Claim {
  callerId: string;
  key: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyClaim?: Claim;
  }
  interface FastifyContextConfig {
    /** Requests without a key are idempotent too, per client address (POST /v1/bookings by a guest). */
    anonymousIdempotency?: boolean;
  }
}

/**
 * `Idempotency-Key` on POST: the first request claims (caller, key); a repeat
 * with the same body replays the stored answer, with another body is a 422,
 * and while the first is still running is a 409. 5xx and 429 answers are not
 * stored, so a retry after a server fault or a limit runs again.
 */
export function registerIdempotency(app: FastifyInstance, db: Database): void {
  const claim = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST') return;
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    // Without a key (a guest booking a public type) the caller is its address.
    const callerId = request.principal?.userId ?? (request.routeOptions.config.anonymousIdempotency ? `address:${request.ip}` : null);
    if (callerId === null) return;
    const key = Array.isArray(header) ? header[0] ?? '' : header;
    if (key.length < 1 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
      throw invalidField('headers/idempotency-key', 'must be 1-255 visible ASCII characters');
    }
    const hash = requestHash(request);
    if (await claimIdempotencyKey(db, callerId, key, hash)) {
      request.idempotencyClaim = { callerId, key };
      return;
    }
    const existing = await readIdempotencyKey(db, callerId, key);
    const staleAfter = existing?.statusCode === null ? ABANDONED_AFTER_SECONDS : IDEMPOTENCY_TTL_SECONDS;
    if (!existing || existing.ageSeconds > staleAfter) {
      if (await reclaimStaleKey(db, callerId, key, staleAfter, hash)) {
        request.idempotencyClaim = { callerId, key };
        return;
      }
      throw new AppError('idempotency_in_flight', 'A request with this Idempotency-Key is in progress; retry shortly.');
    }
    if (existing.requestHash !== hash) {
      throw new AppError(
        'idempotency_key_reused',
        'This Idempotency-Key was used with a different request; use a new key for a new request.',
      );
    }
    if (existing.statusCode === null) {
      throw new AppError('idempotency_in_flight', 'A request with this Idempotency-Key is in progress; retry shortly.');
    }
    return reply
      .code(existing.statusCode)
      .headers({ 'content-type': 'application/json; charset=utf-8', ...existing.responseHeaders })
      .header('idempotent-replayed', 'true')
      .send(existing.responseBody ?? '');
  };

  const store = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const claim = request.idempotencyClaim;
    if (!claim) return payload;
    request.idempotencyClaim = undefined;
    // The answer is decided: it goes out even if it cannot be stored. Throwing here (the
    // database went away since the handler ran) would replace it with Fastify's fallback body
    // (not problem+json, and it shows the driver's message). The claim then stays "in flight"
    // until its lease lapses, and a retry meanwhile gets a 409 to retry later.
    try {
      // A 429 says "not now": a retry with the same key must run again, not replay the refusal.
      if (reply.statusCode >= 500 || reply.statusCode === 429 || typeof payload !== 'string') {
        await releaseIdempotencyKey(db, claim.callerId, claim.key);
      } else {
        await completeIdempotencyKey(db, claim.callerId, claim.key, {
          statusCode: reply.statusCode,
          body: withoutSecrets(payload, request.routeOptions.config.secretFields),
          headers: replayedHeaders(reply),
        });
      }
    } catch (error) {
      request.log.error({ err: error, idempotencyKey: claim.key }, 'could not store the idempotent answer; the key stays in flight until its lease lapses');
    }
    return payload;
  };

  // Only POST routes claim keys, so only they carry the two hooks: every other request (the hot
  // GET /v1/slots among them) skips them, where a global async hook cost each one two promises.
  // Put first among the route's own hooks, where the global hooks ran before.
  app.addHook('onRoute', (route) => {
    if (![route.method].flat().includes('POST')) return;
    route.preHandler = [claim, ...[route.preHandler ?? []].flat()] as typeof route.preHandler;
    route.onSend = [store, ...[route.onSend ?? []].flat()] as typeof route.onSend;
  });
}
