#!/bin/bash
# isms-rec, the recorder recorded accounts log in to: the session id check, the
# shell under a real pty recorded as asciicast v2, non-interactive passthrough,
# privilege dropping, encryption to the auditor key, tamper detection, and what
# happens when the recording cannot be written.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/root.sh"
. "$(dirname "$0")/rec_lib.sh"

# ---- the session id ----

test_forged_session_id_is_refused() {
	rec_setup
	open_session alice
	ID=0123456789abcdef0123456789abcdef
	assert_exit 1 rec_as 1001 -c 'echo SHELL-RAN'
	assert_contains "$OUT" "is not an open session of alice"
	assert_contains "$OUT" "refusing the session"
	assert_not_contains "$OUT" "SHELL-RAN"
	assert_eq "$(sql state "SELECT result || ' ' || reason FROM audit_events WHERE event = 'rec_start'")" \
		"deny invalid_session_id"
}

test_malformed_session_id_is_refused() {
	rec_setup
	ID="' OR 1=1 --"
	assert_exit 1 rec_as 1001 -c 'echo SHELL-RAN'
	assert_contains "$OUT" "ISMS_SESSION_ID is not a session id"
	assert_not_contains "$OUT" "SHELL-RAN"
}

test_session_id_of_another_user_is_refused() {
	rec_setup
	open_session bob
	assert_exit 1 rec_as 1001 -c 'echo SHELL-RAN'
	assert_contains "$OUT" "is not an open session of alice"
	assert_eq "$(sql state "SELECT status FROM sessions WHERE id = '$ID'")" "open"
}

test_session_id_is_claimed_only_once() {
	rec_setup
	open_session alice
	assert_exit 0 rec_as 1001 -c 'true' < /dev/null
	assert_exit 1 rec_as 1001 -c 'echo SHELL-RAN' < /dev/null
	assert_not_contains "$OUT" "SHELL-RAN"
}

test_closed_session_cannot_be_claimed() {
	rec_setup
	local out
	out=$(pamrun sshd alice -e ISMS_SESSION_ID open close)
	ID=$(echo "$out" | sed -n 's/^env ISMS_SESSION_ID=//p')
	assert_exit 1 rec_as 1001 -c 'echo SHELL-RAN' < /dev/null
	assert_not_contains "$OUT" "SHELL-RAN"
}

test_without_a_pam_session_the_recorder_opens_its_own_row() {
	rec_setup
	unset ID
	OUT=$(ISMS_SESSION_ID= "$T_TMP/as" 1001 env -u ISMS_SESSION_ID "$REC" --conf "$CONF" -c 'echo own-row' </dev/null 2>&1) ||
		fail "$OUT"
	assert_contains "$OUT" "own-row"
	assert_eq "$(sql state "SELECT service, status, must_record FROM sessions")" "isms-rec|closed|1"
}

test_conf_option_is_refused_when_setuid() {
	rec_setup
	cp "$REC" "$T_TMP/isms-rec-suid"
	chmod 4755 "$T_TMP/isms-rec-suid"
	# setuid is honoured only where the filesystem allows it; AT_SECURE is what matters.
	OUT=$(setpriv --reuid 1001 --regid 1001 --clear-groups "$T_TMP/isms-rec-suid" --conf "$CONF" -c true 2>&1) || true
	if [ "$(stat -c %u "$T_TMP/isms-rec-suid")" = 0 ] && ! findmnt -n -o OPTIONS -T "$T_TMP" | grep -q nosuid; then
		assert_contains "$OUT" "--conf is not honoured in a privileged recorder"
	fi
}

