/**
 * What every answer must satisfy, whatever was sent:
 * - no 5xx;
 * - every 4xx is application/problem+json with type, title, status (= the HTTP
 *   status) and detail, and matches the documented problem schema when the
 *   status is documented; a 405 names the allowed methods in `Allow`;
 * - every 2xx is documented for its route, and its body matches the documented
 *   schema for that status and media type (a 204 has no body).
 */
import type { LightMyRequestResponse } from 'fastify';
import { responseFor, type Operation } from './openapi.js';
import { validatorOf } from './schema-arbitrary.js';

export class PropertyViolation extends Error {
  override name = 'PropertyViolation';
}

function fail(message: string, res: LightMyRequestResponse): never {
  const body = res.body.length > 1500 ? `${res.body.slice(0, 1500)}…` : res.body;
  throw new PropertyViolation(`${message}\n  status ${res.statusCode} content-type ${String(res.headers['content-type'])}\n  body ${body}`);
}

function parseJson(res: LightMyRequestResponse): unknown {
  try {
    return JSON.parse(res.body);
  } catch {
    return fail('the body is not JSON', res);
  }
}

/** Which documented operation serves this method and path (literal segments beat parameters). */
export function matchOperation(ops: Operation[], method: string, url: string): Operation | undefined {
  // Dot segments ('/v1/bookings/.') are resolved before routing, as URL parsers do.
  const path = new URL(url, 'http://fuzz.invalid').pathname.replace(/\/+$/, '') || '/';
  let best: { op: Operation; params: number } | undefined;
  for (const op of ops) {
    if (op.method !== method && !(method === 'HEAD' && op.method === 'GET')) continue;
    const pattern = new RegExp(`^${op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (!pattern.test(path)) continue;
    const params = (op.path.match(/\{/g) ?? []).length;
    if (!best || params < best.params) best = { op, params };
  }
  return best?.op;
}

/** Statuses seen that the document does not list for the route (reported, not failed: see the test). */
export const undocumented = new Map<string, Set<number>>();

export function checkResponse(op: Operation, res: LightMyRequestResponse): void {
  const status = res.statusCode;
  const contentType = String(res.headers['content-type'] ?? '');
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();

  if (status >= 500) fail('a 5xx answer', res);

  const documented = responseFor(op, status);
  if (!documented && status !== 405) {
    const set = undocumented.get(op.id) ?? new Set<number>();
    set.add(status);
    undocumented.set(op.id, set);
  }

  if (status >= 400) {
    if (mediaType !== 'application/problem+json') fail('a 4xx that is not application/problem+json', res);
    const problem = parseJson(res) as Record<string, unknown>;
    if (typeof problem !== 'object' || problem === null || Array.isArray(problem)) fail('a problem that is not an object', res);
    for (const field of ['type', 'title', 'detail'] as const) {
      if (typeof problem[field] !== 'string') fail(`a problem without a string "${field}"`, res);
    }
    if (problem.status !== status) fail(`a problem whose status ${String(problem.status)} is not the HTTP status`, res);
    if (problem.errors !== undefined) {
      const ok = Array.isArray(problem.errors) &&
        problem.errors.every((e) => typeof e === 'object' && e !== null && typeof e.path === 'string' && typeof e.message === 'string');
      if (!ok) fail('a problem whose "errors" is not [{ path, message }]', res);
    }
    if (status === 405 && !res.headers.allow) fail('a 405 without an Allow header', res);
    if (status === 429 && !res.headers['retry-after']) fail('a 429 without Retry-After', res);
    const schema = documented?.content?.['application/problem+json']?.schema;
    if (schema) {
      const validate = validatorOf(schema);
      if (!validate(problem)) fail(`a problem that does not match the documented schema: ${JSON.stringify(validate.errors)}`, res);
    }
    return;
  }

  if (status >= 200 && status < 300) {
    if (!documented) fail(`a ${status} that ${op.id} does not document`, res);
    const content = documented.content;
    if (!content || Object.keys(content).length === 0) {
      if (res.body !== '') fail(`a ${status} documented without content, but with a body`, res);
      return;
    }
    const media = content[mediaType];
    if (!media) fail(`a ${status} of media type "${mediaType}", documented are ${Object.keys(content).join(', ')}`, res);
    if (!media.schema) return;
    const value = /json/.test(mediaType) ? parseJson(res) : res.body;
    const validate = validatorOf(media.schema);
    if (!validate(value)) fail(`a ${status} body that does not match the documented schema: ${JSON.stringify(validate.errors)}`, res);
    return;
  }

  if (status === 304 && res.body !== '') fail('a 304 with a body', res);
}

/**
 * "Never leaks another user's data": a 2xx must only show the caller what is
 * theirs. Bookings are seen by their client and provider; availability,
 * schedules and the feed by the provider itself; another user only as a
 * provider's public fields (no email).
 */
export function checkAccess(
  op: Operation,
  res: LightMyRequestResponse,
  callerId: string | null,
  params: Record<string, string>,
): void {
  if (res.statusCode < 200 || res.statusCode >= 300) return;
  if (callerId === null) {
    // Without a key only the open routes answer 2xx (a feed needs its token).
    const open = ['GET /health', 'GET /ready', 'GET /metrics', 'POST /v1/auth/login', 'GET /v1/providers/{providerId}/calendar.ics'];
    if (open.includes(op.id)) return;
    // Public event types (and their slots) are readable without a key; nothing else of them.
    const anonymous = /json/.test(String(res.headers['content-type'])) ? (JSON.parse(res.body) as any) : null;
    if (op.id === 'GET /v1/event-types' && Array.isArray(anonymous?.data) && anonymous.data.every((t: any) => t.public === true)) return;
    if (op.id === 'GET /v1/event-types/{id}' && anonymous?.public === true) return;
    if (op.id === 'GET /v1/slots' && typeof anonymous?.eventTypeId === 'string') return;
    // A public type by slug, without private host fields; a guest's hold of a public type (no client, its token once).
    const noEmails = (t: any) => Array.isArray(t?.hosts) && t.hosts.every((h: any) => !('email' in h));
    if (op.id === 'GET /v1/public/event-types/{slug}' && anonymous?.public === true && noEmails(anonymous)) return;
    if (op.id === 'POST /v1/bookings' && anonymous?.clientId === null && typeof anonymous?.guest?.email === 'string'
      && (typeof anonymous?.manageToken === 'string' || Array.isArray(anonymous?.notShownAgain))) return;
    fail(`${op.id} answered ${res.statusCode} without a valid key`, res);
    return;
  }
  const body = /json/.test(String(res.headers['content-type'])) ? (JSON.parse(res.body) as any) : null;
  const ownBooking = (b: any) => b?.clientId === callerId || b?.providerId === callerId;
  switch (op.id) {
    case 'GET /v1/bookings/{id}':
    case 'POST /v1/bookings/{id}/cancel':
    case 'POST /v1/bookings/{id}/reschedule':
    case 'POST /v1/bookings/{id}/accept':
    case 'POST /v1/bookings/{id}/decline':
      if (!ownBooking(body)) fail(`${op.id} showed a booking of someone else to ${callerId}`, res);
      return;
    case 'POST /v1/bookings/{id}/confirm':
    case 'POST /v1/bookings':
      if (body?.clientId !== callerId) fail(`${op.id} acted on a booking of another client for ${callerId}`, res);
      return;
    case 'GET /v1/bookings':
      if (!Array.isArray(body?.data) || !body.data.every(ownBooking)) fail(`the list shows bookings of someone else to ${callerId}`, res);
      return;
    case 'GET /v1/users/me':
      if (body?.id !== callerId) fail(`/users/me of ${callerId} is someone else`, res);
      return;
    case 'PATCH /v1/users/{id}':
      if (body?.id !== callerId) fail(`${callerId} changed user ${String(body?.id)}`, res);
      return;
    case 'DELETE /v1/users/{id}':
      if (params.id !== callerId) fail(`${callerId} deleted user ${params.id}`, res);
      return;
    case 'GET /v1/users/{id}':
      if (body?.id !== callerId && (body?.role !== 'provider' || 'email' in body)) {
        fail(`${callerId} sees private fields of ${String(body?.id)}`, res);
      }
      return;
    default:
      if (op.path.startsWith('/v1/providers/{providerId}/') && params.providerId !== callerId) {
        fail(`${op.id} of provider ${params.providerId} answered ${res.statusCode} to ${callerId}`, res);
      }
  }
}

const INSTANT_FIELDS = new Set(['start', 'end', 'expiresAt', 'createdAt', 'confirmedAt', 'cancelledAt', 'updatedAt']);

/**
 * A few rules of the contract that a schema cannot say, checked on every 2xx:
 * - instants are written in UTC ("Z") unless a timeZone query asks for offsets;
 * - lists hold at most `limit` items (50 by default), are sorted by start where
 *   items have one, and have a nextCursor only when full;
 * - slots are `duration` long, on the 15-minute grid, at least the minimum
 *   notice ahead, sorted; effective windows are sorted, merged, non-empty;
 * - a booking ends after it starts and carries the timestamp of its status.
 */
export function checkContract(
  op: Operation,
  res: LightMyRequestResponse,
  query: URLSearchParams,
  env: { now: number; minNoticeMs: number },
): void {
  if (res.statusCode < 200 || res.statusCode >= 300) return;
  if (!/json/.test(String(res.headers['content-type']))) return;
  const body = JSON.parse(res.body) as any;

  if (!query.has('timeZone')) {
    const walk = (v: unknown, key: string): void => {
      if (Array.isArray(v)) v.forEach((x) => walk(x, key));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
      // (start/end are also local "HH:MM" times in schedules: only instants are judged)
      else if (INSTANT_FIELDS.has(key) && typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !/Z$/.test(v)) {
        fail(`"${key}": "${v}" is not in UTC though no timeZone was asked for`, res);
      }
    };
    walk(body, '');
  }

  const booking = (b: any) => {
    if (!(Date.parse(b.end) > Date.parse(b.start))) fail(`booking ${b.id} does not end after it starts`, res);
    if (b.status === 'confirmed' && !b.confirmedAt) fail(`confirmed booking ${b.id} without confirmedAt`, res);
    if (b.status === 'cancelled' && !b.cancelledAt) fail(`cancelled booking ${b.id} without cancelledAt`, res);
  };
  const sortedBy = (items: any[], what: string) => {
    for (let i = 1; i < items.length; i += 1) {
      if (Date.parse(items[i].start) < Date.parse(items[i - 1].start)) fail(`${what} are not sorted by start`, res);
    }
  };

  if (Array.isArray(body?.data) && 'nextCursor' in body) {
    const raw = query.get('limit');
    const limit = raw !== null && /^\d+$/.test(raw) ? Number(raw) : 50;
    if (body.data.length > limit) fail(`${body.data.length} items for limit ${limit}`, res);
    if (body.nextCursor !== null && body.data.length !== limit) fail('a nextCursor on a page that is not full', res);
    if (body.data.length > 0 && 'start' in body.data[0]) sortedBy(body.data, 'list items');
    if (op.path.startsWith('/v1/bookings')) body.data.forEach(booking);
  }
  if (op.path.startsWith('/v1/bookings') && body?.status !== undefined) booking(body);
  if (op.id === 'POST /v1/bookings' && body.status !== 'held') fail(`a new hold with status ${body.status}`, res);

  if (op.id === 'GET /v1/slots') {
    const durationMs = body.duration * 60_000;
    sortedBy(body.slots, 'slots');
    for (const s of body.slots) {
      const start = Date.parse(s.start);
      if (Date.parse(s.end) - start !== durationMs) fail(`slot ${s.start} is not ${body.duration} minutes`, res);
      if (start % (15 * 60_000) !== 0) fail(`slot ${s.start} is off the 15-minute grid`, res);
      // A minute of slack: "now" here is read after the server's.
      if (start < env.now + env.minNoticeMs - 60_000) fail(`slot ${s.start} is less than the minimum notice ahead`, res);
    }
  }
  if (op.id === 'GET /v1/providers/{providerId}/availability') {
    const w = body.windows as { start: string; end: string }[];
    for (let i = 0; i < w.length; i += 1) {
      if (!(Date.parse(w[i]!.end) > Date.parse(w[i]!.start))) fail(`empty window ${JSON.stringify(w[i])}`, res);
      if (i > 0 && !(Date.parse(w[i]!.start) > Date.parse(w[i - 1]!.end))) fail('windows are not sorted and merged', res);
    }
  }
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Idempotency-Key: a replayed answer (Idempotent-Replayed: true) must be the
 * first answer to the same caller, key, method, path and body, status and
 * bytes. The ledger remembers the first answer of each.
 */
export class IdempotencyLedger {
  private readonly first = new Map<string, { status: number; body: string }>();

  check(
    callerId: string | null,
    method: string,
    url: string,
    headers: Record<string, unknown>,
    payload: string | undefined,
    res: LightMyRequestResponse,
  ): void {
    const key = headers['idempotency-key'];
    if (method !== 'POST' || callerId === null || typeof key !== 'string') return;
    let body: unknown = {};
    if (payload !== undefined && payload.trim() !== '') {
      try {
        body = JSON.parse(payload);
      } catch {
        return; // never reaches the idempotency layer
      }
    }
    let canonical: string;
    try {
      canonical = canonicalJson(body);
    } catch {
      return; // nested deeper than this stack: not comparable here
    }
    const id = `${callerId}\n${key}\n${method} ${url.split('?')[0]}\n${canonical}`;
    const seen = this.first.get(id);
    if (res.headers['idempotent-replayed'] === 'true') {
      if (seen && (seen.status !== res.statusCode || seen.body !== res.body)) {
        fail(`a replay that differs from the first answer (${seen.status} ${seen.body.slice(0, 300)})`, res);
      }
      return;
    }
    if (!seen && res.statusCode < 500) this.first.set(id, { status: res.statusCode, body: res.body });
  }
}
