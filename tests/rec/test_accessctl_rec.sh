#!/bin/bash
# accessctl rec: auditor keys, turning recording on and off for accounts, and
# listing sessions with their state.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"
. "$(dirname "$0")/rec_lib.sh"

test_keygen_writes_a_private_key_only_its_owner_reads() {
	rec_setup
	assert_exit 0 actl rec keygen -o "$KEYS/second" --install
	assert_eq "$(stat -c %a "$KEYS/second.key")" 600
	assert_eq "$(stat -c %a "$KEYS/second.pub")" 644
	assert_eq "$(cat "$ROOT/etc/isms/auditor.pub")" "$(cat "$KEYS/second.pub")"
	[[ $(cat "$KEYS/second.key") =~ ^[0-9a-f]{64}$ ]] || fail "key file format"
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'rec_keygen'")" 2
}

test_keygen_refuses_to_put_the_private_key_on_the_host() {
	rec_setup
	assert_exit 2 actl rec keygen -o "$ROOT/etc/isms/auditor"
	assert_contains "$OUT" "keep the private key off this host"
	assert_exit 2 actl rec keygen -o "$ROOT/var/lib/isms/recordings/k"
	[ ! -e "$ROOT/etc/isms/auditor.key" ] || fail "private key written under /etc/isms"
}

test_keygen_never_overwrites_a_key() {
	rec_setup
	assert_exit 2 actl rec keygen -o "$KEYS/aud"
	assert_contains "$OUT" "File exists"
}

test_enable_sets_the_recorder_shell_and_remembers_the_real_one() {
	rec_setup
	sed -i 's|^bob:\(.*\):/bin/bash$|bob:\1:/bin/zsh|' "$ROOT/etc/passwd"
	chmod 644 "$ROOT/etc/passwd"
	local before
	before=$(grep -v '^bob:' "$ROOT/etc/passwd")
	assert_exit 0 actl rec enable bob
	assert_contains "$OUT" "bob"
	assert_contains "$OUT" "enabled (real shell /bin/zsh)"
	assert_eq "$(grep '^bob:' "$ROOT/etc/passwd")" "bob:x:1002:1002:bob:/home/bob:$REC"
	assert_eq "$(grep -v '^bob:' "$ROOT/etc/passwd")" "$before"
	assert_eq "$(stat -c %a "$ROOT/etc/passwd")" 644
	assert_eq "$(sql registry "SELECT real_shell FROM accounts WHERE name = 'bob'")" /bin/zsh
	# Enabling again keeps the real shell, not the recorder.
	assert_exit 0 actl rec enable bob
	assert_contains "$OUT" "already enabled"
	assert_eq "$(sql registry "SELECT real_shell FROM accounts WHERE name = 'bob'")" /bin/zsh
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'rec_enable' AND subject = 'bob'")" 2
}

test_enabled_account_passes_the_session_check() {
	rec_setup
	add_group_member sudo 27 bob
	assert_exit 14 pamrun sshd bob open
	actl rec enable bob >/dev/null
	assert_exit 0 pamrun sshd bob -e ISMS_REAL_SHELL open
	assert_contains "$OUT" "env ISMS_REAL_SHELL=/bin/bash"
}

test_disable_gives_the_real_shell_back() {
	rec_setup
	assert_exit 0 actl rec disable alice
	assert_contains "$OUT" "disabled"
	assert_eq "$(grep '^alice:' "$ROOT/etc/passwd" | cut -d: -f7)" /bin/bash
	assert_eq "$(sql registry "SELECT real_shell IS NULL FROM accounts WHERE name = 'alice'")" 1
}

