/* SPDX-License-Identifier: Apache-2.0 */
/* kcp.h - `kubectl dhidebug cp`: a copy carried over the attach, recorded on the operator's side. */
#ifndef DHI_KUBE_KCP_H
#define DHI_KUBE_KCP_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"

/* The two operands: which is the pod's, and which way. */
struct kube_cp_spec {
	bool out;		/* POD:PATH DEST (else SRC POD:PATH) */
	char *namespace;	/* NS of NS/POD:PATH; NULL: -n or the context's */
	char *pod;
	char *cpath;		/* the path in the container, absolute */
	char *hpath;		/* the operator's path */
	/* a copy in: where the pod's dhidebug unpacks (kube_cp_parse fills them) */
	char *in_dir;		/* the pod's directory the stream goes into */
	char *in_name;		/* the stream's top entry there */
};

/*
 * Splits `src` and `dst`: exactly one is `[NAMESPACE/]POD:PATH`, a word whose
 * part before its first `:` is one or two DNS names (so `./a:b` and `/x:y` are
 * the operator's paths); PATH must be absolute and not `/`. For a copy in, a
 * PATH that ends in `/` is a directory of the pod the source goes into under
 * its own name, any other PATH the source's new name (its parent must exist):
 * nothing of the pod is asked before the copy, so where a file lands is known
 * and recorded before it is sent. Fills *s (free with kube_cp_spec_free).
 */
int kube_cp_parse(const char *src, const char *dst, struct kube_cp_spec *s,
		  struct dhi_err **err);
void kube_cp_spec_free(struct kube_cp_spec *s);

/*
 * The container command of a copy: out `dhidebug cp --profile P [-a] [--force]
 * --wait-stdin TARGET:PATH -` (the tar stream on stdout once the plugin's byte
 * arrives: nothing is written before the attach reads), in `dhidebug cp
 * --profile P [-a] [--force] - TARGET:DIR` (the stream from stdin).
 */
json_t *kube_cp_command(const struct kube_cp_spec *s, const char *profile, const char *target,
			bool archive, bool force);

struct kube_cp_opts {
	bool archive;		/* -a */
	bool force;		/* -f, --force: what exists at the destination is replaced */
	bool quiet;		/* -q */
	const char *manifest;	/* --manifest FILE (the operator's side), or NULL */
};

struct kube_cp;

/*
 * The operator's side, opened before anything is created in the cluster: a
 * copy out's destination (cp(1): into DEST when it is a directory, else DEST
 * itself; what is there is refused without `force`), a copy in's source.
 */
struct kube_cp *kube_cp_prepare(const struct kube_cp_spec *s, const struct kube_cp_opts *o,
				struct dhi_err **err);

/*
 * The recording in `dir/<id>/` (NULL: not recorded): session.start is `start`
 * (consumed; "kind": "copy", the session id, the operator's local fields
 * merged into its `operator` and the version are added), then copy.start
 * naming `target` (kubernetes://NS/POD/CONTAINER), both fsync'ed.
 */
int kube_cp_record(struct kube_cp *k, const char *dir, json_t *start, const char *target,
		   struct dhi_err **err);

/*
 * Runs argv (`kubectl attach -i …`) with pipes for its stdin and stdout (its
 * stderr is ours: the pod's dhidebug speaks there) and carries the copy: out,
 * one byte to start, then the tar stream from its stdout unpacked into the
 * destination (tarin.h: every member below the top entry, hashed as it is
 * written, a copy.file each); in, the source walked into a tar stream on its
 * stdin (walk.h, hashed as it streams), which is closed at the end. Ctrl-C,
 * SIGTERM, SIGHUP and SIGQUIT end kubectl (its process group) and the copy;
 * *stopped_by is the signal, 0 when none came. *kstatus is kubectl's exit
 * status. -1 with *err when the copy failed on this side.
 */
int kube_cp_stream(struct kube_cp *k, char *const argv[], int *kstatus, int *stopped_by,
		   struct dhi_err **err);

/*
 * Ends the copy: copy.end (status ok, or failed with `failure`) and
 * session.end (`status`), fsync'ed; the manifest written, or removed when
 * the copy failed; one summary line on stderr unless quiet. Frees `k`.
 */
void kube_cp_end(struct kube_cp *k, const char *failure, int status);

#endif
