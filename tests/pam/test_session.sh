#!/bin/bash
# The session phase through the real PAM stack: who must be recorded, the
# recorder shell under enforce and warn, the session row, the values passed to
# the recorder, last login, close, audit events, kernel TTY auditing.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"

REC=/usr/local/bin/isms-rec
# nss_wrapper binds libc with RTLD_DEEPBIND, which the sanitizer runtime refuses.
export NSS_WRAPPER_DISABLE_DEEPBIND=1

# A root with alice (privileged through sudo) and bob (not), a session-only service.
setup() {
	new_root
	add_user alice 1001 1001 /bin/bash
	add_user bob 1002 1002 /bin/bash
	add_group_member sudo 27 alice
	conf_set session recorder "$REC"
	pam_service sshd "session required $MODULE conf=$CONF ${1:-}"
	sql registry "INSERT INTO accounts (name, uid, gid, kind, source, real_shell, created_at, updated_at)
		VALUES ('alice', 1001, 1001, 'human', 'local', '/bin/zsh', 0, 0)"
}

set_shell() { sed -i "s|^\($1:.*:\)[^:]*\$|\1$2|" "$ROOT/etc/passwd"; }

test_privileged_user_without_recorder_is_refused_under_enforce() {
	setup
	assert_exit 14 pamrun sshd alice -r 192.0.2.7 open   # PAM_SESSION_ERR
	assert_contains "$OUT" "open: PAM_SESSION_ERR"
	assert_contains "$OUT" "must be recorded"
	assert_file_contains "$SYSLOG" "event=session_open"
	assert_file_contains "$SYSLOG" "reason=recorder_missing"
	assert_eq "$(sql state "SELECT count(*) FROM sessions")" 0
	assert_eq "$(sql state "SELECT result || ' ' || reason FROM audit_events WHERE event = 'session_open'")" \
		"deny recorder_missing"
}

test_privileged_user_without_recorder_is_allowed_with_warning_under_warn() {
	setup
	conf_set session record warn
	assert_exit 0 pamrun sshd alice open
	assert_contains "$OUT" "open: PAM_SUCCESS"
	assert_file_contains "$SYSLOG" "must be recorded but the login shell is not $REC; allowed (record=warn)"
	assert_eq "$(sql state "SELECT details LIKE '%warning=recorder_missing%' FROM audit_events WHERE event = 'session_open'")" 1
}

test_module_argument_overrides_the_configured_mode() {
	setup "record=warn"
	assert_exit 0 pamrun sshd alice open
	setup "record=off"
	assert_exit 0 pamrun sshd alice -e ISMS_REAL_SHELL open
	echo "$OUT" | grep -qx 'env ISMS_REAL_SHELL=' || fail "real shell passed for an unrecorded session: $OUT"
	assert_eq "$(sql state "SELECT must_record FROM sessions")" 0
}

test_recorded_session_gets_a_row_and_the_values_for_the_recorder() {
	setup
	set_shell alice "$REC"
	assert_exit 0 pamrun sshd alice -r 192.0.2.7 -t pts/3 -e ISMS_SESSION_ID -e ISMS_REAL_SHELL open
	local id
	id=$(echo "$OUT" | sed -n 's/^env ISMS_SESSION_ID=//p')
	[[ $id =~ ^[0-9a-f]{32}$ ]] || fail "session id '$id' is not 128 bits of hex"
	assert_contains "$OUT" "env ISMS_REAL_SHELL=/bin/zsh"
	assert_eq "$(sql state "SELECT account, uid, service, tty, rhost, privileged, must_record, status, ended_at IS NULL FROM sessions WHERE id = '$id'")" \
		"alice|1001|sshd|pts/3|192.0.2.7|1|1|open|1"
	assert_eq "$(sql state "SELECT started_at > 0 FROM sessions WHERE id = '$id'")" 1
}

test_real_shell_falls_back_to_bin_sh_without_a_registry_value() {
	setup
	set_shell alice "$REC"
	sql registry "UPDATE accounts SET real_shell = NULL"
	assert_exit 0 pamrun sshd alice -e ISMS_REAL_SHELL open
	assert_contains "$OUT" "env ISMS_REAL_SHELL=/bin/sh"
}

