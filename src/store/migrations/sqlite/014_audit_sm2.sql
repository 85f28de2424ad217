-- 014_audit_sm2.sql — checkpoints record their signature algorithm (GB/T 39786-2021 level 3:
-- SM2 signatures, src/audit, docs/crypto.md). Rows written before this migration were signed
-- with Ed25519 and keep verifying as such; new checkpoints are 'sm2'. For 'sm2' rows public_key
-- is the 65-byte point 04 || x || y in hex and signature is r || s (64 bytes) in hex.
ALTER TABLE audit_checkpoint ADD COLUMN alg TEXT NOT NULL DEFAULT 'ed25519'
  CHECK (alg IN ('ed25519', 'sm2'));
