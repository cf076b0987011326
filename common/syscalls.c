// SPDX-License-Identifier: Apache-2.0
/* syscalls.c - wrappers for syscalls glibc does not wrap. */
#include "common/syscalls.h"

#include <sys/syscall.h>
#include <unistd.h>

int dhi_sys_openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
	return (int)syscall(SYS_openat2, dirfd, path, how, size);
}
