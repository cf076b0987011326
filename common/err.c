// SPDX-License-Identifier: Apache-2.0
/* err.c - the error object: set, prefix, print once. */
#include "common/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

__attribute__((format(printf, 4, 0))) static int err_vset(struct dhi_err **err, int status,
							   int errnum, const char *fmt, va_list ap)
{
	char *msg = xvasprintf(fmt, ap);

	if (*err) {
		free((*err)->msg);
	} else {
		*err = xmalloc(sizeof(**err));
	}
	(*err)->errnum = errnum;
	(*err)->status = status;
	(*err)->msg = msg;
	return -1;
}

int dhi_err_set(struct dhi_err **err, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, 0, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int dhi_err_set_status(struct dhi_err **err, int status, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, status, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int dhi_err_prefix(struct dhi_err **err, const char *fmt, ...)
{
	va_list ap;
	char *prefix, *msg;

	if (!*err)
		return -1;
	va_start(ap, fmt);
	prefix = xvasprintf(fmt, ap);
	va_end(ap);
	msg = xasprintf("%s: %s", prefix, (*err)->msg);
	free(prefix);
	free((*err)->msg);
	(*err)->msg = msg;
	return -1;
}

void dhi_err_clear(struct dhi_err **err)
{
	if (!*err)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

char *dhi_err_string(const struct dhi_err *err)
{
	if (err->errnum)
		return xasprintf("%s: %s", err->msg, strerror(err->errnum));
	return xstrdup(err->msg);
}

int dhi_err_print(const struct dhi_err *err, const char *prog)
{
	char *s = dhi_err_string(err);

	fprintf(stderr, "%s: %s\n", prog, s);
	free(s);
	return err->status ? err->status : 125;
}