test_whole_session_open_recorder_close() {
	rec_setup
	# pam_exec runs the recorder inside the PAM session, with the PAM environment,
	# as sshd runs the login shell between open and close.
	# (pam_exec clears the environment: the sanitizer and nss_wrapper settings go in explicitly.)
	printf '#!/bin/sh\nexport ASAN_OPTIONS=%s UBSAN_OPTIONS=%s NSS_WRAPPER_DISABLE_DEEPBIND=1\nexec %s 1001 %s --conf %s -c "echo inside-$((3+4))" </dev/null >%s 2>&1\n' \
		"$ASAN_OPTIONS" "$UBSAN_OPTIONS" "$T_TMP/as" "$REC" "$CONF" "$T_TMP/shell.out" > "$T_TMP/shell.sh"
	pam_service sshd "session required $MODULE conf=$CONF" \
		"session required pam_exec.so type=open_session /bin/sh $T_TMP/shell.sh"
	assert_exit 0 pamrun sshd alice -e ISMS_SESSION_ID open close
	ID=$(echo "$OUT" | sed -n 's/^env ISMS_SESSION_ID=//p')
	assert_file_contains "$T_TMP/shell.out" "inside-7"
	assert_eq "$(sql state "SELECT status, exit_status, recorder_pid > 0, ended_at >= started_at FROM sessions WHERE id = '$ID'")" \
		"closed|0|1|1"
	assert_eq "$(sql state "SELECT group_concat(event, ' ') FROM (SELECT event FROM audit_events WHERE event IN ('session_open', 'rec_start', 'rec_end', 'session_close') ORDER BY seq)")" \
		"session_open rec_start rec_end session_close"
	assert_exit 0 actl rec verify "$ID" --key "$KEYS/aud.key"
}

# ---- who the shell runs as, and which shell ----

test_shell_runs_as_the_user_without_any_privilege() {
	rec_setup
	open_session alice
	assert_exit 0 rec_as 1001 -c 'id -u; id -G; grep -E "^Cap(Eff|Prm|Amb)" /proc/self/status' < /dev/null
	assert_contains "$OUT" "1001"$'\n'"1001 27"
	assert_contains "$OUT" "CapPrm:	0000000000000000"
	assert_contains "$OUT" "CapEff:	0000000000000000"
	assert_contains "$OUT" "CapAmb:	0000000000000000"
}

test_real_shell_comes_from_the_registry_not_the_environment() {
	rec_setup
	sql registry "UPDATE accounts SET real_shell = '/bin/sh' WHERE name = 'alice'"
	open_session alice
	OUT=$(ISMS_REAL_SHELL=/bin/bash SHELL=/bin/bash rec_as 1001 -c 'echo "bash=[${BASH_VERSION:-}] shell=$SHELL"' </dev/null 2>&1)
	assert_contains "$OUT" "bash=[] shell=/bin/sh"
}

test_recorder_as_its_own_real_shell_is_refused() {
	rec_setup
	sql registry "UPDATE accounts SET real_shell = '$REC' WHERE name = 'alice'"
	open_session alice
	assert_exit 1 rec_as 1001 -c 'echo SHELL-RAN' </dev/null
	assert_contains "$OUT" "cannot be run"
}

# ---- interactive: a real pty ----

test_interactive_output_is_in_the_exported_cast() {
	rec_setup
	open_session alice
	OUT=$(rec_pty --size 90x20 'send:echo MARK-$((6*7))\n' 'expect:MARK-42' 'send:exit 5\n') || rc=$?
	assert_eq "${rc:-0}" 5 "exit status of the shell"
	export_cast "$T_TMP/s.cast"
	local hdr
	hdr=$(head -1 "$T_TMP/s.cast")
	assert_eq "$(echo "$hdr" | python3 -c 'import json,sys; h=json.load(sys.stdin); print(h["version"], h["width"], h["height"], h["env"]["SHELL"], h["env"]["TERM"], h["timestamp"] > 0)')" \
		"2 90 20 /bin/bash xterm True"
	assert_contains "$hdr" "\"title\":\"alice@"
	assert_contains "$hdr" "$ID"
	python3 - "$T_TMP/s.cast" <<'PY' || fail "cast events: $(cat "$T_TMP/s.cast")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
events = [json.loads(l) for l in lines[1:]]
out = "".join(e[2] for e in events if e[1] == "o")
assert "MARK-42" in out, out
times = [e[0] for e in events]
assert times == sorted(times), times
PY
	assert_eq "$(sql state "SELECT status, mode, exit_status, bytes_out > 0 FROM sessions WHERE id = '$ID'")" \
		"closed|interactive|5|1"
}

