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

/*
 * Image `ref` in containerd's store through its ctr CLI (CONTAINERD_ADDRESS
 * passed on): 0 there, in namespace *ns with digest *id (a new string), and
 * written to fd as an OCI archive when fd >= 0; 1 no such image or no ctr,
 * -1 error.
 */
int ctr_cli_save(const char *ref, int fd, unsigned long long max, const char **ns, char **id,
		 struct dhi_err **err);

#endif
