import { createHash, randomBytes } from 'node:crypto';
import { findConnection, recordSyncFailure } from '../../db/calendars-repo.js';
import { consumeOAuthState, insertOAuthState, replaceConnectionConfig } from '../../db/google-oauth-repo.js';
import { AppError } from '../../domain/errors.js';
import { exchangeAuthorizationCode } from '../../integrations/calendars/google-auth.js';
import { googleProvider, type GoogleConfig } from '../../integrations/calendars/google-provider.js';
import { CalendarSourceError } from '../../integrations/calendars/index.js';
import { applyOutcome, failureReason, FIRST_SYNC_TIMEOUT_MS, fetchBusyNow, type ErrorSink, type SyncOutcome } from './calendar-sync.js';
import { toCalendarView, type CalendarView } from './calendar-view.js';
import type { AppContext } from '../context.js';
import { sealSecret } from '../../platform/crypto/encryption.js';
import { requireGoogleClient, type GoogleClient } from './google-client.js';
import { providerTimeZone, requireProvider } from '../availability/providers.js';
import type { GoogleCallbackQuery } from '../../http/schemas/calendars.js';

/**
 * Connecting a Google calendar is OAuth's authorization-code flow:
 *
 * 1. POST /v1/providers/{id}/calendars { type: "google" } stores the
 *    connection as "pending" and answers an authorizationUrl (Google's consent
 *    screen) carrying a state: 256 random bits, single use, bound to that
 *    connection, expiring after OAUTH_STATE_TTL_MS; only its SHA-256 is stored.
 * 2. The provider consents; Google redirects the browser to
 *    GET /v1/calendars/google/callback?code=...&state=... (GOOGLE_REDIRECT_URI).
 *    The state is the only credential of that request.
 * 3. The callback takes the state, trades the code for tokens, stores them
 *    sealed with the connection's other settings, and reads the busy time once.
 *    A denied consent (error=access_denied) marks the connection "error".
 */
export const OAUTH_STATE_TTL_MS = 10 * 60 * 1000;
/** Events to write bookings, free/busy to read busy time: nothing else of the account. */
export const GOOGLE_SCOPES = [
  'https://www.googleapis.com/auth/calendar.events',
  'https://www.googleapis.com/auth/calendar.freebusy',
];

const hashState = (state: string) => createHash('sha256').update(state, 'utf8').digest('base64url');

/** Makes the connection's state and the URL of Google's consent screen carrying it. */
export async function startGoogleAuthorization(ctx: AppContext, google: GoogleClient, connectionId: string): Promise<string> {
  const state = randomBytes(32).toString('base64url');
  const now = ctx.clock.now();
  await insertOAuthState(ctx.db, { stateHash: hashState(state), connectionId, expiresAt: now + OAUTH_STATE_TTL_MS }, now);
  const url = new URL(google.authUrl);
  for (const [name, value] of Object.entries({
    client_id: google.clientId,
    redirect_uri: google.redirectUri,
    response_type: 'code',
    scope: GOOGLE_SCOPES.join(' '),
    access_type: 'offline', // a refresh token: busy time is read while the provider is away
    prompt: 'consent', // Google sends the refresh token again on a reconnect only with a fresh consent
    include_granted_scopes: 'true',
    state,
  })) url.searchParams.set(name, value);
  return url.href;
}

export interface GoogleCallbackResult {
  connected: boolean;
  message: string;
  calendar: CalendarView;
}

const badState = () => new AppError('invalid_request',
  'querystring/state: this authorisation link is unknown, already used or expired; connect the Google calendar again',
  [{ path: 'querystring/state', message: 'is unknown, already used or expired' }]);

/**
 * The end of the consent: Google's redirect. A bad, used or expired state is
 * a 400 and changes nothing; otherwise the state is used up whatever follows.
 */
export async function completeGoogleAuthorization(
  ctx: AppContext,
  query: GoogleCallbackQuery,
  onError?: ErrorSink,
): Promise<GoogleCallbackResult> {
  const google = requireGoogleClient(ctx.config);
  const key = ctx.config.encryptionKey;
  if (!key) throw new AppError('unavailable', 'ENCRYPTION_KEY is not set on this server, so calendar settings cannot be stored encrypted.');
  if (query.code === undefined && query.error === undefined) {
    throw new AppError('invalid_request', 'querystring: Google\'s answer carries either code or error', [{ path: 'querystring/code', message: 'is required' }]);
  }
  const connectionId = await consumeOAuthState(ctx.db, hashState(query.state ?? ''), ctx.clock.now());
  const connection = connectionId ? await findConnection(ctx.db, null, connectionId) : null;
  if (!connection || connection.type !== 'google') throw badState();

  const fail = async (reason: string): Promise<GoogleCallbackResult> => {
    await recordSyncFailure(ctx.db, connection.id, reason);
    const calendar = toCalendarView((await findConnection(ctx.db, null, connection.id)) ?? connection);
    return { connected: false, message: `Google Calendar was not connected: ${reason}.`, calendar };
  };
  if (query.error !== undefined) {
    return fail(query.error === 'access_denied'
      ? 'access was denied on Google\'s consent screen; delete this calendar and connect it again to retry'
      : `Google answered "${/^[a-z_]{1,64}$/.test(query.error) ? query.error : 'an error'}"; delete this calendar and connect it again`);
  }

  let config: GoogleConfig;
  try {
    const tokens = await exchangeAuthorizationCode(google, google.redirectUri, query.code!, {
      allowPrivateAddresses: true, // Google's endpoints are the operator's setting, not a user's URL
      timeoutMs: FIRST_SYNC_TIMEOUT_MS,
    });
    config = { calendarId: 'primary', ...tokens };
  } catch (error) {
    if (!(error instanceof CalendarSourceError)) onError?.(error);
    return fail(`the authorisation could not be completed (${failureReason(error)})`);
  }

  // The first read, outside any transaction; a failure is recorded and retried in the background like any sync.
  let outcome: SyncOutcome;
  try {
    const timeZone = await providerTimeZone(ctx.db, await requireProvider(ctx.db, connection.providerId));
    outcome = { busy: await fetchBusyNow(ctx, googleProvider, { ...config, client: google }, timeZone, { timeoutMs: FIRST_SYNC_TIMEOUT_MS }) };
  } catch (error) {
    if (!(error instanceof CalendarSourceError)) onError?.(error);
    outcome = { failure: failureReason(error) };
  }
  const stored = await ctx.db.transaction(async (tx) => {
    if (!(await applyOutcome(tx, connection.id, outcome))) return false;
    await replaceConnectionConfig(tx, connection.id, sealSecret(key, JSON.stringify(config), connection.id));
    return true;
  });
  if (!stored) throw new AppError('not_found', 'This calendar was deleted while Google asked for consent; connect it again.');
  const calendar = toCalendarView((await findConnection(ctx.db, null, connection.id))!);
  return {
    connected: true,
    message: calendar.status === 'ok'
      ? 'Google Calendar connected: its busy time now counts. You can close this page.'
      : `Google Calendar connected, but reading it failed (${calendar.error ?? 'unknown'}); it is retried in the background.`,
    calendar,
  };
}
