/* vault: the host key file's refusals, sealing bound to an account, tamper
 * detection, and the keyed hash recovery codes are stored as. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "util.h"
#include "vault.h"
#include "unit.h"

struct fixture {
	char *dir;
	char *key;
	struct isms_vault v;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct isms_err err = { 0 };

	f->dir = unit_tmpdir();
	f->key = unit_path(f->dir, "host.key");
	assert_int_equal(isms_vault_create_key(f->key, &err), 0);
	assert_int_equal(isms_vault_load(f->key, &f->v, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	isms_vault_wipe(&f->v);
	unit_rmtree(f->dir);
	free(f->key);
	free(f);
	return 0;
}

static const unsigned char secret[] = "JBSWY3DPEHPK3PXP-totp-seed";
#define SECRET_LEN (sizeof(secret) - 1)

static void test_seal_then_open_round_trips(void **state)
{
	struct fixture *f = *state;
	unsigned char *ct, *pt;
	size_t ctlen, ptlen;

	assert_int_equal(isms_vault_seal(&f->v, "alice", secret, SECRET_LEN, &ct, &ctlen), 0);
	assert_true(ctlen > SECRET_LEN);
	assert_null(memmem(ct, ctlen, secret, SECRET_LEN));   /* the plaintext is not in it */
	assert_int_equal(isms_vault_open(&f->v, "alice", ct, ctlen, &pt, &ptlen), 0);
	assert_int_equal(ptlen, SECRET_LEN);
	assert_memory_equal(pt, secret, SECRET_LEN);
	assert_int_equal(pt[ptlen], '\0');   /* usable as a string by the TOTP code */
	isms_secret_free(pt, ptlen);
	free(ct);
}

static void test_empty_secret_round_trips(void **state)
{
	struct fixture *f = *state;
	unsigned char *ct, *pt;
	size_t ctlen, ptlen;

	assert_int_equal(isms_vault_seal(&f->v, "alice", (const unsigned char *)"", 0, &ct, &ctlen), 0);
	assert_int_equal(isms_vault_open(&f->v, "alice", ct, ctlen, &pt, &ptlen), 0);
	assert_int_equal(ptlen, 0);
	isms_secret_free(pt, ptlen + 1);
	free(ct);
}

static void test_each_seal_uses_a_fresh_nonce(void **state)
{
	struct fixture *f = *state;
	unsigned char *a, *b;
	size_t alen, blen;

	assert_int_equal(isms_vault_seal(&f->v, "alice", secret, SECRET_LEN, &a, &alen), 0);
	assert_int_equal(isms_vault_seal(&f->v, "alice", secret, SECRET_LEN, &b, &blen), 0);
	assert_int_equal(alen, blen);
	assert_memory_not_equal(a, b, alen);
	free(a);
	free(b);
}

static void test_any_tampered_byte_is_refused(void **state)
{
	struct fixture *f = *state;
	unsigned char *ct, *pt = NULL;
	size_t ctlen, ptlen;

	assert_int_equal(isms_vault_seal(&f->v, "alice", secret, SECRET_LEN, &ct, &ctlen), 0);
	/* Nonce, ciphertext body and tag: flipping any one bit breaks it. */
	for (size_t i = 0; i < ctlen; i++) {
		ct[i] ^= 0x01;
		assert_int_equal(isms_vault_open(&f->v, "alice", ct, ctlen, &pt, &ptlen), -EBADMSG);
		assert_null(pt);
		ct[i] ^= 0x01;
	}
	assert_int_equal(isms_vault_open(&f->v, "alice", ct, ctlen - 1, &pt, &ptlen), -EBADMSG);
	assert_int_equal(isms_vault_open(&f->v, "alice", ct, 10, &pt, &ptlen), -EBADMSG);
	assert_int_equal(isms_vault_open(&f->v, "alice", ct, 0, &pt, &ptlen), -EBADMSG);
	assert_null(pt);
	assert_int_equal(isms_vault_open(&f->v, "alice", ct, ctlen, &pt, &ptlen), 0);
	isms_secret_free(pt, ptlen);
	free(ct);
}

