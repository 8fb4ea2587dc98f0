/* recfile: the encrypted recording format round-trips, checks without a key,
 * and refuses wrong keys, truncation, reordering and oversize chunks. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "recfile.h"

static unsigned char pk[ISMS_REC_KEYBYTES], sk[ISMS_REC_KEYBYTES];
static const unsigned char id[ISMS_REC_IDBYTES] = "0123456789abcdef";

struct collect {
	char buf[4096];
	size_t len;
	int calls;
};

static int collect(void *user, const unsigned char *data, size_t len)
{
	struct collect *c = user;

	assert_true(c->len + len < sizeof(c->buf));
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	c->calls++;
	return 0;
}

/* A recording of the given chunks in a tmpfile; final chunk when finish. */
static FILE *make(const char *const *chunks, bool finish)
{
	struct isms_rec_writer *w = NULL;
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(isms_rec_writer_open(fileno(f), id, 1800000000, pk, &w, NULL), 0);
	for (; *chunks; chunks++)
		assert_int_equal(isms_rec_writer_chunk(w, *chunks, strlen(*chunks), false, NULL), 0);
	if (finish)
		assert_int_equal(isms_rec_writer_chunk(w, "end\n", 4, true, NULL), 0);
	isms_rec_writer_free(w);
	rewind(f);
	return f;
}

static void test_round_trip_decrypts_every_chunk_in_order(void **state)
{
	const char *chunks[] = { "header\n", "one\n", "two\n", NULL };
	struct collect c = { .len = 0 };
	struct isms_rec_info info;
	FILE *f = make(chunks, true);

	(void)state;
	assert_int_equal(isms_rec_read(f, sk, collect, &c, &info, NULL), 0);
	assert_int_equal(c.len, strlen("header\none\ntwo\nend\n"));
	assert_memory_equal(c.buf, "header\none\ntwo\nend\n", c.len);
	assert_int_equal(info.chunks, 4);
	assert_true(info.final);
	assert_int_equal(info.created, 1800000000);
	assert_memory_equal(info.id, id, sizeof(id));
	fclose(f);
}

static void test_structure_verifies_without_a_key(void **state)
{
	const char *chunks[] = { "a", "b", NULL };
	struct isms_rec_info info;
	FILE *f = make(chunks, true);

	(void)state;
	assert_int_equal(isms_rec_read(f, NULL, NULL, NULL, &info, NULL), 0);
	assert_int_equal(info.chunks, 3);
	assert_int_equal(info.plain_bytes, 0);
	assert_int_equal(strlen(info.head), 64);
	fclose(f);
}

static void test_writer_head_matches_reader_head(void **state)
{
	struct isms_rec_writer *w = NULL;
	struct isms_rec_info info;
	char head[65];
	FILE *f = tmpfile();

	(void)state;
	assert_int_equal(isms_rec_writer_open(fileno(f), id, 1, pk, &w, NULL), 0);
	assert_int_equal(isms_rec_writer_chunk(w, "x", 1, true, NULL), 0);
	isms_rec_writer_head(w, head);
	{
		struct stat st;

		assert_int_equal(fstat(fileno(f), &st), 0);
		assert_int_equal(isms_rec_writer_bytes(w), (uint64_t)st.st_size);
	}
	isms_rec_writer_free(w);
	rewind(f);
	assert_int_equal(isms_rec_read(f, NULL, NULL, NULL, &info, NULL), 0);
	assert_string_equal(info.head, head);
	fclose(f);
}

static void test_wrong_key_is_refused(void **state)
{
	const char *chunks[] = { "secret\n", NULL };
	unsigned char opk[ISMS_REC_KEYBYTES], osk[ISMS_REC_KEYBYTES];
	struct collect c = { .len = 0 };
	struct isms_rec_info info;
	FILE *f = make(chunks, true);

	(void)state;
	assert_int_equal(isms_rec_keypair(opk, osk), 0);
	assert_int_equal(isms_rec_read(f, osk, collect, &c, &info, NULL), -EBADMSG);
	assert_non_null(strstr(info.problem, "wrong auditor key"));
	assert_int_equal(c.calls, 0);
	fclose(f);
}

static void test_missing_final_chunk_is_truncation(void **state)
{
	const char *chunks[] = { "a", "b", NULL };
	struct isms_rec_info info;
	FILE *f = make(chunks, false);

	(void)state;
	assert_int_equal(isms_rec_read(f, NULL, NULL, NULL, &info, NULL), -EBADMSG);
	assert_non_null(strstr(info.problem, "no final chunk"));
	assert_false(info.final);
	assert_int_equal(info.chunks, 2);
	fclose(f);
}

