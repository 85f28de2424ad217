-- Findings of the detectors (src/detect): one row per enrolment and misconduct type, updated when
-- a replay finds it again. Evidence for a person to judge, never a sanction.
CREATE TABLE IF NOT EXISTS findings (
  id             INTEGER PRIMARY KEY,
  type           TEXT NOT NULL CHECK (type IN ('course_brushing','proxy_study','exam_brushing','proxy_exam')),
  registration   TEXT NOT NULL,
  student        TEXT NOT NULL,
  university     TEXT NOT NULL,
  course         TEXT NOT NULL,
  platform       TEXT NOT NULL,
  score          REAL NOT NULL,
  threshold      REAL NOT NULL,
  rules          TEXT NOT NULL,
  thresholds     TEXT NOT NULL,   -- JSON object: rule -> {value, threshold, strength, unit}
  comparison     TEXT NOT NULL,   -- comparison groups of the rules
  evidence       TEXT NOT NULL,   -- JSON array of statement ids, decisive first
  explain_zh     TEXT NOT NULL,
  explain_en     TEXT NOT NULL,
  decisive_ts_us INTEGER NOT NULL,
  found_at_us    INTEGER NOT NULL,
  created_us     INTEGER NOT NULL,
  status         TEXT NOT NULL DEFAULT 'open',
  UNIQUE (registration, type)
);
CREATE INDEX IF NOT EXISTS findings_student ON findings (university, student);
CREATE INDEX IF NOT EXISTS findings_course ON findings (course);
CREATE INDEX IF NOT EXISTS findings_created ON findings (created_us);
