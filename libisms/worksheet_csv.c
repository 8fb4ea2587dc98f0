/* Worksheets as CSV: RFC 4180 through libcsv, every cell a spreadsheet could
 * evaluate neutralised, one file per reviewer. */
#include <csv.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "review.h"

FILE *isms_worksheet_fopen(const char *path, struct isms_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		(void)isms_err_set(err, errno ? -errno : -EIO, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	return f;
}

int isms_csv_write_row(FILE *f, const char *const *cells, size_t n, bool neutralise)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = cells[i] ? cells[i] : "";
		char *tmp = NULL;

		if (neutralise)
			v = isms_review_neutralise(v, &tmp);
		if ((i && fputc(',', f) == EOF) || csv_fwrite(f, v, strlen(v)) != 0) {
			free(tmp);
			return -EIO;
		}
		free(tmp);
	}
	return fputs("\r\n", f) == EOF ? -EIO : 0;
}

static int csv_row_cb(void *u, const char *const cells[ISMS_REVIEW_NCOLS], bool privileged)
{
	(void)privileged;
	return isms_csv_write_row(u, cells, ISMS_REVIEW_NCOLS, true) < 0 ? -EIO : 0;
}

int isms_worksheet_write_csv(sqlite3 *reg, const struct isms_review_campaign *c,
			     const char *reviewer, const char *path, struct isms_err *err)
{
	FILE *f;
	int r;

	f = isms_worksheet_fopen(path, err);
	if (!f)
		return err->code;
	r = isms_csv_write_row(f, isms_review_columns, ISMS_REVIEW_NCOLS, false);
	if (r == 0)
		r = isms_review_rows(reg, c->id, reviewer, csv_row_cb, f, err);
	if (r == -EIO)
		(void)isms_err_set(err, r, "%s: %s", path, strerror(errno));
	if (fclose(f) != 0 && r == 0)
		r = isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	return r;
}
