# 70: Carol (E1003) leaves. HR's export lands in the drop directory; offboarding
# revokes her accounts on this host; her next login is refused; the auditor's report.
# Sourced by demo.sh. Standalone: creates what earlier steps would have.

say "Revocation: the people and accounts HR knows (employee numbers E1001..E1004)"
[ -f "$CONF" ] || $ACCESSCTL init >/dev/null
mkdir -p "$ROOT/etc/pam.d"
touch "$ROOT/etc/passwd" "$ROOT/etc/group" "$ROOT/etc/shadow"
chmod 600 "$ROOT/etc/shadow"
demo_uid=2001
for demo_u in alice bob carol dave; do
	grep -q "^$demo_u:" "$ROOT/etc/passwd" || echo "$demo_u:x:$demo_uid:$demo_uid:$demo_u:/home/$demo_u:/bin/bash" >> "$ROOT/etc/passwd"
	grep -q "^$demo_u:" "$ROOT/etc/shadow" || echo "$demo_u:\$6\$demo\$hash:20000:0:99999:7:::" >> "$ROOT/etc/shadow"
	demo_uid=$((demo_uid + 1))
done
grep -q "^wheel:" "$ROOT/etc/group" || echo "wheel:x:10:alice,carol" >> "$ROOT/etc/group"
sqlite3 "$ROOT/var/lib/isms/registry.db" "
	INSERT OR IGNORE INTO people (employee_no, name, email, created_at, updated_at) VALUES
		('E1001', 'Alice Anders', 'alice@example.com', strftime('%s','now'), strftime('%s','now')),
		('E1002', 'Bob Brown', 'bob@example.com', strftime('%s','now'), strftime('%s','now')),
		('E1003', 'Carol Chen', 'carol@example.com', strftime('%s','now'), strftime('%s','now')),
		('E1004', 'Dave Diaz', 'dave@contractor.example', strftime('%s','now'), strftime('%s','now'));
	INSERT OR IGNORE INTO accounts (name, uid, gid, person_id, created_at, updated_at)
		SELECT lower(substr(name, 1, instr(name, ' ') - 1)), 2000 + CAST(substr(employee_no, 4) AS INTEGER),
		       2000 + CAST(substr(employee_no, 4) AS INTEGER), id, strftime('%s','now'), strftime('%s','now')
		FROM people WHERE employee_no IN ('E1001', 'E1002', 'E1003', 'E1004');"
printf '%s\n' "account required $BUILD/pam_isms.so conf=$CONF" "account required pam_permit.so" > "$ROOT/etc/pam.d/demo-revoke"
[ -e "$ROOT/etc/pam.d/other" ] || printf 'account required pam_deny.so\n' > "$ROOT/etc/pam.d/other"

say "HR drops its export; the systemd path unit (examples/systemd/isms-hr-drop.path) runs offboard --feed"
# examples/hr-export.csv, with Carol's termination dated today.
sed "s/,2026-11-17,/,$(date -u +%F),/" "$TOP/examples/hr-export.csv" > "$ROOT/var/lib/isms/hr-drop/hr-export.csv"
run grep -E "Employee Number|E1003" "$ROOT/var/lib/isms/hr-drop/hr-export.csv"
say "First, what it would do: who would be offboarded and which accounts revoked (nothing written)"
run $ACCESSCTL offboard --feed "$ROOT/var/lib/isms/hr-drop/hr-export.csv" --dry-run
[ "$(sqlite3 "$ROOT/var/lib/isms/registry.db" "SELECT status FROM accounts WHERE name = 'carol'")" = active ]
say "The path unit's run"
run $ACCESSCTL offboard --feed "$ROOT/var/lib/isms/hr-drop"

say "Carol's accounts: revoked in the registry, locked and expired in shadow, out of wheel"
run sqlite3 "$ROOT/var/lib/isms/registry.db" "SELECT name, status, revoked_reason FROM accounts ORDER BY name"
run grep -E "^(carol|wheel):" "$ROOT/etc/shadow" "$ROOT/etc/group"
[ "$(sqlite3 "$ROOT/var/lib/isms/registry.db" "SELECT status FROM accounts WHERE name = 'carol'")" = revoked ]
grep -q '^carol:!.*:1:$' "$ROOT/etc/shadow"

say "Carol tries to log in (account phase of pam_isms, status 'revoked')"
if run login demo-revoke carol acct; then echo "revoked account allowed" >&2; exit 1; fi

say "The same export again changes nothing"
cp "$ROOT/var/lib/isms/hr-drop/done/hr-export.csv".* "$ROOT/var/lib/isms/hr-drop/hr-export-again.csv"
run $ACCESSCTL offboard --feed "$ROOT/var/lib/isms/hr-drop"

say "For the auditor: every termination, when access went, and each step"
run $ACCESSCTL report revocations --since 2026-01-01
