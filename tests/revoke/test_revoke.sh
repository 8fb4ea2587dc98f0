#!/bin/bash
# Revocation on a local host (temporary root): revoke/restore, HR offboarding
# (feed and drop directory), stale accounts, lastlog import, the revocations report.
. "$(dirname "$0")/../lib/harness.sh"
. "$TOP/tests/lib/root.sh"
. "$TOP/tests/revoke/fixtures.sh"

test_revoke_sets_registry_locks_shadow_and_leaves_privileged_groups() {
	people_root
	assert_exit 0 actl revoke carol-adm --reason "laptop stolen" --ticket SEC-7
	assert_eq "$(status_of carol-adm)" revoked
	assert_eq "$(sql registry "SELECT revoked_reason, revoked_at FROM accounts WHERE name = 'carol-adm'")" "laptop stolen|$NOW"
	assert_eq "$(shadow_of carol-adm)" 'carol-adm:!$6$salt$hashcarol-adm:19000:0:99999:7::1:'
	assert_eq "$(group_of wheel)" "wheel:x:10:alice"
	assert_eq "$(group_of sudo)" "sudo:x:27:"
	# staff grants no privilege: the membership stays.
	assert_eq "$(group_of staff)" "staff:x:50:carol,carol-adm"
	# Rewritten in place of the old files, mode kept.
	assert_eq "$(stat -c %a "$ROOT/etc/shadow")|$(stat -c %a "$ROOT/etc/group")" "600|644"
	[ -z "$(ls "$ROOT/etc" | grep isms-)" ] || fail "temporary file left behind"
	# carol's other account is untouched.
	assert_eq "$(status_of carol)" active
	assert_eq "$(shadow_of carol)" 'carol:$6$salt$hashcarol:19000:0:99999:7:::'
	assert_eq "$(actions_of carol-adm)" "registry=done shadow=done local_groups=done ldap_lock=skipped ldap_groups=skipped sessions=done "
	assert_eq "$(sql registry "SELECT DISTINCT ticket FROM revocation_actions WHERE account_name = 'carol-adm'")" SEC-7
	assert_eq "$(sql state "SELECT event, subject, result FROM audit_events WHERE event = 'revoke'")" "revoke|carol-adm|ok"
}

test_memberships_are_recorded_before_removal() {
	people_root
	assert_exit 0 actl revoke carol-adm --reason test
	local d
	d=$(sql registry "SELECT detail FROM revocation_actions WHERE account_name = 'carol-adm' AND step = 'local_groups'")
	assert_contains "$d" '"groups":["wheel","sudo"]'
	d=$(sql registry "SELECT detail FROM revocation_actions WHERE account_name = 'carol-adm' AND step = 'shadow'")
	assert_contains "$d" '"was_locked":false'
}

test_revoking_again_changes_nothing() {
	people_root
	assert_exit 0 actl revoke alice --reason test
	local before after
	before=$(sql registry "SELECT * FROM revocation_actions; SELECT * FROM accounts" ; md5sum < "$ROOT/etc/shadow"; md5sum < "$ROOT/etc/group"; sql state "SELECT count(*) FROM audit_events")
	ISMS_TEST_NOW=$((NOW + 60)) assert_exit 0 actl revoke alice --reason again
	after=$(sql registry "SELECT * FROM revocation_actions; SELECT * FROM accounts" ; md5sum < "$ROOT/etc/shadow"; md5sum < "$ROOT/etc/group"; sql state "SELECT count(*) FROM audit_events")
	assert_eq "$after" "$before"
}

test_revoke_needs_a_reason_and_a_known_account() {
	people_root
	assert_exit 2 actl revoke alice
	assert_contains "$OUT" "--reason is required"
	assert_exit 1 actl revoke nobody --reason test
	assert_contains "$OUT" "no account 'nobody' in the registry"
}

