#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# attack_r3.bats: the third attack review, on what landed in 23193a8..d568b19: the end of a
# session (the stage's kill of every process in the view's mount namespace, found in a procfs
# of the target's pid namespace), the container's exit, stopped containers' layers and local
# images.

load helpers

setup()
{
	requires root runc toolbox
}

teardown()
{
	local p

	# whatever survived a session: by the marker in its threads' command lines
	if [ -n "${MARKER:-}" ]; then
		for p in $(marked_pids "$MARKER"); do
			kill -9 "$p" 2>/dev/null || true
		done
	fi
	container_rm
}

# marked_pids MARKER: the host's processes one of whose threads has MARKER in its command line
# (a process whose thread-group leader exited shows an empty /proc/PID/cmdline: its other
# threads' are read instead)
marked_pids()
{
	local t

	for t in /proc/[0-9]*/task/[0-9]*; do
		{ tr '\0' ' ' <"$t/cmdline"; } 2>/dev/null | grep -qF -- "$1" || continue
		t=${t#/proc/}
		echo "${t%%/*}"
	done | sort -u
}

# a toolbox of the site's that carries the operator's own program (a delegated operator may
# name any toolbox reference): the busybox toolbox plus tests/fixtures/survivor.c
survivor_toolbox()
{
	local tb=$BATS_TEST_TMPDIR/tb

	[ -x "$BUILD/tests/survivor" ] || missing "no $BUILD/tests/survivor (make fixtures)"
	cp -a "$BUILD/toolbox/busybox" "$tb"
	install -m 0755 "$BUILD/tests/survivor" "$tb/usr/local/bin/survivor"
	echo "$tb"
}

# THREATS 24 and docs/security.md ("sessions outliving dhidebug"): the stage kills every
# process whose /proc/PID/ns/mnt is the view's. A process whose thread-group leader has exited
# (SYS_exit of the main thread alone, no privilege needed) keeps running in its other
# threads, but its /proc/PID/ns/mnt is the leader's, which no longer has namespaces: ENOENT.
# The scan passed over it, in the target's procfs and in the host's /proc fallback alike, and
# it outlived the session with the profile's capabilities, in the view, reparented to the
# container's PID 1 and unrecorded.
@test "a session process whose thread-group leader exited does not outlive the session" {
	local tb p
	tb=$(survivor_toolbox)
	MARKER=r3-survivor-$$-$RANDOM
	container_start static
	local statuses=
	for p in general observe; do
		run --separate-stderr "$DHIDEBUG" -q --toolbox "$tb" --view toolbox --profile "$p" \
			"$TARGET" -- survivor "/target/vol/$MARKER.$p"
		echo "$p: status $status, output: $output, stderr: $stderr"
		statuses+=" $status"
		[[ "$output" == *"survivor: child"*" set"* ]]
	done
	# the control: the thread did run in the session (general may write the volume; observe's
	# nobody may not, its thread runs all the same)
	[ -s "$VOLDIR/$MARKER.general.alive" ]
	sleep 1.5
	run marked_pids "$MARKER"
	echo "left after the sessions: ${output:-none}"
	for p in $output; do
		echo "  $p: $(grep -E '^(State|PPid|CapEff)' "/proc/$p/task/"*/status | tr '\n' ' ')"
	done
	[ -z "$output" ]
	# and the session ended with its program's status, not with init's SIGKILL (137)
	[ "$statuses" = " 0 0" ]
}

@test "a session process whose thread-group leader exited does not outlive the session (enosys: the host's /proc walked)" {
	requires enosys
	local tb
	tb=$(survivor_toolbox)
	MARKER=r3-survivor-$$-$RANDOM
	DHI_PREFIX=("$ENOSYS")
	container_start static
	run --separate-stderr "$ENOSYS" "$DHIDEBUG" -q --toolbox "$tb" --view toolbox \
		"$TARGET" -- survivor "/target/vol/$MARKER"
	echo "status $status, output: $output, stderr: $stderr"
	local st=$status
	[[ "$output" == *"survivor: child"*" set"* ]]
	[ -s "$VOLDIR/$MARKER.alive" ]
	sleep 1.5
	run marked_pids "$MARKER"
	echo "left after the session: ${output:-none}"
	[ -z "$output" ]
	[ "$st" -eq 0 ]
}

# descendant_runs PID NAME: a process NAME descends from PID (for wait_for)
descendant_runs()
{
	local p q

	for p in $(pgrep -x "$2"); do
		q=$p
		while [ -n "$q" ] && [ "$q" -gt 1 ]; do
			[ "$q" = "$1" ] && return 0
			q=$(awk '$1 == "PPid:" { print $2 }' "/proc/$q/status" 2>/dev/null)
		done
	done
	return 1
}

# state_is PID STATE: for wait_for
state_is()
{
	[ "$(pid_state "$1")" = "$2" ]
}

# a container with /dev/fuse and CAP_SYS_ADMIN (a common --device/--cap-add pair) serving
# tests/fixtures/stallfs.c at /vol/fuse, started as its own process (runc exec)
stallfs_container()
{
	customize_bundle()
	{
		install -m 0755 "$BUILD/tests/stallfs" "$1/rootfs/stallfs"
		mkdir -p "$VOLDIR/fuse"
		jq '.linux.devices += [{path: "/dev/fuse", type: "c", major: 10, minor: 229,
					 fileMode: 438, uid: 0, gid: 0}]
		    | .linux.resources.devices += [{allow: true, type: "c", major: 10, minor: 229,
						    access: "rwm"}]
		    | .process.capabilities.bounding += ["CAP_SYS_ADMIN"]
		    | .process.capabilities.effective += ["CAP_SYS_ADMIN"]
		    | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]' \
			"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
	}
	[ -x "$BUILD/tests/stallfs" ] || missing "no $BUILD/tests/stallfs (make fixtures)"
	[ -c /dev/fuse ] || missing "needs /dev/fuse"
	container_start static
	rt exec "$CID" /stallfs /vol/fuse /vol/stall.report </dev/null \
		>"$BATS_TEST_TMPDIR/stallfs.log" 2>&1 3>&- &
	echo $! >>"$BATS_TEST_TMPDIR/bg.pids"
	wait_for -t 10 -m "stallfs mounted" grep -q '^ready' "$VOLDIR/stall.report"
}

