/* hr_feed: header mapping, terminated rows, and the rows it refuses with line and column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "hr_feed.h"

static struct isms_conf *conf;

static int setup(void **state)
{
	(void)state;
	return isms_conf_defaults("", &conf);
}

static int teardown(void **state)
{
	(void)state;
	isms_conf_free(conf);
	return 0;
}

static void parse_ok(const char *text, struct isms_hr_feed *feed)
{
	struct isms_err err = { 0 };

	assert_int_equal(isms_hr_feed_parse(text, strlen(text), conf, feed, &err), 0);
}

static void test_terminated_rows_are_read_by_header_name(void **state)
{
	struct isms_hr_feed f;

	(void)state;
	parse_ok("Name,Termination Date,Status,Employee Number\n"
		 "Carol,2026-11-17,Terminated,E1003\n"
		 "Alice,,Active,E1001\n"
		 "\"Dave, contractor\",2026-11-16T17:00:00Z,inactive,E1004\n", &f);
	assert_int_equal(f.nissues, 0);
	assert_int_equal(f.nrows, 3);
	assert_string_equal(f.rows[0].employee_no, "E1003");
	assert_true(f.rows[0].terminated);
	assert_int_equal(f.rows[0].terminated_at, 1794873600); /* 2026-11-17T00:00:00Z */
	assert_int_equal(f.rows[0].line, 2);
	assert_false(f.rows[1].terminated);
	assert_true(f.rows[2].terminated); /* status match ignores case */
	assert_int_equal(f.rows[2].terminated_at, 1794848400); /* 2026-11-16T17:00:00Z */
	isms_hr_feed_free(&f);
}

static void test_bad_rows_are_issues_with_line_and_column(void **state)
{
	struct isms_hr_feed f;

	(void)state;
	parse_ok("Employee Number,Status,Termination Date\n"
		 "E1,Terminated,17/11/2026\n"
		 ",Terminated,2026-11-17\n"
		 "E2,Terminated\n"
		 "E3,Terminated,\n"
		 "E4,Terminated,2026-11-17\n"
		 "E4,Terminated,2026-11-17\n"
		 "E5,Terminated,2026-11-17\n"
		 "E5,Active,\n", &f);
	assert_int_equal(f.nissues, 6);
	assert_int_equal(f.issues[0].line, 2);
	assert_int_equal(f.issues[0].column, 3);
	assert_non_null(strstr(f.issues[0].msg, "malformed termination date '17/11/2026'"));
	assert_int_equal(f.issues[1].line, 3);
	assert_int_equal(f.issues[1].column, 1);
	assert_int_equal(f.issues[2].line, 4);
	assert_non_null(strstr(f.issues[2].msg, "2 fields, the header has 3"));
	assert_non_null(strstr(f.issues[3].msg, "without a termination date"));
	assert_int_equal(f.issues[4].line, 7);
	assert_non_null(strstr(f.issues[4].msg, "duplicate of line 6 (applied once)"));
	assert_int_equal(f.issues[5].line, 9);
	assert_non_null(strstr(f.issues[5].msg, "conflicts with line 8; neither applied"));
	assert_int_equal(f.nrows, 2);
	assert_false(f.rows[0].excluded);
	assert_true(f.rows[1].excluded);
	isms_hr_feed_free(&f);
}

static void test_quoted_newline_keeps_line_numbers_of_later_rows(void **state)
{
	struct isms_hr_feed f;

	(void)state;
	parse_ok("\xef\xbb\xbf" "Employee Number,Status,Termination Date,Note\r\n"
		 "E1,Active,,\"two\r\nlines\"\r\n"
		 "E2,Terminated,bad,x\r\n", &f);
	assert_int_equal(f.nissues, 1);
	assert_int_equal(f.issues[0].line, 4);
	isms_hr_feed_free(&f);
}

static void test_missing_column_or_broken_csv_is_refused_whole(void **state)
{
	struct isms_hr_feed f;
	struct isms_err err = { 0 };
	const char *a = "Employee,Status,Termination Date\nE1,Terminated,2026-11-17\n";
	const char *b = "Employee Number,Status,Termination Date\n\"E1,Terminated,2026-11-17\n";

	(void)state;
	assert_int_equal(isms_hr_feed_parse(a, strlen(a), conf, &f, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no column 'Employee Number'"));
	assert_int_equal(isms_hr_feed_parse(b, strlen(b), conf, &f, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not CSV"));
	assert_int_equal(isms_hr_feed_parse("", 0, conf, &f, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_terminated_rows_are_read_by_header_name),
		cmocka_unit_test(test_bad_rows_are_issues_with_line_and_column),
		cmocka_unit_test(test_quoted_newline_keeps_line_numbers_of_later_rows),
		cmocka_unit_test(test_missing_column_or_broken_csv_is_refused_whole),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
