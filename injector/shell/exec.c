// SPDX-License-Identifier: Apache-2.0
/* exec.c - run dhish's pipelines: checks before fork, redirections, process groups. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "injector/policy/execid.h"
#include "injector/shell/internal.h"
#include "nsenter/view.h"

extern char **environ;

/* One command of a pipeline, ready to fork. */
struct job_cmd {
	char **argv;
	sh_builtin_fn builtin;	/* set: run this instead of a program */
	char path[PATH_MAX];	/* the program, resolved */
	int redir_n;
	struct resolved_redir {
		int fd;
		int dup_fd;	/* >= 0: dup2(dup_fd, fd) */
		int flags;	/* open flags when a file */
		char *file;
		bool both;	/* &>: fd 1 and 2 */
	} *redirs;
};

static int status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

/*
 * The exec policy's verdict on running `path` as `argv` from here (our root,
 * our cwd, our /proc: dhish lives in the target's pid namespace), the same
 * the supervisor gives the exec itself (injector/policy/execid.h): a shell,
 * the shell applet of a multi-call binary, a script or the loader running
 * one. Fills `v`; false when it runs. Nothing stays open after it: a
 * container that seizes dhish finds no directory of the toolbox's or of
 * /proc among its fds.
 */
static bool refused(struct dhish *sh, const char *path, char **argv, struct execid_verdict *v)
{
	unsigned int allow = (sh->cfg->allow_shells ? EXECID_SHELLS : 0) |
			     (sh->cfg->exec_anywhere ? EXECID_ANYWHERE : 0);
	dhi_autoclose int toolbox = -1;
	dhi_autoclose int procfd = -1;
	struct execid_exec e = { path, -1, 0, argv, environ, false };
	struct execid_proc p;
	struct execid *x;

	/* a profile that runs everything (sysadmin) has nothing to refuse */
	memset(v, 0, sizeof(*v));
	if (allow == (EXECID_SHELLS | EXECID_ANYWHERE))
		return false;
	toolbox = open(VIEW_TOOLBOX_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
	procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	x = execid_new(toolbox, procfd);
	if (execid_proc_self(procfd, &p) < 0) {
		memset(v, 0, sizeof(*v));
		v->denied = true;
		snprintf(v->reason, sizeof(v->reason), "a file that cannot be judged (%s)",
			 strerror(errno));
	} else {
		execid_decide(x, &p, &e, allow, v);
		execid_proc_close(&p);
	}
	execid_free(x);
	return v->denied;
}

static bool is_program(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/*
 * Finds the program and decides, before anything is forked, whether the
 * profile lets it run. Returns 0, or the status to give the line (126/127).
 */
static int resolve(struct dhish *sh, struct job_cmd *c)
{
	const char *name = c->argv[0];
	const char *pathvar = getenv("PATH");
	struct execid_verdict v;
	struct statvfs vfs;

	c->builtin = sh_builtin_find(name);
	if (c->builtin)
		return 0;
	if (strchr(name, '/')) {
		snprintf(c->path, sizeof(c->path), "%s", name);
		if (!sh->cfg->exec_anywhere && statvfs(c->path, &vfs) == 0 &&
		    (vfs.f_flag & ST_NOEXEC))
			goto not_toolbox;
		if (!is_program(c->path)) {
			sh_error("`%s`: %s", name, access(name, F_OK) == 0 ? "not executable"
									 : "no such file");
			return access(name, F_OK) == 0 ? 126 : 127;
		}
	} else {
		char *dirs = xstrdup(pathvar ? pathvar : ""), *save = NULL;
		bool found = false;

		for (char *d = strtok_r(dirs, ":", &save); d && !found;
		     d = strtok_r(NULL, ":", &save)) {
			snprintf(c->path, sizeof(c->path), "%s/%s", *d ? d : ".", name);
			found = is_program(c->path);
		}
		free(dirs);
		if (!found) {
			sh_error("`%s`: command not found", name);
			return 127;
		}
	}
	if (refused(sh, c->path, c->argv, &v)) {
		sh_error("`%s` is %s, which profile `%s` does not run here (sysadmin does)", name,
			 v.reason, sh->cfg->profile);
		return 126;
	}
	if (!sh->cfg->exec_anywhere && statvfs(c->path, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC))
		goto not_toolbox;
	return 0;
not_toolbox:
	sh_error("`%s` is not in the toolbox; profile `%s` runs programs from the toolbox only",
		 c->path, sh->cfg->profile);
	return 126;
}

static int expand_cmd(struct dhish *sh, const struct sh_command *in, struct job_cmd *out)
{
	struct sh_error e;

	memset(out, 0, sizeof(*out));
	out->argv = sh_expand_words(in->words, in->n_words, sh_vars_of(sh), &e);
	if (!out->argv) {
		sh_error("%s", e.msg);
		return 1;
	}
	out->redirs = xzalloc(sizeof(*out->redirs) * (in->n_redirs + 1));
	for (size_t i = 0; i < in->n_redirs; i++) {
		const struct sh_redir *r = &in->redirs[i];
		struct resolved_redir *o = &out->redirs[out->redir_n++];

		o->fd = r->fd;
		o->dup_fd = -1;
		if (r->op == SH_REDIR_DUP) {
			o->dup_fd = r->dup_fd;
			continue;
		}
		o->file = sh_expand_target(r->target, sh_vars_of(sh), &e);
		if (!o->file) {
			sh_error("%s", e.msg);
			return 1;
		}
		switch (r->op) {
		case SH_REDIR_IN:
			o->flags = O_RDONLY;
			break;
		case SH_REDIR_APPEND:
			o->flags = O_WRONLY | O_CREAT | O_APPEND;
			break;
		case SH_REDIR_BOTH:
			o->both = true;
			o->fd = 1;
			o->flags = O_WRONLY | O_CREAT | O_TRUNC;
			break;
		default:
			o->flags = O_WRONLY | O_CREAT | O_TRUNC;
			break;
		}
	}
	return 0;
}

static void free_cmd(struct job_cmd *c)
{
	sh_argv_free(c->argv);
	for (int i = 0; c->redirs && i < c->redir_n; i++)
		free(c->redirs[i].file);
	free(c->redirs);
}

/* Applies redirections to this process; on error says why and returns -1. */
static int apply_redirs(const struct job_cmd *c)
{
	for (int i = 0; i < c->redir_n; i++) {
		const struct resolved_redir *r = &c->redirs[i];
		int fd;

		if (r->dup_fd >= 0) {
			if (dup2(r->dup_fd, r->fd) < 0) {
				sh_error("%d>&%d: %s", r->fd, r->dup_fd, strerror(errno));
				return -1;
			}
			continue;
		}
		fd = open(r->file, r->flags | O_CLOEXEC, 0666);
		if (fd < 0) {
			sh_error("`%s`: %s", r->file, strerror(errno));
			return -1;
		}
		if (dup2(fd, r->fd) < 0 || (r->both && dup2(fd, 2) < 0)) {
			sh_error("`%s`: %s", r->file, strerror(errno));
			close(fd);
			return -1;
		}
		if (fd != r->fd)
			close(fd);
	}
	return 0;
}

/* A builtin alone runs in dhish itself (cd must), with its redirections undone after. */
static int run_builtin_here(struct dhish *sh, struct job_cmd *c)
{
	int saved[3], status;

	fflush(stdout);
	for (int i = 0; i < 3; i++)
		saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 10);
	status = apply_redirs(c) < 0 ? 1 : c->builtin(sh, c->argv);
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < 3; i++) {
		if (saved[i] >= 0) {
			dup2(saved[i], i);
			close(saved[i]);
		}
	}
	return status;
}

