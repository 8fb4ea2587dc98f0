#!/bin/bash
# accessctl sync against a real slapd, on directories that are odd but legal:
# one name on two entries, renames onto a taken name, an entry that is both
# an account and a group (a user private group), nesting cycles, member
# values that name nothing, manager loops, one person with two accounts, one
# uid on two entries, numbers out of range, long and UTF-8 values. Each
# through a full read and a content sync, and an incremental sync after a change. What must hold: one bad entry
# never stops the sync, it is reported; nothing the directory does not grant is
# granted; the registry has no duplicate rows and a full read afterwards finds
# nothing left to change.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"
. "$(dirname "$0")/../lib/slapd.sh"
. "$(dirname "$0")/../lib/sync.sh"

BASE=dc=example,dc=com
PEOPLE=ou=people,$BASE
GRP=ou=groups,$BASE
PARTNERS=ou=partners,$BASE

# edge_ldif FILE: the sample directory plus an OU for partner accounts, then
# whatever the caller appends.
edge_ldif() {
	cp "$LDIF" "$1"
	cat >> "$1" <<EOF

dn: $PARTNERS
objectClass: organizationalUnit
ou: partners
EOF
}

# account_ldif NAME UIDNUMBER EMPLOYEENO [OU]: an account entry.
account_ldif() {
	cat <<EOF

dn: uid=$1,${4:-$PARTNERS}
objectClass: inetOrgPerson
objectClass: posixAccount
uid: $1
cn: $1 partner
sn: partner
employeeNumber: $3
uidNumber: $2
gidNumber: $2
homeDirectory: /home/$1
EOF
}

# second_root: another test root against the same server, as sync_root makes
# one (a first sync again, read another way).
second_root() {
	sync_conf
	[ -z "${PEOPLE_BASE:-}" ] || conf_set ldap people_base "$PEOPLE_BASE"
}

# first_sync_both_ways CHECK: a first sync as a full read, then (in a second
# root) as a content sync, each followed by CHECK and a full read that must
# find nothing to change. The server must have syncprov.
first_sync_both_ways() {
	local check=$1
	assert_exit 0 actl --json sync --full
	assert_eq "$(json_field "$OUT" mode)" full
	"$check"
	full_finds_nothing
	second_root
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" fallback)" ""
	"$check"
	full_finds_nothing
	# a content sync, for a cookie: the next one is incremental
	assert_exit 0 actl sync
}

# full_finds_nothing: a full read of the directory now has nothing left to change.
full_finds_nothing() {
	local out=$OUT
	assert_exit 0 actl --json sync --full
	assert_eq "$(json_field "$OUT" added)$(json_field "$OUT" changed)$(json_field "$OUT" renamed)$(json_field "$OUT" departed)$(json_field "$OUT" locked)$(json_field "$OUT" held)$(json_field "$OUT" groups_added)$(json_field "$OUT" groups_changed)$(json_field "$OUT" groups_removed)$(json_field "$OUT" memberships_added)$(json_field "$OUT" memberships_removed)" \
		00000000000 "full read after: $OUT"
	OUT=$out
}

# groups_of ACCOUNT: its groups, "group<via|path>" each, sorted.
groups_of() {
	sql registry "SELECT group_concat(x, ';') FROM (SELECT g.name || '<' || coalesce(v.name, '') || '|' || coalesce(m.path, '') || '>' AS x
		FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id
		LEFT JOIN groups v ON v.id = m.via_id WHERE a.name = '$1' ORDER BY x)"
}

# no_duplicates: no account, group or membership twice in the registry, and
# no entry stored twice as one kind.
no_duplicates() {
	assert_eq "$(sql registry "SELECT count(*) FROM (SELECT account_id, group_id FROM memberships GROUP BY account_id, group_id, coalesce(via_id, 0) HAVING count(*) > 1)")" 0 "duplicate memberships"
	assert_eq "$(sql registry "SELECT count(*) FROM (SELECT uuid FROM ldap_entries GROUP BY uuid, kind HAVING count(*) > 1)")" 0
}

conflicts_in() { python3 -c 'import json,sys; print(";".join(c["name"] + "|" + (c.get("detail") or "") for c in json.loads(sys.argv[1])["changes"] if c["change"] == "conflict"))' "$1"; }

#
# One name on two entries
#

