-- Finished traces (their API JSON, free of raw user text) kept for a retention period, so that any replica
-- sharing this database answers GET /v1/traces/{id}. Written only when the store is shared (PostgreSQL).
CREATE TABLE traces (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  finished_at BIGINT NOT NULL,
  json BYTEA NOT NULL
);
CREATE INDEX traces_finished_at ON traces (finished_at);
