CREATE TABLE ledger (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  key_id TEXT,
  tenant TEXT NOT NULL,
  model TEXT NOT NULL,
  provider TEXT,
  upstream_model TEXT,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cached_tokens INTEGER NOT NULL,
  cost_usd REAL NOT NULL,
  usage_estimated INTEGER NOT NULL,
  price_known INTEGER NOT NULL,
  latency_ms REAL NOT NULL,
  ttft_ms REAL,
  status INTEGER NOT NULL,
  trace_id TEXT NOT NULL
);
CREATE INDEX ledger_tenant_ts ON ledger (tenant, ts);
PRAGMA user_version = 2;
