// SPDX-License-Identifier: Apache-2.0
/* init.c - dhidebug-init: the session's init and program, and the image holder (see init.h). */
/*
 * Built on its own, static, against musl, and run from a sealed memfd: what
 * the container can reach of a session (its /proc/<pid>/exe, its memory, its
 * fds) is this small program and what it was handed, never dhidebug's binary
 * or memory. It links nothing of dhidebug's but the headers below, which are
 * macros and constants only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "injector/init/init.h"
#include "injector/record/execaudit_bpf.h"

/* What `session` was told, from its KEY=VALUE arguments. */
struct args {
	int stdio[3];
	bool tty;
	int msg, notify, keeper, ended, exe, pass;
	const char *path;
	char **argv;	/* the program's, after "--" */
};

/* Messages use the supervisor's framing: kind byte, text, NUL, in one write. */
static void msg_send(int fd, char kind, const char *text)
{
	char buf[1024];
	int n;

	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%c%s", kind, text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	(void)!write(fd, buf, (size_t)n + 1);
}

static void __attribute__((noreturn)) fail(int msg, const char *what)
{
	char text[256];

	snprintf(text, sizeof(text), "%s: %s", what, strerror(errno));
	msg_send(msg, 'E', text);
	_exit(125);
}

static int parse_fd(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s && !*end && v >= 0 && v < (1 << 20) ? (int)v : -1;
}

