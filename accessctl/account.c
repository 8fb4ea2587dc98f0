/* accessctl account: register, show, list, lock and unlock accounts. */
#include <getopt.h>
#include <pwd.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "cli.h"
#include "db.h"
#include "privilege.h"
#include "registry.h"
#include "util.h"

const struct command cmd_account_def = {
	"account", cmd_account, "register, show, list, lock and unlock accounts",
	"usage: accessctl [--root DIR] [--json] account SUBCOMMAND ...\n\n"
	"  add NAME --owner EMPLOYEE_NO [--uid UID]\n"
	"  add NAME --kind service --services cron,... [--uid UID]\n"
	"  add NAME --kind breakglass|shared [--owner EMPLOYEE_NO] [--uid UID]\n"
	"        register an account, or complete one inventory or sync recorded (set\n"
	"        its owner, kind or services). Human accounts need an active owner;\n"
	"        service accounts the PAM services they may use. The uid comes from NSS;\n"
	"        --uid is needed when NSS does not know the name and must agree when it\n"
	"        does. A uid held or once held by another account is refused.\n"
	"  show NAME\n"
	"        the account, its owner, groups, privilege and last login\n"
	"  list [--unowned] [--duplicates] [--privileged]\n"
	"        all accounts, or those without an owner, sharing a uid, or privileged\n"
	"  lock NAME --reason TEXT\n"
	"        refuse every login to an active account (the account phase tells the\n"
	"        user it is locked and whom to contact)\n"
	"  unlock NAME\n"
	"        make a locked account active again\n"
	"Exit 0 done, 1 refused or not found, 2 usage error. Every change is an audit event.\n",
};

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255 || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
		    ch != '_' && ch != '-' && ch != '.' && !(ch == '$' && i == n - 1))
			return false;
	}
	return true;
}

static const char *const kinds[] = { "human", "service", "shared", "breakglass", NULL };

static bool services_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
		    !strchr("_-.,", *p))
			return false;
	return true;
}

