-- How far `keel migrate` copied each table from a source installation, committed with the rows it copied,
-- so a rerun after an interruption continues without duplicates or gaps.
CREATE TABLE migration_progress (
  source TEXT NOT NULL,
  item TEXT NOT NULL,
  position TEXT NOT NULL,
  copied INTEGER NOT NULL,
  PRIMARY KEY (source, item)
);
PRAGMA user_version = 9;
