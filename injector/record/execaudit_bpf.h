/* SPDX-License-Identifier: Apache-2.0 */
/* execaudit_bpf.h - the exec audit's seccomp filter, shared by dhidebug and dhidebug-init. */
#ifndef REC_EXECAUDIT_BPF_H
#define REC_EXECAUDIT_BPF_H

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>

/* x86-64 and i386 numbers of execve and execveat (the other filters kill any other ABI). */
#define EXECAUDIT_NR64_EXECVE 59
#define EXECAUDIT_NR64_EXECVEAT 322
#define EXECAUDIT_NR32_EXECVE 11
#define EXECAUDIT_NR32_EXECVEAT 358

/*
 * A hand-written filter: four comparisons are all it takes, and it needs no
 * cache. x32 calls (nr | 0x40000000) never match, and the allowlist kills them
 * anyway. Jumps count from the next instruction: the last one (index 11)
 * notifies, index 5 and 10 allow. Installed with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER; the listener goes to the supervisor.
 */
#define EXECAUDIT_FILTER                                                                    \
	{                                                                                   \
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),    \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 4),               \
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),      \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, EXECAUDIT_NR64_EXECVE, 7, 0),           \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, EXECAUDIT_NR64_EXECVEAT, 6, 0),         \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),                               \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 3),                 \
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),      \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, EXECAUDIT_NR32_EXECVE, 2, 0),           \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, EXECAUDIT_NR32_EXECVEAT, 1, 0),         \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),                               \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),                          \
	}

#endif
