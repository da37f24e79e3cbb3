import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createUser, expectProblem, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { derefDocument, operationsOf, type Schema } from '../fuzz/openapi.js';
import { validatorOf } from '../fuzz/schema-arbitrary.js';
import { holdOk, providerAlwaysOpen } from './booking-helpers.js';

/** The published document as an SDK generator reads it, and the error messages a client shows. */
describe('OpenAPI document', () => {
  let server: TestServer;
  let doc: Schema;
  const ops: { method: string; path: string; op: Schema }[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    doc = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const [path, item] of Object.entries<Schema>(doc.paths)) {
      for (const [method, op] of Object.entries<Schema>(item)) ops.push({ method: method.toUpperCase(), path, op });
    }
  });
  afterAll(async () => server?.close());

  const find = (method: string, path: string) => ops.find((o) => o.method === method && o.path === path)!.op;

  it('every operation has a unique camelCase operationId', () => {
    const ids = ops.map((o) => o.op.operationId);
    for (const [i, id] of ids.entries()) expect(id, `${ops[i]!.method} ${ops[i]!.path}`).toMatch(/^[a-z][a-zA-Z]+$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(find('GET', '/v1/bookings').operationId).toBe('listBookings');
    expect(find('GET', '/v1/bookings/{id}').operationId).toBe('getBooking');
    expect(find('POST', '/v1/bookings').operationId).toBe('holdBooking');
    expect(find('POST', '/v1/bookings/{id}/confirm').operationId).toBe('confirmBooking');
    expect(find('PATCH', '/v1/users/{id}').operationId).toBe('updateUser');
  });

  it('shapes are named components, referenced by $ref', () => {
    const names = Object.keys(doc.components.schemas);
    expect(names).toEqual(expect.arrayContaining(['User', 'Booking', 'BookingPage', 'Problem', 'Schedule', 'TimeOff', 'Override', 'OneOffWindow', 'HoldRequest']));
    const json = (op: Schema, status: string) => op.responses[status].content['application/json'].schema;
    expect(json(find('GET', '/v1/bookings/{id}'), '200')).toEqual({ $ref: '#/components/schemas/Booking' });
    expect(json(find('POST', '/v1/bookings'), '201')).toEqual({ $ref: '#/components/schemas/Booking' });
    expect(json(find('GET', '/v1/users/me'), '200')).toEqual({ $ref: '#/components/schemas/User' });
    expect(doc.components.schemas.BookingPage.properties.data.items).toEqual({ $ref: '#/components/schemas/Booking' });
    expect(find('POST', '/v1/bookings').requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/HoldRequest' });
    expect(JSON.stringify(doc)).not.toContain('x-component');
    expect(JSON.stringify(doc)).not.toContain('x-problem-codes');
  });

  it('every 2xx is described, and every JSON request body has an example its schema accepts', () => {
    const resolved = derefDocument(doc);
    for (const { method, path, op } of ops) {
      for (const [status, response] of Object.entries<Schema>(op.responses)) {
        if (status.startsWith('2')) expect(response.description, `${method} ${path} ${status}`).not.toMatch(/^(Default Response)?$/);
      }
      const media = resolved.paths[path][method.toLowerCase()].requestBody?.content?.['application/json'];
      if (!media) continue;
      expect(media.example, `${method} ${path} has no request example`).toBeDefined();
      const validate = validatorOf(media.schema);
      expect(validate(media.example), `${method} ${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('each error status lists its codes as an enum', () => {
    const codes = (op: Schema, status: string): string[] =>
      op.responses[status].content['application/problem+json'].schema.allOf[1].properties.code.enum;
    const hold = find('POST', '/v1/bookings');
    expect(hold.responses['409'].content['application/problem+json'].schema.allOf[0]).toEqual({ $ref: '#/components/schemas/Problem' });
    expect(codes(hold, '409')).toEqual(['client_overlap', 'idempotency_in_flight', 'slot_taken', 'too_many_bookings']);
    expect(codes(hold, '422')).toEqual(['idempotency_key_reused', 'limit_reached', 'not_bookable']);
    expect(codes(hold, '429')).toEqual(['rate_limited', 'too_many_holds']);
    expect(codes(hold, '400')).toEqual(['invalid_json', 'invalid_request']);
    expect(codes(hold, '401')).toEqual(['unauthenticated']);
    expect(codes(find('POST', '/v1/bookings/{id}/confirm'), '410')).toEqual(['hold_expired']);
    expect(codes(find('DELETE', '/v1/users/{id}'), '409')).toEqual(['state_conflict']);
    const getBooking = find('GET', '/v1/bookings/{id}');
    expect(Object.keys(getBooking.responses).sort()).toEqual(['200', '400', '401', '404', '429', 'default']);
    expect(find('POST', '/v1/auth/login').responses['401']).toBeDefined();
    // Every listed status but the routes' own special answers (GET /ready's 503 with its checks) carries its codes.
    for (const { method, path, op } of ops) {
      for (const [status, response] of Object.entries<Schema>(op.responses)) {
        if (status === 'default' || Number(status) < 400 || (path === '/ready' && status === '503')) continue;
        expect(response.content['application/problem+json'].schema.allOf, `${method} ${path} ${status}`).toBeDefined();
      }
    }
  });

  it('a real error carries a code its status lists', async () => {
    const provider = await providerAlwaysOpen(server);
    const [first, second] = [await createUser(server, 'client'), await createUser(server, 'client')];
    const start = `${upcomingDate(1, 14)}T09:00:00Z`;
    await holdOk(first.call, provider.id, start);
    const taken = expectProblem(await second.call('POST', '/v1/bookings', { providerId: provider.id, start }), 409);
    const listed = derefDocument(doc).paths['/v1/bookings'].post.responses['409'].content['application/problem+json'].schema;
    expect(validatorOf(listed)(taken)).toBe(true);
    expect(validatorOf(listed)({ ...taken, code: 'email_taken' })).toBe(false);
  });

  it('the fuzzer reads every operation', () => {
    expect(operationsOf(doc).length).toBe(ops.length);
  });
});

describe('validation messages name allowed values, never a regular expression', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('for unions of constants, patterns and formats, in bodies and queries', async () => {
    const role = expectProblem(await admin(server)('POST', '/v1/users', { name: 'X', email: 'x@example.test', role: 'admin' }), 400);
    expect(role.errors).toEqual([{ path: 'body/role', message: 'must be one of provider, client, staff' }]);
    expect(role.detail).toBe('body/role must be one of provider, client, staff');

    const email = expectProblem(await admin(server)('POST', '/v1/users', { name: 'X', email: 'not-an-address', role: 'client' }), 400);
    expect(email.errors).toEqual([{ path: 'body/email', message: 'must be an email address' }]);

    const provider = await createUser(server, 'provider');
    const week = expectProblem(await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
      timeZone: 'UTC', weekly: [{ day: 'funday', start: '9am', end: '17:00' }],
    }), 400);
    expect(week.errors).toContainEqual({ path: 'body/weekly/0/day', message: 'must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday' });
    const start = week.errors.find((e: { path: string }) => e.path === 'body/weekly/0/start');
    expect(start.message).toContain('HH:MM');

    const status = expectProblem(await provider.call('GET', '/v1/bookings?status=bogus'), 400);
    expect(status.errors).toEqual([{ path: 'query/status/0', message: 'must be one of held, pending, confirmed, declined, cancelled, expired' }]);

    const from = expectProblem(await provider.call('GET', '/v1/bookings?from=yesterday'), 400);
    for (const problem of [role, email, week, status, from]) {
      for (const e of problem.errors as { message: string }[]) expect(e.message).not.toMatch(/\^|\\d|\$"|must match pattern/);
    }
  });
});
