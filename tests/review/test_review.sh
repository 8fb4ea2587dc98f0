#!/bin/bash
# Access reviews end to end on a synthetic company: campaign scope, reviewer
# routing, worksheets (CSV, XLSX, HTML), decisions back, apply and verify,
# no-response handling, the signed evidence bundle and the baton export.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"
PY=/usr/bin/python3
NOW=1790000000            # 2026-09-21, pinned for the test build
DAY=86400
export ISMS_TEST_NOW=$NOW

# company: people, accounts, groups and memberships straight into the registry.
company() {
	new_root
	conf_set general system_name web01
	conf_set general privileged_groups "wheel, admins"
	conf_set general critical_systems db-prod
	conf_set general stale_days 90
	conf_set review fallback_reviewer E005
	conf_set review annual_quarter 4
	local t=$((NOW - 400 * DAY))
	sql registry "
	INSERT INTO people(employee_no, name, email, manager_no, department, title, status, created_at, updated_at) VALUES
	 ('E001', 'Ada Chief', 'ada@example.com', NULL, 'Board', 'CEO', 'active', $t, $t),
	 ('E002', 'Bob Manager', 'bob@example.com', 'E001', 'Eng', 'Head of Eng', 'active', $t, $t),
	 ('E003', 'Carol Engineer', 'carol@example.com', 'E002', 'Eng', 'SRE', 'active', $t, $t),
	 ('E004', 'Dan Departed', 'dan@example.com', 'E002', 'Eng', 'SRE', 'departed', $t, $t),
	 ('E005', 'Sam Security', 'sam@example.com', 'E001', 'Security', 'CISO', 'active', $t, $t),
	 ('E006', 'Eve Selfmanaged', 'eve@example.com', 'E006', 'Ops', 'Ops', 'active', $t, $t),
	 ('E007', '=HYPERLINK(\"http://x\",\"y\")', '@evil', 'E002', '+Eng', '-1', 'active', $t, $t),
	 ('E009', 'Gina Orphan', 'gina@example.com', 'E004', 'Eng', 'Dev', 'active', $t, $t);
	INSERT INTO accounts(name, uid, gid, person_id, kind, status, created_at, updated_at)
	 SELECT lower(substr(name, 1, instr(name || ' ', ' ') - 1)), 2000 + CAST(substr(employee_no, 2) AS INT),
	        2000 + CAST(substr(employee_no, 2) AS INT), id, 'human', 'active', $t, $t FROM people WHERE employee_no != 'E007';
	INSERT INTO accounts(name, uid, gid, person_id, kind, status, created_at, updated_at)
	 SELECT 'fred', 2007, 2007, id, 'human', 'active', $t, $t FROM people WHERE employee_no = 'E007';
	INSERT INTO accounts(name, uid, gid, kind, status, created_at, updated_at) VALUES ('svc-backup', 3001, 3001, 'service', 'active', $t, $t);
	INSERT INTO groups(name, gid, system, created_at, updated_at) VALUES
	 ('staff', 100, NULL, $t, $t), ('dev', 101, NULL, $t, $t), ('wheel', 10, NULL, $t, $t),
	 ('admins', 102, NULL, $t, $t), ('oncall', 103, NULL, $t, $t), ('dbadmin', 104, 'db-prod', $t, $t),
	 ('backup', 105, NULL, $t, $t);
	INSERT INTO group_nesting(parent_id, child_id) SELECT p.id, c.id FROM groups p, groups c WHERE p.name = 'admins' AND c.name = 'oncall';
	INSERT INTO memberships(account_id, group_id, attr)
	 SELECT a.id, g.id, 'gr_mem' FROM accounts a, groups g WHERE a.kind = 'human' AND g.name = 'staff';
	INSERT INTO memberships(account_id, group_id, attr) SELECT a.id, g.id, 'gr_mem' FROM accounts a, groups g WHERE
	 (a.name, g.name) IN (VALUES ('bob', 'dev'), ('bob', 'dbadmin'), ('carol', 'dev'), ('carol', 'oncall'),
	  ('dan', 'wheel'), ('fred', 'wheel'), ('sam', 'wheel'), ('svc-backup', 'backup'));
	INSERT INTO memberships(account_id, group_id, via_id, path, attr)
	 SELECT a.id, p.id, c.id, 'oncall > admins', 'member' FROM accounts a, groups p, groups c
	 WHERE a.name = 'carol' AND p.name = 'admins' AND c.name = 'oncall';
	INSERT INTO mfa_tokens(account_id, secret, status, created_at, confirmed_at)
	 SELECT id, x'00', 'active', $t, $((NOW - 30 * DAY)) FROM accounts WHERE name = 'carol';
	INSERT INTO sync_runs(source, started_at, finished_at, mode, result) VALUES ('ldap://dir.example', $((NOW - 3600)), $((NOW - 3500)), 'full', 'ok');
	"
	sql state "INSERT INTO logins(account, last_login_at) VALUES ('carol', $((NOW - DAY))), ('bob', $((NOW - 2 * DAY))),
	 ('eve', $((NOW - 120 * DAY))), ('fred', $((NOW - DAY))), ('sam', $((NOW - DAY))), ('ada', $((NOW - DAY))),
	 ('gina', $((NOW - DAY))), ('svc-backup', $((NOW - DAY)))"
}