static int noop(struct dhish *sh, char **argv)
{
	(void)sh;
	(void)argv;
	return 0;
}

static void child_signals(void)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE, 0 };
	sigset_t none;

	for (int i = 0; sigs[i]; i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void run_child(struct dhish *sh, struct job_cmd *c, int in, int out, pid_t pgid)
{
	if (sh->interactive) {
		setpgid(0, pgid ? pgid : 0);
		/* in the foreground before exec, so the program never starts in the background */
		tcsetpgrp(sh->tty, pgid ? pgid : getpid());
	}
	child_signals();
	if (in != 0) {
		dup2(in, 0);
		close(in);
	}
	if (out != 1) {
		dup2(out, 1);
		close(out);
	}
	if (apply_redirs(c) < 0)
		_exit(1);
	if (c->builtin) {
		int st = c->builtin(sh, c->argv);

		fflush(stdout);
		_exit(st);
	}
	execve(c->path, c->argv, environ);
	sh_error("`%s`: %s", c->argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/*
 * Waits for every process of the job. Without job control there is nothing to
 * resume a stopped job with, so one that stops (SIGSTOP from elsewhere) is
 * continued at once.
 */
static int wait_job(struct dhish *sh, pid_t *pids, size_t n)
{
	size_t left = n;
	int status = 0;

	while (left > 0) {
		int st;
		pid_t p = waitpid(-1, &st, WUNTRACED);

		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (WIFSTOPPED(st)) {
			sh_error("job stopped; dhish has no job control, so it goes on");
			kill(-(sh->interactive ? pids[0] : p), SIGCONT);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (pids[i] == p) {
				left--;
				if (i == n - 1)
					status = status_of(st);
			}
		}
	}
	return status;
}

static void take_terminal_back(struct dhish *sh)
{
	if (!sh->interactive)
		return;
	tcsetpgrp(sh->tty, sh->pgid);
	/* a full-screen program may have left the terminal in any mode */
	tcsetattr(sh->tty, TCSADRAIN, &sh->modes);
}

/*
 * A toolbox program that runs one of the container's (`timeout 5 /target/app`,
 * `xargs ./app`) gets EACCES from the view's noexec mount and exits 126 with a
 * bare "Permission denied": after it, one line with the why.
 */
static void hint_noexec(const struct dhish *sh, const struct job_cmd *c)
{
	struct statvfs vfs;
	struct stat st;

	if (sh->cfg->exec_anywhere || c->builtin)
		return;
	for (size_t i = 1; c->argv[i]; i++) {
		const char *a = c->argv[i];

		if (!strchr(a, '/') || stat(a, &st) < 0 || !S_ISREG(st.st_mode) ||
		    !(st.st_mode & 0111) || statvfs(a, &vfs) < 0 || !(vfs.f_flag & ST_NOEXEC))
			continue;
		sh_error("`%s` is mounted noexec: profile `%s` runs programs from the toolbox "
			 "only, not the container's files (sysadmin does)",
			 a, sh->cfg->profile);
		return;
	}
}

static int run_pipeline(struct dhish *sh, const struct sh_pipeline *p)
{
	struct job_cmd *cmds = xzalloc(sizeof(*cmds) * p->n_cmds);
	pid_t *pids = xzalloc(sizeof(*pids) * p->n_cmds);
	int status = 0, in = 0;
	size_t started = 0;

	for (size_t i = 0; i < p->n_cmds; i++) {
		if (expand_cmd(sh, &p->cmds[i], &cmds[i]) != 0) {
			status = 1;
			goto out;
		}
		if (!cmds[i].argv[0]) {
			/* only redirections (`> file`): open the files, as a shell does */
			cmds[i].builtin = noop;
			status = run_builtin_here(sh, &cmds[i]);
			goto out;
		}
		status = resolve(sh, &cmds[i]);
		if (status)
			goto out;
	}
	if (p->n_cmds == 1 && cmds[0].builtin) {
		status = run_builtin_here(sh, &cmds[0]);
		goto out;
	}

	fflush(NULL);
	for (size_t i = 0; i < p->n_cmds; i++) {
		int fds[2] = { -1, -1 }, out = 1;
		pid_t pid;

		if (i + 1 < p->n_cmds) {
			if (pipe2(fds, O_CLOEXEC) < 0) {
				sh_error("pipe: %s", strerror(errno));
				status = 1;
				break;
			}
			out = fds[1];
		}
		pid = fork();
		if (pid < 0) {
			sh_error("fork: %s", strerror(errno));
			status = 1;
			break;
		}
		if (pid == 0) {
			if (fds[0] >= 0)
				close(fds[0]);
			run_child(sh, &cmds[i], in, out, started ? pids[0] : 0);
		}
		if (sh->interactive)
			setpgid(pid, started ? pids[0] : pid);
		pids[started++] = pid;
		if (in != 0)
			close(in);
		if (fds[1] >= 0)
			close(fds[1]);
		in = fds[0] >= 0 ? fds[0] : 0;
	}
	if (in != 0)
		close(in);
	if (started) {
		if (sh->interactive)
			tcsetpgrp(sh->tty, pids[0]);
		status = started == p->n_cmds ? wait_job(sh, pids, started)
					      : (wait_job(sh, pids, started), status);
		take_terminal_back(sh);
		if (status == 126 && started == p->n_cmds)
			hint_noexec(sh, &cmds[p->n_cmds - 1]);
	}
out:
	for (size_t i = 0; i < p->n_cmds; i++)
		free_cmd(&cmds[i]);
	free(cmds);
	free(pids);
	return status;
}

int sh_run_list(struct dhish *sh, const struct sh_list *l)
{
	bool run = true;

	/* as in sh: && and || look at the status of the last pipeline that ran */
	for (size_t i = 0; i < l->n_items && !sh->exiting; i++) {
		if (run)
			sh->last_status = run_pipeline(sh, &l->items[i]);
		if (i + 1 == l->n_items)
			break;
		if (l->after[i] == SH_AND)
			run = sh->last_status == 0;
		else if (l->after[i] == SH_OR)
			run = sh->last_status != 0;
		else
			run = true;
	}
	return sh->last_status;
}
