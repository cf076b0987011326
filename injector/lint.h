/* SPDX-License-Identifier: Apache-2.0 */
/* lint.h - dhidebug lint: the DHI migration checks on a running target or an image. */
#ifndef INJ_LINT_H
#define INJ_LINT_H

#include <stdbool.h>
#include <stdio.h>

#include "common/err.h"
#include "injector/runtime/runtime.h"
#include "injector/toolbox_cmd.h"

/* What `dhidebug lint` was asked (injector/cmd/lint.c fills it). */
struct lint_opts {
	const char *target;		/* TARGET or image://REF */
	struct rt_opts ro;		/* --runtime-root, --containerd-root, --crio-root */
	struct toolbox_args tb;		/* image://: the cache it is pulled into */
	bool json;			/* --json */
	bool quiet;			/* -q */
	bool allow_host;		/* --allow-host */
};

/*
 * Checks the target (TARGET, or image://REF pulled into the toolbox cache)
 * and prints one verdict per check with a fix hint (as a JSON object with
 * --json). Returns 1 when a check failed, 0 when none did, or -1 with *err
 * when the target or image cannot be read.
 */
int lint_run(const struct lint_opts *o, FILE *out, struct dhi_err **err);

/*
 * The part of lint that needs no root, for unit tests: parses the ELF file
 * open at `fd`. On success *interp is its PT_INTERP (NULL when static) and
 * *needed its DT_NEEDED names (NULL-terminated; NULL when none); *runpath is
 * DT_RUNPATH or DT_RPATH (NULL when none). The caller frees all of them.
 * Hostile input: every offset is checked against the file's size.
 */
int lint_elf_read(int fd, char **interp, char ***needed, char **runpath, unsigned *machine,
		  struct dhi_err **err);

#endif
