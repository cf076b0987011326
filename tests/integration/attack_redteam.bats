#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# attack_redteam.bats: findings of the red-team review of main (a compromised container's
# root, a delegated operator, a hostile runtime). Each test FAILS on the code it was written
# against, showing the breach; each has a positive control that shows the attack itself works
# (against an ordinary process, or without the defence), so a pass can only mean the defence
# held. The finding (what, impact, how to fix) is the comment above each test.

load helpers

setup()
{
	requires root runc toolbox
	for f in nest libevil.so; do
		[ -e "$BUILD/tests/$f" ] || missing "no $BUILD/tests/$f (make fixtures)"
	done
	SDIR=$BATS_TEST_TMPDIR/sessions
	mkdir -m 0700 "$SDIR"
}

teardown()
{
	[ -n "${CID:-}" ] && rm -f "/var/lib/dhidebug/history/runc_$CID"
	[ -e "$BATS_TEST_TMPDIR/loopdev" ] && losetup -d "$(cat "$BATS_TEST_TMPDIR/loopdev")"
	container_rm
}

# Docker's default capabilities: what a container's root holds unless told otherwise (no
# CAP_SYS_PTRACE, no CAP_SYS_ADMIN)
DOCKER_CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW",
	"CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'

# session_audit: the audit.jsonl of the only session recorded in $SDIR
session_audit()
{
	local d
	d=$(ls -d "$SDIR"/*/ 2>/dev/null | head -1)
	[ -n "$d" ] || return 1
	echo "${d%/}/audit.jsonl"
}

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

# state_is PID S: PID's one-letter state is S (for wait_for)
state_is()
{
	[ "$(pid_state "$1")" = "$2" ]
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
	local p out st
	for p in sysadmin observe general netadmin; do
		rm -f "$VOLDIR/evil-ran"
		st=0
		out=$(dhidebug --no-record --profile "$p" --view union "$TARGET" -- id 2>&1) || st=$?
		echo "$p: status $st: $out"
		if [ "$p" = sysadmin ]; then
			# the control: sysadmin may run the container's code, and the plant runs
			[[ "$out" == *"EVIL CODE RAN"* ]]
			[ -e "$VOLDIR/evil-ran" ]
		else
			[[ "$out" != *"EVIL CODE RAN"* ]]
			[ ! -e "$VOLDIR/evil-ran" ]
			# the toolbox's id ran, or the view was refused (125, one line)
			[ "$st" -eq 0 ] || [ "$st" -eq 125 ]
			[ "$st" -eq 125 ] || [[ "$out" == uid=* ]]
		fi
	done
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
	local p out st
	for p in sysadmin observe general netadmin; do
		rm -f "$VOLDIR/evil-ran"
		st=0
		out=$(dhidebug --no-record --profile "$p" --view union "$TARGET" -- id 2>&1) || st=$?
		echo "$p: status $st: $out"
		if [ "$p" = sysadmin ]; then
			# the control: sysadmin may run the container's code (or the target is refused
			# for every profile alike, a defence as well)
			[ "$st" -eq 125 ] && break
			[[ "$out" == *"EVIL CODE RAN"* ]]
			[ -e "$VOLDIR/evil-ran" ]
		else
			[[ "$out" != *"EVIL CODE RAN"* ]]
			[ ! -e "$VOLDIR/evil-ran" ]
			[ "$st" -eq 0 ] || [ "$st" -eq 125 ]
		fi
	done
}

# Finding 3 (medium): an operator (or a file name) can make any exec and line record empty.
# The supervisor builds the audit's records with jansson, whose json_string() and json_pack()
# refuse a string that is not UTF-8: handle_exec() then writes an `exec` record with no path,
# argv, pid or decision at all (record_audit() with NULL fields), rec_line() a `line` with no
# text, rec_line_end() a `line.end` with nothing, and an argv element that is not UTF-8 is
# dropped from the array without a trace. Any byte string is a valid path: a symlink in the
# scratch space named "\377" pointing at any toolbox program (a shell in sysadmin) runs it,
# and what ran is recorded nowhere; `sessions verify` then calls the whole session invalid
# (as if tampered with), which hides it in the noise of a real tamper. The same happens to
# session.start (no operator, target or profile) when the -c line or a runtime's container
# name is not UTF-8 (the -c case is refused later only by accident: dhish's configuration
# fails to encode). Fix: record bytes losslessly (escape what is not UTF-8, e.g. \xNN, the
# way the cast replaces it, or add a base64 field), and end the session (record: required
# semantics) rather than write a record whose fields could not be built.
@test "an exec through a name that is not UTF-8 is recorded with its path and argv" {
	container_start static
	# the positive control: the same two lines with a UTF-8 name are recorded in full
	printf 'ln -s /.dhi/usr/bin/id /.dhi-scratch/ok\n/.dhi-scratch/ok\n' |
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q --sessions-dir "$SDIR" --profile general "$TARGET"
	cat "$(session_audit)"
	jq -e -s 'any(.[]; .type == "exec" and .path == "/.dhi-scratch/ok"
		    and .argv == ["/.dhi-scratch/ok"])' "$(session_audit)"
	jq -e -s 'any(.[]; .type == "line" and .text == "/.dhi-scratch/ok")' "$(session_audit)"
	run "$DHIDEBUG" sessions verify --dir "$SDIR" --all
	[ "$status" -eq 0 ]
	rm -rf "${SDIR:?}"/* "$SDIR"/.open

	# the attack: the operator names the link "\377"
	printf 'ln -s /.dhi/usr/bin/id /.dhi-scratch/\377\n/.dhi-scratch/\377\n' |
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q --sessions-dir "$SDIR" --profile general "$TARGET"
	cat "$(session_audit)"
	# id ran (its output is in the recording) ...
	grep -q 'uid=0' "$(dirname "$(session_audit)")/session.cast"
	# ... so every exec record names what ran, with its pid, and every line its text
	jq -e -s 'all(.[]; .type != "exec"
		    or (has("path") and has("argv") and has("pid") and has("decision")))' "$(session_audit)"
	jq -e -s '[.[] | select(.type == "exec")] | length == 2' "$(session_audit)"
	jq -e -s '[.[] | select(.type == "exec") | .argv | length] == [4, 1]' "$(session_audit)"
	jq -e -s 'all(.[]; .type != "line" or has("text"))' "$(session_audit)"
	run "$DHIDEBUG" sessions verify --dir "$SDIR" --all
	echo "verify: $output"
	[ "$status" -eq 0 ]
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
	if grep -E '^proc [0-9]+ (dhish|dhidebug-init) seize=ok|config=secret' "$VOLDIR/report"; then
		echo "BREACH: the app traced dhish or read its configuration (above)"
		return 1
	fi
	if grep FORGED-LINE "$(session_audit)"; then
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

# Finding 7 (low): the container multiplies what a session shows six-fold on the host's disk,
# without limit. record_event() escapes each control byte of the output as \u00XX (six bytes),
# and nothing bounds session.cast: a sparse file or a log stream of NUL bytes, which costs the
# container no disk, that the operator cats or tails (also piped into grep in non-tty mode,
# so nobody sees it scroll) becomes six times its size in /var/lib/dhidebug/sessions on the
# host: 1 GiB shown, 6 GiB written, until the host's /var is full (other sessions' recordings
# and every other service on that file system fail with it). Fix: a size limit on the
# recording (the policy's, with a default), after which the session ends under `record:
# required` or goes on unrecorded saying so, as for a failed write; and a compact form for
# runs of control bytes (or dropping NULs, which terminals ignore) so the factor is near 1.
@test "NUL bytes the container makes a session show are not recorded at six times their size" {
	container_start static
	local cast size=$((8 << 20))
	# the positive control: 8 MiB of text is recorded at about its size
	head -c "$size" /dev/zero | tr '\0' a >"$VOLDIR/text"
	truncate -s "$size" "$VOLDIR/sparse" # no disk at all in the container
	"$DHIDEBUG" --toolbox "$TOOLBOX" -q --sessions-dir "$SDIR" "$TARGET" -- cat /vol/text >/dev/null
	cast=$(stat -c %s "$(dirname "$(session_audit)")/session.cast")
	echo "8 MiB of text: a recording of $cast bytes"
	[ "$cast" -lt $((size * 11 / 10)) ]
	rm -rf "${SDIR:?}"/* "$SDIR"/.open
	# the attack: 8 MiB of NULs
	"$DHIDEBUG" --toolbox "$TOOLBOX" -q --sessions-dir "$SDIR" "$TARGET" -- cat /vol/sparse >/dev/null
	cast=$(stat -c %s "$(dirname "$(session_audit)")/session.cast")
	echo "8 MiB of NULs: a recording of $cast bytes"
	[ "$cast" -lt $((size * 2)) ]
}

# Finding 8 (low): the container can make a session hang after its program has ended by
# stopping the session's init. Init blocks every signal but the two no process can block;
# SIGSTOP from the container's root (same uid, or CAP_KILL, which Docker gives) freezes it.
# The program then exits into a zombie nobody reaps, init never closes the "ended" pipe, and
# the stage (keep_session) waits for that pipe, the lifeline or init's exit, none of which
# comes: dhidebug hangs with the operator's terminal in raw mode until someone kills it from
# another terminal. Fix: let the stage watch the program itself (init can report its pid on
# the keeper pipe as the first process reports init's; a pidfd of it polls readable when it
# exits), or SIGCONT init from the stage once output has ended.
init_and_sleep()
{
	[ -n "$(in_target dhidebug-init)" ] && [ -n "$(in_target sleep)" ]
}

@test "a session whose init the container stopped still ends when its program exits" {
	container_start static
	local init= prog=
	# the positive control: the same session ends by itself
	run_dhi --no-record "$TARGET" -- sleep 1
	[ "$status" -eq 0 ]
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --no-record "$TARGET" -- sleep 60
	wait_for -t 10 -m "the session's init and program" init_and_sleep
	init=$(in_target dhidebug-init)
	prog=$(in_target sleep)
	echo "init $init, program $prog"
	# what the container's root can do: stop init
	kill -STOP "$init"
	wait_for -t 2 -m "init stopped" state_is "$init" T
	# the program ends (killed here; the same as exiting), a zombie of the stopped init
	kill -TERM "$prog"
	wait_for -t 2 -m "the program's end" state_is "$prog" Z
	if ! wait_pid_exit "$DHI_PID" 5; then
		echo "BREACH: dhidebug still runs 5 s after its program ended (init stopped)"
		kill -CONT "$init"
		return 1
	fi
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
	# a host file only root may read (the host's /etc/shadow is read the same way; a marker
	# keeps its hashes out of the test's log)
	local secret=$BATS_TEST_TMPDIR/root-only/secret
	mkdir -m 0700 "$BATS_TEST_TMPDIR/root-only"
	echo HOST-ONLY-SECRET >"$secret"
	chmod 0600 "$secret"
	# the positive control: root itself (not delegated) may, and the session prints it
	run_dhi --no-record --toolbox / --view toolbox --profile observe "$TARGET" -- cat "$secret"
	echo "as root: status $status"
	[ "$status" -eq 0 ]
	[ "$output" = HOST-ONLY-SECRET ]
	# the attack: the same, as a delegated operator (what sudo puts in the environment)
	run env SUDO_USER=nobody SUDO_UID=65534 SUDO_GID=65534 SUDO_COMMAND="$DHIDEBUG" \
		"$DHIDEBUG" -q --no-record --toolbox / --view toolbox --profile observe "$TARGET" -- \
		cat "$secret" </dev/null
	echo "under sudo: status $status: $output"
	if [[ "$output" == *HOST-ONLY-SECRET* ]]; then
		echo "BREACH: the delegated operator read a root-only file of the host"
		return 1
	fi
	[ "$status" -eq 125 ]
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

container_stopped()
{
	[ "$(rt state "$CID" | jq -r .status)" = stopped ]
}

# Finding 11 (medium): what the operator ran past the first 4 KiB of a line or an argument is
# in no record, and nothing says so. dhish's line goes to the supervisor in one message of at
# most SESSION_MSG_MAX (4096) bytes, cut silently (session_msg_send); the exec audit reads
# each argument with read_str() into 4096 bytes, also cut silently (only the 257th argument
# gets a "…"). An operator who pads a line and a program argument with 4 KiB of blanks has
# the `line` record and the `exec` record end in the blanks: `awk '<4 KiB of spaces> BEGIN {
# while ((getline l < "/target/etc/shadow") > 0) print l }'` reads any file the profile may,
# and neither record shows which, nor that it was cut (with input from a pipe nothing of it
# is in the recording either; only its output). Fix: carry the whole line (several messages,
# or a memfd), read arguments up to the kernel's own limit (MAX_ARG_STRLEN, 128 KiB), and
# where something is still cut say so in the record ("truncated": true).
@test "a line and an argument longer than 4 KiB are recorded whole, or marked as cut" {
	container_start static
	local pad
	pad=$(printf '%4200s' '')
	# the positive control: the short program is recorded, line and argv
	printf '%s\n' "awk 'BEGIN { print \"AWK-RAN\" }'" |
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q --sessions-dir "$SDIR" --profile general "$TARGET"
	jq -e -s 'any(.[]; .type == "exec" and (.argv | join(" ") | test("AWK-RAN")))' "$(session_audit)"
	jq -e -s 'any(.[]; .type == "line" and (.text | test("AWK-RAN")))' "$(session_audit)"
	rm -rf "${SDIR:?}"/* "$SDIR"/.open
	# the attack: the same program after 4 KiB of blanks
	printf '%s\n' "awk '$pad BEGIN { print \"AWK-RAN\" }'" |
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q --sessions-dir "$SDIR" --profile general "$TARGET" |
		grep -q AWK-RAN # it ran
	jq -c '{type, argv_len: (.argv // [] | map(length)), text_len: (.text // "" | length),
		truncated}' "$(session_audit)"
	# what ran is in the exec record, or the record says it was cut
	jq -e -s 'any(.[]; .type == "exec"
		    and ((.argv | join(" ") | test("AWK-RAN")) or .truncated == true))' "$(session_audit)"
	jq -e -s 'any(.[]; .type == "line" and ((.text | test("AWK-RAN")) or .truncated == true))' \
		"$(session_audit)"
}

# Finding 12 (high, with --no-cgroup): the container's device nodes open host devices in a
# session outside its cgroups. The view clears nodev on the container's /dev (graft()) and
# counts on the container's device cgroup (v1 devices.list, v2's BPF program) to keep its
# nodes to the devices the runtime allowed; `--no-cgroup`, documented as "not accounted to
# the container", also takes the session out of that cgroup. The container's root (CAP_MKNOD
# is among Docker's defaults) replaces its /dev/null with a node of a host block device:
# every `2>/dev/null` and `>/dev/null` of the operator's then writes the host's disk, and a
# read of it reads the disk raw (shown with a loop device standing in for the host's disk:
# the session reads its marker and writes over it). Fix: give the session a /dev of its own
# (null, zero, full, random, urandom, tty, pts, ptmx, shm from the host's devtmpfs or the
# toolbox) and graft the container's /dev nodev or at /target/dev only; or keep the session
# in the container's device cgroup even with --no-cgroup.
@test "with --no-cgroup, a device node the container put at /dev/null does not open a host device" {
	command -v losetup >/dev/null || missing "needs losetup"
	local img=$BATS_TEST_TMPDIR/disk.img maj min
	truncate -s 1M "$img"
	printf 'HOST-DISK-MARKER' | dd of="$img" conv=notrunc status=none
	LOOPDEV=$(losetup -f --show "$img")
	echo "$LOOPDEV" >"$BATS_TEST_TMPDIR/loopdev"
	maj=$((16#$(stat -c %t "$LOOPDEV")))
	min=$((16#$(stat -c %T "$LOOPDEV")))
	container_start static
	# what the container's root does with CAP_MKNOD (done from the host here)
	rm -f "/proc/$CPID/root/dev/null"
	mknod -m 0666 "/proc/$CPID/root/dev/null" b "$maj" "$min"
	# the positive control: outside the container's device cgroup the node opens the host
	# device (the host reads the marker through it)
	[ "$(head -c 16 "/proc/$CPID/root/dev/null")" = HOST-DISK-MARKER ]
	# in the container's cgroups (the default) the session reads no marker
	run_dhi --no-record "$TARGET" -- head -c 16 /dev/null
	echo "joined: status $status"
	[[ "$output" != *HOST-DISK-MARKER* ]]
	# the attack: the same with --no-cgroup, then a write the operator thinks is discarded
	run_dhi --no-record --no-cgroup "$TARGET" -- head -c 16 /dev/null
	echo "not joined: status $status"
	run_dhi --no-record --no-cgroup -c 'echo DISCARDED-BY-THE-OPERATOR >/dev/null' "$TARGET"
	losetup -d "$LOOPDEV"
	rm -f "$BATS_TEST_TMPDIR/loopdev"
	echo "the host device now starts with: $(head -c 26 "$img" | tr -c '[:print:]' .)"
	if [[ "$output" == *HOST-DISK-MARKER* ]] || grep -q DISCARDED-BY-THE-OPERATOR "$img"; then
		echo "BREACH: the session read or wrote a host block device through the container's /dev/null"
		return 1
	fi
}
