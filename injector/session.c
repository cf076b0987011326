// SPDX-License-Identifier: Apache-2.0
/* session.c - the message channel between the session's processes and the supervisor. */
#include "injector/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/fdio.h"

void session_msg_send(int fd, char kind, const char *fmt, ...)
{
	char buf[SESSION_MSG_MAX];
	va_list ap;
	int n;

	if (fd < 0)
		return;
	buf[0] = kind;
	va_start(ap, fmt);
	n = vsnprintf(buf + 1, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n + 1] = '\0';
	/* one write, NUL-terminated: messages from several processes never interleave */
	if (fd_write_all(fd, buf, (size_t)n + 2) < 0) {
		/* the supervisor is gone; nobody is left to tell */
	}
}

void session_child_fail(int msgfd, struct dhi_err *err)
{
	char *s = dhi_err_string(err);
	int status = err->status ? err->status : 125;

	session_msg_send(msgfd, SESSION_MSG_ERROR, "%s", s);
	free(s);
	_exit(status);
}
