-- Sign-in with OpenID Connect issuers (Google, or any in OIDC_ISSUERS).
--
-- A flow in progress: GET /v1/auth/oidc/{provider}/start stores one row and
-- sends the browser to the issuer with the state; the callback deletes the
-- row as it reads it (single use), in whichever server process it lands.
-- Only the state's SHA-256 is kept. The PKCE verifier and the nonce are kept
-- as they are: the callback needs them, and neither is of use without the
-- authorization code, which only the browser ever holds.
CREATE TABLE oidc_states (
  state_hash    text PRIMARY KEY,
  provider      text NOT NULL,
  code_verifier text NOT NULL,
  nonce         text NOT NULL,
  expires_at    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oidc_states_expiry ON oidc_states (expires_at);

-- Who signed in where: an issuer's subject (the ID token's iss + sub, stable
-- for the account) belongs to one user. Later sign-ins find the user by it,
-- whatever the email has become at the issuer. Keyed by the issuer URL, not
-- the configured name, so renaming a provider keeps the links.
CREATE TABLE user_identities (
  issuer        text NOT NULL,
  subject       text NOT NULL,
  user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The verified email the issuer last sent (for support; never used to find the user).
  email         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_sign_in_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);
