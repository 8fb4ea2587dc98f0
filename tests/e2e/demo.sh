#!/bin/bash
# make demo: the whole story in a temporary root, narrated step by step.
# Each step is a file in demo.d/, run in order; a step that fails stops the demo.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
: "${B:=build}"
BUILD=$TOP/$B
DEMO=$(mktemp -d /tmp/isms-demo.XXXXXX)
ROOT=$DEMO/root
export TOP BUILD DEMO ROOT
cleanup() { for f in "$DEMO"/*.pid; do [ -e "$f" ] && { kill "$(cat "$f")" 2>/dev/null || true; }; done; rm -rf "$DEMO"; }
trap cleanup EXIT

ACCESSCTL="$BUILD/accessctl --root $ROOT"
CONF=$ROOT/etc/isms/isms.conf
NSS_WRAPPER_LIB=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -1)
# Under the sanitizers nss_wrapper must not load libc with RTLD_DEEPBIND.
export NSS_WRAPPER_DISABLE_DEEPBIND=1

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s|$BUILD/||g; s|$DEMO|\$DEMO|g"; "$@"; }
# login SERVICE USER [pamdrive options] PHASE...: a real PAM transaction with faked NSS.
login() {
	local svc=$1 user=$2; shift 2
	LD_PRELOAD="$NSS_WRAPPER_LIB" NSS_WRAPPER_PASSWD=$ROOT/etc/passwd NSS_WRAPPER_GROUP=$ROOT/etc/group \
		"$BUILD/tools/pamdrive" -d "$ROOT/etc/pam.d" -s "$svc" -u "$user" "$@"
}
export -f say run login

start=$(date +%s)
for step in "$TOP"/tests/e2e/demo.d/*.sh; do
	# shellcheck disable=SC1090
	. "$step"
done
say "demo finished in $(( $(date +%s) - start )) s; temporary root removed"
