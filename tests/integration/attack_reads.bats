#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# attack_reads.bats: a container (an image, a layout, a bundle's owner) puts a FIFO, a device
# node or a 1 GiB sparse file where dhidebug reads a file (THREATS 45, issue 14 finding 5).
# Every reader must finish, within `timeout 20`, with one line naming the file and what it is;
# an optional file is taken as missing, with a notice. Before the fix an open(2) for reading
# of the FIFO or of the terminal blocked dhidebug forever, before it attached.

load helpers

# What a reader may find: every kind in a running container, where the container's own
# terminals are reachable; no terminal elsewhere (a pty's node works only on its devpts).
KINDS=(fifo tty zero big)
FILE_KINDS=(fifo zero big)
PLANT=$BUILD/tests/plant

setup_file()
{
	image_setup
}

teardown_file()
{
	[ -e "$BATS_FILE_TMPDIR/reg/pid" ] && kill "$(cat "$BATS_FILE_TMPDIR/reg/pid")" 2>/dev/null || true
}

setup()
{
	requires root runc toolbox
	[ -x "$PLANT" ] || skip "no $PLANT (make fixtures)"
}

teardown()
{
	container_rm
}

# plant KIND FILE: FILE (a host path inside a container's root, an image or a layout) becomes
# KIND (tests/fixtures/plant.c), and the positive control shows that an ordinary reader is
# caught by it:
#   fifo  a FIFO nobody writes: opening it for reading blocks
#   tty   a symlink to a terminal of the running container's own (/dev/pts/N, whose master a
#         process of the test holds): reading it blocks
#   zero  /dev/zero's node: data without end
#   big   a 1 GiB sparse file
plant()
{
	local kind=$1 file=$2 rc=0 i probe=$2

	if [ -n "${PLANT_PID:-}" ]; then
		kill "$PLANT_PID" 2>/dev/null || true
		PLANT_PID=
	fi
	if [ "$kind" = tty ]; then
		rm -f "$BATS_TEST_TMPDIR/slave"
		"$PLANT" tty "$file" "/proc/$CPID/root/dev/ptmx" >"$BATS_TEST_TMPDIR/slave" 3>&- &
		PLANT_PID=$!
		echo "$PLANT_PID" >>"$BATS_TEST_TMPDIR/bg.pids"
		for i in $(seq 50); do
			[ -s "$BATS_TEST_TMPDIR/slave" ] && break
			sleep 0.1
		done
		probe=/proc/$CPID/root$(cat "$BATS_TEST_TMPDIR/slave")
	else
		"$PLANT" "$kind" "$file"
	fi
	case $kind in
	fifo | tty)
		timeout 2 head -c1 "$probe" >/dev/null 2>&1 || rc=$?
		if [ "$rc" -ne 124 ]; then
			echo "control: reading the $kind at $file did not block (status $rc)" >&2
			return 1
		fi
		;;
	zero)
		[ "$(head -c 8M "$file" | wc -c)" -eq 8388608 ] ||
			{ echo "control: $file gives no endless data" >&2; return 1; }
		;;
	big)
		[ "$(stat -c %s "$file")" -eq 1073741824 ] && [ "$(stat -c %b "$file")" -lt 1024 ]
		;;
	esac
}

# what_it_is KIND: how dhidebug names the plant
what_it_is()
{
	case $1 in
	fifo) echo "is a FIFO, not a regular file" ;;
	tty | zero) echo "is a character device, not a regular file" ;;
	big) echo "is too large (1073741824 bytes" ;;
	esac
}

# reads ARGS...: dhidebug ARGS under `timeout 20`, notices on (they are under test), stdout
# and stderr apart. A hang is status 124 and fails the test.
reads()
{
	run --separate-stderr timeout 20 "$DHIDEBUG" "$@" </dev/null
	echo "dhidebug $* -> status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	if [ "$status" -eq 124 ]; then
		echo "dhidebug hung: killed after 20 s" >&2
		return 1
	fi
}

