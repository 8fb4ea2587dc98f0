#!/bin/bash
# Revocation write-back to a real slapd with the ppolicy overlay: lock, shadowExpire,
# group removal verified with ldapsearch; restore; a failed write finished by a rerun.
. "$(dirname "$0")/../lib/harness.sh"
. "$TOP/tests/lib/root.sh"
. "$TOP/tests/revoke/fixtures.sh"
. "$TOP/tests/lib/slapd.sh"

# accessctl without nss_wrapper here: revocation reads no NSS, and nss_wrapper's
# resolver hooks (libldap resolves the URI) dlopen libc with RTLD_DEEPBIND, which
# the sanitizer build refuses.
actl() { "$ACCESSCTL_BIN" --root "$ROOT" "$@"; }

CAROL="uid=carol,ou=people,$SLAPD_BASE"
ALICE="uid=alice,ou=people,$SLAPD_BASE"
# The account accessctl writes back as: it may manage every entry but passwords.
WRITER="cn=isms-revoker,ou=system,$SLAPD_BASE"
WRITER_PW=revoker-secret
WRITER_ACCESS="access to * by dn.exact=\"$WRITER\" manage by * read"

# The server every test gets (slapd_restart writes its slapd.conf from these again).
SLAPD_MODULES=ppolicy
SLAPD_PPOLICY_DEFAULT="cn=default,ou=policies,$SLAPD_BASE"
SLAPD_ACL=$WRITER_ACCESS

ldap_get() { sldap ldapsearch -LLL -o ldif-wrap=no -b "$1" -s base "${@:2}"; }
ldap_find() { sldap ldapsearch -LLL -o ldif-wrap=no -b "$SLAPD_BASE" "$@"; }

directory() {
	slapd_start || fail "slapd did not start"
	# Each test runs in a subshell: its server is stopped when the subshell ends.
	trap slapd_stop EXIT
	sldap ldapadd >/dev/null <<LDIF
dn: $SLAPD_BASE
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,$SLAPD_BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$SLAPD_BASE
objectClass: organizationalUnit
ou: groups

dn: ou=system,$SLAPD_BASE
objectClass: organizationalUnit
ou: system

dn: $WRITER
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: isms-revoker
userPassword: $WRITER_PW

dn: $CAROL
objectClass: inetOrgPerson
objectClass: posixAccount
uid: carol
cn: Carol Chen
sn: Chen
uidNumber: 2003
gidNumber: 2003
homeDirectory: /home/carol
employeeNumber: E1003
userPassword: carol-pw

dn: $ALICE
objectClass: inetOrgPerson
objectClass: posixAccount
objectClass: shadowAccount
uid: alice
cn: Alice Anders
sn: Anders
uidNumber: 2001
gidNumber: 2001
homeDirectory: /home/alice
employeeNumber: E1001
shadowExpire: 30000

dn: cn=admins,ou=groups,$SLAPD_BASE
objectClass: groupOfNames
cn: admins
member: $ALICE
member: $CAROL

dn: cn=finance,ou=groups,$SLAPD_BASE
objectClass: posixGroup
cn: finance
gidNumber: 5001
memberUid: alice
memberUid: carol

dn: cn=auditors,ou=groups,$SLAPD_BASE
objectClass: groupOfUniqueNames
cn: auditors
uniqueMember: $CAROL

dn: ou=policies,$SLAPD_BASE
objectClass: organizationalUnit
ou: policies

# The default password policy the overlay applies (lockout honoured).
dn: $SLAPD_PPOLICY_DEFAULT
objectClass: person
objectClass: pwdPolicy
cn: default
sn: default
pwdAttribute: userPassword
pwdLockout: TRUE
LDIF
	people_root
	sql registry "UPDATE accounts SET source = 'ldap', dn = '$CAROL' WHERE name = 'carol';
		UPDATE accounts SET source = 'ldap', dn = '$ALICE' WHERE name = 'alice'"
	printf '%s\n' "$WRITER_PW" > "$ROOT/etc/isms/ldap-write.bindpw"
	chmod 600 "$ROOT/etc/isms/ldap-write.bindpw"
	conf_set ldap uri "$SLAPD_URI"
	conf_set ldap starttls no
	conf_set ldap allow_insecure yes
	conf_set ldap base_dn "$SLAPD_BASE"
	conf_set ldap group_base "ou=groups,$SLAPD_BASE"
	conf_set ldap write_bind_dn "$WRITER"
	conf_set ldap write_bindpw_file "$ROOT/etc/isms/ldap-write.bindpw"
}

