// SPDX-License-Identifier: Apache-2.0
/*
 * test_registry.c - manifest parsing with hostile input, the streaming digest, and a
 * layer's limits: its descriptor's size, the unpacked cap and how the cache derives it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "toolbox/cache.h"
#include "toolbox/layer.h"
#include "toolbox/registry.h"

#define D1 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *s, struct reg_manifest *m, const char *want_err)
{
	struct dhi_err *err = NULL;
	int r;

	memset(m, 0, sizeof(*m));
	r = reg_manifest_parse(s, strlen(s), m, &err);
	if (want_err) {
		assert_int_equal(r, -1);
		if (!strstr(err->msg, want_err))
			fail_msg("`%s` lacks `%s`", err->msg, want_err);
		dhi_err_clear(&err);
	}
	reg_manifest_free(m);
	return r;
}

static void test_reg_manifest_parse_oci(void **state)
{
	struct reg_manifest m = { 0 };
	struct dhi_err *err = NULL;
	const char *s = "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},"
			"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\","
			"\"digest\":\"" D1 "\",\"size\":12}]}";

	assert_int_equal(reg_manifest_parse(s, strlen(s), &m, &err), 0);
	assert_string_equal(m.config_digest, D1);
	assert_int_equal(m.nlayers, 1);
	assert_int_equal(m.layers[0].size, 12);
	reg_manifest_free(&m);
}

static void test_reg_manifest_parse_rejects_hostile(void **state)
{
	struct reg_manifest m;

	parse("[]", &m, "not a JSON object");
	parse("{\"schemaVersion\":1}", &m, "schemaVersion");
	parse("{\"schemaVersion\":2}", &m, "no config or layers");
	parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:12\"},\"layers\":[]}", &m,
	      "config has no valid");
	parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":"
	      "\"application/x-evil\",\"digest\":\"" D1 "\",\"size\":1}]}",
	      &m, "unsupported media type");
	parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":"
	      "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"../../x\",\"size\":1}]}",
	      &m, "no valid sha256");
	parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":"
	      "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D1 "\",\"size\":-5}]}",
	      &m, "no valid size");
	parse("{\"schemaVersion\":2,\"schemaVersion\":2}", &m, "not a JSON object");
}

static void test_reg_manifest_parse_too_many_layers(void **state)
{
	struct reg_manifest m;
	size_t cap = 600 * 160 + 200, n = 0;
	char *s = malloc(cap);

	n += (size_t)sprintf(s, "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[");
	for (int i = 0; i < 600; i++)
		n += (size_t)sprintf(s + n, "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
				     "\"digest\":\"" D1 "\",\"size\":1}", i ? "," : "");
	sprintf(s + n, "]}");
	parse(s, &m, "at most 512");
	free(s);
}

static void test_layer_sha256_known(void **state)
{
	char *d = layer_sha256("abc", 3);

	assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(d);
}

/* A gzip tar in memory: `n` regular files of `size` zero bytes each (a small gzip bomb). */
static char *bomb(int n, size_t size, size_t *len)
{
	size_t cap = 1 << 22;
	char *buf = malloc(cap), *zeros = calloc(1, 65536);
	struct archive *a = archive_write_new();

	assert_non_null(a);
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
	for (int i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		char name[32];

		snprintf(name, sizeof(name), "zero%d", i);
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_uid(e, geteuid());
		archive_entry_set_gid(e, getegid());
		archive_entry_set_size(e, (la_int64_t)size);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		for (size_t done = 0; done < size; done += 65536)
			archive_write_data(a, zeros, size - done < 65536 ? size - done : 65536);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	free(zeros);
	return buf;
}

/* A layer_src over <buf, len>, in chunks of 4 KiB, then `extra` more bytes (an endless body). */
struct memsrc {
	const char *buf;
	size_t len, off, extra;
	char junk[4096];
};

static ssize_t mem_read(void *ctx, const void **out, struct dhi_err **err)
{
	struct memsrc *m = ctx;
	size_t n = m->len - m->off < 4096 ? m->len - m->off : 4096;

	(void)err;
	if (n == 0) {
		n = m->extra < sizeof(m->junk) ? m->extra : sizeof(m->junk);
		m->extra -= n;
		*out = m->junk;
		return (ssize_t)n;
	}
	*out = m->buf + m->off;
	m->off += n;
	return (ssize_t)n;
}

static int unpack(const char *buf, size_t len, size_t extra, const struct layer_want *w,
		  struct layer_stats *st, char **msg)
{
	char dir[] = "/tmp/test_registry.XXXXXX";
	struct memsrc m = { .buf = buf, .len = len, .extra = extra };
	struct layer_src src = { mem_read, &m };
	struct dhi_err *err = NULL;
	int fd, r;

	assert_non_null(mkdtemp(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	r = layer_unpack_at(fd, &src, w, NULL, NULL, st, &err);
	close(fd);
	testutil_rmtree(dir);
	*msg = err ? strdup(err->msg) : NULL;
	dhi_err_clear(&err);
	return r;
}

static void test_layer_unpack_at_stops_at_the_cap(void **state)
{
	size_t len;
	char *buf = bomb(4, 1 << 20, &len), *msg;
	struct layer_want w = { .size = -1, .max_unpacked = (3 << 20) / 2 };
	struct layer_stats st;

	(void)state;
	/* (positive control: without a cap the 4 MiB come out) */
	w.max_unpacked = 0;
	assert_int_equal(unpack(buf, len, 0, &w, &st, &msg), 0);
	assert_int_equal(st.unpacked, 4 * ((1 << 20) + LAYER_ENTRY_COST));
	assert_false(st.over_cap);
	/* 1.5 MiB: the second file stops it, before its data passes the cap */
	w.max_unpacked = (3 << 20) / 2;
	assert_int_equal(unpack(buf, len, 0, &w, &st, &msg), -1);
	assert_true(st.over_cap);
	assert_true(st.unpacked <= w.max_unpacked);
	assert_non_null(strstr(msg, "unpacks to more than 1572864 bytes"));
	free(msg);
	/* and the number of entries */
	w = (struct layer_want){ .size = -1, .max_entries = 3 };
	assert_int_equal(unpack(buf, len, 0, &w, &st, &msg), -1);
	assert_true(st.over_cap);
	assert_non_null(strstr(msg, "more than 3 entries"));
	free(msg);
	free(buf);
}

static void test_layer_unpack_at_descriptor_size(void **state)
{
	size_t len;
	char *buf = bomb(1, 1000, &len), *msg;
	struct layer_want w = { .size = 0 };
	struct layer_stats st;

	(void)state;
	w.size = (long long)len;
	assert_int_equal(unpack(buf, len, 0, &w, &st, &msg), 0);
	assert_int_equal(st.bytes, len);
	/* one byte more than the descriptor says, as an endless body would send */
	assert_int_equal(unpack(buf, len, 1, &w, &st, &msg), -1);
	assert_non_null(strstr(msg, "longer than the"));
	free(msg);
	assert_int_equal(unpack(buf, len, 1u << 30, &w, &st, &msg), -1);
	assert_true(st.bytes <= len);
	free(msg);
	free(buf);
}

static void test_cache_unpack_cap_derived(void **state)
{
	char *why;

	(void)state;
	/* 20 times the compressed size */
	assert_int_equal(cache_unpack_cap(100 << 20, 0, 1ULL << 40, &why), 2000ULL << 20);
	assert_non_null(strstr(why, "20 × its 100.0 MiB of layers"));
	free(why);
	/* at least 64 MiB for a small image */
	assert_int_equal(cache_unpack_cap(1 << 20, 0, 1ULL << 40, &why), 64ULL << 20);
	free(why);
	/* never more than 90% of the free space */
	assert_int_equal(cache_unpack_cap(100 << 20, 0, 1000ULL << 20, &why), 900ULL << 20);
	assert_non_null(strstr(why, "90% of the 1000.0 MiB free"));
	free(why);
	/* a configured cap replaces the ratio, not the free-space bound */
	assert_int_equal(cache_unpack_cap(1 << 20, 5ULL << 30, 1ULL << 40, &why), 5ULL << 30);
	assert_non_null(strstr(why, "--max-unpacked"));
	free(why);
	assert_int_equal(cache_unpack_cap(1 << 20, 5ULL << 30, 1ULL << 30, &why),
			 (1ULL << 30) / 100 * 90);
	free(why);
	/* no overflow */
	assert_int_equal(cache_unpack_cap(~0ULL / 2, 0, ~0ULL, &why), ~0ULL / 100 * 90);
	free(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layer_unpack_at_stops_at_the_cap),
		cmocka_unit_test(test_layer_unpack_at_descriptor_size),
		cmocka_unit_test(test_cache_unpack_cap_derived),
		cmocka_unit_test(test_reg_manifest_parse_oci),
		cmocka_unit_test(test_reg_manifest_parse_rejects_hostile),
		cmocka_unit_test(test_reg_manifest_parse_too_many_layers),
		cmocka_unit_test(test_layer_sha256_known),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
