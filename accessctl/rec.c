/* accessctl rec: auditor keys, and turning recording on and off for accounts
 * (the login shell becomes isms-rec; the real shell is kept in the registry). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "db.h"
#include "recfile.h"
#include "rec.h"
#include "util.h"

const struct command cmd_rec_def = {
	"rec", cmd_rec, "session recording: keys, enable, list, verify, play, export",
	"usage: accessctl [--root DIR] [--json] rec SUBCOMMAND ...\n\n"
	"  keygen -o PREFIX [--install]\n"
	"           make the auditor key pair: PREFIX.key (private, 0600) and PREFIX.pub.\n"
	"           The private key belongs off this host (refused under the isms\n"
	"           directories); --install copies the public key to [paths] auditor_pubkey.\n"
	"  enable USER | --group GROUP\n"
	"           record the account(s): the login shell in [paths] passwd_file becomes\n"
	"           [session] recorder (file replaced atomically) and the current shell is\n"
	"           kept as the registry's real_shell. Directory (LDAP) accounts: prints the\n"
	"           loginShell to set in the directory.\n"
	"  disable USER | --group GROUP\n"
	"           give the real shell back.\n"
	"  list [--user USER] [--since DATE]\n"
	"           recorded sessions: start, duration, size and state (complete,\n"
	"           truncated, failed, open = opened and never finished, unrecorded).\n"
	"  verify ID [--key AUDITOR_KEY]\n"
	"           check the recording: frames, BLAKE2b chain, final chunk, and the chain\n"
	"           head against the one isms-rec stored (and sent to syslog) when it\n"
	"           finished. No private key needed; with --key every chunk is also\n"
	"           decrypted and authenticated (recording id and chunk number, final tag).\n"
	"           Exit 1 when truncated, reordered, edited or unfinished.\n"
	"  play ID --key AUDITOR_KEY [--speed N]\n"
	"           replay the session in this terminal (N times faster; idle time capped).\n"
	"  export ID --key AUDITOR_KEY -o FILE.cast\n"
	"           write the session as plain asciicast v2 (asciinema play FILE.cast).\n\n"
	"ID is the session id or a unique prefix of at least 8 hex digits.\n",
};

/* A private key under the host's own isms directories would let the host read
 * back what it recorded. */
static bool under_host_dirs(struct cli *cli, const char *prefix)
{
	char *copy = strdup(prefix), real[PATH_MAX];
	const char *dirs[3];
	char *etc, *lib;
	bool hit = false;

	if (!copy)
		return true;
	if (!realpath(dirname(copy), real)) {
		free(copy);
		return false;   /* the write will fail and say why */
	}
	free(copy);
	etc = isms_path_join(cli->root, "/etc/isms");
	lib = isms_path_join(cli->root, "/var/lib/isms");
	dirs[0] = etc;
	dirs[1] = lib;
	dirs[2] = cli->conf ? cli->conf->recordings_dir : NULL;
	for (int i = 0; i < 3; i++) {
		char rd[PATH_MAX];
		size_t l;

		if (!dirs[i] || !realpath(dirs[i], rd))
			continue;
		l = strlen(rd);
		if (strncmp(real, rd, l) == 0 && (real[l] == '\0' || real[l] == '/'))
			hit = true;
	}
	free(etc);
	free(lib);
	return hit;
}

static int install_pubkey(struct cli *cli, const char *src, const char *dst)
{
	unsigned char pk[ISMS_REC_KEYBYTES];
	struct isms_err err = { 0 };
	char *tmp = NULL;
	int r;

	if (isms_rec_load_key(src, false, pk, &err) < 0)
		return cli_fail(cli, EXIT_USAGE, "rec keygen: %s", err.msg);
	if (asprintf(&tmp, "%s.new", dst) < 0)
		return cli_fail(cli, EXIT_USAGE, "out of memory");
	(void)unlink(tmp);
	r = isms_rec_write_key(tmp, false, pk, &err);
	if (r == 0 && rename(tmp, dst) < 0)
		r = isms_err_set(&err, -errno, "%s: %s", dst, strerror(errno));
	if (r < 0) {
		(void)unlink(tmp);
		free(tmp);
		return cli_fail(cli, EXIT_USAGE, "rec keygen: %s", err.msg);
	}
	free(tmp);
	return EXIT_OK;
}

