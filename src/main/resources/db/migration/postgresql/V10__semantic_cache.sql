-- The semantic response cache shared by replicas (PostgreSQL only: an embedded store keeps it in process).
-- One row per (tenant, exact key): its scope, the unit vector of the compared message (float32, big-endian),
-- the encoded entry (body, cost, document versions) and when it expires (epoch ms by the server's clock).
-- Every change is announced on channel keel_semantic_cache so each replica's in-memory mirror follows.
CREATE TABLE semantic_cache (
  tenant TEXT NOT NULL,
  key TEXT NOT NULL,
  scope TEXT NOT NULL,
  vector BYTEA NOT NULL,
  entry BYTEA NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (tenant, key)
);
CREATE INDEX semantic_cache_expires_at ON semantic_cache (expires_at);
