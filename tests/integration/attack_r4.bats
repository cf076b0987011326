#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# attack_r4.bats: the fourth attack review (attack4). Each test reproduces a finding against
# the landed code and fails until it is fixed; each has its positive control (the same step
# where it is allowed, or a harmless input that the same path takes).
#
# Delegated mode is SUDO_UID/SUDO_USER of a user who is not root, as sudo sets them, with the
# test's own site policy and sessions folder bound over /etc/dhidebug and
# /var/lib/dhidebug/sessions in a mount namespace of its own (as attack_trust.bats does).

load helpers

setup_file()
{
	[ "$(id -u)" -eq 0 ] || return 0
	mkdir -p /etc/dhidebug /var/lib/dhidebug/sessions
}

setup()
{
	requires root runc toolbox
	SITE=$BATS_TEST_TMPDIR/site
	mkdir -p "$SITE/etc"
	mkdir -m 0700 "$SITE/sessions"
	# the site: the test toolbox may be named, nothing else delegated
	printf '{"delegation": {"toolboxes": ["%s"]}}\n' "$TOOLBOX" >"$SITE/etc/policy.json"
	# what only root may read, and where only root may write
	ROOTONLY=$BATS_TEST_TMPDIR/rootonly
	mkdir -m 0700 "$ROOTONLY"
	echo "HOST-ONLY-$$" >"$ROOTONLY/secret"
	chmod 0600 "$ROOTONLY/secret"
	OUT=$BATS_TEST_TMPDIR/out
	mkdir "$OUT"
	SUDO=(SUDO_UID=1000 SUDO_GID=1000 SUDO_USER=alice SUDO_COMMAND=/usr/bin/dhidebug)
}

teardown()
{
	umount "$BATS_TEST_TMPDIR/small" 2>/dev/null || true
	container_rm
}

# delegated ARGS...: dhidebug ARGS as a delegated operator (sudo by alice) in the test's
# site, no terminal; `run --separate-stderr`
delegated()
{
	run --separate-stderr unshare -m --propagation private sh -c '
		mount --bind "$1/etc" /etc/dhidebug &&
			mount --bind "$1/sessions" /var/lib/dhidebug/sessions || exit 99
		shift
		cd / && exec "$@"' sh "$SITE" env "${SUDO[@]}" "$DHIDEBUG" "$@" </dev/null
	echo "delegated dhidebug $* -> status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
}

# --- finding 1: `dhidebug cp` opens the host's side as root for a delegated operator --------

@test "delegated cp: a host file only root can read does not reach the container, and nothing lands where only root can write" {
	container_start static
	# copy in: the host path is opened by dhidebug, as root, for alice
	delegated cp "$ROOTONLY/secret" "$TARGET:/vol/"
	[ ! -e "$VOLDIR/secret" ] || { echo "copied in: $(cat "$VOLDIR/secret")"; false; }
	# copy out: the container's file (the operator's to choose) put in root's own directory
	echo "from-the-container" >"$VOLDIR/planted"
	delegated cp "$TARGET:/vol/planted" "$ROOTONLY/"
	[ ! -e "$ROOTONLY/planted" ] || { ls -l "$ROOTONLY/planted"; false; }
	# the manifest too is a host path
	delegated cp --manifest "$ROOTONLY/manifest" "$TARGET:/vol/planted" -
	[ ! -e "$ROOTONLY/manifest" ]
	# control: root's own copies (not delegated) do both
	run --separate-stderr "$DHIDEBUG" cp --no-record -q "$ROOTONLY/secret" "$TARGET:/vol/"
	[ "$status" -eq 0 ]
	[ "$(cat "$VOLDIR/secret")" = "HOST-ONLY-$$" ]
	run --separate-stderr "$DHIDEBUG" cp --no-record -q "$TARGET:/vol/planted" "$ROOTONLY/"
	[ "$status" -eq 0 ]
	[ "$(cat "$ROOTONLY/planted")" = from-the-container ]
}

# --- finding 2: a container in the host's pid namespace ---------------------------------

# (the container shares the host's pid namespace: `docker run --pid host`, a hostPID pod)
hostpid_bundle()
{
	jq '.linux.namespaces |= map(select(.type != "pid"))' "$1/config.json" >"$1/c.json" &&
		mv "$1/c.json" "$1/config.json"
}

