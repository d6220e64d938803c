CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  tenant TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  models TEXT NOT NULL,
  requests_per_minute INTEGER NOT NULL,
  tokens_per_minute INTEGER NOT NULL,
  daily_budget_usd REAL NOT NULL,
  monthly_budget_usd REAL NOT NULL,
  max_cost_per_request_usd REAL NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX ledger_key_ts ON ledger (key_id, ts);
PRAGMA user_version = 3;
