-- Google Calendar's OAuth consent: POST .../calendars { type: "google" }
-- stores the connection as "pending" and one state here; the provider is sent
-- to Google with the state, and Google sends them back to
-- GET /v1/calendars/google/callback?code=...&state=... . The state is the
-- callback's only credential, so only its SHA-256 is kept, it expires, and the
-- callback deletes it as it reads it (single use). A deleted connection takes
-- its state with it.
CREATE TABLE google_oauth_states (
  state_hash    text PRIMARY KEY,
  connection_id text NOT NULL REFERENCES calendar_connections (id) ON DELETE CASCADE,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX google_oauth_states_connection ON google_oauth_states (connection_id);
CREATE INDEX google_oauth_states_expiry ON google_oauth_states (expires_at);
