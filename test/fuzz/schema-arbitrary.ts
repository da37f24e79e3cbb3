/**
 * A small JSON Schema -> fast-check converter, for what the booking API's
 * OpenAPI document uses: object / array / string (format, a few known
 * patterns, length) / integer / number (range, multipleOf) / boolean / null /
 * anyOf / oneOf / allOf (objects) / const / enum.
 *
 * `validArb` draws values the schema accepts (ajv is the judge: leaves are
 * filtered through it), with "interesting" values mixed in by field name
 * (real ids, slot starts, zones) so that valid requests reach business logic.
 * `invalidArb` draws values that break the schema in one place: a wrong type,
 * a missing required field, an unknown field, out of range, too long, a
 * pattern or format miss.
 */
import fc from 'fast-check';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { Schema } from './openapi.js';

const addFormats = ajvFormats as unknown as typeof ajvFormats.default;

export function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  return ajv;
}

const ajv = newAjv();
const compiled = new WeakMap<object, ValidateFunction>();
export function validatorOf(schema: Schema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** Interesting values for a field, by its name and schema (null: none). */
export type Hints = (name: string | undefined, schema: Schema) => readonly unknown[] | null;

const MAX_GENERATED_STRING = 40;

// ---------------------------------------------------------------- leaves

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** RFC 3339 instants in many spellings: Z / z / offsets, fractions, years 0001-9999. */
export const dateTimeArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: Date.now() - 86_400_000 * 30, max: Date.now() + 86_400_000 * 120 }) },
      { weight: 1, arbitrary: fc.integer({ min: Date.UTC(1, 0, 1) + 86_400_000, max: Date.UTC(9999, 11, 30) }) },
    ),
    fc.constantFrom(0, 0, 0, 60, -300, 330, 345, 840, -720, 59),
    fc.constantFrom('', '', '.000', '.5', '.123456789'),
    fc.constantFrom('T', 'T', 'T', 't', ' '),
    fc.boolean(),
  )
  .map(([ms, offsetMin, fraction, sep, lowerZ]) => {
    const wall = new Date(ms + offsetMin * 60_000);
    const date = `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}`;
    const time = `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}${fraction}`;
    const sign = offsetMin < 0 ? '-' : '+';
    const abs = Math.abs(offsetMin);
    const zone = offsetMin === 0 ? (lowerZ ? 'z' : 'Z') : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
    return `${date}${sep}${time}${zone}`;
  });

export const BAD_DATE_TIMES = [
  '2027-03-01T09:00:00', // no offset
  '2027-03-01',
  '09:00',
  'tomorrow',
  '2027-02-30T10:00:00Z',
  '2027-13-01T10:00:00Z',
  '2027-03-01T24:00:00Z',
  '2027-03-01T09:00:00+25:00',
  '+275760-09-13T00:00:00Z',
  '0000-00-00T00:00:00Z',
  '2027-03-01T09:00:00.Z',
  '1e9',
  '',
];

/** Local dates: mostly real and near, some extreme years, some that match the pattern but are not dates. */
export const localDateArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -30, max: 120 }).map((d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10)) },
  { weight: 1, arbitrary: fc.constantFrom('0001-01-01', '9999-12-31', '2028-02-29', '1970-01-01', '2027-03-28', '2027-10-31') },
  // Matches ^\d{4}-\d{2}-\d{2}$ yet is no date: a 400 from the server, never a 500.
  { weight: 1, arbitrary: fc.constantFrom('2027-02-30', '2027-13-01', '0000-00-00', '2027-04-31', '2027-02-29', '9999-99-99') },
);
export const BAD_LOCAL_DATES = ['2027-3-1', '20270301', '2027/03/01', 'today', '', '2027-03-01T00:00:00Z', '２０２７-03-01'];

