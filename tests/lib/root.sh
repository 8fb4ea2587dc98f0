# A temporary root for one test: config, keys and stores from `accessctl init`,
# faked passwd/group for nss_wrapper, PAM service files with the built module,
# and captured syslog. Sourced after harness.sh.
ACCESSCTL_BIN=$BUILD/test/accessctl
PAMDRIVE=$BUILD/tools/pamdrive
MODULE=$BUILD/test/pam_isms.so
NSS_WRAPPER_LIB=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -1)
# Under the sanitizers nss_wrapper must not load libc with RTLD_DEEPBIND.
export NSS_WRAPPER_DISABLE_DEEPBIND=1

# new_root: sets ROOT, CONF and SYSLOG; writes a minimal passwd/group.
new_root() {
	ROOT=$(mktemp -d "$T_TMP/root.XXXXXX")
	CONF=$ROOT/etc/isms/isms.conf
	SYSLOG=$ROOT/syslog
	"$ACCESSCTL_BIN" --root "$ROOT" init >/dev/null || fail "accessctl init failed"
	mkdir -p "$ROOT/etc/pam.d"
	cat > "$ROOT/etc/passwd" <<PW
root:x:0:0:root:/root:/bin/bash
PW
	cat > "$ROOT/etc/group" <<GR
root:x:0:
GR
	: > "$SYSLOG"
}

# conf_set SECTION KEY VALUE: append/replace a key in the test config.
conf_set() {
	python3 - "$CONF" "$1" "$2" "$3" <<'PY'
import sys, re
path, sec, key, val = sys.argv[1:]
lines = open(path).read().split('\n')
out, cur, done = [], None, False
for l in lines:
    m = re.match(r'^\[(\w+)\]', l)
    if m:
        if cur == sec and not done:
            out.append(f'{key} = {val}'); done = True
        cur = m.group(1)
    if cur == sec and re.match(rf'^{key}\s*=', l):
        continue
    out.append(l)
if not done:
    if cur != sec:
        out.append(f'[{sec}]')
    out.append(f'{key} = {val}')
open(path, 'w').write('\n'.join(out) + '\n')
PY
}

# add_user NAME UID [GID] [SHELL]: an NSS account in the faked passwd.
add_user() {
	echo "$1:x:$2:${3:-$2}:$1:/home/$1:${4:-/bin/bash}" >> "$ROOT/etc/passwd"
	grep -q "^$1:" "$ROOT/etc/group" || echo "$1:x:${3:-$2}:" >> "$ROOT/etc/group"
}

# add_group_member GROUP GID USER
add_group_member() {
	if grep -q "^$1:" "$ROOT/etc/group"; then
		sed -i "s/^\($1:x:[0-9]*:\)\(.*\)$/\1\2,$3/; s/:,/:/" "$ROOT/etc/group"
	else
		echo "$1:x:$2:$3" >> "$ROOT/etc/group"
	fi
}

# pam_service NAME LINE...: a PAM service file in the root.
pam_service() {
	local name=$1; shift
	printf '%s\n' "$@" > "$ROOT/etc/pam.d/$name"
	[ -e "$ROOT/etc/pam.d/other" ] || printf 'auth required pam_deny.so\naccount required pam_deny.so\nsession required pam_deny.so\n' > "$ROOT/etc/pam.d/other"
}

# isms_service NAME [ARGS]: auth, account and session through the built module.
isms_service() {
	local name=$1; shift
	pam_service "$name" \
		"auth required $MODULE conf=$CONF $*" \
		"account required $MODULE conf=$CONF $*" \
		"session required $MODULE conf=$CONF $*"
}

# pamrun SERVICE USER [pamdrive options] PHASE...: one real PAM transaction.
pamrun() {
	local svc=$1 user=$2; shift 2
	LD_PRELOAD="$NSS_WRAPPER_LIB:$BUILD/tools/syslogcap.so" \
	NSS_WRAPPER_PASSWD=$ROOT/etc/passwd NSS_WRAPPER_GROUP=$ROOT/etc/group \
	ISMS_SYSLOG_CAPTURE=$SYSLOG \
	"$PAMDRIVE" -d "$ROOT/etc/pam.d" -s "$svc" -u "$user" "$@"
}

# actl ARGS: accessctl (test build) on this root, with the same faked NSS.
actl() {
	LD_PRELOAD="$NSS_WRAPPER_LIB:$BUILD/tools/syslogcap.so" \
	NSS_WRAPPER_PASSWD=$ROOT/etc/passwd NSS_WRAPPER_GROUP=$ROOT/etc/group \
	ISMS_SYSLOG_CAPTURE=$SYSLOG \
	"$ACCESSCTL_BIN" --root "$ROOT" "$@"
}

# actl_tty ARGS: actl under a pseudo-terminal (script(1)), for what is drawn
# only on a terminal; stdout and stderr together in $OUT, each carriage return
# (a progress bar redrawn) made a line end.
actl_tty() {
	local cmd="LD_PRELOAD='$NSS_WRAPPER_LIB:$BUILD/tools/syslogcap.so' NSS_WRAPPER_PASSWD='$ROOT/etc/passwd'" a
	cmd+=" NSS_WRAPPER_GROUP='$ROOT/etc/group' ISMS_SYSLOG_CAPTURE='$SYSLOG' exec '$ACCESSCTL_BIN' --root '$ROOT'"
	for a in "$@"; do cmd+=" '$a'"; done
	OUT=$(script -qfec "$cmd" /dev/null | tr '\r' '\n')
}

# sql STORE QUERY: read a store with sqlite3 (registry or state).
sql() { sqlite3 "$ROOT/var/lib/isms/$1.db" "$2"; }
