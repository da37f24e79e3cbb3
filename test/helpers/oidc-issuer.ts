import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/**
 * A real OpenID Connect issuer on 127.0.0.1: panva's certified oidc-provider,
 * with one confidential client and accounts the test can change. Its login
 * and consent are this file's own interaction route instead of HTML forms:
 * GET /interaction/{uid}?account=alice signs in as alice and consents,
 * ?deny=1 answers access_denied (the user pressed "cancel").
 */
export interface TestAccount {
  email: string;
  emailVerified: boolean;
  name?: string;
}

export interface TestIssuer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** By id (the subject); change them between sign-ins. */
  accounts: Map<string, TestAccount>;
  close(): Promise<void>;
}

/**
 * `emailInIdToken`: put email and email_verified in the ID token itself (as
 * Google does); by default oidc-provider follows OpenID Connect Core 5.4 and
 * sends scope claims from UserInfo only.
 */
export async function startTestIssuer(redirectUris: string[], options: { emailInIdToken?: boolean } = {}): Promise<TestIssuer> {
  const accounts = new Map<string, TestAccount>();
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server: Server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'booking-engine-test';
  const clientSecret = 'a-test-client-secret-of-some-length';

  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId, client_secret: clientSecret, redirect_uris: redirectUris,
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
    }],
    cookies: { keys: ['oidc-test-cookie-key-0123456789'] },
    jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'test', alg: 'RS256', use: 'sig' }] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    conformIdTokenClaims: !options.emailInIdToken,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, id) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: account.email, email_verified: account.emailVerified, ...(account.name ? { name: account.name } : {}) };
        },
      };
    },
  });
  const callback = provider.callback();

  async function interact(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, issuer);
    const details = await provider.interactionDetails(req, res);
    if (url.searchParams.get('deny') === '1') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user cancelled' }, { mergeWithLastSubmission: false });
      return;
    }
    const accountId = url.searchParams.get('account') ?? '';
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
    grant.addOIDCScope(String(details.params.scope));
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }

  handle = (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interact(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    void callback(req, res);
  };

  return {
    issuer, clientId, clientSecret, accounts,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A browser's cookie jar, enough for one issuer on one host (paths ignored). */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at).trim(), pair!.slice(at + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * The browser's part at the issuer: opens the authorization URL and follows
 * redirects (signing in as `account` on the interaction page) until the
 * issuer sends it to our callback; returns that URL, unopened.
 */
export async function signInAtIssuer(
  authorizationUrl: string,
  options: { account: string; deny?: boolean; callbackPrefix: string },
): Promise<URL> {
  const jar = new CookieJar();
  let url = authorizationUrl;
  for (let hop = 0; hop < 20; hop++) {
    if (url.startsWith(options.callbackPrefix)) return new URL(url);
    const target = new URL(url);
    if (target.pathname.startsWith('/interaction/')) {
      target.searchParams.set(options.deny ? 'deny' : 'account', options.deny ? '1' : options.account);
    }
    const res = await fetch(target, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.take(res);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      throw new Error(`the issuer answered ${res.status} at ${target.href}: ${(await res.text()).slice(0, 500)}`);
    }
    url = new URL(location, target).href;
  }
  throw new Error('too many redirects at the issuer');
}
