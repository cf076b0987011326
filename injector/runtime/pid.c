// SPDX-License-Identifier: Apache-2.0
/* pid.c - pid://PID: a process on the host, no runtime involved. */
#include <errno.h>
#include <stdlib.h>

#include "common/xalloc.h"
#include "injector/runtime/runtime.h"

int rt_pid_lookup(const char *id, const struct rt_opts *opts, struct rt_target *out,
		  struct dhi_err **err)
{
	char *end;
	long pid;

	(void)opts;
	errno = 0;
	pid = strtol(id, &end, 10);
	if (errno || end == id || *end || pid <= 0 || pid > (1L << 22))
		return dhi_err_set(err, 0, "invalid pid `%s`", id);
	out->runtime = xstrdup("pid");
	out->id = xstrdup(id);
	out->name = xstrdup(id);
	out->pid = (pid_t)pid;
	return 0;
}
