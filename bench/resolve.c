// SPDX-License-Identifier: Apache-2.0
/*
 * resolve: what `dhidebug NAME` does before it enters anything - find NAME in every runtime -
 * as a program of its own, linked like dhidebug, so bench/runtimes can time it alone.
 *
 *   resolve [--containerd-root DIR] [--crio-root DIR] [--runtime-root DIR] TARGET
 *
 * Prints the runtime://id and pid found; exits 0, or 1 with dhidebug's error message.
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "injector/runtime/runtime.h"

int main(int argc, char **argv)
{
	struct rt_opts o = { 0 };
	struct dhi_err *err = NULL;
	struct rt_target t;
	int i;

	for (i = 1; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--containerd-root") == 0)
			o.containerd_root = argv[i + 1];
		else if (strcmp(argv[i], "--crio-root") == 0)
			o.crio_root = argv[i + 1];
		else if (strcmp(argv[i], "--runtime-root") == 0)
			o.runtime_root = argv[i + 1];
		else
			break;
	}
	if (i != argc - 1) {
		fputs("usage: resolve [--containerd-root DIR] [--crio-root DIR] [--runtime-root DIR] "
		      "TARGET\n",
		      stderr);
		return 2;
	}
	if (rt_resolve(argv[i], &o, &t, &err) < 0) {
		dhi_err_print(err, "resolve");
		dhi_err_clear(&err);
		return 1;
	}
	printf("%s://%s %d\n", t.runtime, t.id, (int)t.pid);
	rt_target_free(&t);
	return 0;
}
