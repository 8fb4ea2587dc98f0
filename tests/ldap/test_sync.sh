#!/bin/bash
# accessctl sync against a real slapd on a loopback port, loaded with
# examples/directory.ldif: mapping, nesting, identity, departures, locks,
# paging, content sync, safety (TLS, credentials, transactions, guard, escaping).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"
. "$(dirname "$0")/../lib/slapd.sh"
. "$(dirname "$0")/../lib/sync.sh"

PEOPLE=ou=people,dc=example,dc=com

# ldap_setup [LDIF...]: a server (SLAPD_MODULES/SLAPD_SIZELIMIT from the caller),
# a test root, and [ldap] pointing at the server as the read-only reader account.
ldap_setup() { sync_root "${@:-$LDIF}"; }

test_full_sync_maps_accounts_people_and_both_group_schemas() {
	ldap_setup
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" accounts)" 7
	assert_eq "$(json_field "$OUT" added)" 7
	assert_eq "$(json_field "$OUT" groups)" 7
	assert_eq "$(sql registry "SELECT kind FROM accounts WHERE name = 'svc-backup'")" service
	assert_eq "$(sql registry "SELECT kind FROM accounts WHERE name = 'support'")" shared
	assert_eq "$(sql registry "SELECT kind || ' ' || uid || ' ' || source FROM accounts WHERE name = 'dave'")" "human 10004 ldap"
	# people from the same entries: employee number is the key, manager DN becomes the manager's number
	assert_eq "$(sql registry "SELECT p.employee_no || ' ' || p.manager_no || ' ' || p.department || ' ' || p.email FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.name = 'alice'")" \
		"E1002 E1001 Operations alice@example.com"
	assert_eq "$(sql registry "SELECT a.source_uuid = p.source_uuid FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.name = 'bob'")" 1
	# rfc2307 memberUid, rfc2307bis member and groupOfUniqueNames uniqueMember
	assert_eq "$(sql registry "SELECT m.attr FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id WHERE a.name = 'alice' AND g.name = 'admins'")" memberUid
	assert_eq "$(sql registry "SELECT m.attr FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id WHERE a.name = 'alice' AND g.name = 'sre'")" member
	assert_eq "$(sql registry "SELECT group_concat(a.name) FROM (SELECT a.name FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id WHERE g.name = 'helpdesk' AND m.attr = 'uniqueMember' ORDER BY a.name) a")" "dave,support"
	assert_eq "$(sql registry "SELECT gid || ' ' || privileged FROM groups WHERE name = 'admins'")" "5000 1"
	assert_eq "$(sql registry "SELECT coalesce(gid, 'none') || ' ' || privileged FROM groups WHERE name = 'sre'")" "none 0"
	# one audit event for the sync
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'sync' AND result = 'ok'")" 1
}

# A first sync writes accounts as they arrive: a manager whose entry the
# server sends after their report's still becomes the report's manager.
test_first_sync_resolves_a_manager_read_after_the_report() {
	local ldif=$T_TMP/later.ldif
	cp "$LDIF" "$ldif"
	cat >> "$ldif" <<EOF

dn: uid=gina,$PEOPLE
objectClass: inetOrgPerson
objectClass: posixAccount
uid: gina
cn: Gina Hall
sn: Hall
employeeNumber: E1007
manager: uid=hank,$PEOPLE
uidNumber: 10007
gidNumber: 10007
homeDirectory: /home/gina

dn: uid=hank,$PEOPLE
objectClass: inetOrgPerson
objectClass: posixAccount
uid: hank
cn: Hank Ives
sn: Ives
employeeNumber: E1008
uidNumber: 10008
gidNumber: 10008
homeDirectory: /home/hank
EOF
	ldap_setup "$ldif"
	assert_exit 0 actl --json sync --full
	assert_eq "$(json_field "$OUT" added)" 9
	assert_eq "$(sql registry "SELECT manager_no FROM people WHERE employee_no = 'E1007'")" E1008
	# a sync against the filled registry (accounts known, none streamed) finds nothing to change
	assert_exit 0 actl --json sync --full
	assert_eq "$(json_field "$OUT" changed)" 0
	assert_eq "$(json_field "$OUT" added)" 0
}

