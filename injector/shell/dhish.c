// SPDX-License-Identifier: Apache-2.0
/* dhish.c - the restricted shell's loop: readline, prompt, completion, hooks. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "injector/shell/internal.h"

/*
 * Terminal descriptions come from the toolbox only. ncurses looks in $TERMINFO,
 * ~/.terminfo (HOME is the session's scratch) and $TERMINFO_DIRS before its
 * built-in directories, which in a union view are the container's: when the
 * toolbox does not describe $TERM, readline is given "dumb" instead of reading
 * the container's file.
 */
#define TOOLBOX_TERMINFO "/.dhi/lib/terminfo:/.dhi/usr/share/terminfo:/.dhi/etc/terminfo"
/* readline reads $INPUTRC only when it is set; this file is ours and absent */
#define NO_INPUTRC "/.dhi-scratch/.dhish-inputrc-none"

static struct dhish shell;

void sh_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("dhish: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *var_get(const char *name, void *arg)
{
	(void)arg;
	return getenv(name);
}

const struct sh_vars *sh_vars_of(struct dhish *sh)
{
	static struct sh_vars v = { var_get, NULL, 0 };

	v.last_status = sh->last_status;
	return &v;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Parses and runs one line, with the hooks around it. */
static void run_line(struct dhish *sh, const char *line)
{
	const struct dhish_hooks *h = &sh->cfg->hooks;
	struct sh_error err;
	struct sh_list *l;
	char cwd[PATH_MAX];
	double t0;

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "?");
	/* every line is handed to the audit before it runs, refused ones included */
	if (h->line)
		h->line(line, cwd, h->arg);
	t0 = now();
	l = sh_parse(line, &err);
	if (!l) {
		sh_error("%s", err.msg);
		sh->last_status = 2;
	} else {
		sh_run_list(sh, l);
		sh_list_free(l);
	}
	if (h->done)
		h->done(line, sh->last_status, now() - t0, h->arg);
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

/* --- completion: command names from PATH and the builtins; file names after --- */

static char **cmd_matches;
static size_t cmd_n, cmd_cap;

static void add_match(const char *name)
{
	for (size_t i = 0; i < cmd_n; i++)
		if (strcmp(cmd_matches[i], name) == 0)
			return;
	if (cmd_n == cmd_cap) {
		cmd_cap = cmd_cap ? cmd_cap * 2 : 256;
		cmd_matches = xrealloc(cmd_matches, cmd_cap * sizeof(char *));
	}
	cmd_matches[cmd_n++] = xstrdup(name);
}

static void collect_commands(const char *prefix)
{
	const char *path = getenv("PATH");
	char *dirs = xstrdup(path ? path : ""), *save = NULL;
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < cmd_n; i++)
		free(cmd_matches[i]);
	cmd_n = 0;
	for (int i = 0; sh_builtin_names[i]; i++)
		if (strncmp(sh_builtin_names[i], prefix, plen) == 0)
			add_match(sh_builtin_names[i]);
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		DIR *dir = opendir(d);
		struct dirent *de;

		while (dir && (de = readdir(dir))) {
			char p[PATH_MAX];
			struct stat st;

			if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, plen) != 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", d, de->d_name);
			if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
				add_match(de->d_name);
		}
		if (dir)
			closedir(dir);
	}
	free(dirs);
}

static char *command_generator(const char *text, int state)
{
	static size_t next;

	if (state == 0) {
		collect_commands(text);
		next = 0;
	}
	return next < cmd_n ? xstrdup(cmd_matches[next++]) : NULL;
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	/* the first word of the line, or after | ; && ||: a command */
	for (int i = start - 1; i >= 0; i--) {
		char c = rl_line_buffer[i];

		if (c == ' ' || c == '\t')
			continue;
		if (c != '|' && c != ';' && c != '&')
			return NULL;	/* an argument: readline completes file names */
		break;
	}
	return rl_completion_matches(text, command_generator);
}

/* --- prompt and terminal --- */

static char *prompt(struct dhish *sh)
{
	char cwd[PATH_MAX];
	dhi_autofree char *safe = NULL;

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "?");
	/* a directory name is the container's: never escape sequences on the operator's terminal */
	safe = dhi_printable(cwd);
	return xasprintf("[dhidebug %s %s] %s %c ", sh->cfg->target, sh->cfg->profile, safe,
			 geteuid() == 0 ? '#' : '$');
}

