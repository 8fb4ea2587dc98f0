/* accessctl audit: verify the chain, export and follow it, and write signed
 * checkpoints of its head to syslog so a deleted tail shows in the central log. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "cli.h"
#include "db.h"
#include "util.h"

const struct command cmd_audit_def = {
	"audit", cmd_audit, "verify, export, follow and checkpoint the audit trail",
	"usage: accessctl [--root DIR] [--json] audit verify [--checkpoints FILE]\n"
	"       accessctl [--root DIR] audit export [--since DATE] [--format jsonl|csv]\n"
	"       accessctl [--root DIR] audit tail [-n N] [-f]\n"
	"       accessctl [--root DIR] audit checkpoint [--force]\n\n"
	"  verify       walk the hash chain in state.db; report the number of events or\n"
	"               the first event whose link is broken (modified, deleted, reordered).\n"
	"               --checkpoints FILE also checks every signed checkpoint line found in\n"
	"               FILE (e.g. the central syslog): its signature, and that the local\n"
	"               chain still holds that event with that hash (a deleted tail fails).\n"
	"  export       every event since DATE (2026-01-01, @EPOCH) as JSON lines or CSV.\n"
	"  tail         the last N events (default 10); -f follows new ones.\n"
	"  checkpoint   sign the chain head (seq, hash) with the host's Ed25519 key and\n"
	"               log it as event audit_checkpoint, once [audit] checkpoint_interval\n"
	"               has passed since the last one (--force: now). Run it from a\n"
	"               frequent timer (examples/systemd); the interval is the policy.\n"
	"Exit status: 1 when the chain or a checkpoint does not verify.\n",
};

#define EVENT_COLUMNS "seq, time, host, event, actor, subject, result, reason, details, hash"

static json_t *event_json(sqlite3_stmt *st)
{
	char iso[32], hex[2 * ISMS_AUDIT_HASHBYTES + 1] = "";
	json_t *o = json_object();

	if (sqlite3_column_bytes(st, 9) == ISMS_AUDIT_HASHBYTES)
		isms_hex(sqlite3_column_blob(st, 9), ISMS_AUDIT_HASHBYTES, hex);
	json_object_set_new(o, "seq", json_integer(sqlite3_column_int64(st, 0)));
	json_object_set_new(o, "time", json_string(isms_time_iso(sqlite3_column_int64(st, 1), iso, sizeof(iso))));
	for (int i = 2; i <= 8; i++) {
		const char *v = (const char *)sqlite3_column_text(st, i);

		json_object_set_new(o, sqlite3_column_name(st, i), v ? json_string(v) : json_null());
	}
	json_object_set_new(o, "hash", json_string(hex));
	return o;
}

static void csv_cell(const char *s, bool last)
{
	/* RFC 4180 quoting; cells that a spreadsheet would run as a formula are neutralised. */
	putchar('"');
	if (s && (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r'))
		putchar('\'');
	for (; s && *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
	putchar(last ? '\n' : ',');
}

static void event_text(sqlite3_stmt *st)
{
	char iso[32];
	const char *f[7];

	for (int i = 0; i < 7; i++) {
		f[i] = (const char *)sqlite3_column_text(st, 2 + i);
		if (!f[i])
			f[i] = "-";
	}
	printf("%6lld %s %s event=%s actor=%s user=%s result=%s reason=%s %s\n",
	       (long long)sqlite3_column_int64(st, 0),
	       isms_time_iso(sqlite3_column_int64(st, 1), iso, sizeof(iso)), f[0], f[1], f[2], f[3],
	       f[4], f[5], strcmp(f[6], "-") ? f[6] : "");
}

static int audit_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ 0 },
	};
	struct isms_err err = { 0 };
	const char *format = "jsonl";
	int64_t since = 0;
	sqlite3_stmt *st;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's' && isms_time_parse(optarg, &since) == 0)
			continue;
		if (c == 'f' && (!strcmp(optarg, "jsonl") || !strcmp(optarg, "csv"))) {
			format = optarg;
			continue;
		}
		return cli_usage(cli, &cmd_audit_def, "bad option or value%s%s", optarg ? ": " : "",
				 optarg ? optarg : "");
	}
	if (optind != argc)
		return cli_usage(cli, &cmd_audit_def, "unexpected argument '%s'", argv[optind]);
	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	st = isms_db_query(cli->ctx.state, &err, "SELECT " EVENT_COLUMNS " FROM audit_events"
			   " WHERE time >= ? ORDER BY seq", "i", since);
	if (!st)
		return cli_fail(cli, EXIT_USAGE, "audit export: %s", err.msg);
	if (!strcmp(format, "csv"))
		printf("seq,time,host,event,actor,subject,result,reason,details,hash\n");
	while ((r = isms_db_step(st, &err)) == 1) {
		json_t *o = event_json(st);

		if (!strcmp(format, "csv")) {
			char num[32];
			const char *keys[] = { "time", "host", "event", "actor", "subject", "result",
					       "reason", "details", "hash" };

			(void)snprintf(num, sizeof(num), "%lld", (long long)sqlite3_column_int64(st, 0));
			csv_cell(num, false);
			for (size_t i = 0; i < ISMS_ARRAY_SIZE(keys); i++)
				csv_cell(json_string_value(json_object_get(o, keys[i])),
					 i + 1 == ISMS_ARRAY_SIZE(keys));
			json_decref(o);
		} else {
			cli_json_print(o);
		}
	}
	isms_db_done(st);
	return r < 0 ? cli_fail(cli, EXIT_USAGE, "audit export: %s", err.msg) : EXIT_OK;
}

