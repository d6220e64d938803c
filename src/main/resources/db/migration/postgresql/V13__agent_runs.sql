-- Agent runs (README "Running agents"). A run's state is derived by replaying its events; this row keeps what a
-- scan needs without replaying: the tenant (runs of other tenants are invisible), the agent, the caller's key id
-- and scopes (JSON list; NULL = an anonymous local caller holding every scope), the status of its latest event,
-- and the lease of the process running it (shared store: one replica resumes an interrupted run).
CREATE TABLE agent_runs (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  agent TEXT NOT NULL,
  key_id TEXT,
  scopes TEXT,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX agent_runs_status ON agent_runs (status, lease_until);
-- The append-only event log: (run_id, seq) is the primary key, so two writers can never both append event n.
CREATE TABLE agent_events (
  run_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  tokens BIGINT NOT NULL,
  cost_usd DOUBLE PRECISION NOT NULL,
  at_ms BIGINT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
