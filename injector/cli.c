// SPDX-License-Identifier: Apache-2.0
/* cli.c - parse the command line. */
#include "injector/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

enum {
	OPT_TOOLBOX = 0x100,
	OPT_VIEW,
	OPT_RUNTIME_ROOT,
	OPT_NO_CGROUP,
	OPT_VERSION,
	OPT_PROFILE,
	OPT_USER,
	OPT_POLICY,
	OPT_JSON,
	OPT_NO_RECORD,
	OPT_SESSIONS_DIR,
	OPT_CONTAINERD_ROOT,
	OPT_CRIO_ROOT,
	OPT_TOOLBOX_CACHE,
	OPT_DEFAULT_TOOLBOX,
	OPT_INSECURE_REGISTRY,
	OPT_WRITE,
	OPT_NET,
	OPT_MAX_UNPACKED,
	OPT_PULL_TIMEOUT,
	OPT_ALLOW_HOST,
	OPT_DRY_RUN,
	OPT_NAME,
};

static const struct option long_opts[] = {
	{ "toolbox", required_argument, NULL, OPT_TOOLBOX },
	{ "view", required_argument, NULL, OPT_VIEW },
	{ "runtime-root", required_argument, NULL, OPT_RUNTIME_ROOT },
	{ "no-cgroup", no_argument, NULL, OPT_NO_CGROUP },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "user", required_argument, NULL, OPT_USER },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-record", no_argument, NULL, OPT_NO_RECORD },
	{ "sessions-dir", required_argument, NULL, OPT_SESSIONS_DIR },
	{ "containerd-root", required_argument, NULL, OPT_CONTAINERD_ROOT },
	{ "crio-root", required_argument, NULL, OPT_CRIO_ROOT },
	{ "toolbox-cache", required_argument, NULL, OPT_TOOLBOX_CACHE },
	{ "default-toolbox", required_argument, NULL, OPT_DEFAULT_TOOLBOX },
	{ "insecure-registry", required_argument, NULL, OPT_INSECURE_REGISTRY },
	{ "write", no_argument, NULL, OPT_WRITE },
	{ "net", required_argument, NULL, OPT_NET },
	{ "max-unpacked", required_argument, NULL, OPT_MAX_UNPACKED },
	{ "pull-timeout", required_argument, NULL, OPT_PULL_TIMEOUT },
	{ "allow-host", no_argument, NULL, OPT_ALLOW_HOST },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "name", required_argument, NULL, OPT_NAME },
	{ NULL, 0, NULL, 0 },
};

