#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# enter.bats: dhidebug joins a running shell-less container: namespaces, cgroup, stdio relay,
# exit statuses, errors, repeated and concurrent sessions, and the older-kernel fallbacks.
#
# Each test starts its own container with container_start KIND, because the kind (static or
# dynamic target) is part of what the test is about; teardown always removes it.

load helpers

setup()
{
	requires root runc toolbox
}

teardown()
{
	container_rm
}

@test "static: the session sees the app's argv at /proc/1/cmdline" {
	container_start static
	check_cmdline
}

@test "dynamic: the session sees the app's argv at /proc/1/cmdline" {
	container_start dynamic
	check_cmdline
}

@test "static: ps -e shows app as PID 1 and no host process" {
	container_start static
	check_ps
}

@test "dynamic: ps -e shows app as PID 1 and no host process" {
	container_start dynamic
	check_ps
}

@test "static: hostname is the container's" {
	container_start static
	check_hostname
}

@test "dynamic: hostname is the container's" {
	container_start dynamic
	check_hostname
}

@test "static: the network namespace is the container's (lo only)" {
	container_start static
	check_net
}

@test "dynamic: the network namespace is the container's (lo only)" {
	container_start dynamic
	check_net
}

@test "static: exit statuses follow the program (0, 1, 3, 126, 127, 137)" {
	container_start static
	check_exit_statuses
}

@test "dynamic: exit statuses follow the program (0, 1, 3, 126, 127, 137)" {
	container_start dynamic
	check_exit_statuses
}

@test "static: without a terminal, stdin, stdout and stderr are relayed through pipes" {
	container_start static
	# cat ends only if the end of stdin is relayed too.
	pipe_two_lines() { printf 'hello\nworld\n' | dhidebug "$TARGET" -- cat; }
	run pipe_two_lines
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = $'hello\nworld' ]

	run --separate-stderr dhidebug -c 'echo out; echo err >&2' "$TARGET"
	echo "stdout: $output"
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = out ]
	[ "$stderr" = err ]
}

# By default the session joins the app's cgroup (so its usage is accounted to the container
# and a cgroup-wide kill takes it down too); --no-cgroup leaves it in dhidebug's own.
@test "static: the session is in the app's cgroup, and in its own with --no-cgroup" {
	container_start static
	run_dhi -c 'cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup' "$TARGET"
	[ "$status" -eq 0 ]
	self=$(sed '/^---$/,$d' <<<"$output")
	init=$(sed '1,/^---$/d' <<<"$output")
	[ -n "$self" ]
	[ "$self" = "$init" ]
	# Without a cgroup namespace the paths are absolute, so the host sees the same.
	[ "$init" = "$(cat "/proc/$CPID/cgroup")" ]

	run_dhi --no-cgroup -c 'cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup' "$TARGET"
	[ "$status" -eq 0 ]
	self=$(sed '/^---$/,$d' <<<"$output")
	init=$(sed '1,/^---$/d' <<<"$output")
	[ "$init" = "$(cat "/proc/$CPID/cgroup")" ]
	[ "$self" != "$init" ]
	# dhidebug ran in this test's cgroup, and the session stayed there.
	[ "$self" = "$(cat /proc/self/cgroup)" ]
}

# Moving another process into a cgroup (its pid written to cgroup.procs) waits for an RCU grace
# period in the kernel: 7 to 15 ms on these machines, more than the rest of an attach. The
# stage is born in the v2 cgroup (clone3 CLONE_INTO_CGROUP) and moves itself in each v1
# hierarchy ("0" to `tasks`, which takes no global lock); no pid is written anywhere.
@test "static: the session joins the app's cgroups without moving a process from outside" {
	container_start static
	local log=$BATS_TEST_TMPDIR/strace
	# (one file per process: no call split by another's)
	strace -ff -qq -y -o "$log" -e trace=write,clone3 \
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q "$TARGET" -- true </dev/null
	cat "$log".* >"$log"
	grep -E 'cgroup|tasks|clone3' "$log" || true
	# born in the v2 cgroup, which is the app's
	grep -q 'clone3({flags=CLONE_INTO_CGROUP' "$log"
	# each v1 hierarchy of the app's joined by the stage itself
	local v1
	v1=$(findmnt -rn -t cgroup -o FSROOT | grep -cx /)
	[ "$(grep -cE 'write\([0-9]+</sys/fs/cgroup/[^>]*/tasks>, "0\\n", 2\) = 2' "$log")" -eq "$v1" ]
	# and no process moved by its pid
	run_fails grep -E 'write\([0-9]+</sys/fs/cgroup/[^>]*(cgroup\.procs|tasks)>, "[1-9]' "$log"
	check_cgroup
}

