/* The stored form of a directory entry (registry table ldap_entries): what the
 * next sync diffs against and an incremental sync applies changes to. Written
 * and read by hand: every sync serializes every entry, and an incremental one
 * reads them all back, so this is on the hot path. The reader accepts exactly
 * the writer's language — an object whose values are strings, whole numbers or
 * lists of strings — and anything else is -EBADMSG (the sync then reads the
 * directory in full). */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldap_map.h"
#include "util.h"

struct jbuf {
	char *p;
	size_t len, cap;
	bool oom;
	bool skip;              /* only checking the text: build nothing */
};

/* Room for n more bytes and the NUL at the end (NULL: out of memory, or skipping). */
static char *jb_room(struct jbuf *b, size_t n)
{
	if (b->oom || b->skip)
		return NULL;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 512;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	return b->p + b->len;
}

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
	char *p = jb_room(b, n);

	if (!p)
		return;
	memcpy(p, s, n);
	b->len += n;
	p[n] = '\0';
}

static bool jb_plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

static void jb_str(struct jbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	size_t n = 0;
	char *p;

	/* Most values need no escape: one copy. */
	while (s[n] && jb_plain((unsigned char)s[n]))
		n++;
	if (!s[n]) {
		p = jb_room(b, n + 2);
		if (p) {
			p[0] = '"';
			memcpy(p + 1, s, n);
			p[n + 1] = '"';
			p[n + 2] = '\0';
			b->len += n + 2;
		}
		return;
	}
	jb_put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7] = { '\\', 'u', '0', '0', 0, 0, 0 };

		if (jb_plain(c))
			continue;
		jb_put(b, run, (size_t)(s - run));
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			jb_put(b, esc, 2);
		} else {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			jb_put(b, esc, 6);
		}
		run = s + 1;
	}
	jb_put(b, run, (size_t)(s - run));
	jb_put(b, "\"", 1);
}

/* A key: one of the writer's own names, plain ASCII. */
static void jb_key(struct jbuf *b, const char *k)
{
	size_t n = strlen(k);
	char *p = jb_room(b, n + 4), *o = p;

	if (!p)
		return;
	if (b->len > 1)
		*o++ = ',';
	*o++ = '"';
	memcpy(o, k, n);
	o += n;
	*o++ = '"';
	*o++ = ':';
	*o = '\0';
	b->len += (size_t)(o - p);
}

static void jb_kstr(struct jbuf *b, const char *k, const char *v)
{
	if (!v)
		return;
	jb_key(b, k);
	jb_str(b, v);
}

static void jb_knum(struct jbuf *b, const char *k, long long v)
{
	char n[ISMS_INT_TEXT];

	if (v < 0)
		return;
	jb_key(b, k);
	jb_put(b, n, (size_t)(isms_fmt_int(n, v) - n));
}

static void jb_klist(struct jbuf *b, const char *k, char **l)
{
	if (!l || !l[0])
		return;
	jb_key(b, k);
	jb_put(b, "[", 1);
	for (size_t i = 0; l[i]; i++) {
		if (i)
			jb_put(b, ",", 1);
		jb_str(b, l[i]);
	}
	jb_put(b, "]", 1);
}

long isms_ldap_entry_json_into(const struct isms_ldap_entry *e, char **buf, size_t *cap)
{
	struct jbuf b = { .p = *buf, .cap = *cap };

	if (e->stored) {
		jb_put(&b, e->stored, strlen(e->stored));
	} else {
		jb_put(&b, "{", 1);
		jb_kstr(&b, "name", e->name);
		jb_knum(&b, "number", e->number);
		if (e->kind == ISMS_LDAP_ACCOUNT) {
			jb_knum(&b, "gid", e->gid);
			jb_kstr(&b, "display", e->display);
			jb_kstr(&b, "mail", e->mail);
			jb_kstr(&b, "employee_no", e->employee_no);
			jb_kstr(&b, "manager_dn", e->manager_dn);
			jb_kstr(&b, "department", e->department);
			jb_kstr(&b, "title", e->title);
			jb_kstr(&b, "shell", e->shell);
			jb_kstr(&b, "home", e->home);
			jb_kstr(&b, "kind", e->kind_value);
			jb_kstr(&b, "locked_time", e->locked_time);
			jb_knum(&b, "shadow_expire", e->shadow_expire);
		} else {
			jb_klist(&b, "memberUid", e->member_uid);
			jb_klist(&b, "member", e->member);
			jb_klist(&b, "uniqueMember", e->unique_member);
		}
		jb_put(&b, "}", 1);
	}
	*buf = b.p;
	*cap = b.cap;
	return b.oom ? -ENOMEM : (long)b.len;
}

