#!/bin/bash
# accessctl inventory, account and person: what they record, what they report,
# their audit events, and bad input refused whole (exit 2, nothing half-applied).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"

count() { sql registry "SELECT COUNT(*) FROM $1"; }
last_event() { sql state "SELECT event||'|'||subject||'|'||result FROM audit_events ORDER BY seq DESC LIMIT 1"; }
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

test_person_add_registers_and_audits() {
	new_root
	assert_exit 0 actl person add E1 --name "Ann Lee" --email ann@example.com --manager E9
	assert_eq "$(sql registry "SELECT employee_no||'|'||name||'|'||email||'|'||manager_no||'|'||status||'|'||source FROM people")" \
		"E1|Ann Lee|ann@example.com|E9|active|local"
	assert_eq "$(last_event)" "person_add|E1|ok"
}

test_person_add_bad_input_is_refused_whole() {
	new_root
	assert_exit 2 actl person add E1 --name "Ann" --email not-an-address
	assert_exit 2 actl person add E1 --email ann@example.com
	assert_exit 2 actl person add "E 1" --name Ann --email ann@example.com
	assert_exit 2 actl person add E1 --name Ann --email ann@example.com --manager E1
	assert_exit 2 actl person add --name Ann --email ann@example.com
	assert_eq "$(count people)" 0
	actl person add E1 --name Ann --email ann@example.com >/dev/null
	assert_exit 1 actl person add E1 --name Other --email o@example.com
	assert_contains "$OUT" "already registered"
	assert_eq "$(sql registry "SELECT name FROM people")" "Ann"
}

test_person_show_and_list_with_accounts_manager_and_termination() {
	new_root
	add_user bob 1002; add_user bob-adm 1003
	actl person add E1 --name "Ann Lee" --email ann@example.com >/dev/null
	actl person add E2 --name "Bob Ray" --email bob@example.com --manager E1 >/dev/null
	actl person add E3 --name "Cy New" --email cy@example.com --manager E9 >/dev/null
	actl account add bob --owner E2 >/dev/null
	actl account add bob-adm --owner E2 >/dev/null
	assert_exit 0 actl person show E2
	assert_contains "$OUT" "person      E2 Bob Ray"
	assert_contains "$OUT" "manager     E1 Ann Lee"
	assert_contains "$OUT" "status      active"
	assert_contains "$OUT" "accounts    bob (human, active), bob-adm (human, active)"
	assert_not_contains "$OUT" "terminated"
	assert_exit 0 actl person show E3
	assert_contains "$OUT" "manager     E9 (not registered)"
	assert_contains "$OUT" "accounts    none"
	# After offboarding: when HR ended it, when access went, the accounts revoked.
	ISMS_TEST_NOW=1795000000 actl offboard E2 --at @1794990000 >/dev/null
	assert_exit 0 actl person show E2
	assert_contains "$OUT" "status      departed"
	assert_contains "$OUT" "terminated  2026-11-18T08:20:00Z (manual); access removed 2026-11-18T11:06:40Z"
	assert_contains "$OUT" "accounts    bob (human, revoked), bob-adm (human, revoked)"
	OUT=$(actl --json person show E2)
	assert_eq "$(echo "$OUT" | json_get 'd["manager_name"], d["terminated_at"], [a["status"] for a in d["accounts"]]')" \
		"('Ann Lee', '2026-11-18T08:20:00Z', ['revoked', 'revoked'])"
	assert_exit 1 actl person show E404
	assert_contains "$OUT" "no person 'E404'"
	assert_exit 0 actl person list
	assert_contains "$OUT" "E2           Bob Ray                      departed  E1           bob,bob-adm"
	OUT=$(actl --json person list --status active)
	assert_eq "$(echo "$OUT" | json_get '[(p["employee_no"], p["accounts"]) for p in d]')" "[('E1', []), ('E3', [])]"
	assert_exit 2 actl person list --status gone
	assert_exit 2 actl person show
}

