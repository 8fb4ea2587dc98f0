/* What the parts of isms-rec share: the session being recorded, the asciicast
 * stream written into the encrypted recording, and the two ways of running. */
#ifndef ISMS_REC_REC_H
#define ISMS_REC_REC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "conf.h"
#include "ctx.h"
#include "err.h"
#include "recfile.h"

struct castq;

/* asciicast v2 events, buffered and sealed chunk by chunk (cast.c), by the
 * writer thread once it runs (castq.c). */
struct cast {
	struct isms_rec_writer *w;
	unsigned char *buf;
	size_t len;
	struct timespec t0;          /* start of the recording (monotonic) */
	long long pending_us;        /* time of the oldest event not yet sealed */
	bool pending;
	long long flush_ms;          /* [session] flush_interval */
	unsigned char carry[2][4];   /* an incomplete UTF-8 sequence per stream (o, i) */
	size_t carry_len[2];
	struct isms_err err;
	struct castq *q;             /* the writer thread's queue; NULL when not running */
	unsigned char *claimed;      /* cast_buffer's room in the queue, not yet committed */
	size_t claimed_len;
};

/* pty.c: a wait status as a shell reports it (exit code, or 128 + signal). */
int rec_exit_status(int ws);

int cast_open(struct cast *c, struct isms_rec_writer *w, long long flush_seconds);
/* The header line: size, start time, command, title, SHELL and TERM. */
int cast_header(struct cast *c, int width, int height, int64_t timestamp, const char *command,
		const char *title, const char *shell, const char *term);
/* One event: code 'o' output, 'i' input (data: bytes as they passed). */
int cast_data(struct cast *c, char code, const void *data, size_t len);
/* Where to read the next up to len bytes of output: in the writer thread's queue
 * when it runs (cast_data with that pointer then copies nothing), else NULL. */
unsigned char *cast_buffer(struct cast *c, size_t len);
int cast_resize(struct cast *c, int cols, int rows);
int cast_marker(struct cast *c, const char *label);
/* Seal what is buffered; final ends the recording. */
int cast_flush(struct cast *c, bool final);
/* Milliseconds until buffered events must be sealed (-1: nothing pending). */
int cast_flush_due_ms(const struct cast *c);
int cast_flush_if_due(struct cast *c);
void cast_close(struct cast *c);
/* Readable when the writer thread has failed (-1 when it does not run): for poll. */
int cast_poll_fd(const struct cast *c);

/* cast.c internals the writer thread uses. */
long long cast_now_us(const struct cast *c);
int cast_event(struct cast *c, char code, long long us, const unsigned char *data, size_t len);
int cast_seal(struct cast *c, bool final);
int cast_seal_due_ms(const struct cast *c);

/* The writer thread (castq.c): events are queued by the relay loop and turned
 * into asciicast, sealed and written by the thread, so the loop only reads and
 * writes terminals. Start it after the shell is forked. A full queue makes the
 * relay wait: output is never dropped. */
int castq_start(struct cast *c);
int castq_push(struct cast *c, char code, long long us, const void *data, size_t len);
/* Room in the queue itself for one read of up to len (<= 64 KiB) bytes, so that
 * nothing is copied; NULL on failure. The thread sees it once committed. */
unsigned char *castq_claim(struct cast *c, size_t len);
int castq_commit(struct cast *c, char code, long long us, size_t len);
int castq_error(struct cast *c);   /* the thread's failure, 0 while it writes */
int castq_stop(struct cast *c);    /* format what is queued, end the thread; its error */

struct rec {
	struct isms_conf *conf;
	struct isms_ctx ctx;
	bool ctx_open;

	/* who: the invoking user, never taken from the environment */
	char user[256];
	uid_t uid;
	gid_t gid;
	char *real_shell;       /* from the registry */
	const char *command;    /* -c COMMAND, or NULL for a shell */
	bool login;             /* started as a login shell (argv[0] begins with '-') */
	mode_t umask;           /* the caller's, restored for the shell */
	char **argv0;

	char id[ISMS_REC_IDHEX];
	char *path;             /* the recording file */
	int fd;
	struct isms_rec_writer *w;
	struct cast cast;
	bool claimed;           /* the session row is ours */
	bool recording;         /* false once writing failed under on_record_error = continue */
	bool failed;            /* the recording could not be written */
	char failure[600];

	pid_t child;
	int exit_status;        /* 128+N when killed by signal N */
	int64_t bytes_in, bytes_out;
};

/* Set up (config, identity, claim, recording file) and finish (final chunk,
 * row, audit) a session (session.c). Start prints why it refuses. */
int rec_session_start(struct rec *r, const char *conf_path);
void rec_session_end(struct rec *r);
const char *rec_title(const struct rec *r, char *buf, size_t len);

/* Record an event into the recording; on failure apply on_record_error: returns
 * -1 when the session must end now, 0 to go on (recording stopped or fine). */
int rec_record(struct rec *r, char code, const void *data, size_t len);
/* Where to read up to len bytes that rec_record then takes without a copy;
 * NULL: read into a buffer of your own. */
unsigned char *rec_record_buffer(struct rec *r, size_t len);
int rec_record_resize(struct rec *r, int cols, int rows);
/* Tell the user (on fd) the recording failed; terminate or warn per config. */
int rec_record_failed(struct rec *r, int fd, const char *why);

/* In the child, before exec: drop every privilege for good (privdrop.c). */
int rec_drop_privileges(const struct rec *r, char *why, size_t whylen);
/* In the child: drop privileges and exec the real shell; never returns. */
void rec_exec_shell(const struct rec *r) __attribute__((noreturn));

/* The two ways of running; both return the exit status for isms-rec. */
int rec_interactive(struct rec *r);
int rec_noninteractive(struct rec *r);

/* Self-pipe for signals the relay loops react to. */
int rec_signals_setup(void);
int rec_signal_fd(void);
int rec_signal_next(void);   /* next pending signal number, 0 when none */

#endif
