/* conf: defaults, validation, and errors that name file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "util.h"

static char *write_conf(const char *text)
{
	char *path = strdup("/tmp/isms-conf-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void load_expect_error(const char *text, const char *want)
{
	struct isms_conf *c = NULL;
	struct isms_err err = { 0 };
	char *path = write_conf(text);
	char expect[600];

	assert_int_equal(isms_conf_load(path, "", false, &c, &err), -EINVAL);
	assert_null(c);
	(void)snprintf(expect, sizeof(expect), "%s:%s", path, want);
	if (strstr(err.msg, expect) == NULL)
		fail_msg("error '%s' does not contain '%s'", err.msg, expect);
	unlink(path);
	free(path);
}

static void test_defaults_apply_without_a_file(void **state)
{
	struct isms_conf *c = NULL;
	struct isms_err err = { 0 };

	(void)state;
	assert_int_equal(isms_conf_load("/nonexistent/isms.conf", "/tmp/r", true, &c, &err), 0);
	assert_string_equal(c->registry_db, "/tmp/r/var/lib/isms/registry.db");
	assert_int_equal(c->stale_days, 90);
	assert_int_equal(c->mfa_window, 1);
	assert_int_equal(c->mfa_lockout, 900);
	assert_int_equal(c->record, ISMS_RECORD_ENFORCE);
	assert_true(isms_list_contains(c->privileged_groups, "wheel"));
	assert_true(isms_list_contains(c->shared_names, "postgres"));
	isms_conf_free(c);
}

static void test_missing_file_is_an_error_unless_allowed(void **state)
{
	struct isms_conf *c = NULL;
	struct isms_err err = { 0 };

	(void)state;
	assert_int_equal(isms_conf_load("/nonexistent/isms.conf", "", false, &c, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/isms.conf"));
}

static void test_values_are_parsed(void **state)
{
	struct isms_conf *c = NULL;
	struct isms_err err = { 0 };
	char *path = write_conf("[general]\nstale_days = 30\ndeny_stale = yes\nshared_names = a, b\n"
				"[mfa]\nlockout = 2h\nmode = groups\n[session]\nrecord = warn\n");

	(void)state;
	assert_int_equal(isms_conf_load(path, "", false, &c, &err), 0);
	assert_int_equal(c->stale_days, 30);
	assert_true(c->deny_stale);
	assert_int_equal(isms_list_len(c->shared_names), 2);
	assert_int_equal(c->mfa_lockout, 7200);
	assert_int_equal(c->mfa_mode, ISMS_MFA_GROUPS);
	assert_int_equal(c->record, ISMS_RECORD_WARN);
	isms_conf_free(c);
	unlink(path);
	free(path);
}

static void load_expect_refused(const char *path, const char *want)
{
	struct isms_conf *c = NULL;
	struct isms_err err = { 0 };

	assert_int_equal(isms_conf_load(path, "", false, &c, &err), -EPERM);
	assert_null(c);
	if (strstr(err.msg, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", err.msg, want);
}

static void test_writable_config_is_refused(void **state)
{
	char *path = write_conf("[general]\nstale_days = 3\n");

	(void)state;
	assert_int_equal(chmod(path, 0664), 0);
	load_expect_refused(path, "is writable by group or other (mode 0664); fix: chmod go-w");
	assert_int_equal(chmod(path, 0646), 0);
	load_expect_refused(path, "(mode 0646)");
	unlink(path);
	free(path);
}

static void test_config_not_owned_by_root_is_refused_when_root(void **state)
{
	struct isms_conf *c = NULL;
	struct isms_err err = { 0 };
	char *path = write_conf("[general]\nstale_days = 3\n");

	(void)state;
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 65534), 0);
		load_expect_refused(path, "not owned by root (uid 65534); fix: chown root");
	} else {
		assert_int_equal(isms_conf_load(path, "", false, &c, &err), 0);
		isms_conf_free(c);
	}
	unlink(path);
	free(path);
}

static void test_directory_as_config_is_refused(void **state)
{
	(void)state;
	load_expect_refused("/", "config file /: not a regular file");
}

static void test_unknown_key_names_file_line_and_key(void **state)
{
	(void)state;
	load_expect_error("[general]\n# comment\nstale_dayz = 3\n", "3: unknown key 'stale_dayz' in [general]");
}

static void test_unknown_section_is_refused(void **state)
{
	(void)state;
	load_expect_error("[genral]\nstale_days = 3\n", "2: unknown section [genral]");
}

static void test_bad_integer_says_what_is_allowed(void **state)
{
	(void)state;
	load_expect_error("[general]\nstale_days = 0\n", "2: key 'stale_days' in [general]: bad value '0'; allowed: a whole number from 1 to 3650");
}

static void test_bad_boolean_says_yes_or_no(void **state)
{
	(void)state;
	load_expect_error("[general]\n\ndeny_stale = maybe\n", "3: key 'deny_stale' in [general]: bad value 'maybe'; allowed: yes or no");
}

static void test_bad_enum_lists_choices(void **state)
{
	(void)state;
	load_expect_error("[session]\nrecord = sometimes\n", "2: key 'record' in [session]: bad value 'sometimes'; allowed: one of enforce|warn|off");
}

static void test_bad_duration_is_refused(void **state)
{
	(void)state;
	load_expect_error("[mfa]\nlockout = 15x\n", "2: key 'lockout' in [mfa]: bad value '15x'");
}

static void test_relative_path_is_refused(void **state)
{
	(void)state;
	load_expect_error("[paths]\nstate_db = var/state.db\n", "2: key 'state_db' in [paths]: bad value 'var/state.db'; allowed: an absolute path");
}

static void test_key_outside_section_is_refused(void **state)
{
	(void)state;
	load_expect_error("stale_days = 3\n", "1: unknown section []");
}

static void test_duplicate_key_is_refused(void **state)
{
	(void)state;
	load_expect_error("[mfa]\nwindow = 1\nwindow = 2\n", "3: key 'window' in [mfa] given twice");
}

static void test_syntax_error_names_line(void **state)
{
	(void)state;
	load_expect_error("[mfa]\nwindow 1\n", "2: syntax error");
}

static void test_default_file_round_trips(void **state)
{
	struct isms_conf *c = NULL;
	struct isms_err err = { 0 };
	char *path = write_conf("");
	FILE *f = fopen(path, "w");

	(void)state;
	assert_int_equal(isms_conf_write_default(f, "/tmp/rt"), 0);
	fclose(f);
	assert_int_equal(isms_conf_load(path, "/tmp/rt", false, &c, &err), 0);
	assert_string_equal(c->state_db, "/tmp/rt/var/lib/isms/state.db");
	assert_int_equal(c->mfa_max_failures, 5);
	isms_conf_free(c);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_apply_without_a_file),
		cmocka_unit_test(test_missing_file_is_an_error_unless_allowed),
		cmocka_unit_test(test_values_are_parsed),
		cmocka_unit_test(test_writable_config_is_refused),
		cmocka_unit_test(test_config_not_owned_by_root_is_refused_when_root),
		cmocka_unit_test(test_directory_as_config_is_refused),
		cmocka_unit_test(test_unknown_key_names_file_line_and_key),
		cmocka_unit_test(test_unknown_section_is_refused),
		cmocka_unit_test(test_bad_integer_says_what_is_allowed),
		cmocka_unit_test(test_bad_boolean_says_yes_or_no),
		cmocka_unit_test(test_bad_enum_lists_choices),
		cmocka_unit_test(test_bad_duration_is_refused),
		cmocka_unit_test(test_relative_path_is_refused),
		cmocka_unit_test(test_key_outside_section_is_refused),
		cmocka_unit_test(test_duplicate_key_is_refused),
		cmocka_unit_test(test_syntax_error_names_line),
		cmocka_unit_test(test_default_file_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
