/* Encrypted recording files: writer (isms-rec), reader and verifier (accessctl
 * rec, the fuzz target), auditor keys. Format in recfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "recfile.h"
#include "util.h"

#define MAGIC      "ISMSREC1"
#define MAGICLEN   8
#define SEALEDLEN  (crypto_box_SEALBYTES + crypto_secretstream_xchacha20poly1305_KEYBYTES)
#define SSHDRLEN   crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define HDRLEN     (MAGICLEN + ISMS_REC_IDBYTES + 8 + SEALEDLEN + SSHDRLEN)
#define ABYTES     crypto_secretstream_xchacha20poly1305_ABYTES
#define FRAMEHDR   5
#define ADLEN      (ISMS_REC_IDBYTES + 8)
/* Start writing back every this much, so that closing a long recording does not
 * wait for all of it to reach the disk at once. */
#define WRITEBACK  (8u << 20)

struct isms_rec_writer {
	int fd;
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char id[ISMS_REC_IDBYTES];
	unsigned char link[ISMS_REC_HASHBYTES];
	uint64_t seq;
	uint64_t bytes;
	uint64_t written_back;  /* file offset up to which writeback was started */
	bool closed;
	unsigned char *frame;   /* FRAMEHDR + MAXCHUNK + ABYTES + link */
};

static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void make_ad(unsigned char ad[ADLEN], const unsigned char id[ISMS_REC_IDBYTES], uint64_t seq)
{
	memcpy(ad, id, ISMS_REC_IDBYTES);
	put_le(ad + ISMS_REC_IDBYTES, seq, 8);
}

/* link = BLAKE2b(prev | frame header | ciphertext) */
static void chain(unsigned char link[ISMS_REC_HASHBYTES], const unsigned char *hdr,
		  const unsigned char *ct, size_t ctlen)
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, ISMS_REC_HASHBYTES);
	crypto_generichash_update(&h, link, ISMS_REC_HASHBYTES);
	crypto_generichash_update(&h, hdr, FRAMEHDR);
	crypto_generichash_update(&h, ct, ctlen);
	crypto_generichash_final(&h, link, ISMS_REC_HASHBYTES);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENOSPC;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int isms_rec_writer_open(int fd, const unsigned char id[ISMS_REC_IDBYTES], int64_t created,
			 const unsigned char pubkey[ISMS_REC_KEYBYTES],
			 struct isms_rec_writer **ret, struct isms_err *err)
{
	unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char hdr[HDRLEN], *p = hdr;
	struct isms_rec_writer *w;
	int r;

	if (sodium_init() < 0)
		return isms_err_set(err, -EIO, "libsodium failed to initialise");
	w = calloc(1, sizeof(*w));
	if (!w || !(w->frame = malloc(FRAMEHDR + ISMS_REC_MAXCHUNK + ABYTES + ISMS_REC_HASHBYTES))) {
		free(w);
		return isms_err_set(err, -ENOMEM, "out of memory");
	}
	w->fd = fd;
	memcpy(w->id, id, ISMS_REC_IDBYTES);
	crypto_secretstream_xchacha20poly1305_keygen(key);
	memcpy(p, MAGIC, MAGICLEN);
	p += MAGICLEN;
	memcpy(p, id, ISMS_REC_IDBYTES);
	p += ISMS_REC_IDBYTES;
	put_le(p, (uint64_t)created, 8);
	p += 8;
	if (crypto_box_seal(p, key, sizeof(key), pubkey) != 0) {
		r = isms_err_set(err, -EINVAL, "cannot seal the recording key to the auditor key");
		goto fail;
	}
	p += SEALEDLEN;
	crypto_secretstream_xchacha20poly1305_init_push(&w->st, p, key);
	sodium_memzero(key, sizeof(key));
	crypto_generichash(w->link, ISMS_REC_HASHBYTES, hdr, HDRLEN, NULL, 0);
	r = write_all(fd, hdr, HDRLEN);
	if (r < 0) {
		r = isms_err_set(err, r, "cannot write the recording: %s", strerror(-r));
		goto fail;
	}
	w->bytes = HDRLEN;
	*ret = w;
	return 0;
fail:
	sodium_memzero(key, sizeof(key));
	isms_rec_writer_free(w);
	return r;
}

