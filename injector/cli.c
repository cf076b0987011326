// SPDX-License-Identifier: Apache-2.0
/* cli.c - the command line: the subcommands, their usage, the options, attach's parser. */
#include "injector/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

/* --- the usage, the attach command's parts, then each subcommand's --- */

static const char attach_synopsis[] =
	"dhidebug [<options>] <target> [-- <program> [<arg>...]]\n"
	"dhidebug [<options>] -c <line> <target>\n";

static const char attach_intro[] =
	"Open a shell, or run one program, inside a running container that has no shell,\n"
	"with a read-only toolbox mounted in a private view of the container's files.\n";

static const char attach_targets[] =
	"Targets:\n"
	"  docker://<name>|<id>  a Docker container (DOCKER_HOST=unix://<socket>,\n"
	"                        default /var/run/docker.sock)\n"
	"  podman://<name>|<id>  a Podman container, through its API socket\n"
	"                        (CONTAINER_HOST, default /run/podman/podman.sock),\n"
	"                        else podman's own CLI\n"
	"  containerd://[<ns>/]<id>\n"
	"                        a containerd task (namespace `default`, else the one\n"
	"                        namespace that has <id>)\n"
	"  crio://<id>           a CRI-O container\n"
	"  runc://<id>           a runc container (/run/runc and the roots of docker,\n"
	"                        containerd and podman, or --runtime-root)\n"
	"  crun://<id>           a crun container (default root /run/crun)\n"
	"  pid://<pid>           any process on the host\n"
	"  <target> stopped      a docker, podman, containerd, runc or crun container whose\n"
	"                        process has exited: its files (its writable layer\n"
	"                        included) in fresh namespaces, with its env, user and\n"
	"                        working directory; writes discarded unless --write\n"
	"  image://<ref>         an image, from the host's Docker Engine, podman or\n"
	"                        containerd when one has it, else pulled, into the toolbox\n"
	"                        cache: its files on an overlay (writes discarded), in\n"
	"                        fresh namespaces, with the image's env, user and working\n"
	"                        directory\n"
	"  <name>|<id>           looked up in every runtime found on the host\n";

static const char attach_options[] =
	"Options:\n"
	"  --toolbox=<dir>|<ref> toolbox: a root filesystem directory, or an image\n"
	"                        reference or digest (from the host's images, else\n"
	"                        pulled, and cached); default: the\n"
	"                        image the rules choose for the target's image\n"
	"  --toolbox-cache=<dir> toolbox cache (default /var/lib/dhidebug/toolboxes)\n"
	"  --default-toolbox=<dir>|<ref>\n"
	"                        toolbox for images no rule matches (a directory\n"
	"                        or a reference, as --toolbox)\n"
	"  --insecure-registry=<host>[:<port>][,...]\n"
	"                        registries that may use plain HTTP or unverified TLS\n"
	"  --max-unpacked=<size> the most a pulled image may unpack to (K, M, G, T: KiB...;\n"
	"                        default 20 times its compressed size, at least 64M, and\n"
	"                        never more than 90% of the cache's free space)\n"
	"  --pull-timeout=<s>    a pull that has not ended after <s> seconds fails\n"
	"                        (default 600)\n"
	"  --view=<mode>         auto (default), union or toolbox:\n"
	"                          union    the container's files over the toolbox, read-only\n"
	"                          toolbox  the toolbox as /, the container at /target\n"
	"                          auto     union when toolbox and target are the same\n"
	"                                   distribution and release, toolbox otherwise\n"
	"  --runtime-root=<dir>  state directory of runc or crun (runc --root)\n"
	"  --containerd-root=<dir>\n"
	"                        containerd's state directory (default /run/containerd)\n"
	"  --crio-root=<dir>     CRI-O's storage root (default /var/lib/containers/storage)\n"
	"  --no-cgroup           do not join the container's cgroups\n"
	"  --profile=<name>      observe, general (default), netadmin, sysadmin, or one\n"
	"                        the policy file defines (see `dhidebug profiles`)\n"
	"  --user=<uid>[:<gid>]  run as this user of the container (default root,\n"
	"                        observe: nobody);\n"
	"                        `target` takes the uid, gid and groups of its PID 1\n"
	"  --policy=<file>       policy file (default /etc/dhidebug/policy.json)\n"
	"  --no-record           do not record the session (unless the policy requires it)\n"
	"  --write               a stopped container's session writes to its files\n"
	"                        (default: an overlay, discarded)\n"
	"  --net=none|host       network of a stopped container's or an image's session:\n"
	"                        none (default: loopback only) or the host's\n"
	"  --sessions-dir=<dir>  where recordings go (default /var/lib/dhidebug/sessions)\n"
	"  --allow-host          the target may be the host itself (its mount namespace\n"
	"                        or root, or its pid namespace for a session), where the\n"
	"                        policy allows it; refused otherwise\n"
	"  -c <line>             run one line of dhish (the session shell), exit with its status\n"
	"  -q, --quiet           print no notices\n"
	"  -h, --help            show this help\n"
	"      --version         show the version\n";

