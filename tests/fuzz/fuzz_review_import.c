/* Fuzz target: the returned-worksheet CSV parser and the decision cells, the
 * part of `review import` that reads what reviewers send back. */
#include <stdint.h>
#include <string.h>

#include "review.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isms_review_sheet s;
	struct isms_err err = { 0 };

	if (isms_review_sheet_parse("fuzz.csv", (const char *)data, size, &s, &err) < 0)
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		char dec[16];
		int64_t until;

		(void)isms_review_decision_parse(s.rows[i].cells[RC_DECISION],
						 s.rows[i].cells[RC_EXCEPTION_UNTIL], dec, &until, &err);
	}
	isms_review_sheet_free(&s);
	return 0;
}
