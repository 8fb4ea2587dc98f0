#!/bin/sh
# Run every test: cmocka unit binaries, fuzz-corpus replays, then the shell
# suites (PAM stack, LDAP, e2e). Prints "N passed, N failed"; non-zero on failure.
set -u
: "${B:=build}"
export B
pass=0; failed=0; failures=""
cd "$(dirname "$0")/.."
export ASAN_OPTIONS="detect_leaks=1:verify_asan_link_order=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
log=$(mktemp)

for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	echo "== $t"
	"$t" > "$log" 2>&1; rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | head -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | head -1)
	pass=$((pass + ${p:-0})); failed=$((failed + ${f:-0}))
	if [ $rc -ne 0 ] && [ -z "$f" ]; then failed=$((failed + 1)); fi
	[ $rc -ne 0 ] && failures="$failures $t"
done

for t in "$B"/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	echo "== $t (corpus replay)"
	if "$t" tests/fuzz/corpus/"${name#fuzz_}"/* > "$log" 2>&1; then
		pass=$((pass + 1)); echo "ok   $name"
	else
		failed=$((failed + 1)); failures="$failures $t"; cat "$log"
	fi
done

for s in tests/*/test_*.sh; do
	[ -f "$s" ] || continue
	echo "== $s"
	bash "$s" > "$log" 2>&1; rc=$?
	cat "$log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p'); f=$(echo "$line" | sed -n 's/.*passed, \([0-9]*\) failed.*/\1/p')
	pass=$((pass + ${p:-0})); failed=$((failed + ${f:-0}))
	if [ $rc -ne 0 ] && [ "${f:-0}" = 0 ]; then failed=$((failed + 1)); fi
	[ $rc -ne 0 ] && failures="$failures $s"
done
rm -f "$log"
[ -n "$failures" ] && echo "failing:$failures"
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
