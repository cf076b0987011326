// SPDX-License-Identifier: Apache-2.0
/* target.c - pin the target with a pidfd and join its namespaces. */
#include "nsenter/target.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/path.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
	const char *name;
	int flag;
} ns_table[NS_COUNT] = {
	[NS_CGROUP] = { "cgroup", CLONE_NEWCGROUP },
	[NS_IPC] = { "ipc", CLONE_NEWIPC },
	[NS_UTS] = { "uts", CLONE_NEWUTS },
	[NS_NET] = { "net", CLONE_NEWNET },
	[NS_PID] = { "pid", CLONE_NEWPID },
	[NS_TIME] = { "time", CLONE_NEWTIME },
	[NS_MNT] = { "mnt", CLONE_NEWNS },
	[NS_USER] = { "user", CLONE_NEWUSER },
};

const char *ns_kind_name(enum ns_kind k)
{
	return ns_table[k].name;
}

/* Parses state and start time from /proc/<pid>/stat; comm may hold any byte. */
static int read_stat(int procfd, char *state, unsigned long long *start, struct dhi_err **err)
{
	dhi_autofree char *buf = NULL;
	char *p;
	int field;

	if (fd_read_proc_at(procfd, "stat", 4096, &buf, NULL, err) < 0)
		return -1;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return dhi_err_set(err, 0, "cannot parse `stat`");
	p += 2;
	*state = *p;
	/* after ") " comes field 3 (state); the start time is field 22 */
	for (field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return dhi_err_set(err, 0, "cannot parse `stat`");
	*start = strtoull(p, NULL, 10);
	return 0;
}

static int ns_ino(int dirfd, const char *path, struct stat *st)
{
	return fstatat(dirfd, path, st, 0);
}

static bool same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The user namespace that owns namespace `path` of the process at `procfd`, as an fd. */
static int owner_fd(int procfd, const char *path)
{
	dhi_autoclose int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -1 : ioctl(fd, NS_GET_USERNS);
}

static int owner_stat(int procfd, const char *path, struct stat *st)
{
	dhi_autoclose int fd = owner_fd(procfd, path);

	return fd < 0 ? -1 : fstat(fd, st);
}

int ns_target_open(pid_t pid, unsigned long long expect_start, struct ns_target *t,
		   struct dhi_err **err)
{
	dhi_autoclose int proc = -1;
	char name[32];
	char state;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->pidfd = t->procfd = -1;

	if (pid <= 0)
		return dhi_err_set(err, 0, "invalid pid `%d`", (int)pid);

	/* Pin first: whatever we open under /proc/<pid> afterwards is checked against it. */
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (t->pidfd < 0 && errno != ENOSYS) {
		int e = errno;

		ns_target_close(t);
		return dhi_err_set(err, e == ESRCH ? 0 : e, "process `%d` %s", (int)pid,
				   e == ESRCH ? "does not exist" : "cannot be opened");
	}

	proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0 || path_check_fs(proc, PROC_SUPER_MAGIC, "/proc", err) < 0) {
		if (proc < 0)
			dhi_err_set(err, errno, "cannot open /proc");
		ns_target_close(t);
		return -1;
	}
	snprintf(name, sizeof(name), "%d", (int)pid);
	t->procfd = openat(proc, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t->procfd < 0) {
		ns_target_close(t);
		return dhi_err_set(err, 0, "process `%d` does not exist", (int)pid);
	}
	if (read_stat(t->procfd, &state, &t->start_time, err) < 0) {
		ns_target_close(t);
		return dhi_err_prefix(err, "process `%d`", (int)pid);
	}
	if (state == 'Z' || state == 'X') {
		ns_target_close(t);
		return dhi_err_set(err, 0, "process `%d` is not running (it has exited)", (int)pid);
	}
	if (expect_start && expect_start != t->start_time) {
		ns_target_close(t);
		return dhi_err_set(err, 0,
				   "process `%d` is not the container's (its pid was reused)",
				   (int)pid);
	}
	/* The /proc dir we hold is the pinned process only if that is still alive. */
	if (ns_target_check_alive(t, err) < 0) {
		ns_target_close(t);
		return -1;
	}

	for (int k = 0; k < NS_COUNT; k++) {
		struct stat theirs, ours;
		char path[32];

		snprintf(path, sizeof(path), "ns/%s", ns_table[k].name);
		if (ns_ino(t->procfd, path, &theirs) < 0) {
			if (errno == ENOENT)
				continue;	/* namespace type not in this kernel */
			{
				int e = errno;

				ns_target_close(t);
				return dhi_err_set(err, e, "cannot stat namespace `%s` of pid %d",
						   ns_table[k].name, (int)pid);
			}
		}
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_table[k].name);
		if (ns_ino(AT_FDCWD, path, &ours) < 0 || ours.st_ino != theirs.st_ino ||
		    ours.st_dev != theirs.st_dev)
			t->differ |= NS_BIT(k);
	}
	{
		struct stat owner, ours;

		if (owner_stat(t->procfd, "ns/pid", &owner) == 0) {
			t->has_owner = true;
			t->owner_dev = owner.st_dev;
			t->owner_ino = owner.st_ino;
			t->differ &= ~NS_BIT(NS_USER);
			if (ns_ino(AT_FDCWD, "/proc/self/ns/user", &ours) < 0 ||
			    !same_inode(&owner, &ours))
				t->differ |= NS_BIT(NS_USER);
		}
	}
	return 0;
}