# A paused container's cgroups are frozen: a process that joined them would freeze too.
@test "static: a paused runc container is refused with one line (125), nothing entered" {
	container_start static
	rt pause "$CID"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q "$TARGET" -- true </dev/null
	rt resume "$CID"
	echo "status $status, stderr: $stderr"
	[ "$status" -eq 125 ]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
	[[ "$stderr" == "dhidebug: "*"is paused (its cgroup is frozen)" ]]
	assert_no_leftovers
}

@test "static: pid:// targets the same container" {
	container_start static
	run_dhi "pid://$CPID" -- cat /proc/1/comm
	[ "$status" -eq 0 ]
	[ "$output" = app ]
	run_dhi "pid://$CPID" -- hostname
	[ "$status" -eq 0 ]
	[ "$output" = dhi-target ]
}

@test "static: --runtime-root finds a container kept in another state directory" {
	RUNTIME_ROOT=$BATS_TEST_TMPDIR/runtime-root
	container_start static
	# Not in the runtime's default state directory, so not found without the option.
	run --separate-stderr dhidebug "$TARGET" -- true
	[ "$status" -eq 125 ]
	run_dhi --runtime-root "$RUNTIME_ROOT" "$TARGET" -- cat /proc/1/comm
	[ "$status" -eq 0 ]
	[ "$output" = app ]
}

@test "static: crun:// targets a crun container" {
	RUNTIME=crun
	requires crun
	container_start static
	[[ "$TARGET" == crun://* ]]
	check_cmdline
	check_hostname
}

# crun refuses this host's hybrid cgroup layout, so the crun:// adapter is exercised here on
# a state directory laid out as crun writes it (<root>/<id>/status, with crun's key names),
# describing a container that runc started. The reading of the state is real; only the
# runtime that wrote it is not crun.
@test "static: crun:// reads crun's status file (written by the test for a runc container)" {
	container_start static
	local root=$BATS_TEST_TMPDIR/crun-root start
	start=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$CPID/stat")
	mkdir -p "$root/$CID"
	printf '{"pid":%d,"process-start-time":%s,"cgroup-path":"","rootfs":"%s","created":"now"}' \
		"$CPID" "$start" "$BUNDLE/rootfs" >"$root/$CID/status"
	run_dhi --runtime-root "$root" "crun://$CID" -- cat /proc/1/comm
	[ "$status" -eq 0 ]
	[ "$output" = app ]
	# a start time that is not the process's: the pid was reused, and dhidebug refuses
	printf '{"pid":%d,"process-start-time":%s}' "$CPID" "$((start + 1))" >"$root/$CID/status"
	run --separate-stderr dhidebug --runtime-root "$root" "crun://$CID" -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"pid was reused"* ]]
}

@test "static: an unknown container is a dhidebug error: 125 and one line on stderr" {
	container_start static
	run --separate-stderr dhidebug "runc://no-such-container-$$" -- true
	echo "stdout: $output"
	echo "stderr: $stderr"
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == dhidebug:* ]]
}

@test "static: pid://999999 is a dhidebug error (125)" {
	container_start static
	[ ! -e /proc/999999 ] || skip "pid 999999 exists on this host"
	run --separate-stderr dhidebug pid://999999 -- true
	echo "stderr: $stderr"
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == dhidebug:* ]]
}

@test "static: a missing toolbox directory is a dhidebug error (125), nothing enters" {
	container_start static
	run --separate-stderr "$DHIDEBUG" -q --toolbox "$BATS_TEST_TMPDIR/no-toolbox" "$TARGET" -- true </dev/null
	echo "stderr: $stderr"
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == dhidebug:* ]]
	[ -z "$(session_pids)" ]
}

