#!/bin/bash
# accessctl sync, incremental (RFC 4533 content sync against slapd's syncprov):
# an incremental sync leaves the registry as a full read of the same directory
# would, whatever changed, including what depends on the time or was changed
# in the registry by another command since the last sync.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"
. "$(dirname "$0")/../lib/slapd.sh"
. "$(dirname "$0")/../lib/sync.sh"

PEOPLE=ou=people,dc=example,dc=com

# ldap_setup: a server with syncprov, a test root, and two syncs done: the
# next one is incremental.
ldap_setup() {
	SLAPD_MODULES=syncprov sync_root "$TOP/examples/directory.ldif"
	assert_exit 0 actl sync
	assert_exit 0 actl sync
}

manager_of() { sql registry "SELECT p.manager_no FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.name = '$1'"; }

# full_finds_nothing: a full read of the directory now has nothing left to change.
full_finds_nothing() {
	assert_exit 0 actl --json sync --full
	assert_eq "$(json_field "$OUT" added)$(json_field "$OUT" changed)$(json_field "$OUT" departed)$(json_field "$OUT" locked)$(json_field "$OUT" memberships_added)$(json_field "$OUT" memberships_removed)" 000000
}

test_departed_manager_leaves_the_reports_without_one() {
	ldap_setup
	assert_eq "$(manager_of alice)" E1001
	sldap ldapdelete "uid=bob,$PEOPLE"
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" departed)" 1
	assert_eq "$(json_field "$OUT" accounts)" 6
	assert_eq "$(status_of bob)" departed
	assert_eq "$(manager_of alice)" ""
	assert_eq "$(manager_of erin)" ""
	assert_eq "$(sql registry "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.name = 'bob'")" 0
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'departure' AND subject = 'bob'")" 1
	full_finds_nothing
}

test_new_employee_number_of_a_manager_reaches_the_reports() {
	ldap_setup
	sldap ldapmodify >/dev/null <<EOF
dn: uid=bob,$PEOPLE
changetype: modify
replace: employeeNumber
employeeNumber: E9001
EOF
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(manager_of carol)" E9001
	assert_eq "$(manager_of alice)" E9001
	full_finds_nothing
}

test_unchanged_entry_is_locked_once_its_expiry_passes() {
	ldap_setup
	sldap ldapmodify >/dev/null <<EOF
dn: uid=carol,$PEOPLE
changetype: modify
replace: shadowExpire
shadowExpire: 20000
EOF
	# 20000 days after 1970 is 2024-10-04
	ISMS_TEST_NOW=1700000000 assert_exit 0 actl sync
	assert_eq "$(status_of carol)" active
	# nothing changes in the directory; the time passes the expiry
	ISMS_TEST_NOW=1800000000 assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" locked)" 1
	assert_eq "$(sql registry "SELECT status || '|' || status_reason FROM accounts WHERE name = 'carol'")" "locked|shadowExpire=20000"
	ISMS_TEST_NOW=1800000000 full_finds_nothing
}

test_status_changed_in_the_registry_is_put_back_from_the_directory() {
	ldap_setup
	sql registry "UPDATE accounts SET status = 'locked' WHERE name = 'alice'"
	sql registry "UPDATE accounts SET status = 'departed' WHERE name = 'dave'"
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_contains "$OUT" '"change":"unlocked","name":"alice"'
	assert_contains "$OUT" '"change":"returned","name":"dave"'
	assert_eq "$(status_of alice)$(status_of dave)" activeactive
	full_finds_nothing
}

test_membership_removed_in_the_registry_is_put_back_from_the_directory() {
	ldap_setup
	local direct="via_id IS NULL AND account_id = (SELECT id FROM accounts WHERE name = 'carol')" n
	n=$(sql registry "SELECT count(*) FROM memberships WHERE $direct")
	sql registry "DELETE FROM memberships WHERE $direct"
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" memberships_added)" "$n"
	assert_eq "$(sql registry "SELECT count(*) FROM memberships WHERE $direct")" "$n"
	full_finds_nothing
}

test_privileged_groups_changed_in_the_config_apply_without_a_directory_change() {
	ldap_setup
	assert_eq "$(sql registry "SELECT privileged FROM groups WHERE name = 'sre'")" 0
	conf_set ldap privileged_groups admins,sre
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(sql registry "SELECT privileged FROM groups WHERE name = 'sre'")" 1
}

test_group_changed_in_the_registry_is_put_back_from_the_directory() {
	ldap_setup
	local dn gid
	dn=$(sql registry "SELECT dn FROM groups WHERE name = 'sre'")
	gid=$(sql registry "SELECT gid FROM groups WHERE name = 'sre'")
	sql registry "UPDATE groups SET dn = 'cn=elsewhere', gid = 1 WHERE name = 'sre'"
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" groups_changed)" 1
	assert_eq "$(sql registry "SELECT dn || '|' || ifnull(gid, '') FROM groups WHERE name = 'sre'")" "$dn|$gid"
}

test_max_removals_guard_stops_an_incremental_mass_removal() {
	ldap_setup
	local u before
	for u in erin carol dave; do sldap ldapdelete "uid=$u,$PEOPLE"; done
	before=$(dump)
	assert_exit 1 actl sync
	assert_contains "$OUT" "would remove 3 of 7 directory accounts, more than max_removals = 10%"
	assert_eq "$(dump)" "$before"
	assert_exit 0 actl --json sync --force
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" departed)" 3
	full_finds_nothing
}

test_incremental_dry_run_prints_the_changes_and_writes_nothing() {
	ldap_setup
	sldap ldapdelete "uid=erin,$PEOPLE"
	local before; before=$(dump)
	assert_exit 0 actl sync --dry-run
	assert_contains "$OUT" "incremental"
	assert_contains "$OUT" "would be departed"
	assert_contains "$OUT" "erin"
	assert_eq "$(dump)" "$before"
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'departure'")" 0
}

test_rename_beside_other_changes_keeps_memberships_right() {
	ldap_setup
	sldap ldapmodrdn "uid=carol,$PEOPLE" uid=caroline >/dev/null
	sldap ldapmodify >/dev/null <<EOF
dn: uid=dave,$PEOPLE
changetype: modify
replace: title
title: Principal
EOF
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" renamed)" 1
	assert_eq "$(sql registry "SELECT title FROM people WHERE employee_no = 'E1004'")" Principal
	full_finds_nothing
}

run_tests