test_heavy_output_is_recorded_in_full() {
	rec_setup
	open_session alice
	# Ten times what the writer thread queues: the shell waits for the recorder
	# rather than output going unrecorded.
	rec_pty 'send:yes 0123456789abcdefghijklmnopqrstuvwxyz | head -n 270000; echo END-$((1+1))\n' \
		'expect:END-2' 'send:exit\n' >/dev/null || fail "session failed"
	export_cast "$T_TMP/s.cast"
	python3 - "$T_TMP/s.cast" "$(sql state "SELECT bytes_out FROM sessions WHERE id = '$ID'")" <<'PY' ||
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[1:]]
out = "".join(e[2] for e in events if e[1] == "o")
assert out.count("0123456789abcdefghijklmnopqrstuvwxyz\r\n") == 270000, out.count("0123456789abcdefghijklmnopqrstuvwxyz\r\n")
assert len(out.encode()) == int(sys.argv[2]), (len(out.encode()), sys.argv[2])
times = [e[0] for e in events]
assert times == sorted(times)
PY
		fail "the recording does not hold all the output"
	rm -f "$T_TMP/s.cast"
}

test_recording_is_unreadable_on_the_host() {
	rec_setup
	open_session alice
	rec_pty 'send:echo SECRET-$((40+2))\n' 'expect:SECRET-42' 'send:exit\n' >/dev/null
	local f
	f=$(recording)
	[ -s "$f" ] || fail "no recording at $f"
	assert_eq "$(stat -c %a "$f")" 600
	! grep -q "SECRET-42" "$f" || fail "plaintext in the recording file"
	! grep -q '"version"' "$f" || fail "asciicast header in clear"
}

test_resize_is_recorded_and_reaches_the_shell() {
	rec_setup
	open_session alice
	# The new size reaches the shell's terminal once isms-rec has handled SIGWINCH.
	OUT=$(rec_pty --size 80x24 'send:echo A-$((1+1))\n' 'expect:A-2' 'resize:120x40' \
		'send:until [ "$(stty size)" = "40 120" ]; do sleep 0.05; done; echo RESIZED-$((1+1))\n' \
		'expect:RESIZED-2' 'send:exit\n') || fail "$OUT"
	export_cast "$T_TMP/s.cast"
	assert_file_contains "$T_TMP/s.cast" '"r", "120x40"]'
}

test_input_is_not_recorded_by_default() {
	rec_setup
	sql registry "UPDATE accounts SET real_shell = '/bin/sh' WHERE name = 'alice'"
	open_session alice
	rec_pty 'send:echo typed-$((2+2))\n' 'expect:typed-4' 'send:exit\n' >/dev/null
	export_cast "$T_TMP/s.cast"
	assert_file_not_contains "$T_TMP/s.cast" '"i",'
}

test_input_typed_with_echo_off_is_never_recorded() {
	rec_setup
	conf_set session record_input yes
	sql registry "UPDATE accounts SET real_shell = '/bin/sh' WHERE name = 'alice'"
	open_session alice
	OUT=$(rec_pty 'send:echo typed-$((2+2))\n' 'expect:typed-4' \
		'send:stty -echo; echo NOECHO-$((1+1)); read PW; stty echo; echo got-${#PW}\n' 'expect:NOECHO-2' \
		'send:hunter2-password\n' 'expect:got-16' 'send:exit\n') || fail "$OUT"
	export_cast "$T_TMP/s.cast"
	assert_file_contains "$T_TMP/s.cast" '"i", "echo typed-$((2+2))\n"]'
	assert_file_not_contains "$T_TMP/s.cast" "hunter2"
	assert_not_contains "$(sql state "SELECT group_concat(details) FROM audit_events")" "hunter2"
}

