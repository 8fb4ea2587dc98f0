-- registry.db, version 1: who exists, who owns what, groups, reviews.
-- Written only by accessctl; pam_isms opens it read-only at login.
-- Times are seconds since the Unix epoch (UTC); NULL means "never" or "unknown".

-- A person the company employs or contracts; the owner of human accounts.
CREATE TABLE people (
    id            INTEGER PRIMARY KEY,
    employee_no   TEXT NOT NULL UNIQUE,        -- HR employee number: the join key for HR feeds, never email
    name          TEXT NOT NULL,               -- display name
    email         TEXT,                        -- contact address (informational, never a join key)
    manager_no    TEXT,                        -- employee_no of the manager (may name a person not yet synced)
    department    TEXT,
    title         TEXT,
    status        TEXT NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'departed', 'leave')),
    terminated_at INTEGER,                     -- HR termination time, when known
    source        TEXT NOT NULL DEFAULT 'local'
                  CHECK (source IN ('ldap', 'local', 'hr')),
    source_uuid   TEXT UNIQUE,                 -- LDAP entryUUID of the person's entry
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- A login account on this host or in the directory.
CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,       -- login name
    uid            INTEGER,                    -- numeric uid; NULL only for a name not yet resolved
    gid            INTEGER,                    -- primary gid
    person_id      INTEGER REFERENCES people(id) ON DELETE RESTRICT,  -- owner; required for kind human
    kind           TEXT NOT NULL DEFAULT 'human'
                   CHECK (kind IN ('human', 'service', 'shared', 'breakglass')),
    source         TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('ldap', 'local')),
    source_uuid    TEXT UNIQUE,                -- LDAP entryUUID: a rename keeps the row
    dn             TEXT,                       -- LDAP distinguished name, for write-back on revocation
    status         TEXT NOT NULL DEFAULT 'active'
                   CHECK (status IN ('active', 'locked', 'revoked', 'departed', 'held')),
    status_reason  TEXT,                       -- why the status last changed (free text)
    shell          TEXT,                       -- login shell as NSS/LDAP reports it
    real_shell     TEXT,                       -- shell isms-rec runs for a recorded account
    services       TEXT,                       -- service accounts: comma list of PAM services allowed
    home           TEXT,
    created_at     INTEGER NOT NULL,           -- first seen by the registry
    updated_at     INTEGER NOT NULL,
    revoked_at     INTEGER,                    -- when access was revoked
    revoked_reason TEXT                        -- why (manual text, 'departed', 'stale', 'review')
);
CREATE INDEX accounts_uid ON accounts(uid);
CREATE INDEX accounts_person ON accounts(person_id);

-- Every uid ever seen, with its first holder: a uid is never reused for another person.
CREATE TABLE uid_history (
    uid           INTEGER PRIMARY KEY,
    account_name  TEXT NOT NULL,               -- name of the first account seen with this uid
    employee_no   TEXT,                        -- its owner at the time, when known
    first_seen_at INTEGER NOT NULL
);

-- A group, local or from the directory.
CREATE TABLE groups (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    gid         INTEGER,                       -- NULL for groupOfNames without a gidNumber
    source      TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('ldap', 'local')),
    source_uuid TEXT UNIQUE,                   -- LDAP entryUUID
    dn          TEXT,                          -- LDAP DN, for write-back
    privileged  INTEGER NOT NULL DEFAULT 0,    -- 1 when membership grants privilege (config or directory)
    system      TEXT,                          -- name of the system this group grants access to (NULL: this host)
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Group inside group (groupOfNames member pointing at a group).
CREATE TABLE group_nesting (
    parent_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    child_id  INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, child_id)
);

-- Effective memberships: direct ones, and inherited ones with the path that grants them.
CREATE TABLE memberships (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    group_id   INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    via_id     INTEGER REFERENCES groups(id) ON DELETE CASCADE, -- NULL: direct; else the member group
    path       TEXT,                           -- "child > parent" chain for inherited grants
    source     TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('ldap', 'local')),
    attr       TEXT,                           -- membership attribute: memberUid, member, uniqueMember, gr_mem, primary
    UNIQUE (account_id, group_id, via_id)
);
CREATE INDEX memberships_group ON memberships(group_id);

-- Systems reviewed in access campaigns; criticality sets the review cadence.
CREATE TABLE systems (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    criticality TEXT NOT NULL DEFAULT 'standard' CHECK (criticality IN ('critical', 'standard'))
);

-- Groups whose members hold privilege, and why they are listed.
CREATE TABLE privileged_groups (
    name   TEXT PRIMARY KEY,                   -- group name
    origin TEXT NOT NULL                       -- 'config' or 'ldap'
);

-- OATH TOTP tokens. The secret is sealed by the vault, bound to the account name.
CREATE TABLE mfa_tokens (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
    secret        BLOB NOT NULL,               -- XChaCha20-Poly1305(nonce || ciphertext), AD = account name
    algorithm     TEXT NOT NULL DEFAULT 'sha1' CHECK (algorithm IN ('sha1', 'sha256', 'sha512')),
    digits        INTEGER NOT NULL DEFAULT 6 CHECK (digits IN (6, 8)),
    period        INTEGER NOT NULL DEFAULT 30 CHECK (period BETWEEN 10 AND 120),
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active')),
    imported_from TEXT,                        -- 'google-authenticator', 'pam_oath', or NULL when enrolled here
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER                      -- first code confirmed: the token is usable from then
);

