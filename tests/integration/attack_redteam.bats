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
