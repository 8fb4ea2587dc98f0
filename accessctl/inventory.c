/* accessctl inventory: record this host's accounts, groups and memberships in
 * the registry (source local) and report what breaks the policy. */
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "cli.h"
#include "db.h"
#include "passwd.h"
#include "privilege.h"
#include "util.h"

const struct command cmd_inventory_def = {
	"inventory", cmd_inventory, "record local accounts and groups; report policy findings",
	"usage: accessctl [--root DIR] [--json] inventory [--passwd FILE --group FILE]\n\n"
	"Reads the host's accounts and groups (from NSS, or from passwd(5)/group(5)\n"
	"files) and records them in the registry as source 'local', in one\n"
	"transaction: a malformed line is reported as FILE:LINE:COLUMN and nothing is\n"
	"recorded. New accounts are kind 'human' (uid >= 1000 with a login shell) or\n"
	"'service'; an existing account keeps its kind, owner and status.\n\n"
	"Findings, over every active account in the registry:\n"
	"  duplicate_uid        a uid held by more than one account\n"
	"  uid0_not_root        uid 0 for any name but root\n"
	"  uid_mismatch         the local uid differs from the registry's\n"
	"  unowned_account      a human account with no owner\n"
	"  shared_account       a human account with a shared name ([general] shared_names)\n"
	"  service_login_shell  a service account with a login shell\n"
	"Members of privileged groups are listed for review (not findings).\n"
	"Exit 0 no findings, 1 findings open, 2 usage, input or store error.\n",
};

struct inv_user {
	char *name, *home, *shell;
	long long uid, gid;
};

struct inv_group {
	char *name, *members;
	long long gid;
};

struct inventory {
	struct inv_user *users;
	size_t nusers;
	struct inv_group *groups;
	size_t ngroups;
	json_t *findings;
	json_t *privileged;
};

static void inventory_free(struct inventory *inv)
{
	for (size_t i = 0; i < inv->nusers; i++) {
		free(inv->users[i].name);
		free(inv->users[i].home);
		free(inv->users[i].shell);
	}
	for (size_t i = 0; i < inv->ngroups; i++) {
		free(inv->groups[i].name);
		free(inv->groups[i].members);
	}
	free(inv->users);
	free(inv->groups);
	json_decref(inv->findings);
	json_decref(inv->privileged);
}

static int add_user(struct inventory *inv, const char *name, long long uid, long long gid,
		    const char *home, const char *shell)
{
	struct inv_user *u = realloc(inv->users, (inv->nusers + 1) * sizeof(*u));

	if (!u)
		return -ENOMEM;
	inv->users = u;
	u += inv->nusers;
	u->name = strdup(name);
	u->home = strdup(home ? home : "");
	u->shell = strdup(shell ? shell : "");
	u->uid = uid;
	u->gid = gid;
	inv->nusers++;
	return u->name && u->home && u->shell ? 0 : -ENOMEM;
}

static int add_group(struct inventory *inv, const char *name, long long gid, const char *members)
{
	struct inv_group *g = realloc(inv->groups, (inv->ngroups + 1) * sizeof(*g));

	if (!g)
		return -ENOMEM;
	inv->groups = g;
	g += inv->ngroups;
	g->name = strdup(name);
	g->members = strdup(members);
	g->gid = gid;
	inv->ngroups++;
	return g->name && g->members ? 0 : -ENOMEM;
}

