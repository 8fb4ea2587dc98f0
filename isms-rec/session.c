/* Setting a recorded session up and closing it: identity from the kernel, the
 * session id checked against state.db, the real shell from the registry, the
 * recording file opened while still privileged; at the end the final chunk,
 * the row and one audit event each way. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "db.h"
#include "rec.h"
#include "sessions.h"
#include "util.h"


static int sigpipe_fds[2] = { -1, -1 };

static void on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	(void)!write(sigpipe_fds[1], &b, 1);
	errno = saved;
}

int rec_signals_setup(void)
{
	static const int caught[] = { SIGCHLD, SIGWINCH, SIGTERM, SIGHUP, SIGINT, SIGQUIT };
	struct sigaction sa;

	if (pipe2(sigpipe_fds, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(caught); i++)
		if (sigaction(caught[i], &sa, NULL) < 0)
			return -errno;
	/* A closed reader or a full disk must come back as an error, not kill the recorder. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	return 0;
}

int rec_signal_fd(void)
{
	return sigpipe_fds[0];
}

int rec_signal_next(void)
{
	unsigned char b;

	return read(sigpipe_fds[0], &b, 1) == 1 ? b : 0;
}

static void rec_audit(struct rec *r, const char *event, const char *result, const char *reason,
		      const char *details)
{
	struct isms_event ev = {
		.event = event, .actor = "isms-rec", .subject = r->user[0] ? r->user : NULL,
		.result = result, .reason = reason, .details = details,
	};

	(void)isms_audit_append(r->ctx_open ? r->ctx.state : NULL,
				r->conf ? r->conf->system_name : "unknown", &ev, NULL);
}

static int refuse(struct rec *r, const char *reason, const char *fmt, const char *arg)
{
	char details[400] = "";
	size_t pos = 0;

	fprintf(stderr, "isms-rec: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "; refusing the session\n");
	if (r->id[0])
		isms_audit_kv(details, sizeof(details), &pos, "session", r->id);
	isms_audit_kv(details, sizeof(details), &pos, "why", arg);
	rec_audit(r, "rec_start", "deny", reason, details);
	return -1;
}

/* No id from PAM (a service without pam_isms in its session stack): the
 * session is still recorded, under a row of its own. */
static int open_own_row(struct rec *r, struct isms_err *err)
{
	struct isms_session s = {
		.account = r->user, .uid = r->uid, .service = "isms-rec", .audit_session = -1,
		.must_record = true, .started_at = isms_now(),
	};
	bool must = true;
	int rv;

	s.tty = isatty(STDIN_FILENO) ? ttyname(STDIN_FILENO) : NULL;
	(void)isms_session_must_record(&r->ctx, r->user, r->uid, r->gid, true, &s.privileged, &must,
				       NULL, 0, NULL);
	rv = isms_session_open(r->ctx.state, &s, err);
	if (rv == 0)
		memcpy(r->id, s.id, sizeof(r->id));
	return rv;
}

int rec_session_start(struct rec *r, const char *conf_path)
{
	struct isms_err err = { 0 };
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096], details[400] = "";
	unsigned char pk[ISMS_REC_KEYBYTES], idb[ISMS_REC_IDBYTES];
	const char *env_id = getenv("ISMS_SESSION_ID");   /* only a claim; checked against the store */
	size_t pos = 0;
	int64_t now;

	if (sodium_init() < 0)
		return refuse(r, "internal", "%s", "libsodium failed to initialise");
	if (isms_conf_load(conf_path, "", false, &r->conf, &err) < 0)
		return refuse(r, "config", "%s", err.msg);
	if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 || !pwp)
		return refuse(r, "unknown_account", "%s", "the invoking user is unknown");
	(void)snprintf(r->user, sizeof(r->user), "%s", pw.pw_name);
	r->uid = pw.pw_uid;
	r->gid = pw.pw_gid;
	if (isms_ctx_open(&r->ctx, r->conf, ISMS_CTX_LOGIN, &err) < 0)
		return refuse(r, "store_unavailable", "%s", err.msg);
	r->ctx_open = true;

	r->real_shell = isms_session_real_shell(r->ctx.reg, r->user);
	if (!r->real_shell)
		return refuse(r, "internal", "%s", "out of memory");
	if (strcmp(r->real_shell, r->conf->recorder) == 0 || access(r->real_shell, X_OK) < 0)
		return refuse(r, "bad_real_shell", "the real shell %s cannot be run", r->real_shell);
	if (isms_check_guard(r->conf->recordings_dir, "recordings directory", true, &err) < 0)
		return refuse(r, "recording_unavailable", "%s", err.msg);
	if (isms_check_guard(r->conf->auditor_pubkey, "auditor public key", false, &err) < 0 ||
	    isms_rec_load_key(r->conf->auditor_pubkey, false, pk, &err) < 0)
		return refuse(r, "recording_unavailable", "%s", err.msg);

	if (env_id) {
		if (isms_rec_parse_id(env_id, idb) < 0)
			return refuse(r, "invalid_session_id", "%s", "ISMS_SESSION_ID is not a session id");
		memcpy(r->id, env_id, sizeof(r->id));
	} else if (open_own_row(r, &err) < 0) {
		return refuse(r, "store_unavailable", "%s", err.msg);
	}
	if (asprintf(&r->path, "%s/%s%s", r->conf->recordings_dir, r->id, ISMS_REC_SUFFIX) < 0) {
		r->path = NULL;
		return refuse(r, "internal", "%s", "out of memory");
	}
	if (isms_session_claim(r->ctx.state, r->id, r->user, r->uid, getpid(), r->path,
			       isatty(STDIN_FILENO) ? "interactive" : "noninteractive", r->command, &err) < 0) {
		const char *why = err.code == -EPERM ? "invalid_session_id" : "store_unavailable";

		return refuse(r, why, "%s", err.msg);
	}
	r->claimed = true;
	(void)isms_rec_parse_id(r->id, idb);
	r->fd = open(r->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r->fd < 0) {
		r->failed = true;
		return refuse(r, "recording_unavailable", "cannot create the recording: %s", strerror(errno));
	}
	now = isms_now();
	if (isms_rec_writer_open(r->fd, idb, now, pk, &r->w, &err) < 0 ||
	    cast_open(&r->cast, r->w, r->conf->flush_interval) < 0) {
		r->failed = true;
		return refuse(r, "recording_unavailable", "%s", err.msg[0] ? err.msg : r->cast.err.msg);
	}
	r->recording = true;
	if (rec_signals_setup() < 0) {
		r->failed = true;
		return refuse(r, "internal", "%s", "cannot set up signals");
	}
	isms_audit_kv(details, sizeof(details), &pos, "session", r->id);
	isms_audit_kv(details, sizeof(details), &pos, "mode", isatty(STDIN_FILENO) ? "interactive" : "noninteractive");
	isms_audit_kv(details, sizeof(details), &pos, "shell", r->real_shell);
	rec_audit(r, "rec_start", "allow", NULL, details);
	return 0;
}

