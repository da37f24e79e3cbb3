import { describeGoogleError } from './google-errors.js';
import { CalendarSourceError, type FetchLimits } from './provider.js';

/** This server's OAuth client at Google and the endpoints it talks to (from the environment). */
export interface GoogleClientSettings {
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
  apiRootUrl: string;
}

export interface GoogleTokens {
  refreshToken: string;
  accessToken: string;
  /** Epoch ms; 0 when Google did not say. */
  accessTokenExpiresAt: number;
}

/** Refresh an access token this long before Google says it expires (clocks drift, calls take time). */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * The Google client library, imported on first use: it costs ~17 MB resident and ~0.1 s to
 * import, and most servers never connect a Google calendar.
 */
export const googleApis = () => import('@googleapis/calendar');

/**
 * google-auth-library's OAuth2 client with its token endpoint at
 * client.tokenUrl. Every request it makes (token exchange, refresh, and the
 * API calls it signs) ends with `signal` and is never retried inside it: the
 * caller's timeout bounds it all, and the sync or the write outbox retries later.
 */
export async function googleOAuthClient(client: GoogleClientSettings, signal: AbortSignal, redirectUri?: string) {
  const { auth } = await googleApis();
  return new auth.OAuth2({
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    ...(redirectUri ? { redirectUri } : {}),
    endpoints: { oauth2TokenUrl: client.tokenUrl },
    eagerRefreshThresholdMillis: EXPIRY_MARGIN_MS,
    forceRefreshOnFailure: true,
    transporterOptions: { signal, retryConfig: { retry: 0 } },
  });
}

/** The deadline of one provider call: its timeout, or the server shutting down. */
export function deadlineOf(limits: FetchLimits): AbortSignal {
  return AbortSignal.any([AbortSignal.timeout(limits.timeoutMs), ...(limits.signal ? [limits.signal] : [])]);
}

/** Trades the code Google sent to the callback for tokens. Throws CalendarSourceError. */
export async function exchangeAuthorizationCode(
  client: GoogleClientSettings,
  redirectUri: string,
  code: string,
  limits: FetchLimits,
): Promise<GoogleTokens> {
  const signal = deadlineOf(limits);
  let tokens;
  try {
    ({ tokens } = await (await googleOAuthClient(client, signal, redirectUri)).getToken({ code, redirect_uri: redirectUri }));
  } catch (error) {
    throw describeGoogleError(error, { signal, limits, tokenUrl: client.tokenUrl });
  }
  if (!tokens.access_token) throw new CalendarSourceError('Google\'s token endpoint answered without an access token', 'invalid');
  // Google sends a refresh token only with prompt=consent (which the authorization URL asks for).
  if (!tokens.refresh_token) throw new CalendarSourceError('Google sent no refresh token, so the calendar could not be read later: connect it again', 'invalid');
  return { refreshToken: tokens.refresh_token, accessToken: tokens.access_token, accessTokenExpiresAt: tokens.expiry_date ?? 0 };
}
