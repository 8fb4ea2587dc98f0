/* accessctl backup: encrypted online backups of both stores, the test that
 * proves one restores (the "tested" in "backups performed and tested"), and restore. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "backup.h"
#include "cli.h"
#include "db.h"
#include "util.h"

const struct command cmd_backup_def = {
	"backup", cmd_backup, "encrypted backup of both stores; test or restore one",
	"usage: accessctl [--root DIR] [--json] backup FILE [--pubkey KEYFILE]\n"
	"       accessctl [--root DIR] [--json] backup --test FILE [--key KEYFILE --pubkey KEYFILE]\n"
	"       accessctl [--root DIR] backup --restore FILE [--key KEYFILE --pubkey KEYFILE]\n\n"
	"  FILE             write an online backup of registry.db and state.db (consistent\n"
	"                   while logins go on), encrypted with the host key, or sealed to\n"
	"                   --pubkey (an X25519 public key, 32 bytes raw or 64 hex digits,\n"
	"                   e.g. the auditor key from 'accessctl rec keygen') so that only\n"
	"                   the holder of the secret half can read it.\n"
	"  --test FILE      decrypt into a temporary directory and check both stores:\n"
	"                   schema version, sqlite integrity, the audit chain, row counts.\n"
	"                   Recorded as audit event backup_test, which 'accessctl report'\n"
	"                   shows. Exit 1 when the backup does not restore cleanly.\n"
	"  --restore FILE   test the backup, then replace both stores with it. The\n"
	"                   revocation undo is 'accessctl restore NAME', a different command.\n"
	"  --key KEYFILE    secret key for backups sealed to a public key (give --pubkey too).\n",
};

static int read_key32(const char *path, unsigned char out[32], struct isms_err *err)
{
	char buf[80];
	size_t n, bin;
	FILE *f = fopen(path, "re");

	if (!f)
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n == 32) {
		memcpy(out, buf, 32);
		return 0;
	}
	buf[n] = '\0';
	if (sodium_hex2bin(out, 32, buf, n, " \n", &bin, NULL) == 0 && bin == 32)
		return 0;
	return isms_err_set(err, -EINVAL, "%s: expected a 32-byte key (raw or hex)", path);
}

struct counts {
	long long accounts, people, events;
};

static long long count_rows(sqlite3 *db, const char *table)
{
	char q[128];
	sqlite3_stmt *st;
	long long n = -1;

	(void)snprintf(q, sizeof(q), "SELECT count(*) FROM %s", table);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	isms_db_done(st);
	return n;
}

/* Open the unpacked stores and check everything a restore would depend on. */
static int check_unpacked(const char *dir, struct counts *c, struct isms_err *err)
{
	char reg_path[4200], state_path[4200];
	sqlite3 *reg = NULL, *state = NULL;
	int64_t events = 0, bad = 0;
	int r;

	(void)snprintf(reg_path, sizeof(reg_path), "%s/registry.db", dir);
	(void)snprintf(state_path, sizeof(state_path), "%s/state.db", dir);
	if ((r = isms_db_open(reg_path, ISMS_REGISTRY, ISMS_DB_READONLY, &reg, err)) < 0 ||
	    (r = isms_db_open(state_path, ISMS_STATE, ISMS_DB_READONLY, &state, err)) < 0 ||
	    (r = isms_db_integrity(reg, err)) < 0 || (r = isms_db_integrity(state, err)) < 0 ||
	    (r = isms_audit_verify(state, &events, &bad, err)) < 0)
		goto out;
	c->accounts = count_rows(reg, "accounts");
	c->people = count_rows(reg, "people");
	c->events = events;
out:
	isms_db_close(reg);
	isms_db_close(state);
	return r;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int replace_store(const char *from, const char *live, struct isms_err *err)
{
	char side[4200];

	/* Copy beside the live file first so the final rename is atomic on one filesystem. */
	(void)snprintf(side, sizeof(side), "%s.restoring", live);
	{
		FILE *in = fopen(from, "rbe"), *out;
		char buf[65536];
		size_t n;
		int fd = open(side, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

		if (!in || fd < 0 || !(out = fdopen(fd, "wb"))) {
			if (in)
				fclose(in);
			if (fd >= 0)
				close(fd);
			return isms_err_set(err, -errno, "%s: %s", side, strerror(errno));
		}
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			if (fwrite(buf, 1, n, out) != n)
				break;
		fclose(in);
		if (fflush(out) != 0 || fsync(fileno(out)) < 0 || fclose(out) != 0)
			return isms_err_set(err, -EIO, "%s: write failed", side);
	}
	for (const char *suffix = "-wal"; suffix; suffix = strcmp(suffix, "-wal") ? NULL : "-shm") {
		char p[4200];

		(void)snprintf(p, sizeof(p), "%s%s", live, suffix);
		(void)unlink(p);
	}
	if (rename(side, live) < 0)
		return isms_err_set(err, -errno, "%s: %s", live, strerror(errno));
	return 0;
}

int cmd_backup(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "test", required_argument, NULL, 't' },
		{ "restore", required_argument, NULL, 'R' },
		{ "key", required_argument, NULL, 'k' },
		{ "pubkey", required_argument, NULL, 'p' },
		{ 0 },
	};
	unsigned char pk[32], sk[32];
	const char *test = NULL, *restore = NULL, *keyf = NULL, *pubf = NULL, *file = NULL;
	struct isms_backup_key key = { 0 };
	struct isms_err err = { 0 };
	struct isms_vault vault;
	struct counts counts = { 0 };
	char dir[] = "/tmp/isms-restore.XXXXXX", details[256];
	bool have_vault = false, have_dir = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': test = optarg; break;
		case 'R': restore = optarg; break;
		case 'k': keyf = optarg; break;
		case 'p': pubf = optarg; break;
		default: return cli_usage(cli, &cmd_backup_def, "unknown option");
		}
	}
	if (optind < argc)
		file = argv[optind++];
	if (optind != argc || (!!test + !!restore + !!file) != 1)
		return cli_usage(cli, &cmd_backup_def, "give exactly one of FILE, --test FILE, --restore FILE");
	if (keyf && !pubf)
		return cli_usage(cli, &cmd_backup_def, "--key needs --pubkey");
	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	if (sodium_init() < 0)
		return cli_fail(cli, EXIT_USAGE, "libsodium failed to initialise");
	if (pubf) {
		if (read_key32(pubf, pk, &err) < 0)
			return cli_fail(cli, EXIT_USAGE, "backup: %s", err.msg);
		key.pubkey = pk;
	}
	if (keyf) {
		if (read_key32(keyf, sk, &err) < 0)
			return cli_fail(cli, EXIT_USAGE, "backup: %s", err.msg);
		key.seckey = sk;
	}
	if (!key.pubkey || (!file && !key.seckey)) {
		if (isms_vault_load(cli->conf->host_key, &vault, &err) < 0)
			return cli_fail(cli, EXIT_USAGE, "backup: %s", err.msg);
		have_vault = true;
		key.vault = &vault;
		if (!file)
			key.pubkey = NULL;
	}

	if (file) {
		r = isms_backup_write(cli->ctx.reg, cli->ctx.state, file, &key, &err);
		(void)snprintf(details, sizeof(details), "file=%s sealed=%s", file, key.pubkey ? "pubkey" : "host_key");
		cli_audit(cli, "backup", NULL, r == 0 ? "ok" : "fail", r == 0 ? NULL : "write_failed", details);
		if (r < 0) {
			r = cli_fail(cli, EXIT_USAGE, "backup: %s", err.msg);
			goto out;
		}
		if (cli->json)
			cli_json_print(json_pack("{s:s,s:s}", "backup", file, "sealed", key.pubkey ? "pubkey" : "host_key"));
		else
			printf("backup written: %s (both stores, %s)\n", file,
			       key.pubkey ? "sealed to the given public key" : "encrypted with the host key");
		r = EXIT_OK;
		goto out;
	}

	if (!mkdtemp(dir)) {
		r = cli_fail(cli, EXIT_USAGE, "backup: temporary directory: %s", strerror(errno));
		goto out;
	}
	have_dir = true;
	r = isms_backup_read(test ? test : restore, &key, dir, &err);
	if (r == 0)
		r = check_unpacked(dir, &counts, &err);
	(void)snprintf(details, sizeof(details), "file=%s accounts=%lld people=%lld events=%lld",
		       test ? test : restore, counts.accounts, counts.people, counts.events);
	if (test || r < 0) {
		cli_audit(cli, "backup_test", NULL, r == 0 ? "ok" : "fail", r == 0 ? NULL : "restore_check_failed",
			  details);
		if (cli->json)
			cli_json_print(json_pack("{s:b,s:I,s:I,s:I,s:s}", "ok", r == 0, "accounts",
						 (json_int_t)counts.accounts, "people", (json_int_t)counts.people,
						 "audit_events", (json_int_t)counts.events, "message", r ? err.msg : ""));
		else if (r == 0)
			printf("backup restores cleanly: %lld accounts, %lld people, %lld audit events, chain intact\n",
			       counts.accounts, counts.people, counts.events);
		else
			printf("backup FAILED its test: %s\n", err.msg);
		r = r == 0 ? EXIT_OK : EXIT_FINDINGS;
		goto out;
	}
	/* --restore: the copy checked out; swap it in. */
	{
		char from[4200];
		char *reg = cli->conf->registry_db, *state = cli->conf->state_db;

		cli_close_stores(cli);
		(void)snprintf(from, sizeof(from), "%s/registry.db", dir);
		r = replace_store(from, reg, &err);
		if (r == 0) {
			(void)snprintf(from, sizeof(from), "%s/state.db", dir);
			r = replace_store(from, state, &err);
		}
		if (r < 0) {
			r = cli_fail(cli, EXIT_USAGE, "restore: %s (stores may be mixed: rerun the restore)", err.msg);
			goto out;
		}
		if ((r = cli_open(cli)) != EXIT_OK)
			goto out;
		cli_audit(cli, "backup_restore", NULL, "ok", NULL, details);
		printf("restored both stores from %s: %lld accounts, %lld audit events\n", restore,
		       counts.accounts, counts.events);
		r = EXIT_OK;
	}
out:
	if (have_dir)
		(void)nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	if (have_vault)
		isms_vault_wipe(&vault);
	sodium_memzero(sk, sizeof(sk));
	return r;
}
