/* Returned worksheets: the CSV parser (libcsv) and the import that checks each
 * row against its campaign and records every decision in one transaction. */
#include <csv.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "review.h"
#include "util.h"

#define MAX_SHEET_BYTES (256L << 20)

struct parse {
	struct isms_review_sheet *sheet;
	struct isms_err *err;
	unsigned line, rec_line;
	char **fields;
	size_t nf, cap;
	int nheader;                          /* columns in the header, 0 before it */
	int map[ISMS_REVIEW_NCOLS * 4];       /* file column -> review column, or -1 */
	int r;
};

static void field_cb(void *s, size_t len, void *u)
{
	struct parse *p = u;
	char *v;

	if (p->r < 0)
		return;
	if (memchr(s, '\0', len)) {
		p->r = isms_err_set(p->err, -EINVAL, "%s:%u:%zu: NUL byte in a cell", p->sheet->file,
				    p->rec_line, p->nf + 1);
		return;
	}
	if (p->nf == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		char **f = realloc(p->fields, cap * sizeof(*f));

		if (!f) {
			p->r = isms_err_set(p->err, -ENOMEM, "out of memory");
			return;
		}
		p->fields = f;
		p->cap = cap;
	}
	v = malloc(len + 1);
	if (!v) {
		p->r = isms_err_set(p->err, -ENOMEM, "out of memory");
		return;
	}
	memcpy(v, s, len);
	v[len] = '\0';
	p->fields[p->nf++] = v;
}

static void fields_drop(struct parse *p)
{
	for (size_t i = 0; i < p->nf; i++)
		free(p->fields[i]);
	p->nf = 0;
}

static int header_take(struct parse *p)
{
	struct isms_review_sheet *s = p->sheet;

	if (p->nf > ISMS_ARRAY_SIZE(p->map))
		return isms_err_set(p->err, -EINVAL, "%s:%u: %zu columns; a worksheet has %d", s->file,
				    p->rec_line, p->nf, ISMS_REVIEW_NCOLS);
	for (size_t i = 0; i < p->nf; i++) {
		p->map[i] = -1;
		for (int c = 0; c < ISMS_REVIEW_NCOLS; c++) {
			if (strcmp(p->fields[i], isms_review_columns[c]) != 0)
				continue;
			if (s->colno[c])
				return isms_err_set(p->err, -EINVAL, "%s:%u:%zu: column '%s' appears twice",
						    s->file, p->rec_line, i + 1, p->fields[i]);
			s->colno[c] = (int)i + 1;
			p->map[i] = c;
		}
	}
	static const enum isms_review_col required[] = { RC_CAMPAIGN, RC_ROW_ID, RC_ACCOUNT,
							 RC_ENTITLEMENT, RC_DECISION };
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(required); i++)
		if (!s->colno[required[i]])
			return isms_err_set(p->err, -EINVAL, "%s:%u: missing column '%s' (the header is the "
					    "worksheet's first line)", s->file, p->rec_line,
					    isms_review_columns[required[i]]);
	p->nheader = (int)p->nf;
	return 0;
}

static int record_take(struct parse *p)
{
	struct isms_review_sheet *s = p->sheet;
	struct isms_review_sheet_row *row, *rows;

	/* A line of nothing but empty cells is spreadsheet residue, not a row. */
	bool blank = true;
	for (size_t i = 0; i < p->nf && blank; i++)
		blank = p->fields[i][0] == '\0';
	if (blank)
		return 0;
	if ((int)p->nf != p->nheader)
		return isms_err_set(p->err, -EINVAL, "%s:%u: %zu cells, the header has %d", s->file,
				    p->rec_line, p->nf, p->nheader);
	rows = realloc(s->rows, (s->n + 1) * sizeof(*rows));
	if (!rows)
		return isms_err_set(p->err, -ENOMEM, "out of memory");
	s->rows = rows;
	row = &rows[s->n++];
	memset(row, 0, sizeof(*row));
	row->line = p->rec_line;
	for (size_t i = 0; i < p->nf; i++) {
		if (p->map[i] < 0)
			continue;
		row->cells[p->map[i]] = p->fields[i];
		p->fields[i] = NULL;
	}
	return 0;
}