# The view a session gets: `ls /` (the union view lists the container's /app, the toolbox
# view /target).
view_of()
{
	reads --toolbox "$TOOLBOX" "$TARGET" -- ls /
	[ "$status" -eq 0 ]
	VIEW=$output
}

# session_reads REL: a bad file at the container's REL (etc/os-release or usr/lib/os-release)
# is taken as missing: the session runs, in the view it gets without the file, with a notice.
session_reads()
{
	local rel=$1 rootfs=$BUNDLE/rootfs kind without

	rm -f "$rootfs/$rel"
	view_of
	without=$VIEW
	for kind in "${KINDS[@]}"; do
		plant "$kind" "$rootfs/$rel"
		view_of
		[ "$VIEW" = "$without" ]
		[[ "$stderr" == *"dhidebug: notice: target \`$TARGET\`: \`/$rel\` $(what_it_is "$kind")"*"(taken as missing)"* ]]
	done
}

@test "reads: the container's /etc/os-release a FIFO, a terminal, /dev/zero or 1 GiB: the session runs as without one, with a notice" {
	container_start static
	# the control: with its os-release the view differs (same release: union)
	view_of
	local with=$VIEW
	session_reads etc/os-release
	[ "$VIEW" != "$with" ]
}

@test "reads: the same at /usr/lib/os-release, where there is no /etc/os-release" {
	container_start static
	mkdir -p "$BUNDLE/rootfs/usr/lib"
	mv "$BUNDLE/rootfs/etc/os-release" "$BUNDLE/rootfs/usr/lib/os-release"
	view_of
	local with=$VIEW
	session_reads usr/lib/os-release
	[ "$VIEW" != "$with" ]
}

@test "reads: the toolbox's os-release a FIFO, /dev/zero or 1 GiB: the session runs, with a notice" {
	local kind f=$BATS_TEST_TMPDIR/plant

	container_start static
	for kind in "${FILE_KINDS[@]}"; do
		plant "$kind" "$f"
		# over the toolbox's file in a mount namespace of this dhidebug's only
		run --separate-stderr timeout 20 unshare -m --propagation private sh -c \
			'mount --bind "$1" "$2/etc/os-release" && exec "$3" --toolbox "$2" "$4" -- true' \
			sh "$f" "$TOOLBOX" "$DHIDEBUG" "$TARGET" </dev/null
		echo "$kind: status $status, stderr: $stderr"
		[ "$status" -ne 124 ]
		[ "$status" -eq 0 ]
		[[ "$stderr" == *"dhidebug: notice: toolbox \`$TOOLBOX\`: \`/etc/os-release\` $(what_it_is "$kind")"*"(taken as missing)"* ]]
	done
}

# a stopped container runs as its configured user: passwd and group are looked up
stop_container()
{
	rt kill "$CID" KILL
	for i in $(seq 50); do
		[ "$(rt state "$CID" | jq -r .status)" = stopped ] && break
		sleep 0.1
	done
	[ "$(rt state "$CID" | jq -r .status)" = stopped ]
}

@test "reads: a stopped container's /etc/passwd or /etc/group a FIFO, /dev/zero or 1 GiB: its uid and gid still, no groups, a notice" {
	local kind db etc

	customize_bundle()
	{
		jq '.process.user = {"uid": 4242, "gid": 4243}' "$1/config.json" >"$1/config.json.new" &&
			mv "$1/config.json.new" "$1/config.json"
	}
	container_start static
	stop_container
	etc=$BUNDLE/rootfs/etc
	for db in passwd group; do
		printf 'root:x:0:0::/:/sbin/nologin\napp:x:4242:4243::/:/sbin/nologin\n' >"$etc/passwd"
		printf 'root:x:0:\nwheel:x:10:app\n' >"$etc/group"
		# the control: with both, the user is `app`, in wheel
		reads --toolbox "$TOOLBOX" "$TARGET" -- id -G
		[ "$status" -eq 0 ]
		[ "$output" = "4243 10" ]
		for kind in "${FILE_KINDS[@]}"; do
			plant "$kind" "$etc/$db"
			reads --toolbox "$TOOLBOX" "$TARGET" -- id -G
			[ "$status" -eq 0 ]
			# its configured uid and gid (4242:4243), no group from the file
			[ "$output" = 4243 ]
			[[ "$stderr" == *"dhidebug: notice: target \`$TARGET\`: \`/etc/$db\` $(what_it_is "$kind")"* ]]
		done
	done
}

