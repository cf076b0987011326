// SPDX-License-Identifier: Apache-2.0
/* fuzz_shell_parse.c - libFuzzer target: dhish's parser and expansion on arbitrary bytes. */
#include <glob.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "injector/shell/lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Linked with -Wl,--wrap=glob: a pattern with a `/` in it could walk the whole file
 * system (from `/`, one `*` per level), so only patterns for the current directory
 * reach glob(3).
 */
int __real_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g);
int __wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g);
int __wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
	if (strchr(pattern, '/'))
		return GLOB_NOMATCH;
	return __real_glob(pattern, flags, errfunc, g);
}

static const char *get_var(const char *name, void *arg)
{
	static const char *const vars[][2] = {
		{ "HOME", "/home/fuzz" },
		{ "A", "a" },
		{ "SP", "a b" },
		{ "STAR", "*" },
		{ "EMPTY", "" },
		{ "Q", "'\"\\$" },
	};
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strcmp(vars[i][0], name) == 0)
			return vars[i][1];
	return NULL;
}

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_word(const struct sh_word *w)
{
	size_t i;

	check(w->n_parts > 0);
	for (i = 0; i < w->n_parts; i++)
		check(w->parts[i].text != NULL);
}

/* The parser's promises to its caller, then expansion of everything it returned. */
static void check_command(const struct sh_command *c, const struct sh_vars *vars)
{
	struct sh_error err = { "" };
	char **argv;
	char *target;
	size_t i;

	check(c->n_words > 0 || c->n_redirs > 0);
	for (i = 0; i < c->n_words; i++)
		check_word(&c->words[i]);
	argv = sh_expand_words(c->words, c->n_words, vars, &err);
	check(argv != NULL);
	sh_argv_free(argv);
	for (i = 0; i < c->n_redirs; i++) {
		const struct sh_redir *r = &c->redirs[i];

		check(r->fd >= 0 && r->fd <= 9);
		if (r->op == SH_REDIR_DUP) {
			check(r->target == NULL && r->dup_fd >= 0 && r->dup_fd <= 9);
			continue;
		}
		check_word(r->target);
		target = sh_expand_target(r->target, vars, &err);
		check(target != NULL || strcmp(err.msg, "ambiguous redirect") == 0);
		free(target);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sh_vars vars = { .get = get_var, .last_status = 1 };
	struct sh_error err = { "" };
	struct sh_list *l;
	char *line = xmalloc(size + 1);
	size_t i, j;

	memcpy(line, data, size);
	line[size] = '\0';
	l = sh_parse(line, &err);
	if (!l) {
		check(err.msg[0] != '\0' && memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		for (i = 0; err.msg[i]; i++)
			check((unsigned char)err.msg[i] >= 0x20 && err.msg[i] != 0x7f);
	} else {
		for (i = 0; i < l->n_items; i++) {
			check(l->items[i].n_cmds > 0);
			for (j = 0; j < l->items[i].n_cmds; j++)
				check_command(&l->items[i].cmds[j], &vars);
		}
		check(l->n_items == 0 || l->after[l->n_items - 1] == SH_SEQ);
		sh_list_free(l);
	}
	free(line);
	return 0;
}