@test "delegated: a container in the host's pid namespace does not give the session the host's files through /proc/PID/root" {
	customize_bundle() { hostpid_bundle "$@"; }
	container_start static
	# a process of the host: its root is the host's /
	sleep 600 </dev/null >/dev/null 2>&1 3>&- &
	local hpid=$!
	echo "$hpid" >>"$BATS_TEST_TMPDIR/bg.pids"
	# observe (read-only, nobody): reads root's file of the host
	delegated --toolbox "$TOOLBOX" -q --profile observe "$TARGET" -- \
		cat "/proc/$hpid/root$ROOTONLY/secret"
	[[ "$output" != *"HOST-ONLY-$$"* ]]
	# general: writes where only the host's root may
	delegated --toolbox "$TOOLBOX" -q --profile general "$TARGET" -- \
		cp /.dhi/etc/os-release "/proc/$hpid/root$ROOTONLY/written"
	[ ! -e "$ROOTONLY/written" ]
	# control: the same session on a container with a pid namespace of its own runs
	container_rm
	unset -f customize_bundle
	container_start static
	delegated --toolbox "$TOOLBOX" -q --profile observe "$TARGET" -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == /app* ]]
}

# --- finding 3: what the container's files make a copy read or hash ---------------------

# bomb_bundle ARGS...: the container's PID 1 is cpbomb ARGS (as root, in a writable root)
bomb_bundle()
{
	install -m 0755 "$BUILD/tests/cpbomb" "$1/rootfs/cpbomb"
	jq --args '.process.args = ["/cpbomb"] + $ARGS.positional' "${BOMB[@]}" \
		<"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
}

# wait_for_file PATH: until PATH exists (cpbomb made it), 5 s at most
wait_for_file()
{
	local i

	for i in $(seq 50); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "$1 never appeared" >&2
	return 1
}

@test "cp: a file the container grows while it is copied does not fill the destination's file system" {
	BOMB=(grow /dev/shm/grow 32)
	customize_bundle() { bomb_bundle "$@"; }
	container_start dynamic
	wait_for_file "/proc/$CPID/root/dev/shm/grow"
	# the destination: a file system of 96 MiB, three times what the file held when copied
	mkdir "$BATS_TEST_TMPDIR/small"
	mount -t tmpfs -o size=96m tmpfs "$BATS_TEST_TMPDIR/small"
	run --separate-stderr timeout 60 "$DHIDEBUG" cp --no-record -q "$TARGET:/dev/shm/grow" \
		"$BATS_TEST_TMPDIR/small/"
	echo "status $status, stderr: $stderr"
	df -h "$BATS_TEST_TMPDIR/small"
	# the copy is of the file as it was found (32 MiB of data), not of what it became
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/small/grow")" -eq $((32 << 20)) ]
	# control: the container's file did grow far beyond it
	[ "$(stat -c %s "/proc/$CPID/root/dev/shm/grow")" -gt $((1 << 40)) ]
}

@test "cp: a container file that is a hole of 4 EiB does not keep the copy hashing zeros" {
	BOMB=(sparse /dev/shm/huge 62)
	customize_bundle() { bomb_bundle "$@"; }
	container_start dynamic
	wait_for_file "/proc/$CPID/root/dev/shm/huge"
	local dest
	# into a directory (holes kept, hashed as zeros) and as a tar stream (zeros written)
	for dest in "$OUT/" -; do
		run --separate-stderr timeout 30 "$DHIDEBUG" cp --no-record -q \
			"$TARGET:/dev/shm/huge" "$dest" >/dev/null
		echo "to $dest: status $status, stderr: $stderr"
		# done in time: copied, or refused in one line
		[ "$status" -ne 124 ]
		[ "$status" -eq 0 ] || [ "$status" -eq 125 ]
	done
	# control: a hole of 1 MiB is copied, as a hole
	printf 'x' >"/proc/$CPID/root/dev/shm/small"
	truncate -s 1M "/proc/$CPID/root/dev/shm/small"
	run --separate-stderr timeout 30 "$DHIDEBUG" cp --no-record -q "$TARGET:/dev/shm/small" "$OUT/"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$OUT/small")" -eq $((1 << 20)) ]
}

