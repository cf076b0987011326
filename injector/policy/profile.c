// SPDX-License-Identifier: Apache-2.0
/* profile.c - built-in profiles, the site's policy file, --user. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/trust.h"
#include "common/xalloc.h"
#include "injector/policy/policy.h"

#define C(x) (1ull << (x))
#define GENERAL_CAPS                                                                         \
	(C(CAP_SYS_PTRACE) | C(CAP_KILL) | C(CAP_DAC_OVERRIDE) | C(CAP_CHOWN) | C(CAP_FOWNER) | \
	 C(CAP_SETUID) | C(CAP_SETGID))
#define ALL_CAPS ((C(CAP_LAST_CAP) << 1) - 1)

/* The built-in profiles, named as kubectl debug names its. */
static const struct profile builtin[] = {
	/* as nobody: the kernel itself then refuses to let it signal the application */
	{ .name = "observe",
	  .caps = C(CAP_DAC_READ_SEARCH) | C(CAP_SYS_PTRACE),
	  .container_ro = true,
	  .has_user = true,
	  .uid = 65534,
	  .gid = 65534 },
	{ .name = "general", .caps = GENERAL_CAPS, .allow_ptrace = true, .allow_kill = true },
	{ .name = "netadmin",
	  .caps = GENERAL_CAPS | C(CAP_NET_ADMIN) | C(CAP_NET_RAW),
	  .allow_ptrace = true,
	  .allow_kill = true },
	{ .name = "sysadmin",
	  .caps = ALL_CAPS,
	  .container_exec = true,
	  .allow_mount = true,
	  .allow_bpf_perf = true,
	  .allow_ptrace = true,
	  .allow_kill = true,
	  .allow_shells = true },
};

char *policy_caps_string(uint64_t caps)
{
	char *s = xstrdup("");

	for (int c = 0; c <= CAP_LAST_CAP; c++) {
		char *name, *n;

		if (!(caps & C(c)))
			continue;
		name = cap_to_name((cap_value_t)c);
		n = xasprintf("%s%s%s", s, *s ? "," : "", name ? name : "?");
		cap_free(name);
		free(s);
		s = n;
	}
	return s;
}

static int find(const struct policy *pol, const char *name)
{
	for (int i = 0; i < pol->n; i++)
		if (strcmp(pol->profiles[i].name, name) == 0)
			return i;
	return -1;
}

/* --- the policy file: every key known, every value checked --- */

static int want_bool(json_t *v, const char *key, bool *out, struct dhi_err **err)
{
	if (!json_is_boolean(v))
		return dhi_err_set(err, 0, "`%s` must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int parse_caps(json_t *arr, const char *key, uint64_t *out, struct dhi_err **err)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return dhi_err_set(err, 0, "`%s` must be a list of capability names", key);
	*out = 0;
	json_array_foreach(arr, i, v) {
		cap_value_t cap;

		if (!json_is_string(v) || cap_from_name(json_string_value(v), &cap) < 0 ||
		    cap < 0 || cap > CAP_LAST_CAP)
			return dhi_err_set(err, 0, "unknown capability `%s` in `%s`",
					   json_is_string(v) ? json_string_value(v) : "?", key);
		*out |= C(cap);
	}
	return 0;
}

static int parse_syscalls(json_t *arr, const char *key, char (*dst)[32], int *n,
			  struct dhi_err **err)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return dhi_err_set(err, 0, "`%s` must be a list of syscall names", key);
	*n = 0;
	json_array_foreach(arr, i, v) {
		const char *name = json_is_string(v) ? json_string_value(v) : "?";

		if (!json_is_string(v) || strlen(name) >= 32 ||
		    seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR)
			return dhi_err_set(err, 0, "unknown syscall `%s` in `%s`", name, key);
		if (*n == POLICY_MAX_SYSCALLS)
			return dhi_err_set(err, 0, "too many syscalls in `%s`", key);
		snprintf(dst[(*n)++], 32, "%s", name);
	}
	return 0;
}

