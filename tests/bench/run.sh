#!/bin/bash
# make bench: each figure beside its anchor, measured in the same run.
# Each benchmark is a file in bench.d/, run in order.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
: "${B:=build}"
BUILD=$TOP/$B
BENCH=$(mktemp -d /tmp/isms-bench.XXXXXX)
export TOP BUILD BENCH
trap 'for f in "$BENCH"/*.pid; do [ -e "$f" ] && { kill "$(cat "$f")" 2>/dev/null || true; }; done; rm -rf "$BENCH"' EXIT
NSS_WRAPPER_LIB=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -1)
export NSS_WRAPPER_LIB

# pam_txn_us CONFDIR SERVICE USER N [pamdrive args] PHASES: mean µs per transaction.
pam_txn_us() {
	local dir=$1 svc=$2 user=$3 n=$4; shift 4
	"$BUILD/tools/pamdrive" -q -d "$dir" -s "$svc" -u "$user" -n "$n" "$@" | sed -n 's/per_transaction_us=//p'
}
# baseline_us N: a bare pam_permit transaction (start, authenticate, acct, end).
baseline_us() {
	mkdir -p "$BENCH/permit"
	printf 'auth required pam_permit.so\naccount required pam_permit.so\n' > "$BENCH/permit/permit"
	pam_txn_us "$BENCH/permit" permit nobody "$1" auth acct
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# min A B: the smaller of two figures.
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? a : b }'; }
# best_pair ROUNDS ANCHOR_FN OURS_FN: calls each ROUNDS times, alternating
# (ANCHOR_FN ROUND, then OURS_FN ROUND), each printing µs per transaction;
# prints "ANCHOR OURS", the best round of each. On a shared machine the best
# round is the one least disturbed by other work; alternating gives both the
# same chances. A function that fails stops the bench.
best_pair() {
	local rounds=$1 fa=$2 fo=$3 a o ba=1e12 bo=1e12
	for ((r = 0; r < rounds; r++)); do
		a=$("$fa" "$r") && [ -n "$a" ] || { echo "bench: $fa failed" >&2; return 1; }
		o=$("$fo" "$r") && [ -n "$o" ] || { echo "bench: $fo failed" >&2; return 1; }
		ba=$(min "$ba" "$a"); bo=$(min "$bo" "$o")
	done
	echo "$ba $bo"
}
# cold_us N CMD...: mean µs of N runs of CMD, each a new process (one login
# per process, as sshd runs one connection). "@N@" in an argument becomes the
# run number plus COLD_FIRST (default 0). Each run must exit COLD_RC (default 0;
# a refusal is the PAM code, e.g. 10 for PAM_USER_UNKNOWN).
cold_us() {
	local n=$1 t0 t1; shift
	t0=$(date +%s%N)
	for ((i = 0; i < n; i++)); do
		"${@//@N@/$((i + ${COLD_FIRST:-0}))}" >/dev/null 2>&1
		[ $? = "${COLD_RC:-0}" ] || { echo "bench: $* exited other than ${COLD_RC:-0}" >&2; return 1; }
	done
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n / 1000 }'
}
row() { printf '%-48s %12s µs %11s µs %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
export -f pam_txn_us baseline_us ratio min best_pair cold_us row

printf '%-48s %14s %14s %8s\n' "benchmark" "ours" "anchor" "ratio"
for b in "$TOP"/tests/bench/bench.d/*.sh; do
	[ -e "$b" ] || continue
	# shellcheck disable=SC1090
	. "$b"
done
