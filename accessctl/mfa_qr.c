/* QR codes for enrollment through libqrencode: half-block characters for a
 * terminal (light modules drawn, so it reads on a dark background like
 * `qrencode -t UTF8`), and a PGM file that zbarimg can decode in tests. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qrencode.h>

#include "mfa_cmd.h"

#define QUIET 2

static QRcode *encode(const char *text)
{
	return QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

static int dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->data[y * qr->width + x] & 1;
}

int mfa_qr_print(FILE *f, const char *text)
{
	QRcode *qr = encode(text);

	if (!qr)
		return -errno;
	for (int y = -QUIET; y < qr->width + QUIET; y += 2) {
		for (int x = -QUIET; x < qr->width + QUIET; x++) {
			int top = !dark(qr, x, y), bottom = !dark(qr, x, y + 1);

			fputs(top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ", f);
		}
		fputc('\n', f);
	}
	QRcode_free(qr);
	return 0;
}

int mfa_qr_write_pgm(const char *path, const char *text, int scale)
{
	QRcode *qr = encode(text);
	int side, fd, r = 0;
	unsigned char *row;
	FILE *f;

	if (!qr)
		return -errno;
	side = (qr->width + 8) * scale;
	row = malloc((size_t)side);
	/* 0600: the picture holds the secret */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!row || !f) {
		r = -errno;
		if (fd >= 0 && !f)
			close(fd);
		goto out;
	}
	fprintf(f, "P5\n%d %d\n255\n", side, side);
	for (int y = 0; y < side; y++) {
		for (int x = 0; x < side; x++)
			row[x] = dark(qr, x / scale - 4, y / scale - 4) ? 0 : 255;
		if (fwrite(row, 1, (size_t)side, f) != (size_t)side)
			r = -EIO;
	}
	if (fclose(f) != 0 && r == 0)
		r = -errno;
out:
	free(row);
	QRcode_free(qr);
	return r;
}
