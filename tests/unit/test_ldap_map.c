/* ldap_map: the values a directory sends, parsed and mapped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ldap_map.h"
#include "util.h"

static void test_generalized_time_forms_parse_to_utc_epoch(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(isms_ldap_parse_gentime("20261127034356Z", &t), 0);
	assert_int_equal(t, 1795751036);
	assert_int_equal(isms_ldap_parse_gentime("20261127034356.25Z", &t), 0);
	assert_int_equal(t, 1795751036);
	assert_int_equal(isms_ldap_parse_gentime("202611270343Z", &t), 0);
	assert_int_equal(t, 1795750980);
	assert_int_equal(isms_ldap_parse_gentime("20261127044356+0100", &t), 0);
	assert_int_equal(t, 1795751036);
	assert_int_equal(isms_ldap_parse_gentime("19700101000000Z", &t), 0);
	assert_int_equal(t, 0);
	/* ppolicy's "locked forever" is a time long before the epoch */
	assert_int_equal(isms_ldap_parse_gentime("000001010000Z", &t), 0);
	assert_true(t < 0);
}

static void test_malformed_generalized_time_is_refused(void **state)
{
	int64_t t = 42;

	(void)state;
	assert_int_equal(isms_ldap_parse_gentime("2026112703", &t), -EINVAL);
	assert_int_equal(isms_ldap_parse_gentime("20261327034356Z", &t), -EINVAL);
	assert_int_equal(isms_ldap_parse_gentime("20261127034356", &t), -EINVAL);
	assert_int_equal(isms_ldap_parse_gentime("20261127034356Zjunk", &t), -EINVAL);
	assert_int_equal(isms_ldap_parse_gentime("2026112703435.Z", &t), -EINVAL);
	assert_int_equal(isms_ldap_parse_gentime("", &t), -EINVAL);
	assert_int_equal(isms_ldap_parse_gentime(NULL, &t), -EINVAL);
	assert_int_equal(t, 42);
}

static void test_numbers_are_whole_and_in_range(void **state)
{
	long long n;

	(void)state;
	assert_int_equal(isms_ldap_parse_number("10002", 0, 4294967294LL, &n), 0);
	assert_int_equal(n, 10002);
	assert_true(isms_ldap_parse_number("10002x", 0, 4294967294LL, &n) < 0);
	assert_true(isms_ldap_parse_number("-5", 0, 4294967294LL, &n) < 0);
	assert_true(isms_ldap_parse_number("4294967295", 0, 4294967294LL, &n) < 0);
	assert_true(isms_ldap_parse_number("", 0, 10, &n) < 0);
}

/* DNs and the key each must have. */
static const struct {
	const char *dn, *key;
} keys[] = {
	{ "UID=Alice, OU=People,DC=Example,DC=com", "uid=alice,ou=people,dc=example,dc=com" },
	/* hex escapes decoded, UTF-8 folded: one key for every spelling of jörg */
	{ "uid=J\\C3\\B6rg,ou=people", "uid=j\xc3\xb6rg,ou=people" },
	{ "UID=J\xc3\x96RG , OU=People", "uid=j\xc3\xb6rg,ou=people" },
	/* specials stay escaped, however written; a blank after one is the value's */
	{ "cn=Smith\\2C John,ou=x", "cn=smith\\, john,ou=x" },
	{ "cn=Smith\\, John,ou=x", "cn=smith\\, john,ou=x" },
	{ "cn=a\\20,ou=x", "cn=a\\ ,ou=x" },
	/* not UTF-8: kept as it is */
	{ "cn=\xff\xfe" "A,ou=x", "cn=\xff\xfe" "a,ou=x" },
	/* a backslash that ends the DN escapes nothing; an escaped NUL ends nothing */
	{ "cn=A\\", "cn=a\\\\" },
	{ "uid=a\\00x,ou=x", "uid=a\\00x,ou=x" },
};

