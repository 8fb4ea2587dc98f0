/* mfa: the check-and-set on a real state store with pinned times (watermark,
 * lockout and its release, recovery codes), and the otpauth URI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db.h"
#include "mfa.h"

/* RFC 4226 Appendix D: the code of step c (time c*30) for the RFC seed */
static const char *const hotp[] = { "755224", "287082", "359152", "969429", "338314",
				    "254676", "287922", "162583", "399871", "520489" };

struct fx {
	char dir[64];
	sqlite3 *state;
	struct isms_vault vault;
	struct isms_conf *conf;
	struct isms_mfa_token tok;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[128];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/isms-mfa-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/state.db", f->dir);
	assert_int_equal(isms_db_open(path, ISMS_STATE, ISMS_DB_CREATE, &f->state, NULL), 0);
	snprintf(path, sizeof(path), "%s/host.key", f->dir);
	assert_int_equal(isms_vault_create_key(path, NULL), 0);
	assert_int_equal(isms_vault_load(path, &f->vault, NULL), 0);
	assert_int_equal(isms_conf_defaults("", &f->conf), 0);
	f->tok.id = 1;
	f->tok.account = strdup("alice");
	f->tok.secret_len = 20;
	f->tok.secret = malloc(20);
	memcpy(f->tok.secret, "12345678901234567890", 20);
	f->tok.p = (struct isms_totp_params){ ISMS_TOTP_SHA1, 6, 30 };
	f->tok.active = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[96];