test_asciinema_accepts_the_export() {
	rec_setup
	open_session alice
	rec_pty 'send:printf "caf\\303\\251 %s\\n" ok-$((3*3))\n' 'expect:ok-9' 'send:exit\n' >/dev/null
	export_cast "$T_TMP/s.cast"
	# asciinema reads the terminal for its keys, so it runs under a pty too.
	OUT=$($PTYDRIVE -- asciinema cat "$T_TMP/s.cast" 2>&1) || fail "asciinema cat refused the export: $OUT"
	assert_contains "$OUT" "café ok-9"
	OUT=$($PTYDRIVE -- asciinema play -s 50 -i 0.1 "$T_TMP/s.cast" 2>&1) || fail "asciinema play refused: $OUT"
	assert_contains "$OUT" "café ok-9"
}

test_play_replays_the_output() {
	rec_setup
	open_session alice
	rec_pty 'send:echo PLAY-$((5+5)); printf "\\033[1mBOLD\\033[0m\\n"\n' 'expect:PLAY-10' 'send:exit\n' >/dev/null
	assert_exit 0 actl rec play "$ID" --key "$KEYS/aud.key" --speed 100
	assert_contains "$OUT" "PLAY-10"
	# On a terminal too the session's own escapes are replayed as they were
	# (every other command shows control characters escaped there).
	actl_tty rec play "$ID" --key "$KEYS/aud.key" --speed 100
	assert_contains "$OUT" "PLAY-10"
	assert_contains "$OUT" "$(printf '\033[1mBOLD\033[0m')"
}

test_flushed_while_the_session_runs() {
	rec_setup
	open_session alice
	# The shell waits for a file the test creates once the recording has grown:
	# output is sealed within flush_interval without the session ending.
	(
		f=""
		for _ in $(seq 200); do
			f=$(recording)
			[ -n "$f" ] && [ "$(stat -c %s "$f" 2>/dev/null || echo 0)" -gt 300 ] && break
			sleep 0.05
		done
		[ -n "$f" ] && actl rec verify "$ID" > "$T_TMP/verify-during" 2>&1
		touch "$T_TMP/go"
	) &
	OUT=$(rec_pty 'send:echo FLUSH-$((1+2)); while [ ! -e '"$T_TMP"'/go ]; do sleep 0.05; done; echo DONE-$((2+2))\n' \
		'expect:DONE-4' 'send:exit\n') || fail "$OUT"
	wait
	assert_file_contains "$T_TMP/verify-during" "not finished: still being recorded"
	assert_exit 0 actl rec verify "$ID"
}

# ---- non-interactive ----

