/* SPDX-License-Identifier: Apache-2.0 */
/* cleanup.h - scope-bound cleanup for memory, fds and FILEs (__attribute__((cleanup))). */
#ifndef DHI_CLEANUP_H
#define DHI_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void dhi_freep(void *p)
{
	free(*(void **)p);
}

static inline void dhi_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

static inline void dhi_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define dhi_autofree __attribute__((cleanup(dhi_freep)))
#define dhi_autoclose __attribute__((cleanup(dhi_closep)))
#define dhi_autofclose __attribute__((cleanup(dhi_fclosep)))

/* Hands a pointer out of an auto-freed variable. */
static inline void *dhi_steal_ptr_impl(void **pp)
{
	void *p = *pp;

	*pp = NULL;
	return p;
}
#define dhi_steal_ptr(pp) dhi_steal_ptr_impl((void **)(pp))

/* Hands an fd out of an auto-closed variable. */
static inline int dhi_steal_fd(int *fd)
{
	int r = *fd;

	*fd = -1;
	return r;
}

/* Closes an fd early and marks it closed. */
static inline void dhi_close_reset(int *fd)
{
	dhi_closep(fd);
	*fd = -1;
}

#endif
