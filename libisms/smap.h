/* A small string-keyed hash map (open addressing, grows), for the sync's
 * indexes by entryUUID, DN and name. Keys are borrowed, not copied. */
#ifndef ISMS_SMAP_H
#define ISMS_SMAP_H

#include <stddef.h>

/* One slot: the hash beside its key and value, so that a probe reads one
 * cache line. key NULL: empty. */
struct isms_smap_slot {
	size_t hash;
	const char *key;
	void *val;
};

struct isms_smap {
	struct isms_smap_slot *slots;   /* cap of them; iterate and skip those without a key */
	size_t cap, n;
};

/* Insert or replace. 0 or -ENOMEM. */
int isms_smap_put(struct isms_smap *m, const char *key, void *val);
/* The value, or NULL when absent. */
void *isms_smap_get(const struct isms_smap *m, const char *key);
void isms_smap_free(struct isms_smap *m);
/* The hash the map files a key under. */
size_t isms_smap_hash(const char *key);

#endif
