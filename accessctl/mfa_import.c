/* accessctl mfa import: take over google-authenticator and pam_oath tokens.
 * All lines are parsed and every account checked before anything is written;
 * then one registry transaction holds every token (nothing half-imported). */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "db.h"
#include "mfa.h"
#include "mfa_cmd.h"
#include "mfa_import.h"
#include "util.h"

#define MAX_FILE (64 << 20)



/* The whole file in memory, wiped after: it holds plaintext secrets. */
static int slurp(struct cli *cli, const char *path, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char *buf;
	size_t n = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
		if (fd >= 0)
			close(fd);
		return cli_fail(cli, EXIT_USAGE, "mfa import: %s: %s", path,
				fd < 0 ? strerror(errno) : "not a regular file of at most 64 MiB");
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf && n < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);

		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	if (!buf)
		return cli_fail(cli, EXIT_USAGE, "out of memory");
	buf[n] = '\0';
	*ret = buf;
	*ret_len = n;
	return EXIT_OK;
}

/* Every account must exist, be a login account, and have no token yet. */
static int check_accounts(struct cli *cli, const char *path, struct isms_import *im,
			  struct isms_mfa_account *accts)
{
	struct isms_err err = { 0 };
	sqlite3_stmt *st;
	int r;

	for (size_t i = 0; i < im->n; i++) {
		const char *user = im->v[i].user;

		r = isms_mfa_account_find(cli->ctx.reg, user, &accts[i], &err);
		if (r == -ENOENT)
			return cli_fail(cli, EXIT_FINDINGS, "%s:%u: account '%s' is not in the registry;"
					" nothing imported", path, im->v[i].line, user);
		if (r < 0)
			return cli_fail(cli, EXIT_USAGE, "mfa import: %s", err.msg);
		if (strcmp(accts[i].status, "revoked") == 0 || strcmp(accts[i].status, "departed") == 0)
			return cli_fail(cli, EXIT_FINDINGS, "%s:%u: '%s' is %s; nothing imported", path,
					im->v[i].line, user, accts[i].status);
		if (strcmp(accts[i].kind, "service") == 0)
			return cli_fail(cli, EXIT_FINDINGS, "%s:%u: '%s' is a service account; nothing imported",
					path, im->v[i].line, user);
		st = isms_db_query(cli->ctx.reg, &err, "SELECT 1 FROM mfa_tokens WHERE account_id = ?", "i",
				   accts[i].id);
		if (!st)
			return cli_fail(cli, EXIT_USAGE, "mfa import: %s", err.msg);
		r = isms_db_step(st, &err);
		isms_db_done(st);
		if (r != 0)
			return r < 0 ? cli_fail(cli, EXIT_USAGE, "mfa import: %s", err.msg) :
			       cli_fail(cli, EXIT_FINDINGS, "%s:%u: '%s' already has a token ('accessctl mfa"
					" reset %s' first); nothing imported", path, im->v[i].line, user, user);
	}
	return EXIT_OK;
}

/* Registry tokens and state watermarks; the state commits first so a failure
 * there leaves the registry untouched. */