# A group gone from the directory takes its memberships, and those inherited
# through it, with its row: they are not counted again as removed memberships.
test_removed_nested_group_takes_its_grants_with_it() {
	ldap_setup
	assert_exit 0 actl sync
	assert_eq "$(sql registry "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.name = 'alice'")" 4
	sldap ldapmodify >/dev/null <<EOF
dn: cn=ops,ou=groups,dc=example,dc=com
changetype: modify
delete: member
member: cn=sre,ou=groups,dc=example,dc=com
EOF
	sldap ldapdelete "cn=sre,ou=groups,dc=example,dc=com"
	assert_exit 0 actl --json sync --full
	assert_eq "$(json_field "$OUT" groups_removed)" 1
	assert_eq "$(json_field "$OUT" memberships_removed)" 0
	assert_eq "$(sql registry "SELECT group_concat(g.name) FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id WHERE a.name = 'alice'")" admins
}

test_mapping_is_configurable_and_unkeyable_entries_are_reported() {
	ldap_setup
	# log in with the employee number: the service and shared accounts have none
	conf_set ldap attr_account employeeNumber
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" accounts)" 5
	assert_eq "$(json_field "$OUT" skipped)" 2
	assert_eq "$(sql registry "SELECT uid FROM accounts WHERE name = 'E1002'")" 10002
	assert_exit 0 actl sync --full
	assert_contains "$OUT" "skipped: 2 entries without entryUUID or name"
}

test_nested_groups_are_resolved_with_the_path() {
	ldap_setup
	assert_exit 0 actl sync
	# alice is in sre, sre in ops, ops in prod-access
	assert_eq "$(sql registry "SELECT v.name || '|' || m.path FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id JOIN groups v ON v.id = m.via_id WHERE a.name = 'alice' AND g.name = 'prod-access'")" \
		"sre|sre > ops > prod-access"
	assert_eq "$(sql registry "SELECT v.name || '|' || m.path FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id JOIN groups v ON v.id = m.via_id WHERE a.name = 'svc-backup' AND g.name = 'prod-access'")" \
		"ops|ops > prod-access"
	# carol is a direct member: no via, no path
	assert_eq "$(sql registry "SELECT coalesce(m.via_id, 'direct') FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id WHERE a.name = 'carol' AND g.name = 'prod-access'")" direct
	assert_eq "$(sql registry "SELECT count(*) FROM group_nesting n JOIN groups p ON p.id = n.parent_id JOIN groups c ON c.id = n.child_id WHERE p.name = 'ops' AND c.name = 'sre'")" 1
	# removing the nesting removes the inherited grant
	sldap ldapmodify >/dev/null <<EOF
dn: cn=ops,ou=groups,dc=example,dc=com
changetype: modify
delete: member
member: cn=sre,ou=groups,dc=example,dc=com
EOF
	assert_exit 0 actl sync
	assert_eq "$(sql registry "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id WHERE a.name = 'alice' AND g.name = 'prod-access'")" 0
	assert_eq "$(sql registry "SELECT count(*) FROM group_nesting n JOIN groups p ON p.id = n.parent_id JOIN groups c ON c.id = n.child_id WHERE p.name = 'ops' AND c.name = 'sre'")" 0
}