test_restore_brings_memberships_and_shadow_back() {
	people_root
	sed -i 's/^dave:[^:]*:/dave:!$6$already:/' "$ROOT/etc/shadow"
	add_group_member wheel 10 dave
	assert_exit 0 actl revoke carol-adm --reason mistake
	assert_exit 0 actl revoke dave --reason mistake
	assert_exit 2 actl restore carol-adm
	assert_exit 0 actl restore carol-adm --reason "wrong person"
	assert_eq "$(status_of carol-adm)" active
	assert_eq "$(sql registry "SELECT revoked_at IS NULL FROM accounts WHERE name = 'carol-adm'")" 1
	assert_eq "$(shadow_of carol-adm)" 'carol-adm:$6$salt$hashcarol-adm:19000:0:99999:7:::'
	assert_eq "$(group_of wheel)" "wheel:x:10:alice,carol-adm"
	assert_eq "$(group_of sudo)" "sudo:x:27:carol-adm"
	assert_eq "$(sql registry "SELECT count(*) FROM revocation_actions WHERE account_name = 'carol-adm' AND status <> 'undone'")" 1
	assert_eq "$(sql registry "SELECT trigger, reason FROM revocation_actions WHERE account_name = 'carol-adm' AND status = 'done'")" "restore|wrong person"
	# A hash locked before the revocation stays locked; only the expiry comes back.
	assert_exit 0 actl restore dave --reason "wrong person"
	assert_eq "$(shadow_of dave)" 'dave:!$6$already:19000:0:99999:7:::'
	assert_eq "$(group_of wheel)" "wheel:x:10:alice,carol-adm,dave"
	# Nothing left to restore.
	assert_exit 1 actl restore dave --reason again
	assert_contains "$OUT" "no revocation to restore"
	# And a new revocation after a restore runs every step again.
	assert_exit 0 actl revoke carol-adm --reason "now for real"
	assert_eq "$(group_of sudo)" "sudo:x:27:"
}

test_partial_failure_says_what_remains_and_the_rerun_finishes() {
	people_root
	# A shadow line the engine refuses to rewrite: the shadow step fails, the rest goes on.
	sed -i 's/^bob:.*/bob:$6$x:19000:0:99999:7::::extra/' "$ROOT/etc/shadow"
	assert_exit 1 actl revoke bob --reason "left"
	assert_contains "$OUT" "incomplete"
	assert_contains "$OUT" "shadow:"
	assert_eq "$(status_of bob)" revoked
	assert_eq "$(actions_of bob)" "registry=done shadow=failed local_groups=done ldap_lock=skipped ldap_groups=skipped sessions=done "
	sed -i 's/^bob:.*/bob:$6$x:19000:0:99999:7:::/' "$ROOT/etc/shadow"
	assert_exit 0 actl revoke bob --reason "left"
	assert_eq "$(shadow_of bob)" 'bob:!$6$x:19000:0:99999:7::1:'
	assert_eq "$(actions_of bob)" "registry=done shadow=done local_groups=done ldap_lock=skipped ldap_groups=skipped sessions=done "
}

test_revoke_ends_the_running_processes_of_the_account() {
	people_root
	setpriv --reuid=2002 --regid=2002 --clear-groups sleep 300 &
	local pid=$! rc=0
	# The process runs as bob before the revocation.
	for _ in $(seq 50); do [ "$(stat -c %u /proc/$pid 2>/dev/null)" = 2002 ] && break; sleep 0.1; done
	assert_eq "$(stat -c %u /proc/$pid)" 2002
	assert_exit 0 actl revoke bob --reason "left"
	wait "$pid" || rc=$?
	[ "$rc" -gt 128 ] || fail "bob's process was not ended (exit $rc)"
	assert_contains "$(sql registry "SELECT detail FROM revocation_actions WHERE account_name = 'bob' AND step = 'sessions'")" '"uid":2002'
}

test_pam_refuses_a_revoked_account_on_password_and_key_paths() {
	people_root
	# password path: a password module, then the account phase; key path: account phase only
	pam_service pw "auth required pam_permit.so" "account required $MODULE conf=$CONF"
	pam_service key "account required $MODULE conf=$CONF"
	assert_exit 0 pamrun pw alice auth acct
	assert_exit 0 pamrun key alice acct
	assert_exit 0 actl revoke alice --reason "left the company"
	OUT=$(pamrun pw alice auth acct) && fail "password login allowed after revocation: $OUT"
	assert_contains "$OUT" "acct: PAM_"
	assert_not_contains "$OUT" "acct: PAM_SUCCESS"
	OUT=$(pamrun key alice acct) && fail "key login allowed after revocation: $OUT"
	assert_contains "$OUT" "revoked"
	assert_eq "$(sql state "SELECT result || ' ' || reason FROM audit_events WHERE event = 'account' AND subject = 'alice' ORDER BY seq DESC LIMIT 1")" "deny account_revoked"
	# restore lets alice in again
	assert_exit 0 actl restore alice --reason "revoked in error"
	assert_exit 0 pamrun key alice acct
}

