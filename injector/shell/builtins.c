// SPDX-License-Identifier: Apache-2.0
/* builtins.c - dhish's builtins: cd, pwd, exit, export, unset, env, history, help, toolbox. */
#include <errno.h>
#include <limits.h>
#include <readline/history.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "injector/shell/internal.h"

extern char **environ;

static int b_cd(struct dhish *sh, char **argv)
{
	const char *dir = argv[1] ? argv[1] : getenv("HOME");
	char cwd[PATH_MAX];

	(void)sh;
	if (argv[1] && argv[2]) {
		sh_error("cd: too many arguments");
		return 2;
	}
	if (!dir || chdir(dir) < 0) {
		dhi_autofree char *safe = dhi_printable(dir ? dir : "");

		sh_error("cd: `%s`: %s", safe, dir ? strerror(errno) : "HOME is not set");
		return 1;
	}
	if (getcwd(cwd, sizeof(cwd)))
		setenv("PWD", cwd, 1);
	return 0;
}

static int b_pwd(struct dhish *sh, char **argv)
{
	char cwd[PATH_MAX];

	(void)sh;
	(void)argv;
	if (!getcwd(cwd, sizeof(cwd))) {
		sh_error("pwd: %s", strerror(errno));
		return 1;
	}
	printf("%s\n", cwd);
	return 0;
}

static int b_exit(struct dhish *sh, char **argv)
{
	char *end;
	long v = sh->last_status;

	if (argv[1]) {
		v = strtol(argv[1], &end, 10);
		if (*end || end == argv[1]) {
			sh_error("exit: `%s`: a number is required", argv[1]);
			v = 2;
		}
	}
	sh->exiting = true;
	sh->exit_status = (int)(v & 0xff);
	return sh->exit_status;
}

static int b_export(struct dhish *sh, char **argv)
{
	int ret = 0;

	(void)sh;
	if (!argv[1]) {
		for (char **e = environ; e && *e; e++)
			printf("export %s\n", *e);
		return 0;
	}
	for (int i = 1; argv[i]; i++) {
		char *eq = strchr(argv[i], '=');
		char name[256];
		size_t n = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);

		if (n >= sizeof(name)) {
			sh_error("export: `%s`: not a valid name", argv[i]);
			ret = 1;
			continue;
		}
		memcpy(name, argv[i], n);
		name[n] = '\0';
		if (!sh_valid_name(name)) {
			sh_error("export: `%s`: not a valid name", name);
			ret = 1;
			continue;
		}
		/* every dhish variable is in the environment already; NAME alone is a no-op */
		if (eq && setenv(name, eq + 1, 1) < 0) {
			sh_error("export: %s", strerror(errno));
			ret = 1;
		}
	}
	return ret;
}

static int b_unset(struct dhish *sh, char **argv)
{
	int ret = 0;

	(void)sh;
	for (int i = 1; argv[i]; i++) {
		if (!sh_valid_name(argv[i])) {
			sh_error("unset: `%s`: not a valid name", argv[i]);
			ret = 1;
			continue;
		}
		unsetenv(argv[i]);
	}
	return ret;
}

static int b_env(struct dhish *sh, char **argv)
{
	(void)sh;
	if (argv[1]) {
		/* `env PROG` would run a program past dhish's checks */
		sh_error("env: running a program through `env` is not supported; use "
			 "`export NAME=VALUE` then the program");
		return 2;
	}
	for (char **e = environ; e && *e; e++)
		printf("%s\n", *e);
	return 0;
}

static int b_history(struct dhish *sh, char **argv)
{
	HIST_ENTRY **h = history_list();

	(void)sh;
	(void)argv;
	for (int i = 0; h && h[i]; i++)
		printf("%5d  %s\n", i + history_base, h[i]->line);
	return 0;
}

static int b_help(struct dhish *sh, char **argv)
{
	(void)argv;
	printf("dhish: the restricted shell of a dhidebug session (profile `%s`)\n\n"
	       "What it runs is what you type: simple commands, pipelines (|), lists (; && ||),\n"
	       "redirections (< > >> 2> 2>&1 &>), quotes ('…' \"…\" \\), $VAR ${VAR} $?, globs,\n"
	       "and # comments. No scripts, loops, functions, eval, background jobs or\n"
	       "command substitution.\n\nBuiltins:",
	       sh->cfg->profile);
	for (int i = 0; sh_builtin_names[i]; i++)
		printf(" %s", sh_builtin_names[i]);
	printf("\n\nThe container's files are at /target (and at their own paths in the union\n"
	       "view); the toolbox is /.dhi; /.dhi-scratch is yours to write. `toolbox` says more.\n");
	return 0;
}

static int b_toolbox(struct dhish *sh, char **argv)
{
	const struct dhish_config *c = sh->cfg;

	(void)argv;
	printf("target:   %s\ntoolbox:  %s (mounted read-only at /.dhi)\nview:     %s\n"
	       "profile:  %s%s\n",
	       c->target, c->toolbox, c->view, c->profile,
	       c->exec_anywhere ? "" : " (programs run from the toolbox only)");
	return 0;
}

static const struct {
	const char *name;
	sh_builtin_fn fn;
} builtins[] = {
	{ "cd", b_cd },		  { "pwd", b_pwd },	    { "exit", b_exit },
	{ "export", b_export },	  { "unset", b_unset },	    { "env", b_env },
	{ "history", b_history }, { "help", b_help },	    { "toolbox", b_toolbox },
	{ NULL, NULL },
};

const char *const sh_builtin_names[] = { "cd",	    "pwd",  "exit",    "export", "unset",
					 "env",	    "history", "help", "toolbox", NULL };

sh_builtin_fn sh_builtin_find(const char *name)
{
	for (int i = 0; builtins[i].name; i++)
		if (strcmp(builtins[i].name, name) == 0)
			return builtins[i].fn;
	return NULL;
}