/* Read a passwd or group file; a bad line stops everything, named FILE:LINE:COL. */
static int load_file(struct cli *cli, struct inventory *inv, const char *path, bool group)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int r = 0;

	if (!f)
		return cli_fail(cli, EXIT_USAGE, "inventory: %s: %s", path, strerror(errno));
	while (r == 0 && getline(&line, &cap, f) >= 0) {
		const char *what = NULL;
		int col = 0;

		lineno++;
		if (group) {
			struct isms_grline g;

			r = isms_group_parse(line, &g, &col, &what);
			if (r == 0)
				r = add_group(inv, g.name, g.gid, g.members);
		} else {
			struct isms_pwline p;

			r = isms_passwd_parse(line, &p, &col, &what);
			if (r == 0)
				r = add_user(inv, p.name, p.uid, p.gid, p.home, p.shell);
		}
		if (r == 1)
			r = 0;
		if (r == -EINVAL)
			r = cli_fail(cli, EXIT_USAGE, "inventory: %s:%ld:%d: %s; nothing recorded", path, lineno,
				     col, what);
		else if (r < 0)
			r = cli_fail(cli, EXIT_USAGE, "inventory: out of memory");
	}
	free(line);
	fclose(f);
	return r;
}

static int load_nss(struct cli *cli, struct inventory *inv)
{
	struct passwd *pw;
	struct group *gr;
	int r = 0;

	setpwent();
	while (r == 0 && (pw = getpwent()))
		r = add_user(inv, pw->pw_name, pw->pw_uid, pw->pw_gid, pw->pw_dir, pw->pw_shell);
	endpwent();
	setgrent();
	while (r == 0 && (gr = getgrent())) {
		char *m = isms_list_join(gr->gr_mem, ",");

		r = m ? add_group(inv, gr->gr_name, gr->gr_gid, m) : -ENOMEM;
		free(m);
	}
	endgrent();
	return r < 0 ? cli_fail(cli, EXIT_USAGE, "inventory: out of memory") : 0;
}

static void finding(struct inventory *inv, const char *type, const char *account, const char *detail)
{
	json_array_append_new(inv->findings, json_pack("{s:s,s:s,s:s}", "type", type, "account", account,
						       "detail", detail));
}

static const char *kind_for(const struct inv_user *u)
{
	return u->uid >= 1000 && u->uid != 65534 && isms_shell_is_login(u->shell) ? "human" : "service";
}

static int record_member(struct cli *cli, const char *account, const char *group, const char *attr,
			 struct isms_err *err)
{
	return isms_db_exec(cli->ctx.reg, err,
			    "INSERT INTO memberships (account_id, group_id, via_id, path, source, attr)"
			    " SELECT a.id, g.id, NULL, NULL, 'local', ? FROM accounts a, groups g"
			    " WHERE a.name = ? AND g.name = ? AND NOT EXISTS (SELECT 1 FROM memberships m"
			    " WHERE m.account_id = a.id AND m.group_id = g.id AND m.via_id IS NULL)",
			    "sss", attr, account, group);
}