char *isms_ldap_entry_to_json(const struct isms_ldap_entry *e)
{
	char *buf = NULL;
	size_t cap = 0;

	if (isms_ldap_entry_json_into(e, &buf, &cap) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Reading. */
struct jp {
	const char *p;
};

static void jp_ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static int hex4(const char *s, unsigned *ret)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)s[i];

		if (!isxdigit(c))
			return -EBADMSG;
		v = v * 16 + (unsigned)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	*ret = v;
	return 0;
}

static void utf8_put(struct jbuf *b, unsigned cp)
{
	char u[4];

	if (cp < 0x80) {
		u[0] = (char)cp;
		jb_put(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		jb_put(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		jb_put(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		jb_put(b, u, 4);
	}
}

/* A string at j->p (the opening quote); malloc'd, NUL-free. ret NULL: checked
 * and skipped. */
static int jp_string(struct jp *j, char **ret)
{
	struct jbuf b = { .skip = !ret };
	const char *run;

	if (*j->p != '"')
		return -EBADMSG;
	run = ++j->p;
	for (;;) {
		unsigned char c = (unsigned char)*j->p;
		unsigned cp, lo;

		if (c == '"')
			break;
		if (c < 0x20)
			goto bad;   /* control characters, and the end of the text */
		if (c != '\\') {
			j->p++;
			continue;
		}
		jb_put(&b, run, (size_t)(j->p - run));
		j->p++;
		switch (*j->p) {
		case '"': case '\\': case '/':
			jb_put(&b, j->p, 1);
			break;
		case 'b': jb_put(&b, "\b", 1); break;
		case 'f': jb_put(&b, "\f", 1); break;
		case 'n': jb_put(&b, "\n", 1); break;
		case 'r': jb_put(&b, "\r", 1); break;
		case 't': jb_put(&b, "\t", 1); break;
		case 'u':
			if (hex4(j->p + 1, &cp) < 0)
				goto bad;
			j->p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->p[1] != '\\' || j->p[2] != 'u' || hex4(j->p + 3, &lo) < 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				j->p += 6;
			} else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
				goto bad;
			}
			utf8_put(&b, cp);
			break;
		default:
			goto bad;
		}
		run = ++j->p;
	}
	jb_put(&b, run, (size_t)(j->p - run));
	j->p++;
	if (b.skip)
		return 0;
	if (!b.p && !b.oom) {
		b.p = strdup("");
		b.oom = !b.p;
	}
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*ret = b.p;
	return 0;
bad:
	free(b.p);
	return -EBADMSG;
}

static int jp_number(struct jp *j, long long *ret)
{
	bool neg = *j->p == '-';
	long long v = 0;
	int n = 0;

	if (neg)
		j->p++;
	while (isdigit((unsigned char)*j->p)) {
		if (++n > 15)
			return -EBADMSG;
		v = v * 10 + (*j->p++ - '0');
	}
	if (n == 0 || *j->p == '.' || *j->p == 'e' || *j->p == 'E')
		return -EBADMSG;
	*ret = neg ? -v : v;
	return 0;
}

/* A list of strings; ret NULL: checked and skipped. */
static int jp_list(struct jp *j, char ***ret)
{
	char **l;
	size_t n = 0;
	int r = 0;

	if (!ret) {
		j->p++;   /* [ */
		jp_ws(j);
		while (r == 0 && *j->p != ']') {
			if (n++) {
				if (*j->p != ',')
					return -EBADMSG;
				j->p++;
				jp_ws(j);
			}
			r = jp_string(j, NULL);
			jp_ws(j);
		}
		if (r == 0)
			j->p++;   /* ] */
		return r;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	j->p++;   /* [ */
	jp_ws(j);
	while (r == 0 && *j->p != ']') {
		char **nl;

		if (n) {
			if (*j->p != ',') {
				r = -EBADMSG;
				break;
			}
			j->p++;
			jp_ws(j);
		}
		nl = realloc(l, (n + 2) * sizeof(*l));
		if (!nl) {
			r = -ENOMEM;
			break;
		}
		l = nl;
		l[n + 1] = NULL;
		r = jp_string(j, &l[n]);
		if (r == 0)
			n++;
		else
			l[n] = NULL;
		jp_ws(j);
	}
	if (r < 0) {
		isms_list_free(l);
		return r;
	}
	j->p++;   /* ] */
	*ret = l;
	return 0;
}

/* Where each key goes in an entry; unknown keys are refused. e NULL: the
 * value is checked and skipped, and v points at the few it keeps. */
static int jp_field(struct jp *j, struct isms_ldap_entry *e, struct isms_ldap_stored_view *v, const char *key)
{
	static const struct { const char *key; size_t off; } strs[] = {
		{ "name", offsetof(struct isms_ldap_entry, name) },
		{ "display", offsetof(struct isms_ldap_entry, display) },
		{ "mail", offsetof(struct isms_ldap_entry, mail) },
		{ "employee_no", offsetof(struct isms_ldap_entry, employee_no) },
		{ "manager_dn", offsetof(struct isms_ldap_entry, manager_dn) },
		{ "department", offsetof(struct isms_ldap_entry, department) },
		{ "title", offsetof(struct isms_ldap_entry, title) },
		{ "shell", offsetof(struct isms_ldap_entry, shell) },
		{ "home", offsetof(struct isms_ldap_entry, home) },
		{ "kind", offsetof(struct isms_ldap_entry, kind_value) },
		{ "locked_time", offsetof(struct isms_ldap_entry, locked_time) },
	}, nums[] = {
		{ "number", offsetof(struct isms_ldap_entry, number) },
		{ "gid", offsetof(struct isms_ldap_entry, gid) },
		{ "shadow_expire", offsetof(struct isms_ldap_entry, shadow_expire) },
	}, lists[] = {
		{ "memberUid", offsetof(struct isms_ldap_entry, member_uid) },
		{ "member", offsetof(struct isms_ldap_entry, member) },
		{ "uniqueMember", offsetof(struct isms_ldap_entry, unique_member) },
	};

	long long num;

	if (!e) {
		const char **at = strcmp(key, "name") == 0 ? &v->name :
				  strcmp(key, "manager_dn") == 0 ? &v->manager_dn :
				  strcmp(key, "employee_no") == 0 ? &v->employee_no : NULL;

		if (at)
			*at = j->p;
		if (strcmp(key, "locked_time") == 0)
			v->locked_time = true;
	}
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(strs); i++)
		if (strcmp(key, strs[i].key) == 0) {
			char **f, *s;
			int r;

			if (!e)
				return jp_string(j, NULL);
			f = (char **)((char *)e + strs[i].off);
			r = jp_string(j, &s);
			if (r == 0) {
				free(*f);
				*f = s;
			}
			return r;
		}
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(nums); i++)
		if (strcmp(key, nums[i].key) == 0) {
			int r = jp_number(j, e ? (long long *)((char *)e + nums[i].off) : &num);

			if (r == 0 && !e && strcmp(key, "number") == 0)
				v->number = num;
			else if (r == 0 && !e && strcmp(key, "shadow_expire") == 0)
				v->shadow_expire = num;
			return r;
		}
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(lists); i++)
		if (strcmp(key, lists[i].key) == 0 && *j->p == '[') {
			char ***f, **l;
			int r;

			if (!e)
				return jp_list(j, NULL);
			f = (char ***)((char *)e + lists[i].off);
			r = jp_list(j, &l);
			if (r == 0) {
				isms_list_free(*f);
				*f = l;
			}
			return r;
		}
	return -EBADMSG;
}

