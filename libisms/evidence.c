/* Sealing and checking evidence bundles: manifest of SHA-256 per file, Ed25519
 * signature over the manifest (libsodium), nothing else trusted. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "clock.h"
#include "evidence.h"
#include "util.h"

#define MAX_MANIFEST (64L << 20)

struct files {
	char **p;
	size_t n;
};

static int files_add(struct files *f, const char *rel)
{
	char **p = realloc(f->p, (f->n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	f->p = p;
	if (!(p[f->n] = strdup(rel)))
		return -ENOMEM;
	f->n++;
	return 0;
}

static void files_free(struct files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->p[i]);
	free(f->p);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file below dir, relative; anything else (a symlink, a device) is refused. */
static int walk(const char *dir, const char *rel, struct files *f, struct isms_err *err)
{
	char path[4096];
	DIR *d;
	struct dirent *e;
	int r = 0;

	(void)snprintf(path, sizeof(path), "%s%s%s", dir, *rel ? "/" : "", rel);
	d = opendir(path);
	if (!d)
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	while (r == 0 && (e = readdir(d))) {
		char sub[4096], full[8192];
		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		(void)snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		if (!*rel && (strcmp(sub, ISMS_EVIDENCE_MANIFEST) == 0 ||
			      strcmp(sub, ISMS_EVIDENCE_SIGNATURE) == 0))
			continue;
		(void)snprintf(full, sizeof(full), "%s/%s", dir, sub);
		if (lstat(full, &sb) < 0)
			r = isms_err_set(err, -errno, "%s: %s", full, strerror(errno));
		else if (S_ISDIR(sb.st_mode))
			r = walk(dir, sub, f, err);
		else if (S_ISREG(sb.st_mode))
			r = files_add(f, sub) < 0 ? isms_err_set(err, -ENOMEM, "out of memory") : 0;
		else
			r = isms_err_set(err, -EBADMSG, "%s: not a regular file", full);
	}
	closedir(d);
	return r;
}

static int hash_file(const char *path, char out[65], int64_t *ret_size, struct isms_err *err)
{
	crypto_hash_sha256_state s;
	unsigned char buf[65536], h[crypto_hash_sha256_BYTES];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;
	int64_t size = 0;

	if (fd < 0)
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	crypto_hash_sha256_init(&s);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		crypto_hash_sha256_update(&s, buf, (unsigned long long)n);
		size += n;
	}
	close(fd);
	if (n < 0)
		return isms_err_set(err, -EIO, "%s: read failed", path);
	crypto_hash_sha256_final(&s, h);
	isms_hex(h, sizeof(h), out);
	*ret_size = size;
	return 0;
}

static int write_all(const char *path, const void *p, size_t len, struct isms_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (write(fd, p, len) != (ssize_t)len || fsync(fd) < 0) {
		int e = -errno;

		close(fd);
		return isms_err_set(err, e ? e : -EIO, "%s: write failed", path);
	}
	return close(fd) < 0 ? isms_err_set(err, -errno, "%s: %s", path, strerror(errno)) : 0;
}

int isms_evidence_seal(const char *dir, const char *signing_key, const char *label,
		       struct isms_err *err)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
	char *sk = NULL;
	char pkhex[2 * crypto_sign_PUBLICKEYBYTES + 1], path[4096], iso[32];
	struct files f = { 0 };
	json_t *m = NULL, *list;
	char *text = NULL;
	struct stat sb;
	size_t sklen = 0;
	int r;

	if (sodium_init() < 0)
		return isms_err_set(err, -EIO, "libsodium failed to initialise");
	/* The signing key guards the evidence: private to its owner, exactly one key. */
	if (lstat(signing_key, &sb) < 0)
		return isms_err_set(err, -errno, "signing key %s: %s", signing_key, strerror(errno));
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) || (getuid() == 0 && sb.st_uid != 0))
		return isms_err_set(err, -EPERM, "signing key %s: must be a regular file, mode 0600, "
				    "owned by root", signing_key);
	r = isms_read_file(signing_key, crypto_sign_SECRETKEYBYTES, &sk, &sklen, err);
	if (r < 0)
		return r;
	if (sklen != crypto_sign_SECRETKEYBYTES) {
		r = isms_err_set(err, -EBADMSG, "signing key %s: %zu bytes, expected %d", signing_key,
				 sklen, crypto_sign_SECRETKEYBYTES);
		goto out;
	}
	crypto_sign_ed25519_sk_to_pk(pk, (const unsigned char *)sk);
	isms_hex(pk, sizeof(pk), pkhex);
	if ((r = walk(dir, "", &f, err)) < 0)
		goto out;
	if (f.n)
		qsort(f.p, f.n, sizeof(*f.p), cmp_str);
	m = json_pack("{s:s,s:s,s:s,s:s,s:[]}", "format", "isms-evidence/1", "label", label,
		      "created_at", isms_time_iso(isms_now(), iso, sizeof(iso)), "signer_ed25519", pkhex,
		      "files");
	list = m ? json_object_get(m, "files") : NULL;
	if (!list) {
		r = isms_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < f.n; i++) {
		char h[65];
		int64_t size;

		(void)snprintf(path, sizeof(path), "%s/%s", dir, f.p[i]);
		if ((r = hash_file(path, h, &size, err)) < 0)
			goto out;
		json_array_append_new(list, json_pack("{s:s,s:I,s:s}", "path", f.p[i], "bytes",
						      (json_int_t)size, "sha256", h));
	}
	text = json_dumps(m, JSON_INDENT(1));
	if (!text) {
		r = isms_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	crypto_sign_detached(sig, NULL, (const unsigned char *)text, strlen(text),
			     (const unsigned char *)sk);
	(void)snprintf(path, sizeof(path), "%s/" ISMS_EVIDENCE_MANIFEST, dir);
	if ((r = write_all(path, text, strlen(text), err)) < 0)
		goto out;
	(void)snprintf(path, sizeof(path), "%s/" ISMS_EVIDENCE_SIGNATURE, dir);
	r = write_all(path, sig, sizeof(sig), err);
out:
	if (sk)
		isms_secret_free(sk, sklen + 1);
	files_free(&f);
	json_decref(m);
	free(text);
	return r;
}

