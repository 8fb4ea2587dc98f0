-- state.db, version 2: mfa_state keyed by its primary key alone. Every TOTP
-- login updates (or inserts) one row here; stored WITHOUT ROWID, that is one
-- b-tree written instead of a table and its key index.
CREATE TABLE mfa_state_v2 (
    account          TEXT NOT NULL,
    token_id         INTEGER NOT NULL,          -- registry mfa_tokens.id; a reset token starts afresh
    watermark        INTEGER NOT NULL DEFAULT -1, -- last accepted time step; codes at or below it are refused
    failures         INTEGER NOT NULL DEFAULT 0,  -- failures inside the current window
    first_failure_at INTEGER,                     -- start of the current failure window
    locked_until     INTEGER,                     -- token refuses every code until then
    last_used_at     INTEGER,
    PRIMARY KEY (account, token_id)
) WITHOUT ROWID;
INSERT INTO mfa_state_v2 (account, token_id, watermark, failures, first_failure_at, locked_until, last_used_at)
    SELECT account, token_id, watermark, failures, first_failure_at, locked_until, last_used_at FROM mfa_state;
DROP TABLE mfa_state;
ALTER TABLE mfa_state_v2 RENAME TO mfa_state;
