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
# Fewer pam_oath iterations (MFA_BENCH_OATH_N) because each takes tens of ms.
mfa_users=${MFA_BENCH_USERS:-100000}
mfa_n=${MFA_BENCH_N:-2000}
oath_n=${MFA_BENCH_OATH_N:-50}
[ "$mfa_n" -le "$mfa_users" ] || mfa_n=$mfa_users
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

# mfa_txn_us SERVICE N: mean µs, and a failure stops the bench (a refusal is not a login).
mfa_txn_us() {
	local out code
	code=$(oathtool --totp "$mhex")
	out=$("$BUILD/tools/pamdrive" -q -d "$mdir/pam.d" -s "$1" -u 'u%d' -n "$2" -a "$code" auth acct) ||
		{ echo "40-mfa: a $1 login was refused" >&2; return 1; }
	echo "$out" | sed -n 's/per_transaction_us=//p'
}

mbase=$(baseline_us 2000)
mours=$(mfa_txn_us isms "$mfa_n")
moath=$(mfa_txn_us oath "$oath_n")
mok=$(sqlite3 "$mroot/var/lib/isms/state.db" "SELECT count(*) FROM audit_events WHERE event = 'mfa' AND result = 'allow'")
[ "$mok" = "$mfa_n" ] || { echo "40-mfa: $mok of $mfa_n logins accepted" >&2; exit 1; }
printf '%-48s %12s µs %11s µs %8s\n' "pam_isms TOTP login, $mfa_users users (vs permit)" "$mours" "$mbase" "$(ratio "$mours" "$mbase")"
printf '%-48s %12s µs %11s µs %8s\n' "pam_isms TOTP login, $mfa_users users (vs pam_oath)" "$mours" "$moath" "$(ratio "$mours" "$moath")"
