// SPDX-License-Identifier: Apache-2.0
/* enosys: run a program as if on an older kernel, without the syscalls dhidebug falls back from. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* CLONE_NEW* */
#endif
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Syscalls that fail with ENOSYS, as they do on a kernel that predates them. dhidebug
 * must then fall back to the classic mount(2) API (fsopen and friends: 5.2,
 * mount_setattr: 5.12), to reading what it needs without stealing fds (pidfd_getfd: 5.6),
 * to closing the host's fds one by one (close_range: 5.9), and to moving the session's stage
 * into the target's v2 cgroup from outside instead of having it born there (clone3: 5.3,
 * CLONE_INTO_CGROUP: 5.7; libc's own uses of clone3 fall back to clone by themselves).
 */
static const char *const new_syscalls[] = {
	"fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "pidfd_getfd", "close_range",
	"clone3", NULL,
};

/*
 * setns(pidfd, CLONE_NEWNS | CLONE_NEWNET | ...) joins several namespaces of a process at
 * once and exists only from 5.8. A per-namespace setns(nsfd, CLONE_NEWxx) has exactly one
 * bit set (or none), so matching "both the mount and the net bit" rejects the pidfd form
 * and lets the fallback through. The mask comparison ignores every other bit.
 */
#define PIDFD_SETNS_BITS ((scmp_datum_t)(CLONE_NEWNS | CLONE_NEWNET))

static void __attribute__((noreturn)) die(const char *what, int err)
{
	fprintf(stderr, "enosys: %s: %s\n", what, strerror(err));
	exit(125);
}

/*
 * open_tree and move_mount came with fsopen (5.2) but are left alone by default: they are
 * how a helper carries a mount of the host into the container's mount namespace, and no
 * mount(2) call can do that. --no-open-tree takes them away too, as a 4.18 kernel would.
 */
static const char *const tree_syscalls[] = { "open_tree", "move_mount", NULL };

static void usage(FILE *out)
{
	fprintf(out, "usage: enosys [--no-openat2] [--no-open-tree] [--no-landlock] <program> "
		     "[<arg>...]\n");
}

static int deny(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return -EINVAL;
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
}

/*
 * Without CAP_SYS_ADMIN the kernel only accepts a filter under no_new_privs. As root (how
 * dhidebug runs) we load it without, so the filter is the only difference from a real run:
 * no_new_privs would also change what the session's setuid binaries and file caps do.
 */
static int load(scmp_filter_ctx ctx)
{
	int rc;

	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0)
		return rc;
	rc = seccomp_load(ctx);
	if (rc != -EACCES && rc != -EPERM)
		return rc;
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (rc < 0)
		return rc;
	return seccomp_load(ctx);
}

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx;
	int no_openat2 = 0;
	int no_open_tree = 0;
	int no_landlock = 0;
	int argi = 1;
	int rc;

	for (; argi < argc && argv[argi][0] == '-'; argi++) {
		if (strcmp(argv[argi], "--") == 0) {
			argi++;
			break;
		} else if (strcmp(argv[argi], "--no-openat2") == 0) {
			no_openat2 = 1;
		} else if (strcmp(argv[argi], "--no-open-tree") == 0) {
			no_open_tree = 1;
		} else if (strcmp(argv[argi], "--no-landlock") == 0) {
			/* Landlock (5.13): a profile that asks for it must still run, with a notice */
			no_landlock = 1;
		} else if (strcmp(argv[argi], "-h") == 0 || strcmp(argv[argi], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			fprintf(stderr, "enosys: unknown option `%s`\n", argv[argi]);
			return 125;
		}
	}
	if (argi >= argc) {
		usage(stderr);
		return 125;
	}

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL)
		die("seccomp_init", ENOMEM);

	for (const char *const *name = new_syscalls; *name; name++) {
		rc = deny(ctx, *name);
		if (rc < 0)
			die(*name, -rc);
	}
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(setns), 1,
			      SCMP_A1(SCMP_CMP_MASKED_EQ, PIDFD_SETNS_BITS, PIDFD_SETNS_BITS));
	if (rc < 0)
		die("setns", -rc);
	/* openat2 (5.6): dhidebug must then walk container paths with O_NOFOLLOW openat(). */
	if (no_openat2) {
		rc = deny(ctx, "openat2");
		if (rc < 0)
			die("openat2", -rc);
	}

	if (no_landlock) {
		rc = deny(ctx, "landlock_create_ruleset");
		if (rc < 0)
			die("landlock_create_ruleset", -rc);
	}

	for (const char *const *name = tree_syscalls; no_open_tree && *name; name++) {
		rc = deny(ctx, *name);
		if (rc < 0)
			die(*name, -rc);
	}

	rc = load(ctx);
	if (rc < 0)
		die("seccomp_load", -rc);
	seccomp_release(ctx);

	execvp(argv[argi], argv + argi);
	die(argv[argi], errno);
}
