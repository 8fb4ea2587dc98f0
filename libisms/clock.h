/* The one source of "now". Production builds read the system clock only; the
 * test build (clock_test.o, ISMS_TESTING) may pin it with ISMS_TEST_NOW. */
#ifndef ISMS_CLOCK_H
#define ISMS_CLOCK_H

#include <stdint.h>

int64_t isms_now(void);

#endif
