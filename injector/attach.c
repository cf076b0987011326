// SPDX-License-Identifier: Apache-2.0
/* attach.c - the privileged sequence: enter the target, build the view, run the program. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/record/execaudit.h"
#include "injector/session.h"
#include "injector/shell/shell.h"
#include "nsenter/cgroup.h"
#include "nsenter/path.h"

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
		"PATH", "HOME", "TMPDIR", "TERM", "PS1", "GCONV_PATH", "GETCONF_DIR",
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
		"GEM_", "LUA_", "OPENSSL_", "GIT_", NULL,
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

static char **build_env(const struct session_spec *s)
{
	char *const *cfg = s->config ? s->config->env : NULL;
	size_t ncfg = 0, n = 0, fixed;
	char **env;

	while (cfg && cfg[ncfg])
		ncfg++;
	env = xzalloc((8 + ncfg) * sizeof(char *));
	/* an allowlist: nothing from the operator's or the container's environment leaks in */
	env[n++] = xstrdup("PATH=" SESSION_PATH);
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
static char *find_program(const char *file)
{
	if (strchr(file, '/'))
		return xstrdup(file);
	for (const char *p = SESSION_PATH; *p;) {
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

static void notice_cb(const char *msg, void *arg)
{
	const struct session_chan *ch = arg;

	session_msg_send(ch->msg, SESSION_MSG_NOTICE, "%s", msg);
}

static void line_hook(const char *line, const char *cwd, void *arg)
{
	const struct session_chan *ch = arg;

	session_msg_send(ch->msg, SESSION_MSG_LINE, "%s\n%s", cwd, line);
}

static void done_hook(const char *line, int status, double seconds, void *arg)
{
	const struct session_chan *ch = arg;

	session_msg_send(ch->msg, SESSION_MSG_DONE, "%d %.6f\n%s", status, seconds, line);
}

/*
 * The exec audit filter goes on last; its listener goes to the supervisor
 * over the notify socket (SCM_RIGHTS) and is closed here: the session never
 * holds it. From here on every exec waits for the supervisor's answer.
 */
static int start_exec_audit(const struct session_chan *ch, struct dhi_err **err)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char one = 'x';
	struct iovec iov = { &one, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int listener = -1, r;

	if (ch->notify < 0)
		return 0;
	if (execaudit_install(&listener, err) < 0)
		return -1;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &listener, sizeof(int));
	r = (int)sendmsg(ch->notify, &mh, MSG_NOSIGNAL);
	close(listener);
	close(ch->notify);
	if (r < 0)
		return dhi_err_set(err, errno, "cannot hand the exec audit to the supervisor");
	return 0;
}

/* dhish, in this very process: dhidebug's own code, already under the profile. */
static void run_dhish(const struct session_spec *s, const struct session_chan *ch,
		      const struct run_ctx *ctx, char **env)
{
	char *target = xasprintf("%s://%s", s->rt->runtime, s->rt->id);

	/* what `ps` in the container shows for the shell: not a second "dhidebug" */
	prctl(PR_SET_NAME, "dhish", 0, 0, 0);
	struct dhish_config cfg = {
		.target = target,
		.profile = s->profile->name,
		.toolbox = s->toolbox.ref,
		.view = view_mode_name(ctx->view),
		.allow_shells = s->profile->allow_shells,
		.exec_anywhere = s->profile->container_exec,
		.command = s->command,
		.env = env,
		.history = s->history.lines,
		.inputrc = s->inputrc,
		.hooks = { .line = line_hook, .done = done_hook, .arg = (void *)ch },
	};

	_exit(dhish_run(&cfg));
}

static void run_program(const struct session_spec *s, const struct session_chan *ch,
			const struct run_ctx *ctx)
{
	struct dhi_err *err = NULL;
	sigset_t all;
	char **env, *path;
	int e;

	/* handlers do not survive exec and nothing on the way set SIG_IGN; only the mask does */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		dhi_err_set(&err, errno, "cannot set the parent-death signal");
		session_child_fail(ch->msg, err);
	}
	if (setsid() < 0) {
		dhi_err_set(&err, errno, "cannot start a new session");
		session_child_fail(ch->msg, err);
	}
	if (ctx->tty && ioctl(ch->stdio[0], TIOCSCTTY, 0) < 0) {
		dhi_err_set(&err, errno, "cannot take the terminal");
		session_child_fail(ch->msg, err);
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(ch->stdio[i], i) < 0) {
			dhi_err_set(&err, errno, "cannot set up standard fds");
			session_child_fail(ch->msg, err);
		}
	}
	/*
	 * Only 0, 1, 2 and the CLOEXEC message fd survive to exec: the kernel makes
	 * the process dumpable again at exec before it closes CLOEXEC fds, so
	 * anything else left open would be reachable through /proc.
	 */
	{
		/* 0-2, the message fd and, until the exec audit is handed over, its socket */
		const int keep[2] = { ch->msg, ch->notify };

		fd_close_all_but(keep, 2);
	}
	umask(022);
	enter_workdir(s, ch, ctx);

	env = build_env(s);
	if (policy_apply(s->profile, &s->user, &s->filters, exec_roots(s),
			 s->quiet ? NULL : notice_cb, (void *)ch, &err) < 0) {
		dhi_err_prefix(&err, "cannot apply profile `%s`", s->profile->name);
		session_child_fail(ch->msg, err);
	}
	if (start_exec_audit(ch, &err) < 0)
		session_child_fail(ch->msg, err);
	if (!s->argv)
		run_dhish(s, ch, ctx, env);

	path = find_program(s->argv[0]);
	if (!path) {
		dhi_err_set_status(&err, 127, ENOENT, "cannot execute `%s`", s->argv[0]);
		session_child_fail(ch->msg, err);
	}
	/* `-- bash` must not be the way around dhish's refusal of shells */
	if (!s->profile->allow_shells && dhish_is_shell(path)) {
		dhi_err_set_status(&err, 126, 0,
				   "cannot execute `%s`: it is a shell, which profile `%s` does not "
				   "run (sysadmin does)",
				   s->argv[0], s->profile->name);
		session_child_fail(ch->msg, err);
	}
	execve(path, s->argv, env);
	e = errno;
	dhi_err_set_status(&err, e == ENOENT || e == ENOTDIR ? 127 : 126, e,
			   "cannot execute `%s`", s->argv[0]);
	session_child_fail(ch->msg, err);
}

