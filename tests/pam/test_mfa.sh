#!/bin/bash
# MFA through the real PAM stack: the built module (test build, time pinned with
# ISMS_TEST_NOW), codes from oathtool (an independent TOTP implementation),
# accounts in a real registry, tokens enrolled and imported with accessctl.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"

T0=1800000000                      # a step boundary: codes of T0 are valid in [T0, T0+30)
export ISMS_TEST_NOW=$T0

# registry_account NAME UID [KIND] [CREATED_AT]: a person and an account, the way
# `accessctl account add` (another part) will write them.
registry_account() {
	local name=$1 uid=$2 kind=${3:-human} created=${4:-$((T0 - 86400 * 30))}
	add_user "$name" "$uid"
	sqlite3 "$ROOT/var/lib/isms/registry.db" \
		"INSERT INTO people (employee_no, name, created_at, updated_at) VALUES ('E$uid', '$name', $created, $created);
		 INSERT INTO accounts (name, uid, gid, person_id, kind, created_at, updated_at)
		 VALUES ('$name', $uid, $uid, CASE WHEN '$kind' = 'human' THEN last_insert_rowid() END, '$kind', $created, $created);"
}

# enroll NAME [OPTIONS]: enroll and confirm; sets SECRET (base32), URI and RECOVERY (codes, one a line).
enroll() {
	local name=$1 json; shift
	json=$(actl --json mfa enroll "$name" "$@" </dev/null) || fail "enroll $name: $json"
	URI=$(echo "$json" | jq -r .uri)
	RECOVERY=$(echo "$json" | jq -r '.recovery_codes[]')
	SECRET=$(echo "$URI" | sed 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/')
	ALG=$(echo "$URI" | sed 's/.*algorithm=\([A-Z0-9]*\).*/\1/')
	DIGITS=$(echo "$URI" | sed 's/.*digits=\([0-9]*\).*/\1/')
	# confirm with the code of the step before: the login tests use T0's own code
	ISMS_TEST_NOW=$((T0 - 30)) actl mfa confirm "$name" "$(code_at $((T0 - 30)))" >/dev/null ||
		fail "confirm $name"
}

# code_at EPOCH: the code of the current token (SECRET, ALG, DIGITS) at that time, from oathtool.
code_at() {
	oathtool --totp="${ALG:-SHA1}" --digits="${DIGITS:-6}" -b "$SECRET" -N "@$1"
}

setup() {
	new_root
	isms_service sshd
	registry_account alice 1001
	enroll alice
}

test_enrolled_user_logs_in_with_a_code_from_oathtool() {
	setup
	assert_exit 0 pamrun sshd alice -a "$(code_at $T0)" auth
	assert_contains "$OUT" "prompt-noecho: Verification code: "
	assert_contains "$OUT" "auth: PAM_SUCCESS"
	assert_eq "$(sql state "SELECT result || ' ' || reason FROM audit_events WHERE event = 'mfa' ORDER BY seq DESC LIMIT 1")" "allow totp"
}

test_code_typed_with_the_space_the_app_shows_is_accepted() {
	setup
	local c
	c=$(code_at $T0)
	assert_exit 0 pamrun sshd alice -a "${c:0:3} ${c:3}" auth
}

test_sha512_eight_digit_token_logs_in() {
	new_root
	isms_service sshd
	registry_account alice 1001
	enroll alice --algorithm sha512 --digits 8
	assert_eq "$ALG/$DIGITS" "SHA512/8"
	assert_exit 0 pamrun sshd alice -a "$(code_at $T0)" auth
}

test_wrong_code_is_refused() {
	setup
	local good bad
	good=$(code_at $T0)
	bad=$(printf '%06d' $(( (10#$good + 1) % 1000000 )))
	assert_exit 7 pamrun sshd alice -a "$bad" auth    # PAM_AUTH_ERR
	assert_eq "$(sql state "SELECT reason FROM audit_events WHERE event = 'mfa' ORDER BY seq DESC LIMIT 1")" "wrong_code"
}

test_replayed_code_is_refused() {
	setup
	local c
	c=$(code_at $T0)
	assert_exit 0 pamrun sshd alice -a "$c" auth
	ISMS_TEST_NOW=$((T0 + 20)) assert_exit 7 pamrun sshd alice -a "$c" auth
	assert_eq "$(sql state "SELECT reason FROM audit_events WHERE event = 'mfa' ORDER BY seq DESC LIMIT 1")" "replayed_code"
	# an older code, still inside the window, is at or below the watermark too
	ISMS_TEST_NOW=$((T0 + 20)) assert_exit 7 pamrun sshd alice -a "$(code_at $((T0 - 30)))" auth
	# the next step's code is fine
	ISMS_TEST_NOW=$((T0 + 30)) assert_exit 0 pamrun sshd alice -a "$(code_at $((T0 + 30)))" auth
}

test_fifty_simultaneous_logins_with_one_code_give_exactly_one_success() {
	setup
	conf_set mfa max_failures 100   # every loser is then reported as a replay, not a lock
	local c i pids=()
	c=$(code_at $T0)
	for i in $(seq 1 50); do
		pamrun sshd alice -a "$c" auth > "$T_TMP/race.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || true; done
	assert_eq "$(cat "$T_TMP"/race.* | grep -c 'auth: PAM_SUCCESS')" 1
	assert_eq "$(cat "$T_TMP"/race.* | grep -c 'auth: PAM_AUTH_ERR')" 49
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'mfa' AND result = 'allow'")" 1
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE reason = 'replayed_code'")" 49
}

test_lockout_after_max_failures_and_release_after_lockout() {
	setup
	conf_set mfa max_failures 3
	conf_set mfa lockout 10m
	local good
	good=$(code_at $T0)
	for i in 1 2 3; do
		assert_exit 7 pamrun sshd alice -a 000000 auth
	done
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'mfa_lock'")" 1
	assert_file_contains "$SYSLOG" "4|isms: event=mfa_lock user=alice result=deny reason=too_many_failures"   # LOG_WARNING
	# locked: even the right code is refused, and says until when
	assert_exit 7 pamrun sshd alice -a "$good" auth
	assert_contains "$OUT" "locked until"
	assert_eq "$(sql state "SELECT reason FROM audit_events WHERE event = 'mfa' ORDER BY seq DESC LIMIT 1")" "locked"
	# still locked just before the end
	ISMS_TEST_NOW=$((T0 + 599)) assert_exit 7 pamrun sshd alice -a "$(code_at $((T0 + 599)))" auth
	# after the lockout the next code works, and the release is an audit event
	ISMS_TEST_NOW=$((T0 + 600)) assert_exit 0 pamrun sshd alice -a "$(code_at $((T0 + 600)))" auth
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'mfa_unlock' AND reason = 'lockout_expired'")" 1
	assert_file_contains "$SYSLOG" "4|isms: event=mfa_unlock user=alice result=ok reason=lockout_expired"
}

test_failures_outside_the_window_do_not_lock() {
	setup
	conf_set mfa max_failures 2
	conf_set mfa failure_window 5m
	assert_exit 7 pamrun sshd alice -a 000000 auth
	ISMS_TEST_NOW=$((T0 + 300)) assert_exit 7 pamrun sshd alice -a 000000 auth
	ISMS_TEST_NOW=$((T0 + 300)) assert_exit 0 pamrun sshd alice -a "$(code_at $((T0 + 300)))" auth
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'mfa_lock'")" 0
}

test_admin_unlock_releases_the_lock() {
	setup
	conf_set mfa max_failures 1
	assert_exit 7 pamrun sshd alice -a 000000 auth
	assert_exit 0 actl mfa unlock alice
	assert_contains "$OUT" "unlocked"
	assert_exit 0 pamrun sshd alice -a "$(code_at $T0)" auth
	assert_eq "$(sql state "SELECT reason FROM audit_events WHERE event = 'mfa_unlock'")" "admin"
}

test_each_recovery_code_works_once() {
	setup
	local code left=10
	assert_eq "$(echo "$RECOVERY" | wc -l)" 10
	for code in $RECOVERY; do
		left=$((left - 1))
		assert_exit 0 pamrun sshd alice -a "$code" auth
		assert_contains "$OUT" "Recovery code accepted; $left left."
		assert_exit 7 pamrun sshd alice -a "$code" auth
	done
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE reason = 'recovery_code' AND details LIKE '%recovery_left=0%'")" 1
	# typed in capitals without the dash, after a regeneration
	code=$(actl --json mfa recovery-codes alice --regenerate | jq -r '.recovery_codes[0]')
	assert_exit 0 pamrun sshd alice -a "$(echo "${code/-/}" | tr a-z A-Z)" auth
}

test_recovery_codes_are_stored_only_as_keyed_hashes() {
	setup
	local first
	first=$(echo "$RECOVERY" | head -1)
	assert_eq "$(sql state "SELECT count(*) FROM recovery_codes WHERE account = 'alice' AND length(code_hash) = 32")" 10
	assert_eq "$(sqlite3 "$ROOT/var/lib/isms/state.db" .dump | grep -c "$first")" 0
	assert_eq "$(sqlite3 "$ROOT/var/lib/isms/registry.db" .dump | grep -c "$SECRET")" 0
}

test_pending_token_does_not_log_in() {
	new_root
	isms_service sshd
	registry_account bob 1002
	actl --json mfa enroll bob </dev/null > "$T_TMP/enroll.json"
	SECRET=$(jq -r .uri "$T_TMP/enroll.json" | sed 's/.*secret=\([A-Z2-7]*\).*/\1/')
	assert_exit 7 pamrun sshd bob -a "$(code_at $T0)" auth
	assert_contains "$OUT" "not set up"
	assert_exit 1 actl mfa confirm bob 000000
	assert_exit 0 actl mfa confirm bob "$(code_at $T0)"
	# the confirming code is spent
	assert_exit 7 pamrun sshd bob -a "$(code_at $T0)" auth
	ISMS_TEST_NOW=$((T0 + 30)) assert_exit 0 pamrun sshd bob -a "$(code_at $((T0 + 30)))" auth
}

test_enrollment_grace_allows_then_denies() {
	new_root
	isms_service sshd
	conf_set mfa enroll_grace 7d
	registry_account carol 1003 human $T0
	assert_exit 0 pamrun sshd carol auth
	assert_contains "$OUT" "info: Multi-factor authentication is not set up for carol"
	assert_not_contains "$OUT" "prompt"
	assert_eq "$(sql state "SELECT result || ' ' || reason FROM audit_events WHERE event = 'mfa'")" "allow enroll_grace"
	ISMS_TEST_NOW=$((T0 + 7 * 86400)) assert_exit 7 pamrun sshd carol auth
	assert_contains "$OUT" "error: Multi-factor authentication is required for carol but not set up"
	assert_eq "$(sql state "SELECT reason FROM audit_events WHERE event = 'mfa' ORDER BY seq DESC LIMIT 1")" "not_enrolled"
}

test_no_grace_by_default() {
	new_root
	isms_service sshd
	registry_account carol 1003 human $T0
	assert_exit 7 pamrun sshd carol auth
}

test_service_account_is_not_prompted() {
	new_root
	pam_service svc "auth required $MODULE conf=$CONF" "auth required pam_permit.so"
	registry_account backup 2001 service
	assert_exit 0 pamrun svc backup auth
	assert_not_contains "$OUT" "prompt"
	assert_eq "$(sql state "SELECT reason FROM audit_events WHERE event = 'mfa'")" "service_account"
	# alone in the stack, PAM_IGNORE lets nobody in
	isms_service sshd
	assert_exit 6 pamrun sshd backup auth   # PAM_PERM_DENIED: no module decided
}

test_unknown_account_is_denied_without_prompt() {
	setup
	add_user mallory 1666
	assert_exit 10 pamrun sshd mallory -a 123456 auth   # PAM_USER_UNKNOWN
	assert_not_contains "$OUT" "prompt"
	assert_eq "$(sql state "SELECT reason FROM audit_events WHERE subject = 'mallory'")" "unknown_account"
}

test_groups_mode_prompts_members_and_privileged_accounts_only() {
	new_root
	isms_service sshd
	conf_set mfa mode groups
	conf_set mfa groups finance
	conf_set general privileged_groups sudo
	registry_account dave 1004
	registry_account erin 1005
	registry_account frank 1006
	add_group_member finance 3000 erin
	add_group_member sudo 27 frank
	assert_exit 0 pamrun sshd dave auth
	assert_not_contains "$OUT" "prompt"
	assert_exit 7 pamrun sshd erin auth
	assert_contains "$OUT" "not set up"
	assert_exit 7 pamrun sshd frank auth
	assert_eq "$(sql state "SELECT details FROM audit_events WHERE subject = 'dave'")" 'why="not in any MFA group"'
	assert_exit 0 actl --json mfa status frank
	assert_eq "$(echo "$OUT" | jq -r .required_why)" "privileged (group sudo)"
}

test_missing_host_key_denies_with_reason() {
	setup
	rm -f "$ROOT/etc/isms/host.key"
	assert_exit 9 pamrun sshd alice -a "$(code_at $T0)" auth
	assert_file_contains "$SYSLOG" "MFA unavailable"
	assert_file_contains "$SYSLOG" "reason=store_error"
}

test_break_glass_account_gets_in_when_the_store_is_unusable_with_an_alert() {
	setup
	registry_account bg 1999 breakglass
	conf_set general breakglass_accounts bg
	rm -f "$ROOT"/var/lib/isms/registry.db*
	assert_exit 9 pamrun sshd alice -a "$(code_at $T0)" auth
	assert_exit 0 pamrun sshd bg auth
	assert_not_contains "$OUT" "prompt"
	assert_file_contains "$SYSLOG" "1|isms: event=breakglass_used user=bg result=allow reason=store_unavailable"   # LOG_ALERT
}

test_state_write_failure_denies() {
	setup
	# a store that refuses writes (full disk, read-only mount) must not let a code through
	sqlite3 "$ROOT/var/lib/isms/state.db" \
		"CREATE TRIGGER full BEFORE INSERT ON mfa_state BEGIN SELECT RAISE(ABORT, 'disk full'); END;
		 CREATE TRIGGER full2 BEFORE UPDATE ON mfa_state BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
	assert_exit 9 pamrun sshd alice -a "$(code_at $T0)" auth   # PAM_AUTHINFO_UNAVAIL
	assert_file_contains "$SYSLOG" "MFA state not writable"
	assert_file_contains "$SYSLOG" "reason=state_unavailable"
}

test_secret_sealed_for_another_account_is_refused() {
	setup
	registry_account bob 1002
	enroll bob
	# swap alice's sealed secret for bob's: the AD (account name) no longer matches
	sqlite3 "$ROOT/var/lib/isms/registry.db" "UPDATE mfa_tokens SET secret = (SELECT t.secret FROM mfa_tokens t
		JOIN accounts a ON a.id = t.account_id WHERE a.name = 'bob')
		WHERE account_id = (SELECT id FROM accounts WHERE name = 'alice')"
	assert_exit 9 pamrun sshd alice -a "$(code_at $T0)" auth
	assert_file_contains "$SYSLOG" "secret does not open"
}

test_no_code_or_secret_in_syslog_or_audit() {
	setup
	local good rec
	good=$(code_at $T0)
	rec=$(echo "$RECOVERY" | head -1)
	pamrun sshd alice -a 913370 auth >/dev/null || true
	pamrun sshd alice -a "$good" auth >/dev/null
	pamrun sshd alice -a "$good" auth >/dev/null || true
	pamrun sshd alice -a "$rec" auth >/dev/null
	sql state "SELECT * FROM audit_events" > "$T_TMP/audit.txt"
	for s in "$good" 913370 "$rec" "${rec/-/}" "$SECRET"; do
		assert_file_not_contains "$SYSLOG" "$s"
		assert_file_not_contains "$T_TMP/audit.txt" "$s"
	done
	assert_file_contains "$SYSLOG" "reason=recovery_code"
}

test_qr_code_decodes_to_the_uri() {
	new_root
	registry_account alice 1001
	actl mfa enroll alice --qr-pgm "$ROOT/qr.pgm" </dev/null > "$T_TMP/enroll.txt"
	URI=$(sed -n 's/^  \(otpauth:.*\)$/\1/p' "$T_TMP/enroll.txt")
	assert_contains "$URI" "otpauth://totp/pam_isms:alice?secret="
	assert_contains "$URI" "&issuer=pam_isms&algorithm=SHA1&digits=6&period=30"
	assert_eq "$(zbarimg -q --raw "$ROOT/qr.pgm" 2>/dev/null)" "$URI"
	# the terminal drawing is there too (half blocks)
	assert_file_contains "$T_TMP/enroll.txt" "▀"
	assert_eq "$(stat -c %a "$ROOT/qr.pgm")" 600
}

test_imported_google_authenticator_secret_logs_in() {
	new_root
	isms_service sshd
	registry_account gina 1007
	SECRET=JBSWY3DPEHPK3PXPJBSWY3DP
	printf '%s\n" RATE_LIMIT 3 30 1799999000\n" WINDOW_SIZE 17\n" DISALLOW_REUSE %s\n" TOTP_AUTH\n11223344\n55667788\n' \
		"$SECRET" $((T0 / 30 - 2)) > "$T_TMP/ga"
	assert_exit 0 actl mfa import --google-authenticator "$T_TMP/ga" --user gina
	assert_contains "$OUT" "imported 1 token"
	assert_contains "$OUT" "2 scratch codes were not carried over"
	assert_exit 0 pamrun sshd gina -a "$(code_at $T0)" auth
	# the step google-authenticator had already used stays spent
	ISMS_TEST_NOW=$((T0 - 60)) assert_exit 7 pamrun sshd gina -a "$(code_at $((T0 - 60)))" auth
	assert_eq "$(sql registry "SELECT imported_from || ' ' || status FROM mfa_tokens")" "google-authenticator active"
}

test_imported_pam_oath_secrets_log_in() {
	new_root
	isms_service sshd
	registry_account hana 1008
	registry_account ivan 1009
	cat > "$T_TMP/users.oath" <<-EOF
	# migrated from pam_oath
	HOTP/T30 hana - 3132333435363738393031323334353637383930
	HOTP/T30/8 ivan - 00112233445566778899aabbccddeeff00112233
	EOF
	assert_exit 0 actl mfa import --pam-oath "$T_TMP/users.oath"
	assert_contains "$OUT" "imported 2 tokens"
	assert_exit 0 pamrun sshd hana -a "$(oathtool --totp -N @$T0 3132333435363738393031323334353637383930)" auth
	assert_exit 0 pamrun sshd ivan -a "$(oathtool --totp -d 8 -N @$T0 00112233445566778899aabbccddeeff00112233)" auth
}

test_import_with_an_unsupported_line_imports_nothing() {
	new_root
	registry_account hana 1008
	registry_account ivan 1009
	printf 'HOTP/T30 hana - 3132333435363738393031323334353637383930\nHOTP ivan - 3132333435363738393031323334353637383930\n' > "$T_TMP/users.oath"
	assert_exit 1 actl mfa import --pam-oath "$T_TMP/users.oath"
	assert_contains "$OUT" "$T_TMP/users.oath:2: counter-based HOTP tokens are not supported"
	assert_contains "$OUT" "nothing imported"
	assert_eq "$(sql registry "SELECT count(*) FROM mfa_tokens")" 0
	# an account missing from the registry is named with its line too
	printf 'HOTP/T30 hana - 3132333435363738393031323334353637383930\nHOTP/T30 zoe - 3132333435363738393031323334353637383930\n' > "$T_TMP/users.oath"
	assert_exit 1 actl mfa import --pam-oath "$T_TMP/users.oath"
	assert_contains "$OUT" "users.oath:2: account 'zoe' is not in the registry"
	assert_eq "$(sql registry "SELECT count(*) FROM mfa_tokens")" 0
	printf 'JBSWY3DPEHPK3PXP\n" HOTP_COUNTER 1\n' > "$T_TMP/ga"
	assert_exit 1 actl mfa import --google-authenticator "$T_TMP/ga" --user hana
	assert_contains "$OUT" "ga:2: counter-based HOTP"
}

# A password module after pam_isms, as in sudo: pam_userdb is a real Linux-PAM
# module checking a real Berkeley DB file (written by Debian's python3, whose dbm
# is Berkeley DB), so it stands for pam_unix without needing a shadow file.
userdb() {
	/usr/bin/python3 -c "import dbm.ndbm, sys; d = dbm.ndbm.open(sys.argv[1], 'n'); d[sys.argv[2]] = sys.argv[3]; d.close()" \
		"$ROOT/etc/userdb" "$1" "$2"
}

test_forward_pass_hands_the_password_to_the_next_module() {
	setup
	userdb alice 'correct horse'
	pam_service sudo "auth required $MODULE conf=$CONF forward_pass" \
		"auth required pam_userdb.so db=$ROOT/etc/userdb use_first_pass"
	assert_exit 0 pamrun sudo alice -a "correct horse$(code_at $T0)" auth
	assert_contains "$OUT" "prompt-noecho: Password & verification code: "
	assert_eq "$(echo "$OUT" | grep -c prompt)" 1
	# right code, wrong password: the password module refuses
	ISMS_TEST_NOW=$((T0 + 30)) assert_exit 7 pamrun sudo alice -a "wrong horse$(code_at $((T0 + 30)))" auth
	# right password, wrong code: pam_isms refuses
	ISMS_TEST_NOW=$((T0 + 60)) assert_exit 7 pamrun sudo alice -a "correct horse000000" auth
	assert_eq "$(sql state "SELECT reason FROM audit_events WHERE event = 'mfa' ORDER BY seq DESC LIMIT 1")" "wrong_code"
}

test_try_first_pass_after_a_password_module_prompts_for_the_code() {
	setup
	userdb alice 'pw'
	pam_service su "auth required pam_userdb.so db=$ROOT/etc/userdb" \
		"auth required $MODULE conf=$CONF try_first_pass"
	assert_exit 0 pamrun su alice -a pw -a "$(code_at $T0)" auth
	assert_contains "$OUT" "prompt-noecho: Verification code: "
}

test_use_first_pass_takes_the_code_from_the_password_and_never_prompts() {
	setup
	userdb alice "pw$(code_at $T0)"
	pam_service su "auth required pam_userdb.so db=$ROOT/etc/userdb" \
		"auth required $MODULE conf=$CONF use_first_pass"
	assert_exit 0 pamrun su alice -a "pw$(code_at $T0)" auth
	assert_eq "$(echo "$OUT" | grep -c prompt)" 1
	# nothing usable from the previous module: denied, not prompted
	userdb alice "plainpw"
	ISMS_TEST_NOW=$((T0 + 30)) assert_exit 7 pamrun su alice -a plainpw auth
	assert_eq "$(echo "$OUT" | grep -c prompt)" 1
}

test_status_reports_enrollment_use_failures_lock_and_recovery_left() {
	setup
	conf_set mfa max_failures 2
	assert_exit 0 pamrun sshd alice -a "$(echo "$RECOVERY" | head -1)" auth
	assert_exit 7 pamrun sshd alice -a 000000 auth
	assert_exit 0 actl --json mfa status alice
	assert_eq "$(echo "$OUT" | jq -r '[.status, .enrolled_since, .last_used, .failures, .locked_until, .recovery_codes_left] | join(" ")')" \
		"active $((T0 - 30)) $T0 1  9"
	assert_exit 7 pamrun sshd alice -a 000000 auth
	assert_exit 0 actl --json mfa status
	assert_eq "$(echo "$OUT" | jq -r '.[] | select(.user == "alice") | .locked_until')" $((T0 + 900))
	assert_exit 0 actl mfa status
	assert_contains "$OUT" "alice            active"
}

# enroll on a terminal: accessctl prompts for the first code and activates the token.
test_enroll_on_a_terminal_prompts_for_the_first_code() {
	new_root
	isms_service sshd
	registry_account alice 1001
	LD_PRELOAD="$NSS_WRAPPER_LIB" NSS_WRAPPER_PASSWD=$ROOT/etc/passwd NSS_WRAPPER_GROUP=$ROOT/etc/group \
	python3 - "$ACCESSCTL_BIN" "$ROOT" > "$T_TMP/tty.out" <<-'PY'
	import os, pty, re, subprocess, sys
	pid, fd = pty.fork()
	if pid == 0:
	    os.execv(sys.argv[1], [sys.argv[1], "--root", sys.argv[2], "mfa", "enroll", "alice"])
	out = b""
	while b"Enter a code" not in out:
	    out += os.read(fd, 65536)
	secret = re.search(rb"secret=([A-Z2-7]+)", out).group(1).decode()
	now = os.environ["ISMS_TEST_NOW"]
	code = subprocess.check_output(["oathtool", "--totp", "-b", secret, "-N", "@" + now]).strip()
	os.write(fd, code + b"\n")
	while True:
	    try:
	        chunk = os.read(fd, 65536)
	    except OSError:
	        break
	    if not chunk:
	        break
	    out += chunk
	os.waitpid(pid, 0)
	sys.stdout.write(out.decode("utf-8", "replace"))
	PY
	assert_file_contains "$T_TMP/tty.out" "confirmed and active"
	assert_eq "$(sql registry "SELECT status FROM mfa_tokens")" active
}

test_reset_removes_the_token_and_its_state() {
	setup
	assert_exit 0 actl mfa reset alice
	assert_eq "$(sql registry "SELECT count(*) FROM mfa_tokens")" 0
	assert_eq "$(sql state "SELECT count(*) FROM recovery_codes")" 0
	assert_exit 7 pamrun sshd alice -a "$(code_at $T0)" auth
	assert_exit 0 actl mfa enroll alice </dev/null
}

test_enroll_refuses_a_second_active_token_and_unknown_accounts() {
	setup
	assert_exit 1 actl mfa enroll alice
	assert_contains "$OUT" "already has an active token"
	assert_exit 1 actl mfa enroll nobody
	assert_contains "$OUT" "not in the registry"
	assert_exit 2 actl mfa enroll alice --digits 7
	registry_account olga 1010
	sql registry "UPDATE accounts SET status = 'revoked' WHERE name = 'olga'"
	assert_exit 1 actl mfa enroll olga
	assert_contains "$OUT" "'olga' is revoked"
	registry_account svc 2002 service
	assert_exit 1 actl mfa enroll svc
	assert_contains "$OUT" "service accounts are never prompted"
}

# The host key is kept between logins of one process (pam_isms/cache.c); a key
# replaced or opened up between two of them is seen by the second.
test_a_host_key_replaced_between_two_logins_of_one_process_is_read_again() {
	setup
	local key=$ROOT/etc/isms/host.key
	OUT=$(pamrun sshd alice -v -n 2 -a "$(code_at $T0)" \
		-x "head -c 32 /dev/urandom > $key.new && chmod 600 $key.new && mv $key.new $key" auth || true)
	assert_contains "$OUT" "#0 auth: PAM_SUCCESS"
	assert_contains "$OUT" "#1 auth: PAM_AUTHINFO_UNAVAIL"
	assert_file_contains "$SYSLOG" "secret does not open with this host key"
}

test_a_host_key_made_group_readable_between_two_logins_of_one_process_is_refused() {
	setup
	OUT=$(pamrun sshd alice -v -n 2 -a "$(code_at $T0)" -x "chmod 640 $ROOT/etc/isms/host.key" auth || true)
	assert_contains "$OUT" "#0 auth: PAM_SUCCESS"
	assert_contains "$OUT" "#1 auth: PAM_AUTHINFO_UNAVAIL"
	assert_file_contains "$SYSLOG" "is accessible by group or other"
}

# A child made by the clone system call runs no fork handlers: it inherits the
# kept key's page zeroed (MADV_WIPEONFORK) and must read the key afresh. The
# same code again is then a replay: the secret opened, with the right key.
test_a_child_forked_without_fork_handlers_reads_the_host_key_afresh() {
	setup
	OUT=$(pamrun sshd alice -v -n 2 -R -a "$(code_at $T0)" auth || true)
	assert_contains "$OUT" "#0 auth: PAM_SUCCESS"
	assert_contains "$OUT" "#1 auth: PAM_AUTH_ERR"
	assert_eq "$(sql state "SELECT reason FROM audit_events WHERE event = 'mfa' ORDER BY seq DESC LIMIT 1")" replayed_code
}

run_tests
