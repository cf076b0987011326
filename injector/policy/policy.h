/* SPDX-License-Identifier: Apache-2.0 */
/* policy.h - security profiles: what a session may do, and applying it before exec. */
#ifndef INJ_POLICY_H
#define INJ_POLICY_H

#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "injector/record/redact.h"
#include "injector/record/ship.h"

#define POLICY_DEFAULT_FILE "/etc/dhidebug/policy.json"
#define POLICY_MAX_PROFILES 32
#define POLICY_MAX_SYSCALLS 64

struct profile {
	char name[32];
	uint64_t caps;		/* bit N = capability N, for every set (bounding included) */
	bool container_ro;	/* the container's files are read-only in the view */
	bool container_exec;	/* programs may be executed from the container's files */
	bool allow_mount;	/* mount family, pivot_root, chroot (sysadmin) */
	bool allow_bpf_perf;	/* bpf, perf_event_open (sysadmin) */
	bool allow_ptrace;	/* ptrace, process_vm_writev (not in observe) */
	bool allow_kill;	/* signals to PID 1 and to all (not in observe) */
	bool allow_shells;	/* the toolbox's sh/bash as a command (sysadmin) */
	bool landlock_exec;	/* Landlock: exec only from the toolbox (no ptrace of the target) */
	bool has_user;		/* the profile's default user, when --user is not given */
	uid_t uid;
	gid_t gid;
	int n_allow, n_deny;
	char allow[POLICY_MAX_SYSCALLS][32];	/* extra syscalls a site allows */
	char deny[POLICY_MAX_SYSCALLS][32];	/* extra syscalls a site denies (EPERM) */
};

enum policy_record {
	POLICY_RECORD_OPTIONAL,	/* recorded by default; --no-record and an unwritable folder allowed */
	POLICY_RECORD_REQUIRED,	/* always recorded; a failure refuses or ends the session */
	POLICY_RECORD_OFF,	/* never recorded */
};

#define POLICY_MAX_TOOLBOX_RULES 64

/* A site's image → toolbox rule, tried before the built-in ones. */
struct policy_toolbox_rule {
	char *match;	/* fnmatch(3) pattern on the image reference ("registry/repo:tag") */
	char *toolbox;	/* the toolbox reference; `{tag}` is replaced by the image's tag */
};

#define POLICY_MAX_LISTED 32

/*
 * What a delegated operator (sudo, docs/security.md) may do beyond the
 * narrowest session: the site policy's "delegation". Every option that would
 * widen the site policy is refused unless a key here allows it.
 */
struct policy_delegation {
	bool always;		/* delegated mode without sudo too */
	bool socket_env;	/* DOCKER_HOST, CONTAINER_HOST, CONTAINERD_ADDRESS are honoured */
	bool pid_targets;	/* pid:// targets */
	bool allow_host;	/* --allow-host (and --net host) */
	bool no_record;		/* --no-record, where `record` is optional */
	int n_profiles;		/* -1: every profile `allowed_profiles` has */
	char profiles[POLICY_MAX_PROFILES][32];	/* the profiles it may pick */
	int n_policies;
	char *policies[POLICY_MAX_LISTED];	/* files --policy may name */
	int n_roots;
	char *roots[POLICY_MAX_LISTED];	/* --runtime-root, --containerd-root, --crio-root */
	int n_toolboxes;
	char *toolboxes[POLICY_MAX_LISTED];	/* directories --toolbox may name */
};

enum {
	POLICY_CP_IN = 1 << 0,	/* host → container */
	POLICY_CP_OUT = 1 << 1,	/* container → host */
};

struct policy {
	struct collector collector;	/* where audit records are shipped; url NULL: nowhere */
	struct policy_toolbox_rule toolbox_rules[POLICY_MAX_TOOLBOX_RULES];
	int n_toolbox_rules;
	char *default_toolbox;		/* when no rule matches (--default-toolbox overrides) */
	unsigned long long toolbox_max_unpacked; /* bytes a pulled image may take; 0: derived */
	long toolbox_pull_timeout;	/* seconds a pull may take; 0: the default */
	enum policy_record record;
	bool record_input;	/* "i" events: what the operator typed (never while ECHO is off) */
	struct redact_set redact;	/* replaced in the output before it is recorded */
	struct profile profiles[POLICY_MAX_PROFILES];
	int n;
	char default_profile[32];
	uint64_t allowed;	/* bit i: profiles[i] may be used */
	bool host_forbidden;	/* "allow_host": false: --allow-host is refused */
	unsigned int cp;	/* POLICY_CP_IN | POLICY_CP_OUT: what `dhidebug cp` may do ("cp") */
	struct policy_delegation delegation;
	char *source;		/* the file it came from, or NULL for the built-in policy */
	char *text;		/* that file's bytes, as parsed (the recording hashes them) */
	size_t text_len;
};