/* The value of "KEY=VALUE" when `arg` is for `key`, else NULL. */
static const char *value_of(const char *arg, const char *key)
{
	size_t n = strlen(key);

	return strncmp(arg, key, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static int parse_args(char **argv, struct args *a)
{
	*a = (struct args){ { -1, -1, -1 }, false, -1, -1, -1, -1, -1, -1, NULL, NULL };
	for (int i = 0; argv[i]; i++) {
		const char *v;

		if (strcmp(argv[i], "--") == 0) {
			a->argv = argv + i + 1;
			break;
		}
		if ((v = value_of(argv[i], INIT_KEY_STDIO))) {
			if (sscanf(v, "%d,%d,%d", &a->stdio[0], &a->stdio[1], &a->stdio[2]) != 3)
				return -1;
		} else if ((v = value_of(argv[i], INIT_KEY_TTY))) {
			a->tty = strcmp(v, "1") == 0;
		} else if ((v = value_of(argv[i], INIT_KEY_MSG))) {
			a->msg = parse_fd(v);
		} else if ((v = value_of(argv[i], INIT_KEY_NOTIFY))) {
			a->notify = parse_fd(v);
		} else if ((v = value_of(argv[i], INIT_KEY_KEEPER))) {
			a->keeper = parse_fd(v);
		} else if ((v = value_of(argv[i], INIT_KEY_ENDED))) {
			a->ended = parse_fd(v);
		} else if ((v = value_of(argv[i], INIT_KEY_EXE))) {
			a->exe = parse_fd(v);
		} else if ((v = value_of(argv[i], INIT_KEY_PASS))) {
			a->pass = parse_fd(v);
		} else if ((v = value_of(argv[i], INIT_KEY_PATH))) {
			a->path = v;
		} else {
			return -1;
		}
	}
	if (!a->argv || !a->argv[0] || (a->exe < 0 && !a->path) || (a->exe >= 0) != (a->pass >= 0) ||
	    a->stdio[0] < 0 || a->stdio[1] < 0 || a->stdio[2] < 0 || a->msg < 0 || a->keeper < 0 ||
	    a->ended < 0)
		return -1;
	return 0;
}

/* Closes every fd from `from` up, with close(2) where close_range (5.9) is missing. */
static void close_from(int from)
{
	struct rlimit rl;

	if (syscall(SYS_close_range, (unsigned int)from, ~0u, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max > (1u << 20))
		rl.rlim_max = 1u << 20;
	for (int fd = from; fd < (int)rl.rlim_max; fd++)
		close(fd);
}

/* A close-on-exec copy of `fd` numbered 10 or above, out of the way of 0-5; -1 stays -1. */
static int lift_fd(int fd)
{
	return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

/* --- the program: the session's last process, which becomes what the operator runs --- */

/* The exec audit goes on last; its listener goes to the supervisor and is closed here. */
static void start_exec_audit(int notify, int msg)
{
	struct sock_filter prog[] = EXECAUDIT_FILTER;
	struct sock_fprog fp = { .len = sizeof(prog) / sizeof(prog[0]), .filter = prog };
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char one = 'x';
	struct iovec iov = { &one, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int listener;

	listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				SECCOMP_FILTER_FLAG_NEW_LISTENER, &fp);
	if (listener < 0)
		fail(msg, "cannot install the exec audit filter");
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &listener, sizeof(int));
	if (sendmsg(notify, &mh, MSG_NOSIGNAL) < 0)
		fail(msg, "cannot hand the exec audit to the supervisor");
	close(listener);
	close(notify);
}

static void __attribute__((noreturn)) program(struct args *a)
{
	sigset_t none;
	int msg, notify, exe, e;
	char text[600];

	/* handlers do not survive exec and nothing set SIG_IGN; only the mask does */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		fail(a->msg, "cannot set the parent-death signal");
	if (setsid() < 0)
		fail(a->msg, "cannot start a new session");
	if (a->tty && ioctl(a->stdio[0], TIOCSCTTY, 0) < 0)
		fail(a->msg, "cannot take the terminal");
	/*
	 * Only 0, 1, 2 and the close-on-exec fds survive to exec: the kernel makes
	 * the process dumpable again at exec before it closes those, so anything
	 * else left open would be reachable through /proc. The channels go to
	 * 3-5 first, out of the way of the dup2()s.
	 */
	{
		int in = lift_fd(a->stdio[0]), out = lift_fd(a->stdio[1]), err = lift_fd(a->stdio[2]);
		int pass = lift_fd(a->pass);

		msg = lift_fd(a->msg);
		notify = lift_fd(a->notify);
		exe = lift_fd(a->exe);
		if (in < 0 || out < 0 || err < 0 || msg < 0 || (a->notify >= 0 && notify < 0) ||
		    (a->exe >= 0 && (exe < 0 || pass < 0)))
			fail(a->msg, "cannot set up the session's fds");
		/*
		 * dhish (exe) speaks to the supervisor itself: its channel, the exec
		 * audit's socket and its configuration stay open across the exec
		 */
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
		    dup3(msg, 3, exe >= 0 ? 0 : O_CLOEXEC) < 0 ||
		    (notify >= 0 && dup3(notify, 4, exe >= 0 ? 0 : O_CLOEXEC) < 0) ||
		    (exe >= 0 && (dup3(exe, 5, O_CLOEXEC) < 0 || dup3(pass, 6, 0) < 0)))
			fail(a->msg, "cannot set up standard fds");
		msg = 3;
		notify = notify >= 0 ? 4 : -1;
		exe = exe >= 0 ? 5 : -1;
	}
	close_from(exe >= 0 ? 7 : 6);
	umask(022);
	/* dhish installs the exec audit itself: its own exec is dhidebug's, not the operator's */
	if (notify >= 0 && exe < 0)
		start_exec_audit(notify, msg);
	if (exe >= 0)
		syscall(SYS_execveat, exe, "", a->argv, environ, AT_EMPTY_PATH);
	else
		execve(a->path, a->argv, environ);
	e = errno;
	/* "errno\nname": the supervisor says it as "cannot execute `name`: …" */
	snprintf(text, sizeof(text), "%d\n%s", e, a->argv[0]);
	msg_send(msg, INIT_MSG_EXEC_FAILED, text);
	_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}

/* --- the session's init: a subreaper in the target's pid namespace, with no privilege --- */

/*
 * What init does once the program runs: poll, read the signalfd, reap, close
 * the "ended" pipe, exit. Everything else fails with EPERM (not a kill: a
 * killed init hands the session's processes to the container's PID 1).
 */
static int confine_init(void)
{
	static const int allowed[] = {
		SYS_read, SYS_write, SYS_close, SYS_poll, SYS_ppoll, SYS_wait4, SYS_waitid,
		SYS_rt_sigreturn, SYS_restart_syscall, SYS_exit, SYS_exit_group,
	};
	enum { N = sizeof(allowed) / sizeof(allowed[0]) };
	struct sock_filter prog[N + 6];
	struct sock_fprog fp = { .len = N + 6, .filter = prog };
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct none[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	int n = 0;

	/* no capability in any set: nothing to gain by tracing us */
	if (syscall(SYS_capset, &hdr, none) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -1;
	/* set by the profile already; again, since the filter needs it */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, arch));
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, nr));
	for (int i = 0; i < N; i++)
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
							 (unsigned int)allowed[i],
							 (unsigned char)(N - i), 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	/* every match jumps here: index N + 5 */
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp);
}

static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 125;
}