static int parse_user(json_t *v, struct profile *p, struct dhi_err **err)
{
	struct session_user u;

	if (json_is_null(v)) {
		p->has_user = false;
		return 0;
	}
	if (!json_is_string(v) || policy_user_parse(json_string_value(v), &u, err) < 0)
		return dhi_err_set(err, 0, "`user` must be \"UID[:GID]\" or null");
	p->has_user = true;
	p->uid = u.uid;
	p->gid = u.gid;
	return 0;
}

static int parse_profile(const char *name, json_t *o, struct policy *pol, struct dhi_err **err)
{
	struct profile p;
	const char *key;
	json_t *v, *base = json_object_get(o, "base");
	int idx;

	if (!json_is_object(o))
		return dhi_err_set(err, 0, "profile `%s` must be an object", name);
	if (strlen(name) == 0 || strlen(name) >= sizeof(p.name))
		return dhi_err_set(err, 0, "invalid profile name `%s`", name);
	/* a profile starts from its base (or from nothing at all) */
	memset(&p, 0, sizeof(p));
	if (base) {
		int b = json_is_string(base) ? find(pol, json_string_value(base)) : -1;

		if (b < 0)
			return dhi_err_set(err, 0, "profile `%s`: unknown base `%s`", name,
					   json_is_string(base) ? json_string_value(base) : "?");
		p = pol->profiles[b];
	}
	snprintf(p.name, sizeof(p.name), "%s", name);
	json_object_foreach(o, key, v) {
		int r = 0;

		if (strcmp(key, "base") == 0)
			continue;
		else if (strcmp(key, "capabilities") == 0)
			r = parse_caps(v, key, &p.caps, err);
		else if (strcmp(key, "container_readonly") == 0)
			r = want_bool(v, key, &p.container_ro, err);
		else if (strcmp(key, "container_exec") == 0)
			r = want_bool(v, key, &p.container_exec, err);
		else if (strcmp(key, "allow_mount") == 0)
			r = want_bool(v, key, &p.allow_mount, err);
		else if (strcmp(key, "allow_bpf_perf") == 0)
			r = want_bool(v, key, &p.allow_bpf_perf, err);
		else if (strcmp(key, "allow_ptrace") == 0)
			r = want_bool(v, key, &p.allow_ptrace, err);
		else if (strcmp(key, "allow_kill") == 0)
			r = want_bool(v, key, &p.allow_kill, err);
		else if (strcmp(key, "allow_shells") == 0)
			r = want_bool(v, key, &p.allow_shells, err);
		else if (strcmp(key, "landlock_exec") == 0)
			r = want_bool(v, key, &p.landlock_exec, err);
		else if (strcmp(key, "user") == 0)
			r = parse_user(v, &p, err);
		else if (strcmp(key, "allow_syscalls") == 0)
			r = parse_syscalls(v, key, p.allow, &p.n_allow, err);
		else if (strcmp(key, "deny_syscalls") == 0)
			r = parse_syscalls(v, key, p.deny, &p.n_deny, err);
		else
			r = dhi_err_set(err, 0, "unknown key `%s`", key);
		if (r < 0)
			return dhi_err_prefix(err, "profile `%s`", name);
	}
	idx = find(pol, name);
	if (idx < 0) {
		if (pol->n == POLICY_MAX_PROFILES)
			return dhi_err_set(err, 0, "too many profiles");
		idx = pol->n++;
	}
	pol->profiles[idx] = p;
	pol->allowed |= 1ull << idx;
	return 0;
}

/*
 * "toolbox_rules": a list of {"match": <fnmatch pattern on the image reference>,
 * "toolbox": <reference, {tag} is the image's tag>}; "default_toolbox": a reference or
 * a directory (as --default-toolbox).
 */
