/* util: lists as the config keeps them, paths under --root, durations and
 * times as users write them, and the guard on files that protect access. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util.h"
#include "unit.h"

static void expect_list(const char *csv, const char *const *want)
{
	char **l = isms_list_split(csv);
	size_t n = 0;

	assert_non_null(l);
	while (want[n])
		n++;
	assert_int_equal(isms_list_len(l), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l[i], want[i]);
	assert_null(l[n]);
	isms_list_free(l);
}

static void test_list_split_trims_and_skips_empty_items(void **state)
{
	(void)state;
	expect_list("a, b,c", (const char *const[]){ "a", "b", "c", NULL });
	expect_list("  sudo ,\twheel  ", (const char *const[]){ "sudo", "wheel", NULL });
	expect_list(",,a,, ,b,", (const char *const[]){ "a", "b", NULL });
	expect_list("Domain Admins, x", (const char *const[]){ "Domain Admins", "x", NULL });
	expect_list("", (const char *const[]){ NULL });
	expect_list(" , ", (const char *const[]){ NULL });
	expect_list(NULL, (const char *const[]){ NULL });
}

static void test_list_contains_is_exact(void **state)
{
	char **l = isms_list_split("sudo, wheel");

	(void)state;
	assert_true(isms_list_contains(l, "wheel"));
	assert_false(isms_list_contains(l, "whee"));
	assert_false(isms_list_contains(l, "Wheel"));
	assert_false(isms_list_contains(l, NULL));
	assert_false(isms_list_contains(NULL, "wheel"));
	assert_int_equal(isms_list_len(NULL), 0);
	isms_list_free(l);
	isms_list_free(NULL);
}

static void test_list_join_round_trips_split(void **state)
{
	char **l = isms_list_split("a,b , c");
	char **empty = isms_list_split("");
	char *s, *again;

	(void)state;
	s = isms_list_join(l, ", ");
	assert_string_equal(s, "a, b, c");
	l = (isms_list_free(l), isms_list_split(s));
	again = isms_list_join(l, ",");
	assert_string_equal(again, "a,b,c");
	free(s);
	free(again);
	s = isms_list_join(empty, ", ");
	assert_string_equal(s, "");
	free(s);
	s = isms_list_join(NULL, ", ");
	assert_string_equal(s, "");
	free(s);
	isms_list_free(l);
	isms_list_free(empty);
}

static void test_path_join_prefixes_the_root(void **state)
{
	struct { const char *root, *path, *want; } cases[] = {
		{ "/tmp/r", "/etc/isms/isms.conf", "/tmp/r/etc/isms/isms.conf" },
		{ "/tmp/r/", "/etc/x", "/tmp/r/etc/x" },
		{ "/tmp/r//", "/etc/x", "/tmp/r/etc/x" },
		{ "", "/etc/x", "/etc/x" },
		{ NULL, "/etc/x", "/etc/x" },
		{ "/", "/etc/x", "/etc/x" },
		{ "/tmp/r", "rel", "/tmp/r/rel" },
	};

	(void)state;
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(cases); i++) {
		char *p = isms_path_join(cases[i].root, cases[i].path);

		assert_non_null(p);
		if (strcmp(p, cases[i].want) != 0)
			fail_msg("path_join(%s, %s) = %s, want %s", cases[i].root, cases[i].path, p,
				 cases[i].want);
		free(p);
	}
}

static void test_parse_duration_accepts_units(void **state)
{
	struct { const char *in; long long want; } ok[] = {
		{ "0", 0 }, { "90", 90 }, { "30s", 30 }, { "15m", 900 }, { "24h", 86400 },
		{ "7d", 604800 }, { "1000000000000", 1000000000000LL },
	};
	static const char *const bad[] = {
		"", "m", "-5", "+5", " 5", "5 ", "5x", "5mm", "5M", "1.5h", "0x10", "99999999999999999999",
		"11574075d", "1000000000001",
	};
	long long v;

	(void)state;
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(ok); i++) {
		v = -1;
		assert_int_equal(isms_parse_duration(ok[i].in, &v), 0);
		assert_int_equal(v, ok[i].want);
	}
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(bad); i++) {
		v = -7;
		if (isms_parse_duration(bad[i], &v) == 0)
			fail_msg("duration '%s' accepted as %lld", bad[i], v);
		assert_int_equal(v, -7);   /* untouched on failure */
	}
	assert_true(isms_parse_duration(NULL, &v) < 0);
}

