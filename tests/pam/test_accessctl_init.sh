#!/bin/bash
# accessctl init, doctor and audit verify on a temporary root: what init
# creates and that a second run changes nothing, doctor's findings and fixes,
# config errors naming file:line, a tampered trail, --help and --version.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"

# snapshot ROOT: every path with its type and mode, every file's size, mtime and
# content hash. Directory mtimes are left out: sqlite creates and removes its
# -wal and -shm files beside a store whenever it is opened.
snapshot() {
	(cd "$1" && find . -type d -printf '%y %m %p\n' | sort -k3 &&
		find . ! -type d -printf '%y %m %s %T@ %p\n' | sort -k5 &&
		find . -type f -exec sha256sum {} + | sort -k2)
}

# A fresh root that init has not seen yet (new_root runs init itself).
bare_root() {
	ROOT=$(mktemp -d "$T_TMP/bare.XXXXXX")/r
	CONF=$ROOT/etc/isms/isms.conf
	SYSLOG=$T_TMP/syslog.$$.$RANDOM
	: > "$SYSLOG"
}

# init on a bare root, capturing its syslog lines.
init_bare() {
	LD_PRELOAD="$BUILD/tools/syslogcap.so" ISMS_SYSLOG_CAPTURE=$SYSLOG \
		"$ACCESSCTL_BIN" --root "$ROOT" "$@" init
}

mode_of() { stat -c '%a' "$1"; }

test_init_creates_everything_with_safe_modes() {
	bare_root
	assert_exit 0 init_bare
	for what in "root" "config" "host key" "signing key" "registry store" "state store" "recordings" "hr drop"; do
		echo "$OUT" | grep -q "^created  $what " || fail "init did not say it created $what: $OUT"
	done
	assert_contains "$OUT" "initialised ("
	assert_eq "$(mode_of "$ROOT/etc/isms/host.key")" 600 "host key"
	assert_eq "$(stat -c %s "$ROOT/etc/isms/host.key")" 32 "host key size"
	assert_eq "$(mode_of "$ROOT/etc/isms/signing.key")" 600 "signing key"
	assert_eq "$(mode_of "$ROOT/etc/isms/isms.conf")" 644 "config"
	assert_eq "$(mode_of "$ROOT/var/lib/isms")" 700 "state directory"
	assert_eq "$(mode_of "$ROOT/var/lib/isms/recordings")" 700 "recordings"
	assert_eq "$(mode_of "$ROOT/var/lib/isms/registry.db")" 600 "registry"
	assert_eq "$(mode_of "$ROOT/var/lib/isms/state.db")" 600 "state"
	assert_eq "$(sqlite3 "$ROOT/var/lib/isms/registry.db" 'PRAGMA user_version')" 2
	assert_eq "$(sqlite3 "$ROOT/var/lib/isms/state.db" 'PRAGMA journal_mode')" wal
	# The default config points every path into the root.
	assert_file_contains "$CONF" "registry_db = $ROOT/var/lib/isms/registry.db"
	assert_file_not_contains "$CONF" "= /var/lib"
}

test_init_is_an_audit_event_mirrored_to_syslog() {
	bare_root
	assert_exit 0 init_bare
	assert_eq "$(sqlite3 "$ROOT/var/lib/isms/state.db" "SELECT event || ' ' || result FROM audit_events")" "init ok"
	grep -q "isms: event=init user=- result=ok reason=- actor=" "$SYSLOG" ||
		fail "no syslog line for init: $(cat "$SYSLOG")"
	assert_eq "$(cut -d'|' -f1 "$SYSLOG" | sort -u)" 6 "LOG_INFO"
}

test_hostile_actor_cannot_forge_syslog_fields() {
	bare_root
	SUDO_USER=$'eve" result=deny reason=x\nisms: event=forged' assert_exit 0 init_bare
	assert_eq "$(grep -c 'event=' "$SYSLOG")" 1 "one line, no injected line"
	assert_file_contains "$SYSLOG" 'result=ok reason=- actor="eve\" result=deny reason=x\x0aisms: event=forged"'
}