# Two directory groups with one name: the second is reported, not written.
# Its members still reach the groups it is nested in, recorded once each as
# direct grants with the path, whichever routes lead there.
test_nested_group_whose_name_is_taken_grants_once_per_account() {
	local ldif=$T_TMP/dup.ldif
	cp "$LDIF" "$ldif"
	cat >> "$ldif" <<EOF

dn: ou=teams,dc=example,dc=com
objectClass: organizationalUnit
ou: teams

dn: cn=sre,ou=teams,dc=example,dc=com
objectClass: groupOfNames
cn: sre
member: uid=carol,$PEOPLE
member: uid=dave,$PEOPLE

dn: cn=ops,ou=teams,dc=example,dc=com
objectClass: groupOfNames
cn: ops
member: uid=dave,$PEOPLE
EOF
	ldap_setup "$ldif"
	sldap ldapmodify >/dev/null <<EOF
dn: cn=prod-access,ou=groups,dc=example,dc=com
changetype: modify
add: member
member: cn=sre,ou=teams,dc=example,dc=com
member: cn=ops,ou=teams,dc=example,dc=com
EOF
	assert_exit 0 actl --json sync
	# the server sends the groups in the order they were added: ou=groups first
	assert_eq "$(sql registry "SELECT group_concat(dn, ';') FROM (SELECT dn FROM groups WHERE name IN ('sre', 'ops') ORDER BY name)")" \
		"cn=ops,ou=groups,dc=example,dc=com;cn=sre,ou=groups,dc=example,dc=com"
	assert_contains "$OUT" '{"change":"conflict","name":"sre","detail":"another directory group has this name: cn=sre,ou=teams,dc=example,dc=com"}'
	# carol is a direct member and in the unwritten sre: one grant, the direct one
	assert_eq "$(prod_access_grants carol)" "direct|"
	# dave is in both unwritten groups: one grant, by the first route
	assert_eq "$(prod_access_grants dave)" "direct|sre > prod-access"
	assert_eq "$(prod_access_grants alice)" "sre|sre > ops > prod-access"
	assert_exit 0 actl --json sync --full
	assert_eq "$(json_field "$OUT" memberships_added)" 0
	assert_eq "$(json_field "$OUT" memberships_removed)" 0
	assert_eq "$(prod_access_grants carol)" "direct|"
	assert_eq "$(prod_access_grants dave)" "direct|sre > prod-access"
}

# prod_access_grants ACCOUNT: its grants of prod-access, "via|path" each.
prod_access_grants() {
	sql registry "SELECT group_concat(coalesce(v.name, 'direct') || '|' || coalesce(m.path, ''), ';')
		FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id
		LEFT JOIN groups v ON v.id = m.via_id WHERE a.name = '$1' AND g.name = 'prod-access'"
}

test_rename_keeps_the_account_identity() {
	ldap_setup
	assert_exit 0 actl sync
	local id uuid
	id=$(sql registry "SELECT id FROM accounts WHERE name = 'carol'")
	uuid=$(sql registry "SELECT source_uuid FROM accounts WHERE name = 'carol'")
	sldap ldapmodrdn -r "uid=carol,$PEOPLE" uid=carol.diaz
	assert_exit 0 actl --json sync --full
	assert_eq "$(json_field "$OUT" renamed)" 1
	assert_eq "$(json_field "$OUT" added)" 0
	assert_eq "$(json_field "$OUT" departed)" 0
	assert_eq "$(sql registry "SELECT id || ' ' || source_uuid || ' ' || status || ' ' || dn FROM accounts WHERE name = 'carol.diaz'")" \
		"$id $uuid active uid=carol.diaz,$PEOPLE"
	assert_eq "$(sql registry "SELECT count(*) FROM accounts WHERE name = 'carol'")" 0
	assert_eq "$(sql registry "SELECT account_name FROM uid_history WHERE uid = 10003")" carol.diaz
	# the old name keeping a second uid value (modrdn without -r) is still a rename
	sldap ldapmodrdn "uid=carol.diaz,$PEOPLE" uid=cdiaz
	assert_exit 0 actl sync
	assert_eq "$(sql registry "SELECT id FROM accounts WHERE name = 'cdiaz'")" "$id"
}

