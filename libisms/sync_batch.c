/* Rows inserted many to a statement: a first sync inserts a few hundred
 * thousand rows, and starting and ending a statement for each cost about as
 * much as the b-tree work. Used for rows whose id nobody needs back
 * (memberships, the stored snapshot). Rows are held until SYNC_BATCH of them
 * have come, or until the caller flushes: flush before reading the table. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "sync_int.h"

struct sync_cell {
	const char *text;       /* NULL: the integer num, or NULL when is_text */
	int64_t num;
	bool is_text;
	bool owned;             /* text is a copy, freed once written */
};

static void cells_release(struct sync_batch *b)
{
	for (size_t i = 0; i < b->n * (size_t)b->ncols; i++)
		if (b->cells[i].owned)
			free((char *)b->cells[i].text);
	b->n = 0;
}

void sync_batch_init(struct sync_batch *b, const char *head, const char *tuple, int ncols)
{
	memset(b, 0, sizeof(*b));
	b->head = head;
	b->tuple = tuple;
	b->ncols = ncols;
}

void sync_batch_free(struct sync_batch *b)
{
	isms_db_done(b->full);
	b->full = NULL;
	if (b->cells)
		cells_release(b);
	free(b->cells);
	b->cells = NULL;
}

/* The statement for n rows: the kept one for a full batch, else prepared now. */
static sqlite3_stmt *batch_stmt(struct apply *a, struct sync_batch *b, size_t n)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f;
	sqlite3_stmt *st;

	if (n == SYNC_BATCH && b->full)
		return b->full;
	f = open_memstream(&sql, &len);
	if (!f) {
		(void)isms_err_set(a->err, -ENOMEM, "out of memory");
		return NULL;
	}
	fputs(b->head, f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : " ", b->tuple);
	if (fclose(f) != 0 || !sql) {
		free(sql);
		(void)isms_err_set(a->err, -ENOMEM, "out of memory");
		return NULL;
	}
	st = isms_db_query(a->ctx->reg, a->err, sql, NULL);
	free(sql);
	if (n == SYNC_BATCH)
		b->full = st;
	return st;
}

int sync_batch_flush(struct apply *a, struct sync_batch *b)
{
	size_t n = b->n, nc = n * (size_t)b->ncols;
	sqlite3_stmt *st;
	int r = 0;

	if (!n)
		return 0;
	st = batch_stmt(a, b, n);
	if (!st)
		r = a->err->code ? a->err->code : -EIO;
	for (size_t i = 0; i < nc && r == 0; i++) {
		const struct sync_cell *c = &b->cells[i];
		int rc = c->text ? sqlite3_bind_text(st, (int)i + 1, c->text, -1, SQLITE_STATIC) :
			 c->is_text ? sqlite3_bind_null(st, (int)i + 1) : sqlite3_bind_int64(st, (int)i + 1, c->num);

		if (rc != SQLITE_OK)
			r = isms_err_set(a->err, -EIO, "bind: %s", sqlite3_errmsg(a->ctx->reg));
	}
	if (r == 0)
		r = sync_run(a, st);
	if (st && st != b->full)
		isms_db_done(st);
	else if (st)
		(void)sqlite3_clear_bindings(st);
	cells_release(b);
	return r;
}

/* One row: fmt holds, per column, 'i' (int64_t), 'z' (int64_t, 0 for NULL),
 * 'S' (text or NULL, which stays as it is until the batch is flushed) or 's'
 * (text or NULL, copied). */
int sync_batch_row(struct apply *a, struct sync_batch *b, const char *fmt, ...)
{
	struct sync_cell *row;
	va_list ap;
	int r = 0;

	if (!b->cells) {
		b->cells = calloc(SYNC_BATCH * (size_t)b->ncols, sizeof(*b->cells));
		if (!b->cells)
			return isms_err_set(a->err, -ENOMEM, "out of memory");
	}
	row = &b->cells[b->n * (size_t)b->ncols];
	va_start(ap, fmt);
	for (int i = 0; i < b->ncols; i++) {
		struct sync_cell *c = &row[i];

		c->is_text = fmt[i] == 'S' || fmt[i] == 's';
		c->owned = fmt[i] == 's';
		if (c->is_text) {
			const char *s = va_arg(ap, const char *);

			c->text = s && c->owned ? strdup(s) : s;
			if (s && !c->text)
				r = -ENOMEM;
		} else {
			c->text = NULL;
			c->num = va_arg(ap, int64_t);
			c->is_text = fmt[i] == 'z' && c->num == 0;   /* binds NULL */
		}
	}
	va_end(ap);
	b->n++;
	if (r < 0)
		return isms_err_set(a->err, r, "out of memory");
	return b->n == SYNC_BATCH ? sync_batch_flush(a, b) : 0;
}
