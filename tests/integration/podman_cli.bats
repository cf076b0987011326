#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podman_cli.bats: podman with no API service, as most podman hosts run it (issue 16, item 4).
# podman:// and bare names are found through podman's own CLI (`podman container inspect`,
# `podman ps`), run from its root-owned path with a fixed environment. The tests' store is
# private: a storage.conf that CONTAINERS_STORAGE_CONF names for the tests' podman and, passed
# through, for the podman dhidebug runs.

load helpers

setup_file()
{
	RT=$BATS_FILE_TMPDIR
	export RT
	containers_conf "$RT/containers.conf"
	cat >"$RT/storage.conf" <<-EOF
		[storage]
		driver = "overlay"
		graphroot = "$RT/pm/root"
		runroot = "$RT/pm/run"
	EOF
	export CONTAINERS_CONF=$RT/containers.conf CONTAINERS_STORAGE_CONF=$RT/storage.conf
	mkdir -p "$RT/img/etc"
	cp "$BUILD/tests/app-static" "$RT/img/app"
	cp /usr/lib/os-release "$RT/img/etc/os-release"
	tar -C "$RT/img" -cf "$RT/app.tar" app etc
	command -v podman >/dev/null || return 0
	env -u CONTAINER_HOST podman import --change 'ENTRYPOINT ["/app"]' "$RT/app.tar" \
		localhost/dhi-cli:test >"$RT/setup.log" 2>&1 || true
}

teardown_file()
{
	local m

	env -u CONTAINER_HOST podman rm -af -t 0 >/dev/null 2>&1 || true
	for m in $(awk -v rt="$RT" 'index($5, rt) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
}

setup()
{
	requires root podman
	export CONTAINERS_CONF=$RT/containers.conf CONTAINERS_STORAGE_CONF=$RT/storage.conf
	unset CONTAINER_HOST DOCKER_HOST
	# the point of the file: no service on podman's default socket
	[ ! -S /run/podman/podman.sock ] || {
		echo "podman's API service runs on this host (/run/podman/podman.sock): these tests need it stopped" >&2
		return 1
	}
	NAME=dhi-cli-$$-$BATS_TEST_NUMBER
	podman run -d --name "$NAME" --network none localhost/dhi-cli:test /app /nonexistent/marker \
		>"$BATS_TEST_TMPDIR/run.log" 2>&1 || {
		cat "$BATS_TEST_TMPDIR/run.log" "$RT/setup.log" >&2
		return 1
	}
	PID_=$(podman inspect --format '{{.State.Pid}}' "$NAME")
	PCID=$(podman inspect --format '{{.Id}}' "$NAME")
}

teardown()
{
	podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
}

@test "podman without its service: podman://NAME and the bare name are found through podman's CLI; a session runs in the container" {
	run --separate-stderr dhidebug "podman://$NAME" -- cat /proc/1/cmdline
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	# the image's entrypoint and the command (bash drops the NULs between the arguments)
	[ "$output" = "/app/app/nonexistent/marker" ]
	# the session's pid namespace is the container's
	run dhidebug "$NAME" -- readlink /proc/self/ns/pid
	[ "$status" -eq 0 ]
	[ "$output" = "$(readlink "/proc/$PID_/ns/pid")" ]
	# by id too, and an unknown name is one line naming the runtimes searched
	run dhidebug "podman://$PCID" -- true
	[ "$status" -eq 0 ]
	run --separate-stderr dhidebug "podman://no-such-$NAME" -- true
	[ "$status" -eq 125 ]
	[ "$stderr" = "dhidebug: no container \`no-such-$NAME\` in podman" ]
}

@test "podman without its service: ls and ls --json list its containers with image, digest and pid" {
	run "$DHIDEBUG" ls --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r --arg n "$NAME" '.[] | select(.name == $n) | .runtime' <<<"$output")" = podman ]
	[ "$(jq -r --arg n "$NAME" '.[] | select(.name == $n) | .pid' <<<"$output")" = "$PID_" ]
	[ "$(jq -r --arg n "$NAME" '.[] | select(.name == $n) | .image_ref' <<<"$output")" = localhost/dhi-cli:test ]
	[[ "$(jq -r --arg n "$NAME" '.[] | select(.name == $n) | .image_digest' <<<"$output")" == sha256:* ]]
	[ "$(jq -r --arg n "$NAME" '.[] | select(.name == $n) | .target' <<<"$output")" = "podman://$PCID" ]
}