static const char attach_trailer[] =
	"In every view: /target is the container's root (live), /.dhi the toolbox\n"
	"(read-only), /.dhi-scratch a private writable tmpfs (HOME and TMPDIR).\n"
	"\n"
	"Exit status: the program's own; 125 when dhidebug fails, 126 when the program\n"
	"cannot be executed, 127 when it is not found, 128+N when killed by signal N.\n";

/* `sessions` and `replay` share one paragraph */
static const char review_about[] =
	"Recorded sessions (in /var/lib/dhidebug/sessions, or --dir=<dir>; <id> may be\n"
	"a unique prefix of a session id, or a session folder's path):\n"
	"  sessions ls          id, start, target, operator, profile, duration, status\n"
	"                       and state (complete, incomplete or invalid) of each;\n"
	"                       --json as a JSON array; <filters> select:\n"
	"                       --target=<target>, --since=<time> (2026-05-28, an\n"
	"                       RFC 3339 time, or an age: 90s, 30m, 12h, 7d),\n"
	"                       --operator=<user|uid>, --exec=<program> (ran or was\n"
	"                       denied), --image=<ref>, --state=<state>\n"
	"  sessions grep        lines of the recorded output matching <pattern> (an\n"
	"                       extended regular expression): id, time offset, line;\n"
	"                       --json, <filters> as ls; exit 1 when none matches\n"
	"  sessions show        the timeline: lines, execs and resizes with their times\n"
	"  sessions verify      check the hash chain of audit.jsonl and session.cast;\n"
	"                       exit 1 naming the first bad record; --all: every session;\n"
	"                       --against=<file>: compare the records with a collected\n"
	"                       copy (the HTTP collector's JSON lines, a syslog file, or\n"
	"                       audit.jsonl; - for stdin), exit 1 naming the first seq\n"
	"                       missing, added or changed on either side\n"
	"  sessions export      --html=<file>: one self-contained page, the recording in\n"
	"                       asciinema-player beside the timeline\n"
	"  sessions follow      a live session as it is recorded (read-only): its output\n"
	"                       on stdout, its audit records on stderr; ends with it\n"
	"  replay               play the recording in this terminal; --speed=<n> (default\n"
	"                       1), --idle-limit=<s> caps pauses; --follow: then go on\n"
	"                       with the live session as sessions follow does; Ctrl-C stops\n";

