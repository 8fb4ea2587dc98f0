/* The encrypted session recording file, written by isms-rec and read by
 * accessctl rec: a per-recording secretstream key sealed to the auditor, the
 * stream in chunks, and a BLAKE2b chain over the frames checkable without a key.
 *
 * Layout (integers little-endian):
 *   header: "ISMSREC1" | id[16] | created i64 | sealed key[80] | stream header[24]
 *   frame:  kind u8 ('D' data, 'F' final) | len u32 | ciphertext[len] | link[32]
 * link_0 = BLAKE2b-256(header); link_n = BLAKE2b-256(link_n-1 | kind | len | ciphertext).
 * Each chunk is crypto_secretstream_xchacha20poly1305 with associated data
 * id | chunk number (u64); the 'F' frame carries TAG_FINAL and nothing follows it.
 * The plaintext stream is an asciicast v2 file (header line, then event lines). */
#ifndef ISMS_RECFILE_H
#define ISMS_RECFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define ISMS_REC_IDBYTES     16
#define ISMS_REC_IDHEX       (2 * ISMS_REC_IDBYTES + 1)
#define ISMS_REC_KEYBYTES    32          /* X25519 public or secret key */
#define ISMS_REC_HASHBYTES   32
#define ISMS_REC_MAXCHUNK    (1u << 20)  /* plaintext bytes per chunk at most */
#define ISMS_REC_SUFFIX      ".isr"

struct isms_rec_writer;

/* Start a recording on fd (already open for writing, empty): a fresh stream
 * key sealed to pubkey, and the header written. */
int isms_rec_writer_open(int fd, const unsigned char id[ISMS_REC_IDBYTES], int64_t created,
			 const unsigned char pubkey[ISMS_REC_KEYBYTES],
			 struct isms_rec_writer **ret, struct isms_err *err);

/* Encrypt and write one chunk (len <= ISMS_REC_MAXCHUNK). final closes the stream;
 * nothing may be written after it. A short or failed write is an error: the
 * caller decides what the session does. */
int isms_rec_writer_chunk(struct isms_rec_writer *w, const void *data, size_t len, bool final,
			  struct isms_err *err);

uint64_t isms_rec_writer_chunks(const struct isms_rec_writer *w);
uint64_t isms_rec_writer_bytes(const struct isms_rec_writer *w);   /* file size so far */
void isms_rec_writer_head(const struct isms_rec_writer *w, char hex[2 * ISMS_REC_HASHBYTES + 1]);
void isms_rec_writer_free(struct isms_rec_writer *w);   /* wipes the key; NULL is fine */

/* What reading a recording found. */
struct isms_rec_info {
	unsigned char id[ISMS_REC_IDBYTES];
	int64_t created;
	uint64_t chunks;                 /* frames read intact */
	uint64_t plain_bytes;            /* decrypted bytes (with a key) */
	bool final;                      /* the 'F' frame was reached and nothing followed */
	char head[2 * ISMS_REC_HASHBYTES + 1]; /* last intact link, hex */
	char problem[160];               /* first defect found, "" when none */
};

/* Called with each decrypted chunk, in order; a negative return stops reading. */
typedef int (*isms_rec_sink)(void *user, const unsigned char *data, size_t len);

/* Read a recording from f. Without seckey only the structure and the link chain
 * are checked; with it every chunk is decrypted and authenticated too and handed
 * to sink (may be NULL). Returns 0 when intact and final, -EBADMSG with
 * info->problem set when damaged, truncated or not for this key, other negative
 * errno on I/O errors. info is filled as far as reading got. */
int isms_rec_read(FILE *f, const unsigned char *seckey, isms_rec_sink sink, void *user,
		  struct isms_rec_info *info, struct isms_err *err);

/* Auditor keys: one line of hex each. The secret key file must be 0600 or stricter. */
int isms_rec_keypair(unsigned char pk[ISMS_REC_KEYBYTES], unsigned char sk[ISMS_REC_KEYBYTES]);
int isms_rec_load_key(const char *path, bool secret, unsigned char key[ISMS_REC_KEYBYTES],
		      struct isms_err *err);
int isms_rec_write_key(const char *path, bool secret, const unsigned char key[ISMS_REC_KEYBYTES],
		       struct isms_err *err);

/* A fresh 128-bit recording id, in hex. */
void isms_rec_new_id(char hex[ISMS_REC_IDHEX]);
/* Parse a hex id; -EINVAL unless exactly 32 hex digits. */
int isms_rec_parse_id(const char *hex, unsigned char id[ISMS_REC_IDBYTES]);

#endif