/* --- the session's init: a subreaper inside the target's pid namespace --- */

/* Lists our children from /proc (the view's, verified to be procfs) and kills them. */
static int kill_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid();
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[300], buf[512];
		int fd;
		ssize_t len;
		char *p;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = fd_read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* comm can hold anything, including ") 1 "; the ppid follows the last ')' */
		p = strrchr(buf, ')');
		if (p && strlen(p) > 4 && atoi(p + 4) == self) {
			kill(atoi(de->d_name), SIGKILL);
			n++;
		}
	}
	closedir(d);
	return n;
}

/*
 * Every orphan of the session is reparented to us (we are the subreaper), so
 * killing our children until none is left ends the whole session, and no
 * zombie ever reaches the container's PID 1.
 */
static void end_session(void)
{
	for (;;) {
		kill_children();
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
			break;
	}
}

static void session_init(const struct session_spec *s, const struct session_chan *ch,
			 const struct run_ctx *ctx)
{
	struct dhi_err *err = NULL;
	sigset_t set;
	int sfd, code = 125;
	pid_t prog;

	prctl(PR_SET_NAME, "dhidebug-init", 0, 0, 0);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		dhi_err_set(&err, errno, "cannot become a subreaper");
		session_child_fail(ch->msg, err);
	}
	/* the container may signal us; only SIGKILL gets through, and then the stage notices */
	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		dhi_err_set(&err, errno, "cannot create a signalfd");
		session_child_fail(ch->msg, err);
	}

	prog = fork();
	if (prog < 0) {
		dhi_err_set(&err, errno, "cannot fork");
		session_child_fail(ch->msg, err);
	}
	if (prog == 0) {
		close(sfd);
		run_program(s, ch, ctx);
	}
	/* the session's stdio lives in the program only: EOF when it and its children are gone */
	for (int i = 0; i < 3; i++)
		if (ch->stdio[i] >= 0 && (i == 0 || ch->stdio[i] != ch->stdio[i - 1]))
			close(ch->stdio[i]);

	for (;;) {
		struct pollfd p[2] = { { sfd, POLLIN, 0 }, { ch->lifeline, POLLIN, 0 } };
		struct signalfd_siginfo si;
		int st;
		pid_t r;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents) {
			/* the supervisor is gone (or wants us gone): end it all */
			code = 128 + SIGKILL;
			break;
		}
		if (p[0].revents && fd_read(sfd, &si, sizeof(si)) < 0)
			continue;
		while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
			if (r == prog) {
				code = status_to_code(st);
				prog = -1;
			}
		}
		if (prog < 0)
			break;
	}
	end_session();
	_exit(code);
}

