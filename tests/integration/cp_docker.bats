#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# cp_docker.bats: `dhidebug cp` (docs/cp.md) with a real Docker Engine (Debian's docker.io,
# started as docker.bats starts it: tests/integration/dockerd.bash). Out of and into running,
# stopped and created containers of a shell-less image, volumes included; what arrives is
# checked with the engine's own `docker cp`, and each copy is a session that verifies.

load helpers
load dockerd

setup_file()
{
	DK=$BATS_FILE_TMPDIR
	export DK
	command -v dockerd >/dev/null || return 0
	mkdir -p "$DK/img/etc" "$DK/img/data/sub"
	cp "$BUILD/tests/app-static" "$DK/img/app"
	cp /usr/lib/os-release "$DK/img/etc/os-release"
	printf 'in-the-image\n' >"$DK/img/data/a.txt"
	printf 'deeper\n' >"$DK/img/data/sub/b.txt"
	printf 'secret\n' >"$DK/img/data/mode640"
	chmod 0640 "$DK/img/data/mode640"
	ln -s /etc/shadow "$DK/img/data/abs"
	tar -C "$DK/img" --owner=65532 --group=65532 -cf "$DK/app.tar" data
	tar -C "$DK/img" --owner=0 --group=0 -rf "$DK/app.tar" app etc
	dockerd_start "$DK" || return 0
	dk import --change 'ENTRYPOINT ["/app"]' "$DK/app.tar" localhost/dhi-cpdk:1 \
		>"$DK/import.log" 2>&1 || true
}

teardown_file()
{
	dockerd_stop "$DK"
}

setup()
{
	requires root
	command -v dockerd >/dev/null || missing "needs dockerd (docker.io)"
	dockerd_ping ||
		missing "dockerd did not start here: $(tail -n 3 "$DK/dockerd.log" 2>/dev/null | tr '\n' ' ')"
	dk image inspect localhost/dhi-cpdk:1 >/dev/null 2>&1 ||
		missing "docker import failed: $(cat "$DK/import.log")"
	export DOCKER_HOST=unix://$DKSOCK
	unset CONTAINER_HOST
	NAME=dhi-cpdk-$$-$BATS_TEST_NUMBER
	SDIR=$BATS_TEST_TMPDIR/sessions
	mkdir -m 0700 "$SDIR"
	OUT=$BATS_TEST_TMPDIR/out
	mkdir "$OUT"
}

teardown()
{
	dk rm -f -v "$NAME" "$NAME-2" >/dev/null 2>&1 || true
	dk volume rm -f "$NAME-vol" >/dev/null 2>&1 || true
}

# run_app [ARGS...]: a running container of the shell-less image, no network but lo
run_app()
{
	dk run -d --name "$NAME" --network none "$@" localhost/dhi-cpdk:1 /data/from-app >/dev/null
	[ "$(dk inspect --format '{{.State.Running}}' "$NAME")" = true ]
}

dcp()
{
	"$DHIDEBUG" cp --sessions-dir "$SDIR" "$@" </dev/null
}

# in_docker PATH: PATH's content in the container as the engine's docker cp sees it
in_docker()
{
	dk cp "$NAME:$1" - | tar -xO
}

# the only session, verified; prints its id
verified_session()
{
	local sid

	sid=$(ls "$SDIR")
	[ "$(wc -w <<<"$sid")" -eq 1 ]
	"$DHIDEBUG" sessions verify --dir "$SDIR" "$sid" >&2
	echo "$sid"
}

@test "cp docker: a directory out of a running container, as docker cp copies it, a session that verifies" {
	run_app
	run --separate-stderr dcp -a "docker://$NAME:/data" "$OUT/mine"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	dk cp -a "$NAME:/data" "$OUT/theirs"
	# the same tree: names, types, contents, link targets and modes (docker cp gives the
	# files to the copier; -a keeps the container's owner)
	diff -r --no-dereference "$OUT/theirs" "$OUT/mine"
	(cd "$OUT/theirs" && find . -printf '%p %y %m %l\n' | sort) >"$OUT/theirs.ls"
	(cd "$OUT/mine" && find . -printf '%p %y %m %l\n' | sort) >"$OUT/mine.ls"
	diff "$OUT/theirs.ls" "$OUT/mine.ls"
	grep -qx './mode640 f 640 ' "$OUT/mine.ls"
	grep -qx './abs l 777 /etc/shadow' "$OUT/mine.ls"
	[ "$(find "$OUT/mine" ! -user 65532 -o ! -group 65532 | wc -l)" -eq 0 ]
	sid=$(verified_session)
	audit=$SDIR/$sid/audit.jsonl
	[ "$(jq -r 'select(.type == "session.start") | "\(.kind) \(.target.runtime) \(.target.name) \(.target.state)"' "$audit")" = "copy docker $NAME running" ]
	[ "$(jq -r 'select(.type == "session.start") | .target.image_digest | startswith("sha256:")' "$audit")" = true ]
	[ "$(jq -r 'select(.type == "copy.file" and .path == "/data/sub/b.txt") | .sha256' "$audit")" = "$(printf 'deeper\n' | sha256sum | cut -d' ' -f1)" ]
}

