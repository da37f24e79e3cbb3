import { ConfigError, type Config } from '../../config.js';
import { AppError } from '../../domain/errors.js';
import type { GoogleClientSettings } from '../../integrations/calendars/google-auth.js';

/** This server's Google OAuth client as the app uses it: every part set. */
export interface GoogleClient extends GoogleClientSettings {
  redirectUri: string;
  authUrl: string;
}

function missingVariables(config: Config): string[] {
  const { clientId, clientSecret, redirectUri } = config.google;
  return [
    ...(clientId ? [] : ['GOOGLE_CLIENT_ID']),
    ...(clientSecret ? [] : ['GOOGLE_CLIENT_SECRET']),
    ...(redirectUri ? [] : ['GOOGLE_REDIRECT_URI']),
  ];
}

const complete = (google: Config['google']): GoogleClient => ({
  clientId: google.clientId!,
  clientSecret: google.clientSecret!,
  redirectUri: google.redirectUri!,
  authUrl: google.authUrl,
  tokenUrl: google.tokenUrl,
  apiRootUrl: google.apiRootUrl,
});

/** For a request: a 503 naming what is missing when Google Calendar is not configured. */
export function requireGoogleClient(config: Config): GoogleClient {
  const missing = missingVariables(config);
  if (missing.length > 0) {
    throw new AppError('unavailable', `Google Calendar is not configured on this server: set ${missing.join(', ')} `
      + '(an OAuth client of a Google Cloud project, and the public URL of GET /v1/calendars/google/callback) and restart.');
  }
  return complete(config.google);
}

/** For a sync or a write: a ConfigError (recorded as the connection's error) when it is not configured. */
export function googleClientForSync(config: Config): GoogleClient {
  const missing = missingVariables(config);
  if (missing.length > 0) throw new ConfigError(missing[0]!, 'is not set, so Google calendars cannot be read or written');
  return complete(config.google);
}
