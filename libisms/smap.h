/* A small string-keyed hash map (open addressing, grows), for the sync's
 * indexes by entryUUID, DN and name. Keys are borrowed, not copied. */
#ifndef ISMS_SMAP_H
#define ISMS_SMAP_H

#include <stddef.h>

struct isms_smap {
	const char **keys;
	void **vals;
	size_t *hashes;         /* compared before the keys: fewer cache misses */
	size_t cap, n;
};

/* Insert or replace. 0 or -ENOMEM. */
int isms_smap_put(struct isms_smap *m, const char *key, void *val);
/* The value, or NULL when absent. */
void *isms_smap_get(const struct isms_smap *m, const char *key);
void isms_smap_free(struct isms_smap *m);

#endif
