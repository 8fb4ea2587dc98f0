#!/bin/bash
# accessctl audit: export, tail, signed checkpoints and the deleted-tail check.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"

test_checkpoint_verifies_against_the_chain() {
	new_root
	actl audit checkpoint >/dev/null
	assert_file_contains "$SYSLOG" "event=audit_checkpoint"
	assert_exit 0 actl audit verify --checkpoints "$SYSLOG"
	assert_contains "$OUT" "checkpoints verified: 1"
}

test_deleted_tail_is_detected_from_a_checkpoint() {
	new_root
	actl audit checkpoint >/dev/null
	actl audit checkpoint --force >/dev/null
	# the second checkpoint committed to event 2; delete everything from it on
	sql state "DELETE FROM audit_events WHERE seq >= 2"
	assert_exit 0 actl audit verify          # the chain alone cannot see a cut tail
	assert_exit 1 actl audit verify --checkpoints "$SYSLOG"
	assert_contains "$OUT" "no longer has that event"
}

test_forged_checkpoint_signature_is_refused() {
	new_root
	actl audit checkpoint >/dev/null
	sed -i 's/cp_seq=1 /cp_seq=0 /' "$SYSLOG"
	assert_exit 1 actl audit verify --checkpoints "$SYSLOG"
	assert_contains "$OUT" "signature does not verify"
}

test_checkpoint_waits_for_the_configured_interval() {
	new_root
	conf_set audit checkpoint_interval 1h
	ISMS_TEST_NOW=1795000000 actl audit checkpoint >/dev/null
	assert_exit 0 env ISMS_TEST_NOW=1795003000 "$ACCESSCTL_BIN" --root "$ROOT" audit checkpoint
	assert_contains "$OUT" "checkpoint not due"
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'audit_checkpoint'")" 1
	ISMS_TEST_NOW=1795003700 actl audit checkpoint >/dev/null
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'audit_checkpoint'")" 2
	ISMS_TEST_NOW=1795003800 actl audit checkpoint --force >/dev/null
	assert_eq "$(sql state "SELECT count(*) FROM audit_events WHERE event = 'audit_checkpoint'")" 3
}

test_export_jsonl_and_csv_since_date() {
	new_root
	actl audit checkpoint >/dev/null
	local n
	n=$(actl audit export --since 2000-01-01 | wc -l)
	assert_eq "$n" 2
	actl audit export --since 2000-01-01 | python3 -c 'import sys, json; [json.loads(l) for l in sys.stdin]'
	n=$(ISMS_TEST_NOW=4102444800 actl audit export --since 2099-01-01 | wc -l)
	assert_eq "$n" 0
	OUT=$(actl audit export --format csv)
	assert_contains "$OUT" "seq,time,host,event,actor,subject,result,reason,details,hash"
	assert_contains "$OUT" '"audit_checkpoint"'
	assert_exit 2 actl audit export --format xml
}

test_tail_shows_last_events() {
	new_root
	actl audit checkpoint >/dev/null
	OUT=$(actl audit tail -n 1)
	assert_contains "$OUT" "event=audit_checkpoint"
	assert_not_contains "$OUT" "event=init"
}

run_tests