static bool toolbox_describes(const char *term)
{
	static const char *const dirs[] = { "/.dhi/lib/terminfo", "/.dhi/usr/share/terminfo",
					    "/.dhi/etc/terminfo", NULL };

	if (!term || !*term || strchr(term, '/') || strstr(term, ".."))
		return false;
	for (int i = 0; dirs[i]; i++) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/%c/%s", dirs[i], term[0], term);
		if (access(p, R_OK) == 0)
			return true;
	}
	return false;
}

static void on_sigint(int sig)
{
	(void)sig;
	/* at the prompt: drop the line and start a new one, as other shells do */
	if (write(STDOUT_FILENO, "\n", 1) < 0) {
		/* nothing to do */
	}
	rl_on_new_line();
	rl_replace_line("", 0);
	rl_redisplay();
}

static void setup_terminal(struct dhish *sh)
{
	static const int ignored[] = { SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, 0 };
	const struct dhish_config *c = sh->cfg;
	struct sigaction sa = { .sa_handler = on_sigint, .sa_flags = SA_RESTART };
	const char *term = getenv("TERM");

	for (int i = 0; ignored[i]; i++)
		signal(ignored[i], SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sh->tty = STDIN_FILENO;
	sh->pgid = getpgrp();
	tcsetpgrp(sh->tty, sh->pgid);
	tcgetattr(sh->tty, &sh->modes);

	setenv("TERMINFO_DIRS", TOOLBOX_TERMINFO, 1);
	setenv("INPUTRC", NO_INPUTRC, 1);
	rl_readline_name = "dhish";
	rl_catch_signals = 0;
	rl_terminal_name = toolbox_describes(term) ? term : "dumb";
	rl_attempted_completion_function = complete;
	rl_initialize();
	unsetenv("INPUTRC");
	/* the operator's own key bindings, read on the host: emacs or vi mode and the rest */
	for (int i = 0; c->inputrc && c->inputrc[i]; i++) {
		char *l = xstrdup(c->inputrc[i]);

		if (l[0] && l[0] != '#' && l[0] != '$')
			rl_parse_and_bind(l);
		free(l);
	}
	for (int i = 0; c->history && c->history[i]; i++)
		add_history(c->history[i]);
}

int dhish_run(const struct dhish_config *cfg)
{
	struct dhish *sh = &shell;

	memset(sh, 0, sizeof(*sh));
	sh->cfg = cfg;
	sh->tty = -1;
	clearenv();
	for (int i = 0; cfg->env && cfg->env[i]; i++)
		putenv(xstrdup(cfg->env[i]));
	signal(SIGPIPE, SIG_IGN);	/* writing to a closed pipe is an error, not a death */

	if (cfg->command) {
		/* a -c text of several lines runs as those lines, each audited on its own */
		char *text = xstrdup(cfg->command), *save = NULL;

		for (char *l = strtok_r(text, "\n", &save); l && !sh->exiting;
		     l = strtok_r(NULL, "\n", &save))
			if (!blank(l))
				run_line(sh, l);
		free(text);
		return sh->exiting ? sh->exit_status : sh->last_status;
	}

	sh->interactive = isatty(STDIN_FILENO);
	if (sh->interactive)
		setup_terminal(sh);
	while (!sh->exiting) {
		char *line = NULL;

		if (sh->interactive) {
			char *p = prompt(sh);

			line = readline(p);
			free(p);
		} else {
			size_t cap = 0;

			if (getline(&line, &cap, stdin) < 0) {
				free(line);
				line = NULL;
			} else {
				line[strcspn(line, "\n")] = '\0';
			}
		}
		if (!line)
			break;	/* Ctrl-D or end of input */
		if (!blank(line)) {
			if (sh->interactive)
				add_history(line);
			run_line(sh, line);
		}
		free(line);
	}
	if (sh->interactive && !sh->exiting) {
		/* Ctrl-D: the operator is done, which is not a failure of the last command */
		fputs("exit\n", stdout);
		return 0;
	}
	return sh->exiting ? sh->exit_status : sh->last_status;
}
