# SPDX-License-Identifier: Apache-2.0
# helpers.bash: loaded by every bats file; starts throwaway containers and observes them from
# the host, so tests assert on what the kernel shows rather than on what dhidebug reports.

bats_require_minimum_version 1.5.0 # run --separate-stderr

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
DHIDEBUG=${DHIDEBUG:-$BUILD/dhidebug}
TOOLBOX=${TOOLBOX:-$BUILD/toolbox/rootfs}
ENOSYS=${ENOSYS:-$BUILD/tests/enosys}
# The OCI runtime that runs the target (runc or crun) and its state directory (empty: the
# runtime's default, which is where dhidebug looks unless given --runtime-root).
RUNTIME=${RUNTIME:-runc}
RUNTIME_ROOT=${RUNTIME_ROOT:-}
# Prepended to every dhidebug command line; fallback tests set it to ("$ENOSYS").
DHI_PREFIX=()
# A hung session must fail its test, not the whole run (bats >= 1.7).
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120}

load bundle

# rt ARGS...: the runtime, pointed at RUNTIME_ROOT when one is set.
rt()
{
	"$RUNTIME" ${RUNTIME_ROOT:+--root "$RUNTIME_ROOT"} "$@"
}

# dhidebug ARGS...: the binary under test with the test toolbox, without notices (so $output
# is the program's output only), and through DHI_PREFIX. The tests are about the pipe relay:
# when bats itself runs on a terminal, stdin is replaced so dhidebug never sees a tty.
dhidebug()
{
	if [ -t 0 ]; then
		"${DHI_PREFIX[@]}" "$DHIDEBUG" --toolbox "$TOOLBOX" -q "$@" </dev/null
	else
		"${DHI_PREFIX[@]}" "$DHIDEBUG" --toolbox "$TOOLBOX" -q "$@"
	fi
}

# run_dhi [-N] ARGS...: `run dhidebug ARGS` and log the result; bats shows the log only when
# the test fails, which is when it is needed. A leading -N is run's own "expect status N"
# (bats warns about a bare 127, which here is an expected result, not a typo).
run_dhi()
{
	local expect=()

	if [[ "${1:-}" =~ ^-[0-9]+$ ]]; then
		expect=("$1")
		shift
	fi
	run "${expect[@]}" dhidebug "$@"
	echo "dhidebug $* -> status $status, output:"
	echo "$output"
}

# requires WHAT...: every prerequisite holds, or the test fails naming the one that does not
# (`missing`). The only skips are for what cannot exist here: crun on a cgroup layout it refuses,
# a sanitizer build that cannot run inside a container.
requires()
{
	local what

	for what in "$@"; do
		case $what in
		root)
			[ "$(id -u)" -eq 0 ] || missing "needs root"
			;;
		runc)
			command -v runc >/dev/null || missing "needs runc"
			;;
		podman)
			command -v podman >/dev/null || missing "needs podman"
			podman info >/dev/null 2>&1 || missing "podman info fails on this host"
			;;
		crun)
			command -v crun >/dev/null || missing "needs crun"
			crun_works || skip "crun cannot run containers here: $(cat "$BATS_RUN_TMPDIR/crun.err")"
			;;
		toolbox)
			[ -e "$TOOLBOX/bin/sh" ] || missing "no toolbox at $TOOLBOX (make toolbox)"
			;;
		static-dhidebug)
			# mounted into a container that has no loader or libraries of the host's
			if LC_ALL=C readelf -l "$DHIDEBUG" 2>/dev/null | grep -q 'program interpreter'; then
				skip "this dhidebug is dynamically linked (a sanitizer build: make asan); it cannot run inside a container without the host's libraries"
			fi
			;;
		containerd)
			command -v containerd >/dev/null || missing "needs containerd"
			command -v ctr >/dev/null || missing "needs ctr (containerd)"
			;;
		docker-cli)
			command -v docker >/dev/null || missing "needs the docker CLI"
			;;
		python3)
			command -v python3 >/dev/null || missing "needs python3"
			;;
		enosys)
			[ -x "$ENOSYS" ] || missing "no $ENOSYS (make fixtures)"
			;;
		tmux)
			command -v tmux >/dev/null || missing "needs tmux"
			;;
		rsyslog)
			command -v rsyslogd >/dev/null || missing "needs rsyslogd (rsyslog)"
			compgen -G '/usr/lib/*/rsyslog/lmnsd_ossl.so' >/dev/null ||
				missing "needs rsyslog's OpenSSL driver (rsyslog-openssl)"
			;;
		nginx)
			command -v nginx >/dev/null || missing "needs nginx"
			;;
		probe)
			[ -x "$TOOLBOX/usr/local/bin/dhi-probe" ] ||
				missing "no dhi-probe in the test toolbox (make check-integration)"
			command -v capsh >/dev/null || missing "needs capsh (libcap2-bin)"
			;;
		*)
			echo "requires: unknown prerequisite \`$what'" >&2
			return 1
			;;
		esac
	done
	# Not a prerequisite but the thing under test: a missing binary fails, it does not skip.
	if [ ! -x "$DHIDEBUG" ]; then
		echo "no dhidebug binary at $DHIDEBUG (make all)" >&2
		return 1
	fi
}

