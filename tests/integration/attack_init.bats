#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# attack_init.bats: a container that attacks the processes a session starts (THREATS.md 41,
# issue 14 findings 1 and 7). Its PID 1 holds CAP_SYS_PTRACE, as `--cap-add SYS_PTRACE`
# gives, and seizes every new process: none may hold more than the profile grants, take an
# injected remount or open_by_handle_at, or hand out a directory outside the container; and
# when dhidebug is killed, the session is gone at once.

load helpers

setup()
{
	requires root runc toolbox
}

teardown()
{
	[ -n "${HOSTCTL_PID:-}" ] && kill -9 "$HOSTCTL_PID" 2>/dev/null
	container_rm
}

# set_mask PROFILE: what the seizer lets the next session's processes hold, as a hex mask
set_mask()
{
	local names name mask=0 bit
	names=$("$DHIDEBUG" profiles --json | jq -r --arg p "$1" \
		'.[] | select(.name == $p) | .capabilities[]')
	for name in $names; do
		for bit in $(seq 0 63); do
			if [ "$(capsh --decode="$(printf '0x%x' $((1 << bit)))" | sed 's/.*=//')" = "$name" ]; then
				mask=$((mask | (1 << bit)))
				break
			fi
		done
	done
	printf '%x\n' "$mask" >"$VOLDIR/mask"
}

seizer_bundle()
{
	customize_bundle()
	{
		install -m 0755 "$BUILD/tests/seizer" "$1/rootfs/seizer"
		jq '.process.args = ["/seizer", "/vol/report", "/vol/mask", "/vol/hostdevs"]
		    | .process.capabilities.bounding += ["CAP_SYS_PTRACE"]
		    | .process.capabilities.effective += ["CAP_SYS_PTRACE"]
		    | .process.capabilities.permitted += ["CAP_SYS_PTRACE"]' \
			"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
	}
	container_start static
	local i
	for i in $(seq 100); do
		grep -q '^ready' "$VOLDIR/report" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "the seizer never got ready" >&2
	cat "$VOLDIR/report" >&2
	return 1
}

