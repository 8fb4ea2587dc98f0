/* accessctl doctor: check the installation without changing it, each finding
 * with the fix (in the spirit of `doas -C`). */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit.h"
#include "cli.h"
#include "db.h"
#include "util.h"
#include "vault.h"

const struct command cmd_doctor_def = {
	"doctor", cmd_doctor, "check config, file modes, keys, stores and PAM services",
	"usage: accessctl [--root DIR] [--json] doctor\n\n"
	"Checks, without changing anything: the configuration parses; the config, key\n"
	"and store files are owned by root and not writable by group or other; the host\n"
	"key loads; both stores open at the current schema version and pass sqlite's\n"
	"integrity check; the audit chain verifies; and which PAM service files in the\n"
	"configured pam.d directory use pam_isms. Each finding comes with its fix.\n"
	"Exit status: 0 no findings, 1 findings, 2 the configuration cannot be read.\n",
};

struct doctor {
	struct cli *cli;
	json_t *checks;
	int findings;
};

static void report(struct doctor *d, const char *check, bool ok, const char *detail, const char *fix)
{
	if (!ok)
		d->findings++;
	if (d->cli->json) {
		json_t *o = json_pack("{s:s,s:s,s:s}", "check", check, "status", ok ? "ok" : "finding",
				      "detail", detail ? detail : "");

		if (!ok && fix)
			json_object_set_new(o, "fix", json_string(fix));
		json_array_append_new(d->checks, o);
		return;
	}
	printf("%-8s %-18s %s\n", ok ? "ok" : "FINDING", check, detail ? detail : "");
	if (!ok && fix)
		printf("%-8s %-18s fix: %s\n", "", "", fix);
}

/* Library messages end in "; fix: COMMAND" where the fix is known: print that
 * as the fix line, else the caller's advice. */
static void report_err(struct doctor *d, const char *check, struct isms_err *err, const char *fix)
{
	char *sep = strstr(err->msg, "; fix: ");

	if (sep) {
		*sep = '\0';
		fix = sep + strlen("; fix: ");
	} else if (err->code == -ENOENT) {
		fix = "run 'accessctl init'";
	}
	report(d, check, false, err->msg, fix);
}

static void check_guard(struct doctor *d, const char *check, const char *path, bool dir)
{
	struct isms_err err = { 0 };

	if (isms_check_guard(path, check, dir, &err) < 0)
		report_err(d, check, &err, "restore the expected mode and owner");
	else
		report(d, check, true, path, NULL);
}

static void check_store(struct doctor *d, const char *check, const char *path, enum isms_store kind,
			sqlite3 **ret)
{
	struct isms_err err = { 0 };
	char detail[600];
	sqlite3 *db;

	*ret = NULL;
	if (isms_db_open(path, kind, ISMS_DB_READONLY, &db, &err) < 0) {
		report_err(d, check, &err, err.code == -EPROTO && strstr(err.msg, "newer than")
			   ? "install the pam_isms version that wrote this store"
			   : "run 'accessctl init' (creates or migrates), or restore from backup");
		return;
	}
	if (isms_db_integrity(db, &err) < 0) {
		report(d, check, false, err.msg, "restore the store from a tested backup");
		isms_db_close(db);
		return;
	}
	(void)snprintf(detail, sizeof(detail), "%s (schema %d, integrity ok)", path, isms_db_user_version(db));
	report(d, check, true, detail, NULL);
	*ret = db;
}

static bool file_uses_module(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');

		if (hash)
			*hash = '\0';
		found = strstr(line, "pam_isms.so") != NULL;
	}
	fclose(f);
	return found;
}