/* Everything in one transaction: the registry never holds half an inventory. */
static int record(struct cli *cli, struct inventory *inv, struct isms_err *err)
{
	int64_t now = isms_now();
	int r;

	r = isms_db_begin(cli->ctx.reg, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < inv->nusers && r == 0; i++) {
		const struct inv_user *u = &inv->users[i];
		sqlite3_stmt *st;
		char d[128];

		st = isms_db_query(cli->ctx.reg, err, "SELECT uid FROM accounts WHERE name = ? AND uid IS NOT NULL", "s", u->name);
		r = st ? isms_db_step(st, err) : err->code;
		if (r == 1 && sqlite3_column_int64(st, 0) != u->uid) {
			(void)snprintf(d, sizeof(d), "local uid %lld, registry uid %lld", u->uid,
				       (long long)sqlite3_column_int64(st, 0));
			finding(inv, "uid_mismatch", u->name, d);
		}
		isms_db_done(st);
		if (r >= 0)
			r = isms_db_exec(cli->ctx.reg, err,
					 "INSERT INTO accounts (name, uid, gid, kind, source, shell, home, created_at, updated_at)"
					 " VALUES (?, ?, ?, ?, 'local', ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
					 " uid = COALESCE(accounts.uid, excluded.uid), gid = excluded.gid,"
					 " shell = excluded.shell, home = excluded.home, updated_at = excluded.updated_at",
					 "siisssii", u->name, (int64_t)u->uid, (int64_t)u->gid, kind_for(u), u->shell,
					 u->home, now, now);
		if (r == 0)
			r = isms_db_exec(cli->ctx.reg, err,
					 "INSERT OR IGNORE INTO uid_history (uid, account_name, first_seen_at) VALUES (?, ?, ?)",
					 "isi", (int64_t)u->uid, u->name, now);
		cli_progress("accounts", (long long)i + 1, (long long)inv->nusers);
	}
	for (size_t i = 0; i < inv->ngroups && r == 0; i++) {
		const struct inv_group *g = &inv->groups[i];

		r = isms_db_exec(cli->ctx.reg, err,
				 "INSERT INTO groups (name, gid, source, privileged, created_at, updated_at)"
				 " VALUES (?, ?, 'local', ?, ?, ?) ON CONFLICT(name) DO UPDATE SET gid = excluded.gid,"
				 " privileged = excluded.privileged, updated_at = excluded.updated_at"
				 " WHERE groups.source = 'local'",
				 "siiii", g->name, (int64_t)g->gid,
				 (int64_t)isms_conf_group_is_privileged(cli->conf, g->name), now, now);
	}
	/* local memberships are replaced by what the files say now */
	if (r == 0)
		r = isms_db_exec(cli->ctx.reg, err, "DELETE FROM memberships WHERE source = 'local'", NULL);
	for (size_t i = 0; i < inv->ngroups && r == 0; i++) {
		char **members = isms_list_split(inv->groups[i].members);

		if (!members) {
			r = isms_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		for (size_t j = 0; members[j] && r == 0; j++)
			r = record_member(cli, members[j], inv->groups[i].name, "gr_mem", err);
		isms_list_free(members);
	}
	for (size_t i = 0; i < inv->nusers && r == 0; i++)
		for (size_t j = 0; j < inv->ngroups && r == 0; j++)
			if (inv->groups[j].gid == inv->users[i].gid)
				r = record_member(cli, inv->users[i].name, inv->groups[j].name, "primary", err);
	if (r < 0) {
		isms_db_rollback(cli->ctx.reg);
		return r;
	}
	return isms_db_commit(cli->ctx.reg, err);
}

static int find_policy(struct cli *cli, struct inventory *inv, struct isms_err *err)
{
	const struct isms_conf *conf = cli->conf;
	sqlite3_stmt *st;
	int r;

	st = isms_db_query(cli->ctx.reg, err,
			   "SELECT a.name, a.uid, (SELECT group_concat(b.name, ', ') FROM accounts b"
			   " WHERE b.uid = a.uid AND b.name <> a.name AND b.status = 'active') FROM accounts a"
			   " WHERE a.status = 'active' AND a.uid IN (SELECT uid FROM accounts WHERE uid IS NOT NULL"
			   " AND status = 'active' GROUP BY uid HAVING COUNT(*) > 1) ORDER BY a.uid, a.name", NULL);
	if (!st)
		return err->code;
	while ((r = isms_db_step(st, err)) == 1) {
		char d[512];

		(void)snprintf(d, sizeof(d), "uid %lld also held by %s", (long long)sqlite3_column_int64(st, 1),
			       (const char *)sqlite3_column_text(st, 2));
		finding(inv, "duplicate_uid", (const char *)sqlite3_column_text(st, 0), d);
	}
	isms_db_done(st);
	if (r < 0)
		return r;
	st = isms_db_query(cli->ctx.reg, err,
			   "SELECT name, uid, kind, shell, person_id IS NULL FROM accounts WHERE status = 'active'"
			   " ORDER BY name", NULL);
	if (!st)
		return err->code;
	while ((r = isms_db_step(st, err)) == 1) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *kind = (const char *)sqlite3_column_text(st, 2);
		const char *shell = (const char *)sqlite3_column_text(st, 3);
		bool human = strcmp(kind, "human") == 0;

		if (sqlite3_column_type(st, 1) != SQLITE_NULL && sqlite3_column_int64(st, 1) == 0 &&
		    strcmp(name, "root") != 0)
			finding(inv, "uid0_not_root", name, "uid 0 for an account other than root");
		if (human && sqlite3_column_int(st, 4))
			finding(inv, "unowned_account", name, "human account with no owner (account add NAME --owner)");
		if (human && isms_list_contains(conf->shared_names, name))
			finding(inv, "shared_account", name, "shared name on a human account");
		if (strcmp(kind, "service") == 0 && isms_shell_is_login(shell) &&
		    !isms_list_contains(conf->privileged_accounts, name))
			finding(inv, "service_login_shell", name, shell);
	}
	isms_db_done(st);
	if (r < 0)
		return r;
	r = isms_priv_cache_begin(&cli->ctx, err);
	for (size_t i = 0; r == 0 && i < inv->nusers; i++) {
		const struct inv_user *u = &inv->users[i];
		char via[128];
		bool priv = false;

		r = isms_account_privileged(&cli->ctx, u->name, (uid_t)u->uid, (gid_t)u->gid, true, &priv,
					    via, sizeof(via), err);
		if (r == 0 && priv)
			json_array_append_new(inv->privileged, json_pack("{s:s,s:s}", "account", u->name, "via", via));
	}
	isms_priv_cache_end(&cli->ctx);
	return r < 0 ? r : 0;
}