@test "cp -: a 3 KiB tar stream whose sparse member claims 4 EiB does not keep the copy hashing zeros" {
	container_start dynamic
	"$BUILD/tests/cpbomb" tar 62 >"$BATS_TEST_TMPDIR/bomb.tar"
	ls -l "$BATS_TEST_TMPDIR/bomb.tar"
	run --separate-stderr timeout 30 "$DHIDEBUG" cp --no-record -q - "$TARGET:/vol" \
		<"$BATS_TEST_TMPDIR/bomb.tar"
	echo "status $status, stderr: $stderr"
	[ "$status" -ne 124 ]
	[ "$status" -eq 0 ] || [ "$status" -eq 125 ]
	# control: the same archive with a member of 1 MiB unpacks, sparse
	"$BUILD/tests/cpbomb" tar 20 >"$BATS_TEST_TMPDIR/small.tar"
	rm -f "$VOLDIR/bomb"
	run --separate-stderr timeout 30 "$DHIDEBUG" cp --no-record -q - "$TARGET:/vol" \
		<"$BATS_TEST_TMPDIR/small.tar"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$VOLDIR/bomb")" -eq $((1 << 20)) ]
}

# --- finding 4: the container's code mapped executable through /proc/1/root -------------

plant_lib()
{
	jq '.process.user = {uid: 0, gid: 0}' "$1/config.json" >"$1/c.json" &&
		mv "$1/c.json" "$1/config.json"
	install -m 0755 "$BUILD/tests/libevil.so" "$1/rootfs/evil.so"
}

@test "the loader maps no container library reached through /proc/1/root outside sysadmin (LD_PRELOAD, ld.so --preload)" {
	customize_bundle() { plant_lib "$@"; }
	container_start dynamic
	local p view out st
	for p in general sysadmin; do
		for view in union toolbox; do
			for how in env ldso; do
				rm -f "$VOLDIR/evil-ran"
				if [ "$how" = env ]; then
					set -- env LD_PRELOAD=/proc/1/root/evil.so id
				else
					set -- /.dhi/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 --preload /proc/1/root/evil.so \
						/.dhi/usr/bin/id
				fi
				st=0
				out=$(dhidebug --profile "$p" --view "$view" "$TARGET" -- "$@" 2>&1) || st=$?
				echo "$p $view $how -> $st: $out"
				if [ "$p" = sysadmin ]; then
					# control: where the container's files may run, the plant does
					[[ "$out" == *"EVIL CODE RAN"* ]]
				else
					[[ "$out" != *"EVIL CODE RAN"* ]]
					[ ! -e "$VOLDIR/evil-ran" ]
				fi
			done
		done
	done
}

