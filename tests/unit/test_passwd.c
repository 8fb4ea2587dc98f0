/* passwd: passwd(5)/group(5) lines parsed with the column of the first bad field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "passwd.h"
#include "registry.h"

static void expect_bad_pw(const char *text, int col, const char *what)
{
	struct isms_pwline p;
	const char *w = NULL;
	char line[256];
	int c = 0;

	(void)snprintf(line, sizeof(line), "%s", text);
	assert_int_equal(isms_passwd_parse(line, &p, &c, &w), -EINVAL);
	assert_int_equal(c, col);
	assert_non_null(strstr(w, what));
}

static void test_valid_passwd_line_is_parsed(void **state)
{
	struct isms_pwline p;
	const char *w = NULL;
	char line[] = "ann:x:1001:100:Ann Lee,,,:/home/ann:/bin/bash\n";
	int c = 0;

	(void)state;
	assert_int_equal(isms_passwd_parse(line, &p, &c, &w), 0);
	assert_string_equal(p.name, "ann");
	assert_int_equal(p.uid, 1001);
	assert_int_equal(p.gid, 100);
	assert_string_equal(p.gecos, "Ann Lee,,,");
	assert_string_equal(p.home, "/home/ann");
	assert_string_equal(p.shell, "/bin/bash");
}

static void test_empty_and_nis_lines_are_skipped(void **state)
{
	struct isms_pwline p;
	const char *w = NULL;
	char empty[] = "\n", plus[] = "+@netgroup::::::", minus[] = "-bob";
	int c = 0;

	(void)state;
	assert_int_equal(isms_passwd_parse(empty, &p, &c, &w), 1);
	assert_int_equal(isms_passwd_parse(plus, &p, &c, &w), 1);
	assert_int_equal(isms_passwd_parse(minus, &p, &c, &w), 1);
}

static void test_bad_passwd_fields_name_their_column(void **state)
{
	(void)state;
	expect_bad_pw("ann:x:10x1:100::/home/ann:/bin/sh", 7, "uid");
	expect_bad_pw("ann:x:1001:-1::/home/ann:/bin/sh", 12, "gid");
	expect_bad_pw("ann:x:4294967295:1::/:/bin/sh", 7, "uid");
	expect_bad_pw("ann:x::1::/:/bin/sh", 7, "uid");
	expect_bad_pw(":x:1:1::/:/bin/sh", 1, "name");
	expect_bad_pw("a n:x:1:1::/:/bin/sh", 1, "name");
	expect_bad_pw("ann:x:1:1::/home", 17, "too few");
	expect_bad_pw("ann:x:1:1::/:/bin/sh:extra", 21, "too many");
	expect_bad_pw("ann:x:1:1:a\tb:/:/bin/sh", 11, "control");
}

static void test_group_lines(void **state)
{
	struct isms_grline g;
	const char *w = NULL;
	char ok[] = "sudo:x:27:ann,bob\n", none[] = "ann:x:1001:", short_[] = "broken:x:27",
	     badmem[] = "sudo:x:27:ann, bob";
	int c = 0;

	(void)state;
	assert_int_equal(isms_group_parse(ok, &g, &c, &w), 0);
	assert_string_equal(g.name, "sudo");
	assert_int_equal(g.gid, 27);
	assert_string_equal(g.members, "ann,bob");
	assert_int_equal(isms_group_parse(none, &g, &c, &w), 0);
	assert_string_equal(g.members, "");
	assert_int_equal(isms_group_parse(short_, &g, &c, &w), -EINVAL);
	assert_int_equal(c, 12);
	assert_int_equal(isms_group_parse(badmem, &g, &c, &w), -EINVAL);
	assert_int_equal(c, 11);
}

static void test_login_shells(void **state)
{
	(void)state;
	assert_true(isms_shell_is_login("/bin/bash"));
	assert_true(isms_shell_is_login("/usr/local/bin/isms-rec"));
	assert_false(isms_shell_is_login("/usr/sbin/nologin"));
	assert_false(isms_shell_is_login("/bin/false"));
	assert_false(isms_shell_is_login("/bin/sync"));
	assert_false(isms_shell_is_login(""));
	assert_false(isms_shell_is_login(NULL));
}

static void test_service_lists(void **state)
{
	(void)state;
	assert_true(isms_csv_has("cron,atd", "cron"));
	assert_true(isms_csv_has("cron, atd ", "atd"));
	assert_false(isms_csv_has("crond", "cron"));
	assert_false(isms_csv_has("cron", "cro"));
	assert_false(isms_csv_has("", "cron"));
	assert_false(isms_csv_has(NULL, "cron"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_passwd_line_is_parsed),
		cmocka_unit_test(test_empty_and_nis_lines_are_skipped),
		cmocka_unit_test(test_bad_passwd_fields_name_their_column),
		cmocka_unit_test(test_group_lines),
		cmocka_unit_test(test_login_shells),
		cmocka_unit_test(test_service_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
