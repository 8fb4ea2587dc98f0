/* Fuzz target: the backup reader (isms_backup_read). A backup file comes from
 * outside the host; whatever it holds, reading it must never crash, and a
 * refused file must leave nothing behind in the target directory. The fixed
 * host key makes the seed corpus (real backups under that key) decrypt, so
 * mutations reach the unpacker as well as the decryptor. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backup.h"

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isms_vault v;
	struct isms_backup_key key = { .vault = &v };
	struct isms_err err = { 0 };
	char path[64], dir[] = "/tmp/isms-fuzz-backup.XXXXXX";
	int fd, r;

	memset(v.key, 0x42, sizeof(v.key));
	fd = memfd_create("backup", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || !mkdtemp(dir)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = isms_backup_read(path, &key, dir, &err);
	if (r < 0 && (entries(dir) != 0 || err.msg[0] == '\0'))
		abort();   /* refused, but left files behind or said nothing */
	if (r == 0) {
		char p[128];

		(void)snprintf(p, sizeof(p), "%s/registry.db", dir);
		(void)unlink(p);
		(void)snprintf(p, sizeof(p), "%s/state.db", dir);
		(void)unlink(p);
	}
	(void)rmdir(dir);
	close(fd);
	return 0;
}