# crun refuses some hosts outright (cgroup v1 with a hybrid v2 hierarchy that has
# controllers: "cgroups in hybrid mode not supported"). Find out once per bats run by
# starting a real container, and keep the error for the skip reason.
crun_works()
{
	local probe=$BATS_RUN_TMPDIR/crun-probe id=dhi-probe-$$

	if [ ! -e "$BATS_RUN_TMPDIR/crun.ok" ] && [ ! -e "$BATS_RUN_TMPDIR/crun.err" ]; then
		rm -rf "$probe"
		if ! bundle_make static "$probe" "$probe/vol" 2>"$BATS_RUN_TMPDIR/crun.err"; then
			:
		elif crun run -d --bundle "$probe" "$id" </dev/null >/dev/null 2>"$BATS_RUN_TMPDIR/crun.err"; then
			crun delete -f "$id" >/dev/null 2>&1
			rm -f "$BATS_RUN_TMPDIR/crun.err"
			touch "$BATS_RUN_TMPDIR/crun.ok"
		fi
		crun delete -f "$id" >/dev/null 2>&1
		rm -rf "$probe"
		# Keep the first line only: it is a skip reason, not a log.
		if [ -e "$BATS_RUN_TMPDIR/crun.err" ]; then
			head -n1 "$BATS_RUN_TMPDIR/crun.err" >"$BATS_RUN_TMPDIR/crun.err1"
			mv "$BATS_RUN_TMPDIR/crun.err1" "$BATS_RUN_TMPDIR/crun.err"
			[ -s "$BATS_RUN_TMPDIR/crun.err" ] || echo "crun run failed" >"$BATS_RUN_TMPDIR/crun.err"
		fi
	fi
	[ -e "$BATS_RUN_TMPDIR/crun.ok" ]
}

# bundle_create KIND: an OCI bundle in $BATS_TEST_TMPDIR/bundle; the volume is
# $BATS_TEST_TMPDIR/vol. Exports BUNDLE and VOLDIR.
bundle_create()
{
	BUNDLE=$BATS_TEST_TMPDIR/bundle
	VOLDIR=$BATS_TEST_TMPDIR/vol
	export BUNDLE VOLDIR
	bundle_make "$1" "$BUNDLE" "$VOLDIR"
}

# container_start KIND: run a KIND container detached. Exports KIND, CID (the runtime's id),
# CPID (its PID 1 as seen from the host), TARGET (the dhidebug target), BUNDLE and VOLDIR.
container_start()
{
	local i state

	KIND=$1
	export KIND
	bundle_create "$KIND" || return 1
	# a test that needs a different target defines customize_bundle (rootfs, config.json)
	if declare -F customize_bundle >/dev/null; then
		customize_bundle "$BUNDLE" || return 1
	fi
	# (a test may name the runtime id: container_start KIND ID)
	CID=${2:-dhi-t-$$-$BATS_TEST_NUMBER-$RANDOM}
	export CID
	# Record the id first: teardown must remove the container even if `run` half-failed,
	# and with the runtime and state directory it was started with.
	printf '%s\n' "$CID" "$RUNTIME" "$RUNTIME_ROOT" >"$BATS_TEST_TMPDIR/cid"
	if ! rt run -d --bundle "$BUNDLE" "$CID" </dev/null >"$BATS_TEST_TMPDIR/run.log" 2>&1; then
		echo "$RUNTIME run failed:" >&2
		cat "$BATS_TEST_TMPDIR/run.log" >&2
		return 1
	fi
	for i in $(seq 50); do
		state=$(rt state "$CID" 2>/dev/null | jq -r .status)
		[ "$state" = running ] && break
		sleep 0.1
	done
	if [ "$state" != running ]; then
		echo "container $CID is \`$state', not running" >&2
		return 1
	fi
	CPID=$(rt state "$CID" | jq -r .pid)
	TARGET=$RUNTIME://$CID
	export CPID TARGET
}

