// SPDX-License-Identifier: Apache-2.0
/*
 * sessions.c - `dhidebug sessions VERB ...` and `dhidebug replay ...`: the
 * reviewing commands, composed from injector/record/'s modules (sessions.c
 * lists, shows, verifies, ships and greps; export.c, replay.c and follow.c
 * each do their one thing on a session sessions_open() found).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "injector/cli.h"
#include "injector/cmd/cmd.h"
#include "injector/record/sessions.h"

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

int cmd_sessions_parse(int argc, char **argv, struct sessions_opts *o, struct dhi_err **err)
{
	bool replay = strcmp(argv[0], "replay") == 0;
	int seen[OPT_S_LAST - OPT_S_JSON + 1] = { 0 }, c, want_id = 1, nargs, i;
	const int *allowed = (const int[]){ OPT_S_SPEED, OPT_S_IDLE, OPT_S_FOLLOW, 0 };
	char **args;

	*o = (struct sessions_opts){ .verb = SESSIONS_REPLAY };
	o->speed = 1;
	optind = 0;
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
			return 1;
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

/* One reviewing command; the exit status, or -1 with *err. */
static int review(const struct sessions_opts *o, FILE *out, struct dhi_err **err)
{
	dhi_autofree char *id = NULL;
	dhi_autoclose int fd = -1;

	switch (o->verb) {
	case SESSIONS_LS:
		return sessions_ls(o, out, err);
	case SESSIONS_SHOW:
		return sessions_show(o, out, err);
	case SESSIONS_VERIFY:
		return sessions_verify(o, out, err);
	case SESSIONS_SHIP:
		return sessions_ship(o, out, err);
	case SESSIONS_GREP:
		return sessions_grep(o, out, err);
	case SESSIONS_EXPORT:
	case SESSIONS_REPLAY:
	case SESSIONS_FOLLOW:
		break;
	}
	fd = sessions_open(o, o->id, &id, err);
	if (fd < 0)
		return -1;
	if (o->verb == SESSIONS_EXPORT)
		return sessions_export_html_at(fd, id, o->html, err);
	if (o->verb == SESSIONS_REPLAY && !o->follow)
		return sessions_replay_at(fd, o, err);
	return sessions_follow_at(fd, id, o, err);
}

int cmd_sessions(int argc, char **argv)
{
	struct dhi_err *err = NULL;
	struct sessions_opts o;
	struct cmd_site s;
	int r = cmd_sessions_parse(argc - 1, argv + 1, &o, &err);

	if (r != 0)
		return r > 0 ? cmd_help_of(argv[1], NULL) : cmd_fail(err);
	r = cmd_site_open(&s, &(struct delegate_ask){ .sessions = &o });
	if (r != 0)
		return r;
	r = review(&o, stdout, &err);
	fflush(stdout);
	return r < 0 ? cmd_fail(err) : r;
}
