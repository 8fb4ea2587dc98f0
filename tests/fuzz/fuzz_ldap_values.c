/* Fuzz the parsers of values a directory sends (accessctl sync): generalized
 * time, numbers, DNs, filter escaping, and the stored JSON form of an entry.
 * The first byte picks the parser; the rest is the value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldap_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isms_ldap_entry *e = NULL;
	char *s, *out = NULL;
	int64_t t;
	long long n;

	if (size < 1)
		return 0;
	s = strndup((const char *)data + 1, size - 1);
	if (!s)
		return 0;
	switch (data[0] % 6) {
	case 0:
		(void)isms_ldap_parse_gentime(s, &t);
		break;
	case 1:
		(void)isms_ldap_parse_number(s, -1, 4294967294LL, &n);
		break;
	case 2:
		if (isms_ldap_dn_rdn_value(s, &out) == 0)
			free(out);
		break;
	case 3:
		free(isms_ldap_dn_key(s));
		break;
	case 4:
		out = isms_ldap_filter_eq("uid", s);
		/* Escaped: no filter metacharacter survives in the value. */
		if (out && strpbrk(out + 5, "()*") != out + strlen(out) - 1)
			abort();
		free(out);
		break;
	case 5: {
		struct isms_ldap_stored_view v;
		int scanned = isms_ldap_stored_scan(s, &v);

		if (isms_ldap_entry_from_json("u", "dn", data[0] & 8 ? ISMS_LDAP_GROUP : ISMS_LDAP_ACCOUNT, s,
					      &e) != 0) {
			/* The scan refuses what the reader refuses (out of memory aside). */
			if (scanned == 0)
				abort();
		} else {
			struct isms_ldap_entry *e2 = NULL;
			char *name = isms_ldap_stored_str(v.name);
			char *back, *again = NULL;

			/* ...and accepts what it accepts, pointing at the same name. */
			if (scanned != 0 || !name || strcmp(name, e->name) != 0)
				abort();
			free(name);
			free(e->stored);   /* write it afresh, not the text it was read from */
			e->stored = NULL;
			back = isms_ldap_entry_to_json(e);

			/* The stored form reads back to itself. */
			if (!back || isms_ldap_entry_from_json("u", "dn", e->kind, back, &e2) < 0)
				abort();
			free(e2->stored);
			e2->stored = NULL;
			again = isms_ldap_entry_to_json(e2);
			if (!again || strcmp(back, again) != 0)
				abort();
			free(again);
			free(back);
			isms_ldap_entry_free(e2);
			isms_ldap_entry_free(e);
		}
		break;
	}
	}
	free(s);
	return 0;
}
