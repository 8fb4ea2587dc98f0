# MFA: one full PAM authentication (start, authenticate with a valid TOTP code,
# account, end) with 100,000 enrolled users, beside a bare pam_permit transaction
# and pam_oath (Debian libpam-oath) with a 100,000-line usersfile, same run.
#
# Honest measuring despite replay protection: both modules refuse a code already
# used, so repeating one user would time the refusal path. Every user here holds
# the same secret (bench only), so one code from oathtool is valid for all of
# them, and each transaction is a different user (pamdrive -u 'u%d'), each on
# its first use: the full path (registry lookup, secret opened, check-and-set
# written, audit event appended) every time. Real clock, production build; the
# window (pam_isms 1 step, pam_oath window=2) covers a step boundary in the run.
# Both log in the first users of the file (u0, u1, ...): pam_oath's best case
# for finding the line; its rewrite of the whole file on success is paid anyway.
# pam_isms against pam_permit: the best of five alternating rounds of each.
# Fewer pam_oath iterations (MFA_BENCH_OATH_N) because each takes tens of ms.
mfa_users=${MFA_BENCH_USERS:-100000}
mfa_n=${MFA_BENCH_N:-2000}
oath_n=${MFA_BENCH_OATH_N:-50}
[ $((5 * mfa_n + ${MFA_BENCH_COLD:-100})) -le "$mfa_users" ] || { echo "40-mfa: MFA_BENCH_USERS too small" >&2; exit 1; }
[ "$oath_n" -le "$mfa_users" ] || oath_n=$mfa_users
mdir=$BENCH/mfa
mroot=$mdir/root
mhex=3132333435363738393031323334353637383930
mkdir -p "$mdir/pam.d"
"$BUILD/accessctl" --root "$mroot" init >/dev/null
mnow=$(date +%s)
sqlite3 "$mroot/var/lib/isms/registry.db" "
	WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $mfa_users - 1)
	INSERT INTO people (employee_no, name, created_at, updated_at) SELECT 'E' || i, 'u' || i, $mnow, $mnow FROM n;
	INSERT INTO accounts (name, uid, gid, person_id, kind, created_at, updated_at)
	SELECT 'u' || (id - 1), 200000 + id, 200000 + id, id, 'human', $mnow, $mnow FROM people;"
awk -v n="$mfa_users" -v s="$mhex" 'BEGIN { for (i = 0; i < n; i++) printf "HOTP/T30 u%d - %s\n", i, s }' > "$mdir/users.oath"
cp "$mdir/users.oath" "$mdir/pam_oath.users"
chmod 600 "$mdir/pam_oath.users"
"$BUILD/accessctl" --root "$mroot" mfa import --pam-oath "$mdir/users.oath" >/dev/null 2>&1
printf 'auth required %s conf=%s\naccount required pam_permit.so\n' "$BUILD/pam_isms.so" \
	"$mroot/etc/isms/isms.conf" > "$mdir/pam.d/isms"
printf 'auth required pam_oath.so usersfile=%s window=2\naccount required pam_permit.so\n' \
	"$mdir/pam_oath.users" > "$mdir/pam.d/oath"

# mfa_txn_us SERVICE N [FIRST]: mean µs, users uFIRST... (a refusal stops the bench:
# it is not a login).
mfa_txn_us() {
	local out code
	code=$(oathtool --totp "$mhex")
	out=$("$BUILD/tools/pamdrive" -q -d "$mdir/pam.d" -s "$1" -u 'u%d' -n "$2" -o "${3:-0}" -a "$code" auth acct) ||
		{ echo "40-mfa: a $1 login was refused" >&2; return 1; }
	echo "$out" | sed -n 's/per_transaction_us=//p'
}
# Five rounds of MFA_BENCH_N logins, alternating with pam_permit; each round
# logs in fresh users.
mfa_rounds=5
mfa_per=$mfa_n
mfa_permit() { pam_txn_us "$BENCH/permit" permit nobody "$mfa_per" auth acct; }
mfa_ours() { mfa_txn_us isms "$mfa_per" $(($1 * mfa_per)); }
baseline_us 1 >/dev/null   # writes the pam_permit service file
read -r mbase mours < <(best_pair "$mfa_rounds" mfa_permit mfa_ours)
moath=$(mfa_txn_us oath "$oath_n")
mok=$(sqlite3 "$mroot/var/lib/isms/state.db" "SELECT count(*) FROM audit_events WHERE event = 'mfa' AND result = 'allow'")
[ "$mok" = "$((mfa_per * mfa_rounds))" ] || { echo "40-mfa: $mok of $((mfa_per * mfa_rounds)) logins accepted" >&2; exit 1; }
row "pam_isms TOTP login, $mfa_users users (vs permit)" "$mours" "$mbase"
row "pam_isms TOTP login, $mfa_users users (vs pam_oath)" "$mours" "$moath"

# The same login, each in a new process (how sshd runs a connection): the
# module loads, reads its config and opens both stores every time.
mfa_cold=${MFA_BENCH_COLD:-100}
mcode=$(oathtool --totp "$mhex")
mcold_permit=$(cold_us "$mfa_cold" "$BUILD/tools/pamdrive" -q -d "$BENCH/permit" -s permit -u nobody auth acct)
mcold_ours=$(COLD_FIRST=$((mfa_per * mfa_rounds)) cold_us "$mfa_cold" "$BUILD/tools/pamdrive" -q -d "$mdir/pam.d" -s isms -u "u@N@" -a "$mcode" auth acct)
row "  the same, one login per new process (vs permit)" "$mcold_ours" "$mcold_permit"
