import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { createGunzip, createInflate } from 'node:zlib';
import { pipeline, type Readable } from 'node:stream';
import { isForbiddenAddress } from './ip-ranges.js';
import { CalendarSourceError } from './provider.js';
import { refusedHost } from './host-check.js';

/**
 * GET of a user-given URL that cannot be turned against us:
 * - http and https only (webcal:// is read as https://, as calendar apps do);
 * - every address the host resolves to is checked, and the connection goes to
 *   the checked address (no second lookup an attacker's DNS could answer
 *   differently), unless allowPrivateAddresses;
 * - at most MAX_REDIRECTS redirects, each checked the same way;
 * - a connect/idle timeout and an overall deadline; a body over maxBytes
 *   (also after decompression) aborts the download.
 * Errors are CalendarSourceError with a reason that names no path or query
 * (a feed URL's path often is its secret).
 *
 *   const text = await safeGet(new URL('https://calendar.example.com/feed.ics'), { allowPrivateAddresses: false });
 */
export interface SafeGetOptions {
  allowPrivateAddresses: boolean;
  /** Overall deadline, redirects included. */
  timeoutMs?: number;
  /** Longest wait for a connection or for the next bytes. */
  idleTimeoutMs?: number;
  maxBytes?: number;
  accept?: string;
  /** Aborts the request from outside (shutdown). */
  signal?: AbortSignal;
  /** Which addresses are refused; tests narrow it to reach a "private" address through a redirect. */
  isForbidden?: (address: string) => boolean;
  /** Follow 3xx answers (default true). Webhook deliveries do not: a 303 would re-send the signed body elsewhere. */
  followRedirects?: boolean;
  /** GET unless set (CalDAV sends REPORT/PROPFIND with an XML body). */
  method?: string;
  /** Extra request headers (Authorization, Depth, Content-Type). */
  headers?: Record<string, string>;
  body?: string;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
const MAX_REDIRECTS = 3;

/** http(s) URL from user text; webcal:// is https://. Throws a plain message for a 400. */
export function parseSourceUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error('is not a valid URL');
  }
  if (url.protocol === 'webcal:' || url.protocol === 'webcals:') url = new URL(`https:${url.href.slice(url.protocol.length)}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must be an http, https or webcal URL');
  if (url.hostname === '') throw new Error('has no host');
  return url;
}

const bareHost = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');

/** Refuses a URL whose host is a literal forbidden address (a name is checked when it is resolved). */
export function assertAllowedHost(url: URL, allowPrivateAddresses: boolean, isForbidden = isForbiddenAddress): void {
  const host = bareHost(url);
  if (!allowPrivateAddresses && isIP(host) !== 0 && isForbidden(host)) throw refusedHost(host);
}

function guardedLookup(allowPrivateAddresses: boolean, isForbidden: (address: string) => boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0, hints: options.hints }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      if (addresses.length === 0) return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '', 0);
      const bad = allowPrivateAddresses ? undefined : addresses.find((a) => isForbidden(a.address));
      if (bad) return callback(refusedHost(hostname), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

function describeNetworkError(error: unknown, host: string): CalendarSourceError {
  if (error instanceof CalendarSourceError) return error;
  const code = (error as { code?: string } | null)?.code;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CalendarSourceError(`cannot resolve ${host}`, 'unreachable');
    case 'ECONNREFUSED':
      return new CalendarSourceError(`${host} refused the connection`, 'unreachable');
    case 'ECONNRESET':
    case 'EPIPE':
      return new CalendarSourceError(`${host} closed the connection`, 'unreachable');
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return new CalendarSourceError(`${host} has an invalid TLS certificate (${code})`, 'unreachable');
    default:
      return new CalendarSourceError(`cannot reach ${host}${code ? ` (${code})` : ''}`, 'unreachable');
  }
}

interface Hop {
  response: IncomingMessage;
  /** The reason the request was cut short, when the idle timeout did it. */
  idleTimeout(): CalendarSourceError | null;
}

type RequestSettings = Required<Omit<SafeGetOptions, 'signal' | 'method' | 'headers' | 'body' | 'followRedirects'>> & Pick<SafeGetOptions, 'method' | 'headers' | 'body'>;

function requestOnce(url: URL, options: RequestSettings, signal: AbortSignal): Promise<Hop> {
  const client = url.protocol === 'https:' ? https : http;
  let idle: CalendarSourceError | null = null;
  return new Promise((resolve, reject) => {
    const request = client.request(url, {
      method: options.method ?? 'GET',
      headers: { accept: options.accept, 'accept-encoding': 'gzip, deflate', 'user-agent': 'booking-engine-calendar-sync/1', ...options.headers },
      lookup: guardedLookup(options.allowPrivateAddresses, options.isForbidden),
      // A fresh connection each time: no pooled socket is shared between callers with other rules.
      agent: false,
      signal,
      timeout: options.idleTimeoutMs,
    });
    request.on('timeout', () => {
      idle = new CalendarSourceError(`${bareHost(url)} did not answer within ${options.idleTimeoutMs / 1000} s`, 'timeout');
      request.destroy(idle);
    });
    request.on('error', (error) => reject(error));
    request.on('response', (response) => resolve({ response, idleTimeout: () => idle }));
    request.end(options.body);
  });
}

async function readBody(response: IncomingMessage, maxBytes: number, host: string): Promise<string> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw new CalendarSourceError(`the calendar is larger than ${Math.round(maxBytes / 1024 / 1024)} MB`, 'too_large');
  }
  const encoding = String(response.headers['content-encoding'] ?? 'identity').toLowerCase();
  // pipeline (not pipe): an error or abort of the response also ends the decompressor.
  const ignore = () => {};
  let stream: Readable = response;
  if (encoding === 'gzip' || encoding === 'x-gzip') stream = pipeline(response, createGunzip(), ignore);
  else if (encoding === 'deflate') stream = pipeline(response, createInflate(), ignore);
  else if (encoding !== 'identity') {
    response.destroy();
    throw new CalendarSourceError(`${host} sent an unsupported content encoding (${encoding})`, 'invalid');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        response.destroy();
        throw new CalendarSourceError(`the calendar is larger than ${Math.round(maxBytes / 1024 / 1024)} MB`, 'too_large');
      }
      chunks.push(chunk);
    }
  } catch (error) {
    response.destroy();
    if (error instanceof CalendarSourceError) throw error;
    throw describeNetworkError(error, host);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function abortReason(outer: AbortSignal | undefined, host: string, timeoutMs: number): CalendarSourceError {
  return outer?.aborted
    ? new CalendarSourceError('the fetch was stopped (the server is shutting down)', 'timeout')
    : new CalendarSourceError(`${host} did not finish within ${timeoutMs / 1000} s`, 'timeout');
}

export async function safeGet(start: URL, options: SafeGetOptions): Promise<string> {
  const settings: RequestSettings = {
    method: options.method,
    headers: options.headers,
    body: options.body,
    allowPrivateAddresses: options.allowPrivateAddresses,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    idleTimeoutMs: Math.min(options.idleTimeoutMs ?? DEFAULT_TIMEOUT_MS, options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
    accept: options.accept ?? 'text/calendar, */*;q=0.5',
    isForbidden: options.isForbidden ?? isForbiddenAddress,
  };
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(), settings.timeoutMs);
  const stop = () => controller.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) controller.abort();
  let url = start;
  try {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CalendarSourceError('redirected to a URL that is not http or https', 'invalid');
      assertAllowedHost(url, settings.allowPrivateAddresses, settings.isForbidden);
      const host = bareHost(url);
      let hopResult: Hop;
      try {
        hopResult = await requestOnce(url, settings, controller.signal);
      } catch (error) {
        if (controller.signal.aborted) throw abortReason(options.signal, host, settings.timeoutMs);
        throw describeNetworkError(error, host);
      }
      const { response } = hopResult;
      const status = response.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && options.followRedirects === false) {
        response.resume();
        throw new CalendarSourceError(`${host} answered HTTP ${status} (redirects are not followed)`, 'http', status);
      }
      if ([301, 302, 303, 307, 308].includes(status) && response.headers.location) {
        response.resume();
        try {
          url = new URL(response.headers.location, url);
        } catch {
          throw new CalendarSourceError(`${host} redirected to an invalid URL`, 'invalid');
        }
        // Credentials go to the origin they were given for, never to where it redirects.
        if (url.origin !== start.origin && settings.headers) {
          settings.headers = Object.fromEntries(Object.entries(settings.headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
        }
        continue;
      }
      if (status < 200 || status > 299) {
        response.resume();
        throw new CalendarSourceError(`${host} answered HTTP ${status}`, 'http', status);
      }
      try {
        return await readBody(response, settings.maxBytes, host);
      } catch (error) {
        if (controller.signal.aborted) throw abortReason(options.signal, host, settings.timeoutMs);
        throw hopResult.idleTimeout() ?? error;
      }
    }
    throw new CalendarSourceError(`more than ${MAX_REDIRECTS} redirects`, 'invalid');
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', stop);
  }
}
