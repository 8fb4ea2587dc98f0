# Shell test harness, sourced by tests/*/test_*.sh (bash).
# Each function named test_* is one test, run in a subshell with `set -e`;
# the script ends with run_tests, which prints "N passed, N failed".
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${B:=build}"
BUILD=$TOP/$B
T_TMP=$(mktemp -d /tmp/isms-test.XXXXXX)
trap 'rm -rf "$T_TMP"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:verify_asan_link_order=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

fail() { echo "    FAIL: $*" >&2; exit 1; }
assert_eq() { [ "$1" = "$2" ] || fail "expected '$2', got '$1'${3:+ ($3)}"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "expected to find '$2' in: $1";; esac; }
assert_not_contains() { case "$1" in *"$2"*) fail "did not expect '$2' in: $1";; esac; }
assert_file_contains() { grep -qF -- "$2" "$1" || fail "expected '$2' in $1: $(tail -5 "$1" 2>/dev/null)"; }
assert_file_not_contains() { ! grep -qF -- "$2" "$1" || fail "did not expect '$2' in $1"; }
# assert_exit CODE CMD...: run CMD, check its exit status, keep its output in $OUT.
assert_exit() {
	local want=$1 got=0; shift
	OUT=$("$@" 2>&1) || got=$?
	[ "$got" = "$want" ] || fail "exit $got, expected $want: $* => $OUT"
}

run_tests() {
	local pass=0 failn=0 name
	for name in $(declare -F | awk '{print $3}' | grep '^test_'); do
		if ( set -e; "$name" ) > "$T_TMP/out.$name" 2>&1; then
			pass=$((pass + 1)); echo "ok   $name"
		else
			failn=$((failn + 1)); echo "FAIL $name"; sed 's/^/    /' "$T_TMP/out.$name" | tail -40
		fi
	done
	echo "$pass passed, $failn failed"
	[ "$failn" -eq 0 ]
}