static void record_cb(int c, void *u)
{
	struct parse *p = u;

	(void)c;
	if (p->r >= 0)
		p->r = p->nheader ? record_take(p) : header_take(p);
	fields_drop(p);
}

int isms_review_sheet_parse(const char *file, const char *buf, size_t len,
			    struct isms_review_sheet *ret, struct isms_err *err)
{
	struct parse p = { .sheet = ret, .err = err, .line = 1 };
	struct csv_parser csv;
	size_t off = 0;

	memset(ret, 0, sizeof(*ret));
	ret->file = strdup(file);
	if (!ret->file)
		return isms_err_set(err, -ENOMEM, "out of memory");
	if (csv_init(&csv, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return isms_err_set(err, -ENOMEM, "out of memory");
	/* A UTF-8 byte order mark, as spreadsheets write it, is not part of the header. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	/* Fed a line at a time, so an error names the line its record starts on. */
	while (off < len && p.r >= 0) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) + 1 : len - off;

		if (csv.pstate == 0)
			p.rec_line = p.line;
		if (csv_parse(&csv, buf + off, n, field_cb, record_cb, &p) != n && p.r >= 0)
			p.r = isms_err_set(err, -EINVAL, "%s:%u: %s", file, p.rec_line,
					   csv_strerror(csv_error(&csv)));
		off += n;
		p.line++;
	}
	if (p.r >= 0 && csv_fini(&csv, field_cb, record_cb, &p) != 0 && p.r >= 0)
		p.r = isms_err_set(err, -EINVAL, "%s:%u: %s", file, p.rec_line,
				   csv_strerror(csv_error(&csv)));
	csv_free(&csv);
	fields_drop(&p);
	free(p.fields);
	if (p.r >= 0 && !p.nheader)
		p.r = isms_err_set(err, -EINVAL, "%s: empty file; expected a worksheet header", file);
	if (p.r < 0) {
		isms_review_sheet_free(ret);
		return p.r;
	}
	return 0;
}

void isms_review_sheet_free(struct isms_review_sheet *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		for (int c = 0; c < ISMS_REVIEW_NCOLS; c++)
			free(s->rows[i].cells[c]);
	free(s->rows);
	free(s->file);
	memset(s, 0, sizeof(*s));
}

/* Undo our own neutralisation, and the whitespace spreadsheets like to add. */
static const char *cell(const struct isms_review_sheet_row *row, enum isms_review_col c)
{
	const char *v = row->cells[c];

	if (!v)
		return NULL;
	while (*v == ' ')
		v++;
	if (v[0] == '\'' && v[1] && strchr("=+-@\t\r", v[1]))
		v++;
	return v;
}

int isms_review_decision_parse(const char *decision, const char *until, char ret[16],
			       int64_t *ret_until, struct isms_err *err)
{
	static const char *const words[] = { "keep", "revoke", "modify", "exception" };
	char d[64];
	size_t n = 0;
	const char *date = until;

	*ret_until = 0;
	ret[0] = '\0';
	decision = decision ? decision : "";
	decision += strspn(decision, " \t");
	for (const char *s = decision; *s && n < sizeof(d) - 1; s++)
		d[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
	d[n] = '\0';
	while (n && (d[n - 1] == ' ' || d[n - 1] == '\r' || d[n - 1] == '\t'))
		d[--n] = '\0';
	if (!n)
		return 0;
	if (strncmp(d, "exception until ", 16) == 0) {
		date = d + 16;
		d[9] = '\0';
	}
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(words); i++) {
		if (strcmp(d, words[i]) != 0)
			continue;
		(void)snprintf(ret, 16, "%s", words[i]);
		if (i == 3) {
			if (!date || !*date)
				return isms_err_set(err, -EINVAL, "an exception needs a date: "
						    "'exception until YYYY-MM-DD' or the exception_until column");
			if (isms_time_parse(date, ret_until) < 0)
				return isms_err_set(err, -EINVAL, "exception date '%s': expected YYYY-MM-DD",
						    date);
		}
		return 0;
	}
	return isms_err_set(err, -EINVAL, "decision '%s': allowed keep, revoke, modify, "
			    "exception (until DATE)", decision);
}

