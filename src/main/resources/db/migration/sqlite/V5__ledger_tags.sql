ALTER TABLE ledger ADD COLUMN cache TEXT;
ALTER TABLE ledger ADD COLUMN route TEXT;
ALTER TABLE ledger ADD COLUMN prompt_hash TEXT;
PRAGMA user_version = 5;
