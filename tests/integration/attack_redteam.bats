#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# attack_redteam.bats: findings of the red-team review of main (a compromised container's
# root, a delegated operator, a hostile runtime) that are fixed. Each test failed on the code
# it was written against, showing the breach; each has a positive control that shows the
# attack itself works (against an ordinary process, or without the defence), so a pass can
# only mean the defence held. The finding (what, impact, the fix) is the comment
# above each test.

load helpers

setup()
{
	requires root runc toolbox
	SDIR=$BATS_TEST_TMPDIR/sessions
	mkdir -m 0700 "$SDIR"
}

teardown()
{
	[ -n "${CID:-}" ] && rm -f "/var/lib/dhidebug/history/runc_$CID"
	container_rm
}

# container_stopped: the test's container has exited (for wait_for)
container_stopped()
{
	[ "$(rt state "$CID" | jq -r .status)" = stopped ]
}

# session_audit: the audit.jsonl of the only session recorded in $SDIR
session_audit()
{
	local d
	d=$(ls -d "$SDIR"/*/ 2>/dev/null | head -1)
	[ -n "$d" ] || return 1
	echo "${d%/}/audit.jsonl"
}

# Docker's default capabilities: what a container's root holds unless told otherwise (no
# CAP_SYS_PTRACE, no CAP_SYS_ADMIN)
DOCKER_CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW",
	"CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'

# in_target NAME: host pids of the processes called NAME in the target's pid namespace (with
# pgrep: a walk of /proc in shell is too slow on a loaded machine for short sessions)
in_target()
{
	local p ns
	ns=$(readlink "/proc/$CPID/ns/pid")
	for p in $(pgrep -x "$1"); do
		[ "$p" != "$CPID" ] && [ "$(readlink "/proc/$p/ns/pid" 2>/dev/null)" = "$ns" ] && echo "$p"
	done
	return 0
}

# nest_bundle MODE [UID CAPS]: a static container whose PID 1 is tests/fixtures/nest.c in
# MODE, reporting to $VOLDIR/report, run as UID (default root) with the capabilities CAPS (a
# JSON list, default Docker's); waits until it is ready
nest_bundle()
{
	NEST_MODE=$1
	NEST_UID=${2:-0}
	NEST_CAPS=${3:-$DOCKER_CAPS}
	customize_bundle()
	{
		install -m 0755 "$BUILD/tests/nest" "$1/rootfs/nest"
		jq --argjson caps "$NEST_CAPS" --arg mode "$NEST_MODE" --argjson uid "$NEST_UID" \
			'.process.args = ["/nest", $mode, "/vol/report", "by-the-container"]
			 | .process.user = {uid: $uid, gid: $uid}
			 | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}' \
			"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
	}
	container_start static
	wait_for -t 5 -m "nest ready" grep -qE '^(ready|error)' "$VOLDIR/report"
	echo "--- nest $NEST_MODE:"
	cat "$VOLDIR/report"
	# where the kernel lets no one make a user namespace the attack cannot exist
	if grep -q '^error unshare' "$VOLDIR/report"; then
		skip "unprivileged user namespaces are off on this host ($(grep '^error' "$VOLDIR/report"))"
	fi
	grep -q '^ready' "$VOLDIR/report"
}

# nest_session [ARGS...]: a recorded dhish line in the nest container (with ARGS, default
# the general profile); what it printed in $output
nest_session()
{
	rm -rf "${SDIR:?}"/* "$SDIR"/.open
	[ $# -gt 0 ] || set -- --profile general
	run_dhi --sessions-dir "$SDIR" "$@" -c 'sleep 1; echo session-done' "$TARGET"
	echo "--- report:"
	cat "$VOLDIR/report"
	echo "--- audit:"
	cat "$(session_audit)"
}

# Finding 1 (high): the session joins a user namespace the container made for itself.
# ns_target_join_user() joins the user namespace the target process is in *now*. A
# container's root with no CAP_SYS_PTRACE (Docker's defaults) unshares CLONE_NEWUSER in its
# PID 1 (no privilege is needed where unprivileged user namespaces are allowed, runc's and
# Kubernetes' default seccomp-less setups among them; CAP_SETUID/CAP_SETGID, which Docker
# gives, let a child of it write the 0-65535 identity maps). The session then runs in a user
# namespace that the container's root owns and where PID 1 holds every capability, so the
# kernel lets the container PTRACE_SEIZE, pidfd_getfd and read /proc/<pid>/* of every
# session process: dhidebug-init's init and program during the window before exec, dhish,
# and what it runs. Shown here: text written into the operator's output (and the recording)
# and made-up `line` records in the hash-chained audit, both through the session's own fds;
# in a tty session the same fd is the operator's terminal (escape sequences in, keystrokes
# out). The residual risk in docs/security.md grants this only to a container whose root
# holds CAP_SYS_PTRACE; here none is needed. The profile's capabilities also become
# capabilities in the container's private user namespace only (general's CAP_SYS_PTRACE no
# longer reaches the application's processes). Fix: join the user namespace that owns the
# target's pid namespace (ioctl(NS_GET_USERNS) on /proc/<pid>/ns/pid, which a process
# cannot change for itself) and refuse a target whose own user namespace (or mount, net...
# namespace owner) differs from it, naming the reason.
# Fixed: the session joins the user namespace that owns the target's pid namespace
# (nsenter/target.c), and a target with another namespace owned by a user namespace other
# than that is refused (injector/session.c session_check_host()).
@test "a container root without CAP_SYS_PTRACE, its PID 1 in a user namespace of its own, cannot trace the session or forge its output and audit" {
	# the positive controls: nest can seize and write through the fds of a process of its
	# own; and where the session is not in its user namespace, the same attacks on every
	# session process are refused (EPERM), so the property holds without the trick
	nest_bundle plain
	grep -E '^control [0-9]+ child seize=ok out=ok line=ok' "$VOLDIR/report"
	nest_session
	[ "$status" -eq 0 ]
	grep -qE '^proc [0-9]+ (dhidebug-init|dhish|sleep) seize=EPERM' "$VOLDIR/report"
	if grep -E '^proc .* (seize|out|line)=ok' "$VOLDIR/report"; then
		return 1
	fi
	container_rm
	rm -f "$VOLDIR/report"

	# the attack: PID 1 in a user namespace of its own
	nest_bundle userns
	grep -E '^control [0-9]+ child seize=ok out=ok line=ok' "$VOLDIR/report"
	nest_session
	# refusing such a target (one line naming the user namespace) is a defence too
	if [ "$status" -eq 125 ] && [[ "$output" == *"user namespace"* ]]; then
		if grep -E '^proc .* (seize|out|line)=ok' "$VOLDIR/report"; then
			return 1
		fi
		return 0
	fi
	[ "$status" -eq 0 ]
	[[ "$output" == *session-done* ]]
	# no session process was traced, and nothing of the container's reached the operator's
	# output or the audit
	if grep -E '^proc .* (seize|out|line)=ok' "$VOLDIR/report"; then
		echo "BREACH: the container traced or wrote through session processes (above)"
		return 1
	fi
	[[ "$output" != *FORGED-OUTPUT* ]]
	if grep FORGED-LINE "$(session_audit)"; then
		return 1
	fi
	# and the session's user namespace is the container's, not one the container made later
	# (the host's here: runc gave the container none)
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --no-record --profile general "$TARGET" -- sleep 60
	wait_for -t 10 -m "the session's sleep" sleep_in_target
	local pid
	pid=$(in_target sleep)
	echo "sleep: $(readlink "/proc/$pid/ns/user"), the container's: $(readlink /proc/self/ns/user)"
	[ "$(readlink "/proc/$pid/ns/user")" = "$(readlink /proc/self/ns/user)" ]
}

sleep_in_target()
{
	[ -n "$(in_target sleep)" ]
}

# Finding 1's other side: a user namespace the runtime gave the container is the one the
# session joins, also where the container shares a namespace of the host's (runc creates no
# time namespace, so the container's is the host's, owned by the initial user namespace).
@test "a container the runtime gave a user namespace: the session runs in it, as its root" {
	customize_bundle()
	{
		jq '.linux.namespaces += [{type: "user"}]
		    | .linux.uidMappings = [{containerID: 0, hostID: 200000, size: 65536}]
		    | .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]
		    | .mounts |= map(select(.type != "cgroup"))' \
			"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
		chown -R 200000:200000 "$VOLDIR"
		# its mount points made here: its root cannot create them in a root of the host's
		local m
		for m in $(jq -r '.mounts[].destination' "$1/config.json"); do
			mkdir -p "$1/rootfs$m"
		done
		# the container's root (200000 on the host) must reach its rootfs and volume
		local d=$1
		while [ "$d" != / ] && [ "$d" != /tmp ]; do
			chmod o+x "$d"
			d=$(dirname "$d")
		done
	}
	container_start static
	[ "$(readlink "/proc/$CPID/ns/user")" != "$(readlink /proc/self/ns/user)" ]
	[ "$(readlink "/proc/$CPID/ns/time")" = "$(readlink /proc/self/ns/time)" ]
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --no-record --profile general "$TARGET" -- sleep 60
	wait_for -t 10 -m "the session's sleep" sleep_in_target
	local pid
	pid=$(in_target sleep)
	cat "$BATS_TEST_TMPDIR/out"
	[ "$(readlink "/proc/$pid/ns/user")" = "$(readlink "/proc/$CPID/ns/user")" ]
	# uid 0 in the container is 200000 on the host
	[ "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" = 200000 ]
}

# preload_by_profile [refused-ok]: `id` in the union view in each profile: sysadmin, the
# control, may run the container's code and does (with refused-ok, a refusal of the target
# for every profile, in one line naming the user namespace, passes too); the others run the
# toolbox's id without the plant, or are refused (125, one line)
preload_by_profile()
{
	local p out st refused=

	for p in sysadmin observe general netadmin; do
		rm -f "$VOLDIR/evil-ran"
		st=0
		out=$(dhidebug --no-record --profile "$p" --view union "$TARGET" -- id 2>&1) || st=$?
		echo "$p: status $st: $out"
		[[ "$out" != *"EVIL CODE RAN"* ]] || [ "$p" = sysadmin ]
		if [ "$1" = refused-ok ] && [ "$st" -eq 125 ] && [[ "$out" == *"user namespace"* ]]; then
			[ "$p" = sysadmin ] && refused=1
			[ -n "$refused" ]
			continue
		fi
		if [ "$p" = sysadmin ]; then
			[[ "$out" == *"EVIL CODE RAN"* ]]
			[ -e "$VOLDIR/evil-ran" ]
		else
			[ ! -e "$VOLDIR/evil-ran" ]
			[ "$st" -eq 0 ] || [ "$st" -eq 125 ]
			[ "$st" -eq 125 ] || [[ "$out" == uid=* ]]
		fi
	done
}

# Finding 2 (high): a submount of the container's at /etc brings back its ld.so.preload
# outside sysadmin. In the union view the mask (nsenter/view.c build_mask) is the top layer
# of the union's overlay, but graft_submounts() then clones every direct submount of the
# target onto its path in the view, *over* the overlay: a volume, tmpfs or configuration
# mount at /etc (or at /usr, /usr/lib/<triplet>, /etc/ld.so.conf.d, a gconv directory...)
# replaces the masked directory wholesale, and the toolbox's loader reads the container's
# /etc/ld.so.preload, ld.so.cache, ld.so.conf and nsswitch.conf again. The graft is noexec,
# but a preload naming /proc/1/root/evil.so ends on the container's own root mount, so the
# container's library runs in every session process of every profile with the profile's
# capabilities (invariant 8, THREATS 42). The container needs only write access to such a
# mount (here a tmpfs at /etc, as a deployment with a read-only root gives it), or
# CAP_SYS_ADMIN, to make one. Fix: do not graft a submount whose mount point is a mask path
# or one of its ancestors (it stays at /target, like a submount under a symlink does now), or
# graft it and then mount the mask's entries for that directory again on top.
# Fixed: a submount at or above anything in the mask stays at /target only (nsenter/view.c
# under_mask()).
@test "a container's mount at /etc does not bring its ld.so.preload back outside sysadmin" {
	customize_bundle()
	{
		install -m 0755 "$BUILD/tests/libevil.so" "$1/rootfs/evil.so"
		jq '.process.user = {uid: 0, gid: 0}
		    | .mounts += [{destination: "/etc", type: "tmpfs", source: "tmpfs",
				   options: ["nosuid", "nodev", "mode=755"]}]' \
			"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
	}
	container_start dynamic
	# what the container's root writes into its /etc mount (the host writes it here)
	cp /usr/lib/os-release "/proc/$CPID/root/etc/os-release"
	echo /proc/1/root/evil.so >"/proc/$CPID/root/etc/ld.so.preload"
	preload_by_profile
}

# Finding 2, continued: the container needs no privilege to make such a mount itself. With
# Docker's default capabilities (no CAP_SYS_ADMIN) PID 1 unshares a user and a mount
# namespace, builds a root of its own there (tests/fixtures/nest.c cover_etc(): a tmpfs
# with binds of /proc, /dev, /sys and /vol, and a tmpfs at /etc), and pivots into it; mounts
# made inside its own user namespace are not locked, so dhidebug clones that root like any
# other, grafts the /etc tmpfs over the mask, and the toolbox's `id` loads the container's
# library in every profile (finding 1's user namespace comes with it). Fix: as above, and
# finding 1's (a target whose mount namespace belongs to a user namespace the container made
# is the container's own construction, not the runtime's).
# Fixed by both: such a target is refused (its mount namespace is the container's own).
@test "a container with no privilege cannot mount its own /etc and bring its ld.so.preload back outside sysadmin" {
	customize_bundle()
	{
		install -m 0755 "$BUILD/tests/nest" "$1/rootfs/nest"
		install -m 0755 "$BUILD/tests/libevil.so" "$1/rootfs/evil.so"
		jq --argjson caps "$DOCKER_CAPS" \
			'.process.args = ["/nest", "userns-etc", "/vol/report", "by-the-container"]
			 | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}' \
			"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
	}
	container_start static
	wait_for -t 5 -m "nest ready" grep -qE '^(ready|error)' "$VOLDIR/report"
	cat "$VOLDIR/report"
	if grep -q '^error unshare' "$VOLDIR/report"; then
		skip "unprivileged user namespaces are off on this host ($(grep '^error' "$VOLDIR/report"))"
	fi
	grep -q '^ready' "$VOLDIR/report"
	# (refusing the target for every profile alike is a defence as well)
	preload_by_profile refused-ok
}

# Finding 4 (medium): dhish's prompt sends the container's directory names to the operator's
# terminal raw. prompt() in injector/shell/dhish.c puts getcwd() into the prompt as it is,
# and readline writes the prompt unfiltered; a directory name is any bytes but `/` and NUL,
# and the container names its own directories (and an image its WorkingDir, where a session
# of a stopped container or an image starts). Once the operator is in such a directory, every
# prompt carries the container's escape sequences to the operator's terminal: a title, a
# cleared screen (shown here), cursor moves that overwrite what the session printed, OSC 52
# clipboard writes, and whatever a terminal emulator's own parser bugs allow. The recording
# keeps the bytes, so a replay does it again to the reviewer. (The supervisor's own notices
# go through dhi_printable(); the prompt does not.) Fix: make the cwd printable in prompt()
# (the same escaping as dhi_printable() or put_safe() in sessions.c), and likewise any
# container string dhish prints itself (sh_error() messages with expanded words).
@test "a container's directory name does not reach the operator's terminal raw through dhish's prompt" {
	command -v script >/dev/null || missing "needs script (util-linux)"
	container_start static
	local raw=$BATS_TEST_TMPDIR/terminal
	# a directory of the container's whose name sets the title and clears the screen
	mkdir "$VOLDIR/$(printf 'logs\033]2;PWNED-TITLE\007\033[2J')"
	# the positive control: a raw escape that the session prints is seen in the capture
	# (the capture is of the operator's terminal, through a real pty)
	printf 'printf "\\033]2;CONTROL-TITLE\\007\\n"\ncd /vol/logs*\npwd >/dev/null\nexit\n' \
		>"$BATS_TEST_TMPDIR/typed"
	TERM=xterm script -q -e -c "$DHIDEBUG --toolbox $TOOLBOX -q --no-record $TARGET" /dev/null \
		<"$BATS_TEST_TMPDIR/typed" >"$raw" || true
	od -c "$raw" | tail -20
	grep -q $'\033]2;CONTROL-TITLE\007' "$raw"
	# the cd worked: the prompt shows the directory
	grep -q 'vol/logs' "$raw"
	# but the container's escape sequences never reached the terminal
	if grep -q $'\033]2;PWNED-TITLE' "$raw" || grep -q $'\033\\[2J' "$raw"; then
		echo "BREACH: the prompt carried the container's escape sequences to the terminal"
		return 1
	fi
}

# Finding 6 (medium): every program dhish runs inherits the supervisor's message channel.
# dhidebug-init hands dhish its channel as fd 3 without close-on-exec (init.c program():
# dup3(msg, 3, 0) when exe >= 0), and dhish never sets FD_CLOEXEC on it, so each program the
# operator runs holds the write end of the pipe whose `L` (line), `S` (line.end), `E` (error)
# and `N` (notice) messages the supervisor writes into the hash-chained audit, the recording
# and the host-side history as dhish's own. The operator (adversary B) forges audit lines
# with `tee /proc/self/fd/3` (shown here; in a tty session the payload can come from a file
# typed in, which is not recorded by default), makes the session end "with an error" of any
# text, and any program of the session, or whoever traces one, can do the same. THREATS 1
# ("every session pid's fd directory contains only 0, 1 and 2") fails for every program run
# from dhish. Fix: fcntl(3, F_SETFD, FD_CLOEXEC) as dhish starts (it keeps writing to it;
# the kernel closes it in its children at exec), the same for fd 4 if it is kept.
@test "programs run from dhish hold no fd but 0, 1 and 2, and cannot write dhish's audit records" {
	container_start static
	# the positive control: a program run without dhish holds 0, 1 and 2 only (what every
	# session process should hold), so the listing below tells the two apart
	run_dhi --no-record "$TARGET" -- ls /proc/self/fd/
	[ "$status" -eq 0 ]
	echo "without dhish: $(echo $output)"
	[ "$(echo $output)" = "0 1 2 3" ] # 3 is ls's own directory
	# the attack: list, then forge a line record through fd 3
	run_dhi --sessions-dir "$SDIR" \
		-c 'ls /proc/self/fd/;
		    printf "L/\nrm -rf /precious # FORGED\000" | tee /proc/self/fd/3 >/dev/null' \
		"$TARGET"
	echo "audit:"
	jq -c '{type, text}' "$(session_audit)"
	if jq -e -s 'any(.[]; .type == "line" and (.text | test("FORGED")) and (.text | test("^rm")))' \
		"$(session_audit)" >/dev/null; then
		echo "BREACH: a program of the session wrote a line record of its own"
		return 1
	fi
	[ "$(echo "${lines[@]:0:4}")" = "0 1 2 3" ]
}

# Finding 9 (high, under delegation): a delegated operator reads the host's files by naming the
# host's root as the toolbox. `--toolbox=<dir>` takes any directory of the host and nothing
# limits it: under sudo (THREATS 46, invariant 11: options narrow the site policy, never widen
# it), `sudo dhidebug --toolbox / --view toolbox --profile observe CONTAINER -- cat
# /etc/shadow` prints the host's shadow file (a root-only marker file in the test); any
# profile with CAP_DAC_READ_SEARCH or CAP_DAC_OVERRIDE reads every host file, and runs the
# host's binaries in the container's namespaces. The same mount is then the session's /.dhi,
# which a container whose root holds CAP_SYS_PTRACE reaches through /proc/<pid>/root
# (docs/security.md promises it "cannot take ... the host's binary"), and so does the
# container of findings 1 and 5. Neither the policy
# (it names toolboxes only through rules) nor dhidebug (nothing on main looks at SUDO_USER
# but the audit) knows a delegated run from root's own. Fix: under sudo (SUDO_UID set and the
# real uid root), take toolboxes only from the cache or the policy (rules, default_toolbox,
# an allowed list) and refuse --toolbox=<dir>, --policy, --toolbox-cache, --sessions-dir and
# --runtime-root unless the policy allows them; and refuse as a toolbox, for everyone, a
# directory that is the root of a mount namespace or holds the host's /etc/shadow.
@test "under sudo, --toolbox / does not hand the host's files to the session" {
	container_start static
	# a host directory holding a file only root may read, and the toolbox's programs (so a
	# session can cat it): what `--toolbox /` is, in small
	local tb=$BATS_TEST_TMPDIR/hostdir
	cp -al "$TOOLBOX" "$tb" 2>/dev/null || cp -a "$TOOLBOX" "$tb"
	echo HOST-ONLY-SECRET >"$tb/secret"
	chmod 0600 "$tb/secret"
	# the positive control: root itself (not delegated) may name it, and the session reads it
	run_dhi --no-record --toolbox "$tb" --view toolbox --profile observe "$TARGET" -- cat /secret
	echo "as root: status $status"
	[ "$status" -eq 0 ]
	[ "$output" = HOST-ONLY-SECRET ]
	# the attack: the same, and the host's root itself, as a delegated operator (what sudo
	# puts in the environment); recorded, since a delegated --no-record is refused before the
	# toolbox is looked at
	for dir in "$tb" /; do
		run env SUDO_USER=nobody SUDO_UID=65534 SUDO_GID=65534 SUDO_COMMAND="$DHIDEBUG" \
			"$DHIDEBUG" -q --toolbox "$dir" --view toolbox --profile observe "$TARGET" -- \
			cat /secret /etc/shadow </dev/null
		echo "under sudo, --toolbox $dir: status $status: $output"
		if [[ "$output" == *HOST-ONLY-SECRET* || "$output" == *root:* ]]; then
			echo "BREACH: the delegated operator read a root-only file of the host"
			return 1
		fi
		[ "$status" -eq 125 ]
		[[ "$output" == *"--toolbox"*"delegation.toolboxes"* ]]
	done
	# and the host's root is no toolbox for root either
	run_dhi --no-record --toolbox / --view toolbox "$TARGET" -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"\`/\` is the host's root directory, not a toolbox"* ]]
}

# Finding 10 (low): an image's or a stopped container's configured environment still defines
# the operator's shell functions and prompts. build_env() adds the configured Env minus a
# denylist (env_refused() in injector/attach.c) that has BASH_ENV, ENV, PROMPT_COMMAND, PS4
# and SHELLOPTS, but not bash's exported functions (`BASH_FUNC_<name>%%=() { ...; }`, which
# every bash imports and which then replace commands of that name) nor PS0/PS2 (expanded,
# command substitutions included, in an interactive bash: PROMPT_COMMAND by another name). A
# hostile image's Env thus runs its own shell code in the operator's shell, in sysadmin or
# any profile that allows shells, with the profile's privileges, whatever the operator types
# (shown: `id` replaced). Fix: refuse the BASH_FUNC_ prefix, and PS0, PS2 and PS3 (or keep only
# names matching [A-Za-z_][A-Za-z0-9_]* and not a shell's), and list them in
# docs/image-sessions.md.
@test "a stopped container's configured environment defines no shell function for the session" {
	customize_bundle()
	{
		jq '.process.env += ["BASH_FUNC_id%%=() {  echo REPLACED-BY-THE-IMAGE; }",
				     "BASH_ENV=/vol/bashenv"]' \
			"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
	}
	container_start static
	rt kill "$CID" KILL
	wait_for -t 5 -m "the container stopped" container_stopped
	# the positive control: what the denylist is for (BASH_ENV) is refused, so the session
	# sees the configured env only minus the list
	run_dhi --no-record --profile sysadmin --view toolbox "$TARGET" -- \
		bash -c 'echo "BASH_ENV=${BASH_ENV-unset}"; id -u'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = BASH_ENV=unset ]
	# the attack: the function the image defined replaces id in the operator's bash
	if [[ "$output" == *REPLACED-BY-THE-IMAGE* ]]; then
		echo "BREACH: the configured environment defined a shell function"
		return 1
	fi
	[ "${lines[1]}" = 0 ]
}

# Finding 5 (medium): with a profile whose capabilities the container's user also has (none,
# say), dhish is traceable by the container. dhish is exec'd from dhidebug-init, and exec
# makes a process dumpable again; nothing in dhish sets PR_SET_DUMPABLE back to 0, and
# docs/security.md's argument ("the program has capabilities the container's root lacks, so
# the kernel refuses a ptrace") holds only while that is true. A site profile of no
# capabilities as nobody (the least-privilege reading profile a site writes first; `--user`
# the app's own uid does the same with such a profile) runs dhish as the application's own
# uid with nothing the application lacks: the compromised application, with no capability at
# all, seizes dhish, writes into the operator's output (in a tty session: the operator's
# terminal, and reads the keystrokes), forges `line` records in the audit (which also go into
# the operator's host-side history, to be offered again by the up arrow next time), and reads
# dhish's configuration memfd (fd 6), which holds the history of every earlier session into
# this container. The programs dhish (or dhidebug-init) runs are dumpable after their exec
# too, and hold the session's terminal as fds 0-2. Fix: PR_SET_DUMPABLE 0 as dhish's first act
# is not enough: with only that (tried on a scratch build), the app seizes the process in the
# window between the exec and the prctl ("proc N dhidebug seize=ok ... config=secret") and
# reads the history all the same. Keep it non-dumpable across the exec instead: the kernel
# does so when the executable is not readable by the process (would_dump()), so serve dhish's
# copy of dhidebug mode 0111 (or 0100 root-owned for root sessions without CAP_DAC_*), or
# hand the history over only after dhish is non-dumpable. For the programs, refuse (or warn
# about) a profile that holds no capability beyond the container user's when the session's
# uid is one the container's processes run as, and say in docs/security.md what it exposes.
# Fixed: dhish runs from an exec-only (0111) copy of dhidebug behind the read-only overlay
# (common/selfexe.c), which a session without CAP_DAC_* cannot read, so it is non-dumpable
# from its exec on, and it sets PR_SET_DUMPABLE 0 first thing (for the sessions that can).
@test "with a profile of no capabilities, the container's same-uid app cannot trace dhish or read its history" {
	local pol=$BATS_TEST_TMPDIR/policy.json
	cat >"$pol" <<-'JSON'
		{"default_profile": "observe", "allowed_profiles": ["observe", "reader"],
		 "profiles": {"reader": {"base": "observe", "capabilities": [], "user": "65534:65534"}}}
	JSON
	chmod 0644 "$pol"
	# the application: nobody, no capability at all
	nest_bundle plain 65534 '[]'
	grep -E '^control [0-9]+ child seize=ok out=ok line=ok config=secret' "$VOLDIR/report"
	# an earlier session into this container, whose line is in the history
	run_dhi --policy "$pol" --profile reader --no-record -c 'echo SECRET-typed-earlier' "$TARGET"
	[ "$status" -eq 0 ]
	# the positive control: observe's capabilities, which the app lacks, keep it out
	: >"$VOLDIR/report"
	nest_session --policy "$pol" --profile observe
	[ "$status" -eq 0 ]
	grep -qE '^proc [0-9]+ dhish seize=EPERM' "$VOLDIR/report"
	if grep -E '^proc .* (seize|out|line)=ok' "$VOLDIR/report"; then
		return 1
	fi
	# the attack: the same session with the reader profile (refusing the profile for this
	# container, in one line, is a defence too)
	: >"$VOLDIR/report"
	nest_session --policy "$pol" --profile reader
	[ "$status" -eq 0 ] || [ "$status" -eq 125 ]
	# dhish itself is out of reach, its configuration and history unread, and no line record
	# is the app's (the programs dhish runs are dumpable after their exec: see above)
	# (a process still named dhish whose fd 3 is gone has exec'd its program already: the
	# name is read before the attack, and the exec can come between)
	if grep -E '^proc [0-9]+ (dhish|dhidebug-init) seize=ok' "$VOLDIR/report" |
		grep -v ' line=EBADF ' || grep 'config=secret' "$VOLDIR/report"; then
		echo "BREACH: the app traced dhish or read its configuration (above)"
		return 1
	fi
	if grep FORGED-LINE "$(session_audit)"; then
		return 1
	fi
}
