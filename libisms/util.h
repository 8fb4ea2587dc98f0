/* Small helpers shared by every part: string lists, secure memory, hex, file checks. */
#ifndef ISMS_UTIL_H
#define ISMS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "err.h"

#define ISMS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Long work tells of its progress here: the phase, how much of total is done
 * (total 0 when it is not known). */
typedef void (*isms_progress_fn)(void *arg, const char *phase, long long done, long long total);

/* NULL-terminated string lists, as the config keeps them. */
char **isms_list_split(const char *csv);          /* "a, b,c" -> {"a","b","c",NULL}; NULL on ENOMEM */
bool isms_list_contains(char *const *list, const char *s);
size_t isms_list_len(char *const *list);
char *isms_list_join(char *const *list, const char *sep); /* malloc'd */
void isms_list_free(char **list);

/* Strip leading and trailing white space in place; returns the start. */
char *isms_strip(char *s);

/* Write s to f with HTML's special characters escaped (text and attribute safe). */
void isms_html_escape(FILE *f, const char *s);

/* Join a root prefix and an absolute path: ("/tmp/r", "/etc/x") -> "/tmp/r/etc/x". */
char *isms_path_join(const char *root, const char *path);

/* Refuse a file or directory that guards access: group/other-writable, or, when the
 * caller is root, not owned by root. `what` names it in the message. Follows no symlink. */
int isms_check_guard(const char *path, const char *what, bool want_dir, struct isms_err *err);
/* The rules applied to what stat(2) said of path. */
int isms_check_guard_st(const struct stat *st, const char *path, const char *what, bool want_dir,
			struct isms_err *err);
/* The same, also returning what lstat(2) said of path (identity, times). */
int isms_check_guard_stat(const char *path, const char *what, bool want_dir, struct stat *st,
			  struct isms_err *err);

/* The same rules for a regular file already open (no race between check and use);
 * `path` only names it in the message. */
int isms_check_guard_fd(int fd, const char *path, const char *what, struct isms_err *err);

/* mkdir -p with a mode for the directories it creates; existing ones are left alone. */
int isms_mkdir_p(const char *path, mode_t mode);

/* Read a whole regular file of at most max bytes into a malloc'd, NUL-terminated
 * buffer (no symlink followed). */
int isms_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct isms_err *err);

/* Hex encoding; out must hold 2*len+1 bytes. */
void isms_hex(const unsigned char *in, size_t len, char *out);

/* Wipe and free memory that held a secret. NULL is fine. */
void isms_secret_free(void *p, size_t len);

/* Decimal text of v into out (ISMS_INT_TEXT bytes), NUL-terminated; returns
 * the end (the NUL). By hand: the sync formats a few per directory entry. */
#define ISMS_INT_TEXT 21
char *isms_fmt_int(char *out, long long v);

/* Parse a decimal integer in [min, max]; returns 0 or -EINVAL/-ERANGE. */
int isms_parse_int(const char *s, long long min, long long max, long long *ret);

/* Parse "90", "30s", "15m", "24h", "7d" into seconds. */
int isms_parse_duration(const char *s, long long *ret_seconds);

/* Format an epoch time as UTC ISO 8601 ("2026-11-27T03:43:56Z"); buf >= 21 bytes. */
const char *isms_time_iso(int64_t t, char *buf, size_t len);

/* Parse "2026-11-27", "2026-11-27T10:00:00Z", "2026-11-27 10:00" or "@EPOCH" (UTC). */
int isms_time_parse(const char *s, int64_t *ret);

/* A pool of small allocations freed together: the strings of a sync over
 * 100,000 entries cost one free per megabyte instead of one each. Zeroed is
 * empty. Allocations are byte-aligned (strings). */
struct isms_pool_chunk;
struct isms_pool {
	struct isms_pool_chunk *head;   /* newest first */
	char *next, *end;               /* room left in head */
};
/* n bytes (NULL when out of memory). */
char *isms_pool_alloc(struct isms_pool *p, size_t n);
/* A copy of s[0, n) with a NUL after it; of s (NULL for NULL). */
char *isms_pool_strndup(struct isms_pool *p, const char *s, size_t n);
char *isms_pool_strdup(struct isms_pool *p, const char *s);
/* The last allocation, last, keeps its first n bytes; the rest is room again. */
void isms_pool_shrink(struct isms_pool *p, char *last, size_t n);
/* dst takes src's allocations (src is left empty). */
void isms_pool_adopt(struct isms_pool *dst, struct isms_pool *src);
void isms_pool_free(struct isms_pool *p);

#endif
