#!/bin/bash
# pam_isms keeps its config and stores open from one PAM transaction to the
# next within a process (pam_isms/cache.c). Several transactions in one
# process, with a change made between them: every change must be seen by the
# very next login, exactly as if the module had opened everything afresh.
# And logins each in a new process (as sshd runs them) keep the state store's
# WAL short, so none of them reads back a long one.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"

setup() {
	new_root
	isms_service sshd
	add_user alice 1001
	actl person add E100 --name "Alice Example" --email alice@example.com >/dev/null
	actl account add alice --owner E100 >/dev/null
	REG=$ROOT/var/lib/isms/registry.db
	STATE_VERSION=$(sql state "PRAGMA user_version")
}

# twice CMD: two account-phase transactions for alice in one process, CMD between.
twice() {
	pamrun sshd alice -v -n 2 -x "$1" acct || true
}

# the reason of the newest audit event
last_reason() { sql state "SELECT reason FROM audit_events ORDER BY seq DESC LIMIT 1"; }

test_a_lock_between_two_logins_is_seen_by_the_second() {
	setup
	OUT=$(twice "$ACCESSCTL_BIN --root $ROOT account lock alice --reason stolen >/dev/null")
	assert_contains "$OUT" "#0 acct: PAM_SUCCESS"
	assert_contains "$OUT" "#1 acct: PAM_PERM_DENIED"
	assert_eq "$(last_reason)" account_locked
}

test_a_registry_replaced_between_logins_is_opened_afresh() {
	setup
	# what a restore does: a new file renamed over the store, its WAL removed
	cat > "$ROOT/replace.sh" <<EOF
set -e
sqlite3 "$REG" ".backup '$REG.new'"
sqlite3 "$REG.new" "UPDATE accounts SET status = 'locked' WHERE name = 'alice'"
chmod 600 "$REG.new"
rm -f "$REG-wal" "$REG-shm"
mv "$REG.new" "$REG"
EOF
	OUT=$(twice "bash $ROOT/replace.sh")
	assert_contains "$OUT" "#0 acct: PAM_SUCCESS"
	assert_contains "$OUT" "#1 acct: PAM_PERM_DENIED"
	assert_eq "$(last_reason)" account_locked
}

test_a_store_deleted_between_logins_denies_the_second() {
	setup
	OUT=$(twice "rm -f $REG $REG-wal $REG-shm")
	assert_contains "$OUT" "#0 acct: PAM_SUCCESS"
	assert_contains "$OUT" "#1 acct: PAM_AUTHINFO_UNAVAIL"
	assert_file_contains "$SYSLOG" "store unavailable"
}

test_a_store_made_group_writable_between_logins_denies_the_second() {
	setup
	OUT=$(twice "chmod 660 $REG")
	assert_contains "$OUT" "#1 acct: PAM_AUTHINFO_UNAVAIL"
	assert_file_contains "$SYSLOG" "is writable by group or other"
}

# The state store's schema version is read again inside the next login's
# first transaction on it; a phase that ends without having read it passes
# only once it has.
test_a_state_store_of_another_version_between_logins_denies_the_second() {
	setup
	OUT=$(twice "sqlite3 $ROOT/var/lib/isms/state.db 'PRAGMA user_version = 99'")
	assert_contains "$OUT" "#0 acct: PAM_SUCCESS"
	assert_contains "$OUT" "#1 acct: PAM_AUTHINFO_UNAVAIL"
	assert_file_contains "$SYSLOG" "newer than this program"
	# with the version back, logins in the same process go on
	sql state "PRAGMA user_version = $STATE_VERSION"
	cat > "$ROOT/toggle.sh" <<EOF
if [ -e $ROOT/toggled ]; then v=$STATE_VERSION; else v=99; touch $ROOT/toggled; fi
sqlite3 $ROOT/var/lib/isms/state.db "PRAGMA user_version = \$v"
EOF
	OUT=$(pamrun sshd alice -v -n 3 -x "bash $ROOT/toggle.sh" acct || true)
	assert_contains "$OUT" "#0 acct: PAM_SUCCESS"
	assert_contains "$OUT" "#1 acct: PAM_AUTHINFO_UNAVAIL"
	assert_contains "$OUT" "#2 acct: PAM_SUCCESS"
}

