/* SPDX-License-Identifier: Apache-2.0 */
/* history.h - the operator's side of dhish: history per target and ~/.inputrc, on the host. */
#ifndef INJ_HISTORY_H
#define INJ_HISTORY_H

#include "common/err.h"

#define HISTORY_DIR "/var/lib/dhidebug/history"
#define HISTORY_KEEP 1000

struct history {
	char **lines;	/* the last HISTORY_KEEP lines, oldest first, NULL-terminated */
	int fd;		/* the file, open for appending; -1 when it cannot be kept */
};

/*
 * Opens the history of `runtime`/`name` under `dir` (HISTORY_DIR), a file that
 * lives on the host only (mode 0600, folder 0700) and is never written into
 * the container. A history that cannot be kept is not an error: the session
 * runs without one.
 */
void history_open(const char *dir, const char *runtime, const char *name, struct history *h);

/* Appends one line (newlines in it are replaced by spaces). */
void history_append(struct history *h, const char *line);

void history_close(struct history *h);

/*
 * The operator's readline settings: the lines of $INPUTRC or ~/.inputrc on
 * the host (NULL-terminated; NULL when there is none). Read here so that the
 * shell inside the session never reads the container's /etc/inputrc.
 */
char **inputrc_load(void);

#endif