static void __attribute__((noreturn)) session_init(struct args *a)
{
	sigset_t set;
	int sfd, code = 125;
	pid_t prog;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		fail(a->msg, "cannot become a subreaper");
	/* the container may signal us; only SIGKILL gets through */
	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		fail(a->msg, "cannot create a signalfd");

	prog = fork();
	if (prog < 0)
		fail(a->msg, "cannot fork the program");
	if (prog == 0) {
		close(sfd);
		close(a->ended);
		program(a);
	}
	/*
	 * From here we hold the signalfd and the "ended" pipe, nothing else: no
	 * stdio (EOF reaches the supervisor when the program and its children are
	 * gone), no channel to the supervisor.
	 */
	if (dup3(a->ended, 0, O_CLOEXEC) < 0 || dup3(sfd, 1, O_CLOEXEC) < 0)
		_exit(125);
	a->ended = 0;
	sfd = 1;
	close_from(2);
	if (confine_init() < 0)
		_exit(125);	/* the program dies with us (its parent-death signal) */

	for (;;) {
		struct pollfd p = { sfd, POLLIN, 0 };
		struct signalfd_siginfo si;
		int st;
		pid_t r;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		if (p.revents && read(sfd, &si, sizeof(si)) < 0 && errno == EINTR)
			continue;
		while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
			if (r == prog) {
				code = status_code(st);
				prog = -1;
				/* the stage ends what the program left running */
				close(a->ended);
				a->ended = -1;
			}
		}
		/* every process of the session descends from us: none left, all done */
		if (r < 0 && errno == ECHILD && prog < 0)
			break;
	}
	_exit(code);
}

/* The stage's child, still in the host's pid namespace: forks init, says its pid, waits. */
static int session(char **argv)
{
	struct args a;
	sigset_t set;
	pid_t init;
	char buf[24];
	int st, n;

	if (parse_args(argv, &a) < 0) {
		fprintf(stderr, "dhidebug-init: bad arguments\n");
		return 125;
	}
	/* the terminal's signals reach our process group: only the supervisor decides */
	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	init = fork();
	if (init < 0)
		fail(a.msg, "cannot fork into the target's pid namespace");
	if (init == 0) {
		close(a.keeper);
		session_init(&a);
	}
	n = snprintf(buf, sizeof(buf), "%d", (int)init);
	(void)!write(a.keeper, buf, (size_t)n);
	/* nothing of the session stays with us */
	close_from(0);
	/*
	 * The container may stop init (SIGSTOP cannot be blocked): it could then
	 * neither reap the program nor say that it ended, and the session would
	 * hang. Its parent sees each stop and continues it.
	 */
	for (;;) {
		if (waitpid(init, &st, WUNTRACED) < 0) {
			if (errno == EINTR)
				continue;
			return 125;
		}
		if (!WIFSTOPPED(st))
			return status_code(st);
		kill(init, SIGCONT);
	}
}

/* --- the holder of an image:// or stopped-container session --- */

/*
 * PID 1 of the session's pid namespace, where a profile with CAP_SYS_PTRACE
 * may trace it: nothing privileged stays. dhidebug made it nobody with no
 * capability, no_new_privs and no bounding set before running us; seccomp's
 * strict mode leaves read(2), write(2) and _exit(2). Then "ok", and it blocks
 * in read(2) until it is killed.
 */
static int hold(const char *sock_arg)
{
	int sock = parse_fd(sock_arg ? sock_arg : ""), p[2];
	char c;

	if (sock < 0 || pipe2(p, O_CLOEXEC) < 0)
		return 125;
	{
		/* dhidebug is still there (its end of the socket is open) */
		struct pollfd pfd = { .fd = sock, .events = POLLRDHUP };

		if (poll(&pfd, 1, 0) != 0)
			return 1;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) < 0)
		return 125;
	if (write(sock, "ok", 2) != 2)
		syscall(SYS_exit, 1);
	for (;;)
		(void)!read(p[0], &c, 1);
}

int main(int argc, char **argv)
{
	/*
	 * exec made us dumpable again: a process of the container with our uid
	 * could trace us, and with no capability left to us the kernel's check
	 * that a tracer holds the tracee's capabilities no longer stands in the way
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return 125;
	if (argc >= 2 && strcmp(argv[1], INIT_ROLE_SESSION) == 0) {
		/* what `ps` in the container shows, from the first instruction on */
		prctl(PR_SET_NAME, "dhidebug-init", 0, 0, 0);
		return session(argv + 2);
	}
	if (argc >= 2 && strcmp(argv[1], INIT_ROLE_HOLD) == 0) {
		prctl(PR_SET_NAME, "dhi-image", 0, 0, 0);
		return hold(argv[2]);
	}
	fprintf(stderr, "dhidebug-init: run by dhidebug only\n");
	return 125;
}
