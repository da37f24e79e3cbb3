import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { ADMIN_KEY, type TestServer } from './server.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';

/** A thin client over inject(): JSON in, parsed JSON out, the key as a Bearer header. */
export function client(server: TestServer, apiKey: string | null) {
  return async (
    method: Method,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse & { body: string; json(): any }> => {
    return server.app.inject({
      method,
      url,
      headers: {
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
  };
}

export const admin = (server: TestServer) => client(server, ADMIN_KEY);

export async function createUser(
  server: TestServer,
  role: 'provider' | 'client',
  extra: Record<string, unknown> = {},
): Promise<{ id: string; apiKey: string; call: ReturnType<typeof client> }> {
  const email = `${role}-${Math.random().toString(36).slice(2)}@example.test`;
  const res = await admin(server)('POST', '/v1/users', { name: `A ${role}`, email, role, ...extra });
  expect(res.statusCode, res.body).toBe(201);
  const { user, apiKey } = res.json();
  return { id: user.id, apiKey, call: client(server, apiKey) };
}

/** Asserts an RFC 9457 problem with the given status. */
export function expectProblem(res: LightMyRequestResponse, status: number): any {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = res.json();
  expect(problem.status).toBe(status);
  expect(typeof problem.title).toBe('string');
  expect(typeof problem.detail).toBe('string');
  expect(typeof problem.type).toBe('string');
  return problem;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * A local date (YYYY-MM-DD) of the given weekday at least `minDaysAhead` days
 * after the real now. Tests book relative to today so they never go stale.
 */
export function upcomingDate(weekday: number /* 0 = Sunday */, minDaysAhead = 14): string {
  let t = Date.now() + minDaysAhead * DAY_MS;
  while (new Date(t).getUTCDay() !== weekday) t += DAY_MS;
  return new Date(t).toISOString().slice(0, 10);
}

/** A full provider: weekly Mon-Fri 09:00-17:00 in the zone. */
export async function providerWithHours(server: TestServer, timeZone = 'Europe/Berlin') {
  const provider = await createUser(server, 'provider', { timeZone });
  const weekly = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => ({ day, start: '09:00', end: '17:00' }));
  const res = await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, { timeZone, weekly });
  expect(res.statusCode, res.body).toBe(200);
  return provider;
}
