/* Encrypted backups. File layout:
 *   "ISMSBAK1" | mode (1 host key, 2 sealed to a public key) | [sealed stream key] |
 *   secretstream header | chunks: u32 big-endian length, ciphertext (last one TAG_FINAL)
 * The plaintext is a sequence of entries 'F' name NUL u64-size data, closed by 'E'. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "util.h"

#define MAGIC "ISMSBAK1"
#define CHUNK 65536
#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define HEADERBYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define KEYBYTES crypto_secretstream_xchacha20poly1305_KEYBYTES

static const char *const store_files[] = { "registry.db", "state.db" };

struct writer {
	FILE *f;
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char buf[CHUNK];
	size_t len;
	unsigned char ct[CHUNK + ABYTES];
};

static int writer_flush(struct writer *w, unsigned char tag)
{
	unsigned long long clen;
	unsigned char be[4];

	crypto_secretstream_xchacha20poly1305_push(&w->st, w->ct, &clen, w->buf, w->len, NULL, 0, tag);
	be[0] = (unsigned char)(clen >> 24);
	be[1] = (unsigned char)(clen >> 16);
	be[2] = (unsigned char)(clen >> 8);
	be[3] = (unsigned char)clen;
	w->len = 0;
	if (fwrite(be, 1, 4, w->f) != 4 || fwrite(w->ct, 1, clen, w->f) != clen)
		return -EIO;
	return 0;
}

static int writer_put(struct writer *w, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n) {
		size_t take = CHUNK - w->len < n ? CHUNK - w->len : n;
		int r;

		memcpy(w->buf + w->len, p, take);
		w->len += take;
		p += take;
		n -= take;
		if (w->len == CHUNK && (r = writer_flush(w, 0)) < 0)
			return r;
	}
	return 0;
}

static void be64(unsigned char out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (unsigned char)(v >> (56 - 8 * i));
}

static int derive_host_key(const struct isms_vault *v, unsigned char key[KEYBYTES])
{
	return crypto_kdf_derive_from_key(key, KEYBYTES, 2, "ismsback", v->key) == 0 ? 0 : -EIO;
}

/* A consistent copy of a live store, taken with sqlite's online backup. */
static int snapshot(sqlite3 *src, const char *path, struct isms_err *err)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc;

	rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK) {
		b = sqlite3_backup_init(dst, "main", src, "main");
		if (!b) {
			rc = sqlite3_errcode(dst);
		} else {
			rc = sqlite3_backup_step(b, -1);
			(void)sqlite3_backup_finish(b);
			rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		}
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
	sqlite3_close(dst);
	if (rc != SQLITE_OK)
		return isms_err_set(err, -EIO, "backup of a store failed: %s", sqlite3_errstr(rc));
	return 0;
}