test_session_ids_are_fresh_each_time() {
	setup
	set_shell alice "$REC"
	pamrun sshd alice open >/dev/null
	pamrun sshd alice open >/dev/null
	assert_eq "$(sql state "SELECT count(DISTINCT id) FROM sessions")" 2
}

test_unprivileged_user_is_not_recorded_but_logged_in() {
	setup
	ISMS_TEST_NOW=1800000000 pamrun sshd bob -r 198.51.100.2 -e ISMS_SESSION_ID open >/dev/null ||
		fail "bob refused"
	assert_eq "$(sql state "SELECT privileged, must_record FROM sessions WHERE account = 'bob'")" "0|0"
	assert_eq "$(sql state "SELECT last_login_at, service, rhost, source FROM logins WHERE account = 'bob'")" \
		"1800000000|sshd|198.51.100.2|pam"
}

test_record_users_and_record_groups_are_recorded() {
	setup
	conf_set session record_users bob
	assert_exit 14 pamrun sshd bob open
	assert_file_contains "$SYSLOG" "bob (record_users)"
	add_user carol 1003 1003 /bin/bash
	add_group_member dba 500 carol
	conf_set session record_groups "dba, ops"
	assert_exit 14 pamrun sshd carol open
	assert_file_contains "$SYSLOG" "carol (record_groups dba)"
}

test_noninteractive_services_need_no_recorder() {
	setup
	pam_service cron "session required $MODULE conf=$CONF"
	assert_exit 0 pamrun cron alice open
	assert_eq "$(sql state "SELECT service, privileged, must_record FROM sessions")" "cron|1|0"
}

test_uid_0_must_be_recorded() {
	setup
	assert_exit 14 pamrun sshd root open
	assert_file_contains "$SYSLOG" "root (uid 0)"
}

test_every_open_updates_last_login() {
	setup
	set_shell alice "$REC"
	ISMS_TEST_NOW=1800000000 pamrun sshd alice open >/dev/null
	ISMS_TEST_NOW=1800000500 pamrun sshd alice -r 203.0.113.9 open >/dev/null
	assert_eq "$(sql state "SELECT last_login_at, rhost FROM logins WHERE account = 'alice'")" "1800000500|203.0.113.9"
}

test_close_sets_end_time_and_status() {
	setup
	set_shell alice "$REC"
	ISMS_TEST_NOW=1800000000 pamrun sshd alice -e ISMS_SESSION_ID open close > "$T_TMP/o" ||
		fail "$(cat "$T_TMP/o")"
	assert_file_contains "$T_TMP/o" "close: PAM_SUCCESS"
	assert_eq "$(sql state "SELECT status, ended_at FROM sessions")" "closed|1800000000"
	assert_eq "$(sql state "SELECT group_concat(event || ':' || result, ' ') FROM audit_events WHERE event LIKE 'session%' ORDER BY seq")" \
		"session_open:allow session_close:ok"
	assert_file_contains "$SYSLOG" "event=session_close"
}

test_close_of_a_session_whose_recorder_never_finished_marks_it_truncated() {
	setup
	set_shell alice "$REC"
	# The recorder claimed the row (status recording) and died before finishing.
	printf '#!/bin/sh\nsqlite3 %s "UPDATE sessions SET status = '"'recording'"', recorder_pid = 1"\n' \
		"$ROOT/var/lib/isms/state.db" > "$ROOT/claim.sh"
	pam_service sshd "session required $MODULE conf=$CONF" \
		"session required pam_exec.so type=open_session /bin/sh $ROOT/claim.sh"
	assert_exit 0 pamrun sshd alice open close
	assert_eq "$(sql state "SELECT status, ended_at IS NOT NULL FROM sessions")" "truncated|1"
}

test_store_unavailable_refuses_the_session() {
	setup
	set_shell alice "$REC"
	chmod o+w "$ROOT/var/lib/isms/state.db"
	assert_exit 14 pamrun sshd alice open
	assert_file_contains "$SYSLOG" "reason=store_unavailable"
}

test_tty_audit_does_not_break_the_session_where_unsupported() {
	setup
	set_shell alice "$REC"
	conf_set session tty_audit yes
	assert_exit 0 pamrun sshd alice open
	# Either the kernel took it or it said why; the session opened either way.
	assert_eq "$(sql state "SELECT details LIKE '%tty_audit=on%' OR details LIKE '%tty_audit=unavailable%' FROM audit_events WHERE event = 'session_open'")" 1
}

run_tests
