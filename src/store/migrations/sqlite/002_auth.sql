-- 002_auth.sql: people who use the console and API (users) and their sessions.
--
-- Passwords are kept only as argon2id strings (libsodium crypto_pwhash_str). Session and bearer
-- tokens are kept only as their BLAKE2b-256 digest, so a copy of the database cannot be replayed
-- as a login. org_kind/province are plain columns here; the organisation registry owns the
-- organisations themselves.

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 63),
  display_name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL,
  org_id INTEGER NOT NULL DEFAULT 0,
  org_kind TEXT NOT NULL DEFAULT '',
  province TEXT NOT NULL DEFAULT '',
  student_id INTEGER NOT NULL DEFAULT 0,
  password_hash TEXT NOT NULL,
  prev_password_hash TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'locked')),
  failed_count INTEGER NOT NULL DEFAULT 0,
  locked_until_us INTEGER NOT NULL DEFAULT 0,
  password_changed_us INTEGER NOT NULL,
  must_change INTEGER NOT NULL DEFAULT 0,
  -- TOTP secret: an SM4-CTR + HMAC-SM3 sealed token (crypto.h field "user.totp_secret") when
  -- the key directory is loaded, else hex of the 20 bytes; totp_enabled once the user proved a
  -- code from it.
  totp_secret TEXT NOT NULL DEFAULT '',
  totp_enabled INTEGER NOT NULL DEFAULT 0,
  -- a new secret being enrolled, until the user proves a code from it
  totp_pending TEXT NOT NULL DEFAULT '',
  totp_last_step INTEGER NOT NULL DEFAULT 0,
  created_us INTEGER NOT NULL
);

CREATE TABLE sessions (
  token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  bearer INTEGER NOT NULL DEFAULT 0,
  csrf TEXT NOT NULL,
  mfa INTEGER NOT NULL DEFAULT 0,
  created_us INTEGER NOT NULL,
  last_seen_us INTEGER NOT NULL,
  client_ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
