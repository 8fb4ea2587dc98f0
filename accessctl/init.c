/* accessctl init: directories with safe modes, the keys, both stores and a
 * commented default config. Idempotent: what exists is checked, not replaced. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "db.h"
#include "util.h"
#include "vault.h"

const struct command cmd_init_def = {
	"init", cmd_init, "create directories, keys, stores and a default config",
	"usage: accessctl [--root DIR] init\n\n"
	"Creates, where missing: /etc/isms (0755), /var/lib/isms and the recordings and\n"
	"HR drop directories (0700), the vault key host.key and the Ed25519 signing key\n"
	"signing.key (0600), registry.db and state.db at the current schema, and a\n"
	"commented default isms.conf. Existing files are kept; pending schema migrations\n"
	"are applied. Says what it did. Running it again changes nothing.\n",
};

struct init_report {
	json_t *done;
	int changed;
};

static void said(struct cli *cli, struct init_report *rep, const char *what, const char *path, bool created)
{
	size_t i;
	json_t *o;

	json_array_foreach(rep->done, i, o)
		if (strcmp(json_string_value(json_object_get(o, "path")), path) == 0)
			return;   /* a directory shared by several files is reported once */
	if (created)
		rep->changed++;
	json_array_append_new(rep->done, json_pack("{s:s,s:s,s:b}", "item", what, "path", path,
						   "created", created));
	if (cli->json)
		return;
	printf("%-8s %-16s %s\n", created ? "created" : "exists", what, path);
}


static int ensure_dir(struct cli *cli, struct init_report *rep, const char *what, const char *path, mode_t mode)
{
	struct stat st;
	bool existed = stat(path, &st) == 0;
	int r;

	if (!existed) {
		r = isms_mkdir_p(path, 0755);
		if (r < 0 || chmod(path, mode) < 0)
			return cli_fail(cli, EXIT_USAGE, "init: cannot create %s: %s", path,
					strerror(r < 0 ? -r : errno));
	} else if (!S_ISDIR(st.st_mode)) {
		return cli_fail(cli, EXIT_USAGE, "init: %s exists and is not a directory", path);
	}
	said(cli, rep, what, path, !existed);
	return EXIT_OK;
}

static int parent_dir(struct cli *cli, struct init_report *rep, const char *file, mode_t mode)
{
	char *copy = strdup(file);
	int r;

	if (!copy)
		return cli_fail(cli, EXIT_USAGE, "out of memory");
	r = ensure_dir(cli, rep, "directory", dirname(copy), mode);
	free(copy);
	return r;
}

static int write_config(struct cli *cli, struct init_report *rep, const char *path)
{
	FILE *f;
	int fd;

	if (access(path, F_OK) == 0) {
		said(cli, rep, "config", path, false);
		return EXIT_OK;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return cli_fail(cli, EXIT_USAGE, "init: cannot write %s: %s", path, strerror(errno));
	}
	if (isms_conf_write_default(f, cli->root) < 0 || fclose(f) != 0) {
		(void)unlink(path);
		return cli_fail(cli, EXIT_USAGE, "init: cannot write %s", path);
	}
	said(cli, rep, "config", path, true);
	return EXIT_OK;
}

