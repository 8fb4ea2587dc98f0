/* Reading directory entries through the [ldap] mapping, their stored JSON
 * form, and the parsers for the values a directory sends. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <wchar.h>
#include <wctype.h>

#include "ldap_map.h"
#include "util.h"

static void list_free(char **l)
{
	isms_list_free(l);
}

void isms_ldap_entry_free(struct isms_ldap_entry *e)
{
	if (!e)
		return;
	free(e->uuid);
	free(e->dn);
	free(e->name);
	free(e->display);
	free(e->mail);
	free(e->employee_no);
	free(e->manager_dn);
	free(e->department);
	free(e->title);
	free(e->shell);
	free(e->home);
	free(e->kind_value);
	free(e->locked_time);
	list_free(e->member_uid);
	list_free(e->member);
	list_free(e->unique_member);
	free(e->stored);
	free(e);
}

struct isms_ldap_entry *isms_ldap_entry_new(enum isms_ldap_kind kind)
{
	struct isms_ldap_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->kind = kind;
	e->number = e->gid = e->shadow_expire = -1;
	return e;
}

const char **isms_ldap_attrs(const struct isms_conf *conf, enum isms_ldap_kind kind)
{
	const char **a = calloc(24, sizeof(*a));
	size_t n = 0;

	if (!a)
		return NULL;
	a[n++] = "entryUUID";
	if (kind == ISMS_LDAP_GROUP) {
		a[n++] = "cn";
		a[n++] = "gidNumber";
		a[n++] = "memberUid";
		a[n++] = "member";
		a[n++] = "uniqueMember";
		return a;
	}
	a[n++] = conf->ldap_attr_account;
	a[n++] = conf->ldap_attr_uid_number;
	a[n++] = conf->ldap_attr_gid_number;
	a[n++] = conf->ldap_attr_name;
	a[n++] = "displayName";
	a[n++] = conf->ldap_attr_mail;
	a[n++] = conf->ldap_attr_employee_number;
	a[n++] = conf->ldap_attr_manager;
	a[n++] = conf->ldap_attr_department;
	a[n++] = conf->ldap_attr_title;
	a[n++] = conf->ldap_attr_shell;
	a[n++] = "homeDirectory";
	if (conf->ldap_attr_kind[0])
		a[n++] = conf->ldap_attr_kind;
	a[n++] = "pwdAccountLockedTime";
	a[n++] = "shadowExpire";
	return a;
}

/* First value of an attribute as a C string; values holding NUL are refused. */
static int first_value(struct berval **vals, char **ret)
{
	char *s;

	if (!vals || !vals[0])
		return 0;
	if (memchr(vals[0]->bv_val, '\0', vals[0]->bv_len))
		return 0;
	s = strndup(vals[0]->bv_val, vals[0]->bv_len);
	if (!s)
		return -ENOMEM;
	free(*ret);
	*ret = s;
	return 0;
}

static int all_values(struct berval **vals, char ***ret)
{
	size_t n = 0, k = 0;
	char **l;

	while (vals && vals[n])
		n++;
	l = calloc(n + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (memchr(vals[i]->bv_val, '\0', vals[i]->bv_len))
			continue;
		l[k] = strndup(vals[i]->bv_val, vals[i]->bv_len);
		if (!l[k]) {
			list_free(l);
			return -ENOMEM;
		}
		k++;
	}
	list_free(*ret);
	*ret = l;
	return 0;
}

static int number_value(struct berval **vals, long long min, long long max, long long *ret)
{
	char *s = NULL;
	int r = first_value(vals, &s);

	if (r < 0)
		return r;
	if (s && isms_ldap_parse_number(s, min, max, ret) < 0)
		*ret = -1;
	free(s);
	return 0;
}

/* A renamed entry may keep its old name as a second value (modrdn without
 * deleteoldrdn): the value in the RDN is the current one. */
static int name_value(struct isms_ldap_entry *e, struct berval **vals)
{
	char *rdn = NULL;
	int r;

	if (!vals || !vals[0] || !vals[1] || isms_ldap_dn_rdn_value(e->dn, &rdn) < 0)
		return first_value(vals, &e->name);
	r = 0;
	for (size_t i = 0; vals[i]; i++) {
		if (vals[i]->bv_len == strlen(rdn) && memcmp(vals[i]->bv_val, rdn, vals[i]->bv_len) == 0) {
			free(e->name);
			e->name = rdn;
			return 0;
		}
	}
	free(rdn);
	r = first_value(vals, &e->name);
	return r;
}

/* Attribute names compare without case. Most names differ in their first
 * letter: testing it first spares most of the ~80 calls per entry. */