test_deleted_entry_becomes_departed_with_audit_and_revocation_record() {
	ldap_setup
	assert_exit 0 actl sync
	add_user erin 10005
	pam_service t "account required $MODULE conf=$CONF"
	assert_exit 0 pamrun t erin acct
	sldap ldapdelete "uid=erin,$PEOPLE"
	assert_exit 0 actl sync
	assert_contains "$OUT" "departed       erin"
	# from this sync on the account phase refuses her (an SSH-key login runs only this phase)
	OUT=$(pamrun t erin acct) && fail "departed account still allowed: $OUT"
	assert_contains "$OUT" "acct: PAM_ACCT_EXPIRED"
	assert_eq "$(sql registry "SELECT status || '|' || status_reason FROM accounts WHERE name = 'erin'")" "departed|entry removed from the directory"
	assert_eq "$(sql registry "SELECT status FROM people WHERE employee_no = 'E1005'")" departed
	assert_eq "$(sql registry "SELECT trigger || '|' || step || '|' || status || '|' || employee_no || '|' || detail FROM revocation_actions WHERE account_name = 'erin'")" \
		"sync|registry|done|E1005|groups=engineers"
	assert_eq "$(sql registry "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.name = 'erin'")" 0
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'departure' AND subject = 'erin'")" 1
	assert_file_contains "$SYSLOG" "event=departure"
	# the next sync does not depart her again
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" departed)" 0
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'departure'")" 1
	# others are untouched
	assert_eq "$(status_of carol)" active
}

test_ppolicy_lock_and_past_shadow_expire_mark_the_account_locked() {
	SLAPD_MODULES=ppolicy ldap_setup
	assert_exit 0 actl sync
	sldap ldapmodify >/dev/null <<EOF
dn: uid=dave,$PEOPLE
changetype: modify
replace: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z

dn: uid=carol,$PEOPLE
changetype: modify
replace: shadowExpire
shadowExpire: 20000
EOF
	# 20000 days after 1970 is 2024-10-04: past at the pinned time, future before it
	ISMS_TEST_NOW=1700000000 assert_exit 0 actl sync
	assert_eq "$(status_of carol)" active
	assert_eq "$(status_of dave)" locked
	# the same entry, read when its expiry has passed
	ISMS_TEST_NOW=1800000000 assert_exit 0 actl --json sync --full
	assert_eq "$(json_field "$OUT" locked)" 1
	assert_eq "$(sql registry "SELECT status || '|' || status_reason FROM accounts WHERE name = 'dave'")" "locked|pwdAccountLockedTime=000001010000Z"
	assert_eq "$(sql registry "SELECT status || '|' || status_reason FROM accounts WHERE name = 'carol'")" "locked|shadowExpire=20000"
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'locked'")" 2
	# unlocking in the directory makes it active again
	sldap ldapmodify >/dev/null <<EOF
dn: uid=dave,$PEOPLE
changetype: modify
delete: pwdAccountLockedTime
EOF
	ISMS_TEST_NOW=1800000000 assert_exit 0 actl sync
	assert_contains "$OUT" "unlocked       dave"
	assert_eq "$(status_of dave)" active
}

test_paging_reads_a_directory_larger_than_the_size_limit() {
	SLAPD_SIZELIMIT="size.soft=3 size.hard=3 size.prtotal=unlimited" ldap_setup
	# without paging the server stops at 3 entries
	OUT=$(ldapsearch -x -H "$SLAPD_URI" -D "cn=reader,ou=system,$SLAPD_BASE" -w "$SLAPD_READERPW" \
		-b "$SLAPD_BASE" '(objectClass=posixAccount)' uid 2>&1) || true
	assert_contains "$OUT" "Size limit exceeded"
	conf_set ldap page_size 2
	assert_exit 0 actl --json sync --full
	assert_eq "$(json_field "$OUT" accounts)" 7
	assert_eq "$(json_field "$OUT" groups)" 7
	assert_eq "$(sql registry "SELECT count(*) FROM accounts WHERE source = 'ldap'")" 7
}