/* Title of the recording, as asciicast players show it. */
const char *rec_title(const struct rec *r, char *buf, size_t len)
{
	(void)snprintf(buf, len, "%s@%s %s", r->user, r->conf->system_name, r->id);
	return buf;
}

void rec_session_end(struct rec *r)
{
	struct isms_session_end e = { .exit_status = r->exit_status };
	struct isms_err err = { 0 };
	char head[2 * ISMS_REC_HASHBYTES + 1] = "", details[600] = "", num[32];
	size_t pos = 0;

	if (r->w && r->recording && !r->failed) {
		if (cast_flush(&r->cast, true) < 0 || fsync(r->fd) < 0) {
			r->failed = true;
			(void)snprintf(r->failure, sizeof(r->failure), "%s",
				       r->cast.err.msg[0] ? r->cast.err.msg : strerror(errno));
		}
	}
	if (r->w)
		isms_rec_writer_head(r->w, head);
	if (r->fd >= 0)
		close(r->fd);
	if (!r->w)
		r->failed = true;   /* claimed, but nothing could be recorded */
	if (r->ctx_open && r->claimed) {
		e.ended_at = isms_now();
		e.status = r->failed ? "failed" : "closed";
		e.bytes_in = r->bytes_in;
		e.bytes_out = r->bytes_out;
		e.recording_bytes = r->w ? (int64_t)isms_rec_writer_bytes(r->w) : 0;
		e.recording_chunks = r->w ? (int64_t)isms_rec_writer_chunks(r->w) : 0;
		e.recording_head = r->w ? head : NULL;
		(void)isms_session_finish(r->ctx.state, r->id, &e, &err);
		isms_audit_kv(details, sizeof(details), &pos, "session", r->id);
		(void)snprintf(num, sizeof(num), "%d", r->exit_status);
		isms_audit_kv(details, sizeof(details), &pos, "exit", num);
		(void)snprintf(num, sizeof(num), "%lld", (long long)r->bytes_in);
		isms_audit_kv(details, sizeof(details), &pos, "bytes_in", num);
		(void)snprintf(num, sizeof(num), "%lld", (long long)r->bytes_out);
		isms_audit_kv(details, sizeof(details), &pos, "bytes_out", num);
		(void)snprintf(num, sizeof(num), "%lld", (long long)e.recording_chunks);
		isms_audit_kv(details, sizeof(details), &pos, "chunks", num);
		/* The chain head leaves the host with syslog: a rewritten file no longer matches it. */
		isms_audit_kv(details, sizeof(details), &pos, "head", head);
		if (r->failed)
			isms_audit_kv(details, sizeof(details), &pos, "error", r->failure);
		rec_audit(r, "rec_end", r->failed ? "fail" : "ok", r->failed ? "recording_failed" : NULL,
			  details);
	}
	cast_close(&r->cast);
	isms_rec_writer_free(r->w);
	r->w = NULL;
	if (r->ctx_open)
		isms_ctx_close(&r->ctx);
	isms_conf_free(r->conf);
	free(r->real_shell);
	free(r->path);
}

int rec_record_failed(struct rec *r, int fd, const char *why)
{
	r->failed = true;
	r->recording = false;
	(void)snprintf(r->failure, sizeof(r->failure), "%s", why);
	if (r->conf->on_record_error == ISMS_RECERR_TERMINATE) {
		dprintf(fd, "\r\nisms-rec: the session recording cannot be written (%s); ending the session.\r\n",
			why);
		return -1;
	}
	dprintf(fd, "\r\nisms-rec: the session recording cannot be written (%s); continuing UNRECORDED "
		    "(on_record_error = continue).\r\n", why);
	return 0;
}

int rec_record(struct rec *r, char code, const void *data, size_t len)
{
	if (!r->recording)
		return 0;
	if (cast_data(&r->cast, code, data, len) < 0 || cast_flush_if_due(&r->cast) < 0)
		return rec_record_failed(r, isatty(STDOUT_FILENO) ? STDOUT_FILENO : STDERR_FILENO,
					 r->cast.err.msg);
	return 0;
}

unsigned char *rec_record_buffer(struct rec *r, size_t len)
{
	return r->recording ? cast_buffer(&r->cast, len) : NULL;
}

int rec_record_resize(struct rec *r, int cols, int rows)
{
	if (!r->recording)
		return 0;
	if (cast_resize(&r->cast, cols, rows) < 0)
		return rec_record_failed(r, STDOUT_FILENO, r->cast.err.msg);
	return 0;
}