# container_rm: remove the test's container and any dhidebug it left running. Safe to call
# from teardown whatever happened before, including when nothing was started.
container_rm()
{
	local pid id

	if [ -e "$BATS_TEST_TMPDIR/bg.pids" ]; then
		while read -r pid; do
			kill -KILL "$pid" 2>/dev/null || true
		done <"$BATS_TEST_TMPDIR/bg.pids"
		rm -f "$BATS_TEST_TMPDIR/bg.pids"
	fi
	if [ -e "$BATS_TEST_TMPDIR/cid" ]; then
		{
			read -r id
			read -r RUNTIME
			read -r RUNTIME_ROOT
		} <"$BATS_TEST_TMPDIR/cid"
		rt kill "$id" KILL >/dev/null 2>&1 || true
		rt delete -f "$id" >/dev/null 2>&1 || true
		rm -f "$BATS_TEST_TMPDIR/cid"
	fi
	rm -rf "$BATS_TEST_TMPDIR/bundle"
}

# dhidebug_bg OUTFILE ARGS...: start dhidebug ARGS in the background, without a terminal,
# output to OUTFILE. Sets DHI_PID; teardown kills it if the test did not wait for it.
dhidebug_bg()
{
	local out=$1

	shift
	# exec: $! must be dhidebug itself (or the enosys wrapper that execs it), not a subshell
	# running the dhidebug() function, or the signals the tests send would miss it.
	# 3>&-: bats waits for whoever holds its fd 3 before it reports the test.
	(exec "${DHI_PREFIX[@]}" "$DHIDEBUG" --toolbox "$TOOLBOX" -q "$@") </dev/null >"$out" 2>&1 3>&- &
	DHI_PID=$!
	echo "$DHI_PID" >>"$BATS_TEST_TMPDIR/bg.pids"
}

# wait_pid_exit PID [SECONDS]: wait until PID (a child of the test) has exited; its status
# is in $WAIT_STATUS. Fails if it is still running after SECONDS (default 10).
wait_pid_exit()
{
	local pid=$1 limit=$((${2:-10} * 10)) i

	for ((i = 0; i < limit; i++)); do
		if ! kill -0 "$pid" 2>/dev/null || [ "$(pid_state "$pid")" = Z ]; then
			WAIT_STATUS=0
			wait "$pid" || WAIT_STATUS=$?
			return 0
		fi
		sleep 0.1
	done
	echo "pid $pid still running after ${2:-10}s" >&2
	return 1
}

