/* Worksheets as XLSX (libxlsxwriter): frozen header, filters, widths, a decision
 * drop-down, privileged rows highlighted. Every cell is written as a string and
 * neutralised like the CSV, so nothing a user typed can become a formula. */
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "review.h"
#include "util.h"

struct xlsx {
	lxw_worksheet *ws;
	lxw_format *priv;
	lxw_row_t row;
	lxw_error e;
};

static int xlsx_row_cb(void *u, const char *const cells[ISMS_REVIEW_NCOLS], bool privileged)
{
	struct xlsx *x = u;

	x->row++;
	for (int i = 0; i < ISMS_REVIEW_NCOLS; i++) {
		char *tmp;
		const char *v = isms_review_neutralise(cells[i], &tmp);

		if (*v || privileged)
			x->e = worksheet_write_string(x->ws, x->row, (lxw_col_t)i, v,
						      privileged ? x->priv : NULL);
		free(tmp);
		if (x->e != LXW_NO_ERROR)
			return -EIO;
	}
	return 0;
}

/* Widths in characters: identifiers narrow, names and free text wide. */
static double col_width(int c)
{
	switch (c) {
	case RC_ROW_ID: return 34;
	case RC_PERSON: case RC_EMAIL: case RC_MANAGER: case RC_REVIEWER: return 24;
	case RC_RECOMMENDATION: return 40;
	case RC_JUSTIFICATION: return 48;
	case RC_GRANTED: case RC_LAST_LOGIN: case RC_REVIEWED_AT: return 22;
	case RC_DECISION: case RC_EXCEPTION_UNTIL: return 16;
	default: return 14;
	}
}

static lxw_error campaign_sheet(lxw_workbook *wb, const struct isms_review_campaign *c,
				lxw_format *bold)
{
	lxw_worksheet *ws = workbook_add_worksheet(wb, "campaign");
	char asof[32], due[32];
	const char *kv[][2] = {
		{ "campaign", c->name }, { "kind", c->kind }, { "scope", c->scope },
		{ "as_of", isms_time_iso(c->as_of, asof, sizeof(asof)) },
		{ "due", isms_time_iso(c->due_at, due, sizeof(due)) },
		{ "snapshot_sha256", c->snapshot_sha256 }, { "sources", c->sources ? c->sources : "" },
		{ "tool", "accessctl " ISMS_VERSION },
		{ "decisions", "keep | revoke | modify | exception (with exception_until)" },
		{ "return", "save as CSV and run: accessctl review import FILE.csv" },
	};
	lxw_error e = LXW_NO_ERROR;

	if (!ws)
		return LXW_ERROR_MEMORY_MALLOC_FAILED;
	(void)worksheet_set_column(ws, 0, 0, 18, bold);
	(void)worksheet_set_column(ws, 1, 1, 80, NULL);
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(kv) && e == LXW_NO_ERROR; i++) {
		char *tmp;
		const char *v = isms_review_neutralise(kv[i][1], &tmp);

		e = worksheet_write_string(ws, (lxw_row_t)i, 0, kv[i][0], NULL);
		if (e == LXW_NO_ERROR)
			e = worksheet_write_string(ws, (lxw_row_t)i, 1, v, NULL);
		free(tmp);
	}
	return e;
}

int isms_worksheet_write_xlsx(sqlite3 *reg, const struct isms_review_campaign *c,
			      const char *reviewer, const char *path, struct isms_err *err)
{
	/* Rows stream to a temp file instead of memory: 500,000 rows stay small. */
	lxw_workbook_options opt = { .constant_memory = LXW_TRUE };
	static const char *decisions[] = { "keep", "revoke", "modify", "exception", NULL };
	lxw_data_validation dv = {
		.validate = LXW_VALIDATION_TYPE_LIST,
		.value_list = (char **)decisions,
		.ignore_blank = LXW_VALIDATION_ON,
		.show_error = LXW_VALIDATION_ON,
		.error_title = "decision",
		.error_message = "keep, revoke, modify or exception",
	};
	lxw_workbook *wb = workbook_new_opt(path, &opt);
	lxw_format *bold, *head;
	struct xlsx x = { 0 };
	int r;

	if (!wb)
		return isms_err_set(err, -EIO, "%s: cannot create workbook", path);
	x.ws = workbook_add_worksheet(wb, "review");
	bold = workbook_add_format(wb);
	head = workbook_add_format(wb);
	x.priv = workbook_add_format(wb);
	if (!x.ws || !bold || !head || !x.priv) {
		(void)workbook_close(wb);
		return isms_err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	format_set_bold(bold);
	format_set_bold(head);
	format_set_bg_color(head, 0xD9E1F2);
	format_set_bg_color(x.priv, 0xFFF2CC);
	for (int i = 0; i < ISMS_REVIEW_NCOLS; i++) {
		(void)worksheet_set_column(x.ws, (lxw_col_t)i, (lxw_col_t)i, col_width(i), NULL);
		x.e = worksheet_write_string(x.ws, 0, (lxw_col_t)i, isms_review_columns[i], head);
	}
	(void)worksheet_freeze_panes(x.ws, 1, 0);
	r = isms_review_rows(reg, c->id, reviewer, xlsx_row_cb, &x, err);
	if (r == 0) {
		(void)worksheet_autofilter(x.ws, 0, 0, x.row, ISMS_REVIEW_NCOLS - 1);
		if (x.row > 0)
			(void)worksheet_data_validation_range(x.ws, 1, RC_DECISION, x.row, RC_DECISION, &dv);
		x.e = campaign_sheet(wb, c, bold);
	}
	if (x.e != LXW_NO_ERROR && r == 0)
		r = isms_err_set(err, -EIO, "%s: %s", path, lxw_strerror(x.e));
	x.e = workbook_close(wb);
	if (x.e != LXW_NO_ERROR && r == 0)
		r = isms_err_set(err, -EIO, "%s: %s", path, lxw_strerror(x.e));
	return r;
}