int isms_rec_writer_chunk(struct isms_rec_writer *w, const void *data, size_t len, bool final,
			  struct isms_err *err)
{
	unsigned char ad[ADLEN];
	unsigned long long clen = 0;
	size_t total;
	int r;

	if (w->closed)
		return isms_err_set(err, -EINVAL, "recording already finished");
	if (len > ISMS_REC_MAXCHUNK)
		return isms_err_set(err, -E2BIG, "recording chunk too large");
	make_ad(ad, w->id, w->seq);
	crypto_secretstream_xchacha20poly1305_push(&w->st, w->frame + FRAMEHDR, &clen, data, len, ad,
						   sizeof(ad),
						   final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
	w->frame[0] = final ? 'F' : 'D';
	put_le(w->frame + 1, clen, 4);
	chain(w->link, w->frame, w->frame + FRAMEHDR, (size_t)clen);
	memcpy(w->frame + FRAMEHDR + clen, w->link, ISMS_REC_HASHBYTES);
	total = FRAMEHDR + (size_t)clen + ISMS_REC_HASHBYTES;
	r = write_all(w->fd, w->frame, total);
	if (r < 0) {
		/* The stream state moved on; a retry would not decrypt. The recording ends here. */
		w->closed = true;
		return isms_err_set(err, r, "cannot write the recording: %s", strerror(-r));
	}
	w->seq++;
	w->bytes += total;
	if (w->bytes - w->written_back >= WRITEBACK) {
		/* Asynchronous; a file system without it loses only the head start. */
		(void)sync_file_range(w->fd, (off64_t)w->written_back, (off64_t)(w->bytes - w->written_back),
				      SYNC_FILE_RANGE_WRITE);
		w->written_back = w->bytes;
	}
	if (final)
		w->closed = true;
	return 0;
}

uint64_t isms_rec_writer_chunks(const struct isms_rec_writer *w)
{
	return w->seq;
}

uint64_t isms_rec_writer_bytes(const struct isms_rec_writer *w)
{
	return w->bytes;
}

void isms_rec_writer_head(const struct isms_rec_writer *w, char hex[2 * ISMS_REC_HASHBYTES + 1])
{
	isms_hex(w->link, ISMS_REC_HASHBYTES, hex);
}

void isms_rec_writer_free(struct isms_rec_writer *w)
{
	if (!w)
		return;
	sodium_memzero(&w->st, sizeof(w->st));
	free(w->frame);
	free(w);
}

static int defect(struct isms_rec_info *info, struct isms_err *err, const char *what)
{
	if (!info->problem[0])
		(void)snprintf(info->problem, sizeof(info->problem), "%s", what);
	return isms_err_set(err, -EBADMSG, "%s", info->problem);
}

/* Read exactly len bytes: 1 read, 0 clean EOF before any byte, -EBADMSG cut short. */
static int read_exact(FILE *f, void *buf, size_t len)
{
	size_t n = fread(buf, 1, len, f);

	if (n == len)
		return 1;
	if (ferror(f))
		return -EIO;
	return n == 0 ? 0 : -EBADMSG;
}

int isms_rec_read(FILE *f, const unsigned char *seckey, isms_rec_sink sink, void *user,
		  struct isms_rec_info *info, struct isms_err *err)
{
	unsigned char hdr[HDRLEN], link[ISMS_REC_HASHBYTES], got[ISMS_REC_HASHBYTES];
	unsigned char fh[FRAMEHDR], ad[ADLEN];
	unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char pk[ISMS_REC_KEYBYTES];
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char *ct = NULL, *pt = NULL;
	char msg[160];
	int r;

