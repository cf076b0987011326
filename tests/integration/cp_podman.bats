#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# cp_podman.bats: `dhidebug cp` (docs/cp.md) with a podman container (no API service, a
# private store, as podman_cli.bats runs it): out, in, a running container's overlay root and a
# stopped one's files through podman's mount, each copy a session that verifies.

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
	mkdir -p "$RT/img/etc" "$RT/img/data/sub"
	cp "$BUILD/tests/app-static" "$RT/img/app"
	cp /usr/lib/os-release "$RT/img/etc/os-release"
	printf 'in-the-image\n' >"$RT/img/data/a.txt"
	printf 'deeper\n' >"$RT/img/data/sub/b.txt"
	ln -s /etc/shadow "$RT/img/data/abs"
	tar -C "$RT/img" -cf "$RT/app.tar" app etc data
	command -v podman >/dev/null || return 0
	env -u CONTAINER_HOST podman import --change 'ENTRYPOINT ["/app"]' "$RT/app.tar" \
		localhost/dhi-cp:test >"$RT/setup.log" 2>&1 || true
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
	NAME=dhi-cp-$$-$BATS_TEST_NUMBER
	podman run -d --name "$NAME" --network none localhost/dhi-cp:test /app /data/from-app \
		>"$BATS_TEST_TMPDIR/run.log" 2>&1 || {
		cat "$BATS_TEST_TMPDIR/run.log" "$RT/setup.log" >&2
		return 1
	}
	SDIR=$BATS_TEST_TMPDIR/sessions
	mkdir -m 0700 "$SDIR"
	OUT=$BATS_TEST_TMPDIR/out
	mkdir "$OUT"
}

teardown()
{
	podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
}

dcp()
{
	"$DHIDEBUG" cp --sessions-dir "$SDIR" "$@" </dev/null
}

@test "cp podman: a directory out of a running podman container, links as links, a session that verifies" {
	run --separate-stderr dcp "podman://$NAME:/data" "$OUT/data"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/data/a.txt")" = in-the-image ]
	[ "$(cat "$OUT/data/sub/b.txt")" = deeper ]
	[ "$(readlink "$OUT/data/abs")" = /etc/shadow ]
	sid=$(ls "$SDIR")
	run "$DHIDEBUG" sessions verify --dir "$SDIR" "$sid"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "session.start") | .target.runtime' "$SDIR/$sid/audit.jsonl")" = podman ]
	[ "$(jq -r 'select(.type == "copy.file" and .path == "/data/a.txt") | .sha256' "$SDIR/$sid/audit.jsonl")" = "$(printf 'in-the-image\n' | sha256sum | cut -d' ' -f1)" ]
}

@test "cp podman: a file into the running container lands in its root, as podman mounts it" {
	printf 'from-the-host\n' >"$BATS_TEST_TMPDIR/x"
	run --separate-stderr dcp "$BATS_TEST_TMPDIR/x" "podman://$NAME:/data/x"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	# what podman itself sees in the container's root
	mnt=$(podman mount "$NAME")
	[ "$(cat "$mnt/data/x")" = from-the-host ]
	podman umount "$NAME" >/dev/null
	# and a file the container's process writes (on SIGUSR1) is read back
	podman kill -s USR1 "$NAME" >/dev/null
	for i in $(seq 50); do
		run --separate-stderr dcp --no-record -f "podman://$NAME:/data/from-app" "$OUT/from-app"
		[ "$status" -eq 0 ] && break
		sleep 0.1
	done
	[ "$(cat "$OUT/from-app")" = "written by app" ]
}

@test "cp podman: a stopped podman container's files, out and in, through podman's mount" {
	podman stop -t 0 "$NAME" >/dev/null
	run --separate-stderr dcp "podman://$NAME:/data/a.txt" "$OUT/a.txt"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/a.txt")" = in-the-image ]
	[ "$(jq -r 'select(.type == "session.start") | .target.state' "$SDIR"/*/audit.jsonl)" = stopped ]
	# into its writable layer: there when podman mounts it, and when it starts again
	printf 'into-stopped\n' >"$BATS_TEST_TMPDIR/x"
	run --separate-stderr dcp --no-record "$BATS_TEST_TMPDIR/x" "podman://$NAME:/data/x"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	mnt=$(podman mount "$NAME")
	[ "$(cat "$mnt/data/x")" = into-stopped ]
	podman umount "$NAME" >/dev/null
}