static void test_ciphertext_of_another_account_is_refused(void **state)
{
	struct fixture *f = *state;
	unsigned char *ct, *pt = NULL;
	size_t ctlen, ptlen;

	assert_int_equal(isms_vault_seal(&f->v, "alice", secret, SECRET_LEN, &ct, &ctlen), 0);
	assert_int_equal(isms_vault_open(&f->v, "bob", ct, ctlen, &pt, &ptlen), -EBADMSG);
	assert_int_equal(isms_vault_open(&f->v, "alic", ct, ctlen, &pt, &ptlen), -EBADMSG);
	assert_int_equal(isms_vault_open(&f->v, "alice ", ct, ctlen, &pt, &ptlen), -EBADMSG);
	assert_int_equal(isms_vault_open(&f->v, "", ct, ctlen, &pt, &ptlen), -EBADMSG);
	assert_null(pt);
	free(ct);
}

static void test_another_host_key_cannot_open(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	char *other_path = unit_path(f->dir, "other.key");
	struct isms_vault other;
	unsigned char *ct, *pt = NULL;
	size_t ctlen, ptlen;

	assert_int_equal(isms_vault_create_key(other_path, &err), 0);
	assert_int_equal(isms_vault_load(other_path, &other, &err), 0);
	assert_memory_not_equal(other.key, f->v.key, ISMS_VAULT_KEYBYTES);
	assert_int_equal(isms_vault_seal(&f->v, "alice", secret, SECRET_LEN, &ct, &ctlen), 0);
	assert_int_equal(isms_vault_open(&other, "alice", ct, ctlen, &pt, &ptlen), -EBADMSG);
	assert_null(pt);
	isms_vault_wipe(&other);
	free(ct);
	free(other_path);
}

static void test_create_key_makes_32_bytes_mode_0600(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	mode_t old = umask(0);   /* even a permissive umask must not widen it */
	char *p = unit_path(f->dir, "new.key");
	struct isms_err err = { 0 };

	assert_int_equal(isms_vault_create_key(p, &err), 0);
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, ISMS_VAULT_KEYBYTES);
	assert_int_equal(st.st_uid, geteuid());
	free(p);
}

static void test_create_key_refuses_an_existing_file(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	struct isms_vault again;

	assert_int_equal(isms_vault_create_key(f->key, &err), -EEXIST);
	unit_assert_contains(err.msg, f->key);
	/* and left the existing key as it was */
	assert_int_equal(isms_vault_load(f->key, &again, &err), 0);
	assert_memory_equal(again.key, f->v.key, ISMS_VAULT_KEYBYTES);
	isms_vault_wipe(&again);
}

static void test_create_key_does_not_follow_a_symlink(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	char *link = unit_path(f->dir, "link.key");
	char *target = unit_path(f->dir, "target");

	assert_int_equal(symlink(target, link), 0);
	assert_true(isms_vault_create_key(link, &err) < 0);
	assert_int_equal(access(target, F_OK), -1);
	free(link);
	free(target);
}

static void expect_load_refused(const char *path, int code, const char *want)
{
	struct isms_vault v;
	struct isms_err err = { 0 };

	memset(&v, 0xaa, sizeof(v));
	assert_int_equal(isms_vault_load(path, &v, &err), code);
	unit_assert_contains(err.msg, want);
	/* On failure nothing of the key reached the caller. */
	for (size_t i = 0; i < sizeof(v.key); i++)
		assert_int_equal(v.key[i], 0xaa);
}

static void test_key_readable_by_group_or_other_is_refused(void **state)
{
	struct fixture *f = *state;
	static const mode_t modes[] = { 0640, 0644, 0604, 0660, 0610, 0601 };

	for (size_t i = 0; i < ISMS_ARRAY_SIZE(modes); i++) {
		char want[16];

		assert_int_equal(chmod(f->key, modes[i]), 0);
		(void)snprintf(want, sizeof(want), "mode %04o", (unsigned)modes[i]);
		expect_load_refused(f->key, -EPERM, want);
		expect_load_refused(f->key, -EPERM, "fix: chmod 600");
	}
	assert_int_equal(chmod(f->key, 0400), 0);   /* read-only for its owner is fine */
	{
		struct isms_vault v;
		struct isms_err err = { 0 };

		assert_int_equal(isms_vault_load(f->key, &v, &err), 0);
		isms_vault_wipe(&v);
	}
}

static void test_key_of_the_wrong_size_is_refused(void **state)
{
	struct fixture *f = *state;
	unsigned char buf[ISMS_VAULT_KEYBYTES + 1] = { 0 };

	unit_write(f->key, buf, ISMS_VAULT_KEYBYTES - 1, 0600);
	expect_load_refused(f->key, -EBADMSG, "exactly 32 bytes");
	unit_write(f->key, buf, ISMS_VAULT_KEYBYTES + 1, 0600);
	expect_load_refused(f->key, -EBADMSG, "exactly 32 bytes");
	unit_write(f->key, buf, 0, 0600);
	expect_load_refused(f->key, -EBADMSG, "exactly 32 bytes");
}

