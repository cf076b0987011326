// SPDX-License-Identifier: Apache-2.0
/* seccomp.c - the session's two seccomp filters: an allowlist and the escape filter. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "injector/policy/policy.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/*
 * What a debugging session needs, in the style of Docker's default profile.
 * Anything not here (a syscall newer than this list included) returns ENOSYS,
 * so a new kernel never opens a hole and programs fall back as they would on
 * an older kernel. Names unknown to an architecture are skipped by libseccomp.
 */
static const char *const allowlist[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk",
	"capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime",
	"clock_getres", "clock_gettime", "clock_nanosleep", "close", "close_range", "connect",
	"copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
	"epoll_ctl", "epoll_pwait", "epoll_pwait2", "epoll_wait", "eventfd", "eventfd2", "execve",
	"execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fallocate",
	"fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchownat", "fcntl",
	"fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
	"fstat", "fstatfs", "fsync", "ftruncate", "futex", "futex_waitv", "futimesat",
	"get_mempolicy", "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents",
	"getdents64", "getegid", "geteuid", "getgid", "getgroups", "getitimer", "getpeername",
	"getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
	"getresuid", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt", "gettid",
	"gettimeofday", "getuid", "getxattr", "inotify_add_watch", "inotify_init",
	"inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents",
	"io_pgetevents", "io_setup", "io_submit", "ioctl", "ioprio_get", "ioprio_set", "kcmp",
	"kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
	"lchown", "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr",
	"lremovexattr", "lseek", "lsetxattr", "lstat", "madvise", "membarrier", "memfd_create",
	"mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
	"mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedsend",
	"mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
	"munlockall", "munmap", "nanosleep", "newfstatat", "open", "openat",
	"openat2", "pause", "pidfd_getfd", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
	"personality", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "prctl", "pread64",
	"preadv", "preadv2", "prlimit64", "process_madvise", "process_vm_readv",
	"process_vm_writev", "pselect6", "ptrace", "pwrite64", "pwritev", "pwritev2", "read",
	"readahead", "readlink", "readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg",
	"remap_file_pages", "removexattr", "rename", "renameat", "renameat2", "restart_syscall",
	"rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
	"rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_tgsigqueueinfo",
	"sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity",
	"sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
	"sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
	"sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
	"sendfile", "sendmmsg", "sendmsg", "sendto", "set_mempolicy", "set_robust_list",
	"set_thread_area", "set_tid_address", "setfsgid", "setfsuid", "setgid", "setgroups",
	"setitimer", "setpgid", "setpriority", "setregid", "setresgid", "setresuid", "setreuid",
	"setrlimit", "setsid", "setsockopt", "setuid", "setxattr", "shmat", "shmctl", "shmdt",
	"shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "socket", "socketpair",
	"splice", "stat", "statfs", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
	"syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
	"timer_getoverrun", "timer_gettime", "timer_settime", "timerfd_create",
	"timerfd_gettime", "timerfd_settime", "times", "tkill", "truncate", "umask", "uname",
	"unlink", "unlinkat", "utime", "utimensat", "utimes", "vfork", "vmsplice", "wait4",
	"waitid", "write", "writev",
	/* i386 names of the same calls */
	"_llseek", "_newselect", "fcntl64", "fstat64", "fstatat64", "fstatfs64", "ftruncate64",
	"getegid32", "geteuid32", "getgid32", "getgroups32", "getresgid32", "getresuid32",
	"getuid32", "lstat64", "mmap2", "sendfile64", "setfsgid32", "setfsuid32", "setgid32",
	"setgroups32", "setregid32", "setresgid32", "setresuid32", "setreuid32", "setuid32",
	"sigreturn", "socketcall", "stat64", "statfs64", "truncate64", "ugetrlimit", "waitpid",
	"clock_gettime64", "clock_nanosleep_time64", "futex_time64", "ppoll_time64",
	"pselect6_time64", "recvmmsg_time64", "rt_sigtimedwait_time64", "semtimedop_time64",
	"timer_gettime64", "timer_settime64", "timerfd_gettime64", "timerfd_settime64",
	"utimensat_time64", "io_pgetevents_time64", "mq_timedreceive_time64",
	"mq_timedsend_time64", "sched_rr_get_interval_time64", "clock_getres_time64",
	NULL,
};

