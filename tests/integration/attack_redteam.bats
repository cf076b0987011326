#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# attack_redteam.bats: findings of the red-team review of main (a compromised container's
# root, a delegated operator, a hostile runtime) that are fixed. Each test failed on the code
# it was written against, showing the breach; each has a positive control that shows the
# attack itself works (against an ordinary process, or without the defence), so a pass can
# only mean the defence held. The finding (what, impact, the fix) is the comment
# above each test. The findings still open have their tests on the branch wt/attack.

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
