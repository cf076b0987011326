// SPDX-License-Identifier: Apache-2.0
/*
 * tbresolve.c - times dhidebug's toolbox resolution from the cache alone (what
 * `--toolbox REF` or the rule costs once the toolbox is cached), linked as
 * dhidebug is. Prints one duration in microseconds per line.
 *   tbresolve CACHE-DIR REF RUNS
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "toolbox/cache.h"

int main(int argc, char **argv)
{
	struct cache_opts o = { .quiet = true };
	struct dhi_err *err = NULL;
	int runs;

	if (argc != 4) {
		fprintf(stderr, "usage: tbresolve CACHE-DIR REF RUNS\n");
		return 2;
	}
	o.dir = argv[1];
	runs = atoi(argv[3]);
	for (int i = 0; i < runs; i++) {
		struct timespec a, b;
		char *path = NULL;

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (cache_resolve(&o, argv[2], false, &path, &err) < 0) {
			dhi_err_print(err, "tbresolve");
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%.1f\n", (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3);
		free(path);
	}
	return 0;
}