@test "static: a bad --view value is a dhidebug error (125), nothing enters" {
	container_start static
	run --separate-stderr dhidebug --view sideways "$TARGET" -- true
	echo "stderr: $stderr"
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == dhidebug:* ]]
	[ -z "$(session_pids)" ]
}

@test "--help and --version exit 0 and print something" {
	run "$DHIDEBUG" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *dhidebug* ]]
	run "$DHIDEBUG" --version
	[ "$status" -eq 0 ]
	[ -n "$output" ]
}

@test "static: 20 sessions in a row succeed and leave nothing behind" {
	container_start static
	mi0=$(target_mountinfo)
	for i in $(seq 20); do
		run_dhi "$TARGET" -- cat /proc/1/comm
		[ "$status" -eq 0 ]
		[ "$output" = app ]
	done
	assert_no_leftovers
	diff -u <(echo "$mi0") <(target_mountinfo)
}

@test "static: 5 sessions at once succeed and leave nothing behind" {
	container_start static
	pids=()
	for i in $(seq 5); do
		# Each session outlives the start of the others, so they really overlap.
		dhidebug_bg "$BATS_TEST_TMPDIR/out.$i" -c 'cat /proc/1/comm; sleep 2' "$TARGET"
		pids+=("$DHI_PID")
	done
	for i in $(seq 5); do
		wait_pid_exit "${pids[i - 1]}" 30
		echo "session $i: status $WAIT_STATUS: $(cat "$BATS_TEST_TMPDIR/out.$i")"
		[ "$WAIT_STATUS" -eq 0 ]
		[ "$(cat "$BATS_TEST_TMPDIR/out.$i")" = app ]
	done
	assert_no_leftovers
}

# The fallback paths: enosys makes the newer syscalls fail with ENOSYS, as an older kernel
# would, so dhidebug has to join namespace by namespace, mount with mount(2), and (with
# --no-openat2) resolve container paths by O_NOFOLLOW walks. The checks are the same.

# syscall_counts OUT [PREFIX...]: one session (`-- true`) under strace -ff with PREFIX before
# dhidebug; OUT gets how often each traced call returned what, as "COUNT CALL RESULT" lines
# (RESULT `ok' or the errno). setns is setns-all when it names several namespaces at once
# (the pidfd form) and setns-one otherwise; openat with O_NOFOLLOW is openat-nofollow.
syscall_counts()
{
	local out=$1 dir

	shift
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/strace.XXXXXX")
	strace -ff -qq -o "$dir/t" -e trace=fsopen,fsmount,mount,mount_setattr,setns,openat2,openat,close_range,close,clone3 \
		"$@" "$DHIDEBUG" --toolbox "$TOOLBOX" -q "$TARGET" -- true </dev/null >"$dir/out" 2>&1 || {
		cat "$dir/out"
		return 1
	}
	cat "$dir"/t.* | python3 -c '
import re, sys, collections
n = collections.Counter()
for line in sys.stdin:
    m = re.match(r"(\w+)\((.*)\) += (-1 (\w+)|\d+)", line)
    if not m:
        continue
    call, args, res = m.group(1), m.group(2), m.group(4) or "ok"
    if call == "setns":
        call = "setns-all" if "|" in args else "setns-one"
    elif call == "openat" and "O_NOFOLLOW" in args:
        call = "openat-nofollow"
    elif call == "clone3" and "CLONE_INTO_CGROUP" in args:
        call = "clone3-cgroup"
    n[call, res] += 1
for (call, res), c in sorted(n.items()):
    print(c, call, res)
' >"$out"
}

# count FILE CALL RESULT: how often CALL returned RESULT in syscall_counts' FILE (0 if never)
count()
{
	awk -v c="$2" -v r="$3" '$2 == c && $3 == r { n = $1 } END { print n + 0 }' "$1"
}

