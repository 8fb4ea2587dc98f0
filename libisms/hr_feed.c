/* HR export parser (libcsv): header mapped through [hr] column names, one row per
 * person; malformed dates, empty numbers, ragged and duplicate rows become issues. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>

#include "hr_feed.h"
#include "util.h"

enum { COL_EMP, COL_STATUS, COL_TERM, COL_N };

struct parse {
	const struct isms_conf *conf;
	struct isms_hr_feed *feed;
	size_t line;            /* current physical line being fed */
	size_t row_line;        /* line where the current row began */
	char **fields;
	size_t nfields;
	bool have_header;
	long col[COL_N];        /* field index of each configured column */
	size_t header_n;
	size_t *slots;          /* open-addressing index of rows by employee number: row + 1, 0 empty */
	size_t nslots;          /* power of two, kept at most half full */
	int rc;                 /* -ENOMEM, or -EINVAL for a bad header */
	struct isms_err *err;
};

static void issue(struct parse *p, size_t line, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void issue(struct parse *p, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;

	struct isms_hr_issue *v = realloc(p->feed->issues, (p->feed->nissues + 1) * sizeof(*v));

	if (!v) {
		p->rc = -ENOMEM;
		return;
	}
	p->feed->issues = v;
	v += p->feed->nissues++;
	v->line = line;
	v->column = col;
	va_start(ap, fmt);
	(void)vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
}

static void on_field(void *s, size_t len, void *data)
{
	struct parse *p = data;
	char **nf;

	if (p->rc)
		return;
	if (p->nfields == 0)
		p->row_line = p->line;
	nf = realloc(p->fields, (p->nfields + 1) * sizeof(*nf));
	if (!nf) {
		p->rc = -ENOMEM;
		return;
	}
	p->fields = nf;
	nf[p->nfields] = strndup(s ? s : "", s ? len : 0);
	if (!nf[p->nfields]) {
		p->rc = -ENOMEM;
		return;
	}
	p->nfields++;
}

static void header(struct parse *p)
{
	const char *want[COL_N] = { p->conf->hr_employee_column, p->conf->hr_status_column,
				    p->conf->hr_termination_column };

	for (int c = 0; c < COL_N; c++) {
		p->col[c] = -1;
		for (size_t i = 0; i < p->nfields; i++) {
			char *name = p->fields[i];

			if (i == 0 && strncmp(name, "\xef\xbb\xbf", 3) == 0)
				name += 3; /* spreadsheet byte-order mark */
			if (strcasecmp(isms_strip(name), want[c]) == 0)
				p->col[c] = (long)i;
		}
		if (p->col[c] < 0) {
			p->rc = isms_err_set(p->err, -EINVAL, "line %zu: no column '%s' (set it in [hr])",
					     p->row_line, want[c]);
			return;
		}
	}
	p->header_n = p->nfields;
	p->have_header = true;
}

static size_t hash_str(const char *s)
{
	size_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The slot holding emp, or the empty slot where it goes. */
static size_t *index_slot(struct parse *p, const char *emp)
{
	size_t mask = p->nslots - 1, i = hash_str(emp) & mask;

	while (p->slots[i] && strcmp(p->feed->rows[p->slots[i] - 1].employee_no, emp) != 0)
		i = (i + 1) & mask;
	return &p->slots[i];
}

/* Room for one more row in the index. */
static int index_grow(struct parse *p)
{
	size_t *old = p->slots, oldn = p->nslots;

	if ((p->feed->nrows + 1) * 2 <= p->nslots)
		return 0;
	p->nslots = oldn ? oldn * 2 : 64;
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	if (!p->slots) {
		p->slots = old;
		p->nslots = oldn;
		return -ENOMEM;
	}
	for (size_t i = 0; i < oldn; i++)
		if (old[i])
			*index_slot(p, p->feed->rows[old[i] - 1].employee_no) = old[i];
	free(old);
	return 0;
}

static bool is_terminated(const struct isms_conf *conf, const char *status)
{
	for (char *const *s = conf->hr_terminated_status; s && *s; s++)
		if (strcasecmp(*s, status) == 0)
			return true;
	return false;
}

static void row(struct parse *p)
{
	struct isms_hr_feed *f = p->feed;
	struct isms_hr_row r = { .line = p->row_line };
	char *emp, *status, *term;
	struct isms_hr_row *nv;
	size_t *slot;

	if (p->nfields != p->header_n) {
		issue(p, p->row_line, 0, "%zu fields, the header has %zu; row ignored", p->nfields, p->header_n);
		return;
	}
	emp = isms_strip(p->fields[p->col[COL_EMP]]);
	status = isms_strip(p->fields[p->col[COL_STATUS]]);
	term = isms_strip(p->fields[p->col[COL_TERM]]);
	if (!*emp) {
		issue(p, p->row_line, (size_t)p->col[COL_EMP] + 1, "empty employee number");
		return;
	}
	r.terminated = is_terminated(p->conf, status);
	if (r.terminated) {
		if (!*term) {
			issue(p, p->row_line, (size_t)p->col[COL_TERM] + 1,
			      "%.40s: terminated without a termination date", emp);
			return;
		}
		if (isms_time_parse(term, &r.terminated_at) < 0) {
			issue(p, p->row_line, (size_t)p->col[COL_TERM] + 1,
			      "%.40s: malformed termination date '%.40s' (want YYYY-MM-DD or "
			      "YYYY-MM-DDTHH:MM:SSZ)", emp, term);
			return;
		}
	}
	if (index_grow(p) < 0) {
		p->rc = -ENOMEM;
		return;
	}
	slot = index_slot(p, emp);
	if (*slot) {
		struct isms_hr_row *o = &f->rows[*slot - 1];

		if (o->terminated == r.terminated && o->terminated_at == r.terminated_at) {
			issue(p, p->row_line, 0, "%.40s: duplicate of line %zu (applied once)", emp, o->line);
		} else {
			issue(p, p->row_line, 0, "%.40s: conflicts with line %zu; neither applied", emp, o->line);
			o->excluded = true;
		}
		return;
	}
	r.employee_no = strdup(emp);
	nv = r.employee_no ? realloc(f->rows, (f->nrows + 1) * sizeof(*nv)) : NULL;
	if (!nv) {
		free(r.employee_no);
		p->rc = -ENOMEM;
		return;
	}
	f->rows = nv;
	f->rows[f->nrows++] = r;
	*slot = f->nrows;
}

static void on_row(int c, void *data)
{
	struct parse *p = data;

	(void)c;
	if (!p->rc) {
		if (!p->have_header)
			header(p);
		else
			row(p);
	}
	for (size_t i = 0; i < p->nfields; i++)
		free(p->fields[i]);
	p->nfields = 0;
}

int isms_hr_feed_parse(const char *data, size_t len, const struct isms_conf *conf,
		       struct isms_hr_feed *ret, struct isms_err *err)
{
	struct isms_hr_feed feed = { 0 };
	struct parse p = { .conf = conf, .feed = &feed, .err = err };
	struct csv_parser csv;
	size_t off = 0;
	int r = 0;

	if (csv_init(&csv, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI) != 0)
		return isms_err_set(err, -ENOMEM, "out of memory");
	/* Fed one physical line at a time so each row knows where it began. */
	while (off < len && !p.rc) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (data + off)) + 1 : len - off;

		p.line++;
		if (csv_parse(&csv, data + off, n, on_field, on_row, &p) != n) {
			r = isms_err_set(err, -EINVAL, "line %zu: not CSV: %s", p.line,
					 csv_strerror(csv_error(&csv)));
			goto out;
		}
		off += n;
	}
	if (!p.rc && csv_fini(&csv, on_field, on_row, &p) != 0) {
		r = isms_err_set(err, -EINVAL, "line %zu: not CSV: %s", p.line, csv_strerror(csv_error(&csv)));
		goto out;
	}
	if (p.rc) {
		r = p.rc == -ENOMEM ? isms_err_set(err, -ENOMEM, "out of memory") : p.rc;
		goto out;
	}
	if (!p.have_header) {
		r = isms_err_set(err, -EINVAL, "line 1: empty file, no header row");
		goto out;
	}
	*ret = feed;
	memset(&feed, 0, sizeof(feed));
out:
	for (size_t i = 0; i < p.nfields; i++)
		free(p.fields[i]);
	free(p.fields);
	free(p.slots);
	csv_free(&csv);
	isms_hr_feed_free(&feed);
	return r;
}

void isms_hr_feed_free(struct isms_hr_feed *feed)
{
	if (!feed)
		return;
	for (size_t i = 0; i < feed->nrows; i++)
		free(feed->rows[i].employee_no);
	free(feed->rows);
	free(feed->issues);
	memset(feed, 0, sizeof(*feed));
}
