import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { InvalidFieldsError, invalidField, invalidFields } from '../../src/domain/errors.js';
import { fieldLocator } from '../../src/http/field-locations.js';

describe('fieldLocator: the HTTP layer says where a use case\'s field was sent', () => {
  const schema = {
    body: Type.Union([
      Type.Object({ duration: Type.Integer(), answers: Type.Record(Type.String(), Type.String()) }),
      Type.Object({ hosts: Type.Array(Type.Object({ providerId: Type.String() })) }),
    ]),
    querystring: Type.Object({ from: Type.String(), to: Type.String() }),
    params: Type.Object({ date: Type.String() }),
  };
  const locate = fieldLocator(schema);

  it('prefixes by the first segment: body (through unions), then query, then params', () => {
    expect(locate('duration')).toBe('body/duration');
    expect(locate('answers/reason')).toBe('body/answers/reason');
    expect(locate('hosts/0/providerId')).toBe('body/hosts/0/providerId');
    expect(locate('from')).toBe('query/from');
    expect(locate('date')).toBe('params/date');
  });

  it('leaves located paths, unknown names and routes without a schema alone', () => {
    for (const path of ['body/duration', 'query/from', 'params/date', 'headers/idempotency-key', 'querystring/state', 'nobody']) {
      expect(locate(path)).toBe(path);
    }
    expect(fieldLocator(undefined)('duration')).toBe('duration');
  });

  it('an InvalidFieldsError located again names the located first path in its detail', () => {
    const error = invalidFields([{ path: 'durations/1', message: 'repeats durations/0' }, { path: 'slug', message: 'is bad' }]);
    expect(error).toBeInstanceOf(InvalidFieldsError);
    const located = (error as InvalidFieldsError).located((p) => `body/${p}`);
    expect(located.detail).toBe('body/durations/1: repeats durations/0');
    expect(located.errors).toEqual([{ path: 'body/durations/1', message: 'repeats durations/0' }, { path: 'body/slug', message: 'is bad' }]);
    expect(invalidField('from', 'must not be after to').detail).toBe('from: must not be after to');
  });
});