# The end of a session SIGKILLs the session's processes until a scan finds none. A process
# that has a SIGKILL pending but cannot die yet (here: a read the container's FUSE server took
# and never answers, an uninterruptible wait) was found and signalled again at every scan, so
# the stage never gave up, init was never killed, and dhidebug never ended: SIGTERM did
# nothing, and after a SIGKILL of dhidebug its stage went on scanning every 10 ms, a root
# process of the host's, for as long as the container wanted.
@test "a session process the container keeps in an unkillable wait does not keep the session from ending" {
	stallfs_container
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --view toolbox "$TARGET" -- cat /target/vol/fuse/f
	wait_for -t 10 -m "the session's read reached stallfs" grep -q '^read' "$VOLDIR/stall.report"
	# the control: the reader waits in D, and a SIGKILL does not end it
	local cat
	wait_for -t 10 -m "cat in the session" pgrep -x cat --ns "$CPID" --nslist pid
	cat=$(pgrep -x cat --ns "$CPID" --nslist pid)
	kill -9 "$cat"
	wait_for -t 5 -m "cat killed and waiting in D" state_is "$cat" D
	grep -E '^(State|SigPnd|ShdPnd)' "/proc/$cat/status"
	# the stage: dhidebug's child in the host's pid namespace
	local stage
	stage=$(pgrep -x dhidebug -P "$DHI_PID")
	[ -n "$stage" ]
	# the operator gives up on it
	kill -TERM "$DHI_PID"
	wait_pid_exit "$DHI_PID" 10
	echo "dhidebug: status $WAIT_STATUS, output: $(cat "$BATS_TEST_TMPDIR/out")"
	[ "$WAIT_STATUS" -eq 143 ]
	# and its stage is not left scanning
	[ -z "$(pid_state "$stage")" ] || [ "$(pid_state "$stage")" = Z ]
}

