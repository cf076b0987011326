// SPDX-License-Identifier: Apache-2.0
/* attach.c - `dhidebug <target>`: resolve the target, prepare the toolbox, run a supervised session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/selfexe.h"
#include "common/xalloc.h"
#include "injector/cli.h"
#include "injector/cmd/cmd.h"
#include "injector/delegate.h"
#include "injector/shell/history.h"
#include "injector/init/init.h"
#include "injector/imagetarget.h"
#include "injector/record/record.h"
#include "injector/policy/policy.h"
#include "injector/runtime/runtime.h"
#include "injector/session.h"
#include "injector/supervisor.h"
#include "injector/toolbox_cmd.h"
#include "nsenter/view.h"
#include "toolbox/toolbox.h"

#ifndef DHIDEBUG_VERSION
#define DHIDEBUG_VERSION "0.0.0"
#endif

/* What a session asks of the site policy (injector/delegate.h), from its options. */
static void attach_ask(const struct cli *cli, const struct rt_opts *ro, const char *command,
		       struct delegate_ask *out)
{
	*out = (struct delegate_ask){
		.target = cli->target, .checks_target = true, .command = command,
		.profile = cli->profile, .policy = cli->policy, .sessions_dir = cli->sessions_dir,
		.toolbox_cache = cli->toolbox_cache, .net = cli->net, .ro = ro,
		.toolbox = cli->toolbox, .default_toolbox = cli->default_toolbox,
		.no_record = cli->no_record, .allow_host = cli->allow_host,
		.no_cgroup = !cli->join_cgroup, .quiet = cli->quiet,
	};
}

/* The toolbox cache's options among the session's. */
static void attach_toolbox_args(const struct cli *cli, struct toolbox_args *out)
{
	*out = (struct toolbox_args){
		.toolbox = cli->toolbox, .toolbox_cache = cli->toolbox_cache,
		.default_toolbox = cli->default_toolbox, .insecure_registry = cli->insecure_registry,
		.max_unpacked = cli->max_unpacked, .pull_timeout = cli->pull_timeout,
		.policy = cli->policy, .quiet = cli->quiet,
	};
}

/*
 * A file of the target or the toolbox that was there but not readable as a
 * regular file (common/fdio.h): the step goes on as if it were missing.
 */
static void notice_unread(const struct cli *cli, const char *whose, const char *name,
			  const char *why)
{
	if (why && !cli->quiet)
		fprintf(stderr, "dhidebug: notice: %s `%s`: %s (taken as missing)\n", whose, name,
			why);
}

/*
 * Recorded unless the policy says off, or --no-record where the policy allows
 * it: 1 to record, 0 not, -1 for --no-record against `record: required`.
 */
static int recording_wanted(const struct cli *cli, const struct policy *pol, struct dhi_err **err)
{
	if (pol->record == POLICY_RECORD_OFF)
		return 0;
	if (cli->no_record) {
		if (pol->record == POLICY_RECORD_REQUIRED)
			return dhi_err_set(err, 0, "--no-record: the policy requires recording");
		return 0;
	}
	return 1;
}

/*
 * The session's record_start hook: the supervisor calls it once the stage is
 * forked, so opening the recording overlaps the stage's work. With `record:
 * required` a session that cannot be recorded does not start; otherwise it
 * starts unrecorded, and says so (in delegated mode even with -q).
 */
static int start_recording(struct session_spec *s, void *arg, struct dhi_err **err)
{
	const struct cli *cli = arg;
	const char *dir = cli->sessions_dir ? cli->sessions_dir : RECORD_DIR;
	char *command = cli_command_text(cli);
	char id[40];
	int r;

	r = session_record_start(s, dir, command, id, err);
	free(command);
	if (r < 0) {
		if (s->record_required)
			return dhi_err_prefix(err, "recording is required");
		if (!cli->quiet || s->delegated) {
			char *why = dhi_err_string(*err);

			fprintf(stderr, "dhidebug: not recording: %s\n", why);
			free(why);
		}
		dhi_err_clear(err);
		s->rec = NULL;
	}
	return 0;
}