test_second_init_changes_nothing() {
	local before after
	bare_root
	assert_exit 0 init_bare
	before=$(snapshot "$ROOT")
	assert_exit 0 init_bare
	assert_contains "$OUT" "already initialised; nothing changed"
	assert_not_contains "$OUT" "created "
	echo "$OUT" | grep -q "^exists   host key " || fail "second init did not report the existing key: $OUT"
	assert_exit 0 init_bare --json
	assert_eq "$(echo "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["created"])')" 0
	after=$(snapshot "$ROOT")
	[ "$before" = "$after" ] || fail "init changed files: $(diff <(echo "$before") <(echo "$after"))"
	assert_eq "$(sqlite3 "$ROOT/var/lib/isms/state.db" 'SELECT count(*) FROM audit_events')" 1
}

test_init_keeps_an_edited_config() {
	bare_root
	assert_exit 0 init_bare
	conf_set general stale_days 30
	assert_exit 0 init_bare
	assert_file_contains "$CONF" "stale_days = 30"
}

test_doctor_passes_on_a_fresh_root_with_a_pam_service() {
	new_root
	isms_service sshd
	assert_exit 0 actl doctor
	assert_contains "$OUT" "no findings"
	assert_contains "$OUT" "sshd"
	assert_not_contains "$OUT" "FINDING"
	assert_exit 0 actl --json doctor
	assert_eq "$(echo "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["findings"])')" 0
}

test_doctor_reports_missing_pam_services() {
	new_root
	pam_service other "auth required pam_deny.so"
	pam_service sshd "# account required pam_isms.so (commented out)" "account required pam_unix.so"
	assert_exit 1 actl doctor
	assert_contains "$OUT" "no service file uses pam_isms.so"
	assert_contains "$OUT" "fix: add 'account required pam_isms.so'"
}

test_doctor_reports_group_writable_store_with_fix() {
	new_root
	isms_service sshd
	chmod g+w "$ROOT/var/lib/isms/state.db"
	assert_exit 1 actl doctor
	assert_contains "$OUT" "FINDING  state store"
	assert_contains "$OUT" "writable by group or other (mode 0620)"
	assert_contains "$OUT" "fix: chmod go-w $ROOT/var/lib/isms/state.db"
	assert_contains "$OUT" "1 finding"
}

test_doctor_reports_readable_host_key_with_fix() {
	new_root
	isms_service sshd
	chmod 0644 "$ROOT/etc/isms/host.key"
	assert_exit 1 actl doctor
	assert_contains "$OUT" "FINDING  host key"
	assert_contains "$OUT" "accessible by group or other (mode 0644)"
	assert_contains "$OUT" "fix: chmod 600 $ROOT/etc/isms/host.key"
	assert_exit 1 actl --json doctor
	echo "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
bad = [c for c in d["checks"] if c["status"] != "ok"]
assert [c["check"] for c in bad] == ["host key"], bad
assert bad[0]["fix"].startswith("chmod 600 "), bad
' || fail "json: $OUT"
}

test_doctor_reports_writable_store_and_config_directories() {
	new_root
	isms_service sshd
	chmod o+w "$ROOT/var/lib/isms" "$ROOT/etc/isms"
	assert_exit 1 actl doctor
	assert_contains "$OUT" "FINDING  state dir"
	assert_contains "$OUT" "fix: chmod go-w $ROOT/var/lib/isms"
	assert_contains "$OUT" "FINDING  config dir"
	assert_contains "$OUT" "fix: chmod go-w $ROOT/etc/isms"
}

test_writable_config_is_refused_with_its_fix() {
	new_root
	isms_service sshd
	chmod g+w "$CONF"
	assert_exit 2 actl doctor
	assert_contains "$OUT" "config file $CONF is writable by group or other (mode 0664); fix: chmod go-w $CONF"
	# and the module fails closed on it rather than run a policy anyone in the group could edit
	OUT=$(pamrun sshd root acct 2>&1) || true
	assert_contains "$OUT" "acct: PAM_AUTHINFO_UNAVAIL"
	assert_file_contains "$SYSLOG" "writable by group or other"
}

test_config_that_is_not_a_regular_file_is_refused() {
	new_root
	assert_exit 2 actl --config "$ROOT/etc/isms" doctor
	assert_contains "$OUT" "config file $ROOT/etc/isms: not a regular file"
}

