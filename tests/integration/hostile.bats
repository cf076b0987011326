#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# hostile.bats: targets built to attack the helper (../shared/THREATS.md, adversary A):
# planted symlinks, a fake /proc, a PID 1 that attacks every new process, a huge environ.
# None may crash dhidebug, make it read or write outside the container, or change the host's
# dhidebug binary or toolbox.

load helpers

setup()
{
	requires root runc toolbox
}

teardown()
{
	container_rm
}

sums()
{
	sha256sum "$DHIDEBUG" "$TOOLBOX/bin/bash" "$TOOLBOX/usr/bin/true" /etc/shadow /etc/passwd
}

@test "planted symlinks to host paths are resolved inside the container, never outside" {
	customize_bundle()
	{
		# Followed from the host, these would read the host's Debian 12 os-release (and so
		# pick the union view) and the host's shadow file.
		rm -f "$1/rootfs/etc/os-release"
		ln -s /usr/lib/os-release "$1/rootfs/etc/os-release"
		ln -s /etc/shadow "$1/rootfs/etc/passwd"
	}
	container_start static
	local before
	before=$(sums)
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" "$TARGET" -- cat /proc/1/comm
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = app ]
	# the container has no /usr/lib/os-release: no match, so the toolbox view
	[[ "$stderr" == *"view: toolbox (toolbox and target are not the same"* ]]
	[ "$(sums)" = "$before" ]
}

@test "a symlink through /proc/1/root (a magic link) is not followed" {
	customize_bundle()
	{
		rm -f "$1/rootfs/etc/os-release"
		ln -s /proc/1/root/../../../../usr/lib/os-release "$1/rootfs/etc/os-release"
	}
	container_start static
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" "$TARGET" -- true
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"view: toolbox"* ]]
}

@test "a tmpfs over the container's /proc is refused: only a real procfs is trusted" {
	command -v busybox >/dev/null || missing "needs busybox (busybox-static)"
	customize_bundle()
	{
		install -m 0755 "$(command -v busybox)" "$1/rootfs/busybox"
	}
	container_start static
	# what a compromised container root can do (runc itself needs a real /proc to start)
	nsenter -t "$CPID" -m /busybox mount -t tmpfs -o nosuid tmpfs /proc
	run --separate-stderr dhidebug "$TARGET" -- true
	echo "stderr: $stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"/proc is not the expected filesystem"* ]]
	assert_no_leftovers
}

# attacker_bundle [ARGS...]: PID 1 is tests/fixtures/attacker.c (logging to /vol/attacks.log,
# with ARGS after it), and /vol/victim is a copy of it for the positive control (on the
# volume, as the container's root is read-only).
attacker_bundle()
{
	ATTACKER_ARGS=("$@")
	customize_bundle()
	{
		install -m 0755 "$BUILD/tests/attacker" "$1/rootfs/attacker"
		install -m 0755 "$BUILD/tests/attacker" "$VOLDIR/victim"
		jq '.process.args = ["/attacker", "/vol/attacks.log"] + $ARGS.positional' \
			--args "${ATTACKER_ARGS[@]}" <"$1/config.json" >"$1/c.json" &&
			mv "$1/c.json" "$1/config.json"
	}
}

# The positive control: an ordinary process entering the container the way `runc exec` does
# (the container's uid and capabilities, dumpable). The attacker must reach it every way it
# tries, including rewriting its binary through an exe handle once it has exited; so an attack
# that no longer works on this kernel shows up here instead of passing below.
attack_control()
{
	local sum0 what

	sum0=$(sha256sum <"$VOLDIR/victim")
	rt exec "$CID" /vol/victim victim 300 </dev/null
	wait_for -t 5 -m "the attacker's write through the victim's exe handle" \
		grep -q '^exe-write [0-9]* victim$' "$VOLDIR/attacks.log"
	echo "control:"
	cat "$VOLDIR/attacks.log"
	for what in ptrace mem-read exe-path exe-write; do
		grep -q "^$what [0-9]* victim\$" "$VOLDIR/attacks.log"
	done
	# the write reached the file
	[ "$(sha256sum <"$VOLDIR/victim")" != "$sum0" ]
	tail -c 27 "$VOLDIR/victim" | grep -q 'written by the attacker'
}

# attacks_on_others: what the attacker reached besides the control
attacks_on_others()
{
	awk '$3 != "victim"' "$VOLDIR/attacks.log"
}

@test "a PID 1 that attacks every process: it reaches an ordinary process, not one of the session's" {
	attacker_bundle
	container_start static
	attack_control
	local before i
	before=$(sums)
	for i in $(seq 20); do
		run_dhi "$TARGET" -c 'sleep 0.05; true'
		[ "$status" -eq 0 ]
		run_dhi "$TARGET" -- true
		[ "$status" -eq 0 ]
	done
	echo "processes the attacker saw:"
	cat "$VOLDIR/attacks.log.seen"
	echo "attacks that succeeded:"
	cat "$VOLDIR/attacks.log"
	# it did see the session's processes (init, dhish, the programs) and attack them ...
	grep -q ' dhidebug-init$' "$VOLDIR/attacks.log.seen"
	grep -q ' dhish$' "$VOLDIR/attacks.log.seen"
	grep -q ' sleep$' "$VOLDIR/attacks.log.seen"
	# ... but none was attached to, read or opened through /proc/<pid>/{mem,exe}
	[ -z "$(attacks_on_others)" ]
	[ "$(sums)" = "$before" ]
	[ "$(zombie_children_of "$CPID")" -eq 0 ]
}

# 60 MB needs PR_SET_MM (CAP_SYS_RESOURCE in the container): execve caps argv+envp at 6 MB.
# Where the host's bounding set lacks CAP_SYS_RESOURCE (this CI host does), the container
# gets the largest environment execve allows instead, and the test says so.
@test "a huge /proc/1/environ (60 MB, or 6 MB where the host forbids more) does not disturb the helper" {
	local want=60000000
	if capsh --decode="$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)" |
		grep -q cap_sys_resource; then
		customize_bundle()
		{
			install -m 0755 "$BUILD/tests/attacker" "$1/rootfs/attacker"
			jq '.process.args = ["/attacker", "/vol/attacks.log", "bigenv"]
			    | .process.capabilities.bounding += ["CAP_SYS_RESOURCE"]
			    | .process.capabilities.effective += ["CAP_SYS_RESOURCE"]
			    | .process.capabilities.permitted += ["CAP_SYS_RESOURCE"]' \
				"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
		}
	else
		echo "# host has no CAP_SYS_RESOURCE: using a 6 MB environment from execve" >&3
		want=6000000
		customize_bundle()
		{
			python3 - "$1/config.json" <<'PY'
import json, sys
path = sys.argv[1]
c = json.load(open(path))
big = "x" * (128 * 1024 - 16)
c["process"]["env"] += ["BIG%d=%s" % (i, big) for i in range(47)]
c["process"]["rlimits"] = c["process"].get("rlimits", []) + [
    {"type": "RLIMIT_STACK", "hard": 64 << 20, "soft": 64 << 20}]
json.dump(c, open(path, "w"))
PY
		}
	fi
	container_start static
	local i
	for i in $(seq 50); do
		[ "$(wc -c <"/proc/$CPID/environ")" -gt "$want" ] && break
		sleep 0.1
	done
	[ "$(wc -c <"/proc/$CPID/environ")" -gt "$want" ]
	run_dhi "$TARGET" -c 'wc -c < /proc/1/environ; env | wc -l'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" -gt "$want" ]
	# the session's own environment is the allowlist, not the container's
	[ "${lines[1]}" -lt 10 ]
}
