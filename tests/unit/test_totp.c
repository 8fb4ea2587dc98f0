/* totp: the RFC 6238 Appendix B and RFC 4226 Appendix D vectors through the
 * project's own verify path, with pinned times; window, shape and replay steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "totp.h"

static const unsigned char seed_sha1[] = "12345678901234567890";
static const unsigned char seed_sha256[] = "12345678901234567890123456789012";
static const unsigned char seed_sha512[] =
	"1234567890123456789012345678901234567890123456789012345678901234";

static const struct {
	int64_t t;
	const char *sha1, *sha256, *sha512;
} rfc6238[] = {
	{ 59, "94287082", "46119246", "90693936" },
	{ 1111111109, "07081804", "68084774", "25091201" },
	{ 1111111111, "14050471", "67062674", "99943326" },
	{ 1234567890, "89005924", "91819424", "93441116" },
	{ 2000000000, "69279037", "90698825", "38618901" },
	{ 20000000000LL, "65353130", "77737706", "47863826" },
};

static void expect_match(const unsigned char *seed, size_t len, enum isms_totp_alg alg,
			 unsigned digits, int64_t t, unsigned window, const char *code, int64_t want)
{
	struct isms_totp_params p = { alg, digits, 30 };
	struct isms_err err = { 0 };
	int64_t step = -1;

	assert_int_equal(isms_totp_verify(seed, len, &p, t, window, code, &step, &err), 0);
	assert_int_equal(step, want);
}

static void expect_refused(const unsigned char *seed, size_t len, enum isms_totp_alg alg,
			   unsigned digits, int64_t t, unsigned window, const char *code, int want)
{
	struct isms_totp_params p = { alg, digits, 30 };
	struct isms_err err = { 0 };
	int64_t step = -1;

	assert_int_equal(isms_totp_verify(seed, len, &p, t, window, code, &step, &err), want);
	assert_int_equal(step, -1);
}

static void test_rfc6238_appendix_b_sha1(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc6238) / sizeof(rfc6238[0]); i++)
		expect_match(seed_sha1, 20, ISMS_TOTP_SHA1, 8, rfc6238[i].t, 0, rfc6238[i].sha1,
			     rfc6238[i].t / 30);
}

static void test_rfc6238_appendix_b_sha256(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc6238) / sizeof(rfc6238[0]); i++)
		expect_match(seed_sha256, 32, ISMS_TOTP_SHA256, 8, rfc6238[i].t, 0, rfc6238[i].sha256,
			     rfc6238[i].t / 30);
}

static void test_rfc6238_appendix_b_sha512(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc6238) / sizeof(rfc6238[0]); i++)
		expect_match(seed_sha512, 64, ISMS_TOTP_SHA512, 8, rfc6238[i].t, 0, rfc6238[i].sha512,
			     rfc6238[i].t / 30);
}

/* HOTP counter c is the TOTP step c: verify each Appendix D value at time c*30. */
static void test_rfc4226_appendix_d_hotp_counts(void **state)
{
	static const char *const hotp[] = { "755224", "287082", "359152", "969429", "338314",
					    "254676", "287922", "162583", "399871", "520489" };

	(void)state;
	for (int c = 0; c < 10; c++)
		expect_match(seed_sha1, 20, ISMS_TOTP_SHA1, 6, c * 30, 0, hotp[c], c);
}

static void test_code_from_another_algorithm_is_refused(void **state)
{
	(void)state;
	/* the SHA-256 token's code at t=59 under SHA-1 settings */
	expect_refused(seed_sha1, 20, ISMS_TOTP_SHA1, 8, 59, 1, "46119246", -EACCES);
}

static void test_window_accepts_neighbouring_steps_and_reports_them(void **state)
{
	(void)state;
	/* HOTP count 5 is the code of step 5; at step 4 and 6 it matches with window 1 */
	expect_match(seed_sha1, 20, ISMS_TOTP_SHA1, 6, 4 * 30, 1, "254676", 5);
	expect_match(seed_sha1, 20, ISMS_TOTP_SHA1, 6, 6 * 30 + 29, 1, "254676", 5);
}

static void test_code_outside_the_window_is_refused(void **state)
{
	(void)state;
	expect_refused(seed_sha1, 20, ISMS_TOTP_SHA1, 6, 7 * 30, 1, "254676", -EACCES);
	expect_refused(seed_sha1, 20, ISMS_TOTP_SHA1, 6, 3 * 30, 1, "254676", -EACCES);
	expect_refused(seed_sha1, 20, ISMS_TOTP_SHA1, 6, 4 * 30, 0, "254676", -EACCES);
}

static void test_malformed_codes_are_refused_before_any_hmac(void **state)
{
	(void)state;
	expect_refused(seed_sha1, 20, ISMS_TOTP_SHA1, 6, 150, 1, "25467", -EINVAL);
	expect_refused(seed_sha1, 20, ISMS_TOTP_SHA1, 6, 150, 1, "2546766", -EINVAL);
	expect_refused(seed_sha1, 20, ISMS_TOTP_SHA1, 6, 150, 1, "25467a", -EINVAL);
	expect_refused(seed_sha1, 20, ISMS_TOTP_SHA1, 6, 150, 1, "", -EINVAL);
	expect_refused(seed_sha1, 20, ISMS_TOTP_SHA1, 6, 150, 1, " 254676", -EINVAL);
}

static void test_window_is_bounded(void **state)
{
	(void)state;
	expect_refused(seed_sha1, 20, ISMS_TOTP_SHA1, 6, 150, ISMS_TOTP_MAX_WINDOW + 1, "254676", -EINVAL);
}

static void test_generate_matches_verify(void **state)
{
	struct isms_totp_params p = { ISMS_TOTP_SHA512, 8, 30 };
	char code[9];

	(void)state;
	assert_int_equal(isms_totp_generate(seed_sha512, 64, &p, 1111111111, code, sizeof(code)), 0);
	assert_string_equal(code, "99943326");
}

static void test_algorithm_names_round_trip(void **state)
{
	enum isms_totp_alg a;

	(void)state;
	assert_int_equal(isms_totp_alg_parse("SHA256", &a), 0);
	assert_int_equal(a, ISMS_TOTP_SHA256);
	assert_string_equal(isms_totp_alg_name(ISMS_TOTP_SHA512), "sha512");
	assert_int_equal(isms_totp_alg_parse("md5", &a), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_appendix_b_sha1),
		cmocka_unit_test(test_rfc6238_appendix_b_sha256),
		cmocka_unit_test(test_rfc6238_appendix_b_sha512),
		cmocka_unit_test(test_rfc4226_appendix_d_hotp_counts),
		cmocka_unit_test(test_code_from_another_algorithm_is_refused),
		cmocka_unit_test(test_window_accepts_neighbouring_steps_and_reports_them),
		cmocka_unit_test(test_code_outside_the_window_is_refused),
		cmocka_unit_test(test_malformed_codes_are_refused_before_any_hmac),
		cmocka_unit_test(test_window_is_bounded),
		cmocka_unit_test(test_generate_matches_verify),
		cmocka_unit_test(test_algorithm_names_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
