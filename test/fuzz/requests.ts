/**
 * Generated requests for one OpenAPI operation: who sends it and how, path
 * parameters, query, headers and body, each valid or broken. Values that only
 * exist while the run goes on (ids and cursors from earlier answers, ETags)
 * are drawn as indexes and resolved when the request is sent.
 */
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import type { Operation, Schema } from './openapi.js';
import { BAD_LOCAL_DATES, invalidArb, localDateArb, SEMANTICALLY_BAD, validArb, validatorOf, type Hints } from './schema-arbitrary.js';
import type { ActorName, World } from './world.js';

export type HarvestPool = 'ids' | 'cursors' | 'etags';
export interface HarvestRef {
  harvest: HarvestPool;
  i: number;
}
type Text = string | HarvestRef;

export type PathValue =
  | { pool: 'ids' | 'providerIds' | 'bookingIds' | 'dates'; i: number }
  | HarvestRef
  | { self: true } // the id of the user sending the request
  | { value: string } // percent-encoded when sent
  | { raw: string }; // sent as is: '%ZZ', '%00', '..'

export type BodySpec =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown; contentType: string }
  | { kind: 'text'; text: string; contentType: string | null; why: string };

export interface FuzzRequest {
  method: string;
  actor: ActorName;
  auth: 'header' | 'query' | { badHeader: string };
  garbageKey: string;
  path: Record<string, PathValue>;
  query: [string, Text][];
  headers: Record<string, Text>;
  body: BodySpec;
}

/** Values seen in answers so far: they make later requests hit real rows. */
export class Harvest {
  readonly pools: Record<HarvestPool, string[]> = { ids: [], cursors: [], etags: [] };
  private readonly seen = new Set<string>();

  add(pool: HarvestPool, value: unknown): void {
    if (typeof value !== 'string' || value === '' || this.seen.has(`${pool}:${value}`)) return;
    this.seen.add(`${pool}:${value}`);
    const list = this.pools[pool];
    list.push(value);
    if (list.length > 200) list.shift();
  }

  /** Ids, cursors anywhere in a JSON answer. */
  collect(body: unknown): void {
    if (Array.isArray(body)) {
      for (const item of body) this.collect(item);
    } else if (body && typeof body === 'object') {
      for (const [k, v] of Object.entries(body)) {
        if (k === 'id') this.add('ids', v);
        else if (k === 'nextCursor') this.add('cursors', v);
        else if (typeof v === 'object') this.collect(v);
      }
    }
  }

  resolve(ref: HarvestRef, fallback: string): string {
    const list = this.pools[ref.harvest];
    return list.length === 0 ? fallback : list[ref.i % list.length]!;
  }
}

const isRef = (v: unknown): v is HarvestRef => typeof v === 'object' && v !== null && 'harvest' in v;

// ---------------------------------------------------------------- generation

const DAY = 86_400_000;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isoInstant = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Field values drawn one by one rarely agree with each other. Make some valid
 * draws coherent, so they get past the checks between fields and reach the
 * business rules: `from` before `to` and at most a few weeks apart, `start`
 * before `end`, a hold's `start` on a free slot of its `providerId`.
 */
export function cohere(value: Record<string, unknown>, world: World, [a, b, c]: readonly [number, number, number]): Record<string, unknown> {
  const out = { ...value };
  const now = Date.now();
  if (typeof out.from === 'string' && typeof out.to === 'string' && a % 10 < 7) {
    const instants = out.from.includes(':') || out.to.includes(':');
    const from = now + ((b % 60) - 5) * DAY + (c % 24) * 3600_000;
    const to = from + (c % 21) * DAY + (b % 4) * 3600_000;
    if (instants) [out.from, out.to] = [isoInstant(from), isoInstant(to)];
    else if (a % 3 === 0) [out.from, out.to] = [isoDate(from), isoInstant(to)];
    else [out.from, out.to] = [isoDate(from), isoDate(to)];
  }
  const slots = typeof out.providerId === 'string' ? world.pools.slotsByProvider[out.providerId] : undefined;
  if (slots && slots.length > 0 && typeof out.start === 'string' && out.start.includes(':') && a % 10 < 8) {
    out.start = slots[b % slots.length];
  }
  // clientId is for administrators (a 403 for anyone else); long holds rarely fit the working day.
  if ('clientId' in out && a % 4 !== 0) delete out.clientId;
  if (typeof out.duration === 'number' && out.duration > 120 && b % 3 !== 0) out.duration = 15 * (1 + (c % 4));
  if (typeof out.start === 'string' && typeof out.end === 'string' && out.start.length > 5 && Date.parse(out.start) > Date.parse(out.end)) {
    [out.start, out.end] = [out.end, out.start];
  }
  return out;
}