const struct cli_subcommand cli_subcommands[] = {
	{ "profiles", cmd_profiles, "list the policy's profiles",
	  "dhidebug profiles [--json] [--policy=<file>]\n",
	  NULL, false },
	{ "ls", cmd_ls, "list the containers of every runtime",
	  "dhidebug ls [--json]\n",
	  "`dhidebug ls` lists the containers of every runtime and whether each can\n"
	  "be debugged; --json prints them as a JSON array.\n", false },
	{ "port-forward", cmd_port_forward, "forward local ports into a target's network namespace",
	  "dhidebug port-forward <target> [<addr>:]<local-port>:<remote-port>...\n",
	  "`dhidebug port-forward` listens on the host (127.0.0.1 unless <addr> is given;\n"
	  "<local-port> 0 picks a free one) and connects each client to 127.0.0.1:<remote-port>\n"
	  "inside the target's network namespace; Ctrl-C stops it.\n", false },
	{ "lint", cmd_lint, "check a target or an image for what breaks in hardened images",
	  "dhidebug lint (<target>|image://<ref>) [--json]\n",
	  "`dhidebug lint` checks a running target, or an image (pulled into the toolbox\n"
	  "cache), for what breaks in hardened images: shell-form or script entrypoints,\n"
	  "missing ELF interpreters and libraries, root, `latest` or unpinned references,\n"
	  "-dev/-sdk variants; a verdict and a fix for each, exit 1 when one fails.\n", false },
	{ "cp", cmd_cp, "copy files into or out of a container, recorded with their hashes",
	  "dhidebug cp [-a] [--force] [--manifest=<file>] [--max-size=<size>] <target>:<path> <dest>|-\n"
	  "dhidebug cp [-a] [--force] [--manifest=<file>] [--max-size=<size>] <src>|- <target>:<path>\n",
	  "`dhidebug cp` copies files and directories out of and into a container that has\n"
	  "no tar (symlinks as links, never followed out of its root); `-` is a tar stream.\n"
	  "Each copy is a recorded session with the SHA-256 of every file; see docs/cp.md.\n"
	  "`--wait-stdin` waits for a byte on stdin first (kubectl dhidebug cp starts so).\n",
	  true },
	{ "toolbox", cmd_toolbox, "manage the toolbox cache and show the toolbox rules",
	  "dhidebug toolbox pull [--json] <ref> | ls [--json] | rm <ref>|<digest>\n"
	  "dhidebug toolbox prune [--dry-run] | import [--name=<ref>] <path> | rule <image>\n",
	  "`dhidebug toolbox` manages the toolbox cache: pull an image from its registry,\n"
	  "list, remove or prune cached toolboxes, import an OCI layout or docker-archive,\n"
	  "and show which toolbox the rules pick for an image (`rule`). An import keeps the\n"
	  "image's own name (or --name=<ref>); `prune` removes only unnamed entries that no\n"
	  "pull or import is using, and names each (--dry-run: what it would remove).\n", false },
	{ "sessions", cmd_sessions, "list, search, show, verify, export, ship or follow recordings",
	  "dhidebug sessions ls [--json] [<filters>] [--dir=<dir>]\n"
	  "dhidebug sessions grep <pattern> [--json] [<filters>] [--dir=<dir>]\n"
	  "dhidebug sessions show <id> [--dir=<dir>]\n"
	  "dhidebug sessions verify (<id> [--against=<file>]|--all) [--dir=<dir>]\n"
	  "dhidebug sessions export <id> --html=<file> [--dir=<dir>]\n"
	  "dhidebug sessions ship (<id>|--all) [--policy=<file>] [--dir=<dir>]\n"
	  "dhidebug sessions follow <id> [--dir=<dir>]\n",
	  review_about, true },
	{ "replay", cmd_sessions, "play a recorded session in this terminal",
	  "dhidebug replay <id> [--follow] [--speed=<n>] [--idle-limit=<s>] [--dir=<dir>]\n",
	  review_about, true },
	{ "help", cmd_help, "show the usage of dhidebug or of one subcommand",
	  "dhidebug help [<subcommand>]\n", NULL, false },
	{ NULL, NULL, NULL, NULL, NULL, false },
};

/* Each line of `synopsis` after "usage: " or its indent. */
static void synopsis_print(FILE *f, const char *synopsis, bool *first)
{
	for (const char *p = synopsis, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		fprintf(f, "%s%.*s\n", *first ? "usage: " : "       ", (int)(nl - p), p);
		*first = false;
	}
}

