/* accessctl offboard: a person leaves, by hand or from an HR export (file or drop
 * directory). Joins on employee number only; every row it cannot vouch for is
 * reported with file:line and left alone. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "cli.h"
#include "hr_feed.h"
#include "revoke.h"
#include "util.h"

#define FEED_MAX (64 << 20)

const struct command cmd_offboard_def = {
	"offboard", cmd_offboard, "revoke every account of a person who left (HR)",
	"usage: accessctl offboard EMPLOYEE_NO --at TIME [--ticket REF] [--dry-run]\n"
	"       accessctl offboard --feed FILE|DIR [--ticket REF] [--dry-run]\n\n"
	"Record the person's termination (time from HR) and revoke every account the\n"
	"person owns, as 'accessctl revoke' does. The termination row keeps the time\n"
	"access was removed; 'accessctl report revocations' shows the delay.\n\n"
	"--feed reads an HR export (CSV). Columns are named in [hr]: employee_column\n"
	"(default \"Employee Number\"), status_column (\"Status\"), termination_column\n"
	"(\"Termination Date\"); a status in terminated_status (\"Terminated, Inactive\")\n"
	"means the person left. Rows join on employee number only, never on name or\n"
	"email. Unknown employee numbers, malformed dates, rows with the wrong number\n"
	"of fields and duplicate rows are reported as FILE:LINE[:COLUMN] and not\n"
	"applied; every other terminated row is applied once. Reading the same export\n"
	"again changes nothing. Terminations dated in the future wait for a later run.\n"
	"With a directory, every *.csv in it is read and then moved to DIR/done/ (the\n"
	"systemd path unit in examples/systemd runs this on the [paths] hr_drop_dir).\n\n"
	"--dry-run checks the same rows and names, per person, the accounts that would\n"
	"be revoked, and writes nothing: no termination, no revocation, no audit event,\n"
	"and a drop directory's exports stay where they are.\n\n"
	"Options:\n"
	"  --at TIME       termination time: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @EPOCH\n"
	"  --feed PATH     HR export file, or a drop directory of them\n"
	"  --ticket REF    change or HR ticket reference\n"
	"  --dry-run       report what would be done; change nothing\n\n"
	"Exit status: 0 all applied, 1 rows reported or some step remains (rerun\n"
	"finishes it), 2 usage, configuration, or an export that is not CSV or lacks a\n"
	"configured column.\n",
};

struct tally {
	int offboarded, unchanged, scheduled, issues, incomplete, fatal;
	bool dry_run;  /* offboarded counts those that would be (as --json says) */
	json_t *json;  /* array of row outcomes, with --json */
};

static void note(struct cli *cli, struct tally *t, const char *file, size_t line, size_t col,
		 const char *kind, const char *emp, const char *msg)
{
	if (t->json) {
		json_array_append_new(t->json, json_pack("{s:s, s:I, s:I, s:s, s:s?, s:s}", "file", file,
							 "line", (json_int_t)line, "column", (json_int_t)col,
							 "result", kind, "employee_no", emp, "detail", msg));
		return;
	}
	(void)cli;
	if (col)
		printf("%s:%zu:%zu: %s\n", file, line, col, msg);
	else if (line)
		printf("%s:%zu: %s\n", file, line, msg);
	else
		printf("%s: %s\n", file, msg);
}

/* --dry-run: the accounts the person owns, named; nothing written. */
static int would_offboard(struct cli *cli, const struct isms_offboard_req *req,
			  struct isms_revoke_result *res, struct isms_err *err)
{
	char **accounts = NULL, *names;
	int r = isms_offboard_plan(&cli->ctx, req->employee_no, &accounts, err);

	if (r != 0)
		return r;
	names = accounts[0] ? isms_list_join(accounts, ", ") : strdup("none");
	isms_list_free(accounts);
	if (!names)
		return isms_err_set(err, -ENOMEM, "out of memory");
	(void)snprintf(res->remaining, sizeof(res->remaining), "%s", names);
	free(names);
	return 0;
}

