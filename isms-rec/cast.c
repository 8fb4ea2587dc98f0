/* asciicast v2 writer: events as JSON lines, buffered, sealed into the
 * encrypted recording at least every flush_interval and whenever the buffer fills.
 * Once the writer thread runs (castq.c) events are queued to it; before that
 * (the header, a refused session) they are written here directly. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rec.h"

/* Seal once this much is buffered; an event is refused room only at the chunk limit. */
#define FLUSH_AT     (256u * 1024)
#define MAX_PIECE    (64u * 1024)     /* data bytes escaped per event line */
#define WORST(n)     ((n) * 6 + 64)   /* every byte as \u00XX, plus the frame */

int cast_open(struct cast *c, struct isms_rec_writer *w, long long flush_seconds)
{
	memset(c, 0, sizeof(*c));
	c->buf = malloc(ISMS_REC_MAXCHUNK);
	if (!c->buf)
		return isms_err_set(&c->err, -ENOMEM, "out of memory");
	c->w = w;
	c->flush_ms = flush_seconds * 1000;
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	return 0;
}

void cast_close(struct cast *c)
{
	(void)castq_stop(c);
	free(c->buf);
	c->buf = NULL;
}

/* Microseconds since the recording started: an event's time. */
long long cast_now_us(const struct cast *c)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - c->t0.tv_sec) * 1000000LL + (now.tv_nsec - c->t0.tv_nsec) / 1000;
}

/* Seal what is buffered, in the thread that owns the buffer. */
int cast_seal(struct cast *c, bool final)
{
	int r;

	if (!c->len && !final)
		return 0;
	r = isms_rec_writer_chunk(c->w, c->buf, c->len, final, &c->err);
	c->len = 0;
	c->pending = false;
	return r;
}

int cast_flush(struct cast *c, bool final)
{
	int r = castq_stop(c);   /* the writer thread formats all that is queued, then ends */

	if (r < 0)
		return r;
	return cast_seal(c, final);
}

/* Due from the time of the oldest event waiting, not from when it was formatted. */
int cast_seal_due_ms(const struct cast *c)
{
	long long left_us;

	if (!c->pending)
		return -1;
	left_us = c->flush_ms * 1000 - (cast_now_us(c) - c->pending_us);
	return left_us <= 0 ? 0 : (int)((left_us + 999) / 1000);   /* never wake before it is due */
}

int cast_flush_due_ms(const struct cast *c)
{
	return c->q ? -1 : cast_seal_due_ms(c);   /* the writer thread keeps its own time */
}

int cast_flush_if_due(struct cast *c)
{
	if (c->q)
		return castq_error(c);
	if (cast_seal_due_ms(c) == 0)
		return cast_seal(c, false);
	return 0;
}

/* Make room for `need` more bytes of an event at time us, sealing what is
 * buffered when it fills. */
static int reserve(struct cast *c, size_t need, long long us)
{
	if (c->len + need > ISMS_REC_MAXCHUNK && c->len) {
		int r = cast_seal(c, false);

		if (r < 0)
			return r;
	}
	if (!c->pending) {
		c->pending = true;
		c->pending_us = us;
	}
	return 0;
}

static void put(struct cast *c, const char *s, size_t n)
{
	memcpy(c->buf + c->len, s, n);
	c->len += n;
}

static void put_time_code(struct cast *c, char code, long long us)
{
	c->len += (size_t)snprintf((char *)c->buf + c->len, 48, "[%lld.%06lld, \"%c\", \"", us / 1000000,
				   us % 1000000, code);
}

/* Length of a valid UTF-8 sequence at p (n bytes available): >0 valid, 0 needs
 * more bytes, -1 invalid. */
static int utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	int len;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return -1;
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return 0;
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return -1;
	return len;
}

/* Escape data as a JSON string body; an incomplete trailing sequence is kept in
 * the carry for the stream's next event. Invalid bytes become U+FFFD, as players do. */
/* Bytes that stand for themselves inside a JSON string. */
static const bool plain[256] = {
	[0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7f] = true,   /* not " or \\ */
};

/* Whether all 8 bytes of v are plain: none below 0x20, none '"' or '\\', none
 * 0x80 or above (word-at-a-time tests; a false "no" only takes the slow path). */
static inline bool word_plain(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t ctl = (v - ones * 0x20) & ~v;
	uint64_t quote = v ^ (ones * '"'), bslash = v ^ (ones * '\\');

	quote = (quote - ones) & ~quote;
	bslash = (bslash - ones) & ~bslash;
	return !((ctl | quote | bslash | v) & high);
}

