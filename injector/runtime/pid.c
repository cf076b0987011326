// SPDX-License-Identifier: Apache-2.0
/* pid.c - pid://PID: a process on the host, no runtime involved. */
#include <errno.h>
#include <stdlib.h>

#include "common/xalloc.h"
#include "injector/runtime/adapter.h"

static int pid_probe(const struct rt_opts *opts, struct dhi_err **err)
{
	return 1;
}

static int pid_lookup(const char *id, const struct rt_opts *opts, struct rt_list *out,
		      struct dhi_err **err)
{
	struct rt_target t = { 0 };
	char *end;
	long pid;

	errno = 0;
	pid = strtol(id, &end, 10);
	if (errno || end == id || *end || id[0] == '-' || id[0] == '+' || pid <= 0 ||
	    pid > (long)RT_PID_MAX)
		return dhi_err_set(err, 0, "invalid pid `%s`", id);
	t.runtime = xstrdup("pid");
	t.id = xstrdup(id);
	t.name = xstrdup(id);
	t.pid = (pid_t)pid;
	t.state = xstrdup("running");
	rt_list_push(out, &t);
	return 0;
}

/* Not in a bare search (a number is a pid only when written pid://N) nor in `ls`. */
const struct rt_adapter rt_pid_adapter = { "pid", false, NULL, pid_probe, pid_lookup, NULL };