/*
 * Whether user namespace `fd` lies below the one of `t->owner_*` (made inside
 * it); ownership is taken. Nesting stops at 32 levels; the initial user
 * namespace has no parent (EPERM).
 */
static bool below_owner(const struct ns_target *t, int fd)
{
	for (int depth = 0; fd >= 0 && depth < 33; depth++) {
		int parent = ioctl(fd, NS_GET_PARENT);
		struct stat st;

		close(fd);
		fd = parent;
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == t->owner_dev &&
		    st.st_ino == t->owner_ino) {
			close(fd);
			return true;
		}
	}
	if (fd >= 0)
		close(fd);
	return false;
}

/* ns_target_foreign_owner() for the namespaces of the process at `procfd`. */
static int foreign_owner_at(const struct ns_target *t, int procfd, const char **which,
			    struct dhi_err **err)
{
	*which = NULL;
	if (!t->has_owner)
		return 0;
	for (int k = 0; k < NS_COUNT && !*which; k++) {
		struct stat st;
		char path[32];
		int fd;

		if (k == NS_USER || k == NS_PID)
			continue;
		snprintf(path, sizeof(path), "ns/%s", ns_table[k].name);
		fd = owner_fd(procfd, path);
		if (fd < 0 || fstat(fd, &st) < 0) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			if (e == ENOENT)
				continue;	/* namespace type not in this kernel */
			return dhi_err_set(err, e, "cannot tell who owns namespace `%s` of pid %d",
					   ns_table[k].name, (int)t->pid);
		}
		/*
		 * The runtime's, or one it shares with the host (an ancestor's: the
		 * host's time namespace, say); one from below was made in the container
		 */
		if ((st.st_dev != t->owner_dev || st.st_ino != t->owner_ino) && below_owner(t, fd))
			*which = ns_table[k].name;
		else
			close(fd);
	}
	if (ns_target_check_alive(t, err) < 0)
		return -1;
	return *which != NULL;
}

int ns_target_foreign_owner(const struct ns_target *t, const char **which, struct dhi_err **err)
{
	return foreign_owner_at(t, t->procfd, which, err);
}

int ns_target_check_joined(const struct ns_target *t, int procself, struct dhi_err **err)
{
	const char *which = NULL;
	int r = foreign_owner_at(t, procself, &which, err);

	if (r > 0)
		return dhi_err_set(err, 0, "pid %d moved into a %s namespace of a user namespace of "
				   "its own during the attach", (int)t->pid, which);
	return r;
}

int ns_target_check_alive(const struct ns_target *t, struct dhi_err **err)
{
	if (t->pidfd >= 0) {
		if (syscall(SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) == 0)
			return 0;
		if (errno != ESRCH)
			return 0;
	} else {
		char state;
		unsigned long long start;

		if (read_stat(t->procfd, &state, &start, err) == 0 && start == t->start_time &&
		    state != 'Z' && state != 'X')
			return 0;
		dhi_err_clear(err);
	}
	return dhi_err_set(err, 0, "process `%d` exited during the attach", (int)t->pid);
}