static int rec_keygen(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "install", no_argument, NULL, 'i' },
		{ 0 },
	};
	unsigned char pk[ISMS_REC_KEYBYTES], sk[ISMS_REC_KEYBYTES];
	struct isms_err err = { 0 };
	const char *prefix = NULL;
	char *skp = NULL, *pkp = NULL;
	bool install = false;
	int c, r = EXIT_USAGE;

	optind = 0;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'o')
			prefix = optarg;
		else if (c == 'i')
			install = true;
		else
			return cli_usage(cli, &cmd_rec_def, "rec keygen: bad option");
	}
	if (!prefix || optind != argc)
		return cli_usage(cli, &cmd_rec_def, "rec keygen needs -o PREFIX");
	if (install && cli_open(cli) != EXIT_OK)
		return EXIT_USAGE;
	if (!install) {
		/* For the directory check; an auditor's machine may have no config at all. */
		char *path = cli->config ? strdup(cli->config) : isms_path_join(cli->root, ISMS_CONF_DEFAULT);

		if (path && access(path, F_OK) == 0 && cli_load_conf(cli) != EXIT_OK) {
			free(path);
			return EXIT_USAGE;
		}
		free(path);
	}
	if (under_host_dirs(cli, prefix))
		return cli_fail(cli, EXIT_USAGE,
				"rec keygen: %s is under the host's isms directories; keep the private key off this host",
				prefix);
	if (asprintf(&skp, "%s.key", prefix) < 0 || asprintf(&pkp, "%s.pub", prefix) < 0) {
		r = cli_fail(cli, EXIT_USAGE, "out of memory");
		goto out;
	}
	if (isms_rec_keypair(pk, sk) < 0) {
		r = cli_fail(cli, EXIT_USAGE, "rec keygen: libsodium failed");
		goto out;
	}
	if (isms_rec_write_key(skp, true, sk, &err) < 0 || isms_rec_write_key(pkp, false, pk, &err) < 0) {
		if (err.code != -EEXIST)
			(void)unlink(skp);
		r = cli_fail(cli, EXIT_USAGE, "rec keygen: %s", err.msg);
		goto out;
	}
	if (install && (r = install_pubkey(cli, pkp, cli->conf->auditor_pubkey)) != EXIT_OK)
		goto out;
	if (install)
		cli_audit(cli, "rec_keygen", NULL, "ok", NULL, "installed=yes");
	if (cli->json) {
		cli_json_print(json_pack("{s:s,s:s,s:s?}", "private_key", skp, "public_key", pkp, "installed",
					 install ? cli->conf->auditor_pubkey : NULL));
	} else {
		printf("auditor private key: %s  (move it off this host)\n", skp);
		printf("auditor public key:  %s\n", pkp);
		if (install)
			printf("installed as %s: new recordings are sealed to it\n", cli->conf->auditor_pubkey);
	}
	r = EXIT_OK;
out:
	sodium_memzero(sk, sizeof(sk));
	free(skp);
	free(pkp);
	return r;
}

/* ---- enable / disable ---- */

struct target {
	char *name;
	char *shell;     /* current shell in passwd_file, NULL when not a local account */
	bool local;
};

static int targets_add(struct target **t, size_t *n, const char *name)
{
	struct target *nt;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*t)[i].name, name))
			return 0;
	nt = realloc(*t, (*n + 1) * sizeof(**t));
	if (!nt)
		return -ENOMEM;
	*t = nt;
	memset(&nt[*n], 0, sizeof(nt[*n]));
	nt[*n].name = strdup(name);
	if (!nt[*n].name)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void targets_free(struct target *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].name);
		free(t[i].shell);
	}
	free(t);
}

