/* SPDX-License-Identifier: Apache-2.0 */
/* shell.h - dhish, the session's restricted shell: what runs is what was typed. */
#ifndef SH_SHELL_H
#define SH_SHELL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Hooks the session gives dhish. `line` is called with every line before it
 * runs (the recording's audit consumes it, and the host keeps the history);
 * `done` after it, with its status and duration.
 */
struct dhish_hooks {
	void (*line)(const char *line, const char *cwd, void *arg);
	void (*done)(const char *line, int status, double seconds, void *arg);
	void *arg;
};

struct dhish_config {
	const char *target;		/* "runc://web", for the prompt and `toolbox` */
	const char *profile;		/* profile name */
	const char *toolbox;		/* the toolbox's reference */
	const char *view;		/* "union" or "toolbox" */
	bool allow_shells;		/* the toolbox's own shells may run as commands */
	bool exec_anywhere;		/* the profile may run the container's programs */
	const char *command;		/* -c LINE, or NULL */
	char *const *env;		/* the session's environment (an allowlist) */
	char *const *history;		/* earlier lines, oldest first (read on the host) */
	char *const *inputrc;		/* the operator's ~/.inputrc lines (read on the host) */
	struct dhish_hooks hooks;
};

/*
 * Runs dhish in the calling process (already inside the view, under the
 * profile) and returns its exit status: `-c` runs one line (a syntax error is
 * status 2), otherwise lines are read with readline on a terminal or plainly
 * from stdin, until `exit` or end of input.
 *
 * Nothing here loads files of the container: terminfo comes from the toolbox
 * (/.dhi), readline reads no inputrc of the view, history lives on the host.
 */
int dhish_run(const struct dhish_config *cfg);

#endif
