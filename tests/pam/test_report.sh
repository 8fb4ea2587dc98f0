#!/bin/bash
# accessctl report: a clean registry passes every control; one failing case per
# control is detected and makes the report exit 1; the HTML is self-contained.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"

NOW=1795000000
export ISMS_TEST_NOW=$NOW

# A small company that satisfies every control.
clean_root() {
	new_root
	add_user ann 2001
	add_user bob 2002
	add_group_member sudo 27 bob
	local rec
	rec=$(grep -E '^#?recorder' "$CONF" | head -1 | sed 's/^#*recorder = //')
	sql registry "
	  INSERT INTO people (employee_no, name, status, created_at, updated_at) VALUES
	    ('E1','Ann','active',$NOW,$NOW), ('E2','Bob','active',$NOW,$NOW);
	  INSERT INTO accounts (name, uid, gid, person_id, kind, shell, created_at, updated_at) VALUES
	    ('ann', 2001, 2001, 1, 'human', '/bin/bash', $NOW - 86400, $NOW),
	    ('bob', 2002, 2002, 2, 'human', '$rec', $NOW - 86400, $NOW);
	  INSERT INTO mfa_tokens (account_id, secret, status, created_at, confirmed_at) VALUES
	    (1, x'00', 'active', $NOW, $NOW), (2, x'00', 'active', $NOW, $NOW);
	  INSERT INTO review_campaigns (name, kind, scope, as_of, snapshot_sha256, due_at, created_at)
	    VALUES ('2026-Q4', 'quarterly', 'privileged', $NOW - 86400, 'x', $NOW + 86400, $NOW - 86400);"
	sql state "INSERT INTO logins (account, last_login_at) VALUES ('ann', $NOW - 3600), ('bob', $NOW - 3600);"
	actl backup "$ROOT/b.bak" >/dev/null
	actl backup --test "$ROOT/b.bak" >/dev/null
}

state_of() { actl --json report | python3 -c "import sys, json; r = json.load(sys.stdin); print([c['state'] for c in r['controls'] if c['id'] == '$1'][0])"; }
accounts_of() { actl --json report | python3 -c "import sys, json; r = json.load(sys.stdin); print(' '.join([c['accounts'] for c in r['controls'] if c['id'] == '$1'][0]))"; }

expect_failing() {
	assert_eq "$(state_of "$1")" fail "control $1"
	assert_exit 1 actl report
	assert_contains "$OUT" "FAIL"
}

test_clean_registry_passes_every_control() {
	clean_root
	assert_exit 0 actl report
	assert_contains "$OUT" "0 control(s) failing"
	assert_not_contains "$OUT" "FAIL "
}

test_unenrolled_account_fails_mfa_coverage() {
	clean_root
	sql registry "DELETE FROM mfa_tokens WHERE account_id = 1"
	expect_failing mfa_coverage
	assert_eq "$(accounts_of mfa_coverage)" ann
}

test_account_without_owner_fails() {
	clean_root
	sql registry "UPDATE people SET status = 'departed' WHERE employee_no = 'E1'"
	expect_failing owned_accounts
	assert_eq "$(accounts_of owned_accounts)" ann
}

test_shared_account_fails() {
	clean_root
	sql registry "INSERT INTO accounts (name, uid, kind, created_at, updated_at) VALUES ('support', 3000, 'shared', $NOW, $NOW)"
	sql state "INSERT INTO logins (account, last_login_at) VALUES ('support', $NOW)"
	expect_failing shared_accounts
	assert_contains "$(accounts_of shared_accounts)" support
}

test_duplicate_uid_fails() {
	clean_root
	sql registry "INSERT INTO accounts (name, uid, person_id, created_at, updated_at) VALUES ('ann2', 2001, 1, $NOW, $NOW)"
	expect_failing unique_uids
	assert_contains "$(accounts_of unique_uids)" "ann2 (uid 2001)"
}

test_unrecorded_privileged_account_fails() {
	clean_root
	sql registry "UPDATE accounts SET shell = '/bin/bash' WHERE name = 'bob'"
	expect_failing privileged_recorded
	assert_eq "$(accounts_of privileged_recorded)" bob
}

test_stale_account_fails() {
	clean_root
	sql state "UPDATE logins SET last_login_at = $NOW - 200 * 86400 WHERE account = 'ann'"
	expect_failing stale_accounts
	assert_eq "$(accounts_of stale_accounts)" ann
}

test_overdue_review_fails() {
	clean_root
	sql registry "UPDATE review_campaigns SET due_at = $NOW - 60"
	expect_failing reviews
	assert_contains "$(accounts_of reviews)" 2026-Q4
}

test_late_termination_fails() {
	clean_root
	sql registry "INSERT INTO terminations (employee_no, terminated_at, source, revoked_at, created_at)
	  VALUES ('E9', $NOW - 10 * 86400, 'hr-feed', $NOW - 8 * 86400, $NOW)"
	expect_failing terminations
	assert_eq "$(accounts_of terminations)" E9
}

test_broken_audit_chain_fails() {
	clean_root
	sql state "UPDATE audit_events SET result = 'forged' WHERE seq = 1"
	expect_failing audit_chain
}

test_stale_sync_fails_when_a_directory_is_configured() {
	clean_root
	conf_set ldap uri ldaps://ldap.example.com
	expect_failing sync
	sql registry "INSERT INTO sync_runs (source, started_at, finished_at, mode, result) VALUES ('x', $NOW - 60, $NOW - 30, 'full', 'ok')"
	assert_eq "$(state_of sync)" pass
}

test_untested_backup_fails() {
	clean_root
	sql state "DELETE FROM audit_events WHERE event = 'backup_test'"
	expect_failing backup
}

test_locked_token_and_breakglass_are_listed_without_failing() {
	clean_root
	sql state "INSERT INTO mfa_state (account, token_id, locked_until) VALUES ('ann', 1, $NOW + 600)"
	assert_eq "$(state_of locked_tokens)" info
	assert_eq "$(accounts_of locked_tokens)" ann
	assert_exit 0 actl report
}

test_progress_on_a_terminal_only_then_the_report() {
	clean_root
	actl report >/dev/null 2>"$ROOT/err"
	[ ! -s "$ROOT/err" ] || fail "progress drawn off a terminal: $(cat "$ROOT/err")"
	actl_tty report
	assert_contains "$OUT" "accounts         [##############################] 100% (2/2)"
	assert_contains "$OUT" "0 control(s) failing"
	# the bar's line ends before the report begins
	assert_contains "$OUT" "100% (2/2)
"
}

test_html_report_is_self_contained() {
	clean_root
	# a hostile account name must come out as text, not markup
	sql registry "INSERT INTO accounts (name, uid, person_id, created_at, updated_at)
	  VALUES ('<img src=http://x/y>', 4000, 1, $NOW, $NOW)"
	actl report --format html -o "$ROOT/r.html" || true
	python3 - "$ROOT/r.html" <<'PY'
import sys, html.parser
text = open(sys.argv[1]).read()
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.ext = []; self.stack = []
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ('src', 'href') and v and not v.startswith('#'):
                self.ext.append(v)
        if tag in ('script', 'img', 'iframe'): self.ext.append(tag + ' tag')
        if tag == 'link': self.ext.append('link tag')
p = P(); p.feed(text); p.close()
assert not p.ext, p.ext
assert '<svg' in text and '</html>' in text
assert '&lt;img src=http://x/y&gt;' in text
print('ok')
PY
}

run_tests