@test "reads: lint, the entrypoint a FIFO, a terminal, /dev/zero or 1 GiB: a failed check that says so" {
	local kind verdict

	container_start static
	for kind in "${KINDS[@]}"; do
		plant "$kind" "$BUNDLE/rootfs/app"
		reads lint "$TARGET" --json
		[ "$status" -eq 1 ]
		verdict=$(jq -r '.checks[] | select(.check == "entrypoint") | "\(.verdict) \(.message)"' <<<"$output")
		if [ "$kind" = big ]; then
			# a regular file: its first bytes are read, and they are no program
			[ "$verdict" = "fail \`/app\` is neither ELF nor a \`#!\` script" ]
		else
			[ "$verdict" = "fail \`/app\` $(what_it_is "$kind")" ]
		fi
	done
}

@test "reads: lint, a library the entrypoint needs a FIFO, a terminal, /dev/zero or 1 GiB: reported as missing, why said" {
	local kind lib verdict

	container_start dynamic
	lib=$(ldd "$BUILD/tests/app-dynamic" | awk '/libc\.so/ { print $3 }')
	[ -f "$BUNDLE/rootfs$lib" ]
	for kind in "${KINDS[@]}"; do
		plant "$kind" "$BUNDLE/rootfs$lib"
		reads lint "$TARGET" --json
		verdict=$(jq -r '.checks[] | select(.check == "elf") | "\(.verdict) \(.message)"' <<<"$output")
		if [ "$kind" = big ]; then
			# a regular file, not ELF: skipped as before (the loader would refuse it)
			[[ "$verdict" == "pass "* ]]
		else
			[[ "$verdict" == "fail \`/app\` needs libraries missing from the image: \`$lib\` $(what_it_is "$kind")"* ]]
		fi
	done
}

@test "reads: lint, the bundle's config.json a FIFO, /dev/zero or 1 GiB: the process's own argv instead, with a notice" {
	local kind

	container_start static
	for kind in "${FILE_KINDS[@]}"; do
		plant "$kind" "$BUNDLE/config.json"
		reads lint "$TARGET" --json
		[ "$status" -eq 1 ]
		[ "$(jq -r .source <<<"$output")" = /proc ]
		[ "$(jq -r '.checks[] | select(.check == "entrypoint") | .verdict' <<<"$output")" = pass ]
		[[ "$stderr" == *"dhidebug: notice: bundle \`$BUNDLE\`: \`config.json\` $(what_it_is "$kind")"*"(taken as missing)"* ]]
	done
}

# layout DIR: an OCI image layout of one small image (lintimg.py)
layout()
{
	mkdir -p "$BATS_TEST_TMPDIR/root/etc"
	echo hello >"$BATS_TEST_TMPDIR/root/etc/hello"
	"$BATS_TEST_DIRNAME/lintimg.py" "$1" 1 "$BATS_TEST_TMPDIR/root" '{"Entrypoint":["/app"]}'
}