static int audit_tail(struct cli *cli, int argc, char **argv)
{
	struct isms_err err = { 0 };
	long long n = 10;
	bool follow = false;
	int64_t last = 0;
	sqlite3_stmt *st;
	int c, r;

	optind = 0;
	while ((c = getopt(argc, argv, "n:f")) != -1) {
		if (c == 'f')
			follow = true;
		else if (c == 'n' && isms_parse_int(optarg, 1, 1000000, &n) == 0)
			;
		else
			return cli_usage(cli, &cmd_audit_def, "bad option for tail");
	}
	if (optind != argc)
		return cli_usage(cli, &cmd_audit_def, "unexpected argument '%s'", argv[optind]);
	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	st = isms_db_query(cli->ctx.state, &err, "SELECT * FROM (SELECT " EVENT_COLUMNS
			   " FROM audit_events ORDER BY seq DESC LIMIT ?) ORDER BY seq", "i", (int64_t)n);
	for (;;) {
		if (!st)
			return cli_fail(cli, EXIT_USAGE, "audit tail: %s", err.msg);
		while ((r = isms_db_step(st, &err)) == 1) {
			last = sqlite3_column_int64(st, 0);
			if (cli->json)
				cli_json_print(event_json(st));
			else
				event_text(st);
		}
		isms_db_done(st);
		if (r < 0)
			return cli_fail(cli, EXIT_USAGE, "audit tail: %s", err.msg);
		if (!follow)
			return EXIT_OK;
		fflush(stdout);
		sleep(1);
		st = isms_db_query(cli->ctx.state, &err, "SELECT " EVENT_COLUMNS " FROM audit_events"
				   " WHERE seq > ? ORDER BY seq", "i", last);
	}
}

/* The signed text: what a checkpoint commits to. */
static void checkpoint_message(char *buf, size_t len, const char *host, long long seq, const char *head,
			       long long time)
{
	(void)snprintf(buf, len, "isms-checkpoint-v1|%s|%lld|%s|%lld", host, seq, head, time);
}

static int read_key(const char *path, unsigned char *key, size_t len, struct isms_err *err)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	n = fread(key, 1, len, f);
	fclose(f);
	if (n != len)
		return isms_err_set(err, -EBADMSG, "%s: expected a %zu-byte key", path, len);
	return 0;
}

