/**
 * The typed client of the booking engine: openapi-fetch over the types that
 * openapi-typescript generated from the served OpenAPI document
 * (src/client/schema.d.ts; `npm run sdk:generate`). Runs in browsers and in
 * Node 20+ (pass `WebSocket` from `ws` for `stream()` where there is no global one).
 *
 *   import { createClient } from 'booking-engine/client';
 *   const api = createClient({ baseUrl: 'http://127.0.0.1:3000' });
 *   const type = await api.publicEventType('demo-consultation');
 *   const { slots } = await api.slots({ eventTypeId: type.id, from: '2027-03-01', to: '2027-03-07', timeZone: 'Europe/Berlin' });
 *   const booking = await api.hold({ eventTypeId: type.id, start: slots[0].start, guest: { name: 'Ada', email: 'ada@example.com' } });
 *   const guest = createClient({ baseUrl, manageToken: booking.manageToken });
 *   await guest.confirm(booking.id);
 *   for await (const change of api.stream([type.hosts[0].providerId])) console.log(change.version);
 *
 * - Errors are thrown as ApiError: the problem+json body with its `code`
 *   (docs/errors.md), `status` and `retryAfter` (seconds, from Retry-After).
 * - Every POST carries an Idempotency-Key (made here unless given); a retry
 *   (`retries`, on network errors, 503 and 409 idempotency_in_flight) reuses it,
 *   so a retried hold never holds twice.
 * - GET /v1/slots answers are cached by URL with their ETag: a repeat sends
 *   If-None-Match and a 304 is answered from the cache.
 */
import createFetchClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths } from './schema.js';
export type Schemas = components['schemas'];
export type Booking = Schemas['Booking'];
export type EventType = Schemas['EventType'];
export type Slots = Schemas['Slots'];
export type Problem = Schemas['Problem'];
export type HoldRequest = Schemas['HoldRequest'];
export type SlotsQuery = NonNullable<paths['/v1/slots']['get']['parameters']['query']>;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;
  /** Seconds to wait before a retry may succeed (429, 503), from Retry-After. */
  readonly retryAfter: number | null;
  constructor(problem: Problem, retryAfter: number | null) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.name = 'ApiError';
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

export interface StreamChange {
  type: 'availability.changed';
  providerId: string;
  version: number;
}

type WebSocketLike = {
  readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: string, listener: (event: any) => void): void;
};
type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ClientOptions {
  /** Where the server is, e.g. `http://127.0.0.1:3000` (no trailing /v1). */
  baseUrl: string;
  apiKey?: string;
  /** A guest's manage token: opens its one booking. */
  manageToken?: string;
  fetch?: typeof fetch;
  /** For stream() where there is no global WebSocket (Node 20: `import { WebSocket } from 'ws'`). */
  WebSocket?: WebSocketConstructor;
  /** Extra attempts of a request after a network error, a 503, or an idempotency_in_flight 409 (default 2). */
  retries?: number;
}

function randomKey(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fetch that retries a request (cloned: same headers, so the same Idempotency-Key) and answers slot 304s from its cache. */
function resilientFetch(base: typeof fetch, retries: number): typeof fetch {
  const etags = new Map<string, { etag: string; body: string; headers: [string, string][] }>();
  return async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    const cacheable = request.method === 'GET' && new URL(request.url).pathname === '/v1/slots';
    const cached = cacheable ? etags.get(request.url) : undefined;
    if (cached && !request.headers.has('if-none-match')) request.headers.set('if-none-match', cached.etag);
    let response: Response | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        response = await base(request.clone());
        const inFlight = response.status === 409 && (await response.clone().json().catch(() => null))?.code === 'idempotency_in_flight';
        if ((response.status !== 503 && !inFlight) || attempt >= retries) break;
      } catch (error) {
        if (attempt >= retries) throw error;
      }
      await sleep(Math.min(2_000, 200 * 2 ** attempt));
    }
    if (cacheable && response.status === 304 && cached) {
      return new Response(cached.body, { status: 200, headers: cached.headers });
    }
    const etag = response.headers.get('etag');
    if (cacheable && response.status === 200 && etag) {
      const body = await response.clone().text();
      etags.set(request.url, { etag, body, headers: [...response.headers.entries()] });
    }
    return response;
  };
}

