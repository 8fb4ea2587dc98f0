/* accessctl rec list / verify / play / export: reading recordings. Verify needs
 * no private key; play and export decrypt with the auditor's key. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "db.h"
#include "recfile.h"
#include "rec.h"
#include "util.h"

int rec_find(struct cli *cli, const char *arg, char id[33], char **ret_path)
{
	struct isms_err err = { 0 };
	sqlite3_stmt *st;
	size_t l = strlen(arg);
	char pattern[40];
	int n = 0, r;

	if (l < 8 || l > 32 || strspn(arg, "0123456789abcdef") != l)
		return cli_fail(cli, EXIT_USAGE, "rec: '%s' is not a session id (8 to 32 hex digits)", arg);
	(void)snprintf(pattern, sizeof(pattern), "%s%%", arg);
	st = isms_db_query(cli->ctx.state, &err, "SELECT id, recording_path FROM sessions WHERE id LIKE ?",
			   "s", pattern);
	if (!st)
		return cli_fail(cli, EXIT_USAGE, "rec: %s", err.msg);
	while ((r = isms_db_step(st, &err)) == 1) {
		if (n++ == 0) {
			(void)snprintf(id, 33, "%s", (const char *)sqlite3_column_text(st, 0));
			*ret_path = isms_db_col_strdup(st, 1);
		}
	}
	isms_db_done(st);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "rec: %s", err.msg);
	if (n == 0)
		return cli_fail(cli, EXIT_FINDINGS, "rec: no session %s", arg);
	if (n > 1) {
		free(*ret_path);
		*ret_path = NULL;
		return cli_fail(cli, EXIT_USAGE, "rec: %s matches %d sessions; give more digits", arg, n);
	}
	if (!*ret_path)
		return cli_fail(cli, EXIT_FINDINGS, "rec: session %s has no recording", id);
	return EXIT_OK;
}

/* complete, truncated, failed, open (never finished) or unrecorded. */
static const char *rec_state(const char *status, const char *path, int64_t want_bytes, int64_t ended,
			     long long *ret_size)
{
	struct stat st;
	bool have = path && stat(path, &st) == 0;

	*ret_size = have ? (long long)st.st_size : -1;
	if (!path)
		return ended ? "unrecorded" : "open";
	if (!strcmp(status, "failed"))
		return "failed";
	if (!strcmp(status, "open") || !strcmp(status, "recording"))
		return "open";
	if (!strcmp(status, "truncated") || !have || st.st_size != want_bytes)
		return "truncated";
	return "complete";
}

