// SPDX-License-Identifier: Apache-2.0
/* attach.c - the privileged sequence: enter the target, build the view, run the program. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/handoff.h"
#include "injector/init/init.h"
#include "injector/policy/execid.h"
#include "injector/session.h"
#include "nsenter/cgroup.h"
#include "common/path.h"

#define SESSION_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int status_to_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 125;
}

/* --- the program: the last process, inside everything --- */

/* How the stage left things for the session's processes. */
struct run_ctx {
	bool tty;		/* the session's stdio is a terminal */
	enum view_mode view;	/* the view that was built */
	const char *path;	/* the session's PATH */
	const char *lib_path;	/* LD_LIBRARY_PATH, or NULL: the view's (view_result) */
};

/*
 * Names a container's configured environment does not set in the session:
 * the ones the session sets itself, and those that make programs load or run
 * code or configuration from elsewhere: the dynamic loader's and glibc's
 * (glibc's list for set-id programs), shells' start-up files, interpreters'
 * module paths and options, programs run on the user's behalf (pagers,
 * editors), terminfo and readline's init file (dhish takes those from the
 * toolbox and the host only). A denylist, so docs/image-sessions.md lists it.
 */
static bool env_refused(const char *var)
{
	static const char *const names[] = {
		"PATH", "HOME", "TMPDIR", "TERM", "PS0", "PS1", "PS2", "PS3", "GCONV_PATH", "GETCONF_DIR",
		"HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "NIS_PATH", "NLSPATH",
		"RESOLV_HOST_CONF", "RES_OPTIONS", "TZDIR", "BASH_ENV", "ENV", "SHELLOPTS",
		"BASHOPTS", "PS4", "PROMPT_COMMAND", "IFS", "CDPATH", "ZDOTDIR", "TERMINFO",
		"TERMINFO_DIRS", "TERMCAP", "INPUTRC", "CLASSPATH", "JAVA_TOOL_OPTIONS",
		"_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "LESSOPEN", "LESSCLOSE", "LESSKEY",
		"PAGER", "MANPAGER", "SYSTEMD_PAGER", "EDITOR", "VISUAL", "BROWSER", "VIMINIT",
		"EXINIT", "MYVIMRC", "VIMRUNTIME", NULL,
	};
	static const char *const prefixes[] = {
		"LD_", "MALLOC_", "GLIBC_", "DHIDEBUG_", "PYTHON", "PERL", "NODE_", "RUBY",
		"GEM_", "LUA_", "OPENSSL_", "GIT_", "BASH_FUNC_", NULL,
	};
	size_t n = strcspn(var, "=");

	for (int i = 0; prefixes[i]; i++)
		if (strncmp(var, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == n && strncmp(var, names[i], n) == 0)
			return true;
	return false;
}

static char **build_env(const struct session_spec *s, const struct run_ctx *ctx)
{
	char *const *cfg = s->config ? s->config->env : NULL;
	size_t ncfg = 0, n = 0, fixed;
	char **env;

	while (cfg && cfg[ncfg])
		ncfg++;
	env = xzalloc((9 + ncfg) * sizeof(char *));
	/* an allowlist: nothing from the operator's or the container's environment leaks in */
	env[n++] = xasprintf("PATH=%s", ctx->path);
	if (ctx->lib_path)
		env[n++] = xasprintf("LD_LIBRARY_PATH=%s", ctx->lib_path);
	env[n++] = xstrdup("HOME=" VIEW_SCRATCH_DIR);
	env[n++] = xstrdup("TMPDIR=" VIEW_SCRATCH_DIR);
	env[n++] = xasprintf("DHIDEBUG_TARGET=%s://%s", s->rt->runtime, s->rt->id);
	if (s->term)
		env[n++] = xasprintf("TERM=%s", s->term);
	env[n++] = xasprintf("PS1=[dhidebug %s] # ", s->rt->name);
	/* but a stopped container's or an image's own configuration, as its program had it */
	fixed = n;
	for (size_t i = 0; i < ncfg; i++) {
		bool dup = false;

		if (env_refused(cfg[i]))
			continue;
		for (size_t j = fixed; j < n && !dup; j++)
			dup = strcspn(env[j], "=") == strcspn(cfg[i], "=") &&
			      strncmp(env[j], cfg[i], strcspn(cfg[i], "=")) == 0;
		if (!dup)
			env[n++] = xstrdup(cfg[i]);
	}
	env[n] = NULL;
	return env;
}

/*
 * A stopped container's or an image's working directory: the session starts
 * there (under /target in the toolbox view), resolved inside the container's
 * root so no symlink of the container's leads elsewhere. Best effort: "/" stays.
 */
static void enter_workdir(const struct session_spec *s, const struct session_chan *ch,
			  const struct run_ctx *ctx)
{
	const char *cwd = s->config ? s->config->cwd : NULL;
	struct dhi_err *err = NULL;
	dhi_autoclose int root = -1, dir = -1;

	if (!cwd || strcmp(cwd, "/") == 0)
		return;
	/* the container's root: its own absolute symlinks and ".." stay in its files */
	root = open(ctx->view == VIEW_TOOLBOX ? VIEW_TARGET_DIR : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || path_open_at(root, cwd, O_PATH | O_DIRECTORY, 0, &dir, &err) < 0 ||
	    fchdir(dir) < 0) {
		session_msg_send(ch->msg, SESSION_MSG_NOTICE,
				 "cannot enter the working directory `%s`; starting in /", cwd);
		dhi_err_clear(&err);
	}
}

/* The program as execvp would find it with the session's PATH; NULL when it is nowhere. */
static char *find_program(const char *file, const char *search)
{
	if (strchr(file, '/'))
		return xstrdup(file);
	for (const char *p = search; *p;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		char *path = xasprintf("%.*s/%s", (int)n, p, file);
		struct stat st;

		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			return path;
		free(path);
		p += n;
		if (*p == ':')
			p++;
	}
	return NULL;
}

/* Where programs may be executed from (Landlock), by view; NULL: anywhere. */
static const char *const *exec_roots(const struct session_spec *s)
{
	/* top-level toolbox directories; /target and /.dhi-scratch are not among them */
	static const char *const roots[] = { "/bin", "/sbin", "/usr", "/lib", "/lib32", "/lib64",
					     "/libx32", "/opt", VIEW_TOOLBOX_DIR, NULL };

	return s->profile->container_exec ? NULL : roots;
}

/* --- the session's first process: host pid namespace, then the profile, then dhidebug-init --- */

/* Clears close-on-exec on the fds dhidebug-init is handed (they are close-on-exec until now). */
static int pass_fd(int fd)
{
	int fl;

	if (fd < 0)
		return 0;
	fl = fcntl(fd, F_GETFD);
	return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
}

/* dhish's configuration, in a memfd handed to the sealed copy of dhidebug that runs it. */
static int dhish_config_fd(const struct session_spec *s, const struct session_chan *ch,
			   const struct run_ctx *ctx, struct dhi_err **err)
{
	char *target = rt_target_label(s->rt);
	struct dhish_config cfg = {
		.target = target,
		.profile = s->profile->name,
		.toolbox = s->toolbox.ref,
		.view = view_mode_name(ctx->view),
		.allow_shells = s->profile->allow_shells,
		.exec_anywhere = s->profile->container_exec,
		.command = s->command,
		.history = s->history.lines,
		.inputrc = s->inputrc,
	};
	dhi_autoclose int fd = memfd_create("dhish-config", MFD_CLOEXEC);
	int r;

	if (fd < 0) {
		free(target);
		return dhi_err_set(err, errno, "cannot create dhish's configuration");
	}
	r = handoff_write(fd, &cfg, ch->notify >= 0, err);
	free(target);
	return r < 0 ? -1 : dhi_steal_fd(&fd);
}

static void notice_cb(const char *msg, void *arg)
{
	const struct session_chan *ch = arg;

	session_msg_send(ch->msg, SESSION_MSG_NOTICE, "%s", msg);
}

/*
 * `-- PROGRAM` as the exec policy judges it (injector/policy/execid.h), said
 * here with the reason and recorded, before anything runs. Under the
 * profile, as the program will run. By content and by the file's own name:
 * the toolbox's shells by identity (a hard link, a copy) are left to the
 * supervisor, which collected them while the session started and refuses
 * the exec itself (and says why); collecting them again here would cost every
 * session's start. We are not in the target's pid namespace, so the view's
 * /proc does not know us: `hostproc` (the host's procfs) is where our own
 * fds are reopened, and what "self" names.
 */
static void check_program(const struct session_spec *s, const struct session_chan *ch,
			  const char *path, int hostproc)
{
	unsigned int allow = (s->profile->allow_shells ? EXECID_SHELLS : 0) |
			     (s->profile->container_exec ? EXECID_ANYWHERE : 0);
	struct execid_exec e = { path, -1, 0, s->argv, NULL, false };
	struct execid_verdict v;
	struct dhi_err *err = NULL;
	struct execid_proc p;
	struct execid *x;

	/* a profile that runs everything (sysadmin) has nothing to refuse */
	if (allow == (EXECID_SHELLS | EXECID_ANYWHERE))
		return;
	x = execid_new(-1, hostproc);
	if (execid_proc_self(hostproc, &p) < 0) {
		execid_free(x);
		dhi_err_set_status(&err, 126, errno, "cannot execute `%s`: cannot judge it",
				   s->argv[0]);
		session_child_fail(ch->msg, err);
	}
	execid_decide(x, &p, &e, allow, &v);
	execid_proc_close(&p);
	execid_free(x);
	if (!v.denied)
		return;
	/* the supervisor records it as the exec it would have been */
	session_msg_send(ch->msg, SESSION_MSG_REFUSED, "%d %d\n%s\n%s\n%s\n%s", (int)getpid(),
			 (int)getppid(), path, v.file, v.applet, v.reason);
	dhi_err_set_status(&err, 126, 0,
			   "cannot execute `%s`: it is %s, which profile `%s` does not run "
			   "(sysadmin does)",
			   s->argv[0], v.reason, s->profile->name);
	session_child_fail(ch->msg, err);
}

/*
 * The stage's child. It is in the host's pid namespace, where nothing of the
 * container can see it, until the end: it joins the target's pid namespace
 * (for its children) and user namespace, gives up every host fd, takes the
 * profile (ids, capabilities, no_new_privs, Landlock, seccomp) and only then
 * runs dhidebug-init, whose children are the first processes the container
 * can reach. So none of them is ever more privileged than the profile, or
 * dhidebug's binary, or holds anything of dhidebug's memory.
 */
static void __attribute__((noreturn)) run_session(const struct session_spec *s,
						  const struct session_chan *ch,
						  const struct run_ctx *ctx, int keeper_w,
						  int ended_w, int hostproc)
{
	struct ns_target t = s->target;
	struct dhi_err *err = NULL;
	char **env, *path = NULL, **argv;
	int cfg = -1, exe = -1;
	size_t n = 0, argc = 0;

	if (ns_target_join(&t, NS_BIT(NS_PID), &err) < 0 || ns_target_join_user(&t, &err) < 0)
		session_child_fail(ch->msg, err);
	enter_workdir(s, ch, ctx);
	if (s->argv) {
		path = find_program(s->argv[0], ctx->path);
		if (!path) {
			dhi_err_set_status(&err, 127, ENOENT, "cannot execute `%s`", s->argv[0]);
			session_child_fail(ch->msg, err);
		}
	} else {
		cfg = dhish_config_fd(s, ch, ctx, &err);
		if (cfg < 0)
			session_child_fail(ch->msg, err);
		exe = s->dhish_exe;
	}
	{
		/* nothing of the host goes further: only the session's channels and our programs */
		const int keep[12] = { ch->stdio[0], ch->stdio[1], ch->stdio[2], ch->msg,
				       ch->notify, keeper_w, ended_w, s->init_exe, exe, cfg,
				       s->argv ? hostproc : -1, -1 };

		fd_close_all_but(keep, 11);
	}
	env = build_env(s, ctx);
	{
		const int exec_fds[3] = { s->init_exe, exe, -1 };

		if (policy_apply(s->profile, &s->user, &s->filters, exec_roots(s), exec_fds,
				 s->quiet ? NULL : notice_cb, (void *)ch, &err) < 0) {
			dhi_err_prefix(&err, "cannot apply profile `%s`", s->profile->name);
			session_child_fail(ch->msg, err);
		}
	}
	/* `-- bash` must not be the way around dhish's refusal of shells */
	if (s->argv) {
		check_program(s, ch, path, hostproc);
		/* the host's procfs goes no further than the check (dhish's was closed above) */
		close(hostproc);
	}

	/* dhidebug-init session KEY=VALUE... -- PROGRAM ARG... (injector/init/init.h) */
	while (s->argv && s->argv[argc])
		argc++;
	argv = xzalloc((12 + (argc ? argc : 2)) * sizeof(char *));
	argv[n++] = xstrdup("dhidebug-init");
	argv[n++] = xstrdup(INIT_ROLE_SESSION);
	argv[n++] = xasprintf(INIT_KEY_STDIO "=%d,%d,%d", ch->stdio[0], ch->stdio[1], ch->stdio[2]);
	argv[n++] = xasprintf(INIT_KEY_TTY "=%d", ctx->tty ? 1 : 0);
	argv[n++] = xasprintf(INIT_KEY_MSG "=%d", ch->msg);
	if (ch->notify >= 0)
		argv[n++] = xasprintf(INIT_KEY_NOTIFY "=%d", ch->notify);
	argv[n++] = xasprintf(INIT_KEY_KEEPER "=%d", keeper_w);
	argv[n++] = xasprintf(INIT_KEY_ENDED "=%d", ended_w);
	if (exe >= 0) {
		argv[n++] = xasprintf(INIT_KEY_EXE "=%d", exe);
		argv[n++] = xasprintf(INIT_KEY_PASS "=%d", cfg);
	} else {
		argv[n++] = xasprintf(INIT_KEY_PATH "=%s", path);
	}
	argv[n++] = xstrdup("--");
	if (exe >= 0) {
		argv[n++] = xstrdup("dhish");
		argv[n++] = xstrdup(HANDOFF_ARG);
	}
	for (size_t i = 0; i < argc; i++)
		argv[n++] = s->argv[i];
	argv[n] = NULL;
	for (int i = 0; i < 3; i++)
		if (pass_fd(ch->stdio[i]) < 0)
			goto fail;
	if (pass_fd(ch->msg) < 0 || pass_fd(ch->notify) < 0 || pass_fd(keeper_w) < 0 ||
	    pass_fd(ended_w) < 0 || pass_fd(exe) < 0 || pass_fd(cfg) < 0)
		goto fail;
	syscall(SYS_execveat, s->init_exe, "", argv, env, AT_EMPTY_PATH);
fail:
	dhi_err_set(&err, errno, "cannot run dhidebug-init");
	session_child_fail(ch->msg, err);
}

/* --- the stage: joins, builds the view, then keeps the session from the host's side --- */

/* Signals `pid` (pinned by a pidfd where the kernel has them, 5.3+). */
static int kill_pid(pid_t pid, int pidfd)
{
	if (pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	return kill(pid, SIGKILL);
}

/*
 * Where the stage looks for the session's processes. Every one of them is in
 * the target's pid namespace (or one below it, which its procfs lists too):
 * a procfs of that namespace alone (pidns=, 6.17+), detached and never seen
 * by anyone else, lists the container's processes and ours, not the host's
 * thousands. Where the kernel has no pidns= the host's /proc is walked.
 */
struct session_scan {
	int dir;	/* the target's procfs, or the host's /proc */
	bool own;	/* dir is the target's: its numbers are the target's pids */
	pid_t skip[3];	/* in dir's numbering: left for last (init) or not ours to kill */
};

/* A detached procfs that shows the pid namespace of `t` alone; -1 where the kernel cannot. */
static int target_procfs(const struct ns_target *t)
{
	dhi_autoclose int ns = openat(t->procfd, "ns/pid", O_RDONLY | O_CLOEXEC);
	dhi_autoclose int fs = -1, mnt = -1;
	struct dhi_err *err = NULL;
	int dir;

	if (ns < 0)
		return -1;
	fs = fsopen("proc", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "subset", "pid", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_FD, "pidns", NULL, ns) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -1;
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					   MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return -1;
	dir = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* the namespace is the one pinned: it still runs the process we opened */
	if (dir >= 0 && ns_target_check_alive(t, &err) < 0) {
		dhi_err_clear(&err);
		close(dir);
		return -1;
	}
	return dir;
}

/* `pid`'s number in its own pid namespace (NSpid's last field), or -1. */
static pid_t ns_pid(int proc, pid_t pid)
{
	char name[32];
	dhi_autofree char *buf = NULL;
	const char *line, *last = NULL;
	struct dhi_err *err = NULL;

	snprintf(name, sizeof(name), "%d/status", (int)pid);
	if (fd_read_proc_at(proc, name, 8192, &buf, NULL, &err) < 0) {
		dhi_err_clear(&err);
		return -1;
	}
	if (!(line = strstr(buf, "\nNSpid:")))
		return -1;
	for (const char *c = line + 7; *c && *c != '\n'; c++)
		if ((*c >= '0' && *c <= '9') && (c[-1] == '\t' || c[-1] == ' '))
			last = c;
	return last ? (pid_t)atoi(last) : -1;
}

/*
 * Whether the process whose /proc directory is `pd` is in mount namespace
 * `mntns`. Its ns/mnt is its thread-group leader's: a leader that exited alone
 * (SYS_exit of the main thread, which needs no privilege) has no namespaces
 * left (ENOENT) while the process runs on in its other threads, so then
 * those are asked.
 */
static bool in_mntns(int pd, ino_t mntns)
{
	dhi_autoclose int tfd = -1;
	struct dirent *de;
	struct stat st;
	bool in = false;
	DIR *d;

	if (fstatat(pd, "ns/mnt", &st, 0) == 0)
		return st.st_ino == mntns;
	tfd = openat(pd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = tfd >= 0 ? fdopendir(tfd) : NULL;
	if (!d)
		return false;
	tfd = -1;	/* owned by d */
	while (!in && (de = readdir(d))) {
		char path[300];

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/ns/mnt", de->d_name);
		in = fstatat(dirfd(d), path, &st, 0) == 0 && st.st_ino == mntns;
	}
	closedir(d);
	return in;
}

/*
 * Whether the process whose /proc directory is `pd` has a SIGKILL pending: it
 * is dying and runs no more code of its own, however long the kernel keeps it
 * (a read from a FUSE server that has taken the request and never answers
 * waits uninterruptibly). Signalling it again would count it as found at every
 * scan, and the session would never end.
 */
static bool dying(int pd)
{
	static const char *const keys[] = { "\nShdPnd:", "\nSigPnd:" };
	dhi_autofree char *buf = NULL;
	struct dhi_err *err = NULL;

	if (fd_read_proc_at(pd, "status", 8192, &buf, NULL, &err) < 0) {
		dhi_err_clear(&err);
		return false;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *p = strstr(buf, keys[i]);

		if (p && (strtoull(p + strlen(keys[i]), NULL, 16) & (1ULL << (SIGKILL - 1))))
			return true;
	}
	return false;
}

/*
 * The session's processes, by what they share: the view's mount namespace,
 * which the stage made and only the session holds (leaving it needs setns or
 * unshare, which every profile's escape filter denies, sysadmin's included).
 * Parentage would miss what the container took from us: it can kill the
 * session's init, and then the orphans are its PID 1's. Each is signalled through its own /proc
 * directory (a pidfd for pidfd_send_signal), so a pid reused meanwhile is
 * not hit; one already dying is left to die. Returns how many were signalled.
 */
static int kill_session(const struct session_scan *sc, ino_t mntns)
{
	dhi_autoclose int dfd = openat(sc->dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	dfd = -1;	/* owned by d */
	while ((de = readdir(d))) {
		pid_t pid;
		int pd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (pid == sc->skip[0] || pid == sc->skip[1] || pid == sc->skip[2])
			continue;
		pd = openat(sc->dir, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (pd < 0)
			continue;
		if (in_mntns(pd, mntns) && !dying(pd) &&
		    syscall(SYS_pidfd_send_signal, pd, SIGKILL, NULL, 0) == 0)
			n++;
		close(pd);
	}
	closedir(d);
	return n;
}

/* Our mount namespace, the view's: on the host's procfs, "self" is us. 0 if unknown. */
static ino_t mntns_of(int proc)
{
	struct stat st;

	return fstatat(proc, "self/ns/mnt", &st, 0) == 0 ? st.st_ino : 0;
}

/* Init's pid, as dhidebug-init's first process reports it on `fd`; -1 when it never forked. */
static pid_t read_init(int fd)
{
	char buf[24];
	ssize_t n = fd_read(fd, buf, sizeof(buf) - 1);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return (pid_t)atoi(buf) > 0 ? (pid_t)atoi(buf) : -1;
}

/*
 * What the stage does once the session runs: wait until the program exits
 * (init closes "ended"), the supervisor goes or asks us to end it all (the
 * lifeline), or the session's first process (so init) has exited; then
 * SIGKILL every process of the session, init last, until init, which reaps
 * them, has exited. The stage is in the host's pid namespace, invisible to
 * the container, and keeps its privileges: the session's init has none, and
 * could not kill what the session runs as other users. Returns the first
 * process's wait status.
 */
static int keep_session(const struct session_chan *ch, int proc, struct session_scan *sc,
			pid_t first, int keeper_r, int ended_r)
{
	ino_t self = mntns_of(proc);
	sigset_t chld;
	dhi_autoclose int sfd = -1, initfd = -1;
	pid_t init = -1;
	bool ending = false;
	int idle = 0, st = 0;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	for (;;) {
		/* once ending, the pipes have said all they will: scan every 10 ms */
		struct pollfd p[4] = { { ending ? -1 : ch->lifeline, POLLIN, 0 },
				       { ending ? -1 : ended_r, POLLIN, 0 },
				       { keeper_r, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		pid_t w = waitpid(first, &st, WNOHANG);
		int r;

		if (w == first || (w < 0 && errno == ECHILD))
			return st;	/* init is gone too: it exits before the first process does */
		r = poll(p, 4, ending ? 10 : -1);
		if (r < 0 && errno != EINTR)
			break;
		if (p[3].revents) {
			struct signalfd_siginfo si;

			while (fd_read(sfd, &si, sizeof(si)) > 0)
				;
		}
		if (keeper_r >= 0 && p[2].revents) {
			/* pinned while the first process, its parent, has not reaped it */
			init = read_init(keeper_r);
			if (init > 0) {
				initfd = (int)syscall(SYS_pidfd_open, init, 0);
				sc->skip[1] = sc->own ? ns_pid(proc, init) : init;
			}
			dhi_close_reset(&keeper_r);
		}
		if (p[0].revents || p[1].revents)
			ending = true;
		if (!ending || !self)
			continue;
		if (kill_session(sc, self) > 0)
			idle = 0;
		/* init has nothing left to reap and still runs: it was made to, so it goes */
		else if (++idle == 50 && init > 0)
			kill_pid(init, initfd);
	}
	while (waitpid(first, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

static int wait_cgroups(const struct session_chan *ch)
{
	char c;
	ssize_t n = fd_read(ch->cgsync, &c, 1);

	close(ch->cgsync);
	return n == 1 ? 0 : -1;
}

/*
 * The session lives under the target's resource limits. Raising them again
 * needs CAP_SYS_RESOURCE, which only a profile that grants it has.
 */
static void copy_rlimits(pid_t pid)
{
	for (int r = 0; r < RLIM_NLIMITS; r++) {
		struct rlimit lim;

		if (prlimit(pid, (enum __rlimit_resource)r, NULL, &lim) == 0)
			setrlimit((enum __rlimit_resource)r, &lim);
	}
}

/* The operator's terminal stays with the supervisor; the stage gets /dev/null. */
static int detach_stdio(struct dhi_err **err)
{
	dhi_autoclose int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return dhi_err_set(err, errno, "cannot open /dev/null");
	for (int i = 0; i < 3; i++)
		if (dup2(null, i) < 0)
			return dhi_err_set(err, errno, "cannot redirect fd %d", i);
	return 0;
}

static void report_view(const struct session_spec *s, const struct session_chan *ch,
			const struct view_result *vr)
{
	if (s->quiet || s->view != VIEW_AUTO)
		return;
	session_msg_send(ch->msg, SESSION_MSG_NOTICE, "view: %s (%s)", view_mode_name(vr->mode),
			 vr->reason);
}

/*
 * The whole privileged order in one place, so it can be reviewed at once:
 *   not dumpable → every namespace but the pid and user ones → private view
 *   (needs host privilege over the mounts) → wait until the supervisor says
 *   we are in every cgroup of the target (we join the v1 ones ourselves, once
 *   not dumpable, and were born in the v2 one, or it moved us there while we
 *   worked) → fork the session's first process,
 *   which joins the pid and user namespaces, takes the profile and runs
 *   dhidebug-init (run_session) → keep the session (keep_session).
 * Being non-dumpable before the first setns keeps processes already in the
 * target from ptracing us or opening our /proc files while we hold host fds.
 * The stage itself never enters the target's pid namespace: the container
 * cannot see it, so it may keep what it needs to end the session.
 */
void attach_stage(const struct session_spec *s, const struct session_chan *ch)
{
	struct ns_target t = s->target;
	struct dhi_err *err = NULL;
	struct view_spec vs;
	struct view_result vr;
	dhi_autoclose int procself = -1, proc = -1;
	struct run_ctx ctx = { .tty = isatty(ch->stdio[0]), .path = SESSION_PATH };
	int keeper[2] = { -1, -1 }, ended[2] = { -1, -1 }, st;
	struct session_scan scan = { .dir = -1 };
	sigset_t all;
	pid_t first;

	/* the terminal's signals reach our process group: the supervisor alone decides */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if (prctl(PR_SET_DUMPABLE, 0) < 0) {
		dhi_err_set(&err, errno, "cannot make the session non-dumpable");
		session_child_fail(ch->msg, err);
	}
	/* the v1 hierarchies, each by itself (nsenter/cgroup.h); the v2 one we were born in */
	if (s->cgroups) {
		if (cgroup_plan_join_self(s->cgroups, &err) < 0)
			session_child_fail(ch->msg, err);
		cgroup_plan_close(s->cgroups);
	}
	procself = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procself < 0 || proc < 0) {
		dhi_err_set(&err, errno, "cannot open /proc");
		session_child_fail(ch->msg, err);
	}
	if (path_check_fs(procself, PROC_SUPER_MAGIC, "/proc/self", &err) < 0 ||
	    path_check_fs(proc, PROC_SUPER_MAGIC, "/proc", &err) < 0 || detach_stdio(&err) < 0)
		session_child_fail(ch->msg, err);

	copy_rlimits(t.pid);
	scan.dir = target_procfs(&t);
	scan.own = scan.dir >= 0;
	if (!scan.own)
		scan.dir = proc;

	if (ns_target_join(&t, ~NS_BIT(NS_PID), &err) < 0 ||
	    ns_target_check_joined(&t, procself, &err) < 0)
		session_child_fail(ch->msg, err);

	vs = (struct view_spec){
		.mode = s->view,
		.same_release = s->same_release,
		.release_why = s->release_why,
		.toolbox_tree = s->toolbox_tree,
		.target_root = s->target_root,
		.host_procself = procself,
		.target_ro = s->profile->container_ro,
		.target_noexec = !s->profile->container_exec,
		.host_devs = s->join_cgroup ? NULL : s->host_devs,
	};
	if (view_build(&vs, &vr, &err) < 0)
		session_child_fail(ch->msg, err);
	report_view(s, ch, &vr);
	ctx.view = vr.mode;
	/* a noexec union: programs and libraries from /.dhi (nsenter/view.h) */
	if (vr.path[0])
		ctx.path = vr.path;
	if (vr.lib_path[0])
		ctx.lib_path = vr.lib_path;
	dhi_close_reset(&procself);
	if (pipe2(keeper, O_CLOEXEC) < 0 || pipe2(ended, O_CLOEXEC) < 0) {
		dhi_err_set(&err, errno, "cannot create pipes");
		session_child_fail(ch->msg, err);
	}

	/* what is forked from here on must be born in the target's cgroups */
	if (wait_cgroups(ch) < 0)
		_exit(125);	/* the supervisor failed to join them, and says why */
	first = fork();
	if (first < 0) {
		dhi_err_set(&err, errno, "cannot fork the session");
		session_child_fail(ch->msg, err);
	}
	if (first == 0) {
		close(keeper[0]);
		close(ended[0]);
		close(ch->lifeline);
		if (scan.own)
			close(scan.dir);
		run_session(s, ch, &ctx, keeper[1], ended[1], dhi_steal_fd(&proc));
	}
	close(keeper[1]);
	close(ended[1]);
	for (int i = 0; i < 3; i++)
		if (ch->stdio[i] >= 0 && (i == 0 || ch->stdio[i] != ch->stdio[i - 1]))
			close(ch->stdio[i]);
	if (ch->notify >= 0)
		close(ch->notify);
	/* the stage and the first process are the target's too when it shares our pid namespace */
	if (!scan.own || !(t.differ & NS_BIT(NS_PID)))
		scan.skip[0] = getpid(), scan.skip[2] = first;
	st = keep_session(ch, proc, &scan, first, keeper[0], ended[0]);
	/* what init could not reap (the container killed it, say): by the namespace, until none */
	scan.skip[1] = 0;
	for (int i = 0; mntns_of(proc) && i < 100 && kill_session(&scan, mntns_of(proc)) > 0; i++)
		usleep(1000);
	_exit(status_to_code(st));
}
