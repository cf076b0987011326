// SPDX-License-Identifier: Apache-2.0
/* test_execid.c - exec paths resolved inside a root, files judged by what they are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/syscalls.h"
#include "injector/policy/execid.h"
#include "tests/unit/testutil.h"

/* Link-level mock: with `force_enosys` set, openat2 is "missing": every path takes the walk. */
static int force_enosys;
int __real_dhi_sys_openat2(int dirfd, const char *path, struct open_how *how, size_t size);
int __wrap_dhi_sys_openat2(int dirfd, const char *path, struct open_how *how, size_t size);
int __wrap_dhi_sys_openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
	if (force_enosys) {
		errno = ENOSYS;
		return -1;
	}
	return __real_dhi_sys_openat2(dirfd, path, how, size);
}

static char tmpdir[] = "/tmp/dhi-test-execid-XXXXXX";
static int rootfd = -1, procfd = -1;

static void at(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/root/%s", tmpdir, rel);
}

/* cp SRC root/REL (a new inode), mode 0755 */
static void copy(const char *src, const char *rel)
{
	char dst[512], buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	at(dst, sizeof(dst), rel);
	assert_int_equal(testutil_mkparents(dst), 0);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

static void put(const char *rel, const char *text, mode_t mode)
{
	char p[512];
	int fd;

	at(p, sizeof(p), rel);
	assert_int_equal(testutil_mkparents(p), 0);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void link_(const char *target, const char *rel)
{
	char p[512];

	at(p, sizeof(p), rel);
	assert_int_equal(testutil_mkparents(p), 0);
	assert_int_equal(symlink(target, p), 0);
}

/*
 * A toolbox-like root: merged /usr, bash and a copy of it under another name,
 * true, the loader, a busybox with applet links, scripts. The host's files
 * are copied, so the tree holds real programs; nothing is run.
 */
static int setup(void **state)
{
	char p[512];

	if (!mkdtemp(tmpdir))
		return -1;
	link_("usr/bin", "bin");
	link_("usr/lib64", "lib64");
	copy("/usr/bin/bash", "usr/bin/bash");
	link_("bash", "usr/bin/sh");
	copy("/usr/bin/bash", "usr/local/bin/notashell");
	copy("/usr/bin/true", "usr/bin/true");
	copy("/lib64/ld-linux-x86-64.so.2", "usr/lib64/ld-linux-x86-64.so.2");
	copy("/bin/busybox", "opt/bb/busybox");
	link_("/opt/bb/busybox", "opt/bb/ls");
	link_("busybox", "opt/bb/ash");
	put("usr/bin/egrep", "#!/bin/sh\nexec grep -E \"$@\"\n", 0755);
	put("usr/bin/tool", "#!/usr/bin/true\n", 0755);
	put("usr/bin/viabb", "#!/opt/bb/busybox sh\n", 0755);
	put("usr/bin/vialoader", "#!/lib64/ld-linux-x86-64.so.2 /usr/bin/bash\n", 0755);
	put("usr/bin/data", "plain text\n", 0755);
	link_("/usr/bin/bash", "scratch/x");
	link_("../usr/bin/true", "scratch/rel");
	at(p, sizeof(p), "tmp/deep/er");
	assert_int_equal(testutil_mkparents(p), 0);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/root", tmpdir);
	rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return rootfd < 0 || procfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	close(rootfd);
	close(procfd);
	return testutil_rmtree(tmpdir);
}

/* decide() with the exec's environment `envp` (NULL: none to judge). */
static void decide_env(const char *cwd, const char *path, char *const *argv, char *const *envp,
		       bool allow, struct execid_verdict *v)
{
	struct execid *x = execid_new(rootfd, procfd);
	struct execid_proc p = { -1, -1, -1 };
	struct execid_exec e = { path, -1, 0, argv, envp, false };

	p.root = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	p.cwd = openat(rootfd, cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(p.root >= 0 && p.cwd >= 0);
	execid_decide(x, &p, &e, allow ? EXECID_SHELLS | EXECID_ANYWHERE : 0, v);
	execid_proc_close(&p);
	execid_free(x);
}

/* Decides PATH with ARGV from `cwd` (relative to the root), shells refused unless `allow`. */
static void decide(const char *cwd, const char *path, char *const *argv, bool allow,
		   struct execid_verdict *v)
{
	decide_env(cwd, path, argv, NULL, allow, v);
}

#define ARGV(...) ((char *const[]){ __VA_ARGS__, NULL })

static void expect(const char *cwd, const char *path, char *const *argv, bool denied)
{
	struct execid_verdict v;

	decide(cwd, path, argv, false, &v);
	if (v.denied != denied)
		fail_msg("%s: denied %d, want %d (%s)", path, v.denied, denied, v.reason);
	assert_int_equal(v.error, 0);
	/* and sysadmin runs it */
	decide(cwd, path, argv, true, &v);
	assert_false(v.denied);
}

static void test_execid_symlink_to_shell_is_the_shell(void **state)
{
	struct execid_verdict v;

	expect(".", "/scratch/x", ARGV("x", "-c", "id"), true);
	expect(".", "/usr/bin/sh", ARGV("sh"), true);
	/* relative, and ".." that would leave the root stays at it */
	expect("tmp/deep/er", "../../../../../../usr/local/bin/notashell", ARGV("n"), true);
	expect("tmp", "../scratch/rel", ARGV("rel"), false);
	decide(".", "/scratch/x", ARGV("x"), false, &v);
	assert_non_null(strstr(v.file, "/usr/bin/bash"));
}

static void test_execid_copy_of_shell_is_a_shell(void **state)
{
	expect(".", "/usr/local/bin/notashell", ARGV("notashell", "-c", "id"), true);
	expect(".", "/usr/bin/true", ARGV("true"), false);
}

static void test_execid_loader_runs_its_program(void **state)
{
	const char *ld = "/lib64/ld-linux-x86-64.so.2";

	expect(".", ld, ARGV("ld.so", "/bin/bash", "-c", "id"), true);
	expect(".", ld, ARGV("ld.so", "--argv0", "x", "--library-path", "/x", "/bin/bash"), true);
	expect(".", ld, ARGV("ld.so", "--inhibit-cache", "usr/local/bin/notashell"), true);
	expect(".", ld, ARGV("ld.so", "/usr/bin/true"), false);
	expect(".", ld, ARGV("ld.so", "--help"), false);
	/* no slash: looked up as a library, not in the working directory */
	expect("usr/bin", ld, ARGV("ld.so", "bash"), true);
}

static void test_execid_multicall_applet_decides(void **state)
{
	struct execid_verdict v;

	expect(".", "/opt/bb/ls", ARGV("ls", "/"), false);
	expect(".", "/opt/bb/ash", ARGV("ash", "-c", "true"), true);
	expect(".", "/opt/bb/busybox", ARGV("busybox", "sh", "-c", "true"), true);
	expect(".", "/opt/bb/busybox", ARGV("/x/busybox", "busybox", "/bin/hush"), true);
	expect(".", "/opt/bb/busybox", ARGV("busybox", "--list"), false);
	/* argv[0] decides, not the path */
	expect(".", "/opt/bb/ls", ARGV("-sh"), true);
	decide(".", "/opt/bb/ls", ARGV("ls"), true, &v);
	assert_string_equal(v.applet, "ls");
}

static void test_execid_script_runs_its_interpreter(void **state)
{
	expect(".", "/usr/bin/egrep", ARGV("egrep", "x"), true);
	expect(".", "/usr/bin/tool", ARGV("tool"), false);
	expect(".", "/usr/bin/viabb", ARGV("viabb"), true);
	expect(".", "/usr/bin/vialoader", ARGV("vialoader"), true);
	/* neither ELF nor `#!`: the kernel says ENOEXEC */
	expect(".", "/usr/bin/data", ARGV("data"), false);
}

static void test_execid_missing_fails_as_the_kernel_would(void **state)
{
	struct execid_verdict v;

	decide(".", "/usr/bin/nonexistent", ARGV("n"), false, &v);
	assert_false(v.denied);
	assert_int_equal(v.error, ENOENT);
	decide(".", "/usr/bin/true/x", ARGV("n"), false, &v);
	assert_int_equal(v.error, ENOTDIR);
	decide(".", "/tmp", ARGV("n"), false, &v);
	assert_int_equal(v.error, EACCES);
}

/* /proc/self in the process's own procfs is the process: here, with "/" as the root, us. */
static void test_execid_proc_self_is_the_process(void **state)
{
	struct execid *x = execid_new(rootfd, procfd);
	struct execid_proc p = { -1, -1, -1 };
	struct execid_exec e = { "/proc/self/exe", -1, 0, ARGV("me"), NULL, false };
	struct execid_verdict v;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	assert_true(n > 0);
	self[n] = '\0';
	p.root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	p.cwd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	p.self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	execid_decide(x, &p, &e, 0, &v);
	assert_false(v.denied);
	assert_string_equal(v.file, self);
	e.path = "/proc/thread-self/exe";
	execid_decide(x, &p, &e, 0, &v);
	assert_string_equal(v.file, self);
	/* the root magic link: the host's bash, seen from "/", is a shell */
	e.path = "/proc/self/root/usr/bin/bash";
	execid_decide(x, &p, &e, 0, &v);
	assert_true(v.denied);
	execid_proc_close(&p);
	execid_free(x);
}

/* decide_env() outside sysadmin: denied or not as `denied`; and sysadmin runs it */
static void expect_env(const char *path, char *const *argv, char *const *envp, bool denied)
{
	struct execid_verdict v;

	decide_env(".", path, argv, envp, false, &v);
	if (v.denied != denied)
		fail_msg("%s %s: denied %d, want %d (%s)", argv[1] ? argv[1] : "",
			 envp ? envp[0] : "", v.denied, denied, v.reason);
	decide_env(".", path, argv, envp, true, &v);
	assert_false(v.denied);
}

/* What the loader is told to load, by its options or the environment, must be the toolbox's. */
static void test_execid_loader_inputs_are_judged(void **state)
{
	const char *ld = "/lib64/ld-linux-x86-64.so.2";
	struct execid_verdict v;

	/* what the loader would expand there is not judged */
	expect_env("/usr/bin/true", ARGV("true"), ARGV("LD_PRELOAD=/x/$LIB/evil.so"), true);
	expect_env("/usr/bin/true", ARGV("true"), ARGV("LD_LIBRARY_PATH=/a:$ORIGIN/../lib"), true);
	expect_env(ld, ARGV("ld.so", "--preload", "${ORIGIN}/e.so", "/usr/bin/true"), NULL, true);
	expect_env(ld, ARGV("ld.so", "--audit", "/a:/b/$PLATFORM.so", "/usr/bin/true"), NULL, true);
	/* a name is looked up in the library path; what is not there loads nothing */
	expect_env("/usr/bin/true", ARGV("true"),
		   ARGV("HOME=/", "LD_PRELOAD=libfoo.so /nonexistent.so", "LD_BIND_NOW=1"), false);
	expect_env(ld, ARGV("ld.so", "--library-path", "/nonexistent", "/usr/bin/true"), NULL,
		   false);
	/* another variable is not the loader's */
	expect_env("/usr/bin/true", ARGV("true"), ARGV("MY_LD_PRELOAD=$LIB"), false);
	/* an environment that could not be read whole */
	{
		struct execid *x = execid_new(rootfd, procfd);
		struct execid_proc p = { -1, -1, -1 };
		struct execid_exec e = { "/usr/bin/true", -1, 0, ARGV("true"), ARGV("A=b"), true };

		p.root = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
		p.cwd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
		execid_decide(x, &p, &e, 0, &v);
		assert_true(v.denied);
		execid_decide(x, &p, &e, EXECID_SHELLS | EXECID_ANYWHERE, &v);
		assert_false(v.denied);
		execid_proc_close(&p);
		execid_free(x);
	}
}

static void test_execid_applet(void **state)
{
	char a[64];

	execid_applet(ARGV("/bin/ls"), "busybox", a, sizeof(a));
	assert_string_equal(a, "ls");
	execid_applet(ARGV("busybox.static", "sh"), "busybox", a, sizeof(a));
	assert_string_equal(a, "sh");
	execid_applet(ARGV("busybox"), "busybox", a, sizeof(a));
	assert_string_equal(a, "busybox");
	execid_applet(ARGV("toybox", "toybox", "env"), "toybox", a, sizeof(a));
	assert_string_equal(a, "env");
	assert_true(execid_is_shell_name("hush"));
	assert_false(execid_is_shell_name("busybox"));
}

static void run_walk(void (*f)(void **), void **state)
{
	force_enosys = 1;
	f(state);
	force_enosys = 0;
}

static void test_execid_without_openat2(void **state)
{
	run_walk(test_execid_symlink_to_shell_is_the_shell, state);
	run_walk(test_execid_loader_runs_its_program, state);
	run_walk(test_execid_missing_fails_as_the_kernel_would, state);
	run_walk(test_execid_proc_self_is_the_process, state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_execid_symlink_to_shell_is_the_shell),
		cmocka_unit_test(test_execid_copy_of_shell_is_a_shell),
		cmocka_unit_test(test_execid_loader_runs_its_program),
		cmocka_unit_test(test_execid_multicall_applet_decides),
		cmocka_unit_test(test_execid_script_runs_its_interpreter),
		cmocka_unit_test(test_execid_missing_fails_as_the_kernel_would),
		cmocka_unit_test(test_execid_proc_self_is_the_process),
		cmocka_unit_test(test_execid_loader_inputs_are_judged),
		cmocka_unit_test(test_execid_applet),
		cmocka_unit_test(test_execid_without_openat2),
	};

	return cmocka_run_group_tests_name("execid", tests, setup, teardown);
}
