// SPDX-License-Identifier: Apache-2.0
/* test_shell_lang.c - dhish's lexer, parser and expansion, on good, refused and hostile lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "injector/shell/lang.h"

/* --- rendering an AST as one string, so that a test asserts all of it at once ---
 * A word is [part,part]: L:literal Q:quoted V:var QV:quoted-var S ($?) H (~).
 * Redirections: 0<[…] 1>[…] 1>>[…] 2>&1 &>[…]; connectors ` | ` ` ; ` ` && ` ` || `. */

struct out {
	char s[4096];
	size_t len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	o->len += vsnprintf(o->s + o->len, sizeof(o->s) - o->len, fmt, ap);
	va_end(ap);
	assert_true(o->len < sizeof(o->s));
}

static void put_word(struct out *o, const struct sh_word *w)
{
	static const char *const kinds[] = {
		[SH_PART_LITERAL] = "L:", [SH_PART_QUOTED] = "Q:", [SH_PART_VAR] = "V:",
		[SH_PART_QVAR] = "QV:",   [SH_PART_STATUS] = "S",  [SH_PART_HOME] = "H",
	};
	size_t i;

	put(o, "[");
	for (i = 0; i < w->n_parts; i++) {
		enum sh_part_kind k = w->parts[i].kind;

		put(o, "%s%s%s", i ? "," : "", kinds[k],
		    k == SH_PART_STATUS || k == SH_PART_HOME ? "" : w->parts[i].text);
	}
	put(o, "]");
}

static void put_command(struct out *o, const struct sh_command *c)
{
	size_t i;

	for (i = 0; i < c->n_words; i++) {
		put(o, "%s", i ? " " : "");
		put_word(o, &c->words[i]);
	}
	for (i = 0; i < c->n_redirs; i++) {
		const struct sh_redir *r = &c->redirs[i];

		put(o, "%s", i || c->n_words ? " " : "");
		switch (r->op) {
		case SH_REDIR_IN:
			put(o, "%d<", r->fd);
			break;
		case SH_REDIR_OUT:
			put(o, "%d>", r->fd);
			break;
		case SH_REDIR_APPEND:
			put(o, "%d>>", r->fd);
			break;
		case SH_REDIR_DUP:
			assert_null(r->target);
			put(o, "%d>&%d", r->fd, r->dup_fd);
			continue;
		case SH_REDIR_BOTH:
			assert_int_equal(r->fd, 1);
			put(o, "&>");
			break;
		}
		put_word(o, r->target);
	}
}

static const char *render(const struct sh_list *l, struct out *o)
{
	static const char *const conn[] = { [SH_SEQ] = " ; ", [SH_AND] = " && ", [SH_OR] = " || " };
	size_t i, j;

	o->len = 0;
	o->s[0] = '\0';
	for (i = 0; i < l->n_items; i++) {
		for (j = 0; j < l->items[i].n_cmds; j++) {
			put(o, "%s", j ? " | " : "");
			put_command(o, &l->items[i].cmds[j]);
		}
		if (i + 1 < l->n_items)
			put(o, "%s", conn[l->after[i]]);
	}
	if (l->n_items)
		assert_int_equal(l->after[l->n_items - 1], SH_SEQ);
	return o->s;
}

static void assert_parses(const char *line, const char *want)
{
	struct sh_error err = { "" };
	struct sh_list *l = sh_parse(line, &err);
	struct out o;

	if (!l)
		fail_msg("`%s` did not parse: %s", line, err.msg);
	assert_string_equal(render(l, &o), want);
	sh_list_free(l);
}

static void assert_refused(const char *line, const char *msg)
{
	struct sh_error err = { "" };
	struct sh_list *l = sh_parse(line, &err);

	if (l)
		fail_msg("`%s` parsed", line);
	assert_string_equal(err.msg, msg);
}

/* --- variables for expansion --- */

static const char *const vars_table[][2] = {
	{ "A", "a" },
	{ "B", "b" },
	{ "SP", "two  words" },
	{ "STAR", "*.c" },
	{ "EMPTY", "" },
	{ "HOME", "/home/me" },
	{ "DOLLAR", "$A" },
	{ NULL, NULL },
};

static const char *get_var(const char *name, void *arg)
{
	size_t i;

	for (i = 0; vars_table[i][0]; i++)
		if (strcmp(vars_table[i][0], name) == 0)
			return vars_table[i][1];
	return NULL;
}

static const char *get_nothing(const char *name, void *arg)
{
	return NULL;
}

static const struct sh_vars vars = { .get = get_var, .last_status = 42 };

/* Parses `line` (one simple command), expands its words and compares with `want`
 * ("|"-separated arguments, each in <>). */
static void assert_expands_with(const char *line, const struct sh_vars *v, const char *want)
{
	struct sh_error err = { "" };
	struct sh_list *l = sh_parse(line, &err);
	char **argv, **p;
	struct out o = { .len = 0 };

	if (!l)
		fail_msg("`%s` did not parse: %s", line, err.msg);
	assert_int_equal(l->n_items, 1);
	assert_int_equal(l->items[0].n_cmds, 1);
	argv = sh_expand_words(l->items[0].cmds[0].words, l->items[0].cmds[0].n_words, v, &err);
	assert_non_null(argv);
	o.s[0] = '\0';
	for (p = argv; *p; p++)
		put(&o, "%s<%s>", p == argv ? "" : "|", *p);
	assert_string_equal(o.s, want);
	sh_argv_free(argv);
	sh_list_free(l);
}

static void assert_expands(const char *line, const char *want)
{
	assert_expands_with(line, &vars, want);
}

/* Expands the target of the first redirection of `line`; NULL `want` means an error `msg`. */
static void assert_target(const char *line, const char *want, const char *msg)
{
	struct sh_error err = { "" };
	struct sh_list *l = sh_parse(line, &err);
	char *t;

	assert_non_null(l);
	assert_true(l->items[0].cmds[0].n_redirs >= 1);
	t = sh_expand_target(l->items[0].cmds[0].redirs[0].target, &vars, &err);
	if (want) {
		assert_non_null(t);
		assert_string_equal(t, want);
	} else {
		assert_null(t);
		assert_string_equal(err.msg, msg);
	}
	free(t);
	sh_list_free(l);
}

/* --- globbing: a temp dir, the cwd while the glob group runs --- */