int rec_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "since", required_argument, NULL, 's' },
		{ 0 },
	};
	struct isms_err err = { 0 };
	const char *user = NULL;
	int64_t since = 0;
	sqlite3_stmt *st;
	json_t *out;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'u')
			user = optarg;
		else if (c == 's' && isms_time_parse(optarg, &since) == 0)
			;
		else
			return cli_usage(cli, &cmd_rec_def, "rec list [--user USER] [--since DATE]");
	}
	if (optind != argc)
		return cli_usage(cli, &cmd_rec_def, "rec list: unexpected '%s'", argv[optind]);
	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	st = isms_db_query(cli->ctx.state, &err,
			   "SELECT id, account, service, started_at, ended_at, status, recording_path,"
			   " coalesce(recording_bytes, -1), coalesce(mode, ''), command, exit_status"
			   " FROM sessions WHERE (must_record = 1 OR recording_path IS NOT NULL)"
			   " AND (? IS NULL OR account = ?) AND started_at >= ? ORDER BY started_at, rowid",
			   "ssi", user, user, since);
	if (!st)
		return cli_fail(cli, EXIT_USAGE, "rec list: %s", err.msg);
	out = json_array();
	if (!cli->json)
		printf("%-32s %-10s %-8s %-20s %9s %10s %s\n", "ID", "USER", "SERVICE", "STARTED", "DURATION",
		       "SIZE", "STATE");
	while ((r = isms_db_step(st, &err)) == 1) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *acct = (const char *)sqlite3_column_text(st, 1);
		const char *svc = (const char *)sqlite3_column_text(st, 2);
		int64_t start = sqlite3_column_int64(st, 3), end = sqlite3_column_int64(st, 4);
		const char *path = (const char *)sqlite3_column_text(st, 6);
		const char *mode = (const char *)sqlite3_column_text(st, 8);
		const char *cmd = (const char *)sqlite3_column_text(st, 9);
		bool ended = sqlite3_column_type(st, 4) != SQLITE_NULL;
		long long size;
		const char *state = rec_state((const char *)sqlite3_column_text(st, 5), path,
					      sqlite3_column_int64(st, 7), ended, &size);
		char when[32], dur[32];

		isms_time_iso(start, when, sizeof(when));
		if (ended)
			(void)snprintf(dur, sizeof(dur), "%llds", (long long)(end - start));
		else
			(void)snprintf(dur, sizeof(dur), "-");
		json_array_append_new(out, json_pack("{s:s,s:s,s:s?,s:I,s:o,s:o,s:I,s:s,s:s,s:s?,s:o}",
			"id", id, "account", acct, "service", svc, "started_at", (json_int_t)start,
			"ended_at", ended ? json_integer(end) : json_null(),
			"duration", ended ? json_integer(end - start) : json_null(),
			"size", (json_int_t)size, "state", state, "mode", mode, "command", cmd,
			"exit_status", sqlite3_column_type(st, 10) == SQLITE_NULL ? json_null() :
				       json_integer(sqlite3_column_int64(st, 10))));
		if (!cli->json)
			printf("%-32s %-10s %-8s %-20s %9s %10lld %s%s%s\n", id, acct, svc ? svc : "-", when,
			       dur, size < 0 ? 0 : size, state,
			       !strcmp(state, "open") ? " (opened, never finished)" : "",
			       cmd ? " [command]" : "");
	}
	isms_db_done(st);
	if (r < 0) {
		json_decref(out);
		return cli_fail(cli, EXIT_USAGE, "rec list: %s", err.msg);
	}
	if (cli->json)
		cli_json_print(out);
	else
		json_decref(out);
	return EXIT_OK;
}

/* Parse "ID [--key FILE] [--speed N] [-o FILE]". */
struct read_args {
	const char *id, *key, *output;
	double speed;
};

static int parse_read_args(struct cli *cli, int argc, char **argv, struct read_args *a, bool need_key)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "speed", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->speed = 1;
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'k': a->key = optarg; break;
		case 'o': a->output = optarg; break;
		case 's':
			a->speed = strtod(optarg, &end);
			if (*end || !(a->speed > 0 && a->speed <= 1e6))
				return cli_usage(cli, &cmd_rec_def, "rec: --speed needs a number above 0");
			break;
		default:
			return cli_usage(cli, &cmd_rec_def, "rec %s: bad option", argv[0]);
		}
	}
	if (optind + 1 != argc)
		return cli_usage(cli, &cmd_rec_def, "rec %s needs one session ID", argv[0]);
	a->id = argv[optind];
	if (need_key && !a->key)
		return cli_usage(cli, &cmd_rec_def, "rec %s needs --key AUDITOR_KEY", argv[0]);
	return EXIT_OK;
}