static int account_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "owner", required_argument, NULL, 'o' },
		{ "kind", required_argument, NULL, 'k' },
		{ "services", required_argument, NULL, 's' },
		{ "uid", required_argument, NULL, 'u' },
		{ 0 },
	};
	const char *owner = NULL, *kind = "human", *services = NULL, *name;
	struct isms_err err = { 0 };
	struct isms_account a;
	struct passwd pw, *nss = NULL;
	sqlite3_stmt *st;
	long long uid = -1;
	int64_t now = isms_now(), person_id = 0;
	char buf[16384], details[768] = "", held[256] = "";
	size_t pos = 0;
	bool exists, have_person = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "o:k:s:u:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': owner = optarg; break;
		case 'k': kind = optarg; break;
		case 's': services = optarg; break;
		case 'u':
			if (isms_parse_int(optarg, 0, 4294967294LL, &uid) < 0)
				return cli_usage(cli, &cmd_account_def, "--uid '%s' is not a uid", optarg);
			break;
		default: return cli_usage(cli, &cmd_account_def, "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage(cli, &cmd_account_def, "add: expected exactly one NAME");
	name = argv[optind];
	if (!name_ok(name))
		return cli_usage(cli, &cmd_account_def, "add: '%s' is not an account name", name);
	if (!isms_list_contains((char *const *)kinds, kind))
		return cli_usage(cli, &cmd_account_def, "add: --kind '%s'; allowed: human, service, shared, breakglass", kind);
	if (strcmp(kind, "human") == 0 && !owner)
		return cli_usage(cli, &cmd_account_def, "add: a human account needs --owner EMPLOYEE_NO");
	if (strcmp(kind, "service") == 0 && !services_ok(services))
		return cli_usage(cli, &cmd_account_def, "add: a service account needs --services LIST (e.g. cron)");
	if (strcmp(kind, "service") != 0 && services)
		return cli_usage(cli, &cmd_account_def, "add: --services is only for --kind service");
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &nss) != 0)
		nss = NULL;
	if (nss && uid >= 0 && (uid_t)uid != nss->pw_uid)
		return cli_usage(cli, &cmd_account_def, "add: --uid %lld differs from NSS's uid %u for %s", uid,
				 (unsigned)nss->pw_uid, name);
	if (nss)
		uid = nss->pw_uid;
	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	r = isms_db_begin(cli->ctx.reg, &err);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "account add: %s", err.msg);
	if (owner) {
		st = isms_db_query(cli->ctx.reg, &err, "SELECT id, status FROM people WHERE employee_no = ?", "s", owner);
		r = st ? isms_db_step(st, &err) : err.code;
		if (r == 1) {
			have_person = true;
			person_id = sqlite3_column_int64(st, 0);
			if (strcmp((const char *)sqlite3_column_text(st, 1), "active") != 0)
				r = -EPERM;
		}
		isms_db_done(st);
		if (r == 0) {
			isms_db_rollback(cli->ctx.reg);
			return cli_usage(cli, &cmd_account_def, "add: no person with employee number '%s' (see 'person add')", owner);
		}
		if (r == -EPERM) {
			isms_db_rollback(cli->ctx.reg);
			return cli_fail(cli, EXIT_FINDINGS, "account add: owner %s is not active", owner);
		}
		if (r < 0)
			goto db_error;
	}
	r = isms_registry_account_find(cli->ctx.reg, name, &a, &err);
	if (r < 0)
		goto db_error;
	exists = r == 1;
	if (!exists && uid < 0) {
		isms_db_rollback(cli->ctx.reg);
		return cli_usage(cli, &cmd_account_def, "add: NSS does not know '%s'; give --uid", name);
	}
	if (exists && a.has_uid && uid >= 0 && a.uid != uid) {
		isms_db_rollback(cli->ctx.reg);
		return cli_fail(cli, EXIT_FINDINGS, "account add: %s has uid %lld in the registry, not %lld", name,
				(long long)a.uid, uid);
	}
	if (uid >= 0 && !(exists && a.has_uid)) {
		/* a uid is never given to a second account, nor reused after one */
		r = isms_registry_uid_other(cli->ctx.reg, uid, name, held, sizeof(held), &err);
		if (r == 0) {
			st = isms_db_query(cli->ctx.reg, &err, "SELECT account_name FROM uid_history WHERE uid = ? AND account_name <> ?",
					   "is", (int64_t)uid, name);
			r = st ? isms_db_step(st, &err) : err.code;
			if (r == 1)
				(void)snprintf(held, sizeof(held), "%s", (const char *)sqlite3_column_text(st, 0));
			isms_db_done(st);
		}
		if (r < 0)
			goto db_error;
		if (r == 1) {
			isms_db_rollback(cli->ctx.reg);
			return cli_fail(cli, EXIT_FINDINGS, "account add: uid %lld is (or was) held by %s; uids are never reused",
					uid, held);
		}
	}
	if (exists)
		r = isms_db_exec(cli->ctx.reg, &err,
				 "UPDATE accounts SET kind = ?, person_id = CASE WHEN ? THEN ? ELSE person_id END,"
				 " services = ?, uid = COALESCE(uid, ?), updated_at = ? WHERE name = ?",
				 "siisiis", kind, (int64_t)have_person, person_id, services,
				 (int64_t)uid, now, name);
	else if (have_person)
		r = isms_db_exec(cli->ctx.reg, &err,
				 "INSERT INTO accounts (name, uid, gid, person_id, kind, source, shell, home, services,"
				 " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'local', ?, ?, ?, ?, ?)",
				 "siiissssii", name, (int64_t)uid, nss ? (int64_t)nss->pw_gid : (int64_t)uid, person_id,
				 kind, nss ? nss->pw_shell : NULL, nss ? nss->pw_dir : NULL, services, now, now);
	else
		r = isms_db_exec(cli->ctx.reg, &err,
				 "INSERT INTO accounts (name, uid, gid, person_id, kind, source, shell, home, services,"
				 " created_at, updated_at) VALUES (?, ?, ?, NULL, ?, 'local', ?, ?, ?, ?, ?)",
				 "siissssii", name, (int64_t)uid, nss ? (int64_t)nss->pw_gid : (int64_t)uid,
				 kind, nss ? nss->pw_shell : NULL, nss ? nss->pw_dir : NULL, services, now, now);
	if (r == 0 && uid >= 0)
		r = isms_db_exec(cli->ctx.reg, &err,
				 "INSERT OR IGNORE INTO uid_history (uid, account_name, employee_no, first_seen_at)"
				 " VALUES (?, ?, ?, ?)", "issi", (int64_t)uid, name, owner, now);
	if (r < 0)
		goto db_error;
	r = isms_db_commit(cli->ctx.reg, &err);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "account add: %s", err.msg);
	isms_audit_kv(details, sizeof(details), &pos, "kind", kind);
	isms_audit_kv(details, sizeof(details), &pos, "owner", owner);
	isms_audit_kv(details, sizeof(details), &pos, "services", services);
	cli_audit(cli, exists ? "account_update" : "account_add", name, "ok", NULL, details);
	if (cli->json)
		cli_json_print(json_pack("{s:s,s:s,s:I,s:s*,s:b}", "account", name, "kind", kind,
					 "uid", (json_int_t)(exists && a.has_uid ? a.uid : uid), "owner", owner,
					 "updated", exists));
	else
		printf("account %s %s (kind %s%s%s)\n", name, exists ? "updated" : "registered", kind,
		       owner ? ", owner " : "", owner ? owner : "");
	return EXIT_OK;