static char tmpdir[] = "/tmp/dhi-test-shell-XXXXXX";
static int oldcwd = -1;
static const char *const glob_files[] = {
	"b.c", "a.c", "c.h", ".hidden.c", "sp ace.c", "x[1].c", NULL,
};

static int glob_setup(void **state)
{
	const char *const *f;
	int fd;

	if (!mkdtemp(tmpdir))
		return -1;
	oldcwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (oldcwd < 0 || chdir(tmpdir) < 0)
		return -1;
	for (f = glob_files; *f; f++) {
		fd = open(*f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return 0;
}

static int glob_teardown(void **state)
{
	const char *const *f;

	for (f = glob_files; *f; f++)
		unlink(*f);
	if (oldcwd >= 0) {
		if (fchdir(oldcwd) < 0)
			return -1;
		close(oldcwd);
	}
	return rmdir(tmpdir);
}

/* === parsing: what is supported === */

static void test_sh_parse_empty_line(void **state)
{
	assert_parses("", "");
}

static void test_sh_parse_blank_line(void **state)
{
	assert_parses(" \t  ", "");
}

static void test_sh_parse_comment_line(void **state)
{
	assert_parses("  # ls | rm; `x` $(y)", "");
}

static void test_sh_parse_simple_command(void **state)
{
	assert_parses("ls -l /proc", "[L:ls] [L:-l] [L:/proc]");
}

static void test_sh_parse_blanks_between_words(void **state)
{
	assert_parses("\t ls  \t -l  ", "[L:ls] [L:-l]");
}

static void test_sh_parse_comment_after_words(void **state)
{
	assert_parses("ls #-l", "[L:ls]");
}

static void test_sh_parse_hash_inside_word(void **state)
{
	assert_parses("echo a#b", "[L:echo] [L:a#b]");
}

static void test_sh_parse_single_quotes(void **state)
{
	assert_parses("echo 'a $B \\ \"c\" `d`'", "[L:echo] [Q:a $B \\ \"c\" `d`]");
}

static void test_sh_parse_double_quotes(void **state)
{
	assert_parses("echo \"a 'b' c\"", "[L:echo] [Q:a 'b' c]");
}

static void test_sh_parse_double_quotes_backslash(void **state)
{
	/* \$ \" \\ \` are escapes in "…"; \n is two characters */
	assert_parses("echo \"\\$A \\\" \\\\ \\` \\n\"", "[L:echo] [Q:$A \" \\ ` \\n]");
}

static void test_sh_parse_backslash(void **state)
{
	assert_parses("echo a\\ b\\*", "[L:echo] [L:a,Q: ,L:b,Q:*]");
}

static void test_sh_parse_adjacent_quotes_merge(void **state)
{
	assert_parses("echo 'a'\"b\"\\c", "[L:echo] [Q:abc]");
}

static void test_sh_parse_mixed_parts(void **state)
{
	assert_parses("echo x'y'z", "[L:echo] [L:x,Q:y,L:z]");
}

static void test_sh_parse_empty_single_quotes(void **state)
{
	assert_parses("echo ''", "[L:echo] [Q:]");
}

static void test_sh_parse_empty_double_quotes(void **state)
{
	assert_parses("echo \"\"", "[L:echo] [Q:]");
}

static void test_sh_parse_empty_quotes_twice(void **state)
{
	assert_parses("echo \"\"''", "[L:echo] [Q:]");
}

static void test_sh_parse_empty_quotes_then_var(void **state)
{
	assert_parses("echo \"\"$X", "[L:echo] [Q:,V:X]");
}

static void test_sh_parse_variable(void **state)
{
	assert_parses("echo $HOME", "[L:echo] [V:HOME]");
}

static void test_sh_parse_variable_braced(void **state)
{
	assert_parses("echo ${A}b", "[L:echo] [V:A,L:b]");
}

static void test_sh_parse_variable_ends_at_non_name(void **state)
{
	assert_parses("echo $A-$B_1.x", "[L:echo] [V:A,L:-,V:B_1,L:.x]");
}

static void test_sh_parse_variable_in_double_quotes(void **state)
{
	assert_parses("echo \"x$A ${B}\"", "[L:echo] [Q:x,QV:A,Q: ,QV:B]");
}

static void test_sh_parse_status(void **state)
{
	assert_parses("echo $? \"$?\" ${?}", "[L:echo] [S] [S] [S]");
}

static void test_sh_parse_lone_dollar(void **state)
{
	assert_parses("echo $ a$ $/ \"$\" \"$'\"", "[L:echo] [L:$] [L:a$] [L:$/] [Q:$] [Q:$']");
}

static void test_sh_parse_tilde_alone(void **state)
{
	assert_parses("cd ~", "[L:cd] [H]");
}

static void test_sh_parse_tilde_slash(void **state)
{
	assert_parses("ls ~/x", "[L:ls] [H,L:/x]");
}

static void test_sh_parse_tilde_not_leading(void **state)
{
	assert_parses("echo a~ a/~", "[L:echo] [L:a~] [L:a/~]");
}

static void test_sh_parse_tilde_quoted(void **state)
{
	assert_parses("echo '~' \\~", "[L:echo] [Q:~] [Q:~]");
}

static void test_sh_parse_braces_without_expansion(void **state)
{
	assert_parses("find . -exec rm {} + @{u}",
		      "[L:find] [L:.] [L:-exec] [L:rm] [L:{}] [L:+] [L:@{u}]");
}

static void test_sh_parse_quoted_brace_list(void **state)
{
	assert_parses("echo '{a,b}' \\{a,b}", "[L:echo] [Q:{a,b}] [Q:{,L:a,b}]");
}

static void test_sh_parse_assignment_as_argument(void **state)
{
	assert_parses("env A=1 ls", "[L:env] [L:A=1] [L:ls]");
}

static void test_sh_parse_keyword_as_argument(void **state)
{
	assert_parses("echo if eval {", "[L:echo] [L:if] [L:eval] [L:{]");
}

static void test_sh_parse_non_ascii_bytes(void **state)
{
	assert_parses("echo h\xc3\xa9 \x01\x7f\xff", "[L:echo] [L:h\xc3\xa9] [L:\x01\x7f\xff]");
}

static void test_sh_parse_pipeline(void **state)
{
	assert_parses("ps aux | grep app | wc -l",
		      "[L:ps] [L:aux] | [L:grep] [L:app] | [L:wc] [L:-l]");
}

static void test_sh_parse_sequence(void **state)
{
	assert_parses("a; b ;c", "[L:a] ; [L:b] ; [L:c]");
}

static void test_sh_parse_trailing_semicolon(void **state)
{
	assert_parses("a;", "[L:a]");
}

static void test_sh_parse_and_or(void **state)
{
	assert_parses("false || echo ok && true", "[L:false] || [L:echo] [L:ok] && [L:true]");
}

static void test_sh_parse_operators_without_blanks(void **state)
{
	assert_parses("a|b;c&&d||e", "[L:a] | [L:b] ; [L:c] && [L:d] || [L:e]");
}

static void test_sh_parse_redirect_in(void **state)
{
	assert_parses("wc -l < /tmp/x", "[L:wc] [L:-l] 0<[L:/tmp/x]");
}

static void test_sh_parse_redirect_out(void **state)
{
	assert_parses("ls >/tmp/x", "[L:ls] 1>[L:/tmp/x]");
}

static void test_sh_parse_redirect_append(void **state)
{
	assert_parses("ls >> x", "[L:ls] 1>>[L:x]");
}

static void test_sh_parse_redirect_stderr(void **state)
{
	assert_parses("ls 2> err 2>>log 0<in 3>x", "[L:ls] 2>[L:err] 2>>[L:log] 0<[L:in] 3>[L:x]");
}

static void test_sh_parse_redirect_dup(void **state)
{
	assert_parses("ls 2>&1 >&2 1>&2 2>& 1", "[L:ls] 2>&1 1>&2 1>&2 2>&1");
}

static void test_sh_parse_redirect_both(void **state)
{
	assert_parses("make &> log", "[L:make] &>[L:log]");
}

static void test_sh_parse_redirect_before_command(void **state)
{
	assert_parses(">out 2>&1 ls -l", "[L:ls] [L:-l] 1>[L:out] 2>&1");
}

static void test_sh_parse_redirect_only(void **state)
{
	assert_parses("> /tmp/empty", "1>[L:/tmp/empty]");
}

static void test_sh_parse_redirect_quoted_target(void **state)
{
	assert_parses("ls > \"$D/x y\"", "[L:ls] 1>[QV:D,Q:/x y]");
}

static void test_sh_parse_digit_inside_word_is_not_fd(void **state)
{
	assert_parses("echo a2>x", "[L:echo] [L:a2] 1>[L:x]");
}

static void test_sh_parse_multidigit_word(void **state)
{
	assert_parses("head -n 10 x", "[L:head] [L:-n] [L:10] [L:x]");
}

static void test_sh_parse_redirect_in_pipeline(void **state)
{
	assert_parses("a 2>&1 | b > o && c < i",
		      "[L:a] 2>&1 | [L:b] 1>[L:o] && [L:c] 0<[L:i]");
}

/* === parsing: what is refused, each with its message === */

#define PARAM_OPERATORS "`${VAR:-…}` and other parameter operators are not supported"
#define BRACE_EXPANSION "`{a,b}` (brace expansion) is not supported; quote the braces"
#define ASSIGNMENT \
	"`NAME=value` (variable assignments) is not supported; " \
	"use `export` or `env NAME=value <command>`"
#define NEWLINE "syntax error near newline (dhish reads one line at a time)"

static void test_sh_parse_refuses_background(void **state)
{
	assert_refused("sleep 100 &", "`&` (background jobs) is not supported");
}

static void test_sh_parse_refuses_background_mid_line(void **state)
{
	assert_refused("a & b", "`&` (background jobs) is not supported");
}

static void test_sh_parse_refuses_command_substitution(void **state)
{
	assert_refused("echo $(id)", "`$(…)` (command substitution) is not supported");
}

static void test_sh_parse_refuses_command_substitution_in_quotes(void **state)
{
	assert_refused("echo \"$(id)\"", "`$(…)` (command substitution) is not supported");
}

static void test_sh_parse_refuses_backticks(void **state)
{
	assert_refused("echo `id`", "backticks (command substitution) are not supported");
}

static void test_sh_parse_refuses_backticks_in_quotes(void **state)
{
	assert_refused("echo \"`id`\"", "backticks (command substitution) are not supported");
}

static void test_sh_parse_refuses_arithmetic_expansion(void **state)
{
	assert_refused("echo $((1+2))", "`$((…))` (arithmetic expansion) is not supported");
}

static void test_sh_parse_refuses_old_arithmetic(void **state)
{
	assert_refused("echo $[1+2]", "`$[…]` (arithmetic expansion) is not supported");
}

static void test_sh_parse_refuses_process_substitution_in(void **state)
{
	assert_refused("diff <(ls) x", "`<(…)` (process substitution) is not supported");
}

static void test_sh_parse_refuses_process_substitution_out(void **state)
{
	assert_refused("tee >(wc)", "`>(…)` (process substitution) is not supported");
}

static void test_sh_parse_refuses_subshell(void **state)
{
	assert_refused("(cd /; ls)", "`(…)` (subshells) is not supported");
}

static void test_sh_parse_refuses_arithmetic_command(void **state)
{
	assert_refused("((i++))", "`((…))` (arithmetic commands) is not supported");
}

static void test_sh_parse_refuses_function_definition(void **state)
{
	assert_refused("f() { ls; }", "`name() {…}` (function definitions) is not supported");
}

static void test_sh_parse_refuses_function_keyword(void **state)
{
	assert_refused("function f { ls; }", "`function` (function definitions) is not supported");
}

static void test_sh_parse_refuses_command_group(void **state)
{
	assert_refused("{ ls; }", "`{` (command groups) is not supported");
}

static void test_sh_parse_refuses_here_document(void **state)
{
	assert_refused("cat <<EOF", "`<<` (here-documents) is not supported");
}

static void test_sh_parse_refuses_here_string(void **state)
{
	assert_refused("cat <<< x", "`<<<` (here-strings) is not supported");
}

static void test_sh_parse_refuses_read_write(void **state)
{
	assert_refused("cat <> x", "`<>` (read-write redirection) is not supported");
}

static void test_sh_parse_refuses_clobber(void **state)
{
	assert_refused("ls >| x", "`>|` (overriding noclobber) is not supported");
}

static void test_sh_parse_refuses_input_dup(void **state)
{
	assert_refused("cat 0<&3", "`<&` (duplicating an input descriptor) is not supported");
}

static void test_sh_parse_refuses_fd_close(void **state)
{
	assert_refused("ls 2>&-", "`>&-` (closing a file descriptor) is not supported");
}

static void test_sh_parse_refuses_append_both(void **state)
{
	assert_refused("ls &>> x", "`&>>` (appending stdout and stderr) is not supported");
}

static void test_sh_parse_refuses_pipe_stderr(void **state)
{
	assert_refused("ls |& wc", "`|&` (piping stderr) is not supported; use `2>&1 |`");
}

static void test_sh_parse_refuses_fd_above_9(void **state)
{
	assert_refused("ls 12>x", "`12>` (file descriptors above 9) is not supported");
}

static void test_sh_parse_refuses_dup_above_9(void **state)
{
	assert_refused("ls 2>&10", "`>&10` (file descriptors above 9) is not supported");
}

static void test_sh_parse_refuses_parameter_operator(void **state)
{
	assert_refused("echo ${A:-x}", PARAM_OPERATORS);
}

static void test_sh_parse_refuses_parameter_length(void **state)
{
	assert_refused("echo \"${#A}\"", PARAM_OPERATORS);
}

static void test_sh_parse_refuses_positional(void **state)
{
	assert_refused("echo $1", "`$1` (positional parameters) is not supported");
}

static void test_sh_parse_refuses_positional_braced(void **state)
{
	assert_refused("echo ${2}", "`$2` (positional parameters) is not supported");
}

static void test_sh_parse_refuses_all_args(void **state)
{
	assert_refused("echo \"$@\"", "`$@` (positional parameters) is not supported");
}

static void test_sh_parse_refuses_star_args(void **state)
{
	assert_refused("echo $*", "`$*` (positional parameters) is not supported");
}

static void test_sh_parse_refuses_arg_count(void **state)
{
	assert_refused("echo $#", "`$#` (positional parameters) is not supported");
}

static void test_sh_parse_refuses_pid(void **state)
{
	assert_refused("echo $$", "`$$` (the shell's process id) is not supported");
}

static void test_sh_parse_refuses_last_job(void **state)
{
	assert_refused("echo $!", "`$!` (the last background job) is not supported");
}

static void test_sh_parse_refuses_options(void **state)
{
	assert_refused("echo $-", "`$-` (shell options) is not supported");
}

static void test_sh_parse_refuses_shell_name(void **state)
{
	assert_refused("echo $0", "`$0` (the shell's name) is not supported");
}

static void test_sh_parse_refuses_ansi_c_quoting(void **state)
{
	assert_refused("echo $'\\n'", "`$'…'` (ANSI-C quoting) is not supported");
}

static void test_sh_parse_refuses_locale_quoting(void **state)
{
	assert_refused("echo $\"x\"", "`$\"…\"` (locale translation) is not supported");
}

static void test_sh_parse_refuses_tilde_user(void **state)
{
	assert_refused("ls ~root", "`~user` (another user's home directory) is not supported");
}

static void test_sh_parse_refuses_tilde_plus(void **state)
{
	assert_refused("ls ~+", "`~user` (another user's home directory) is not supported");
}

static void test_sh_parse_refuses_brace_list(void **state)
{
	assert_refused("mkdir a/{b,c}", BRACE_EXPANSION);
}

static void test_sh_parse_refuses_brace_sequence(void **state)
{
	assert_refused("echo {1..3}", BRACE_EXPANSION);
}

static void test_sh_parse_refuses_assignment(void **state)
{
	assert_refused("PATH=/x ls", ASSIGNMENT);
}

static void test_sh_parse_refuses_append_assignment(void **state)
{
	assert_refused("A+=x", ASSIGNMENT);
}

static void test_sh_parse_refuses_assignment_after_redirect(void **state)
{
	assert_refused(">x A=1", ASSIGNMENT);
}

/* every keyword and builtin of the table, in command position */
static void test_sh_parse_refuses_keywords(void **state)
{
	static const char *const cases[][2] = {
		{ "if true; then ls; fi", "`if` (conditionals)" },
		{ "then", "`then` (conditionals)" },
		{ "else", "`else` (conditionals)" },
		{ "elif", "`elif` (conditionals)" },
		{ "ls; fi", "`fi` (conditionals)" },
		{ "case x in", "`case` (conditionals)" },
		{ "esac", "`esac` (conditionals)" },
		{ "[[ -e x ]]", "`[[` (conditional expressions)" },
		{ "]]", "`]]` (conditional expressions)" },
		{ "! true", "`!` (negated pipelines)" },
		{ "for i in 1; do ls; done", "`for` (loops)" },
		{ "while true", "`while` (loops)" },
		{ "until false", "`until` (loops)" },
		{ "select x in a", "`select` (loops)" },
		{ "a && do", "`do` (loops)" },
		{ "a | done", "`done` (loops)" },
		{ "}", "`}` (command groups)" },
		{ "eval ls", "`eval` (running a string as commands)" },
		{ "source x", "`source` (running scripts)" },
		{ ". x", "`.` (running scripts)" },
		{ "exec ls", "`exec` (replacing the shell)" },
		{ "alias ls=rm", "`alias` (aliases)" },
		{ "trap x INT", "`trap` (signal handlers)" },
		{ "set -x", "`set` (shell options)" },
		{ "shopt -s x", "`shopt` (shell options)" },
		{ "bg", "`bg` (job control)" },
		{ "fg %1", "`fg` (job control)" },
		{ "jobs", "`jobs` (job control)" },
		{ "coproc x", "`coproc` (coprocesses)" },
		{ "time ls", "`time` (the timing keyword)" },
	};
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(msg, sizeof(msg), "%s is not supported", cases[i][1]);
		assert_refused(cases[i][0], msg);
	}
}

static void test_sh_parse_refuses_quoted_builtin(void **state)
{
	assert_refused("'ev'al ls", "`eval` (running a string as commands) is not supported");
}

static void test_sh_parse_refuses_first_problem_from_the_left(void **state)
{
	assert_refused("eval $(x) &", "`eval` (running a string as commands) is not supported");
}

/* === parsing: malformed input === */

static void test_sh_parse_unterminated_single_quote(void **state)
{
	assert_refused("echo 'abc", "syntax error near end of line (unterminated `'`)");
}

static void test_sh_parse_unterminated_double_quote(void **state)
{
	assert_refused("echo \"abc\\\"", "syntax error near end of line (unterminated `\"`)");
}

static void test_sh_parse_unterminated_brace(void **state)
{
	assert_refused("echo ${A", "syntax error near end of line (unterminated `${`)");
}

static void test_sh_parse_trailing_backslash(void **state)
{
	assert_refused("echo a\\", "syntax error near end of line (nothing after `\\`)");
}

static void test_sh_parse_newline(void **state)
{
	assert_refused("ls\nrm -rf /", NEWLINE);
}

static void test_sh_parse_newline_in_quotes(void **state)
{
	assert_refused("echo 'a\nb'", NEWLINE);
}

static void test_sh_parse_pipe_at_start(void **state)
{
	assert_refused("| ls", "syntax error near `|`");
}

static void test_sh_parse_pipe_at_end(void **state)
{
	assert_refused("ls |", "syntax error near end of line");
}

static void test_sh_parse_double_pipe(void **state)
{
	assert_refused("ls | | wc", "syntax error near `|`");
}

static void test_sh_parse_triple_pipe(void **state)
{
	assert_refused("ls ||| wc", "syntax error near `|`");
}

static void test_sh_parse_and_at_end(void **state)
{
	assert_refused("ls &&", "syntax error near end of line");
}

static void test_sh_parse_or_at_end(void **state)
{
	assert_refused("ls || ", "syntax error near end of line");
}

static void test_sh_parse_and_at_start(void **state)
{
	assert_refused("&& ls", "syntax error near `&&`");
}

static void test_sh_parse_triple_ampersand(void **state)
{
	assert_refused("a &&& b", "syntax error near `&`");
}

static void test_sh_parse_lone_semicolon(void **state)
{
	assert_refused(";", "syntax error near `;`");
}

static void test_sh_parse_double_semicolon(void **state)
{
	assert_refused("a;;", "syntax error near `;;`");
}

static void test_sh_parse_semicolons_with_blank(void **state)
{
	assert_refused("a; ;b", "syntax error near `;`");
}

static void test_sh_parse_and_then_semicolon(void **state)
{
	assert_refused("a && ; b", "syntax error near `;`");
}

static void test_sh_parse_lone_ampersand(void **state)
{
	assert_refused("&", "syntax error near `&`");
}

static void test_sh_parse_lone_redirect(void **state)
{
	assert_refused(">", "syntax error near end of line");
}

static void test_sh_parse_redirect_without_target(void **state)
{
	assert_refused("ls < | wc", "syntax error near `|`");
}

static void test_sh_parse_dup_without_digit(void **state)
{
	assert_refused("ls 2>&", "syntax error near end of line");
}

static void test_sh_parse_dup_to_word(void **state)
{
	assert_refused("ls 2>&file", "syntax error near `file`");
}

static void test_sh_parse_dup_to_variable(void **state)
{
	assert_refused("ls >&$FD", "syntax error near `$FD`");
}

static void test_sh_parse_redirect_then_redirect(void **state)
{
	assert_refused("ls > > x", "syntax error near `>`");
}

static void test_sh_parse_close_paren(void **state)
{
	assert_refused("ls )", "syntax error near `)`");
}

static void test_sh_parse_error_token_is_sanitised(void **state)
{
	assert_refused("ls 2>&\x1b[2J\x07", "syntax error near `?[2J?`");
}

static void test_sh_parse_error_token_is_cut(void **state)
{
	char line[200] = "ls 2>&";

	memset(line + 6, 'x', 100);
	assert_refused(line, "syntax error near `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…`");
}

static void test_sh_parse_error_token_cut_on_utf8(void **state)
{
	/* 31 x then a 2-byte character across byte 32: the character is left out whole */
	assert_refused("ls 2>&xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9z",
		       "syntax error near `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…`");
}

static void test_sh_parse_null_err(void **state)
{
	assert_null(sh_parse("ls |", NULL));
}

/* === parsing: hostile input === */

static void test_sh_parse_long_word(void **state)
{
	size_t n = 1 << 20;
	char *line = malloc(n + 1);
	struct sh_error err;
	struct sh_list *l;

	memset(line, 'a', n);
	line[n] = '\0';
	l = sh_parse(line, &err);
	assert_non_null(l);
	assert_int_equal(strlen(l->items[0].cmds[0].words[0].parts[0].text), n);
	sh_list_free(l);
	free(line);
}

static void test_sh_parse_long_pipeline(void **state)
{
	size_t i, n = 100000;
	char *line = malloc(2 * n + 2);
	struct sh_error err;
	struct sh_list *l;

	for (i = 0; i < n; i++)
		memcpy(line + 2 * i, "a|", 2);
	strcpy(line + 2 * n, "b");
	l = sh_parse(line, &err);
	assert_non_null(l);
	assert_int_equal(l->n_items, 1);
	assert_int_equal(l->items[0].n_cmds, n + 1);
	sh_list_free(l);
	free(line);
}

static void test_sh_parse_long_list(void **state)
{
	size_t i, n = 100000;
	char *line = malloc(3 * n + 1);
	struct sh_error err;
	struct sh_list *l;

	for (i = 0; i < n; i++)
		memcpy(line + 3 * i, i % 2 ? "a||" : "a&&", 3);
	strcpy(line + 3 * n - 2, "  ");
	l = sh_parse(line, &err);
	assert_non_null(l);
	assert_int_equal(l->n_items, n);
	assert_int_equal(l->after[0], SH_AND);
	assert_int_equal(l->after[1], SH_OR);
	sh_list_free(l);
	free(line);
}

static void test_sh_parse_many_parts(void **state)
{
	size_t i, n = 50000;
	char *line = malloc(4 * n + 1);
	struct sh_error err;
	struct sh_list *l;

	for (i = 0; i < n; i++)
		memcpy(line + 4 * i, "$A'", 3), line[4 * i + 3] = '\'';
	line[4 * n] = '\0';
	l = sh_parse(line, &err);
	assert_non_null(l);
	/* $A then '' for each: the empty quotes add a part that the next $A closes */
	assert_int_equal(l->items[0].cmds[0].words[0].n_parts, 2 * n);
	sh_list_free(l);
	free(line);
}

static void test_sh_parse_deep_parens(void **state)
{
	char line[100001];

	memset(line, '(', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_refused(line, "`((…))` (arithmetic commands) is not supported");
}

static void test_sh_parse_deep_command_substitution(void **state)
{
	size_t i, n = 30000;
	char *line = malloc(2 * n + 1);

	for (i = 0; i < n; i++)
		memcpy(line + 2 * i, "$(", 2);
	line[2 * n] = '\0';
	assert_refused(line, "`$(…)` (command substitution) is not supported");
	free(line);
}

static void test_sh_parse_deep_quotes_and_braces(void **state)
{
	size_t i, n = 30000;
	char *line = malloc(3 * n + 1);

	for (i = 0; i < n; i++)
		memcpy(line + 3 * i, "\"${", 3);
	line[3 * n] = '\0';
	assert_refused(line, "syntax error near end of line (unterminated `${`)");
	free(line);
}

/* Random bytes 1..255 (no NUL): every line either parses or says why, and never crashes. */
static void test_sh_parse_binary_junk(void **state)
{
	static const char punct[] = "a $|&;<>()'\"\\`{}~#*?[]12-=";
	uint32_t x = 2463534242u;
	char line[257];
	struct sh_error err;
	struct sh_list *l;
	size_t i, len;
	int round, parsed = 0;

	for (round = 0; round < 20000; round++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		len = x % 256;
		for (i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			/* half the rounds use shell punctuation only, to get past the lexer */
			line[i] = round % 2 ? (char)(x % 255 + 1) : punct[x % (sizeof(punct) - 1)];
		}
		line[len] = '\0';
		err.msg[0] = '\0';
		l = sh_parse(line, &err);
		if (l) {
			parsed++;
			sh_list_free(l);
		} else {
			assert_true(err.msg[0] != '\0');
			assert_non_null(memchr(err.msg, '\0', sizeof(err.msg)));
		}
	}
	assert_true(parsed > 0);
}

/* === expansion === */

static void test_sh_expand_words_literal(void **state)
{
	assert_expands("ls -l /x", "<ls>|<-l>|</x>");
}

static void test_sh_expand_words_variable(void **state)
{
	assert_expands("echo $A ${B}c", "<echo>|<a>|<bc>");
}

static void test_sh_expand_words_no_word_splitting(void **state)
{
	assert_expands("echo $SP", "<echo>|<two  words>");
}

static void test_sh_expand_words_unset_dropped(void **state)
{
	assert_expands("echo $UNSET $EMPTY x", "<echo>|<x>");
}

static void test_sh_expand_words_quoted_unset_kept(void **state)
{
	assert_expands("echo \"$UNSET\" \"\" '' x", "<echo>|<>|<>|<>|<x>");
}

static void test_sh_expand_words_empty_quotes_then_unset(void **state)
{
	assert_expands("echo \"\"$UNSET", "<echo>|<>");
}

static void test_sh_expand_words_single_quotes_literal(void **state)
{
	assert_expands("echo \"$A\" '$A' \\$A", "<echo>|<a>|<$A>|<$A>");
}

static void test_sh_expand_words_value_not_reexpanded(void **state)
{
	assert_expands("echo $DOLLAR", "<echo>|<$A>");
}

static void test_sh_expand_words_status(void **state)
{
	assert_expands("echo $? \"$?\"x", "<echo>|<42>|<42x>");
}

static void test_sh_expand_words_home(void **state)
{
	assert_expands("echo ~ ~/bin", "<echo>|</home/me>|</home/me/bin>");
}

static void test_sh_expand_words_home_unset(void **state)
{
	static const struct sh_vars none = { .get = get_nothing };

	assert_expands_with("echo ~/x", &none, "<echo>|<~/x>");
}

static void test_sh_expand_words_null_vars(void **state)
{
	assert_expands_with("echo $A$? x", NULL, "<echo>|<0>|<x>");
}

static void test_sh_expand_words_concatenation(void **state)
{
	assert_expands("echo x$A\"$B y\"'z'", "<echo>|<xab yz>");
}

static void test_sh_expand_words_none(void **state)
{
	char **argv = sh_expand_words(NULL, 0, &vars, NULL);

	assert_non_null(argv);
	assert_null(argv[0]);
	sh_argv_free(argv);
}

static void test_sh_expand_words_glob(void **state)
{
	assert_expands("ls *.c", "<ls>|<a.c>|<b.c>|<sp ace.c>|<x[1].c>");
}

static void test_sh_expand_words_glob_question_mark(void **state)
{
	assert_expands("ls ?.h", "<ls>|<c.h>");
}

static void test_sh_expand_words_glob_bracket(void **state)
{
	assert_expands("ls [ab].c", "<ls>|<a.c>|<b.c>");
}

static void test_sh_expand_words_glob_no_match(void **state)
{
	assert_expands("ls *.zz", "<ls>|<*.zz>");
}

static void test_sh_expand_words_glob_no_match_keeps_quotes_removed(void **state)
{
	assert_expands("ls \"no such\"*", "<ls>|<no such*>");
}

static void test_sh_expand_words_glob_skips_dotfiles(void **state)
{
	assert_expands("ls .*.c *hidden*", "<ls>|<.hidden.c>|<*hidden*>");
}

static void test_sh_expand_words_quoted_star_no_glob(void **state)
{
	assert_expands("ls '*.c' \"*.c\" \\*.c", "<ls>|<*.c>|<*.c>|<*.c>");
}

static void test_sh_expand_words_glob_with_quoted_part(void **state)
{
	assert_expands("ls \"sp ace\"*", "<ls>|<sp ace.c>");
}

static void test_sh_expand_words_glob_quoted_bracket(void **state)
{
	/* the quoted [1] must match itself, not the class of `1` */
	assert_expands("ls x'[1]'*", "<ls>|<x[1].c>");
}

static void test_sh_expand_words_unquoted_var_globs(void **state)
{
	assert_expands("ls $STAR", "<ls>|<a.c>|<b.c>|<sp ace.c>|<x[1].c>");
}

static void test_sh_expand_words_quoted_var_no_glob(void **state)
{
	assert_expands("ls \"$STAR\"", "<ls>|<*.c>");
}

static void test_sh_expand_target_word(void **state)
{
	assert_target("ls > \"$A b\"", "a b", NULL);
}

static void test_sh_expand_target_single_glob_match(void **state)
{
	assert_target("ls > ?.h", "c.h", NULL);
}

static void test_sh_expand_target_ambiguous_glob(void **state)
{
	assert_target("ls > *.c", NULL, "ambiguous redirect");
}

static void test_sh_expand_target_empty(void **state)
{
	assert_target("ls > $UNSET", NULL, "ambiguous redirect");
}

static void test_sh_expand_target_quoted_empty(void **state)
{
	assert_target("ls > \"$UNSET\"", "", NULL);
}

static void test_sh_argv_free_null(void **state)
{
	sh_argv_free(NULL);
}

static void test_sh_list_free_null(void **state)
{
	sh_list_free(NULL);
}

static void test_sh_valid_name_good(void **state)
{
	assert_true(sh_valid_name("PATH"));
	assert_true(sh_valid_name("_x1"));
	assert_true(sh_valid_name("a"));
}

static void test_sh_valid_name_bad(void **state)
{
	assert_false(sh_valid_name(""));
	assert_false(sh_valid_name("1A"));
	assert_false(sh_valid_name("A-B"));
	assert_false(sh_valid_name("A=B"));
	assert_false(sh_valid_name("\xc3\xa9"));
	assert_false(sh_valid_name(NULL));
}

int main(void)
{
	const struct CMUnitTest parse_tests[] = {
		cmocka_unit_test(test_sh_parse_empty_line),
		cmocka_unit_test(test_sh_parse_blank_line),
		cmocka_unit_test(test_sh_parse_comment_line),
		cmocka_unit_test(test_sh_parse_simple_command),
		cmocka_unit_test(test_sh_parse_blanks_between_words),
		cmocka_unit_test(test_sh_parse_comment_after_words),
		cmocka_unit_test(test_sh_parse_hash_inside_word),
		cmocka_unit_test(test_sh_parse_single_quotes),
		cmocka_unit_test(test_sh_parse_double_quotes),
		cmocka_unit_test(test_sh_parse_double_quotes_backslash),
		cmocka_unit_test(test_sh_parse_backslash),
		cmocka_unit_test(test_sh_parse_adjacent_quotes_merge),
		cmocka_unit_test(test_sh_parse_mixed_parts),
		cmocka_unit_test(test_sh_parse_empty_single_quotes),
		cmocka_unit_test(test_sh_parse_empty_double_quotes),
		cmocka_unit_test(test_sh_parse_empty_quotes_twice),
		cmocka_unit_test(test_sh_parse_empty_quotes_then_var),
		cmocka_unit_test(test_sh_parse_variable),
		cmocka_unit_test(test_sh_parse_variable_braced),
		cmocka_unit_test(test_sh_parse_variable_ends_at_non_name),
		cmocka_unit_test(test_sh_parse_variable_in_double_quotes),
		cmocka_unit_test(test_sh_parse_status),
		cmocka_unit_test(test_sh_parse_lone_dollar),
		cmocka_unit_test(test_sh_parse_tilde_alone),
		cmocka_unit_test(test_sh_parse_tilde_slash),
		cmocka_unit_test(test_sh_parse_tilde_not_leading),
		cmocka_unit_test(test_sh_parse_tilde_quoted),
		cmocka_unit_test(test_sh_parse_braces_without_expansion),
		cmocka_unit_test(test_sh_parse_quoted_brace_list),
		cmocka_unit_test(test_sh_parse_assignment_as_argument),
		cmocka_unit_test(test_sh_parse_keyword_as_argument),
		cmocka_unit_test(test_sh_parse_non_ascii_bytes),
		cmocka_unit_test(test_sh_parse_pipeline),
		cmocka_unit_test(test_sh_parse_sequence),
		cmocka_unit_test(test_sh_parse_trailing_semicolon),
		cmocka_unit_test(test_sh_parse_and_or),
		cmocka_unit_test(test_sh_parse_operators_without_blanks),
		cmocka_unit_test(test_sh_parse_redirect_in),
		cmocka_unit_test(test_sh_parse_redirect_out),
		cmocka_unit_test(test_sh_parse_redirect_append),
		cmocka_unit_test(test_sh_parse_redirect_stderr),
		cmocka_unit_test(test_sh_parse_redirect_dup),
		cmocka_unit_test(test_sh_parse_redirect_both),
		cmocka_unit_test(test_sh_parse_redirect_before_command),
		cmocka_unit_test(test_sh_parse_redirect_only),
		cmocka_unit_test(test_sh_parse_redirect_quoted_target),
		cmocka_unit_test(test_sh_parse_digit_inside_word_is_not_fd),
		cmocka_unit_test(test_sh_parse_multidigit_word),
		cmocka_unit_test(test_sh_parse_redirect_in_pipeline),
		cmocka_unit_test(test_sh_parse_refuses_background),
		cmocka_unit_test(test_sh_parse_refuses_background_mid_line),
		cmocka_unit_test(test_sh_parse_refuses_command_substitution),
		cmocka_unit_test(test_sh_parse_refuses_command_substitution_in_quotes),
		cmocka_unit_test(test_sh_parse_refuses_backticks),
		cmocka_unit_test(test_sh_parse_refuses_backticks_in_quotes),
		cmocka_unit_test(test_sh_parse_refuses_arithmetic_expansion),
		cmocka_unit_test(test_sh_parse_refuses_old_arithmetic),
		cmocka_unit_test(test_sh_parse_refuses_process_substitution_in),
		cmocka_unit_test(test_sh_parse_refuses_process_substitution_out),
		cmocka_unit_test(test_sh_parse_refuses_subshell),
		cmocka_unit_test(test_sh_parse_refuses_arithmetic_command),
		cmocka_unit_test(test_sh_parse_refuses_function_definition),
		cmocka_unit_test(test_sh_parse_refuses_function_keyword),
		cmocka_unit_test(test_sh_parse_refuses_command_group),
		cmocka_unit_test(test_sh_parse_refuses_here_document),
		cmocka_unit_test(test_sh_parse_refuses_here_string),
		cmocka_unit_test(test_sh_parse_refuses_read_write),
		cmocka_unit_test(test_sh_parse_refuses_clobber),
		cmocka_unit_test(test_sh_parse_refuses_input_dup),
		cmocka_unit_test(test_sh_parse_refuses_fd_close),
		cmocka_unit_test(test_sh_parse_refuses_append_both),
		cmocka_unit_test(test_sh_parse_refuses_pipe_stderr),
		cmocka_unit_test(test_sh_parse_refuses_fd_above_9),
		cmocka_unit_test(test_sh_parse_refuses_dup_above_9),
		cmocka_unit_test(test_sh_parse_refuses_parameter_operator),
		cmocka_unit_test(test_sh_parse_refuses_parameter_length),
		cmocka_unit_test(test_sh_parse_refuses_positional),
		cmocka_unit_test(test_sh_parse_refuses_positional_braced),
		cmocka_unit_test(test_sh_parse_refuses_all_args),
		cmocka_unit_test(test_sh_parse_refuses_star_args),
		cmocka_unit_test(test_sh_parse_refuses_arg_count),
		cmocka_unit_test(test_sh_parse_refuses_pid),
		cmocka_unit_test(test_sh_parse_refuses_last_job),
		cmocka_unit_test(test_sh_parse_refuses_options),
		cmocka_unit_test(test_sh_parse_refuses_shell_name),
		cmocka_unit_test(test_sh_parse_refuses_ansi_c_quoting),
		cmocka_unit_test(test_sh_parse_refuses_locale_quoting),
		cmocka_unit_test(test_sh_parse_refuses_tilde_user),
		cmocka_unit_test(test_sh_parse_refuses_tilde_plus),
		cmocka_unit_test(test_sh_parse_refuses_brace_list),
		cmocka_unit_test(test_sh_parse_refuses_brace_sequence),
		cmocka_unit_test(test_sh_parse_refuses_assignment),
		cmocka_unit_test(test_sh_parse_refuses_append_assignment),
		cmocka_unit_test(test_sh_parse_refuses_assignment_after_redirect),
		cmocka_unit_test(test_sh_parse_refuses_keywords),
		cmocka_unit_test(test_sh_parse_refuses_quoted_builtin),
		cmocka_unit_test(test_sh_parse_refuses_first_problem_from_the_left),
		cmocka_unit_test(test_sh_parse_unterminated_single_quote),
		cmocka_unit_test(test_sh_parse_unterminated_double_quote),
		cmocka_unit_test(test_sh_parse_unterminated_brace),
		cmocka_unit_test(test_sh_parse_trailing_backslash),
		cmocka_unit_test(test_sh_parse_newline),
		cmocka_unit_test(test_sh_parse_newline_in_quotes),
		cmocka_unit_test(test_sh_parse_pipe_at_start),
		cmocka_unit_test(test_sh_parse_pipe_at_end),
		cmocka_unit_test(test_sh_parse_double_pipe),
		cmocka_unit_test(test_sh_parse_triple_pipe),
		cmocka_unit_test(test_sh_parse_and_at_end),
		cmocka_unit_test(test_sh_parse_or_at_end),
		cmocka_unit_test(test_sh_parse_and_at_start),
		cmocka_unit_test(test_sh_parse_triple_ampersand),
		cmocka_unit_test(test_sh_parse_lone_semicolon),
		cmocka_unit_test(test_sh_parse_double_semicolon),
		cmocka_unit_test(test_sh_parse_semicolons_with_blank),
		cmocka_unit_test(test_sh_parse_and_then_semicolon),
		cmocka_unit_test(test_sh_parse_lone_ampersand),
		cmocka_unit_test(test_sh_parse_lone_redirect),
		cmocka_unit_test(test_sh_parse_redirect_without_target),
		cmocka_unit_test(test_sh_parse_dup_without_digit),
		cmocka_unit_test(test_sh_parse_dup_to_word),
		cmocka_unit_test(test_sh_parse_dup_to_variable),
		cmocka_unit_test(test_sh_parse_redirect_then_redirect),
		cmocka_unit_test(test_sh_parse_close_paren),
		cmocka_unit_test(test_sh_parse_error_token_is_sanitised),
		cmocka_unit_test(test_sh_parse_error_token_is_cut),
		cmocka_unit_test(test_sh_parse_error_token_cut_on_utf8),
		cmocka_unit_test(test_sh_parse_null_err),
		cmocka_unit_test(test_sh_parse_long_word),
		cmocka_unit_test(test_sh_parse_long_pipeline),
		cmocka_unit_test(test_sh_parse_long_list),
		cmocka_unit_test(test_sh_parse_many_parts),
		cmocka_unit_test(test_sh_parse_deep_parens),
		cmocka_unit_test(test_sh_parse_deep_command_substitution),
		cmocka_unit_test(test_sh_parse_deep_quotes_and_braces),
		cmocka_unit_test(test_sh_parse_binary_junk),
		cmocka_unit_test(test_sh_list_free_null),
	};
	const struct CMUnitTest expand_tests[] = {
		cmocka_unit_test(test_sh_expand_words_literal),
		cmocka_unit_test(test_sh_expand_words_variable),
		cmocka_unit_test(test_sh_expand_words_no_word_splitting),
		cmocka_unit_test(test_sh_expand_words_unset_dropped),
		cmocka_unit_test(test_sh_expand_words_quoted_unset_kept),
		cmocka_unit_test(test_sh_expand_words_empty_quotes_then_unset),
		cmocka_unit_test(test_sh_expand_words_single_quotes_literal),
		cmocka_unit_test(test_sh_expand_words_value_not_reexpanded),
		cmocka_unit_test(test_sh_expand_words_status),
		cmocka_unit_test(test_sh_expand_words_home),
		cmocka_unit_test(test_sh_expand_words_home_unset),
		cmocka_unit_test(test_sh_expand_words_null_vars),
		cmocka_unit_test(test_sh_expand_words_concatenation),
		cmocka_unit_test(test_sh_expand_words_none),
		cmocka_unit_test(test_sh_argv_free_null),
		cmocka_unit_test(test_sh_valid_name_good),
		cmocka_unit_test(test_sh_valid_name_bad),
	};
	const struct CMUnitTest glob_tests[] = {
		cmocka_unit_test(test_sh_expand_words_glob),
		cmocka_unit_test(test_sh_expand_words_glob_question_mark),
		cmocka_unit_test(test_sh_expand_words_glob_bracket),
		cmocka_unit_test(test_sh_expand_words_glob_no_match),
		cmocka_unit_test(test_sh_expand_words_glob_no_match_keeps_quotes_removed),
		cmocka_unit_test(test_sh_expand_words_glob_skips_dotfiles),
		cmocka_unit_test(test_sh_expand_words_quoted_star_no_glob),
		cmocka_unit_test(test_sh_expand_words_glob_with_quoted_part),
		cmocka_unit_test(test_sh_expand_words_glob_quoted_bracket),
		cmocka_unit_test(test_sh_expand_words_unquoted_var_globs),
		cmocka_unit_test(test_sh_expand_words_quoted_var_no_glob),
		cmocka_unit_test(test_sh_expand_target_word),
		cmocka_unit_test(test_sh_expand_target_single_glob_match),
		cmocka_unit_test(test_sh_expand_target_ambiguous_glob),
		cmocka_unit_test(test_sh_expand_target_empty),
		cmocka_unit_test(test_sh_expand_target_quoted_empty),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("shell_parse", parse_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("shell_expand", expand_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("shell_glob", glob_tests, glob_setup, glob_teardown);
	return failed ? 1 : 0;
}
