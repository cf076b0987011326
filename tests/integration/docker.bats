#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# docker.bats: a real Docker Engine (Debian's docker.io), started by the tests on a private
# socket, data root and exec root, with no iptables, masquerading or bridge (issue 16: what
# users bring). Images come from `docker import`. docker://NAME, the bare name, ls, stopped
# and created containers, lint and port-forward, against the engine itself, not a copy of
# its API.

load helpers
load dockerd

setup_file()
{
	DK=$BATS_FILE_TMPDIR
	export DK
	command -v dockerd >/dev/null || return 0
	mkdir -p "$DK/img/etc"
	cp "$BUILD/tests/app-static" "$DK/img/app"
	# the host's os-release: the toolbox's release, so the union view, as for most images
	cp /usr/lib/os-release "$DK/img/etc/os-release"
	tar -C "$DK/img" -cf "$DK/app.tar" app etc
	dockerd_start "$DK" || return 0
	dk import --change 'ENTRYPOINT ["/app"]' "$DK/app.tar" localhost/dhi-dk:1.0 \
		>"$DK/import.log" 2>&1 || true
}

teardown_file()
{
	dockerd_stop "$DK"
}

setup()
{
	requires root runc toolbox
	command -v dockerd >/dev/null || missing "needs dockerd (docker.io)"
	dockerd_ping ||
		missing "dockerd did not start here: $(tail -n 3 "$DK/dockerd.log" 2>/dev/null | tr '\n' ' ')"
	dk image inspect localhost/dhi-dk:1.0 >/dev/null 2>&1 ||
		missing "docker import failed: $(cat "$DK/import.log")"
	export DOCKER_HOST=unix://$DKSOCK
	unset CONTAINER_HOST
	NAME=dhi-dk-$$-$BATS_TEST_NUMBER
}

teardown()
{
	dk rm -f -v "$NAME" "$NAME-2" >/dev/null 2>&1 || true
	dk volume rm -f "$NAME-vol" >/dev/null 2>&1 || true
	container_rm
}

# run_web [NAME]: a running shell-less container from the test image, no network but lo
run_web()
{
	dk run -d --name "${1:-$NAME}" --network none localhost/dhi-dk:1.0 /nonexistent/marker >/dev/null
	[ "$(dk inspect --format '{{.State.Running}}' "${1:-$NAME}")" = true ]
}

# in_docker NAME PATH: PATH's content in container NAME as docker cp sees it ("absent" if none)
in_docker()
{
	local out
	if out=$(dk cp "$1:$2" - 2>/dev/null | tar -xO 2>/dev/null) && [ -n "$out" ]; then
		echo "$out"
	else
		echo absent
	fi
}

@test "docker: a container found by docker://NAME, by id and by bare name; the session is in its namespaces" {
	run_web
	local pid id
	pid=$(dk inspect --format '{{.State.Pid}}' "$NAME")
	id=$(dk inspect --format '{{.Id}}' "$NAME")
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" "docker://$NAME" -- readlink /proc/self/ns/pid
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$(readlink "/proc/$pid/ns/pid")" ]
	[[ "$stderr" == *"view: union"* ]]
	run dhidebug "docker://$id" -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[ "$output" = "/app/nonexistent/marker" ]
	run dhidebug "$NAME" -- readlink /proc/self/ns/net
	[ "$status" -eq 0 ]
	[ "$output" = "$(readlink "/proc/$pid/ns/net")" ]
	# the image's files are the container's: its app at /, the toolbox's programs under /.dhi
	run dhidebug "docker://$NAME" -- ls /app /.dhi/usr/bin/ls
	[ "$status" -eq 0 ]
}

@test "docker: ls and ls --json show running, stopped and created containers as docker ps -a does" {
	run_web
	dk run -d --name "$NAME-2" --network none localhost/dhi-dk:1.0 /nonexistent/marker >/dev/null
	dk kill "$NAME-2" >/dev/null
	dk wait "$NAME-2" >/dev/null || true
	local created=$NAME-c
	dk create --name "$created" --network none localhost/dhi-dk:1.0 >/dev/null
	run "$DHIDEBUG" ls --json
	dk rm -f "$created" >/dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e --arg n "$NAME" --arg id "$(dk inspect --format '{{.Id}}' "$NAME")" \
		--arg pid "$(dk inspect --format '{{.State.Pid}}' "$NAME")" '.[] |
		select(.runtime == "docker" and .name == $n) | .id == $id and .pid == ($pid | tonumber)
		and .state == "running" and .debuggable and .image_ref == "localhost/dhi-dk:1.0"
		and (.image_digest | startswith("sha256:"))' <<<"$output"
	jq -e --arg n "$NAME-2" '.[] | select(.runtime == "docker" and .name == $n) |
		.state == "exited" and (.debuggable | not) and .files' <<<"$output"
	jq -e --arg n "$created" '.[] | select(.runtime == "docker" and .name == $n) |
		.state == "created" and (.debuggable | not) and .files' <<<"$output"
	run "$DHIDEBUG" ls
	[ "$status" -eq 0 ]
	[[ "$(grep -F " $NAME " <<<"$output")" == *" yes" ]]
	[[ "$(grep -F " $NAME-2 " <<<"$output")" == *"its files: it is not running (exited)" ]]
}