/* The escape filter: EPERM in every profile, so tools print a readable error. */
static const char *const escape[] = {
	"setns", "unshare", "open_by_handle_at", "kexec_load", "kexec_file_load", "init_module",
	"finit_module", "delete_module", "keyctl", "add_key", "request_key", "userfaultfd",
	"iopl", "ioperm", "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
	"settimeofday", "clock_settime", "clock_settime64", "stime", "io_uring_setup",
	"io_uring_enter", "io_uring_register", "lookup_dcookie", "vm86", "vm86old",
	"uselib", "nfsservctl", "sysfs", "_sysctl", "syslog", "name_to_handle_at",
	NULL,
};
static const char *const mount_family[] = {
	"mount", "umount", "umount2", "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig",
	"fspick", "mount_setattr", "pivot_root", "chroot", NULL,
};
static const char *const bpf_perf[] = { "bpf", "perf_event_open", NULL };
static const char *const memfd[] = { "memfd_create", "memfd_secret", NULL };
static const char *const ptrace_calls[] = { "ptrace", "process_vm_writev", NULL };
/* signals whose first argument is the target pid (or thread group id) */
static const char *const kill_calls[] = { "kill", "tkill", "tgkill", "rt_sigqueueinfo",
					  "rt_tgsigqueueinfo", NULL };

static const int clone_new[] = { CLONE_NEWNS,	CLONE_NEWUTS, CLONE_NEWIPC,  CLONE_NEWUSER,
				 CLONE_NEWPID,	CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWTIME };

/*
 * Every ABI this kernel accepts on x86-64 is covered. i386 (int 0x80) is
 * filtered like the native one, so a denied call gets the same EPERM through
 * it. x32 is not added: libseccomp then sends x32 calls (and any other ABI) to
 * the bad-arch action, which kills. Leaving x32 out also keeps the filter a
 * third smaller, which is most of its load time.
 */
static int add_arches(scmp_filter_ctx ctx, struct dhi_err **err)
{
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);

	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);	/* binary tree */
	if (r < 0)
		return dhi_err_set(err, -r, "cannot set the seccomp filter attributes");
	if (seccomp_arch_native() != SCMP_ARCH_X86_64)
		return 0;
	r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
	if (r < 0 && r != -EEXIST)
		return dhi_err_set(err, -r, "cannot add the i386 seccomp architecture");
	return 0;
}

static int add_names(scmp_filter_ctx ctx, uint32_t action, const char *const *names,
		     struct dhi_err **err)
{
	for (int i = 0; names[i]; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		int r;

		if (nr == __NR_SCMP_ERROR)
			continue;	/* not a syscall on any of our ABIs */
		r = seccomp_rule_add(ctx, action, nr, 0);
		if (r < 0 && r != -EEXIST)
			return dhi_err_set(err, -r, "cannot add seccomp rule for `%s`", names[i]);
	}
	return 0;
}

static bool listed(const char *const *list, const char *name)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static int build_allow(const struct profile *p, scmp_filter_ctx *out, struct dhi_err **err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
	int r;

	if (!ctx)
		return dhi_err_set(err, ENOMEM, "cannot create a seccomp filter");
	*out = ctx;
	if (add_arches(ctx, err) < 0 || add_names(ctx, SCMP_ACT_ALLOW, allowlist, err) < 0)
		return -1;
	if (p->allow_mount && add_names(ctx, SCMP_ACT_ALLOW, mount_family, err) < 0)
		return -1;
	if (p->allow_bpf_perf && add_names(ctx, SCMP_ACT_ALLOW, bpf_perf, err) < 0)
		return -1;
	for (int i = 0; i < p->n_allow; i++) {
		const char *one[] = { p->allow[i], NULL };

		if (add_names(ctx, SCMP_ACT_ALLOW, one, err) < 0)
			return -1;
	}
	/* clone without namespace flags; with them the escape filter says EPERM */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
								 CLONE_NEWUSER | CLONE_NEWPID |
								 CLONE_NEWNET | CLONE_NEWCGROUP |
								 CLONE_NEWTIME,
				     0));
	if (r < 0)
		return dhi_err_set(err, -r, "cannot add seccomp rule for `clone`");
	/*
	 * clone3 is deliberately absent: it passes its flags in memory the filter
	 * cannot read, so it gets the default ENOSYS and libc falls back to clone.
	 */
	return 0;
}