int cmd_inventory(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passwd", required_argument, NULL, 'p' },
		{ "group", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	const char *passwd = NULL, *group = NULL;
	struct inventory inv = { .findings = json_array(), .privileged = json_array() };
	struct isms_err err = { 0 };
	char details[256];
	size_t nf, i;
	json_t *o;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "p:g:j", opts, NULL)) != -1) {
		switch (c) {
		case 'p': passwd = optarg; break;
		case 'g': group = optarg; break;
		case 'j': cli->json = true; break;
		default: inventory_free(&inv); return cli_usage(cli, &cmd_inventory_def, "unknown option");
		}
	}
	if (optind != argc || !passwd != !group) {
		inventory_free(&inv);
		return cli_usage(cli, &cmd_inventory_def, "--passwd and --group go together; no other arguments");
	}
	r = passwd ? load_file(cli, &inv, passwd, false) : load_nss(cli, &inv);
	if (r == 0 && group)
		r = load_file(cli, &inv, group, true);
	if (r == 0)
		r = cli_open(cli);
	if (r != 0) {
		inventory_free(&inv);
		return r;
	}
	r = record(cli, &inv, &err);
	if (r == 0)
		r = find_policy(cli, &inv, &err);
	if (r < 0) {
		inventory_free(&inv);
		return cli_fail(cli, EXIT_USAGE, "inventory: %s", err.msg);
	}
	nf = json_array_size(inv.findings);
	(void)snprintf(details, sizeof(details), "accounts=%zu groups=%zu findings=%zu source=%s",
		       inv.nusers, inv.ngroups, nf, passwd ? "files" : "nss");
	cli_audit(cli, "inventory", cli->conf->system_name, nf ? "findings" : "ok", NULL, details);
	if (cli->json) {
		cli_json_print(json_pack("{s:I,s:I,s:O,s:O}", "accounts", (json_int_t)inv.nusers, "groups",
					 (json_int_t)inv.ngroups, "findings", inv.findings, "privileged",
					 inv.privileged));
	} else {
		printf("recorded %zu accounts and %zu groups (source local)\n", inv.nusers, inv.ngroups);
		json_array_foreach(inv.findings, i, o)
			printf("FINDING %-20s %-16s %s\n", json_string_value(json_object_get(o, "type")),
			       json_string_value(json_object_get(o, "account")),
			       json_string_value(json_object_get(o, "detail")));
		json_array_foreach(inv.privileged, i, o)
			printf("privileged %-16s %s\n", json_string_value(json_object_get(o, "account")),
			       json_string_value(json_object_get(o, "via")));
		printf(nf ? "%zu findings open\n" : "inventory clean: 0 findings\n", nf);
	}
	inventory_free(&inv);
	return nf ? EXIT_FINDINGS : EXIT_OK;
}