void cli_usage(FILE *f, const struct cli_subcommand *sub)
{
	const char *prev = NULL;
	bool first = true;

	if (sub) {
		synopsis_print(f, sub->synopsis, &first);
		fprintf(f, "\n%s", sub->about ? sub->about : "");
		if (!sub->about)
			fprintf(f, "`dhidebug %s`: %s.\n", sub->name, sub->summary);
		return;
	}
	synopsis_print(f, attach_synopsis, &first);
	for (int i = 0; cli_subcommands[i].name; i++)
		synopsis_print(f, cli_subcommands[i].synopsis, &first);
	fprintf(f, "\n%s\n%s\n", attach_intro, attach_targets);
	for (int i = 0; cli_subcommands[i].name; i++) {
		const char *about = cli_subcommands[i].about;

		if (about && about != prev)
			fprintf(f, "%s\n", about);
		prev = about;
	}
	fprintf(f, "%s\n%s", attach_options, attach_trailer);
}

void cli_usage_list(FILE *f)
{
	bool first = true;

	synopsis_print(f, attach_synopsis, &first);
	synopsis_print(f, "dhidebug <subcommand> [<options>] [<arg>...]\n", &first);
	fputs("\nSubcommands (`dhidebug help <subcommand>` or `dhidebug <subcommand> --help`: its\n"
	      "usage; `dhidebug --help`: everything):\n", f);
	for (int i = 0; cli_subcommands[i].name; i++)
		fprintf(f, "  %-14s%s\n", cli_subcommands[i].name, cli_subcommands[i].summary);
}

const struct cli_subcommand *cli_subcommand_find(const char *name)
{
	for (int i = 0; name && cli_subcommands[i].name; i++)
		if (strcmp(cli_subcommands[i].name, name) == 0)
			return &cli_subcommands[i];
	return NULL;
}

/* --- the options --- */

static const struct option long_opts[] = {
	{ "toolbox", required_argument, NULL, CLI_OPT_TOOLBOX },
	{ "view", required_argument, NULL, CLI_OPT_VIEW },
	{ "runtime-root", required_argument, NULL, CLI_OPT_RUNTIME_ROOT },
	{ "no-cgroup", no_argument, NULL, CLI_OPT_NO_CGROUP },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, CLI_OPT_VERSION },
	{ "profile", required_argument, NULL, CLI_OPT_PROFILE },
	{ "user", required_argument, NULL, CLI_OPT_USER },
	{ "policy", required_argument, NULL, CLI_OPT_POLICY },
	{ "json", no_argument, NULL, CLI_OPT_JSON },
	{ "no-record", no_argument, NULL, CLI_OPT_NO_RECORD },
	{ "sessions-dir", required_argument, NULL, CLI_OPT_SESSIONS_DIR },
	{ "containerd-root", required_argument, NULL, CLI_OPT_CONTAINERD_ROOT },
	{ "crio-root", required_argument, NULL, CLI_OPT_CRIO_ROOT },
	{ "toolbox-cache", required_argument, NULL, CLI_OPT_TOOLBOX_CACHE },
	{ "default-toolbox", required_argument, NULL, CLI_OPT_DEFAULT_TOOLBOX },
	{ "insecure-registry", required_argument, NULL, CLI_OPT_INSECURE_REGISTRY },
	{ "write", no_argument, NULL, CLI_OPT_WRITE },
	{ "net", required_argument, NULL, CLI_OPT_NET },
	{ "max-unpacked", required_argument, NULL, CLI_OPT_MAX_UNPACKED },
	{ "pull-timeout", required_argument, NULL, CLI_OPT_PULL_TIMEOUT },
	{ "allow-host", no_argument, NULL, CLI_OPT_ALLOW_HOST },
	{ "dry-run", no_argument, NULL, CLI_OPT_DRY_RUN },
	{ "name", required_argument, NULL, CLI_OPT_NAME },
	{ NULL, 0, NULL, 0 },
};