# exe_handle PID OUT: hold /proc/PID/exe as an O_PATH handle (the CVE-2019-5736 way: a running
# binary refuses writers with ETXTBSY, its file does not once it stopped running), wait until
# PID has exited, then reopen the handle for writing and write one byte. OUT says `written', or
# the errno of the open (`EROFS') or of the write (`write:EPERM'). OUT.held appears once held.
exe_handle()
{
	python3 - "$1" "$2" <<-'PY' 3>&- &
		import errno, os, sys, time
		pid, out = int(sys.argv[1]), sys.argv[2]
		def gone():
		    try:
		        with open("/proc/%d/stat" % pid) as f:
		            return f.read().rsplit(") ", 1)[1][0] == "Z"
		    except FileNotFoundError:
		        return True
		fd = os.open("/proc/%d/exe" % pid, os.O_PATH | os.O_CLOEXEC)
		open(out + ".held", "w").close()
		for _ in range(3000):
		    if gone():
		        break
		    time.sleep(0.01)
		try:
		    w = os.open("/proc/self/fd/%d" % fd, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
		except OSError as e:
		    result = errno.errorcode[e.errno]
		else:
		    try:
		        os.write(w, b"x")
		        result = "written"
		    except OSError as e:
		        result = "write:" + errno.errorcode[e.errno]
		with open(out, "w") as f:
		    f.write(result + "\n")
	PY
	echo $! >>"$BATS_TEST_TMPDIR/bg.pids"
	wait_for -t 5 -m "an O_PATH handle of /proc/$1/exe" test -e "$2.held"
}

# exe_handle_control: the technique works on this kernel: a copy of sleep, run from the test's
# directory, is rewritten through its handle once it has exited
exe_handle_control()
{
	local ctl=$BATS_TEST_TMPDIR/ctl-sleep pid

	cp "$(command -v sleep)" "$ctl"
	# long enough for the handle to be taken on a loaded host, ended once it is
	"$ctl" 30 &
	pid=$!
	exe_handle "$pid" "$BATS_TEST_TMPDIR/ctl.result"
	kill "$pid"
	wait "$pid" || true
	wait_for -t 5 test -s "$BATS_TEST_TMPDIR/ctl.result"
	echo "control: $(cat "$BATS_TEST_TMPDIR/ctl.result")"
	[ "$(cat "$BATS_TEST_TMPDIR/ctl.result")" = written ]
	[ "$(tail -c 1 "$ctl")" = x ]
}

@test "a CAP_SYS_PTRACE PID 1 seizes every session process: no capability, injected call or host fd gained" {
	requires probe
	local p
	seizer_bundle
	# the positive controls: our own child could be seized, injected into and robbed of a
	# directory fd; a host process put into the container's pid namespace is flagged
	grep -E '^control [0-9]+ seizer .*seize=ok getpid=[0-9]+ .*openat=[0-9]+ .*dirs=[1-9]' \
		"$VOLDIR/report"
	cp "$(command -v sleep)" "$BATS_TEST_TMPDIR/hostctl"
	echo 0 >"$VOLDIR/mask"
	# a directory fd counts when it leads to a filesystem the host has mounted: the session's
	# own mounts (toolbox overlay, union, scratch), made in its private namespace, are not
	awk '{ print $3 }' /proc/self/mountinfo | sort -u >"$VOLDIR/hostdevs"
	nsenter -t "$CPID" -p -- bash -c "exec 9</etc; exec $BATS_TEST_TMPDIR/hostctl 30" &
	HOSTCTL_PID=$!
	for i in $(seq 100); do
		grep -q ' hostctl ' "$VOLDIR/report" && break
		sleep 0.05
	done
	for p in observe general netadmin; do
		set_mask "$p"
		run_dhi --profile "$p" "$TARGET" -- sleep 0.5
		[ "$status" -eq 0 ]
		run_dhi --profile "$p" -c 'sleep 0.5' "$TARGET"
		[ "$status" -eq 0 ]
	done
	kill -9 "$HOSTCTL_PID"
	echo "report:"
	cat "$VOLDIR/report"
	# the host process was seen, and its capabilities and host directory flagged
	grep -E '^BREACH [0-9]+ hostctl capabilities' "$VOLDIR/report"
	grep -E '^BREACH [0-9]+ hostctl 1 directory fd' "$VOLDIR/report"
	# the session's processes were reached (seized and injected into) ...
	grep -E '^proc [0-9]+ dhidebug-init .*seize=ok getpid=' "$VOLDIR/report"
	grep -E '^proc [0-9]+ sleep .*seize=ok getpid=[0-9]+ ' "$VOLDIR/report"
	grep -E '^proc [0-9]+ dhish .*seize=ok getpid=[0-9]+ ' "$VOLDIR/report"
	# ... and gave nothing: no breach but the host control's (by its pid: before it ran
	# hostctl, it was nsenter and bash)
	local ctl
	ctl=$(awk '$1 == "BREACH" && $3 == "hostctl" { print $2; exit }' "$VOLDIR/report")
	[ -z "$(awk -v c="$ctl" '$1 == "BREACH" && $2 != c' "$VOLDIR/report")" ]
}

@test "the session's init holds no capability, has no_new_privs and a seccomp filter, and is not dhidebug" {
	container_start static
	dhidebug_bg "$BATS_TEST_TMPDIR/out" "$TARGET" -- sleep 30
	wait_for_session
	local pid found=0 exe
	for pid in $(session_pids); do
		[ "$(cat "/proc/$pid/comm")" = dhidebug-init ] || continue
		found=1
		grep -E '^Cap(Inh|Prm|Eff|Amb):' "/proc/$pid/status"
		for set in CapInh CapPrm CapEff CapAmb; do
			[ "$(awk -v k="$set:" '$1 == k { print $2 }' "/proc/$pid/status")" = 0000000000000000 ]
		done
		grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status"
		grep -q '^Seccomp:[[:space:]]*2' "/proc/$pid/status"
		# its program is a sealed memfd, not the host's dhidebug
		exe=$(readlink "/proc/$pid/exe")
		echo "init's exe: $exe"
		[[ "$exe" == "/memfd:dhidebug-init"* ]]
		run cmp -s "/proc/$pid/exe" "$DHIDEBUG"
		[ "$status" -eq 1 ] # differ (2 would be an error)
		# and nothing can write it, even once it no longer runs (the seal, not ETXTBSY)
		exe_handle "$pid" "$BATS_TEST_TMPDIR/init.result"
	done
	[ "$found" = 1 ]
	# no session process runs the host's binary
	for pid in $(session_pids); do
		exe=$(readlink "/proc/$pid/exe")
		echo "$pid $(cat "/proc/$pid/comm") $exe"
		[ "$exe" != "$(realpath "$DHIDEBUG")" ]
	done
	kill "$DHI_PID"
	wait_no_session 5
	wait_for -t 5 test -s "$BATS_TEST_TMPDIR/init.result"
	echo "init's exe after the session: $(cat "$BATS_TEST_TMPDIR/init.result")"
	[ "$(cat "$BATS_TEST_TMPDIR/init.result")" = write:EPERM ]
	exe_handle_control
}

@test "dhish runs from a sealed copy of dhidebug, not the host's binary" {
	container_start static
	dhidebug_bg "$BATS_TEST_TMPDIR/out" -c 'sleep 30' "$TARGET"
	wait_for_session
	local pid found=0 exe
	for pid in $(session_pids); do
		[ "$(cat "/proc/$pid/comm")" = dhish ] || continue
		found=1
		exe=$(readlink "/proc/$pid/exe")
		echo "dhish's exe: $exe"
		[ "$exe" != "$(realpath "$DHIDEBUG")" ]
		# the same bytes, through a mount nobody can write, even once it no longer runs
		cmp "/proc/$pid/exe" "$DHIDEBUG"
		exe_handle "$pid" "$BATS_TEST_TMPDIR/dhish.result"
	done
	[ "$found" = 1 ]
	kill "$DHI_PID"
	wait_no_session 5
	wait_for -t 5 test -s "$BATS_TEST_TMPDIR/dhish.result"
	echo "dhish's exe after the session: $(cat "$BATS_TEST_TMPDIR/dhish.result")"
	[ "$(cat "$BATS_TEST_TMPDIR/dhish.result")" = EROFS ]
	exe_handle_control
}

@test "dhidebug-init and the dhish entry refuse to run outside a session" {
	run "$DHIDEBUG" --dhish-handoff
	[ "$status" -eq 125 ]
	[[ "$output" == *"for dhidebug's own use"* ]]
}

@test "SIGKILL of dhidebug: no session process is left in the container 100 ms later" {
	container_start static
	local gone rc
	dhidebug_bg "$BATS_TEST_TMPDIR/out" "$TARGET" -- sleep 100
	wait_for_session
	kill -9 "$DHI_PID"
	# polled from the moment of the kill, sub-millisecond (a shell loop is too slow to tell)
	set +e
	gone=$("$BUILD/tests/waitgone" "/proc/$CPID/ns/pid" "$CPID" 100)
	rc=$?
	set -e
	echo "the session was gone after $gone ms"
	echo "# SIGKILL of the supervisor: the session was gone after $gone ms" >&3
	[ "$rc" -eq 0 ]
	[ "$(zombie_children_of "$CPID")" -eq 0 ]
}

# kill_init_orphans: the container kills the session's init while two background sleeps run;
# they are killed all the same (the stage finds them by the view's mount namespace)
kill_init_orphans()
{
	container_start static
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --profile sysadmin "$TARGET" -- \
		sh -c 'sleep 100 & sleep 100 & wait'
	wait_for_session
	local pid init=
	for pid in $(session_pids); do
		[ "$(cat "/proc/$pid/comm")" = dhidebug-init ] && init=$pid
	done
	[ -n "$init" ]
	kill -9 "$init"
	run "$BUILD/tests/waitgone" "/proc/$CPID/ns/pid" "$CPID" 2000
	echo "$output"
	[ "$status" -eq 0 ]
	wait_pid_exit "$DHI_PID" 10
}

@test "the container kills the session's init: its orphans are killed all the same" {
	kill_init_orphans
}

@test "the container kills the session's init: its orphans are killed all the same (enosys: the host's /proc walked)" {
	requires enosys
	# without fsopen there is no procfs of the target's pid namespace alone: the stage walks
	# the host's /proc, as on kernels before pidns= (6.17)
	DHI_PREFIX=("$ENOSYS")
	kill_init_orphans
}

@test "ending a session looks at the container's processes only, not at every process of the host" {
	container_start static
	# a host process the end of the session has no business looking at
	sleep 100 &
	local host=$!
	echo "$host" >>"$BATS_TEST_TMPDIR/bg.pids"
	DHI_PREFIX=(strace -f -qq -e trace=openat,newfstatat,pidfd_open -o "$BATS_TEST_TMPDIR/trace")
	run dhidebug --profile sysadmin "$TARGET" -- sh -c "sleep 4322.$$ & exit 3"
	echo "$output"
	[ "$status" -eq 3 ]
	# the background sleep was found and killed, and no host process was looked at
	run pgrep -f "sleep 4322.$$"
	[ "$status" -eq 1 ]
	run grep -E "\"$host(/|\")" "$BATS_TEST_TMPDIR/trace"
	echo "$output"
	[ "$status" -eq 1 ]
	kill "$host"
}

@test "a container that shares the host's pid namespace: the session ends with its status, its background process killed" {
	customize_bundle()
	{
		jq '.linux.namespaces |= map(select(.type != "pid"))' "$1/config.json" >"$1/c.json" &&
			mv "$1/c.json" "$1/config.json"
	}
	container_start static
	[ "$(readlink "/proc/$CPID/ns/pid")" = "$(readlink /proc/self/ns/pid)" ]
	# such a target is the host (its session reaches /proc/<pid>/root of every host
	# process): refused without --allow-host (attack_r4.bats)
	run dhidebug --profile sysadmin "$TARGET" -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"it shares the host's pid namespace"* ]]
	# a duration no other sleep on the host has
	run dhidebug --allow-host --profile sysadmin "$TARGET" -- sh -c "sleep 4321.$$ & exit 3"
	echo "$output"
	[ "$status" -eq 3 ]
	run pgrep -f "sleep 4321.$$"
	[ "$status" -eq 1 ]
}