@test "docker: a stopped container opens on its layers in the union view; writes under /target are discarded unless --write" {
	run_web
	dk stop -t 0 "$NAME" >/dev/null
	[ "$(dk inspect --format '{{.State.Status}}' "$NAME")" = exited ]
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --profile sysadmin --user 0 \
		"docker://$NAME" -- sh -c 'ls /app && echo gone >/target/etc/note'
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = /app ]
	[[ "$stderr" == *"is not running: its files in fresh namespaces, writes discarded"* ]]
	[[ "$stderr" == *"view: union"* ]]
	[ "$(in_docker "$NAME" /etc/note)" = absent ]
	run dhidebug --profile sysadmin --user 0 --write "docker://$NAME" -- \
		sh -c 'echo kept >/target/etc/note'
	[ "$status" -eq 0 ]
	[ "$(in_docker "$NAME" /etc/note)" = kept ]
	# and the engine starts it again
	dk start "$NAME" >/dev/null
	[ "$(dk inspect --format '{{.State.Running}}' "$NAME")" = true ]
}

@test "docker: a stopped container's volume is in its session's view: read-only, written with --write" {
	dk volume create "$NAME-vol" >/dev/null
	dk run -d --name "$NAME" --network none -v "$NAME-vol:/vol" localhost/dhi-dk:1.0 \
		/nonexistent/marker >/dev/null
	printf 'in-the-volume\n' >"$BATS_TEST_TMPDIR/v"
	dk cp "$BATS_TEST_TMPDIR/v" "$NAME:/vol/v"
	dk stop -t 0 "$NAME" >/dev/null
	local vol
	vol=$(dk volume inspect --format '{{.Mountpoint}}' "$NAME-vol")
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --profile sysadmin --user 0 \
		"docker://$NAME" -- sh -c 'cat /target/vol/v; echo x >/target/vol/w'
	echo "$output / $stderr"
	dk rm -f "$NAME" >/dev/null
	[ "$output" = in-the-volume ]
	[[ "$stderr" == *"Read-only file system"* ]]
	[ ! -e "$vol/w" ]
	dk run -d --name "$NAME" --network none -v "$NAME-vol:/vol" localhost/dhi-dk:1.0 \
		/nonexistent/marker >/dev/null
	dk stop -t 0 "$NAME" >/dev/null
	run dhidebug --profile sysadmin --user 0 --write "docker://$NAME" -- sh -c 'echo kept >/target/vol/w'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$vol/w")" = kept ]
	# in the volume, not in the layer under its mount point
	[ -z "$(dk diff "$NAME" | grep /vol/w)" ]
}

@test "docker: a created container that fails at start opens from its files, and lint names why it fails" {
	dk create --name "$NAME" --network none --entrypoint /bin/sh localhost/dhi-dk:1.0 -c true >/dev/null
	dk start "$NAME" >/dev/null 2>&1 || true
	echo "state: $(dk inspect --format '{{.State.Status}}' "$NAME")"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" "docker://$NAME" -- ls /target/app
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = /target/app ]
	run "$DHIDEBUG" lint --json "docker://$NAME"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(jq -r .source <<<"$output")" = "the engine's container inspect" ]
	jq -e '.checks[] | select(.check == "entrypoint") | .verdict == "fail" and
		(.message | test("/bin/sh"))' <<<"$output"
}

@test "docker: lint of a running container reads the engine's record of it" {
	dk run -d --name "$NAME" --network none -u 1000:1000 localhost/dhi-dk:1.0 /nonexistent/marker >/dev/null
	run "$DHIDEBUG" lint --json "docker://$NAME"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r .source <<<"$output")" = "the engine's container inspect" ]
	[ "$(jq -r '.checks[] | select(.check == "user") | .verdict' <<<"$output")" = pass ]
	[ "$(jq -r '.checks[] | select(.check == "entrypoint") | .verdict' <<<"$output")" = pass ]
}