static bool same_attr(const char *a, const char *b)
{
	return tolower((unsigned char)a[0]) == tolower((unsigned char)b[0]) && strcasecmp(a, b) == 0;
}

static int attr_set(struct isms_ldap_entry *e, const struct isms_conf *conf, const char *attr,
		    struct berval **vals)
{
	if (same_attr(attr, "entryUUID"))
		return first_value(vals, &e->uuid);
	if (e->kind == ISMS_LDAP_GROUP) {
		if (same_attr(attr, "cn"))
			return first_value(vals, &e->name);
		if (same_attr(attr, "gidNumber"))
			return number_value(vals, 0, 4294967294LL, &e->number);
		if (same_attr(attr, "memberUid"))
			return all_values(vals, &e->member_uid);
		if (same_attr(attr, "member"))
			return all_values(vals, &e->member);
		if (same_attr(attr, "uniqueMember"))
			return all_values(vals, &e->unique_member);
		return 0;
	}
	if (same_attr(attr, conf->ldap_attr_account))
		return name_value(e, vals);
	if (same_attr(attr, conf->ldap_attr_uid_number))
		return number_value(vals, 0, 4294967294LL, &e->number);
	if (same_attr(attr, conf->ldap_attr_gid_number))
		return number_value(vals, 0, 4294967294LL, &e->gid);
	if (same_attr(attr, "displayName"))
		return first_value(vals, &e->display);
	if (same_attr(attr, conf->ldap_attr_name))
		return e->display ? 0 : first_value(vals, &e->display);
	if (same_attr(attr, conf->ldap_attr_mail))
		return first_value(vals, &e->mail);
	if (same_attr(attr, conf->ldap_attr_employee_number))
		return first_value(vals, &e->employee_no);
	if (same_attr(attr, conf->ldap_attr_manager))
		return first_value(vals, &e->manager_dn);
	if (same_attr(attr, conf->ldap_attr_department))
		return first_value(vals, &e->department);
	if (same_attr(attr, conf->ldap_attr_title))
		return first_value(vals, &e->title);
	if (same_attr(attr, conf->ldap_attr_shell))
		return first_value(vals, &e->shell);
	if (same_attr(attr, "homeDirectory"))
		return first_value(vals, &e->home);
	if (conf->ldap_attr_kind[0] && same_attr(attr, conf->ldap_attr_kind))
		return first_value(vals, &e->kind_value);
	if (same_attr(attr, "pwdAccountLockedTime"))
		return first_value(vals, &e->locked_time);
	if (same_attr(attr, "shadowExpire"))
		return number_value(vals, -1, 1LL << 40, &e->shadow_expire);
	return 0;
}

int isms_ldap_entry_read(LDAP *ld, LDAPMessage *msg, const struct isms_conf *conf,
			 enum isms_ldap_kind kind, struct isms_ldap_entry **ret)
{
	struct isms_ldap_entry *e = isms_ldap_entry_new(kind);
	BerElement *ber = NULL;
	struct berval dn = { 0 }, attr, *vals = NULL;
	int r = 0;

	if (!e)
		return -ENOMEM;
	/* One pass over the entry's BER (ldap_get_values_len would rescan it per attribute). */
	if (ldap_get_dn_ber(ld, msg, &ber, &dn) != LDAP_SUCCESS || !dn.bv_val) {
		ber_free(ber, 0);
		isms_ldap_entry_free(e);
		return -ENODATA;
	}
	e->dn = strndup(dn.bv_val, dn.bv_len);
	if (!e->dn)
		r = -ENOMEM;
	while (r == 0 && ldap_get_attribute_ber(ld, msg, ber, &attr, &vals) == LDAP_SUCCESS && attr.bv_val) {
		struct berval *ptrs[64], **pv = ptrs;
		size_t n = 0;
		char name[64];

		while (vals && vals[n].bv_val)
			n++;
		if (n + 1 > ISMS_ARRAY_SIZE(ptrs))
			pv = calloc(n + 1, sizeof(*pv));
		if (!pv) {
			r = -ENOMEM;
		} else if (attr.bv_len < sizeof(name)) {
			for (size_t i = 0; i < n; i++)
				pv[i] = &vals[i];
			pv[n] = NULL;
			memcpy(name, attr.bv_val, attr.bv_len);
			name[attr.bv_len] = '\0';
			r = attr_set(e, conf, name, n ? pv : NULL);
		}
		if (pv != ptrs)
			free(pv);
		ber_memfree(vals);
		vals = NULL;
	}
	ber_free(ber, 0);
	if (r == 0 && (!e->uuid || !e->name || !*e->name))
		r = -ENODATA;
	if (r < 0) {
		isms_ldap_entry_free(e);
		return r;
	}
	*ret = e;
	return 0;
}

