// SPDX-License-Identifier: Apache-2.0
/* test_lint.c - the ELF reader of lint on real, truncated and corrupted files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/fdio.h"
#include "injector/lint.h"

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char *self;
static size_t self_len;

static int group_setup(void **state)
{
	struct dhi_err *err = NULL;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fd_read_file(fd, 256u << 20, &self, &self_len, &err) < 0)
		return -1;
	close(fd);
	return 0;
}

static int group_teardown(void **state)
{
	free(self);
	return 0;
}

static int memfd_of(const char *buf, size_t len)
{
	int fd = memfd_create("elf", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fd_write_all(fd, buf, len), 0);
	return fd;
}

/* The unit test binary is a dynamic PIE: its loader and libc are found. */
static void test_lint_elf_read_self(void **state)
{
	char *interp, **needed, *runpath;
	struct dhi_err *err = NULL;
	unsigned machine = 0;
	bool libc = false;
	int fd = memfd_of(self, self_len);

	assert_int_equal(lint_elf_read(fd, &interp, &needed, &runpath, &machine, &err), 0);
	assert_null(err);
	assert_non_null(interp);
	assert_non_null(strstr(interp, "ld-"));
	assert_non_null(needed);
	for (size_t i = 0; needed[i]; i++)
		libc |= strcmp(needed[i], "libc.so.6") == 0;
	assert_true(libc);
	assert_true(machine != 0);
	free(interp);
	free(runpath);
	strv_free(needed);
	close(fd);
}

static void test_lint_elf_read_not_elf(void **state)
{
	char *interp, **needed, *runpath;
	struct dhi_err *err = NULL;
	unsigned machine;
	int fd = memfd_of("#!/bin/sh\necho hi\n", 18);

	assert_int_equal(lint_elf_read(fd, &interp, &needed, &runpath, &machine, &err), -1);
	assert_non_null(strstr(err->msg, "not an ELF"));
	dhi_err_clear(&err);
	close(fd);
}

/* Every truncation and many byte flips give an answer or an error, never a crash or a leak. */
static void test_lint_elf_read_hostile(void **state)
{
	size_t lens[] = { 0, 4, 16, 52, 63, 64, 100, 200, 500, 1000, 4096, 8192 };
	char *copy = malloc(self_len);
	unsigned seed = 12345;

	assert_non_null(copy);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]) + 400; i++) {
		char *interp = NULL, **needed = NULL, *runpath = NULL;
		struct dhi_err *err = NULL;
		size_t len = i < sizeof(lens) / sizeof(lens[0]) ? lens[i] : self_len;
		unsigned machine;
		int fd;

		if (len > self_len)
			len = self_len;
		memcpy(copy, self, len);
		if (len == self_len) {
			/* flip a few bytes in the headers and the dynamic section's neighbourhood */
			for (int k = 0; k < 8; k++) {
				seed = seed * 1103515245u + 12345u;
				copy[(seed >> 8) % (len < 16384 ? len : 16384)] ^= (char)(seed >> 24 | 1);
			}
		}
		fd = memfd_of(copy, len);
		if (lint_elf_read(fd, &interp, &needed, &runpath, &machine, &err) < 0)
			dhi_err_clear(&err);
		free(interp);
		free(runpath);
		strv_free(needed);
		close(fd);
	}
	free(copy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lint_elf_read_self),
		cmocka_unit_test(test_lint_elf_read_not_elf),
		cmocka_unit_test(test_lint_elf_read_hostile),
	};

	return cmocka_run_group_tests_name("lint", tests, group_setup, group_teardown);
}
