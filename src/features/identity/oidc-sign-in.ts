import { createHash } from 'node:crypto';
import type { OidcIssuerConfig } from '../../config-oidc.js';
import { SQLSTATE, sqlState } from '../../db/database.js';
import { consumeOidcState, findIdentityUser, insertOidcState, linkIdentity, recordIdentitySignIn } from '../../db/oidc-repo.js';
import { findUserByEmail, findUserById, insertUser, type UserRecord } from '../../db/users-repo.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { formatInstant } from '../../domain/zoned-time.js';
import { authorizationUrl, exchangeCode, IssuerError, newFlowSecrets, type IssuerSignIn } from '../../integrations/oidc/openid-issuer.js';
import { newId } from '../../platform/crypto/secrets.js';
import type { AppContext } from '../context.js';
import { issueApiKeyWithinCap } from './auth.js';
import { toUserView, type UserView } from './users.js';

/**
 * Sign-in with an OpenID Connect issuer (authorization code flow, PKCE S256):
 *
 * 1. GET /v1/auth/oidc/{provider}/start makes a state, a nonce and a PKCE
 *    verifier, stores them (the state as SHA-256) for STATE_TTL_MS, and sends
 *    the browser to the issuer. The state also goes into a cookie that only
 *    the callback path reads: the flow finishes in the browser that began it.
 * 2. The issuer sends the browser to GET …/callback?code=…&state=…; the state
 *    is taken (deleted: single use, any server process), the code traded for
 *    tokens, and the ID token checked by openid-client.
 * 3. The issuer's subject (iss + sub) finds its user; a first sign-in links to
 *    the user with that email (the issuer must have verified it), or creates
 *    a client when sign-up is open. The answer is a new API key.
 */
export const STATE_TTL_MS = 10 * 60 * 1000;

const hashState = (state: string) => createHash('sha256').update(state, 'utf8').digest('base64url');

export function requireIssuer(ctx: AppContext, name: string): OidcIssuerConfig {
  const issuer = Object.hasOwn(ctx.config.oidcIssuers, name) ? ctx.config.oidcIssuers[name] : undefined;
  if (!issuer) throw new AppError('not_found', `No sign-in provider named "${name}" is configured on this server.`);
  return issuer;
}

/** The callback URL registered with the issuer: built on PUBLIC_BASE_URL, never on the request's Host. */
export function redirectUriOf(ctx: AppContext, name: string): string {
  return `${ctx.config.publicBaseUrl}/v1/auth/oidc/${name}/callback`;
}

function unreachable(issuer: OidcIssuerConfig, error: IssuerError): AppError {
  return new AppError('unavailable', `The sign-in provider "${issuer.name}" could not be reached: ${error.message}. Try again later.`, undefined, 30);
}

/** Step 1: the issuer's authorization URL and the state to bind to the browser. */
export async function startOidcSignIn(ctx: AppContext, name: string): Promise<{ url: string; state: string }> {
  const issuer = requireIssuer(ctx, name);
  const flow = { provider: name, ...(await newFlowSecrets()) };
  let url: URL;
  try {
    url = await authorizationUrl(issuer, { redirectUri: redirectUriOf(ctx, name), ...flow });
  } catch (error) {
    if (error instanceof IssuerError) throw unreachable(issuer, error);
    throw error;
  }
  const now = ctx.clock.now();
  await insertOidcState(ctx.db, { ...flow, stateHash: hashState(flow.state), expiresAt: now + STATE_TTL_MS }, now);
  return { url: url.href, state: flow.state };
}

export interface OidcSignInResult {
  apiKey: string;
  expiresAt: string;
  /** created: a new client; linked: this identity joined the user with its email; signedIn: known already. */
  outcome: 'created' | 'linked' | 'signedIn';
  user: UserView;
}

export interface OidcCallback {
  /** The query string as the issuer sent it (`?code=…&state=…&iss=…`). */
  search: string;
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
  /** The state of the cookie set at the start; the callback must come from that browser. */
  browserState: string | null;
}

const badState = () => new AppError('oidc_state_invalid',
  'This sign-in is unknown, already finished, expired or was started in another browser; start it again.',
  [{ path: 'state', message: 'is unknown, already used, expired or not this browser\'s' }]);

