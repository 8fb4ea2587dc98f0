/* Shared plumbing of accessctl commands. */
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"

int cli_load_conf(struct cli *cli)
{
	struct isms_err err = { 0 };

	if (cli->conf)
		return EXIT_OK;
	if (isms_conf_load(cli->config, cli->root, false, &cli->conf, &err) < 0) {
		fprintf(stderr, "%s: %s\n", cli->prog, err.msg);
		if (err.code == -ENOENT)
			fprintf(stderr, "%s: run '%s%s%s init' to create it\n", cli->prog, cli->prog,
				*cli->root ? " --root " : "", cli->root);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cli_open(struct cli *cli)
{
	struct isms_err err = { 0 };
	int r;

	if (cli->opened)
		return EXIT_OK;
	r = cli_load_conf(cli);
	if (r != EXIT_OK)
		return r;
	if (isms_ctx_open(&cli->ctx, cli->conf, ISMS_CTX_ADMIN, &err) < 0) {
		fprintf(stderr, "%s: %s\n", cli->prog, err.msg);
		return EXIT_USAGE;
	}
	cli->opened = true;
	return EXIT_OK;
}

void cli_close_stores(struct cli *cli)
{
	if (cli->opened)
		isms_ctx_close(&cli->ctx);
	cli->opened = false;
}

void cli_close(struct cli *cli)
{
	cli_close_stores(cli);
	isms_conf_free(cli->conf);
	cli->conf = NULL;
}

bool cli_wants_help(const struct command *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(cmd->usage, stdout);
			return true;
		}
	}
	return false;
}

int cli_fail(const struct cli *cli, int code, const char *fmt, ...)
{
	va_list ap;

	cli_progress_end();
	fprintf(stderr, "%s: ", cli->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int cli_usage(const struct cli *cli, const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", cli->prog, cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nsee '%s %s --help'\n", cli->prog, cmd->name);
	return EXIT_USAGE;
}

void cli_json_print(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (s) {
		puts(s);
		free(s);
	}
	json_decref(v);
}

void cli_audit(struct cli *cli, const char *event, const char *subject, const char *result,
	       const char *reason, const char *details)
{
	struct isms_event ev = {
		.event = event, .actor = cli->actor, .subject = subject, .result = result,
		.reason = reason, .details = details,
	};
	struct isms_err err = { 0 };

	if (isms_audit_append(cli->opened ? cli->ctx.state : NULL,
			      cli->conf ? cli->conf->system_name : "unknown", &ev, &err) < 0)
		fprintf(stderr, "%s: warning: audit event not stored: %s\n", cli->prog, err.msg);
}

/* The percentage the open bar shows; -1: no bar is open. */
static int progress_last = -1;
/* Where the bar is drawn (NULL: stderr); see cli_tty_guard. */
static FILE *progress_out;

void cli_progress_stream(FILE *f)
{
	progress_out = f;
}

void cli_progress(const char *label, long long done, long long total)
{
	static int tty = -1;   /* stderr is a terminal: asked once */
	int pct, width = 30, fill;

	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	if (total <= 0 || !tty)
		return;
	if (done > total)
		done = total;
	pct = (int)(done * 100 / total);
	if (pct == progress_last && done != total)
		return;
	progress_last = pct;
	fill = (int)(done * width / total);
	fprintf(progress_out ? progress_out : stderr, "\r%-16s [%.*s%*s] %3d%% (%lld/%lld)", label, fill,
		"##############################", width - fill, "", pct, done, total);
	if (done >= total)
		cli_progress_end();
	fflush(progress_out ? progress_out : stderr);
}

void cli_progress_end(void)
{
	if (progress_last < 0)
		return;
	fputc('\n', progress_out ? progress_out : stderr);
	progress_last = -1;
}

void cli_progress_cb(void *arg, const char *phase, long long done, long long total)
{
	(void)arg;
	cli_progress(phase, done, total);
}
