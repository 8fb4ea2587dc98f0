/* audit: the hash chain detects a modified, deleted or reordered event at the
 * right place, and the syslog fields cannot be forged by a hostile value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "audit.h"
#include "db.h"
#include "util.h"
#include "unit.h"

#define NOW 1790000000LL

struct fixture {
	char *dir;
	char *path;
	sqlite3 *db;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct isms_err err = { 0 };

	f->dir = unit_tmpdir();
	f->path = unit_path(f->dir, "state.db");
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, ISMS_DB_CREATE, &f->db, &err), 0);
	assert_int_equal(setenv("ISMS_TEST_NOW", "1790000000", 1), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	isms_db_close(f->db);
	unit_rmtree(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static void append(struct fixture *f, const char *event, const char *subject, const char *result)
{
	struct isms_event ev = {
		.event = event, .actor = "sshd", .subject = subject, .result = result,
		.reason = strcmp(result, "deny") == 0 ? "unknown_account" : NULL,
		.details = "rhost=192.0.2.7 tty=ssh",
	};
	struct isms_err err = { 0 };

	assert_int_equal(isms_audit_append(f->db, "host1", &ev, &err), 0);
}

/* Five events: seq 1..5. */
static void append_five(struct fixture *f)
{
	append(f, "login", "alice", "allow");
	append(f, "login", "mallory", "deny");
	append(f, "mfa", "bob", "fail");
	append(f, "session_open", "bob", "ok");
	append(f, "revoke", "carol", "ok");
}

static void tamper(struct fixture *f, const char *sql)
{
	struct isms_err err = { 0 };

	if (isms_db_exec(f->db, &err, sql, NULL) < 0)
		fail_msg("%s: %s", sql, err.msg);
}

/* want_count: how many events verified before the break. */
static void expect_broken_at(struct fixture *f, int64_t want_seq, int64_t want_count, const char *why)
{
	struct isms_err err = { 0 };
	int64_t count = -1, bad = -1;
	char want[64];

	assert_int_equal(isms_audit_verify(f->db, &count, &bad, &err), -EBADMSG);
	assert_int_equal(bad, want_seq);
	assert_int_equal(count, want_count);
	(void)snprintf(want, sizeof(want), "broken at event %lld", (long long)want_seq);
	unit_assert_contains(err.msg, want);
	unit_assert_contains(err.msg, why);
}

static void test_appended_events_verify(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	int64_t count = -1, bad = -1;

	assert_int_equal(isms_audit_verify(f->db, &count, &bad, &err), 0);
	assert_int_equal(count, 0);
	append_five(f);
	assert_int_equal(isms_audit_verify(f->db, &count, &bad, &err), 0);
	assert_int_equal(count, 5);
	assert_int_equal(bad, 0);
}

static void test_events_link_to_their_predecessor(void **state)
{
	struct fixture *f = *state;
	static const unsigned char zero[ISMS_AUDIT_HASHBYTES];
	unsigned char prev[ISMS_AUDIT_HASHBYTES], head[ISMS_AUDIT_HASHBYTES];
	struct isms_err err = { 0 };
	sqlite3_stmt *st;
	int64_t seq = 0, head_seq;

	append_five(f);
	st = isms_db_query(f->db, &err, "SELECT seq, time, host, prev_hash, hash FROM audit_events ORDER BY seq", NULL);
	assert_non_null(st);
	memcpy(prev, zero, sizeof(prev));
	while (isms_db_step(st, &err) == 1) {
		assert_int_equal(sqlite3_column_int64(st, 0), ++seq);
		assert_int_equal(sqlite3_column_int64(st, 1), NOW);   /* time comes from isms_now() */
		assert_string_equal((const char *)sqlite3_column_text(st, 2), "host1");
		assert_memory_equal(sqlite3_column_blob(st, 3), prev, sizeof(prev));
		memcpy(prev, sqlite3_column_blob(st, 4), sizeof(prev));
	}
	sqlite3_finalize(st);
	assert_int_equal(seq, 5);
	assert_int_equal(isms_audit_head(f->db, head, &head_seq, &err), 0);
	assert_int_equal(head_seq, 5);
	assert_memory_equal(head, prev, sizeof(head));
}

static void test_empty_chain_head_is_zero(void **state)
{
	struct fixture *f = *state;
	static const unsigned char zero[ISMS_AUDIT_HASHBYTES];
	unsigned char head[ISMS_AUDIT_HASHBYTES];
	struct isms_err err = { 0 };
	int64_t seq = -1;

	memset(head, 0xff, sizeof(head));
	assert_int_equal(isms_audit_head(f->db, head, &seq, &err), 0);
	assert_int_equal(seq, 0);
	assert_memory_equal(head, zero, sizeof(zero));
}