/* One decision, checked and waiting for the transaction. */
struct pending {
	const char *row_id, *account, *entitlement, *justification, *reviewed_by, *file;
	bool changed;
	char dec[16];
	int64_t until, reviewed_at;
	unsigned line;
};

static int pending_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pending *)a)->row_id, ((const struct pending *)b)->row_id);
}

static int check_row(sqlite3_stmt *q, const struct isms_review_campaign *c,
		     const struct isms_review_sheet *s, const struct isms_review_sheet_row *row,
		     const char *actor, struct pending *ret, bool *ret_has, struct isms_err *err)
{
	static const enum isms_review_col ident[] = { RC_SYSTEM, RC_ACCOUNT, RC_UID, RC_ENTITLEMENT,
						      RC_GRANTED, RC_PRIVILEGED };
	const char *campaign = cell(row, RC_CAMPAIGN), *rid = cell(row, RC_ROW_ID);
	const char *just = cell(row, RC_JUSTIFICATION);
	const char *f = s->file;
	struct isms_err derr = { 0 };
	bool privileged, login;
	int r;

#define AT(col) f, row->line, s->colno[col]
	*ret_has = false;
	if (strcmp(campaign, c->name) != 0)
		return isms_err_set(err, -EINVAL, "%s:%u:%d: row of campaign '%s', importing '%s'",
				    AT(RC_CAMPAIGN), campaign, c->name);
	r = isms_db_rebind(q, err, "si", rid, c->id);
	if (r < 0 || (r = isms_db_step(q, err)) < 0)
		return r;
	if (r == 0)
		return isms_err_set(err, -EINVAL, "%s:%u:%d: row id '%s' is not in campaign %s (altered, "
				    "or copied from another campaign)", AT(RC_ROW_ID), rid, c->name);
	/* Columns 0..5 of q are the identifying cells as the worksheet showed them. */
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(ident); i++) {
		const char *want = (const char *)sqlite3_column_text(q, (int)i);
		const char *got = cell(row, ident[i]);

		if (got && strcmp(got, want) != 0)
			return isms_err_set(err, -EINVAL, "%s:%u:%d: column '%s' was altered: '%s', the "
					    "campaign has '%s'", AT(ident[i]), isms_review_columns[ident[i]],
					    got, want);
	}
	privileged = sqlite3_column_int(q, 6) == 1;
	login = strcmp((const char *)sqlite3_column_text(q, 3), "login") == 0;
	if (isms_review_decision_parse(cell(row, RC_DECISION), cell(row, RC_EXCEPTION_UNTIL), ret->dec,
				       &ret->until, &derr) < 0)
		return isms_err_set(err, -EINVAL, "%s:%u:%d: %s", AT(RC_DECISION), derr.msg);
	if (!ret->dec[0])
		return 0;
	if (strcmp(ret->dec, "modify") == 0 && login)
		return isms_err_set(err, -EINVAL, "%s:%u:%d: 'modify' removes a group; for the login "
				    "itself decide 'revoke'", AT(RC_DECISION));
	if (((strcmp(ret->dec, "keep") == 0 && privileged) || strcmp(ret->dec, "exception") == 0) &&
	    (!just || !*just))
		return isms_err_set(err, -EINVAL, "%s:%u:%d: a justification is required to %s",
				    f, row->line, s->colno[RC_JUSTIFICATION] ? s->colno[RC_JUSTIFICATION]
									     : s->colno[RC_DECISION],
				    strcmp(ret->dec, "keep") == 0 ? "keep privileged access"
								  : "grant an exception");
	if (sqlite3_column_type(q, 7) != SQLITE_NULL &&
	    strcmp((const char *)sqlite3_column_text(q, 8), ret->dec) != 0)
		return isms_err_set(err, -EINVAL, "%s:%u:%d: decision '%s' was applied already; it "
				    "cannot become '%s'", AT(RC_DECISION), sqlite3_column_text(q, 8), ret->dec);
	ret->row_id = rid;
	ret->account = (const char *)cell(row, RC_ACCOUNT);
	ret->entitlement = (const char *)cell(row, RC_ENTITLEMENT);
	ret->justification = just && *just ? just : NULL;
	ret->reviewed_by = cell(row, RC_REVIEWED_BY);
	if (!ret->reviewed_by || !*ret->reviewed_by)
		ret->reviewed_by = sqlite3_column_type(q, 9) != SQLITE_NULL ? NULL : actor;
	ret->reviewed_at = 0;
	if (cell(row, RC_REVIEWED_AT) && *cell(row, RC_REVIEWED_AT) &&
	    isms_time_parse(cell(row, RC_REVIEWED_AT), &ret->reviewed_at) < 0)
		return isms_err_set(err, -EINVAL, "%s:%u:%d: reviewed_at '%s': expected YYYY-MM-DD",
				    AT(RC_REVIEWED_AT), cell(row, RC_REVIEWED_AT));
	ret->file = f;
	ret->line = row->line;
	*ret_has = true;
