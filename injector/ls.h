/* SPDX-License-Identifier: Apache-2.0 */
/* ls.h - `dhidebug ls`: the containers of every runtime, and whether each can be debugged. */
#ifndef INJ_LS_H
#define INJ_LS_H

#include <stdbool.h>
#include <stdio.h>

#include "common/err.h"
#include "injector/runtime/runtime.h"

/*
 * Prints every container of every runtime present to `out`, as a table or
 * (json) as one JSON array of objects. A runtime that cannot be listed does
 * not stop the others; the output is still complete and valid for the rest,
 * and then -1 is returned with err naming each runtime that failed.
 */
int ls_run(const struct rt_opts *opts, bool json, FILE *out, struct dhi_err **err);

#endif