/* Members of a group: the group file, primary groups in the passwd file, and the registry. */
static int group_members(struct cli *cli, const char *group, struct target **t, size_t *n)
{
	struct group *gr;
	struct passwd *pw;
	sqlite3_stmt *st;
	gid_t gid = (gid_t)-1;
	bool found = false;
	FILE *f;
	int r = 0;

	f = fopen(cli->conf->group_file, "re");
	if (f) {
		while ((gr = fgetgrent(f)) != NULL) {
			if (strcmp(gr->gr_name, group) != 0)
				continue;
			found = true;
			gid = gr->gr_gid;
			for (char **m = gr->gr_mem; *m && r == 0; m++)
				r = targets_add(t, n, *m);
		}
		fclose(f);
	}
	f = fopen(cli->conf->passwd_file, "re");
	if (f && found) {
		while ((pw = fgetpwent(f)) != NULL && r == 0)
			if (pw->pw_gid == gid)
				r = targets_add(t, n, pw->pw_name);
	}
	if (f)
		fclose(f);
	st = isms_db_query(cli->ctx.reg, NULL,
			   "SELECT a.name FROM memberships m JOIN groups g ON g.id = m.group_id"
			   " JOIN accounts a ON a.id = m.account_id WHERE g.name = ?", "s", group);
	while (st && r == 0 && isms_db_step(st, NULL) == 1) {
		found = true;
		r = targets_add(t, n, (const char *)sqlite3_column_text(st, 0));
	}
	isms_db_done(st);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "out of memory");
	if (!found)
		return cli_fail(cli, EXIT_FINDINGS, "rec: no group '%s' in %s or the registry", group,
				cli->conf->group_file);
	return EXIT_OK;
}

/* Shells of the targets as the passwd file has them. */
static int read_local_shells(struct cli *cli, struct target *t, size_t n)
{
	struct passwd *pw;
	FILE *f = fopen(cli->conf->passwd_file, "re");

	if (!f)
		return cli_fail(cli, EXIT_USAGE, "rec: %s: %s", cli->conf->passwd_file, strerror(errno));
	while ((pw = fgetpwent(f)) != NULL) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(t[i].name, pw->pw_name) != 0 || t[i].local)
				continue;
			t[i].local = true;
			t[i].shell = strdup(pw->pw_shell);
			if (!t[i].shell) {
				fclose(f);
				return cli_fail(cli, EXIT_USAGE, "out of memory");
			}
		}
	}
	fclose(f);
	return EXIT_OK;
}

/* Replace the shell field of the named lines: a new file beside the old one,
 * same owner and mode, synced, renamed over it. */
/* The lock shadow-utils take (lckpwdf: .pwd.lock beside the file, fcntl), so
 * useradd or vipw and this never rewrite the file at the same time. */
static int passwd_lock(const char *path)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char *copy = strdup(path), *lock = NULL;
	int fd = -1;

	if (!copy || asprintf(&lock, "%s/.pwd.lock", dirname(copy)) < 0)
		lock = NULL;
	free(copy);
	if (!lock)
		return -1;
	fd = open(lock, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	free(lock);
	if (fd < 0)
		return -1;
	for (int i = 0; i < 15; i++) {
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return fd;
		sleep(1);
	}
	close(fd);
	errno = EAGAIN;
	return -1;
}

