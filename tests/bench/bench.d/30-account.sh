# The account phase with 100,000 accounts in the registry (indexed lookups,
# registry read-only, one audit event per login), beside pam_permit.
acct_n=${BENCH_ACCOUNTS:-100000}
acct_root=$BENCH/account
"$BUILD/accessctl" --root "$acct_root" init >/dev/null
printf 'root:x:0:0:root:/root:/bin/bash\nbench:x:5000:5000:bench:/home/bench:/bin/bash\n' > "$acct_root/etc/passwd"
printf 'root:x:0:\nbench:x:5000:\nsudo:x:27:bench\n' > "$acct_root/etc/group"
sqlite3 "$acct_root/var/lib/isms/registry.db" <<SQL
BEGIN;
INSERT INTO people (employee_no, name, created_at, updated_at) VALUES ('B1', 'Bench', 0, 0);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $acct_n)
INSERT INTO accounts (name, uid, gid, person_id, kind, created_at, updated_at)
	SELECT 'user' || i, 100000 + i, 100000 + i, 1, 'human', strftime('%s', 'now'), strftime('%s', 'now') FROM n;
INSERT INTO accounts (name, uid, gid, person_id, kind, created_at, updated_at)
	VALUES ('bench', 5000, 5000, 1, 'human', strftime('%s', 'now'), strftime('%s', 'now'));
COMMIT;
SQL
mkdir -p "$acct_root/etc/pam.d"
printf 'account required %s conf=%s\n' "$BUILD/pam_isms.so" "$acct_root/etc/isms/isms.conf" > "$acct_root/etc/pam.d/acct"
# acct_in_nss CMD...: run with the bench's faked passwd/group.
acct_in_nss() {
	LD_PRELOAD=$NSS_WRAPPER_LIB NSS_WRAPPER_PASSWD=$acct_root/etc/passwd NSS_WRAPPER_GROUP=$acct_root/etc/group "$@"
}
# Five alternating rounds of 500 transactions each; the best round of each side.
mkdir -p "$BENCH/permit_acct"
printf 'account required pam_permit.so\n' > "$BENCH/permit_acct/acct"
acct_permit() { acct_in_nss pam_txn_us "$BENCH/permit_acct" acct bench 500 acct; }
acct_allow() { acct_in_nss pam_txn_us "$acct_root/etc/pam.d" acct bench 500 acct; }
acct_deny() { acct_in_nss pam_txn_us "$acct_root/etc/pam.d" acct nosuchuser 500 acct; }
read -r acct_base acct_us < <(best_pair 5 acct_permit acct_allow)
row "account phase, $acct_n accounts (allow)" "$acct_us" "$acct_base"
read -r acct_base acct_deny_us < <(best_pair 5 acct_permit acct_deny)
row "account phase, $acct_n accounts (deny unknown)" "$acct_deny_us" "$acct_base"
# One transaction per new process, as sshd runs one connection.
acct_cold_permit=$(acct_in_nss cold_us 100 "$BUILD/tools/pamdrive" -q -d "$BENCH/permit_acct" -s acct -u bench acct)
acct_cold_deny=$(COLD_RC=10 acct_in_nss cold_us 100 "$BUILD/tools/pamdrive" -q -d "$acct_root/etc/pam.d" -s acct -u nosuchuser acct)
row "  deny, one login per new process" "$acct_cold_deny" "$acct_cold_permit"
