/* Fuzz the HR export parser (libcsv, header mapping, dates, duplicates). */
#include <stdint.h>
#include <stdlib.h>

#include "conf.h"
#include "hr_feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct isms_conf *conf;
	struct isms_hr_feed feed;
	struct isms_err err = { 0 };

	if (!conf && isms_conf_defaults("", &conf) < 0)
		abort();
	if (isms_hr_feed_parse((const char *)data, size, conf, &feed, &err) == 0) {
		for (size_t i = 0; i < feed.nrows; i++)
			if (!feed.rows[i].employee_no || !feed.rows[i].employee_no[0] || feed.rows[i].line == 0)
				abort();
		isms_hr_feed_free(&feed);
	}
	return 0;
}
