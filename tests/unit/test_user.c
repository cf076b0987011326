// SPDX-License-Identifier: Apache-2.0
/* test_user.c - a container's configured user as ids, from its own (hostile) passwd and group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/err.h"
#include "injector/policy/policy.h"

static char root[64];
static int rootfd = -1;

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/etc/%s", root, name);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The passwd and group every test starts from. */
static void put_dbs(void)
{
	put("passwd", "root:x:0:0:root:/root:/bin/sh\n"
		      "# a comment\n"
		      "broken line\n"
		      "big:x:99999999999:1::/:/bin/sh\n"
		      "app:x:1000:1000::/home/app:/sbin/nologin\n"
		      "other:x:1001:1001::/:/sbin/nologin");
	put("group", "root:x:0:\n"
		     "staff:x:50:\n"
		     "wheel:x:10:root,app\n"
		     "docker:x:999:other,app,x\n"
		     "bad:x:notanumber:app\n");
}

static int setup(void **st)
{
	char etc[80];

	(void)st;
	snprintf(root, sizeof(root), "/tmp/dhi-test-user-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(etc, sizeof(etc), "%s/etc", root);
	mkdir(etc, 0755);
	put_dbs();
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return rootfd < 0 ? -1 : 0;
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int teardown(void **st)
{
	(void)st;
	close(rootfd);
	/* no shell: the tree is removed depth first, symlinks as links */
	return nftw(root, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void resolve_ok(const char *spec, uid_t uid, gid_t gid, int ngroups, const gid_t *groups)
{
	struct session_user u;
	struct dhi_err *err = NULL;
	char *why = NULL;

	assert_int_equal(policy_user_of_config(spec, rootfd, &u, &why, &err), 0);
	assert_null(err);
	assert_null(why);
	assert_int_equal(u.uid, uid);
	assert_int_equal(u.gid, gid);
	assert_int_equal(u.ngroups, ngroups);
	for (int i = 0; i < ngroups; i++)
		assert_int_equal(u.groups[i], groups[i]);
}

static void resolve_fails(const char *spec, const char *msg)
{
	struct session_user u;
	struct dhi_err *err = NULL;
	char *why = NULL;

	assert_int_equal(policy_user_of_config(spec, rootfd, &u, &why, &err), -1);
	assert_null(why);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, msg));
	dhi_err_clear(&err);
}

static void test_names_and_numbers(void **st)
{
	static const gid_t app_groups[] = { 10, 999 };

	(void)st;
	resolve_ok("app", 1000, 1000, 2, app_groups);
	resolve_ok("1000", 1000, 1000, 2, app_groups);
	resolve_ok("app:staff", 1000, 50, 2, app_groups);
	resolve_ok("app:7", 1000, 7, 2, app_groups);
	resolve_ok("1000:1000", 1000, 1000, 2, app_groups);
	/* a uid not in /etc/passwd: gid 0 and no groups, as with runc */
	resolve_ok("4242", 4242, 0, 0, NULL);
	resolve_ok("4242:staff", 4242, 50, 0, NULL);
	/* the last line has no newline */
	resolve_ok("other", 1001, 1001, 1, (const gid_t[]){ 999 });
}

static void test_refused(void **st)
{
	(void)st;
	resolve_fails("nobody", "user `nobody` is not in its /etc/passwd");
	resolve_fails("big", "not in its /etc/passwd");
	resolve_fails("app:nogroup", "group `nogroup` is not in its /etc/group");
	resolve_fails("app:", "is not valid");
	resolve_fails(":50", "is not valid");
	resolve_fails("4294967295", "not in its /etc/passwd");
}

/* /etc/passwd a symlink to the host's: resolved inside the container's root, where it is absent. */
static void test_symlink_stays_inside(void **st)
{
	char path[128];

	(void)st;
	snprintf(path, sizeof(path), "%s/etc/passwd", root);
	unlink(path);
	assert_int_equal(symlink("/proc/1/root/etc/passwd", path), 0);
	resolve_fails("root", "not in its /etc/passwd");
	unlink(path);
	/* (inside the root that is /etc/passwd itself: a loop, and said so) */
	assert_int_equal(symlink("../../../../../../etc/passwd", path), 0);
	resolve_fails("root", "cannot be looked up: cannot open `/etc/passwd` inside the target");
	unlink(path);
	resolve_ok("0", 0, 0, 0, NULL);
}

/* Replaces /etc/<name> with a FIFO, a 1 GiB sparse file or (as root) /dev/zero's node. */
static bool plant(const char *name, const char *kind)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/etc/%s", root, name);
	unlink(path);
	if (!strcmp(kind, "fifo"))
		return mkfifo(path, 0644) == 0;
	if (!strcmp(kind, "zero"))
		return mknod(path, S_IFCHR | 0644, makedev(1, 5)) == 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1LL << 30), 0);
	close(fd);
	return true;
}

/*
 * passwd or group a FIFO, a device or a huge file: read as missing, never
 * opened or read whole; a name in it is not found, and the error says why.
 */
static void test_hostile_files(void **st)
{
	static const char *const kinds[] = { "fifo", "zero", "big" };
	static const char *const what[] = { "is a FIFO, not a regular file",
					    "is a character device, not a regular file",
					    "is too large (1073741824 bytes" };

	(void)st;
	for (int i = 0; i < 3; i++) {
		struct session_user u;
		struct dhi_err *err = NULL;
		char *why = NULL;

		if (!plant("passwd", kinds[i]))
			continue; /* mknod needs root */
		assert_int_equal(policy_user_of_config("app", rootfd, &u, &why, &err), -1);
		assert_null(why);
		assert_non_null(strstr(err->msg, "user `app` cannot be looked up: `/etc/passwd`"));
		assert_non_null(strstr(err->msg, what[i]));
		dhi_err_clear(&err);
		/* a number needs no name: it goes on, and says what it skipped */
		assert_int_equal(policy_user_of_config("1000:1000", rootfd, &u, &why, &err), 0);
		assert_int_equal(u.uid, 1000);
		assert_int_equal(u.gid, 1000);
		assert_non_null(why);
		assert_non_null(strstr(why, what[i]));
		free(why);
		why = NULL;
		put("passwd", "app:x:1000:1000::/home/app:/sbin/nologin\n");
		plant("group", kinds[i]);
		assert_int_equal(policy_user_of_config("app:staff", rootfd, &u, &why, &err), -1);
		assert_non_null(strstr(err->msg, "group `staff` cannot be looked up: `/etc/group`"));
		dhi_err_clear(&err);
		assert_int_equal(policy_user_of_config("app", rootfd, &u, &why, &err), 0);
		assert_int_equal(u.ngroups, 0);
		assert_non_null(strstr(why, "`/etc/group`"));
		free(why);
		put_dbs();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_numbers),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_symlink_stays_inside),
		cmocka_unit_test(test_hostile_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
