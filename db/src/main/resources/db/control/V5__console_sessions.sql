-- Console sessions, shared by every replica and kept across restarts. A row is keyed by the SHA-256 of the session id;
-- the id itself is only in the browser's cookie. `notice` is the one-line message for the next page (after a redirect,
-- which may land on another replica); `revealed` is an API key just created, shown once on the next page, encrypted
-- (AES-GCM) with a key derived from the session id, so this table alone never discloses it.
CREATE TABLE console_sessions (
    key         text        PRIMARY KEY,
    user_name   text        NOT NULL,
    csrf        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    notice_ok   boolean,
    notice_text text,
    revealed    bytea
);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen);