# ---- offboarding ----

feed() {
	cat > "$T_TMP/$1"
	echo "$T_TMP/$1"
}

test_offboard_revokes_every_account_of_the_person() {
	people_root
	assert_exit 0 actl offboard E1003 --at 2026-11-18T09:00:00Z --ticket HR-42
	assert_eq "$(status_of carol)" revoked
	assert_eq "$(status_of carol-adm)" revoked
	assert_eq "$(status_of alice)" active
	assert_eq "$(sql registry "SELECT status, terminated_at FROM people WHERE employee_no = 'E1003'")" "departed|$((NOW - 2 * 3600 - 400))"
	assert_eq "$(sql registry "SELECT terminated_at, revoked_at, revoked_at - terminated_at, source, ticket FROM terminations")" \
		"$((NOW - 2 * 3600 - 400))|$NOW|$((2 * 3600 + 400))|manual|HR-42"
	assert_eq "$(sql registry "SELECT DISTINCT trigger || ':' || reason || ':' || employee_no FROM revocation_actions")" "offboard:departed:E1003"
	assert_contains "$(sql state "SELECT details FROM audit_events WHERE event = 'offboard'")" "delay_s=7600"
	# Again: already complete, nothing changes.
	assert_exit 0 actl offboard E1003 --at 2026-11-18
	assert_contains "$OUT" "already offboarded"
	assert_eq "$(sql registry "SELECT count(*) FROM terminations")" 1
	assert_exit 1 actl offboard E4242 --at 2026-11-18
	assert_contains "$OUT" "unknown employee number E4242"
	assert_exit 2 actl offboard E1001 --at yesterday
}

test_hr_feed_reports_bad_rows_with_file_and_line_and_applies_the_rest_once() {
	people_root
	local f
	f=$(feed hr.csv <<'CSV'
Employee Number,Name,Status,Termination Date,Work Email
E1003,Carol,Terminated,2026-11-17,alice@example.com
E9999,Zed,Terminated,2026-11-17,bob@example.com
E1002,Bob,Terminated,2026-13-45,bob@example.com
E1003,Carol,Terminated,2026-11-17,alice@example.com
E1001,Alice,Active,,carol@example.com
E1004,Dave,Terminated
"E1004","Dave, the contractor",Inactive,2026-11-16T17:00:00Z,dave@example.com
CSV
)
	assert_exit 1 actl offboard --feed "$f"
	assert_contains "$OUT" "$f:3: unknown employee number E9999; not applied"
	assert_contains "$OUT" "$f:4:4: E1002: malformed termination date '2026-13-45'"
	assert_contains "$OUT" "$f:5: E1003: duplicate of line 2 (applied once)"
	assert_contains "$OUT" "$f:7: 3 fields, the header has 5; row ignored"
	assert_contains "$OUT" "2 offboarded, 0 already done, 0 scheduled, 4 reported, 0 incomplete"
	# Joined on employee number: the e-mail column pointing at alice changes nothing.
	assert_eq "$(status_of alice)" active
	assert_eq "$(status_of bob)" active
	assert_eq "$(status_of carol)|$(status_of carol-adm)|$(status_of dave)" "revoked|revoked|revoked"
	assert_eq "$(sql registry "SELECT employee_no, source, source_ref FROM terminations ORDER BY employee_no" | tr '\n' ' ')" \
		"E1003|hr-feed|$f:2 E1004|hr-feed|$f:8 "
	assert_eq "$(sql registry "SELECT count(*) FROM revocation_actions WHERE account_name = 'carol' AND step = 'registry'")" 1
}