/*
 * Without allow_kill: no signal to PID 1 (the application) or to every process
 * (-1), and no pidfd_send_signal at all. Signals between the session's own
 * processes stay possible (tools such as strace kill their own helpers); the
 * rest of the application is kept out of reach by the profile's uid, which
 * the kernel's permission check compares (observe runs as nobody, without
 * CAP_KILL).
 */
static int deny_kill(scmp_filter_ctx ctx, uint32_t eperm, struct dhi_err **err)
{
	static const scmp_datum_t pids[] = { 1, 0xffffffffu };
	const char *const pidfd[] = { "pidfd_send_signal", NULL };

	if (add_names(ctx, eperm, pidfd, err) < 0)
		return -1;
	for (int i = 0; kill_calls[i]; i++) {
		int nr = seccomp_syscall_resolve_name(kill_calls[i]);

		for (size_t j = 0; j < sizeof(pids) / sizeof(pids[0]); j++) {
			int r = seccomp_rule_add(ctx, eperm, nr, 1,
						 SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, pids[j]));

			if (r < 0)
				return dhi_err_set(err, -r, "cannot add seccomp rule for `%s`",
						   kill_calls[i]);
		}
	}
	return 0;
}

static int build_deny(const struct profile *p, scmp_filter_ctx *out, struct dhi_err **err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
	int r;

	if (!ctx)
		return dhi_err_set(err, ENOMEM, "cannot create a seccomp filter");
	*out = ctx;
	if (add_arches(ctx, err) < 0 || add_names(ctx, eperm, escape, err) < 0)
		return -1;
	if (!p->allow_mount && add_names(ctx, eperm, mount_family, err) < 0)
		return -1;
	if (!p->allow_bpf_perf && add_names(ctx, eperm, bpf_perf, err) < 0)
		return -1;
	if (!p->allow_ptrace && add_names(ctx, eperm, ptrace_calls, err) < 0)
		return -1;
	if (!p->allow_kill && deny_kill(ctx, eperm, err) < 0)
		return -1;
	/*
	 * A memfd is executable wherever it came from: noexec mounts do not apply
	 * and Landlock ignores internal file systems. Where the profile limits
	 * execution to the toolbox, memfds cannot be made at all.
	 */
	if (!p->container_exec && add_names(ctx, eperm, memfd, err) < 0)
		return -1;
	for (int i = 0; i < p->n_deny; i++) {
		const char *one[] = { p->deny[i], NULL };

		if (!listed(escape, p->deny[i]) && add_names(ctx, eperm, one, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof(clone_new) / sizeof(clone_new[0]); i++) {
		r = seccomp_rule_add(ctx, eperm, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, (scmp_datum_t)clone_new[i],
					     (scmp_datum_t)clone_new[i]));
		if (r < 0)
			return dhi_err_set(err, -r, "cannot add seccomp rule for `clone`");
	}
	/*
	 * TIOCSTI and TIOCLINUX push input into the terminal. The kernel takes
	 * the request as 32 bits, so compare only those: TIOCSTI | 1 << 32 is TIOCSTI.
	 */
	r = seccomp_rule_add(ctx, eperm, SCMP_SYS(ioctl), 1,
			     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
	if (r == 0)
		r = seccomp_rule_add(ctx, eperm, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
	if (r < 0)
		return dhi_err_set(err, -r, "cannot add seccomp rule for `ioctl`");
	return 0;
}

int policy_seccomp_contexts(const struct profile *p, scmp_filter_ctx *allow,
			    scmp_filter_ctx *deny, struct dhi_err **err);
int policy_seccomp_contexts(const struct profile *p, scmp_filter_ctx *allow,
			    scmp_filter_ctx *deny, struct dhi_err **err)
{
	*allow = *deny = NULL;
	if (build_allow(p, allow, err) < 0 || build_deny(p, deny, err) < 0)
		return dhi_err_prefix(err, "profile `%s`", p->name);
	return 0;
}
