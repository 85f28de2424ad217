-- 015_bank.sql — the known answer-bank registry (docs/profile.md "Known answer banks"): items the
-- monitoring centre or a platform found circulating on public answer-bank sites and apps, keyed by
-- the item's activity IRI (the object.id of item-answered statements), with the answer the bank
-- gives (which may be wrong). The 刷考 detectors compare students' answers with it.
CREATE TABLE IF NOT EXISTS bank_items (
  item_iri   TEXT PRIMARY KEY,
  answer     TEXT NOT NULL,
  source     TEXT NOT NULL DEFAULT '',  -- where it was crawled ("site:...", "app:..."), free text
  added_by   TEXT NOT NULL,             -- user name, or "cli"
  created_us INTEGER NOT NULL,
  updated_us INTEGER NOT NULL
);