test_reading_the_same_feed_again_changes_nothing() {
	people_root
	local f before after
	f=$(feed hr.csv <<'CSV'
Employee Number,Status,Termination Date
E1002,Terminated,2026-11-10
E1003,Active,
E7777,Terminated,2026-11-10
CSV
)
	assert_exit 1 actl offboard --feed "$f"
	before=$(sql registry "SELECT * FROM terminations; SELECT * FROM accounts; SELECT * FROM revocation_actions; SELECT * FROM people"; sql state "SELECT count(*) FROM audit_events"; md5sum < "$ROOT/etc/shadow")
	ISMS_TEST_NOW=$((NOW + DAY)) assert_exit 1 actl offboard --feed "$f"
	assert_contains "$OUT" "0 offboarded, 1 already done"
	after=$(sql registry "SELECT * FROM terminations; SELECT * FROM accounts; SELECT * FROM revocation_actions; SELECT * FROM people"; sql state "SELECT count(*) FROM audit_events"; md5sum < "$ROOT/etc/shadow")
	assert_eq "$after" "$before"
}

test_hr_feed_columns_come_from_the_config() {
	people_root
	conf_set hr employee_column "EmpID"
	conf_set hr status_column "Employment Status"
	conf_set hr termination_column "Last Day"
	conf_set hr terminated_status "Left"
	local f
	f=$(feed custom.csv <<'CSV'
EmpID,Employment Status,Last Day
E1001,Left,2026-11-01
E1002,Terminated,2026-11-01
CSV
)
	assert_exit 0 actl offboard --feed "$f"
	assert_eq "$(status_of alice)|$(status_of bob)" "revoked|active"
	# An export without the configured column is refused whole.
	f=$(feed other.csv <<'CSV'
Employee Number,Status,Termination Date
E1002,Terminated,2026-11-01
CSV
)
	assert_exit 2 actl offboard --feed "$f"
	assert_contains "$OUT" "no column 'EmpID'"
	assert_eq "$(status_of bob)" active
}

test_future_terminations_wait_for_a_later_run() {
	people_root
	local f
	f=$(feed hr.csv <<'CSV'
Employee Number,Status,Termination Date
E1002,Terminated,2026-12-31
CSV
)
	assert_exit 0 actl offboard --feed "$f"
	assert_contains "$OUT" "still ahead"
	assert_eq "$(status_of bob)" active
	ISMS_TEST_NOW=1798761600 assert_exit 0 actl offboard --feed "$f"
	assert_eq "$(status_of bob)" revoked
}

test_drop_directory_exports_are_applied_and_moved_to_done() {
	people_root
	local drop=$ROOT/var/lib/isms/hr-drop
	printf 'Employee Number,Status,Termination Date\nE1004,Terminated,2026-11-17\n' > "$drop/export-1.csv"
	echo "not an export" > "$drop/README"
	assert_exit 0 actl offboard --feed "$drop"
	assert_eq "$(status_of dave)" revoked
	[ ! -e "$drop/export-1.csv" ] || fail "export left in the drop directory"
	ls "$drop/done/" | grep -q '^export-1.csv\.' || fail "export not moved to done/"
	[ -e "$drop/README" ] || fail "a non-CSV file was moved"
	assert_exit 0 actl offboard --feed "$drop"
	assert_contains "$OUT" "0 offboarded"
}

