#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Finding containers in every runtime, against real ones: podman (through the Docker-compatible
# API socket that `podman system service` serves, as podman:// and as docker://), containerd
# with ctr, runc; and CRI-O's files (CRI-O itself cannot run here). Each runtime runs on
# storage of its own under this file's temp dir, so nothing of the host's is touched.

load helpers
load ctrd

# --- shared runtimes: started once per file ---------------------------------------------------

setup_file()
{
	RT=$BATS_FILE_TMPDIR
	export RT
	# podman: private storage, runc, cgroupfs, ulimits within this host's hard limits (crun
	# refuses this host's hybrid cgroup layout; runc works).
	containers_conf "$RT/containers.conf"
	export CONTAINERS_CONF=$RT/containers.conf
	export PSOCK=$RT/podman.sock
	# a static app with its own os-release: the image every runtime here runs
	mkdir -p "$RT/img/etc"
	cp "$BUILD/tests/app-static" "$RT/img/app"
	cp /usr/lib/os-release "$RT/img/etc/os-release"
	tar -C "$RT/img" -cf "$RT/app.tar" app etc
	if command -v podman >/dev/null; then
		podman_start_service >"$RT/podman-setup.log" 2>&1 || echo "podman setup failed" >>"$RT/podman-setup.log"
	fi
	if command -v containerd >/dev/null && command -v ctr >/dev/null; then
		containerd_start >"$RT/containerd-setup.log" 2>&1 || echo "containerd setup failed" >>"$RT/containerd-setup.log"
	fi
}