static int digits(const char *s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (works for year 0). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int isms_ldap_parse_gentime(const char *s, int64_t *ret)
{
	int y, mo, d, h, mi = 0, sec = 0, oh = 0, om = 0;
	size_t n = s ? strlen(s) : 0;
	const char *p;
	int64_t t;

	if (n < 11 || digits(s, 4, &y) < 0 || digits(s + 4, 2, &mo) < 0 ||
	    digits(s + 6, 2, &d) < 0 || digits(s + 8, 2, &h) < 0)
		return -EINVAL;
	p = s + 10;
	if (isdigit((unsigned char)p[0])) {
		if (digits(p, 2, &mi) < 0)
			return -EINVAL;
		p += 2;
		if (isdigit((unsigned char)p[0])) {
			if (digits(p, 2, &sec) < 0)
				return -EINVAL;
			p += 2;
		}
	}
	if (*p == '.' || *p == ',') {   /* fraction: ignored, at least one digit */
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		if (digits(p + 1, 2, &oh) < 0 || oh > 23)
			return -EINVAL;
		p += 3;
		if (isdigit((unsigned char)*p)) {
			if (digits(p, 2, &om) < 0 || om > 59)
				return -EINVAL;
			p += 2;
		}
		oh *= sign;
		om *= sign;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	*ret = t - (oh * 3600 + om * 60);
	return 0;
}

int isms_ldap_parse_number(const char *s, long long min, long long max, long long *ret)
{
	return isms_parse_int(s, min, max, ret);
}

int isms_ldap_dn_rdn_value(const char *dn, char **ret)
{
	LDAPDN parsed = NULL;
	char *v;

	if (!dn || ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS || !parsed ||
	    !parsed[0] || !parsed[0][0] || !parsed[0][0]->la_value.bv_val || !parsed[0][0]->la_value.bv_len) {
		/* no RDN, or an empty value ("uid=,ou=people"): no name in it */
		ldap_dnfree(parsed);
		return -EINVAL;
	}
	v = strndup(parsed[0][0]->la_value.bv_val, parsed[0][0]->la_value.bv_len);
	ldap_dnfree(parsed);
	if (!v)
		return -ENOMEM;
	*ret = v;
	return 0;
}

/* Does the DN need more than the ASCII fast path: an escape, or a byte of
 * a UTF-8 sequence? */
static bool dn_key_slow(const char *dn, size_t *ret_len)
{
	const char *p = dn;

	for (; *p; p++)
		if (*p == '\\' || (unsigned char)*p >= 0x80)
			break;
	*ret_len = strlen(dn);
	return *p != '\0';
}

char *isms_ldap_dn_key(const char *dn)
{
	char *out = dn ? malloc(ISMS_DN_KEY_SIZE(strlen(dn))) : NULL;

	if (out)
		isms_ldap_dn_key_into(dn, out);
	return out;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Characters RFC 4514 escapes in a value: kept escaped in a key, whichever
 * way the DN wrote them ("\2C" and "\," are one key). */
static bool dn_special(unsigned char c)
{
	return c && strchr(",+\"\\<>;=# ", c);
}

/* Attribute types and DN values fold ASCII the same in every locale. */
static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static locale_t utf8;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_open(void)
{
	utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Unicode simple lower case of the UTF-8 text in[0, n) into out (room for
 * 3 bytes per 2 in): what caseIgnoreMatch folds beyond ASCII. Bytes that are
 * not UTF-8 are copied as they are. Returns the bytes written. */
static size_t utf8_lower(const char *in, size_t n, char *out)
{
	locale_t old;
	mbstate_t ms;
	size_t o = 0;

	(void)pthread_once(&utf8_once, utf8_open);
	if (!utf8) {
		for (size_t i = 0; i < n; i++)
			out[o++] = ascii_lower(in[i]);
		return o;
	}
	old = uselocale(utf8);
	memset(&ms, 0, sizeof(ms));
	for (size_t i = 0; i < n;) {
		wchar_t wc;
		size_t k = (unsigned char)in[i] < 0x80 ? 1 : mbrtowc(&wc, in + i, n - i, &ms);

		if (k == 1 && (unsigned char)in[i] < 0x80) {
			out[o++] = ascii_lower(in[i]);
		} else if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&ms, 0, sizeof(ms));
			out[o++] = in[i];
			k = 1;
		} else {
			char mb[MB_LEN_MAX];
			size_t m = wcrtomb(mb, (wchar_t)towlower((wint_t)wc), &ms);

			if (m == (size_t)-1 || m > k + (k + 1) / 2) {
				memcpy(out + o, in + i, k);
				o += k;
			} else {
				memcpy(out + o, mb, m);
				o += m;
			}
		}
		i += k;
	}
	uselocale(old);
	return o;
}

/* Blanks around separators and at either end are not part of a DN. */
static bool dn_blank_dropped(const char *p, const char *out, const char *o, bool last_escaped)
{
	char next = p[strspn(p, " ")];

	return o == out || (!last_escaped && strchr(",+=", o[-1])) || !next || strchr(",+=", next);
}

/* Escapes decoded ("\C3\B6" is "ö"; specials stay escaped, "\2C" and "\,"
 * both as "\,") and blanks dropped, into t (strlen(dn) + 2 bytes: a lone
 * backslash at the end becomes an escaped one). */
static void dn_unescape(const char *dn, char *t)
{
	char *start = t;
	bool last_escaped = false;

	for (const char *p = dn; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\\') {
			int hi = hexval(p[1]), lo = hi >= 0 && p[2] ? hexval(p[2]) : -1;

			if (lo >= 0) {
				c = (unsigned char)(hi << 4 | lo);
				p += 2;
			} else if (p[1]) {
				c = (unsigned char)*++p;
			}   /* else a backslash that ends the DN escapes nothing: kept, escaped */
			if (c == 0) {
				/* "\00" stays as it is: a key is a C string */
				memcpy(t, "\\00", 3);
				t += 3;
				last_escaped = true;
				continue;
			}
			last_escaped = dn_special(c);
			if (last_escaped)
				*t++ = '\\';
			*t++ = (char)c;
			continue;
		}
		if (c == ' ' && dn_blank_dropped(p, start, t, last_escaped))
			continue;
		*t++ = (char)c;
		last_escaped = false;
	}
	*t = '\0';
}

void isms_ldap_dn_key_into(const char *dn, char *out)
{
	char stack[512], *tmp = stack, *o = out;
	size_t len;

	if (dn_key_slow(dn, &len) && (len + 2 <= sizeof(stack) || (tmp = malloc(len + 2)))) {
		/* An escape or UTF-8: decoded, then folded to lower case beyond
		 * ASCII too. slapd returns a member value as it was written, so
		 * "uid=JÖRG" and "uid=J\C3\B6rg" must both find uid=jörg. */
		dn_unescape(dn, tmp);
		for (const char *p = tmp; *p;) {
			size_t n;

			if (*p == '\\' && p[1]) {   /* an escaped special: a pair, always */
				*o++ = *p++;
				*o++ = *p++;
				continue;
			}
			n = strcspn(p, "\\");
			o += utf8_lower(p, n, o);
			p += n;
		}
		*o = '\0';
		if (tmp != stack)
			free(tmp);
		return;
	}
	/* ASCII without escapes, the DNs of almost every directory (or no memory
	 * for the other way): lower case, no blanks around separators. */
	for (const char *p = dn; *p; p++) {
		char c = *p;

		if (c == ' ' && dn_blank_dropped(p, out, o, false))
			continue;
		*o++ = ascii_lower(c);
	}
	*o = '\0';
}

char *isms_ldap_filter_eq(const char *attr, const char *value)
{
	struct berval in = { .bv_val = (char *)value, .bv_len = strlen(value) }, esc = { 0 };
	char *s = NULL;

	if (ldap_bv2escaped_filter_value(&in, &esc) != 0)
		return NULL;
	/* An empty value escapes to no buffer at all. */
	if (asprintf(&s, "(%s=%s)", attr, esc.bv_val ? esc.bv_val : "") < 0)
		s = NULL;
	ldap_memfree(esc.bv_val);
	return s;
}

bool isms_ldap_entry_locked(const struct isms_ldap_entry *e, int64_t now, char *why, size_t whylen)
{
	if (e->locked_time) {
		(void)snprintf(why, whylen, "pwdAccountLockedTime=%s", e->locked_time);
		return true;
	}
	/* shadowExpire counts days; 0 is ambiguous in shadow(5) and means "no expiry" here. */
	if (e->shadow_expire > 0 && e->shadow_expire * 86400 <= now) {
		(void)snprintf(why, whylen, "shadowExpire=%lld", e->shadow_expire);
		return true;
	}
	return false;
}

const char *isms_ldap_account_kind(const char *v)
{
	if (!v)
		return "human";
	if (strcasecmp(v, "service") == 0)
		return "service";
	if (strcasecmp(v, "shared") == 0)
		return "shared";
	if (strcasecmp(v, "breakglass") == 0)
		return "breakglass";
	return "human";
}
