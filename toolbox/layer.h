/* SPDX-License-Identifier: Apache-2.0 */
/* layer.h - verify and unpack OCI image layers (tar, tar+gzip, tar+zstd) into a root. */
#ifndef TB_LAYER_H
#define TB_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * A source of bytes: a registry download, a file of an OCI layout, a member of
 * a docker-archive. read() points *buf at the next bytes (valid until the next
 * call) and returns their count, 0 at the end, or -1 with *err set.
 */
struct layer_src {
	ssize_t (*read)(void *ctx, const void **buf, struct dhi_err **err);
	void *ctx;
};

/* SHA-256 over a stream, for blobs that are not layers (manifests, configs). */
struct layer_hash;
struct layer_hash *layer_hash_new(void);
void layer_hash_update(struct layer_hash *h, const void *buf, size_t len);
/* "sha256:<hex>" of everything so far (the caller frees it); frees h. */
char *layer_hash_end(struct layer_hash *h);
/* "sha256:<hex>" of <buf, len> (the caller frees it). */
char *layer_sha256(const void *buf, size_t len);

struct layer_stats {
	unsigned long long entries;	/* entries applied */
	unsigned long long bytes;	/* compressed bytes read (what the digest covers) */
	unsigned long long skipped;	/* device nodes and other refused-but-harmless entries */
	unsigned long long headers;	/* tar entries read, whiteouts included */
	unsigned long long unpacked;	/* file data written plus LAYER_ENTRY_COST an entry */
	bool over_cap;			/* stopped at `max_unpacked` or `max_entries` */
};

/* What an entry costs the unpacked budget besides its data: its tar header, about an inode. */
#define LAYER_ENTRY_COST 512ULL

/* What a layer must be, and the most it may take. */
struct layer_want {
	const char *digest;	/* "sha256:<hex>"; NULL for a tar that has none */
	long long size;		/* the descriptor's: one byte more is an error; -1: unknown */
	unsigned long long max_unpacked; /* st->unpacked may not pass it; 0: no cap */
	unsigned long long max_entries;	/* tar entries, whiteouts included; 0: no cap */
};

/*
 * Unpacks one layer read from `src` into the directory `rootfd`, as the OCI
 * image spec's changeset rules say: later entries replace earlier ones,
 * `.wh.<name>` deletes <name> and `.wh..wh..opq` empties its directory of what
 * lower layers put there, hard links are linked inside the root. Every create
 * goes through openat2(RESOLVE_IN_ROOT) (common/path.h) with a final
 * component that is never followed, so `..`, absolute symlinks and hard links
 * cannot reach outside `rootfd`; `..` components and absolute names in the
 * archive are refused outright (the pull fails), device nodes are skipped.
 * The compression (none, gzip, zstd) is detected from the data.
 *
 * The stream is hashed as it is read, read to its end (but never past
 * `w->size`: a longer stream is an error at the first byte too many), and
 * compared with `w->digest`: a mismatch is an error, and the caller must then
 * throw the whole root away (what was written came from unverified bytes).
 * The budget is checked before every write: a layer that would pass
 * `w->max_unpacked` bytes or `w->max_entries` entries stops there with
 * st->over_cap set (a gzip bomb writes no more than the cap). `progress`,
 * when not NULL, is called with the bytes read so far.
 */
int layer_unpack_at(int rootfd, struct layer_src *src, const struct layer_want *w,
		    void (*progress)(void *arg, unsigned long long bytes), void *arg,
		    struct layer_stats *st, struct dhi_err **err);

/* Removes `name` below the directory `dirfd`, recursively, never following symlinks. */
int layer_remove_at(int dirfd, const char *name, struct dhi_err **err);

#endif
