// SPDX-License-Identifier: Apache-2.0
/* bpfcache.c - seccomp filters as BPF: generated once with libseccomp, then cached. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/policy/policy.h"

#ifndef DHIDEBUG_VERSION
#define DHIDEBUG_VERSION "0"
#endif

/* Built by seccomp.c with libseccomp (the slow part). */
int policy_seccomp_contexts(const struct profile *p, scmp_filter_ctx *allow,
			    scmp_filter_ctx *deny, struct dhi_err **err);

#define BPF_MAX 4096	/* BPF_MAXINSNS */

/* FNV-1a: names cache entries; their trust comes from the directory, not the name. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* What the filter depends on, as text: any change makes a new cache entry. */
static char *profile_key(const struct profile *p)
{
	const struct scmp_version *v = seccomp_version();
	char *k = xasprintf("dhidebug %s|v3|libseccomp %u.%u.%u|arch %u|%s|%llx|%d%d%d%d%d%d%d%d",
			    DHIDEBUG_VERSION, v->major, v->minor, v->micro, seccomp_arch_native(),
			    p->name, (unsigned long long)p->caps, p->container_ro,
			    p->container_exec, p->allow_mount, p->allow_bpf_perf, p->allow_ptrace,
			    p->allow_kill, p->allow_shells, p->landlock_exec);

	for (int i = 0; i < p->n_allow; i++) {
		char *n = xasprintf("%s|+%s", k, p->allow[i]);

		free(k);
		k = n;
	}
	for (int i = 0; i < p->n_deny; i++) {
		char *n = xasprintf("%s|-%s", k, p->deny[i]);

		free(k);
		k = n;
	}
	return k;
}

static int export(scmp_filter_ctx ctx, struct sock_filter **out, size_t *n, struct dhi_err **err)
{
	dhi_autoclose int fd = memfd_create("dhidebug-bpf", MFD_CLOEXEC);
	char *buf = NULL;
	size_t len;
	int r;

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot create a memfd");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return dhi_err_set(err, -r, "cannot generate the seccomp filter");
	if (lseek(fd, 0, SEEK_SET) < 0 || fd_read_file(fd, BPF_MAX * 8, &buf, &len, err) < 0)
		return dhi_err_set(err, errno, "cannot read the seccomp filter");
	*out = (struct sock_filter *)buf;
	*n = len / sizeof(struct sock_filter);
	return 0;
}

/* Cache file: [n_allow (u32)][n_deny (u32)][allow][deny]. */
static int cache_read(int dirfd, const char *name, struct policy_filters *f)
{
	dhi_autoclose int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct dhi_err *e = NULL;
	char *buf = NULL;
	size_t len;
	uint32_t na, nd;

	if (fd < 0 || fd_read_file(fd, 8 + 2 * BPF_MAX * 8, &buf, &len, &e) < 0) {
		dhi_err_clear(&e);
		return -1;
	}
	if (len < 8)
		goto bad;
	memcpy(&na, buf, 4);
	memcpy(&nd, buf + 4, 4);
	if (na == 0 || nd == 0 || na > BPF_MAX || nd > BPF_MAX || len != 8 + (na + nd) * 8)
		goto bad;
	f->n_allow = na;
	f->n_deny = nd;
	f->allow = xmalloc(na * 8);
	f->deny = xmalloc(nd * 8);
	memcpy(f->allow, buf + 8, na * 8);
	memcpy(f->deny, buf + 8 + na * 8, nd * 8);
	free(buf);
	return 0;
bad:
	free(buf);
	return -1;
}

/* Written to a temporary name and renamed: a reader never sees half a filter. */
static void cache_write(int dirfd, const char *name, const struct policy_filters *f)
{
	dhi_autofree char *tmp = xasprintf(".%s.%d", name, (int)getpid());
	uint32_t hdr[2] = { (uint32_t)f->n_allow, (uint32_t)f->n_deny };
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int ok;

	if (fd < 0)
		return;
	ok = fd_write_all(fd, hdr, sizeof(hdr)) == 0 &&
	     fd_write_all(fd, f->allow, f->n_allow * 8) == 0 &&
	     fd_write_all(fd, f->deny, f->n_deny * 8) == 0 && fsync(fd) == 0;
	close(fd);
	if (!ok || renameat(dirfd, tmp, dirfd, name) < 0)
		unlinkat(dirfd, tmp, 0);
}

int policy_build_filters(const struct profile *p, const char *cache_dir,
			 struct policy_filters *out, struct dhi_err **err)
{
	dhi_autofree char *key = profile_key(p);
	dhi_autoclose int dirfd = -1;
	scmp_filter_ctx allow = NULL, deny = NULL;
	char name[80];
	int ret = -1;

	memset(out, 0, sizeof(*out));
	snprintf(name, sizeof(name), "%016llx.bpf", (unsigned long long)fnv1a(key));
	if (cache_dir)
		dirfd = fd_open_private_dir(cache_dir);
	if (dirfd >= 0 && cache_read(dirfd, name, out) == 0)
		return 0;

	if (policy_seccomp_contexts(p, &allow, &deny, err) < 0)
		goto out;
	if (export(allow, &out->allow, &out->n_allow, err) < 0 ||
	    export(deny, &out->deny, &out->n_deny, err) < 0) {
		dhi_err_prefix(err, "profile `%s`", p->name);
		goto out;
	}
	if (dirfd >= 0)
		cache_write(dirfd, name, out);
	ret = 0;
out:
	if (allow)
		seccomp_release(allow);
	if (deny)
		seccomp_release(deny);
	if (ret < 0)
		policy_free_filters(out);
	return ret;
}

void policy_free_filters(struct policy_filters *f)
{
	free(f->allow);
	free(f->deny);
	f->allow = f->deny = NULL;
	f->n_allow = f->n_deny = 0;
}