test_doctor_reports_store_not_owned_by_root() {
	[ "$(id -u)" = 0 ] || return 0   # the owner rule applies to root only
	new_root
	isms_service sshd
	chown 65534 "$ROOT/var/lib/isms/registry.db"
	assert_exit 1 actl doctor
	assert_contains "$OUT" "not owned by root (uid 65534)"
	assert_contains "$OUT" "fix: chown root $ROOT/var/lib/isms/registry.db"
}

test_doctor_reports_a_newer_store() {
	new_root
	isms_service sshd
	sql state "PRAGMA user_version = 99"
	assert_exit 1 actl doctor
	assert_contains "$OUT" "newer than this program"
	assert_contains "$OUT" "fix: install the pam_isms version that wrote this store"
}

# A registry of an older schema version (the package upgraded, init not run
# yet): logins are refused with the fix in syslog, a break-glass account gets
# in with an alert, and init brings logins back.
test_an_older_registry_refuses_logins_until_init() {
	new_root
	isms_service sshd
	add_user alice 1001
	add_user rescue 1500
	actl person add E100 --name "Alice Example" --email alice@example.com >/dev/null
	actl account add alice --owner E100 >/dev/null
	actl account add rescue --kind breakglass >/dev/null
	conf_set general breakglass_accounts rescue
	local latest
	latest=$(sql registry "PRAGMA user_version")
	sql registry "PRAGMA user_version = $((latest - 1))"
	OUT=$(pamrun sshd alice acct 2>&1) || true
	assert_contains "$OUT" "acct: PAM_AUTHINFO_UNAVAIL"
	assert_file_contains "$SYSLOG" "(schema version $((latest - 1)), expected $latest); run 'accessctl init'"
	OUT=$(pamrun sshd rescue acct 2>&1) || true
	assert_contains "$OUT" "acct: PAM_SUCCESS"
	assert_file_contains "$SYSLOG" "break-glass login to rescue"
	assert_exit 0 actl init
	assert_eq "$(sql registry "PRAGMA user_version")" "$latest"
	OUT=$(pamrun sshd alice acct 2>&1) || true
	assert_contains "$OUT" "acct: PAM_SUCCESS"
}

test_misspelled_key_is_a_config_error_naming_file_and_line() {
	local line
	new_root
	isms_service sshd
	conf_set general stale_dayz 3
	line=$(grep -n '^stale_dayz' "$CONF" | cut -d: -f1)
	for cmd in doctor "audit verify"; do
		# shellcheck disable=SC2086
		assert_exit 2 actl $cmd
		assert_contains "$OUT" "$CONF:$line: unknown key 'stale_dayz' in [general]"
	done
}

test_bad_value_says_what_is_allowed() {
	new_root
	conf_set mfa lockout soon
	assert_exit 2 actl doctor
	assert_contains "$OUT" "key 'lockout' in [mfa]: bad value 'soon'; allowed: a duration"
}

test_missing_config_says_to_run_init() {
	new_root
	rm "$CONF"
	assert_exit 2 actl doctor
	assert_contains "$OUT" "$CONF: No such file or directory"
	assert_contains "$OUT" "init"
}

test_audit_verify_counts_an_intact_chain() {
	new_root
	assert_exit 0 actl audit verify
	assert_contains "$OUT" "audit chain intact: 1 events"
	assert_exit 0 actl --json audit verify
	assert_contains "$OUT" '"intact":true'
}

test_audit_verify_fails_after_tampering() {
	new_root
	sql state "UPDATE audit_events SET result = 'fail' WHERE seq = 1"
	assert_exit 1 actl audit verify
	assert_contains "$OUT" "audit chain BROKEN"
	assert_contains "$OUT" "event 1"
	assert_exit 1 actl --json audit verify
	assert_contains "$OUT" '"first_broken":1'
	assert_contains "$OUT" '"intact":false'
	isms_service sshd
	assert_exit 1 actl doctor
	assert_contains "$OUT" "FINDING  audit chain"
}

test_audit_verify_usage_errors() {
	new_root
	assert_exit 2 actl audit
	assert_contains "$OUT" "missing subcommand"
	assert_exit 2 actl audit verify extra
	assert_exit 2 actl audit nonsense
	assert_contains "$OUT" "see 'accessctl audit --help'"
}

