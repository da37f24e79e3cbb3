import type * as Oidc from 'openid-client';
import type { OidcIssuerConfig } from '../../config-oidc.js';

// openid-client (with oauth4webapi and jose) is loaded on the first sign-in, not at start: most
// servers configure no issuer, and every module loaded at start adds to npm start's time and memory.
let loading: Promise<typeof Oidc> | undefined;
const openidClient = (): Promise<typeof Oidc> => (loading ??= import('openid-client'));

/**
 * One OpenID Connect issuer through openid-client (panva's certified relying
 * party): the authorization URL with PKCE (S256), state and nonce, and the
 * code exchange whose ID token the library checks (iss, aud, azp, exp, iat,
 * nonce; state and the RFC 9207 `iss` parameter of the callback too).
 */
export interface IssuerSignIn {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/**
 * `rejected`: the issuer (or its answer) said no: an error at the token
 * endpoint (a used or expired code: invalid_grant), or an ID token or callback
 * that fails a check. `unreachable`: the issuer could not be asked or answered
 * nonsense (a 5xx, no JSON, a timeout); worth a retry.
 */
export class IssuerError extends Error {
  override name = 'IssuerError';
  constructor(readonly kind: 'rejected' | 'unreachable', message: string) {
    super(message);
  }
}

/** The issuer's HTTP requests: discovery, the token exchange (seconds, openid-client's unit). */
const TIMEOUT_SECONDS = 10;

// One discovery per issuer and process, kept while it works; a failed one is tried again on the next request.
const configurations = new WeakMap<OidcIssuerConfig, Promise<Oidc.Configuration>>();

function clientAuth(oidc: typeof Oidc, issuer: OidcIssuerConfig): Oidc.ClientAuth {
  // client_secret_basic: the method every issuer must support (RFC 6749 2.3.1); a public client sends none.
  return issuer.clientSecret === null ? oidc.None() : oidc.ClientSecretBasic(issuer.clientSecret);
}

async function build(issuer: OidcIssuerConfig): Promise<Oidc.Configuration> {
  const oidc = await openidClient();
  const execute = issuer.allowHttp ? [oidc.allowInsecureRequests] : [];
  if (issuer.endpoints === null) {
    return oidc.discovery(new URL(issuer.issuer), issuer.clientId, undefined, clientAuth(oidc, issuer), { execute, timeout: TIMEOUT_SECONDS });
  }
  const config = new oidc.Configuration({
    issuer: issuer.issuer,
    authorization_endpoint: issuer.endpoints.authorization,
    token_endpoint: issuer.endpoints.token,
    jwks_uri: issuer.endpoints.jwks,
  }, issuer.clientId, undefined, clientAuth(oidc, issuer));
  config.timeout = TIMEOUT_SECONDS;
  for (const step of execute) step(config);
  return config;
}

async function configurationOf(issuer: OidcIssuerConfig): Promise<Oidc.Configuration> {
  let pending = configurations.get(issuer);
  if (!pending) {
    pending = build(issuer);
    configurations.set(issuer, pending);
    pending.catch(() => configurations.delete(issuer));
  }
  try {
    return await pending;
  } catch (error) {
    throw new IssuerError('unreachable', `its discovery document could not be read (${describe(error)})`);
  }
}

/** A fresh state, nonce and PKCE verifier (32 random bytes each, base64url). */
export async function newFlowSecrets(): Promise<{ state: string; nonce: string; codeVerifier: string }> {
  const oidc = await openidClient();
  return { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
}

export interface AuthorizationRequest {
  redirectUri: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export async function authorizationUrl(issuer: OidcIssuerConfig, request: AuthorizationRequest): Promise<URL> {
  const [oidc, config] = await Promise.all([openidClient(), configurationOf(issuer)]);
  return oidc.buildAuthorizationUrl(config, {
    redirect_uri: request.redirectUri,
    response_type: 'code',
    scope: issuer.scopes.join(' '),
    state: request.state,
    nonce: request.nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(request.codeVerifier),
    code_challenge_method: 'S256',
  });
}

/**
 * Trades the code of `callbackUrl` (the redirect URI with the issuer's query)
 * for tokens and returns the checked ID token's identity.
 */
export async function exchangeCode(
  issuer: OidcIssuerConfig,
  callbackUrl: URL,
  checks: { state: string; nonce: string; codeVerifier: string },
): Promise<IssuerSignIn> {
  const [oidc, config] = await Promise.all([openidClient(), configurationOf(issuer)]);
  let claims: Record<string, unknown> & { sub: string };
  try {
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
    const idToken = tokens.claims();
    if (!idToken) throw new IssuerError('rejected', 'the issuer sent no ID token');
    claims = idToken;
    // Issuers that follow OpenID Connect Core 5.4 to the letter put scope claims (email) in UserInfo only, not the ID token.
    if (claims.email === undefined && config.serverMetadata().userinfo_endpoint !== undefined) {
      const info = await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub);
      claims = { ...info, ...idToken, email: info.email, email_verified: info.email_verified };
    }
  } catch (error) {
    throw error instanceof IssuerError ? error : translate(oidc, error);
  }
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);
  return {
    subject: claims.sub,
    email: text(claims.email),
    // Some issuers send "true" as a string; anything else is not verified.
    emailVerified: claims.email_verified === true || claims.email_verified === 'true',
    name: text(claims.name),
  };
}

// The library's codes for an answer or token that fails a check: the sign-in is refused, not retried.
const REJECTED_CODES = new Set([
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED', 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
  'OAUTH_INVALID_RESPONSE', 'OAUTH_AUTHORIZATION_RESPONSE_ERROR', 'OAUTH_KEY_SELECTION_FAILED', 'OAUTH_PARSE_ERROR',
  'OAUTH_INVALID_REQUEST',
]);

function translate(oidc: typeof Oidc, error: unknown): IssuerError {
  if (error instanceof oidc.ResponseBodyError) {
    // 400/401 from the token endpoint: the code or client was refused (invalid_grant for a used code).
    return error.status >= 500
      ? new IssuerError('unreachable', `its token endpoint answered ${error.status} ${error.error}`)
      : new IssuerError('rejected', `its token endpoint refused the code: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`);
  }
  if (error instanceof oidc.AuthorizationResponseError) return new IssuerError('rejected', `it answered ${error.error}`);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && REJECTED_CODES.has(code)) return new IssuerError('rejected', `its answer failed a check: ${describe(error)}`);
  return new IssuerError('unreachable', describe(error));
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`.slice(0, 300);
}