static int parse_toolbox_rules(json_t *root, struct policy *pol, struct dhi_err **err)
{
	json_t *rules = json_object_get(root, "toolbox_rules");
	json_t *def = json_object_get(root, "default_toolbox");
	size_t i;
	json_t *r;

	if (def) {
		if (!json_is_string(def) || !*json_string_value(def))
			return dhi_err_set(err, 0, "`default_toolbox` must be a directory or an image "
						   "reference");
		pol->default_toolbox = xstrdup(json_string_value(def));
	}
	if (!rules)
		return 0;
	if (!json_is_array(rules))
		return dhi_err_set(err, 0, "`toolbox_rules` must be a list");
	json_array_foreach(rules, i, r) {
		json_t *m = json_object_get(r, "match"), *t = json_object_get(r, "toolbox");
		const char *key;
		json_t *v;

		if (!json_is_object(r) || !json_is_string(m) || !json_is_string(t))
			return dhi_err_set(err, 0, "`toolbox_rules`[%zu] needs `match` and `toolbox`", i);
		json_object_foreach(r, key, v) {
			if (strcmp(key, "match") != 0 && strcmp(key, "toolbox") != 0)
				return dhi_err_set(err, 0, "`toolbox_rules`[%zu]: unknown key `%s`", i,
						   key);
		}
		if (pol->n_toolbox_rules == POLICY_MAX_TOOLBOX_RULES)
			return dhi_err_set(err, 0, "too many `toolbox_rules`");
		pol->toolbox_rules[pol->n_toolbox_rules].match = xstrdup(json_string_value(m));
		pol->toolbox_rules[pol->n_toolbox_rules].toolbox = xstrdup(json_string_value(t));
		pol->n_toolbox_rules++;
	}
	return 0;
}

/*
 * "toolbox_max_unpacked": the most bytes a pulled image may unpack to;
 * "toolbox_pull_timeout": seconds after which a pull fails. Options may lower
 * them, never raise them (toolbox_cmd.c).
 */
static int parse_toolbox_limits(json_t *root, struct policy *pol, struct dhi_err **err)
{
	json_t *max = json_object_get(root, "toolbox_max_unpacked");
	json_t *tmo = json_object_get(root, "toolbox_pull_timeout");

	if (max) {
		if (!json_is_integer(max) || json_integer_value(max) < 1)
			return dhi_err_set(err, 0, "`toolbox_max_unpacked` must be a number of bytes "
						   "(at least 1)");
		pol->toolbox_max_unpacked = (unsigned long long)json_integer_value(max);
	}
	if (tmo) {
		if (!json_is_integer(tmo) || json_integer_value(tmo) < 1 ||
		    json_integer_value(tmo) > 7 * 86400)
			return dhi_err_set(err, 0, "`toolbox_pull_timeout` must be a number of seconds "
						   "(1 to 604800)");
		pol->toolbox_pull_timeout = (long)json_integer_value(tmo);
	}
	return 0;
}

/* A list of absolute paths (at most POLICY_MAX_LISTED). */
static int parse_paths(json_t *arr, const char *key, char **dst, int *n, struct dhi_err **err)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return dhi_err_set(err, 0, "`%s` must be a list of absolute paths", key);
	json_array_foreach(arr, i, v) {
		const char *path = json_string_value(v);

		if (!path || path[0] != '/' || strlen(path) > 4096)
			return dhi_err_set(err, 0, "`%s`[%zu] must be an absolute path", key, i);
		if (*n == POLICY_MAX_LISTED)
			return dhi_err_set(err, 0, "too many paths in `%s`", key);
		dst[(*n)++] = xstrdup(path);
	}
	return 0;
}

/*
 * "delegation": what a delegated operator may do beyond the narrowest session
 * (booleans default to false, lists to empty; `allowed_profiles` to every
 * profile the policy allows).
 */
static int parse_delegation(json_t *o, struct policy *pol, struct dhi_err **err)
{
	struct policy_delegation *d = &pol->delegation;
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		return dhi_err_set(err, 0, "`delegation` must be an object");
	json_object_foreach(o, key, v) {
		int r = 0;

		if (strcmp(key, "always") == 0)
			r = want_bool(v, key, &d->always, err);
		else if (strcmp(key, "socket_env") == 0)
			r = want_bool(v, key, &d->socket_env, err);
		else if (strcmp(key, "pid_targets") == 0)
			r = want_bool(v, key, &d->pid_targets, err);
		else if (strcmp(key, "allow_host") == 0)
			r = want_bool(v, key, &d->allow_host, err);
		else if (strcmp(key, "no_record") == 0)
			r = want_bool(v, key, &d->no_record, err);
		else if (strcmp(key, "policies") == 0)
			r = parse_paths(v, key, d->policies, &d->n_policies, err);
		else if (strcmp(key, "runtime_roots") == 0)
			r = parse_paths(v, key, d->roots, &d->n_roots, err);
		else if (strcmp(key, "toolboxes") == 0)
			r = parse_paths(v, key, d->toolboxes, &d->n_toolboxes, err);
		else if (strcmp(key, "allowed_profiles") == 0) {
			size_t i;
			json_t *p;

			if (!json_is_array(v))
				return dhi_err_set(err, 0, "`delegation`: `allowed_profiles` must be "
							   "a list");
			d->n_profiles = 0;
			json_array_foreach(v, i, p) {
				const char *name = json_string_value(p);

				if (!name || find(pol, name) < 0)
					return dhi_err_set(err, 0, "unknown profile `%s` in "
								   "`delegation.allowed_profiles`",
							   name ? name : "?");
				snprintf(d->profiles[d->n_profiles++], 32, "%s", name);
			}
		} else
			r = dhi_err_set(err, 0, "unknown key `%s`", key);
		if (r < 0)
			return dhi_err_prefix(err, "`delegation`");
	}
	return 0;
}