const struct cli_subcommand *cli_subcommand_of(int argc, char **argv)
{
	const struct cli_subcommand *sub = argc > 1 ? cli_subcommand_find(argv[1]) : NULL;
	char **scan, *word;

	if (sub)
		return sub;
	/* the same scan as the fronts' own, on a copy: getopt_long permutes what it reads */
	scan = xmalloc(((size_t)argc + 1) * sizeof(*scan));
	memcpy(scan, argv, ((size_t)argc + 1) * sizeof(*scan));
	optind = 0;
	opterr = 0;
	while (getopt_long(argc, scan, ":c:qh", long_opts, NULL) != -1)
		;
	word = optind < argc ? scan[optind] : NULL;
	free(scan);
	sub = cli_subcommand_find(word);
	return sub && !sub->first_word ? sub : NULL;
}

static int view_parse(const char *s, enum view_mode *out, struct dhi_err **err)
{
	if (view_mode_parse(s, out) < 0)
		return dhi_err_set(err, 0, "invalid --view `%s` (use auto, union or toolbox)", s);
	return 0;
}

static int net_parse(const char *s, struct dhi_err **err)
{
	if (strcmp(s, "host") != 0 && strcmp(s, "none") != 0)
		return dhi_err_set(err, 0, "invalid --net `%s` (none or host)", s);
	return 0;
}

/* The value of an option the vocabulary checks wherever it is given; 0 or -1 with *err. */
static int value_check(int c, const char *value, struct dhi_err **err)
{
	unsigned long long size;
	enum view_mode view;
	long seconds;

	switch (c) {
	case CLI_OPT_VIEW:
		return view_parse(value, &view, err);
	case CLI_OPT_NET:
		return net_parse(value, err);
	case CLI_OPT_MAX_UNPACKED:
		return cli_parse_size(value, &size, err);
	case CLI_OPT_PULL_TIMEOUT:
		return cli_parse_seconds(value, &seconds, err);
	default:
		return 0;
	}
}

static bool listed(const int *list, int c)
{
	for (const int *a = list; a && *a; a++)
		if (*a == c)
			return true;
	return false;
}

int cli_getopt(int argc, char **argv, const char *sub, const int *accept, const int *refuse,
	       struct dhi_err **err)
{
	int c, bad = 0;

	/*
	 * Another command's option is passed over, as it always was, unless it is
	 * refused; a bad value is still an error.
	 */
	do
		c = getopt_long(argc, argv, ":c:qh", long_opts, NULL);
	while (c != -1 && c != 'h' && c != ':' && c != '?' && !listed(accept, c) &&
	       !listed(refuse, c) && (bad = value_check(c, optarg, err)) == 0);
	if (bad < 0)
		return '?';
	if (c == ':')
		dhi_err_set(err, 0, "option `%s` needs a value (see --help)", argv[optind - 1]);
	else if (c == '?')
		dhi_err_set(err, 0, "unknown option `%s` (see --help)", argv[optind - 1]);
	if (!listed(refuse, c))
		return c == ':' ? '?' : c;
	/* toolbox prune's and import's own: said where they go */
	if (c == CLI_OPT_DRY_RUN || c == CLI_OPT_NAME)
		return dhi_err_set(err, 0, "%s goes with `dhidebug toolbox %s`",
				   c == CLI_OPT_DRY_RUN ? "--dry-run" : "--name",
				   c == CLI_OPT_DRY_RUN ? "prune" : "import"), '?';
	for (int i = 0; c >= CLI_OPT_TOOLBOX && long_opts[i].name; i++)
		if (long_opts[i].val == c)
			dhi_err_set(err, 0, "--%s does not go with `%s`", long_opts[i].name, sub);
	if (c < CLI_OPT_TOOLBOX)
		dhi_err_set(err, 0, "-%c does not go with `%s`", c, sub);
	return '?';
}

/* `word` after a space, on a new indented line where it would pass column 79 */
static void word_print(FILE *f, const char *word, int *col)
{
	int n = (int)strlen(word);

	if (*col + 1 + n > 79) {
		fputs("\n     ", f);
		*col = 5;
	}
	fprintf(f, " %s", word);
	*col += 1 + n;
}

