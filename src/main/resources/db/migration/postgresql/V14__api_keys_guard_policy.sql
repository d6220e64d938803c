-- A key may name its guard policy (a name in guard.policies); NULL: its tenant's.
ALTER TABLE api_keys ADD COLUMN guard_policy TEXT;
