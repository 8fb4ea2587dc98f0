# 50 recording: a privileged session runs under isms-rec, is sealed to the
# auditor's key, and only the auditor can play it back. Sourced by demo.sh.

say "Recording: privileged sessions are recorded, readable only by the auditor"
export NSS_WRAPPER_DISABLE_DEEPBIND=1   # nss_wrapper vs the sanitizer runtime (make SAN=1)
[ -e "$CONF" ] || $ACCESSCTL init >/dev/null
mkdir -p "$ROOT/etc/pam.d"
touch "$ROOT/etc/passwd" "$ROOT/etc/group"
# dana administers this host (group sudo), so her sessions must be recorded.
grep -q '^dana:' "$ROOT/etc/passwd" || echo "dana:x:1500:1500:Dana Admin:/home/dana:/bin/bash" >> "$ROOT/etc/passwd"
grep -q '^dana:' "$ROOT/etc/group" || echo "dana:x:1500:" >> "$ROOT/etc/group"
if grep -q '^sudo:' "$ROOT/etc/group"; then
	grep -q '^sudo:.*dana' "$ROOT/etc/group" || sed -i 's/^\(sudo:[^:]*:[^:]*:\)\(.*\)$/\1\2,dana/; s/^\(sudo:[^:]*:[^:]*:\),/\1/' "$ROOT/etc/group"
else
	echo "sudo:x:27:dana" >> "$ROOT/etc/group"
fi
DANA_UID=$(awk -F: '$1 == "dana" { print $3 }' "$ROOT/etc/passwd")
DANA_GID=$(awk -F: '$1 == "dana" { print $4 }' "$ROOT/etc/passwd")
sqlite3 "$ROOT/var/lib/isms/registry.db" "INSERT OR IGNORE INTO accounts (name, uid, gid, kind, source, shell, created_at, updated_at)
	VALUES ('dana', $DANA_UID, $DANA_GID, 'human', 'local', '/bin/bash', strftime('%s'), strftime('%s'))"
grep -q "^recorder = $BUILD/isms-rec" "$CONF" || sed -i "s|^\[session\]|[session]\nrecorder = $BUILD/isms-rec|" "$CONF"
[ -e "$ROOT/etc/pam.d/sshd" ] || printf 'session required %s conf=%s\n' "$BUILD/pam_isms.so" "$CONF" > "$ROOT/etc/pam.d/sshd"
# The shell runs as dana and reads the demo's passwd file (nss_wrapper).
chmod 755 "$DEMO" "$ROOT" "$ROOT/etc"
KEYDIR=$DEMO/auditor-laptop
mkdir -p "$KEYDIR"

say "Without the recorder as her shell, dana's session is refused (record = enforce)"
run login sshd dana open || true

say "The auditor makes a key pair; only the public half stays on the host"
run $ACCESSCTL rec keygen -o "$KEYDIR/auditor" --install
run $ACCESSCTL rec enable dana

say "dana logs in: pam_isms opens the session and hands isms-rec its id"
out=$(login sshd dana -r 192.0.2.10 -t pts/7 -e ISMS_SESSION_ID -e ISMS_REAL_SHELL open)
echo "$out"
DANA_ID=$(echo "$out" | sed -n 's/^env ISMS_SESSION_ID=//p')

say "Her shell is isms-rec: she works as usual under a pseudo-terminal, recorded"
# Started the way a setuid-root isms-rec starts: dana's ids, with the privilege
# to write the root-only recordings, dropped before her shell runs.
ISMS_SESSION_ID=$DANA_ID TERM=xterm HOME=/tmp python3 "$TOP/tests/rec/ptydrive.py" --size 100x30 \
	'expect:$ ' 'send:id -un; echo "restarting web tier: $((2+2)) nodes"\n' 'expect:4 nodes' \
	'send:stty -echo; echo TOKEN-$((6*7)):; read tok; stty echo; echo token accepted\n' 'expect:TOKEN-42:' \
	'send:not-in-the-recording\n' 'expect:token accepted' 'send:exit\n' -- \
	env LD_PRELOAD="$NSS_WRAPPER_LIB" NSS_WRAPPER_PASSWD=$ROOT/etc/passwd NSS_WRAPPER_GROUP=$ROOT/etc/group \
	setpriv --reuid "$DANA_UID" --regid "$DANA_GID" --clear-groups --inh-caps +dac_override,+setuid,+setgid \
	--ambient-caps +dac_override,+setuid,+setgid "$BUILD/isms-rec" --conf "$CONF" | tr -d '\r'
login sshd dana open close >/dev/null

say "On the host the recording is ciphertext; the list shows the session"
run $ACCESSCTL rec list --user dana
! grep -q "restarting web tier" "$ROOT/var/lib/isms/recordings/$DANA_ID.isr" && echo "(no plaintext in $DANA_ID.isr)"

say "Anyone can check the recording is whole, without the key"
run $ACCESSCTL rec verify "$DANA_ID"

say "The auditor plays it back with the private key (100x speed)"
run $ACCESSCTL rec play "$DANA_ID" --key "$KEYDIR/auditor.key" --speed 100 | tr -d '\r'
run $ACCESSCTL rec export "$DANA_ID" --key "$KEYDIR/auditor.key" -o "$DEMO/dana.cast"
grep -q "not-in-the-recording" "$DEMO/dana.cast" || echo "(the token typed with echo off is not in the recording)"
if command -v asciinema >/dev/null; then
	run python3 "$TOP/tests/rec/ptydrive.py" -- asciinema cat "$DEMO/dana.cast" | tr -d '\r' | tail -3
fi