static int append_file(struct writer *w, const char *name, const char *path, struct isms_err *err)
{
	unsigned char hdr[8], buf[CHUNK];
	struct stat st;
	FILE *in = fopen(path, "rbe");
	size_t n;
	int r = 0;

	if (!in || fstat(fileno(in), &st) < 0) {
		r = isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	be64(hdr, (uint64_t)st.st_size);
	if ((r = writer_put(w, "F", 1)) < 0 || (r = writer_put(w, name, strlen(name) + 1)) < 0 ||
	    (r = writer_put(w, hdr, 8)) < 0)
		goto io;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if ((r = writer_put(w, buf, n)) < 0)
			goto io;
	if (ferror(in))
		r = -EIO;
io:
	if (r < 0)
		r = isms_err_set(err, r, "writing the backup failed");
out:
	if (in)
		fclose(in);
	return r;
}

int isms_backup_write(sqlite3 *registry, sqlite3 *state, const char *out_path,
		      const struct isms_backup_key *key, struct isms_err *err)
{
	unsigned char k[KEYBYTES], header[HEADERBYTES], sealed[crypto_box_SEALBYTES + KEYBYTES];
	char tmpdir[] = "/tmp/isms-backup.XXXXXX", paths[2][64];
	sqlite3 *dbs[2] = { registry, state };
	struct writer *w = NULL;
	unsigned char mode = key->pubkey ? 2 : 1;
	int fd = -1, r;

	if (sodium_init() < 0)
		return isms_err_set(err, -EIO, "libsodium failed to initialise");
	if (!key->pubkey && !key->vault)
		return isms_err_set(err, -EINVAL, "backup needs the host key or a public key");
	if (!mkdtemp(tmpdir))
		return isms_err_set(err, -errno, "temporary directory: %s", strerror(errno));
	for (int i = 0; i < 2; i++)
		(void)snprintf(paths[i], sizeof(paths[i]), "%s/%s", tmpdir, store_files[i]);
	w = calloc(1, sizeof(*w));
	if (!w) {
		r = isms_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < 2; i++)
		if ((r = snapshot(dbs[i], paths[i], err)) < 0)
			goto out;
	if (mode == 2) {
		crypto_secretstream_xchacha20poly1305_keygen(k);
		crypto_box_seal(sealed, k, sizeof(k), key->pubkey);
	} else if ((r = derive_host_key(key->vault, k)) < 0) {
		r = isms_err_set(err, r, "key derivation failed");
		goto out;
	}
	fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(w->f = fdopen(fd, "wb"))) {
		r = isms_err_set(err, -errno, "%s: %s", out_path, strerror(errno));
		goto out;
	}
	fd = -1;
	crypto_secretstream_xchacha20poly1305_init_push(&w->st, header, k);
	if (fwrite(MAGIC, 1, 8, w->f) != 8 || fwrite(&mode, 1, 1, w->f) != 1 ||
	    (mode == 2 && fwrite(sealed, 1, sizeof(sealed), w->f) != sizeof(sealed)) ||
	    fwrite(header, 1, sizeof(header), w->f) != sizeof(header)) {
		r = isms_err_set(err, -EIO, "%s: write failed", out_path);
		goto out;
	}
	for (int i = 0; i < 2; i++)
		if ((r = append_file(w, store_files[i], paths[i], err)) < 0)
			goto out;
	if ((r = writer_put(w, "E", 1)) < 0 || (r = writer_flush(w, crypto_secretstream_xchacha20poly1305_TAG_FINAL)) < 0 ||
	    fflush(w->f) != 0 || fsync(fileno(w->f)) < 0) {
		r = isms_err_set(err, -EIO, "%s: write failed", out_path);
		goto out;
	}
	r = 0;
out:
	sodium_memzero(k, sizeof(k));
	if (w) {
		if (w->f && fclose(w->f) != 0 && r == 0)
			r = isms_err_set(err, -EIO, "%s: write failed", out_path);
		sodium_memzero(w, sizeof(*w));
		free(w);
	}
	if (fd >= 0)
		close(fd);
	if (r < 0)
		(void)unlink(out_path);
	for (int i = 0; i < 2; i++)
		(void)unlink(paths[i]);
	(void)rmdir(tmpdir);
	return r;
}

