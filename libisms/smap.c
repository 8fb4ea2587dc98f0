/* String-keyed hash map with linear probing; no deletion (the sync never needs it). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smap.h"

/* Eight bytes at a time, then a full avalanche (MurmurHash3's finalizer):
 * the keys are UUIDs and DNs of 30-80 bytes, hashed hundreds of thousands of
 * times a sync; byte-at-a-time FNV-1a cost more than the probes. */
size_t isms_smap_hash(const char *s)
{
	size_t len = strlen(s);
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h;
}

static int smap_grow(struct isms_smap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	struct isms_smap_slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->slots[i].key)
			continue;
		for (j = m->slots[i].hash & (cap - 1); slots[j].key; j = (j + 1) & (cap - 1))
			;
		slots[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

int isms_smap_put(struct isms_smap *m, const char *key, void *val)
{
	size_t j, h = isms_smap_hash(key);

	if ((m->n + 1) * 2 > m->cap && smap_grow(m) < 0)
		return -ENOMEM;
	for (j = h & (m->cap - 1); m->slots[j].key; j = (j + 1) & (m->cap - 1)) {
		if (m->slots[j].hash == h && strcmp(m->slots[j].key, key) == 0) {
			m->slots[j].key = key;
			m->slots[j].val = val;
			return 0;
		}
	}
	m->slots[j] = (struct isms_smap_slot){ .hash = h, .key = key, .val = val };
	m->n++;
	return 0;
}

void *isms_smap_get(const struct isms_smap *m, const char *key)
{
	size_t h;

	if (!m->cap || !key)
		return NULL;
	h = isms_smap_hash(key);
	for (size_t j = h & (m->cap - 1); m->slots[j].key; j = (j + 1) & (m->cap - 1))
		if (m->slots[j].hash == h && strcmp(m->slots[j].key, key) == 0)
			return m->slots[j].val;
	return NULL;
}

void isms_smap_free(struct isms_smap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}