int isms_evidence_verify(const char *dir, const char *pubkey, size_t *ret_files,
			 struct isms_err *err)
{
	char *pk = NULL, *sig = NULL, *text = NULL;
	size_t pklen = 0, siglen = 0, tlen = 0, n;
	char path[4096];
	struct files f = { 0 };
	json_t *m = NULL, *list;
	json_error_t jerr;
	int r;

	if (sodium_init() < 0)
		return isms_err_set(err, -EIO, "libsodium failed to initialise");
	if ((r = isms_read_file(pubkey, 4096, &pk, &pklen, err)) < 0)
		goto out;
	if (pklen != crypto_sign_PUBLICKEYBYTES) {
		r = isms_err_set(err, -EINVAL, "public key %s: %zu bytes, expected %d", pubkey, pklen,
				 crypto_sign_PUBLICKEYBYTES);
		goto out;
	}
	(void)snprintf(path, sizeof(path), "%s/" ISMS_EVIDENCE_SIGNATURE, dir);
	if ((r = isms_read_file(path, 4096, &sig, &siglen, err)) < 0)
		goto out;
	(void)snprintf(path, sizeof(path), "%s/" ISMS_EVIDENCE_MANIFEST, dir);
	if ((r = isms_read_file(path, MAX_MANIFEST, &text, &tlen, err)) < 0)
		goto out;
	if (siglen != crypto_sign_BYTES ||
	    crypto_sign_verify_detached((const unsigned char *)sig, (const unsigned char *)text, tlen,
					(const unsigned char *)pk) != 0) {
		r = isms_err_set(err, -EBADMSG, "%s: signature does not match the manifest for key %s",
				 dir, pubkey);
		goto out;
	}
	m = json_loadb(text, tlen, 0, &jerr);
	list = m ? json_object_get(m, "files") : NULL;
	if (!json_is_array(list)) {
		r = isms_err_set(err, -EBADMSG, "%s: manifest unreadable", path);
		goto out;
	}
	if ((r = walk(dir, "", &f, err)) < 0)
		goto out;
	if (f.n)
		qsort(f.p, f.n, sizeof(*f.p), cmp_str);
	n = json_array_size(list);
	for (size_t i = 0; i < n || i < f.n; i++) {
		json_t *e = json_array_get(list, i);
		const char *p = json_string_value(json_object_get(e, "path"));
		const char *want = json_string_value(json_object_get(e, "sha256"));
		char got[65], full[8192];
		int64_t size;

		if (i >= n || !p || i >= f.n || strcmp(p, f.p[i]) != 0) {
			r = isms_err_set(err, -EBADMSG, "%s: files differ from the manifest at '%s'", dir,
					 i < f.n ? f.p[i] : p ? p : "(end)");
			goto out;
		}
		(void)snprintf(full, sizeof(full), "%s/%s", dir, p);
		if ((r = hash_file(full, got, &size, err)) < 0)
			goto out;
		if (!want || strcmp(want, got) != 0) {
			r = isms_err_set(err, -EBADMSG, "%s: SHA-256 %s, manifest says %s", full, got,
					 want ? want : "nothing");
			goto out;
		}
	}
	if (ret_files)
		*ret_files = f.n;
	r = 0;
out:
	free(pk);
	free(sig);
	free(text);
	files_free(&f);
	json_decref(m);
	return r;
}