# rows CAMPAIGN WHERE: "account|entitlement|..." per row of the campaign.
item() { sql registry "SELECT $2 FROM review_items i JOIN review_campaigns c ON c.id = i.campaign_id WHERE c.name = '$1' AND $3"; }

# decide CSV ACCOUNT ENTITLEMENT DECISION [JUSTIFICATION] [COLUMN=VALUE]: edit a returned worksheet.
decide() {
	$PY - "$@" <<'PY'
import csv, sys
path, account, ent, decision = sys.argv[1:5]
just = sys.argv[5] if len(sys.argv) > 5 else ''
extra = dict(a.split('=', 1) for a in sys.argv[6:])
rows = list(csv.reader(open(path, newline='')))
h = rows[0]
hit = False
for r in rows[1:]:
    if r[h.index('account')] == account and r[h.index('entitlement')] == ent:
        r[h.index('decision')] = decision
        r[h.index('justification')] = just
        for k, v in extra.items():
            r[h.index(k)] = v
        hit = True
assert hit, (account, ent)
csv.writer(open(path, 'w', newline=''), lineterminator='\r\n').writerows(rows)
PY
}

# line_of CSV ACCOUNT ENTITLEMENT: the file line of that row.
line_of() { $PY -c "
import csv, sys
rows = list(csv.reader(open('$1', newline='')))
h = rows[0]
print([i + 1 for i, r in enumerate(rows) if r[h.index('account')] == '$2' and r[h.index('entitlement')] == '$3'][0])"; }

start_q() { actl review start --period 2026-Q3 >/dev/null || fail "review start failed"; }

test_quarterly_covers_privileged_access_and_critical_systems() {
	company
	assert_exit 0 actl review start --period 2026-Q3
	assert_contains "$OUT" "quarterly review of privileged,critical"
	local accts
	accts=$(item 2026-Q3 "group_concat(DISTINCT account_name)" "1 ORDER BY account_name")
	# privileged: carol (admins via oncall), dan, fred, sam (wheel); critical: bob's dbadmin only
	assert_eq "$(item 2026-Q3 "DISTINCT account_name" "1 ORDER BY 1" | tr '\n' ' ')" "bob carol dan fred sam "
	assert_eq "$(item 2026-Q3 "entitlement" "account_name = 'bob'")" "dbadmin"
	assert_eq "$(item 2026-Q3 "system" "account_name = 'bob'")" "db-prod"
	assert_eq "$(item 2026-Q3 "inherited_via || '|' || privileged" "account_name = 'carol' AND entitlement = 'admins'")" "oncall > admins|1"
	assert_eq "$(item 2026-Q3 "privileged" "account_name = 'carol' AND entitlement = 'dev'")" "0"
	assert_eq "$(item 2026-Q3 "COUNT(*)" "entitlement = 'login'")" "4"
	assert_eq "$(item 2026-Q3 "mfa_since" "account_name = 'carol' AND entitlement = 'login'")" "$((NOW - 30 * DAY))"
	assert_eq "$(item 2026-Q3 "COALESCE(mfa_since, 'none')" "account_name = 'dan' AND entitlement = 'login'")" "none"
	assert_eq "$(sql registry "SELECT kind || ' ' || scope || ' ' || length(snapshot_sha256) FROM review_campaigns")" "quarterly privileged,critical 64"
	assert_contains "$(sql registry "SELECT sources FROM review_campaigns")" '"source":"ldap://dir.example"'
	assert_eq "$(sql registry "SELECT due_at - as_of FROM review_campaigns")" "$((14 * DAY))"
}

# Privilege from every source, asked about many accounts in one run (review
# start, account list) and about one account at a time (account show): the
# answers agree. Sources: NSS supplementary and primary groups, registry
# memberships, a registry group marked privileged, the privileged_groups table;
# two accounts share a primary group.
test_privilege_in_a_run_agrees_with_one_account_at_a_time() {
	company
	sql registry "
	INSERT INTO groups(name, gid, privileged, created_at, updated_at) VALUES ('audit', 106, 1, 0, 0), ('breakers', 107, 0, 0, 0);
	INSERT INTO privileged_groups(name, origin) VALUES ('breakers', 'ldap');
	INSERT INTO accounts(name, uid, gid, kind, status, created_at, updated_at) VALUES
	 ('nssadm', 2101, 2101, 'human', 'active', 0, 0), ('prim', 2102, 10, 'human', 'active', 0, 0),
	 ('flagged', 2103, 2103, 'human', 'active', 0, 0), ('tabled', 2104, 2104, 'human', 'active', 0, 0),
	 ('plain1', 2105, 4200, 'human', 'active', 0, 0), ('plain2', 2106, 4200, 'human', 'active', 0, 0);
	INSERT INTO memberships(account_id, group_id, attr) SELECT a.id, g.id, 'member' FROM accounts a, groups g
	 WHERE a.name = 'flagged' AND g.name = 'audit';"
	cat >> "$ROOT/etc/group" <<GR
admins:x:102:nssadm
wheel:x:10:
breakers:x:107:tabled
users2:x:4200:plain1
GR
	assert_exit 0 actl review start --period 2026-annual
	assert_exit 0 actl --json account list
	local listed=$OUT name one
	for name in $(sql registry "SELECT name FROM accounts ORDER BY name"); do
		assert_exit 0 actl --json account show "$name"
		one=$(printf '%s' "$OUT" | $PY -c 'import json,sys; a=json.load(sys.stdin); print(a["privileged"], a.get("privileged_via"))')
		assert_eq "$(printf '%s' "$listed" | $PY -c 'import json,sys
for a in json.load(sys.stdin):
    if a["account"] == sys.argv[1]: print(a["privileged"], a.get("privileged_via"))' "$name")" "$one" "account list, $name"
		assert_eq "$(item 2026-annual "privileged" "account_name = '$name' AND entitlement = 'login'")" \
			"$([ "${one%% *}" = True ] && echo 1 || echo 0)" "review, $name"
	done
	# and they are the expected ones
	assert_eq "$(item 2026-annual "account_name" "entitlement = 'login' AND privileged = 1 ORDER BY account_name" | tr '\n' ' ')" \
		"carol dan flagged fred nssadm prim sam tabled "
	assert_eq "$(printf '%s' "$listed" | $PY -c 'import json,sys
print(" ".join("%s=%s" % (a["account"], a["privileged_via"]) for a in json.load(sys.stdin) if a["account"] in ("nssadm", "prim", "flagged", "tabled")))')" \
		"flagged=group audit nssadm=group admins prim=group wheel tabled=group breakers"
}

test_annual_covers_all_access_and_the_annual_quarter_is_annual() {
	company
	assert_exit 0 actl review start --period 2026-annual
	assert_eq "$(item 2026-annual "COUNT(DISTINCT account_name)" 1)" "9"
	assert_eq "$(item 2026-annual "COUNT(*)" 1)" "$(( 9 + 8 + 8 + 1 ))"   # logins, staff, named groups, inherited admins
	assert_exit 0 actl review start --period 2026-Q4
	assert_contains "$OUT" "annual review of all"
	assert_exit 0 actl review start --period 2027-Q1 --scope privileged
	assert_eq "$(item 2027-Q1 "COUNT(DISTINCT account_name)" 1)" "4"
	assert_exit 2 actl review start --period 2026-Q9
	assert_contains "$OUT" "expected YYYY-Qn"
}

test_snapshot_hash_is_sha256_of_the_documented_row_encoding() {
	company
	start_q
	# An independent implementation of the encoding the campaign's hash covers:
	# per frozen column "-;" for NULL or "<length>:<text>;", "\n" per row, rows by row id.
	$PY - "$ROOT/var/lib/isms/registry.db" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cols = ("row_id, system, account_name, uid, kind, person_name, email, employee_no, department, title,"
        " hr_status, manager, manager_no, entitlement, inherited_via, privileged, account_status,"
        " last_login_at, days_inactive, mfa_since, change, previous_decision, recommendation,"
        " reviewer_no, reviewer_name")
cid, want = db.execute("SELECT id, snapshot_sha256 FROM review_campaigns").fetchone()
h = hashlib.sha256()
nulls = 0
for row in db.execute(f"SELECT {cols} FROM review_items WHERE campaign_id = ? ORDER BY row_id", (cid,)):
    for v in row:
        if v is None:
            h.update(b"-;")
            nulls += 1
        else:
            t = str(v).encode()
            h.update(str(len(t)).encode() + b":" + t + b";")
    h.update(b"\n")
assert nulls > 0, "the rows should hold NULLs too"
assert h.hexdigest() == want, (h.hexdigest(), want)
PY
	[ $? = 0 ] || fail "snapshot hash differs from the documented encoding"
}

test_starting_an_existing_campaign_is_refused() {
	company
	start_q
	local before
	before=$(sql registry "SELECT snapshot_sha256 FROM review_campaigns")
	sql registry "UPDATE accounts SET status = 'locked' WHERE name = 'carol'"
	assert_exit 1 actl review start --period 2026-Q3
	assert_contains "$OUT" "exists already"
	assert_eq "$(sql registry "SELECT snapshot_sha256 FROM review_campaigns")" "$before"
	assert_eq "$(item 2026-Q3 "DISTINCT account_status" "account_name = 'carol'")" "active"
}

test_snapshot_is_frozen_against_later_registry_changes() {
	company
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/a" >/dev/null
	# A later sync renames a person, adds a membership and locks an account.
	sql registry "UPDATE people SET name = 'Carol Renamed' WHERE employee_no = 'E003';
	 UPDATE accounts SET status = 'locked' WHERE name = 'fred';
	 INSERT INTO memberships(account_id, group_id) SELECT a.id, g.id FROM accounts a, groups g WHERE a.name = 'carol' AND g.name = 'wheel'"
	actl review worksheets 2026-Q3 -o "$ROOT/b" >/dev/null
	cmp -s "$ROOT/a/2026-Q3-E002.csv" "$ROOT/b/2026-Q3-E002.csv" || fail "worksheet changed after a registry change"
	assert_file_contains "$ROOT/b/2026-Q3-E002.csv" '"Carol Engineer"'
	assert_file_not_contains "$ROOT/b/2026-Q3-E002.csv" "Carol Renamed"
}

test_rows_go_to_the_manager_else_managers_manager_else_fallback_never_self() {
	company
	actl review start --period 2026-annual >/dev/null
	r() { item 2026-annual "DISTINCT reviewer_no" "account_name = '$1'"; }
	assert_eq "$(r carol)" "E002"        # manager
	assert_eq "$(r bob)" "E001"          # manager
	assert_eq "$(r gina)" "E002"         # manager departed: manager's manager
	assert_eq "$(r eve)" "E005"          # her own manager: fallback
	assert_eq "$(r ada)" "E005"          # no manager: fallback
	assert_eq "$(r svc-backup)" "E005"   # no owner: fallback
	assert_eq "$(r sam)" "E001"          # the fallback's own access goes to their manager
	assert_eq "$(item 2026-annual "DISTINCT reviewer_name" "account_name = 'carol'")" "Bob Manager"
	assert_eq "$(item 2026-annual "COUNT(*)" "reviewer_no = employee_no")" "0"
	# With the fallback as their only option, their own rows stay unassigned rather than self-reviewed.
	sql registry "UPDATE people SET manager_no = NULL WHERE employee_no = 'E005'"
	actl review start --period 2027-annual >/dev/null
	assert_eq "$(item 2027-annual "COUNT(*)" "account_name = 'sam' AND reviewer_no IS NULL")" "3"
}

test_recommendations_departed_inactive_and_privileged_without_justification() {
	company
	actl review start --period 2026-annual >/dev/null
	assert_eq "$(item 2026-annual "DISTINCT recommendation" "account_name = 'dan'")" "revoke: departed"
	assert_eq "$(item 2026-annual "DISTINCT recommendation" "account_name = 'eve'")" "revoke: inactive 120 days"
	assert_eq "$(item 2026-annual "days_inactive" "account_name = 'eve' AND entitlement = 'login'")" "120"
	assert_eq "$(item 2026-annual "recommendation" "account_name = 'sam' AND entitlement = 'wheel'")" \
		"review: privileged, no justification on file"
	assert_eq "$(item 2026-annual "COALESCE(recommendation, '-')" "account_name = 'carol' AND entitlement = 'dev'")" "-"
	assert_eq "$(item 2026-annual "DISTINCT change" 1)" "new"
}

test_formula_cells_are_neutralised_in_csv_and_xlsx() {
	company
	start_q
	assert_exit 0 actl review worksheets 2026-Q3 -o "$ROOT/ws"
	local csv=$ROOT/ws/2026-Q3-E002.csv
	[ -f "$csv" ] && [ -f "$ROOT/ws/2026-Q3-E002.xlsx" ] || fail "no worksheets for E002: $(ls "$ROOT/ws")"
	assert_file_contains "$csv" "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
	assert_file_contains "$csv" "\"'@evil\""
	assert_file_contains "$csv" "\"'+Eng\""
	assert_file_not_contains "$csv" ",\"=HYPERLINK"
	$PY - "$ROOT/ws/2026-Q3-E002.xlsx" <<'PY' || fail "xlsx check failed"
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb['review']
head = [c.value for c in ws[1]]
col = {h: i for i, h in enumerate(head)}
rows = [[c for c in r] for r in ws.iter_rows(min_row=2)]
fred = [r for r in rows if r[col['account']].value == 'fred']
assert fred, 'no fred rows'
for r in fred:
    cell = r[col['person']]
    assert cell.data_type == 's', cell.data_type
    assert cell.value == '\'=HYPERLINK("http://x","y")', cell.value
    assert r[col['email']].value == "'@evil"
for r in ws.iter_rows():
    for c in r:
        assert c.data_type != 'f', ('formula', c.coordinate, c.value)
assert ws.freeze_panes == 'A2', ws.freeze_panes
assert ws.auto_filter.ref, 'no autofilter'
dv = ws.data_validations.dataValidation
assert any(v.type == 'list' and 'keep,revoke,modify,exception' in v.formula1 for v in dv), [v.formula1 for v in dv]
priv = [r for r in rows if r[col['privileged']].value == 'yes']
assert priv and all(r[0].fill.fgColor.rgb.endswith('FFF2CC') for r in priv), 'privileged rows not highlighted'
assert 'campaign' in wb.sheetnames
PY
	local html=$ROOT/ws/2026-Q3-summary.html
	assert_file_contains "$html" "Bob Manager"
	assert_file_contains "$html" "revoke: departed"
	assert_file_contains "$html" "&quot;"
	assert_file_not_contains "$html" "http://x\""
	! grep -qiE '(src|href)=' "$html" || fail "summary fetches something"
}

test_import_records_decisions_and_reimport_changes_nothing() {
	company
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	local csv=$ROOT/ws/2026-Q3-E002.csv
	decide "$csv" carol admins keep "on-call rotation needs admin"
	decide "$csv" dan login revoke
	decide "$csv" fred wheel exception "migration" exception_until=2026-12-31
	assert_exit 0 actl review import "$csv"
	assert_contains "$OUT" "3 recorded or changed"
	assert_eq "$(item 2026-Q3 "decision || '|' || justification || '|' || reviewed_by" "account_name = 'carol' AND entitlement = 'admins'")" \
		"keep|on-call rotation needs admin|Bob Manager"
	assert_eq "$(item 2026-Q3 "reviewed_at" "account_name = 'dan' AND entitlement = 'login'")" "$NOW"
	assert_eq "$(item 2026-Q3 "date(exception_until, 'unixepoch')" "account_name = 'fred' AND entitlement = 'wheel'")" "2026-12-31"
	assert_contains "$(item 2026-Q3 "imported_from" "account_name = 'dan' AND entitlement = 'login'")" "2026-Q3-E002.csv:"
	ISMS_TEST_NOW=$((NOW + 100)) actl review import "$csv" >/dev/null
	assert_eq "$(item 2026-Q3 "reviewed_at" "account_name = 'dan' AND entitlement = 'login'")" "$NOW"
	assert_exit 0 actl review import "$csv"
	assert_contains "$OUT" "0 recorded or changed"
	assert_exit 1 actl review import "$ROOT/ws/2026-Q3-E002.xlsx"
	assert_contains "$OUT" "CSV is the return format"
	assert_eq "$(sql state "SELECT COUNT(*) FROM audit_events WHERE event = 'review_decision'")" "3"
}

# refused IMPORT-OUTPUT: the import was refused and nothing was recorded.
nothing_recorded() { assert_eq "$(item 2026-Q3 "COUNT(decision)" 1)" "0"; }

test_import_refuses_changed_row_id_naming_file_line_column() {
	company
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	local csv=$ROOT/ws/2026-Q3-E002.csv line
	decide "$csv" dan login revoke
	decide "$csv" carol dev keep "" row_id=00000000000000000000000000000000
	line=$(line_of "$csv" carol dev)
	assert_exit 1 actl review import "$csv"
	assert_contains "$OUT" "$csv:$line:2: row id '00000000000000000000000000000000' is not in campaign 2026-Q3"
	assert_contains "$OUT" "nothing imported"
	nothing_recorded
}

test_import_refuses_a_row_of_another_campaign() {
	company
	actl review start --period 2026-Q2 >/dev/null
	start_q
	actl review worksheets 2026-Q2 -o "$ROOT/old" >/dev/null
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	local csv=$ROOT/ws/2026-Q3-E002.csv old=$ROOT/old/2026-Q2-E002.csv
	decide "$csv" dan login revoke
	# A row pasted from last quarter's worksheet: its campaign and row id are Q2's.
	grep ',"carol",' "$old" | head -1 >> "$csv"
	local last
	last=$(wc -l < "$csv")
	assert_exit 1 actl review import "$csv"
	assert_contains "$OUT" "$csv:$last:1: row of campaign '2026-Q2', importing '2026-Q3'"
	nothing_recorded
	# Naming the campaign does not let a stray row in either.
	assert_exit 1 actl review import --campaign 2026-Q2 "$csv"
	assert_contains "$OUT" "row of campaign '2026-Q3', importing '2026-Q2'"
}

test_import_refuses_privileged_keep_without_justification() {
	company
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	local csv=$ROOT/ws/2026-Q3-E002.csv line
	decide "$csv" dan login revoke
	decide "$csv" fred wheel keep ""
	line=$(line_of "$csv" fred wheel)
	assert_exit 1 actl review import "$csv"
	assert_contains "$OUT" "$csv:$line:27: a justification is required to keep privileged access"
	nothing_recorded
	decide "$csv" fred wheel exception "temporary" 
	assert_exit 1 actl review import "$csv"
	assert_contains "$OUT" "$csv:$line:25: an exception needs a date"
	nothing_recorded
	# A non-privileged keep needs none.
	decide "$csv" fred wheel "" ""
	decide "$csv" carol dev keep ""
	assert_exit 0 actl review import "$csv"
}

test_import_refuses_altered_identifying_columns_and_bad_decisions() {
	company
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	local csv=$ROOT/ws/2026-Q3-E002.csv line
	decide "$csv" carol dev keep "" entitlement=admins
	line=$(line_of "$csv" carol admins | head -1)
	assert_exit 1 actl review import "$csv"
	assert_contains "$OUT" ":14: column 'entitlement' was altered"
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	decide "$csv" carol dev approve
	assert_exit 1 actl review import "$csv"
	assert_contains "$OUT" "decision 'approve': allowed keep, revoke, modify, exception"
	decide "$csv" carol dev "" "" privileged=no
	assert_exit 0 actl review import "$csv"
	decide "$csv" carol admins keep "x" privileged=no
	assert_exit 1 actl review import "$csv"
	assert_contains "$OUT" "column 'privileged' was altered: 'no', the campaign has 'yes'"
	nothing_recorded
}

test_revoke_decision_is_applied_and_verified() {
	company
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	decide "$ROOT/ws/2026-Q3-E002.csv" dan login revoke
	actl review import "$ROOT/ws/2026-Q3-E002.csv" >/dev/null
	assert_exit 0 actl review apply 2026-Q3
	assert_contains "$OUT" "revoked, verified"
	assert_eq "$(sql registry "SELECT status FROM accounts WHERE name = 'dan'")" revoked
	assert_contains "$(sql registry "SELECT revoked_reason FROM accounts WHERE name = 'dan'")" "access review 2026-Q3"
	assert_eq "$(sql registry "SELECT DISTINCT trigger FROM revocation_actions WHERE account_name = 'dan'")" review
	assert_eq "$(item 2026-Q3 "apply_result || '|' || (applied_at = $NOW) || '|' || (verified_at = $NOW)" "account_name = 'dan' AND entitlement = 'login'")" \
		"revoked, verified|1|1"
	assert_eq "$(sql registry "SELECT step || '|' || status || '|' || (verified_at IS NOT NULL) FROM revocation_actions WHERE account_name = 'dan' AND step = 'registry'")" "registry|done|1"
	assert_eq "$(sql state "SELECT result FROM audit_events WHERE event = 'review_apply' AND subject = 'dan'")" "ok"
	# Done once: a second apply has nothing left to do.
	assert_exit 0 actl review apply 2026-Q3
	assert_not_contains "$OUT" "dan"
	assert_eq "$(sql registry "SELECT COUNT(*) FROM revocation_actions WHERE account_name = 'dan' AND step = 'registry'")" "1"
}

test_revoke_decision_makes_pam_refuse_the_account() {
	company
	add_user carol 2003
	pam_service key "account required $MODULE conf=$CONF"
	assert_exit 0 pamrun key carol acct
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	decide "$ROOT/ws/2026-Q3-E002.csv" carol login revoke
	actl review import "$ROOT/ws/2026-Q3-E002.csv" >/dev/null
	assert_exit 0 actl review apply 2026-Q3
	OUT=$(pamrun key carol acct) && fail "carol still allowed after the review revoked her: $OUT"
	assert_contains "$OUT" "revoked"
}

test_verification_catches_a_revocation_that_did_not_take() {
	company
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	decide "$ROOT/ws/2026-Q3-E002.csv" dan login revoke
	actl review import "$ROOT/ws/2026-Q3-E002.csv" >/dev/null
	# Something (a sync, a person) puts the account back right after the engine's change.
	sql registry "CREATE TRIGGER undo AFTER UPDATE OF status ON accounts WHEN NEW.name = 'dan' AND NEW.status = 'revoked'
	 BEGIN UPDATE accounts SET status = 'active' WHERE id = NEW.id; END"
	assert_exit 1 actl review apply 2026-Q3
	assert_contains "$OUT" "FAIL dan"
	assert_contains "$OUT" "NOT verified: dan: registry status is active"
	assert_eq "$(item 2026-Q3 "COALESCE(verified_at, 'none')" "account_name = 'dan' AND entitlement = 'login'")" "none"
	assert_eq "$(sql state "SELECT result || ' ' || reason FROM audit_events WHERE event = 'review_apply'")" "fail not_verified"
	# Once the cause is gone, apply finishes the job.
	sql registry "DROP TRIGGER undo"
	assert_exit 0 actl review apply 2026-Q3
	assert_eq "$(item 2026-Q3 "verified_at IS NOT NULL" "account_name = 'dan' AND entitlement = 'login'")" "1"
}

test_modify_removes_only_that_group() {
	company
	# carol is also listed in the host's group file, in dev and in staff
	add_group_member dev 101 bob
	add_group_member dev 101 carol
	add_group_member staff 100 carol
	actl review start --period 2026-annual >/dev/null
	actl review worksheets 2026-annual -o "$ROOT/ws" >/dev/null
	local csv=$ROOT/ws/2026-annual-E002.csv
	decide "$csv" carol dev modify
	decide "$csv" carol admins modify
	assert_exit 0 actl review import "$csv"
	assert_exit 1 actl review apply 2026-annual
	assert_contains "$OUT" "removed from dev, verified"
	assert_contains "$OUT" "manual: admins is inherited via oncall > admins"
	assert_eq "$(sql registry "SELECT group_concat(name, ',') FROM (SELECT g.name FROM memberships m JOIN groups g ON g.id = m.group_id JOIN accounts a ON a.id = m.account_id WHERE a.name = 'carol' ORDER BY g.name)")" \
		"admins,oncall,staff"
	assert_eq "$(sql registry "SELECT status FROM accounts WHERE name = 'carol'")" "active"
	# through the revocation engine: out of dev in the group file too, recorded first
	assert_eq "$(grep '^dev:' "$ROOT/etc/group")" "dev:x:101:bob"
	assert_eq "$(grep '^staff:' "$ROOT/etc/group")" "staff:x:100:carol"
	assert_eq "$(sql registry "SELECT group_concat(step || '=' || status, ' ') FROM revocation_actions WHERE account_name = 'carol' AND trigger = 'review'")" \
		"local_group=done registry_group=done"
	decide "$csv" carol login modify
	assert_exit 1 actl review import "$csv"
	assert_contains "$OUT" "'modify' removes a group"
}

decide_all_but() {
	# Everyone in E002's sheet decides keep with a reason, except the rows named.
	$PY - "$@" <<'PY'
import csv, sys
path, skip = sys.argv[1], set(sys.argv[2:])
rows = list(csv.reader(open(path, newline='')))
h = rows[0]
for r in rows[1:]:
    if r[h.index('account')] not in skip:
        r[h.index('decision')] = 'keep'; r[h.index('justification')] = 'needed'
csv.writer(open(path, 'w', newline=''), lineterminator='\r\n').writerows(rows)
PY
}

test_no_response_escalates_by_default_never_keeps() {
	company
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	assert_exit 1 actl review close 2026-Q3 -o "$ROOT/ev"
	assert_contains "$OUT" "no response: escalated to Ada Chief (E001)"
	assert_eq "$(item 2026-Q3 "DISTINCT apply_result" "account_name = 'sam'")" "no response: escalated to the security officer"
	assert_eq "$(item 2026-Q3 "DISTINCT apply_result" "account_name = 'carol'")" "no response: escalated to Ada Chief (E001)"
	assert_eq "$(item 2026-Q3 "COUNT(decision)" 1)" "0"
	assert_eq "$(sql registry "SELECT COUNT(*) FROM accounts WHERE status = 'revoked'")" "0"
	assert_eq "$(sql registry "SELECT status FROM review_campaigns")" "closed"
	assert_exit 1 actl review import "$ROOT/ws/2026-Q3-E002.csv"
	assert_contains "$OUT" "closed"
}

test_no_response_revoke_revokes_and_verifies() {
	company
	conf_set review no_response revoke
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	decide_all_but "$ROOT/ws/2026-Q3-E002.csv" dan
	actl review import "$ROOT/ws/2026-Q3-E002.csv" >/dev/null
	decide_all_but "$ROOT/ws/2026-Q3-E001.csv"
	actl review import "$ROOT/ws/2026-Q3-E001.csv" >/dev/null
	assert_exit 0 actl review close 2026-Q3 -o "$ROOT/ev"
	assert_eq "$(sql registry "SELECT name FROM accounts WHERE status = 'revoked'")" "dan"
	assert_eq "$(item 2026-Q3 "DISTINCT apply_result" "account_name = 'dan'")" "no response: revoked, verified"
	assert_eq "$(item 2026-Q3 "COUNT(*)" "account_name != 'dan' AND applied_at IS NOT NULL")" "0"
}

test_close_writes_a_signed_bundle_and_any_changed_byte_fails_verify() {
	company
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	decide "$ROOT/ws/2026-Q3-E002.csv" dan login revoke
	actl review import "$ROOT/ws/2026-Q3-E002.csv" >/dev/null
	actl review close 2026-Q3 -o "$ROOT/ev" >/dev/null || true
	local ev=$ROOT/ev
	for f in campaign.json snapshot.csv decisions.csv actions.csv revocations.csv manifest.json manifest.sig \
		worksheets/2026-Q3-E002.csv worksheets/2026-Q3-E002.xlsx worksheets/2026-Q3-summary.html; do
		[ -s "$ev/$f" ] || fail "bundle lacks $f"
	done
	assert_file_contains "$ev/decisions.csv" '"dan","login","revoke"'
	assert_file_contains "$ev/actions.csv" '"revoked, verified"'
	assert_file_contains "$ev/revocations.csv" '"access review 2026-Q3: revoke decided on login"'
	assert_file_contains "$ev/campaign.json" "$(sql registry "SELECT snapshot_sha256 FROM review_campaigns")"
	assert_exit 0 actl evidence verify "$ev"
	assert_contains "$OUT" "evidence intact: 10 files"
	assert_exit 0 "$BUILD/test/accessctl" evidence verify --pubkey "$ROOT/etc/isms/signing.key.pub" "$ev"
	# Any one byte of any file: verify fails, naming what differs.
	local f n
	for f in $(cd "$ev" && find . -type f | sort); do
		cp "$ev/$f" "$ROOT/keep"
		n=$(( $(stat -c %s "$ev/$f") / 2 ))
		$PY -c "
import sys
p, n = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read()); b[n] ^= 1
open(p, 'wb').write(bytes(b))" "$ev/$f" "$n"
		assert_exit 1 actl evidence verify "$ev"
		assert_contains "$OUT" "NOT intact"
		cp "$ROOT/keep" "$ev/$f"
	done
	assert_exit 0 actl evidence verify "$ev"
	echo extra > "$ev/added.txt"
	assert_exit 1 actl evidence verify "$ev"
	assert_contains "$OUT" "files differ from the manifest at 'added.txt'"
	rm "$ev/added.txt"
	rm "$ev/actions.csv"
	assert_exit 1 actl evidence verify "$ev"
	# A bundle is never overwritten, and a closed campaign does not close twice.
	assert_exit 1 actl review close 2026-Q3 -o "$ev"
	assert_contains "$OUT" "never overwritten"
}

