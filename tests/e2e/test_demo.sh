#!/bin/bash
# The demo runs to the end and its final checks pass.
. "$(dirname "$0")/../lib/harness.sh"

test_demo_runs_to_completion() {
	local out
	out=$(B=$B bash "$TOP/tests/e2e/demo.sh" 2>&1) || fail "demo failed: $(echo "$out" | tail -20)"
	assert_contains "$out" "no findings"
	assert_contains "$out" "audit chain intact"
	assert_contains "$out" "demo finished"
}

run_tests
