# Demo step 20: the company directory comes into the registry with accessctl sync.
# A throwaway slapd on a loopback port serves examples/directory.ldif.
. "$TOP/tests/lib/slapd.sh"

say "LDAP: a directory server with a small company (examples/directory.ldif)"
SLAPD_MODULES=syncprov slapd_start "$TOP/examples/directory.ldif"
cat "$SLAPD_PIDFILE" > "$DEMO/slapd.pid"   # demo cleanup stops it
printf '%s\n' "$SLAPD_READERPW" > "$ROOT/etc/isms/ldap.bindpw"
chmod 600 "$ROOT/etc/isms/ldap.bindpw"
# Loopback only: plain ldap:// is allowed here with allow_insecure = yes.
# A real directory is reached over ldaps:// or StartTLS with a verified certificate.
cat >> "$CONF" <<CONFEOF

[ldap]
uri = $SLAPD_URI
allow_insecure = yes
base_dn = $SLAPD_BASE
bind_dn = cn=reader,ou=system,$SLAPD_BASE
privileged_groups = admins
CONFEOF
echo "[ldap] uri = $SLAPD_URI, allow_insecure = yes (loopback demo only), bind as the read-only reader"

say "LDAP: first sync — accounts, owners, groups (nested ones with their path)"
run $ACCESSCTL sync
run sqlite3 -header -column "$ROOT/var/lib/isms/registry.db" \
	"SELECT a.name, a.kind, a.status, p.employee_no, p.manager_no FROM accounts a LEFT JOIN people p ON p.id = a.person_id ORDER BY a.uid"
run sqlite3 -header -column "$ROOT/var/lib/isms/registry.db" \
	"SELECT a.name, g.name AS 'group', coalesce(m.path, 'direct') AS via FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id WHERE g.name = 'prod-access'"

say "LDAP: erin leaves (entry deleted), dave's shadowExpire is set in the past; incremental sync"
sldap ldapdelete "uid=erin,ou=people,$SLAPD_BASE"
sldap ldapmodify >/dev/null <<LDIFEOF
dn: uid=dave,ou=people,$SLAPD_BASE
changetype: modify
replace: shadowExpire
shadowExpire: 1
LDIFEOF
run $ACCESSCTL sync --dry-run
run $ACCESSCTL sync
run sqlite3 "$ROOT/var/lib/isms/state.db" \
	"SELECT event, subject, details FROM audit_events WHERE event IN ('departure', 'locked', 'sync') ORDER BY seq"
run $ACCESSCTL --json sync

# On a real host the directory's accounts reach NSS through SSSD or nslcd; in
# this temporary root the faked passwd/group files play that part.
sqlite3 -separator : "$ROOT/var/lib/isms/registry.db" \
	"SELECT name, 'x', uid, coalesce(gid, uid), name, '/home/' || name, coalesce(shell, '/bin/bash')
	 FROM accounts WHERE source = 'ldap' AND uid IS NOT NULL" >> "$ROOT/etc/passwd"
sqlite3 -separator : "$ROOT/var/lib/isms/registry.db" \
	"SELECT g.name, 'x', g.gid, group_concat(a.name) FROM groups g JOIN memberships m ON m.group_id = g.id
	 JOIN accounts a ON a.id = m.account_id WHERE g.gid IS NOT NULL AND m.via_id IS NULL GROUP BY g.id" >> "$ROOT/etc/group"