test_close_refuses_a_snapshot_changed_behind_its_back() {
	company
	start_q
	sql registry "UPDATE review_items SET recommendation = NULL WHERE account_name = 'dan'"
	assert_exit 1 actl review close 2026-Q3 -o "$ROOT/ev"
	assert_contains "$OUT" "snapshot changed since it was frozen"
	assert_eq "$(sql registry "SELECT status FROM review_campaigns")" "open"
}

test_status_shows_done_pending_and_overdue_per_reviewer() {
	company
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	decide_all_but "$ROOT/ws/2026-Q3-E001.csv"
	actl review import "$ROOT/ws/2026-Q3-E001.csv" >/dev/null
	assert_exit 0 actl review status 2026-Q3
	assert_contains "$OUT" "Ada Chief (E001)"
	[[ "$OUT" =~ "Ada Chief (E001)"\ +[0-9]+\ +[0-9]+\ +0\ +done ]] || fail "Ada not done: $OUT"
	[[ "$OUT" =~ "Bob Manager (E002)"\ +[0-9]+\ +0\ +[0-9]+\ +pending ]] || fail "Bob not pending: $OUT"
	ISMS_TEST_NOW=$((NOW + 15 * DAY)) assert_exit 1 actl review status --json
	assert_contains "$OUT" '"reviewer_no":"E002"'
	assert_contains "$OUT" '"status":"overdue"'
	assert_contains "$OUT" '"status":"done"'
}