void cli_usage_options(FILE *f, const int *accept)
{
	char word[40];
	int col;

	fputs("\nOptions (as `dhidebug --help` describes them):\n     ", f);
	col = 5;
	for (const int *a = accept; *a; a++) {
		for (int i = 0; *a >= CLI_OPT_TOOLBOX && long_opts[i].name; i++)
			if (long_opts[i].val == *a)
				snprintf(word, sizeof(word), "--%s%s", long_opts[i].name,
					 long_opts[i].has_arg ? "=<...>" : "");
		if (*a < CLI_OPT_TOOLBOX)
			snprintf(word, sizeof(word), "-%c", *a);
		word_print(f, word, &col);
	}
	word_print(f, "-h", &col);
	fputs("\n", f);
}

/* "<n>[K|M|G|T]" (powers of 1024), at least 1 byte */
static int size_of(const char *s, unsigned long long *out)
{
	static const char units[] = "KMGT";
	unsigned long long n = 0;
	const char *p = s, *u;
	int shift = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (~0ULL - 9) / 10)
			return -1;
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	if (p == s)
		return -1;
	if (*p) {
		if (!(u = strchr(units, *p)) || p[1] != '\0')
			return -1;
		shift = 10 * (int)(u - units + 1);
	}
	if (n == 0 || n > (~0ULL >> shift))
		return -1;
	*out = n << shift;
	return 0;
}

static int seconds_of(const char *s, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < 1)
		return -1;
	*out = n;
	return 0;
}

int cli_parse_size(const char *s, unsigned long long *out, struct dhi_err **err)
{
	if (size_of(s, out) < 0)
		return dhi_err_set(err, 0, "invalid --max-unpacked `%s` (a size: 512M, 4G, or bytes)",
				   s);
	return 0;
}

int cli_parse_seconds(const char *s, long *out, struct dhi_err **err)
{
	if (seconds_of(s, out) < 0)
		return dhi_err_set(err, 0, "invalid --pull-timeout `%s` (seconds, at least 1)", s);
	return 0;
}

char *cli_words_text(char *const *words)
{
	char *text = NULL;

	for (int i = 0; words && words[i]; i++) {
		char *n = xasprintf("%s%s%s", text ? text : "", i ? " " : "", words[i]);

		free(text);
		text = n;
	}
	return text;
}

char *cli_command_text(const struct cli *cli)
{
	return cli->command ? xstrdup(cli->command) : cli_words_text(cli->argv);
}

/* Levenshtein distance of a and b, or `limit` + 1 once it is past `limit` (names are short). */
static size_t edit_distance(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b), row[32], best;

	if (lb >= sizeof(row) / sizeof(row[0]) || (la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], d = diag + (a[i - 1] != b[j - 1]);

			if (row[j - 1] + 1 < d)
				d = row[j - 1] + 1;
			if (up + 1 < d)
				d = up + 1;
			diag = up;
			row[j] = d;
			if (d < best)
				best = d;
		}
		if (best > limit)
			return limit + 1;
	}
	return row[lb];
}

const char *cli_near_subcommand(const char *word)
{
	const char *near = NULL;
	size_t near_d = 3;

	for (int i = 0; cli_subcommands[i].name; i++) {
		const char *sub = cli_subcommands[i].name;
		size_t n = strlen(sub), limit = n >= 5 ? 2 : n >= 3 ? 1 : 0, d;

		if (strcmp(word, sub) == 0)
			return NULL;
		d = edit_distance(word, sub, limit);
		if (d <= limit && d < near_d) {
			near = sub;
			near_d = d;
		}
	}
	return near;
}

void cli_hint_subcommand(const char *target, struct dhi_err **err)
{
	const char *near = strstr(target, "://") ? NULL : cli_near_subcommand(target);
	char *msg;

	if (!near || !*err || (*err)->errnum)
		return;
	msg = xstrdup((*err)->msg);
	dhi_err_set_status(err, (*err)->status, 0, "%s; did you mean `%s`?", msg, near);
	free(msg);
}