db_error:
	isms_db_rollback(cli->ctx.reg);
	return cli_fail(cli, EXIT_USAGE, "account add: %s", err.msg);
}

static int account_privileged(struct cli *cli, const char *name, bool *ret, char *via, size_t len,
			      struct isms_err *err)
{
	struct passwd pw, *nss = NULL;
	struct isms_account a;
	char buf[16384];
	int r;

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &nss) != 0)
		nss = NULL;
	if (nss)
		return isms_account_privileged(&cli->ctx, name, nss->pw_uid, nss->pw_gid, true, ret, via, len, err);
	r = isms_registry_account_find(cli->ctx.reg, name, &a, err);
	if (r < 0)
		return r;
	return isms_account_privileged(&cli->ctx, name, (uid_t)a.uid, (gid_t)a.gid,
				       r == 1 && a.has_uid && a.has_gid, ret, via, len, err);
}

static int account_show(struct cli *cli, const char *name)
{
	struct isms_err err = { 0 };
	struct isms_account a;
	char **groups = NULL, *gl, via[128] = "", when[32] = "never";
	int64_t last = 0;
	bool priv = false;
	int r;

	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	r = isms_registry_account_find(cli->ctx.reg, name, &a, &err);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "account show: %s", err.msg);
	if (r == 0)
		return cli_fail(cli, EXIT_FINDINGS, "account show: no account '%s'", name);
	if (isms_account_groups(&cli->ctx, name, (gid_t)a.gid, a.has_gid, &groups, &err) < 0 ||
	    account_privileged(cli, name, &priv, via, sizeof(via), &err) < 0 ||
	    isms_state_last_login(cli->ctx.state, name, &last, &err) < 0) {
		isms_list_free(groups);
		return cli_fail(cli, EXIT_USAGE, "account show: %s", err.msg);
	}
	if (last)
		(void)isms_time_iso(last, when, sizeof(when));
	gl = isms_list_join(groups, ",");
	if (cli->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s*,s:s*,s:s*,s:s,s:b,s:s*,s:s}", "account", a.name,
				      "kind", a.kind, "status", a.status, "source", a.source,
				      "owner", a.has_owner ? a.owner_no : NULL,
				      "owner_name", a.has_owner ? a.owner_name : NULL,
				      "services", a.services[0] ? a.services : NULL, "groups", gl ? gl : "",
				      "privileged", priv, "privileged_via", priv ? via : NULL, "last_login", when);

		json_object_set_new(o, "uid", a.has_uid ? json_integer(a.uid) : json_null());
		cli_json_print(o);
	} else {
		printf("account     %s\n", a.name);
		if (a.has_uid)
			printf("uid         %lld\n", (long long)a.uid);
		printf("kind        %s\nstatus      %s%s%s%s\nsource      %s\n", a.kind, a.status,
		       a.status_reason[0] ? " (" : "", a.status_reason, a.status_reason[0] ? ")" : "", a.source);
		if (a.has_owner)
			printf("owner       %s %s (%s)\n", a.owner_no, a.owner_name, a.owner_status);
		else
			printf("owner       none\n");
		if (a.services[0])
			printf("services    %s\n", a.services);
		printf("groups      %s\nprivileged  %s\nlast login  %s\n", gl && *gl ? gl : "-",
		       priv ? via : "no", when);
	}
	free(gl);
	isms_list_free(groups);
	return EXIT_OK;
}

