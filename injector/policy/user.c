// SPDX-License-Identifier: Apache-2.0
/*
 * user.c - a container's configured user ("1000", "app:staff", "1000:1000")
 * as ids, the way runc and Docker resolve it: names through the container's
 * own /etc/passwd and /etc/group, read from the host inside its root (hostile
 * files: bounded, no symlink out, nothing trusted but numbers).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/policy/policy.h"
#include "common/path.h"

#define DB_MAX (4u << 20)

/* A decimal id below 2^32 - 1 (the kernel's "no id"). */
static bool parse_num(const char *s, size_t n, unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v >= 0xffffffffUL)
		return false;
	*out = v;
	return true;
}

/*
 * /etc/<name> of the container, NUL-terminated; NULL when it has none. One
 * that is there but not a regular file of at most DB_MAX bytes is read as
 * missing too, and `*why` says why (the caller frees it).
 */
static char *read_db(int rootfd, const char *path, char **why)
{
	struct dhi_err *err = NULL;
	char *buf = NULL;

	if (path_read_regular_at(rootfd, path, DB_MAX, &buf, NULL, &err) < 0) {
		if (err->errnum != ENOENT)
			*why = dhi_err_string(err);
		dhi_err_clear(&err);
		return NULL;
	}
	return buf;
}

/*
 * Splits line `l` (up to '\n' or the end) into its first `n` ':'-fields;
 * false when it has fewer. The fields point into a copy the caller frees.
 */
static bool fields(const char *l, char **copy, char *f[], int n)
{
	const char *nl = strchr(l, '\n');
	char *p;

	*copy = nl ? xstrndup(l, (size_t)(nl - l)) : xstrdup(l);
	p = *copy;
	for (int i = 0; i < n; i++) {
		f[i] = p;
		p = strchr(p, ':');
		if (!p)
			return i == n - 1;
		if (i < n - 1)
			*p++ = '\0';
	}
	return true;
}

/* Each line of `db`, as fields; fn returns true to stop. */
static void each_line(const char *db, int n, bool (*fn)(char *f[], void *arg), void *arg)
{
	for (const char *l = db; l && *l;) {
		const char *nl = strchr(l, '\n');
		dhi_autofree char *copy = NULL;
		char *f[4];

		if (*l != '#' && fields(l, &copy, f, n) && fn(f, arg))
			return;
		l = nl ? nl + 1 : NULL;
	}
}

struct pw_find {
	const char *name;	/* match this name, or */
	unsigned long uid;	/* this uid when name is NULL */
	bool found;
	char *pw_name;
	unsigned long pw_uid, pw_gid;
};

static bool pw_match(char *f[], void *arg)
{
	struct pw_find *q = arg;
	unsigned long uid, gid;

	if (!parse_num(f[2], strlen(f[2]), &uid) || !parse_num(f[3], strcspn(f[3], ":"), &gid))
		return false;
	if (q->name ? strcmp(f[0], q->name) != 0 : uid != q->uid)
		return false;
	q->found = true;
	q->pw_name = xstrdup(f[0]);
	q->pw_uid = uid;
	q->pw_gid = gid;
	return true;
}

struct gr_find {
	const char *name;	/* a group name to find, or NULL */
	bool found;
	unsigned long gid;
	const char *member;	/* collect the groups listing this user */
	struct session_user *u;
};

static bool gr_match(char *f[], void *arg)
{
	struct gr_find *q = arg;
	unsigned long gid;

	if (!parse_num(f[2], strlen(f[2]), &gid))
		return false;
	if (q->name) {
		if (strcmp(f[0], q->name) != 0)
			return false;
		q->found = true;
		q->gid = gid;
		return true;
	}
	for (char *m = f[3], *save = NULL, *tok; (tok = strtok_r(m, ",", &save)); m = NULL) {
		if (strcmp(tok, q->member) != 0)
			continue;
		if (q->u->ngroups < (int)(sizeof(q->u->groups) / sizeof(q->u->groups[0])))
			q->u->groups[q->u->ngroups++] = (gid_t)gid;
		break;
	}
	return false;
}

/* A name not found: not in the file, or the file was not read (`why`). */
static int unknown(struct dhi_err **err, const char *kind, const char *name, const char *why,
		   const char *file)
{
	if (why)
		return dhi_err_set(err, 0, "the container's %s `%s` cannot be looked up: %s", kind,
				   name, why);
	return dhi_err_set(err, 0, "the container's %s `%s` is not in its %s", kind, name, file);
}

int policy_user_of_config(const char *spec, int rootfd, struct session_user *out, char **why,
			  struct dhi_err **err)
{
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	dhi_autofree char *user = xstrndup(spec, ulen), *passwd = NULL, *group = NULL;
	dhi_autofree char *pw_why = NULL, *gr_why = NULL;
	struct pw_find pw = { 0 };
	unsigned long id;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (!*user || (colon && !colon[1]))
		return dhi_err_set(err, 0, "the container's user `%s` is not valid", spec);
	passwd = read_db(rootfd, "/etc/passwd", &pw_why);
	if (parse_num(user, ulen, &id)) {
		pw.uid = id;
		if (passwd)
			each_line(passwd, 4, pw_match, &pw);
		out->uid = (uid_t)id;
		out->gid = pw.found ? (gid_t)pw.pw_gid : 0;
	} else {
		pw.name = user;
		if (passwd)
			each_line(passwd, 4, pw_match, &pw);
		if (!pw.found)
			return unknown(err, "user", user, pw_why, "/etc/passwd");
		out->uid = (uid_t)pw.pw_uid;
		out->gid = (gid_t)pw.pw_gid;
	}
	group = read_db(rootfd, "/etc/group", &gr_why);
	if (colon) {
		if (parse_num(colon + 1, strlen(colon + 1), &id)) {
			out->gid = (gid_t)id;
		} else {
			struct gr_find g = { .name = colon + 1 };

			if (group)
				each_line(group, 4, gr_match, &g);
			if (!g.found) {
				free(pw.pw_name);
				return unknown(err, "group", colon + 1, gr_why, "/etc/group");
			}
			out->gid = (gid_t)g.gid;
		}
	}
	/* supplementary groups: those listing the user by name, as runc does */
	if (pw.found && group) {
		struct gr_find g = { .member = pw.pw_name, .u = out };

		each_line(group, 4, gr_match, &g);
	}
	free(pw.pw_name);
	/* what was read as missing while the lookup went on: the caller's notice */
	if (pw_why || gr_why)
		*why = xasprintf("%s%s%s", pw_why ? pw_why : "", pw_why && gr_why ? "; " : "",
				 gr_why ? gr_why : "");
	return 0;
}