check_first_entry_keeps_the_name() {
	assert_eq "$(sql registry "SELECT count(*) || ' ' || dn || ' ' || uid FROM accounts WHERE name = 'alice'")" "1 uid=alice,$PEOPLE 10002"
	assert_contains "$(conflicts_in "$OUT")" "alice|"
	assert_contains "$(conflicts_in "$OUT")" "uid=alice,$PARTNERS"
	assert_eq "$(json_field "$OUT" conflicts)" 1
	# the second entry's uid and person are not recorded either
	assert_eq "$(sql registry "SELECT count(*) FROM uid_history WHERE uid = 20002")" 0
	assert_eq "$(sql registry "SELECT count(*) FROM people WHERE employee_no = 'P2002'")" 0
	# memberUid alice is the account that has the name; member DN of the second grants nothing
	assert_eq "$(groups_of alice)" "admins<|>;ops<sre|sre > ops>;prod-access<sre|sre > ops > prod-access>;sre<|>"
	no_duplicates
}

test_two_entries_with_one_name_in_a_first_sync_keep_the_first() {
	local ldif=$T_TMP/dup.ldif
	edge_ldif "$ldif"
	account_ldif alice 20002 P2002 >> "$ldif"
	cat >> "$ldif" <<EOF

dn: cn=partner-tools,$GRP
objectClass: groupOfNames
cn: partner-tools
member: uid=alice,$PARTNERS
EOF
	SLAPD_MODULES=syncprov sync_root "$ldif"
	first_sync_both_ways check_first_entry_keeps_the_name
}

test_two_entries_added_with_one_name_are_one_account_and_a_conflict() {
	SLAPD_MODULES=syncprov sync_root "$LDIF"
	assert_exit 0 actl sync
	{ printf 'dn: %s\nobjectClass: organizationalUnit\nou: partners\n' "$PARTNERS"
	  account_ldif zed 20010 P2010 "$PEOPLE"; account_ldif zed 20011 P2011; } | sldap ldapadd >/dev/null
	sldap ldapmodify >/dev/null <<EOF
dn: cn=engineers,$GRP
changetype: modify
add: memberUid
memberUid: zed
EOF
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" added)" 1
	assert_eq "$(json_field "$OUT" conflicts)" 1
	assert_contains "$(conflicts_in "$OUT")" "zed|"
	assert_eq "$(sql registry "SELECT count(*) || ' ' || dn FROM accounts WHERE name = 'zed'")" "1 uid=zed,$PEOPLE"
	assert_eq "$(groups_of zed)" "engineers<|>"
	assert_eq "$(sql registry "SELECT count(*) FROM uid_history WHERE uid = 20011")" 0
	no_duplicates
	full_finds_nothing
	assert_eq "$(json_field "$OUT" conflicts)" 1
	# the first one leaves: the second becomes the account of that name (same row)
	local id; id=$(sql registry "SELECT id FROM accounts WHERE name = 'zed'")
	sldap ldapdelete "uid=zed,$PEOPLE"
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" conflicts)" 0
	assert_eq "$(sql registry "SELECT id || ' ' || dn FROM accounts WHERE name = 'zed'")" "$id uid=zed,$PARTNERS"
	no_duplicates
	full_finds_nothing
}