/** Step 2 and 3: checks, exchange, the user, the key. */
export async function completeOidcSignIn(ctx: AppContext, name: string, callback: OidcCallback): Promise<OidcSignInResult> {
  const issuer = requireIssuer(ctx, name);
  if (callback.state === undefined || callback.browserState !== callback.state) throw badState();
  const flow = await consumeOidcState(ctx.db, hashState(callback.state), name, ctx.clock.now());
  if (!flow) throw badState();
  if (callback.error !== undefined) {
    const said = /^[a-z_]{1,64}$/.test(callback.error) ? callback.error : 'an error';
    throw new AppError('oidc_denied', `The sign-in provider answered ${said}${said === 'access_denied' ? ' (the sign-in was cancelled or refused)' : ''}; start again to retry.`);
  }
  if (callback.code === undefined) throw invalidField('code', 'is required: the issuer\'s answer carries either code or error');

  let signIn: IssuerSignIn;
  try {
    signIn = await exchangeCode(issuer, new URL(`${redirectUriOf(ctx, name)}${callback.search}`), { state: callback.state, ...flow });
  } catch (error) {
    if (!(error instanceof IssuerError)) throw error;
    if (error.kind === 'unreachable') throw unreachable(issuer, error);
    throw new AppError('oidc_rejected', `The sign-in was refused: ${error.message}. Start again.`);
  }
  const email = usableEmail(signIn.email);
  if (email === null || !signIn.emailVerified) {
    throw new AppError('oidc_email_unverified', `The sign-in provider "${name}" sent no verified email address for this account; verify it there, then sign in again.`);
  }
  const { user, outcome } = await findOrCreateUser(ctx, issuer, { ...signIn, email });
  const expiresAt = new Date(ctx.clock.now() + ctx.config.loginKeyTtlSeconds * 1000);
  const keyName = `oidc:${name}`;
  const key = await issueApiKeyWithinCap(ctx, user.id, { name: keyName, expiresAt, replaceOldestNamed: keyName });
  return { apiKey: key.secret, expiresAt: formatInstant(expiresAt.getTime()), outcome, user: toUserView(user, ctx.config.publicBaseUrl) };
}

/** One address of at most 320 characters, no spaces or control characters; anything else is as good as none. */
function usableEmail(email: string | null): string | null {
  return email !== null && email.length <= 320 && /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+$/u.test(email) ? email : null;
}

/** A name for a new user: the issuer's, else the email's local part; printable, at most 200 characters. */
function nameFor(signIn: IssuerSignIn & { email: string }): string {
  const clean = (signIn.name ?? '').replace(/[\p{Cc}\p{Cf}]/gu, '').trim().slice(0, 200);
  return clean !== '' ? clean : signIn.email.split('@')[0]!.slice(0, 200) || 'New client';
}

function refuseUser(user: UserRecord): void {
  if (user.deactivatedAt !== null) throw new AppError('forbidden', 'This account was deleted; it cannot sign in.');
  // An administrator acts on anyone's behalf: that is never handed out on an issuer's word.
  if (user.role === 'admin') throw new AppError('forbidden', 'Administrators do not sign in through an identity provider.');
}

async function findOrCreateUser(
  ctx: AppContext,
  issuer: OidcIssuerConfig,
  signIn: IssuerSignIn & { email: string },
): Promise<{ user: UserRecord; outcome: OidcSignInResult['outcome'] }> {
  const { email } = signIn;
  try {
    return await ctx.db.transaction(async (tx) => {
      // Two first sign-ins of one subject at once: the second finds the first's link.
      await tx.query('SELECT pg_advisory_xact_lock(724113, hashtext($1))', [`${issuer.issuer} ${signIn.subject}`]);
      const linkedId = await findIdentityUser(tx, issuer.issuer, signIn.subject);
      if (linkedId !== null) {
        const user = await findUserById(tx, linkedId);
        if (!user) throw new AppError('forbidden', 'This account was deleted; it cannot sign in.');
        refuseUser(user);
        await recordIdentitySignIn(tx, issuer.issuer, signIn.subject, email);
        return { user, outcome: 'signedIn' as const };
      }
      const existing = await findUserByEmail(tx, email);
      if (existing) {
        refuseUser(existing);
        await linkIdentity(tx, { issuer: issuer.issuer, subject: signIn.subject, userId: existing.id, email });
        return { user: existing, outcome: 'linked' as const };
      }
      if (!issuer.signup) {
        throw new AppError('forbidden', `No user has the email ${email}, and sign-up through "${issuer.name}" is closed; ask an administrator for an account.`);
      }
      const user = await insertUser(tx, {
        id: newId('usr'), name: nameFor(signIn), email, role: 'client', timeZone: 'UTC', passwordHash: null,
      });
      await linkIdentity(tx, { issuer: issuer.issuer, subject: signIn.subject, userId: user.id, email });
      return { user, outcome: 'created' as const };
    });
  } catch (error) {
    // A user with this email created by POST /v1/users in the same instant.
    if (sqlState(error) === SQLSTATE.uniqueViolation) throw new AppError('email_taken', `A user with the email ${email} was created at the same time; sign in again.`);
    throw error;
  }
}