const cohereDraw = fc.tuple(fc.nat(), fc.nat(), fc.nat());

function coherentArb(arb: fc.Arbitrary<unknown>, world: World): fc.Arbitrary<unknown> {
  return fc.tuple(arb, cohereDraw).map(([v, r]) =>
    (v !== null && typeof v === 'object' && !Array.isArray(v) ? cohere(v as Record<string, unknown>, world, r) : v));
}

const harvestArb = (pool: HarvestPool) => fc.nat().map((i): HarvestRef => ({ harvest: pool, i }));

const RAW_SEGMENTS = ['%ZZ', '%00', '%', '..', '.', '%2e%2e', '%2F', 'a%2Fb', '%E0%A4%A', '%C0%AF', '%u0041', '~', '*', 'me'];

const GARBAGE_KEYS = fc.oneof(
  fc.constantFrom('bk_nope', 'x', 'null', 'Bearer', 'bk_' + 'A'.repeat(43), 'k'.repeat(5000), "' OR 1=1 --"),
  fc.stringMatching(/^[!-~]{1,80}$/),
);

const BAD_AUTH_HEADERS = ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Token abc', 'Bearer a b', 'bearer', 'Bearer\tx', 'Digest x'];

function pathParamArb(op: Operation, name: string, schema: Schema, hints: Hints): fc.Arbitrary<PathValue> {
  const anyValid = validArb(schema, hints, name).map((v): PathValue => ({ value: String(v) }));
  const anyInvalid = invalidArb(schema, hints, name)
    .filter((v) => typeof v === 'string' || typeof v === 'number')
    .map((v): PathValue => ({ value: String(v) }));
  const raw = fc.constantFrom(...RAW_SEGMENTS).map((r): PathValue => ({ raw: r }));
  const random = fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ minLength: 1, maxLength: 30, unit: 'binary' }), fc.constantFrom('x'.repeat(65), 'x'.repeat(201), 'x'.repeat(2000)))
    .map((v): PathValue => ({ value: v }));
  if (name === 'date') {
    return fc.oneof(
      { weight: 4, arbitrary: fc.nat().map((i): PathValue => ({ pool: 'dates', i })) },
      { weight: 3, arbitrary: localDateArb.map((v): PathValue => ({ value: v })) },
      { weight: 1, arbitrary: fc.constantFrom(...BAD_LOCAL_DATES.filter((d) => d !== '')).map((v): PathValue => ({ value: v })) },
      { weight: 1, arbitrary: raw },
    );
  }
  const pool = name === 'providerId' ? 'providerIds' : op.path.includes('/bookings/') ? 'bookingIds' : 'ids';
  const selfWeight = name === 'providerId' || op.path.startsWith('/v1/users/') ? 4 : 0;
  return fc.oneof(
    ...(selfWeight > 0 ? [{ weight: selfWeight, arbitrary: fc.constant<PathValue>({ self: true }) }] : []),
    { weight: 5, arbitrary: fc.nat().map((i): PathValue => ({ pool, i })) },
    { weight: 2, arbitrary: fc.nat().map((i): PathValue => ({ pool: 'ids', i })) },
    { weight: 2, arbitrary: harvestArb('ids') },
    { weight: 2, arbitrary: anyValid },
    { weight: 1, arbitrary: anyInvalid },
    { weight: 1, arbitrary: random },
    { weight: 1, arbitrary: raw },
  );
}