static int parse_policy(json_t *root, struct policy *pol, struct dhi_err **err)
{
	json_t *profiles = json_object_get(root, "profiles");
	json_t *allowed = json_object_get(root, "allowed_profiles");
	json_t *def = json_object_get(root, "default_profile");
	json_t *rec = json_object_get(root, "record");
	const char *key;
	json_t *v;
	size_t i;

	if (!json_is_object(root))
		return dhi_err_set(err, 0, "the policy must be a JSON object");
	json_object_foreach(root, key, v) {
		if (strcmp(key, "profiles") != 0 && strcmp(key, "allowed_profiles") != 0 &&
		    strcmp(key, "default_profile") != 0 && strcmp(key, "version") != 0 &&
		    strcmp(key, "record") != 0 && strcmp(key, "record_input") != 0 &&
		    strcmp(key, "collector") != 0 && strcmp(key, "toolbox_rules") != 0 &&
		    strcmp(key, "default_toolbox") != 0 &&
		    strcmp(key, "toolbox_max_unpacked") != 0 &&
		    strcmp(key, "toolbox_pull_timeout") != 0 && strcmp(key, "allow_host") != 0 &&
		    strcmp(key, "cp") != 0 && strcmp(key, "delegation") != 0 && strcmp(key, "redact") != 0)
			return dhi_err_set(err, 0, "unknown key `%s`", key);
	}
	if (profiles) {
		if (!json_is_object(profiles))
			return dhi_err_set(err, 0, "`profiles` must be an object");
		json_object_foreach(profiles, key, v) {
			if (parse_profile(key, v, pol, err) < 0)
				return -1;
		}
	}
	if (allowed) {
		if (!json_is_array(allowed))
			return dhi_err_set(err, 0, "`allowed_profiles` must be a list");
		pol->allowed = 0;
		json_array_foreach(allowed, i, v) {
			int idx = json_is_string(v) ? find(pol, json_string_value(v)) : -1;

			if (idx < 0)
				return dhi_err_set(err, 0, "unknown profile `%s` in `allowed_profiles`",
						   json_is_string(v) ? json_string_value(v) : "?");
			pol->allowed |= 1ull << idx;
		}
	}
	if (parse_toolbox_rules(root, pol, err) < 0)
		return -1;
	if (parse_toolbox_limits(root, pol, err) < 0)
		return -1;
	if (json_object_get(root, "collector") &&
	    ship_parse_collector(json_object_get(root, "collector"), &pol->collector, err) < 0)
		return -1;
	if (json_object_get(root, "redact") && redact_parse(json_object_get(root, "redact"), &pol->redact, err) < 0)
		return -1;
	if (json_object_get(root, "record_input") &&
	    want_bool(json_object_get(root, "record_input"), "record_input", &pol->record_input,
		      err) < 0)
		return -1;
	if (rec) {
		const char *mode = json_is_string(rec) ? json_string_value(rec) : "";

		if (strcmp(mode, "optional") == 0)
			pol->record = POLICY_RECORD_OPTIONAL;
		else if (strcmp(mode, "required") == 0)
			pol->record = POLICY_RECORD_REQUIRED;
		else if (strcmp(mode, "off") == 0)
			pol->record = POLICY_RECORD_OFF;
		else
			return dhi_err_set(err, 0, "`record` must be \"required\", \"optional\" or \"off\"");
	}
	if (json_object_get(root, "allow_host")) {
		bool allow = true;

		if (want_bool(json_object_get(root, "allow_host"), "allow_host", &allow, err) < 0)
			return -1;
		pol->host_forbidden = !allow;
	}
	if (json_object_get(root, "cp")) {
		static const char *const modes[] = { "none", "in", "out", "both" };
		json_t *cp = json_object_get(root, "cp");
		unsigned int m = 0;

		while (m < 4 && !(json_is_string(cp) && strcmp(json_string_value(cp), modes[m]) == 0))
			m++;
		if (m == 4)
			return dhi_err_set(err, 0, "`cp` must be \"both\", \"in\", \"out\" or \"none\"");
		/* the index is the bits: none 0, in 1, out 2, both 3 */
		pol->cp = m;
	}
	if (json_object_get(root, "delegation") &&
	    parse_delegation(json_object_get(root, "delegation"), pol, err) < 0)
		return -1;
	if (def) {
		if (!json_is_string(def) || find(pol, json_string_value(def)) < 0)
			return dhi_err_set(err, 0, "unknown profile `%s` in `default_profile`",
					   json_is_string(def) ? json_string_value(def) : "?");
		snprintf(pol->default_profile, sizeof(pol->default_profile), "%s",
			 json_string_value(def));
	}
	return 0;
}

