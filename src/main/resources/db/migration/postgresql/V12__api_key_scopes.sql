-- The scopes a key grants (a JSON list of strings): agent tools that declare scopes are offered only to keys holding them.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';