/* Read one recording: the file named by its row, checked against the row. */
static int read_recording(struct cli *cli, const struct read_args *a, isms_rec_sink sink, void *user,
			  struct isms_rec_info *info, char *problem, size_t plen)
{
	unsigned char sk[ISMS_REC_KEYBYTES];
	struct isms_err err = { 0 };
	char id[33] = "", *path = NULL, idhex[ISMS_REC_IDHEX];
	sqlite3_stmt *st;
	FILE *f;
	int r;

	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	if (a->key && isms_rec_load_key(a->key, true, sk, &err) < 0)
		return cli_fail(cli, EXIT_USAGE, "rec: %s", err.msg);
	if ((r = rec_find(cli, a->id, id, &path)) != EXIT_OK)
		goto out;
	f = fopen(path, "re");
	if (!f) {
		(void)snprintf(problem, plen, "recording %s: %s", path, strerror(errno));
		r = EXIT_FINDINGS;
		goto out;
	}
	r = isms_rec_read(f, a->key ? sk : NULL, sink, user, info, &err);
	fclose(f);
	if (r == -ECANCELED) {
		r = cli_fail(cli, EXIT_USAGE, "rec: %s", err.msg);
		goto out;
	}
	if (r < 0 && r != -EBADMSG) {
		r = cli_fail(cli, EXIT_USAGE, "rec: %s: %s", path, err.msg);
		goto out;
	}
	r = EXIT_OK;
	isms_hex(info->id, ISMS_REC_IDBYTES, idhex);
	st = isms_db_query(cli->ctx.state, &err, "SELECT status FROM sessions WHERE id = ?", "s", id);
	if (st && isms_db_step(st, &err) == 1 &&
	    (!strcmp((const char *)sqlite3_column_text(st, 0), "recording") ||
	     !strcmp((const char *)sqlite3_column_text(st, 0), "open")))
		(void)snprintf(problem, plen, "not finished: still being recorded, or its recorder died "
			       "(%llu chunks intact so far)", (unsigned long long)info->chunks);
	isms_db_done(st);
	if (problem[0]) {
		;
	} else if (info->problem[0]) {
		(void)snprintf(problem, plen, "%s", info->problem);
	} else if (strcmp(idhex, id) != 0) {
		(void)snprintf(problem, plen, "the file belongs to recording %s, not %s", idhex, id);
	} else {
		/* The head isms-rec stored (and sent to syslog) pins the whole file. */
		st = isms_db_query(cli->ctx.state, &err,
				   "SELECT recording_head, recording_chunks, status FROM sessions WHERE id = ?",
				   "s", id);
		if (st && isms_db_step(st, &err) == 1) {
			const char *head = (const char *)sqlite3_column_text(st, 0);
			const char *status = (const char *)sqlite3_column_text(st, 2);

			if (!head)
				(void)snprintf(problem, plen, "the recorder never finished this recording (%s)",
					       status);
			else if (strcmp(head, info->head) != 0 ||
				 (uint64_t)sqlite3_column_int64(st, 1) != info->chunks)
				(void)snprintf(problem, plen,
					       "the file does not match what the recorder wrote (chain head or chunk count differs)");
		}
		isms_db_done(st);
	}
out:
	sodium_memzero(sk, sizeof(sk));
	free(path);
	return r;
}

int rec_verify(struct cli *cli, int argc, char **argv)
{
	struct isms_rec_info info;
	struct read_args a;
	char problem[256] = "";
	int r;

	if ((r = parse_read_args(cli, argc, argv, &a, false)) != EXIT_OK)
		return r;
	memset(&info, 0, sizeof(info));
	if ((r = read_recording(cli, &a, NULL, NULL, &info, problem, sizeof(problem))) != EXIT_OK)
		return r;
	if (cli->json)
		cli_json_print(json_pack("{s:s,s:b,s:I,s:b,s:s,s:b,s:s}", "id", a.id, "intact", !problem[0],
					 "chunks", (json_int_t)info.chunks, "final", info.final, "head", info.head,
					 "decrypted", a.key != NULL, "problem", problem));
	else if (!problem[0])
		printf("recording intact: %llu chunks, final chunk present, chain head %.16s...%s\n",
		       (unsigned long long)info.chunks, info.head,
		       a.key ? ", every chunk authenticated" : " (structure and chain; --key also decrypts)");
	else
		printf("recording BROKEN: %s\n", problem);
	cli_audit(cli, "rec_verify", a.id, problem[0] ? "fail" : "ok", problem[0] ? "recording_damaged" : NULL,
		  NULL);
	return problem[0] ? EXIT_FINDINGS : EXIT_OK;
}

/* ---- play: decrypted lines, the "o" events written with their timing ---- */