/* Decrypt the whole stream into plain (a 0600 temp file); -EBADMSG on any defect. */
static int decrypt_stream(FILE *in, const struct isms_backup_key *key, FILE *plain, struct isms_err *err)
{
	unsigned char magic[8], mode, k[KEYBYTES], header[HEADERBYTES], be[4], tag = 0;
	unsigned char sealed[crypto_box_SEALBYTES + KEYBYTES];
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char *ct = malloc(CHUNK + ABYTES), *pt = malloc(CHUNK);
	int r = -EBADMSG;

	if (!ct || !pt) {
		r = isms_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (fread(magic, 1, 8, in) != 8 || memcmp(magic, MAGIC, 8) != 0 || fread(&mode, 1, 1, in) != 1 ||
	    (mode != 1 && mode != 2)) {
		r = isms_err_set(err, -EBADMSG, "not a pam_isms backup");
		goto out;
	}
	if (mode == 2) {
		if (!key->pubkey || !key->seckey) {
			r = isms_err_set(err, -EINVAL, "this backup is sealed to a public key; give its secret key (--key)");
			goto out;
		}
		if (fread(sealed, 1, sizeof(sealed), in) != sizeof(sealed) ||
		    crypto_box_seal_open(k, sealed, sizeof(sealed), key->pubkey, key->seckey) != 0) {
			r = isms_err_set(err, -EBADMSG, "the backup's key does not open with the given key");
			goto out;
		}
	} else if (!key->vault || derive_host_key(key->vault, k) < 0) {
		r = isms_err_set(err, -EINVAL, "this backup is sealed with a host key; the host key is needed");
		goto out;
	}
	if (fread(header, 1, sizeof(header), in) != sizeof(header) ||
	    crypto_secretstream_xchacha20poly1305_init_pull(&st, header, k) != 0) {
		r = isms_err_set(err, -EBADMSG, "backup header damaged");
		goto out;
	}
	while (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		unsigned long long plen;
		size_t clen;

		if (fread(be, 1, 4, in) != 4) {
			r = isms_err_set(err, -EBADMSG, "backup truncated (no final chunk)");
			goto out;
		}
		clen = (size_t)be[0] << 24 | (size_t)be[1] << 16 | (size_t)be[2] << 8 | be[3];
		if (clen < ABYTES || clen > CHUNK + ABYTES || fread(ct, 1, clen, in) != clen ||
		    crypto_secretstream_xchacha20poly1305_pull(&st, pt, &plen, &tag, ct, clen, NULL, 0) != 0) {
			r = isms_err_set(err, -EBADMSG, "backup damaged, edited or encrypted with another key");
			goto out;
		}
		if (fwrite(pt, 1, plen, plain) != plen) {
			r = isms_err_set(err, -EIO, "cannot write the decrypted backup");
			goto out;
		}
	}
	if (fgetc(in) != EOF) {
		r = isms_err_set(err, -EBADMSG, "data after the end of the backup");
		goto out;
	}
	r = 0;
out:
	sodium_memzero(k, sizeof(k));
	if (pt)
		sodium_memzero(pt, CHUNK);
	free(ct);
	free(pt);
	return r;
}

static int unpack(FILE *plain, const char *dir, bool seen[2], struct isms_err *err)
{
	unsigned char buf[CHUNK], size[8];
	char name[32];
	int type;

	rewind(plain);
	while ((type = fgetc(plain)) == 'F') {
		uint64_t n = 0;
		size_t i = 0, idx;
		char *path;
		FILE *out;
		int c, fd;

		while ((c = fgetc(plain)) > 0 && i < sizeof(name) - 1)
			name[i++] = (char)c;
		name[i] = '\0';
		for (idx = 0; idx < 2 && strcmp(name, store_files[idx]) != 0; idx++)
			;
		if (c != 0 || idx == 2 || seen[idx] || fread(size, 1, 8, plain) != 8)
			return isms_err_set(err, -EBADMSG, "backup holds an unexpected entry");
		seen[idx] = true;
		for (int b = 0; b < 8; b++)
			n = n << 8 | size[b];
		if (asprintf(&path, "%s/%s", dir, name) < 0)
			return isms_err_set(err, -ENOMEM, "out of memory");
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		free(path);
		if (fd < 0 || !(out = fdopen(fd, "wb"))) {
			if (fd >= 0)
				close(fd);
			return isms_err_set(err, -errno, "%s/%s: %s", dir, name, strerror(errno));
		}
		while (n) {
			size_t want = n < sizeof(buf) ? (size_t)n : sizeof(buf);

			if (fread(buf, 1, want, plain) != want || fwrite(buf, 1, want, out) != want) {
				fclose(out);
				return isms_err_set(err, -EBADMSG, "backup entry %s is short", name);
			}
			n -= want;
		}
		if (fclose(out) != 0)
			return isms_err_set(err, -EIO, "cannot write %s", name);
	}
	if (type != 'E' || fgetc(plain) != EOF || !seen[0] || !seen[1])
		return isms_err_set(err, -EBADMSG, "backup is incomplete");
	return 0;
}

int isms_backup_read(const char *in_path, const struct isms_backup_key *key, const char *dir,
		     struct isms_err *err)
{
	bool seen[2] = { false, false };
	FILE *in, *plain = NULL;
	int r;

	if (sodium_init() < 0)
		return isms_err_set(err, -EIO, "libsodium failed to initialise");
	in = fopen(in_path, "rbe");
	if (!in)
		return isms_err_set(err, -errno, "%s: %s", in_path, strerror(errno));
	plain = tmpfile();   /* unlinked, 0600: gone when closed */
	if (!plain) {
		fclose(in);
		return isms_err_set(err, -errno, "temporary file: %s", strerror(errno));
	}
	r = decrypt_stream(in, key, plain, err);
	if (r == 0)
		r = unpack(plain, dir, seen, err);
	fclose(in);
	fclose(plain);
	if (r < 0) {
		for (int i = 0; i < 2; i++) {
			char *path;

			if (seen[i] && asprintf(&path, "%s/%s", dir, store_files[i]) >= 0) {
				(void)unlink(path);
				free(path);
			}
		}
	}
	return r;
}
