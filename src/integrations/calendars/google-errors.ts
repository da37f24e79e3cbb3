import type { FetchLimits } from './provider.js';
import { CalendarSourceError } from './provider.js';

/**
 * A failed Google call (a GaxiosError from the client library, or an abort)
 * in words safe to store on the connection: a status, a short reason code,
 * a host, never a token nor the text of the error (gaxios puts request
 * details in it).
 */
interface GaxiosLike {
  config?: { url?: unknown };
  response?: { status?: number; data?: unknown };
  code?: unknown;
  cause?: { code?: unknown };
}

const SAFE_CODE = /^[A-Za-z0-9_.-]{1,64}$/;
const safe = (value: unknown) => (typeof value === 'string' && SAFE_CODE.test(value) ? value : undefined);

export function fromTokenEndpoint(error: unknown, tokenUrl: string): boolean {
  const url = (error as GaxiosLike | null)?.config?.url;
  return url !== undefined && String(url) === new URL(tokenUrl).href;
}

/** The token endpoint's OAuth error code (RFC 6749 5.2), e.g. invalid_grant. */
function oauthError(error: GaxiosLike): string | undefined {
  const data = error.response?.data as { error?: unknown } | undefined;
  return safe(data?.error);
}

/** Google's reason for an API error ({ error: { errors: [{ reason }] } }), e.g. rateLimitExceeded. */
function apiReason(error: GaxiosLike): string | undefined {
  const data = error.response?.data as { error?: { errors?: { reason?: unknown }[]; status?: unknown } } | undefined;
  return safe(data?.error?.errors?.[0]?.reason) ?? safe(data?.error?.status);
}

/** The refresh token is no longer good: revoked by the user, expired, or the account's password changed. */
export function isInvalidGrant(error: unknown, tokenUrl: string): boolean {
  return fromTokenEndpoint(error, tokenUrl) && oauthError(error as GaxiosLike) === 'invalid_grant';
}

export function describeGoogleError(
  error: unknown,
  context: { signal: AbortSignal; limits: FetchLimits; tokenUrl: string },
): CalendarSourceError {
  if (error instanceof CalendarSourceError) return error;
  if (context.limits.signal?.aborted) return new CalendarSourceError('the fetch was stopped (the server is shutting down)', 'timeout');
  if (context.signal.aborted) return new CalendarSourceError(`Google did not answer within ${context.limits.timeoutMs / 1000} s`, 'timeout');
  const e = (error ?? {}) as GaxiosLike;
  const status = e.response?.status;
  if (fromTokenEndpoint(error, context.tokenUrl)) {
    const code = oauthError(e);
    if (code === 'invalid_grant') {
      return new CalendarSourceError(
        'Google no longer accepts this calendar\'s authorisation (invalid_grant: access was revoked or has expired): delete the calendar and connect it again',
        'http',
      );
    }
    if (code === 'invalid_client' || code === 'unauthorized_client') {
      return new CalendarSourceError(`Google refused this server's OAuth client (${code}): check GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET`, 'http');
    }
    if (status !== undefined) return new CalendarSourceError(`Google's token endpoint answered HTTP ${status}${code ? ` (${code})` : ''}`, 'http', status);
  } else if (status !== undefined) {
    const reason = apiReason(e);
    const hint = status === 401 ? ': Google refused the access token even after a refresh' : status === 404 ? ': the calendar was not found' : '';
    return new CalendarSourceError(`Google Calendar answered HTTP ${status}${reason ? ` (${reason})` : ''}${hint}`, 'http', status);
  }
  const code = safe(e.cause?.code) ?? safe(e.code);
  let host = 'Google';
  try {
    host = new URL(String(e.config?.url)).host;
  } catch {
    // no URL on the error: keep "Google"
  }
  if (code === 'ECONNREFUSED') return new CalendarSourceError(`${host} refused the connection`, 'unreachable');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new CalendarSourceError(`cannot resolve ${host}`, 'unreachable');
  return new CalendarSourceError(`cannot reach ${host}${code ? ` (${code})` : ''}`, 'unreachable');
}
