# What the sync suites share: a test root that syncs from the throwaway slapd
# as its reader account, and the ways they look at the result. Sourced after
# harness.sh, root.sh and slapd.sh.

# The sample directory the suites start from.
LDIF=$TOP/examples/directory.ldif

# sync_root LDIF...: a server (SLAPD_MODULES/SLAPD_SIZELIMIT from the caller)
# loaded with the LDIF files, a test root, and [ldap] pointing at the server
# as the read-only reader account, with admins privileged.
sync_root() {
	slapd_start "$@" || fail "slapd did not start"
	trap slapd_stop_all EXIT
	sync_conf
}

# sync_conf: a new test root pointing at the running server as sync_root sets it.
sync_conf() {
	new_root
	printf '%s\n' "$SLAPD_READERPW" > "$ROOT/etc/isms/ldap.bindpw"
	chmod 600 "$ROOT/etc/isms/ldap.bindpw"
	conf_set ldap uri "$SLAPD_URI"
	conf_set ldap allow_insecure yes
	conf_set ldap base_dn "$SLAPD_BASE"
	conf_set ldap bind_dn "cn=reader,ou=system,$SLAPD_BASE"
	conf_set ldap privileged_groups admins
}

# dump: the registry as text, to compare before and after.
dump() { sqlite3 "$ROOT/var/lib/isms/registry.db" .dump; }

# json_field JSON KEY: one top-level field of accessctl --json output.
json_field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(v if v is not None else "")' "$1" "$2"; }

status_of() { sql registry "SELECT status FROM accounts WHERE name = '$1'"; }