# pid_state PID: the one-letter state of PID (R, S, Z...), empty if it is gone.
pid_state()
{
	local stat

	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	# comm (field 2) may contain spaces and parentheses; the state follows the last ')'.
	stat=${stat##*) }
	echo "${stat%% *}"
}

# wait_for_session [SECONDS]: wait until a dhidebug session process exists in the target.
wait_for_session()
{
	# a deadline in seconds, not a count of polls: one scan of /proc can take long on a
	# loaded machine with many processes
	local end=$((SECONDS + ${1:-10}))

	while ((SECONDS < end)); do
		[ -n "$(session_pids)" ] && return 0
		sleep 0.1
	done
	echo "no session process appeared in the target within ${1:-10}s" >&2
	return 1
}

# wait_no_session [SECONDS]: wait until no session process is left in the target. Fails,
# listing what is left, after SECONDS (default 2: THREATS.md test 24).
wait_no_session()
{
	local limit=$((${1:-2} * 10)) i pid

	for ((i = 0; i < limit; i++)); do
		[ -z "$(session_pids)" ] && return 0
		sleep 0.1
	done
	echo "session processes left in the target after ${1:-2}s:" >&2
	for pid in $(session_pids); do
		echo "  $pid $(pid_state "$pid") $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" >&2
	done
	return 1
}

# target_mountinfo: the target's mount table, as the target sees it.
target_mountinfo()
{
	cat "/proc/$CPID/mountinfo"
}

# target_root_listing: every file of the container's root filesystem (not its submounts of
# other filesystems) with mode, size and mtime, sorted. A session that creates, removes or
# touches anything in the container's root changes this.
target_root_listing()
{
	find "/proc/$CPID/root/" -xdev -printf '%P %m %s %T@\n' | sort
}

# session_pids: pids in the target's pid namespace other than its PID 1, from the host.
session_pids()
{
	# pgrep reads every /proc/PID/ns/pid in one process: a loop of readlinks in bash took
	# seconds on a loaded host, longer than the sessions the tests look for
	readlink "/proc/$CPID/ns/pid" >/dev/null || return 1
	pgrep --ns "$CPID" --nslist pid | grep -vx "$CPID"
	return 0
}

# zombie_children_of PID: how many zombies PID has as children (not reaped by it).
zombie_children_of()
{
	local f stat n=0 rest state ppid

	for f in /proc/[0-9]*/stat; do
		stat=$(cat "$f" 2>/dev/null) || continue
		rest=${stat##*) }
		read -r state ppid _ <<<"$rest"
		[ "$state" = Z ] && [ "$ppid" = "$1" ] && n=$((n + 1))
	done
	echo "$n"
}

# assert_no_leftovers [SECONDS]: within SECONDS (default 2) nothing of a session remains in
# the target, and its PID 1 was handed no zombie. A zombie handed to the app stays in the
# target's pid namespace forever (the app never reaps), so it is reported as such first.
assert_no_leftovers()
{
	local z ok=0

	# An empty pid namespace proves nothing if the whole target went away with the session.
	if [ ! -e "/proc/$CPID/ns/pid" ]; then
		echo "the target's PID 1 ($CPID) is gone" >&2
		return 1
	fi
	wait_no_session "${1:-2}" || ok=1
	z=$(zombie_children_of "$CPID")
	if [ "$z" -ne 0 ]; then
		echo "$z zombie(s) handed to the target's PID 1" >&2
		ok=1
	fi
	return "$ok"
}

# ---------------------------------------------------------------------------------------
# Checks of a session's effects, shared by the plain tests and the fallback (enosys) tests so
# both assert exactly the same thing. Each needs a started container (KIND, CPID, TARGET).

# The app's argv as bats can hold it (NULs become spaces).
pid1_cmdline()
{
	dhidebug "$TARGET" -- cat /proc/1/cmdline | tr '\0' ' '
	return "${PIPESTATUS[0]}"
}

# The session sees the target's PID 1: its argv is the container's, not the host's.
check_cmdline()
{
	local want="/app /vol/from-app "

	[ "$KIND" = dynamic ] && want="/app /vol/from-app /from-app "
	run pid1_cmdline
	echo "cmdline: status $status, \`$output'"
	[ "$status" -eq 0 ]
	[ "$output" = "$want" ]
}

# The session is in every cgroup of the target (v1 hierarchies and the v2 one alike), however
# it got there: born in the v2 cgroup (clone3) or moved by the supervisor (older kernels).
check_cgroup()
{
	run dhidebug -c 'cat /proc/self/cgroup' "$TARGET"
	echo "cgroup: status $status"
	echo "session: $output"
	echo "target:  $(cat "/proc/$CPID/cgroup")"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "/proc/$CPID/cgroup")" ]
}

# The session is in the target's pid namespace: app is PID 1 and no host process shows.
check_ps()
{
	local host_init

	host_init=$(cat /proc/1/comm)
	run_dhi "$TARGET" -- ps -e -o pid=,comm=
	[ "$status" -eq 0 ]
	[ "$(awk '$1 == 1 { print $2 }' <<<"$output")" = app ]
	# The host's init has another name (unless the host's PID 1 is itself called app).
	# (`! grep` would not fail the test: errexit ignores negated commands.)
	if [ "$host_init" != app ] && grep -qw -- "$host_init" <<<"$output"; then
		echo "the host's PID 1 ($host_init) is visible in the session" >&2
		return 1
	fi
}

check_hostname()
{
	run_dhi "$TARGET" -- hostname
	[ "$status" -eq 0 ]
	[ "$output" = dhi-target ]
}

# The session is in the target's network namespace: only lo, none of the host's interfaces.
check_net()
{
	local ifname

	run_dhi "$TARGET" -- cat /proc/net/dev
	[ "$status" -eq 0 ]
	grep -q '^ *lo:' <<<"$output"
	for ifname in $(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev); do
		[ "$ifname" = lo ] && continue
		if grep -q "^ *$ifname:" <<<"$output"; then
			echo "host interface $ifname is visible in the session" >&2
			return 1
		fi
	done
}

# /.dhi is the toolbox, mounted read-only: a write fails with EROFS and nothing reaches the
# toolbox directory on the host.
check_dhi_readonly()
{
	rm -f "$TOOLBOX/x"
	run_dhi -c 'test -x /.dhi/bin/sh || exit 9; touch /.dhi/x' "$TARGET"
	[ "$status" -ne 0 ]
	[ "$status" -ne 9 ]
	[[ "$output" == *"Read-only file system"* ]]
	[ ! -e "$TOOLBOX/x" ]
}

# Union view: / merges the container's files over the toolbox. /app is the container's own
# binary (same bytes as the one the bundle was made from), toolbox tools are on the PATH, and
# the container root is also at /target.
check_union_view()
{
	local app_sum

	app_sum=$(sha256sum <"$BUNDLE/rootfs/app" | cut -d' ' -f1)
	run_dhi --view union -c 'sha256sum </app; sha256sum </target/app; ls /usr/bin/strace' "$TARGET"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$app_sum  -" ]
	[ "${lines[1]}" = "$app_sum  -" ]
	[[ "${lines[2]}" == */strace ]]
	# The merge is read-only as a whole.
	run_dhi --view union -c 'touch /newfile' "$TARGET"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[ ! -e "$BUNDLE/rootfs/newfile" ]
}

# Toolbox view: / is the toolbox; the container is only at /target, while /proc and /dev are
# still the target's.
check_toolbox_view()
{
	local app_sum

	app_sum=$(sha256sum <"$BUNDLE/rootfs/app" | cut -d' ' -f1)
	run_dhi --view toolbox -c 'test ! -e /app || echo "/app exists"; sha256sum </target/app;
		tr "\0" " " </proc/1/cmdline; echo; test -c /dev/null && echo devnull' "$TARGET"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$app_sum  -" ]
	[[ "${lines[1]}" == "/app /vol/from-app"* ]]
	[ "${lines[2]}" = devnull ]
	[ "${#lines[@]}" -eq 3 ]
	run_dhi --view toolbox -c 'touch /newfile' "$TARGET"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
}

# Exit status contract: the program's own, 126 not executable, 127 not found, 128+N signal.
check_exit_statuses()
{
	run_dhi "$TARGET" -- true
	[ "$status" -eq 0 ]
	run_dhi "$TARGET" -- false
	[ "$status" -eq 1 ]
	run_dhi -c 'exit 3' "$TARGET"
	[ "$status" -eq 3 ]
	run_dhi -127 "$TARGET" -- /nonexistent
	[ "$status" -eq 127 ]
	# A regular 0644 file in both views: the container's in union, the toolbox's otherwise.
	run_dhi "$TARGET" -- /etc/os-release
	[ "$status" -eq 126 ]
	# dhish has no $$; a program killed by SIGKILL is what is tested
	run_dhi --profile sysadmin "$TARGET" -- bash -c 'kill -9 $$'
	[ "$status" -eq 137 ]
}

# No trace (DESIGN.md invariant 1): the target's mount table, root filesystem and environment
# are the same before, during and after a session, and no mount shows up on the host.
check_no_trace()
{
	local mi0 ls0 env0 tb host0 out=$BATS_TEST_TMPDIR/no-trace.out

	mi0=$(target_mountinfo)
	ls0=$(target_root_listing)
	env0=$(tr '\0' '\n' <"/proc/$CPID/environ")
	# mountinfo shows resolved paths.
	tb=$(realpath "$TOOLBOX")
	host0=$(grep -cF "$tb" /proc/self/mountinfo || true)

	dhidebug_bg "$out" "$TARGET" -- sleep 5
	wait_for_session
	diff -u <(echo "$mi0") <(target_mountinfo)
	diff -u <(echo "$ls0") <(target_root_listing)
	[ "$(grep -cF "$tb" /proc/self/mountinfo || true)" = "$host0" ]
	wait_pid_exit "$DHI_PID" 30
	cat "$out"
	[ "$WAIT_STATUS" -eq 0 ]

	diff -u <(echo "$mi0") <(target_mountinfo)
	diff -u <(echo "$ls0") <(target_root_listing)
	diff -u <(echo "$env0") <(tr '\0' '\n' <"/proc/$CPID/environ")
	[ "$(grep -cF "$tb" /proc/self/mountinfo || true)" = "$host0" ]
	assert_no_leftovers
}

# The checks every way of entering must pass (plain, and each kernel-fallback path).
# check_no_host_fds: a session's program holds fds 0, 1 and 2 only, looked at from the host
# (a listing from inside would show the lister's own fds).
check_no_host_fds()
{
	local pid i

	dhidebug_bg "$BATS_TEST_TMPDIR/out-fds" "$TARGET" -- sleep 5
	wait_for_session
	for i in $(seq 50); do
		# (until the program has exec'd sleep, no pid matches: not a failure yet)
		pid=$(for p in $(session_pids); do
			[ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] && echo "$p"; done; true)
		[ -n "$pid" ] && break
		sleep 0.1
	done
	[ -n "$pid" ]
	[ "$(ls /proc/$pid/fd | sort -n | xargs)" = "0 1 2" ]
	kill "$DHI_PID"
	wait "$DHI_PID" 2>/dev/null || true
	wait_no_session
}

check_core()
{
	check_no_host_fds
	check_cmdline
	check_cgroup
	check_ps
	check_hostname
	check_net
	check_dhi_readonly
	check_union_view
	check_toolbox_view
	check_exit_statuses
	check_no_trace
}

# --- a real terminal: tmux, driven with send-keys and read with capture-pane ---

# tm ARGS...: tmux on this test's own server.
tm()
{
	tmux -S "$BATS_TEST_TMPDIR/tmux.sock" "$@"
}

# tmux_start: a 100x30 window running a plain bash whose prompt is `outer$ `.
tmux_start()
{
	tm new-session -d -s t -x 100 -y 30 "bash --norc --noprofile"
	tm send-keys -t t "PS1='outer\$ '" Enter
	screen_has 'outer$'
}

tmux_stop()
{
	tm kill-server 2>/dev/null || true
}

# screen_has TEXT [SECONDS]: wait until the window shows TEXT; on failure, show the window.
screen_has()
{
	local i
	for i in $(seq $((${2:-10} * 10))); do
		tm capture-pane -p -t t | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	echo "screen never showed: $1"
	tm capture-pane -p -t t
	return 1
}

# run_fails CMD...: CMD must fail. (A bare `! CMD` line never fails a bats test: errexit
# ignores a command negated with `!`.)
run_fails()
{
	if "$@"; then
		echo "expected to fail: $*"
		return 1
	fi
	return 0
}

# --- background services for the tests (registries, engines, collectors) ---

# daemon PIDFILE LOG CMD...: start CMD in the background holding none of bats' fds (bats waits
# for every holder of its pipes before it goes on, so a daemon keeping one would hang the run).
daemon()
{
	local pidfile=$1 log=$2

	shift 2
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		exec "$@"
	) </dev/null >"$log" 2>&1 &
	echo $! >"$pidfile"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port()
{
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# registry_start DIR: a plain-HTTP docker-registry on a free loopback port, its storage and
# log under DIR; waits until it answers and prints its address (127.0.0.1:PORT).
registry_start()
{
	local d=$1 port i

	mkdir -p "$d/data"
	port=$(free_port)
	cat >"$d/config.yml" <<-EOF
		version: 0.1
		log:
		  level: warn
		storage:
		  filesystem:
		    rootdirectory: $d/data
		http:
		  addr: 127.0.0.1:$port
	EOF
	daemon "$d/pid" "$d/log" docker-registry serve "$d/config.yml"
	for i in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break
		sleep 0.1
	done
	echo "127.0.0.1:$port"
}

# containers_conf FILE: the containers.conf podman needs on this kind of host (runc, cgroupfs,
# ulimits at or below the current hard limits; the reasons are in the file); the caller points
# CONTAINERS_CONF at it.
containers_conf()
{
	cp "$REPO/tests/integration/containers.conf" "$1"
}

# --- what is missing, and waiting for a condition ---

# missing REASON: something the suite needs (a command of `make deps`, a service the test
# starts, a build) is not there or did not start. That is a failure, never a skip: a green run
# must mean every test ran. DHI_ALLOW_MISSING=1 makes it a skip instead, for a developer who
# runs a file on a machine without that part; `make check` never sets it. What cannot exist
# on a machine at all (crun under a hybrid cgroup layout) is a plain `skip` with its reason.
missing()
{
	if [ "${DHI_ALLOW_MISSING:-0}" = 1 ]; then
		skip "missing (DHI_ALLOW_MISSING=1): $1"
	fi
	echo "missing: $1 (a failure: \`make deps' installs every command; DHI_ALLOW_MISSING=1 skips instead)" >&2
	return 1
}

# wait_for [-t SECONDS] [-m MESSAGE] CMD...: poll CMD every 0.05 s until it succeeds; fails,
# saying what was awaited, after SECONDS (default 10). For acting on a condition (a prompt
# shown, echo turned off, a process started) instead of sleeping a fixed time before it.
wait_for()
{
	local limit=10 msg='' end

	while [ $# -gt 0 ]; do
		case $1 in
		-t) limit=$2; shift 2 ;;
		-m) msg=$2; shift 2 ;;
		*) break ;;
		esac
	done
	end=$(($(date +%s%N) + limit * 1000000000))
	until "$@"; do
		if [ "$(date +%s%N)" -ge "$end" ]; then
			echo "wait_for: ${msg:-$*}: not true within ${limit}s" >&2
			return 1
		fi
		sleep 0.05
	done
}