int policy_load(const char *path, struct policy *out, struct dhi_err **err)
{
	const char *file = path ? path : POLICY_DEFAULT_FILE;
	dhi_autoclose int fd = -1;
	dhi_autofree char *buf = NULL;
	json_error_t jerr;
	json_t *root;
	size_t len;
	int r;

	memset(out, 0, sizeof(*out));
	out->n = (int)(sizeof(builtin) / sizeof(builtin[0]));
	memcpy(out->profiles, builtin, sizeof(builtin));
	out->allowed = (1ull << out->n) - 1;
	out->delegation.n_profiles = -1;
	out->cp = POLICY_CP_IN | POLICY_CP_OUT;
	snprintf(out->default_profile, sizeof(out->default_profile), "general");

	/* what a session may do is only what root wrote down: nobody else may have changed it */
	r = trust_open(file, O_RDONLY, &fd, err);
	if (r < 0)
		return dhi_err_prefix(err, "policy `%s`", file);
	if (r == 1) {
		if (!path)
			return 0;	/* no site policy: the built-in one */
		return dhi_err_set(err, ENOENT, "cannot open policy `%s`", file);
	}
	if (fd_read_file(fd, 1 << 20, &buf, &len, err) < 0)
		return dhi_err_prefix(err, "policy `%s`", file);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return dhi_err_set(err, 0, "policy `%s`: line %d: %s", file, jerr.line, jerr.text);
	r = parse_policy(root, out, err);
	json_decref(root);
	if (r < 0)
		return dhi_err_prefix(err, "policy `%s`", file);
	out->source = xstrdup(file);
	out->text = buf;
	out->text_len = len;
	buf = NULL;
	return 0;
}

int policy_select(const struct policy *pol, const char *name, const struct profile **out,
		  struct dhi_err **err)
{
	const char *want = name ? name : pol->default_profile;
	int idx = find(pol, want);

	if (idx < 0)
		return dhi_err_set(err, 0, "unknown profile `%s` (see `dhidebug profiles`)", want);
	if (!(pol->allowed & (1ull << idx)))
		return dhi_err_set_kind(err, EPERM, "profile `%s` is not allowed by policy `%s`", want,
				   pol->source ? pol->source : "(built-in)");
	*out = &pol->profiles[idx];
	return 0;
}

static json_t *caps_json(uint64_t caps)
{
	json_t *a = json_array();

	for (int c = 0; c <= CAP_LAST_CAP; c++) {
		char *name;

		if (!(caps & C(c)))
			continue;
		name = cap_to_name((cap_value_t)c);
		json_array_append_new(a, json_string(name ? name : "?"));
		cap_free(name);
	}
	return a;
}

