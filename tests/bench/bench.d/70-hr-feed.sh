# An HR export of BENCH_HR_ROWS rows (default 100000; 1% terminated, already
# offboarded): re-reading it must stay cheap, since the path unit runs it on
# every drop. Anchor: Python's csv module merely reading the same file.
hr_rows=${BENCH_HR_ROWS:-100000}
hr_root=$BENCH/hr-root
"$BUILD/accessctl" --root "$hr_root" init >/dev/null
: > "$hr_root/etc/shadow"; : > "$hr_root/etc/group"
hr_terms=$((hr_rows / 100))
sqlite3 "$hr_root/var/lib/isms/registry.db" "
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $hr_terms)
	INSERT INTO people (employee_no, name, created_at, updated_at) SELECT 'E' || (100000 + i), 'P' || i, 0, 0 FROM n;
	INSERT INTO accounts (name, uid, person_id, created_at, updated_at) SELECT 'u' || id, 100000 + id, id, 0, 0 FROM people;"
awk -v n="$hr_rows" -v t="$hr_terms" 'BEGIN {
	print "Employee Number,First Name,Last Name,Work Email,Status,Termination Date"
	for (i = 1; i <= n; i++)
		printf "E%d,First%d,Last%d,p%d@example.com,%s,%s\n", 100000 + i, i, i, i,
			i <= t ? "Terminated" : "Active", i <= t ? "2026-01-15" : ""
}' > "$BENCH/hr.csv"
"$BUILD/accessctl" --root "$hr_root" offboard --feed "$BENCH/hr.csv" >/dev/null
hr_t0=$(date +%s%N)
"$BUILD/accessctl" --root "$hr_root" offboard --feed "$BENCH/hr.csv" >/dev/null
hr_ours=$(( ($(date +%s%N) - hr_t0) / 1000000 ))
hr_t0=$(date +%s%N)
python3 -c 'import csv, sys; sum(1 for _ in csv.DictReader(open(sys.argv[1])))' "$BENCH/hr.csv"
hr_anchor=$(( ($(date +%s%N) - hr_t0) / 1000000 ))
printf '%-48s %12s ms %11s ms %8s\n' "re-read HR export ($hr_rows rows, $hr_terms left)" "$hr_ours" "$hr_anchor" \
	"$(ratio "$hr_ours" "$hr_anchor")"