# session_runs NAME [N]: at least N (default 1) processes named NAME run in the target's pid
# namespace (zombies do not count). For wait_for: a program of the session has started.
session_runs()
{
	local p n=0

	for p in $(session_pids); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] || continue
		[ "$(pid_state "$p")" != Z ] && n=$((n + 1))
	done
	[ "$n" -ge "${2:-1}" ]
}

# session_pid NAME: the pid (as the host numbers it) of a process NAME in the target, if any
session_pid()
{
	local p

	for p in $(session_pids); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && { echo "$p"; return 0; }
	done
	return 1
}

# tty_state PID: the terminal on PID's fd 0 as "echo|noecho ROWS COLS" (read from the host,
# without making it anyone's controlling terminal)
tty_state()
{
	python3 - "/proc/$1/fd/0" <<-'PY'
		import fcntl, os, struct, sys, termios
		fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
		lflag = termios.tcgetattr(fd)[3]
		rows, cols = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))[:2]
		print("echo" if lflag & termios.ECHO else "noecho", rows, cols)
	PY
}

# session_tty_is NAME STATE...: a process NAME runs in the target and its terminal is in STATE
# (tty_state's words; `noecho' alone, or `echo 25 90'). For wait_for.
session_tty_is()
{
	local pid name=$1

	shift
	pid=$(session_pid "$name") || return 1
	[[ "$(tty_state "$pid" 2>/dev/null)" == "$*"* ]]
}

# nobody_has_open FILE: no process holds FILE open (so nothing can still write it)
nobody_has_open()
{
	local f want

	want=$(realpath "$1")
	for f in /proc/[0-9]*/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "$want" ] && return 1
	done
	return 0
}

# collector_run ARGS...: the test collector (collector.py) on $PORT logging to $CLOG, with ARGS;
# waits until it listens. collector_stop ends it and shows what it printed.
collector_run()
{
	local i

	daemon "$BATS_TEST_TMPDIR/collector.pid" "$BATS_TEST_TMPDIR/collector.out" \
		python3 "$BATS_TEST_DIRNAME/collector.py" "$PORT" "$CLOG" "$@"
	CPID_COLLECTOR=$(cat "$BATS_TEST_TMPDIR/collector.pid")
	for i in $(seq 50); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT))" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/collector.out"
	return 1
}

collector_stop()
{
	if [ -n "${CPID_COLLECTOR:-}" ]; then
		kill "$CPID_COLLECTOR" 2>/dev/null || true
		while kill -0 "$CPID_COLLECTOR" 2>/dev/null; do sleep 0.1; done
		CPID_COLLECTOR=
		cat "$BATS_TEST_TMPDIR/collector.out" 2>/dev/null || true
	fi
}