static void test_parse_int_checks_range_and_junk(void **state)
{
	long long v = 0;

	(void)state;
	assert_int_equal(isms_parse_int("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(isms_parse_int("-3", -5, 5, &v), 0);
	assert_int_equal(v, -3);
	assert_int_equal(isms_parse_int("101", 0, 100, &v), -ERANGE);
	assert_int_equal(isms_parse_int("99999999999999999999", 0, 100, &v), -ERANGE);
	assert_int_equal(isms_parse_int("4x", 0, 100, &v), -EINVAL);
	assert_int_equal(isms_parse_int("", 0, 100, &v), -EINVAL);
	assert_int_equal(isms_parse_int(NULL, 0, 100, &v), -EINVAL);
	assert_int_equal(v, -3);
}

static void test_time_format_is_utc_iso8601(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(isms_time_iso(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
	assert_string_equal(isms_time_iso(1700000000, buf, sizeof(buf)), "2023-11-14T22:13:20Z");
	assert_string_equal(isms_time_iso(1795000000, buf, sizeof(buf)), "2026-11-18T11:06:40Z");
}

static void test_time_parse_accepts_the_documented_forms(void **state)
{
	struct { const char *in; int64_t want; } ok[] = {
		{ "2023-11-14T22:13:20Z", 1700000000 },
		{ "2023-11-14T22:13:20", 1700000000 },
		{ "2023-11-14 22:13:20", 1700000000 },
		{ "2023-11-14 22:13", 1699999980 },
		{ "2023-11-14T22:13", 1699999980 },
		{ "2023-11-14", 1699920000 },
		{ "@1700000000", 1700000000 },
		{ "@0", 0 },
	};
	static const char *const bad[] = {
		"", "yesterday", "2023-11-14X", "2023-11-14T22:13:20+01:00", "@", "@-1", "@12x",
		"14/11/2023", "2023-13-01", "2023-11-14 25:00",
	};
	int64_t t;

	(void)state;
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(ok); i++) {
		t = -1;
		if (isms_time_parse(ok[i].in, &t) != 0 || t != ok[i].want)
			fail_msg("'%s' parsed as %lld, want %lld", ok[i].in, (long long)t, (long long)ok[i].want);
	}
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(bad); i++)
		if (isms_time_parse(bad[i], &t) == 0)
			fail_msg("'%s' accepted as %lld", bad[i], (long long)t);
	assert_true(isms_time_parse(NULL, &t) < 0);
}

static void test_time_format_then_parse_round_trips(void **state)
{
	char buf[32];
	int64_t t;

	(void)state;
	for (int64_t v = 0; v < 4000000000LL; v += 123456789) {
		assert_int_equal(isms_time_parse(isms_time_iso(v, buf, sizeof(buf)), &t), 0);
		assert_int_equal(t, v);
	}
}

static void test_hex_encodes_lowercase(void **state)
{
	static const unsigned char in[] = { 0x00, 0xab, 0x10, 0xff };
	char out[2 * sizeof(in) + 1];

	(void)state;
	isms_hex(in, sizeof(in), out);
	assert_string_equal(out, "00ab10ff");
}

static void test_mkdir_p_creates_missing_parents_only(void **state)
{
	char *dir = unit_tmpdir();
	char *deep = unit_path(dir, "a/b/c");
	char *a = unit_path(dir, "a");
	struct stat st;

	(void)state;
	assert_int_equal(chmod(dir, 0711), 0);
	assert_int_equal(isms_mkdir_p(deep, 0700), 0);
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(isms_mkdir_p(deep, 0700), 0);   /* existing: fine */
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0711);     /* existing parents untouched */
	free(deep);
	deep = unit_path(dir, "a/b/f");
	unit_write(deep, "", 0, 0600);
	free(deep);
	deep = unit_path(dir, "a/b/f/d");
	assert_int_equal(isms_mkdir_p(deep, 0700), -ENOTDIR);
	free(deep);
	free(a);
	unit_rmtree(dir);
}

static void test_guard_refuses_writable_wrong_type_and_foreign_owner(void **state)
{
	char *dir = unit_tmpdir();
	char *file = unit_path(dir, "f");
	char *link = unit_path(dir, "l");
	struct isms_err err = { 0 };

	(void)state;
	unit_write(file, "x", 1, 0600);
	assert_int_equal(isms_check_guard(file, "thing", false, &err), 0);
	assert_int_equal(isms_check_guard(dir, "thing dir", true, &err), 0);
	assert_int_equal(isms_check_guard(file, "thing", true, &err), -EPERM);
	unit_assert_contains(err.msg, "not a directory");
	assert_int_equal(isms_check_guard(dir, "thing", false, &err), -EPERM);
	unit_assert_contains(err.msg, "not a regular file");
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(isms_check_guard(link, "thing", false, &err), -EPERM);
	assert_int_equal(chmod(file, 0660), 0);
	assert_int_equal(isms_check_guard(file, "thing", false, &err), -EPERM);
	unit_assert_contains(err.msg, "thing ");
	unit_assert_contains(err.msg, "fix: chmod go-w");
	assert_int_equal(chmod(file, 0644), 0);
	assert_int_equal(isms_check_guard(file, "thing", false, &err), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(file, UNIT_NOBODY, 0), 0);
		assert_int_equal(isms_check_guard(file, "thing", false, &err), -EPERM);
		unit_assert_contains(err.msg, "not owned by root (uid 65534)");
	}
	assert_int_equal(isms_check_guard("/nonexistent/x", "thing", false, &err), -ENOENT);
	free(file);
	free(link);
	unit_rmtree(dir);
}

