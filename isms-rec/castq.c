/* The recording's writer thread: the relay loop queues what it saw (stamped
 * with the time it saw it) and goes back to the terminals; this thread escapes
 * it into asciicast, seals the chunks and writes the file. On two cores the
 * encryption then runs beside the relay instead of between its reads. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "rec.h"

/* The queue bounds what was shown but not yet recorded when writing fails;
 * a record is at most one 64 KiB read, well under half of it. */
#define QCAP       (1u << 20)
#define PIECE      (64u * 1024)
#define WAKE_AT    (256u * 1024)   /* wake the thread for this much, not per read */
#define ALIGN(n)   (((n) + 15) & ~(size_t)15)

/* A record in the ring; code 0 pads to the end of the ring (wrap). */
struct qrec {
	int64_t us;
	uint32_t len;
	char code;
};

struct castq {
	pthread_mutex_t mu;
	pthread_cond_t more;     /* thread waits: records, stop or its seal time */
	pthread_cond_t room;     /* relay waits: space in the ring */
	pthread_t thread;
	unsigned char *ring;
	size_t head, tail, used; /* offsets in the ring; used counts padding too */
	bool waiting;            /* the thread sleeps on more */
	bool has_pending;        /* the thread holds events it must seal by a deadline */
	bool room_wanted;
	bool stop;
	int err;                 /* the thread's failure; c->err says why */
	int efd;                 /* eventfd: readable once err is set */
};

int cast_poll_fd(const struct cast *c)
{
	return c->q ? c->q->efd : -1;
}

/* Whether the thread has work: a stop, enough queued, the first event after an
 * idle spell (its time starts the seal clock), or a seal that is due. */
static bool castq_ready(const struct cast *c, const struct castq *q)
{
	return q->stop || q->used >= WAKE_AT || (q->used && !c->pending) ||
	       (c->pending && cast_seal_due_ms(c) == 0);
}

static void castq_sleep(struct cast *c, struct castq *q)
{
	struct timespec until;
	long long us;

	q->waiting = true;
	q->has_pending = c->pending;
	if (!c->pending) {
		pthread_cond_wait(&q->more, &q->mu);
	} else {
		us = c->pending_us + c->flush_ms * 1000;
		until.tv_sec = c->t0.tv_sec + us / 1000000;
		until.tv_nsec = c->t0.tv_nsec + (us % 1000000) * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		(void)pthread_cond_timedwait(&q->more, &q->mu, &until);
	}
	q->waiting = false;
}

/* Format n bytes of records from pos (outside the lock: the relay only writes
 * where these are not); returns where they end. */
static int castq_format(struct cast *c, size_t pos, size_t n, size_t *ret_pos)
{
	struct castq *q = c->q;
	int r = 0;

	while (n > 0) {
		struct qrec h;
		size_t sz;

		if (pos == QCAP)
			pos = 0;
		memcpy(&h, q->ring + pos, sizeof(h));
		if (h.code == 0) {
			sz = QCAP - pos;
		} else {
			sz = ALIGN(sizeof(h) + h.len);
			if (r == 0)
				r = cast_event(c, h.code, h.us, q->ring + pos + sizeof(h), h.len);
		}
		pos += sz;
		n -= sz;
	}
	*ret_pos = pos == QCAP ? 0 : pos;
	return r;
}

static void *castq_main(void *arg)
{
	struct cast *c = arg;
	struct castq *q = c->q;
	size_t n, pos;
	int r;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!castq_ready(c, q))
			castq_sleep(c, q);
		n = q->used;
		pthread_mutex_unlock(&q->mu);
		r = castq_format(c, q->tail, n, &pos);
		if (r == 0 && cast_seal_due_ms(c) == 0)
			r = cast_seal(c, false);
		pthread_mutex_lock(&q->mu);
		q->tail = pos;
		q->used -= n;
		if (q->room_wanted)
			pthread_cond_signal(&q->room);
		if (r < 0) {
			/* The relay learns it at its next event or from the eventfd, and ends
			 * the session or goes on unrecorded (on_record_error). */
			q->err = r;
			(void)eventfd_write(q->efd, 1);
			pthread_cond_signal(&q->room);
			break;
		}
		if (q->stop && q->used == 0)
			break;
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* Accepts a queue built only in part (castq_start failing half way). */
static void castq_free(struct castq *q)
{
	if (!q)
		return;
	pthread_cond_destroy(&q->more);
	pthread_cond_destroy(&q->room);
	pthread_mutex_destroy(&q->mu);
	if (q->efd >= 0)
		close(q->efd);
	free(q->ring);
	free(q);
}