test_content_sync_stopped_by_the_size_limit_starts_over_paged() {
	SLAPD_MODULES=syncprov SLAPD_SIZELIMIT="size.soft=3 size.hard=3 size.prtotal=unlimited" ldap_setup
	conf_set ldap page_size 2
	# no cookie yet: a content sync, applied as it arrives, stops after 3
	# entries; what it wrote is rolled back and a paged read starts over
	assert_exit 0 actl --json sync
	assert_contains "$(json_field "$OUT" fallback)" "size limit"
	assert_eq "$(json_field "$OUT" mode)" full
	assert_eq "$(json_field "$OUT" accounts)" 7
	assert_eq "$(json_field "$OUT" added)" 7
	assert_eq "$(json_field "$OUT" groups_added)" 7
	assert_eq "$(sql registry "SELECT count(*) FROM accounts WHERE source = 'ldap'")" 7
	assert_eq "$(sql registry "SELECT count(*) FROM (SELECT uuid FROM ldap_entries GROUP BY uuid, kind HAVING count(*) > 1)")" 0
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'sync'")" 1
	# and again: nothing to change
	assert_exit 0 actl --json sync
	assert_contains "$(json_field "$OUT" fallback)" "size limit"
	assert_eq "$(json_field "$OUT" added)$(json_field "$OUT" changed)$(json_field "$OUT" departed)" 000
}

test_size_limit_that_paging_cannot_pass_is_a_clear_error() {
	SLAPD_SIZELIMIT="size.soft=3 size.hard=3 size.prtotal=5" ldap_setup
	conf_set ldap page_size 2
	local before; before=$(dump)
	assert_exit 2 actl sync --full
	assert_contains "$OUT" "$SLAPD_URI"
	assert_contains "$OUT" "Size limit exceeded"
	assert_eq "$(dump)" "$before"
}

test_incremental_sync_picks_up_an_add_a_modify_and_a_delete() {
	SLAPD_MODULES=syncprov ldap_setup
	assert_exit 0 actl sync
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" changed)" 0
	assert_eq "$(json_field "$OUT" departed)" 0
	sldap ldapadd >/dev/null <<EOF
dn: uid=frank,$PEOPLE
objectClass: inetOrgPerson
objectClass: posixAccount
uid: frank
cn: Frank Green
sn: Green
employeeNumber: E1006
manager: uid=bob,$PEOPLE
uidNumber: 10006
gidNumber: 10006
homeDirectory: /home/frank
EOF
	sldap ldapmodify >/dev/null <<EOF
dn: uid=carol,$PEOPLE
changetype: modify
replace: title
title: Staff Engineer

dn: cn=engineers,ou=groups,dc=example,dc=com
changetype: modify
add: memberUid
memberUid: frank
EOF
	sldap ldapdelete "uid=erin,$PEOPLE"
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" added)" 1
	assert_eq "$(json_field "$OUT" changed)" 1
	assert_eq "$(json_field "$OUT" departed)" 1
	assert_eq "$(json_field "$OUT" accounts)" 7
	assert_eq "$(sql registry "SELECT p.manager_no FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.name = 'frank'")" E1001
	assert_eq "$(sql registry "SELECT title FROM people WHERE employee_no = 'E1003'")" "Staff Engineer"
	assert_eq "$(status_of erin)" departed
	assert_eq "$(sql registry "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id WHERE a.name = 'frank' AND g.name = 'engineers'")" 1
	# the incremental result is what a full read gives
	assert_exit 0 actl --json sync --full
	assert_eq "$(json_field "$OUT" mode)" full
	assert_eq "$(json_field "$OUT" added)$(json_field "$OUT" changed)$(json_field "$OUT" departed)$(json_field "$OUT" memberships_added)$(json_field "$OUT" memberships_removed)" 00000
}

test_incremental_sync_with_a_session_log_gets_deletes_as_such() {
	SLAPD_MODULES=syncprov SLAPD_SESSIONLOG=100 ldap_setup
	assert_exit 0 actl sync
	sldap ldapdelete "uid=erin,$PEOPLE"
	sldap ldapmodify >/dev/null <<EOF
dn: uid=dave,$PEOPLE
changetype: modify
replace: title
title: Consultant
EOF
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" departed)" 1
	assert_eq "$(json_field "$OUT" changed)" 1
	assert_eq "$(json_field "$OUT" accounts)" 6
	assert_eq "$(status_of erin)" departed
	assert_eq "$(sql registry "SELECT title FROM people WHERE employee_no = 'E1004'")" Consultant
	# nothing more to do on the next run
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)$(json_field "$OUT" departed)$(json_field "$OUT" changed)$(json_field "$OUT" accounts)" incremental006
}