int cli_parse(int argc, char **argv, struct cli *out, struct dhi_err **err)
{
	bool json = false, dry_run = false, name = false;
	int c;

	memset(out, 0, sizeof(*out));
	out->join_cgroup = true;
	out->view = VIEW_AUTO;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:qh", long_opts, NULL)) != -1) {
		switch (c) {
		case CLI_OPT_TOOLBOX:
			out->toolbox = optarg;
			break;
		case CLI_OPT_VIEW:
			if (view_parse(optarg, &out->view, err) < 0)
				return -1;
			break;
		case CLI_OPT_RUNTIME_ROOT:
			out->runtime_root = optarg;
			break;
		case CLI_OPT_CONTAINERD_ROOT:
			out->containerd_root = optarg;
			break;
		case CLI_OPT_CRIO_ROOT:
			out->crio_root = optarg;
			break;
		case CLI_OPT_TOOLBOX_CACHE:
			out->toolbox_cache = optarg;
			break;
		case CLI_OPT_DEFAULT_TOOLBOX:
			out->default_toolbox = optarg;
			break;
		case CLI_OPT_INSECURE_REGISTRY:
			out->insecure_registry = optarg;
			break;
		case CLI_OPT_NO_CGROUP:
			out->join_cgroup = false;
			break;
		case CLI_OPT_WRITE:
			out->write = true;
			break;
		case CLI_OPT_MAX_UNPACKED:
			if (cli_parse_size(optarg, &out->max_unpacked, err) < 0)
				return -1;
			break;
		case CLI_OPT_PULL_TIMEOUT:
			if (cli_parse_seconds(optarg, &out->pull_timeout, err) < 0)
				return -1;
			break;
		case CLI_OPT_NET:
			if (net_parse(optarg, err) < 0)
				return -1;
			out->net = optarg;
			break;
		case 'c':
			out->command = optarg;
			break;
		case CLI_OPT_PROFILE:
			out->profile = optarg;
			break;
		case CLI_OPT_USER:
			out->user = optarg;
			break;
		case CLI_OPT_POLICY:
			out->policy = optarg;
			break;
		case CLI_OPT_NO_RECORD:
			out->no_record = true;
			break;
		case CLI_OPT_SESSIONS_DIR:
			out->sessions_dir = optarg;
			break;
		case CLI_OPT_ALLOW_HOST:
			out->allow_host = true;
			break;
		/* the subcommands' options: refused below, once the target is known */
		case CLI_OPT_JSON:
			json = true;
			break;
		case CLI_OPT_DRY_RUN:
			dry_run = true;
			break;
		case CLI_OPT_NAME:
			name = true;
			break;
		case 'q':
			out->quiet = true;
			break;
		case 'h':
			out->cmd = CLI_HELP;
			return 0;
		case CLI_OPT_VERSION:
			out->cmd = CLI_VERSION;
			return 0;
		case ':':
			return dhi_err_set(err, 0, "option `%s` needs a value (see --help)",
					   argv[optind - 1]);
		default:
			return dhi_err_set(err, 0, "unknown option `%s` (see --help)",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return dhi_err_set(err, 0, "no target given (see --help)");
	out->target = argv[optind++];
	if (dry_run || name)
		return dhi_err_set(err, 0, "%s goes with `dhidebug toolbox %s`",
				   dry_run ? "--dry-run" : "--name", dry_run ? "prune" : "import");
	if (json)
		return dhi_err_set(err, 0, "--json goes with `dhidebug profiles`, `ls` or `lint`");
	if (optind < argc)
		out->argv = &argv[optind];
	if (out->command && out->argv)
		return dhi_err_set(err, 0, "-c cannot be combined with a program");
	if (out->command && !*out->command)
		return dhi_err_set(err, 0, "-c needs a non-empty line");
	return 0;
}