static void test_rdn_value_and_dn_key(void **state)
{
	char *v = NULL, *k;

	(void)state;
	assert_int_equal(isms_ldap_dn_rdn_value("uid=alice,ou=people,dc=example,dc=com", &v), 0);
	assert_string_equal(v, "alice");
	free(v);
	assert_int_equal(isms_ldap_dn_rdn_value("cn=Smith\\, John,ou=people,dc=example,dc=com", &v), 0);
	assert_string_equal(v, "Smith, John");
	free(v);
	assert_true(isms_ldap_dn_rdn_value("not a dn", &v) < 0);
	assert_true(isms_ldap_dn_rdn_value("uid=,ou=people,dc=example,dc=com", &v) < 0);
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(keys); i++) {
		k = isms_ldap_dn_key(keys[i].dn);
		assert_non_null(k);
		assert_string_equal(k, keys[i].key);
		free(k);
	}
	/* a lower case longer than its upper (U+023A -> U+2C65) fits the room asked for */
	{
		const char *dn = "cn=\xc8\xba\xc8\xba\xc8\xba\xc8\xba";
		char out[ISMS_DN_KEY_SIZE(sizeof("cn=\xc8\xba\xc8\xba\xc8\xba\xc8\xba") - 1)];

		isms_ldap_dn_key_into(dn, out);
		assert_string_equal(out, "cn=\xe2\xb1\xa5\xe2\xb1\xa5\xe2\xb1\xa5\xe2\xb1\xa5");
	}
}

static void test_filter_values_are_escaped(void **state)
{
	char *f;

	(void)state;
	f = isms_ldap_filter_eq("uid", "al*)(uid=*");
	assert_string_equal(f, "(uid=al\\2A\\29\\28uid=\\2A)");
	free(f);
	f = isms_ldap_filter_eq("uid", "back\\slash");
	assert_string_equal(f, "(uid=back\\5Cslash)");
	free(f);
}

static void test_lock_from_ppolicy_or_past_shadow_expire(void **state)
{
	struct isms_ldap_entry e = { .shadow_expire = -1 };
	char why[64];

	(void)state;
	assert_false(isms_ldap_entry_locked(&e, 1800000000, why, sizeof(why)));
	e.shadow_expire = 20000;   /* 2024-10-04 */
	assert_false(isms_ldap_entry_locked(&e, 1700000000, why, sizeof(why)));
	assert_true(isms_ldap_entry_locked(&e, 1800000000, why, sizeof(why)));
	assert_string_equal(why, "shadowExpire=20000");
	e.shadow_expire = 0;       /* ambiguous in shadow(5): no expiry */
	assert_false(isms_ldap_entry_locked(&e, 1800000000, why, sizeof(why)));
	e.locked_time = "000001010000Z";
	assert_true(isms_ldap_entry_locked(&e, 0, why, sizeof(why)));
	assert_string_equal(why, "pwdAccountLockedTime=000001010000Z");
}

static void test_account_kind_from_employee_type(void **state)
{
	(void)state;
	assert_string_equal(isms_ldap_account_kind(NULL), "human");
	assert_string_equal(isms_ldap_account_kind("contractor"), "human");
	assert_string_equal(isms_ldap_account_kind("Service"), "service");
	assert_string_equal(isms_ldap_account_kind("shared"), "shared");
	assert_string_equal(isms_ldap_account_kind("breakglass"), "breakglass");
}

static void test_stored_form_round_trips(void **state)
{
	const char *json = "{\"name\":\"alice\",\"number\":10002,\"gid\":10002,\"employee_no\":\"E1002\","
			   "\"manager_dn\":\"uid=bob,ou=people,dc=example,dc=com\",\"shadow_expire\":1}";
	struct isms_ldap_entry *e = NULL;
	char *back;

	(void)state;
	assert_int_equal(isms_ldap_entry_from_json("uuid-1", "uid=alice,ou=people,dc=example,dc=com",
						   ISMS_LDAP_ACCOUNT, json, &e), 0);
	assert_string_equal(e->name, "alice");
	assert_int_equal(e->number, 10002);
	assert_int_equal(e->shadow_expire, 1);
	assert_null(e->mail);
	free(e->stored);   /* written afresh */
	e->stored = NULL;
	back = isms_ldap_entry_to_json(e);
	assert_string_equal(back, json);
	free(back);
	isms_ldap_entry_free(e);
	assert_int_equal(isms_ldap_entry_from_json("u", "dn", ISMS_LDAP_GROUP, "[1]", &e), -EBADMSG);
	assert_int_equal(isms_ldap_entry_from_json("u", "dn", ISMS_LDAP_GROUP, "{}", &e), -EBADMSG);
	assert_int_equal(isms_ldap_entry_from_json("u", "dn", ISMS_LDAP_GROUP, "{\"name\":\"a\",}", &e), -EBADMSG);
	assert_int_equal(isms_ldap_entry_from_json("u", "dn", ISMS_LDAP_GROUP, "{\"name\":\"a\"} x", &e), -EBADMSG);
	assert_int_equal(isms_ldap_entry_from_json("u", "dn", ISMS_LDAP_GROUP, "{\"name\":\"a\\u0000\"}", &e), -EBADMSG);
	assert_int_equal(isms_ldap_entry_from_json("u", "dn", ISMS_LDAP_GROUP, "{\"name\":\"a\",\"x\":1}", &e), -EBADMSG);
	assert_int_equal(isms_ldap_entry_from_json("u", "dn", ISMS_LDAP_GROUP, "{\"name\":\"a\",\"number\":1.5}", &e), -EBADMSG);
	/* escapes, a surrogate pair, a list */
	assert_int_equal(isms_ldap_entry_from_json("u", "dn", ISMS_LDAP_GROUP,
		"{ \"name\" : \"q\\\"\\\\\\u00e9\\ud83d\\ude00\", \"memberUid\":[\"a\", \"b\"] }", &e), 0);
	assert_string_equal(e->name, "q\"\\\xc3\xa9\xf0\x9f\x98\x80");
	assert_string_equal(e->member_uid[1], "b");
	assert_null(e->member_uid[2]);
	isms_ldap_entry_free(e);
}