static int account_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unowned", no_argument, NULL, 'u' },
		{ "duplicates", no_argument, NULL, 'd' },
		{ "privileged", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	bool unowned = false, dups = false, privileged = false;
	struct isms_err err = { 0 };
	json_t *arr = json_array();
	sqlite3_stmt *st;
	int c, r, n = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "udpj", opts, NULL)) != -1) {
		switch (c) {
		case 'u': unowned = true; break;
		case 'd': dups = true; break;
		case 'p': privileged = true; break;
		case 'j': cli->json = true; break;
		default: json_decref(arr); return cli_usage(cli, &cmd_account_def, "list: unknown option");
		}
	}
	if (optind != argc) {
		json_decref(arr);
		return cli_usage(cli, &cmd_account_def, "list: unexpected argument '%s'", argv[optind]);
	}
	r = cli_open(cli);
	if (r != EXIT_OK) {
		json_decref(arr);
		return r;
	}
	st = isms_db_query(cli->ctx.reg, &err,
			   "SELECT a.name, a.uid, a.kind, a.status, a.source, p.employee_no FROM accounts a"
			   " LEFT JOIN people p ON p.id = a.person_id"
			   " WHERE (? = 0 OR (a.kind = 'human' AND a.person_id IS NULL))"
			   " AND (? = 0 OR a.uid IN (SELECT uid FROM accounts WHERE uid IS NOT NULL"
			   " GROUP BY uid HAVING COUNT(*) > 1)) ORDER BY a.name",
			   "ii", (int64_t)unowned, (int64_t)dups);
	if (!st) {
		json_decref(arr);
		return cli_fail(cli, EXIT_USAGE, "account list: %s", err.msg);
	}
	if (!cli->json)
		printf("%-20s %8s %-10s %-9s %-6s %-12s %s\n", "ACCOUNT", "UID", "KIND", "STATUS", "SOURCE",
		       "OWNER", "PRIVILEGED");
	r = isms_priv_cache_begin(&cli->ctx, &err);
	/* Every account (--privileged too asks about each): NSS's groups fetched
	 * ahead, in the list's order. --unowned and --duplicates ask about few. */
	if (r == 0 && !unowned && !dups)
		r = isms_priv_cache_prefetch(&cli->ctx, "SELECT name, gid FROM accounts WHERE uid IS NOT NULL"
					     " AND gid IS NOT NULL AND uid != 0 ORDER BY name", &err);
	while (r == 0 && (r = isms_db_step(st, &err)) == 1) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *owner = (const char *)sqlite3_column_text(st, 5);
		bool has_uid = sqlite3_column_type(st, 1) != SQLITE_NULL, priv = false;
		char via[128] = "";

		r = account_privileged(cli, name, &priv, via, sizeof(via), &err);
		if (r < 0)
			break;   /* not "no": a list of who is privileged must be whole */
		if (privileged && !priv)
			continue;
		n++;
		if (cli->json) {
			json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s*,s:b,s:s*}", "account", name,
					      "kind", (const char *)sqlite3_column_text(st, 2),
					      "status", (const char *)sqlite3_column_text(st, 3),
					      "source", (const char *)sqlite3_column_text(st, 4),
					      "owner", owner, "privileged", priv, "privileged_via", priv ? via : NULL);

			json_object_set_new(o, "uid", has_uid ? json_integer(sqlite3_column_int64(st, 1)) : json_null());
			json_array_append_new(arr, o);
		} else {
			char uidbuf[24] = "-";

			if (has_uid)
				(void)snprintf(uidbuf, sizeof(uidbuf), "%lld", (long long)sqlite3_column_int64(st, 1));
			printf("%-20s %8s %-10s %-9s %-6s %-12s %s\n", name, uidbuf,
			       (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
			       (const char *)sqlite3_column_text(st, 4), owner ? owner : "-", priv ? via : "no");
		}
	}
	isms_priv_cache_end(&cli->ctx);
	isms_db_done(st);
	if (r < 0) {
		json_decref(arr);
		return cli_fail(cli, EXIT_USAGE, "account list: %s", err.msg);
	}
	if (cli->json)
		cli_json_print(arr);
	else
		json_decref(arr);
	return EXIT_OK;
}

