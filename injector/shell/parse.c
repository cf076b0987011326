// SPDX-License-Identifier: Apache-2.0
/* parse.c - dhish's lexer and parser: one line into a struct sh_list, refusing what dhish lacks. */
#include "injector/shell/lang.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

/*
 * The lexer hands the parser one token at a time, so the first problem from the left is
 * the one reported. Nothing here recurses: quotes and `${…}` are read by loops, and every
 * construct that would nest (`$(…)`, `(…)`, backticks) is refused where it opens.
 */

enum tok_type {
	T_END,		/* NUL or a comment */
	T_WORD,
	T_REDIR,
	T_PIPE,
	T_AND,
	T_OR,
	T_SEMI,
	T_AMP,
	T_OTHER,	/* `;;` and `)`: valid nowhere */
};

struct token {
	enum tok_type type;
	const char *raw;	/* the token's text in the line, for messages */
	size_t raw_len;
	struct sh_word word;	/* T_WORD; the parser takes it over */
	enum sh_redir_op op;	/* T_REDIR */
	int fd;			/* T_REDIR */
};

struct buf {
	char *p;
	size_t len, cap;
};

struct lexer {
	const char *s;		/* the next byte; never moves past the NUL */
	struct sh_error *err;
	struct sh_word *w;	/* the word being built */
	bool is_open;		/* a part of kind `kind` is being built in `text` */
	enum sh_part_kind kind;
	struct buf text;
};

struct parser {
	struct lexer lx;
	struct token tok;	/* one token of lookahead */
};

/* Command words that a full shell gives a meaning dhish does not have. */
static const struct refused_word {
	const char *name;
	const char *what;
} refused_words[] = {
	{ "if", "conditionals" },
	{ "then", "conditionals" },
	{ "else", "conditionals" },
	{ "elif", "conditionals" },
	{ "fi", "conditionals" },
	{ "case", "conditionals" },
	{ "esac", "conditionals" },
	{ "[[", "conditional expressions" },
	{ "]]", "conditional expressions" },
	{ "!", "negated pipelines" },
	{ "for", "loops" },
	{ "while", "loops" },
	{ "until", "loops" },
	{ "select", "loops" },
	{ "do", "loops" },
	{ "done", "loops" },
	{ "function", "function definitions" },
	{ "{", "command groups" },
	{ "}", "command groups" },
	{ "eval", "running a string as commands" },
	{ "source", "running scripts" },
	{ ".", "running scripts" },
	{ "exec", "replacing the shell" },
	{ "alias", "aliases" },
	{ "trap", "signal handlers" },
	{ "set", "shell options" },
	{ "shopt", "shell options" },
	{ "bg", "job control" },
	{ "fg", "job control" },
	{ "jobs", "job control" },
	{ "coproc", "coprocesses" },
	{ "time", "the timing keyword" },
	{ NULL, NULL },
};

/* `$` followed by one of `chars`: special parameters dhish does not have. */
static const struct refused_param {
	const char *chars;
	const char *what;
} refused_params[] = {
	{ "123456789@*#", "positional parameters" },
	{ "0", "the shell's name" },
	{ "$", "the shell's process id" },
	{ "!", "the last background job" },
	{ "-", "shell options" },
	{ NULL, NULL },
};

