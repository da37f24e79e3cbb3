import { Ajv, type ErrorObject } from 'ajv';
import ajvFormats from 'ajv-formats';

/**
 * Bodies are validated strictly (a "5" is not a number, unknown fields are
 * errors); query strings and path parameters are text by nature, so numbers
 * there are coerced from their string form.
 */
// ajv-formats is CommonJS with a default export; under NodeNext its callable is `.default`.
const addFormats = ajvFormats as unknown as typeof ajvFormats.default;

// Ajv coerces any text that JavaScript reads as the same number ("0x10", "1e1", " 16"); a query number is decimal digits.
const DECIMAL = { integer: /^-?\d{1,15}$/, number: /^-?\d{1,15}(\.\d{1,15})?$/ } as const;

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** Wraps a coercing validator so the numeric top-level properties of a query or path must be written in decimal. */
function decimalNumbersOnly(schema: object, validate: Validate): Validate {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  const numeric = Object.entries(properties)
    .filter(([, p]) => p.type === 'integer' || p.type === 'number')
    .map(([name, p]) => [name, DECIMAL[p.type as 'integer' | 'number']] as const);
  if (numeric.length === 0) return validate;
  const wrapped: Validate = (data) => {
    for (const [name, pattern] of numeric) {
      const value = (data as Record<string, unknown> | null)?.[name];
      if (typeof value === 'string' && !pattern.test(value)) {
        wrapped.errors = [{ instancePath: `/${name}`, schemaPath: `#/properties/${name}/type`, keyword: 'type', params: {}, message: 'must be a number written in decimal digits' }];
        return false;
      }
    }
    const valid = validate(data);
    wrapped.errors = validate.errors;
    return valid;
  };
  return wrapped;
}

// verbose: each error carries its schema, so the messages can name allowed values (validation-messages.ts).
const ajvOptions = { allErrors: true, verbose: true, removeAdditional: false, useDefaults: true, strict: false } as const;

/** Query strings and path parameters: coerced ('array': a parameter given once, status=held, is a one-item list where the schema wants a list). */
function coercingAjv(): Ajv {
  const coercing = new Ajv({ ...ajvOptions, coerceTypes: 'array' });
  addFormats(coercing);
  return coercing;
}

/** The validator a route gets for this query schema, for a request answered outside Fastify (fast-slot-reads.ts). */
export function compileQueryValidator(schema: object): Validate {
  return decimalNumbersOnly(schema, coercingAjv().compile(schema));
}

export function validatorCompilers() {
  const strict = new Ajv({ ...ajvOptions, coerceTypes: false });
  addFormats(strict);
  const coercing = coercingAjv();
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    httpPart === 'body' ? strict.compile(schema) : decimalNumbersOnly(schema, coercing.compile(schema));
}