static void test_secret_free_accepts_null(void **state)
{
	char *p = strdup("secret");

	(void)state;
	isms_secret_free(p, strlen(p));
	isms_secret_free(NULL, 10);
}

static void test_int_text_is_decimal_for_the_whole_range(void **state)
{
	static const long long v[] = { 0, 7, -7, 10, 300001, -1000, 9223372036854775807LL, -9223372036854775807LL - 1 };
	char out[ISMS_INT_TEXT], want[32];

	(void)state;
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(v); i++) {
		char *end = isms_fmt_int(out, v[i]);

		(void)snprintf(want, sizeof(want), "%lld", v[i]);
		assert_string_equal(out, want);
		assert_ptr_equal(end, out + strlen(want));
	}
}

/* Small allocations follow one another in a chunk: a new chunk only when one
 * is full, so 100,000 rows cost a handful of mallocs. */
static void test_pool_packs_small_allocations_into_few_chunks(void **state)
{
	struct isms_pool p = { 0 };
	char *prev = NULL, *big;
	size_t jumps = 0;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		char *s = isms_pool_alloc(&p, 10);

		assert_non_null(s);
		memset(s, 'x', 10);
		if (prev && s != prev + 10)
			jumps++;
		prev = s;
		if (i == 1000) {
			/* larger than any chunk: on its own, the chunk being filled goes on */
			big = isms_pool_alloc(&p, 2 * 1024 * 1024);
			assert_non_null(big);
			memset(big, 'y', 2 * 1024 * 1024);
		}
	}
	/* 2,000,000 bytes in chunks of about a megabyte: two changes of chunk at most */
	assert_true(jumps <= 2);
	isms_pool_free(&p);
	assert_null(p.head);
}

static void test_pool_strings_shrink_and_adopt(void **state)
{
	struct isms_pool a = { 0 }, b = { 0 };
	char *s, *t, *k, *after;

	(void)state;
	s = isms_pool_strdup(&a, "alice");
	t = isms_pool_strndup(&a, "bobby", 3);
	assert_string_equal(s, "alice");
	assert_string_equal(t, "bob");
	assert_null(isms_pool_strdup(&a, NULL));
	/* the last allocation gives back what it did not use */
	k = isms_pool_alloc(&a, 100);
	strcpy(k, "key");
	isms_pool_shrink(&a, k, 4);
	after = isms_pool_alloc(&a, 1);
	assert_ptr_equal(after, k + 4);
	/* b's strings live on in a once b is emptied into it */
	s = isms_pool_strdup(&b, "carol");
	isms_pool_adopt(&a, &b);
	assert_null(b.head);
	isms_pool_free(&b);
	assert_string_equal(s, "carol");
	assert_string_equal(t, "bob");
	/* adopting into an empty pool */
	t = isms_pool_strdup(&b, "dave");
	isms_pool_adopt(&b, &a);
	assert_string_equal(s, "carol");
	assert_string_equal(t, "dave");
	isms_pool_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_split_trims_and_skips_empty_items),
		cmocka_unit_test(test_list_contains_is_exact),
		cmocka_unit_test(test_list_join_round_trips_split),
		cmocka_unit_test(test_path_join_prefixes_the_root),
		cmocka_unit_test(test_parse_duration_accepts_units),
		cmocka_unit_test(test_parse_int_checks_range_and_junk),
		cmocka_unit_test(test_time_format_is_utc_iso8601),
		cmocka_unit_test(test_time_parse_accepts_the_documented_forms),
		cmocka_unit_test(test_time_format_then_parse_round_trips),
		cmocka_unit_test(test_hex_encodes_lowercase),
		cmocka_unit_test(test_pool_packs_small_allocations_into_few_chunks),
		cmocka_unit_test(test_pool_strings_shrink_and_adopt),
		cmocka_unit_test(test_mkdir_p_creates_missing_parents_only),
		cmocka_unit_test(test_guard_refuses_writable_wrong_type_and_foreign_owner),
		cmocka_unit_test(test_secret_free_accepts_null),
		cmocka_unit_test(test_int_text_is_decimal_for_the_whole_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
