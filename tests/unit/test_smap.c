/* The sync's string map: keys found by content, replaced in place, kept across growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smap.h"

static void test_keys_are_found_by_content_and_replaced_in_place(void **state)
{
	struct isms_smap m = { 0 };
	char k1[] = "uid=alice,ou=people,dc=example,dc=com", k2[] = "uid=alice,ou=people,dc=example,dc=com";
	int a = 1, b = 2;

	(void)state;
	assert_null(isms_smap_get(&m, "x"));
	assert_int_equal(isms_smap_put(&m, k1, &a), 0);
	assert_ptr_equal(isms_smap_get(&m, k2), &a);
	assert_int_equal(isms_smap_put(&m, k2, &b), 0);
	assert_int_equal(m.n, 1);
	assert_ptr_equal(isms_smap_get(&m, k1), &b);
	/* keys that differ only past the last whole eight bytes, and the empty key */
	assert_null(isms_smap_get(&m, "uid=alice,ou=people,dc=example,dc=con"));
	assert_int_equal(isms_smap_put(&m, "", &a), 0);
	assert_ptr_equal(isms_smap_get(&m, ""), &a);
	assert_null(isms_smap_get(&m, NULL));
	isms_smap_free(&m);
}

static void test_every_key_survives_growth(void **state)
{
	enum { N = 50000 };
	struct isms_smap m = { 0 };
	char (*keys)[48] = calloc(N, sizeof(*keys));
	size_t seen = 0;

	(void)state;
	assert_non_null(keys);
	for (size_t i = 0; i < N; i++) {
		(void)snprintf(keys[i], sizeof(keys[i]), "%08zx-7e87-1041-8f38-79a73d7d279c", i * 7919);
		assert_int_equal(isms_smap_put(&m, keys[i], keys[i]), 0);
	}
	assert_int_equal(m.n, N);
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(isms_smap_get(&m, keys[i]), keys[i]);
	for (size_t i = 0; i < m.cap; i++)
		seen += m.slots[i].key != NULL;
	assert_int_equal(seen, N);
	assert_null(isms_smap_get(&m, "ffffffff-7e87-1041-8f38-79a73d7d279c"));
	isms_smap_free(&m);
	free(keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_are_found_by_content_and_replaced_in_place),
		cmocka_unit_test(test_every_key_survives_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