/** Unwraps an openapi-fetch answer: the data, or an ApiError with the problem's code. */
async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const retryAfter = response.headers.get('retry-after');
  const problem = (error && typeof error === 'object' && 'code' in error ? error : {
    type: 'about:blank', title: response.statusText || 'Error', status: response.status, detail: String(error ?? response.statusText), code: 'unknown',
  }) as Problem;
  throw new ApiError(problem, retryAfter === null ? null : Number(retryAfter));
}

export function createClient(options: ClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchImpl = resilientFetch(options.fetch ?? globalThis.fetch.bind(globalThis), options.retries ?? 2);
  const api = createFetchClient<paths>({ baseUrl, fetch: fetchImpl });
  const credential = options.apiKey ?? options.manageToken;
  const headers: Middleware = {
    onRequest({ request }) {
      if (credential && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${credential}`);
      // Made once per call here; the retries in resilientFetch resend the same request, so the same key.
      if (request.method === 'POST' && !request.headers.has('idempotency-key')) request.headers.set('idempotency-key', randomKey());
      return request;
    },
  };
  api.use(headers);

  return {
    /** The openapi-fetch client itself, typed by every path of the API. */
    api,
    publicEventType: (slug: string) =>
      unwrap(api.GET('/v1/public/event-types/{slug}', { params: { path: { slug } } })),
    eventType: (id: string) => unwrap(api.GET('/v1/event-types/{id}', { params: { path: { id } } })),
    slots: (query: SlotsQuery) => unwrap(api.GET('/v1/slots', { params: { query } })),
    /** Hold a time; a guest's answer carries `manageToken` (once). */
    hold: (body: HoldRequest, idempotencyKey?: string) =>
      unwrap(api.POST('/v1/bookings', { body, params: idempotencyKey ? { header: { 'idempotency-key': idempotencyKey } } : {} })),
    booking: (id: string) => unwrap(api.GET('/v1/bookings/{id}', { params: { path: { id } } })),
    confirm: (id: string) => unwrap(api.POST('/v1/bookings/{id}/confirm', { params: { path: { id } }, body: {} })),
    cancel: (id: string, reason?: string) =>
      unwrap(api.POST('/v1/bookings/{id}/cancel', { params: { path: { id } }, body: reason ? { reason } : {} })),
    reschedule: (id: string, body: Schemas['RescheduleRequest']) =>
      unwrap(api.POST('/v1/bookings/{id}/reschedule', { params: { path: { id } }, body })),
    /**
     * Live changes of these providers' slots (GET /v1/stream, a WebSocket), as
     * an async iterator; `break` (or `return()`) closes the socket. Without a
     * key only hosts of public event types can be followed.
     */
    stream(providerIds: string[], signal?: AbortSignal): AsyncIterableIterator<StreamChange> {
      return openStream(baseUrl, options, providerIds, signal);
    },
  };
}

export type BookingClient = ReturnType<typeof createClient>;

function openStream(baseUrl: string, options: ClientOptions, providerIds: string[], signal?: AbortSignal): AsyncIterableIterator<StreamChange> {
  const Socket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Socket) throw new Error('No WebSocket here: pass createClient({ WebSocket }) (Node 20: from the ws package).');
  const url = new URL('/v1/stream', baseUrl.replace(/^http/, 'ws'));
  if (options.apiKey) url.searchParams.set('apiKey', options.apiKey);
  const socket = new Socket(url.toString());
  const queue: StreamChange[] = [];
  const waiting: ((result: IteratorResult<StreamChange>) => void)[] = [];
  let done = false;
  let failure: Error | null = null;
  const finish = () => {
    done = true;
    for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
  };
  socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'subscribe', providerIds })));
  socket.addEventListener('message', (event: { data: unknown }) => {
    let message: { type?: string } | null = null;
    try {
      message = JSON.parse(String(event.data)) as { type?: string };
    } catch {
      return;
    }
    if (message?.type !== 'availability.changed') return;
    const change = message as StreamChange;
    const next = waiting.shift();
    if (next) next({ value: change, done: false });
    else queue.push(change);
  });
  socket.addEventListener('close', finish);
  socket.addEventListener('error', () => {
    failure = new Error('The stream failed.');
    finish();
  });
  const close = () => {
    if (socket.readyState <= 1) socket.close();
    finish();
  };
  signal?.addEventListener('abort', close, { once: true });
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      const value = queue.shift();
      if (value) return Promise.resolve({ value, done: false });
      if (done) return failure ? Promise.reject(failure) : Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
    },
    return() {
      close();
      return Promise.resolve({ value: undefined, done: true });
    },
  };
}
