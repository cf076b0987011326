/* SPDX-License-Identifier: Apache-2.0 */
/* cache.h - the content-addressed, read-only, locked toolbox cache. */
#ifndef TB_CACHE_H
#define TB_CACHE_H

#include <stdbool.h>
#include <stdio.h>

#include "common/err.h"
#include "toolbox/registry.h"

#define CACHE_DEFAULT_DIR "/var/lib/dhidebug/toolboxes"

/*
 * Layout under `dir` (root-owned, 0700):
 *   sha256/<hex>/rootfs/        an unpacked toolbox, keyed by its image manifest digest
 *   sha256/<hex>/manifest.json  the verified manifest, config.json its config,
 *   sha256/<hex>/meta.json      {"size": bytes, "created": epoch}
 *   refs/<reference>            "sha256:<hex>\n": what a reference pointed at when pulled
 *   tmp/                        entries being built; renamed into sha256/ only when whole
 *   locks/<hex>.lock            flock(2): one pull of a digest at a time
 */
struct cache_opts {
	const char *dir;	/* NULL: CACHE_DEFAULT_DIR */
	bool quiet;		/* no progress and no notices */
	bool json;		/* progress as JSON lines on stderr, terminal or not */
	unsigned long long max_unpacked; /* bytes an image may unpack to; 0: derived (below) */
	struct reg_opts reg;	/* reg.timeout: the pull's deadline (--pull-timeout) */
	/*
	 * A local store asked before the registry (a container engine's own
	 * images): whether it has `ref`, with its id for it in *id (a new string:
	 * the digest of the image's config, or of what its OCI archive's index
	 * points at) and the store's name in *from (a new string, or NULL); with
	 * fd >= 0 it also writes the image there as a docker-archive or an OCI
	 * archive of at most `max` bytes, which must hold that image alone.
	 * `hint` is local_hint. 1 it has it, 0 it has not, -1 error. NULL: the
	 * registry alone.
	 */
	int (*local)(const char *ref, const char *hint, char **id, int fd, unsigned long long max,
		     char **from, struct dhi_err **err);
	const char *local_hint;	/* for local: where the target's images are; NULL: unknown */
};

/*
 * The cap on what one image may unpack to (file data plus LAYER_ENTRY_COST an
 * entry), checked before every write: without --max-unpacked (or the policy's
 * `toolbox_max_unpacked`) it is CACHE_UNPACK_RATIO times the image's
 * compressed size (its layers' descriptor sizes), at least CACHE_UNPACK_MIN;
 * and in every case at most CACHE_FREE_SHARE percent of the space available
 * on the cache's filesystem when the pull starts (f_bavail: its reserve for
 * root stays untouched; and of its free inodes, for the number of entries). A pull past it fails, and its partial
 * entry is removed.
 */
#define CACHE_UNPACK_RATIO 20ULL
#define CACHE_UNPACK_MIN (64ULL << 20)
#define CACHE_FREE_SHARE 90ULL

/*
 * The cap for an image of `compressed` bytes with `configured` (0: none) given,
 * on a filesystem with `avail` bytes free; *why (a new string) says how it came
 * about, for the error that names it. Exposed for the unit tests.
 */
unsigned long long cache_unpack_cap(unsigned long long compressed, unsigned long long configured,
				    unsigned long long avail, char **why);

/*
 * Pulls `ref` (always asking the registry what it points at) unless the
 * manifest's digest is cached already; concurrent pulls of one digest download
 * it once. With o->local, a local store that has `ref` serves it instead of
 * the registry (imported as cache_import() does, and said so). On success
 * *digest_out (may be NULL) is the entry's digest.
 */
int cache_pull(const struct cache_opts *o, const char *ref, char **digest_out,
	       struct dhi_err **err);

/*
 * The rootfs directory for a reference, "sha256:<hex>" or a digest prefix:
 * from the cache when the reference is there (no network), pulled otherwise
 * when `pull` is set. *path is owned by the caller.
 */
int cache_resolve(const struct cache_opts *o, const char *ref, bool pull, char **path,
		  struct dhi_err **err);

/*
 * Imports an OCI image layout (directory or tar) or a docker-archive tar. The entry is
 * named `name` when given, else by the image's own name (RepoTags, the layout's ref.name
 * annotation); a layout that names only a tag becomes localhost/<file name>:<tag>.
 */
int cache_import(const struct cache_opts *o, const char *path, const char *name,
		 char **digest_out, struct dhi_err **err);

/*
 * Holds the entry whose rootfs cache_resolve() gave (a shared lock, for as
 * long as the returned fd is open: a session's, lint's) so that prune keeps
 * it. The fd, or -1: with err set on error, without it when `rootfs` is not
 * an entry of this cache (a toolbox directory).
 */
int cache_hold(const struct cache_opts *o, const char *rootfs, struct dhi_err **err);

/* Lists entries: reference(s), digest, size, last use; --json as an array. */
int cache_list(const struct cache_opts *o, bool json, FILE *f, struct dhi_err **err);

/* Removes the entry a reference or digest names, and every reference to it. */
int cache_remove(const struct cache_opts *o, const char *what, struct dhi_err **err);

/*
 * Removes entries no reference points at and that no pull or import holds, and
 * leftovers of interrupted pulls, printing each; with dry_run, prints what it would.
 */
int cache_prune(const struct cache_opts *o, bool dry_run, FILE *f, struct dhi_err **err);

#endif