test_enable_for_a_group_covers_its_members() {
	rec_setup
	add_user carol 1003 1003 /bin/sh
	add_group_member dba 500 bob
	add_group_member dba 500 carol
	sql registry "INSERT INTO accounts (name, uid, gid, created_at, updated_at) VALUES ('carol', 1003, 1003, 0, 0)"
	assert_exit 0 actl --json rec enable --group dba
	assert_eq "$(echo "$OUT" | python3 -c 'import json,sys; print(sorted(a["account"] for a in json.load(sys.stdin)))')" \
		"['bob', 'carol']"
	assert_eq "$(grep -c ":$REC\$" "$ROOT/etc/passwd")" 3
	assert_eq "$(sql registry "SELECT real_shell FROM accounts WHERE name = 'carol'")" /bin/sh
}

test_enable_of_an_unknown_account_changes_nothing() {
	rec_setup
	add_user dave 1004 1004 /bin/bash
	add_group_member ops 600 bob
	add_group_member ops 600 dave   # dave is not in the registry
	cp "$ROOT/etc/passwd" "$T_TMP/passwd.before"
	assert_exit 1 actl rec enable --group ops
	assert_contains "$OUT" "dave is not in the registry; nothing changed"
	cmp -s "$ROOT/etc/passwd" "$T_TMP/passwd.before" || fail "passwd changed"
	assert_eq "$(sql registry "SELECT real_shell IS NULL FROM accounts WHERE name = 'bob'")" 1
}

test_enable_of_a_directory_account_says_what_to_set() {
	rec_setup
	sql registry "INSERT INTO accounts (name, uid, gid, source, dn, shell, created_at, updated_at)
		VALUES ('erin', 2001, 2001, 'ldap', 'uid=erin,ou=people,dc=example,dc=com', '/bin/ksh', 0, 0)"
	assert_exit 0 actl rec enable erin
	assert_contains "$OUT" "set loginShell: $REC on uid=erin,ou=people,dc=example,dc=com"
	assert_eq "$(sql registry "SELECT real_shell FROM accounts WHERE name = 'erin'")" /bin/ksh
	assert_file_not_contains "$ROOT/etc/passwd" "erin"
}

test_list_shows_complete_open_and_unrecorded_sessions() {
	rec_setup
	open_session alice
	rec_as 1001 -c true </dev/null
	local done=$ID
	open_session alice
	local never=$ID
	conf_set session record warn
	actl rec disable alice >/dev/null
	pamrun sshd alice -e ISMS_SESSION_ID open close > "$T_TMP/o"
	local unrec
	unrec=$(sed -n 's/^env ISMS_SESSION_ID=//p' "$T_TMP/o")
	assert_exit 0 actl rec list
	assert_contains "$(echo "$OUT" | grep "$done")" "complete"
	assert_contains "$(echo "$OUT" | grep "$never")" "open (opened, never finished)"
	assert_contains "$(echo "$OUT" | grep "$unrec")" "unrecorded"
	assert_exit 0 actl --json rec list --user alice
	assert_eq "$(echo "$OUT" | python3 -c 'import json,sys; print(" ".join(s["state"] for s in json.load(sys.stdin)))')" \
		"complete open unrecorded"
	assert_exit 0 actl --json rec list --user bob
	assert_eq "$OUT" "[]"
}

test_list_since_filters_by_start() {
	rec_setup
	ISMS_TEST_NOW=1700000000 pamrun sshd alice open >/dev/null
	ISMS_TEST_NOW=1800000000 pamrun sshd alice open >/dev/null
	assert_exit 0 actl --json rec list --since 2025-01-01
	assert_eq "$(echo "$OUT" | python3 -c 'import json,sys; print([s["started_at"] for s in json.load(sys.stdin)])')" \
		"[1800000000]"
}

test_list_marks_a_shrunk_file_truncated() {
	rec_setup
	open_session alice
	rec_as 1001 -c true </dev/null
	truncate -s -10 "$(recording)"
	assert_exit 0 actl --json rec list
	assert_contains "$OUT" '"state":"truncated"'
}

test_unknown_session_id_is_reported() {
	rec_setup
	assert_exit 1 actl rec verify 0123456789abcdef
	assert_contains "$OUT" "no session 0123456789abcdef"
	assert_exit 2 actl rec verify xyz
	assert_contains "$OUT" "not a session id"
}

run_tests