test_entry_renamed_onto_a_taken_name_is_a_conflict_not_a_departure() {
	SLAPD_MODULES=syncprov sync_root "$LDIF"
	assert_exit 0 actl sync
	local id; id=$(sql registry "SELECT id FROM accounts WHERE name = 'carol'")
	printf 'dn: %s\nobjectClass: organizationalUnit\nou: partners\n' "$PARTNERS" | sldap ldapadd >/dev/null
	sldap ldapmodrdn -r -s "$PARTNERS" "uid=carol,$PEOPLE" uid=dave
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" departed)" 0
	assert_eq "$(json_field "$OUT" renamed)" 0
	assert_eq "$(json_field "$OUT" conflicts)" 1
	assert_contains "$(conflicts_in "$OUT")" "dave|"
	assert_contains "$(conflicts_in "$OUT")" "uid=dave,$PARTNERS"
	# carol's row stays as it was, but nothing is granted through the conflicting entry
	assert_eq "$(sql registry "SELECT id || ' ' || status || ' ' || dn FROM accounts WHERE name = 'carol'")" "$id active uid=carol,$PEOPLE"
	assert_eq "$(groups_of carol)" ""
	assert_eq "$(sql registry "SELECT account_name FROM uid_history WHERE uid = 10003")" carol
	assert_eq "$(sql registry "SELECT dn || ' ' || status FROM accounts WHERE name = 'dave'")" "uid=dave,$PEOPLE active"
	assert_eq "$(groups_of dave)" "contractors<|>;helpdesk<|>"
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'departure'")" 0
	no_duplicates
	full_finds_nothing
	assert_eq "$(json_field "$OUT" conflicts)" 1
	assert_exit 0 actl sync
	assert_contains "$OUT" "conflict       dave (renamed onto an existing account: uid=dave,$PARTNERS)"
	assert_contains "$OUT" "conflicts: 1 entries not written"
	# once the name is free the rename goes through, on the next sync of either kind
	sldap ldapmodrdn -r "uid=dave,$PEOPLE" uid=dave.evans
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" conflicts)" 0
	assert_eq "$(json_field "$OUT" renamed)" 2
	assert_eq "$(sql registry "SELECT id || ' ' || dn FROM accounts WHERE name = 'dave'")" "$id uid=dave,$PARTNERS"
	assert_eq "$(sql registry "SELECT account_name FROM uid_history WHERE uid = 10003")" dave
	assert_eq "$(sql registry "SELECT account_name FROM uid_history WHERE uid = 10004")" dave.evans
	full_finds_nothing
}

# id_of ACCOUNT: its registry row.
id_of() { sql registry "SELECT id FROM accounts WHERE name = '$1'"; }

test_accounts_swapping_names_in_one_sync_are_renames_not_conflicts() {
	SLAPD_MODULES=syncprov sync_root "$LDIF"
	assert_exit 0 actl sync
	local carol dave alice bob erin
	carol=$(id_of carol) dave=$(id_of dave)
	# carol and dave swap names between two syncs
	sldap ldapmodrdn -r "uid=carol,$PEOPLE" uid=swap-tmp
	sldap ldapmodrdn -r "uid=dave,$PEOPLE" uid=carol
	sldap ldapmodrdn -r "uid=swap-tmp,$PEOPLE" uid=dave
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" conflicts)" 0 "$OUT"
	assert_eq "$(json_field "$OUT" renamed)" 2
	assert_eq "$(json_field "$OUT" departed)" 0
	# each row follows its entry: the rows keep their identity, the names move
	assert_eq "$(id_of carol) $(id_of dave)" "$dave $carol"
	assert_eq "$(sql registry "SELECT dn FROM accounts WHERE id = $dave")" "uid=carol,$PEOPLE"
	assert_eq "$(sql registry "SELECT account_name FROM uid_history WHERE uid = 10003")" dave
	assert_eq "$(sql registry "SELECT account_name FROM uid_history WHERE uid = 10004")" carol
	# the groups' member values name carol and dave as before: they grant by name
	assert_eq "$(groups_of carol)" "engineers<|>;prod-access<|>"
	assert_eq "$(groups_of dave)" "contractors<|>;helpdesk<|>"
	assert_eq "$(sql registry "SELECT count(*) FROM accounts WHERE name LIKE '(renaming%'")" 0
	no_duplicates
	full_finds_nothing
	# a ring of three, read in full: alice to bob, bob to erin, erin to alice
	alice=$(id_of alice) bob=$(id_of bob) erin=$(id_of erin)
	sldap ldapmodrdn -r "uid=alice,$PEOPLE" uid=ring-tmp
	sldap ldapmodrdn -r "uid=erin,$PEOPLE" uid=alice
	sldap ldapmodrdn -r "uid=bob,$PEOPLE" uid=erin
	sldap ldapmodrdn -r "uid=ring-tmp,$PEOPLE" uid=bob
	assert_exit 0 actl --json sync --full
	assert_eq "$(json_field "$OUT" conflicts)" 0 "$OUT"
	assert_eq "$(json_field "$OUT" renamed)" 3
	assert_eq "$(id_of bob) $(id_of erin) $(id_of alice)" "$alice $bob $erin"
	assert_eq "$(sql registry "SELECT account_name FROM uid_history WHERE uid IN (10001, 10002, 10005) ORDER BY uid")" "$(printf 'erin\nbob\nalice')"
	no_duplicates
	full_finds_nothing
}

