/* Helpers shared by every part: lists, paths, guarded files, parsing. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "util.h"

char *isms_strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

char **isms_list_split(const char *csv)
{
	char *copy, *tok, *save = NULL, **list;
	size_t n = 0, cap = 1;

	if (!csv)
		csv = "";
	for (const char *p = csv; *p; p++)
		if (*p == ',')
			cap++;
	list = calloc(cap + 1, sizeof(*list));
	copy = strdup(csv);
	if (!list || !copy) {
		free(list);
		free(copy);
		return NULL;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *item = isms_strip(tok);

		if (!*item)
			continue;
		list[n] = strdup(item);
		if (!list[n]) {
			isms_list_free(list);
			free(copy);
			return NULL;
		}
		n++;
	}
	free(copy);
	return list;
}

bool isms_list_contains(char *const *list, const char *s)
{
	if (!list || !s)
		return false;
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

size_t isms_list_len(char *const *list)
{
	size_t n = 0;

	while (list && list[n])
		n++;
	return n;
}

char *isms_list_join(char *const *list, const char *sep)
{
	size_t len = 1, seplen = strlen(sep);
	char *out;

	for (size_t i = 0; list && list[i]; i++)
		len += strlen(list[i]) + seplen;
	out = malloc(len);
	if (!out)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; list && list[i]; i++) {
		if (i)
			strcat(out, sep);
		strcat(out, list[i]);
	}
	return out;
}

void isms_html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

void isms_list_free(char **list)
{
	if (!list)
		return;
	for (size_t i = 0; list[i]; i++)
		free(list[i]);
	free(list);
}

char *isms_path_join(const char *root, const char *path)
{
	char *out;
	size_t rl;

	if (!root || !*root)
		return strdup(path);
	rl = strlen(root);
	while (rl > 0 && root[rl - 1] == '/')   /* "/" and "/tmp/r/" add no extra slash */
		rl--;
	if (asprintf(&out, "%.*s%s%s", (int)rl, root, path[0] == '/' ? "" : "/", path) < 0)
		return NULL;
	return out;
}

/* The rules themselves, shared by the path and the descriptor forms. */
int isms_check_guard_st(const struct stat *st, const char *path, const char *what, bool want_dir,
			struct isms_err *err)
{
	if (want_dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return isms_err_set(err, -EPERM, "%s %s: not a %s", what, path,
				    want_dir ? "directory" : "regular file");
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return isms_err_set(err, -EPERM,
				    "%s %s is writable by group or other (mode %04o); fix: chmod go-w %s",
				    what, path, (unsigned)(st->st_mode & 07777), path);
	if (st->st_uid != 0 && geteuid() == 0)
		return isms_err_set(err, -EPERM,
				    "%s %s is not owned by root (uid %u); fix: chown root %s",
				    what, path, (unsigned)st->st_uid, path);
	return 0;
}

int isms_check_guard_stat(const char *path, const char *what, bool want_dir, struct stat *st,
			  struct isms_err *err)
{
	if (lstat(path, st) < 0)
		return isms_err_set(err, -errno, "%s %s: %s", what, path, strerror(errno));
	return isms_check_guard_st(st, path, what, want_dir, err);
}

int isms_check_guard(const char *path, const char *what, bool want_dir, struct isms_err *err)
{
	struct stat st;

	return isms_check_guard_stat(path, what, want_dir, &st, err);
}

int isms_check_guard_fd(int fd, const char *path, const char *what, struct isms_err *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return isms_err_set(err, -errno, "%s %s: %s", what, path, strerror(errno));
	return isms_check_guard_st(&st, path, what, false, err);
}

int isms_mkdir_p(const char *path, mode_t mode)
{
	char *copy = strdup(path);
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(copy, mode) < 0 && errno != EEXIST) {
				r = -errno;
				break;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	free(copy);
	return r;
}

void isms_hex(const unsigned char *in, size_t len, char *out)
{
	(void)sodium_bin2hex(out, 2 * len + 1, in, len);
}

void isms_secret_free(void *p, size_t len)
{
	if (!p)
		return;
	sodium_memzero(p, len);
	free(p);
}

int isms_parse_int(const char *s, long long min, long long max, long long *ret)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno == ERANGE)
		return errno == ERANGE ? -ERANGE : -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int isms_parse_duration(const char *s, long long *ret_seconds)
{
	char *end;
	long long v, mult = 1;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end) {
		if (end[1] != '\0')
			return -EINVAL;
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return -EINVAL;
		}
	}
	if (v > (long long)1e12 / mult)
		return -ERANGE;
	*ret_seconds = v * mult;
	return 0;
}