static __attribute__((format(printf, 2, 3))) int fail(struct sh_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Copies `n` bytes of the line for a message: at most 32 of them, cut on a UTF-8 boundary,
 * with control bytes shown as `?` so that a hostile line cannot drive the terminal.
 */
static const char *shown(const char *s, size_t n, char out[static 40])
{
	bool is_cut = n > 32;
	size_t i;

	if (is_cut) {
		n = 32;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	strcpy(out + i, is_cut ? "…" : "");
	return out;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(unsigned char c)
{
	return is_name_start(c) || is_digit(c);
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Bytes that end an unquoted word. */
static bool is_break(unsigned char c)
{
	switch (c) {
	case '\0':
	case ' ':
	case '\t':
	case '|':
	case '&':
	case ';':
	case '<':
	case '>':
	case '(':
	case ')':
		return true;
	default:
		return false;
	}
}

/* Makes room for element `n` of an array holding `n` (the capacity doubles at powers of 2). */
static void *grow(void *arr, size_t n, size_t size)
{
	size_t cap = n ? 2 * n : 1;

	if (n & (n - 1))
		return arr;
	if (cap > SIZE_MAX / size)
		abort();
	return xrealloc(arr, cap * size);
}

static void buf_putc(struct buf *b, char c)
{
	if (b->len + 2 > b->cap) {
		b->cap = b->cap ? 2 * b->cap : 16;
		b->p = xrealloc(b->p, b->cap);
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static void word_free(struct sh_word *w)
{
	size_t i;

	for (i = 0; i < w->n_parts; i++)
		free(w->parts[i].text);
	free(w->parts);
	w->parts = NULL;
	w->n_parts = 0;
}

/* --- building a word's parts --- */

static void part_end(struct lexer *lx)
{
	struct sh_word *w = lx->w;

	if (!lx->is_open)
		return;
	w->parts = grow(w->parts, w->n_parts, sizeof(*w->parts));
	w->parts[w->n_parts].kind = lx->kind;
	w->parts[w->n_parts].text = lx->text.p ? lx->text.p : xstrdup("");
	w->n_parts++;
	lx->text = (struct buf){ 0 };
	lx->is_open = false;
}

/* Appends a byte, merging it with the part before when that has the same kind. */
static void part_putc(struct lexer *lx, enum sh_part_kind kind, char c)
{
	if (!lx->is_open || lx->kind != kind) {
		part_end(lx);
		lx->is_open = true;
		lx->kind = kind;
	}
	buf_putc(&lx->text, c);
}

/* A part of its own: a variable name, `?` for $?, `~` for $HOME. */
static void part_whole(struct lexer *lx, enum sh_part_kind kind, const char *s, size_t n)
{
	part_end(lx);
	part_putc(lx, kind, s[0]);
	while (--n > 0)
		buf_putc(&lx->text, *++s);
	part_end(lx);
}

/* `''` or `""`: an empty quoted part, so that expansion keeps the word as "". */
static void part_empty_quoted(struct lexer *lx)
{
	if (lx->is_open && lx->kind == SH_PART_QUOTED)
		return;
	part_end(lx);
	lx->is_open = true;
	lx->kind = SH_PART_QUOTED;
}

/* --- the lexer --- */

static int unterminated(struct lexer *lx, const char *what)
{
	return fail(lx->err, "syntax error near end of line (unterminated `%s`)", what);
}

static int refuse_param(struct lexer *lx, unsigned char c)
{
	const struct refused_param *r;

	for (r = refused_params; r->chars; r++)
		if (c != '\0' && strchr(r->chars, c))
			return fail(lx->err, "`$%c` (%s) is not supported", c, r->what);
	return 0;
}

/* `${NAME}` or `${?}`; `lx->s` is at the `$`. */
static int lex_braced(struct lexer *lx, enum sh_part_kind var)
{
	const char *name = lx->s + 2, *p = name;

	if (p[0] == '?' && p[1] == '}') {
		part_whole(lx, SH_PART_STATUS, "?", 1);
		lx->s = p + 2;
		return 0;
	}
	if (is_name_start(*p)) {
		while (is_name_char(*p))
			p++;
		if (*p == '}') {
			part_whole(lx, var, name, p - name);
			lx->s = p + 1;
			return 0;
		}
	}
	if (!strchr(name, '}'))
		return unterminated(lx, "${");
	if (name[1] == '}' && refuse_param(lx, name[0]) < 0)
		return -1;
	return fail(lx->err, "`${VAR:-…}` and other parameter operators are not supported");
}

/* `$…`; `lx->s` is at the `$`. Inside double quotes, `$'` and `$"` are plain text. */
static int lex_dollar(struct lexer *lx, bool in_dquotes)
{
	enum sh_part_kind var = in_dquotes ? SH_PART_QVAR : SH_PART_VAR;
	const char *p = lx->s + 1;

	if (*p == '?') {
		part_whole(lx, SH_PART_STATUS, "?", 1);
		lx->s = p + 1;
		return 0;
	}
	if (is_name_start(*p)) {
		while (is_name_char(*p))
			p++;
		part_whole(lx, var, lx->s + 1, p - (lx->s + 1));
		lx->s = p;
		return 0;
	}
	if (*p == '{')
		return lex_braced(lx, var);
	if (*p == '(' && p[1] == '(')
		return fail(lx->err, "`$((…))` (arithmetic expansion) is not supported");
	if (*p == '(')
		return fail(lx->err, "`$(…)` (command substitution) is not supported");
	if (*p == '[')
		return fail(lx->err, "`$[…]` (arithmetic expansion) is not supported");
	if (!in_dquotes && *p == '\'')
		return fail(lx->err, "`$'…'` (ANSI-C quoting) is not supported");
	if (!in_dquotes && *p == '"')
		return fail(lx->err, "`$\"…\"` (locale translation) is not supported");
	if (refuse_param(lx, *p) < 0)
		return -1;
	part_putc(lx, in_dquotes ? SH_PART_QUOTED : SH_PART_LITERAL, '$');
	lx->s = p;
	return 0;
}

static int refuse_backticks(struct lexer *lx)
{
	return fail(lx->err, "backticks (command substitution) are not supported");
}

static int lex_squotes(struct lexer *lx)
{
	const char *end = strchr(lx->s + 1, '\'');
	const char *p;

	if (!end)
		return unterminated(lx, "'");
	if (end == lx->s + 1)
		part_empty_quoted(lx);
	for (p = lx->s + 1; p < end; p++)
		part_putc(lx, SH_PART_QUOTED, *p);
	lx->s = end + 1;
	return 0;
}

static int lex_dquotes(struct lexer *lx)
{
	const char *open = lx->s++;

	for (;;) {
		char c = *lx->s;

		if (c == '\0')
			return unterminated(lx, "\"");
		if (c == '"')
			break;
		if (c == '`')
			return refuse_backticks(lx);
		if (c == '$') {
			if (lex_dollar(lx, true) < 0)
				return -1;
			continue;
		}
		/* inside "…", a backslash quotes only $ ` " and itself, as in sh */
		if (c == '\\' && lx->s[1] != '\0' && strchr("$`\"\\", lx->s[1]))
			c = *++lx->s;
		part_putc(lx, SH_PART_QUOTED, c);
		lx->s++;
	}
	if (lx->s == open + 1)
		part_empty_quoted(lx);
	lx->s++;
	return 0;
}

/* A leading `~`: $HOME when alone or before `/`; `~user`, `~+` and `~-` are refused. */
static int lex_tilde(struct lexer *lx)
{
	unsigned char next = lx->s[1];

	if (next != '/' && !is_break(next))
		return fail(lx->err, "`~user` (another user's home directory) is not supported");
	part_whole(lx, SH_PART_HOME, "~", 1);
	lx->s++;
	return 0;
}

/* Unquoted `{a,b}` or `{1..3}`: bash would expand it, dhish would pass it on as typed. */
static bool has_brace_expansion(const struct sh_word *w)
{
	bool is_in = false, has_sep = false;
	size_t i;
	const char *p;

	for (i = 0; i < w->n_parts; i++) {
		if (w->parts[i].kind != SH_PART_LITERAL)
			continue;
		for (p = w->parts[i].text; *p; p++) {
			if (*p == '{') {
				is_in = true;
				has_sep = false;
			} else if (*p == ',' || (*p == '.' && p[1] == '.')) {
				has_sep = is_in;
			} else if (*p == '}') {
				if (is_in && has_sep)
					return true;
				is_in = false;
			}
		}
	}
	return false;
}

static int lex_word_parts(struct lexer *lx)
{
	if (*lx->s == '~' && lex_tilde(lx) < 0)
		return -1;
	while (!is_break(*lx->s)) {
		switch (*lx->s) {
		case '\\':
			if (lx->s[1] == '\0')
				return fail(lx->err,
					    "syntax error near end of line (nothing after `\\`)");
			part_putc(lx, SH_PART_QUOTED, lx->s[1]);
			lx->s += 2;
			break;
		case '\'':
			if (lex_squotes(lx) < 0)
				return -1;
			break;
		case '"':
			if (lex_dquotes(lx) < 0)
				return -1;
			break;
		case '`':
			return refuse_backticks(lx);
		case '$':
			if (lex_dollar(lx, false) < 0)
				return -1;
			break;
		default:
			part_putc(lx, SH_PART_LITERAL, *lx->s++);
			break;
		}
	}
	part_end(lx);
	if (has_brace_expansion(lx->w))
		return fail(lx->err,
			    "`{a,b}` (brace expansion) is not supported; quote the braces");
	return 0;
}

static int lex_word(struct lexer *lx, struct token *t)
{
	t->type = T_WORD;
	lx->w = &t->word;
	if (lex_word_parts(lx) < 0) {
		free(lx->text.p);
		lx->text = (struct buf){ 0 };
		lx->is_open = false;
		return -1;
	}
	return 0;
}

/* `<…` or `>…`, with `fd` the digit before it or -1. */
static int lex_redir(struct lexer *lx, struct token *t, int fd)
{
	const char *s = lx->s;
	size_t len = 1;

	t->type = T_REDIR;
	if (s[0] == '<') {
		if (s[1] == '<' && s[2] == '<')
			return fail(lx->err, "`<<<` (here-strings) is not supported");
		if (s[1] == '<')
			return fail(lx->err, "`<<` (here-documents) is not supported");
		if (s[1] == '>')
			return fail(lx->err, "`<>` (read-write redirection) is not supported");
		if (s[1] == '&')
			return fail(lx->err,
				    "`<&` (duplicating an input descriptor) is not supported");
		if (s[1] == '(')
			return fail(lx->err, "`<(…)` (process substitution) is not supported");
		t->op = SH_REDIR_IN;
	} else if (s[1] == '>') {
		t->op = SH_REDIR_APPEND;
		len = 2;
	} else if (s[1] == '&') {
		t->op = SH_REDIR_DUP;
		len = 2;
	} else if (s[1] == '|') {
		return fail(lx->err, "`>|` (overriding noclobber) is not supported");
	} else if (s[1] == '(') {
		return fail(lx->err, "`>(…)` (process substitution) is not supported");
	} else {
		t->op = SH_REDIR_OUT;
	}
	t->fd = fd >= 0 ? fd : t->op == SH_REDIR_IN ? 0 : 1;
	lx->s += len;
	return 0;
}

static int lex_paren(struct lexer *lx)
{
	const char *p = lx->s + 1;

	if (*p == '(')
		return fail(lx->err, "`((…))` (arithmetic commands) is not supported");
	while (is_blank(*p))
		p++;
	if (*p == ')')
		return fail(lx->err, "`name() {…}` (function definitions) is not supported");
	return fail(lx->err, "`(…)` (subshells) is not supported");
}

/* An operator of `len` bytes. */
static int op(struct lexer *lx, struct token *t, enum tok_type type, size_t len)
{
	t->type = type;
	lx->s += len;
	return 0;
}

static int lex_token(struct lexer *lx, struct token *t)
{
	const char *s = lx->s, *p;
	char tmp[40];

	if (*s == '\0' || *s == '#')
		return op(lx, t, T_END, 0);
	if (is_digit(s[0]) && (s[1] == '<' || s[1] == '>')) {
		lx->s++;
		return lex_redir(lx, t, s[0] - '0');
	}
	for (p = s; is_digit(*p); p++)
		;
	if (p > s && (*p == '<' || *p == '>'))
		return fail(lx->err, "`%s%c` (file descriptors above 9) is not supported",
			    shown(s, p - s, tmp), *p);

	switch (*s) {
	case '|':
		if (s[1] == '&')
			return fail(lx->err, "`|&` (piping stderr) is not supported; use `2>&1 |`");
		return s[1] == '|' ? op(lx, t, T_OR, 2) : op(lx, t, T_PIPE, 1);
	case '&':
		if (s[1] == '&')
			return op(lx, t, T_AND, 2);
		if (s[1] == '>' && s[2] == '>')
			return fail(lx->err,
				    "`&>>` (appending stdout and stderr) is not supported");
		if (s[1] != '>')
			return op(lx, t, T_AMP, 1);
		t->type = T_REDIR;
		t->op = SH_REDIR_BOTH;
		t->fd = 1;
		lx->s += 2;
		return 0;
	case ';':
		return s[1] == ';' ? op(lx, t, T_OTHER, 2) : op(lx, t, T_SEMI, 1);
	case '<':
	case '>':
		return lex_redir(lx, t, -1);
	case '(':
		return lex_paren(lx);
	case ')':
		return op(lx, t, T_OTHER, 1);
	default:
		return lex_word(lx, t);
	}
}

static int next_token(struct lexer *lx, struct token *t)
{
	word_free(&t->word);
	memset(t, 0, sizeof(*t));
	while (is_blank(*lx->s))
		lx->s++;
	t->raw = lx->s;
	if (lex_token(lx, t) < 0)
		return -1;
	t->raw_len = lx->s - t->raw;
	return 0;
}

/* --- the parser --- */

static int advance(struct parser *p)
{
	return next_token(&p->lx, &p->tok);
}

static int syntax_error(struct parser *p)
{
	char tmp[40];

	if (p->tok.type == T_END)
		return fail(p->lx.err, "syntax error near end of line");
	return fail(p->lx.err, "syntax error near `%s`", shown(p->tok.raw, p->tok.raw_len, tmp));
}

/* The word's text when it has no expansion in it (e.g. `eval`, `'eval'`), into `out`. */
static bool static_text(const struct sh_word *w, char *out, size_t size)
{
	size_t i, len = 0, n;

	for (i = 0; i < w->n_parts; i++) {
		if (w->parts[i].kind != SH_PART_LITERAL && w->parts[i].kind != SH_PART_QUOTED)
			return false;
		n = strlen(w->parts[i].text);
		if (n >= size - len)
			return false;
		memcpy(out + len, w->parts[i].text, n);
		len += n;
	}
	out[len] = '\0';
	return true;
}

/* `NAME=…` or `NAME+=…` in command position: an assignment in a full shell. */
static bool is_assignment(const struct sh_word *w)
{
	const char *p;

	if (w->n_parts == 0)
		return false;
	p = w->parts[0].text;
	if (w->parts[0].kind != SH_PART_LITERAL || !is_name_start(*p))
		return false;
	while (is_name_char(*p))
		p++;
	return p[0] == '=' || (p[0] == '+' && p[1] == '=');
}

static int check_command_word(struct parser *p, const struct sh_word *w)
{
	const struct refused_word *r;
	char text[16];

	if (is_assignment(w))
		return fail(p->lx.err, "`NAME=value` (variable assignments) is not supported; "
				       "use `export` or `env NAME=value <command>`");
	if (!static_text(w, text, sizeof(text)))
		return 0;
	for (r = refused_words; r->name; r++)
		if (strcmp(text, r->name) == 0)
			return fail(p->lx.err, "`%s` (%s) is not supported", r->name, r->what);
	return 0;
}

/* After `N>&`: the word must be one digit (`-`, which closes N, is refused). */
static int parse_dup(struct parser *p, struct sh_redir *r)
{
	char text[16];
	size_t n = 0;

	if (!static_text(&p->tok.word, text, sizeof(text)))
		return syntax_error(p);
	if (strcmp(text, "-") == 0)
		return fail(p->lx.err, "`>&-` (closing a file descriptor) is not supported");
	while (is_digit(text[n]))
		n++;
	if (n == 0 || text[n] != '\0')
		return syntax_error(p);
	if (n > 1)
		return fail(p->lx.err, "`>&%s` (file descriptors above 9) is not supported", text);
	r->dup_fd = text[0] - '0';
	return 0;
}

static int parse_redir(struct parser *p, struct sh_command *c)
{
	struct sh_redir *r;

	c->redirs = grow(c->redirs, c->n_redirs, sizeof(*c->redirs));
	r = &c->redirs[c->n_redirs++];
	*r = (struct sh_redir){ .op = p->tok.op, .fd = p->tok.fd };
	if (advance(p) < 0)
		return -1;
	if (p->tok.type != T_WORD)
		return syntax_error(p);
	if (r->op == SH_REDIR_DUP) {
		if (parse_dup(p, r) < 0)
			return -1;
	} else {
		r->target = xmalloc(sizeof(*r->target));
		*r->target = p->tok.word;
		p->tok.word = (struct sh_word){ 0 };
	}
	return advance(p);
}

static int parse_command(struct parser *p, struct sh_command *c)
{
	for (;;) {
		if (p->tok.type == T_REDIR) {
			if (parse_redir(p, c) < 0)
				return -1;
			continue;
		}
		if (p->tok.type != T_WORD)
			break;
		if (c->n_words == 0 && check_command_word(p, &p->tok.word) < 0)
			return -1;
		c->words = grow(c->words, c->n_words, sizeof(*c->words));
		c->words[c->n_words++] = p->tok.word;
		p->tok.word = (struct sh_word){ 0 };
		if (advance(p) < 0)
			return -1;
	}
	if (c->n_words == 0 && c->n_redirs == 0)
		return syntax_error(p);
	return 0;
}

static int parse_pipeline(struct parser *p, struct sh_pipeline *pl)
{
	for (;;) {
		pl->cmds = grow(pl->cmds, pl->n_cmds, sizeof(*pl->cmds));
		pl->cmds[pl->n_cmds] = (struct sh_command){ 0 };
		if (parse_command(p, &pl->cmds[pl->n_cmds++]) < 0)
			return -1;
		if (p->tok.type != T_PIPE)
			return 0;
		if (advance(p) < 0)
			return -1;
	}
}

/* The connector after a pipeline: `;`, `&&`, `||` or the end; `&` and others are refused. */
static int parse_connector(struct parser *p, enum sh_connector *after)
{
	switch (p->tok.type) {
	case T_END:
		return 0;
	case T_SEMI:
		*after = SH_SEQ;
		return advance(p);
	case T_AND:
		*after = SH_AND;
		break;
	case T_OR:
		*after = SH_OR;
		break;
	case T_AMP:
		return fail(p->lx.err, "`&` (background jobs) is not supported");
	default:
		return syntax_error(p);
	}
	if (advance(p) < 0)
		return -1;
	/* unlike after `;`, something must follow `&&` and `||` */
	return p->tok.type == T_END ? syntax_error(p) : 0;
}

struct sh_list *sh_parse(const char *line, struct sh_error *err)
{
	struct parser p = { .lx = { .s = line, .err = err } };
	struct sh_list *l = xzalloc(sizeof(*l));

	/* one line at a time: a newline would let one audited line hide a second command */
	if (strchr(line, '\n')) {
		fail(err, "syntax error near newline (dhish reads one line at a time)");
		goto fail;
	}
	if (advance(&p) < 0)
		goto fail;
	while (p.tok.type != T_END) {
		l->items = grow(l->items, l->n_items, sizeof(*l->items));
		l->after = grow(l->after, l->n_items, sizeof(*l->after));
		l->items[l->n_items] = (struct sh_pipeline){ 0 };
		l->after[l->n_items] = SH_SEQ;
		l->n_items++;
		if (parse_pipeline(&p, &l->items[l->n_items - 1]) < 0 ||
		    parse_connector(&p, &l->after[l->n_items - 1]) < 0)
			goto fail;
	}
	return l;
fail:
	word_free(&p.tok.word);
	sh_list_free(l);
	return NULL;
}

void sh_list_free(struct sh_list *l)
{
	size_t i, j, k;

	if (!l)
		return;
	for (i = 0; i < l->n_items; i++) {
		struct sh_pipeline *pl = &l->items[i];

		for (j = 0; j < pl->n_cmds; j++) {
			struct sh_command *c = &pl->cmds[j];

			for (k = 0; k < c->n_words; k++)
				word_free(&c->words[k]);
			for (k = 0; k < c->n_redirs; k++) {
				if (c->redirs[k].target)
					word_free(c->redirs[k].target);
				free(c->redirs[k].target);
			}
			free(c->words);
			free(c->redirs);
		}
		free(pl->cmds);
	}
	free(l->items);
	free(l->after);
	free(l);
}
