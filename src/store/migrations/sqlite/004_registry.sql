-- 004_registry.sql: the governance registry (issue #3): organisations, platforms with filing,
-- list status and intake switches, courses with recommendation and reviews, offerings, students,
-- enrolments (rosters), integrity pledges, exams with supervision records and results.
--
-- Times are int64 microseconds since the epoch (UTC); calendar dates (filing review, content
-- freshness) are 'YYYY-MM-DD' text. Users are the auth area's: they point at orgs.id through their
-- org_id, so nothing here references the users table (migration order is independent).

-- Regulator bodies, universities and platforms share one id space: a platform's org id is the
-- platform_id of its LRS credentials and of the statements it pushes.
CREATE TABLE reg_orgs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('ministry', 'province', 'university', 'platform')),
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  province TEXT NOT NULL DEFAULT '',
  home_page TEXT,             -- universities: identity homePage used in xAPI actors
  created_us INTEGER NOT NULL,
  UNIQUE (kind, code)
);
CREATE UNIQUE INDEX reg_orgs_home_page ON reg_orgs (home_page) WHERE home_page IS NOT NULL;

-- 备案 and 黑白名单 (cl. 11, 17). status_* is the current decision; reg_platform_status keeps all.
CREATE TABLE reg_platforms (
  org_id INTEGER PRIMARY KEY REFERENCES reg_orgs (id),
  mlps_level INTEGER NOT NULL DEFAULT 0,
  filing_no TEXT NOT NULL DEFAULT '',
  review_due TEXT NOT NULL DEFAULT '',
  filed_us INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'whitelist', 'blacklist')),
  status_reason TEXT NOT NULL DEFAULT '',
  status_by TEXT NOT NULL DEFAULT '',
  status_us INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE reg_platform_status (
  id INTEGER PRIMARY KEY,
  platform_id INTEGER NOT NULL REFERENCES reg_platforms (org_id),
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  decided_us INTEGER NOT NULL
);
CREATE INDEX reg_platform_status_platform ON reg_platform_status (platform_id, id);