/*
 * Loads the policy: the built-in profiles (observe, general, netadmin,
 * sysadmin), then `path` on top. When `path` is NULL, POLICY_DEFAULT_FILE is
 * used if it exists. A malformed file, an unknown key, capability or syscall
 * is an error naming it; nothing is silently ignored.
 */
int policy_load(const char *path, struct policy *out, struct dhi_err **err);

/* Picks profile `name` (NULL: the default); refuses one the policy does not allow. */
int policy_select(const struct policy *pol, const char *name, const struct profile **out,
		  struct dhi_err **err);

/* Prints every profile (text, or JSON when `json`). */
void policy_print(const struct policy *pol, bool json);

/* Capability list as text ("cap_kill,cap_sys_ptrace"); the caller frees it. */
char *policy_caps_string(uint64_t caps);

/* The session's identity: uid, gid and supplementary groups, always explicit. */
struct session_user {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[64];
};

/* Parses --user: "UID[:GID]" (numbers); "target" is resolved by policy_user_of_pid(). */
int policy_user_parse(const char *s, struct session_user *out, struct dhi_err **err);

/* The uid, gid and groups of process `procfd` (/proc/<pid>), from its status file. */
int policy_user_of_pid(int procfd, struct session_user *out, struct dhi_err **err);

/*
 * A container's configured user (image config User, OCI process.user):
 * "UID[:GID]", "NAME[:GROUP]" and mixes, names looked up in the container's
 * /etc/passwd and /etc/group under `rootfd` (its root); a numeric uid not in
 * /etc/passwd gets gid 0, as with runc. Supplementary groups are those of
 * /etc/group that list the user. The files are hostile: one that is not a
 * regular file of at most 4 MiB is read as missing, so a name in it is not
 * found (the error says why); when the lookup succeeds without it, `*why`
 * says what was skipped (the caller frees it; NULL when nothing was).
 */
int policy_user_of_config(const char *spec, int rootfd, struct session_user *out, char **why,
			  struct dhi_err **err);

/* The two seccomp filters of a profile as BPF, built before entering and loaded last. */
struct policy_filters {
	struct sock_filter *allow;	/* allowlist: unknown syscalls and clone3 → ENOSYS */
	size_t n_allow;			/* instructions */
	struct sock_filter *deny;	/* escape filter: EPERM, with argument checks */
	size_t n_deny;
};

#define POLICY_CACHE_DIR "/var/lib/dhidebug/cache"

/*
 * Builds the profile's filters with libseccomp, or takes them from the cache
 * (`cache_dir`, NULL for none): generating the BPF costs milliseconds, and a
 * profile's filter only changes with the profile, libseccomp or dhidebug. The
 * cache is used only when the directory is root's and writable by no one else.
 */
int policy_build_filters(const struct profile *p, const char *cache_dir,
			 struct policy_filters *out, struct dhi_err **err);
void policy_free_filters(struct policy_filters *f);

/*
 * In the program's process, just before exec: ids and groups, capabilities
 * (bounding, permitted, effective, inheritable, ambient), no_new_privs,
 * Landlock (where the kernel has it: exec only below `exec_roots`), then the
 * seccomp filters. Order and reasons: docs/security.md. `exec_fds` (-1 ends the
 * list) are files Landlock lets run too: dhidebug's own programs, which are on
 * no path. `notice` receives the one line printed when Landlock is missing.
 */
int policy_apply(const struct profile *p, const struct session_user *u,
		 const struct policy_filters *f, const char *const *exec_roots, const int *exec_fds,
		 void (*notice)(const char *msg, void *arg), void *arg, struct dhi_err **err);

#endif
