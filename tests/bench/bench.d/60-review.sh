# Access review at scale: campaign start (snapshot, routing, hash) plus CSV and
# XLSX worksheets for N accounts x 5 entitlements (login + 4 groups). No review
# tool to measure against: the floor is the sqlite3 CLI's .mode csv export of
# the same rows, in the same run.
N=${REVIEW_BENCH_ACCOUNTS:-100000}
R=$BENCH/review
"$BUILD/accessctl" --root "$R" init >/dev/null
cat >> "$R/etc/isms/isms.conf" <<CONF
[review]
fallback_reviewer = E0000001
CONF
t=$(( $(date +%s) - 30 * 86400 ))
sqlite3 "$R/var/lib/isms/registry.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO people(employee_no, name, email, manager_no, department, title, status, created_at, updated_at)
 SELECT printf('E%07d', i), printf('Person %d', i), printf('p%d@example.com', i),
        CASE WHEN i > 1000 THEN printf('E%07d', 1 + i % 1000) END, 'Dept ' || (i % 40), 'Engineer',
        CASE WHEN i % 97 = 0 THEN 'departed' ELSE 'active' END, $t, $t FROM n;
INSERT INTO accounts(name, uid, gid, person_id, kind, status, created_at, updated_at)
 SELECT printf('u%07d', id), 100000 + id, 100000, id, 'human', 'active', $t, $t FROM people;
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < 49)
INSERT INTO groups(name, gid, privileged, created_at, updated_at) SELECT printf('grp%02d', i), 20000 + i, i < 3, $t, $t FROM g;
INSERT INTO memberships(account_id, group_id, attr)
 SELECT a.id, g.id, 'member' FROM accounts a JOIN groups g
 ON g.gid - 20000 IN (a.id % 50, (a.id + 7) % 50, (a.id + 13) % 50, (a.id + 29) % 50);
COMMIT;
SQL
now() { date +%s.%N; }
t0=$(now)
"$BUILD/accessctl" --root "$R" review start --period 2026-annual >/dev/null
t1=$(now)
"$BUILD/accessctl" --root "$R" review worksheets 2026-annual -o "$R/ws" >/dev/null
t2=$(now)
sqlite3 "$R/var/lib/isms/registry.db" ".mode csv" ".headers on" ".once $R/floor.csv" "SELECT * FROM review_items"
t3=$(now)
rows=$(sqlite3 "$R/var/lib/isms/registry.db" "SELECT COUNT(*) FROM review_items")
ours=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.2f", b - a }')
floor=$(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.2f", b - a }')
printf '%-48s %12s s %12s s %8s\n' "review start, $rows rows" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" "-" "-"
printf '%-48s %12s s %12s s %8s\n' "review worksheets (CSV+XLSX+HTML, $(ls "$R/ws" | grep -c xlsx) reviewers)" \
	"$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", b - a }')" "-" "-"
printf '%-48s %12s s %12s s %8s\n' "review start + worksheets vs sqlite3 .mode csv" "$ours" "$floor" "$(ratio "$ours" "$floor")"
printf '%-48s %12s/s %12s/s %8s\n' "  rows per second" "$(awk -v r="$rows" -v s="$ours" 'BEGIN { printf "%d", r / s }')" \
	"$(awk -v r="$rows" -v s="$floor" 'BEGIN { printf "%d", r / s }')" "-"
rm -rf "$R"