#undef AT
	return 0;
}

int isms_review_import(struct isms_ctx *ctx, char *const *files, size_t nfiles,
		       const char *campaign, const char *actor, isms_review_report_fn report,
		       void *u, struct isms_review_import_stats *ret, struct isms_err *err)
{
	struct isms_review_sheet *sheets = calloc(nfiles ? nfiles : 1, sizeof(*sheets));
	struct isms_review_campaign c = { 0 };
	struct pending *pend = NULL;
	size_t npend = 0, cap = 0;
	sqlite3_stmt *q = NULL, *cur = NULL;
	int64_t now = isms_now();
	bool have_c = false;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	if (!sheets)
		return isms_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < nfiles && r >= 0; i++) {
		char *buf = NULL;
		size_t len = 0;

		r = isms_read_file(files[i], MAX_SHEET_BYTES, &buf, &len, err);
		/* A saved XLSX is a zip: say what to do rather than report bad CSV. */
		if (r >= 0 && len >= 4 && memcmp(buf, "PK\x03\x04", 4) == 0)
			r = isms_err_set(err, -EINVAL, "%s: an XLSX workbook; CSV is the return format "
					 "(save the worksheet as CSV and import that)", files[i]);
		if (r >= 0)
			r = isms_review_sheet_parse(files[i], buf, len, &sheets[i], err);
		free(buf);
	}
	if (r < 0)
		goto out;
	for (size_t i = 0; i < nfiles && !campaign; i++)
		if (sheets[i].n)
			campaign = cell(&sheets[i].rows[0], RC_CAMPAIGN);
	if (!campaign) {
		r = isms_err_set(err, -EINVAL, "no rows to import");
		goto out;
	}
	if ((r = isms_review_campaign_get(ctx->reg, campaign, &c, err)) < 0)
		goto out;
	have_c = true;
	if (strcmp(c.status, "open") != 0) {
		r = isms_err_set(err, -EPERM, "campaign %s is closed; decisions can no longer change", c.name);
		goto out;
	}
	q = isms_db_query(ctx->reg, err,
			  "SELECT system, account_name, COALESCE(CAST(uid AS TEXT), ''), entitlement,"
			  " CASE WHEN inherited_via IS NULL THEN 'direct' ELSE 'via ' || inherited_via END,"
			  " CASE privileged WHEN 1 THEN 'yes' ELSE 'no' END, privileged, applied_at,"
			  " COALESCE(decision, ''), reviewer_name FROM review_items WHERE row_id = ? AND"
			  " campaign_id = ?", "si", "", (int64_t)0);
	if (!q) {
		r = err->code;
		goto out;
	}
	for (size_t i = 0; i < nfiles && r >= 0; i++) {
		for (size_t k = 0; k < sheets[i].n && r >= 0; k++) {
			struct pending p = { 0 };
			bool has;

			ret->rows++;
			r = check_row(q, &c, &sheets[i], &sheets[i].rows[k], actor, &p, &has, err);
			if (r < 0 || !has)
				continue;
			if (!p.reviewed_by)
				p.reviewed_by = (const char *)sqlite3_column_text(q, 9);
			if (npend == cap) {
				struct pending *n = realloc(pend, (cap = cap ? cap * 2 : 64) * sizeof(*n));

				if (!n) {
					r = isms_err_set(err, -ENOMEM, "out of memory");
					break;
				}
				pend = n;
			}
			/* reviewed_by from the store lives only until the next step: copy it. */
			p.reviewed_by = strdup(p.reviewed_by ? p.reviewed_by : actor);
			if (!p.reviewed_by) {
				r = isms_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			pend[npend++] = p;
			ret->decided++;
		}
	}
	if (r < 0)
		goto out;
	if (npend)
		qsort(pend, npend, sizeof(*pend), pending_cmp);
	for (size_t i = 1; i < npend; i++) {
		const struct pending *a = &pend[i - 1], *b = &pend[i];

		if (strcmp(a->row_id, b->row_id) == 0 &&
		    (strcmp(a->dec, b->dec) != 0 || a->until != b->until ||
		     strcmp(a->justification ? a->justification : "", b->justification ? b->justification : "") != 0)) {
			r = isms_err_set(err, -EINVAL, "%s:%u: row %s decided differently in %s:%u", b->file,
					 b->line, b->row_id, a->file, a->line);
			goto out;
		}
	}
	if ((r = isms_db_begin(ctx->reg, err)) < 0)
		goto out;
	cur = isms_db_query(ctx->reg, err, "SELECT COALESCE(decision, ''), COALESCE(exception_until, 0),"
			    " COALESCE(justification, '') FROM review_items WHERE row_id = ?", "s", "");
	if (!cur)
		r = err->code;
	for (size_t i = 0; i < npend && r >= 0; i++) {
		struct pending *p = &pend[i];
		char from[600];

		if (i && strcmp(pend[i - 1].row_id, p->row_id) == 0)
			continue;
		if ((r = isms_db_rebind(cur, err, "s", p->row_id)) < 0 || (r = isms_db_step(cur, err)) < 0)
			break;
		/* The same decision again changes nothing: re-import is harmless. */
		if (r == 1 && strcmp((const char *)sqlite3_column_text(cur, 0), p->dec) == 0 &&
		    sqlite3_column_int64(cur, 1) == p->until &&
		    strcmp((const char *)sqlite3_column_text(cur, 2), p->justification ? p->justification : "") == 0) {
			r = 0;
			continue;
		}
		(void)sqlite3_reset(cur);
		(void)snprintf(from, sizeof(from), "%s:%u", p->file, p->line);
		r = isms_db_exec(ctx->reg, err, "UPDATE review_items SET decision = ?, exception_until ="
				 " NULLIF(?, 0), justification = ?, reviewed_by = ?, reviewed_at = ?,"
				 " imported_from = ? WHERE row_id = ?", "sississ", p->dec, p->until,
				 p->justification, p->reviewed_by, p->reviewed_at ? p->reviewed_at : now,
				 from, p->row_id);
		if (r >= 0) {
			ret->changed++;
			p->changed = true;
		}
	}
	isms_db_done(cur);
	cur = NULL;
	if (r < 0) {
		isms_db_rollback(ctx->reg);
		goto out;
	}
	r = isms_db_commit(ctx->reg, err);
	for (size_t i = 0; i < npend && r >= 0 && report; i++)
		if (pend[i].changed)
			report(u, pend[i].row_id, pend[i].account, pend[i].entitlement, pend[i].dec, true);
out:
	isms_db_done(q);
	for (size_t i = 0; i < npend; i++)
		free((char *)pend[i].reviewed_by);
	free(pend);
	for (size_t i = 0; i < nfiles; i++)
		isms_review_sheet_free(&sheets[i]);
	free(sheets);
	if (have_c)
		isms_review_campaign_clear(&c);
	return r < 0 ? r : 0;
}
