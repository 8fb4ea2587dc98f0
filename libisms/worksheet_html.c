/* The campaign summary as one self-contained HTML page: per reviewer counts,
 * due date and recommendations. Inline style only, nothing fetched. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "review.h"
#include "util.h"

#define MAX_LISTED 200

static int reviewer_section(FILE *f, sqlite3_stmt *sum, sqlite3_stmt *recs, int64_t campaign_id,
			    bool overdue, struct isms_err *err)
{
	const char *no = (const char *)sqlite3_column_text(sum, 0);
	int64_t rows = sqlite3_column_int64(sum, 2), decided = sqlite3_column_int64(sum, 4);
	int r, listed = 0;

	fputs("<h2>", f);
	isms_html_escape(f, (const char *)sqlite3_column_text(sum, 1));
	if (*no) {
		fputs(" <small>(", f);
		isms_html_escape(f, no);
		fputs(")</small>", f);
	}
	fprintf(f, "</h2>\n<table><tr><th>rows</th><th>privileged</th><th>decided</th><th>pending</th>"
		"<th>recommended revoke</th><th>to review</th><th>status</th></tr>\n"
		"<tr><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td>"
		"<td class=\"%s\">%s</td></tr></table>\n",
		(long long)rows, (long long)sqlite3_column_int64(sum, 3), (long long)decided,
		(long long)(rows - decided), (long long)sqlite3_column_int64(sum, 5),
		(long long)sqlite3_column_int64(sum, 6),
		decided == rows ? "done" : overdue ? "overdue" : "pending",
		decided == rows ? "done" : overdue ? "overdue" : "pending");
	r = isms_db_rebind(recs, err, "is", campaign_id, *no ? no : NULL);
	if (r < 0)
		return r;
	while ((r = isms_db_step(recs, err)) == 1) {
		if (listed == 0)
			fputs("<table><tr><th>account</th><th>entitlement</th><th>recommendation</th></tr>\n", f);
		if (++listed > MAX_LISTED)
			break;
		fputs("<tr><td>", f);
		isms_html_escape(f, (const char *)sqlite3_column_text(recs, 0));
		fputs("</td><td>", f);
		isms_html_escape(f, (const char *)sqlite3_column_text(recs, 1));
		fputs("</td><td>", f);
		isms_html_escape(f, (const char *)sqlite3_column_text(recs, 2));
		fputs("</td></tr>\n", f);
	}
	if (listed)
		fputs("</table>\n", f);
	if (listed > MAX_LISTED)
		fprintf(f, "<p>more recommendations in the worksheet</p>\n");
	return r < 0 ? r : 0;
}

int isms_worksheet_write_html(sqlite3 *reg, const struct isms_review_campaign *c,
			      const char *path, struct isms_err *err)
{
	sqlite3_stmt *sum = NULL, *recs = NULL;
	char asof[32], due[32];
	bool overdue = strcmp(c->status, "open") == 0 && isms_now() > c->due_at;
	FILE *f;
	int r;

	f = isms_worksheet_fopen(path, err);
	if (!f)
		return err->code;
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	      "<title>Access review ", f);
	isms_html_escape(f, c->name);
	fputs("</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
	      "margin:.5em 0}td,th{border:1px solid #bbb;padding:2px 8px;text-align:left}"
	      ".overdue{color:#b00;font-weight:bold}.done{color:#070}</style></head><body>\n<h1>Access review ", f);
	isms_html_escape(f, c->name);
	fprintf(f, "</h1>\n<table><tr><th>kind</th><td>%s</td></tr><tr><th>scope</th><td>", c->kind);
	isms_html_escape(f, c->scope);
	fprintf(f, "</td></tr><tr><th>as of</th><td>%s</td></tr><tr><th>due</th><td>%s</td></tr>"
		"<tr><th>status</th><td>%s</td></tr><tr><th>snapshot SHA-256</th><td><code>%s</code></td></tr>"
		"<tr><th>sources</th><td><code>", isms_time_iso(c->as_of, asof, sizeof(asof)),
		isms_time_iso(c->due_at, due, sizeof(due)), c->status, c->snapshot_sha256);
	isms_html_escape(f, c->sources);
	fputs("</code></td></tr></table>\n", f);

	sum = isms_db_query(reg, err, "SELECT COALESCE(reviewer_no, ''), COALESCE(MAX(reviewer_name),"
			    " 'unassigned'), COUNT(*), SUM(privileged), COUNT(decision),"
			    " SUM(recommendation LIKE 'revoke:%'), SUM(recommendation LIKE 'review:%')"
			    " FROM review_items WHERE campaign_id = ? GROUP BY COALESCE(reviewer_no, '')"
			    " ORDER BY 2, 1", "i", c->id);
	recs = isms_db_query(reg, err, "SELECT account_name, entitlement, recommendation FROM review_items"
			     " WHERE campaign_id = ? AND reviewer_no IS ? AND recommendation"
			     " IS NOT NULL ORDER BY account_name, entitlement LIMIT " "201", "is", c->id, "");
	if (!sum || !recs)
		r = err->code ? err->code : -EIO;
	else
		while ((r = isms_db_step(sum, err)) == 1)
			if ((r = reviewer_section(f, sum, recs, c->id, overdue, err)) < 0)
				break;
	fputs("<p><small>accessctl " ISMS_VERSION "</small></p>\n</body></html>\n", f);
	isms_db_done(sum);
	isms_db_done(recs);
	{
		bool bad = ferror(f) != 0;

		if ((fclose(f) != 0 || bad) && r == 0)
			r = isms_err_set(err, -EIO, "%s: write failed", path);
	}
	return r < 0 ? r : 0;
}