@test "reads: toolbox import, a layout's index.json, manifest or layer a FIFO, /dev/zero or 1 GiB: refused, named" {
	local kind d=$BATS_TEST_TMPDIR/oci manifest layer name

	layout "$d"
	# the control: the layout as made imports
	reads --toolbox-cache "$BATS_TEST_TMPDIR/c0" toolbox import "$d"
	[ "$status" -eq 0 ]
	manifest=blobs/sha256/$(jq -r '.manifests[0].digest' "$d/index.json" | cut -d: -f2)
	layer=blobs/sha256/$(jq -r '.layers[0].digest' "$d/$manifest" | cut -d: -f2)
	for name in "$manifest" "$layer" index.json; do
		for kind in "${FILE_KINDS[@]}"; do
			rm -rf "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR/oci.$kind"
			cp -a "$d" "$BATS_TEST_TMPDIR/oci.$kind"
			plant "$kind" "$BATS_TEST_TMPDIR/oci.$kind/$name"
			reads --toolbox-cache "$BATS_TEST_TMPDIR/c" toolbox import "$BATS_TEST_TMPDIR/oci.$kind"
			[ "$status" -eq 125 ]
			if [ "$name" = "$layer" ] && [ "$kind" = big ]; then
				# a layer is streamed: no more is read than its descriptor says
				[[ "$stderr" == *"is longer than the "*" bytes its descriptor says (refused)"* ]]
			else
				[[ "$stderr" == *"\`$name\` $(what_it_is "$kind")"* ]]
			fi
		done
	done
}

@test "reads: toolbox import, a docker-archive's manifest.json, config or layer a FIFO, /dev/zero or 1 GiB: refused, named" {
	local kind d=$BATS_TEST_TMPDIR/da name layer

	command -v skopeo >/dev/null || skip "needs skopeo"
	layout "$BATS_TEST_TMPDIR/oci"
	skopeo copy -q "oci:$BATS_TEST_TMPDIR/oci:1" "docker-archive:$BATS_TEST_TMPDIR/a.tar:x/y:1"
	mkdir "$d"
	tar -xf "$BATS_TEST_TMPDIR/a.tar" -C "$d"
	reads --toolbox-cache "$BATS_TEST_TMPDIR/c0" toolbox import "$d"
	[ "$status" -eq 0 ]
	layer=$(jq -r '.[0].Layers[0]' "$d/manifest.json")
	for name in manifest.json "$(jq -r '.[0].Config' "$d/manifest.json")" "$layer"; do
		for kind in "${FILE_KINDS[@]}"; do
			rm -rf "$BATS_TEST_TMPDIR/c" "$d.$kind"
			cp -a "$d" "$d.$kind"
			plant "$kind" "$d.$kind/$name"
			reads --toolbox-cache "$BATS_TEST_TMPDIR/c" toolbox import "$d.$kind"
			[ "$status" -eq 125 ]
			if [ "$name" = "$layer" ] && [ "$kind" = big ]; then
				# a docker-archive's layer has no size but its own: read whole, as a
				# layer of that size would be, and refused by its digest
				[[ "$stderr" == *"digest mismatch for layer"* ]]
			else
				[[ "$stderr" == *"\`$name\` $(what_it_is "$kind")"* ]]
			fi
		done
	done
}

# --- image:// (a registry on 127.0.0.1, as image.bats) ---

# image_setup: images pushed to a test registry: `os` with a FIFO at /etc/os-release, `pw`
# with a FIFO at /etc/passwd and a User by name, `ep` with a FIFO as its entrypoint. (A
# device node cannot be in a layer: the unpacker refuses them; a 1 GiB file would be a
# 1 GiB layer.)
image_setup()
{
	local d=$BATS_FILE_TMPDIR port

	command -v docker-registry >/dev/null && command -v skopeo >/dev/null || return 0
	port=$(registry_start "$d/reg")
	mkdir -p "$d/os/etc" "$d/pw/etc" "$d/ep/etc"
	mkfifo "$d/os/etc/os-release" "$d/pw/etc/passwd" "$d/ep/app"
	printf 'root:x:0:0::/:/sbin/nologin\napp:x:65532:65532::/:/sbin/nologin\n' |
		tee "$d/os/etc/passwd" >"$d/ep/etc/passwd"
	printf 'root:x:0:\nstaff:x:50:\n' | tee "$d/os/etc/group" "$d/pw/etc/group" >"$d/ep/etc/group"
	cp /usr/lib/os-release "$d/pw/etc/os-release"
	cp /usr/lib/os-release "$d/ep/etc/os-release"
	for img in os pw ep; do
		"$BATS_TEST_DIRNAME/lintimg.py" "$d/$img.oci" 1 "$d/$img" \
			'{"User":"app:staff","Entrypoint":["/app"]}' &&
			skopeo copy -q --dest-tls-verify=false "oci:$d/$img.oci:1" \
				"docker://$port/reads/$img:1" >>"$d/build.log" 2>&1 || return 0
	done
	echo "$port" >"$d/reg/addr"
}

