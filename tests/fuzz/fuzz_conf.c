/* Fuzz target: isms.conf parsing and validation (libinih plus our key table).
 * The input is the whole file; it must never crash, leak or accept a file
 * while reporting an error, and every error must name the file. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isms_conf *conf = NULL;
	struct isms_err err = { 0 };
	char path[64], buf[512];
	int fd, r;

	fd = memfd_create("isms.conf", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	/* memfds start 0777; the loader rightly refuses a writable policy file. */
	if (fchmod(fd, 0600) < 0 || write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = isms_conf_load(path, "/fuzz-root", false, &conf, &err);
	if (r == 0) {
		if (!conf || err.code != 0)
			abort();
		/* A loaded config answers for its keys, lists and enums included. */
		if (isms_conf_get_text(conf, "general", "shared_names", buf, sizeof(buf)) < 0 ||
		    isms_conf_get_text(conf, "mfa", "mode", buf, sizeof(buf)) < 0 ||
		    isms_conf_get_text(conf, "session", "record", buf, sizeof(buf)) < 0 ||
		    isms_conf_get_text(conf, "paths", "state_db", buf, sizeof(buf)) < 0)
			abort();
		if (conf->registry_db[0] != '/' || conf->mfa_digits < 6 || conf->mfa_digits > 8)
			abort();
		isms_conf_free(conf);
	} else {
		if (conf || r != err.code || strncmp(err.msg, path, strlen(path)) != 0)
			abort();
	}
	close(fd);
	return 0;
}
