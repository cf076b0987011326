/* SPDX-License-Identifier: Apache-2.0 */
/* spec.h - the two operands of `dhidebug cp`: which is the container's, and which way. */
#ifndef CP_SPEC_H
#define CP_SPEC_H

#include "common/err.h"

enum copy_dir {
	COPY_OUT,	/* TARGET:PATH HOST: from the container to the host */
	COPY_IN,	/* HOST TARGET:PATH: from the host into the container */
};

struct copy_spec {
	enum copy_dir dir;
	char *target;		/* TARGET (runc://ID, podman://NAME, image://REF, a bare name) */
	char *cpath;		/* PATH inside the container, always absolute */
	char *hpath;		/* the host operand; "-" for a tar stream (stdout or stdin) */
};

/*
 * Splits `src` and `dst`: exactly one of them is TARGET:PATH. A word is the
 * container's when it has a `:` before any `/` (so `./a:b` and `/x:y` are host
 * paths), or starts with a scheme and has a `:` after it (`runc://id:/p`,
 * `containerd://ns/id:/p`: TARGET is up to that `:`; for `image://REF`, whose
 * REF has colons of its own, up to the first `:/`, and PATH is absolute).
 * PATH must not be empty; a relative PATH is taken from the container's `/`.
 * Fills *out (the caller frees it with copy_spec_free()).
 */
int copy_spec_parse(const char *src, const char *dst, struct copy_spec *out,
		    struct dhi_err **err);

void copy_spec_free(struct copy_spec *s);

#endif