function queryArb(op: Operation, hints: Hints, world: World): fc.Arbitrary<[string, Text][]> {
  const params = op.parameters.filter((p) => p.in === 'query');
  if (params.length === 0) {
    return fc.oneof(
      { weight: 6, arbitrary: fc.constant<[string, Text][]>([]) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom('foo', 'limit', 'from', '__proto__'), fc.string({ maxLength: 10 })).map((kv): [string, Text][] => [kv]) },
    );
  }
  const valueArb = (name: string, schema: Schema): fc.Arbitrary<Text> => {
    const base = validArb(schema, hints, name).map((v) => String(v));
    return name === 'cursor' ? fc.oneof(harvestArb('cursors'), base) : base;
  };
  const validQuery = fc.tuple(
    cohereDraw,
    ...params.map((p) => (p.required ? valueArb(p.name, p.schema).map((v) => [v]) : fc.option(valueArb(p.name, p.schema), { nil: undefined }).map((v) => (v === undefined ? [] : [v])))),
  ).map(([r, ...vals]) => {
    const pairs = params.flatMap((p, i) => (vals[i] as Text[]).map((v): [string, Text] => [p.name, v]));
    const plain = Object.fromEntries(pairs.filter(([, v]) => typeof v === 'string'));
    const fixed = cohere(plain, world, r);
    return pairs.map(([k, v]): [string, Text] => [k, typeof v === 'string' ? (fixed[k] as string) : v]);
  });

  const broken = fc.oneof(
    // one parameter of a wrong type or out of range
    fc.tuple(validQuery, fc.constantFrom(...params)).chain(([q, p]) =>
      invalidArb(p.schema, hints, p.name)
        .filter((v) => v !== null && typeof v !== 'object')
        .map((bad): [string, Text][] => [...q.filter(([k]) => k !== p.name), [p.name, String(bad)]])),
    // a required parameter missing
    ...(params.some((p) => p.required)
      ? [fc.tuple(validQuery, fc.constantFrom(...params.filter((p) => p.required))).map(([q, p]) => q.filter(([k]) => k !== p.name))]
      : []),
    // a parameter twice (arrives as an array)
    fc.tuple(validQuery, fc.constantFrom(...params), fc.string({ maxLength: 10 })).map(([q, p, v]): [string, Text][] => [...q, [p.name, v], [p.name, v]]),
    // an unknown parameter, an empty one, a huge one
    fc.tuple(validQuery, fc.constantFrom('unknown', 'from[]', 'limit[0]', 'toString', '')).map(([q, k]): [string, Text][] => [...q, [k, 'x']]),
    fc.tuple(validQuery, fc.constantFrom(...params)).map(([q, p]): [string, Text][] => [...q.filter(([k]) => k !== p.name), [p.name, '']]),
    fc.tuple(validQuery, fc.constantFrom(...params)).map(([q, p]): [string, Text][] => [...q.filter(([k]) => k !== p.name), [p.name, '9'.repeat(8000)]]),
  );
  return fc.oneof({ weight: 6, arbitrary: validQuery }, { weight: 3, arbitrary: broken });
}

const MALFORMED_JSON = [
  '{', '{"a":', '[1,]', 'nul', '{"providerId": "x",}', "{'a': 1}", '{"a":1}{"b":2}', '\ufeff{}', '"a string"', '123', 'null',
  '[]', 'true', '{"a":"\\ud800"}', '{"a":1e999}', '{"__proto__":{"admin":true}}', '\u0000', '{"a":"\u0000"}', 'NaN', '{a:1}',
];

const WRONG_CONTENT_TYPES = [
  'text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x',
  'application/jsonx', 'application/octet-stream', 'text/json', 'json', '*/*', '',
];

/** Bodies that stress the parser and whatever walks the parsed value (hashing, validation). */
const oddBodyArb: fc.Arbitrary<BodySpec> = fc.constantFrom(
  { text: `{"notes":"${'x'.repeat(70_000)}"}`, why: 'body over 64 KiB' },
  { text: `${'['.repeat(20_000)}${']'.repeat(20_000)}`, why: 'deeply nested JSON' },
  { text: `${'{"a":'.repeat(6_000)}1${'}'.repeat(6_000)}`, why: 'deeply nested objects' },
  { text: `{"reason":${'['.repeat(3_000)}${']'.repeat(3_000)}}`, why: 'deeply nested field' },
  { text: `{${Array.from({ length: 3000 }, (_, i) => `"k${i}":${i}`).join(',')}}`, why: 'thousands of fields' },
  { text: JSON.stringify({ name: 'x'.repeat(60_000) }), why: 'huge string under the body limit' },
).map(({ text, why }): BodySpec => ({ kind: 'text', text, contentType: 'application/json', why }));

function bodyArb(op: Operation, hints: Hints, world: World): fc.Arbitrary<BodySpec> {
  const b = op.body;
  if (!b) {
    return fc.oneof(
      { weight: 12, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v): BodySpec => ({ kind: 'json', value: v, contentType: 'application/json' })) },
      { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_JSON).map((t): BodySpec => ({ kind: 'text', text: t, contentType: 'application/json', why: 'malformed JSON on a bodyless route' })) },
      { weight: 1, arbitrary: oddBodyArb },
    );
  }
  const json = (v: unknown, contentType = 'application/json'): BodySpec => ({ kind: 'json', value: v, contentType });
  const valid = coherentArb(validArb(b.schema, hints), world);
  return fc.oneof(
    { weight: 10, arbitrary: valid.map((v) => json(v)) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.constantFrom('application/json; charset=utf-8', 'Application/JSON', 'application/merge-patch+json', 'application/json; charset=utf-16', 'application/json;;')).map(([v, ct]) => json(v, ct)) },
    { weight: 6, arbitrary: invalidArb(b.schema, hints).map((v) => json(v)) },
    { weight: 1, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_JSON).map((t): BodySpec => ({ kind: 'text', text: t, contentType: 'application/json', why: 'malformed JSON' })) },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.constantFrom<string | null>(...WRONG_CONTENT_TYPES, null)).map(([v, ct]): BodySpec => ({
        kind: 'text', text: JSON.stringify(v), contentType: ct, why: 'wrong content type',
      })),
    },
    { weight: 1, arbitrary: oddBodyArb },
  );
}

