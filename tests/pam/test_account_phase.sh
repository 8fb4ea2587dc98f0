#!/bin/bash
# The account phase through the real PAM stack (pam_start_confdir, built module,
# nss_wrapper): one test per deny reason, the allow path, SSH-key logins (acct
# without auth), break-glass; each with its audit row and syslog line, and
# `accessctl check` agreeing with the module on every case.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"

CONTACT="it-help@example.com"

# A root with the module on sshd (interactive) and cron/atd (not), one owned account.
setup() {
	new_root
	conf_set general contact "$CONTACT"
	isms_service sshd
	isms_service cron
	isms_service atd
	add_user alice 1001
	actl person add E100 --name "Alice Example" --email alice@example.com >/dev/null
	actl account add alice --owner E100 >/dev/null
}

# expect_acct SERVICE USER PAM_CODE REASON [EVENT [RESULT]]: one acct-only transaction
# (as sshd runs it for a key login); checks the PAM code, exactly one new audit row
# with event/result/reason, the syslog line, and that `accessctl check` agrees.
expect_acct() {
	local svc=$1 user=$2 code=$3 reason=$4 event=${5:-account} result before after row chk
	result=${6:-$([ "$code" = PAM_SUCCESS ] && echo allow || echo deny)}
	before=$(sql state "SELECT COUNT(*) FROM audit_events" 2>/dev/null || echo 0)
	OUT=$(pamrun "$svc" "$user" acct) || true
	assert_contains "$OUT" "acct: $code"
	if [ -e "$ROOT/var/lib/isms/registry.db" ]; then
		after=$(sql state "SELECT COUNT(*) FROM audit_events")
		assert_eq "$after" "$((before + 1))" "exactly one audit event"
		row=$(sql state "SELECT event||'|'||actor||'|'||subject||'|'||result||'|'||reason FROM audit_events ORDER BY seq DESC LIMIT 1")
		assert_eq "$row" "$event|$svc|$user|$result|$reason"
	fi
	assert_file_contains "$SYSLOG" "isms: event=$event user=$user result=$result reason=$reason actor=$svc"
	chk=$(actl check "$user" --service "$svc" --json) || true
	assert_contains "$chk" "\"pam\":\"$code\""
	assert_contains "$chk" "\"reason\":\"$reason\""
}

test_owned_active_account_is_allowed() {
	setup
	expect_acct sshd alice PAM_SUCCESS ok
	assert_not_contains "$OUT" "error:"
}

test_ssh_key_login_runs_account_phase_without_auth() {
	setup
	# no auth phase, no prompt: the account phase alone decides
	OUT=$(pamrun sshd alice acct)
	assert_not_contains "$OUT" "prompt"
	assert_contains "$OUT" "acct: PAM_SUCCESS"
	actl account lock alice --reason "laptop stolen" >/dev/null
	expect_acct sshd alice PAM_PERM_DENIED account_locked
	assert_not_contains "$OUT" "prompt"
}

test_privileged_allow_is_noted_for_the_session() {
	setup
	add_group_member sudo 27 alice
	expect_acct sshd alice PAM_SUCCESS ok
	assert_file_contains "$SYSLOG" 'privileged="group sudo"'
	assert_eq "$(sql state "SELECT details LIKE '%privileged=\"group sudo\"%' FROM audit_events ORDER BY seq DESC LIMIT 1")" 1
}

test_unknown_account_is_refused() {
	setup
	add_user bob 1002
	expect_acct sshd bob PAM_USER_UNKNOWN unknown_account
	assert_contains "$OUT" "error: Login refused: this account is not registered. Contact $CONTACT."
}

test_locked_account_is_refused_and_told_whom_to_contact() {
	setup
	actl account lock alice --reason "laptop stolen" >/dev/null
	expect_acct sshd alice PAM_PERM_DENIED account_locked
	assert_contains "$OUT" "error: Your account is locked. Contact $CONTACT."
	assert_file_contains "$SYSLOG" 'status_reason="laptop stolen"'
}

test_revoked_account_is_refused() {
	setup
	sql registry "UPDATE accounts SET status='revoked' WHERE name='alice'"
	expect_acct sshd alice PAM_ACCT_EXPIRED account_revoked
	assert_contains "$OUT" "error: Your access to this host has been revoked. Contact $CONTACT."
}

test_held_account_is_refused() {
	setup
	sql registry "UPDATE accounts SET status='held', status_reason='review 2026-Q4' WHERE name='alice'"
	expect_acct sshd alice PAM_PERM_DENIED account_held
	assert_contains "$OUT" "on hold pending review. Contact $CONTACT."
}

test_departed_account_is_refused() {
	setup
	sql registry "UPDATE accounts SET status='departed' WHERE name='alice'"
	expect_acct sshd alice PAM_ACCT_EXPIRED account_departed
}

