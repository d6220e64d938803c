-- Online evaluation (README "Online evaluation and drift"): aggregates of sampled production answers, never their text.
-- One row per tenant, five-minute bucket (epoch ms of its start), writing process (a random id per process, so
-- replicas sharing a database never update each other's rows) and metric: the count, sum and sum of squares of
-- its values (judge scores on the 1-5 scale, "declined" as 0/1, the retrieval top score) - enough for means,
-- variances and Welch's t-test. Buckets older than baseline_days + 1 day are deleted.
CREATE TABLE online_eval_stats (
  tenant TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  writer TEXT NOT NULL,
  metric TEXT NOT NULL,
  n INTEGER NOT NULL,
  total REAL NOT NULL,
  total_sq REAL NOT NULL,
  PRIMARY KEY (tenant, bucket, writer, metric)
);
CREATE INDEX online_eval_stats_bucket ON online_eval_stats (bucket);
-- The summed unit query embeddings of the same buckets (float32, big-endian): their direction is the centroid.
CREATE TABLE online_eval_centroids (
  tenant TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  writer TEXT NOT NULL,
  n INTEGER NOT NULL,
  vector BLOB NOT NULL,
  PRIMARY KEY (tenant, bucket, writer)
);
CREATE INDEX online_eval_centroids_bucket ON online_eval_centroids (bucket);
-- Alert episodes in progress, one per tenant and signal: inserted once when raised (the process whose insert
-- wins notifies), deleted when the signal recovers.
CREATE TABLE online_eval_alerts (
  tenant TEXT NOT NULL,
  signal TEXT NOT NULL,
  since INTEGER NOT NULL,
  PRIMARY KEY (tenant, signal)
);
PRAGMA user_version = 11;