test_second_campaign_shows_change_and_previous_decision() {
	company
	start_q
	actl review worksheets 2026-Q3 -o "$ROOT/ws" >/dev/null
	decide "$ROOT/ws/2026-Q3-E001.csv" sam wheel keep "security on-call"
	actl review import "$ROOT/ws/2026-Q3-E001.csv" >/dev/null
	sql registry "INSERT INTO memberships(account_id, group_id) SELECT a.id, g.id FROM accounts a, groups g WHERE a.name = 'sam' AND g.name = 'dev'"
	actl review start --period 2027-Q1 >/dev/null
	assert_eq "$(item 2027-Q1 "change || '|' || previous_decision || '|' || COALESCE(recommendation, '-')" "account_name = 'sam' AND entitlement = 'wheel'")" "unchanged|keep|-"
	assert_eq "$(item 2027-Q1 "change" "account_name = 'sam' AND entitlement = 'dev'")" "new"
	assert_eq "$(item 2027-Q1 "recommendation" "account_name = 'sam' AND entitlement = 'login'")" "review: privileged, no justification on file"
}

test_export_baton_csv() {
	company
	start_q
	assert_exit 0 actl review export 2026-Q3 --format baton-csv -o "$ROOT/baton.csv"
	$PY - "$ROOT/baton.csv" <<'PY' || fail "baton csv check failed"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
by = lambda t: [r for r in rows if r['record_type'] == t]
users = {r['id']: r for r in by('user')}
assert set(users) == {'bob', 'carol', 'dan', 'fred', 'sam'}, users.keys()
assert users['dan']['status'] == 'active' and users['carol']['type'] == 'human'
assert users['carol']['employee_id'] == 'E003' and users['carol']['profile.manager'] == 'Bob Manager'
res = {r['id'] for r in by('resource')}
assert {'system:web01', 'group:wheel', 'group:admins', 'group:dbadmin'} <= res, res
ents = {(r['resource_id'], r['entitlement_slug']) for r in by('entitlement')}
assert ('group:wheel', 'member') in ents and ('system:web01', 'access') in ents
grants = {(r['principal_id'], r['resource_id'], r['entitlement_slug']) for r in by('direct_user_grant')}
assert ('fred', 'group:wheel', 'member') in grants and ('bob', 'group:dbadmin', 'member') in grants
assert ('carol', 'group:admins', 'member') not in grants
maps = by('grant_inheritance_mapping')
assert [(m['principal_resource_id'], m['inherited_resource_id'], m['inheritance_depth']) for m in maps] == [('group:oncall', 'group:admins', 'full')], maps
PY
	assert_exit 2 actl review export 2026-Q3 --format sailpoint
}

