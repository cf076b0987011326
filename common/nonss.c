// SPDX-License-Identifier: Apache-2.0
/* nonss.c - no passwd lookups through NSS, anywhere in dhidebug. */
/*
 * A static glibc answers getpwnam() and friends by dlopen()ing libnss_*.so
 * from the file system of the caller's root. Inside a session that root is
 * the container's: its libraries would run in a process of ours (the
 * CVE-2019-14271 class, `docker cp` loading the container's NSS). readline
 * asks for user names and home directories (tilde expansion, `~user`
 * completion), so these definitions take the place of glibc's in the static
 * link and always answer "no such user". dhidebug itself never needs them:
 * `--user` takes numbers, `target` reads /proc/<pid>/status, and HOME is set.
 */
#include <errno.h>
#include <pwd.h>
#include <stddef.h>

struct passwd *getpwnam(const char *name)
{
	(void)name;
	errno = 0;
	return NULL;
}

struct passwd *getpwuid(uid_t uid)
{
	(void)uid;
	errno = 0;
	return NULL;
}

int getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t len, struct passwd **res)
{
	(void)name;
	(void)pwd;
	(void)buf;
	(void)len;
	*res = NULL;
	return 0;
}

int getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t len, struct passwd **res)
{
	(void)uid;
	(void)pwd;
	(void)buf;
	(void)len;
	*res = NULL;
	return 0;
}

void setpwent(void)
{
}

void endpwent(void)
{
}

struct passwd *getpwent(void)
{
	return NULL;
}