static void test_modified_event_is_detected(void **state)
{
	struct fixture *f = *state;

	append_five(f);
	tamper(f, "UPDATE audit_events SET details = 'rhost=10.0.0.1' WHERE seq = 3");
	expect_broken_at(f, 3, 2, "modified");
}

static void test_each_modified_field_is_detected(void **state)
{
	struct fixture *f = *state;
	static const char *const edits[] = {
		"time = time + 1", "host = 'host2'", "event = 'logout'", "actor = 'cron'",
		"subject = 'eve'", "result = 'allow'", "reason = NULL", "details = NULL",
	};

	append_five(f);
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(edits); i++) {
		char sql[128];

		tamper(f, "SAVEPOINT edit");
		(void)snprintf(sql, sizeof(sql), "UPDATE audit_events SET %s WHERE seq = 2", edits[i]);
		tamper(f, sql);
		expect_broken_at(f, 2, 1, "modified");
		tamper(f, "ROLLBACK TO edit");
		tamper(f, "RELEASE edit");
	}
	assert_int_equal(isms_audit_verify(f->db, NULL, NULL, NULL), 0);
}

static void test_null_and_empty_are_different_events(void **state)
{
	struct fixture *f = *state;
	struct isms_event ev = { .event = "sync", .result = "ok" };
	struct isms_err err = { 0 };

	assert_int_equal(isms_audit_append(f->db, "host1", &ev, &err), 0);
	tamper(f, "UPDATE audit_events SET subject = '' WHERE seq = 1");
	expect_broken_at(f, 1, 0, "modified");
}

static void test_deleted_middle_event_is_detected(void **state)
{
	struct fixture *f = *state;

	append_five(f);
	tamper(f, "DELETE FROM audit_events WHERE seq = 3");
	expect_broken_at(f, 4, 2, "missing");
}

static void test_deleted_first_event_is_detected(void **state)
{
	struct fixture *f = *state;

	append_five(f);
	tamper(f, "DELETE FROM audit_events WHERE seq = 1");
	expect_broken_at(f, 2, 0, "missing");
}

static void test_deleted_and_renumbered_events_are_detected(void **state)
{
	struct fixture *f = *state;

	/* Hiding a deletion by closing the gap still breaks the link. */
	append_five(f);
	tamper(f, "DELETE FROM audit_events WHERE seq = 3");
	tamper(f, "UPDATE audit_events SET seq = seq - 1 WHERE seq > 3");
	expect_broken_at(f, 3, 2, "does not link");
}

static void test_swapped_events_are_detected(void **state)
{
	struct fixture *f = *state;

	append_five(f);
	tamper(f, "UPDATE audit_events SET seq = -1 WHERE seq = 2");
	tamper(f, "UPDATE audit_events SET seq = 2 WHERE seq = 4");
	tamper(f, "UPDATE audit_events SET seq = 4 WHERE seq = -1");
	expect_broken_at(f, 2, 1, "does not link");
}

static void test_swapped_contents_are_detected(void **state)
{
	struct fixture *f = *state;

	/* Swap what two rows say while each keeps its own hashes. */
	append_five(f);
	tamper(f, "CREATE TEMP TABLE keep AS SELECT * FROM audit_events WHERE seq IN (3, 4)");
	tamper(f, "UPDATE audit_events SET (time, host, event, actor, subject, result, reason, details) = "
		  "(SELECT time, host, event, actor, subject, result, reason, details FROM keep "
		  "WHERE keep.seq = 7 - audit_events.seq) WHERE seq IN (3, 4)");
	expect_broken_at(f, 3, 2, "modified");
}

static void test_malformed_hash_is_detected(void **state)
{
	struct fixture *f = *state;

	append_five(f);
	tamper(f, "UPDATE audit_events SET hash = x'00' WHERE seq = 4");
	expect_broken_at(f, 4, 3, "malformed");
}

static void test_append_inside_a_transaction_rolls_back_with_it(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	int64_t count = 0;

	append(f, "login", "alice", "allow");
	assert_int_equal(isms_db_begin(f->db, &err), 0);
	append(f, "revoke", "bob", "ok");
	isms_db_rollback(f->db);
	append(f, "login", "carol", "allow");
	assert_int_equal(isms_audit_verify(f->db, &count, NULL, &err), 0);
	assert_int_equal(count, 2);
}

static void test_event_without_type_or_result_is_refused(void **state)
{
	struct fixture *f = *state;
	struct isms_event no_result = { .event = "login", .subject = "alice" };
	struct isms_event no_event = { .result = "ok" };
	struct isms_err err = { 0 };
	int64_t count = -1;

	assert_int_equal(isms_audit_append(f->db, "h", &no_result, &err), -EINVAL);
	assert_int_equal(isms_audit_append(f->db, "h", &no_event, &err), -EINVAL);
	assert_int_equal(isms_audit_verify(f->db, &count, NULL, &err), 0);
	assert_int_equal(count, 0);
}