image_requires()
{
	REG=$(cat "$BATS_FILE_TMPDIR/reg/addr" 2>/dev/null) || skip "needs docker-registry and skopeo (the test images were not pushed)"
	CACHE=$BATS_FILE_TMPDIR/cache
}

@test "reads: image://, a FIFO at the image's /etc/os-release: the session runs, as its user, with a notice" {
	image_requires
	reads --toolbox "$TOOLBOX" --toolbox-cache "$CACHE" "image://$REG/reads/os:1" -- id -u
	[ "$status" -eq 0 ]
	[ "$output" = 65532 ]
	[[ "$stderr" == *"dhidebug: notice: target \`image://$REG/reads/os:1\`: \`/etc/os-release\` is a FIFO, not a regular file (taken as missing)"* ]]
}

@test "reads: image://, a FIFO at the image's /etc/passwd with User app: refused, saying why the name is unknown" {
	image_requires
	reads --toolbox "$TOOLBOX" --toolbox-cache "$CACHE" "image://$REG/reads/pw:1" -- id -u
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"dhidebug: the container's user \`app\` cannot be looked up: \`/etc/passwd\` is a FIFO, not a regular file"* ]]
}

@test "reads: image://, the cached image config a FIFO, /dev/zero or 1 GiB: refused, named" {
	local kind cfg

	image_requires
	# the control: pulled into a cache of this test's, it runs as the image's user
	reads --toolbox "$TOOLBOX" --toolbox-cache "$BATS_TEST_TMPDIR/cache" "image://$REG/reads/ep:1" -- id -u
	[ "$output" = 65532 ]
	cfg=$(echo "$BATS_TEST_TMPDIR"/cache/sha256/*/config.json)
	[ -f "$cfg" ]
	for kind in "${FILE_KINDS[@]}"; do
		plant "$kind" "$cfg"
		reads --toolbox "$TOOLBOX" --toolbox-cache "$BATS_TEST_TMPDIR/cache" "image://$REG/reads/ep:1" -- id -u
		[ "$status" -eq 125 ]
		[[ "$stderr" == *"image \`$REG/reads/ep:1\`: \`$cfg\` $(what_it_is "$kind")"* ]]
	done
}

@test "reads: lint image://, a FIFO as the entrypoint, or as the cached image config: a failed check, or refused, named" {
	local cfg

	image_requires
	reads --toolbox-cache "$BATS_TEST_TMPDIR/cache" lint "image://$REG/reads/ep:1" --json
	[ "$status" -eq 1 ]
	[ "$(jq -r '.checks[] | select(.check == "entrypoint") | "\(.verdict) \(.message)"' <<<"$output")" = \
		"fail \`/app\` is a FIFO, not a regular file" ]
	cfg=$(echo "$BATS_TEST_TMPDIR"/cache/sha256/*/config.json)
	plant fifo "$cfg"
	reads --toolbox-cache "$BATS_TEST_TMPDIR/cache" lint "image://$REG/reads/ep:1" --json
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"image \`$REG/reads/ep:1\`: \`config.json\` is a FIFO, not a regular file"* ]]
}
