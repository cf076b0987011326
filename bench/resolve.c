// SPDX-License-Identifier: Apache-2.0
/*
 * resolve: what `dhidebug NAME` does before it enters anything - find NAME in every runtime -
 * as a program of its own, linked like dhidebug, so bench/runtimes can time it alone.
 *
 *   resolve [--times N] [--containerd-root DIR] [--crio-root DIR] [--runtime-root DIR] TARGET
 *
 * Prints the runtime://id and pid found; exits 0, or 1 with dhidebug's error message.
 * --times N: resolves TARGET N more times after the first and prints each of those calls'
 * time in nanoseconds, one per line, after the result: the lookup alone, without the
 * program's start. A TARGET that is not found is timed all the same (its message is
 * printed once; the exit status is still 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "injector/runtime/runtime.h"

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct rt_opts o = { 0 };
	struct dhi_err *err = NULL;
	struct rt_target t;
	long times = 0;
	int i, r;

	for (i = 1; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--containerd-root") == 0)
			o.containerd_root = argv[i + 1];
		else if (strcmp(argv[i], "--crio-root") == 0)
			o.crio_root = argv[i + 1];
		else if (strcmp(argv[i], "--runtime-root") == 0)
			o.runtime_root = argv[i + 1];
		else if (strcmp(argv[i], "--times") == 0)
			times = strtol(argv[i + 1], NULL, 10);
		else
			break;
	}
	if (i != argc - 1 || times < 0) {
		fputs("usage: resolve [--times N] [--containerd-root DIR] [--crio-root DIR] "
		      "[--runtime-root DIR] TARGET\n",
		      stderr);
		return 2;
	}
	r = rt_resolve(argv[i], &o, &t, &err);
	if (r < 0) {
		dhi_err_print(err, "resolve");
		dhi_err_clear(&err);
	} else {
		printf("%s://%s %d\n", t.runtime, t.id, (int)t.pid);
		rt_target_free(&t);
	}
	for (long k = 0; k < times; k++) {
		long long t0 = now_ns();

		if (rt_resolve(argv[i], &o, &t, &err) < 0)
			dhi_err_clear(&err);
		else
			rt_target_free(&t);
		printf("%lld\n", now_ns() - t0);
	}
	return r < 0 ? 1 : 0;
}