/* A key into buf (every known key is short and plain; a longer or escaped one
 * is decoded, and matches none when it does not fit). */
static int jp_key(struct jp *j, char *buf, size_t len)
{
	const char *start = j->p;
	size_t n;
	int r = jp_string(j, NULL);

	if (r < 0)
		return r;
	n = (size_t)(j->p - start) - 2;
	if (n < len && !memchr(start + 1, '\\', n)) {
		memcpy(buf, start + 1, n);
		buf[n] = '\0';
		return 0;
	} else {
		struct jp k = { .p = start };
		char *s;

		r = jp_string(&k, &s);
		if (r < 0)
			return r;
		(void)snprintf(buf, len, "%s", strlen(s) < len ? s : "");
		free(s);
		return 0;
	}
}

/* The object at j->p, into e, or (e NULL) checked with v pointing into it. */
static int jp_object(struct jp *j, struct isms_ldap_entry *e, struct isms_ldap_stored_view *v)
{
	int r = 0;

	jp_ws(j);
	if (*j->p != '{')
		return -EBADMSG;
	j->p++;
	jp_ws(j);
	while (r == 0 && *j->p != '}') {
		char key[32];

		r = jp_key(j, key, sizeof(key));
		jp_ws(j);
		if (r == 0 && *j->p != ':')
			r = -EBADMSG;
		else if (r == 0)
			j->p++;
		jp_ws(j);
		if (r == 0)
			r = jp_field(j, e, v, key);
		jp_ws(j);
		if (r == 0 && *j->p == ',') {
			j->p++;
			jp_ws(j);
			if (*j->p == '}')
				r = -EBADMSG;
		} else if (r == 0 && *j->p != '}') {
			r = -EBADMSG;
		}
	}
	if (r == 0) {
		j->p++;
		jp_ws(j);
		if (*j->p || !(e ? e->name != NULL : v->name != NULL))
			r = -EBADMSG;
	}
	return r;
}