carol_groups() { ldap_find "(|(member=$CAROL)(uniqueMember=$CAROL)(memberUid=carol))" dn | grep '^dn:' | sort | tr '\n' ' '; }
carol_lock() { ldap_get "$CAROL" pwdAccountLockedTime shadowExpire | grep -E '^(pwdAccountLockedTime|shadowExpire):' | tr '\n' ' '; }

test_offboard_locks_the_entry_and_removes_its_memberships() {
	directory
	assert_eq "$(carol_groups)" "dn: cn=admins,ou=groups,$SLAPD_BASE dn: cn=auditors,ou=groups,$SLAPD_BASE dn: cn=finance,ou=groups,$SLAPD_BASE "
	assert_exit 0 actl offboard E1003 --at 2026-11-18
	assert_eq "$(status_of carol)" revoked
	assert_eq "$(carol_lock)" "pwdAccountLockedTime: 000001010000Z shadowExpire: 1 "
	assert_eq "$(carol_groups)" ""
	# Other members stay.
	assert_contains "$(ldap_get "cn=admins,ou=groups,$SLAPD_BASE" member)" "member: $ALICE"
	assert_contains "$(ldap_get "cn=finance,ou=groups,$SLAPD_BASE" memberUid)" "memberUid: alice"
	# carol was the only auditor: the group keeps the empty DN the schema requires.
	assert_eq "$(ldap_get "cn=auditors,ou=groups,$SLAPD_BASE" uniqueMember | grep '^uniqueMember')" "uniqueMember:"
	assert_eq "$(actions_of carol)" "registry=done shadow=done local_groups=done ldap_lock=done ldap_groups=done sessions=done "
	local d
	d=$(sql registry "SELECT detail FROM revocation_actions WHERE account_name = 'carol' AND step = 'ldap_groups'")
	assert_contains "$d" "{\"attr\":\"memberUid\",\"dn\":\"cn=finance,ou=groups,$SLAPD_BASE\",\"value\":\"carol\"}"
	assert_contains "$d" "{\"attr\":\"uniqueMember\",\"dn\":\"cn=auditors,ou=groups,$SLAPD_BASE\",\"value\":\"$CAROL\"}"
	# The directory itself now refuses carol.
	if ldapwhoami -x -H "$SLAPD_URI" -D "$CAROL" -w carol-pw >/dev/null 2>&1; then
		fail "the directory still lets carol bind"
	fi
	# Running again changes nothing.
	assert_exit 0 actl offboard E1003 --at 2026-11-18
	assert_contains "$OUT" "already offboarded"
}

test_review_modify_removes_just_that_directory_group() {
	directory
	conf_set review fallback_reviewer E1001
	sql registry "INSERT INTO groups (name, gid, source, dn, created_at, updated_at)
		VALUES ('finance', 5001, 'ldap', 'cn=finance,ou=groups,$SLAPD_BASE', $NOW, $NOW);
		INSERT INTO memberships (account_id, group_id, source, attr)
		SELECT a.id, g.id, 'ldap', 'memberUid' FROM accounts a, groups g WHERE a.name = 'carol' AND g.name = 'finance'"
	actl review start --period 2026-annual >/dev/null
	actl review worksheets 2026-annual -o "$ROOT/ws" >/dev/null
	python3 - "$ROOT/ws/2026-annual-E1001.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
h = rows[0]
for r in rows[1:]:
    if r[h.index('account')] == 'carol' and r[h.index('entitlement')] == 'finance':
        r[h.index('decision')] = 'modify'
csv.writer(open(sys.argv[1], 'w', newline=''), lineterminator='\r\n').writerows(rows)
PY
	assert_exit 0 actl review import "$ROOT/ws/2026-annual-E1001.csv"
	assert_exit 0 actl review apply 2026-annual
	assert_contains "$OUT" "removed from finance, verified"
	# out of finance in the directory, still in the groups nobody decided on
	assert_eq "$(carol_groups)" "dn: cn=admins,ou=groups,$SLAPD_BASE dn: cn=auditors,ou=groups,$SLAPD_BASE "
	assert_contains "$(ldap_get "cn=finance,ou=groups,$SLAPD_BASE" memberUid)" "memberUid: alice"
	assert_eq "$(status_of carol)" active
	assert_contains "$(sql registry "SELECT detail FROM revocation_actions WHERE account_name = 'carol' AND step = 'ldap_group'")" \
		"{\"attr\":\"memberUid\",\"dn\":\"cn=finance,ou=groups,$SLAPD_BASE\",\"value\":\"carol\"}"
}