# session.end's reason target-exited, and the line "container `X` exited; the session ended",
# were given whenever the pinned process was gone once the session had ended, whatever ended
# it. Where the target is not its pid namespace's init (a container sharing the host's pid
# namespace, as here, or a pod's app container beside its pause process), its exit ends
# nothing: the container's init could exit while the operator's program ran on to its own end,
# and the audit then said the container had ended the session, which it had not.
@test "a target that exits without ending the session does not make the session end target-exited" {
	customize_bundle()
	{
		jq '.linux.namespaces |= map(select(.type != "pid"))' "$1/config.json" >"$1/c.json" &&
			mv "$1/c.json" "$1/config.json"
	}
	container_start static
	local sdir=$BATS_TEST_TMPDIR/sessions d
	mkdir -m 0700 "$sdir"
	# (a target in the host's pid namespace is the host: --allow-host, attack_r4.bats)
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --allow-host --sessions-dir "$sdir" "$TARGET" -- sleep 3
	wait_for -t 10 -m "the session's sleep" descendant_runs "$DHI_PID" sleep
	kill -9 "$CPID"
	wait_pid_exit "$DHI_PID" 20
	echo "status $WAIT_STATUS, output: $(cat "$BATS_TEST_TMPDIR/out")"
	d=$(ls -d "$sdir"/*/ | head -1)
	grep '"session.end"' "$d/audit.jsonl"
	# the program ran to its end: status 0, and nothing says the container ended it
	[ "$WAIT_STATUS" -eq 0 ]
	run_fails grep -q 'exited; the session ended' "$BATS_TEST_TMPDIR/out"
	jq -e -s 'any(.[]; .type == "session.end" and .status == 0 and .reason == "exit")' \
		"$d/audit.jsonl"
}

# A stopped runc container's process (env, user, cwd) comes from its bundle's config.json. The
# bundle may be a user's (root ran `runc run --bundle /home/u/b`), and its owner may replace it
# with a symlink: the rootfs (outside the bundle here) is opened with no symlink on the way,
# but the bundle was opened following them, so the owner had dhidebug read, as root, another
# bundle's config.json, another container's environment and its secrets among it, into the
# session's. The control: the same session with the bundle in place has the bundle's own env.
@test "stopped: a bundle swapped for a symlink by its owner does not hand the session another container's config" {
	customize_bundle()
	{
		mv "$1/rootfs" "$BATS_TEST_TMPDIR/rootfs"
		jq --arg r "$BATS_TEST_TMPDIR/rootfs" '.root.path = $r
			| .process.env += ["WHOSE=the-bundles-own"]' \
			"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
	}
	container_start static
	rt kill "$CID" KILL
	wait_for -t 5 -m "the container stopped" test "$(rt state "$CID" | jq -r .status)" = stopped
	# another container's bundle, root's, whose config holds a secret
	local other=$BATS_TEST_TMPDIR/other-bundle
	mkdir -m 0700 "$other"
	jq '.process.env |= map(select(startswith("WHOSE=") | not))
	    + ["WHOSE=another-containers-secret"]' "$BUNDLE/config.json" >"$other/config.json"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --view toolbox "$TARGET" -- \
		printenv WHOSE </dev/null
	echo "control: $status: $output / $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = the-bundles-own ]
	mv "$BUNDLE" "$BUNDLE.real"
	ln -s "$other" "$BUNDLE"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --view toolbox "$TARGET" -- \
		printenv WHOSE </dev/null
	rm "$BUNDLE"
	mv "$BUNDLE.real" "$BUNDLE"
	echo "swapped: $status: $output / $stderr"
	[[ "$output" != *another-containers-secret* ]]
	# the container's files are still opened (the rootfs is not in the bundle), without its
	# config: printenv finds no WHOSE
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}
