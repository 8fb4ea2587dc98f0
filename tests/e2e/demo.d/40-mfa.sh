# Step: MFA. Enroll a user (QR code for the phone), confirm with a code, log in
# through the real PAM stack; a wrong code and a replayed code are refused.
say "MFA: enroll alice with a TOTP token"
grep -q '^alice:' "$ROOT/etc/passwd" || printf 'alice:x:1001:1001:Alice:/home/alice:/bin/bash\n' >> "$ROOT/etc/passwd"
grep -q '^alice:' "$ROOT/etc/group" || printf 'alice:x:1001:\n' >> "$ROOT/etc/group"
if ! $ACCESSCTL account show alice >/dev/null 2>&1; then
	run $ACCESSCTL person add E1001 --name "Alice Example" --email alice@example.com
	run $ACCESSCTL account add alice --owner E1001 --uid 1001
fi
run $ACCESSCTL mfa enroll alice --qr-pgm "$DEMO/alice-qr.pgm" </dev/null

say "The phone scans the QR code (zbarimg stands in for the camera)"
uri=$(zbarimg -q --raw "$DEMO/alice-qr.pgm" 2>/dev/null)
echo "decoded: $uri"
secret=$(echo "$uri" | sed 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/')

say "Confirm the token with the first code from the app (oathtool)"
run $ACCESSCTL mfa confirm alice "$(oathtool --totp -b "$secret")"

say "alice logs in with the next code"
code=$(oathtool --totp -b "$secret" -N "now + 30 seconds")
run login sshd alice -a "$code" auth acct

say "A wrong code is refused"
wrong=$(printf '%06d' $(( (10#$code + 500000) % 1000000 )))
if run login sshd alice -a "$wrong" auth acct; then echo "wrong code accepted" >&2; exit 1; fi

say "The same code again (a replay) is refused"
if run login sshd alice -a "$code" auth acct; then echo "replayed code accepted" >&2; exit 1; fi
run $ACCESSCTL mfa status alice
