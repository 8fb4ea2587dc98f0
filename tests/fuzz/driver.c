/* Replays files through a fuzz target without libFuzzer: `fuzz_x FILE...`, as
 * `make check` does over tests/fuzz/corpus/<name>/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		size_t len = 0, cap = 0, n;

		if (!f) {
			perror(argv[i]);
			return 1;
		}
		do {
			if (len == cap) {
				uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 4096);

				if (!nb) {
					fclose(f);
					free(buf);
					return 1;
				}
				buf = nb;
			}
			n = fread(buf + len, 1, cap - len, f);
			len += n;
		} while (n > 0);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
	}
	return 0;
}
