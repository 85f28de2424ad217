-- 001_statements.sql: statements, their filter keys, attachments, credentials and settings.
--
-- Filter keys (agents, verbs, activities) are interned into small integer ids so the hot index
-- tables stay narrow. Every filterable key of a statement lives in a WITHOUT ROWID relation table
-- clustered on (key, seq), so each GET filter is one ordered range scan and several filters are a
-- merge of ordered seq streams. A statement whose object is a StatementRef also carries the keys of
-- the statement it targets (transitively), as xAPI's filter rule for StatementRefs requires; the
-- `keys` column keeps that effective set in compact form so it can be copied onward.

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

-- seq is the commit order; stored_us is the caller's clock (see store.h).
CREATE TABLE statements (
  seq INTEGER PRIMARY KEY,
  id BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
  stored_us INTEGER NOT NULL,
  timestamp_us INTEGER NOT NULL,
  actor_id INTEGER REFERENCES agents (id),
  verb_id INTEGER NOT NULL REFERENCES verbs (id),
  object_activity_id INTEGER REFERENCES activities (id),
  object_agent_id INTEGER REFERENCES agents (id),
  registration BLOB CHECK (registration IS NULL OR length(registration) = 16),
  object_ref BLOB CHECK (object_ref IS NULL OR length(object_ref) = 16),
  voided INTEGER NOT NULL DEFAULT 0,
  is_voiding INTEGER NOT NULL DEFAULT 0,
  platform_id INTEGER NOT NULL DEFAULT 0,
  cmp_hash BLOB NOT NULL CHECK (length(cmp_hash) = 32),
  keys BLOB NOT NULL,
  json TEXT NOT NULL
);

CREATE INDEX statements_platform ON statements (platform_id);
CREATE INDEX statements_timestamp ON statements (timestamp_us);
-- Who targets a statement: used when a target arrives after its referrers (voiding, key copy).
CREATE INDEX statements_object_ref ON statements (object_ref) WHERE object_ref IS NOT NULL;

-- direct = 1: the agent is the actor or the object (of the statement or, through StatementRefs,
-- of a statement it targets); 0: it appears only elsewhere (related_agents=true matches both).
CREATE TABLE statement_agents (
  agent_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  direct INTEGER NOT NULL,
  PRIMARY KEY (agent_id, seq)
) WITHOUT ROWID;

-- direct = 1: the activity is the object; 0: context or sub-statement only.
CREATE TABLE statement_activities (
  activity_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  direct INTEGER NOT NULL,
  PRIMARY KEY (activity_id, seq)
) WITHOUT ROWID;

CREATE TABLE statement_verbs (
  verb_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (verb_id, seq)
) WITHOUT ROWID;

CREATE TABLE statement_registrations (
  registration BLOB NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (registration, seq)
) WITHOUT ROWID;

-- One row per committed write transaction: seq is its last statement, pmax_us the highest stored
-- of every statement up to seq, floor_us the lowest stored inside the transaction, total the
-- statement count so far. pmax_us grows with seq, so since/until map to seq ranges through it.
CREATE TABLE stored_marks (
  pmax_us INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  floor_us INTEGER NOT NULL,
  total INTEGER NOT NULL,
  PRIMARY KEY (pmax_us, seq)
) WITHOUT ROWID;

-- Integer facts the store keeps about itself (max_lag_us: largest pmax_us - floor_us of a mark).
CREATE TABLE store_meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

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