-- Access-review campaigns.
CREATE TABLE review_campaigns (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,      -- e.g. 2026-Q4, 2026-annual
    kind            TEXT NOT NULL CHECK (kind IN ('quarterly', 'annual')),
    scope           TEXT NOT NULL,             -- what it covers: comma list of privileged, critical, all
    as_of           INTEGER NOT NULL,          -- snapshot time
    sources         TEXT,                      -- JSON: each source with its last sync time
    snapshot_sha256 TEXT NOT NULL,             -- hex SHA-256 of the frozen rows
    due_at          INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_at      INTEGER NOT NULL,
    closed_at       INTEGER
);

-- One frozen row per (account, entitlement) of a campaign, with the reviewer's decision.
CREATE TABLE review_items (
    row_id          TEXT PRIMARY KEY,          -- hex hash of campaign, account, entitlement
    campaign_id     INTEGER NOT NULL REFERENCES review_campaigns(id) ON DELETE CASCADE,
    system          TEXT NOT NULL,
    account_name    TEXT NOT NULL,
    uid             INTEGER,
    kind            TEXT NOT NULL,
    person_name     TEXT,
    email           TEXT,
    employee_no     TEXT,
    department      TEXT,
    title           TEXT,
    hr_status       TEXT,
    manager         TEXT,                      -- manager's name (employee number in manager_no)
    manager_no      TEXT,
    entitlement     TEXT NOT NULL,             -- group name, or 'login' for the account itself
    inherited_via   TEXT,                      -- NULL: direct; else the path that grants it
    privileged      INTEGER NOT NULL DEFAULT 0,
    account_status  TEXT NOT NULL,
    last_login_at   INTEGER,
    days_inactive   INTEGER,
    mfa_since       INTEGER,                   -- token confirmed at; NULL: not enrolled
    change          TEXT NOT NULL DEFAULT 'new' CHECK (change IN ('new', 'unchanged')),
    previous_decision TEXT,
    recommendation  TEXT,
    reviewer_no     TEXT,                      -- employee_no of the assigned reviewer
    reviewer_name   TEXT,
    decision        TEXT CHECK (decision IN ('keep', 'revoke', 'modify', 'exception')),
    exception_until INTEGER,
    justification   TEXT,
    reviewed_by     TEXT,
    reviewed_at     INTEGER,
    imported_from   TEXT,                      -- file the decision came from
    applied_at      INTEGER,
    apply_result    TEXT,
    verified_at     INTEGER
);
CREATE INDEX review_items_campaign ON review_items(campaign_id, reviewer_no);

-- HR terminations, with the time access was removed: the auditor's sample.
CREATE TABLE terminations (
    id            INTEGER PRIMARY KEY,
    employee_no   TEXT NOT NULL UNIQUE,
    terminated_at INTEGER NOT NULL,            -- termination time from HR
    source        TEXT NOT NULL,               -- 'hr-feed', 'manual', 'scim', 'ldap'
    source_ref    TEXT,                        -- file:line, ticket or request id
    ticket        TEXT,
    revoked_at    INTEGER,                     -- when every account was revoked (NULL: not yet complete)
    created_at    INTEGER NOT NULL
);

-- Each step of each revocation: what was done, what it undid, and whether it took.
CREATE TABLE revocation_actions (
    id           INTEGER PRIMARY KEY,
    account_name TEXT NOT NULL,
    employee_no  TEXT,
    trigger      TEXT NOT NULL,                -- 'manual', 'offboard', 'stale', 'review', 'sync', 'restore'
    reason       TEXT NOT NULL,
    ticket       TEXT,
    step         TEXT NOT NULL,                -- 'registry', 'shadow', 'local_groups', 'sessions', 'ldap_lock', 'ldap_groups'
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed', 'skipped', 'undone')),
    detail       TEXT,                         -- result message, or JSON of what was recorded before the change
    created_at   INTEGER NOT NULL,
    done_at      INTEGER,
    verified_at  INTEGER
);
CREATE INDEX revocation_actions_account ON revocation_actions(account_name);

-- Each directory sync run.
CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,                 -- LDAP URI
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    mode        TEXT NOT NULL,                 -- 'full' or 'incremental'
    result      TEXT,                          -- 'ok', 'error: ...', 'refused: ...'
    cookie      TEXT,                          -- RFC 4533 sync cookie for the next incremental run
    summary     TEXT                           -- JSON counts
);

-- The directory as the last sync read it, one row per entry: what an RFC 4533
-- incremental sync applies its changes to, and what tells a full sync which
-- entries changed. Written only by accessctl sync, in the sync's transaction.
-- (Version 2 keys it by (uuid, kind), one row per entry and kind; see
-- 002_ldap_entries_per_kind.sql.)
CREATE TABLE ldap_entries (
    uuid TEXT PRIMARY KEY,                     -- entryUUID
    kind TEXT NOT NULL CHECK (kind IN ('account', 'group')),
    dn   TEXT NOT NULL,                        -- distinguished name when read
    data TEXT NOT NULL                         -- JSON of the mapped attributes (see libisms/ldap_map.c)
);
