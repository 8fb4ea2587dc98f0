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
export -f pam_txn_us baseline_us ratio

printf '%-48s %14s %14s %8s\n' "benchmark" "ours" "anchor" "ratio"
for b in "$TOP"/tests/bench/bench.d/*.sh; do
	[ -e "$b" ] || continue
	# shellcheck disable=SC1090
	. "$b"
done
