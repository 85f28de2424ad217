-- 007_privacy.sql: personal-information operations (src/privacy, docs/privacy.md).
--
-- Consent records are append-only: a grant or a withdrawal adds a row naming the notice version
-- the student saw (and its SHA-256), the time and the client IP, so the state at any past moment
-- (when a face check happened) can be shown. The newest row at or before a time is the state then.
CREATE TABLE privacy_consents (
  id INTEGER PRIMARY KEY,
  student_id INTEGER NOT NULL,            -- reg_students.id
  user_id INTEGER NOT NULL,               -- the account that acted (the student's)
  purpose TEXT NOT NULL CHECK (purpose IN ('face')),
  granted INTEGER NOT NULL CHECK (granted IN (0, 1)),
  notice_version TEXT NOT NULL,
  notice_digest TEXT NOT NULL,
  client_ip TEXT NOT NULL DEFAULT '',
  at_us INTEGER NOT NULL
);
CREATE INDEX privacy_consents_student ON privacy_consents (student_id, purpose, at_us, id);
CREATE TRIGGER privacy_consents_no_update BEFORE UPDATE ON privacy_consents
BEGIN SELECT RAISE(ABORT, 'privacy_consents is append-only'); END;
CREATE TRIGGER privacy_consents_no_delete BEFORE DELETE ON privacy_consents
BEGIN SELECT RAISE(ABORT, 'privacy_consents is append-only'); END;