test_account_of_departed_owner_is_refused() {
	setup
	sql registry "UPDATE people SET status='departed' WHERE employee_no='E100'"
	expect_acct sshd alice PAM_ACCT_EXPIRED account_departed
}

test_account_of_owner_on_leave_is_refused() {
	setup
	sql registry "UPDATE people SET status='leave' WHERE employee_no='E100'"
	expect_acct sshd alice PAM_PERM_DENIED owner_inactive
}

test_shared_kind_account_is_refused_interactively() {
	setup
	add_user ops 1500
	actl account add ops --kind shared >/dev/null
	expect_acct sshd ops PAM_PERM_DENIED shared_account
	assert_contains "$OUT" "shared accounts cannot log in"
}

test_shared_name_is_refused_even_when_owned() {
	setup
	add_user admin 1501
	actl account add admin --owner E100 >/dev/null
	expect_acct sshd admin PAM_PERM_DENIED shared_account
}

test_unowned_human_account_is_refused() {
	setup
	add_user carol 1002
	actl inventory >/dev/null || true   # records carol as an unowned human account
	expect_acct sshd carol PAM_PERM_DENIED unowned_account
}

test_duplicate_uid_in_nss_is_refused_for_the_first_holder_too() {
	setup
	add_user frank 1005
	add_user frank2 1005
	actl person add E105 --name "Frank" --email f@example.com >/dev/null
	actl account add frank --owner E105 >/dev/null
	# frank2 is not in the registry; getpwuid finds frank first, frank2 only the passwd scan
	expect_acct sshd frank PAM_PERM_DENIED duplicate_uid
	assert_file_contains "$SYSLOG" "other=frank2 where=nss"
}

test_duplicate_uid_between_local_and_registry_account_refuses_both() {
	setup
	add_user erin 1004
	actl person add E104 --name "Erin" --email e@example.com >/dev/null
	actl account add erin --owner E104 >/dev/null
	# a directory account holding the same uid, known only to the registry
	sql registry "INSERT INTO accounts (name, uid, gid, person_id, kind, source, created_at, updated_at)
		SELECT 'erin.ldap', 1004, 1004, id, 'human', 'ldap', 0, 0 FROM people WHERE employee_no='E104'"
	expect_acct sshd erin PAM_PERM_DENIED duplicate_uid
	assert_file_contains "$SYSLOG" "other=erin.ldap where=registry"
	expect_acct sshd erin.ldap PAM_PERM_DENIED duplicate_uid
	assert_file_contains "$SYSLOG" "other=erin where=registry"
	assert_contains "$OUT" "user id is not unique"
}

test_registry_uid_differing_from_nss_is_refused() {
	setup
	sql registry "UPDATE accounts SET uid=1999 WHERE name='alice'"
	expect_acct sshd alice PAM_PERM_DENIED uid_mismatch
	assert_file_contains "$SYSLOG" "uid=1001 registry_uid=1999"
}

test_uid_zero_for_another_name_is_refused() {
	setup
	add_user toor 0
	actl account add toor --owner E100 >/dev/null
	expect_acct sshd toor PAM_PERM_DENIED uid0_not_root
}

test_direct_root_login_is_refused_unless_service_allows_it() {
	setup
	isms_service login
	actl inventory >/dev/null || true    # records root (kind service)
	expect_acct sshd root PAM_PERM_DENIED direct_root_login
	assert_contains "$OUT" "use sudo"
	expect_acct login root PAM_PERM_DENIED direct_root_login
	conf_set general allow_root_services login
	expect_acct login root PAM_SUCCESS ok
	expect_acct sshd root PAM_PERM_DENIED direct_root_login
}

test_stale_account_is_refused_when_deny_stale() {
	setup
	local now
	now=$(date +%s)
	conf_set general deny_stale yes
	conf_set general stale_days 90
	export ISMS_TEST_NOW=$((now + 91 * 86400))
	expect_acct sshd alice PAM_PERM_DENIED stale_account
	assert_file_contains "$SYSLOG" "created="
	# a login recorded by the session phase 10 days ago keeps it fresh
	sql state "INSERT INTO logins (account, last_login_at, service) VALUES ('alice', $((now + 81 * 86400)), 'sshd')"
	expect_acct sshd alice PAM_SUCCESS ok
	# ...until that login is itself 91 days old
	export ISMS_TEST_NOW=$((now + 172 * 86400))
	expect_acct sshd alice PAM_PERM_DENIED stale_account
	assert_file_contains "$SYSLOG" "last_login="
}

test_stale_account_is_allowed_when_deny_stale_is_off() {
	setup
	export ISMS_TEST_NOW=$(( $(date +%s) + 400 * 86400 ))
	expect_acct sshd alice PAM_SUCCESS ok
}

