/* Helpers shared by the cmocka tests: a private temporary directory per test
 * and small file writers. Header-only so each test stays one binary. */
#ifndef ISMS_TEST_UNIT_H
#define ISMS_TEST_UNIT_H

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* cmocka.h must already be included. */

/* The uid the "not owned by root" tests hand files to. */
#define UNIT_NOBODY 65534

static inline char *unit_tmpdir(void)
{
	char *d = strdup("/tmp/isms-unit.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	assert_int_equal(chmod(d, 0700), 0);
	return d;
}

static int unit_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void unit_rmtree(char *dir)
{
	if (!dir)
		return;
	(void)nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* dir/name, malloc'd. */
static inline char *unit_path(const char *dir, const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static inline void unit_write(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

#define unit_assert_contains(hay, needle)                                              \
	do {                                                                           \
		if (strstr((hay), (needle)) == NULL)                                   \
			fail_msg("'%s' does not contain '%s'", (hay), (needle));       \
	} while (0)

#endif