test_a_ring_of_renames_onto_a_name_held_outside_it_is_a_conflict() {
	SLAPD_MODULES=syncprov sync_root "$LDIF"
	assert_exit 0 actl sync
	local carol dave
	carol=$(id_of carol) dave=$(id_of dave)
	# carol takes dave's name and dave takes erin's, but erin keeps hers: no ring
	sldap ldapmodrdn -r "uid=dave,$PEOPLE" uid=tmp
	sldap ldapmodrdn -r "uid=carol,$PEOPLE" uid=dave
	printf 'dn: %s\nobjectClass: organizationalUnit\nou: partners\n' "$PARTNERS" | sldap ldapadd >/dev/null
	sldap ldapmodrdn -r -s "$PARTNERS" "uid=tmp,$PEOPLE" uid=erin
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" conflicts)" 2 "$OUT"
	assert_eq "$(json_field "$OUT" renamed)" 0
	assert_eq "$(id_of carol) $(id_of dave)" "$carol $dave"
	assert_eq "$(sql registry "SELECT count(*) FROM accounts WHERE name LIKE '(renaming%'")" 0
	no_duplicates
}

test_group_renamed_onto_a_taken_name_keeps_the_other_group_whole() {
	SLAPD_MODULES=syncprov sync_root "$LDIF"
	assert_exit 0 actl sync
	local ops; ops=$(sql registry "SELECT id FROM groups WHERE name = 'ops'")
	sldap ldapmodrdn -r -s "$PEOPLE" "cn=sre,$GRP" cn=ops
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" conflicts)" 1
	assert_contains "$(conflicts_in "$OUT")" "ops|"
	assert_contains "$(conflicts_in "$OUT")" "cn=ops,$PEOPLE"
	# the real ops keeps its members; alice, only in the renamed group, gets nothing through it
	assert_eq "$(sql registry "SELECT id || ' ' || dn FROM groups WHERE name = 'ops'")" "$ops cn=ops,$GRP"
	assert_eq "$(groups_of svc-backup)" "ops<|>;prod-access<ops|ops > prod-access>"
	assert_eq "$(groups_of alice)" "admins<|>"
	no_duplicates
	# a full read sends the groups in another order: the same result
	full_finds_nothing
	assert_eq "$(json_field "$OUT" conflicts)" 1
	assert_eq "$(groups_of svc-backup)" "ops<|>;prod-access<ops|ops > prod-access>"
}

#
# Nesting
#

check_cycles() {
	# loop-a lists itself and loop-c; loop-c is in loop-b, loop-b in loop-a
	assert_eq "$(groups_of carol)" "engineers<|>;loop-a<|>;loop-b<loop-a|loop-a > loop-b>;loop-c<loop-a|loop-a > loop-b > loop-c>;prod-access<|>"
	assert_eq "$(groups_of dave)" "contractors<|>;helpdesk<|>;loop-a<loop-c|loop-c > loop-a>;loop-b<loop-c|loop-c > loop-a > loop-b>;loop-c<|>"
	assert_eq "$(sql registry "SELECT count(*) FROM group_nesting n JOIN groups p ON p.id = n.parent_id WHERE p.name LIKE 'loop-%'")" 3
	assert_eq "$(sql registry "SELECT count(*) FROM group_nesting n WHERE n.parent_id = n.child_id")" 0
	no_duplicates
}

test_self_membership_and_nesting_cycles_grant_each_member_once() {
	local ldif=$T_TMP/loops.ldif
	edge_ldif "$ldif"
	cat >> "$ldif" <<EOF

dn: cn=loop-a,$GRP
objectClass: groupOfNames
cn: loop-a
member: cn=loop-a,$GRP
member: cn=loop-c,$GRP
member: uid=carol,$PEOPLE

dn: cn=loop-b,$GRP
objectClass: groupOfNames
cn: loop-b
member: cn=loop-a,$GRP

dn: cn=loop-c,$GRP
objectClass: groupOfNames
cn: loop-c
member: cn=loop-b,$GRP
member: uid=dave,$PEOPLE
EOF
	SLAPD_MODULES=syncprov sync_root "$ldif"
	first_sync_both_ways check_cycles
	# break the cycle: incremental, then nothing left for a full read
	sldap ldapmodify >/dev/null <<EOF
dn: cn=loop-a,$GRP
changetype: modify
delete: member
member: cn=loop-c,$GRP
EOF
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(groups_of dave)" "contractors<|>;helpdesk<|>;loop-c<|>"
	assert_eq "$(groups_of carol)" "engineers<|>;loop-a<|>;loop-b<loop-a|loop-a > loop-b>;loop-c<loop-a|loop-a > loop-b > loop-c>;prod-access<|>"
	no_duplicates
	full_finds_nothing
}

