/* "Now" for every decision. Only the test build (ISMS_TESTING, linked into
 * build/test/ programs) may pin it: production reads no environment here. */
#include <stdlib.h>
#include <time.h>

#include "clock.h"

int64_t isms_now(void)
{
#ifdef ISMS_TESTING
	const char *pinned = secure_getenv("ISMS_TEST_NOW");

	if (pinned && *pinned) {
		char *end;
		long long v = strtoll(pinned, &end, 10);

		if (*end == '\0')
			return v;
	}
#endif
	return (int64_t)time(NULL);
}
