import { isIP } from 'node:net';
import { ConfigError, type GoogleConfig } from './config.js';

/**
 * Sign-in with OpenID Connect issuers: `GET /v1/auth/oidc/{name}/start`.
 *
 * OIDC_ISSUERS is JSON, one entry per issuer, keyed by the name in the path:
 *
 *   {"corp": {"issuer": "https://login.corp.example", "clientId": "booking",
 *             "clientSecret": "…", "returnUrl": "https://app.example/signed-in"}}
 *
 * and "google" is added from GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET (the same
 * OAuth client that connects calendars) unless GOOGLE_SIGN_IN=false or
 * OIDC_ISSUERS has its own "google".
 */
export interface OidcIssuerConfig {
  /** The `{provider}` of the paths. */
  name: string;
  /** The issuer identifier: the ID token's `iss`; discovery reads `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** null: a public client (PKCE only, no client authentication). */
  clientSecret: string | null;
  /** Always includes openid and email. */
  scopes: string[];
  /** Known endpoints instead of discovery (Google's well-known values); null discovers them. */
  endpoints: { authorization: string; token: string; jwks: string } | null;
  /** Where the callback sends the browser with the key in the fragment; null answers JSON. */
  returnUrl: string | null;
  /** Whether a sign-in with an email no user has creates a client (default: OPEN_SIGNUP). */
  signup: boolean;
  /** Plain http to the issuer: allowed only for loopback issuers (tests, local development). */
  allowHttp: boolean;
}

export type OidcIssuers = Record<string, OidcIssuerConfig>;

type Env = Record<string, string | undefined>;

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const KNOWN_FIELDS = new Set(['issuer', 'clientId', 'clientSecret', 'scopes', 'returnUrl', 'signup']);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const isLoopback = (url: URL) => LOOPBACK_HOSTS.has(url.hostname) || (isIP(url.hostname) === 4 && url.hostname.startsWith('127.'));