int isms_ldap_stored_scan(const char *json, struct isms_ldap_stored_view *ret)
{
	struct jp j = { .p = json };

	memset(ret, 0, sizeof(*ret));
	ret->number = ret->shadow_expire = -1;
	return jp_object(&j, NULL, ret);
}

char *isms_ldap_stored_str(const char *quote)
{
	struct jp j = { .p = quote };
	char *s = NULL;

	return quote && jp_string(&j, &s) == 0 ? s : NULL;
}

bool isms_ldap_stored_plain(const char *quote, const char **ret_p, size_t *ret_len)
{
	const char *end = quote ? strchr(quote + 1, '"') : NULL;

	if (!end || memchr(quote + 1, '\\', (size_t)(end - quote - 1)))
		return false;
	*ret_p = quote + 1;
	*ret_len = (size_t)(end - quote - 1);
	return true;
}

int isms_ldap_entry_from_json(const char *uuid, const char *dn, enum isms_ldap_kind kind,
			      const char *json, struct isms_ldap_entry **ret)
{
	struct isms_ldap_entry *e = isms_ldap_entry_new(kind);
	struct jp j = { .p = json };
	int r = 0;

	if (!e)
		return -ENOMEM;
	e->uuid = strdup(uuid);
	e->dn = strdup(dn);
	e->stored = strdup(json);
	if (!e->uuid || !e->dn || !e->stored)
		r = -ENOMEM;
	if (r == 0)
		r = jp_object(&j, e, NULL);
	if (r < 0) {
		isms_ldap_entry_free(e);
		return r;
	}
	*ret = e;
	return 0;
}