static int passwd_rewrite(struct cli *cli, struct target *t, size_t n, const char *const *shells)
{
	const char *path = cli->conf->passwd_file;
	char *tmp = NULL, *line = NULL;
	size_t cap = 0;
	struct stat st;
	FILE *in = NULL, *out = NULL;
	ssize_t len;
	int fd = -1, lock, r = EXIT_USAGE;

	lock = passwd_lock(path);
	if (lock < 0)
		return cli_fail(cli, EXIT_USAGE, "rec: cannot lock %s: %s", path, strerror(errno));
	in = fopen(path, "re");
	if (!in || fstat(fileno(in), &st) < 0)
		goto io;
	if (asprintf(&tmp, "%s.isms-new", path) < 0) {
		tmp = NULL;
		goto io;
	}
	(void)unlink(tmp);   /* left by a crash; we hold the lock */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
	if (fd < 0 || fchown(fd, st.st_uid, st.st_gid) < 0 || fchmod(fd, st.st_mode & 07777) < 0 ||
	    !(out = fdopen(fd, "w")))
		goto io;
	fd = -1;
	while ((len = getline(&line, &cap, in)) >= 0) {
		const char *newshell = NULL;
		char *colon = strchr(line, ':');

		for (size_t i = 0; colon && i < n; i++)
			if (shells[i] && (size_t)(colon - line) == strlen(t[i].name) &&
			    strncmp(line, t[i].name, (size_t)(colon - line)) == 0)
				newshell = shells[i];
		if (newshell) {
			char *last = strrchr(line, ':');

			fprintf(out, "%.*s:%s\n", (int)(last - line), line, newshell);
		} else {
			fputs(line, out);
		}
	}
	if (ferror(in) || fflush(out) != 0 || fsync(fileno(out)) < 0)
		goto io;
	if (fclose(out) != 0) {
		out = NULL;
		goto io;
	}
	out = NULL;
	if (rename(tmp, path) < 0)
		goto io;
	r = EXIT_OK;
	goto out;
io:
	r = cli_fail(cli, EXIT_USAGE, "rec: cannot rewrite %s: %s", path, strerror(errno));
	if (tmp)
		(void)unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	if (out)
		fclose(out);
	if (in)
		fclose(in);
	close(lock);
	free(line);
	free(tmp);
	return r;
}