static int audit_checkpoint(struct cli *cli, bool force)
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES], hash[ISMS_AUDIT_HASHBYTES], sig[crypto_sign_BYTES];
	char head[2 * ISMS_AUDIT_HASHBYTES + 1], sighex[2 * crypto_sign_BYTES + 1], msg[512], details[700];
	struct isms_err err = { 0 };
	int64_t seq, now;
	int r;

	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	now = isms_now();
	if (!force) {
		sqlite3_stmt *st = isms_db_query(cli->ctx.state, &err, "SELECT max(time) FROM audit_events"
						 " WHERE event = 'audit_checkpoint'", NULL);
		int64_t last = -1;

		if (!st)
			return cli_fail(cli, EXIT_USAGE, "audit checkpoint: %s", err.msg);
		if (isms_db_step(st, &err) == 1 && sqlite3_column_type(st, 0) != SQLITE_NULL)
			last = sqlite3_column_int64(st, 0);
		isms_db_done(st);
		if (last >= 0 && now - last < cli->conf->audit_checkpoint_interval) {
			char when[32];

			if (cli->json)
				cli_json_print(json_pack("{s:b,s:I}", "written", 0, "next_due",
							 (json_int_t)(last + cli->conf->audit_checkpoint_interval)));
			else
				printf("checkpoint not due: next at %s ([audit] checkpoint_interval)\n",
				       isms_time_iso(last + cli->conf->audit_checkpoint_interval, when, sizeof(when)));
			return EXIT_OK;
		}
	}
	if (sodium_init() < 0 || isms_check_guard(cli->conf->signing_key, "signing key", false, &err) < 0 ||
	    read_key(cli->conf->signing_key, sk, sizeof(sk), &err) < 0)
		return cli_fail(cli, EXIT_USAGE, "audit checkpoint: %s", err.msg[0] ? err.msg : "libsodium");
	if (isms_audit_head(cli->ctx.state, hash, &seq, &err) < 0) {
		sodium_memzero(sk, sizeof(sk));
		return cli_fail(cli, EXIT_USAGE, "audit checkpoint: %s", err.msg);
	}
	isms_hex(hash, sizeof(hash), head);
	checkpoint_message(msg, sizeof(msg), cli->ctx.host, (long long)seq, head, (long long)now);
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg, strlen(msg), sk);
	sodium_memzero(sk, sizeof(sk));
	isms_hex(sig, sizeof(sig), sighex);
	(void)snprintf(details, sizeof(details), "cp_host=%s cp_seq=%lld cp_head=%s cp_time=%lld cp_sig=%s",
		       cli->ctx.host, (long long)seq, head, (long long)now, sighex);
	cli_audit(cli, "audit_checkpoint", NULL, "ok", NULL, details);
	if (cli->json)
		cli_json_print(json_pack("{s:I,s:s,s:s}", "seq", (json_int_t)seq, "head", head, "sig", sighex));
	else
		printf("checkpoint: seq %lld head %s (signed, logged to syslog)\n", (long long)seq, head);
	return EXIT_OK;
}