/*
 * The initial mount namespace's inode number (PROC_MNT_INIT_INO, Linux 6.x).
 * Older kernels number every namespace from 0xF0000000 up: none has it
 * there, and the comparison is simply never true.
 */
#define MNT_NS_INIT_INO 0xEFFFFFF8U

/* The parent of `pid` (field 4 of /proc/<pid>/stat); -1 when it cannot be read. */
static pid_t parent_of(int proc, pid_t pid)
{
	dhi_autofree char *buf = NULL;
	struct dhi_err *err = NULL;
	char name[32], *p;
	dhi_autoclose int fd = -1;

	snprintf(name, sizeof(name), "%d/stat", (int)pid);
	fd = openat(proc, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fd_read_file(fd, 4096, &buf, NULL, &err) < 0) {
		dhi_err_clear(&err);
		return -1;
	}
	p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2] || !p[3])
		return -1;
	return (pid_t)strtol(p + 4, NULL, 10);
}

/*
 * Whether PID 1 of our pid namespace is the system we run on: we descend from
 * it. A process put into the namespace from outside (an ephemeral container,
 * `podman run --pid container:app`) has parent 0 there, and its PID 1 is the
 * pod's or the app's: a target, not a host. Unreadable ancestry counts as
 * descent, which only compares more.
 */
static bool descends_from_init(int proc)
{
	pid_t pid = getpid();

	for (int i = 0; i < 65536 && pid > 1; i++)
		pid = parent_of(proc, pid);
	return pid != 0;
}

int ns_target_is_host(const struct ns_target *t, const char **why, struct dhi_err **err)
{
	dhi_autoclose int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat mnt, root, ours, ref;

	*why = NULL;
	if (proc < 0)
		return dhi_err_set(err, errno, "cannot open /proc");
	if (path_check_fs(proc, PROC_SUPER_MAGIC, "/proc", err) < 0)
		return -1;
	if (fstatat(t->procfd, "ns/mnt", &mnt, 0) < 0 || fstatat(t->procfd, "root", &root, 0) < 0)
		return dhi_err_set(err, errno, "cannot stat the mount namespace and root of process "
				   "`%d`", (int)t->pid);
	if (ns_target_check_alive(t, err) < 0)
		return -1;
	if (fstatat(proc, "self/ns/mnt", &ours, 0) < 0 || stat("/", &ref) < 0)
		return dhi_err_set(err, errno, "cannot stat our own mount namespace and root");
	if (same_inode(&mnt, &ours) || (mnt.st_dev == ours.st_dev && mnt.st_ino == MNT_NS_INIT_INO))
		*why = "it shares the host's mount namespace";
	else if (same_inode(&root, &ref))
		*why = "its root directory is the host's";
	/*
	 * PID 1 may keep its secrets (EACCES): then it is not a reference. The
	 * ancestry is walked only for a target that matches it.
	 */
	else if (fstatat(proc, "1/ns/mnt", &ref, 0) == 0 && same_inode(&mnt, &ref) &&
		 descends_from_init(proc))
		*why = "it shares the mount namespace of the host's PID 1";
	else if (fstatat(proc, "1/root", &ref, 0) == 0 && same_inode(&root, &ref) &&
		 descends_from_init(proc))
		*why = "its root directory is that of the host's PID 1";
	return *why != NULL;
}

/* The initial pid namespace's inode number (PROC_PID_INIT_INO, Linux 3.8 on). */
#define PID_NS_INIT_INO 0xEFFFFFFCU

int ns_target_host_pidns(const struct ns_target *t, const char **why, struct dhi_err **err)
{
	dhi_autoclose int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat pid, ours;

	*why = NULL;
	if (proc < 0)
		return dhi_err_set(err, errno, "cannot open /proc");
	if (path_check_fs(proc, PROC_SUPER_MAGIC, "/proc", err) < 0)
		return -1;
	if (fstatat(t->procfd, "ns/pid", &pid, 0) < 0)
		return dhi_err_set(err, errno, "cannot stat the pid namespace of process `%d`",
				   (int)t->pid);
	if (ns_target_check_alive(t, err) < 0)
		return -1;
	if (fstatat(proc, "self/ns/pid", &ours, 0) < 0)
		return dhi_err_set(err, errno, "cannot stat our own pid namespace");
	/*
	 * Ours counts when we descend from its PID 1, as for the mount namespace:
	 * in an ephemeral container (parent 0) the pid namespace is the pod's.
	 */
	if ((pid.st_dev == ours.st_dev && pid.st_ino == PID_NS_INIT_INO) ||
	    (same_inode(&pid, &ours) && descends_from_init(proc)))
		*why = "it shares the host's pid namespace";
	return *why != NULL;
}