# check_fallback_taken [--no-openat2]: the fallback tests really run the fallbacks. A traced
# session without enosys (the control) uses pidfd setns, fsopen, mount_setattr, close_range and
# openat2; the same session under enosys sees each fail with ENOSYS and makes the fallback's
# calls instead: one setns per namespace, mount(2), close(2) on every fd number, O_NOFOLLOW
# walks.
check_fallback_taken()
{
	local p=$BATS_TEST_TMPDIR/primary.counts f=$BATS_TEST_TMPDIR/fallback.counts

	syscall_counts "$p"
	syscall_counts "$f" "$ENOSYS" "$@"
	echo "without enosys:"
	cat "$p"
	echo "with enosys $*:"
	cat "$f"
	# the control: the primary paths, nothing refused
	[ "$(count "$p" setns-all ok)" -eq 1 ]
	[ "$(count "$p" fsopen ok)" -ge 1 ]
	[ "$(count "$p" mount_setattr ok)" -ge 1 ]
	[ "$(count "$p" close_range ok)" -ge 1 ]
	[ "$(count "$p" openat2 ok)" -ge 1 ]
	[ "$(count "$p" clone3-cgroup ok)" -eq 1 ]
	run_fails grep -q ENOSYS "$p"
	# under enosys: the primary call refused, the fallback's calls made
	[ "$(count "$f" setns-all ok)" -eq 0 ]
	[ "$(count "$f" setns-all ENOSYS)" -eq 1 ]
	[ "$(count "$f" setns-one ok)" -ge $(($(count "$p" setns-one ok) + 4)) ]
	[ "$(count "$f" fsopen ok)" -eq 0 ]
	[ "$(count "$f" fsopen ENOSYS)" -ge 1 ]
	[ "$(count "$f" fsmount ok)" -eq 0 ]
	[ "$(count "$f" mount ok)" -gt "$(count "$p" mount ok)" ]
	[ "$(count "$f" mount_setattr ok)" -eq 0 ]
	[ "$(count "$f" mount_setattr ENOSYS)" -ge 1 ]
	[ "$(count "$f" close_range ok)" -eq 0 ]
	[ "$(count "$f" close_range ENOSYS)" -ge 1 ]
	[ "$(count "$f" clone3-cgroup ok)" -eq 0 ]
	[ "$(count "$f" clone3-cgroup ENOSYS)" -eq 1 ]
	# (one close per fd number, almost all of them not open)
	[ "$(count "$f" close EBADF)" -gt $(($(count "$p" close EBADF) + 1000)) ]
	if [ "${1:-}" = --no-openat2 ]; then
		[ "$(count "$f" openat2 ok)" -eq 0 ]
		[ "$(count "$f" openat2 ENOSYS)" -ge 1 ]
		[ "$(count "$f" openat-nofollow ok)" -gt "$(count "$p" openat-nofollow ok)" ]
	else
		[ "$(count "$f" openat2 ok)" -ge 1 ]
	fi
}

@test "enosys really hides the syscalls it claims to (sanity check of the fallback tests)" {
	requires enosys
	run "$ENOSYS" grep '^Seccomp:' /proc/self/status
	[ "$status" -eq 0 ]
	[[ "$output" == *2 ]]
	run "$ENOSYS" --no-openat2 grep '^Seccomp:' /proc/self/status
	[ "$status" -eq 0 ]
	[[ "$output" == *2 ]]
}

@test "static: core checks pass without pidfd setns and the new mount API (enosys)" {
	requires enosys
	container_start static
	DHI_PREFIX=("$ENOSYS")
	check_core
	check_fallback_taken
}

@test "dynamic: core checks pass without pidfd setns and the new mount API (enosys)" {
	requires enosys
	container_start dynamic
	DHI_PREFIX=("$ENOSYS")
	check_core
	check_fallback_taken
}

@test "static: core checks pass without openat2 either (enosys --no-openat2)" {
	requires enosys
	container_start static
	DHI_PREFIX=("$ENOSYS" --no-openat2)
	check_core
	check_fallback_taken --no-openat2
}

@test "dynamic: core checks pass without openat2 either (enosys --no-openat2)" {
	requires enosys
	container_start dynamic
	DHI_PREFIX=("$ENOSYS" --no-openat2)
	check_core
	check_fallback_taken --no-openat2
}