check_members_by_any_spelling() {
	assert_eq "$(groups_of carol)" "engineers<|>;odd-members<|>;prod-access<|>"
	assert_eq "$(sql registry "SELECT attr FROM memberships m JOIN groups g ON g.id = m.group_id JOIN accounts a ON a.id = m.account_id WHERE g.name = 'odd-members'")" member
	assert_eq "$(sql registry "SELECT count(*) FROM accounts WHERE name = 'outsider'")" 0
	assert_eq "$(sql registry "SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id WHERE g.name IN ('odd-members', 'posix-odd')")" 1
	no_duplicates
}

test_member_values_that_name_nothing_grant_nothing_and_spelling_does_not_matter() {
	local ldif=$T_TMP/odd.ldif
	edge_ldif "$ldif"
	account_ldif outsider 20020 P2020 "ou=system,$BASE" >> "$ldif"
	cat >> "$ldif" <<EOF

dn: cn=odd-members,$GRP
objectClass: groupOfNames
cn: odd-members
member: uid=ghost,$PEOPLE
member: uid=outsider,ou=system,$BASE
member: cn=no-such-group,$GRP
member: UID=Carol, OU=People,DC=example, dc=com
member: uid=carol,$PEOPLE
member: cn=reader,ou=system,$BASE

dn: cn=posix-odd,$GRP
objectClass: posixGroup
cn: posix-odd
gidNumber: 5100
memberUid: ghost
memberUid: CAROL
memberUid: outsider
EOF
	SLAPD_MODULES=syncprov sync_root "$ldif"
	# accounts are read under ou=people only: outsider is not one
	PEOPLE_BASE=$PEOPLE
	conf_set ldap people_base "$PEOPLE_BASE"
	first_sync_both_ways check_members_by_any_spelling
}

test_group_without_members_is_a_group_with_no_memberships() {
	local ldif=$T_TMP/empty.ldif
	edge_ldif "$ldif"
	cat >> "$ldif" <<EOF

dn: cn=empty,$GRP
objectClass: posixGroup
cn: empty
gidNumber: 5200
EOF
	SLAPD_MODULES=syncprov sync_root "$ldif"
	assert_exit 0 actl sync
	assert_eq "$(sql registry "SELECT gid || ' ' || (SELECT count(*) FROM memberships WHERE group_id = groups.id) FROM groups WHERE name = 'empty'")" "5200 0"
	# the last member of a group goes: the group stays, empty
	sldap ldapmodify >/dev/null <<EOF
dn: cn=contractors,$GRP
changetype: modify
delete: memberUid
EOF
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" memberships_removed)" 1
	assert_eq "$(sql registry "SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id WHERE g.name = 'contractors'")" 0
	assert_eq "$(sql registry "SELECT count(*) FROM groups WHERE name = 'contractors'")" 1
	full_finds_nothing
}

#
# People
#

manager_of() { sql registry "SELECT p.manager_no FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.name = '$1'"; }

check_manager_loops() {
	assert_eq "$(manager_of carol)" E1004
	assert_eq "$(manager_of dave)" E1003
	assert_eq "$(manager_of erin)" E1005
}

test_manager_loops_and_self_management_are_stored_as_the_directory_says() {
	local ldif=$T_TMP/mgr.ldif
	edge_ldif "$ldif"
	sed -i "/^dn: uid=carol,/,/^$/ s/^manager: .*/manager: uid=dave,$PEOPLE/;
		/^dn: uid=dave,/,/^$/ s/^manager: .*/manager: uid=carol,$PEOPLE/;
		/^dn: uid=erin,/,/^$/ s/^manager: .*/manager: uid=erin,$PEOPLE/" "$ldif"
	SLAPD_MODULES=syncprov sync_root "$ldif"
	first_sync_both_ways check_manager_loops
	# a change inside the loop, incremental
	sldap ldapmodify >/dev/null <<EOF
dn: uid=dave,$PEOPLE
changetype: modify
replace: employeeNumber
employeeNumber: E9004
EOF
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(manager_of carol)" E9004
	assert_eq "$(manager_of dave)" E1003
	full_finds_nothing
}

