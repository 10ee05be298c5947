-- A session's calls by tool, as the assistant named them ({"recall_context": 3, ...}): counted as each call runs, so
-- the handover's tools_used and the session's calls say what the session did, reading calls included (the audit
-- trail records only what changed data, under its own action names).
ALTER TABLE sessions ADD COLUMN tools_used jsonb NOT NULL DEFAULT '{}'::jsonb;