static void test_nothing_may_follow_the_final_chunk(void **state)
{
	const char *chunks[] = { "a", NULL };
	struct isms_rec_info info;
	FILE *f = make(chunks, true);

	(void)state;
	fseek(f, 0, SEEK_END);
	fputs("garbage", f);
	rewind(f);
	assert_int_equal(isms_rec_read(f, NULL, NULL, NULL, &info, NULL), -EBADMSG);
	assert_non_null(strstr(info.problem, "after the final chunk"));
	fclose(f);
}

static void test_nothing_is_written_after_final(void **state)
{
	struct isms_rec_writer *w = NULL;
	FILE *f = tmpfile();

	(void)state;
	assert_int_equal(isms_rec_writer_open(fileno(f), id, 1, pk, &w, NULL), 0);
	assert_int_equal(isms_rec_writer_chunk(w, "x", 1, true, NULL), 0);
	assert_int_equal(isms_rec_writer_chunk(w, "y", 1, false, NULL), -EINVAL);
	isms_rec_writer_free(w);
	fclose(f);
}

static void test_oversize_chunk_is_refused(void **state)
{
	struct isms_rec_writer *w = NULL;
	char *big = calloc(1, ISMS_REC_MAXCHUNK + 1);
	FILE *f = tmpfile();

	(void)state;
	assert_int_equal(isms_rec_writer_open(fileno(f), id, 1, pk, &w, NULL), 0);
	assert_int_equal(isms_rec_writer_chunk(w, big, ISMS_REC_MAXCHUNK + 1, false, NULL), -E2BIG);
	assert_int_equal(isms_rec_writer_chunk(w, big, ISMS_REC_MAXCHUNK, true, NULL), 0);
	isms_rec_writer_free(w);
	fclose(f);
	free(big);
}

static void test_write_failure_is_reported(void **state)
{
	struct isms_rec_writer *w = NULL;
	struct isms_err err = { 0 };
	FILE *f = tmpfile();
	int fd = open("/dev/full", O_WRONLY);

	(void)state;
	assert_true(fd >= 0);
	assert_true(isms_rec_writer_open(fd, id, 1, pk, &w, &err) < 0);
	assert_non_null(strstr(err.msg, "No space left"));
	close(fd);
	fclose(f);
}

static void test_key_files_round_trip_and_secret_must_be_private(void **state)
{
	char dir[] = "/tmp/isms-recfile-XXXXXX", pub[64], sec[64];
	unsigned char k[ISMS_REC_KEYBYTES];
	struct isms_err err = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(pub, sizeof(pub), "%s/a.pub", dir);
	snprintf(sec, sizeof(sec), "%s/a.key", dir);
	assert_int_equal(isms_rec_write_key(pub, false, pk, NULL), 0);
	assert_int_equal(isms_rec_write_key(sec, true, sk, NULL), 0);
	assert_int_equal(isms_rec_write_key(sec, true, sk, NULL), -EEXIST);
	assert_int_equal(isms_rec_load_key(pub, false, k, NULL), 0);
	assert_memory_equal(k, pk, sizeof(k));
	assert_int_equal(isms_rec_load_key(sec, true, k, NULL), 0);
	assert_memory_equal(k, sk, sizeof(k));
	chmod(sec, 0640);
	assert_int_equal(isms_rec_load_key(sec, true, k, &err), -EPERM);
	assert_non_null(strstr(err.msg, "0600"));
	unlink(pub);
	unlink(sec);
	rmdir(dir);
}

static void test_ids_are_32_lowercase_hex_digits(void **state)
{
	char a[ISMS_REC_IDHEX], b[ISMS_REC_IDHEX];
	unsigned char bin[ISMS_REC_IDBYTES];

	(void)state;
	isms_rec_new_id(a);
	isms_rec_new_id(b);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
	assert_int_equal(isms_rec_parse_id(a, bin), 0);
	assert_int_equal(isms_rec_parse_id("0123456789ABCDEF0123456789abcdef", bin), -EINVAL);
	assert_int_equal(isms_rec_parse_id("0123456789abcdef", bin), -EINVAL);
	assert_int_equal(isms_rec_parse_id("' OR 1=1 --", bin), -EINVAL);
	assert_int_equal(isms_rec_parse_id(NULL, bin), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_decrypts_every_chunk_in_order),
		cmocka_unit_test(test_structure_verifies_without_a_key),
		cmocka_unit_test(test_writer_head_matches_reader_head),
		cmocka_unit_test(test_wrong_key_is_refused),
		cmocka_unit_test(test_missing_final_chunk_is_truncation),
		cmocka_unit_test(test_nothing_may_follow_the_final_chunk),
		cmocka_unit_test(test_nothing_is_written_after_final),
		cmocka_unit_test(test_oversize_chunk_is_refused),
		cmocka_unit_test(test_write_failure_is_reported),
		cmocka_unit_test(test_key_files_round_trip_and_secret_must_be_private),
		cmocka_unit_test(test_ids_are_32_lowercase_hex_digits),
	};

	if (sodium_init() < 0 || isms_rec_keypair(pk, sk) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