function headersArb(op: Operation): fc.Arbitrary<Record<string, Text>> {
  const idem = op.parameters.find((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
  const idemArb = idem
    ? fc.option(
      fc.oneof(
        { weight: 4, arbitrary: fc.stringMatching(/^[!-~]{1,40}$/) },
        { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a b', 'k'.repeat(256), 'k'.repeat(255), 'fixed-key-1', 'fixed-key-1') },
      ),
      { nil: undefined, freq: 2 },
    )
    : fc.constant(undefined);
  const etagArb = op.method === 'GET'
    ? fc.option(fc.oneof(harvestArb('etags'), fc.constantFrom('*', 'W/"nope"', '"a", "b"', '')), { nil: undefined, freq: 3 })
    : fc.constant(undefined);
  const acceptArb = fc.option(fc.constantFrom('text/html', 'application/xml', '*/*', 'application/problem+json'), { nil: undefined, freq: 4 });
  return fc.tuple(idemArb, etagArb, acceptArb).map(([k, etag, accept]) => ({
    ...(k !== undefined ? { 'idempotency-key': k } : {}),
    ...(etag !== undefined ? { 'if-none-match': etag } : {}),
    ...(accept !== undefined ? { accept } : {}),
  }));
}

export function requestArb(op: Operation, hints: Hints, world: World): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const otherMethods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter((m) => !op.pathMethods.includes(m));
  return fc.record({
    method: otherMethods.length > 0
      ? fc.oneof({ weight: 30, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constantFrom(...otherMethods) })
      : fc.constant(op.method),
    actor: fc.oneof(
      { weight: 1, arbitrary: fc.constant<ActorName>('none') },
      { weight: 1, arbitrary: fc.constant<ActorName>('garbage') },
      { weight: 3, arbitrary: fc.constant<ActorName>('client') },
      { weight: 3, arbitrary: fc.constant<ActorName>('provider') },
      { weight: 2, arbitrary: fc.constant<ActorName>('throwawayClient') },
      { weight: 2, arbitrary: fc.constant<ActorName>('throwawayProvider') },
    ),
    auth: fc.oneof(
      { weight: 8, arbitrary: fc.constant<FuzzRequest['auth']>('header') },
      { weight: 2, arbitrary: fc.constant<FuzzRequest['auth']>('query') },
      { weight: 1, arbitrary: fc.constantFrom(...BAD_AUTH_HEADERS).map((h): FuzzRequest['auth'] => ({ badHeader: h })) },
    ),
    garbageKey: GARBAGE_KEYS,
    path: pathParams.length === 0
      ? fc.constant({})
      : fc.record(Object.fromEntries(pathParams.map((p) => [p.name, pathParamArb(op, p.name, p.schema, hints)]))) as fc.Arbitrary<Record<string, PathValue>>,
    query: queryArb(op, hints, world),
    headers: headersArb(op),
    body: bodyArb(op, hints, world),
  });
}

// ---------------------------------------------------------------- sending

/** Percent-encodes every byte outside the unreserved set (lone surrogates become U+FFFD). */
function encodeSegment(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export interface Prepared {
  inject: InjectOptions;
  /** What was actually sent, for failure messages. */
  describe: string;
  actor: ActorName;
  /** Path parameters as sent (after retargeting), decoded. */
  params: Record<string, string>;
  /** True when the request is known to be bad input (so it must change nothing). */
  knownBad: boolean;
  retargeted: boolean;
}

const MUTATING = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

/**
 * Is this request bad input for sure? Schema-invalid bodies (ajv decides),
 * malformed or non-JSON bodies, values that pass the schema but no business
 * rule (an impossible date, an unknown zone), a bad Idempotency-Key.
 */
function isKnownBad(op: Operation, body: BodySpec, pathValues: string[], headers: Record<string, string>): boolean {
  const key = headers['idempotency-key'];
  if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key)) return true;
  if (pathValues.some((v) => SEMANTICALLY_BAD.has(v))) return true;
  if (!op.body) return false;
  if (body.kind === 'text') return true;
  const value = body.kind === 'json' ? body.value : {};
  if (!validatorOf(op.body.schema)(value)) return true;
  // Only where such values mean something: a "25:00" in free text (notes, reason) is fine.
  const judged = new Set(['timeZone', 'date', 'start', 'end']);
  const containsBad = (v: unknown): boolean =>
    typeof v === 'object' && v !== null &&
    Object.entries(v).some(([k, x]) => (judged.has(k) && SEMANTICALLY_BAD.has(x)) || containsBad(x));
  return containsBad(value);
}

export function prepare(op: Operation, req: FuzzRequest, world: World, harvest: Harvest): Prepared {
  const text = (t: Text, fallback: string) => (isRef(t) ? harvest.resolve(t, fallback) : t);
  const pathValues: Record<string, { text: string; raw: boolean }> = {};
  for (const [name, pv] of Object.entries(req.path)) {
    if ('pool' in pv) {
      const list = world.pools[pv.pool];
      pathValues[name] = { text: list[pv.i % list.length]!, raw: false };
    } else if ('harvest' in pv) pathValues[name] = { text: harvest.resolve(pv, 'no-such-id'), raw: false };
    else if ('self' in pv) {
      pathValues[name] = { text: req.actor === 'none' || req.actor === 'garbage' ? world.pools.ids[0]! : world.actors[req.actor].id, raw: false };
    }
    else if ('value' in pv) pathValues[name] = { text: pv.value, raw: false };
    else pathValues[name] = { text: pv.raw, raw: true };
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = text(v, '"no-etag-yet"');

  let actor = req.actor;
  let retargeted = false;
  const knownBad = isKnownBad(op, req.body, Object.values(pathValues).map((v) => v.text), headers);
  // P and C may legitimately change their own data. Unless the request is bad
  // input, send their mutations of protected rows to the throwaway pair instead
  // (Q and T, with the same kinds of rows), so the protected rows must survive.
  if (MUTATING.has(req.method) && (actor === 'provider' || actor === 'client') && !knownBad) {
    const touches = Object.values(pathValues).some((v) => world.counterpart.has(v.text));
    if (touches) {
      actor = actor === 'provider' ? 'throwawayProvider' : 'throwawayClient';
      for (const v of Object.values(pathValues)) v.text = world.counterpart.get(v.text) ?? v.text;
      retargeted = true;
    }
  }
  // The fuzzer must not revoke the keys it sends.
  if (req.method === 'DELETE' && op.path.startsWith('/v1/api-keys/')) {
    const v = pathValues.id;
    if (v && world.actorKeyIds.has(v.text)) v.text = `key_not_${v.text}`;
  }

  let url = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = pathValues[name];
    return v ? (v.raw ? v.text : encodeSegment(v.text)) : '';
  });
  const query: [string, string][] = req.query.map(([k, v]) => [k, text(v, 'bm8tY3Vyc29y')]);

  const key = actor === 'none' ? null : actor === 'garbage' ? req.garbageKey : world.actors[actor].key;
  if (key !== null) {
    if (req.auth === 'query') query.push(['apiKey', key]);
    else if (req.auth === 'header') headers.authorization = `Bearer ${key}`;
    else headers.authorization = req.auth.badHeader;
  }
  if (query.length > 0) url += `?${new URLSearchParams(query).toString()}`;

  let payload: string | undefined;
  if (req.body.kind === 'json') {
    payload = JSON.stringify(req.body.value) ?? 'null';
    headers['content-type'] = req.body.contentType;
  } else if (req.body.kind === 'text') {
    payload = req.body.text;
    if (req.body.contentType !== null) headers['content-type'] = req.body.contentType;
  }
  const shownHeaders = Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, v.length > 120 ? `${v.slice(0, 120)}…(${v.length})` : v]),
  );
  const shownBody = payload === undefined ? '' : ` body=${payload.length > 300 ? `${payload.slice(0, 300)}…(${payload.length} chars)` : payload}`;
  return {
    inject: { method: req.method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) },
    describe: `${req.method} ${url.length > 300 ? `${url.slice(0, 300)}…` : url} as ${actor}${retargeted ? ' (retargeted)' : ''} headers=${JSON.stringify(shownHeaders)}${shownBody}`,
    actor,
    params: Object.fromEntries(Object.entries(pathValues).map(([k, v]) => [k, v.raw ? safeDecode(v.text) : v.text])),
    knownBad,
    retargeted,
  };
}
