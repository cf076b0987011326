/* SPDX-License-Identifier: Apache-2.0 */
/* imagetarget.h - image://REF as a session target: a holder process in fresh namespaces. */
#ifndef INJ_IMAGETARGET_H
#define INJ_IMAGETARGET_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"
#include "injector/toolbox_cmd.h"
#include "injector/runtime/runtime.h"

struct image_target {
	pid_t keeper;	/* our child, in the host's pid namespace; its child is the holder */
	pid_t holder;	/* the holder (PID 1 of the image's namespaces) as the host sees it */
};

/* True for `image://…`. */
bool image_target_is(const char *spec);

/*
 * Pulls the image `ref` (of `image://REF`) into the toolbox cache (or finds it there)
 * and starts a holder: PID 1 of fresh mount, pid, network (loopback only;
 * none of its own with `host_net`, --net host), UTS and IPC namespaces, whose root is an
 * overlay of the image's cached root under a tmpfs (so nothing reaches the
 * cache) with /proc and a minimal /dev. Fills *rt as rt_resolve() would
 * (runtime "image", pid = the holder, proc = the image config's Env, User and
 * WorkingDir), for the session to attach to. The holder dies with us; image_target_stop()
 * ends it earlier.
 */
int image_target_start(const char *ref, const struct toolbox_args *ta, bool host_net,
		       struct image_target *it, struct rt_target *rt, struct dhi_err **err);

/*
 * A container whose process has exited (rt_resolve() with opts.stopped gave
 * rt->exited and rt->fs): the same holder on its files, its writable layer
 * included, under an overlay whose writes are discarded, or writing to the
 * container's own files with `write` (--write); `host_net` as for images. Podman mounts the files for us
 * (and unmounts them once the holder has its own copy of the mount). On
 * success rt->pid is the holder's.
 */
int stopped_target_start(bool write, bool host_net, struct image_target *it, struct rt_target *rt,
			 struct dhi_err **err);

/* Kills the holder and reaps the keeper, which reaps the holder: both are gone on return. */
void image_target_stop(struct image_target *it);

#endif
