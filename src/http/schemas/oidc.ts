import { Type, type Static } from 'typebox';
import { Instant, named } from './common.js';
import { User } from './users.js';

export const OidcProviderParams = Type.Object({
  provider: Type.String({
    minLength: 1, maxLength: 64, examples: ['google'],
    description: 'A configured sign-in provider: "google", or a name from OIDC_ISSUERS',
  }),
});

/** What the issuer sends back; it may add its own parameters (iss, scope, authuser…), so others are let through. */
export const OidcCallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  state: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  error: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
}, { additionalProperties: true });
export type OidcCallbackQuery = Static<typeof OidcCallbackQuery>;

export const OidcSignInResult = named('OidcSignInResult', Type.Object({
  apiKey: Type.String({ description: 'Shown once; store it now' }),
  expiresAt: Instant,
  outcome: Type.Union([Type.Literal('created'), Type.Literal('linked'), Type.Literal('signedIn')], {
    description: 'created: a new client; linked: the identity was joined to the user with this verified email; signedIn: a known identity',
  }),
  user: User,
}), 'Signed in: a new API key for the user of this identity');