void cli_usage(FILE *f)
{
	fputs("usage: dhidebug [<options>] <target> [-- <program> [<arg>...]]\n"
	      "       dhidebug [<options>] -c <line> <target>\n"
	      "       dhidebug profiles [--json] [--policy=<file>]\n"
	      "       dhidebug ls [--json]\n"
	      "       dhidebug port-forward <target> [<addr>:]<local-port>:<remote-port>...\n"
	      "       dhidebug lint (<target>|image://<ref>) [--json]\n"
	      "       dhidebug toolbox pull [--json] <ref> | ls [--json] | rm <ref>|<digest>\n"
	      "       dhidebug toolbox prune [--dry-run] | import [--name=<ref>] <path> | rule <image>\n"
	      "       dhidebug sessions ls [--json] [<filters>] [--dir=<dir>]\n"
	      "       dhidebug sessions grep <pattern> [--json] [<filters>] [--dir=<dir>]\n"
	      "       dhidebug sessions show <id> [--dir=<dir>]\n"
	      "       dhidebug sessions verify (<id> [--against=<file>]|--all) [--dir=<dir>]\n"
	      "       dhidebug sessions export <id> --html=<file> [--dir=<dir>]\n"
	      "       dhidebug sessions ship (<id>|--all) [--policy=<file>] [--dir=<dir>]\n"
	      "       dhidebug sessions follow <id> [--dir=<dir>]\n"
	      "       dhidebug replay <id> [--follow] [--speed=<n>] [--idle-limit=<s>] [--dir=<dir>]\n"
	      "\n"
	      "Open a shell, or run one program, inside a running container that has no shell,\n"
	      "with a read-only toolbox mounted in a private view of the container's files.\n"
	      "\n"
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
	      "  image://<ref>         an image, pulled into the toolbox cache: its files on an\n"
	      "                        overlay (writes discarded), in fresh namespaces, with the\n"
	      "                        image's env, user and working directory\n"
	      "  <name>|<id>           looked up in every runtime found on the host\n"
	      "\n"
	      "`dhidebug ls` lists the containers of every runtime and whether each can\n"
	      "be debugged; --json prints them as a JSON array.\n"
	      "\n"
	      "`dhidebug port-forward` listens on the host (127.0.0.1 unless <addr> is given;\n"
	      "<local-port> 0 picks a free one) and connects each client to 127.0.0.1:<remote-port>\n"
	      "inside the target's network namespace; Ctrl-C stops it.\n"
	      "\n"
	      "`dhidebug lint` checks a running target, or an image (pulled into the toolbox\n"
	      "cache), for what breaks in hardened images: shell-form or script entrypoints,\n"
	      "missing ELF interpreters and libraries, root, `latest` or unpinned references,\n"
	      "-dev/-sdk variants; a verdict and a fix for each, exit 1 when one fails.\n"
	      "\n"
	      "`dhidebug toolbox` manages the toolbox cache: pull an image from its registry,\n"
	      "list, remove or prune cached toolboxes, import an OCI layout or docker-archive,\n"
	      "and show which toolbox the rules pick for an image (`rule`). An import keeps the\n"
	      "image's own name (or --name=<ref>); `prune` removes only unnamed entries that no\n"
	      "pull or import is using, and names each (--dry-run: what it would remove).\n"
	      "\n"
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
	      "                       with the live session as sessions follow does; Ctrl-C stops\n"
	      "\n"
	      "Options:\n"
	      "  --toolbox=<dir>|<ref> toolbox: a root filesystem directory, or an image\n"
	      "                        reference or digest (pulled and cached); default: the\n"
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
	      "                        or root), where the policy allows it; refused otherwise\n"
	      "  -c <line>             run one line of dhish (the session shell), exit with its status\n"
	      "  -q, --quiet           print no notices\n"
	      "  -h, --help            show this help\n"
	      "      --version         show the version\n"
	      "\n"
	      "In every view: /target is the container's root (live), /.dhi the toolbox\n"
	      "(read-only), /.dhi-scratch a private writable tmpfs (HOME and TMPDIR).\n"
	      "\n"
	      "Exit status: the program's own; 125 when dhidebug fails, 126 when the program\n"
	      "cannot be executed, 127 when it is not found, 128+N when killed by signal N.\n",
	      f);
}