test_group_rename_keeps_the_group_and_its_members() {
	ldap_setup
	assert_exit 0 actl sync
	local id; id=$(sql registry "SELECT id FROM groups WHERE name = 'sre'")
	sldap ldapmodrdn -r "cn=sre,ou=groups,dc=example,dc=com" cn=site-reliability
	sldap ldapmodify >/dev/null <<EOF
dn: cn=ops,ou=groups,dc=example,dc=com
changetype: modify
delete: member
member: cn=sre,ou=groups,dc=example,dc=com
-
add: member
member: cn=site-reliability,ou=groups,dc=example,dc=com
EOF
	assert_exit 0 actl sync
	assert_contains "$OUT" "group_renamed  site-reliability (sre -> site-reliability)"
	assert_eq "$(sql registry "SELECT id FROM groups WHERE name = 'site-reliability'")" "$id"
	assert_eq "$(sql registry "SELECT m.path FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id WHERE a.name = 'alice' AND g.name = 'prod-access'")" \
		"site-reliability > ops > prod-access"
}

test_cookie_the_server_refuses_falls_back_to_a_full_read() {
	SLAPD_MODULES=syncprov ldap_setup
	assert_exit 0 actl sync
	# A cookie from the future: the server cannot continue from it.
	local c='rid=000,csn=20991127040226.353880Z#000000#000#000000'
	sql registry "UPDATE sync_runs SET cookie = json_object('accounts', '$c', 'groups', '$c')"
	sldap ldapdelete "uid=erin,$PEOPLE"
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" full
	assert_contains "$(json_field "$OUT" fallback)" "server refused the sync cookie"
	assert_eq "$(json_field "$OUT" departed)" 1
	# with a fresh cookie, the next sync is incremental again
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
}

test_unreadable_stored_snapshot_means_a_full_read_not_departures() {
	SLAPD_MODULES=syncprov ldap_setup
	assert_exit 0 actl sync
	sql registry "UPDATE ldap_entries SET data = 'garbage' WHERE dn = 'uid=carol,$PEOPLE'"
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" fallback)" "stored snapshot unreadable"
	assert_eq "$(json_field "$OUT" departed)" 0
	assert_eq "$(status_of carol)" active
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
}

test_server_without_content_sync_gets_a_full_read() {
	ldap_setup
	assert_exit 0 actl sync
	sldap ldapdelete "uid=erin,$PEOPLE"
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" full
	assert_eq "$(json_field "$OUT" departed)" 1
}

test_plain_ldap_is_refused_without_allow_insecure() {
	ldap_setup
	conf_set ldap allow_insecure no
	conf_set ldap starttls no
	assert_exit 2 actl sync
	assert_contains "$OUT" "plain ldap:// without TLS refused"
	assert_contains "$OUT" "allow_insecure"
	# with StartTLS (the default) a server without TLS fails, naming itself
	conf_set ldap starttls yes
	assert_exit 2 actl sync
	assert_contains "$OUT" "$SLAPD_URI: StartTLS"
	assert_eq "$(sql registry "SELECT count(*) FROM accounts")" 0
}

test_ldaps_and_starttls_verify_the_server_certificate() {
	SLAPD_TLS=1 ldap_setup
	conf_set ldap allow_insecure no
	conf_set ldap ca_file "$SLAPD_DIR/ca.pem"
	# StartTLS on ldap:// with the right CA
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" accounts)" 7
	# ldaps:// with the right CA
	conf_set ldap uri "$SLAPD_LDAPS_URI"
	assert_exit 0 actl sync --full
	# a certificate from another CA is refused, naming the server
	mkdir -p "$T_TMP/other"
	_slapd_certs "$T_TMP/other"
	conf_set ldap ca_file "$T_TMP/other/ca.pem"
	assert_exit 2 actl sync
	assert_contains "$OUT" "$SLAPD_LDAPS_URI: TLS handshake failed: certificate not trusted (ca_file $T_TMP/other/ca.pem)"
	conf_set ldap uri "$SLAPD_URI"
	assert_exit 2 actl sync
	assert_contains "$OUT" "$SLAPD_URI: StartTLS: TLS handshake failed"
	assert_eq "$(sql registry "SELECT count(*) FROM sync_runs")" 2
}