const char *isms_time_iso(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, len, "@%lld", (long long)t);
	return buf;
}

int isms_time_parse(const char *s, int64_t *ret)
{
	static const char *const formats[] = {
		"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
		"%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
	};

	if (!s)
		return -EINVAL;
	if (s[0] == '@') {
		long long v;

		if (isms_parse_int(s + 1, 0, (long long)1e12, &v) < 0)
			return -EINVAL;
		*ret = v;
		return 0;
	}
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(formats); i++) {
		struct tm tm = { 0 };
		const char *end = strptime(s, formats[i], &tm);

		if (end && *end == '\0') {
			time_t t = timegm(&tm);

			if (t == (time_t)-1)
				return -EINVAL;
			*ret = t;
			return 0;
		}
	}
	return -EINVAL;
}

int isms_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct isms_err *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	size_t off = 0;
	ssize_t n = 0;
	char *buf;

	if (fd < 0)
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > max) {
		close(fd);
		return isms_err_set(err, -EINVAL, "%s: not a regular file of at most %zu bytes", path, max);
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		close(fd);
		return isms_err_set(err, -ENOMEM, "out of memory");
	}
	while (off < (size_t)sb.st_size && (n = read(fd, buf + off, (size_t)sb.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	if (n < 0) {
		free(buf);
		return isms_err_set(err, -EIO, "%s: read failed", path);
	}
	buf[off] = '\0';
	*ret = buf;
	*ret_len = off;
	return 0;
}

char *isms_fmt_int(char *out, long long v)
{
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	char tmp[ISMS_INT_TEXT];
	size_t n = 0;

	if (v < 0)
		*out++ = '-';
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (n)
		*out++ = tmp[--n];
	*out = '\0';
	return out;
}

#define POOL_CHUNK (1024 * 1024 - 64)

struct isms_pool_chunk {
	struct isms_pool_chunk *next;
	char data[];
};

char *isms_pool_alloc(struct isms_pool *p, size_t n)
{
	struct isms_pool_chunk *c;
	size_t size;
	char *r;

	if ((size_t)(p->end - p->next) >= n) {
		r = p->next;
		p->next += n;
		return r;
	}
	size = n > POOL_CHUNK / 4 ? n : POOL_CHUNK;
	c = malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	if (size != POOL_CHUNK && p->head) {
		/* A large one on its own, behind the chunk still being filled. */
		c->next = p->head->next;
		p->head->next = c;
		return c->data;
	}
	c->next = p->head;
	p->head = c;
	p->next = c->data + n;
	p->end = c->data + size;
	return c->data;
}

char *isms_pool_strndup(struct isms_pool *p, const char *s, size_t n)
{
	char *r = isms_pool_alloc(p, n + 1);

	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

char *isms_pool_strdup(struct isms_pool *p, const char *s)
{
	return s ? isms_pool_strndup(p, s, strlen(s)) : NULL;
}

void isms_pool_shrink(struct isms_pool *p, char *last, size_t n)
{
	if (p->head && last >= p->head->data && last < p->end && last + n <= p->next)
		p->next = last + n;
}

void isms_pool_adopt(struct isms_pool *dst, struct isms_pool *src)
{
	struct isms_pool_chunk *tail = src->head;

	if (!tail)
		return;
	if (!dst->head) {
		*dst = *src;
	} else {
		while (tail->next)
			tail = tail->next;
		tail->next = dst->head->next;
		dst->head->next = src->head;
	}
	memset(src, 0, sizeof(*src));
}

void isms_pool_free(struct isms_pool *p)
{
	for (struct isms_pool_chunk *c = p->head, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	memset(p, 0, sizeof(*p));
}