/* --- the stage: host pid namespace, joins everything, waits for init --- */


/*
 * Closes every fd but the session's channels: the target's /proc dir, the
 * toolbox's host directory and the like must never enter the pid namespace
 * (a host directory fd is a way out of any chroot, CVE-2024-21626).
 */
static void close_host_fds(const struct session_chan *ch)
{
	const int keep[7] = { ch->stdio[0], ch->stdio[1], ch->stdio[2], ch->msg, ch->lifeline,
			      ch->cgsync, ch->notify };

	fd_close_all_but(keep, 7);
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

static int wait_cgroups(const struct session_chan *ch)
{
	char c;
	ssize_t n = fd_read(ch->cgsync, &c, 1);

	close(ch->cgsync);
	return n == 1 ? 0 : -1;
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
 *   not dumpable → every namespace but the user one → private view (needs
 *   host privilege over the mounts) → user namespace → wait until the
 *   supervisor has moved us into the target's cgroups (it does that from the
 *   host while we work: cgroup v1 migrations are slow) → fork into the pid
 *   namespace → subreaper → drop to the profile → program.
 * Being non-dumpable before the first setns keeps processes already in the
 * target from ptracing us or opening our /proc files while we hold host fds.
 */
void attach_stage(const struct session_spec *s, const struct session_chan *ch)
{
	struct ns_target t = s->target;
	struct dhi_err *err = NULL;
	struct view_spec vs;
	struct view_result vr;
	dhi_autoclose int procself = -1;
	struct run_ctx ctx = { .tty = isatty(ch->stdio[0]) };
	pid_t init;
	int st;

	if (prctl(PR_SET_DUMPABLE, 0) < 0) {
		dhi_err_set(&err, errno, "cannot make the session non-dumpable");
		session_child_fail(ch->msg, err);
	}
	procself = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (procself < 0) {
		dhi_err_set(&err, errno, "cannot open /proc/self");
		session_child_fail(ch->msg, err);
	}
	if (path_check_fs(procself, PROC_SUPER_MAGIC, "/proc/self", &err) < 0 ||
	    detach_stdio(&err) < 0)
		session_child_fail(ch->msg, err);

	copy_rlimits(t.pid);

	if (ns_target_join(&t, ~0u, &err) < 0)
		session_child_fail(ch->msg, err);

	vs = (struct view_spec){
		.mode = s->view,
		.same_release = s->same_release,
		.toolbox_tree = s->toolbox_tree,
		.target_root = s->target_root,
		.host_procself = procself,
		.target_ro = s->profile->container_ro,
		.target_noexec = !s->profile->container_exec,
	};
	if (view_build(&vs, &vr, &err) < 0)
		session_child_fail(ch->msg, err);
	report_view(s, ch, &vr);
	ctx.view = vr.mode;
	dhi_close_reset(&procself);

	if (ns_target_join_user(&t, &err) < 0)
		session_child_fail(ch->msg, err);
	close_host_fds(ch);

	/* what is forked from here on must be born in the target's cgroups */
	if (wait_cgroups(ch) < 0)
		_exit(125);	/* the supervisor failed to join them, and says why */
	init = fork();
	if (init < 0) {
		dhi_err_set(&err, errno, "cannot fork into the target's pid namespace");
		session_child_fail(ch->msg, err);
	}
	if (init == 0)
		session_init(s, ch, &ctx);

	for (int i = 0; i < 3; i++)
		if (ch->stdio[i] >= 0 && (i == 0 || ch->stdio[i] != ch->stdio[i - 1]))
			close(ch->stdio[i]);
	close(ch->lifeline);
	while (waitpid(init, &st, 0) < 0) {
		if (errno != EINTR)
			_exit(125);
	}
	_exit(status_to_code(st));
}
