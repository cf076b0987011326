/* SPDX-License-Identifier: Apache-2.0 */
/* view.h - the session's private mount view: the target's files plus a read-only toolbox. */
#ifndef NS_VIEW_H
#define NS_VIEW_H

#include <stdbool.h>

#include "common/err.h"

enum view_mode {
	VIEW_AUTO,	/* union when toolbox and target are the same distribution and release */
	VIEW_UNION,	/* read-only overlay: the target's files over the toolbox */
	VIEW_TOOLBOX,	/* the toolbox as /, the target at /target */
};

/* Where things are inside every view. */
#define VIEW_TARGET_DIR "/target"
#define VIEW_TOOLBOX_DIR "/.dhi"
#define VIEW_SCRATCH_DIR "/.dhi-scratch"
/* The session's PATH where programs run from /.dhi only (the masked, noexec union). */
#define VIEW_TOOLBOX_PATH                                                                  \
	VIEW_TOOLBOX_DIR "/usr/local/sbin:" VIEW_TOOLBOX_DIR "/usr/local/bin:" VIEW_TOOLBOX_DIR \
			 "/usr/sbin:" VIEW_TOOLBOX_DIR "/usr/bin:" VIEW_TOOLBOX_DIR         \
			 "/sbin:" VIEW_TOOLBOX_DIR "/bin"

/* Parses "auto", "union" or "toolbox"; returns -1 for anything else. */
int view_mode_parse(const char *s, enum view_mode *out);
const char *view_mode_name(enum view_mode m);

struct view_spec {
	enum view_mode mode;
	bool same_release;	/* VIEW_AUTO: toolbox and target os-release match */
	const char *release_why; /* when they do not: which releases they are (or NULL) */
	int toolbox_tree;	/* from view_open_toolbox() */
	int target_root;	/* O_PATH fd of the target's root (/proc/<pid>/root) */
	int host_procself;	/* the calling process's /proc/<pid> on the host procfs */
	bool target_ro;		/* the target's files read-only everywhere in the view */
	bool target_noexec;	/* nothing of the target's files may be executed */
	/*
	 * Not NULL: the session is not confined by the target's device cgroup
	 * (--no-cgroup), so the target's /dev stays nodev like the rest of its
	 * files (a block device the container planted as /dev/null would be the
	 * host's disk), and these, from view_open_host_devices(), are bound over
	 * the entries of view_host_devices that it has.
	 */
	const int *host_devs;
};

#define VIEW_HOST_DEVS 6
/* null, zero, full, random, urandom, tty: what a session needs of /dev, harmless */
extern const char *const view_host_devices[VIEW_HOST_DEVS];

struct view_result {
	enum view_mode mode;	/* the view that was built */
	char reason[336];	/* why, for VIEW_AUTO */
	/*
	 * Where the session must find programs and libraries, when not at their
	 * usual paths: in a union whose target files may not run (the merge is
	 * noexec), the toolbox's directories under /.dhi. Empty otherwise.
	 */
	char path[256];
	char lib_path[512];
};

/*
 * Host side, before entering the target's mount namespace: makes a detached,
 * read-only, nosuid, nodev copy of the toolbox directory `toolbox_dir` (an fd)
 * with open_tree(OPEN_TREE_CLONE). *out is the tree's fd. view_build() serves
 * it to the session through an overlayfs of its own, never as this bind.
 */
int view_open_toolbox(int toolbox_dir, int *out, struct dhi_err **err);

/*
 * Host side: detached clones of the host's own /dev/<name> for each of
 * view_host_devices (character devices, checked), for view_spec.host_devs.
 */
int view_open_host_devices(int out[VIEW_HOST_DEVS], struct dhi_err **err);

/*
 * Called right after joining the target's mount namespace (and before joining
 * its user namespace). Clones the target's mounts, moves the caller into a new
 * private mount namespace, builds the view there and makes it the caller's root
 * and working directory. Nothing propagates to the target or the host, and the
 * view disappears with the last process that holds it.
 */
int view_build(const struct view_spec *spec, struct view_result *res, struct dhi_err **err);

#endif