@test "docker: port-forward reaches a server that listens only in the container's loopback" {
	requires python3
	run_web
	local pid rport lport i
	pid=$(dk inspect --format '{{.State.Pid}}' "$NAME")
	rport=$(free_port)
	lport=$(free_port)
	mkdir -p "$BATS_TEST_TMPDIR/www"
	echo "from the container" >"$BATS_TEST_TMPDIR/www/index.html"
	(cd "$BATS_TEST_TMPDIR/www" && exec nsenter --net="/proc/$pid/ns/net" python3 -m http.server \
		--bind 127.0.0.1 "$rport") </dev/null >"$BATS_TEST_TMPDIR/http.log" 2>&1 3>&- &
	echo "$!" >>"$BATS_TEST_TMPDIR/bg.pids"
	for i in $(seq 50); do
		nsenter --net="/proc/$pid/ns/net" curl -sf "http://127.0.0.1:$rport/" >/dev/null && break
		sleep 0.1
	done
	("$DHIDEBUG" port-forward "docker://$NAME" "$lport:$rport") </dev/null \
		>"$BATS_TEST_TMPDIR/fwd.log" 2>&1 3>&- &
	echo "$!" >>"$BATS_TEST_TMPDIR/bg.pids"
	for i in $(seq 50); do
		grep -q forwarding "$BATS_TEST_TMPDIR/fwd.log" && break
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/fwd.log"
	run curl -sf "http://127.0.0.1:$lport/"
	[ "$status" -eq 0 ]
	[ "$output" = "from the container" ]
	# not on the host's loopback without the forward
	run curl -sf "http://127.0.0.1:$rport/"
	[ "$status" -ne 0 ]
}

@test "docker: the container killed during a session ends it with one line, as for any runtime" {
	run_web
	dhidebug_bg "$BATS_TEST_TMPDIR/out" "docker://$NAME" -- sleep 100
	CPID=$(dk inspect --format '{{.State.Pid}}' "$NAME")
	wait_for_session
	dk kill "$NAME" >/dev/null
	wait_pid_exit "$DHI_PID" 10
	cat "$BATS_TEST_TMPDIR/out"
	[ "$WAIT_STATUS" -eq 137 ]
	grep -qF "dhidebug: container \`docker://$NAME\` exited; the session ended" "$BATS_TEST_TMPDIR/out"
}

@test "docker: image:// and --toolbox REF are served from the engine's own images before any registry, and say so" {
	local cache=$BATS_TEST_TMPDIR/cache
	# no registry answers for localhost: only the engine can have these
	run --separate-stderr "$DHIDEBUG" lint --toolbox-cache "$cache" --json image://localhost/dhi-dk:1.0
	echo "$output / $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"\`localhost/dhi-dk:1.0\` from the Docker Engine's images, cached as sha256:"* ]]
	[ "$(jq -r '.checks[] | select(.check == "user") | .verdict' <<<"$output")" = fail ]
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --toolbox-cache "$cache" \
		image://localhost/dhi-dk:1.0 -- ls /target/app
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = /target/app ]
	# exported once: the engine still has that image id, so its entry serves it
	[[ "$stderr" == *"\`localhost/dhi-dk:1.0\` from the Docker Engine's images is cached as sha256:"* ]]
	# the toolbox too: the busybox toolbox as an image of the engine's
	tar -C "$BUILD/toolbox/busybox" -cf "$BATS_TEST_TMPDIR/tools.tar" .
	dk import "$BATS_TEST_TMPDIR/tools.tar" localhost/dhi-dk-tools:1 >/dev/null
	run_web
	run --separate-stderr "$DHIDEBUG" --toolbox localhost/dhi-dk-tools:1 --toolbox-cache "$cache" \
		--view toolbox "docker://$NAME" -- busybox echo from-the-engine
	echo "$output / $stderr"
	dk rmi localhost/dhi-dk-tools:1 >/dev/null
	[ "$status" -eq 0 ]
	[ "$output" = from-the-engine ]
	[[ "$stderr" == *"\`localhost/dhi-dk-tools:1\` from the Docker Engine's images"* ]]
	# an image no engine has still goes to its registry (none listens here)
	run --separate-stderr "$DHIDEBUG" lint --toolbox-cache "$cache" image://localhost/dhi-none:1
	echo "$output / $stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"cannot pull \`localhost/dhi-none:1\`"* ]]
}