test_offboard_dry_run_names_the_accounts_and_writes_nothing() {
	people_root
	local f drop=$ROOT/var/lib/isms/hr-drop before
	state_now() {
		sql registry "SELECT * FROM terminations; SELECT * FROM accounts; SELECT * FROM revocation_actions; SELECT * FROM people"
		sql state "SELECT count(*) FROM audit_events"
		md5sum < "$ROOT/etc/shadow"
		md5sum < "$ROOT/etc/group"
	}
	before=$(state_now)
	assert_exit 0 actl offboard E1003 --at 2026-11-18T09:00:00Z --dry-run
	assert_contains "$OUT" "E1003: would be offboarded (terminated 2026-11-18T09:00:00Z), revoking accounts: carol, carol-adm"
	f=$(feed hr.csv <<'CSV'
Employee Number,Status,Termination Date
E1003,Terminated,2026-11-17
E9999,Terminated,2026-11-17
E1002,Terminated,2026-12-31
CSV
)
	assert_exit 1 actl offboard --feed "$f" --dry-run
	assert_contains "$OUT" "$f:2: E1003: would be offboarded (terminated 2026-11-17T00:00:00Z), revoking accounts: carol, carol-adm"
	assert_contains "$OUT" "$f:3: unknown employee number E9999; not applied"
	assert_contains "$OUT" "$f:4: E1002: termination on 2026-12-31T00:00:00Z is still ahead"
	assert_contains "$OUT" "1 would be offboarded, 0 already done, 1 scheduled, 1 reported (dry run, nothing written)"
	assert_exit 1 actl --json offboard --feed "$f" --dry-run
	assert_eq "$(python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(d["dry_run"], d["offboarded"], [r["result"] for r in d["rows"]], d["rows"][0]["detail"])' "$OUT")" \
		"True 1 ['offboarded', 'unknown', 'scheduled'] E1003: would be offboarded (terminated 2026-11-17T00:00:00Z), revoking accounts: carol, carol-adm"
	cp "$f" "$drop/export-1.csv"
	assert_exit 1 actl offboard --feed "$drop" --dry-run
	[ -e "$drop/export-1.csv" ] && [ ! -e "$drop/done" ] || fail "a dry run moved the export"
	assert_eq "$(state_now)" "$before"
	# Done for real, a dry run has nothing left to do.
	assert_exit 0 actl offboard E1003 --at 2026-11-18T09:00:00Z
	assert_exit 0 actl offboard E1003 --at 2026-11-18T09:00:00Z --dry-run
	assert_contains "$OUT" "already offboarded"
}

test_examples_hr_export_offboards_the_terminated_person() {
	people_root
	assert_exit 0 actl offboard --feed "$TOP/examples/hr-export.csv"
	assert_eq "$(status_of alice)|$(status_of bob)|$(status_of carol)|$(status_of dave)" "active|active|revoked|active"
}

# ---- stale accounts ----

test_stale_lists_accounts_without_recent_login_and_never_used_ones() {
	people_root
	registry_account erin 2005 E1004 $((NOW - 5 * DAY))
	sql state "INSERT INTO logins (account, last_login_at, service, source) VALUES
		('alice', $NOW - 100 * $DAY, 'sshd', 'pam'), ('bob', $NOW - 10 * $DAY, 'sshd', 'pam'),
		('dave', $NOW - 95 * $DAY, NULL, 'wtmp'), ('carol-adm', $NOW - 1 * $DAY, 'sudo', 'pam')"
	assert_exit 1 actl stale
	assert_contains "$OUT" "alice                human      2026-08-10T11:06:40Z  pam    100"
	assert_contains "$OUT" "dave                 human      2026-08-15T11:06:40Z  wtmp   95"
	assert_contains "$OUT" "carol                human      never                 -      400 (since created)"
	assert_not_contains "$OUT" "bob"
	assert_not_contains "$OUT" "erin"
	assert_not_contains "$OUT" "carol-adm"
	assert_contains "$OUT" "3 stale account(s) (no login for 90 days)"
	assert_exit 1 actl stale --days 7
	assert_contains "$OUT" "bob "
	assert_not_contains "$OUT" "erin"
	assert_exit 1 actl stale --days 3 --json
	assert_contains "$OUT" '"account":"erin","kind":"human","last_login":null,"source":"never"'
	assert_eq "$(status_of alice)" active
}

test_stale_apply_revokes_with_reason_stale() {
	people_root
	sql state "INSERT INTO logins (account, last_login_at, source) VALUES ('alice', $NOW - 10 * $DAY, 'pam'),
		('bob', $NOW, 'pam'), ('carol', $NOW, 'pam'), ('carol-adm', $NOW, 'pam')"
	assert_exit 0 actl stale --apply
	assert_eq "$(status_of dave)" revoked
	assert_eq "$(sql registry "SELECT revoked_reason FROM accounts WHERE name = 'dave'")" stale
	assert_eq "$(sql registry "SELECT DISTINCT trigger FROM revocation_actions WHERE account_name = 'dave'")" stale
	assert_eq "$(status_of alice)" active
	# Revoked accounts are no longer listed.
	assert_exit 0 actl stale
	assert_contains "$OUT" "0 stale account(s)"
}

