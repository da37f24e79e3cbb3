import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

/** The sign-in issuers of the environment (src/config-oidc.ts). */
describe('config: OpenID Connect sign-in', () => {
  const corp = { issuer: 'https://login.corp.example', clientId: 'booking', clientSecret: 's3cret' };
  const issuers = (value: unknown) => ({ OIDC_ISSUERS: typeof value === 'string' ? value : JSON.stringify(value) });
  const google = { GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com', GOOGLE_CLIENT_SECRET: 'secret' };

  it('none by default', () => {
    expect(loadConfig({}).oidcIssuers).toEqual({});
  });

  it('reads OIDC_ISSUERS with defaults: scopes, sign-up from OPEN_SIGNUP, return URL from OIDC_RETURN_URL', () => {
    const config = loadConfig({ ...issuers({ corp }), OPEN_SIGNUP: 'true', OIDC_RETURN_URL: 'https://app.example/signed-in' });
    expect(config.oidcIssuers.corp).toEqual({
      name: 'corp', issuer: 'https://login.corp.example', clientId: 'booking', clientSecret: 's3cret',
      scopes: ['openid', 'email', 'profile'], endpoints: null, returnUrl: 'https://app.example/signed-in', signup: true, allowHttp: false,
    });
    const own = loadConfig(issuers({ corp: { ...corp, scopes: ['openid'], signup: true, returnUrl: 'https://other.example/x' } })).oidcIssuers.corp!;
    expect(own).toMatchObject({ scopes: ['openid', 'email'], signup: true, returnUrl: 'https://other.example/x' });
    expect(loadConfig(issuers({ pub: { issuer: 'https://id.example', clientId: 'spa' } })).oidcIssuers.pub!.clientSecret).toBeNull();
    expect(loadConfig(issuers({ local: { ...corp, issuer: 'http://127.0.0.1:4000' } })).oidcIssuers.local!.allowHttp).toBe(true);
  });

  it('adds Google from GOOGLE_CLIENT_ID/SECRET with its well-known endpoints, unless GOOGLE_SIGN_IN=false or OIDC_ISSUERS has a "google"', () => {
    const config = loadConfig(google);
    expect(config.oidcIssuers.google).toMatchObject({
      issuer: 'https://accounts.google.com', clientId: google.GOOGLE_CLIENT_ID, clientSecret: 'secret',
      endpoints: { authorization: 'https://accounts.google.com/o/oauth2/v2/auth', token: 'https://oauth2.googleapis.com/token', jwks: 'https://www.googleapis.com/oauth2/v3/certs' },
      allowHttp: false, signup: false,
    });
    expect(loadConfig({ ...google, GOOGLE_SIGN_IN: 'false' }).oidcIssuers.google).toBeUndefined();
    expect(loadConfig({ ...google, ...issuers({ google: corp }) }).oidcIssuers.google!.issuer).toBe(corp.issuer);
    expect(loadConfig({ GOOGLE_CLIENT_ID: 'only-the-id' }).oidcIssuers.google).toBeUndefined();
  });

  it.each([
    ['{not json', /not valid JSON/],
    ['[]', /must be a JSON object of issuers by name/],
    [JSON.stringify({ corp: 'https://login.corp.example' }), /"corp" must be an object/],
    [JSON.stringify({ 'Bad Name': corp }), /"Bad Name" is not a usable name/],
    [JSON.stringify({ corp: { ...corp, issuer: undefined } }), /"corp"\.issuer is required/],
    [JSON.stringify({ corp: { ...corp, issuer: 'not a url' } }), /"corp"\.issuer is not a valid URL/],
    [JSON.stringify({ corp: { ...corp, issuer: 'http://login.corp.example' } }), /"corp"\.issuer must use https/],
    [JSON.stringify({ corp: { ...corp, issuer: 'https://login.corp.example?x=1' } }), /no query or fragment/],
    [JSON.stringify({ corp: { ...corp, clientId: '' } }), /"corp"\.clientId is required/],
    [JSON.stringify({ corp: { ...corp, clientSecret: 42 } }), /"corp"\.clientSecret must be a non-empty string/],
    [JSON.stringify({ corp: { ...corp, client_id: 'x' } }), /"corp" has an unknown field "client_id"/],
    [JSON.stringify({ corp: { ...corp, scopes: 'openid email' } }), /"corp"\.scopes must be a list/],
    [JSON.stringify({ corp: { ...corp, signup: 'yes' } }), /"corp"\.signup must be true or false/],
    [JSON.stringify({ corp: { ...corp, returnUrl: 'https://app.example/#x' } }), /"corp"\.returnUrl must have no fragment/],
  ])('refuses OIDC_ISSUERS=%s with a message naming the problem', (value, message) => {
    let error: unknown;
    try {
      loadConfig(issuers(value));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('OIDC_ISSUERS');
    expect((error as Error).message).toMatch(/^OIDC_ISSUERS: /);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a bad OIDC_RETURN_URL and GOOGLE_SIGN_IN=true without Google\'s client', () => {
    expect(() => loadConfig({ OIDC_RETURN_URL: 'ftp://x.example/' })).toThrow(/^OIDC_RETURN_URL: must use http or https/);
    expect(() => loadConfig({ OIDC_RETURN_URL: 'https://x.example/#k' })).toThrow(/^OIDC_RETURN_URL: must have no fragment/);
    expect(() => loadConfig({ GOOGLE_SIGN_IN: 'true' })).toThrow(/^GOOGLE_SIGN_IN: is true but GOOGLE_CLIENT_ID/);
    expect(() => loadConfig({ GOOGLE_SIGN_IN: 'perhaps' })).toThrow(/^GOOGLE_SIGN_IN: must be true or false/);
  });

  it('a bad OIDC_ISSUERS stops the server with the variable named', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, OIDC_ISSUERS: '{"corp": {"issuer": "http://login.corp.example", "clientId": "x"}}', DATA_DIR: 'memory' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.status).not.toBeNull();
    expect(run.stderr).toContain('OIDC_ISSUERS: "corp".issuer must use https');
  });
});