static int offboard_one(struct cli *cli, struct tally *t, const struct isms_offboard_req *req, const char *file,
			size_t line)
{
	struct isms_revoke_result res = { 0 };
	struct isms_err err = { 0 };
	char msg[900], when[32];
	int r;

	r = t->dry_run ? would_offboard(cli, req, &res, &err) : isms_offboard_person(&cli->ctx, req, &res, &err);
	if (r == 1) {
		t->unchanged++;
		if (!file)
			note(cli, t, req->employee_no, 0, 0, "unchanged", req->employee_no, "already offboarded");
		return 0;
	}
	if (r == -ENOENT) {
		t->issues++;
		(void)snprintf(msg, sizeof(msg), "unknown employee number %s; not applied", req->employee_no);
		note(cli, t, file ? file : req->employee_no, line, 0, "unknown", req->employee_no, msg);
		return 0;
	}
	if (r == -EAGAIN) {
		t->incomplete++;
		(void)snprintf(msg, sizeof(msg), "%s%soffboarding incomplete: %s (run again to finish)",
			       file ? req->employee_no : "", file ? ": " : "", res.remaining);
		note(cli, t, file ? file : req->employee_no, line, 0, "incomplete", req->employee_no, msg);
		return 0;
	}
	if (r < 0) {
		t->fatal++;
		note(cli, t, file ? file : req->employee_no, line, 0, "error", req->employee_no, err.msg);
		return r;
	}
	t->offboarded++;
	if (t->dry_run)
		(void)snprintf(msg, sizeof(msg), "%s%swould be offboarded (terminated %s), revoking accounts: %s",
			       file ? req->employee_no : "", file ? ": " : "",
			       isms_time_iso(req->terminated_at, when, sizeof(when)), res.remaining);
	else
		(void)snprintf(msg, sizeof(msg), "%s%soffboarded (terminated %s, %d step(s) done)",
			       file ? req->employee_no : "", file ? ": " : "",
			       isms_time_iso(req->terminated_at, when, sizeof(when)), res.done);
	note(cli, t, file ? file : req->employee_no, line, 0, "offboarded", req->employee_no, msg);
	return 0;
}

static int read_all(const char *path, char **ret, size_t *len, struct isms_err *err)
{
	struct stat st;
	ssize_t n;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FEED_MAX) {
		close(fd);
		return isms_err_set(err, -EINVAL, "%s: not a regular file of at most %d MiB", path, FEED_MAX >> 20);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return isms_err_set(err, -ENOMEM, "out of memory");
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		free(buf);
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	}
	buf[n] = '\0';
	*ret = buf;
	*len = (size_t)n;
	return 0;
}