int ns_target_open_root(const struct ns_target *t, int *out, struct dhi_err **err)
{
	*out = openat(t->procfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*out < 0)
		return dhi_err_set(err, errno, "cannot open the root of process `%d`", (int)t->pid);
	return ns_target_check_alive(t, err);
}

static int join_one(struct ns_target *t, enum ns_kind k, struct dhi_err **err)
{
	char path[32];
	dhi_autoclose int fd = -1;

	snprintf(path, sizeof(path), "ns/%s", ns_table[k].name);
	fd = openat(t->procfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open namespace `%s`", ns_table[k].name);
	/* the fd is only the pinned process's if that is still alive now */
	if (ns_target_check_alive(t, err) < 0)
		return -1;
	if (setns(fd, ns_table[k].flag) < 0)
		return dhi_err_set(err, errno, "cannot join namespace `%s`", ns_table[k].name);
	return 0;
}

int ns_target_join(struct ns_target *t, unsigned int kinds, struct dhi_err **err)
{
	unsigned int want = kinds & t->differ & ~NS_BIT(NS_USER);
	int mask = 0;

	if (!want)
		return 0;
	for (int k = 0; k < NS_COUNT; k++)
		if (want & NS_BIT(k))
			mask |= ns_table[k].flag;

	/*
	 * One setns() on the pidfd joins all of them atomically (5.8+). Before
	 * 5.8 a pidfd is not a namespace fd and setns says EINVAL; a seccomp
	 * filter may say ENOSYS. Either way, join one by one.
	 */
	if (t->pidfd >= 0) {
		if (setns(t->pidfd, mask) == 0)
			return 0;
		if (errno == ESRCH)
			return dhi_err_set(err, 0, "process `%d` exited during the attach",
					   (int)t->pid);
		if (errno != EINVAL && errno != ENOSYS)
			return dhi_err_set(err, errno, "cannot join the namespaces of pid %d",
					   (int)t->pid);
	}
	t->used_fallback = true;
	for (int k = 0; k < NS_COUNT; k++) {
		if (!(want & NS_BIT(k)))
			continue;
		if (join_one(t, (enum ns_kind)k, err) < 0)
			return dhi_err_prefix(err, "pid %d", (int)t->pid);
	}
	return 0;
}

int ns_target_join_user(struct ns_target *t, struct dhi_err **err)
{
	if (!(t->differ & NS_BIT(NS_USER)))
		return 0;
	if (t->has_owner) {
		dhi_autoclose int fd = owner_fd(t->procfd, "ns/pid");
		struct stat st;

		if (fd < 0 || fstat(fd, &st) < 0)
			return dhi_err_set(err, errno, "cannot open the user namespace of pid %d",
					   (int)t->pid);
		if (st.st_dev != t->owner_dev || st.st_ino != t->owner_ino ||
		    ns_target_check_alive(t, err) < 0)
			return dhi_err_set(err, 0, "process `%d` exited during the attach",
					   (int)t->pid);
		if (setns(fd, CLONE_NEWUSER) < 0)
			return dhi_err_set(err, errno, "cannot join the user namespace of pid %d",
					   (int)t->pid);
		return 0;
	}
	if (t->pidfd >= 0 && !t->used_fallback) {
		if (setns(t->pidfd, CLONE_NEWUSER) == 0)
			return 0;
		if (errno != EINVAL && errno != ENOSYS)
			return dhi_err_set(err, errno, "cannot join the user namespace of pid %d",
					   (int)t->pid);
	}
	if (join_one(t, NS_USER, err) < 0)
		return dhi_err_prefix(err, "pid %d", (int)t->pid);
	return 0;
}

void ns_target_close(struct ns_target *t)
{
	dhi_close_reset(&t->pidfd);
	dhi_close_reset(&t->procfd);
}
