import type { ErrorObject } from 'ajv';

/**
 * Ajv's messages in words a client can act on: the allowed values of an
 * enum or a union of constants ("must be one of provider, client"), the
 * described form of a pattern instead of the regular expression, the name of a
 * format. Needs Ajv's `verbose` option (the failing schema on each error).
 *
 *   { instancePath: '/role', keyword: 'anyOf', schema: [{ const: 'provider' }, { const: 'client' }], ... }
 *   + the two 'const' and two 'type' errors of its branches
 *   -> { instancePath: '/role', message: 'must be one of provider, client' }
 */
const FORMATS: Record<string, string> = {
  email: 'an email address',
  'date-time': 'an RFC 3339 date-time with an offset, e.g. 2027-03-01T09:00:00Z',
  date: 'a date YYYY-MM-DD',
  uri: 'an absolute URI',
};

type Schema = { const?: unknown; description?: string; examples?: unknown[] };

const constantsOf = (branches: unknown): unknown[] | null =>
  Array.isArray(branches) && branches.length > 0 && branches.every((b: Schema) => b !== null && typeof b === 'object' && 'const' in b)
    ? branches.map((b: Schema) => b.const)
    : null;

const oneOf = (values: unknown[]) => `must be one of ${values.map(String).join(', ')}`;

export function readableErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  // A union of constants fails as one anyOf error plus errors under each branch: keep one, with the values.
  const unions = errors.filter((e) => e.keyword === 'anyOf' && constantsOf(e.schema) !== null);
  const inUnion = (e: ErrorObject) =>
    unions.some((u) => u !== e && e.instancePath === u.instancePath && e.schemaPath.startsWith(`${u.schemaPath}/`));
  return errors.filter((e) => !inUnion(e)).map((e) => {
    const parent = (e.parentSchema ?? {}) as Schema;
    switch (e.keyword) {
      case 'anyOf': {
        const values = constantsOf(e.schema);
        return values ? { ...e, message: oneOf(values) } : e;
      }
      case 'enum':
        return { ...e, message: oneOf((e.params as { allowedValues: unknown[] }).allowedValues) };
      case 'const':
        return { ...e, message: `must be ${String((e.params as { allowedValue: unknown }).allowedValue)}` };
      case 'pattern': {
        const example = parent.examples?.[0];
        const form = parent.description ?? (example !== undefined ? `like ${String(example)}` : null);
        return { ...e, message: form ? `is not in the expected form: ${form}` : 'is not in the expected form' };
      }
      case 'format': {
        const format = String((e.params as { format: string }).format);
        return { ...e, message: `must be ${FORMATS[format] ?? `a valid ${format}`}` };
      }
      default:
        return e;
    }
  });
}