static void test_stored_scan_accepts_what_the_reader_accepts_and_points_at_values(void **state)
{
	static const char *const bad[] = {
		"[1]", "{}", "{\"name\":\"a\",}", "{\"name\":\"a\"} x", "{\"name\":\"a\\u0000\"}",
		"{\"name\":\"a\",\"x\":1}", "{\"name\":\"a\",\"number\":1.5}", "garbage",
		"{\"name\":\"a\",\"memberUid\":[\"a\",]}", "{\"name\":\"a\",\"memberUid\":\"a\"}",
		"{\"na\\u006de\":\"a\",\"verylongkeythatisnotoneofoursatall\":\"b\"}",
	};
	const char *json = "{\"name\":\"al\\\"ice\",\"employee_no\":\"E1\","
			   "\"manager_dn\":\"uid=bob, ou=People\",\"shadow_expire\":1,\"memberUid\":[\"x\"]}";
	struct isms_ldap_stored_view v;
	struct isms_ldap_entry *e = NULL;
	const char *p;
	size_t n;
	char *s, key[64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(isms_ldap_stored_scan(bad[i], &v), -EBADMSG);
		assert_int_equal(isms_ldap_entry_from_json("u", "dn", ISMS_LDAP_ACCOUNT, bad[i], &e), -EBADMSG);
	}
	/* an escaped key is the key it spells, for both */
	assert_int_equal(isms_ldap_stored_scan("{\"na\\u006de\":\"a\"}", &v), 0);
	assert_int_equal(isms_ldap_entry_from_json("u", "dn", ISMS_LDAP_ACCOUNT, "{\"na\\u006de\":\"a\"}", &e), 0);
	isms_ldap_entry_free(e);

	assert_int_equal(isms_ldap_stored_scan(json, &v), 0);
	assert_int_equal(v.shadow_expire, 1);
	assert_false(v.locked_time);
	assert_int_equal(v.number, -1);
	s = isms_ldap_stored_str(v.name);
	assert_string_equal(s, "al\"ice");
	free(s);
	assert_false(isms_ldap_stored_plain(v.name, &p, &n));
	assert_true(isms_ldap_stored_plain(v.employee_no, &p, &n));
	assert_int_equal(n, 2);
	assert_memory_equal(p, "E1", 2);
	s = isms_ldap_stored_str(v.manager_dn);
	isms_ldap_dn_key_into(s, key);
	assert_string_equal(key, "uid=bob,ou=people");
	free(s);
	assert_int_equal(isms_ldap_stored_scan("{\"name\":\"a\",\"number\":4001,\"gid\":7}", &v), 0);
	assert_int_equal(v.number, 4001);
	assert_int_equal(v.shadow_expire, -1);
	assert_int_equal(isms_ldap_stored_scan("{\"name\":\"a\",\"locked_time\":\"000001010000Z\"}", &v), 0);
	assert_true(v.locked_time);
	assert_null(v.manager_dn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generalized_time_forms_parse_to_utc_epoch),
		cmocka_unit_test(test_malformed_generalized_time_is_refused),
		cmocka_unit_test(test_numbers_are_whole_and_in_range),
		cmocka_unit_test(test_rdn_value_and_dn_key),
		cmocka_unit_test(test_filter_values_are_escaped),
		cmocka_unit_test(test_lock_from_ppolicy_or_past_shadow_expire),
		cmocka_unit_test(test_account_kind_from_employee_type),
		cmocka_unit_test(test_stored_form_round_trips),
		cmocka_unit_test(test_stored_scan_accepts_what_the_reader_accepts_and_points_at_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
