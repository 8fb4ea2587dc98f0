/* account_policy: the order of the rules when several apply, and the
 * unusable-store paths, against a real registry in a temporary root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "account_policy.h"
#include "db.h"
#include "util.h"

struct fixture {
	char dir[64];
	struct isms_conf *conf;
	struct isms_ctx ctx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct isms_err err = { 0 };
	char *d;

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/isms-policy-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(isms_conf_defaults(f->dir, &f->conf), 0);
	d = isms_path_join(f->dir, "/var/lib/isms");
	assert_int_equal(isms_mkdir_p(d, 0700), 0);
	free(d);
	f->ctx.conf = f->conf;
	assert_int_equal(isms_db_open(f->conf->registry_db, ISMS_REGISTRY, ISMS_DB_CREATE, &f->ctx.reg, &err), 0);
	assert_int_equal(isms_db_open(f->conf->state_db, ISMS_STATE, ISMS_DB_CREATE, &f->ctx.state, &err), 0);
	assert_int_equal(isms_db_exec(f->ctx.reg, &err,
				      "INSERT INTO people (employee_no, name, created_at, updated_at) VALUES ('E1', 'Ann', 0, 0)",
				      NULL), 0);
	(void)setenv("ISMS_TEST_NOW", "1000", 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	isms_ctx_close(&f->ctx);
	isms_conf_free(f->conf);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void add(struct fixture *f, const char *name, long long uid, const char *kind, const char *status,
		bool owned)
{
	struct isms_err err = { 0 };

	assert_int_equal(isms_db_exec(f->ctx.reg, &err,
				      "INSERT INTO accounts (name, uid, gid, person_id, kind, status, created_at, updated_at)"
				      " VALUES (?, ?, ?, CASE WHEN ? THEN 1 END, ?, ?, 0, 0)",
				      "siiiss", name, (int64_t)uid, (int64_t)uid, (int64_t)owned, kind, status), 0);
}

static const char *decide(struct fixture *f, const char *user, const char *service)
{
	static struct isms_decision d;

	isms_account_decide(&f->ctx, user, service, NULL, 0, &d);
	return d.reason;
}

static void test_status_comes_before_ownership(void **state)
{
	struct fixture *f = *state;

	add(f, "ops", 2000, "shared", "locked", false);
	assert_string_equal(decide(f, "ops", "sshd"), "account_locked");
}

static void test_ownership_comes_before_uniqueness(void **state)
{
	struct fixture *f = *state;

	add(f, "ops", 2000, "shared", "active", false);
	add(f, "ann", 2000, "human", "active", true);
	assert_string_equal(decide(f, "ops", "sshd"), "shared_account");
	assert_string_equal(decide(f, "ann", "sshd"), "duplicate_uid");
	/* not interactive: ownership does not apply, uniqueness still does */
	assert_string_equal(decide(f, "ops", "cron"), "duplicate_uid");
}

static void test_uid0_is_named_before_duplicate(void **state)
{
	struct fixture *f = *state;

	add(f, "root", 0, "service", "active", false);
	add(f, "toor", 0, "human", "active", true);
	assert_string_equal(decide(f, "toor", "sshd"), "uid0_not_root");
	assert_string_equal(decide(f, "root", "sshd"), "duplicate_uid");
}

static void test_stale_comes_before_service_rules(void **state)
{
	struct fixture *f = *state;

	f->conf->deny_stale = true;
	f->conf->stale_days = 1;
	(void)setenv("ISMS_TEST_NOW", "200000", 1);
	add(f, "backup", 900, "service", "active", false);
	assert_string_equal(decide(f, "backup", "sshd"), "stale_account");
	f->conf->deny_stale = false;
	assert_string_equal(decide(f, "backup", "sshd"), "service_account_interactive");
	assert_string_equal(decide(f, "backup", "cron"), "service_not_allowed");
}

static void test_no_config_or_no_store_refuses_all_but_breakglass(void **state)
{
	struct fixture *f = *state;
	struct isms_ctx none = { 0 };
	struct isms_decision d;
	char *bg[] = { "rescue", NULL };
	char **saved = f->conf->breakglass_accounts;

	isms_account_decide(&none, "rescue", "sshd", NULL, 0, &d);
	assert_false(d.allow);
	assert_int_equal(d.verdict, ISMS_VERDICT_UNAVAIL);
	none.conf = f->conf;
	f->conf->breakglass_accounts = bg;
	isms_account_decide(&none, "ann", "sshd", NULL, 0, &d);
	assert_string_equal(d.reason, "store_unavailable");
	isms_account_decide(&none, "rescue", "sshd", NULL, 0, &d);
	assert_true(d.allow && d.breakglass && d.privileged);
	assert_string_equal(d.reason, "breakglass_used");
	f->conf->breakglass_accounts = saved;
}

static void test_registry_error_is_an_unusable_store(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	struct isms_decision d;

	add(f, "ann", 1001, "human", "active", true);
	assert_int_equal(isms_db_exec(f->ctx.reg, &err, "ALTER TABLE accounts RENAME TO gone", NULL), 0);
	isms_account_decide(&f->ctx, "ann", "sshd", NULL, 0, &d);
	assert_string_equal(d.reason, "store_unavailable");
	assert_int_equal(d.verdict, ISMS_VERDICT_UNAVAIL);
	assert_non_null(strstr(d.details, "error="));
}

static void test_failed_nss_lookup_denies_all_but_breakglass(void **state)
{
	struct fixture *f = *state;
	struct isms_decision d;
	char **saved = f->conf->breakglass_accounts;
	char *list[] = { "rescue", NULL };

	add(f, "ann", 1001, "human", "active", true);
	/* NSS could not answer (e.g. its directory backend is down): never "not in NSS" */
	isms_account_decide(&f->ctx, "ann", "sshd", NULL, EIO, &d);
	assert_false(d.allow);
	assert_string_equal(d.reason, "nss_unavailable");
	assert_int_equal(d.verdict, ISMS_VERDICT_UNAVAIL);
	f->conf->breakglass_accounts = list;
	isms_account_decide(&f->ctx, "rescue", "sshd", NULL, EIO, &d);
	assert_true(d.allow && d.breakglass);
	f->conf->breakglass_accounts = saved;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_comes_before_ownership, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ownership_comes_before_uniqueness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uid0_is_named_before_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_comes_before_service_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_config_or_no_store_refuses_all_but_breakglass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registry_error_is_an_unusable_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_nss_lookup_denies_all_but_breakglass, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