	memset(info, 0, sizeof(*info));
	if (sodium_init() < 0)
		return isms_err_set(err, -EIO, "libsodium failed to initialise");
	r = read_exact(f, hdr, HDRLEN);
	if (r == -EIO)
		return isms_err_set(err, r, "cannot read the recording");
	if (r <= 0 || memcmp(hdr, MAGIC, MAGICLEN) != 0)
		return defect(info, err, "not a recording (bad or short header)");
	memcpy(info->id, hdr + MAGICLEN, ISMS_REC_IDBYTES);
	info->created = (int64_t)get_le(hdr + MAGICLEN + ISMS_REC_IDBYTES, 8);
	crypto_generichash(link, sizeof(link), hdr, HDRLEN, NULL, 0);
	isms_hex(link, sizeof(link), info->head);
	if (seckey) {
		crypto_scalarmult_base(pk, seckey);
		if (crypto_box_seal_open(key, hdr + MAGICLEN + ISMS_REC_IDBYTES + 8, SEALEDLEN, pk,
					 seckey) != 0)
			return defect(info, err, "the key does not open this recording (wrong auditor key)");
		if (crypto_secretstream_xchacha20poly1305_init_pull(&st, hdr + HDRLEN - SSHDRLEN, key) != 0) {
			sodium_memzero(key, sizeof(key));
			return defect(info, err, "bad stream header");
		}
		sodium_memzero(key, sizeof(key));
	}
	ct = malloc(ISMS_REC_MAXCHUNK + ABYTES);
	pt = malloc(ISMS_REC_MAXCHUNK);
	if (!ct || !pt) {
		r = isms_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		uint32_t len;

		r = read_exact(f, fh, FRAMEHDR);
		if (r == -EIO) {
			r = isms_err_set(err, r, "cannot read the recording");
			goto out;
		}
		if (r == 0) {
			if (info->final)
				break;
			(void)snprintf(msg, sizeof(msg), "truncated after chunk %llu: no final chunk",
				       (unsigned long long)info->chunks);
			r = defect(info, err, msg);
			goto out;
		}
		if (info->final) {
			r = defect(info, err, "data after the final chunk");
			goto out;
		}
		len = (uint32_t)get_le(fh + 1, 4);
		if ((fh[0] != 'D' && fh[0] != 'F') || len < ABYTES || len > ISMS_REC_MAXCHUNK + ABYTES) {
			(void)snprintf(msg, sizeof(msg), "chunk %llu: bad frame header",
				       (unsigned long long)info->chunks);
			r = defect(info, err, msg);
			goto out;
		}
		r = read_exact(f, ct, len);
		if (r == 1)
			r = read_exact(f, got, sizeof(got));
		if (r == -EIO) {
			r = isms_err_set(err, r, "cannot read the recording");
			goto out;
		}
		if (r != 1) {
			(void)snprintf(msg, sizeof(msg), "truncated inside chunk %llu",
				       (unsigned long long)info->chunks);
			r = defect(info, err, msg);
			goto out;
		}
		chain(link, fh, ct, len);
		if (sodium_memcmp(link, got, sizeof(link)) != 0) {
			(void)snprintf(msg, sizeof(msg), "chunk %llu: chain link mismatch (edited, reordered or removed)",
				       (unsigned long long)info->chunks);
			r = defect(info, err, msg);
			goto out;
		}
		if (seckey) {
			unsigned long long plen = 0;
			unsigned char tag = 0;

			make_ad(ad, info->id, info->chunks);
			if (crypto_secretstream_xchacha20poly1305_pull(&st, pt, &plen, &tag, ct, len, ad,
								       sizeof(ad)) != 0) {
				(void)snprintf(msg, sizeof(msg), "chunk %llu: does not authenticate",
					       (unsigned long long)info->chunks);
				r = defect(info, err, msg);
				goto out;
			}
			if ((tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) != (fh[0] == 'F')) {
				(void)snprintf(msg, sizeof(msg), "chunk %llu: final tag does not match the frame",
					       (unsigned long long)info->chunks);
				r = defect(info, err, msg);
				goto out;
			}
			info->plain_bytes += plen;
			if (sink && sink(user, pt, (size_t)plen) < 0) {
				r = isms_err_set(err, -ECANCELED, "reading stopped");
				goto out;
			}
		}
		info->chunks++;
		isms_hex(link, sizeof(link), info->head);
		if (fh[0] == 'F')
			info->final = true;
	}
	r = 0;
out:
	if (seckey)
		sodium_memzero(&st, sizeof(st));
	if (pt)
		sodium_memzero(pt, ISMS_REC_MAXCHUNK);
	free(pt);
	free(ct);
	return r;
}

int isms_rec_keypair(unsigned char pk[ISMS_REC_KEYBYTES], unsigned char sk[ISMS_REC_KEYBYTES])
{
	if (sodium_init() < 0)
		return -EIO;
	return crypto_box_keypair(pk, sk) == 0 ? 0 : -EIO;
}

int isms_rec_load_key(const char *path, bool secret, unsigned char key[ISMS_REC_KEYBYTES],
		      struct isms_err *err)
{
	char buf[2 * ISMS_REC_KEYBYTES + 8];
	size_t binlen = 0;
	struct stat st;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return isms_err_set(err, -EINVAL, "%s: not a regular file", path);
	}
	if (secret && (st.st_mode & 077)) {
		close(fd);
		return isms_err_set(err, -EPERM, "%s: readable by others; the auditor key must be mode 0600", path);
	}
	if (!secret && (st.st_mode & 022)) {
		close(fd);
		return isms_err_set(err, -EPERM, "%s: writable by group or other", path);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return isms_err_set(err, -EIO, "%s: cannot read", path);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	r = sodium_init() < 0 ? -1 : 0;
	if (r == 0)
		r = sodium_hex2bin(key, ISMS_REC_KEYBYTES, buf, (size_t)n, NULL, &binlen, NULL);
	sodium_memzero(buf, sizeof(buf));
	if (r != 0 || binlen != ISMS_REC_KEYBYTES || n != 2 * ISMS_REC_KEYBYTES)
		return isms_err_set(err, -EINVAL, "%s: not an auditor %s key (64 hex digits expected)", path,
				    secret ? "private" : "public");
	return 0;
}

int isms_rec_write_key(const char *path, bool secret, const unsigned char key[ISMS_REC_KEYBYTES],
		       struct isms_err *err)
{
	char buf[2 * ISMS_REC_KEYBYTES + 2];
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, secret ? 0600 : 0644);
	if (fd < 0)
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	isms_hex(key, ISMS_REC_KEYBYTES, buf);
	buf[2 * ISMS_REC_KEYBYTES] = '\n';
	r = write_all(fd, buf, 2 * ISMS_REC_KEYBYTES + 1);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	if (r < 0) {
		(void)unlink(path);
		return isms_err_set(err, r, "%s: %s", path, strerror(-r));
	}
	return 0;
}

void isms_rec_new_id(char hex[ISMS_REC_IDHEX])
{
	unsigned char id[ISMS_REC_IDBYTES];

	if (sodium_init() < 0)
		abort();   /* no randomness: never hand out a guessable id */
	randombytes_buf(id, sizeof(id));
	isms_hex(id, sizeof(id), hex);
}

int isms_rec_parse_id(const char *hex, unsigned char id[ISMS_REC_IDBYTES])
{
	size_t binlen = 0;

	if (!hex || strlen(hex) != 2 * ISMS_REC_IDBYTES)
		return -EINVAL;
	for (const char *p = hex; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -EINVAL;
	if (sodium_hex2bin(id, ISMS_REC_IDBYTES, hex, 2 * ISMS_REC_IDBYTES, NULL, &binlen, NULL) != 0 ||
	    binlen != ISMS_REC_IDBYTES)
		return -EINVAL;
	return 0;
}
