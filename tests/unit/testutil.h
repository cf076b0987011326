/* SPDX-License-Identifier: Apache-2.0 */
/* testutil.h - small file-system helpers for the unit tests (no shell, no system()). */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int testutil_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* rm -rf PATH */
static inline int testutil_rmtree(const char *path)
{
	return nftw(path, testutil_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p of the folder that holds PATH */
static inline int testutil_mkparents(const char *path)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

#endif