teardown_file()
{
	local pid m

	if [ -e "$RT/containerd.pid" ]; then
		ctrd_cleanup_all
		kill "$(cat "$RT/containerd.pid")" 2>/dev/null || true
		# the shim's runc root for our namespace, empty now
		rmdir "/run/containerd/runc/$CTRD_NS" 2>/dev/null || true
	fi
	if [ -e "$RT/podman.pid" ]; then
		pm rm -af -t 0 >/dev/null 2>&1 || true
		kill "$(cat "$RT/podman.pid")" 2>/dev/null || true
	fi
	for pid in $(cat "$RT"/*.fake.pid 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
	done
	# whatever is still mounted under our dir (podman's shm, containerd's rootfs) goes first
	for m in $(awk -v rt="$RT" 'index($5, rt) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
}

setup()
{
	RT=$BATS_FILE_TMPDIR
	export CONTAINERS_CONF=$RT/containers.conf PSOCK=$RT/podman.sock
	unset DOCKER_HOST CONTAINER_HOST
}

teardown()
{
	local n

	if [ -e "$BATS_TEST_TMPDIR/podman.names" ]; then
		while read -r n; do
			pm rm -f -t 0 "$n" >/dev/null 2>&1 || true
		done <"$BATS_TEST_TMPDIR/podman.names"
	fi
	if [ -e "$BATS_TEST_TMPDIR/ctrd.ids" ]; then
		while read -r n; do
			ctrd_rm "$n"
		done <"$BATS_TEST_TMPDIR/ctrd.ids"
	fi
	if [ -e "$BATS_TEST_TMPDIR/fake.pid" ]; then
		kill "$(cat "$BATS_TEST_TMPDIR/fake.pid")" 2>/dev/null || true
	fi
	container_rm
}

# --- podman ------------------------------------------------------------------------------

# (CONTAINER_HOST would make podman a remote client of its own service, without --root)
pm()
{
	env -u CONTAINER_HOST podman --root "$RT/pm/root" --runroot "$RT/pm/run" --storage-driver overlay "$@"
}

podman_start_service()
{
	local i

	pm import --change 'ENTRYPOINT ["/app"]' "$RT/app.tar" localhost/dhi-rt:test || return 1
	daemon "$RT/podman.pid" "$RT/podman-service.log" podman --root "$RT/pm/root" \
		--runroot "$RT/pm/run" --storage-driver overlay system service --time=0 "unix://$PSOCK"
	for i in $(seq 100); do
		curl -sf --unix-socket "$PSOCK" http://d/_ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "podman system service did not answer on $PSOCK"
	return 1
}

requires_podman()
{
	requires root podman
	[ -S "$PSOCK" ] || missing "podman's API service did not start here: $(tail -n 3 "$RT/podman-setup.log" "$RT/podman-service.log" 2>/dev/null | tr '\n' ' ')"
}

# podman_run NAME: a running shell-less container NAME from the test image. Sets PCID and PPID_.
podman_run()
{
	echo "$1" >>"$BATS_TEST_TMPDIR/podman.names"
	pm run -d --name "$1" --network none localhost/dhi-rt:test /app /nonexistent/marker \
		>"$BATS_TEST_TMPDIR/podman-run.log" 2>&1 || {
		cat "$BATS_TEST_TMPDIR/podman-run.log" >&2
		return 1
	}
	PCID=$(pm inspect --format '{{.Id}}' "$1")
	PPID_=$(pm inspect --format '{{.State.Pid}}' "$1")
	[ "$PPID_" -gt 0 ]
}

# --- helpers for one-line errors ------------------------------------------------------------

# run_err ARGS...: run dhidebug ARGS expecting a dhidebug error: status 125, nothing on
# stdout, exactly one line on stderr, starting with "dhidebug: ".
run_err()
{
	run --separate-stderr dhidebug "$@"
	echo "dhidebug $* -> status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "dhidebug: "* ]]
}

# fake_engine MODE: a misbehaving Docker API server; DOCKER_HOST points at it.
fake_engine()
{
	local sock=$BATS_TEST_TMPDIR/fake.sock i

	rm -f "$sock"
	daemon "$BATS_TEST_TMPDIR/fake.pid" "$BATS_TEST_TMPDIR/fake.out" \
		python3 "$BATS_TEST_DIRNAME/fake_engine.py" "$sock" "$1" "$BATS_TEST_TMPDIR/fake.log"
	for i in $(seq 50); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	[ -S "$sock" ]
	export DOCKER_HOST=unix://$sock
}

fake_engine_stop()
{
	kill "$(cat "$BATS_TEST_TMPDIR/fake.pid")" 2>/dev/null || true
	wait "$(cat "$BATS_TEST_TMPDIR/fake.pid")" 2>/dev/null || true
	rm -f "$BATS_TEST_TMPDIR/fake.pid"
}

# ls_json ARGS...: `dhidebug ls --json ARGS` into $LS (valid JSON, or the test fails).
ls_json()
{
	LS=$("$DHIDEBUG" ls --json "$@")
	echo "$LS" | jq -e 'type == "array"' >/dev/null
}

# --- podman ------------------------------------------------------------------------------

@test "podman: a named container is found through the API socket as podman://, docker:// and by bare name; a session works" {
	requires_podman
	requires toolbox
	local name=dhi-rt-$$-$BATS_TEST_NUMBER
	podman_run "$name"

	export CONTAINER_HOST=unix://$PSOCK
	run_dhi -c 'tr "\0" " " </proc/1/cmdline' "podman://$name"
	[ "$status" -eq 0 ]
	# the image's entrypoint, then the command
	[ "$output" = "/app /app /nonexistent/marker " ]

	unset CONTAINER_HOST
	export DOCKER_HOST=unix://$PSOCK
	run_dhi "docker://$name" -- hostname
	[ "$status" -eq 0 ]
	[ "$output" = "$(pm inspect --format '{{.Config.Hostname}}' "$name")" ]

	# both engines at the same socket and runc's own state: one process, so one container;
	# the first runtime of the table (docker) names it
	export CONTAINER_HOST=unix://$PSOCK
	run_dhi -c 'echo "$DHIDEBUG_TARGET"; ps -o pid=,comm= -p 1' "$name"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "docker://$PCID" ]
	[[ "${lines[1]}" == *" 1 app" || "${lines[1]}" == "1 app" ]]
	# and by full id, through podman alone
	unset DOCKER_HOST
	run_dhi "podman://$PCID" -- true
	[ "$status" -eq 0 ]
}

@test "podman: ls --json shows it with image, digest and pid, and lists what the docker CLI lists" {
	requires_podman
	requires docker-cli
	local name=dhi-rt-$$-$BATS_TEST_NUMBER e digest
	podman_run "$name"
	podman_run "$name-2"
	export DOCKER_HOST=unix://$PSOCK CONTAINER_HOST=unix://$PSOCK

	ls_json
	e=$(jq -c --arg id "$PCID" '.[] | select(.id == $id)' <<<"$LS")
	echo "entry: $e"
	[ "$(jq -r .runtime <<<"$e")" = docker ]
	[ "$(jq -r .name <<<"$e")" = "$name-2" ]
	[ "$(jq -r .image_ref <<<"$e")" = localhost/dhi-rt:test ]
	[ "$(jq -r .pid <<<"$e")" = "$PPID_" ]
	[ "$(jq -r .debuggable <<<"$e")" = true ]
	[ "$(jq -r .state <<<"$e")" = running ]
	[[ "$(jq -r .started <<<"$e")" == 20*Z ]]
	# the digest is the one the engine reports for the image (RepoDigests)
	digest=$(docker image inspect --format '{{index .RepoDigests 0}}' localhost/dhi-rt:test)
	[ "$(jq -r .image_digest <<<"$e")" = "${digest#*@}" ]

	# the docker CLI on the same socket sees exactly the engine's containers
	diff -u <(docker ps -q --no-trunc | sort) \
		<(jq -r '.[] | select(.runtime == "docker") | .id' <<<"$LS" | sort)
	# and the table form names both
	run "$DHIDEBUG" ls
	[ "$status" -eq 0 ]
	[[ "$output" == *"$name "* ]]
	[[ "$output" == *"$name-2 "* ]]
}

@test "podman: a paused container is refused with one line (125) and ls says why" {
	requires_podman
	local name=dhi-rt-$$-$BATS_TEST_NUMBER
	podman_run "$name"
	export CONTAINER_HOST=unix://$PSOCK

	pm pause "$name"
	run_err "podman://$name" -- true
	[[ "$stderr" == *"cannot be debugged: it is paused"* ]]
	ls_json
	[[ "$(jq -r --arg id "$PCID" '.[] | select(.id == $id) | .why_not' <<<"$LS")" == "it is paused"* ]]
	pm unpause "$name"
}

# stopped NAME: podman_run NAME with a configured env, user and working directory, then kill it.
podman_stopped()
{
	echo "$1" >>"$BATS_TEST_TMPDIR/podman.names"
	pm run -d --name "$1" --network none -e GREETING=hello -e LD_PRELOAD=/app -u 1000:1000 \
		-w /etc localhost/dhi-rt:test /app /nonexistent/marker >"$BATS_TEST_TMPDIR/podman-run.log" 2>&1 || {
		cat "$BATS_TEST_TMPDIR/podman-run.log" >&2
		return 1
	}
	pm kill "$1" >/dev/null
	pm wait "$1" >/dev/null 2>&1 || true
	[ "$(pm inspect --format '{{.State.Status}}' "$1")" = exited ]
}

# in_container NAME PATH: the file PATH of podman container NAME (stopped), as podman sees it;
# "absent" when podman says it has no such file (any other failure fails the test)
in_container()
{
	local out
	if out=$(pm cp "$1:$2" - 2>&1 | tar -xO 2>/dev/null) && [ -n "$out" ]; then
		echo "$out"
	elif pm cp "$1:$2" - 2>&1 | grep -q "no such file or directory"; then
		echo absent
	else
		echo "podman cp $1:$2 failed: $(pm cp "$1:$2" - 2>&1 | head -c 300)" >&2
		return 1
	fi
}

@test "stopped: a podman container whose process exited opens as podman:// and docker:// (its overlay layers); writes kept only with --write" {
	requires_podman
	local name=dhi-rt-$$-$BATS_TEST_NUMBER t
	podman_stopped "$name"
	export CONTAINER_HOST=unix://$PSOCK DOCKER_HOST=unix://$PSOCK

	for t in podman docker; do
		run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --profile sysadmin --user 0 "$t://$name" -- \
			sh -c "cat /proc/1/comm && ls /target/app && echo $t >/target/etc/from-$t"
		echo "$t: $status $output / $stderr"
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = dhi-image ]
		[ "${lines[1]}" = /target/app ]
		[[ "$stderr" == *"is not running: its files in fresh namespaces, writes discarded"* ]]
		[ "$(in_container "$name" "/etc/from-$t")" = absent ]

		run dhidebug -q --profile sysadmin --user 0 --write "$t://$name" -- \
			sh -c "echo $t >/target/etc/from-$t"
		[ "$status" -eq 0 ]
		[ "$(in_container "$name" "/etc/from-$t")" = "$t" ]
	done
	# podman's own mount is undone: nothing of ours stays mounted, and it starts again
	! grep -q "$RT/pm/.*merged" /proc/self/mountinfo || false
	pm start "$name" >/dev/null
	[ "$(pm inspect --format '{{.State.Status}}' "$name")" = running ]
}

@test "stopped: a podman container opens in the same views as a running one (union: its files over the toolbox), for podman:// and docker://" {
	requires_podman
	local name=dhi-rt-$$-$BATS_TEST_NUMBER t view
	podman_stopped "$name"
	export CONTAINER_HOST=unix://$PSOCK DOCKER_HOST=unix://$PSOCK

	for t in podman docker; do
		# auto: the image's os-release is the toolbox's release, so union, as when it runs
		run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --profile sysadmin --user 0 \
			"$t://$name" -- sh -c 'ls /app /.dhi/usr/bin/ls && echo x >/target/etc/written && cat /etc/written'
		echo "$t auto: $status $output / $stderr"
		[ "$status" -eq 0 ]
		[[ "$stderr" == *"view: union"* ]]
		[[ "$stderr" != *"cannot"* ]]
		[ "${lines[0]}" = /.dhi/usr/bin/ls ]
		[ "${lines[1]}" = /app ]
		[ "${lines[2]}" = x ]
		[ "$(in_container "$name" /etc/written)" = absent ]
		for view in union toolbox; do
			run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --view "$view" \
				"$t://$name" -- ls /target/app
			echo "$t $view: $status $output / $stderr"
			[ "$status" -eq 0 ]
			[ "$output" = /target/app ]
		done
	done
}

@test "created: a podman container that never started (its entrypoint is missing) opens from its files, and lint checks it" {
	requires_podman
	local name=dhi-rt-$$-$BATS_TEST_NUMBER t
	echo "$name" >>"$BATS_TEST_TMPDIR/podman.names"
	# what users bring to a debugger: a container that fails at start
	pm create --name "$name" --network none --entrypoint '["/bin/sh", "-c", "true"]' \
		localhost/dhi-rt:test >/dev/null
	pm start "$name" >/dev/null 2>&1 || true
	echo "state: $(pm inspect --format '{{.State.Status}}' "$name")"
	export CONTAINER_HOST=unix://$PSOCK DOCKER_HOST=unix://$PSOCK
	for t in podman docker; do
		run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" "$t://$name" -- ls /target/app /target/bin/sh
		echo "$t: $status $output / $stderr"
		[ "$status" -eq 2 ]
		[ "$output" = /target/app ]
		[[ "$stderr" == *"cannot access '/target/bin/sh'"* ]]
		[[ "$stderr" == *"is not running: its files in fresh namespaces"* ]]
		run "$DHIDEBUG" lint --json "$t://$name"
		echo "$output"
		[ "$status" -eq 1 ]
		jq -e '.checks[] | select(.check == "entrypoint" and .verdict == "fail") | .message | test("no `/bin/sh`")' <<<"$output"
	done
	# a container created and never started at all
	pm rm -f "$name" >/dev/null
	pm create --name "$name" --network none localhost/dhi-rt:test /app /nonexistent/marker >/dev/null
	[ "$(pm inspect --format '{{.State.Status}}' "$name")" = created ]
	run "$DHIDEBUG" --toolbox "$TOOLBOX" -q "podman://$name" -- ls /target/app
	[ "$status" -eq 0 ]
	[ "$output" = /target/app ]
}

@test "ls: stopped and created podman containers are listed too, with how each can be debugged (API socket, and as docker://)" {
	requires_podman
	local stopped=dhi-rt-$$-$BATS_TEST_NUMBER-s created=dhi-rt-$$-$BATS_TEST_NUMBER-c running=dhi-rt-$$-$BATS_TEST_NUMBER-r
	podman_stopped "$stopped"
	echo "$created" >>"$BATS_TEST_TMPDIR/podman.names"
	pm create --name "$created" --network none localhost/dhi-rt:test /app >/dev/null
	podman_run "$running"
	export CONTAINER_HOST=unix://$PSOCK DOCKER_HOST=unix://$PSOCK
	ls_json
	local t n
	echo "$LS" | jq -c '.[] | [.runtime, .name, .state]'
	# (a running container both sockets show is listed once, by its pid)
	jq -e --arg n "$running" '.[] | select(.name == $n) | .state == "running" and .debuggable' <<<"$LS"
	for t in podman docker; do
		jq -e --arg t "$t" --arg n "$stopped" '.[] | select(.runtime == $t and .name == $n) |
			.state == "exited" and .debuggable == false and .files == true' <<<"$LS"
		jq -e --arg t "$t" --arg n "$created" '.[] | select(.runtime == $t and .name == $n) |
			.state == "created" and .debuggable == false and .files == true' <<<"$LS"
	done
	run "$DHIDEBUG" ls
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$(grep -F " $stopped " <<<"$output" | head -1)" == *"its files: it is not running (exited)" ]]
	[[ "$(grep -F " $created " <<<"$output" | head -1)" == *"its files: it is not running (created)" ]]
	[[ "$(grep -F " $running " <<<"$output" | head -1)" == *" yes" ]]
}

@test "stopped: the session has the container's env (but not LD_PRELOAD), user and working directory" {
	requires_podman
	local name=dhi-rt-$$-$BATS_TEST_NUMBER
	podman_stopped "$name"
	export CONTAINER_HOST=unix://$PSOCK

	run dhidebug -q --profile sysadmin --view toolbox "podman://$name" -- \
		sh -c 'id -u; id -g; pwd; echo "$GREETING"; echo "${LD_PRELOAD-unset}"; echo "$PATH"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1000 ]
	[ "${lines[2]}" = /target/etc ]
	[ "${lines[3]}" = hello ]
	[ "${lines[4]}" = unset ]
	[ "${lines[5]}" = /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ]
	# --user wins over the container's
	run dhidebug -q --profile sysadmin --user 0 "podman://$name" -- id -u
	[ "$output" = 0 ]
}

@test "lint: a podman container is checked as the engine records it (inspect), not as /proc shows it" {
	requires_podman
	local name=dhi-rt-$$-$BATS_TEST_NUMBER
	echo "$name" >>"$BATS_TEST_TMPDIR/podman.names"
	pm run -d --name "$name" --network none -u 1000:1000 localhost/dhi-rt:test /app /nonexistent/marker >/dev/null
	export CONTAINER_HOST=unix://$PSOCK
	run "$DHIDEBUG" lint --json "podman://$name"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r .source <<<"$output")" = "the engine's container inspect" ]
	# /proc would say uid 1000; the engine keeps the configured user:group
	[ "$(jq -r '.checks[] | select(.check == "user") | .message' <<<"$output")" = 'runs as `1000:1000`' ]
	[ "$(jq -r '.checks[] | select(.check == "entrypoint") | .verdict' <<<"$output")" = pass ]
}

@test "podman: a name in two runtimes is ambiguous; an unknown name lists the runtimes searched" {
	requires_podman
	requires runc
	container_start static
	podman_run "$CID"
	export CONTAINER_HOST=unix://$PSOCK

	run_err "$CID" -- true
	[[ "$stderr" == *"\`$CID\` is ambiguous: podman://$PCID, runc://$CID"* ]]

	run_err "no-such-$$" -- true
	[[ "$stderr" == *"no container \`no-such-$$\` in any runtime (searched: podman, "*"runc"* ]]
	run_err "podman://no-such-$$" -- true
	[[ "$stderr" == *"no container \`no-such-$$\` in podman"* ]]
}

# --- Docker API errors --------------------------------------------------------------------

@test "docker://: a missing socket, a tcp:// or ssh:// DOCKER_HOST, a bad name are one-line errors (125)" {
	requires root
	export DOCKER_HOST=unix://$BATS_TEST_TMPDIR/none.sock
	run_err docker://web -- true
	[[ "$stderr" == *"cannot connect to docker at \`$BATS_TEST_TMPDIR/none.sock\`"* ]]
	export DOCKER_HOST=tcp://127.0.0.1:2375
	run_err docker://web -- true
	[[ "$stderr" == *"is not a local socket"*"tcp:// refused"* ]]
	export DOCKER_HOST=ssh://root@elsewhere
	run_err docker://web -- true
	[[ "$stderr" == *"ssh:// refused"* ]]
	unset DOCKER_HOST
	export CONTAINER_HOST=tcp://127.0.0.1:8080
	run_err podman://web -- true
	[[ "$stderr" == *"CONTAINER_HOST"* ]]
	run_err 'docker://../../etc' -- true
	[[ "$stderr" == *"invalid docker container name"* ]]
}

@test "docker://: a socket the user may not open is a one-line error in ls (125)" {
	requires root python3
	command -v setpriv >/dev/null || missing "needs setpriv (util-linux)"
	fake_engine badjson
	chmod 0600 "$BATS_TEST_TMPDIR/fake.sock"
	chmod 0755 "$BATS_TEST_TMPDIR"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		env DOCKER_HOST="$DOCKER_HOST" "$DHIDEBUG" ls --json
	echo "status $status, stdout: $output"
	echo "stderr: $stderr"
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"docker: cannot connect to \`$BATS_TEST_TMPDIR/fake.sock\`: Permission denied"* ]]
	# the rest is still listed, as valid JSON
	jq -e 'type == "array"' <<<"$output"
}

@test "docker://: an engine answering garbage, a redirect, an endless body, bad JSON or a foreign pid is a one-line error (125)" {
	requires root python3
	local mode want
	for mode in garbage redirect huge badjson liar; do
		fake_engine "$mode"
		case $mode in
		garbage) want="cannot talk to docker at" ;;
		redirect) want="with a redirect (not followed)" ;;
		huge) want="answered more than" ;;
		badjson) want="container inspect is not valid JSON" ;;
		liar) want="the pid was reused" ;;
		esac
		run_err docker://web -- true
		[[ "$stderr" == *"$want"* ]]
		fake_engine_stop
	done
}

# (how long the timeout takes is measured by bench/limits, not asserted here)
@test "docker://: an engine that never answers times out: one line (125)" {
	requires root python3
	fake_engine hang
	run_err docker://web -- true
	[[ "$stderr" == *"cannot talk to docker"*"timed out"* || "$stderr" == *"Timeout"* ]]
}

@test "docker://: an engine newer than API 1.41 is asked again in the version it names" {
	requires root python3
	fake_engine oldapi
	run_err docker://web -- true
	[[ "$stderr" == *"no container \`web\` in docker"* ]]
	cat "$BATS_TEST_TMPDIR/fake.log"
	grep -q '^GET /v1.41/containers/web/json ' "$BATS_TEST_TMPDIR/fake.log"
	grep -q '^GET /v1.44/containers/web/json ' "$BATS_TEST_TMPDIR/fake.log"
}

# --- containerd --------------------------------------------------------------------------

@test "containerd: a task in a non-default namespace is found as containerd://NS/ID, as containerd://ID and by bare ID; a session works" {
	requires_containerd
	requires toolbox
	local id=dhi-c-$$-$BATS_TEST_NUMBER
	ctrd_run "$id"

	run_dhi --containerd-root "$RT/ctrd/state" -c 'tr "\0" " " </proc/1/cmdline' \
		"containerd://$CTRD_NS/$id"
	[ "$status" -eq 0 ]
	[ "$output" = "/app /nonexistent/marker " ]
	# not in `default`: the one namespace that has it
	run_dhi --containerd-root "$RT/ctrd/state" "containerd://$id" -- true
	[ "$status" -eq 0 ]
	# bare: containerd's record and runc's (the shim's runc root) are one process
	run_dhi --containerd-root "$RT/ctrd/state" -c 'echo "$DHIDEBUG_TARGET"; cat /proc/1/comm' "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "containerd://$CTRD_NS/$id" ]
	[ "${lines[1]}" = app ]
	run_err --containerd-root "$RT/ctrd/state" "containerd://default/$id" -- true
	[[ "$stderr" == *"no container \`default/$id\` in containerd"* ]]
}

@test "containerd: the CRI annotations name the pod, namespace, container and image in ls" {
	requires_containerd
	local id=dhi-c-$$-$BATS_TEST_NUMBER e
	# the annotations containerd's CRI plugin writes (the plugin itself needs a kubelet)
	ctrd_run "$id" io.kubernetes.cri.container-type=container \
		io.kubernetes.cri.sandbox-name=web-7d4f io.kubernetes.cri.sandbox-namespace=shop \
		io.kubernetes.cri.container-name=web io.kubernetes.cri.image-name=localhost/dhi-rt:test

	ls_json --containerd-root "$RT/ctrd/state"
	e=$(jq -c --arg id "$CTRD_NS/$id" '.[] | select(.id == $id)' <<<"$LS")
	echo "entry: $e"
	[ "$(jq -r .runtime <<<"$e")" = containerd ]
	[ "$(jq -r .pod_name <<<"$e")" = web-7d4f ]
	[ "$(jq -r .pod_namespace <<<"$e")" = shop ]
	[ "$(jq -r .container_name <<<"$e")" = web ]
	[ "$(jq -r .name <<<"$e")" = web ]
	[ "$(jq -r .image_ref <<<"$e")" = localhost/dhi-rt:test ]
	[ "$(jq -r .pid <<<"$e")" = "$TPID" ]
	[ "$(jq -r .debuggable <<<"$e")" = true ]
	run "$DHIDEBUG" ls --containerd-root "$RT/ctrd/state"
	[[ "$output" == *"shop/web-7d4f/web"* ]]
}

@test "stopped: a containerd task whose process exited (not deleted) opens on its rootfs; writes kept only with --write" {
	requires_containerd
	local id=dhi-c-$$-$BATS_TEST_NUMBER i rootfs
	ctrd_run "$id"
	ctr_ task kill -s KILL "$id"
	for i in $(seq 50); do
		ctr_ task ls | grep -q "^$id .*STOPPED" && break
		sleep 0.1
	done
	rootfs=$RT/ctrd/state/io.containerd.runtime.v2.task/$CTRD_NS/$id/rootfs
	[ -e "$rootfs/app" ]
	# ls: not debuggable as a process, but its files are
	ls_json --containerd-root "$RT/ctrd/state"
	[ "$(jq -r --arg id "$CTRD_NS/$id" '.[] | select(.id == $id) | "\(.debuggable) \(.files)"' <<<"$LS")" = "false true" ]
	run "$DHIDEBUG" ls --containerd-root "$RT/ctrd/state"
	[[ "$output" == *"its files: its process"*"has exited"* ]]
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --containerd-root "$RT/ctrd/state" --profile sysadmin \
		"containerd://$CTRD_NS/$id" -- sh -c 'cat /proc/1/comm; echo x >/target/written'
	echo "$status $output / $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = dhi-image ]
	[[ "$stderr" == *"containerd://$CTRD_NS/$id\` is not running"* ]]
	[ ! -e "$rootfs/written" ]
	run dhidebug -q --containerd-root "$RT/ctrd/state" --profile sysadmin --write \
		"containerd://$CTRD_NS/$id" -- sh -c 'echo kept >/target/written'
	[ "$status" -eq 0 ]
	[ "$(cat "$rootfs/written")" = kept ]
}

# --- runc, and ls across every runtime ---------------------------------------------------------

@test "runc: found by id and by bare id" {
	requires root runc toolbox
	container_start static
	run_dhi "runc://$CID" -- cat /proc/1/comm
	[ "$status" -eq 0 ]
	[ "$output" = app ]
	run_dhi "$CID" -- cat /proc/1/comm
	[ "$status" -eq 0 ]
	[ "$output" = app ]
}

# CRI-O cannot run here (no crio package in Debian 12). crio_layout writes the files CRI-O keeps
# for a container, where and as CRI-O writes them (internal/oci: ContainerState in
# <root>/<driver>-containers/<id>/userdata/state.json, the OCI bundle with config.json and
# conmon's pidfile in <runroot>/<driver>-containers/<id>/userdata), for a real process.
# crio_layout ID PID START STATUS [TYPE [MANAGER]]: under $BATS_TEST_TMPDIR/crio/{lib,run}.
crio_layout()
{
	local id=$1 pid=$2 start=$3 status=$4 type=${5:-container} manager=${6:-cri-o}
	local lib=$BATS_TEST_TMPDIR/crio/lib/overlay-containers/$id/userdata
	local run=$BATS_TEST_TMPDIR/crio/run/overlay-containers/$id/userdata

	mkdir -p "$lib" "$run"
	jq -n --arg id "$id" --argjson pid "$pid" --arg start "$start" --arg status "$status" \
		--arg bundle "$run" '{ociVersion: "1.0.2", id: $id, status: $status, pid: $pid,
		bundle: $bundle, annotations: {}, created: "2024-05-01T10:00:00Z",
		started: "2024-05-01T10:00:01Z", finished: "0001-01-01T00:00:00Z",
		initPid: $pid} + (if $start == "" then {} else {initStartTime: $start} end)' \
		>"$lib/state.json"
	jq -n --arg id "$id" --arg type "$type" --arg manager "$manager" '{ociVersion: "1.0.2",
		process: {args: ["/app"]}, root: {path: "rootfs"}, annotations: {
		"io.container.manager": $manager,
		"io.kubernetes.cri-o.ContainerID": $id,
		"io.kubernetes.cri-o.ContainerType": $type,
		"io.kubernetes.cri-o.ContainerName": "k8s_api_api-5c6b_payments_0f4e_0",
		"io.kubernetes.cri-o.ImageName": "registry.example/payments/api:1.4",
		"io.kubernetes.cri-o.ImageRef": "registry.example/payments/api@sha256:\("c" * 64)",
		"io.kubernetes.pod.name": "api-5c6b",
		"io.kubernetes.pod.namespace": "payments",
		"io.kubernetes.container.name": "api"}}' >"$run/config.json"
	echo "$pid" >"$run/pidfile"
}

@test "crio (files as CRI-O writes them; CRI-O cannot run here): found by id, pod shown, a session works" {
	requires root runc toolbox
	local id e start
	container_start static
	id=$(printf '%064d' "$$")
	start=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$CPID/stat")
	crio_layout "$id" "$CPID" "$start" running
	# the pod's sandbox (pause) and a podman container in the same storage are not listed
	crio_layout "$(printf 'b%063d' "$$")" "$CPID" "$start" running sandbox
	crio_layout "$(printf 'c%063d' "$$")" "$CPID" "$start" running container libpod

	run_dhi --crio-root "$BATS_TEST_TMPDIR/crio/lib" "crio://$id" -- cat /proc/1/comm
	[ "$status" -eq 0 ]
	[ "$output" = app ]
	ls_json --crio-root "$BATS_TEST_TMPDIR/crio/lib"
	[ "$(jq '[.[] | select(.runtime == "crio")] | length' <<<"$LS")" -eq 1 ]
	e=$(jq -c '.[] | select(.runtime == "crio")' <<<"$LS")
	echo "entry: $e"
	[ "$(jq -r .id <<<"$e")" = "$id" ]
	[ "$(jq -r .pod_name <<<"$e")" = api-5c6b ]
	[ "$(jq -r .pod_namespace <<<"$e")" = payments ]
	[ "$(jq -r .name <<<"$e")" = api ]
	[ "$(jq -r .image_ref <<<"$e")" = registry.example/payments/api:1.4 ]
	[ "$(jq -r .image_digest <<<"$e")" = "sha256:$(printf 'c%.0s' $(seq 64))" ]
	[ "$(jq -r .pid <<<"$e")" = "$CPID" ]
	[ "$(jq -r .debuggable <<<"$e")" = true ]
}

@test "crio (files as CRI-O writes them): a reused pid, a stopped container and a bad state file are refused (125)" {
	requires root
	local id lib
	id=$(printf '%064d' "$$")
	lib=$BATS_TEST_TMPDIR/crio/lib
	# no initStartTime (older CRI-O): the pid file's time bounds the process's start. A process
	# started after it holds the pid now: not the container's.
	daemon "$BATS_TEST_TMPDIR/sleep.pid" /dev/null sleep 300
	cat "$BATS_TEST_TMPDIR/sleep.pid" >>"$BATS_TEST_TMPDIR/bg.pids"
	crio_layout "$id" "$(cat "$BATS_TEST_TMPDIR/sleep.pid")" "" running
	touch -d '1 hour ago' "$BATS_TEST_TMPDIR/crio/run/overlay-containers/$id/userdata/pidfile"
	run_err --crio-root "$lib" "crio://$id" -- true
	[[ "$stderr" == *"the pid was reused"* ]]

	crio_layout "$id" "$(cat "$BATS_TEST_TMPDIR/sleep.pid")" "" stopped
	run_err --crio-root "$lib" "crio://$id" -- true
	[[ "$stderr" == *"is not running (stopped)"* ]]

	echo '{"status": "running", "initPid": "12"' >"$lib/overlay-containers/$id/userdata/state.json"
	run_err --crio-root "$lib" "crio://$id" -- true
	[[ "$stderr" == *"state.json is not valid JSON"* ]]
}

@test "ls --json: valid JSON with every field, for every runtime at once" {
	requires root runc
	requires_podman
	requires_containerd
	local id=dhi-c-$$-$BATS_TEST_NUMBER crio_id start rts
	container_start static
	podman_run "dhi-rt-$$-$BATS_TEST_NUMBER"
	ctrd_run "$id"
	crio_id=$(printf '%064d' "$$")
	start=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$CPID/stat")
	# CRI-O's files for a second view of the runc container's process
	crio_layout "$crio_id" "$CPID" "$start" running
	export CONTAINER_HOST=unix://$PSOCK

	ls_json --containerd-root "$RT/ctrd/state" --crio-root "$BATS_TEST_TMPDIR/crio/lib"
	jq -e 'all(.[]; has("runtime") and has("id") and has("name") and has("target")
		and has("image_ref") and has("image_digest") and has("pid") and has("started")
		and has("state") and has("debuggable") and has("why_not"))' <<<"$LS"
	rts=$(jq -r '[.[].runtime] | unique | join(" ")' <<<"$LS")
	echo "runtimes: $rts"
	[[ " $rts " == *" podman "* ]]
	[[ " $rts " == *" containerd "* ]]
	[[ " $rts " == *" crio "* ]]
	# one process, one entry: the runc container is shown once, through CRI-O (first)
	[ "$(jq --argjson p "$CPID" '[.[] | select(.pid == $p)] | length' <<<"$LS")" -eq 1 ]
	[ "$(jq -r --argjson p "$TPID" '.[] | select(.pid == $p) | .target' <<<"$LS")" = "containerd://$CTRD_NS/$id" ]
	[ "$(jq -r --argjson p "$PPID_" '.[] | select(.pid == $p) | .runtime' <<<"$LS")" = podman ]
	# and runc is listed when nothing above it knows the container
	container_rm
	container_start static
	ls_json
	[ "$(jq -r --arg id "$CID" '.[] | select(.id == $id) | .runtime' <<<"$LS")" = runc ]
}

@test "--help and the man page name the same targets and options" {
	local man=$BATS_TEST_DIRNAME/../../docs/dhidebug.1.md
	diff -u <("$DHIDEBUG" --help | grep -oE '[a-z]+://' | sort -u) \
		<(grep -oE '`[a-z]+://' "$man" | tr -d '`' | grep -vE '^(tcp|ssh)://$' | sort -u)
	# (--root is runc's, named to explain --runtime-root)
	diff -u <("$DHIDEBUG" --help | grep -oE -- '--[a-z][a-z-]+' | grep -vx -- --root | sort -u) \
		<(grep -oE -- '\*\*--[a-z][a-z-]+\*\*' "$man" | tr -d '*' | sort -u)
}