int castq_start(struct cast *c)
{
	struct castq *q;
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	if (c->q)
		return 0;
	q = calloc(1, sizeof(*q));
	if (!q)
		return isms_err_set(&c->err, -ENOMEM, "out of memory");
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* seal times are monotonic */
	pthread_cond_init(&q->more, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&q->room, NULL);
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->ring = malloc(QCAP);
	if (q->efd < 0 || !q->ring) {
		castq_free(q);
		return isms_err_set(&c->err, -ENOMEM, "cannot start the recording writer");
	}
	c->q = q;
	/* Signals stay with the relay loop (its self-pipe), never this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&q->thread, NULL, castq_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		c->q = NULL;
		castq_free(q);
		return isms_err_set(&c->err, -r, "cannot start the recording writer: %s", strerror(r));
	}
	return 0;
}

/* Contiguous room at head for a record of len data bytes, waiting while the
 * ring is full (back-pressure, never a drop); 0, or the thread's failure. */
static int castq_room(struct castq *q, size_t len)
{
	size_t need = ALIGN(sizeof(struct qrec) + len), pad;

	for (;;) {
		pad = QCAP - q->head < need ? QCAP - q->head : 0;
		if (q->err || QCAP - q->used >= pad + need)
			break;
		q->room_wanted = true;
		if (q->waiting) {
			q->waiting = false;
			pthread_cond_signal(&q->more);
		}
		pthread_cond_wait(&q->room, &q->mu);
	}
	q->room_wanted = false;
	if (q->err)
		return q->err;
	if (pad) {
		struct qrec wrap = { .code = 0 };

		memcpy(q->ring + q->head, &wrap, sizeof(wrap));
		q->head = 0;
		q->used += pad;
	}
	return 0;
}

/* Hand the record at head, its data already in place, to the thread. */
static void castq_publish(struct castq *q, char code, long long us, size_t len)
{
	struct qrec h = { .us = us, .len = (uint32_t)len, .code = code };
	size_t need = ALIGN(sizeof(h) + len);

	memcpy(q->ring + q->head, &h, sizeof(h));
	q->head += need;
	if (q->head == QCAP)
		q->head = 0;
	q->used += need;
	/* One wake per WAKE_AT under heavy output; a lone keystroke wakes the thread
	 * only when it holds nothing, so that its seal clock starts. */
	if (q->waiting && (!q->has_pending || q->used >= WAKE_AT)) {
		q->waiting = false;
		pthread_cond_signal(&q->more);
	}
}

static int castq_put(struct castq *q, char code, long long us, const void *data, size_t len)
{
	int r = castq_room(q, len);

	if (r < 0)
		return r;
	memcpy(q->ring + q->head + sizeof(struct qrec), data, len);
	castq_publish(q, code, us, len);
	return 0;
}

unsigned char *castq_claim(struct cast *c, size_t len)
{
	struct castq *q = c->q;
	unsigned char *p = NULL;

	if (len > PIECE)
		return NULL;
	pthread_mutex_lock(&q->mu);
	if (castq_room(q, len) == 0)
		p = q->ring + q->head + sizeof(struct qrec);
	pthread_mutex_unlock(&q->mu);
	return p;
}

int castq_commit(struct cast *c, char code, long long us, size_t len)
{
	struct castq *q = c->q;
	int r;

	pthread_mutex_lock(&q->mu);
	r = q->err;
	if (r == 0)
		castq_publish(q, code, us, len);
	pthread_mutex_unlock(&q->mu);
	return r;
}

int castq_push(struct cast *c, char code, long long us, const void *data, size_t len)
{
	struct castq *q = c->q;
	const unsigned char *d = data;
	int r = 0;

	pthread_mutex_lock(&q->mu);
	do {
		size_t piece = len > PIECE ? PIECE : len;

		r = castq_put(q, code, us, d, piece);
		d += piece;
		len -= piece;
	} while (r == 0 && len > 0);
	pthread_mutex_unlock(&q->mu);
	return r;
}

int castq_error(struct cast *c)
{
	int r;

	if (!c->q)
		return 0;
	pthread_mutex_lock(&c->q->mu);
	r = c->q->err;
	pthread_mutex_unlock(&c->q->mu);
	return r;
}

int castq_stop(struct cast *c)
{
	struct castq *q = c->q;
	int r;

	if (!q)
		return 0;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	r = q->err;
	c->q = NULL;
	castq_free(q);
	return r;
}
