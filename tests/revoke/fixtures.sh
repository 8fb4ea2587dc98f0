# Shared set-up of the revocation suites: a temporary root with four people
# (E1001 alice, E1002 bob, E1003 carol with a second admin account, E1004 dave,
# a contractor), their local accounts, shadow entries and privileged groups.
# Sourced after harness.sh and root.sh.

NOW=1795000000   # pinned "now" (2026-11-18T...Z) for every time-dependent step
export ISMS_TEST_NOW=$NOW
DAY=86400

# registry_person EMPLOYEE_NO NAME
registry_person() {
	sql registry "INSERT INTO people (employee_no, name, email, status, created_at, updated_at)
		VALUES ('$1', '$2', lower('$2') || '@example.com', 'active', $NOW - 400 * $DAY, $NOW)"
}

# registry_account NAME UID EMPLOYEE_NO [CREATED_AT] [DN]
registry_account() {
	sql registry "INSERT INTO accounts (name, uid, gid, person_id, kind, source, dn, status, created_at, updated_at)
		VALUES ('$1', $2, $2, (SELECT id FROM people WHERE employee_no = '$3'), 'human',
			CASE WHEN '${5:-}' = '' THEN 'local' ELSE 'ldap' END, NULLIF('${5:-}', ''), 'active',
			${4:-$((NOW - 400 * DAY))}, $NOW)"
}

shadow_line() { echo "$1:\$6\$salt\$hash$1:19000:0:99999:7:::" >> "$ROOT/etc/shadow"; }

people_root() {
	new_root
	: > "$ROOT/etc/shadow"
	chmod 600 "$ROOT/etc/shadow"
	local u uid=2001
	for u in alice bob carol dave; do
		add_user $u $uid
		shadow_line $u
		uid=$((uid + 1))
	done
	add_user carol-adm 2103
	shadow_line carol-adm
	add_group_member wheel 10 alice
	add_group_member wheel 10 carol-adm
	add_group_member sudo 27 carol-adm
	add_group_member staff 50 carol
	add_group_member staff 50 carol-adm
	registry_person E1001 Alice
	registry_person E1002 Bob
	registry_person E1003 Carol
	registry_person E1004 Dave
	registry_account alice 2001 E1001
	registry_account bob 2002 E1002
	registry_account carol 2003 E1003
	registry_account dave 2004 E1004
	registry_account carol-adm 2103 E1003
}

status_of() { sql registry "SELECT status FROM accounts WHERE name = '$1'"; }
shadow_of() { grep "^$1:" "$ROOT/etc/shadow"; }
group_of() { grep "^$1:" "$ROOT/etc/group"; }
actions_of() { sql registry "SELECT step || '=' || status FROM revocation_actions WHERE account_name = '$1' AND trigger <> 'restore' ORDER BY id" | tr '\n' ' '; }