char *cli_command_text(const struct cli *cli)
{
	char *command = NULL;

	if (cli->command)
		return xstrdup(cli->command);
	for (int i = 0; cli->argv && cli->argv[i]; i++) {
		char *n = xasprintf("%s%s%s", command ? command : "", i ? " " : "", cli->argv[i]);

		free(command);
		command = n;
	}
	return command;
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
	static const char *const subs[] = { "sessions", "replay", "profiles", "ls", "toolbox",
					    "lint", "port-forward", NULL };
	const char *near = NULL;
	size_t near_d = 3;

	for (int i = 0; subs[i]; i++) {
		size_t n = strlen(subs[i]), limit = n >= 5 ? 2 : n >= 3 ? 1 : 0, d;

		if (strcmp(word, subs[i]) == 0)
			return NULL;
		d = edit_distance(word, subs[i], limit);
		if (d <= limit && d < near_d) {
			near = subs[i];
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

/* --- dhidebug sessions VERB …, dhidebug replay ID … --- */

enum {
	OPT_S_JSON = 0x200,
	OPT_S_TARGET,
	OPT_S_SINCE,
	OPT_S_DIR,
	OPT_S_ALL,
	OPT_S_HTML,
	OPT_S_SPEED,
	OPT_S_IDLE,
	OPT_S_POLICY,
	OPT_S_AGAINST,
	OPT_S_OPERATOR,
	OPT_S_EXEC,
	OPT_S_IMAGE,
	OPT_S_STATE,
	OPT_S_FOLLOW,
	OPT_S_LAST = OPT_S_FOLLOW,
};

static const struct option review_opts[] = {
	{ "json", no_argument, NULL, OPT_S_JSON },
	{ "target", required_argument, NULL, OPT_S_TARGET },
	{ "since", required_argument, NULL, OPT_S_SINCE },
	{ "dir", required_argument, NULL, OPT_S_DIR },
	{ "all", no_argument, NULL, OPT_S_ALL },
	{ "html", required_argument, NULL, OPT_S_HTML },
	{ "speed", required_argument, NULL, OPT_S_SPEED },
	{ "idle-limit", required_argument, NULL, OPT_S_IDLE },
	{ "policy", required_argument, NULL, OPT_S_POLICY },
	{ "against", required_argument, NULL, OPT_S_AGAINST },
	{ "operator", required_argument, NULL, OPT_S_OPERATOR },
	{ "exec", required_argument, NULL, OPT_S_EXEC },
	{ "image", required_argument, NULL, OPT_S_IMAGE },
	{ "state", required_argument, NULL, OPT_S_STATE },
	{ "follow", no_argument, NULL, OPT_S_FOLLOW },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const struct {
	const char *word;
	enum sessions_verb verb;
	int takes_id;	/* 1: needs <id>; 2: <id> or --all; 3: a <pattern> */
	int allowed[10];	/* the options it takes besides --dir, 0-terminated */
} review_verbs[] = {
	{ "ls", SESSIONS_LS, 0,
	  { OPT_S_JSON, OPT_S_TARGET, OPT_S_SINCE, OPT_S_OPERATOR, OPT_S_EXEC, OPT_S_IMAGE, OPT_S_STATE } },
	{ "show", SESSIONS_SHOW, 1, { 0 } },
	{ "verify", SESSIONS_VERIFY, 2, { OPT_S_ALL, OPT_S_AGAINST } },
	{ "export", SESSIONS_EXPORT, 1, { OPT_S_HTML } },
	{ "ship", SESSIONS_SHIP, 2, { OPT_S_ALL, OPT_S_POLICY } },
	{ "grep", SESSIONS_GREP, 3,
	  { OPT_S_JSON, OPT_S_TARGET, OPT_S_SINCE, OPT_S_OPERATOR, OPT_S_EXEC, OPT_S_IMAGE, OPT_S_STATE } },
	{ "follow", SESSIONS_FOLLOW, 1, { 0 } },
	{ NULL, 0, 0, { 0 } },
};

static int seconds_arg(const char *opt, const char *s, bool zero_ok, double *out, struct dhi_err **err)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !(*out > 0 || (zero_ok && *out == 0)) || *out > 1e6)
		return dhi_err_set(err, 0, "invalid %s `%s` (a positive number)", opt, s);
	return 0;
}

static int parse_review(int argc, char **argv, struct cli *out, struct dhi_err **err)
{
	struct sessions_opts *o = &out->sessions;
	bool replay = strcmp(argv[0], "replay") == 0;
	int seen[OPT_S_LAST - OPT_S_JSON + 1] = { 0 }, c, want_id = 1, nargs, i;
	const int *allowed = (const int[]){ OPT_S_SPEED, OPT_S_IDLE, OPT_S_FOLLOW, 0 };
	char **args;

	out->cmd = CLI_SESSIONS;
	o->verb = SESSIONS_REPLAY;
	o->speed = 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", review_opts, NULL)) != -1) {
		switch (c) {
		case OPT_S_JSON:
			o->json = true;
			break;
		case OPT_S_TARGET:
			o->target = optarg;
			break;
		case OPT_S_SINCE:
			o->since = optarg;
			break;
		case OPT_S_DIR:
			o->dir = optarg;
			break;
		case OPT_S_ALL:
			o->all = true;
			break;
		case OPT_S_HTML:
			o->html = optarg;
			break;
		case OPT_S_SPEED:
			if (seconds_arg("--speed", optarg, false, &o->speed, err) < 0)
				return -1;
			break;
		case OPT_S_IDLE:
			if (seconds_arg("--idle-limit", optarg, true, &o->idle_limit, err) < 0)
				return -1;
			break;
		case OPT_S_POLICY:
			o->policy = optarg;
			break;
		case OPT_S_AGAINST:
			o->against = optarg;
			break;
		case OPT_S_OPERATOR:
			o->operator = optarg;
			break;
		case OPT_S_EXEC:
			o->exec = optarg;
			break;
		case OPT_S_IMAGE:
			o->image = optarg;
			break;
		case OPT_S_STATE:
			o->state = optarg;
			break;
		case OPT_S_FOLLOW:
			o->follow = true;
			break;
		case 'h':
			out->cmd = CLI_HELP;
			return 0;
		case ':':
			return dhi_err_set(err, 0, "option `%s` needs a value (see --help)", argv[optind - 1]);
		default:
			return dhi_err_set(err, 0, "unknown option `%s` (see --help)", argv[optind - 1]);
		}
		if (c >= OPT_S_JSON && c <= OPT_S_LAST)
			seen[c - OPT_S_JSON] = 1;
	}
	args = &argv[optind];
	nargs = argc - optind;
	if (!replay) {
		if (nargs < 1)
			return dhi_err_set(err, 0, "`sessions` needs ls, show, verify, export, ship, grep or follow");
		for (i = 0; review_verbs[i].word && strcmp(review_verbs[i].word, args[0]) != 0; i++)
			;
		if (!review_verbs[i].word)
			return dhi_err_set(err, 0, "unknown `sessions %s` (use ls, show, verify, export, ship, grep or follow)",
					   args[0]);
		o->verb = review_verbs[i].verb;
		want_id = review_verbs[i].takes_id;
		allowed = review_verbs[i].allowed;
		args++;
		nargs--;
	}
	for (c = OPT_S_JSON; c <= OPT_S_LAST; c++) {
		bool ok = c == OPT_S_DIR;

		for (const int *a = allowed; *a; a++)
			ok |= *a == c;
		for (i = 0; review_opts[i].name && review_opts[i].val != c; i++)
			;
		if (seen[c - OPT_S_JSON] && !ok)
			return dhi_err_set(err, 0, "--%s does not go with `%s`", review_opts[i].name,
					   replay ? "replay" : args[-1]);
	}
	if (want_id == 3) {
		if (nargs != 1)
			return dhi_err_set(err, 0, "`sessions grep` takes one pattern");
		o->pattern = args[0];
		return 0;
	}
	if (o->against && o->all)
		return dhi_err_set(err, 0, "--against compares one session: give its id, not --all");
	if (want_id == 2 && o->all ? nargs > 0 : nargs != (want_id ? 1 : 0))
		return dhi_err_set(err, 0, want_id == 2 ? "`sessions verify` and `sessions ship` take one session id or --all"
					   : want_id     ? "`%s` takes one session id"
							 : "`sessions %s` takes no session id",
				   replay ? "replay" : args[-1]);
	if (want_id && !o->all)
		o->id = args[0];
	if (o->verb == SESSIONS_EXPORT && !o->html)
		return dhi_err_set(err, 0, "`sessions export` needs --html=<file>");
	return 0;
}

/* `toolbox <subcommand> <args>`: each subcommand with its number of arguments */
static int toolbox_args(int argc, char **argv, struct cli *out, struct dhi_err **err)
{
	static const struct {
		const char *name;
		int nargs;
		const char *usage;
	} subs[] = {
		{ "pull", 1, "pull <ref>" },	 { "ls", 0, "ls [--json]" },
		{ "rm", 1, "rm <ref>|<digest>" }, { "prune", 0, "prune [--dry-run]" },
		{ "import", 1, "import [--name=<ref>] <path>" }, { "rule", 1, "rule <image>" },
		{ NULL, 0, NULL },
	};
	const char *sub = optind < argc ? argv[optind] : NULL;

	out->cmd = CLI_TOOLBOX;
	if (!sub)
		return dhi_err_set(err, 0, "`toolbox` needs a subcommand: pull, ls, rm, prune, "
					   "import or rule");
	for (int i = 0; subs[i].name; i++) {
		if (strcmp(sub, subs[i].name) != 0)
			continue;
		if (argc - optind - 1 != subs[i].nargs)
			return dhi_err_set(err, 0, "usage: dhidebug toolbox %s", subs[i].usage);
		if (out->json && strcmp(sub, "ls") != 0 && strcmp(sub, "pull") != 0)
			return dhi_err_set(err, 0, "--json goes with `dhidebug toolbox ls` and `pull`");
		if (out->dry_run && strcmp(sub, "prune") != 0)
			return dhi_err_set(err, 0, "--dry-run goes with `dhidebug toolbox prune`");
		if (out->name && strcmp(sub, "import") != 0)
			return dhi_err_set(err, 0, "--name goes with `dhidebug toolbox import`");
		out->argv = &argv[optind];
		return 0;
	}
	return dhi_err_set(err, 0, "unknown toolbox subcommand `%s` (pull, ls, rm, prune, import, "
				   "rule)",
			   sub);
}

/* "<n>[K|M|G|T]" (powers of 1024), at least 1 byte */
static int parse_size(const char *s, unsigned long long *out)
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

static int parse_seconds(const char *s, long *out)
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

int cli_parse(int argc, char **argv, struct cli *out, struct dhi_err **err)
{
	int c;

	memset(out, 0, sizeof(*out));
	out->join_cgroup = true;
	out->view = VIEW_AUTO;
	if (argc > 1 && (strcmp(argv[1], "sessions") == 0 || strcmp(argv[1], "replay") == 0))
		return parse_review(argc - 1, argv + 1, out, err);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:qh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_TOOLBOX:
			out->toolbox = optarg;
			break;
		case OPT_VIEW:
			if (view_mode_parse(optarg, &out->view) < 0)
				return dhi_err_set(err, 0,
						   "invalid --view `%s` (use auto, union or toolbox)",
						   optarg);
			break;
		case OPT_RUNTIME_ROOT:
			out->runtime_root = optarg;
			break;
		case OPT_CONTAINERD_ROOT:
			out->containerd_root = optarg;
			break;
		case OPT_CRIO_ROOT:
			out->crio_root = optarg;
			break;
		case OPT_TOOLBOX_CACHE:
			out->toolbox_cache = optarg;
			break;
		case OPT_DEFAULT_TOOLBOX:
			out->default_toolbox = optarg;
			break;
		case OPT_INSECURE_REGISTRY:
			out->insecure_registry = optarg;
			break;
		case OPT_NO_CGROUP:
			out->join_cgroup = false;
			break;
		case OPT_WRITE:
			out->write = true;
			break;
		case OPT_MAX_UNPACKED:
			if (parse_size(optarg, &out->max_unpacked) < 0)
				return dhi_err_set(err, 0, "invalid --max-unpacked `%s` (a size: 512M, "
							   "4G, or bytes)", optarg);
			break;
		case OPT_PULL_TIMEOUT:
			if (parse_seconds(optarg, &out->pull_timeout) < 0)
				return dhi_err_set(err, 0, "invalid --pull-timeout `%s` (seconds, at "
							   "least 1)", optarg);
			break;
		case OPT_NET:
			if (strcmp(optarg, "host") != 0 && strcmp(optarg, "none") != 0)
				return dhi_err_set(err, 0, "invalid --net `%s` (none or host)", optarg);
			out->net = optarg;
			break;
		case 'c':
			out->command = optarg;
			break;
		case OPT_PROFILE:
			out->profile = optarg;
			break;
		case OPT_USER:
			out->user = optarg;
			break;
		case OPT_POLICY:
			out->policy = optarg;
			break;
		case OPT_JSON:
			out->json = true;
			break;
		case OPT_NO_RECORD:
			out->no_record = true;
			break;
		case OPT_SESSIONS_DIR:
			out->sessions_dir = optarg;
			break;
		case OPT_ALLOW_HOST:
			out->allow_host = true;
			break;
		case OPT_DRY_RUN:
			out->dry_run = true;
			break;
		case OPT_NAME:
			out->name = optarg;
			break;
		case 'q':
			out->quiet = true;
			break;
		case 'h':
			out->cmd = CLI_HELP;
			return 0;
		case OPT_VERSION:
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
	if (strcmp(out->target, "profiles") == 0) {
		if (optind < argc)
			return dhi_err_set(err, 0, "`profiles` takes no arguments");
		out->cmd = CLI_PROFILES;
		return 0;
	}
	if (strcmp(out->target, "ls") == 0) {
		if (optind < argc)
			return dhi_err_set(err, 0, "`ls` takes no arguments");
		out->cmd = CLI_LS;
		return 0;
	}
	if (strcmp(out->target, "toolbox") == 0)
		return toolbox_args(argc, argv, out, err);
	if (out->dry_run || out->name)
		return dhi_err_set(err, 0, "%s goes with `dhidebug toolbox %s`",
				   out->dry_run ? "--dry-run" : "--name",
				   out->dry_run ? "prune" : "import");
	if (strcmp(out->target, "lint") == 0) {
		if (argc - optind != 1)
			return dhi_err_set(err, 0, "usage: dhidebug lint (<target>|image://<ref>) [--json]");
		if (out->command)
			return dhi_err_set(err, 0, "-c does not go with `lint`");
		out->cmd = CLI_LINT;
		out->target = argv[optind];
		return 0;
	}
	if (strcmp(out->target, "port-forward") == 0) {
		if (argc - optind < 2)
			return dhi_err_set(err, 0, "usage: dhidebug port-forward <target> "
						   "[<addr>:]<local-port>:<remote-port>...");
		if (out->json || out->command)
			return dhi_err_set(err, 0, "%s does not go with `port-forward`",
					   out->json ? "--json" : "-c");
		out->cmd = CLI_PORT_FORWARD;
		out->target = argv[optind++];
		out->argv = &argv[optind];
		return 0;
	}
	if (out->json)
		return dhi_err_set(err, 0, "--json goes with `dhidebug profiles`, `ls` or `lint`");
	if (optind < argc)
		out->argv = &argv[optind];
	if (out->command && out->argv)
		return dhi_err_set(err, 0, "-c cannot be combined with a program");
	if (out->command && !*out->command)
		return dhi_err_set(err, 0, "-c needs a non-empty line");
	return 0;
}