/** HH:MM: mostly on the 15-minute grid, some off it, 24:00, and some that match the pattern but are no time. */
export const clockTimeArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45)).map(([h, m]) => `${pad(h)}:${pad(m)}`) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${pad(h)}:${pad(m)}`) },
  { weight: 1, arbitrary: fc.constantFrom('24:00', '00:00', '23:59') },
  { weight: 1, arbitrary: fc.constantFrom('24:30', '25:00', '99:99', '12:60') },
);
export const BAD_CLOCK_TIMES = ['9:00', '09:00:00', '0900', '9am', '', '09-00', '١٢:٠٠'];

/** Values that pass the schema but no business rule: the server must answer them with a 4xx. */
export const SEMANTICALLY_BAD = new Set<unknown>([
  '2027-02-30', '2027-13-01', '0000-00-00', '2027-04-31', '2027-02-29', '9999-99-99',
  '24:30', '25:00', '99:99', '12:60',
  'Mars/Olympus_Mons', 'Europe/Atlantis', '+01:00', 'utc+1', 'Europe/Berlin ',
]);

const KNOWN_PATTERNS: Record<string, fc.Arbitrary<string>> = {
  '^\\d{2}:\\d{2}$': clockTimeArb,
  '^\\d{4}-\\d{2}-\\d{2}$': localDateArb,
};
const BAD_FOR_PATTERN: Record<string, string[]> = {
  '^\\d{2}:\\d{2}$': BAD_CLOCK_TIMES,
  '^\\d{4}-\\d{2}-\\d{2}$': BAD_LOCAL_DATES,
};

/** Text that tends to break things: control characters, U+0000, RTL marks, emoji, SQL and path syntax. */
export const nastyStringArb: fc.Arbitrary<string> = fc.constantFrom(
  '\u0000', 'a\u0000b', "'; DROP TABLE users; --", '../../etc/passwd', '%00', '%ZZ', '\u202e\u0041', '😀'.repeat(3),
  '\ud800', '<script>alert(1)</script>', '${jndi:ldap://x}', ' ', '\t\n', 'null', 'undefined', '__proto__',
  'constructor', '0', '-1', 'NaN', 'Infinity', '[]', '{}', 'é'.normalize('NFD'),
);

function plainStringArb(min: number, max: number): fc.Arbitrary<string> {
  const hi = Math.max(min, Math.min(max, min + MAX_GENERATED_STRING));
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength: min, maxLength: hi }) },
    { weight: 2, arbitrary: fc.string({ minLength: min, maxLength: hi, unit: 'grapheme' }) },
    { weight: 1, arbitrary: fc.string({ minLength: min, maxLength: hi, unit: 'binary' }) },
    { weight: 1, arbitrary: nastyStringArb },
    // exactly at the limit
    { weight: 1, arbitrary: fc.constant(Number.isFinite(max) ? 'x'.repeat(max) : 'x'.repeat(min)) },
  );
}

function stringBase(s: Schema): fc.Arbitrary<string> {
  if (s.format === 'date-time') return dateTimeArb;
  if (s.format === 'date') return localDateArb;
  if (s.format === 'email') return fc.emailAddress();
  if (s.format === 'uri' || s.format === 'url') return fc.webUrl();
  if (typeof s.pattern === 'string') return KNOWN_PATTERNS[s.pattern] ?? fc.stringMatching(new RegExp(s.pattern));
  return plainStringArb(s.minLength ?? 0, s.maxLength ?? Infinity);
}

function integerArb(s: Schema): fc.Arbitrary<number> {
  let min = typeof s.minimum === 'number' ? Math.ceil(s.minimum) : -1_000_000;
  let max = typeof s.maximum === 'number' ? Math.floor(s.maximum) : 1_000_000;
  if (typeof s.exclusiveMinimum === 'number') min = Math.max(min, Math.floor(s.exclusiveMinimum) + 1);
  if (typeof s.exclusiveMaximum === 'number') max = Math.min(max, Math.ceil(s.exclusiveMaximum) - 1);
  const step = typeof s.multipleOf === 'number' && Number.isInteger(s.multipleOf) ? s.multipleOf : 1;
  const lo = Math.ceil(min / step);
  const hi = Math.floor(max / step);
  const edges = [...new Set([lo, hi, Math.min(Math.max(0, lo), hi)])];
  return fc
    .oneof({ weight: 4, arbitrary: fc.integer({ min: lo, max: hi }) }, { weight: 1, arbitrary: fc.constantFrom(...edges) })
    .map((k) => k * step);
}

function numberArb(s: Schema): fc.Arbitrary<number> {
  const min = typeof s.minimum === 'number' ? s.minimum : -1e9;
  const max = typeof s.maximum === 'number' ? s.maximum : 1e9;
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

// ---------------------------------------------------------------- helpers

function typesOf(s: Schema): string[] {
  if (Array.isArray(s.type)) return s.type;
  if (typeof s.type === 'string') return [s.type];
  if (s.properties || s.required || s.additionalProperties !== undefined) return ['object'];
  if (s.items) return ['array'];
  return [];
}

function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Sets an own, enumerable property even for "__proto__" (so JSON.stringify sends it). */
function withKey(obj: unknown, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(obj as Record<string, unknown>) };
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

function withoutKey(obj: unknown, key: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(obj as Record<string, unknown>) };
  delete out[key];
  return out;
}

function mergeAllOf(s: Schema): Schema {
  const parts = [s, ...(s.allOf as Schema[])];
  const merged: Schema = { type: 'object', properties: {}, required: [] };
  for (const p of parts) {
    Object.assign(merged.properties, p.properties ?? {});
    merged.required.push(...(p.required ?? []));
    if (p.additionalProperties === false) merged.additionalProperties = false;
  }
  return merged;
}

// ---------------------------------------------------------------- valid

export function validArb(schema: Schema | boolean, hints: Hints, name?: string): fc.Arbitrary<unknown> {
  if (schema === true || schema === undefined) return fc.jsonValue({ maxDepth: 2 });
  if (schema === false) return fc.constant(undefined);
  const s = schema;
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  if (Array.isArray(s.allOf)) return validArb(mergeAllOf(s), hints, name);
  const branches = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(branches)) return fc.oneof(...branches.map((b) => validArb(b, hints, name)));
  const types = typesOf(s);
  if (s.nullable === true && !types.includes('null')) types.push('null');
  if (types.length === 0) return fc.jsonValue({ maxDepth: 2 });
  if (types.length > 1) return fc.oneof(...types.map((t) => validArb({ ...s, type: t, nullable: false }, hints, name)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number': {
      const base = types[0] === 'integer' ? integerArb(s) : numberArb(s);
      const hinted = hints(name, s);
      if (!hinted || hinted.length === 0) return base;
      const validate = validatorOf(s);
      return fc.oneof({ weight: 1, arbitrary: base }, { weight: 4, arbitrary: fc.constantFrom(...hinted) }).filter((v) => validate(v));
    }
    case 'string': {
      const validate = validatorOf(s);
      const base = stringBase(s);
      const hinted = hints(name, s);
      const arb = hinted && hinted.length > 0
        ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...hinted) }, { weight: 1, arbitrary: base })
        : base;
      // Keep only what the schema accepts (lengths, formats); a few misses are retried by fast-check.
      return arb.filter((v) => validate(v));
    }
    case 'array': {
      const items = (s.items ?? true) as Schema | boolean;
      const minLength = s.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(s.maxItems ?? 4, minLength + 4));
      return fc.array(validArb(items, hints, name), { minLength, maxLength });
    }
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, ps] of Object.entries(props)) record[k] = validArb(ps, hints, k);
      const requiredKeys = ((s.required ?? []) as string[]).filter((k) => k in props);
      const base = fc.record(record, { requiredKeys });
      // Required fields the schema names but does not describe: anything goes.
      const undescribed = ((s.required ?? []) as string[]).filter((k) => !(k in props));
      return undescribed.length === 0
        ? base
        : fc.tuple(base, fc.array(fc.jsonValue({ maxDepth: 1 }), { minLength: undescribed.length, maxLength: undescribed.length }))
          .map(([o, vs]) => undescribed.reduce((acc, k, i) => withKey(acc, k, vs[i]), o as Record<string, unknown>));
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

// ---------------------------------------------------------------- invalid

const ANY_JSON_LEAF = [null, true, false, 0, -1, 1.5, 1e308, '', 'x', '15', 'true', [], {}, [1, 'a'], { a: 1 }];

function wrongTypeArb(s: Schema): fc.Arbitrary<unknown> | null {
  const types = typesOf(s);
  if (types.length === 0) return null;
  const wrong = ANY_JSON_LEAF.filter((v) => {
    const t = jsonTypeOf(v);
    return !(types.includes(t) || (t === 'integer' && types.includes('number')));
  });
  return wrong.length > 0 ? fc.constantFrom(...wrong) : null;
}

/**
 * Values that break the schema in one place. Not every draw is guaranteed to
 * be invalid (a "too long" string for a field without maxLength is still
 * fine): callers that need certainty ask validatorOf(schema).
 */
export function invalidArb(schema: Schema | boolean, hints: Hints, name?: string): fc.Arbitrary<unknown> {
  if (typeof schema === 'boolean') return fc.constantFrom(...ANY_JSON_LEAF);
  const s = schema;
  const out: fc.Arbitrary<unknown>[] = [];
  const wrongType = wrongTypeArb(s);
  if (wrongType) out.push(wrongType);
  if ('const' in s || Array.isArray(s.enum)) {
    const allowed = 'const' in s ? [s.const] : (s.enum as unknown[]);
    out.push(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('HELD', 'Monday', ' held', 'held ', 'unknown')).filter((v) => !allowed.includes(v)));
  }
  if (Array.isArray(s.allOf)) return invalidArb(mergeAllOf(s), hints, name);
  const branches = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(branches)) {
    const validate = validatorOf(s);
    return fc.oneof(...branches.map((b) => invalidArb(b, hints, name)), fc.constantFrom(...ANY_JSON_LEAF)).filter((v) => !validate(v));
  }
  const types = typesOf(s);
  if (types.includes('string')) {
    if (typeof s.maxLength === 'number') {
      out.push(fc.integer({ min: s.maxLength + 1, max: s.maxLength + 50 }).map((n) => 'x'.repeat(n)));
      out.push(fc.constant('é'.repeat(s.maxLength + 1)));
    }
    if (typeof s.minLength === 'number' && s.minLength > 0) out.push(fc.constant('x'.repeat(s.minLength - 1)));
    if (s.format === 'date-time') out.push(fc.constantFrom(...BAD_DATE_TIMES));
    if (s.format === 'email') out.push(fc.constantFrom('not-an-email', '@', 'a@', 'a@b@c', 'a b@example.test', ''));
    if (typeof s.pattern === 'string') {
      out.push(fc.constantFrom(...(BAD_FOR_PATTERN[s.pattern] ?? ['', '\u0000', 'no match here'])));
    }
  }
  if (types.includes('integer') || types.includes('number')) {
    const bad: unknown[] = [1e308, -1e308, '15', 'NaN'];
    if (types.includes('integer')) bad.push(15.5, 0.1);
    if (typeof s.minimum === 'number') bad.push(s.minimum - 1, s.minimum - 0.5);
    if (typeof s.maximum === 'number') bad.push(s.maximum + 1, s.maximum + 15);
    if (typeof s.multipleOf === 'number') bad.push((s.minimum ?? 0) + s.multipleOf + 1);
    out.push(fc.constantFrom(...bad));
  }
  if (types.includes('array')) {
    const items = (s.items ?? true) as Schema | boolean;
    if (typeof s.maxItems === 'number') {
      out.push(fc.integer({ min: s.maxItems + 1, max: s.maxItems + 3 }).chain((n) => fc.array(validArb(items, hints, name), { minLength: n, maxLength: n })));
    }
    if (typeof items === 'object') {
      out.push(fc.tuple(validArb(s, hints, name), invalidArb(items, hints, name), fc.nat()).map(([arr, bad, i]) => {
        const a = [...(arr as unknown[])];
        a.splice(i % (a.length + 1), 0, bad);
        return a;
      }));
    }
  }
  if (types.includes('object')) {
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const required = ((s.required ?? []) as string[]);
    const valid = validArb(s, hints, name);
    if (required.length > 0) {
      out.push(fc.tuple(valid, fc.constantFrom(...required)).map(([o, k]) => withoutKey(o, k)));
    }
    if (s.additionalProperties === false) {
      out.push(
        fc.tuple(valid, fc.constantFrom('extra', 'clientId ', 'ProviderId', '__proto__', 'constructor', 'status', 'id', 'x'.repeat(300)), fc.jsonValue({ maxDepth: 1 }))
          .filter(([, k]) => !(k in props))
          .map(([o, k, v]) => withKey(o, k, v)),
      );
    }
    const keys = Object.keys(props);
    if (keys.length > 0) {
      out.push(
        fc.constantFrom(...keys).chain((k) =>
          fc.tuple(valid, invalidArb(props[k]!, hints, k)).map(([o, bad]) => withKey(o, k, bad))),
      );
    }
  }
  if (out.length === 0) out.push(fc.constantFrom(...ANY_JSON_LEAF));
  return fc.oneof(...out);
}