-- The regulator's intake switch (「平台管平台」): while a row has lifted_us = 0, the LRS refuses
-- the platform's statements in its scope: every statement (national), students of universities in
-- `province` (province), or students of `university_id` (university).
CREATE TABLE reg_switches (
  id INTEGER PRIMARY KEY,
  platform_id INTEGER NOT NULL REFERENCES reg_platforms (org_id),
  scope TEXT NOT NULL CHECK (scope IN ('national', 'province', 'university')),
  province TEXT NOT NULL DEFAULT '',
  university_id INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL,
  stopped_by TEXT NOT NULL,
  stopped_us INTEGER NOT NULL,
  lifted_by TEXT NOT NULL DEFAULT '',
  lifted_us INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reg_switches_active ON reg_switches (platform_id) WHERE lifted_us = 0;

-- A university's formal recommendation of a course to a platform (cl. 12: no course without it).
CREATE TABLE reg_recommendations (
  id INTEGER PRIMARY KEY,
  university_id INTEGER NOT NULL REFERENCES reg_orgs (id),
  platform_id INTEGER NOT NULL REFERENCES reg_platforms (org_id),
  title TEXT NOT NULL,
  lead_teacher TEXT NOT NULL,
  letter_no TEXT NOT NULL,
  recommended_by TEXT NOT NULL,
  recommended_us INTEGER NOT NULL,
  course_id INTEGER NOT NULL DEFAULT 0   -- the course that used it (one course per recommendation)
);

CREATE TABLE reg_courses (
  id INTEGER PRIMARY KEY,
  platform_id INTEGER NOT NULL REFERENCES reg_platforms (org_id),
  university_id INTEGER NOT NULL REFERENCES reg_orgs (id),
  recommendation_id INTEGER NOT NULL UNIQUE REFERENCES reg_recommendations (id),
  code TEXT NOT NULL,
  title TEXT NOT NULL,
  iri TEXT NOT NULL UNIQUE,             -- the course activity id in statements
  lead_teacher TEXT NOT NULL,
  content_updated TEXT NOT NULL,        -- last content update (freshness, cl. 2, 5)
  status TEXT NOT NULL DEFAULT 'reviewing'
    CHECK (status IN ('reviewing', 'approved', 'rejected', 'online', 'offline')),
  submitted_by TEXT NOT NULL,
  submitted_us INTEGER NOT NULL,
  UNIQUE (platform_id, code)
);

-- One row per review step taken; the latest of each kind counts.
CREATE TABLE reg_course_reviews (
  id INTEGER PRIMARY KEY,
  course_id INTEGER NOT NULL REFERENCES reg_courses (id),
  kind TEXT NOT NULL CHECK (kind IN ('content', 'ideology', 'quality')),
  verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
  reviewer TEXT NOT NULL,
  opinion TEXT NOT NULL,
  reviewed_us INTEGER NOT NULL
);
CREATE INDEX reg_course_reviews_course ON reg_course_reviews (course_id, kind, id);

CREATE TABLE reg_offerings (
  id INTEGER PRIMARY KEY,
  university_id INTEGER NOT NULL REFERENCES reg_orgs (id),
  course_id INTEGER NOT NULL REFERENCES reg_courses (id),
  term TEXT NOT NULL,
  credits_tenths INTEGER NOT NULL CHECK (credits_tenths > 0),
  resp_teacher TEXT NOT NULL,
  iri TEXT NOT NULL,                    -- the offering activity id in statements: the platform's
                                        -- run of the course, which several universities may select
  created_by TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  UNIQUE (university_id, course_id, term),
  UNIQUE (university_id, iri)
);
CREATE INDEX reg_offerings_course ON reg_offerings (course_id);

-- Students are identified by (university, student number), i.e. (homePage, account.name).
-- National ID and phone are kept only when the university's roster gives them, and then only as
-- field-encrypted tokens (crypto.h mg_crypto_seal: SM4-CTR + HMAC-SM3); '' when not given.
CREATE TABLE reg_students (
  id INTEGER PRIMARY KEY,
  university_id INTEGER NOT NULL REFERENCES reg_orgs (id),
  student_no TEXT NOT NULL,
  name TEXT NOT NULL,
  national_id_enc TEXT NOT NULL DEFAULT '',
  phone_enc TEXT NOT NULL DEFAULT '',
  UNIQUE (university_id, student_no)
);

-- An enrolment is the xAPI registration (docs/profile.md §6.3): assigned once, never changed.
CREATE TABLE reg_enrolments (
  id INTEGER PRIMARY KEY,
  offering_id INTEGER NOT NULL REFERENCES reg_offerings (id),
  student_id INTEGER NOT NULL REFERENCES reg_students (id),
  registration BLOB NOT NULL UNIQUE CHECK (length(registration) = 16),
  active INTEGER NOT NULL DEFAULT 1,
  import_id INTEGER NOT NULL DEFAULT 0, -- the last import that listed it
  created_us INTEGER NOT NULL,
  UNIQUE (offering_id, student_id)
);
CREATE INDEX reg_enrolments_student ON reg_enrolments (student_id);

CREATE TABLE reg_roster_imports (
  id INTEGER PRIMARY KEY,
  offering_id INTEGER NOT NULL REFERENCES reg_offerings (id),
  digest TEXT NOT NULL,                 -- SHA-256 of the CSV as received
  rows_total INTEGER NOT NULL,
  rows_bad INTEGER NOT NULL,
  added INTEGER NOT NULL,
  reactivated INTEGER NOT NULL,
  removed INTEGER NOT NULL,
  renamed INTEGER NOT NULL,
  unchanged INTEGER NOT NULL,
  report TEXT NOT NULL,                 -- JSON: the per-row problems
  imported_by TEXT NOT NULL,
  imported_us INTEGER NOT NULL
);
CREATE INDEX reg_roster_imports_offering ON reg_roster_imports (offering_id, id);

-- 诚信承诺书 texts, versioned; a signature names the version it was given.
CREATE TABLE reg_pledge_texts (
  version TEXT PRIMARY KEY,
  body TEXT NOT NULL,
  digest TEXT NOT NULL,
  published_by TEXT NOT NULL,
  published_us INTEGER NOT NULL
);

CREATE TABLE reg_pledges (
  id INTEGER PRIMARY KEY,
  enrolment_id INTEGER NOT NULL REFERENCES reg_enrolments (id),
  version TEXT NOT NULL REFERENCES reg_pledge_texts (version),
  signed_by TEXT NOT NULL,
  signed_ip TEXT NOT NULL,
  signed_us INTEGER NOT NULL,
  UNIQUE (enrolment_id, version)
);

-- Exam supervision plan (cl. 4): face checks at start and during, dual cameras, university
-- invigilator.
CREATE TABLE reg_exams (
  id INTEGER PRIMARY KEY,
  offering_id INTEGER NOT NULL REFERENCES reg_offerings (id),
  title TEXT NOT NULL,
  starts_us INTEGER NOT NULL,
  face_start INTEGER NOT NULL,
  face_during INTEGER NOT NULL,
  dual_camera INTEGER NOT NULL,
  invigilator TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_us INTEGER NOT NULL
);
CREATE INDEX reg_exams_offering ON reg_exams (offering_id);

-- The university side's record of one student's sitting: each check 'pass', 'fail' or ''
-- (not recorded).
CREATE TABLE reg_exam_supervision (
  exam_id INTEGER NOT NULL REFERENCES reg_exams (id),
  enrolment_id INTEGER NOT NULL REFERENCES reg_enrolments (id),
  face_start TEXT NOT NULL DEFAULT '',
  face_during TEXT NOT NULL DEFAULT '',
  dual_camera TEXT NOT NULL DEFAULT '',
  invigilator TEXT NOT NULL DEFAULT '',
  notes TEXT NOT NULL DEFAULT '',
  recorded_by TEXT NOT NULL,
  recorded_us INTEGER NOT NULL,
  PRIMARY KEY (exam_id, enrolment_id)
);

-- Results come from the platform as provisional; only the university finalises them.
CREATE TABLE reg_exam_results (
  exam_id INTEGER NOT NULL REFERENCES reg_exams (id),
  enrolment_id INTEGER NOT NULL REFERENCES reg_enrolments (id),
  score_tenths INTEGER NOT NULL,
  submitted_by TEXT NOT NULL,
  submitted_us INTEGER NOT NULL,
  final INTEGER NOT NULL DEFAULT 0,
  finalised_by TEXT NOT NULL DEFAULT '',
  finalised_us INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (exam_id, enrolment_id)
);
