-- The embedding cache becomes per tenant and holds only chunk vectors, with the documents that use
-- them; the old cache (any text, no tenant) is dropped: it was only a cache.
DROP TABLE embedding_cache;
CREATE TABLE embedding_cache (
  model TEXT NOT NULL,
  tenant TEXT NOT NULL,
  text_hash TEXT NOT NULL,
  vector BLOB NOT NULL,
  PRIMARY KEY (model, tenant, text_hash)
) WITHOUT ROWID;
CREATE TABLE embedding_refs (
  model TEXT NOT NULL,
  tenant TEXT NOT NULL,
  doc_id TEXT NOT NULL,
  text_hash TEXT NOT NULL,
  PRIMARY KEY (model, tenant, doc_id, text_hash)
) WITHOUT ROWID;
CREATE INDEX embedding_refs_text ON embedding_refs (model, tenant, text_hash);
PRAGMA user_version = 4;