test_a_break_glass_account_passes_a_state_store_of_another_version_with_an_alert() {
	setup
	add_user rescue 1500
	actl account add rescue --kind breakglass >/dev/null
	conf_set general breakglass_accounts rescue
	OUT=$(pamrun sshd rescue -v -n 2 -x "sqlite3 $ROOT/var/lib/isms/state.db 'PRAGMA user_version = 99'" acct || true)
	assert_contains "$OUT" "#1 acct: PAM_SUCCESS"
	assert_file_contains "$SYSLOG" "break-glass account rescue let in with the state store unusable"
}

test_a_config_changed_between_logins_is_read_again() {
	setup
	actl account lock alice --reason stolen >/dev/null
	cat > "$ROOT/contact.sh" <<EOF
python3 - <<'PY'
p = "$CONF"
s = open(p).read().replace("[general]", "[general]\\ncontact = helpdesk@example.com", 1)
open(p, "w").write(s)
PY
EOF
	OUT=$(twice "bash $ROOT/contact.sh")
	assert_contains "$OUT" "Contact your system administrator."
	assert_contains "$OUT" "Contact helpdesk@example.com."
}

test_a_config_made_group_writable_between_logins_denies_the_second() {
	setup
	OUT=$(twice "chmod 664 $CONF")
	assert_contains "$OUT" "#0 acct: PAM_SUCCESS"
	assert_not_contains "$OUT" "#1 acct: PAM_SUCCESS"
	assert_file_contains "$SYSLOG" "is writable by group or other"
}

test_logins_in_forked_children_see_changes_and_are_recorded() {
	setup
	# the first login in the parent, the next ones each in a child of it, a
	# registry change between: each child must see it and write its own event
	OUT=$(pamrun sshd alice -v -n 3 -F -x "$ACCESSCTL_BIN --root $ROOT account lock alice --reason stolen >/dev/null; $ACCESSCTL_BIN --root $ROOT account unlock alice >/dev/null" acct) || true
	assert_contains "$OUT" "#0 acct: PAM_SUCCESS"
	assert_contains "$OUT" "#1 acct: PAM_SUCCESS"
	assert_contains "$OUT" "#2 acct: PAM_SUCCESS"
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'account' AND subject = 'alice'")" 3
	OUT=$(pamrun sshd alice -v -n 2 -F -x "$ACCESSCTL_BIN --root $ROOT account lock alice --reason stolen >/dev/null" acct) || true
	assert_contains "$OUT" "#1 acct: PAM_PERM_DENIED"
	actl audit verify >/dev/null || fail "audit chain broken after forked logins"
}

test_a_process_that_closed_every_descriptor_refuses_further_logins() {
	setup
	# between the logins every descriptor is closed and its number reused for
	# /dev/null: sqlite's shared state in the process now names descriptors
	# that are not its own, so the second login is refused (fail closed), the
	# reason is logged, and the application's new descriptors are left alone
	OUT=$(pamrun sshd alice -v -n 2 -C acct 2>&1) || true
	assert_contains "$OUT" "#0 acct: PAM_SUCCESS"
	assert_contains "$OUT" "#1 acct: PAM_AUTHINFO_UNAVAIL"
	assert_not_contains "$OUT" "closed or replaced under the application"
	assert_file_contains "$SYSLOG" "the application closed the descriptors of the stores; restart it"
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'account' AND subject = 'alice'")" 1
	actl audit verify >/dev/null || fail "audit chain broken"
}

test_logins_from_several_threads_at_once_each_succeed_and_are_recorded() {
	setup
	OUT=$(pamrun sshd alice -T 4 -n 25 acct) || fail "a threaded login failed: $OUT"
	assert_contains "$OUT" "threads=4 failed=no"
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'account' AND result = 'allow'")" 100
	actl audit verify >/dev/null || fail "audit chain broken"
}

test_logins_in_new_processes_keep_the_state_wal_short() {
	setup
	local i wal frame
	frame=$(($(sql state "PRAGMA page_size") + 24))   # a WAL frame: header and page
	for i in $(seq 1 120); do
		pamrun sshd alice acct >/dev/null || fail "login $i refused"
	done
	# 120 logins wrote well over 64 frames; each time the WAL reached 64 it was
	# copied into the store and started afresh, so it never grew much past that
	# (read before sqlite3 below, which removes the WAL when it closes)
	wal=$(stat -c %s "$ROOT/var/lib/isms/state.db-wal")
	[ "$wal" -gt $((64 * frame)) ] || fail "expected the WAL to have reached 64 frames ($wal bytes)"
	[ "$wal" -lt $((80 * frame)) ] || fail "state WAL grew to $wal bytes"
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'account'")" 120
	actl audit verify >/dev/null || fail "audit chain broken"
}

run_tests
