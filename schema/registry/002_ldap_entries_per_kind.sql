-- registry.db, version 2: ldap_entries keyed by (entryUUID, kind). An entry
-- that is both an account and a group (a user private group: posixAccount and
-- posixGroup on one entry) is stored once as each; keyed by entryUUID alone,
-- the row of one kind replaced the other's.
CREATE TABLE ldap_entries_v2 (
    uuid TEXT NOT NULL,                        -- entryUUID
    kind TEXT NOT NULL CHECK (kind IN ('account', 'group')),
    dn   TEXT NOT NULL,                        -- distinguished name when read
    data TEXT NOT NULL,                        -- JSON of the mapped attributes (see libisms/ldap_map.c)
    PRIMARY KEY (uuid, kind)
);
-- Rowids kept: the sync scans the table in rowid order, the order it was written in.
INSERT INTO ldap_entries_v2 (rowid, uuid, kind, dn, data)
    SELECT rowid, uuid, kind, dn, data FROM ldap_entries;
DROP TABLE ldap_entries;
ALTER TABLE ldap_entries_v2 RENAME TO ldap_entries;
-- A snapshot stored by version 1 may lack the account row of such an entry: no
-- cookie, so the next sync reads the directory whole instead of changing it.
UPDATE sync_runs SET cookie = NULL WHERE cookie IS NOT NULL;