test_every_command_has_help() {
	local cmds cmd n=0
	assert_exit 0 "$ACCESSCTL_BIN" --help
	assert_contains "$OUT" "usage: accessctl"
	cmds=$(echo "$OUT" | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}')
	[ -n "$cmds" ] || fail "no commands in --help: $OUT"
	for cmd in $cmds; do
		assert_exit 0 "$ACCESSCTL_BIN" "$cmd" --help
		assert_contains "$OUT" "usage: accessctl"
		assert_contains "$OUT" " $cmd"
		assert_exit 0 "$ACCESSCTL_BIN" --root /nonexistent "$cmd" -h
		n=$((n + 1))
	done
	[ "$n" -ge 3 ] || fail "only $n commands"
}

test_version_and_usage_errors() {
	assert_exit 0 "$ACCESSCTL_BIN" --version
	[[ $OUT =~ ^accessctl\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "version: $OUT"
	assert_exit 2 "$ACCESSCTL_BIN"
	assert_contains "$OUT" "usage:"
	assert_exit 2 "$ACCESSCTL_BIN" frobnicate
	assert_contains "$OUT" "unknown command 'frobnicate'"
	assert_exit 2 "$ACCESSCTL_BIN" --root relative/dir doctor
	assert_contains "$OUT" "absolute path"
	assert_exit 2 "$ACCESSCTL_BIN" --no-such-option doctor
	assert_exit 2 "$ACCESSCTL_BIN" --root /tmp doctor extra
	assert_contains "$OUT" "unexpected argument 'extra'"
}

test_example_config_loads_and_passes_doctor() {
	new_root
	isms_service sshd
	install -m 0644 "$TOP/examples/isms.conf" "$ROOT/etc/isms/example.conf"
	assert_exit 0 actl --config "$ROOT/etc/isms/example.conf" doctor
	assert_contains "$OUT" "ok       config             $ROOT/etc/isms/example.conf"
	assert_contains "$OUT" "no findings"
}

# The example PAM services, with the built module and the Debian includes
# stubbed, load in a real PAM stack: pam_isms accepts their arguments and runs
# in the account and auth phases (failing closed: the registry is gone).
test_example_pam_services_load_the_module() {
	local svc inc line
	new_root
	for inc in common-auth common-account common-session common-session-noninteractive common-password; do
		printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession required pam_permit.so\npassword required pam_permit.so\n' \
			> "$ROOT/etc/pam.d/$inc"
	done
	for svc in sshd sudo su login; do
		# libpam resolves a relative @include in /etc/pam.d even with pam_start_confdir
		sed "s|pam_isms.so|$MODULE conf=$CONF|; s|^@include |@include $ROOT/etc/pam.d/|" \
			"$TOP/examples/pam.d/$svc" > "$ROOT/etc/pam.d/$svc"
	done
	rm -f "$ROOT"/var/lib/isms/registry.db*
	add_user alice 1000
	for svc in sshd sudo su login; do
		: > "$SYSLOG"
		OUT=$(pamrun "$svc" alice acct 2>&1) || true
		assert_contains "$OUT" "acct: PAM_AUTHINFO_UNAVAIL"
		assert_file_contains "$SYSLOG" "reason=store_unavailable"
		assert_file_not_contains "$SYSLOG" "unknown or malformed argument"
		assert_file_not_contains "$SYSLOG" "unable to dlopen"
	done
	# The auth lines carry their own arguments (forward_pass in login).
	for svc in sshd sudo login; do
		: > "$SYSLOG"
		OUT=$(pamrun "$svc" alice auth 2>&1) || true
		assert_contains "$OUT" "auth: PAM_AUTHINFO_UNAVAIL"
		assert_file_not_contains "$SYSLOG" "unknown or malformed argument"
	done
	assert_exit 1 actl doctor
	line=$(echo "$OUT" | grep '^ok       pam services') || fail "no pam services line: $OUT"
	for svc in sshd sudo su login; do
		echo "$line" | grep -Eq "[ ,]$svc(,|\$)" || fail "$svc not listed: $line"
	done
}

run_tests
