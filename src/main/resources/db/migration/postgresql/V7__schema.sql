-- The schema of an embedded database at version 7 (sqlite/V1..V7), in PostgreSQL's types: BYTEA for BLOB,
-- BIGINT for 64-bit INTEGER, DOUBLE PRECISION for REAL, an identity column for INTEGER PRIMARY KEY.
CREATE TABLE embedding_cache (
  model TEXT NOT NULL,
  tenant TEXT NOT NULL,
  text_hash TEXT NOT NULL,
  vector BYTEA NOT NULL,
  PRIMARY KEY (model, tenant, text_hash)
);
CREATE TABLE embedding_refs (
  model TEXT NOT NULL,
  tenant TEXT NOT NULL,
  doc_id TEXT NOT NULL,
  text_hash TEXT NOT NULL,
  PRIMARY KEY (model, tenant, doc_id, text_hash)
);
CREATE INDEX embedding_refs_text ON embedding_refs (model, tenant, text_hash);
CREATE TABLE ledger (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ts BIGINT NOT NULL,
  key_id TEXT,
  tenant TEXT NOT NULL,
  model TEXT NOT NULL,
  provider TEXT,
  upstream_model TEXT,
  prompt_tokens BIGINT NOT NULL,
  completion_tokens BIGINT NOT NULL,
  cached_tokens BIGINT NOT NULL,
  cost_usd DOUBLE PRECISION NOT NULL,
  usage_estimated INTEGER NOT NULL,
  price_known INTEGER NOT NULL,
  latency_ms DOUBLE PRECISION NOT NULL,
  ttft_ms DOUBLE PRECISION,
  status INTEGER NOT NULL,
  trace_id TEXT NOT NULL,
  cache TEXT,
  route TEXT,
  prompt_hash TEXT
);
CREATE INDEX ledger_tenant_ts ON ledger (tenant, ts);
CREATE INDEX ledger_key_ts ON ledger (key_id, ts);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  tenant TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  models TEXT NOT NULL,
  requests_per_minute BIGINT NOT NULL,
  tokens_per_minute BIGINT NOT NULL,
  daily_budget_usd DOUBLE PRECISION NOT NULL,
  monthly_budget_usd DOUBLE PRECISION NOT NULL,
  max_cost_per_request_usd DOUBLE PRECISION NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  cache INTEGER NOT NULL DEFAULT 1,
  guard_profile TEXT
);