static void test_key_not_owned_by_root_is_refused_when_root(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0) {
		struct isms_vault v;
		struct isms_err err = { 0 };

		/* Only root's key must be root's; a user may own a key for tests. */
		assert_int_equal(isms_vault_load(f->key, &v, &err), 0);
		isms_vault_wipe(&v);
		return;
	}
	assert_int_equal(chown(f->key, UNIT_NOBODY, UNIT_NOBODY), 0);
	expect_load_refused(f->key, -EPERM, "not owned by root");
}

static void test_key_that_is_not_a_regular_file_is_refused(void **state)
{
	struct fixture *f = *state;
	char *link = unit_path(f->dir, "link.key");
	char *dir = unit_path(f->dir, "dir.key");

	assert_int_equal(symlink(f->key, link), 0);
	expect_load_refused(link, -ELOOP, link);
	assert_int_equal(mkdir(dir, 0700), 0);
	expect_load_refused(dir, -EPERM, "not a regular file");
	expect_load_refused("/nonexistent/host.key", -ENOENT, "/nonexistent/host.key");
	free(link);
	free(dir);
}

static void test_keyed_hash_is_stable_and_bound_to_account(void **state)
{
	struct fixture *f = *state;
	unsigned char a[32], b[32], c[32], d[32];
	struct isms_err err = { 0 };
	char *other_path = unit_path(f->dir, "other.key");
	struct isms_vault other;

	assert_int_equal(isms_vault_keyed_hash(&f->v, "alice", "1234-5678", a), 0);
	assert_int_equal(isms_vault_keyed_hash(&f->v, "alice", "1234-5678", b), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(isms_vault_keyed_hash(&f->v, "bob", "1234-5678", c), 0);
	assert_memory_not_equal(a, c, 32);
	assert_int_equal(isms_vault_keyed_hash(&f->v, "alice", "1234-5679", c), 0);
	assert_memory_not_equal(a, c, 32);
	/* The account/value boundary is unambiguous: ("ab","c") differs from ("a","bc"). */
	assert_int_equal(isms_vault_keyed_hash(&f->v, "ab", "c", c), 0);
	assert_int_equal(isms_vault_keyed_hash(&f->v, "a", "bc", d), 0);
	assert_memory_not_equal(c, d, 32);
	/* It depends on the host key: a stolen hash table is useless elsewhere. */
	assert_int_equal(isms_vault_create_key(other_path, &err), 0);
	assert_int_equal(isms_vault_load(other_path, &other, &err), 0);
	assert_int_equal(isms_vault_keyed_hash(&other, "alice", "1234-5678", c), 0);
	assert_memory_not_equal(a, c, 32);
	/* and is not the unkeyed BLAKE2b of the value */
	crypto_generichash(d, 32, (const unsigned char *)"1234-5678", 9, NULL, 0);
	assert_memory_not_equal(a, d, 32);
	isms_vault_wipe(&other);
	free(other_path);
}

static void test_wipe_clears_the_key(void **state)
{
	struct fixture *f = *state;
	static const unsigned char zero[ISMS_VAULT_KEYBYTES];

	assert_memory_not_equal(f->v.key, zero, sizeof(zero));
	isms_vault_wipe(&f->v);
	assert_memory_equal(f->v.key, zero, sizeof(zero));
	isms_vault_wipe(NULL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_seal_then_open_round_trips),
		T(test_empty_secret_round_trips),
		T(test_each_seal_uses_a_fresh_nonce),
		T(test_any_tampered_byte_is_refused),
		T(test_ciphertext_of_another_account_is_refused),
		T(test_another_host_key_cannot_open),
		T(test_create_key_makes_32_bytes_mode_0600),
		T(test_create_key_refuses_an_existing_file),
		T(test_create_key_does_not_follow_a_symlink),
		T(test_key_readable_by_group_or_other_is_refused),
		T(test_key_of_the_wrong_size_is_refused),
		T(test_key_not_owned_by_root_is_refused_when_root),
		T(test_key_that_is_not_a_regular_file_is_refused),
		T(test_keyed_hash_is_stable_and_bound_to_account),
		T(test_wipe_clears_the_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