/* lock/unlock: a status change from one state to the other, refused from any else. */
static int account_set_status(struct cli *cli, const char *name, const char *from, const char *to,
			      const char *reason)
{
	struct isms_err err = { 0 };
	struct isms_account a;
	char details[512] = "";
	size_t pos = 0;
	int r;

	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	r = isms_db_begin(cli->ctx.reg, &err);
	if (r == 0)
		r = isms_registry_account_find(cli->ctx.reg, name, &a, &err);
	if (r == 1 && strcmp(a.status, from) != 0) {
		isms_db_rollback(cli->ctx.reg);
		return cli_fail(cli, EXIT_FINDINGS, "account: %s is %s, not %s", name, a.status, from);
	}
	if (r == 0) {
		isms_db_rollback(cli->ctx.reg);
		return cli_fail(cli, EXIT_FINDINGS, "account: no account '%s'", name);
	}
	if (r == 1)
		r = isms_db_exec(cli->ctx.reg, &err,
				 "UPDATE accounts SET status = ?, status_reason = ?, updated_at = ? WHERE name = ?",
				 "ssis", to, reason, isms_now(), name);
	if (r == 0)
		r = isms_db_commit(cli->ctx.reg, &err);
	else
		isms_db_rollback(cli->ctx.reg);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "account: %s", err.msg);
	isms_audit_kv(details, sizeof(details), &pos, "status_reason", reason);
	cli_audit(cli, strcmp(to, "locked") == 0 ? "account_lock" : "account_unlock", name, "ok", NULL,
		  reason ? details : NULL);
	if (cli->json)
		cli_json_print(json_pack("{s:s,s:s}", "account", name, "status", to));
	else
		printf("account %s %s\n", name, to);
	return EXIT_OK;
}

static int account_lock(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "reason", required_argument, NULL, 'r' }, { 0 } };
	const char *reason = NULL;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
		if (c != 'r')
			return cli_usage(cli, &cmd_account_def, "lock: unknown option");
		reason = optarg;
	}
	if (optind != argc - 1)
		return cli_usage(cli, &cmd_account_def, "lock: expected exactly one NAME");
	if (!reason || !*reason)
		return cli_usage(cli, &cmd_account_def, "lock: --reason TEXT is required");
	return account_set_status(cli, argv[optind], "active", "locked", reason);
}

int cmd_account(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (argc < 2)
		return cli_usage(cli, &cmd_account_def, "missing subcommand");
	if (strcmp(sub, "add") == 0)
		return account_add(cli, argc - 1, argv + 1);
	if (strcmp(sub, "list") == 0)
		return account_list(cli, argc - 1, argv + 1);
	if (strcmp(sub, "lock") == 0)
		return account_lock(cli, argc - 1, argv + 1);
	if (strcmp(sub, "show") == 0 && argc == 3)
		return account_show(cli, argv[2]);
	if (strcmp(sub, "unlock") == 0 && argc == 3)
		return account_set_status(cli, argv[2], "locked", "active", NULL);
	return cli_usage(cli, &cmd_account_def, "unknown subcommand or arguments for '%s'", sub);
}
