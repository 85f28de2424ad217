-- 001_statements.sql: statements, their filter keys, attachments, credentials and settings.
--
-- Write path: a commit writes the statement row only (seq is the INTEGER PRIMARY KEY, so rows are
-- appended). Its filter keys are kept in the `keys` column and, for the newest statements, in an
-- in-memory posting index; every 262144 statements that index is flushed as one segment: one
-- `postings` row per (segment, key) holding the segment's seqs for the key, and one
-- `statement_ids` row per statement. After a crash the unflushed tail is rebuilt from the rows.
--
-- Filter keys share one integer space: (interned id << 3) | kind, kinds 1 agent, 2 activity,
-- 3 verb, 4 registration, 5 platform (platform_id itself, not interned).

CREATE TABLE agents (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE
);

CREATE TABLE verbs (
  id INTEGER PRIMARY KEY,
  iri TEXT NOT NULL UNIQUE
);

CREATE TABLE activities (
  id INTEGER PRIMARY KEY,
  iri TEXT NOT NULL UNIQUE
);

CREATE TABLE registrations (
  id INTEGER PRIMARY KEY,
  uuid BLOB NOT NULL UNIQUE CHECK (length(uuid) = 16)
);

-- seq is the commit order; stored_us is the caller's clock (see store.h). id is unique: the store
-- checks it against statement_ids and its in-memory tail before inserting (a UNIQUE index here
-- would cost a random B-tree write per statement). keys: the statement's effective filter keys
-- (its own and, for a StatementRef, its target's), sorted, varint-encoded (key << 1 | direct).
-- actor_id .. object_agent_id are ids from the intern tables above. Like the seq and segment
-- columns of the index tables below, they are not declared as foreign keys: each check costs a
-- parent lookup per row written (measured: a tenth of the writer's time per statement here,
-- a fifth more in a segment flush) for values the store itself assigns.
CREATE TABLE statements (
  seq INTEGER PRIMARY KEY,
  id BLOB NOT NULL CHECK (length(id) = 16),
  stored_us INTEGER NOT NULL,
  timestamp_us INTEGER NOT NULL,
  actor_id INTEGER,
  verb_id INTEGER NOT NULL,
  object_activity_id INTEGER,
  object_agent_id INTEGER,
  registration BLOB CHECK (registration IS NULL OR length(registration) = 16),
  object_ref BLOB CHECK (object_ref IS NULL OR length(object_ref) = 16),
  voided INTEGER NOT NULL DEFAULT 0,
  is_voiding INTEGER NOT NULL DEFAULT 0,
  platform_id INTEGER NOT NULL DEFAULT 0,
  cmp_hash BLOB NOT NULL CHECK (length(cmp_hash) = 32),
  keys BLOB NOT NULL,
  json TEXT NOT NULL
);

-- Who targets a statement: used when a target arrives after its referrers (voiding, key copy).
CREATE INDEX statements_object_ref ON statements (object_ref) WHERE object_ref IS NOT NULL;

-- id -> seq of every statement in a flushed segment.
CREATE TABLE statement_ids (
  id BLOB PRIMARY KEY,
  seq INTEGER NOT NULL
) WITHOUT ROWID;

-- Flushed segments: statements lo_seq..hi_seq, their timestamps within min_ts_us..max_ts_us
-- (the coarse level of the timestamp zone map; stored_marks is the fine one).
CREATE TABLE segments (
  hi_seq INTEGER PRIMARY KEY,
  lo_seq INTEGER NOT NULL,
  statements INTEGER NOT NULL,
  min_ts_us INTEGER NOT NULL,
  max_ts_us INTEGER NOT NULL
);

-- Posting lists: the seqs of segment `segment` (its hi_seq) carrying `key`, ascending, as
-- varints: first (seq - lo_seq) << 1 | direct, then (seq - previous) << 1 | direct. direct = 1:
-- the agent is actor or object, the activity is the object (also through StatementRefs); verbs,
-- registrations and platforms are always direct. Clustered on (segment, key) so a flush appends.
CREATE TABLE postings (
  segment INTEGER NOT NULL,
  key INTEGER NOT NULL,
  n INTEGER NOT NULL,
  seqs BLOB NOT NULL,
  PRIMARY KEY (segment, key)
) WITHOUT ROWID;

-- One row per committed write transaction: seq is its last statement, pmax_us the highest stored
-- of every statement up to seq, floor_us the lowest stored inside the transaction, total the
-- statement count so far, min_ts_us..max_ts_us the span of its timestamps (a zone map for the
-- timestamp filters). pmax_us grows with seq, so since/until map to seq ranges through it.
CREATE TABLE stored_marks (
  seq INTEGER PRIMARY KEY,
  pmax_us INTEGER NOT NULL,
  floor_us INTEGER NOT NULL,
  total INTEGER NOT NULL,
  min_ts_us INTEGER NOT NULL,
  max_ts_us INTEGER NOT NULL
);
CREATE INDEX stored_marks_pmax ON stored_marks (pmax_us);

-- Integer facts the store keeps about itself (max_lag_us: largest pmax_us - floor_us of a mark;
-- layout: the table layout this file creates, checked at open, so a store made by a development
-- build with an earlier version of this file is refused rather than misread).
CREATE TABLE store_meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO store_meta (name, value) VALUES ('layout', 2);

CREATE TABLE attachments (
  sha2 TEXT PRIMARY KEY CHECK (length(sha2) = 64),
  content_type TEXT NOT NULL,
  data BLOB NOT NULL
);

CREATE TABLE credentials (
  id INTEGER PRIMARY KEY,
  platform_id INTEGER NOT NULL,
  key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_us INTEGER NOT NULL
);
CREATE INDEX credentials_platform ON credentials (platform_id);

CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