test_wrong_password_exits_2_and_leaves_the_registry_unchanged() {
	ldap_setup
	assert_exit 0 actl sync
	sldap ldapdelete "uid=erin,$PEOPLE"
	local before; before=$(dump)
	printf 'wrong\n' > "$ROOT/etc/isms/ldap.bindpw"
	assert_exit 2 actl sync
	assert_contains "$OUT" "$SLAPD_URI: bind as cn=reader,ou=system,$SLAPD_BASE: Invalid credentials"
	assert_eq "$(echo "$OUT" | wc -l)" 1
	assert_eq "$(dump)" "$before"
	assert_eq "$(sql state "SELECT result || ' ' || reason FROM audit_events WHERE event = 'sync' ORDER BY seq DESC LIMIT 1")" "fail sync_error"
}

test_unreachable_server_is_one_clear_line() {
	ldap_setup
	slapd_stop
	assert_exit 2 actl sync
	assert_contains "$OUT" "$SLAPD_URI: bind as"
	assert_contains "$OUT" "Can't contact LDAP server"
	assert_eq "$(echo "$OUT" | wc -l)" 1
}

test_server_that_never_answers_times_out() {
	ldap_setup
	# a listener that accepts and then says nothing
	python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' > "$T_TMP/port" &
	local pid=$! i
	for i in $(seq 1 100); do [ -s "$T_TMP/port" ] && break; sleep 0.05; done
	conf_set ldap uri "ldap://127.0.0.1:$(cat "$T_TMP/port")"
	conf_set ldap timeout 1s
	assert_exit 2 actl sync
	kill "$pid"
	assert_contains "$OUT" "ldap://127.0.0.1:$(cat "$T_TMP/port"): bind as"
	assert_contains "$OUT" "Timed out"
	assert_eq "$(sql registry "SELECT count(*) FROM accounts")" 0
}

test_bind_password_file_readable_by_others_is_refused() {
	ldap_setup
	chmod 644 "$ROOT/etc/isms/ldap.bindpw"
	assert_exit 2 actl sync
	assert_contains "$OUT" "readable or writable by group or other"
	assert_eq "$(sql registry "SELECT count(*) FROM accounts")" 0
}

test_max_removals_guard_stops_a_mass_removal_unless_forced() {
	ldap_setup
	assert_exit 0 actl sync
	local u before
	for u in erin carol dave; do sldap ldapdelete "uid=$u,$PEOPLE"; done
	before=$(dump)
	assert_exit 1 actl sync
	assert_contains "$OUT" "would remove 3 of 7 directory accounts, more than max_removals = 10%"
	assert_contains "$OUT" "--force"
	assert_eq "$(dump)" "$before"
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'sync' AND result = 'refused'")" 1
	# a higher limit or --force lets it through
	assert_exit 0 actl --json sync --force
	assert_eq "$(json_field "$OUT" departed)" 3
	assert_eq "$(sql registry "SELECT group_concat(name) FROM (SELECT name FROM accounts WHERE status = 'departed' ORDER BY name)")" "carol,dave,erin"
}

test_dry_run_prints_the_changes_and_writes_nothing() {
	ldap_setup
	assert_exit 0 actl sync
	sldap ldapdelete "uid=erin,$PEOPLE"
	local before; before=$(dump)
	assert_exit 0 actl sync --dry-run
	assert_contains "$OUT" "would be departed"
	assert_contains "$OUT" "erin"
	assert_contains "$OUT" "dry run, nothing written"
	assert_eq "$(dump)" "$before"
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'departure'")" 0
}

