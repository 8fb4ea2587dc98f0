/* The pure parts of reviews: the returned-worksheet parser (line numbers across
 * quoted newlines, header mapping, refusals), decisions, neutralisation, row ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "review.h"

static const char *sheet_text =
	"decision,row_id,campaign,account,entitlement,justification,extra\r\n"
	"keep,r1,2026-Q3,carol,dev,\"two\r\nlines\",x\r\n"
	"\r\n"
	",,,,,,\r\n"
	"revoke,r2,2026-Q3,dan,login,,y\r\n";

static void test_parse_maps_columns_and_counts_lines_across_quoted_newlines(void **state)
{
	struct isms_review_sheet s;
	struct isms_err err = { 0 };

	(void)state;
	assert_int_equal(isms_review_sheet_parse("w.csv", sheet_text, strlen(sheet_text), &s, &err), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.colno[RC_DECISION], 1);
	assert_int_equal(s.colno[RC_CAMPAIGN], 3);
	assert_int_equal(s.colno[RC_UID], 0);
	assert_int_equal(s.rows[0].line, 2);
	assert_string_equal(s.rows[0].cells[RC_JUSTIFICATION], "two\r\nlines");
	assert_int_equal(s.rows[1].line, 6);
	assert_string_equal(s.rows[1].cells[RC_ACCOUNT], "dan");
	assert_null(s.rows[1].cells[RC_UID]);
	isms_review_sheet_free(&s);
}

static void test_parse_refuses_short_rows_missing_columns_and_bad_quotes(void **state)
{
	struct isms_review_sheet s;
	struct isms_err err = { 0 };
	const char *shortrow = "campaign,row_id,account,entitlement,decision\nQ,r,a,e,keep\n\nQ,r\n";
	const char *missing = "campaign,row_id,account,decision\n";
	const char *quote = "campaign,row_id,account,entitlement,decision\nQ,\"r\"x,a,e,keep\n";

	(void)state;
	assert_int_equal(isms_review_sheet_parse("s.csv", shortrow, strlen(shortrow), &s, &err), -EINVAL);
	assert_string_equal(err.msg, "s.csv:4: 2 cells, the header has 5");
	assert_int_equal(isms_review_sheet_parse("m.csv", missing, strlen(missing), &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "m.csv:1: missing column 'entitlement'"));
	assert_int_equal(isms_review_sheet_parse("q.csv", quote, strlen(quote), &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "q.csv:2: "));
	assert_int_equal(isms_review_sheet_parse("e.csv", "", 0, &s, &err), -EINVAL);
}

static void test_decisions(void **state)
{
	struct isms_err err = { 0 };
	char d[16];
	int64_t until;

	(void)state;
	assert_int_equal(isms_review_decision_parse(" Keep ", NULL, d, &until, &err), 0);
	assert_string_equal(d, "keep");
	assert_int_equal(isms_review_decision_parse("", NULL, d, &until, &err), 0);
	assert_string_equal(d, "");
	assert_int_equal(isms_review_decision_parse("Exception until 2026-12-31", NULL, d, &until, &err), 0);
	assert_string_equal(d, "exception");
	assert_int_equal(until, 1798675200);
	assert_int_equal(isms_review_decision_parse("exception", "2027-01-01", d, &until, &err), 0);
	assert_int_equal(until, 1798761600);
	assert_int_equal(isms_review_decision_parse("exception", "", d, &until, &err), -EINVAL);
	assert_int_equal(isms_review_decision_parse("exception", "soon", d, &until, &err), -EINVAL);
	assert_int_equal(isms_review_decision_parse("approve", NULL, d, &until, &err), -EINVAL);
}

static void test_neutralise_prefixes_formula_starts_only(void **state)
{
	const char *in[] = { "=1+1", "+1", "-2", "@x", "\tx", "\rx", "a=b", "", "'=x" };
	const char *out[] = { "'=1+1", "'+1", "'-2", "'@x", "'\tx", "'\rx", "a=b", "", "'=x" };
	char *tmp;

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_string_equal(isms_review_neutralise(in[i], &tmp), out[i]);
		free(tmp);
	}
}

static void test_row_id_is_stable_and_separates_fields(void **state)
{
	char a[33], b[33], c[33];

	(void)state;
	isms_review_row_id("2026-Q3", "dan", "login", a);
	isms_review_row_id("2026-Q3", "dan", "login", b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 32);
	isms_review_row_id("2026-Q3", "da", "nlogin", c);
	assert_string_not_equal(a, c);
	isms_review_row_id("2026-Q4", "dan", "login", c);
	assert_string_not_equal(a, c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_maps_columns_and_counts_lines_across_quoted_newlines),
		cmocka_unit_test(test_parse_refuses_short_rows_missing_columns_and_bad_quotes),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_neutralise_prefixes_formula_starts_only),
		cmocka_unit_test(test_row_id_is_stable_and_separates_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
