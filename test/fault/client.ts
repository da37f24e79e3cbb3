/**
 * A fetch client for the fault suite: every request is bounded by a timeout,
 * and a cut connection or a timeout is an outcome (not a thrown error), since
 * producing those is the point of the suite.
 */
import { expect } from 'vitest';

export interface Answer {
  status: number;
  contentType: string;
  replayed: boolean;
  body: any;
  text: string;
  ms: number;
}

export type Outcome = Answer | { status: 'network-error' | 'timeout'; error: string; ms: number };

export const isAnswer = (o: Outcome): o is Answer => typeof o.status === 'number';

/** A client timeout well above any healthy answer: a request still open after it counts as a hang. */
export const CLIENT_TIMEOUT_MS = 8_000;

export async function call(
  baseUrl: string,
  apiKey: string | null,
  method: string,
  path: string,
  options: { body?: unknown; idempotencyKey?: string; timeoutMs?: number } = {},
): Promise<Outcome> {
  const started = Date.now();
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      signal: AbortSignal.timeout(options.timeoutMs ?? CLIENT_TIMEOUT_MS),
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      replayed: res.headers.get('idempotent-replayed') === 'true',
      body,
      text,
      ms: Date.now() - started,
    };
  } catch (error) {
    const name = (error as Error)?.name;
    const status = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network-error';
    return { status, error: String((error as Error)?.cause ?? error), ms: Date.now() - started };
  }
}

export function describe(o: Outcome): string {
  return isAnswer(o) ? `${o.status} ${o.text.slice(0, 300)}` : `${o.status}: ${o.error}`;
}

/** An RFC 9457 problem with this status, answered (not a hang, not a cut connection). */
export function expectProblem(o: Outcome, status: number, request = ''): any {
  expect(isAnswer(o), describe(o)).toBe(true);
  const a = o as Answer;
  expect(a.status, describe(o)).toBe(status);
  const what = `${request} -> ${a.contentType} ${describe(o)}`;
  expect(a.contentType, what).toMatch(/^application\/problem\+json/);
  expect(a.body?.status, what).toBe(status);
  expect(typeof a.body?.title, what).toBe('string');
  expect(typeof a.body?.detail, what).toBe('string');
  return a.body;
}

export function expectStatus(o: Outcome, status: number): any {
  expect(isAnswer(o) ? o.status : o.status, describe(o)).toBe(status);
  return (o as Answer).body;
}
