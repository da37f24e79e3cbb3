import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { compileOnFirstUse, serializersOnFirstUse } from '../../src/http/compile-on-first-use.js';

describe('compileOnFirstUse', () => {
  const ajv = new Ajv({ allErrors: true });
  const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };

  function counting() {
    const compiled: object[] = [];
    const compiler = compileOnFirstUse(({ schema: s }: { schema: object }) => {
      compiled.push(s);
      return ajv.compile(s);
    });
    return { compiled, compiler };
  }

  it('compiles nothing when Fastify asks for the validator, once on the first validation', () => {
    const { compiled, compiler } = counting();
    const validate = compiler({ schema });
    expect(compiled).toEqual([]);
    expect(validate({ n: 1 })).toBe(true);
    expect(validate({ n: 2 })).toBe(true);
    expect(compiled).toEqual([schema]);
  });

  it('gives the same verdicts and errors as the compiled validator, cleared after a valid call', () => {
    const validate = counting().compiler({ schema });
    expect(validate({ n: 'x' })).toBe(false);
    expect(validate.errors).toEqual([expect.objectContaining({ instancePath: '/n', keyword: 'type' })]);
    expect(validate({})).toBe(false);
    expect(validate.errors).toEqual([expect.objectContaining({ keyword: 'required' })]);
    expect(validate({ n: 3 })).toBe(true);
    expect(validate.errors).toBeNull();
  });
});

describe('serializersOnFirstUse', () => {
  const route = { method: 'GET', url: '/x', httpStatus: '200', schema: { type: 'object', properties: { n: { type: 'integer' } } } };

  it('builds a serializer on its first answer, once, and writes what the eager one writes', () => {
    const built: unknown[] = [];
    const eager = SerializerSelector()();
    const compiler = serializersOnFirstUse(() => (r) => {
      built.push(r);
      return eager(r);
    })();
    const serialize = compiler(route);
    expect(built).toEqual([]);
    expect(serialize({ n: 1, secret: 'dropped' })).toBe(eager(route)({ n: 1, secret: 'dropped' }));
    expect(serialize({ n: 2 })).toBe('{"n":2}');
    expect(built).toEqual([route]);
  });
});