	isms_mfa_token_clear(&f->tok);
	isms_db_close(f->state);
	isms_conf_free(f->conf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct isms_mfa_outcome check(struct fx *f, const char *code, int64_t now)
{
	struct isms_mfa_outcome out;

	assert_int_equal(isms_mfa_check(f->state, f->conf, &f->vault, &f->tok, code, now, &out, NULL), 0);
	return out;
}

static void test_watermark_refuses_the_same_and_older_steps(void **state)
{
	struct fx *f = *state;
	struct isms_mfa_outcome o;

	o = check(f, hotp[5], 5 * 30);
	assert_int_equal(o.verdict, ISMS_MFA_ACCEPTED);
	assert_int_equal(o.step, 5);
	assert_int_equal(check(f, hotp[5], 5 * 30 + 10).verdict, ISMS_MFA_REPLAYED);
	assert_int_equal(check(f, hotp[4], 5 * 30 + 10).verdict, ISMS_MFA_REPLAYED);
	assert_int_equal(check(f, hotp[6], 5 * 30 + 10).verdict, ISMS_MFA_ACCEPTED);
	assert_int_equal(check(f, hotp[9], 5 * 30 + 10).verdict, ISMS_MFA_WRONG);
}

static void test_lock_after_max_failures_and_release_after_lockout(void **state)
{
	struct fx *f = *state;
	struct isms_mfa_outcome o;
	char code[9];

	f->conf->mfa_max_failures = 3;
	f->conf->mfa_lockout = 600;
	assert_false(check(f, "000000", 100).locked_now);
	assert_false(check(f, "000000", 100).locked_now);
	o = check(f, "000000", 100);
	assert_true(o.locked_now);
	assert_int_equal(o.failures, 3);
	assert_int_equal(o.locked_until, 700);
	/* the right code during the lock: refused without being checked */
	o = check(f, hotp[3], 3 * 30 + 10);
	assert_int_equal(o.verdict, ISMS_MFA_LOCKED);
	o = check(f, hotp[9], 9 * 30);
	assert_int_equal(o.verdict, ISMS_MFA_LOCKED);
	/* at the end of the lockout: released, and the code of that moment works */
	assert_int_equal(isms_totp_generate(f->tok.secret, 20, &f->tok.p, 700, code, sizeof(code)), 0);
	o = check(f, code, 700);
	assert_int_equal(o.verdict, ISMS_MFA_ACCEPTED);
	assert_true(o.lock_expired);
}

static void test_release_after_lockout_resets_failures(void **state)
{
	struct fx *f = *state;
	struct isms_mfa_outcome o;

	f->conf->mfa_max_failures = 1;
	f->conf->mfa_lockout = 60;
	assert_true(check(f, "000000", 0).locked_now);
	assert_int_equal(check(f, hotp[1], 59).verdict, ISMS_MFA_LOCKED);
	o = check(f, hotp[2], 60);
	assert_int_equal(o.verdict, ISMS_MFA_ACCEPTED);
	assert_true(o.lock_expired);
	o = check(f, "000000", 61);
	assert_int_equal(o.failures, 1);
	assert_true(o.locked_now);   /* max_failures 1: a fresh window, counted from one */
}

static void test_failures_outside_the_window_start_a_new_count(void **state)
{
	struct fx *f = *state;

	f->conf->mfa_max_failures = 2;
	f->conf->mfa_failure_window = 300;
	assert_int_equal(check(f, "000000", 0).failures, 1);
	assert_int_equal(check(f, "000000", 300).failures, 1);
	assert_true(check(f, "000000", 301).locked_now);
}

static void test_recovery_code_works_once_in_any_case_and_spacing(void **state)
{
	struct fx *f = *state;
	char codes[3][ISMS_MFA_RECOVERY_SIZE], typed[32];
	struct isms_mfa_outcome o;

	isms_mfa_recovery_generate(codes, 3);
	assert_int_equal(strlen(codes[0]), 11);
	assert_int_equal(codes[0][5], '-');
	assert_int_equal(isms_mfa_recovery_store(f->state, &f->vault, "alice", 1, codes, 3, 0, NULL), 0);
	snprintf(typed, sizeof(typed), "%.5s %.5s", codes[1], codes[1] + 6);
	for (char *p = typed; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	o = check(f, typed, 10);
	assert_int_equal(o.verdict, ISMS_MFA_RECOVERY_ACCEPTED);
	assert_int_equal(o.recovery_left, 2);
	assert_int_equal(check(f, codes[1], 20).verdict, ISMS_MFA_WRONG);
	/* bound to the account: the same code for another account is not a match */
	f->tok.account[0] = 'b';
	assert_int_equal(check(f, codes[0], 30).verdict, ISMS_MFA_WRONG);
}

static void test_recovery_normalize_refuses_other_shapes(void **state)
{
	char out[ISMS_MFA_RECOVERY_SIZE];

	(void)state;
	assert_int_equal(isms_mfa_recovery_normalize("abcde-fghjk", out), 0);
	assert_string_equal(out, "abcde-fghjk");
	assert_int_equal(isms_mfa_recovery_normalize("ABCDEFGHJK", out), 0);
	assert_string_equal(out, "abcde-fghjk");
	assert_int_equal(isms_mfa_recovery_normalize("abcde-fghj", out), -EINVAL);
	assert_int_equal(isms_mfa_recovery_normalize("abcde-fghjkm", out), -EINVAL);
	assert_int_equal(isms_mfa_recovery_normalize("abcde-fghj1", out), -EINVAL);  /* 1 is not in the alphabet */
	assert_int_equal(isms_mfa_recovery_normalize("", out), -EINVAL);
}

static void test_otpauth_uri_encodes_issuer_and_account(void **state)
{
	struct isms_totp_params p = { ISMS_TOTP_SHA256, 8, 30 };
	char *uri;

	(void)state;
	uri = isms_mfa_otpauth_uri("ACME Corp", "a&b", (const unsigned char *)"12345678901234567890", 20, &p);
	assert_string_equal(uri, "otpauth://totp/ACME%20Corp:a%26b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
			    "&issuer=ACME%20Corp&algorithm=SHA256&digits=8&period=30");
	free(uri);
}

/* A login's one registry lookup: the account, its token with the secret still
 * sealed, opened afterwards with the host key; no token; an unknown name. */
static void test_login_find_reads_account_and_sealed_token(void **state)
{
	struct fx *f = *state;
	struct isms_mfa_account acct, bob;
	struct isms_mfa_token tok = { 0 }, none = { 0 };
	struct isms_vault other;
	struct isms_err err = { 0 };
	char path[128];
	sqlite3 *reg;
	int64_t id;

	snprintf(path, sizeof(path), "%s/registry.db", f->dir);
	assert_int_equal(isms_db_open(path, ISMS_REGISTRY, ISMS_DB_CREATE, &reg, NULL), 0);
	assert_int_equal(isms_db_exec(reg, NULL, "INSERT INTO accounts (name, uid, gid, kind, created_at, updated_at)"
				      " VALUES ('alice', 1001, 1001, 'human', 5, 5), ('bob', NULL, NULL, 'service', 6, 6)",
				      NULL), 0);
	assert_int_equal(isms_mfa_account_find(reg, "alice", &acct, NULL), 0);
	assert_int_equal(isms_mfa_token_store(reg, &f->vault, &acct, "alice", f->tok.secret, 20, &f->tok.p, true,
					      NULL, 7, &id, NULL), 0);

	memset(&acct, 0, sizeof(acct));
	assert_int_equal(isms_mfa_login_find(reg, "alice", &acct, &tok, NULL), 0);
	assert_string_equal(acct.kind, "human");
	assert_int_equal(acct.uid, 1001);
	assert_int_equal(acct.created_at, 5);
	assert_int_equal(tok.id, id);
	assert_true(tok.active);
	assert_int_equal(tok.confirmed_at, 7);
	assert_null(tok.secret);
	assert_non_null(tok.sealed);
	/* another host key does not open it */
	snprintf(path, sizeof(path), "%s/other.key", f->dir);
	assert_int_equal(isms_vault_create_key(path, NULL), 0);
	assert_int_equal(isms_vault_load(path, &other, NULL), 0);
	assert_int_equal(isms_mfa_token_open(&other, &tok, &err), -EBADMSG);
	assert_null(tok.secret);
	isms_mfa_token_clear(&tok);
	assert_int_equal(isms_mfa_login_find(reg, "alice", &acct, &tok, NULL), 0);
	assert_int_equal(isms_mfa_token_open(&f->vault, &tok, NULL), 0);
	assert_int_equal(tok.secret_len, 20);
	assert_memory_equal(tok.secret, "12345678901234567890", 20);
	assert_null(tok.sealed);
	isms_mfa_token_clear(&tok);

	assert_int_equal(isms_mfa_login_find(reg, "bob", &bob, &none, NULL), 0);
	assert_string_equal(bob.kind, "service");
	assert_int_equal(bob.uid, -1);
	assert_int_equal(none.id, 0);
	assert_null(none.sealed);
	assert_int_equal(isms_mfa_login_find(reg, "carol", &acct, &none, &err), -ENOENT);
	isms_vault_wipe(&other);
	isms_db_close(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_watermark_refuses_the_same_and_older_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_after_max_failures_and_release_after_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_after_lockout_resets_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_outside_the_window_start_a_new_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_code_works_once_in_any_case_and_spacing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_find_reads_account_and_sealed_token, setup, teardown),
		cmocka_unit_test(test_recovery_normalize_refuses_other_shapes),
		cmocka_unit_test(test_otpauth_uri_encodes_issuer_and_account),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
