-- 006_cases.sql: the misconduct workflow (教高〔2022〕1号 cl. 9, 10, 13, 14, 16, 19-22) and credit
-- recognition (cl. 1).
--
-- Tables are keyed by the ids of other areas (finding id, university/platform/course/student ids,
-- enrolment registration UUID as text) without foreign keys to them, so this area does not depend
-- on the order in which the registry and findings migrations land. Rows that record a decision
-- (cases, appeals, credit decisions) carry an integrity tag over their canonical bytes (mac); the
-- domain code computes and verifies it. Nothing here is ever deleted: a revoked sanction keeps its
-- row with revoked_us set.

-- What landed in a university's inbox: a detector finding or a report by a platform or teacher.
CREATE TABLE case_inbox (
  id INTEGER PRIMARY KEY,
  university_id INTEGER NOT NULL,
  platform_id INTEGER NOT NULL DEFAULT 0,
  course_id INTEGER NOT NULL DEFAULT 0,
  student_id INTEGER NOT NULL,
  registration TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL CHECK (source IN ('detector', 'platform', 'teacher')),
  finding_id INTEGER UNIQUE,                -- detector findings land once
  type TEXT NOT NULL CHECK (type IN ('course_brushing', 'proxy_study', 'exam_brushing',
                                     'proxy_exam', 'answer_leak')),
  summary TEXT NOT NULL,
  evidence TEXT NOT NULL,                   -- JSON as received
  reported_by TEXT NOT NULL,
  received_us INTEGER NOT NULL,
  case_id INTEGER REFERENCES cases(id)
);
CREATE INDEX case_inbox_univ ON case_inbox (university_id, case_id);
CREATE INDEX case_inbox_received ON case_inbox (received_us);

CREATE TABLE cases (
  id INTEGER PRIMARY KEY,
  university_id INTEGER NOT NULL,
  platform_id INTEGER NOT NULL DEFAULT 0,
  course_id INTEGER NOT NULL DEFAULT 0,
  student_id INTEGER NOT NULL,
  registration TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'investigating', 'dismissed', 'verified',
                                       'appealed', 'appeal_upheld', 'appeal_rejected')),
  service_involved INTEGER NOT NULL DEFAULT 0, -- a paid brushing service (referral possible)
  service_note TEXT NOT NULL DEFAULT '',
  opened_by_user INTEGER NOT NULL,
  opened_by TEXT NOT NULL,
  opened_us INTEGER NOT NULL,
  investigator_user INTEGER NOT NULL DEFAULT 0,
  investigator TEXT NOT NULL DEFAULT '',
  decided_by_user INTEGER NOT NULL DEFAULT 0,
  decided_by TEXT NOT NULL DEFAULT '',
  decided_us INTEGER NOT NULL DEFAULT 0,
  decision_reason TEXT NOT NULL DEFAULT '',
  appeal_deadline_us INTEGER NOT NULL DEFAULT 0,
  updated_us INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,      -- compare-and-set on every change
  mac TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cases_univ ON cases (university_id, state);
CREATE INDEX cases_student ON cases (student_id);
CREATE INDEX cases_registration ON cases (registration);

-- The timeline: one row per step, with who and when.
CREATE TABLE case_events (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  at_us INTEGER NOT NULL,
  actor_user INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- The student's response to the evidence (陈述和申辩).
CREATE TABLE case_responses (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  author_user INTEGER NOT NULL,
  author TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX case_responses_case ON case_responses (case_id, id);

CREATE TABLE case_sanctions (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  student_id INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('cancel_grade', 'warning', 'serious_warning', 'demerit',
                                     'probation', 'expulsion')),
  reason TEXT NOT NULL,
  decided_by_user INTEGER NOT NULL,
  decided_by TEXT NOT NULL,
  decided_us INTEGER NOT NULL,
  revoked_us INTEGER NOT NULL DEFAULT 0,
  UNIQUE (case_id, kind)
);
CREATE INDEX case_sanctions_student ON case_sanctions (student_id);

CREATE TABLE case_appeals (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL UNIQUE REFERENCES cases(id),
  filed_by_user INTEGER NOT NULL,
  filed_by TEXT NOT NULL,
  filed_us INTEGER NOT NULL,
  grounds TEXT NOT NULL,
  outcome TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'upheld', 'rejected')),
  decided_by_user INTEGER NOT NULL DEFAULT 0,
  decided_by TEXT NOT NULL DEFAULT '',
  decided_us INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT ''
);

-- The student's file (学生档案): what a verified case put there.
CREATE TABLE student_file (
  id INTEGER PRIMARY KEY,
  student_id INTEGER NOT NULL,
  university_id INTEGER NOT NULL,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  sanction_id INTEGER NOT NULL REFERENCES case_sanctions(id),
  kind TEXT NOT NULL,
  text TEXT NOT NULL,
  recorded_us INTEGER NOT NULL,
  revoked_us INTEGER NOT NULL DEFAULT 0,
  revoked_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX student_file_student ON student_file (student_id, id);

-- Credit-recognition decisions: every computation is kept; the newest per registration counts.
CREATE TABLE credit_decisions (
  id INTEGER PRIMARY KEY,
  registration TEXT NOT NULL,
  university_id INTEGER NOT NULL,
  student_id INTEGER NOT NULL,
  offering_id INTEGER NOT NULL DEFAULT 0,
  course_id INTEGER NOT NULL DEFAULT 0,
  eligible INTEGER NOT NULL CHECK (eligible IN (0, 1)),
  credits REAL NOT NULL DEFAULT 0,
  grade REAL,
  reasons TEXT NOT NULL,                   -- JSON array of rule results
  rules_version TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  decided_us INTEGER NOT NULL,
  mac TEXT NOT NULL DEFAULT ''
);
CREATE INDEX credit_decisions_reg ON credit_decisions (registration, id);
CREATE INDEX credit_decisions_univ ON credit_decisions (university_id, id);

-- Notices to a university (flagged students, case decisions) or to a student.
CREATE TABLE notices (
  id INTEGER PRIMARY KEY,
  recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('university', 'student')),
  recipient_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  case_id INTEGER NOT NULL DEFAULT 0,
  title TEXT NOT NULL,
  body TEXT NOT NULL,                      -- JSON
  created_us INTEGER NOT NULL,
  read_us INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notices_recipient ON notices (recipient_kind, recipient_id, id);

-- Issued regulator reports (通报): once issued, a report does not change.
CREATE TABLE regulator_reports (
  id INTEGER PRIMARY KEY,
  period_from_us INTEGER NOT NULL,
  period_to_us INTEGER NOT NULL,
  province TEXT NOT NULL DEFAULT '',
  issued_by TEXT NOT NULL,
  issued_us INTEGER NOT NULL,
  body TEXT NOT NULL                       -- JSON
);

-- Referral packages handed to other departments (cl. 19-22).
CREATE TABLE referrals (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  department TEXT NOT NULL CHECK (department IN ('cac', 'telecom', 'police', 'samr')),
  created_by TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  package TEXT NOT NULL,                   -- JSON
  digest TEXT NOT NULL                     -- SM3 of package, hex
);
CREATE INDEX referrals_case ON referrals (case_id);

