-- A key may name its guard profile (STRICT or TRUSTED); NULL: its tenant's.
ALTER TABLE api_keys ADD COLUMN guard_profile TEXT;
PRAGMA user_version = 7;
