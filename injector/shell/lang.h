/* SPDX-License-Identifier: Apache-2.0 */
/* lang.h - dhish's language: lexer, parser and word expansion (no execution here). */
#ifndef SH_LANG_H
#define SH_LANG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * dhish accepts a small, explicit language so that what runs is what was typed:
 *   simple commands; quoting with '…', "…" and backslash; $VAR, ${VAR}, $?;
 *   pipelines `|`; lists `;`, `&&`, `||`; redirections `<`, `>`, `>>`, `2>`,
 *   `2>&1`, `&>` (and N> / N>> / N< / N>&M for a single digit N, M);
 *   globbing (glob(3)) on unquoted * ? [ ]; comments `#` at the start of a word.
 * Everything else a full shell has is refused with a message naming the
 * construct: `&` (background), `$(…)` and backticks, `$((…))`, `<(…)`/`>(…)`,
 * `(…)` and `{ …; }`, here-documents `<<` and here-strings `<<<`, `<>`, `>|`,
 * `${VAR:-…}` and other parameter operators, `$1`…`$9`, `$@`, `$*`, `$#`, `$$`,
 * `$!`, `$-`, `$0`, `~user`, and the keywords `if then else elif fi for while
 * until do done case esac function select [[ ]] !` as a command word, plus the
 * builtins a shell would use to hide what runs: `eval`, `source`, `.`, `exec`,
 * `alias`, `trap`, `set`, `shopt`, `bg`, `fg`, `jobs`, `coproc`, `time`.
 * Also refused, because bash would give them a meaning dhish would silently
 * not: `NAME=value` as a command word (assignments), unquoted `{a,b}` and
 * `{1..3}` (brace expansion), `$'…'`, `$"…"`, `$[…]`, `|&`, `&>>`, `<&`, `>&-`
 * and file descriptors above 9 (`10>`).
 * A `~` alone or followed by `/` at the start of an unquoted word is $HOME.
 * A newline anywhere in the line is a syntax error: one line is one audited
 * command line, so it must not hide a second one.
 */

enum sh_redir_op {
	SH_REDIR_IN,		/* N<  word  (N defaults to 0) */
	SH_REDIR_OUT,		/* N>  word  (N defaults to 1) */
	SH_REDIR_APPEND,	/* N>> word  (N defaults to 1) */
	SH_REDIR_DUP,		/* N>&M      (e.g. 2>&1, N defaults to 1: >&2); M is one
				 * digit; `target` is NULL, `dup_fd` is M */
	SH_REDIR_BOTH,		/* &>  word  (stdout and stderr to the same file) */
};

/* One word as typed, split into parts so expansion knows what was quoted. */
enum sh_part_kind {
	SH_PART_LITERAL,	/* text outside quotes: subject to globbing */
	SH_PART_QUOTED,		/* text inside '…' or "…", or after a backslash: literal */
	SH_PART_VAR,		/* $NAME or ${NAME}, outside double quotes */
	SH_PART_QVAR,		/* $NAME or ${NAME} inside double quotes (no globbing) */
	SH_PART_STATUS,		/* $? (outside or inside double quotes) */
	SH_PART_HOME,		/* a leading unquoted `~` (alone or before `/`): $HOME */
};

struct sh_part {
	enum sh_part_kind kind;
	char *text;		/* literal text, or the variable name */
};

struct sh_word {
	struct sh_part *parts;
	size_t n_parts;
};

struct sh_redir {
	enum sh_redir_op op;
	int fd;			/* the fd redirected (0, 1, 2, …; 1 for SH_REDIR_BOTH) */
	int dup_fd;		/* SH_REDIR_DUP: the fd duplicated */
	struct sh_word *target;	/* the file word; NULL for SH_REDIR_DUP */
};

struct sh_command {
	struct sh_word *words;	/* argv words, before expansion; n_words may be 0 when
				 * the command is only redirections */
	size_t n_words;
	struct sh_redir *redirs;
	size_t n_redirs;
};

struct sh_pipeline {
	struct sh_command *cmds;	/* cmd[0] | cmd[1] | … */
	size_t n_cmds;
};

enum sh_connector {
	SH_SEQ,		/* `;` or end of line: run the next one regardless */
	SH_AND,		/* `&&`: run the next one if this one succeeded */
	SH_OR,		/* `||`: run the next one if this one failed */
};

struct sh_list {
	struct sh_pipeline *items;
	enum sh_connector *after;	/* after[i] connects items[i] to items[i + 1];
					 * n_items entries, the last is SH_SEQ */
	size_t n_items;
};

/* A parse error: the message is complete, e.g. "syntax error near `|`" or
 * "`$(…)` (command substitution) is not supported". */
struct sh_error {
	char msg[256];
};

/*
 * Parses one line. Returns NULL with `err` filled on a syntax error or a refused
 * construct; an empty or comment-only line gives a list with n_items == 0.
 * The caller frees the result with sh_list_free() (which accepts NULL). Never
 * reads beyond `line`'s NUL, never recurses, and accepts any bytes (hostile
 * input); bytes from the line quoted in a message have control characters
 * replaced by `?`. `err` may be NULL. The first problem from the left is the
 * one reported.
 */
struct sh_list *sh_parse(const char *line, struct sh_error *err);
void sh_list_free(struct sh_list *l);

/* Variables visible to expansion (dhish's own environment). */
struct sh_vars {
	const char *(*get)(const char *name, void *arg);	/* NULL when unset */
	void *arg;
	int last_status;					/* $? */
};

/*
 * Expands words into a NULL-terminated argv (malloc'd strings and array; free
 * with sh_argv_free()): variables are replaced (an unset one is empty), quotes
 * removed; a word with an unquoted glob character that matches files is
 * replaced by the sorted matches (glob(3)), one that matches nothing stays as
 * typed; unquoted variables are NOT split on whitespace (dhish has no IFS) —
 * a word stays one word. An empty unquoted word (e.g. `$UNSET`) is dropped; a
 * quoted empty word ("") stays an empty argument. `~` with HOME unset stays `~`.
 * `vars` may be NULL (no variables, $? is 0), and so may `err`.
 * Returns NULL with `err` filled only on an allocation-independent error
 * (e.g. glob(3) failing with GLOB_ABORTED).
 */
char **sh_expand_words(const struct sh_word *words, size_t n, const struct sh_vars *vars,
		       struct sh_error *err);

/* Expands one redirection target: exactly one word must result (no glob to
 * several files), or `err` says "ambiguous redirect". */
char *sh_expand_target(const struct sh_word *word, const struct sh_vars *vars,
		       struct sh_error *err);

void sh_argv_free(char **argv);

/* True when `name` is a valid variable name ([A-Za-z_][A-Za-z0-9_]*). */
bool sh_valid_name(const char *name);

#endif
