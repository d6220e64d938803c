-- A key may forbid Keel's response caches for its requests (user-specific answers).
ALTER TABLE api_keys ADD COLUMN cache INTEGER NOT NULL DEFAULT 1;
PRAGMA user_version = 6;