check_one_person_two_accounts() {
	assert_eq "$(sql registry "SELECT count(*) FROM people WHERE employee_no = 'E1002'")" 1
	assert_eq "$(sql registry "SELECT count(DISTINCT person_id) FROM accounts WHERE name IN ('alice', 'alice-adm')")" 1
	assert_eq "$(sql registry "SELECT status FROM accounts WHERE name = 'alice-adm'")" active
}

test_one_person_with_two_accounts_is_one_person() {
	local ldif=$T_TMP/two.ldif
	edge_ldif "$ldif"
	account_ldif alice-adm 20030 E1002 >> "$ldif"
	SLAPD_MODULES=syncprov sync_root "$ldif"
	first_sync_both_ways check_one_person_two_accounts
	# a change to one of them: the person row is what a full read gives
	sldap ldapmodify >/dev/null <<EOF
dn: uid=alice-adm,$PARTNERS
changetype: modify
replace: title
title: Platform Administrator
EOF
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	full_finds_nothing
	# the second account gets its own employee number: a person of its own; alice keeps hers
	sldap ldapmodify >/dev/null <<EOF
dn: uid=alice-adm,$PARTNERS
changetype: modify
replace: employeeNumber
employeeNumber: P3000
EOF
	assert_exit 0 actl --json sync
	assert_eq "$(sql registry "SELECT p.employee_no FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.name = 'alice-adm'")" P3000
	assert_eq "$(sql registry "SELECT p.employee_no || ' ' || p.status FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.name = 'alice'")" "E1002 active"
	full_finds_nothing
}

#
# Numbers
#

check_same_uid() {
	assert_eq "$(sql registry "SELECT status FROM accounts WHERE name = 'twin1'")" active
	assert_eq "$(sql registry "SELECT status || '|' || status_reason FROM accounts WHERE name = 'twin2'")" "held|uid 20040 reused: first held by twin1"
	assert_eq "$(json_field "$OUT" held)" 1
}

test_one_uid_number_on_two_new_entries_holds_the_second() {
	local ldif=$T_TMP/twins.ldif
	edge_ldif "$ldif"
	account_ldif twin1 20040 P2040 >> "$ldif"
	account_ldif twin2 20040 P2041 >> "$ldif"
	SLAPD_MODULES=syncprov sync_root "$ldif"
	first_sync_both_ways check_same_uid
}

check_numbers() {
	assert_eq "$(sql registry "SELECT coalesce(uid, 'none') || ' ' || coalesce(gid, 'none') FROM accounts WHERE name = 'bignum'")" "none none"
	assert_eq "$(sql registry "SELECT coalesce(uid, 'none') || ' ' || coalesce(gid, 'none') FROM accounts WHERE name = 'negnum'")" "none none"
	assert_eq "$(sql registry "SELECT coalesce(gid, 'none') FROM groups WHERE name = 'biggid'")" none
	assert_eq "$(sql registry "SELECT count(*) FROM uid_history WHERE uid < 0 OR uid > 4294967294")" 0
}

test_numbers_out_of_range_are_left_empty() {
	local ldif=$T_TMP/num.ldif
	edge_ldif "$ldif"
	account_ldif bignum 4294967295 P2050 >> "$ldif"
	account_ldif negnum -5 P2051 >> "$ldif"
	cat >> "$ldif" <<EOF

dn: cn=biggid,$GRP
objectClass: posixGroup
cn: biggid
gidNumber: 99999999999999999999
EOF
	SLAPD_MODULES=syncprov sync_root "$ldif"
	first_sync_both_ways check_numbers
}

#
# Values
#

check_values() {
	assert_eq "$(sql registry "SELECT length(p.name) FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.name = 'zoë'")" 5000
	assert_eq "$(sql registry "SELECT p.title FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.name = 'zoë'")" "Ingénieure système"
	# the member values spell zoë in upper case, and with escapes: each finds her
	assert_eq "$(groups_of zoë)" "$lgroup<|>;zoë-escaped-upper<|>;zoë-escaped<|>;zoë-upper<|>;équipe<|>;ügroup<|>"
	assert_eq "$(sql registry "SELECT length(name) FROM groups WHERE name LIKE 'long%'")" 200
	assert_eq "$(sql registry "SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id WHERE g.name LIKE 'long%'")" 1
}