test_names_reaching_a_filter_are_escaped() {
	ldap_setup
	# A name that, pasted into a filter, would match alice: (uid=al*)(uid=*)
	sldap ldapadd >/dev/null <<EOF
dn: cn=odd,$PEOPLE
objectClass: inetOrgPerson
objectClass: posixAccount
cn: odd
sn: odd
uid: al*)(uid=*
uidNumber: 10300
gidNumber: 10300
homeDirectory: /home/odd
EOF
	assert_exit 0 actl sync
	assert_eq "$(sql registry "SELECT status FROM accounts WHERE name = 'al*)(uid=*'")" active
	sldap ldapdelete "cn=odd,$PEOPLE"
	# departures are confirmed by a search on the name: escaped, it finds nothing
	assert_exit 0 actl sync
	assert_not_contains "$OUT" "kept"
	assert_eq "$(sql registry "SELECT status FROM accounts WHERE name = 'al*)(uid=*'")" departed
	assert_eq "$(status_of alice)" active
}

test_reused_uid_number_is_reported_and_the_new_account_held() {
	ldap_setup
	assert_exit 0 actl sync
	sldap ldapdelete "uid=erin,$PEOPLE"
	sldap ldapadd >/dev/null <<EOF
dn: uid=mallory,$PEOPLE
objectClass: inetOrgPerson
objectClass: posixAccount
uid: mallory
cn: Mallory Hill
sn: Hill
employeeNumber: E2001
uidNumber: 10005
gidNumber: 10005
homeDirectory: /home/mallory
EOF
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" held)" 1
	assert_eq "$(sql registry "SELECT status || '|' || status_reason FROM accounts WHERE name = 'mallory'")" "held|uid 10005 reused: first held by erin"
	assert_eq "$(status_of erin)" departed
	assert_eq "$(sql registry "SELECT account_name FROM uid_history WHERE uid = 10005")" erin
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'held' AND subject = 'mallory'")" 1
}

# big_ldif N FILE: the sample directory plus N generated accounts.
big_ldif() {
	cp "$LDIF" "$2"
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "\ndn: uid=user%d,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: user%d\ncn: User %d\nsn: %d\nemployeeNumber: B%d\nuidNumber: %d\ngidNumber: 100\nhomeDirectory: /home/user%d\n", i, i, i, i, i, 200000 + i, i }' >> "$2"
}

test_kill_9_during_a_sync_leaves_the_previous_state_whole() {
	ldap_setup
	pam_service t "account required $MODULE conf=$CONF" "account required pam_permit.so"
	assert_exit 0 actl sync
	local before big pidf out i
	before=$(dump)
	big=$T_TMP/big.ldif
	big_ldif 30000 "$big"
	slapd_stop
	SLAPD_NAME=big slapd_start "$big" || fail "big slapd"
	conf_set ldap uri "$SLAPD_URI"
	pidf=$T_TMP/sync.pid
	out=$T_TMP/sync.out
	# A terminal, so that progress is shown; kill as soon as writing has begun.
	script -qfec "echo \$\$ > $pidf; ISMS_SYSLOG_CAPTURE=$SYSLOG LD_PRELOAD=$BUILD/tools/syslogcap.so exec $ACCESSCTL_BIN --root $ROOT sync --force --full" /dev/null > "$out" 2>&1 &
	for i in $(seq 1 600); do
		grep -q applying "$out" 2>/dev/null && break
		sleep 0.05
	done
	grep -q applying "$out" || fail "no progress seen: $(cat "$out")"
	# a login reads the registry while the sync holds its write transaction
	OUT=$(pamrun t alice acct 2>&1) || true
	kill -9 "$(cat "$pidf")"
	assert_contains "$OUT" "acct: PAM_SUCCESS"
	wait || true
	assert_file_not_contains "$out" "duration:"
	assert_eq "$(dump)" "$before"
	assert_eq "$(sql registry "PRAGMA integrity_check")" ok
}

run_tests