static int rec_enable_disable(struct cli *cli, int argc, char **argv, bool enable)
{
	struct isms_err err = { 0 };
	struct target *t = NULL;
	const char **shells = NULL;
	const char *recorder, *sub = enable ? "enable" : "disable";
	json_t *out = json_array();
	size_t n = 0, changed = 0;
	int r;

	if (!(argc == 2 && argv[1][0] != '-') && !(argc == 3 && !strcmp(argv[1], "--group"))) {
		json_decref(out);
		return cli_usage(cli, &cmd_rec_def, "rec %s needs USER or --group GROUP", sub);
	}
	if ((r = cli_open(cli)) != EXIT_OK) {
		json_decref(out);
		return r;
	}
	recorder = cli->conf->recorder;
	if (argc == 2)
		r = targets_add(&t, &n, argv[1]) < 0 ? cli_fail(cli, EXIT_USAGE, "out of memory") : EXIT_OK;
	else
		r = group_members(cli, argv[2], &t, &n);
	if (r == EXIT_OK)
		r = read_local_shells(cli, t, n);
	if (r == EXIT_OK && !(shells = calloc(n + 1, sizeof(*shells))))
		r = cli_fail(cli, EXIT_USAGE, "out of memory");
	if (r != EXIT_OK)
		goto out;
	if (isms_db_begin(cli->ctx.reg, &err) < 0) {
		r = cli_fail(cli, EXIT_USAGE, "rec %s: %s", sub, err.msg);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = isms_db_query(cli->ctx.reg, &err,
						 "SELECT source, dn, shell, real_shell FROM accounts WHERE name = ?",
						 "s", t[i].name);
		char *dn = NULL, *regshell = NULL, *real = NULL, *source = NULL;
		const char *keep, *action;

		if (!st || isms_db_step(st, &err) != 1) {
			isms_db_done(st);
			isms_db_rollback(cli->ctx.reg);
			r = cli_fail(cli, EXIT_FINDINGS, "rec %s: %s is not in the registry; nothing changed",
				     sub, t[i].name);
			goto out;
		}
		source = isms_db_col_strdup(st, 0);
		dn = isms_db_col_strdup(st, 1);
		regshell = isms_db_col_strdup(st, 2);
		real = isms_db_col_strdup(st, 3);
		isms_db_done(st);
		if (enable) {
			/* The shell the account has now, unless it already is the recorder. */
			keep = t[i].local ? t[i].shell : regshell;
			if (!keep || !strcmp(keep, recorder))
				keep = real;
			r = isms_db_exec(cli->ctx.reg, &err,
					 "UPDATE accounts SET real_shell = ?, updated_at = ? WHERE name = ?",
					 "sis", keep, isms_now(), t[i].name);
			if (t[i].local && strcmp(t[i].shell, recorder) != 0) {
				shells[i] = recorder;
				changed++;
			}
			action = t[i].local ? (shells[i] ? "enabled" : "already enabled") : "set in directory";
		} else {
			const char *back = real && real[0] == '/' ? real : "/bin/sh";

			keep = back;
			r = isms_db_exec(cli->ctx.reg, &err,
					 "UPDATE accounts SET real_shell = NULL, updated_at = ? WHERE name = ?",
					 "is", isms_now(), t[i].name);
			if (t[i].local && !strcmp(t[i].shell, recorder)) {
				/* The string must outlive this loop: the registry copy is freed below. */
				t[i].shell = (free(t[i].shell), strdup(back));
				shells[i] = t[i].shell;
				changed++;
			}
			action = t[i].local ? (shells[i] ? "disabled" : "already disabled") : "set in directory";
		}
		if (r < 0) {
			isms_db_rollback(cli->ctx.reg);
			r = cli_fail(cli, EXIT_USAGE, "rec %s: %s", sub, err.msg);
			free(source), free(dn), free(regshell), free(real);
			goto out;
		}
		json_array_append_new(out, json_pack("{s:s,s:s,s:s?,s:s?,s:s?}", "account", t[i].name,
						     "action", action, "real_shell", keep,
						     "source", source, "dn", dn));
		if (!cli->json) {
			if (t[i].local)
				printf("%-16s %s (real shell %s)\n", t[i].name, action, keep ? keep : "/bin/sh");
			else
				printf("%-16s directory account: set loginShell: %s on %s\n", t[i].name,
				       enable ? recorder : (keep ? keep : "/bin/sh"), dn ? dn : "its entry");
		}
		free(source), free(dn), free(regshell), free(real);
	}
	if (changed && (r = passwd_rewrite(cli, t, n, shells)) != EXIT_OK) {
		isms_db_rollback(cli->ctx.reg);
		goto out;
	}
	if (isms_db_commit(cli->ctx.reg, &err) < 0) {
		r = cli_fail(cli, EXIT_USAGE, "rec %s: %s (%s may already be rewritten)", sub, err.msg,
			     cli->conf->passwd_file);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		cli_audit(cli, enable ? "rec_enable" : "rec_disable", t[i].name, "ok", NULL,
			  t[i].local ? "where=local" : "where=directory");
	if (cli->json) {
		cli_json_print(out);
		out = NULL;
	}
	r = EXIT_OK;
out:
	json_decref(out);
	free(shells);
	targets_free(t, n);
	return r;
}

int cmd_rec(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(cli, &cmd_rec_def, "missing subcommand");
	if (!strcmp(argv[1], "keygen"))
		return rec_keygen(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "enable"))
		return rec_enable_disable(cli, argc - 1, argv + 1, true);
	if (!strcmp(argv[1], "disable"))
		return rec_enable_disable(cli, argc - 1, argv + 1, false);
	if (!strcmp(argv[1], "list"))
		return rec_list(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return rec_verify(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "play"))
		return rec_play(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return rec_export(cli, argc - 1, argv + 1);
	return cli_usage(cli, &cmd_rec_def, "unknown subcommand '%s'", argv[1]);
}
