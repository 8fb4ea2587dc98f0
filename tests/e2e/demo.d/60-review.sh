# Step: a quarterly access review — snapshot, a manager's worksheet, a decision
# sent back as CSV, applied through the revocation engine and verified.
PERIOD=$(date -u +%Y)-Q1
REVIEW=$DEMO/review
say "Access review: who holds privileged access, reviewed by their managers"
# A small company, unless the directory and account steps brought people already.
t=$(( $(date +%s) - 200 * 86400 ))
sqlite3 "$ROOT/var/lib/isms/registry.db" "
INSERT OR IGNORE INTO people(employee_no, name, email, manager_no, department, title, status, created_at, updated_at) VALUES
 ('D100', 'Mara Lead', 'mara@example.com', NULL, 'Eng', 'Head of Eng', 'active', $t, $t),
 ('D101', 'Theo Former', 'theo@example.com', 'D100', 'Eng', 'SRE', 'departed', $t, $t),
 ('D102', 'Lena Admin', 'lena@example.com', 'D100', 'Eng', 'SRE', 'active', $t, $t);
INSERT OR IGNORE INTO accounts(name, uid, gid, person_id, kind, status, created_at, updated_at)
 SELECT lower(substr(name, 1, instr(name, ' ') - 1)), 5000 + CAST(substr(employee_no, 2) AS INT), 5000, id, 'human', 'active', $t, $t
 FROM people WHERE employee_no IN ('D100', 'D101', 'D102');
INSERT OR IGNORE INTO groups(name, gid, created_at, updated_at) VALUES ('sudo', 27, $t, $t);
INSERT OR IGNORE INTO memberships(account_id, group_id, attr) SELECT a.id, g.id, 'gr_mem' FROM accounts a, groups g
 WHERE a.name IN ('theo', 'lena') AND g.name = 'sudo';"
run $ACCESSCTL review start --period "$PERIOD"
run $ACCESSCTL review worksheets "$PERIOD" -o "$REVIEW"
say "Mara's worksheet: one row per account and entitlement (CSV; the XLSX has a drop-down)"
/usr/bin/python3 - "$REVIEW/$PERIOD-D100.csv" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1], newline='')):
    if r['account'] == 'theo' and r['entitlement'] == 'sudo':
        for k in ('row_id', 'account', 'person', 'hr_status', 'entitlement', 'privileged',
                  'days_inactive', 'recommendation', 'reviewer', 'decision', 'justification'):
            print(f'  {k:15} {r[k]}')
PY
say "Mara decides: Theo has left, revoke; Lena keeps sudo with a reason"
/usr/bin/python3 - "$REVIEW/$PERIOD-D100.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
h = rows[0]
for r in rows[1:]:
    if r[h.index('account')] == 'theo':
        r[h.index('decision')] = 'revoke'
    elif r[h.index('account')] == 'lena':
        r[h.index('decision')] = 'keep'
        r[h.index('justification')] = 'on-call database administrator'
csv.writer(open(sys.argv[1], 'w', newline=''), lineterminator='\r\n').writerows(rows)
PY
run $ACCESSCTL review import "$REVIEW/$PERIOD-D100.csv"
run $ACCESSCTL review apply "$PERIOD"
run sqlite3 "$ROOT/var/lib/isms/registry.db" "SELECT name, status, revoked_reason FROM accounts WHERE name = 'theo'"
run $ACCESSCTL review status "$PERIOD"