static int write_signing_key(struct cli *cli, struct init_report *rep, const char *path)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	char *pub = NULL;
	int fd, r = EXIT_OK;

	if (access(path, F_OK) == 0) {
		said(cli, rep, "signing key", path, false);
		return EXIT_OK;
	}
	if (sodium_init() < 0)
		return cli_fail(cli, EXIT_USAGE, "libsodium failed to initialise");
	crypto_sign_keypair(pk, sk);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, sk, sizeof(sk)) != (ssize_t)sizeof(sk) || fsync(fd) < 0) {
		r = cli_fail(cli, EXIT_USAGE, "init: cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	/* The public half beside it, so auditors can check signatures off the host. */
	if (asprintf(&pub, "%s.pub", path) < 0) {
		pub = NULL;
		r = cli_fail(cli, EXIT_USAGE, "out of memory");
		goto out;
	}
	{
		int pfd = open(pub, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

		if (pfd < 0 || write(pfd, pk, sizeof(pk)) != (ssize_t)sizeof(pk)) {
			r = cli_fail(cli, EXIT_USAGE, "init: cannot write %s: %s", pub, strerror(errno));
			if (pfd >= 0)
				close(pfd);
			goto out;
		}
		close(pfd);
	}
	said(cli, rep, "signing key", path, true);
out:
	if (fd >= 0)
		close(fd);
	if (r != EXIT_OK)
		(void)unlink(path);
	sodium_memzero(sk, sizeof(sk));
	free(pub);
	return r;
}

static int ensure_store(struct cli *cli, struct init_report *rep, const char *path, enum isms_store kind)
{
	struct isms_err err = { 0 };
	bool existed = access(path, F_OK) == 0;
	int before = -1;
	sqlite3 *db;

	if (existed && isms_db_open(path, kind, 0, &db, &err) == 0) {
		before = isms_db_user_version(db);
		isms_db_close(db);
	}
	isms_err_clear(&err);
	if (isms_db_open(path, kind, ISMS_DB_CREATE, &db, &err) < 0)
		return cli_fail(cli, EXIT_USAGE, "init: %s", err.msg);
	isms_db_close(db);
	said(cli, rep, kind == ISMS_REGISTRY ? "registry store" : "state store", path,
	     !existed || before != isms_db_latest_version(kind));
	return EXIT_OK;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	struct init_report rep = { .done = json_array() };
	struct isms_err err = { 0 };
	struct isms_conf *c;
	char *conf_path;
	int r;

	(void)argv;
	if (argc > 1) {
		json_decref(rep.done);
		return cli_usage(cli, &cmd_init_def, "unexpected argument '%s'", argv[1]);
	}
	conf_path = cli->config ? strdup(cli->config) : isms_path_join(cli->root, ISMS_CONF_DEFAULT);
	if (!conf_path) {
		json_decref(rep.done);
		return cli_fail(cli, EXIT_USAGE, "out of memory");
	}
	if (*cli->root && (r = ensure_dir(cli, &rep, "root", cli->root, 0755)) != EXIT_OK)
		goto out;
	if ((r = parent_dir(cli, &rep, conf_path, 0755)) != EXIT_OK)
		goto out;
	if ((r = write_config(cli, &rep, conf_path)) != EXIT_OK)
		goto out;
	/* Paths come from the config just written or kept, so a custom layout is honoured. */
	if (isms_conf_load(conf_path, cli->root, false, &cli->conf, &err) < 0) {
		r = cli_fail(cli, EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	c = cli->conf;
	if ((r = parent_dir(cli, &rep, c->registry_db, 0700)) != EXIT_OK ||
	    (r = parent_dir(cli, &rep, c->state_db, 0700)) != EXIT_OK ||
	    (r = ensure_dir(cli, &rep, "recordings", c->recordings_dir, 0700)) != EXIT_OK ||
	    (r = ensure_dir(cli, &rep, "hr drop", c->hr_drop_dir, 0700)) != EXIT_OK ||
	    (r = parent_dir(cli, &rep, c->host_key, 0755)) != EXIT_OK)
		goto out;
	if (access(c->host_key, F_OK) == 0) {
		said(cli, &rep, "host key", c->host_key, false);
	} else if (isms_vault_create_key(c->host_key, &err) < 0) {
		r = cli_fail(cli, EXIT_USAGE, "init: %s", err.msg);
		goto out;
	} else {
		said(cli, &rep, "host key", c->host_key, true);
	}
	if ((r = write_signing_key(cli, &rep, c->signing_key)) != EXIT_OK ||
	    (r = ensure_store(cli, &rep, c->registry_db, ISMS_REGISTRY)) != EXIT_OK ||
	    (r = ensure_store(cli, &rep, c->state_db, ISMS_STATE)) != EXIT_OK)
		goto out;
	if (rep.changed) {
		if (cli_open(cli) == EXIT_OK)
			cli_audit(cli, "init", NULL, "ok", NULL, NULL);
	}
	if (cli->json) {
		cli_json_print(json_pack("{s:o,s:i}", "items", rep.done, "created", rep.changed));
		rep.done = NULL;
	} else {
		printf(rep.changed ? "initialised (%d item%s created)\n" : "already initialised; nothing changed\n",
		       rep.changed, rep.changed == 1 ? "" : "s");
	}
	r = EXIT_OK;
out:
	json_decref(rep.done);
	free(conf_path);
	return r;
}