test_lastlog_import_seeds_last_logins_from_wtmp() {
	people_root
	local w=$ROOT/var/log/wtmp
	mkdir -p "$ROOT/var/log"
	"$BUILD/tools/mkwtmp" "$w" alice $((NOW - 200 * DAY)) pts/1 10.0.0.1 \
		alice $((NOW - 20 * DAY)) pts/2 10.0.0.2 bob $((NOW - 30 * DAY)) tty1 "" \
		carol $((NOW - 5 * DAY)) pts/3 10.0.0.3 || fail "mkwtmp"
	# pam_isms already saw a later login of carol: it is kept.
	sql state "INSERT INTO logins (account, last_login_at, service, source) VALUES ('carol', $NOW - $DAY, 'sshd', 'pam')"
	assert_exit 0 actl lastlog import
	assert_contains "$OUT" "3 user(s), 2 last-login time(s) seeded or updated"
	assert_eq "$(sql state "SELECT account, last_login_at, rhost, source FROM logins ORDER BY account" | tr '\n' ' ')" \
		"alice|$((NOW - 20 * DAY))|10.0.0.2|wtmp bob|$((NOW - 30 * DAY))||wtmp carol|$((NOW - DAY))||pam "
	assert_exit 1 actl stale
	assert_not_contains "$OUT" "alice"
	assert_contains "$OUT" "dave"
	assert_exit 2 actl --root "$ROOT" --config "$CONF" lastlog
}

# ---- report ----

test_report_revocations_flags_a_late_one() {
	people_root
	conf_set revoke revoke_within 24h
	assert_exit 0 actl offboard E1002 --at @$((NOW - 3 * 3600))
	assert_exit 0 actl offboard E1003 --at @$((NOW - 3 * DAY)) --ticket HR-9
	assert_exit 1 actl report revocations --since 2026-11-01
	assert_contains "$OUT" "E1002      Bob"
	assert_contains "$OUT" "3h 0m     ok"
	assert_contains "$OUT" "E1003      Carol"
	assert_contains "$OUT" "3d 0h     LATE (over the limit)"
	assert_contains "$OUT" "carol-adm:registry=done"
	assert_contains "$OUT" "2 termination(s), 1 over the limit, 0 not yet fully revoked"
	assert_exit 1 actl report revocations --since 2026-11-01 --format csv
	assert_contains "$OUT" "employee_no,name,terminated_at,revoked_at,delay_seconds,limit_seconds,flag,source,ticket,steps"
	assert_contains "$OUT" '"E1003","Carol","2026-11-15T11:06:40Z","2026-11-18T11:06:40Z","259200","86400","LATE","manual","HR-9","carol:registry=done carol:shadow=done'
	assert_eq "$(echo "$OUT" | wc -l)" 3
	assert_exit 1 actl report revocations --since 2026-11-01 --format json
	assert_contains "$OUT" '"employee_no":"E1003","name":"Carol","terminated_at":1794740800,"revoked_at":1795000000,"delay_seconds":259200,"late":true,"flag":"LATE"'
	# Only terminations since the date.
	assert_exit 0 actl report revocations --since 2026-11-16
	assert_not_contains "$OUT" "E1003"
	assert_exit 2 actl report revocations
}

test_report_shows_an_open_termination_as_overdue() {
	people_root
	sed -i 's/^bob:.*/bob:broken:::::::::::/' "$ROOT/etc/shadow"
	assert_exit 1 actl offboard E1002 --at @$((NOW - 2 * DAY))
	assert_exit 1 actl report revocations --since 2026-11-01
	assert_contains "$OUT" "OVERDUE"
	assert_contains "$OUT" "bob:shadow=failed"
	assert_contains "$OUT" "1 not yet fully revoked"
	sed -i 's/^bob:.*/bob:x:19000:0:99999:7:::/' "$ROOT/etc/shadow"
	ISMS_TEST_NOW=$((NOW + 3600)) assert_exit 0 actl offboard E1002 --at @$((NOW - 2 * DAY))
	assert_exit 1 actl report revocations --since 2026-11-01
	assert_contains "$OUT" "LATE"
	assert_eq "$(sql registry "SELECT revoked_at - terminated_at FROM terminations")" $((2 * DAY + 3600))
}

run_tests
