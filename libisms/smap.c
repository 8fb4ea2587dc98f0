/* String-keyed hash map with linear probing; no deletion (the sync never needs it). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smap.h"

static size_t smap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static int smap_grow(struct isms_smap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	const char **keys = calloc(cap, sizeof(*keys));
	void **vals = calloc(cap, sizeof(*vals));
	size_t *hashes = calloc(cap, sizeof(*hashes));

	if (!keys || !vals || !hashes) {
		free(keys);
		free(vals);
		free(hashes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->keys[i])
			continue;
		for (j = m->hashes[i] & (cap - 1); keys[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
		hashes[j] = m->hashes[i];
	}
	free(m->keys);
	free(m->vals);
	free(m->hashes);
	m->keys = keys;
	m->vals = vals;
	m->hashes = hashes;
	m->cap = cap;
	return 0;
}

int isms_smap_put(struct isms_smap *m, const char *key, void *val)
{
	size_t j, h = smap_hash(key);

	if ((m->n + 1) * 2 > m->cap && smap_grow(m) < 0)
		return -ENOMEM;
	for (j = h & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
		if (m->hashes[j] == h && strcmp(m->keys[j], key) == 0) {
			m->keys[j] = key;
			m->vals[j] = val;
			return 0;
		}
	}
	m->keys[j] = key;
	m->vals[j] = val;
	m->hashes[j] = h;
	m->n++;
	return 0;
}

void *isms_smap_get(const struct isms_smap *m, const char *key)
{
	size_t h;

	if (!m->cap || !key)
		return NULL;
	h = smap_hash(key);
	for (size_t j = h & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1))
		if (m->hashes[j] == h && strcmp(m->keys[j], key) == 0)
			return m->vals[j];
	return NULL;
}

void isms_smap_free(struct isms_smap *m)
{
	free(m->keys);
	free(m->vals);
	free(m->hashes);
	m->keys = NULL;
	m->vals = NULL;
	m->hashes = NULL;
	m->cap = m->n = 0;
}