test_long_review_work_shows_progress_on_a_terminal_only() {
	company
	local accounts rows
	accounts=$(sql registry "SELECT count(*) FROM accounts WHERE status != 'revoked'")
	actl review start --period 2026-Q3 >/dev/null 2>"$T_TMP/err" || fail "review start failed"
	[ ! -s "$T_TMP/err" ] || fail "progress drawn off a terminal: $(cat "$T_TMP/err")"
	# On a terminal the snapshot counts the accounts to the end, then the result.
	actl_tty review start --period 2026-annual
	assert_contains "$OUT" "snapshot         [##############################] 100% ($accounts/$accounts)"
	assert_contains "$OUT" "campaign 2026-annual started"
	rows=$(item 2026-annual "count(*)" 1)
	# Worksheets listed a line per reviewer on the terminal: no bar among them.
	actl_tty review worksheets 2026-annual -o "$ROOT/ws"
	assert_contains "$OUT" "$ROOT/ws/2026-annual-E002.{csv,xlsx}"
	case $OUT in *"worksheets       ["*) fail "a bar among the worksheet lines: $OUT" ;; esac
	# With --json (no lines), and for the bundle's worksheets at close, the bar counts rows.
	actl_tty --json review worksheets 2026-annual -o "$ROOT/ws2"
	assert_contains "$OUT" "worksheets       [##############################] 100% ($rows/$rows)"
	assert_contains "$OUT" '{"campaign":"2026-annual"'
	actl_tty review close 2026-annual -o "$ROOT/ev"
	assert_contains "$OUT" "worksheets       [##############################] 100% ($rows/$rows)"
	assert_contains "$OUT" "campaign 2026-annual closed"
	[ -s "$ROOT/ev/manifest.sig" ] || fail "no bundle written"
}

run_tests
