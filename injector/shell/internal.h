/* SPDX-License-Identifier: Apache-2.0 */
/* internal.h - what dhish's files share; not for use outside injector/shell/. */
#ifndef SH_INTERNAL_H
#define SH_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>

#include "injector/shell/lang.h"
#include "injector/shell/shell.h"

struct dhish {
	const struct dhish_config *cfg;
	int last_status;
	bool interactive;	/* reading from a terminal: job control, readline */
	int tty;		/* the controlling terminal, -1 without one */
	pid_t pgid;		/* dhish's own process group */
	struct termios modes;	/* the terminal as dhish left it, restored after each job */
	bool exiting;		/* `exit` was run */
	int exit_status;
};

/* builtins.c */
typedef int (*sh_builtin_fn)(struct dhish *sh, char **argv);
sh_builtin_fn sh_builtin_find(const char *name);
/* Names of the builtins, NULL-terminated (for completion and `help`). */
extern const char *const sh_builtin_names[];

/* exec.c: runs a parsed line; returns its status (also left in sh->last_status). */
int sh_run_list(struct dhish *sh, const struct sh_list *l);

/* dhish.c: the variables expansion sees. */
const struct sh_vars *sh_vars_of(struct dhish *sh);

/* Prints "dhish: <msg>" on stderr. */
void sh_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