static const char *field(const char *line, const char *key, char *buf, size_t len)
{
	char pat[32];
	const char *p;
	size_t n;

	(void)snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	n = strcspn(p, " \n");
	if (n >= len)
		return NULL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* Check every checkpoint line in FILE against its signature and the local chain. */
static int verify_checkpoints(struct cli *cli, const char *path, int *ret_checked, struct isms_err *err)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES], hash[ISMS_AUDIT_HASHBYTES];
	char *pubpath, line[4096], host[256], seqs[32], head[80], times[32], sighex[160], msg[512];
	FILE *f;
	int r = 0, lineno = 0;

	*ret_checked = 0;
	if (asprintf(&pubpath, "%s.pub", cli->conf->signing_key) < 0)
		return isms_err_set(err, -ENOMEM, "out of memory");
	r = read_key(pubpath, pk, sizeof(pk), err);
	free(pubpath);
	if (r < 0)
		return r;
	f = fopen(path, "re");
	if (!f)
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	while (r == 0 && fgets(line, sizeof(line), f)) {
		sqlite3_stmt *st;
		size_t hl;

		lineno++;
		if (!strstr(line, "event=audit_checkpoint"))
			continue;
		if (!field(line, "cp_host", host, sizeof(host)) || !field(line, "cp_seq", seqs, sizeof(seqs)) ||
		    !field(line, "cp_head", head, sizeof(head)) || !field(line, "cp_time", times, sizeof(times)) ||
		    !field(line, "cp_sig", sighex, sizeof(sighex)) ||
		    sodium_hex2bin(sig, sizeof(sig), sighex, strlen(sighex), NULL, &hl, NULL) != 0 ||
		    hl != sizeof(sig)) {
			r = isms_err_set(err, -EBADMSG, "%s:%d: malformed checkpoint line", path, lineno);
			break;
		}
		checkpoint_message(msg, sizeof(msg), host, atoll(seqs), head, atoll(times));
		if (crypto_sign_verify_detached(sig, (const unsigned char *)msg, strlen(msg), pk) != 0) {
			r = isms_err_set(err, -EBADMSG, "%s:%d: checkpoint signature does not verify", path, lineno);
			break;
		}
		if (atoll(seqs) == 0)
			continue;
		st = isms_db_query(cli->ctx.state, err, "SELECT hash FROM audit_events WHERE seq = ?", "i",
				   (int64_t)atoll(seqs));
		if (!st) {
			r = err->code;
			break;
		}
		if (isms_db_step(st, err) != 1) {
			r = isms_err_set(err, -EBADMSG, "%s:%d: checkpoint at event %s, but the local chain no longer"
					 " has that event (its tail was deleted)", path, lineno, seqs);
		} else {
			if (sodium_hex2bin(hash, sizeof(hash), head, strlen(head), NULL, &hl, NULL) != 0 ||
			    hl != sizeof(hash) || sqlite3_column_bytes(st, 0) != (int)sizeof(hash) ||
			    sodium_memcmp(hash, sqlite3_column_blob(st, 0), sizeof(hash)) != 0)
				r = isms_err_set(err, -EBADMSG, "%s:%d: event %s differs from the signed checkpoint",
						 path, lineno, seqs);
		}
		isms_db_done(st);
		if (r == 0)
			(*ret_checked)++;
	}
	fclose(f);
	return r;
}

static int audit_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "checkpoints", required_argument, NULL, 'c' }, { 0 } };
	struct isms_err err = { 0 }, cerr = { 0 };
	const char *cpfile = NULL;
	int64_t count = 0, bad = 0;
	int c, r, cr = 0, checked = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'c')
			return cli_usage(cli, &cmd_audit_def, "bad option for verify");
		cpfile = optarg;
	}
	if (optind != argc)
		return cli_usage(cli, &cmd_audit_def, "unexpected argument '%s'", argv[optind]);
	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	r = isms_audit_verify(cli->ctx.state, &count, &bad, &err);
	if (r == 0 && cpfile)
		cr = verify_checkpoints(cli, cpfile, &checked, &cerr);
	if (cli->json) {
		json_t *o = json_pack("{s:b,s:I,s:I,s:s}", "intact", r == 0 && cr == 0, "events", (json_int_t)count,
				      "first_broken", (json_int_t)bad, "message", r ? err.msg : cr ? cerr.msg : "");

		if (cpfile)
			json_object_set_new(o, "checkpoints_verified", json_integer(checked));
		cli_json_print(o);
	} else if (r == 0) {
		printf("audit chain intact: %lld events\n", (long long)count);
		if (cpfile && cr == 0)
			printf("checkpoints verified: %d\n", checked);
		else if (cpfile)
			printf("checkpoint FAILED: %s\n", cerr.msg);
	} else {
		printf("audit chain BROKEN: %s\n", err.msg);
	}
	if (r == -EBADMSG || cr == -EBADMSG)
		return EXIT_FINDINGS;
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "audit verify: %s", err.msg);
	if (cr < 0)
		return cli_fail(cli, EXIT_USAGE, "audit verify: %s", cerr.msg);
	return EXIT_OK;
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(cli, &cmd_audit_def, "missing subcommand");
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "export") == 0)
		return audit_export(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "tail") == 0)
		return audit_tail(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "checkpoint") == 0 && argc == 2)
		return audit_checkpoint(cli, false);
	if (strcmp(argv[1], "checkpoint") == 0 && argc == 3 && strcmp(argv[2], "--force") == 0)
		return audit_checkpoint(cli, true);
	return cli_usage(cli, &cmd_audit_def, "unknown subcommand or argument '%s'", argv[argc - 1]);
}
