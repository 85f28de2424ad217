-- 003_audit.sql — the append-only, hash-chained audit log (src/audit, docs/crypto.md).
-- Rows are never updated. DELETE is refused except for records at or below the newest purge
-- anchor (retention purge, which first writes the anchor at a signed checkpoint).
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,       -- 1, 2, 3, ... assigned by the appender, dense
  at_us INTEGER NOT NULL,        -- wall clock, microseconds since the epoch (UTC)
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT,
  before_sm3 TEXT,               -- SM3 (hex) of the object's canonical bytes before, NULL: created
  after_sm3 TEXT,                -- SM3 (hex) after, NULL: deleted
  source_ip TEXT,
  prev_hash TEXT NOT NULL,       -- hash of record seq-1 (64 zeros for seq 1)
  hash TEXT NOT NULL             -- SM3 over the canonical encoding of all the above
);
CREATE INDEX audit_log_at ON audit_log (at_us);

-- Signed chain heads. key_id names sign-NNNNNNNN.key in the key directory.
CREATE TABLE audit_checkpoint (
  seq INTEGER PRIMARY KEY,       -- the record whose hash is signed
  hash TEXT NOT NULL,
  record_at_us INTEGER NOT NULL, -- that record's at_us (retention decides on it)
  created_us INTEGER NOT NULL,
  key_id INTEGER NOT NULL,
  public_key TEXT NOT NULL,      -- Ed25519, hex (informative: verification uses the key directory)
  signature TEXT NOT NULL        -- Ed25519, hex
);

-- Retention purges: records 1..upto_seq were removed; upto_seq is a signed checkpoint.
CREATE TABLE audit_anchor (
  id INTEGER PRIMARY KEY,
  upto_seq INTEGER NOT NULL,
  hash TEXT NOT NULL,            -- hash of record upto_seq = prev_hash of the first kept record
  purged_us INTEGER NOT NULL,
  n_purged INTEGER NOT NULL,
  retention_days INTEGER NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq > (SELECT coalesce(max(upto_seq), 0) FROM audit_anchor)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only (only purged ranges may be deleted)'); END;
CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END;
CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END;
CREATE TRIGGER audit_anchor_no_update BEFORE UPDATE ON audit_anchor
BEGIN SELECT RAISE(ABORT, 'audit_anchor is append-only'); END;
CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
BEGIN SELECT RAISE(ABORT, 'audit_anchor is append-only'); END;
-- An anchor must sit on a signed checkpoint and move forward only.
CREATE TRIGGER audit_anchor_at_checkpoint BEFORE INSERT ON audit_anchor
WHEN NOT EXISTS (SELECT 1 FROM audit_checkpoint WHERE seq = NEW.upto_seq AND hash = NEW.hash)
  OR NEW.upto_seq <= (SELECT coalesce(max(upto_seq), 0) FROM audit_anchor)
BEGIN SELECT RAISE(ABORT, 'audit_anchor must be a newer signed checkpoint'); END;