# (fixsec) The loader's inputs are judged where they lead, not by how they are named: a
# symlink in the scratch tmpfs to the container's library, a library path in scratch holding
# one, a relative name from a working directory in /proc/1/root, dhish's own environment
@test "what the loader is told to load must be the toolbox's: scratch symlinks, library paths, relative names (general)" {
	customize_bundle()
	{
		plant_lib "$@"
		mkdir "$1/rootfs/evillib"
		cp "$1/rootfs/evil.so" "$1/rootfs/evillib/libselinux.so.1"
	}
	container_start dynamic
	local p script
	script='ln -s /proc/1/root/evil.so /.dhi-scratch/evil.so
		mkdir /.dhi-scratch/lib
		ln -s /proc/1/root/evillib/libselinux.so.1 /.dhi-scratch/lib/libselinux.so.1
		export LD_PRELOAD=/.dhi-scratch/evil.so; id -u; unset LD_PRELOAD
		export LD_LIBRARY_PATH=/.dhi-scratch/lib; id -u
		export LD_LIBRARY_PATH=/proc/1/root/evillib; id -u
		cd /proc/1/root; export LD_LIBRARY_PATH=evillib; id -u
		export LD_LIBRARY_PATH=/.dhi/usr/lib/x86_64-linux-gnu; echo toolbox-path; id -u'
	for p in general/toolbox general/union sysadmin/toolbox; do
		rm -f "$VOLDIR/evil-ran"
		run_dhi --profile "${p%/*}" --view "${p#*/}" -c "$script" "$TARGET"
		if [ "${p%/*}" = sysadmin ]; then
			# control: where the container's files may run, each plant does
			[[ "$output" == *"EVIL CODE RAN"* ]]
			continue
		fi
		[[ "$output" != *"EVIL CODE RAN"* ]]
		[ ! -e "$VOLDIR/evil-ran" ]
		# each refused, saying why; the toolbox's own library path runs
		[ "$(grep -c "not the toolbox's" <<<"$output")" -eq 4 ]
		[[ "$output" == *"toolbox-path"$'\n'"0"* ]]
	done
}

# --- finding 6: a program of the session writes dhish's line records --------------------

@test "a program run from dhish cannot write a line record through /proc/<dhish>/fd/3 (general)" {
	container_start static
	local sdir=$BATS_TEST_TMPDIR/sessions audit
	mkdir -m 0700 "$sdir"
	# dhish's fd 3 is close-on-exec (attack_redteam.bats), but general's CAP_SYS_PTRACE and
	# CAP_DAC_OVERRIDE reopen it through /proc: the glob is dhish's, the write tee's
	run_dhi --sessions-dir "$sdir" --profile general \
		-c 'ls -l /proc/[0-9]*/fd/3; printf "L/\nrm -rf /precious # FORGED\000" | tee /proc/[0-9]*/fd/3 >/dev/null' \
		"$TARGET"
	audit=$(ls -d "$sdir"/*/)audit.jsonl
	jq -c 'select(.type == "line" or .type == "exec") | {type, text, file}' "$audit"
	# control: the line typed is recorded, and dhish's pipe is there to be reached
	jq -e -s 'any(.[]; .type == "line" and (.text | startswith("ls -l /proc/")))' "$audit"
	# (a socket since the fix: it cannot be reopened through /proc, and tee says so)
	[[ "$output" == *"/fd/3 -> socket:"* ]]
	if jq -e -s 'any(.[]; .type == "line" and (.text | test("FORGED")) and (.text | test("^rm")))' \
		"$audit" >/dev/null; then
		echo "BREACH: a program of the session wrote a line record of its own"
		return 1
	fi
}

# (fixsec) A socket is not reopened through /proc, but general's CAP_SYS_PTRACE still takes
# it from dhish with pidfd_getfd: the supervisor takes line records from dhish's pid alone
# (SCM_CREDENTIALS), so what the thief sends under its own is dropped
@test "a program run from dhish that takes dhish's fd 3 with pidfd_getfd cannot write a line record (general)" {
	container_start static
	local sdir=$BATS_TEST_TMPDIR/sessions audit
	mkdir -m 0700 "$sdir"
	run_dhi --sessions-dir "$sdir" --profile general \
		-c 'dhi-probe steal-msg "rm -rf /precious # STOLEN"; echo after' "$TARGET"
	audit=$(ls -d "$sdir"/*/)audit.jsonl
	jq -c 'select(.type == "line" or .type == "line.end") | {type, text}' "$audit"
	# control: the fd was taken and written to, and dhish's own records still arrive
	[[ "$output" == *"steal=ok"*"send=ok"*"after"* ]]
	jq -e -s 'any(.[]; .type == "line.end" and (.text | startswith("dhi-probe steal-msg")))' \
		"$audit"
	if jq -e -s 'any(.[]; .type == "line" and (.text | test("STOLEN")) and (.text | test("^rm")))' \
		"$audit" >/dev/null; then
		echo "BREACH: a program of the session wrote a line record through dhish's stolen fd"
		return 1
	fi
}

# --- finding 5: a tar member's name on the operator's terminal ----------------------------

@test "cp -: a tar member named with terminal control sequences does not reach stderr raw" {
	container_start dynamic
	"$BUILD/tests/cpbomb" esc >"$BATS_TEST_TMPDIR/esc.tar"
	run --separate-stderr "$DHIDEBUG" cp --no-record - "$TARGET:/vol" <"$BATS_TEST_TMPDIR/esc.tar"
	echo "status $status"
	printf '%s' "$stderr" | od -c | head -5
	[ "$status" -eq 0 ]
	# control: the skip is said
	[[ "$stderr" == *"skipped"*"OWNED-BY-TAR"* ]]
	[[ "$stderr" != *$'\e'* ]]
	[[ "$stderr" != *$'\a'* ]]
}
