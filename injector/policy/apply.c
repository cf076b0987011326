// SPDX-License-Identifier: Apache-2.0
/* apply.c - drop to the profile just before exec: ids, capabilities, NNP, Landlock, seccomp. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "injector/policy/policy.h"

static int set_ids(const struct session_user *u, struct dhi_err **err)
{
	/* supplementary groups are always explicit: root's own would otherwise leak in */
	if (setgroups((size_t)u->ngroups, u->groups) < 0)
		return dhi_err_set(err, errno, "cannot set supplementary groups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return dhi_err_set(err, errno, "cannot set gid %u", (unsigned)u->gid);
	/* keep the permitted set across the uid change; capset() trims it next */
	if (prctl(PR_SET_KEEPCAPS, 1) < 0)
		return dhi_err_set(err, errno, "cannot keep capabilities");
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return dhi_err_set(err, errno, "cannot set uid %u", (unsigned)u->uid);
	{
		/* the kernel can fail quietly here; re-read (bwrap re-checks setfsuid) */
		uid_t r, e, s;

		if (getresuid(&r, &e, &s) < 0 || r != u->uid || e != u->uid || s != u->uid)
			return dhi_err_set(err, EPERM, "uid did not change to %u", (unsigned)u->uid);
	}
	return 0;
}

/* First, while CAP_SETPCAP is still effective: out of the bounding set, out for good. */
static int drop_bounding(uint64_t keep, struct dhi_err **err)
{
	for (int c = 0; c <= CAP_LAST_CAP; c++) {
		if (keep & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return dhi_err_set(err, errno,
					   "cannot drop capability %d from the bounding set", c);
	}
	return 0;
}

/* After the uid change: permitted, effective, inheritable and ambient = the profile. */
static int set_caps(uint64_t keep, struct dhi_err **err)
{
	cap_t caps = cap_init();
	int ret = -1;

	if (!caps)
		return dhi_err_set(err, errno, "cannot allocate capabilities");
	for (int c = 0; c <= CAP_LAST_CAP; c++) {
		cap_value_t v = (cap_value_t)c;

		if (!(keep & (1ull << c)))
			continue;
		cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
		cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
		cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET);
	}
	if (cap_set_proc(caps) < 0) {
		dhi_err_set(err, errno, "cannot set capabilities");
		goto out;
	}
	/* ambient: what a non-root session keeps across exec; cleared first, then the profile */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		dhi_err_set(err, errno, "cannot clear ambient capabilities");
		goto out;
	}
	for (int c = 0; c <= CAP_LAST_CAP; c++) {
		if ((keep & (1ull << c)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 && errno != EINVAL) {
			dhi_err_set(err, errno, "cannot raise ambient capability %d", c);
			goto out;
		}
	}
	ret = 0;
out:
	cap_free(caps);
	return ret;
}

/*
 * Landlock: EXECUTE is handled, and granted only below `roots` (the toolbox's
 * directories). Other accesses are left to mounts and permissions.
 * Returns 1 when the kernel has no Landlock.
 */
static int allow_exec_fd(int rs, int fd, const char *what, struct dhi_err **err)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = LANDLOCK_ACCESS_FS_EXECUTE,
						 .parent_fd = fd };

	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		return dhi_err_set(err, errno, "cannot add a Landlock rule for %s", what);
	return 0;
}

static int restrict_exec(const char *const *roots, const int *fds, struct dhi_err **err)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE };
	dhi_autoclose int rs = -1;
	int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
			       LANDLOCK_CREATE_RULESET_VERSION);

	if (abi < 1)
		return 1;
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs < 0)
		return dhi_err_set(err, errno, "cannot create a Landlock ruleset");
	for (int i = 0; roots[i]; i++) {
		dhi_autoclose int fd = open(roots[i], O_PATH | O_CLOEXEC);

		if (fd < 0)
			continue;	/* the toolbox may not have /sbin, say */
		if (allow_exec_fd(rs, fd, roots[i], err) < 0)
			return -1;
	}
	/*
	 * dhidebug's own programs: a file on a detached mount needs its rule; a
	 * memfd cannot have one (EBADFD: Landlock leaves internal filesystems
	 * alone, so it can be executed anyway).
	 */
	for (int i = 0; fds && fds[i] >= 0; i++) {
		struct landlock_path_beneath_attr pb = { .allowed_access = LANDLOCK_ACCESS_FS_EXECUTE,
							 .parent_fd = fds[i] };

		if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0 &&
		    errno != EBADFD)
			return dhi_err_set(err, errno, "cannot add a Landlock rule for dhidebug");
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) < 0)
		return dhi_err_set(err, errno, "cannot enforce the Landlock ruleset");
	return 0;
}

static int load_bpf(struct sock_filter *prog, size_t n)
{
	struct sock_fprog fp = { .len = (unsigned short)n, .filter = prog };

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp);
}

/* What we hold now: a profile cannot grant more than the helper itself has. */
static uint64_t permitted_now(void)
{
	cap_t cur = cap_get_proc();
	uint64_t have = 0;

	for (int c = 0; cur && c <= CAP_LAST_CAP; c++) {
		cap_flag_value_t v = CAP_CLEAR;

		if (cap_get_flag(cur, (cap_value_t)c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			have |= 1ull << c;
	}
	cap_free(cur);
	return have;
}

int policy_apply(const struct profile *p, const struct session_user *u,
		 const struct policy_filters *f, const char *const *exec_roots, const int *exec_fds,
		 void (*notice)(const char *msg, void *arg), void *arg, struct dhi_err **err)
{
	uint64_t keep = p->caps & permitted_now();
	int r;

	if (drop_bounding(keep, err) < 0 || set_ids(u, err) < 0 || set_caps(keep, err) < 0)
		return -1;
	/* setuid files (in the toolbox or the container) gain nothing from here on */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return dhi_err_set(err, errno, "cannot set no_new_privs");
	if (p->landlock_exec && exec_roots) {
		r = restrict_exec(exec_roots, exec_fds, err);
		if (r < 0)
			return -1;
		if (r > 0 && notice)
			notice("landlock: not in this kernel; exec is limited by noexec mounts only",
			       arg);
	}
	/* last: the allowlist, then the escape filter (evaluated first, so EPERM wins) */
	if (load_bpf(f->allow, f->n_allow) < 0 || load_bpf(f->deny, f->n_deny) < 0)
		return dhi_err_set(err, errno, "cannot load the seccomp filter");
	return 0;
}