@test "cp docker: a file and a directory into a running container, where docker cp finds them" {
	run_app
	printf 'from-the-host\n' >"$BATS_TEST_TMPDIR/x"
	mkdir -p "$BATS_TEST_TMPDIR/tree/d"
	printf 'nested\n' >"$BATS_TEST_TMPDIR/tree/d/n"
	chown -R 1234:1234 "$BATS_TEST_TMPDIR/tree"
	run --separate-stderr dcp "$BATS_TEST_TMPDIR/x" "docker://$NAME:/data/x"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	run --separate-stderr dcp -a "$BATS_TEST_TMPDIR/tree" "docker://$NAME:/data"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(in_docker /data/x)" = from-the-host ]
	[ "$(in_docker /data/tree/d/n)" = nested ]
	# -a kept the owner, as the engine sees it
	[ "$(dk cp "$NAME:/data/tree/d/n" - | tar -tv --numeric-owner | awk '{ print $2 }')" = 1234/1234 ]
	dk diff "$NAME" | grep -qx 'A /data/x'
}

@test "cp docker: a stopped container's files out, and into its writable layer, which it has when started again" {
	run_app
	dk stop -t 0 "$NAME" >/dev/null
	[ "$(dk inspect --format '{{.State.Status}}' "$NAME")" = exited ]
	run --separate-stderr dcp "docker://$NAME:/data/a.txt" "$OUT/a.txt"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/a.txt")" = in-the-image ]
	sid=$(verified_session)
	[ "$(jq -r 'select(.type == "session.start") | .target.state' "$SDIR/$sid/audit.jsonl")" = stopped ]
	printf 'into-stopped\n' >"$BATS_TEST_TMPDIR/x"
	run --separate-stderr dcp --no-record "$BATS_TEST_TMPDIR/x" "docker://$NAME:/data/x"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(in_docker /data/x)" = into-stopped ]
	dk diff "$NAME" | grep -qx 'A /data/x'
	dk start "$NAME" >/dev/null
	[ "$(dk inspect --format '{{.State.Running}}' "$NAME")" = true ]
	# and, running again, from its process's root
	run --separate-stderr dcp --no-record "docker://$NAME:/data/x" "$OUT/x"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/x")" = into-stopped ]
}

@test "cp docker: a created container, never started: out of its image's files, and in" {
	dk create --name "$NAME" --network none localhost/dhi-cpdk:1 >/dev/null
	[ "$(dk inspect --format '{{.State.Status}}' "$NAME")" = created ]
	run --separate-stderr dcp --no-record "docker://$NAME:/data/sub" "$OUT/sub"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/sub/b.txt")" = deeper ]
	printf 'into-created\n' >"$BATS_TEST_TMPDIR/x"
	run --separate-stderr dcp --no-record "$BATS_TEST_TMPDIR/x" "docker://$NAME:/x"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(in_docker /x)" = into-created ]
}

@test "cp docker: a stopped container's volume is copied out of and into the volume, as docker cp does" {
	dk volume create "$NAME-vol" >/dev/null
	run_app -v "$NAME-vol:/vol"
	printf 'in-the-volume\n' >"$BATS_TEST_TMPDIR/v"
	dk cp "$BATS_TEST_TMPDIR/v" "$NAME:/vol/v"
	dk stop -t 0 "$NAME" >/dev/null
	run --separate-stderr dcp --no-record "docker://$NAME:/vol/v" "$OUT/v"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/v")" = in-the-volume ]
	printf 'into-the-volume\n' >"$BATS_TEST_TMPDIR/w"
	run --separate-stderr dcp --no-record "$BATS_TEST_TMPDIR/w" "docker://$NAME:/vol/w"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	# in the volume, where the engine and another container of that volume find it
	[ "$(in_docker /vol/w)" = into-the-volume ]
	[ "$(cat "$(dk volume inspect --format '{{.Mountpoint}}' "$NAME-vol")/w")" = into-the-volume ]
	# not in the layer under the volume's mount point
	[ -z "$(dk diff "$NAME" | grep /vol/w)" ]
	# the image's own files still come from the root, a read-only volume stays unwritten
	dk rm -f "$NAME" >/dev/null
	run_app -v "$NAME-vol:/vol:ro"
	dk stop -t 0 "$NAME" >/dev/null
	run --separate-stderr dcp --no-record "$BATS_TEST_TMPDIR/w" "docker://$NAME:/vol/w2"
	echo "$status: $stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"Read-only file system"* ]]
	[ ! -e "$(dk volume inspect --format '{{.Mountpoint}}' "$NAME-vol")/w2" ]
}

@test "cp docker: tar streams out of and into a running container" {
	run_app
	run bash -c "'$DHIDEBUG' cp -q --no-record 'docker://$NAME:/data' - | tar -C '$OUT' -xf - && cat '$OUT/data/sub/b.txt'"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = deeper ]
	mkdir -p "$BATS_TEST_TMPDIR/t/pkg"
	printf 'streamed\n' >"$BATS_TEST_TMPDIR/t/pkg/f"
	run bash -c "tar -C '$BATS_TEST_TMPDIR/t' -cf - pkg | '$DHIDEBUG' cp -q --no-record - 'docker://$NAME:/data'"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(in_docker /data/pkg/f)" = streamed ]
}
