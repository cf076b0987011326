/* SPDX-License-Identifier: Apache-2.0 */
/* syscalls.h - thin wrappers for syscalls glibc does not wrap (tests can --wrap them). */
#ifndef DHI_SYSCALLS_H
#define DHI_SYSCALLS_H

#include <stddef.h>

struct open_how;

/* openat2(2); -1 with errno (ENOSYS before Linux 5.6). */
int dhi_sys_openat2(int dirfd, const char *path, struct open_how *how, size_t size);

#endif