/** An https URL, or http on a loopback address; `what` names it in the message. */
function issuerUrl(variable: string, what: string, raw: unknown): URL {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ConfigError(variable, `${what} is required: the issuer's URL, e.g. https://accounts.example.com`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(variable, `${what} is not a valid URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
    throw new ConfigError(variable, `${what} must use https (plain http only on a loopback address), got ${JSON.stringify(raw)}`);
  }
  if (url.search !== '' || url.hash !== '') throw new ConfigError(variable, `${what} must have no query or fragment`);
  return url;
}

/** A return URL: http(s), no fragment (the key is put there). `what` names a field of OIDC_ISSUERS, or is '' for the variable itself. */
function returnUrlOf(variable: string, what: string, raw: unknown): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const subject = what === '' ? '' : `${what} `;
  if (typeof raw !== 'string') throw new ConfigError(variable, `${subject}must be a URL string`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(variable, `${subject}is not a valid URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(variable, `${subject}must use http or https`);
  if (url.hash !== '') throw new ConfigError(variable, `${subject}must have no fragment: the API key is sent in it`);
  return url.href;
}

function scopesOf(variable: string, where: string, raw: unknown): string[] {
  if (raw === undefined) return ['openid', 'email', 'profile'];
  if (!Array.isArray(raw) || raw.some((s) => typeof s !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
    throw new ConfigError(variable, `${where}.scopes must be a list of scope names, e.g. ["openid", "email", "profile"]`);
  }
  return [...new Set(['openid', 'email', ...(raw as string[])])];
}

function readIssuerEntry(name: string, raw: unknown, defaults: { signup: boolean; returnUrl: string | null }): OidcIssuerConfig {
  const variable = 'OIDC_ISSUERS';
  const where = `"${name}"`;
  if (!NAME.test(name)) {
    throw new ConfigError(variable, `${where} is not a usable name: lower-case letters, digits and "-", at most 32 (it is the {provider} of /v1/auth/oidc/{provider}/start)`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(variable, `${where} must be an object: {"issuer": "https://…", "clientId": "…", "clientSecret": "…"}`);
  }
  const entry = raw as Record<string, unknown>;
  const unknown = Object.keys(entry).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length > 0) {
    throw new ConfigError(variable, `${where} has an unknown field "${unknown[0]}"; the fields are ${[...KNOWN_FIELDS].join(', ')}`);
  }
  const issuer = issuerUrl(variable, `${where}.issuer`, entry.issuer);
  if (typeof entry.clientId !== 'string' || entry.clientId.trim() === '') throw new ConfigError(variable, `${where}.clientId is required`);
  if (entry.clientSecret !== undefined && (typeof entry.clientSecret !== 'string' || entry.clientSecret === '')) {
    throw new ConfigError(variable, `${where}.clientSecret must be a non-empty string (leave it out for a public client)`);
  }
  if (entry.signup !== undefined && typeof entry.signup !== 'boolean') throw new ConfigError(variable, `${where}.signup must be true or false`);
  return {
    name,
    // Exactly as written: it must equal the ID token's `iss` (a trailing slash matters).
    issuer: (entry.issuer as string).trim(),
    clientId: entry.clientId.trim(),
    clientSecret: (entry.clientSecret as string | undefined) ?? null,
    scopes: scopesOf(variable, where, entry.scopes),
    endpoints: null,
    returnUrl: returnUrlOf(variable, `${where}.returnUrl`, entry.returnUrl) ?? defaults.returnUrl,
    signup: (entry.signup as boolean | undefined) ?? defaults.signup,
    allowHttp: issuer.protocol === 'http:',
  };
}

/** Google as an OpenID Connect issuer, from its published (well-known) values; GOOGLE_TOKEN_URL/GOOGLE_AUTH_URL still apply. */
function googleIssuer(google: GoogleConfig, defaults: { signup: boolean; returnUrl: string | null }): OidcIssuerConfig {
  return {
    name: 'google',
    issuer: 'https://accounts.google.com',
    clientId: google.clientId!,
    clientSecret: google.clientSecret,
    scopes: ['openid', 'email', 'profile'],
    endpoints: { authorization: google.authUrl, token: google.tokenUrl, jwks: 'https://www.googleapis.com/oauth2/v3/certs' },
    returnUrl: defaults.returnUrl,
    signup: defaults.signup,
    // GOOGLE_TOKEN_URL is the operator's setting (tests point it at loopback), as for calendars.
    allowHttp: new URL(google.tokenUrl).protocol === 'http:',
  };
}

export function readOidcIssuers(env: Env, options: { openSignup: boolean; google: GoogleConfig; googleSignIn: boolean | null }): OidcIssuers {
  const defaults = { signup: options.openSignup, returnUrl: returnUrlOf('OIDC_RETURN_URL', '', env.OIDC_RETURN_URL?.trim()) };
  const issuers: OidcIssuers = {};
  const raw = env.OIDC_ISSUERS?.trim();
  if (raw !== undefined && raw !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      throw new ConfigError('OIDC_ISSUERS', `is not valid JSON (${(error as Error).message}); expected {"name": {"issuer": "https://…", "clientId": "…", "clientSecret": "…"}}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError('OIDC_ISSUERS', 'must be a JSON object of issuers by name: {"name": {"issuer": "https://…", "clientId": "…", "clientSecret": "…"}}');
    }
    for (const [name, entry] of Object.entries(parsed)) issuers[name] = readIssuerEntry(name, entry, defaults);
  }
  const googleReady = options.google.clientId !== null && options.google.clientSecret !== null;
  if (options.googleSignIn === true && !googleReady && !issuers.google) {
    throw new ConfigError('GOOGLE_SIGN_IN', 'is true but GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET are not both set');
  }
  if (googleReady && options.googleSignIn !== false && !issuers.google) issuers.google = googleIssuer(options.google, defaults);
  return issuers;
}
