/* scim: which paths name a user, which PATCH bodies deprovision, the error document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scim.h"

#define PATCH(ops) "{\"schemas\":[\"" ISMS_SCIM_PATCH_URN "\"],\"Operations\":[" ops "]}"

static int patch(const char *body, const char **type)
{
	struct isms_err err = { 0 };

	*type = NULL;
	return isms_scim_patch_parse(body, strlen(body), type, &err);
}

static void test_user_paths(void **state)
{
	struct isms_err err = { 0 };
	char id[16];

	(void)state;
	assert_int_equal(isms_scim_user_path("/Users/E1003", id, sizeof(id), &err), 0);
	assert_string_equal(id, "E1003");
	assert_int_equal(isms_scim_user_path("/scim/v2/Users/e.1-0_3", id, sizeof(id), &err), 0);
	assert_int_equal(isms_scim_user_path("/Groups/1", id, sizeof(id), &err), -ENOENT);
	assert_int_equal(isms_scim_user_path("/Users/", id, sizeof(id), &err), -EINVAL);
	assert_int_equal(isms_scim_user_path("/Users/a/b", id, sizeof(id), &err), -EINVAL);
	assert_int_equal(isms_scim_user_path("/Users/0123456789abcdef", id, sizeof(id), &err), -EINVAL);
}

static void test_deactivating_patches_are_accepted(void **state)
{
	const char *type;

	(void)state;
	assert_int_equal(patch(PATCH("{\"op\":\"replace\",\"path\":\"active\",\"value\":false}"), &type), 0);
	assert_int_equal(patch(PATCH("{\"op\":\"Replace\",\"value\":{\"active\":\"False\"}}"), &type), 0);
	assert_int_equal(patch(PATCH("{\"op\":\"add\",\"path\":\"active\",\"value\":false}"), &type), 0);
}

static void test_anything_else_is_refused_whole(void **state)
{
	const char *type;

	(void)state;
	assert_int_equal(patch("{\"schemas\":", &type), -EINVAL);
	assert_string_equal(type, "invalidSyntax");
	assert_int_equal(patch("{\"Operations\":[{\"op\":\"replace\",\"path\":\"active\",\"value\":false}]}", &type), -EINVAL);
	assert_string_equal(type, "invalidSyntax");
	assert_int_equal(patch(PATCH(""), &type), -EINVAL);
	assert_int_equal(patch(PATCH("{\"op\":\"remove\",\"path\":\"active\"}"), &type), -EINVAL);
	assert_int_equal(patch(PATCH("{\"op\":\"replace\",\"path\":\"active\",\"value\":true}"), &type), -EINVAL);
	assert_string_equal(type, "invalidValue");
	assert_int_equal(patch(PATCH("{\"op\":\"replace\",\"path\":\"active\",\"value\":false},"
				     "{\"op\":\"replace\",\"path\":\"title\",\"value\":\"x\"}"), &type), -EINVAL);
	assert_string_equal(type, "invalidPath");
	assert_int_equal(patch(PATCH("{\"op\":\"replace\",\"value\":{\"active\":false,\"title\":\"x\"}}"), &type), -EINVAL);
	assert_int_equal(patch("{\"schemas\":[\"" ISMS_SCIM_PATCH_URN "\"],\"schemas\":[]}", &type), -EINVAL);
}

static void test_error_document(void **state)
{
	char *doc = isms_scim_error_json(400, "invalidSyntax", "bad \"json\"");

	(void)state;
	assert_string_equal(doc, "{\"schemas\":[\"" ISMS_SCIM_ERROR_URN "\"],\"status\":\"400\","
				 "\"detail\":\"bad \\\"json\\\"\",\"scimType\":\"invalidSyntax\"}");
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_paths),
		cmocka_unit_test(test_deactivating_patches_are_accepted),
		cmocka_unit_test(test_anything_else_is_refused_whole),
		cmocka_unit_test(test_error_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