void policy_print(const struct policy *pol, bool json)
{
	json_t *arr = json ? json_array() : NULL;

	if (!json)
		printf("%-10s %-7s %-7s %-11s %-9s %-8s %s\n", "PROFILE", "ALLOWED", "DEFAULT", "USER",
		       "CONTAINER", "EXEC", "CAPABILITIES");
	for (int i = 0; i < pol->n; i++) {
		const struct profile *p = &pol->profiles[i];
		dhi_autofree char *caps = policy_caps_string(p->caps);
		bool allowed = pol->allowed & (1ull << i);
		bool def = strcmp(p->name, pol->default_profile) == 0;

		dhi_autofree char *user = p->has_user ? xasprintf("%u:%u", (unsigned)p->uid,
								   (unsigned)p->gid)
						     : xstrdup("0:0");

		if (!json) {
			printf("%-10s %-7s %-7s %-11s %-9s %-8s %s\n", p->name, allowed ? "yes" : "no",
			       def ? "yes" : "", user, p->container_ro ? "read" : "write",
			       p->container_exec ? "any" : "toolbox", caps);
			continue;
		}
		json_array_append_new(
			arr,
			json_pack("{s:s, s:b, s:b, s:s, s:o, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}",
				  "name", p->name, "allowed", allowed, "default", def, "user", user,
				  "capabilities", caps_json(p->caps),
				  "container_readonly", p->container_ro, "container_exec",
				  p->container_exec, "allow_mount", p->allow_mount, "allow_bpf_perf",
				  p->allow_bpf_perf, "allow_ptrace", p->allow_ptrace, "allow_kill",
				  p->allow_kill, "allow_shells", p->allow_shells, "landlock_exec",
				  p->landlock_exec));
	}
	if (json) {
		char *s = json_dumps(arr, JSON_INDENT(2));

		printf("%s\n", s);
		free(s);
		json_decref(arr);
	}
}

/* --- --user --- */

static int parse_id(const char *s, size_t n, unsigned long *out)
{
	char buf[16], *end;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtoul(buf, &end, 10);
	if (errno || *end || buf[0] == '-' || *out >= 0xffffffffUL)
		return -1;
	return 0;
}

int policy_user_parse(const char *s, struct session_user *out, struct dhi_err **err)
{
	const char *colon = strchr(s, ':');
	unsigned long uid, gid;

	memset(out, 0, sizeof(*out));
	if (parse_id(s, colon ? (size_t)(colon - s) : strlen(s), &uid) < 0 ||
	    (colon && parse_id(colon + 1, strlen(colon + 1), &gid) < 0))
		return dhi_err_set(err, 0, "invalid --user `%s` (use UID[:GID] or `target`)", s);
	out->uid = (uid_t)uid;
	out->gid = colon ? (gid_t)gid : (gid_t)uid;
	return 0;
}

/* "Uid:\t1\t1\t1\t1" → the real id (first number). */
static int status_field(const char *buf, const char *key, unsigned long *out)
{
	const char *p = strstr(buf, key);

	if (!p)
		return -1;
	return sscanf(p + strlen(key), "%lu", out) == 1 ? 0 : -1;
}

int policy_user_of_pid(int procfd, struct session_user *out, struct dhi_err **err)
{
	dhi_autofree char *buf = NULL;
	unsigned long uid, gid;
	const char *g;

	memset(out, 0, sizeof(*out));
	if (fd_read_proc_at(procfd, "status", 1 << 16, &buf, NULL, err) < 0)
		return dhi_err_prefix(err, "cannot read the target's status");
	if (status_field(buf, "\nUid:", &uid) < 0 || status_field(buf, "\nGid:", &gid) < 0)
		return dhi_err_set(err, 0, "cannot parse the target's uid and gid");
	out->uid = (uid_t)uid;
	out->gid = (gid_t)gid;
	g = strstr(buf, "\nGroups:");
	if (g) {
		g += strlen("\nGroups:");
		while (*g && *g != '\n' && out->ngroups < 64) {
			char *end;
			unsigned long v = strtoul(g, &end, 10);

			if (end == g)
				break;
			out->groups[out->ngroups++] = (gid_t)v;
			g = end;
			while (*g == ' ' || *g == '\t')
				g++;
		}
	}
	return 0;
}
