#!/bin/bash
# accessctl backup: encrypted round trip, the restore test, restore, and refusal
# of damaged or foreign backups.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"

populate() {
	sql registry "INSERT INTO people (employee_no, name, created_at, updated_at) VALUES ('E1','Ann',1,1);
		INSERT INTO accounts (name, uid, person_id, created_at, updated_at) VALUES ('ann', 2001, 1, 1, 1);"
	actl audit checkpoint >/dev/null
}

dump() { sqlite3 "$1" .dump | grep -v '^PRAGMA'; }

test_backup_round_trip_keeps_every_row_and_the_chain() {
	new_root
	populate
	actl backup "$T_TMP/b.bak" >/dev/null
	dump "$ROOT/var/lib/isms/registry.db" > "$T_TMP/reg.before"
	sql state "SELECT seq, hex(hash) FROM audit_events WHERE event != 'backup'" > "$T_TMP/chain.before"
	# change everything, then restore
	sql registry "DELETE FROM accounts; DELETE FROM people"
	actl audit checkpoint --force >/dev/null
	assert_exit 0 actl backup --restore "$T_TMP/b.bak"
	dump "$ROOT/var/lib/isms/registry.db" > "$T_TMP/reg.after"
	cmp "$T_TMP/reg.before" "$T_TMP/reg.after" || fail "registry differs after restore"
	sql state "SELECT seq, hex(hash) FROM audit_events WHERE event != 'backup_restore' AND event != 'backup'" > "$T_TMP/chain.after"
	diff "$T_TMP/chain.before" "$T_TMP/chain.after" || fail "audit chain differs"
	assert_exit 0 actl audit verify
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event='backup_restore'")" 1
}

test_backup_test_reports_counts_and_is_audited() {
	new_root
	populate
	actl backup "$T_TMP/b.bak" >/dev/null
	assert_exit 0 actl backup --test "$T_TMP/b.bak"
	assert_contains "$OUT" "1 accounts, 1 people"
	assert_contains "$OUT" "chain intact"
	assert_eq "$(sql state "SELECT result FROM audit_events WHERE event='backup_test'")" ok
}

test_backup_file_is_not_plaintext() {
	new_root
	populate
	actl backup "$T_TMP/b.bak" >/dev/null
	! grep -q "SQLite format" "$T_TMP/b.bak" || fail "backup holds a plain sqlite file"
	! grep -q "ann" "$T_TMP/b.bak" || fail "account name visible in the backup"
	assert_eq "$(stat -c %a "$T_TMP/b.bak")" 600
}

test_corrupted_backup_is_refused_by_test() {
	new_root
	populate
	actl backup "$T_TMP/b.bak" >/dev/null
	cp "$T_TMP/b.bak" "$T_TMP/flip.bak"
	printf '\x55' | dd of="$T_TMP/flip.bak" bs=1 seek=2000 conv=notrunc 2>/dev/null
	assert_exit 1 actl backup --test "$T_TMP/flip.bak"
	assert_contains "$OUT" "FAILED"
	head -c 1000 "$T_TMP/b.bak" > "$T_TMP/short.bak"
	assert_exit 1 actl backup --test "$T_TMP/short.bak"
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event='backup_test' AND result='fail'")" 2
	# a refused restore leaves the live stores alone
	assert_exit 1 actl backup --restore "$T_TMP/short.bak"
	assert_eq "$(sql registry "SELECT name FROM accounts")" ann
}

test_backup_from_another_host_key_is_refused() {
	new_root
	populate
	actl backup "$T_TMP/b.bak" >/dev/null
	local first=$ROOT
	new_root
	assert_exit 1 actl backup --test "$T_TMP/b.bak"
	assert_contains "$OUT" "another key"
	[ -n "$first" ]
}

test_backup_sealed_to_a_public_key_needs_the_secret_key() {
	new_root
	populate
	head -c 32 /dev/urandom > "$T_TMP/sk"
	"$BUILD/tools/x25519pub" "$T_TMP/sk" > "$T_TMP/pk"
	actl backup "$T_TMP/b.bak" --pubkey "$T_TMP/pk" >/dev/null
	assert_exit 1 actl backup --test "$T_TMP/b.bak"
	assert_exit 0 actl backup --test "$T_TMP/b.bak" --key "$T_TMP/sk" --pubkey "$T_TMP/pk"
	head -c 32 /dev/urandom > "$T_TMP/sk2"
	assert_exit 1 actl backup --test "$T_TMP/b.bak" --key "$T_TMP/sk2" --pubkey "$T_TMP/pk"
}

run_tests