static void check_pam_services(struct doctor *d)
{
	DIR *dir = opendir(d->cli->conf->pamd_dir);
	struct dirent *de;
	char users[800] = "";
	size_t pos = 0;
	int n = 0;

	if (!dir) {
		report(d, "pam services", false, d->cli->conf->pamd_dir,
		       "no PAM directory here; set [paths] pamd_dir");
		return;
	}
	while ((de = readdir(dir))) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", d->cli->conf->pamd_dir, de->d_name) < 0)
			break;
		if (file_uses_module(p)) {
			if (pos < sizeof(users))
				pos += (size_t)snprintf(users + pos, sizeof(users) - pos, "%s%s",
							n ? ", " : "", de->d_name);
			n++;
		}
		free(p);
	}
	closedir(dir);
	if (n)
		report(d, "pam services", true, users, NULL);
	else
		report(d, "pam services", false, "no service file uses pam_isms.so",
		       "add 'account required pam_isms.so' (and auth, session lines) to sshd, sudo, su and login; see examples/pam.d");
}

static void check_parent(struct doctor *d, const char *check, const char *file)
{
	char *copy = strdup(file);

	if (copy)
		check_guard(d, check, dirname(copy), true);
	free(copy);
}

int cmd_doctor(struct cli *cli, int argc, char **argv)
{
	struct doctor d = { .cli = cli, .checks = json_array() };
	struct isms_err err = { 0 };
	struct isms_vault v;
	sqlite3 *reg = NULL, *state = NULL;
	char detail[600];
	int64_t count = 0, bad = 0;
	struct isms_conf *c;

	if (argc > 1) {
		json_decref(d.checks);
		return cli_usage(cli, &cmd_doctor_def, "unexpected argument '%s'", argv[1]);
	}
	if (cli_load_conf(cli) != EXIT_OK) {
		json_decref(d.checks);
		return EXIT_USAGE;
	}
	c = cli->conf;
	report(&d, "config", true, c->path, NULL);
	check_guard(&d, "config file", c->path, false);
	check_parent(&d, "config dir", c->path);
	check_parent(&d, "registry dir", c->registry_db);
	check_parent(&d, "state dir", c->state_db);
	if (isms_vault_load(c->host_key, &v, &err) < 0) {
		report_err(&d, "host key", &err, "restore the key from its backup: sealed MFA secrets need it");
	} else {
		report(&d, "host key", true, c->host_key, NULL);
		isms_vault_wipe(&v);
	}
	{
		struct stat st;

		if (lstat(c->signing_key, &st) < 0) {
			report(&d, "signing key", false, c->signing_key, "run 'accessctl init'");
		} else if ((st.st_mode & 077) || !S_ISREG(st.st_mode)) {
			char fix[600];

			(void)snprintf(detail, sizeof(detail), "signing key %s: not a regular file or accessible "
				       "by group or other (mode %04o)", c->signing_key,
				       (unsigned)(st.st_mode & 07777));
			(void)snprintf(fix, sizeof(fix), "chmod 600 %s", c->signing_key);
			report(&d, "signing key", false, detail, fix);
		} else {
			report(&d, "signing key", true, c->signing_key, NULL);
		}
	}
	check_store(&d, "registry store", c->registry_db, ISMS_REGISTRY, &reg);
	check_store(&d, "state store", c->state_db, ISMS_STATE, &state);
	if (state) {
		isms_err_clear(&err);
		if (isms_audit_verify(state, &count, &bad, &err) < 0) {
			report(&d, "audit chain", false, err.msg,
			       "the trail was altered: preserve this store as evidence and compare with the central syslog");
		} else {
			(void)snprintf(detail, sizeof(detail), "%lld events, chain intact", (long long)count);
			report(&d, "audit chain", true, detail, NULL);
		}
	}
	check_pam_services(&d);
	isms_db_close(reg);
	isms_db_close(state);
	if (cli->json)
		cli_json_print(json_pack("{s:o,s:i}", "checks", d.checks, "findings", d.findings));
	else {
		json_decref(d.checks);
		printf(d.findings ? "%d finding%s\n" : "no findings\n", d.findings, d.findings == 1 ? "" : "s");
	}
	return d.findings ? EXIT_FINDINGS : EXIT_OK;
}