test_noninteractive_passes_100MB_binary_stream_unchanged() {
	rec_setup
	open_session alice
	head -c 100M /dev/urandom > "$T_TMP/in.bin"
	rec_as 1001 -c 'cat' < "$T_TMP/in.bin" > "$T_TMP/out.bin" 2> "$T_TMP/err" || fail "$(cat "$T_TMP/err")"
	assert_eq "$(sha256sum < "$T_TMP/out.bin")" "$(sha256sum < "$T_TMP/in.bin")"
	[ ! -s "$T_TMP/err" ] || fail "something printed: $(cat "$T_TMP/err")"
	assert_eq "$(sql state "SELECT bytes_in, bytes_out, status, mode FROM sessions WHERE id = '$ID'")" \
		"104857600|104857600|closed|noninteractive"
	# metadata mode: the recording holds the facts, not the stream
	[ "$(stat -c %s "$(recording)")" -lt 4096 ] || fail "recording holds the stream"
	rm -f "$T_TMP"/*.bin
}

test_noninteractive_metadata_records_command_exit_and_counts() {
	rec_setup
	open_session alice
	OUT=$(printf 'abc' | rec_as 1001 -c 'cat; echo err-out >&2; exit 7' 2>"$T_TMP/err") && fail "exit 0"
	assert_eq "$OUT" "abc"
	assert_eq "$(cat "$T_TMP/err")" "err-out"
	assert_eq "$(sql state "SELECT command, exit_status, bytes_in, bytes_out FROM sessions WHERE id = '$ID'")" \
		"cat; echo err-out >&2; exit 7|7|3|11"
	export_cast "$T_TMP/s.cast"
	assert_file_contains "$T_TMP/s.cast" '"command":"cat; echo err-out >&2; exit 7"'
	assert_file_contains "$T_TMP/s.cast" '"m", "exit=7 bytes_in=3 bytes_out=11"]'
	assert_file_not_contains "$T_TMP/s.cast" "err-out\\n"
}

test_noninteractive_prints_no_notice() {
	rec_setup
	open_session alice
	OUT=$(rec_as 1001 -c 'true' </dev/null 2>&1)
	assert_eq "$OUT" ""
}

test_noninteractive_full_records_the_streams() {
	rec_setup
	conf_set session noninteractive full
	open_session alice
	OUT=$(echo hello-in | rec_as 1001 -c 'cat; echo out-$((1+1))')
	assert_eq "$OUT" "hello-in"$'\n'"out-2"
	export_cast "$T_TMP/s.cast"
	assert_file_contains "$T_TMP/s.cast" '"i", "hello-in\n"]'
	assert_file_contains "$T_TMP/s.cast" 'out-2\n"]'
}

test_noninteractive_deny_refuses_commands() {
	rec_setup
	conf_set session noninteractive deny
	open_session alice
	assert_exit 1 rec_as 1001 -c 'echo SHELL-RAN' </dev/null
	assert_not_contains "$OUT" "SHELL-RAN"
	assert_contains "$OUT" "not allowed"
}

# ---- encryption and tamper detection ----

# A recording with several chunks: 1.5 MB of output recorded in full.
multi_chunk_recording() {
	rec_setup
	conf_set session noninteractive full
	open_session alice
	rec_as 1001 -c 'head -c 1500000 /dev/zero | tr "\0" x' </dev/null >/dev/null
	FILE=$(recording)
	[ "$(python3 "$TOP/tests/rec/recedit.py" "$FILE" frames)" -ge 4 ] || fail "expected several chunks"
}

test_intact_recording_verifies_with_and_without_the_key() {
	multi_chunk_recording
	assert_exit 0 actl rec verify "$ID"
	assert_contains "$OUT" "recording intact"
	assert_exit 0 actl rec verify "${ID:0:12}" --key "$KEYS/aud.key"
	assert_contains "$OUT" "every chunk authenticated"
}

test_truncated_recording_fails_verify() {
	multi_chunk_recording
	python3 "$TOP/tests/rec/recedit.py" "$FILE" drop-last
	assert_exit 1 actl rec verify "$ID"
	assert_contains "$OUT" "no final chunk"
	multi_chunk_recording
	python3 "$TOP/tests/rec/recedit.py" "$FILE" cut-inside
	assert_exit 1 actl rec verify "$ID"
	assert_contains "$OUT" "truncated inside chunk"
	assert_exit 1 actl rec export "$ID" --key "$KEYS/aud.key" -o "$T_TMP/part.cast"
	assert_contains "$OUT" "holds what could be authenticated"
}

test_reordered_recording_fails_verify() {
	multi_chunk_recording
	python3 "$TOP/tests/rec/recedit.py" "$FILE" swap 1 2
	assert_exit 1 actl rec verify "$ID"
	assert_contains "$OUT" "chunk 1: chain link mismatch"
}

test_edited_recording_fails_verify() {
	multi_chunk_recording
	python3 "$TOP/tests/rec/recedit.py" "$FILE" flip 2
	assert_exit 1 actl rec verify "$ID"
	assert_contains "$OUT" "chunk 2: chain link mismatch"
}

test_edit_with_a_recomputed_chain_is_still_detected() {
	multi_chunk_recording
	python3 "$TOP/tests/rec/recedit.py" "$FILE" flip-rechain 2
	# Without the key: the chain head no longer matches the one the recorder stored.
	assert_exit 1 actl rec verify "$ID"
	assert_contains "$OUT" "does not match what the recorder wrote"
	# With it: the chunk does not authenticate.
	assert_exit 1 actl rec verify "$ID" --key "$KEYS/aud.key"
	assert_contains "$OUT" "chunk 2: does not authenticate"
}

test_recording_swapped_for_another_session_fails_verify() {
	rec_setup
	open_session alice
	rec_as 1001 -c true </dev/null
	local first=$ID
	open_session alice
	rec_as 1001 -c true </dev/null
	cp "$(sql state "SELECT recording_path FROM sessions WHERE id = '$first'")" "$(recording)"
	assert_exit 1 actl rec verify "$ID"
	assert_contains "$OUT" "belongs to recording $first"
}

test_wrong_key_cannot_decrypt() {
	rec_setup
	open_session alice
	rec_as 1001 -c 'echo hello' </dev/null >/dev/null
	actl rec keygen -o "$KEYS/other" >/dev/null
	assert_exit 1 actl rec export "$ID" --key "$KEYS/other.key" -o "$T_TMP/x.cast"
	assert_contains "$OUT" "wrong auditor key"
	assert_contains "$OUT" "nothing exported"
	[ ! -e "$T_TMP/x.cast" ] || fail "an export file was left"
	assert_exit 1 actl rec play "$ID" --key "$KEYS/other.key"
}

test_private_key_must_be_private() {
	rec_setup
	open_session alice
	rec_as 1001 -c true </dev/null
	chmod 644 "$KEYS/aud.key"
	assert_exit 2 actl rec export "$ID" --key "$KEYS/aud.key" -o "$T_TMP/x.cast"
	assert_contains "$OUT" "must be mode 0600"
}

# ---- when the recording cannot be written ----

# with_full_disk CMD...: CMD with the recordings directory on a 1 MiB tmpfs or,
# where mounting is not allowed, under a 4 MiB file size limit (EFBIG).
with_full_disk() {
	local dir=$ROOT/var/lib/isms/recordings rc=0
	if mount -t tmpfs -o size=1m,mode=0700 tmpfs "$dir" 2>/dev/null; then
		"$@" || rc=$?
		umount "$dir"
	else
		( ulimit -f 4096; "$@" ) || rc=$?
	fi
	return $rc
}
FLOOD='send:head -c 10000000 /dev/zero | tr "\\0" y; echo; echo AFTER-$((1+1))\n'

test_full_disk_ends_the_session_with_a_message() {
	rec_setup
	open_session alice
	OUT=$(with_full_disk rec_pty "$FLOOD" 2>&1) && fail "session went on: $(echo "$OUT" | tail -c 300)"
	assert_contains "$OUT" "the session recording cannot be written"
	assert_contains "$OUT" "ending the session"
	assert_not_contains "$OUT" "AFTER-2"
	assert_eq "$(sql state "SELECT status FROM sessions WHERE id = '$ID'")" "failed"
	assert_eq "$(sql state "SELECT result || ' ' || reason FROM audit_events WHERE event = 'rec_end'")" \
		"fail recording_failed"
}

test_on_record_error_continue_warns_and_goes_on_unrecorded() {
	rec_setup
	conf_set session on_record_error continue
	open_session alice
	OUT=$(with_full_disk rec_pty "$FLOOD" 'expect:AFTER-2' 'send:exit\n' 2>&1) ||
		fail "session ended: $(echo "$OUT" | tail -c 300)"
	assert_contains "$OUT" "continuing UNRECORDED"
	assert_eq "$(sql state "SELECT status FROM sessions WHERE id = '$ID'")" "failed"
}

test_missing_recordings_directory_refuses_the_session() {
	rec_setup
	rmdir "$ROOT/var/lib/isms/recordings"
	open_session alice
	assert_exit 1 rec_as 1001 -c 'echo SHELL-RAN' </dev/null
	assert_not_contains "$OUT" "SHELL-RAN"
	assert_contains "$OUT" "recordings directory"
}

test_missing_auditor_key_refuses_the_session() {
	rec_setup
	rm "$ROOT/etc/isms/auditor.pub"
	open_session alice
	assert_exit 1 rec_as 1001 -c 'echo SHELL-RAN' </dev/null
	assert_not_contains "$OUT" "SHELL-RAN"
	assert_contains "$OUT" "auditor.pub"
}

run_tests
