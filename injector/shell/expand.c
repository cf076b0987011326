// SPDX-License-Identifier: Apache-2.0
/* expand.c - dhish's word expansion: variables, $?, ~, quote removal and globbing. */
#include "injector/shell/lang.h"

#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

struct buf {
	char *p;
	size_t len, cap;
};

struct strv {
	char **v;
	size_t n, cap;
};

/* One word, expanded twice: as the argument (quotes removed) and as a glob(3) pattern. */
struct expansion {
	struct buf value;
	struct buf pattern;	/* quoted text escaped with backslashes */
	bool is_glob;		/* an unquoted * ? or [ is in it */
	bool is_kept;		/* quoted or $? or ~: kept even when empty */
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
	if (n >= SIZE_MAX / 2 - b->len)
		abort();
	if (b->len + n + 1 > b->cap) {
		b->cap = 2 * (b->len + n + 1);
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Text that must match itself: glob(3) sees every special byte escaped. */
static void buf_put_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (strchr("*?[]\\", *s))
			buf_put(b, "\\", 1);
		buf_put(b, s, 1);
	}
}

static void strv_push(struct strv *sv, char *s)
{
	if (sv->n + 1 >= sv->cap) {
		if (sv->cap > SIZE_MAX / 2 / sizeof(*sv->v))
			abort();
		sv->cap = sv->cap ? 2 * sv->cap : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

static char *steal_value(struct expansion *e)
{
	char *v = e->value.p;

	e->value = (struct buf){ 0 };
	return v;
}

static const char *var_get(const struct sh_vars *vars, const char *name)
{
	const char *v = vars && vars->get ? vars->get(name, vars->arg) : NULL;

	return v ? v : "";
}

/* Adds text whose glob characters are live (unquoted text and unquoted variables). */
static void put_unquoted(struct expansion *e, const char *s)
{
	buf_put(&e->value, s, strlen(s));
	buf_put(&e->pattern, s, strlen(s));
	if (strpbrk(s, "*?["))
		e->is_glob = true;
}

static void put_quoted(struct expansion *e, const char *s)
{
	buf_put(&e->value, s, strlen(s));
	buf_put_escaped(&e->pattern, s);
	e->is_kept = true;
}

static void expand_word(const struct sh_word *w, const struct sh_vars *vars, struct expansion *e)
{
	const char *home;
	char status[16];
	size_t i;

	*e = (struct expansion){ 0 };
	buf_put(&e->value, "", 0);
	buf_put(&e->pattern, "", 0);
	for (i = 0; i < w->n_parts; i++) {
		const struct sh_part *part = &w->parts[i];

		switch (part->kind) {
		case SH_PART_LITERAL:
			put_unquoted(e, part->text);
			break;
		case SH_PART_VAR:
			put_unquoted(e, var_get(vars, part->text));
			break;
		case SH_PART_QUOTED:
			put_quoted(e, part->text);
			break;
		case SH_PART_QVAR:
			put_quoted(e, var_get(vars, part->text));
			break;
		case SH_PART_STATUS:
			snprintf(status, sizeof(status), "%d", vars ? vars->last_status : 0);
			put_quoted(e, status);
			break;
		case SH_PART_HOME:
			/* with no $HOME, `~` stays as typed rather than becoming "" */
			home = vars && vars->get ? vars->get("HOME", vars->arg) : NULL;
			put_quoted(e, home ? home : "~");
			break;
		}
	}
}

/* Adds one word's expansion to `out`: nothing, itself, or the files its pattern matches. */
static int expand_one(const struct sh_word *w, const struct sh_vars *vars, struct strv *out,
		      struct sh_error *err)
{
	struct expansion e;
	glob_t g;
	size_t i;
	int r = 0;

	expand_word(w, vars, &e);
	if (e.value.len == 0 && !e.is_kept)
		goto out;
	if (!e.is_glob) {
		strv_push(out, steal_value(&e));
		goto out;
	}
	/* no GLOB_ERR: like sh, an unreadable directory just matches nothing */
	switch (glob(e.pattern.p, 0, NULL, &g)) {
	case 0:
		for (i = 0; i < g.gl_pathc; i++)
			strv_push(out, xstrdup(g.gl_pathv[i]));
		globfree(&g);
		break;
	case GLOB_NOMATCH:
		strv_push(out, steal_value(&e));
		break;
	case GLOB_NOSPACE:
		abort();
	default:
		if (err)
			snprintf(err->msg, sizeof(err->msg), "cannot expand a pattern: read error");
		r = -1;
		break;
	}
out:
	free(e.value.p);
	free(e.pattern.p);
	return r;
}

char **sh_expand_words(const struct sh_word *words, size_t n, const struct sh_vars *vars,
		       struct sh_error *err)
{
	struct strv out = { .v = xmalloc(8 * sizeof(char *)), .cap = 8 };
	size_t i;

	out.v[0] = NULL;
	for (i = 0; i < n; i++) {
		if (expand_one(&words[i], vars, &out, err) < 0) {
			sh_argv_free(out.v);
			return NULL;
		}
	}
	return out.v;
}

char *sh_expand_target(const struct sh_word *word, const struct sh_vars *vars,
		       struct sh_error *err)
{
	char **argv = sh_expand_words(word, 1, vars, err);
	char *target;

	if (!argv)
		return NULL;
	if (!argv[0] || argv[1]) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "ambiguous redirect");
		sh_argv_free(argv);
		return NULL;
	}
	target = argv[0];
	free(argv);
	return target;
}

void sh_argv_free(char **argv)
{
	char **p;

	if (!argv)
		return;
	for (p = argv; *p; p++)
		free(*p);
	free(argv);
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool sh_valid_name(const char *name)
{
	const char *p;

	if (!name || !is_name_start(name[0]))
		return false;
	for (p = name + 1; *p; p++)
		if (!is_name_start(*p) && !(*p >= '0' && *p <= '9'))
			return false;
	return true;
}