test_restore_brings_directory_memberships_and_access_back() {
	directory
	assert_exit 0 actl revoke carol --reason "wrong person"
	assert_exit 0 actl revoke alice --reason "wrong person too"
	assert_exit 0 actl restore carol --reason "HR error"
	assert_eq "$(carol_lock)" ""
	# shadowAccount was added for the lock and goes again with it.
	assert_not_contains "$(ldap_get "$CAROL" objectClass)" "shadowAccount"
	assert_eq "$(carol_groups)" "dn: cn=admins,ou=groups,$SLAPD_BASE dn: cn=auditors,ou=groups,$SLAPD_BASE dn: cn=finance,ou=groups,$SLAPD_BASE "
	assert_eq "$(ldap_get "cn=auditors,ou=groups,$SLAPD_BASE" uniqueMember | grep '^uniqueMember')" "uniqueMember: $CAROL"
	assert_eq "$(status_of carol)" active
	ldapwhoami -x -H "$SLAPD_URI" -D "$CAROL" -w carol-pw >/dev/null || fail "carol cannot bind after restore"
	# A value that was there before returns to what it was.
	assert_exit 0 actl restore alice --reason "HR error"
	assert_eq "$(ldap_get "$ALICE" pwdAccountLockedTime shadowExpire | grep -E '^(pwd|shadow)' | tr '\n' ' ')" "shadowExpire: 30000 "
}

test_a_failed_directory_write_exits_1_and_the_next_run_completes_it() {
	directory
	slapd_stop
	assert_exit 1 actl offboard E1003 --at 2026-11-18
	assert_contains "$OUT" "incomplete"
	assert_contains "$OUT" "ldap_lock:"
	# What does not need the directory is done: pam_isms refuses from now on.
	assert_eq "$(status_of carol)" revoked
	assert_eq "$(actions_of carol)" "registry=done shadow=done local_groups=done ldap_lock=failed ldap_groups=failed sessions=done "
	assert_eq "$(sql registry "SELECT revoked_at IS NULL FROM terminations WHERE employee_no = 'E1003'")" 1
	slapd_restart || fail "slapd did not restart"
	assert_eq "$(carol_lock)" ""
	ISMS_TEST_NOW=$((NOW + 600)) assert_exit 0 actl offboard E1003 --at 2026-11-18
	assert_eq "$(carol_lock)" "pwdAccountLockedTime: 000001010000Z shadowExpire: 1 "
	assert_eq "$(carol_groups)" ""
	assert_eq "$(actions_of carol)" "registry=done shadow=done local_groups=done ldap_lock=done ldap_groups=done sessions=done "
	assert_eq "$(sql registry "SELECT revoked_at FROM terminations WHERE employee_no = 'E1003'")" $((NOW + 600))
}

test_a_write_refused_mid_way_is_finished_by_the_next_run() {
	directory
	# The writer may lock entries but not yet edit groups: the lock takes, the group step fails.
	slapd_stop
	SLAPD_ACL="access to dn.subtree=\"ou=groups,$SLAPD_BASE\" by * read
$WRITER_ACCESS" slapd_restart || fail "slapd did not restart"
	assert_exit 1 actl revoke carol --reason left
	assert_contains "$OUT" "ldap_groups:"
	assert_eq "$(carol_lock)" "pwdAccountLockedTime: 000001010000Z shadowExpire: 1 "
	assert_eq "$(actions_of carol)" "registry=done shadow=done local_groups=done ldap_lock=done ldap_groups=failed sessions=done "
	slapd_stop
	slapd_restart || fail "slapd did not restart"
	assert_exit 0 actl revoke carol --reason left
	assert_eq "$(carol_groups)" ""
	assert_eq "$(actions_of carol)" "registry=done shadow=done local_groups=done ldap_lock=done ldap_groups=done sessions=done "
}

run_tests