static void feed_file(struct cli *cli, struct tally *t, const char *path, const char *ticket)
{
	struct isms_hr_feed feed;
	struct isms_err err = { 0 };
	int64_t now = isms_now();
	char *data = NULL, ref[512], msg[300], when[32];
	size_t len = 0;

	if (read_all(path, &data, &len, &err) < 0 ||
	    isms_hr_feed_parse(data, len, cli->conf, &feed, &err) < 0) {
		t->fatal++;
		note(cli, t, path, 0, 0, "error", NULL, err.msg);
		free(data);
		return;
	}
	free(data);
	for (size_t i = 0; i < feed.nissues; i++) {
		t->issues++;
		note(cli, t, path, feed.issues[i].line, feed.issues[i].column, "rejected", NULL, feed.issues[i].msg);
	}
	for (size_t i = 0; i < feed.nrows; i++) {
		const struct isms_hr_row *row = &feed.rows[i];
		struct isms_offboard_req req = {
			.employee_no = row->employee_no, .terminated_at = row->terminated_at,
			.source = "hr-feed", .source_ref = ref, .ticket = ticket, .actor = "hr-feed",
		};

		if (!row->terminated || row->excluded)
			continue;
		if (row->terminated_at > now) {
			t->scheduled++;
			(void)snprintf(msg, sizeof(msg), "%s: termination on %s is still ahead; a later run applies it",
				       row->employee_no, isms_time_iso(row->terminated_at, when, sizeof(when)));
			note(cli, t, path, row->line, 0, "scheduled", row->employee_no, msg);
			continue;
		}
		(void)snprintf(ref, sizeof(ref), "%s:%zu", path, row->line);
		if (offboard_one(cli, t, &req, path, row->line) < 0)
			break;
	}
	isms_hr_feed_free(&feed);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each *.csv of a drop directory, oldest name first, then moved to done/ so the
 * path unit does not fire on it again. */
static void feed_dir(struct cli *cli, struct tally *t, const char *dir, const char *ticket)
{
	char **names = NULL, *done = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		t->fatal++;
		note(cli, t, dir, 0, 0, "error", NULL, strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char **nv;

		if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".csv") != 0)
			continue;
		nv = realloc(names, (n + 1) * sizeof(*nv));
		if (!nv || !(nv[n] = strdup(de->d_name))) {
			names = nv ? nv : names;
			t->fatal++;
			break;
		}
		names = nv;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	if (asprintf(&done, "%s/done", dir) < 0)
		done = NULL;
	for (size_t i = 0; i < n; i++) {
		char *path = NULL, *dest = NULL;

		if (asprintf(&path, "%s/%s", dir, names[i]) >= 0) {
			feed_file(cli, t, path, ticket);
			if (done && !t->dry_run && isms_mkdir_p(done, 0700) == 0 &&
			    asprintf(&dest, "%s/%s.%lld", done, names[i], (long long)isms_now()) >= 0 &&
			    rename(path, dest) < 0)
				note(cli, t, path, 0, 0, "error", NULL, "could not move it to done/");
		}
		free(dest);
		free(path);
		free(names[i]);
	}
	free(names);
	free(done);
}

int cmd_offboard(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "feed", required_argument, NULL, 'f' },
		{ "ticket", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ 0 },
	};
	const char *at = NULL, *feed = NULL, *ticket = NULL;
	struct tally t = { 0 };
	struct stat st;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a')
			at = optarg;
		else if (c == 'f')
			feed = optarg;
		else if (c == 't')
			ticket = optarg;
		else if (c == 'n')
			t.dry_run = true;
		else
			return cli_usage(cli, &cmd_offboard_def, "unknown option");
	}
	if (feed ? (at || optind != argc) : (!at || optind != argc - 1))
		return cli_usage(cli, &cmd_offboard_def, "give EMPLOYEE_NO --at TIME, or --feed PATH");
	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	if (cli->json)
		t.json = json_array();
	if (feed && stat(feed, &st) == 0 && S_ISDIR(st.st_mode)) {
		feed_dir(cli, &t, feed, ticket);
	} else if (feed) {
		feed_file(cli, &t, feed, ticket);
	} else {
		struct isms_offboard_req req = {
			.employee_no = argv[optind], .source = "manual", .source_ref = ticket, .ticket = ticket,
			.actor = cli->actor,
		};

		if (isms_time_parse(at, &req.terminated_at) < 0) {
			json_decref(t.json);
			return cli_usage(cli, &cmd_offboard_def, "--at '%s': want YYYY-MM-DD, "
					 "YYYY-MM-DDTHH:MM:SSZ or @EPOCH", at);
		}
		(void)offboard_one(cli, &t, &req, NULL, 0);
	}
	if (t.json)
		cli_json_print(json_pack("{s:o, s:i, s:i, s:i, s:i, s:i, s:b}", "rows", t.json, "offboarded",
					 t.offboarded, "unchanged", t.unchanged, "scheduled", t.scheduled,
					 "issues", t.issues, "incomplete", t.incomplete, "dry_run", t.dry_run));
	else if (feed && t.dry_run)
		printf("%d would be offboarded, %d already done, %d scheduled, %d reported (dry run, nothing written)\n",
		       t.offboarded, t.unchanged, t.scheduled, t.issues);
	else if (feed)
		printf("%d offboarded, %d already done, %d scheduled, %d reported, %d incomplete\n", t.offboarded,
		       t.unchanged, t.scheduled, t.issues, t.incomplete);
	if (t.fatal)
		return EXIT_USAGE;
	return t.issues || t.incomplete ? EXIT_FINDINGS : EXIT_OK;
}
