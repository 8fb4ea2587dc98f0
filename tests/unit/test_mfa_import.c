/* mfa_import: what the google-authenticator and pam_oath parsers take over, and
 * how they refuse (file:line, nothing returned). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mfa_import.h"

#define PARSE(fn, text, im, err) fn(text, strlen(text), "f", im, err)

static void test_ga_file_gives_secret_step_and_watermark(void **state)
{
	struct isms_import im = { 0 };
	struct isms_err err = { 0 };
	const char *text = "JBSWY3DPEHPK3PXP\n\" RATE_LIMIT 3 30\n\" STEP_SIZE 60\n"
			   "\" DISALLOW_REUSE 100 250 120\n\" TOTP_AUTH\n12345678\n";

	(void)state;
	assert_int_equal(PARSE(isms_import_ga_parse, text, &im, &err), 0);
	assert_int_equal(im.n, 1);
	assert_int_equal(im.v[0].secret_len, 10);
	assert_memory_equal(im.v[0].secret, "Hello!\xde\xad\xbe\xef", 10);
	assert_int_equal(im.v[0].p.period, 60);
	assert_int_equal(im.v[0].p.digits, 6);
	assert_int_equal(im.v[0].last_step, 250);
	assert_int_equal(im.skipped_scratch, 1);
	isms_import_free(&im);
}

static void test_ga_hotp_and_unknown_options_are_refused_with_line(void **state)
{
	struct isms_import im = { 0 };
	struct isms_err err = { 0 };

	(void)state;
	assert_int_equal(PARSE(isms_import_ga_parse, "JBSWY3DPEHPK3PXP\n\" HOTP_COUNTER 4\n", &im, &err),
			 -ENOTSUP);
	assert_non_null(strstr(err.msg, "f:2: counter-based HOTP"));
	assert_int_equal(PARSE(isms_import_ga_parse, "JBSWY3DPEHPK3PXP\n\n\" FANCY 1\n", &im, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "f:3: unsupported option"));
	assert_int_equal(PARSE(isms_import_ga_parse, "JBSW\n", &im, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "f:1:"));
	assert_int_equal(PARSE(isms_import_ga_parse, "", &im, &err), -EINVAL);
	assert_null(im.v);
}

static void test_oath_usersfile_types_and_timestamp(void **state)
{
	struct isms_import im = { 0 };
	struct isms_err err = { 0 };
	const char *text = "# comment\n\nHOTP/T30 alice - 3132333435363738393031323334353637383930\n"
			   "HOTP/T60/8 bob + 00112233445566778899aabbccddeeff00112233 0 12345678 1970-01-01T01:00:00L\n"
			   "HOTP/T30/6/SHA256 carol - 3132333435363738393031323334353637383930313233343536373839303132\n";

	(void)state;
	setenv("TZ", "UTC", 1);
	assert_int_equal(PARSE(isms_import_oath_parse, text, &im, &err), 0);
	assert_int_equal(im.n, 3);
	assert_string_equal(im.v[0].user, "alice");
	assert_int_equal(im.v[0].line, 3);
	assert_int_equal(im.v[0].secret_len, 20);
	assert_int_equal(im.v[0].last_step, -1);
	assert_int_equal(im.v[1].p.period, 60);
	assert_int_equal(im.v[1].p.digits, 8);
	assert_int_equal(im.v[1].last_step, 60);
	assert_int_equal(im.v[2].p.alg, ISMS_TOTP_SHA256);
	assert_int_equal(im.v[2].secret_len, 32);
	isms_import_free(&im);
}

static void test_oath_refusals_name_the_line(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "HOTP alice - 3132333435363738393031323334353637383930\n", "f:1: counter-based" },
		{ "HOTP/E alice - 3132333435363738393031323334353637383930\n", "f:1: counter-based" },
		{ "#\nHOTP/T30 alice 1234 3132333435363738393031323334353637383930\n", "f:2: a PIN" },
		{ "HOTP/T30 alice - 31323\n", "f:1: secret must be" },
		{ "HOTP/T30 alice -\n", "f:1: expected TYPE" },
		{ "HOTP/T30 a - 3132333435363738393031323334353637383930\nHOTP/T30 a - 3132333435363738393031323334353637383930\n",
		  "f:2: user listed twice" },
		{ "HOTP/T30/7 a - 3132333435363738393031323334353637383930\n", "f:1: unsupported token type" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct isms_import im = { 0 };
		struct isms_err err = { 0 };

		assert_true(PARSE(isms_import_oath_parse, cases[i].text, &im, &err) < 0);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: '%s' not in '%s'", i, cases[i].want, err.msg);
		assert_null(im.v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ga_file_gives_secret_step_and_watermark),
		cmocka_unit_test(test_ga_hotp_and_unknown_options_are_refused_with_line),
		cmocka_unit_test(test_oath_usersfile_types_and_timestamp),
		cmocka_unit_test(test_oath_refusals_name_the_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