@test "podman's CLI is the root-owned one with a fixed environment: a podman first on PATH is not run, dhidebug's fds do not reach it" {
	# the attacker's podman, first on PATH, leaves a mark when run
	mkdir -p "$BATS_TEST_TMPDIR/evil"
	printf '#!/bin/sh\ntouch %s/ran\nexec /usr/bin/podman "$@"\n' "$BATS_TEST_TMPDIR" \
		>"$BATS_TEST_TMPDIR/evil/podman"
	chmod 755 "$BATS_TEST_TMPDIR/evil/podman"
	run env PATH="$BATS_TEST_TMPDIR/evil:$PATH" LD_PRELOAD=/nonexistent.so \
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q "podman://$NAME" -- true
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	# the control: the same PATH does run it for a shell's `podman`
	env PATH="$BATS_TEST_TMPDIR/evil:$PATH" sh -c 'podman --version' >/dev/null
	[ -e "$BATS_TEST_TMPDIR/ran" ]
	rm "$BATS_TEST_TMPDIR/ran"
	# what podman gets, as strace shows its exec: the binary by fd, a fixed environment
	# (no LD_PRELOAD, the storage configuration passed on), no fd of dhidebug's past 3
	run env LD_PRELOAD=/nonexistent.so strace -f -qq -v -s 512 -e trace=execve,execveat,close_range \
		-e signal=none -o "$BATS_TEST_TMPDIR/st" \
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q "podman://$NAME" -- true
	[ "$status" -eq 0 ]
	local exec
	exec=$(grep 'execveat(3, "", \["podman", "container", "inspect", "'"$NAME"'"\]' "$BATS_TEST_TMPDIR/st")
	echo "$exec"
	[[ "$exec" == *'"HOME=/root"'* ]]
	[[ "$exec" == *"\"CONTAINERS_STORAGE_CONF=$RT/storage.conf\""* ]]
	[[ "$exec" != *LD_PRELOAD* ]]
	grep -q 'close_range(4, 4294967295, 0)' "$BATS_TEST_TMPDIR/st"
	! grep -q 'execve("[^"]*podman"' "$BATS_TEST_TMPDIR/st"
}

# stopped_view: the stopped container $NAME opens in the union view, as when it runs
stopped_view()
{
	podman kill "$NAME" >/dev/null
	podman wait "$NAME" >/dev/null 2>&1 || true
	[ "$(podman inspect --format '{{.State.Status}}' "$NAME")" = exited ]
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" "podman://$NAME" -- ls /app /.dhi/usr/bin/ls
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"is not running: its files in fresh namespaces"* ]]
	[[ "$stderr" == *"view: union"* ]]
	[ "${lines[0]}" = /.dhi/usr/bin/ls ]
	[ "${lines[1]}" = /app ]
}

@test "podman without its service: a stopped container (overlay storage) opens in the union view from its layers" {
	stopped_view
}

@test "podman without its service: a stopped container in vfs storage opens through podman's own mount" {
	# a second private store, with the vfs driver, which has no overlay layers to use
	podman rm -f -t 0 "$NAME" >/dev/null
	cat >"$RT/storage-vfs.conf" <<-EOF
		[storage]
		driver = "vfs"
		graphroot = "$RT/vfs/root"
		runroot = "$RT/vfs/run"
	EOF
	export CONTAINERS_STORAGE_CONF=$RT/storage-vfs.conf
	podman image exists localhost/dhi-cli:test ||
		podman import --change 'ENTRYPOINT ["/app"]' "$RT/app.tar" localhost/dhi-cli:test >/dev/null
	podman run -d --name "$NAME" --network none localhost/dhi-cli:test /app /nonexistent/marker >/dev/null
	[ "$(podman inspect --format '{{.GraphDriver.Name}}' "$NAME")" = vfs ]
	stopped_view
	podman rm -f -t 0 "$NAME" >/dev/null
	podman rmi -f localhost/dhi-cli:test >/dev/null
}

@test "podman without its service: ls lists a stopped container too, with its files" {
	podman kill "$NAME" >/dev/null
	podman wait "$NAME" >/dev/null 2>&1 || true
	run "$DHIDEBUG" ls --json
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e --arg n "$NAME" '.[] | select(.runtime == "podman" and .name == $n) |
		.state == "exited" and .debuggable == false and .files == true' <<<"$output"
}

@test "podman without its service: image:// is served from podman's own images (podman image save), before any registry" {
	local cache=$BATS_TEST_TMPDIR/cache
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --toolbox-cache "$cache" \
		image://localhost/dhi-cli:test -- ls /target/app
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = /target/app ]
	[[ "$stderr" == *"\`localhost/dhi-cli:test\` from podman's images, cached as sha256:"* ]]
	run --separate-stderr "$DHIDEBUG" lint --toolbox-cache "$cache" image://localhost/dhi-cli:test
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"\`localhost/dhi-cli:test\` from podman's images is cached as sha256:"* ]]
}
