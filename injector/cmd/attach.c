// SPDX-License-Identifier: Apache-2.0
/* main.c - dhidebug: resolve the target, prepare the toolbox, run a supervised session. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/selfexe.h"
#include "common/xalloc.h"
#include "injector/cli.h"
#include "injector/delegate.h"
#include "injector/handoff.h"
#include "injector/shell/history.h"
#include "injector/init/init.h"
#include "injector/imagetarget.h"
#include "injector/record/record.h"
#include "injector/lint.h"
#include "injector/ls.h"
#include "injector/policy/policy.h"
#include "injector/portfwd.h"
#include "injector/runtime/runtime.h"
#include "injector/session.h"
#include "injector/supervisor.h"
#include "injector/toolbox_cmd.h"
#include "nsenter/view.h"
#include "toolbox/toolbox.h"

#ifndef DHIDEBUG_VERSION
#define DHIDEBUG_VERSION "0.0.0"
#endif

static int fail(struct dhi_err *err)
{
	int code = dhi_err_print(err, "dhidebug");

	dhi_err_clear(&err);
	return code;
}

/* A refusal: in delegated mode it is recorded too (injector/delegate.h), then printed. */
static int refuse(const struct delegate *d, const struct policy *site, const struct cli *cli,
		  struct dhi_err *err)
{
	delegate_record_refusal(d, site, cli, err);
	return fail(err);
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

/* dhidebug port-forward: parse every spec, pin the target, relay until Ctrl-C */
static int port_forward(const struct cli *cli, const struct rt_opts *ro, const struct delegate *d,
			const struct policy *site)
{
	struct dhi_err *err = NULL;
	struct portfwd_spec *specs;
	struct ns_target t = { .pidfd = -1, .procfd = -1 };
	struct rt_target rt;
	size_t n = 0;
	int r;

	while (cli->argv[n])
		n++;
	specs = xzalloc(n * sizeof(*specs));
	for (size_t i = 0; i < n; i++)
		if (portfwd_parse(cli->argv[i], &specs[i], &err) < 0)
			goto fail;
	if (geteuid() != 0) {
		dhi_err_set(&err, 0, "must run as root (it joins another process's network namespace)");
		goto fail;
	}
	if (rt_resolve(cli->target, ro, &rt, &err) < 0)
		goto fail;
	if (ns_target_open(rt.pid, rt.start_time, &t, &err) < 0) {
		dhi_autofree char *label = rt_target_label(&rt);

		dhi_err_prefix(&err, "container `%s`", label);
		rt_target_free(&rt);
		goto fail;
	}
	if (session_check_host(cli->allow_host, cli->quiet, &t, &rt, &(bool){ false }, &err) < 0) {
		ns_target_close(&t);
		rt_target_free(&rt);
		free(specs);
		return refuse(d, site, cli, err);
	}
	r = portfwd_run(&t, cli->target, specs, n, cli->quiet, &err);
	ns_target_close(&t);
	rt_target_free(&rt);
	free(specs);
	return r < 0 ? fail(err) : 0;
fail:
	free(specs);
	return fail(err);
}

int main(int argc, char **argv)
{
	struct dhi_err *err = NULL;
	struct cli cli;
	struct rt_opts ro;
	struct rt_target rt;
	struct session_spec s = { .target_root = -1, .toolbox_tree = -1, .init_exe = -1,
				  .dhish_exe = -1 };
	struct os_release target_os;
	dhi_autofree char *uri = NULL;
	char *why = NULL;
	struct policy site, other;
	const struct policy *pol = &site;
	struct delegate d;
	struct image_target image = { .keeper = -1, .holder = -1 };
	char *toolbox_dir = NULL;
	int code;

	/* dhish, in the sealed copy of ourselves that a session runs (injector/handoff.h) */
	if (argc == 2 && strcmp(argv[1], HANDOFF_ARG) == 0)
		return handoff_main();
	if (cli_parse(argc, argv, &cli, &err) < 0)
		return fail(err);
	if (cli.cmd == CLI_HELP) {
		cli_usage(stdout);
		return 0;
	}
	if (cli.cmd == CLI_VERSION) {
		printf("dhidebug %s\n", DHIDEBUG_VERSION);
		return 0;
	}
	/*
	 * The site's policy first: in delegated mode (sudo) it is the boundary
	 * of every option, and nothing runs before they are checked against it.
	 */
	if (policy_load(NULL, &site, &err) < 0)
		return fail(err);
	delegate_detect(&site, &d);
	if (delegate_check_cli(&d, &site, &cli, &err) < 0)
		return refuse(&d, &site, &cli, err);
	if (cli.cmd == CLI_SESSIONS) {
		code = sessions_run(&cli.sessions, stdout, &err);
		return code < 0 ? fail(err) : code;
	}
	/* another policy file (a delegated operator's only when the site lists it) */
	if (cli.policy) {
		if (policy_load(cli.policy, &other, &err) < 0)
			return fail(err);
		pol = &other;
	}
	if (cli.allow_host && pol->host_forbidden) {
		dhi_err_set(&err, 0, "--allow-host: policy `%s` forbids the host as a target "
			    "(`allow_host`: false)", pol->source);
		return refuse(&d, &site, &cli, err);
	}
	ro = (struct rt_opts){ .runtime_root = cli.runtime_root,
			       .containerd_root = cli.containerd_root,
			       .crio_root = cli.crio_root };
	if (cli.cmd == CLI_LS)
		return ls_run(&ro, cli.json, stdout, &err) < 0 ? fail(err) : 0;
	if (cli.cmd == CLI_TOOLBOX) {
		code = toolbox_cmd_run(&cli, &err);
		return code < 0 ? fail(err) : code;
	}
	if (cli.cmd == CLI_LINT) {
		code = lint_run(&cli, stdout, &err);
		return code < 0 ? fail(err) : code;
	}
	if (cli.cmd == CLI_PORT_FORWARD)
		return port_forward(&cli, &ro, &d, &site);
	/* the profile is settled before anything is entered: a refused one touches nothing */
	if (cli.cmd == CLI_PROFILES) {
		policy_print(pol, cli.json);
		return 0;
	}
	if (policy_select(pol, cli.profile, &s.profile, &err) < 0)
		return refuse(&d, &site, &cli, err);
	s.policy = pol;
	if (cli.user && strcmp(cli.user, "target") != 0 &&
	    policy_user_parse(cli.user, &s.user, &err) < 0)
		return fail(err);
	if (!cli.user && s.profile->has_user) {
		s.user.uid = s.profile->uid;
		s.user.gid = s.profile->gid;
	}
	if (delegate_check_session(&d, &site, s.profile, &cli, s.user.uid, s.user.gid, &err) < 0)
		return refuse(&d, &site, &cli, err);
	code = recording_wanted(&cli, pol, &err);
	if (code < 0)
		return refuse(&d, &site, &cli, err);
	if (geteuid() != 0) {
		dhi_err_set(&err, 0, "must run as root (it joins other processes' namespaces)");
		return fail(err);
	}
	s.delegated = d.on;

	/* image://REF: a holder in fresh namespaces on the image's root stands in for a container */
	if (image_target_is(cli.target)) {
		if (image_target_start(&cli, &image, &rt, &err) < 0)
			return fail(err);
	} else {
		/* a stopped container: the same holder, on its files */
		ro.stopped = true;
		if (rt_resolve(cli.target, &ro, &rt, &err) < 0) {
			/* `dhidebug sesions ls` */
			cli_hint_subcommand(cli.target, &err);
			return fail(err);
		}
		if (rt.exited && stopped_target_start(&cli, &image, &rt, &err) < 0)
			return fail(err);
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
		return fail(err);
	}
	if (cli.net && image.holder <= 0) {
		dhi_err_set(&err, 0, "--net applies to image:// and stopped containers (a running "
			    "container's session uses its network)");
		return fail(err);
	}

	if (ns_target_open(rt.pid, rt.start_time, &s.target, &err) < 0 ||
	    ns_target_open_root(&s.target, &s.target_root, &err) < 0) {
		dhi_autofree char *label = rt_target_label(&rt);

		dhi_err_prefix(&err, "container `%s`", label);
		image_target_stop(&image);
		return fail(err);
	}
	/* before anything is pulled or prepared for it */
	if (session_check_host(cli.allow_host, cli.quiet, &s.target, &rt, &s.host, &err) < 0) {
		image_target_stop(&image);
		return refuse(&d, &site, &cli, err);
	}

	/* a directory, a cached or pulled reference, or the rule for the target's image */
	if (toolbox_cmd_choose(&cli, &rt, &toolbox_dir, &err) < 0 ||
	    toolbox_open_dir(toolbox_dir, &s.toolbox, &err) < 0)
		return fail(err);
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
			return fail(err);
	} else if (cli.user && strcmp(cli.user, "target") == 0 && image.holder <= 0 &&
		   policy_user_of_pid(s.target.procfd, &s.user, &err) < 0) {
		/* (the holder of a stopped container or an image is nobody: its user is root) */
		return fail(err);
	}
	if (view_open_toolbox(s.toolbox.dirfd, &s.toolbox_tree, &err) < 0)
		return fail(err);
	/* outside the target's device cgroup, none of its device nodes is usable */
	for (int i = 0; i < VIEW_HOST_DEVS; i++)
		s.host_devs[i] = -1;
	if (!cli.join_cgroup && view_open_host_devices(s.host_devs, &err) < 0)
		return fail(err);
	/*
	 * What the session's processes run, made while we may: the profile
	 * refuses memfd_create, and the view hides our binary.
	 */
	s.init_exe = init_memfd(&err);
	if (s.init_exe < 0 || (!cli.argv && (s.dhish_exe = selfexe_open_sealed(&err)) < 0))
		return fail(err);
	/* built here, loaded last, in the program's process (crun does the same) */
	if (policy_build_filters(s.profile, POLICY_CACHE_DIR, &s.filters, &err) < 0)
		return fail(err);

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
		 * The recording's SHA-256 is libcrypto's first use when the toolbox
		 * was not pulled: loading openssl.cnf's module machinery then costs
		 * 0.6 ms of a 4 ms attach. Nothing after this point uses TLS, unless
		 * records are shipped to a collector, which keeps the system's config.
		 */
		if (!s.collector)
			OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	} else if (d.on) {
		/* a delegated operator's unrecorded session is never silent about it */
		fprintf(stderr, "dhidebug: not recording: %s\n",
			cli.no_record ? "--no-record" : "the policy's `record` is off");
	}
	code = supervisor_run(&s, &err);
	record_close(s.rec);
	image_target_stop(&image);
	if (code < 0)
		return fail(err);
	return code;
}