static void put_escaped(struct cast *c, int stream, const unsigned char *d, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	char *o = (char *)c->buf + c->len;
	size_t i = 0;

	while (i < n) {
		unsigned char ch = d[i];
		size_t run = i;
		int l;

		/* Most terminal output is printable ASCII: copy it in runs, found a word
		 * at a time. */
		while (run + 8 <= n) {
			uint64_t v;

			memcpy(&v, d + run, 8);
			if (!word_plain(v))
				break;
			run += 8;
		}
		while (run < n && plain[d[run]])
			run++;
		if (run > i) {
			memcpy(o, d + i, run - i);
			o += run - i;
			i = run;
			continue;
		}
		if (ch < 0x80) {
			*o++ = '\\';
			switch (ch) {
			case '"': *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '\n': *o++ = 'n'; break;
			case '\r': *o++ = 'r'; break;
			case '\t': *o++ = 't'; break;
			case '\b': *o++ = 'b'; break;
			case '\f': *o++ = 'f'; break;
			default:
				*o++ = 'u'; *o++ = '0'; *o++ = '0';
				*o++ = hexd[ch >> 4]; *o++ = hexd[ch & 15];
			}
			i++;
			continue;
		}
		l = utf8_seq(d + i, n - i);
		if (l == 0) {
			memcpy(c->carry[stream], d + i, n - i);
			c->carry_len[stream] = n - i;
			break;
		}
		if (l < 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(o, d + i, (size_t)l);
		o += l;
		i += (size_t)l;
	}
	c->len = (size_t)((unsigned char *)o - c->buf);
}

static int event_data(struct cast *c, char code, long long us, const unsigned char *d, size_t len)
{
	int stream = code == 'i';
	int r;

	while (len > 0) {
		unsigned char joined[MAX_PIECE + 4];
		size_t piece = len > MAX_PIECE ? MAX_PIECE : len, jl;

		r = reserve(c, WORST(piece + 4), us);
		if (r < 0)
			return r;
		put_time_code(c, code, us);
		jl = c->carry_len[stream];
		if (jl) {   /* rare: a character split across two reads */
			memcpy(joined, c->carry[stream], jl);
			memcpy(joined + jl, d, piece);
			c->carry_len[stream] = 0;
			put_escaped(c, stream, joined, jl + piece);
		} else {
			put_escaped(c, stream, d, piece);
		}
		put(c, "\"]\n", 3);
		d += piece;
		len -= piece;
	}
	return 0;
}

/* data is "COLSxROWS": nothing to escape. */
static int event_resize(struct cast *c, long long us, const unsigned char *data, size_t len)
{
	int r = reserve(c, len + 64, us);

	if (r < 0)
		return r;
	put_time_code(c, 'r', us);
	put(c, (const char *)data, len);
	put(c, "\"]\n", 3);
	return 0;
}

static int event_marker(struct cast *c, long long us, const unsigned char *label, size_t n)
{
	int r = reserve(c, WORST(n), us);

	if (r < 0)
		return r;
	put_time_code(c, 'm', us);
	put_escaped(c, 0, label, n);
	c->carry_len[0] = 0;
	put(c, "\"]\n", 3);
	return 0;
}

/* Format one event into the buffer: where the writer thread (or, before it
 * runs, the caller) turns what the relay saw into asciicast. */
int cast_event(struct cast *c, char code, long long us, const unsigned char *data, size_t len)
{
	int r;

	switch (code) {
	case 'r':
		r = event_resize(c, us, data, len);
		break;
	case 'm':
		r = event_marker(c, us, data, len);
		break;
	default:
		r = event_data(c, code, us, data, len);
		break;
	}
	if (r == 0 && c->len >= FLUSH_AT)
		r = cast_seal(c, false);
	return r;
}

/* Stamp the event now, then queue it to the writer thread or format it here. */
static int cast_submit(struct cast *c, char code, const void *data, size_t len)
{
	long long us = cast_now_us(c);

	c->claimed = NULL;   /* room claimed and not used is given up: this goes there */
	if (c->q)
		return castq_push(c, code, us, data, len);
	return cast_event(c, code, us, data, len);
}

unsigned char *cast_buffer(struct cast *c, size_t len)
{
	c->claimed = c->q ? castq_claim(c, len) : NULL;
	c->claimed_len = c->claimed ? len : 0;
	return c->claimed;
}

int cast_data(struct cast *c, char code, const void *data, size_t len)
{
	if (c->q && c->claimed && data == c->claimed && len <= c->claimed_len) {
		c->claimed = NULL;   /* read in place: publish it, copy nothing */
		return castq_commit(c, code, cast_now_us(c), len);
	}
	return cast_submit(c, code, data, len);
}

int cast_resize(struct cast *c, int cols, int rows)
{
	char s[32];

	return cast_submit(c, 'r', s, (size_t)snprintf(s, sizeof(s), "%dx%d", cols, rows));
}

int cast_marker(struct cast *c, const char *label)
{
	size_t n = strlen(label);

	return cast_submit(c, 'm', label, n > MAX_PIECE ? MAX_PIECE : n);
}

int cast_header(struct cast *c, int width, int height, int64_t timestamp, const char *command,
		const char *title, const char *shell, const char *term)
{
	json_t *h = json_pack("{s:i,s:i,s:i,s:I,s:s,s:{s:s,s:s}}", "version", 2, "width", width,
			      "height", height, "timestamp", (json_int_t)timestamp, "title", title,
			      "env", "SHELL", shell, "TERM", term ? term : "");
	char *s;
	int r;

	if (!h)
		return isms_err_set(&c->err, -ENOMEM, "out of memory");
	if (command)
		json_object_set_new(h, "command", json_string(command));
	s = json_dumps(h, JSON_COMPACT);
	json_decref(h);
	if (!s || strlen(s) > MAX_PIECE) {
		free(s);
		return isms_err_set(&c->err, -EINVAL, "recording header too large");
	}
	r = reserve(c, strlen(s) + 1, cast_now_us(c));
	if (r == 0) {
		put(c, s, strlen(s));
		put(c, "\n", 1);
	}
	free(s);
	return r;
}
