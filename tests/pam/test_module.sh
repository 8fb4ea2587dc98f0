#!/bin/bash
# The built pam_isms.so in a real PAM stack (pam_start_confdir): loading,
# argument handling, exported symbols, fail-closed store handling.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"

test_module_exports_only_pam_sm_symbols() {
	local syms
	syms=$(nm -D --defined-only "$BUILD/pam_isms.so" | awk '{print $3}' | sort)
	[ -n "$syms" ] || fail "no symbols"
	for s in $syms; do
		case $s in pam_sm_*) ;; *) fail "exported symbol $s";; esac
	done
	assert_contains "$syms" pam_sm_acct_mgmt
	assert_contains "$syms" pam_sm_authenticate
	assert_contains "$syms" pam_sm_open_session
}

test_unknown_argument_is_refused_and_logged() {
	new_root
	pam_service t "account required $MODULE conf=$CONF nosuchflag" "account required pam_permit.so"
	assert_exit 3 pamrun t alice acct   # PAM_SERVICE_ERR
	assert_contains "$OUT" "acct: PAM_SERVICE_ERR"
	assert_file_contains "$SYSLOG" "unknown or malformed argument 'nosuchflag'"
}

test_missing_store_denies_with_reason() {
	new_root
	rm -f "$ROOT"/var/lib/isms/registry.db*
	pam_service t "account required $MODULE conf=$CONF" "account required pam_permit.so"
	assert_exit 9 pamrun t alice acct   # PAM_AUTHINFO_UNAVAIL
	assert_contains "$OUT" "acct: PAM_AUTHINFO_UNAVAIL"
	assert_file_contains "$SYSLOG" "registry.db: No such file"
	assert_file_contains "$SYSLOG" "reason=store_unavailable"
}

test_group_writable_store_is_refused() {
	new_root
	chmod g+w "$ROOT/var/lib/isms/registry.db"
	pam_service t "account required $MODULE conf=$CONF" "account required pam_permit.so"
	OUT=$(pamrun t alice acct) || true
	assert_contains "$OUT" "acct: PAM_AUTHINFO_UNAVAIL"
	assert_file_contains "$SYSLOG" "writable by group or other"
}

test_bad_config_denies_naming_file_and_line() {
	new_root
	printf '[general]\nstale_dayz = 3\n' > "$CONF"
	pam_service t "account required $MODULE conf=$CONF" "account required pam_permit.so"
	OUT=$(pamrun t alice acct) || true
	assert_contains "$OUT" "acct: PAM_AUTHINFO_UNAVAIL"
	assert_file_contains "$SYSLOG" "$CONF:2: unknown key 'stale_dayz' in [general]"
}

run_tests