test_service_account_only_on_its_own_noninteractive_services() {
	setup
	add_user backup 900 900 /usr/sbin/nologin
	actl account add backup --kind service --services cron >/dev/null
	expect_acct sshd backup PAM_PERM_DENIED service_account_interactive
	expect_acct cron backup PAM_SUCCESS ok
	expect_acct atd backup PAM_PERM_DENIED service_not_allowed
}

test_breakglass_account_is_allowed_with_an_alert() {
	setup
	add_user rescue 999
	actl account add rescue --kind breakglass >/dev/null
	conf_set general breakglass_accounts rescue
	expect_acct sshd rescue PAM_SUCCESS breakglass_used breakglass_used allow
	assert_contains "$OUT" "info: Break-glass login"
	assert_file_contains "$SYSLOG" "1|isms: event=breakglass_used user=rescue result=allow"
}

test_breakglass_kind_not_in_config_is_refused() {
	setup
	add_user rescue 999
	actl account add rescue --kind breakglass >/dev/null
	expect_acct sshd rescue PAM_PERM_DENIED breakglass_unlisted
}

test_breakglass_gets_through_when_the_store_is_deleted() {
	setup
	add_user rescue 999
	conf_set general breakglass_accounts rescue
	rm -f "$ROOT"/var/lib/isms/registry.db*
	expect_acct sshd rescue PAM_SUCCESS breakglass_used breakglass_used allow
	# LOG_ALERT (1): the alert, and the audit line (syslog only: state.db is not opened)
	assert_file_contains "$SYSLOG" "1|isms: event=breakglass_used user=rescue result=allow reason=breakglass_used actor=sshd"
	assert_file_contains "$SYSLOG" "1|pam_isms(sshd:account): break-glass login to rescue"
	assert_file_contains "$SYSLOG" "store=unavailable"
}

test_ordinary_account_is_refused_when_the_store_is_deleted() {
	setup
	conf_set general breakglass_accounts rescue
	rm -f "$ROOT"/var/lib/isms/registry.db*
	expect_acct sshd alice PAM_AUTHINFO_UNAVAIL store_unavailable
	assert_contains "$OUT" "error: Login refused: the access registry is unavailable. Contact $CONTACT."
	assert_file_contains "$SYSLOG" "registry.db: No such file"
}

test_corrupt_store_denies_without_crashing() {
	setup
	printf 'this is not a database' > "$ROOT/var/lib/isms/registry.db"
	rm -f "$ROOT"/var/lib/isms/registry.db-*
	OUT=$(pamrun sshd alice acct) || true
	assert_contains "$OUT" "acct: PAM_AUTHINFO_UNAVAIL"
	assert_file_contains "$SYSLOG" "reason=store_unavailable"
}

test_check_agrees_with_the_module_on_every_case() {
	setup
	local now=$(date +%s) mod chk
	isms_service login
	add_user bob 1002
	add_user ops 1500; actl account add ops --kind shared >/dev/null
	add_user carol 1003
	add_user toor 0; actl account add toor --owner E100 >/dev/null
	add_user backup 900 900 /usr/sbin/nologin; actl account add backup --kind service --services cron >/dev/null
	add_user rescue 999; actl account add rescue --kind breakglass >/dev/null
	add_user dave 1006; actl person add E106 --name Dave --email d@example.com >/dev/null
	actl account add dave --owner E106 >/dev/null
	actl account lock dave --reason test >/dev/null
	actl inventory >/dev/null || true
	conf_set general breakglass_accounts rescue
	for c in "sshd alice" "sshd bob" "sshd ops" "cron ops" "sshd carol" "sshd toor" "sshd root" \
		 "login root" "sshd backup" "cron backup" "atd backup" "sshd rescue" "sshd dave" "sshd nobody"; do
		set -- $c
		mod=$(pamrun "$1" "$2" acct | sed -n 's/^acct: //p')
		chk=$(actl check "$2" --service "$1" | head -1)
		assert_contains "$chk" "($mod)" "$c"
		assert_contains "$chk" "reason=$(sql state "SELECT reason FROM audit_events WHERE subject='$2' ORDER BY seq DESC LIMIT 1")" "$c"
	done
	# and check wrote no event of its own
	assert_eq "$(sql state "SELECT COUNT(*) FROM audit_events WHERE actor NOT IN ('sshd','cron','atd','login') AND event IN ('account','breakglass_used')")" 0
}

test_check_exit_status_and_usage() {
	setup
	assert_exit 0 actl check alice
	assert_contains "$OUT" "alice on sshd: allow (PAM_SUCCESS) reason=ok"
	actl account lock alice --reason x >/dev/null
	assert_exit 1 actl check alice --service sshd
	assert_contains "$OUT" "user is told: Your account is locked. Contact $CONTACT."
	assert_exit 2 actl check
	assert_exit 2 actl check alice bob
}

run_tests