@test "the container stops the session's init (SIGSTOP cannot be blocked): the session still ends with the program's status" {
	container_start static
	dhidebug_bg "$BATS_TEST_TMPDIR/out" "$TARGET" -- sleep 4
	wait_for_session
	local init= end=$((SECONDS + 3))
	while [ -z "$init" ] && ((SECONDS < end)); do
		init=$(pgrep --ns "$CPID" --nslist pid -x dhidebug-init) || sleep 0.05
	done
	[ -n "$init" ]
	# as the container's root may (same pid namespace, same user), again and again
	kill -STOP "$init"
	sleep 0.2
	kill -STOP "$init" 2>/dev/null || true
	wait_pid_exit "$DHI_PID" 10
	cat "$BATS_TEST_TMPDIR/out"
	[ "$WAIT_STATUS" -eq 0 ]
	[ -z "$(session_pids)" ]
}

@test "--no-cgroup: the container's device nodes are unusable (no device cgroup confines the session), its /dev/null is the host's" {
	container_start static
	# the container's root plants nodes its device cgroup forbids it (as its CAP_MKNOD
	# allows): a kernel log as /dev/kmsgx, and in place of its /dev/null
	mknod "/proc/$CPID/root/dev/kmsgx" c 1 11
	rm -f "/proc/$CPID/root/dev/null"
	mknod "/proc/$CPID/root/dev/null" c 1 11
	# in the container's cgroups the device cgroup refuses it
	run_dhi --profile sysadmin "$TARGET" -- head -c 1 /dev/kmsgx
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	# outside them, the view refuses every device node of the container's
	run_dhi --no-cgroup --profile sysadmin "$TARGET" -- head -c 1 /dev/kmsgx
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	# and /dev/null is the host's null, not what the container put there
	run_dhi --no-cgroup --profile sysadmin "$TARGET" -- sh -c 'echo x >/dev/null && stat -c %t:%T /dev/null && head -c 4 /dev/zero | wc -c'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1:3 ]
	[ "${lines[1]}" = 4 ]
}
