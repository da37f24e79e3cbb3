-- Login throttling per email (issue 14, item 1). Each password check takes a
-- row first (under a per-email lock, only while fewer than LOGIN_MAX_FAILURES
-- rows are younger than the window); a right password deletes its row again,
-- so the rows are the failures plus the checks in flight. The email is kept
-- only as a SHA-256 of its lower-cased form, whether or not a user has it.
CREATE TABLE login_attempts (
  id         text PRIMARY KEY,
  email_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email ON login_attempts (email_hash, created_at);
