/* SPDX-License-Identifier: Apache-2.0 */
/* podmancli.h - podman's and ctr's own CLIs, run from root's paths (injector/runtime/ only). */
#ifndef RT_PODMANCLI_H
#define RT_PODMANCLI_H

#include <stddef.h>

#include "common/err.h"

/*
 * An O_PATH fd of the podman binary at a root-owned path (common/trust.h), and
 * which path: 0 found, 1 podman is not installed, -1 error (one that is there
 * but not trusted).
 */
int podman_cli_open(int *fd, const char **path, struct dhi_err **err);

/*
 * Runs podman with args (args[0] "podman", NULL-terminated), nothing on stdin,
 * within a deadline: 0 with its output in *out (at most max bytes; more is an
 * error), 1 when podman says there is no such container or object, -1 error
 * (not installed, failed: the first line of what it printed, timed out).
 */
int podman_cli_run(const char *const *args, size_t max, char **out, size_t *len,
		   struct dhi_err **err);

/*
 * `podman image save --format docker-archive REF` with its output on `fd`
 * (at most `max` bytes, within SAVE deadline): 0 saved, 1 podman has no such
 * image, -1 error.
 */
int podman_cli_save(const char *ref, int fd, unsigned long long max, struct dhi_err **err);

/* ctr's binary as podman_cli_open() finds podman's: 0 found, 1 not installed, -1 error. */
int ctr_cli_open(int *fd, struct dhi_err **err);

/*
 * Runs containerd's ctr (args[0] "ctr", NULL-terminated) as podman_cli_run()
 * runs podman, with an environment of PATH and HOME alone (the socket and the
 * namespace go in args); `what` names the command in errors. With outfd < 0:
 * 0 with its output in *out (at most max bytes), within 20 s; with outfd >= 0
 * its output is copied there instead (at most max bytes, within 10 minutes:
 * an image export). -1 error (not installed, failed with the first line of
 * its complaint, more than max bytes, timed out).
 */
int ctr_cli_run(const char *const *args, const char *what, unsigned long long max, char **out,
		size_t *len, int outfd, struct dhi_err **err);

#endif
