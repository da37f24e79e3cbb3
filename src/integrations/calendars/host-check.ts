import { lookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { isForbiddenAddress } from './ip-ranges.js';
import { CalendarSourceError } from './provider.js';

/** How long checking where a user-given host points may take before the URL is refused. */
export const HOST_CHECK_TIMEOUT_MS = 2_000;

/** The refusal's words: never the address a name resolves to (that would map the inside for the caller). */
export const refusedHost = (host: string) =>
  new CalendarSourceError(`refused: ${host} is, or resolves to, a loopback, private or reserved address`, 'refused');

/**
 * Checks, before anything is stored, that a user-given URL's host is not (and
 * does not resolve to) a forbidden address. A lookup that does not finish
 * within `timeoutMs` refuses the URL: getaddrinfo runs on libuv's small thread
 * pool (4 threads, shared with scrypt, zlib and the file system), so under
 * load it can wait for seconds, and a check that gave up by "storing it
 * anyway" let a name that resolves to loopback through. A name that does not
 * resolve at all is let through: every later connection checks the address
 * it connects to (safe-fetch.ts).
 *
 *   await checkHost(new URL('https://calendar.example.com/x.ics'), { allowPrivateAddresses: false });
 */
export async function checkHost(
  url: URL,
  options: { allowPrivateAddresses: boolean; timeoutMs?: number; isForbidden?: (address: string) => boolean },
): Promise<void> {
  if (options.allowPrivateAddresses) return;
  const isForbidden = options.isForbidden ?? isForbiddenAddress;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) {
    if (isForbidden(host)) throw refusedHost(host);
    return;
  }
  const timeoutMs = options.timeoutMs ?? HOST_CHECK_TIMEOUT_MS;
  const addresses = await new Promise<string[] | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    lookup(host, { all: true }, (error, found: LookupAddress[]) => {
      clearTimeout(timer);
      resolve(error ? [] : found.map((a) => a.address));
    });
  });
  if (addresses === 'timeout') {
    throw new CalendarSourceError(`refused: could not check where ${host} points within ${timeoutMs / 1000} s; try again`, 'refused');
  }
  if (addresses.some((a) => isForbidden(a))) throw refusedHost(host);
}