static int store_all(struct cli *cli, const char *from, const char *path, struct isms_import *im,
		     const struct isms_mfa_account *accts)
{
	struct isms_err err = { 0 };
	struct isms_vault v;
	int64_t now = isms_now(), id;
	int rv, r;

	rv = mfa_vault(cli, &v);
	if (rv != EXIT_OK)
		return rv;
	r = isms_db_begin(cli->ctx.reg, &err);
	if (r == 0)
		r = isms_db_begin(cli->ctx.state, &err);
	for (size_t i = 0; i < im->n && r == 0; i++) {
		const struct isms_import_entry *e = &im->v[i];
		char details[160] = "";
		size_t pos = 0;

		r = isms_mfa_token_store(cli->ctx.reg, &v, &accts[i], e->user, e->secret, e->secret_len,
					 &e->p, true, from, now, &id, &err);
		if (r == 0)
			r = isms_mfa_state_forget(cli->ctx.state, e->user, &err);
		if (r == 0 && e->last_step >= 0)
			r = isms_db_exec(cli->ctx.state, &err,
					 "INSERT INTO mfa_state (account, token_id, watermark) VALUES (?,?,?)",
					 "sii", e->user, id, e->last_step);
		if (r == 0) {
			struct isms_event ev = { "mfa_import", cli->actor, e->user, "ok", from, details, 0 };

			isms_audit_kv(details, sizeof(details), &pos, "file", path);
			(void)snprintf(details + pos, sizeof(details) - pos, " line=%u algorithm=%s digits=%u",
				       e->line, isms_totp_alg_name(e->p.alg), e->p.digits);
			r = isms_audit_append(cli->ctx.state, cli->conf->system_name, &ev, &err);
		}
		cli_progress("import", (long long)i + 1, (long long)im->n);
	}
	if (r == 0)
		r = isms_db_commit(cli->ctx.state, &err);
	if (r == 0)
		r = isms_db_commit(cli->ctx.reg, &err);
	isms_vault_wipe(&v);
	if (r < 0) {
		isms_db_rollback(cli->ctx.state);
		isms_db_rollback(cli->ctx.reg);
		return cli_fail(cli, EXIT_USAGE, "mfa import: %s; nothing imported", err.msg);
	}
	return EXIT_OK;
}

int mfa_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "google-authenticator", required_argument, NULL, 'g' },
		{ "pam-oath", required_argument, NULL, 'o' },
		{ "user", required_argument, NULL, 'u' },
		{ 0 },
	};
	const char *ga = NULL, *oath = NULL, *user = NULL, *path, *from;
	struct isms_mfa_account *accts = NULL;
	struct isms_import im = { 0 };
	struct isms_err err = { 0 };
	char *buf = NULL;
	size_t len = 0;
	int c, rv, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'g': ga = optarg; break;
		case 'o': oath = optarg; break;
		case 'u': user = optarg; break;
		default: return cli_usage(cli, &cmd_mfa_def, "unknown import option");
		}
	}
	if (optind != argc || !!ga == !!oath || (ga && !user) || (oath && user))
		return cli_usage(cli, &cmd_mfa_def,
				 "import needs --google-authenticator FILE --user USER, or --pam-oath USERSFILE");
	path = ga ? ga : oath;
	from = ga ? "google-authenticator" : "pam_oath";
	rv = slurp(cli, path, &buf, &len);
	if (rv != EXIT_OK)
		return rv;
	r = ga ? isms_import_ga_parse(buf, len, path, &im, &err)
	       : isms_import_oath_parse(buf, len, path, &im, &err);
	isms_secret_free(buf, len + 1);
	if (r < 0)
		return cli_fail(cli, r == -ENOMEM ? EXIT_USAGE : EXIT_FINDINGS, "%s; nothing imported", err.msg);
	if (ga) {
		im.v[0].user = strdup(user);
		if (!im.v[0].user) {
			isms_import_free(&im);
			return cli_fail(cli, EXIT_USAGE, "out of memory");
		}
	}
	accts = calloc(im.n ? im.n : 1, sizeof(*accts));
	rv = accts ? check_accounts(cli, path, &im, accts) : cli_fail(cli, EXIT_USAGE, "out of memory");
	if (rv == EXIT_OK)
		rv = store_all(cli, from, path, &im, accts);
	if (rv == EXIT_OK && cli->json)
		cli_json_print(json_pack("{s:s,s:s,s:I,s:I}", "from", from, "file", path, "imported",
					 (json_int_t)im.n, "scratch_codes_skipped", (json_int_t)im.skipped_scratch));
	else if (rv == EXIT_OK) {
		printf("imported %zu token%s from %s (%s)\n", im.n, im.n == 1 ? "" : "s", path, from);
		if (im.skipped_scratch)
			printf("note: %u scratch codes were not carried over; issue recovery codes with"
			       " 'accessctl mfa recovery-codes %s --regenerate'\n", im.skipped_scratch, user);
	}
	free(accts);
	isms_import_free(&im);
	return rv;
}
