-- state.db, version 1: what logins write. pam_isms writes here in short
-- transactions so that a long registry sync never makes a login wait.
-- Times are seconds since the Unix epoch (UTC).

-- The audit trail: one row per decision, hash-chained.
CREATE TABLE audit_events (
    seq       INTEGER PRIMARY KEY,             -- position in the chain, from 1
    time      INTEGER NOT NULL,
    host      TEXT NOT NULL,
    event     TEXT NOT NULL,                   -- login, mfa, session_open, sync, revoke, ...
    actor     TEXT,                            -- who acted: the PAM service or the admin running accessctl
    subject   TEXT,                            -- the account or person it concerns
    result    TEXT NOT NULL,                   -- allow, deny, ok, fail, ...
    reason    TEXT,                            -- reason code (unknown_account, replayed_code, ...)
    details   TEXT,                            -- key=value pairs; never a secret, code or password
    prev_hash BLOB NOT NULL,                   -- hash of the previous event (32 zero bytes for the first)
    hash      BLOB NOT NULL                    -- BLAKE2b-256(prev_hash || canonical encoding of this event)
);

-- TOTP replay watermark, failure counter and lock, per account token.
-- (Version 2 stores it WITHOUT ROWID; see 002_mfa_state_without_rowid.sql.)
CREATE TABLE mfa_state (
    account          TEXT NOT NULL,
    token_id         INTEGER NOT NULL,          -- registry mfa_tokens.id; a reset token starts afresh
    watermark        INTEGER NOT NULL DEFAULT -1, -- last accepted time step; codes at or below it are refused
    failures         INTEGER NOT NULL DEFAULT 0,  -- failures inside the current window
    first_failure_at INTEGER,                     -- start of the current failure window
    locked_until     INTEGER,                     -- token refuses every code until then
    last_used_at     INTEGER,
    PRIMARY KEY (account, token_id)
);

-- Single-use recovery codes, stored only as keyed hashes.
CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY,
    account    TEXT NOT NULL,
    token_id   INTEGER NOT NULL,
    code_hash  BLOB NOT NULL,                  -- BLAKE2b keyed with the host key over account and code
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX recovery_codes_account ON recovery_codes(account, token_id);

-- Last successful login per account (from pam_isms, or seeded from wtmp).
CREATE TABLE logins (
    account       TEXT PRIMARY KEY,
    last_login_at INTEGER NOT NULL,
    service       TEXT,
    rhost         TEXT,
    source        TEXT NOT NULL DEFAULT 'pam' CHECK (source IN ('pam', 'wtmp', 'lastlog'))
);

-- Sessions opened by pam_isms, and their recordings.
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,           -- 128-bit random recording id, hex
    account        TEXT NOT NULL,
    uid            INTEGER,
    service        TEXT,
    tty            TEXT,
    rhost          TEXT,
    audit_session  INTEGER,                    -- /proc/self/sessionid, when the kernel audits
    privileged     INTEGER NOT NULL DEFAULT 0,
    must_record    INTEGER NOT NULL DEFAULT 0,
    started_at     INTEGER NOT NULL,
    ended_at       INTEGER,
    recorder_pid   INTEGER,                    -- isms-rec that claimed the id
    recording_path TEXT,                       -- encrypted recording file
    recording_bytes INTEGER,                   -- size of the recording file when it was finished
    recording_chunks INTEGER,                  -- encrypted chunks written, the final one included
    recording_head TEXT,                       -- last BLAKE2b chain link (hex): 'rec verify' checks the file against it
    mode           TEXT,                       -- interactive or noninteractive, as isms-rec ran it
    command        TEXT,                       -- the -c command of a non-interactive session (NULL for a shell)
    exit_status    INTEGER,                    -- the real shell's exit status (128+N when killed by signal N)
    bytes_in       INTEGER,                    -- bytes the user sent to the session
    bytes_out      INTEGER,                    -- bytes the session sent back (stdout and stderr)
    -- open: PAM opened it, no recorder yet; recording: isms-rec claimed it; closed: ended
    -- normally; truncated: ended while the recorder had not finished; failed: the
    -- recording could not be written (the session was terminated unless on_record_error = continue)
    status         TEXT NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'recording', 'closed', 'truncated', 'failed'))
);
CREATE INDEX sessions_account ON sessions(account, started_at);
