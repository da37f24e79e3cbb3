-- Profile images (src/features/identity/avatars.ts). The key names the stored
-- object, `avatars/<user id>/<upload id>`: a new upload is a new key, so an
-- avatar's URL never changes its bytes and may be cached forever. The content
-- type is the one sniffed from the bytes when the upload completed.
ALTER TABLE users ADD COLUMN avatar_key text;
ALTER TABLE users ADD COLUMN avatar_content_type text;
ALTER TABLE users ADD CONSTRAINT users_avatar_complete CHECK ((avatar_key IS NULL) = (avatar_content_type IS NULL));
-- GET /v1/avatars/... serves only a user's current avatar: looked up by key.
CREATE UNIQUE INDEX users_avatar_key ON users (avatar_key) WHERE avatar_key IS NOT NULL;

-- Secrets this server makes for itself, shared by every process of one
-- database: the key of the local store's signed upload URLs when
-- UPLOAD_SIGNING_KEY is not set. The first process to start inserts it.
CREATE TABLE server_secrets (
  name       text PRIMARY KEY,
  secret     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