test_control_characters_from_the_registry_are_shown_escaped_on_a_terminal_only() {
	new_root
	actl person add E1 --name "placeholder" --email ann@example.com >/dev/null
	# A directory or HR value can carry an escape sequence, a C1 CSI (U+009B) or a
	# carriage return; a terminal must not obey them.
	sql registry "UPDATE people SET name = 'Ann ' || char(27) || '[8mhidden' || char(27) || '[0m ' || char(155) || '2J' || char(13) || 'Zed', title = 'caf' || char(233) WHERE employee_no = 'E1'"
	actl_tty person show E1
	assert_contains "$OUT" 'person      E1 Ann \x1b[8mhidden\x1b[0m \u009b2J\x0dZed'
	assert_contains "$OUT" "title       café"
	case $OUT in *$'\033'*|*$'\302\233'*) fail "a raw control character reached the terminal" ;; esac
	# an error message naming hostile input is escaped as well
	actl_tty person show "$(printf 'E\033[2J')"
	assert_contains "$OUT" "no person 'E\x1b[2J'"
	# A pipe gets the bytes as stored; JSON escapes them itself.
	OUT=$(actl person show E1)
	assert_contains "$OUT" "$(printf 'Ann \033[8mhidden')"
	OUT=$(actl --json person show E1)
	assert_eq "$(echo "$OUT" | json_get 'd["name"] == "Ann \x1b[8mhidden\x1b[0m \x9b2J\rZed"')" True
}

test_account_add_human_takes_uid_from_nss_and_audits() {
	new_root
	add_user ann 1001
	actl person add E1 --name Ann --email ann@example.com >/dev/null
	assert_exit 0 actl account add ann --owner E1
	assert_eq "$(sql registry "SELECT a.uid||'|'||a.gid||'|'||a.kind||'|'||a.status||'|'||p.employee_no FROM accounts a JOIN people p ON p.id=a.person_id")" \
		"1001|1001|human|active|E1"
	assert_eq "$(sql registry "SELECT account_name FROM uid_history WHERE uid=1001")" ann
	assert_eq "$(last_event)" "account_add|ann|ok"
}

test_account_add_bad_input_is_refused_whole() {
	new_root
	add_user ann 1001
	actl person add E1 --name Ann --email ann@example.com >/dev/null
	assert_exit 2 actl account add ann                               # human without owner
	assert_exit 2 actl account add ann --owner E404                  # unknown owner
	assert_contains "$OUT" "no person with employee number 'E404'"
	assert_exit 2 actl account add ann --owner E1 --uid 2000         # disagrees with NSS
	assert_exit 2 actl account add ghost --owner E1                  # not in NSS, no --uid
	assert_exit 2 actl account add svc --kind service --uid 900      # service without services
	assert_exit 2 actl account add ann --kind robot --owner E1
	assert_exit 2 actl account add ann --owner E1 --services cron    # services only for service kind
	assert_exit 2 actl account add 'bad:name' --owner E1 --uid 5
	assert_exit 2 actl account add ann --owner E1 --uid notanumber
	assert_eq "$(count accounts)" 0
	assert_eq "$(count uid_history)" 0
}

test_account_add_refuses_a_uid_held_or_once_held_by_another() {
	new_root
	actl person add E1 --name Ann --email ann@example.com >/dev/null
	actl account add ann --owner E1 --uid 1001 >/dev/null
	assert_exit 1 actl account add ann2 --owner E1 --uid 1001
	assert_contains "$OUT" "held by ann"
	sql registry "DELETE FROM accounts WHERE name='ann'"
	assert_exit 1 actl account add bob --owner E1 --uid 1001
	assert_contains "$OUT" "never reused"
	assert_eq "$(count accounts)" 0
}

test_account_add_completes_an_inventoried_account() {
	new_root
	add_user ann 1001
	actl inventory >/dev/null || true
	assert_eq "$(sql registry "SELECT kind||'|'||IFNULL(person_id,'none') FROM accounts WHERE name='ann'")" "human|none"
	actl person add E1 --name Ann --email ann@example.com >/dev/null
	assert_exit 0 actl account add ann --owner E1
	assert_contains "$OUT" "updated"
	assert_eq "$(last_event)" "account_update|ann|ok"
	# a second inventory keeps the owner and kind
	actl inventory >/dev/null || true
	assert_eq "$(sql registry "SELECT p.employee_no FROM accounts a JOIN people p ON p.id=a.person_id WHERE a.name='ann'")" E1
}

test_service_and_breakglass_accounts() {
	new_root
	assert_exit 0 actl account add backup --kind service --services cron,atd --uid 900
	assert_exit 0 actl account add rescue --kind breakglass --uid 999
	assert_eq "$(sql registry "SELECT name||':'||kind||':'||IFNULL(services,'') FROM accounts ORDER BY name")" \
		"$(printf 'backup:service:cron,atd\nrescue:breakglass:')"
}

test_account_show_and_json() {
	new_root
	add_user ann 1001
	add_group_member sudo 27 ann
	actl person add E1 --name "Ann Lee" --email ann@example.com >/dev/null
	actl account add ann --owner E1 >/dev/null
	assert_exit 0 actl account show ann
	assert_contains "$OUT" "owner       E1 Ann Lee (active)"
	assert_contains "$OUT" "privileged  group sudo"
	OUT=$(actl --json account show ann)
	assert_eq "$(echo "$OUT" | json_get 'd["uid"], d["owner"], d["privileged"]')" "(1001, 'E1', True)"
	assert_exit 1 actl account show nobody
}

test_account_list_filters() {
	new_root
	add_user ann 1001; add_user bob 1002; add_user bob2 1002
	add_group_member sudo 27 ann
	actl person add E1 --name Ann --email ann@example.com >/dev/null
	actl inventory >/dev/null || true
	actl account add ann --owner E1 >/dev/null
	OUT=$(actl account list --unowned --json)
	assert_eq "$(echo "$OUT" | json_get '",".join(sorted(a["account"] for a in d))')" "bob,bob2"
	OUT=$(actl account list --duplicates --json)
	assert_eq "$(echo "$OUT" | json_get '",".join(sorted(a["account"] for a in d))')" "bob,bob2"
	OUT=$(actl --json account list --privileged)
	assert_eq "$(echo "$OUT" | json_get '",".join(sorted(a["account"] for a in d))')" "ann,root"
	assert_exit 0 actl account list
	assert_contains "$OUT" "bob2"
	assert_exit 2 actl account list --bogus
}

test_account_lock_and_unlock() {
	new_root
	actl person add E1 --name Ann --email ann@example.com >/dev/null
	actl account add ann --owner E1 --uid 1001 >/dev/null
	assert_exit 2 actl account lock ann
	assert_exit 0 actl account lock ann --reason "investigation 42"
	assert_eq "$(sql registry "SELECT status||'|'||status_reason FROM accounts WHERE name='ann'")" "locked|investigation 42"
	assert_eq "$(last_event)" "account_lock|ann|ok"
	assert_exit 1 actl account lock ann --reason again
	assert_exit 0 actl account unlock ann
	assert_eq "$(sql registry "SELECT status||'|'||IFNULL(status_reason,'-') FROM accounts WHERE name='ann'")" "active|-"
	assert_eq "$(last_event)" "account_unlock|ann|ok"
	assert_exit 1 actl account unlock ann
	assert_exit 1 actl account lock ghost --reason x
}

# files for inventory --passwd/--group
write_files() {
	cat > "$T_TMP/passwd" <<'PW'
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
toor:x:0:0:second root:/root:/bin/bash
postgres:x:120:120:db:/var/lib/postgresql:/bin/bash
ann:x:1001:1001:Ann:/home/ann:/bin/bash
bob:x:1002:1002:Bob:/home/bob:/bin/bash
bob2:x:1002:1002:Bob again:/home/bob2:/bin/bash
test:x:1003:1003:shared test:/home/test:/bin/bash
PW
	cat > "$T_TMP/group" <<'GR'
root:x:0:
daemon:x:1:
sudo:x:27:ann,bob
ann:x:1001:
bob:x:1002:
GR
}

test_inventory_records_accounts_groups_and_memberships() {
	new_root
	write_files
	actl inventory --passwd "$T_TMP/passwd" --group "$T_TMP/group" >/dev/null || true
	assert_eq "$(count accounts)" 8
	assert_eq "$(sql registry "SELECT COUNT(*) FROM accounts WHERE source='local'")" 8
	assert_eq "$(sql registry "SELECT kind FROM accounts WHERE name='daemon'")" service
	assert_eq "$(sql registry "SELECT kind FROM accounts WHERE name='ann'")" human
	assert_eq "$(sql registry "SELECT privileged FROM groups WHERE name='sudo'")" 1
	assert_eq "$(sql registry "SELECT group_concat(a.name||':'||m.attr, ' ') FROM memberships m JOIN accounts a ON a.id=m.account_id JOIN groups g ON g.id=m.group_id WHERE g.name='sudo' ORDER BY a.name")" "ann:gr_mem bob:gr_mem"
	assert_eq "$(sql registry "SELECT m.attr FROM memberships m JOIN accounts a ON a.id=m.account_id JOIN groups g ON g.id=m.group_id WHERE g.name='ann' AND a.name='ann'")" primary
	assert_eq "$(last_event)" "inventory|$(sql state "SELECT subject FROM audit_events ORDER BY seq DESC LIMIT 1")|findings"
	# bob leaves sudo in the file: the next inventory removes the membership
	sed -i 's/^sudo:x:27:ann,bob$/sudo:x:27:ann/' "$T_TMP/group"
	actl inventory --passwd "$T_TMP/passwd" --group "$T_TMP/group" >/dev/null || true
	assert_eq "$(sql registry "SELECT COUNT(*) FROM memberships m JOIN groups g ON g.id=m.group_id WHERE g.name='sudo'")" 1
}

test_inventory_reports_every_finding_and_exits_1() {
	new_root
	write_files
	assert_exit 1 actl inventory --passwd "$T_TMP/passwd" --group "$T_TMP/group"
	assert_contains "$OUT" "FINDING duplicate_uid"
	assert_contains "$OUT" "privileged ann"
	OUT=$(actl --json inventory --passwd "$T_TMP/passwd" --group "$T_TMP/group") || true
	f=$(echo "$OUT" | json_get '" ".join(sorted(x["type"]+":"+x["account"] for x in d["findings"]))')
	assert_contains "$f" "duplicate_uid:bob duplicate_uid:bob2"
	assert_contains "$f" "duplicate_uid:root duplicate_uid:toor"
	assert_contains "$f" "uid0_not_root:toor"
	assert_contains "$f" "unowned_account:ann"
	assert_contains "$f" "shared_account:test"
	assert_contains "$f" "service_login_shell:postgres"
	assert_not_contains "$f" "service_login_shell:root"
	assert_not_contains "$f" "service_login_shell:daemon"
	p=$(echo "$OUT" | json_get '" ".join(sorted(x["account"]+"="+x["via"] for x in d["privileged"]))')
	assert_eq "$p" "ann=group sudo bob=group sudo root=uid 0 toor=uid 0"
}

test_inventory_is_clean_when_findings_are_resolved() {
	new_root
	printf 'root:x:0:0:root:/root:/bin/bash\nann:x:1001:1001:Ann:/home/ann:/bin/bash\n' > "$T_TMP/passwd"
	printf 'root:x:0:\nann:x:1001:\n' > "$T_TMP/group"
	assert_exit 1 actl inventory --passwd "$T_TMP/passwd" --group "$T_TMP/group"
	assert_contains "$OUT" "unowned_account"
	actl person add E1 --name Ann --email ann@example.com >/dev/null
	actl account add ann --owner E1 --uid 1001 >/dev/null
	assert_exit 0 actl inventory --passwd "$T_TMP/passwd" --group "$T_TMP/group"
	assert_contains "$OUT" "inventory clean: 0 findings"
}

test_inventory_bad_line_is_named_and_nothing_recorded() {
	new_root
	write_files
	sed -i '5s/.*/ann:x:10x1:1001:Ann:\/home\/ann:\/bin\/bash/' "$T_TMP/passwd"
	assert_exit 2 actl inventory --passwd "$T_TMP/passwd" --group "$T_TMP/group"
	assert_contains "$OUT" "$T_TMP/passwd:5:7: uid is not a number"
	assert_eq "$(count accounts)" 0
	write_files
	printf 'broken:x:27\n' >> "$T_TMP/group"
	assert_exit 2 actl inventory --passwd "$T_TMP/passwd" --group "$T_TMP/group"
	assert_contains "$OUT" "$T_TMP/group:6:12: too few fields"
	assert_eq "$(count accounts)" 0
	assert_eq "$(count groups)" 0
	assert_exit 2 actl inventory --passwd "$T_TMP/passwd"
}

test_inventory_reads_nss_by_default() {
	new_root
	add_user ann 1001
	add_group_member sudo 27 ann
	actl inventory >/dev/null || true
	assert_eq "$(sql registry "SELECT group_concat(name) FROM (SELECT name FROM accounts ORDER BY name)")" "ann,root"
	assert_eq "$(sql registry "SELECT COUNT(*) FROM memberships m JOIN groups g ON g.id=m.group_id WHERE g.name='sudo'")" 1
	assert_contains "$(sql state "SELECT details FROM audit_events WHERE event='inventory'")" "source=nss"
}

run_tests