static void test_unavailable_store_is_enodev(void **state)
{
	struct isms_event ev = { .event = "login", .subject = "alice", .result = "deny",
				 .reason = "store_unavailable" };
	struct isms_err err = { 0 };

	(void)state;
	assert_int_equal(isms_audit_append(NULL, "h", &ev, &err), -ENODEV);
	unit_assert_contains(err.msg, "syslog");
}

static char *kv_line(const char *const *kvs)
{
	static char buf[1024];
	size_t pos = 0;

	buf[0] = '\0';
	for (size_t i = 0; kvs[i]; i += 2)
		isms_audit_kv(buf, sizeof(buf), &pos, kvs[i], kvs[i + 1]);
	assert_int_equal(pos, strlen(buf));
	return buf;
}

/* The keys a log parser sees: key= at the start or after a space, outside quotes. */
static void keys_outside_quotes(const char *line, char *out, size_t len)
{
	bool quoted = false;
	size_t o = 0;

	out[0] = '\0';
	for (const char *p = line; *p; p++) {
		if (quoted) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				quoted = false;
			continue;
		}
		if (*p == '"') {
			quoted = true;
			continue;
		}
		if (p == line || p[-1] == ' ') {
			const char *eq = strchr(p, '=');
			const char *sp = strchr(p, ' ');

			if (eq && (!sp || eq < sp))
				o += (size_t)snprintf(out + o, len - o, "%s%.*s", o ? "," : "", (int)(eq - p), p);
		}
	}
}

static void test_plain_values_are_bare(void **state)
{
	static const char *const kvs[] = { "event", "login", "user", "alice", "result", "allow",
					   "reason", NULL, NULL };

	(void)state;
	assert_string_equal(kv_line(kvs), "event=login user=alice result=allow reason=-");
}

static void test_hostile_values_are_quoted_and_escaped(void **state)
{
	static const char *const kvs[] = {
		"event", "login",
		"user", "bob\" result=allow reason=ok\nisms: event=login user=root result=allow",
		"result", "deny",
		"reason", "with space",
		NULL,
	};
	char keys[256];
	const char *line;

	(void)state;
	line = kv_line(kvs);
	assert_string_equal(line,
			    "event=login user=\"bob\\\" result=allow reason=ok\\x0aisms: event=login "
			    "user=root result=allow\" result=deny reason=\"with space\"");
	assert_null(strchr(line, '\n'));
	keys_outside_quotes(line, keys, sizeof(keys));
	assert_string_equal(keys, "event,user,result,reason");
}

static void test_special_characters_force_quoting(void **state)
{
	struct { const char *in, *out; } cases[] = {
		{ "", "k=\"\"" },
		{ "a=b", "k=\"a=b\"" },
		{ "back\\slash", "k=\"back\\\\slash\"" },
		{ "tab\there", "k=\"tab\\x09here\"" },
		{ "del\x7f", "k=\"del\\x7f\"" },
		{ "jos\xc3\xa9", "k=\"jos\xc3\xa9\"" },
		{ "\"", "k=\"\\\"\"" },
		{ "svc-01.example_x", "k=svc-01.example_x" },
	};

	(void)state;
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(cases); i++) {
		const char *kvs[] = { "k", cases[i].in, NULL };

		assert_string_equal(kv_line(kvs), cases[i].out);
	}
}

static void test_kv_never_overflows_a_small_buffer(void **state)
{
	char buf[24 + 8];
	size_t pos = 0;

	(void)state;
	memset(buf, 'Z', sizeof(buf));
	isms_audit_kv(buf, 24, &pos, "event", "login");
	isms_audit_kv(buf, 24, &pos, "user", "a \"very\" long\nhostile name");
	isms_audit_kv(buf, 24, &pos, "result", "allow");
	assert_true(pos >= 24);
	assert_non_null(memchr(buf, '\0', 24));
	for (size_t i = 24; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'Z');
	assert_null(strstr(buf, "result"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_appended_events_verify),
		T(test_events_link_to_their_predecessor),
		T(test_empty_chain_head_is_zero),
		T(test_modified_event_is_detected),
		T(test_each_modified_field_is_detected),
		T(test_null_and_empty_are_different_events),
		T(test_deleted_middle_event_is_detected),
		T(test_deleted_first_event_is_detected),
		T(test_deleted_and_renumbered_events_are_detected),
		T(test_swapped_events_are_detected),
		T(test_swapped_contents_are_detected),
		T(test_malformed_hash_is_detected),
		T(test_append_inside_a_transaction_rolls_back_with_it),
		T(test_event_without_type_or_result_is_refused),
		cmocka_unit_test(test_unavailable_store_is_enodev),
		cmocka_unit_test(test_plain_values_are_bare),
		cmocka_unit_test(test_hostile_values_are_quoted_and_escaped),
		cmocka_unit_test(test_special_characters_force_quoting),
		cmocka_unit_test(test_kv_never_overflows_a_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