test_long_and_utf8_values_are_kept_whole() {
	local ldif=$T_TMP/utf8.ldif long lgroup
	long=$(printf 'x%.0s' $(seq 1 5000))
	lgroup=long$(printf "g%.0s" $(seq 1 196))
	edge_ldif "$ldif"
	cat >> "$ldif" <<EOF

dn: uid=zoë,$PARTNERS
objectClass: inetOrgPerson
objectClass: posixAccount
uid: zoë
cn: $long
sn: Zoë
displayName: $long
title: Ingénieure système
employeeNumber: P2060
uidNumber: 20060
gidNumber: 20060
homeDirectory: /home/zoe

dn: cn=équipe,$GRP
objectClass: groupOfNames
cn: équipe
member: uid=zoë,$PARTNERS

dn: cn=ügroup,$GRP
objectClass: posixGroup
cn: ügroup
gidNumber: 5300
memberUid: zoë

dn: cn=$lgroup,$GRP
objectClass: groupOfNames
cn: $lgroup
member: UID=zoë,  OU=Partners,DC=example,dc=com

dn: cn=zoë-upper,$GRP
objectClass: groupOfNames
cn: zoë-upper
member: uid=ZOË,ou=partners,$BASE

dn: cn=zoë-escaped,$GRP
objectClass: groupOfNames
cn: zoë-escaped
member: uid=zo\C3\AB,ou=partners,$BASE

dn: cn=zoë-escaped-upper,$GRP
objectClass: groupOfNames
cn: zoë-escaped-upper
member: uid=Zo\C3\8B,ou=partners,$BASE
EOF
	SLAPD_MODULES=syncprov sync_root "$ldif"
	first_sync_both_ways check_values
	# an incremental change to the entry keeps it, and its removal departs it
	sldap ldapmodify >/dev/null <<EOF
dn: uid=zoë,$PARTNERS
changetype: modify
replace: title
title: Ingénieure réseau
EOF
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" changed)" 1
	assert_eq "$(json_field "$OUT" departed)" 0
	full_finds_nothing
	sldap ldapdelete "uid=zoë,$PARTNERS"
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" departed)" 1
	assert_eq "$(status_of zoë)" departed
}

#
# An entry that is both an account and a group (user private group)
#

check_both() {
	assert_eq "$(sql registry "SELECT uid || ' ' || status FROM accounts WHERE name = 'upg'")" "20070 active"
	assert_eq "$(sql registry "SELECT gid FROM groups WHERE name = 'upg'")" 20070
	assert_eq "$(sql registry "SELECT group_concat(kind) FROM (SELECT kind FROM ldap_entries WHERE dn = 'cn=upg,$PARTNERS' ORDER BY kind)")" "account,group"
	assert_eq "$(groups_of upg)" "upg<|>"
	no_duplicates
}

test_entry_that_is_both_account_and_group_is_both() {
	local ldif=$T_TMP/upg.ldif
	edge_ldif "$ldif"
	cat >> "$ldif" <<EOF

dn: cn=upg,$PARTNERS
objectClass: posixGroup
objectClass: posixAccount
cn: upg
uid: upg
uidNumber: 20070
gidNumber: 20070
homeDirectory: /home/upg
memberUid: upg
EOF
	SLAPD_MODULES=syncprov sync_root "$ldif"
	first_sync_both_ways check_both
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" mode)" incremental
	assert_eq "$(json_field "$OUT" changed)$(json_field "$OUT" departed)$(json_field "$OUT" groups_changed)" 000
	sldap ldapmodify >/dev/null <<EOF
dn: cn=upg,$PARTNERS
changetype: modify
replace: loginShell
loginShell: /bin/zsh
EOF
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" departed)" 0
	assert_eq "$(sql registry "SELECT shell || ' ' || status FROM accounts WHERE name = 'upg'")" "/bin/zsh active"
	check_both
	full_finds_nothing
	# its deletion takes both: the account departs, the group goes
	sldap ldapdelete "cn=upg,$PARTNERS"
	assert_exit 0 actl --json sync
	assert_eq "$(json_field "$OUT" departed)$(json_field "$OUT" groups_removed)" 11
	assert_eq "$(sql registry "SELECT status FROM accounts WHERE name = 'upg'")" departed
	assert_eq "$(sql registry "SELECT count(*) FROM groups WHERE name = 'upg'")" 0
	assert_eq "$(sql registry "SELECT count(*) FROM ldap_entries WHERE dn = 'cn=upg,$PARTNERS'")" 0
	full_finds_nothing
}

run_tests