int cmd_attach(int argc, char **argv)
{
	struct dhi_err *err = NULL;
	struct cli cli;
	struct rt_opts ro;
	struct rt_target rt;
	struct session_spec s = { .target_root = -1, .toolbox_tree = -1, .init_exe = -1,
				  .dhish_exe = -1 };
	struct os_release target_os;
	dhi_autofree char *uri = NULL, *command = NULL;
	char *why = NULL;
	struct policy other;
	const struct policy *pol;
	struct cmd_site cs;
	struct delegate_ask ask;
	struct toolbox_args ta;
	struct image_target image = { .keeper = -1, .holder = -1 };
	char *toolbox_dir = NULL;
	bool host_net;
	int code;

	if (cli_parse(argc, argv, &cli, &err) < 0)
		return cmd_fail(err);
	if (cli.cmd == CLI_HELP) {
		cli_usage(stdout, NULL);
		return 0;
	}
	if (cli.cmd == CLI_VERSION) {
		printf("dhidebug %s\n", DHIDEBUG_VERSION);
		return 0;
	}
	ro = (struct rt_opts){ .runtime_root = cli.runtime_root,
			       .containerd_root = cli.containerd_root,
			       .crio_root = cli.crio_root };
	host_net = cli.net && strcmp(cli.net, "host") == 0;
	command = cli_command_text(&cli);
	attach_ask(&cli, &ro, command, &ask);
	attach_toolbox_args(&cli, &ta);
	if ((code = cmd_site_open(&cs, &ask)) != 0 ||
	    (code = cmd_policy(&cs, &ask, cli.policy, cli.allow_host, &other, &pol)) != 0)
		return code;
	/* the profile is settled before anything is entered: a refused one touches nothing */
	if (policy_select(pol, cli.profile, &s.profile, &err) < 0)
		return cmd_refuse(&cs, &ask, err);
	s.policy = pol;
	if (cli.user && strcmp(cli.user, "target") != 0 &&
	    policy_user_parse(cli.user, &s.user, &err) < 0)
		return cmd_fail(err);
	if (!cli.user && s.profile->has_user) {
		s.user.uid = s.profile->uid;
		s.user.gid = s.profile->gid;
	}
	if (delegate_check_session(&cs.d, &cs.site, s.profile, cli.user, s.user.uid, s.user.gid, &err) < 0)
		return cmd_refuse(&cs, &ask, err);
	code = recording_wanted(&cli, pol, &err);
	if (code < 0)
		return cmd_refuse(&cs, &ask, err);
	if (geteuid() != 0) {
		dhi_err_set(&err, 0, "must run as root (it joins other processes' namespaces)");
		return cmd_fail(err);
	}
	s.delegated = cs.d.on;

	/* image://REF: a holder in fresh namespaces on the image's root stands in for a container */
	if (image_target_is(cli.target)) {
		if (image_target_start(cli.target + 8, &ta, host_net, &image, &rt, &err) < 0)
			return cmd_fail(err);
	} else {
		/* a stopped container: the same holder, on its files */
		ro.stopped = true;
		if (rt_resolve(cli.target, &ro, &rt, &err) < 0) {
			/* `dhidebug sesions ls` */
			cli_hint_subcommand(cli.target, &err);
			return cmd_fail(err);
		}
		if (rt.exited && stopped_target_start(cli.write, host_net, &image, &rt, &err) < 0)
			return cmd_fail(err);
		if (rt.exited && !cli.quiet) {
			dhi_autofree char *label = rt_target_label(&rt);

			fprintf(stderr, "dhidebug: `%s` is not running: its files in fresh "
				"namespaces, %s\n", label,
				cli.write ? "writes kept (--write)" : "writes discarded");
		}
	}
	if (cli.write && (image.holder <= 0 || strcmp(rt.runtime, "image") == 0)) {
		image_target_stop(&image);
		dhi_err_set(&err, 0, "--write applies to stopped containers (a running one is "
			    "written directly; an image's files are never written)");
		return cmd_fail(err);
	}
	if (cli.net && image.holder <= 0) {
		dhi_err_set(&err, 0, "--net applies to image:// and stopped containers (a running "
			    "container's session uses its network)");
		return cmd_fail(err);
	}

	if (ns_target_open(rt.pid, rt.start_time, &s.target, &err) < 0 ||
	    ns_target_open_root(&s.target, &s.target_root, &err) < 0) {
		dhi_autofree char *label = rt_target_label(&rt);

		dhi_err_prefix(&err, "container `%s`", label);
		image_target_stop(&image);
		return cmd_fail(err);
	}
	/* before anything is pulled or prepared for it */
	if (session_check_host(cli.allow_host, cli.quiet, &s.target, &rt, &s.host, &err) < 0 ||
	    (!s.host && session_check_host_pid(cli.allow_host, cli.quiet, &s.target, &rt,
					       &s.host, &err) < 0)) {
		image_target_stop(&image);
		return cmd_refuse(&cs, &ask, err);
	}

	/* a directory, a cached or pulled reference, or the rule for the target's image */
	if (toolbox_cmd_choose(&ta, &rt, &toolbox_dir, &err) < 0 ||
	    toolbox_open_dir(toolbox_dir, &s.toolbox, &err) < 0)
		return cmd_fail(err);
	notice_unread(&cli, "toolbox", s.toolbox.ref, s.toolbox.os_notice);

	/* read on the host, resolved inside the target's root: hostile input */
	uri = rt_target_uri(&rt);
	toolbox_read_os_release(s.target_root, &target_os, &why);
	notice_unread(&cli, "target", uri, why);
	free(why);
	why = NULL;
	/* a stopped container or an image: its session starts as its process would */
	if (image.holder > 0) {
		s.config = rt.proc;
		s.write = cli.write;
		s.net = cli.net ? cli.net : "none";
	}
	if (s.config && s.config->user && (cli.user ? strcmp(cli.user, "target") == 0
						    : !s.profile->has_user)) {
		/* the user its config names */
		int r = policy_user_of_config(s.config->user, s.target_root, &s.user, &why, &err);

		notice_unread(&cli, "target", uri, why);
		free(why);
		if (r < 0)
			return cmd_fail(err);
	} else if (cli.user && strcmp(cli.user, "target") == 0 && image.holder <= 0 &&
		   policy_user_of_pid(s.target.procfd, &s.user, &err) < 0) {
		/* (the holder of a stopped container or an image is nobody: its user is root) */
		return cmd_fail(err);
	}
	if (view_open_toolbox(s.toolbox.dirfd, &s.toolbox_tree, &err) < 0)
		return cmd_fail(err);
	/* outside the target's device cgroup, none of its device nodes is usable */
	for (int i = 0; i < VIEW_HOST_DEVS; i++)
		s.host_devs[i] = -1;
	if (!cli.join_cgroup && view_open_host_devices(s.host_devs, &err) < 0)
		return cmd_fail(err);
	/*
	 * What the session's processes run, made while we may: the profile
	 * refuses memfd_create, and the view hides our binary.
	 */
	s.init_exe = init_memfd(&err);
	if (s.init_exe < 0 || (!cli.argv && (s.dhish_exe = selfexe_open_sealed(&err)) < 0))
		return cmd_fail(err);
	/* built here, loaded last, in the program's process (crun does the same) */
	if (policy_build_filters(s.profile, POLICY_CACHE_DIR, &s.filters, &err) < 0)
		return cmd_fail(err);

	s.rt = &rt;
	s.view = cli.view;
	s.same_release = os_release_same(&s.toolbox.os, &target_os);
	if (!s.same_release) {
		char tb[136], tg[136];

		os_release_describe(&s.toolbox.os, tb, sizeof(tb));
		os_release_describe(&target_os, tg, sizeof(tg));
		snprintf(s.release_why, sizeof(s.release_why),
			 "the toolbox is %s, the target %s: not the same release", tb, tg);
	}
	s.join_cgroup = cli.join_cgroup;
	s.quiet = cli.quiet;
	s.argv = cli.argv;
	s.command = cli.command;

	/* dhish's history and the operator's key bindings live on the host */
	if (!cli.argv) {
		history_open(HISTORY_DIR, rt.runtime, rt.name, &s.history);
		s.inputrc = inputrc_load();
	} else {
		s.history.fd = -1;
	}
	if (code > 0) {
		s.record_start = start_recording;
		s.record_arg = &cli;
		s.record_required = pol->record == POLICY_RECORD_REQUIRED;
		s.record_input = pol->record_input;
		s.collector = pol->collector.url ? &pol->collector : NULL;
		/*
		 * (The recording hashes with common/sha256.h, which sets nothing of
		 * libcrypto's up: no EVP name map, no openssl.cnf, no cleanup at exit.
		 * A collector's TLS initialises libcrypto when it is first used.)
		 */
	} else if (cs.d.on) {
		/* a delegated operator's unrecorded session is never silent about it */
		fprintf(stderr, "dhidebug: not recording: %s\n",
			cli.no_record ? "--no-record" : "the policy's `record` is off");
	}
	code = supervisor_run(&s, &err);
	record_close(s.rec);
	image_target_stop(&image);
	if (code < 0)
		return cmd_fail(err);
	return code;
}