struct player {
	char *line;
	size_t len, cap;
	double speed, last;
	bool header_seen;
};

static void play_line(struct player *p)
{
	json_t *ev;
	double t, wait;
	const char *code, *data;
	size_t dlen;

	if (!p->header_seen) {
		p->header_seen = true;
		return;
	}
	ev = json_loadb(p->line, p->len, 0, NULL);
	if (!ev || json_unpack(ev, "[F,s,s%]", &t, &code, &data, &dlen) != 0 || strcmp(code, "o") != 0) {
		json_decref(ev);
		return;
	}
	wait = (t - p->last) / p->speed;
	if (wait > 2.0)
		wait = 2.0;   /* idle time capped, as asciinema's idle_time_limit does */
	if (wait > 0.0005) {
		struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };

		fflush(stdout);
		nanosleep(&ts, NULL);
	}
	p->last = t;
	fwrite(data, 1, dlen, stdout);
	json_decref(ev);
}

static int play_sink(void *user, const unsigned char *data, size_t len)
{
	struct player *p = user;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			play_line(p);
			p->len = 0;
			continue;
		}
		if (p->len + 1 >= p->cap) {
			size_t nc = p->cap ? p->cap * 2 : 4096;
			char *nl = realloc(p->line, nc);

			if (!nl)
				return -1;
			p->line = nl;
			p->cap = nc;
		}
		p->line[p->len++] = (char)data[i];
	}
	return 0;
}

int rec_play(struct cli *cli, int argc, char **argv)
{
	struct player p = { 0 };
	struct isms_rec_info info;
	struct read_args a;
	char problem[256] = "";
	int r;

	if ((r = parse_read_args(cli, argc, argv, &a, true)) != EXIT_OK)
		return r;
	p.speed = a.speed;
	r = read_recording(cli, &a, play_sink, &p, &info, problem, sizeof(problem));
	fflush(stdout);
	if (p.line)
		sodium_memzero(p.line, p.cap);
	free(p.line);
	if (r != EXIT_OK)
		return r;
	cli_audit(cli, "rec_play", a.id, problem[0] ? "fail" : "ok", NULL, NULL);
	if (problem[0])
		return cli_fail(cli, EXIT_FINDINGS, "rec play: %s", problem);
	return EXIT_OK;
}

static int export_sink(void *user, const unsigned char *data, size_t len)
{
	return fwrite(data, 1, len, user) == len ? 0 : -1;
}

int rec_export(struct cli *cli, int argc, char **argv)
{
	struct isms_rec_info info = { .chunks = 0 };
	struct read_args a;
	char problem[256] = "";
	FILE *f;
	int fd, r;

	if ((r = parse_read_args(cli, argc, argv, &a, true)) != EXIT_OK)
		return r;
	if (!a.output)
		return cli_usage(cli, &cmd_rec_def, "rec export needs -o FILE.cast");
	fd = open(a.output, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return cli_fail(cli, EXIT_USAGE, "rec export: %s: %s", a.output, strerror(errno));
	}
	r = read_recording(cli, &a, export_sink, f, &info, problem, sizeof(problem));
	if (fclose(f) != 0 && r == EXIT_OK)
		r = cli_fail(cli, EXIT_USAGE, "rec export: %s: %s", a.output, strerror(errno));
	if (r != EXIT_OK) {
		(void)unlink(a.output);
		return r;
	}
	cli_audit(cli, "rec_export", a.id, problem[0] ? "fail" : "ok", NULL, NULL);
	if (problem[0] && info.plain_bytes == 0) {
		(void)unlink(a.output);
		return cli_fail(cli, EXIT_FINDINGS, "rec export: %s; nothing exported", problem);
	}
	if (problem[0])
		return cli_fail(cli, EXIT_FINDINGS, "rec export: %s; %s holds what could be authenticated",
				problem, a.output);
	if (!cli->json)
		printf("exported %llu bytes of asciicast v2 to %s\n", (unsigned long long)info.plain_bytes,
		       a.output);
	return EXIT_OK;
}
