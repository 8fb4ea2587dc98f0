/* The vault: the host key and XChaCha20-Poly1305 sealing, each secret bound
 * to its account by the associated data, so a copied ciphertext is useless. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "util.h"
#include "vault.h"

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES

static int vault_init(struct isms_err *err)
{
	if (sodium_init() < 0)
		return isms_err_set(err, -EIO, "libsodium failed to initialise");
	return 0;
}

int isms_vault_create_key(const char *path, struct isms_err *err)
{
	unsigned char key[ISMS_VAULT_KEYBYTES];
	ssize_t n;
	int fd, r;

	r = vault_init(err);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return isms_err_set(err, -errno, "host key %s: %s", path, strerror(errno));
	randombytes_buf(key, sizeof(key));
	n = write(fd, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	if (n != (ssize_t)sizeof(key) || fsync(fd) < 0) {
		r = isms_err_set(err, -EIO, "host key %s: write failed", path);
		close(fd);
		(void)unlink(path);
		return r;
	}
	if (close(fd) < 0)
		return isms_err_set(err, -errno, "host key %s: %s", path, strerror(errno));
	return 0;
}

int isms_vault_check_st(const struct stat *st, const char *path, struct isms_err *err)
{
	if (!S_ISREG(st->st_mode))
		return isms_err_set(err, -EPERM, "host key %s: not a regular file", path);
	if (st->st_mode & 077)
		return isms_err_set(err, -EPERM,
				    "host key %s is accessible by group or other (mode %04o); fix: chmod 600 %s",
				    path, (unsigned)(st->st_mode & 07777), path);
	if (st->st_uid != 0 && geteuid() == 0)
		return isms_err_set(err, -EPERM, "host key %s is not owned by root; fix: chown root %s",
				    path, path);
	if (st->st_size != ISMS_VAULT_KEYBYTES)
		return isms_err_set(err, -EBADMSG, "host key %s: must be exactly %d bytes", path,
				    ISMS_VAULT_KEYBYTES);
	return 0;
}

int isms_vault_load_st(const char *path, struct isms_vault *ret, struct stat *st, struct isms_err *err)
{
	unsigned char buf[ISMS_VAULT_KEYBYTES + 1];
	ssize_t n;
	int fd, r;

	r = vault_init(err);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return isms_err_set(err, -errno, "host key %s: %s", path, strerror(errno));
	if (fstat(fd, st) < 0) {
		r = isms_err_set(err, -errno, "host key %s: %s", path, strerror(errno));
		goto out;
	}
	r = isms_vault_check_st(st, path, err);
	if (r < 0)
		goto out;
	/* asks one byte more than a key: a regular file read short is at its end */
	n = read(fd, buf, sizeof(buf));
	if (n != ISMS_VAULT_KEYBYTES) {
		r = isms_err_set(err, -EBADMSG, "host key %s: must be exactly %d bytes", path,
				 ISMS_VAULT_KEYBYTES);
		goto out;
	}
	memcpy(ret->key, buf, ISMS_VAULT_KEYBYTES);
	r = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return r;
}

int isms_vault_load(const char *path, struct isms_vault *ret, struct isms_err *err)
{
	struct stat st;

	return isms_vault_load_st(path, ret, &st, err);
}

void isms_vault_wipe(struct isms_vault *v)
{
	if (v)
		sodium_memzero(v, sizeof(*v));
}

int isms_vault_seal(const struct isms_vault *v, const char *ad,
		    const unsigned char *pt, size_t ptlen,
		    unsigned char **ret_ct, size_t *ret_ctlen)
{
	size_t len = NONCE + ptlen + TAG;
	unsigned char *ct;
	unsigned long long clen;

	if (vault_init(NULL) < 0)
		return -EIO;
	ct = malloc(len);
	if (!ct)
		return -ENOMEM;
	randombytes_buf(ct, NONCE);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct + NONCE, &clen, pt, ptlen,
						       (const unsigned char *)ad, strlen(ad), NULL,
						       ct, v->key) != 0) {
		free(ct);
		return -EIO;
	}
	*ret_ct = ct;
	*ret_ctlen = NONCE + (size_t)clen;
	return 0;
}

int isms_vault_open(const struct isms_vault *v, const char *ad,
		    const unsigned char *ct, size_t ctlen,
		    unsigned char **ret_pt, size_t *ret_ptlen)
{
	unsigned char *pt;
	unsigned long long plen;
	size_t cap;

	if (vault_init(NULL) < 0)
		return -EIO;
	if (ctlen < NONCE + TAG)
		return -EBADMSG;
	cap = ctlen - NONCE - TAG;
	pt = malloc(cap + 1);
	if (!pt)
		return -ENOMEM;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL, ct + NONCE, ctlen - NONCE,
						       (const unsigned char *)ad, strlen(ad),
						       ct, v->key) != 0) {
		isms_secret_free(pt, cap + 1);
		return -EBADMSG;
	}
	pt[plen] = '\0';
	*ret_pt = pt;
	*ret_ptlen = (size_t)plen;
	return 0;
}

int isms_vault_keyed_hash(const struct isms_vault *v, const char *ad,
			  const char *what, unsigned char out[32])
{
	unsigned char subkey[crypto_generichash_KEYBYTES];
	crypto_generichash_state st;
	unsigned char zero = 0;

	if (vault_init(NULL) < 0)
		return -EIO;
	/* A subkey, so the hash key is never the encryption key itself. */
	if (crypto_kdf_derive_from_key(subkey, sizeof(subkey), 1, "ismshash", v->key) != 0)
		return -EIO;
	crypto_generichash_init(&st, subkey, sizeof(subkey), 32);
	crypto_generichash_update(&st, (const unsigned char *)ad, strlen(ad));
	crypto_generichash_update(&st, &zero, 1);
	crypto_generichash_update(&st, (const unsigned char *)what, strlen(what));
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(subkey, sizeof(subkey));
	sodium_memzero(&st, sizeof(st));
	return 0;
}
