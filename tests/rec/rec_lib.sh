# Shared by the recorder suites: a root where alice (privileged) is recorded,
# the auditor key pair, and running isms-rec as alice. Sourced after root.sh.
REC=$BUILD/test/isms-rec
# nss_wrapper binds libc with RTLD_DEEPBIND, which the sanitizer runtime refuses.
export NSS_WRAPPER_DISABLE_DEEPBIND=1
PTYDRIVE="python3 $TOP/tests/rec/ptydrive.py"

# rec_setup: alice (uid 1001, sudo) recorded by the test build of isms-rec; keys in $KEYS.
rec_setup() {
	new_root
	# The shell runs as alice and reads the faked passwd through nss_wrapper.
	chmod 755 "$T_TMP" "$ROOT" "$ROOT/etc"
	add_user alice 1001 1001 /bin/bash
	add_user bob 1002 1002 /bin/bash
	add_group_member sudo 27 alice
	conf_set session recorder "$REC"
	conf_set session flush_interval 1s
	sql registry "INSERT INTO accounts (name, uid, gid, kind, source, shell, created_at, updated_at)
		VALUES ('alice', 1001, 1001, 'human', 'local', '/bin/bash', 0, 0),
		       ('bob', 1002, 1002, 'human', 'local', '/bin/bash', 0, 0)"
	KEYS=$(mktemp -d "$T_TMP/auditor.XXXXXX")
	actl rec keygen -o "$KEYS/aud" --install >/dev/null || fail "keygen failed"
	actl rec enable alice >/dev/null || fail "enable failed"
	pam_service sshd "session required $MODULE conf=$CONF"
	# A wrapper that starts a program as the given uid the way a setuid-root
	# isms-rec starts: the user's ids, with the privilege to open root-only
	# files, which isms-rec must drop before the shell runs.
	cat > "$T_TMP/as" <<EOF
#!/bin/sh
uid=\$1; shift
exec env HOME=/tmp LD_PRELOAD="$NSS_WRAPPER_LIB" NSS_WRAPPER_PASSWD=$ROOT/etc/passwd \
	NSS_WRAPPER_GROUP=$ROOT/etc/group setpriv --reuid \$uid --regid \$uid --clear-groups \
	--inh-caps +dac_override,+setuid,+setgid --ambient-caps +dac_override,+setuid,+setgid "\$@"
EOF
	chmod 755 "$T_TMP/as"
}

# open_session USER: a real PAM session open; sets ID.
open_session() {
	local out
	out=$(pamrun sshd "$1" -e ISMS_SESSION_ID open) || fail "session open failed: $out"
	ID=$(echo "$out" | sed -n 's/^env ISMS_SESSION_ID=//p')
	[ -n "$ID" ] || fail "no session id: $out"
}

# rec_as UID ARGS...: isms-rec as that user, with this session's id.
rec_as() {
	local uid=$1; shift
	ISMS_SESSION_ID=$ID "$T_TMP/as" "$uid" "$REC" --conf "$CONF" "$@"
}

# rec_pty [--size CxR] ACTIONS...: an interactive isms-rec session as alice under
# a real pty; the first action waits for the shell's prompt, as a person would.
rec_pty() {
	local size=()
	[ "${1:-}" = --size ] && { size=(--size "$2"); shift 2; }
	ISMS_SESSION_ID=$ID TERM=xterm $PTYDRIVE "${size[@]}" 'expect:$ ' "$@" -- "$T_TMP/as" 1001 "$REC" --conf "$CONF"
}

# export_cast FILE: decrypt this session's recording with the auditor key.
export_cast() { actl rec export "$ID" --key "$KEYS/aud.key" -o "$1" >/dev/null || fail "export failed"; }

recording() { sql state "SELECT recording_path FROM sessions WHERE id = '$ID'"; }
