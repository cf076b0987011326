#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# cp.bats: `dhidebug cp` (docs/cp.md) between the host and shell-less runc containers (no tar,
# no shell inside): what arrives is checked on the other side (content, hashes, modes, links),
# every copy is a recorded session that `sessions verify` accepts, and the container's
# symlinks, FIFOs and races never make the copy read a host file.

load helpers

# The container's files: /data with a file, a subdirectory, links that would leave the root
# if they were followed on the host, a FIFO and a sparse file. The host has its own
# $HOSTDIR/secret that only a followed link could reach.
customize_bundle()
{
	local r=$1/rootfs

	mkdir -p "$r/data/sub" "$r/etc"
	printf 'from-the-container\n' >"$r/data/a.txt"
	printf 'deeper\n' >"$r/data/sub/b.txt"
	printf 'container-hostname\n' >"$r/etc/hostname"
	ln -s /etc/shadow "$r/data/abs"
	ln -s ../../../../../../etc/shadow "$r/data/rel"
	ln -s "$HOSTDIR" "$r/data/tohost"
	ln -s / "$r/data/toroot"
	ln -s ../../../../../../.. "$r/data/up"
	chown -R 65532:65532 "$r/data"
	if declare -F more_bundle >/dev/null; then
		more_bundle "$1"
	fi
}

setup()
{
	requires root runc
	SDIR=$BATS_TEST_TMPDIR/sessions
	HOSTDIR=$BATS_TEST_TMPDIR/hostdir
	mkdir -m 0700 "$SDIR"
	mkdir -p "$HOSTDIR"
	printf 'HOST-SECRET-%s\n' "$$" >"$HOSTDIR/secret"
	OUT=$BATS_TEST_TMPDIR/out
	mkdir "$OUT"
	container_start dynamic
	ROOTFS=$BUNDLE/rootfs
}

teardown()
{
	umount "$BATS_TEST_TMPDIR/small" 2>/dev/null || true
	if [ -f "$BATS_TEST_TMPDIR/rm.dirs" ]; then
		xargs rm -rf <"$BATS_TEST_TMPDIR/rm.dirs"
	fi
	container_rm
}

# dcp ARGS...: dhidebug cp, recorded in the test's sessions folder
dcp()
{
	"$DHIDEBUG" cp --sessions-dir "$SDIR" "$@" </dev/null
}

# dcp_in ARGS...: dhidebug cp with the test's stdin (a tar stream)
dcp_in()
{
	"$DHIDEBUG" cp --sessions-dir "$SDIR" "$@"
}

# the last session's folder
last_session()
{
	local d

	d=$(ls -td "$SDIR"/*/ | head -1)
	d=${d%/}
	echo "${d##*/}"
}

# one_line_125: the last `run --separate-stderr` was a bad-input refusal
one_line_125()
{
	echo "status $status, stdout: $output"
	echo "stderr: $stderr"
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "dhidebug: cp: "* ]]
}

# no host secret in anything under DIR (regular files and link targets both)
no_host_secret()
{
	! grep -rqs "HOST-SECRET-$$" "$1"
}

@test "cp: a file out of the container, byte for byte, as a recorded session that verifies" {
	run --separate-stderr dcp "$TARGET:/data/a.txt" "$OUT/a.txt"
	echo "$status: $output / $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/a.txt")" = from-the-container ]
	sid=$(last_session)
	[[ "$stderr" == *"session $sid"* ]]
	run "$DHIDEBUG" sessions verify --dir "$SDIR" "$sid"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "$sid: ok: complete, 5 records"* ]]
	audit=$SDIR/$sid/audit.jsonl
	[ "$(jq -r .type "$audit" | tr '\n' ' ')" = "session.start copy.start copy.file copy.end session.end " ]
	[ "$(jq -r 'select(.type == "session.start") | .kind' "$audit")" = copy ]
	[ "$(jq -r 'select(.type == "copy.start") | "\(.direction) \(.container_path) \(.host_path) \(.operator.uid)"' "$audit")" = "out /data/a.txt $OUT/a.txt 0" ]
	want=$(sha256sum "$ROOTFS/data/a.txt" | cut -d' ' -f1)
	[ "$(jq -r 'select(.type == "copy.file") | "\(.path) \(.file_type) \(.size) \(.mode) \(.uid) \(.sha256)"' "$audit")" = "/data/a.txt file 19 0644 65532 $want" ]
	[ "$(jq -r 'select(.type == "copy.end") | "\(.files) \(.bytes) \(.status)"' "$audit")" = "1 19 ok" ]
	run "$DHIDEBUG" sessions show --dir "$SDIR" "$sid"
	echo "$output"
	[[ "$output" == *"copy      $TARGET:/data/a.txt -> $OUT/a.txt"* ]]
	[[ "$output" == *"copied    file      /data/a.txt  0644 65532:65532 19 bytes sha256 $want"* ]]
	# a record changed afterwards is caught
	sed -i "s/$want/$(printf '0%.0s' $(seq 64))/" "$audit"
	run "$DHIDEBUG" sessions verify --dir "$SDIR" "$sid"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid: audit.jsonl:4: prev does not match record 3"* ]]
}

@test "cp: a directory out recursively; its symlinks arrive as the same links, never followed" {
	run --separate-stderr dcp "$TARGET:/data" "$OUT/data"
	echo "$status: $output / $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/data/a.txt")" = from-the-container ]
	[ "$(cat "$OUT/data/sub/b.txt")" = deeper ]
	for l in abs rel tohost toroot up; do
		[ -L "$OUT/data/$l" ]
		[ "$(readlink "$OUT/data/$l")" = "$(readlink "$ROOTFS/data/$l")" ]
	done
	# a link to the host's directory was not copied as that directory
	[ ! -e "$OUT/data/tohost/../tohost/secret" ] || [ -L "$OUT/data/tohost" ]
	run find "$OUT/data" -type f
	[ "${#lines[@]}" -eq 2 ]
	no_host_secret "$OUT"
	# an existing directory as DEST: the entry goes in it under its own name
	run --separate-stderr dcp "$TARGET:/data/sub" "$OUT"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/sub/b.txt")" = deeper ]
}

@test "cp: paths that leave the container's root stay in it" {
	# `..` stops at the container's root: its /etc has no shadow, the host's is not read
	run --separate-stderr dcp "$TARGET:/../../etc/shadow" "$OUT/shadow"
	one_line_125
	[[ "$stderr" == *"No such file or directory"* ]]
	[ ! -e "$OUT/shadow" ]
	# through an absolute link to / and a relative one above it: the container's hostname
	for via in toroot up; do
		run --separate-stderr dcp "$TARGET:/data/$via/etc/hostname" "$OUT/hostname-$via"
		echo "$status: $stderr"
		[ "$status" -eq 0 ]
		[ "$(cat "$OUT/hostname-$via")" = container-hostname ]
	done
	# an absolute link to the host's directory resolves in the container, where it is not
	run --separate-stderr dcp "$TARGET:/data/tohost/secret" "$OUT/secret"
	one_line_125
	[ ! -e "$OUT/secret" ]
	# the link itself, named as the source, is copied as a link
	run --separate-stderr dcp "$TARGET:/data/abs" "$OUT/abs"
	[ "$status" -eq 0 ]
	[ -L "$OUT/abs" ]
	[ "$(readlink "$OUT/abs")" = /etc/shadow ]
	no_host_secret "$OUT"
}

@test "cp: a destination that exists is refused without --force and replaced with it" {
	printf 'keep-me\n' >"$OUT/a.txt"
	run --separate-stderr dcp "$TARGET:/data/a.txt" "$OUT/a.txt"
	one_line_125
	[[ "$stderr" == *"\`$OUT/a.txt\` exists (--force replaces it)"* ]]
	[ "$(cat "$OUT/a.txt")" = keep-me ]
	run --separate-stderr dcp --force "$TARGET:/data/a.txt" "$OUT/a.txt"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/a.txt")" = from-the-container ]
	# nothing half-written is left beside it
	[ "$(ls -A "$OUT")" = a.txt ]
	# the same into the container
	printf 'new\n' >"$BATS_TEST_TMPDIR/a.txt"
	run --separate-stderr dcp "$BATS_TEST_TMPDIR/a.txt" "$TARGET:/data/a.txt"
	one_line_125
	[ "$(cat "$ROOTFS/data/a.txt")" = from-the-container ]
}

@test "cp: bad operands are one line and exit 125" {
	run --separate-stderr "$DHIDEBUG" cp "$TARGET:/data/a.txt"
	one_line_125
	run --separate-stderr "$DHIDEBUG" cp "$OUT/x" "$OUT/y"
	one_line_125
	[[ "$stderr" == *"is TARGET:PATH"* ]]
	run --separate-stderr "$DHIDEBUG" cp "$TARGET:/a" "$TARGET:/b"
	one_line_125
	run --separate-stderr "$DHIDEBUG" cp --bogus "$TARGET:/a" "$OUT/b"
	one_line_125
	run --separate-stderr "$DHIDEBUG" cp runc://no-such-container-$$:/a "$OUT/b"
	one_line_125
}

@test "cp: into the container, a file and a directory, with -a keeping mode, owner, times and user.* xattrs" {
	src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src/d"
	printf 'from-the-host\n' >"$src/d/f"
	chmod 0640 "$src/d/f"
	chown 1234:5678 "$src/d/f"
	touch -h -d '2001-02-03 04:05:06' "$src/d/f"
	ln -s f "$src/d/link"
	# user.* attributes are kept; trusted.* (like security.*) would carry privileges across
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.origin", b"the-host"); os.setxattr(sys.argv[1], "trusted.secret", b"no")' "$src/d/f"
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.dir", b"yes")' "$src/d"
	run --separate-stderr dcp -a "$src/d" "$TARGET:/data/in"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$ROOTFS/data/in/f")" = from-the-host ]
	[ "$(stat -c '%a %u %g %Y' "$ROOTFS/data/in/f")" = "640 1234 5678 $(stat -c %Y "$src/d/f")" ]
	[ "$(readlink "$ROOTFS/data/in/link")" = f ]
	[ "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.origin").decode())' "$ROOTFS/data/in/f")" = the-host ]
	[ "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.dir").decode())' "$ROOTFS/data/in")" = yes ]
	[ "$(python3 -c 'import os, sys; print(sorted(os.listxattr(sys.argv[1])))' "$ROOTFS/data/in/f")" = "['user.origin']" ]
	sid=$(last_session)
	[ "$(jq -r 'select(.type == "copy.file" and .path == "/data/in/f") | .xattrs | join(",")' "$SDIR/$sid/audit.jsonl")" = user.origin ]
	run "$DHIDEBUG" sessions verify --dir "$SDIR" "$sid"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "copy.start") | .direction' "$SDIR/$sid/audit.jsonl")" = in ]
	[ "$(jq -r 'select(.type == "copy.file" and .file_type == "file") | "\(.path) \(.host_path)"' "$SDIR/$sid/audit.jsonl")" = "/data/in/f $src/d/f" ]
	# without -a: the mode is kept, the owner is the copier's
	run --separate-stderr dcp "$src/d/f" "$TARGET:/data/plain"
	[ "$status" -eq 0 ]
	[ "$(stat -c '%a %u %g' "$ROOTFS/data/plain")" = "640 0 0" ]
	[ "$(python3 -c 'import os, sys; print(os.listxattr(sys.argv[1]))' "$ROOTFS/data/plain")" = "[]" ]
	# out again with -a
	run --separate-stderr dcp -a "$TARGET:/data/in/f" "$OUT/f"
	[ "$(stat -c '%a %u %g %Y' "$OUT/f")" = "640 1234 5678 $(stat -c %Y "$src/d/f")" ]
	[ "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.origin").decode())' "$OUT/f")" = the-host ]
}

@test "cp: the observe profile refuses a copy in, before anything is written; out is allowed" {
	printf 'x\n' >"$BATS_TEST_TMPDIR/x"
	run --separate-stderr dcp --profile observe "$BATS_TEST_TMPDIR/x" "$TARGET:/data/x"
	one_line_125
	[[ "$stderr" == *"profile \`observe\` does not write the container's files"* ]]
	[ ! -e "$ROOTFS/data/x" ]
	run --separate-stderr dcp --profile observe "$TARGET:/data/a.txt" "$OUT/a.txt"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/a.txt")" = from-the-container ]
}

@test "cp: the policy's \`cp\` key forbids a direction" {
	echo '{"cp": "in"}' >"$BATS_TEST_TMPDIR/policy.json"
	run --separate-stderr dcp --policy "$BATS_TEST_TMPDIR/policy.json" "$TARGET:/data/a.txt" "$OUT/a.txt"
	one_line_125
	[[ "$stderr" == *"forbids copying out of containers (\`cp\`)"* ]]
	[ ! -e "$OUT/a.txt" ]
	printf 'x\n' >"$BATS_TEST_TMPDIR/x"
	run --separate-stderr dcp --policy "$BATS_TEST_TMPDIR/policy.json" "$BATS_TEST_TMPDIR/x" "$TARGET:/data/x"
	[ "$status" -eq 0 ]
	[ "$(cat "$ROOTFS/data/x")" = x ]
	echo '{"cp": "sideways"}' >"$BATS_TEST_TMPDIR/bad.json"
	run --separate-stderr dcp --policy "$BATS_TEST_TMPDIR/bad.json" "$TARGET:/data/a.txt" "$OUT/b"
	one_line_125
}

@test "cp: --manifest is checked by sha256sum -c" {
	run --separate-stderr dcp --manifest "$BATS_TEST_TMPDIR/manifest" "$TARGET:/data" "$OUT/data"
	[ "$status" -eq 0 ]
	cat "$BATS_TEST_TMPDIR/manifest"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/manifest")" -eq 2 ]
	run sha256sum -c "$BATS_TEST_TMPDIR/manifest"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$OUT/data/a.txt: OK"* ]]
	[[ "$output" == *"$OUT/data/sub/b.txt: OK"* ]]
	# the manifest's hashes are the records'
	sid=$(last_session)
	[ "$(jq -r 'select(.sha256) | "\(.sha256)  \(.host_path)"' "$SDIR/$sid/audit.jsonl" | sort)" = "$(sort "$BATS_TEST_TMPDIR/manifest")" ]
	# a file changed afterwards fails the check
	echo tampered >>"$OUT/data/a.txt"
	run sha256sum -c "$BATS_TEST_TMPDIR/manifest"
	[ "$status" -ne 0 ]
}

sparse_bundle()
{
	truncate -s 64M "$1/rootfs/data/sparse"
	printf 'middle' | dd of="$1/rootfs/data/sparse" bs=1 seek=33554432 conv=notrunc status=none
}

@test "cp: a sparse file stays sparse, with the same content" {
	more_bundle() { sparse_bundle "$@"; }
	container_rm
	container_start dynamic
	ROOTFS=$BUNDLE/rootfs
	run --separate-stderr dcp "$TARGET:/data/sparse" "$OUT/sparse"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$OUT/sparse")" -eq $((64 << 20)) ]
	# 64 MiB long, a few KiB on disk
	[ "$(du -k "$OUT/sparse" | cut -f1)" -lt 1024 ]
	[ "$(sha256sum <"$OUT/sparse")" = "$(sha256sum <"$ROOTFS/data/sparse")" ]
	sid=$(last_session)
	[ "$(jq -r 'select(.type == "copy.file") | .sha256' "$SDIR/$sid/audit.jsonl")" = "$(sha256sum <"$ROOTFS/data/sparse" | cut -d' ' -f1)" ]
	# and into the container
	run --separate-stderr dcp "$OUT/sparse" "$TARGET:/data/back"
	[ "$status" -eq 0 ]
	[ "$(du -k "$ROOTFS/data/back" | cut -f1)" -lt 1024 ]
	cmp "$ROOTFS/data/back" "$ROOTFS/data/sparse"
}

@test "cp: a FIFO is skipped with a reason, never opened, and recorded as skipped" {
	mkfifo "$ROOTFS/data/fifo"
	run --separate-stderr dcp "$TARGET:/data" "$OUT/data"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"dhidebug: cp: skipped \`/data/fifo\`: a FIFO is not copied"* ]]
	[ ! -e "$OUT/data/fifo" ]
	[ "$(cat "$OUT/data/a.txt")" = from-the-container ]
	sid=$(last_session)
	[ "$(jq -r 'select(.type == "copy.skip") | "\(.path) \(.file_type)"' "$SDIR/$sid/audit.jsonl")" = "/data/fifo fifo" ]
	[ "$(jq -r 'select(.type == "copy.end") | .skipped' "$SDIR/$sid/audit.jsonl")" = 1 ]
	# the FIFO named itself
	run --separate-stderr dcp "$TARGET:/data/fifo" "$OUT/fifo"
	[ "$status" -eq 0 ]
	[ ! -e "$OUT/fifo" ]
}

@test "cp: - writes a tar stream that tar extracts to the same files and links" {
	# names and a link target past ustar's 100 bytes, and one that is not ASCII (pax headers)
	long=$(printf 'n%.0s' $(seq 120))
	mkdir -p "$ROOTFS/data/$long/deeper-$long"
	printf 'far-down\n' >"$ROOTFS/data/$long/deeper-$long/f"
	ln -s "/$long/$long/target" "$ROOTFS/data/longlink"
	printf 'accent\n' >"$ROOTFS/data/caf$(printf '\xc3\xa9')"
	dcp "$TARGET:/data" - >"$BATS_TEST_TMPDIR/data.tar"
	tar -C "$OUT" -xf "$BATS_TEST_TMPDIR/data.tar"
	[ "$(cat "$OUT/data/a.txt")" = from-the-container ]
	[ "$(cat "$OUT/data/sub/b.txt")" = deeper ]
	[ "$(readlink "$OUT/data/abs")" = /etc/shadow ]
	[ "$(readlink "$OUT/data/tohost")" = "$HOSTDIR" ]
	[ "$(cat "$OUT/data/$long/deeper-$long/f")" = far-down ]
	[ "$(readlink "$OUT/data/longlink")" = "/$long/$long/target" ]
	[ "$(cat "$OUT/data/caf$(printf '\xc3\xa9')")" = accent ]
	run tar -tvf "$BATS_TEST_TMPDIR/data.tar"
	echo "$output"
	[[ "$output" == *"65532/65532"*"data/a.txt"* ]]
	no_host_secret "$OUT"
	# stdout a terminal is refused
	run --separate-stderr script -qec "$DHIDEBUG cp --no-record $TARGET:/data/a.txt -" /dev/null
	[[ "$output" == *"stdout is a terminal"* ]]
}

@test "cp: files under /proc/<pid>/ are read as content, fd targets as links" {
	run --separate-stderr dcp "$TARGET:/proc/1/status" "$OUT/status"
	[ "$status" -eq 0 ]
	grep -q "^Name:[[:space:]]*app$" "$OUT/status"
	run --separate-stderr dcp "$TARGET:/proc/1/fd" "$OUT/fd"
	[ "$status" -eq 0 ]
	[ "$(readlink "$OUT/fd/0")" = /dev/null ]
	# through a tar stream, whose sizes must be known before the content (/proc says 0)
	dcp "$TARGET:/proc/1/cmdline" - | tar -xOf - cmdline >"$OUT/cmdline"
	[ "$(tr '\0' ' ' <"$OUT/cmdline")" = "/app /vol/from-app /from-app " ]
}

@test "cp: a stopped container's files are copied out, and in" {
	rt kill "$CID" KILL
	for i in $(seq 50); do
		[ "$(rt state "$CID" | jq -r .status)" = stopped ] && break
		sleep 0.1
	done
	[ "$(rt state "$CID" | jq -r .status)" = stopped ]
	run --separate-stderr dcp "$TARGET:/data" "$OUT/data"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/data/a.txt")" = from-the-container ]
	[ "$(readlink "$OUT/data/abs")" = /etc/shadow ]
	sid=$(last_session)
	[ "$(jq -r 'select(.type == "session.start") | .target.state' "$SDIR/$sid/audit.jsonl")" = stopped ]
	printf 'into-stopped\n' >"$BATS_TEST_TMPDIR/x"
	run --separate-stderr dcp "$BATS_TEST_TMPDIR/x" "$TARGET:/data/x"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$ROOTFS/data/x")" = into-stopped ]
	# through a container symlink to /: still the container's files
	run --separate-stderr dcp "$BATS_TEST_TMPDIR/x" "$TARGET:/data/toroot/etc/x"
	[ "$status" -eq 0 ]
	[ "$(cat "$ROOTFS/etc/x")" = into-stopped ]
	# the observe profile refuses it as for a running container
	run --separate-stderr dcp --profile observe "$BATS_TEST_TMPDIR/x" "$TARGET:/data/y"
	one_line_125
	[ ! -e "$ROOTFS/data/y" ]
}

flipper_bundle()
{
	install -m 0755 "$BUILD/tests/flipper" "$1/rootfs/flipper"
	jq --arg host "$HOSTDIR" '.process.args = ["/flipper", "/data/race", $host]' \
		"$1/config.json" >"$1/config.json.new" && mv "$1/config.json.new" "$1/config.json"
}

@test "cp: a directory swapped for a symlink to a host directory during a recursive copy: no host file is read" {
	more_bundle() { flipper_bundle "$@"; }
	container_rm
	container_start dynamic
	for i in $(seq 50); do
		[ -e "$BUNDLE/rootfs/data/race/l" ] && break
		sleep 0.1
	done
	links=0 dirs=0
	# (not `i`: bats' run uses it too)
	for copy in $(seq 40); do
		dest=$OUT/r$copy
		run --separate-stderr "$DHIDEBUG" cp --no-record -q "$TARGET:/data/race" "$dest"
		echo "copy $copy: $status $stderr"
		[ "$status" -eq 0 ]
		for n in d l; do
			if [ -L "$dest/$n" ]; then
				[ "$(readlink "$dest/$n")" = "$HOSTDIR" ]
				links=$((links + 1))
			else
				[ -d "$dest/$n" ]
				[ "$(cat "$dest/$n/f")" = in-the-container ]
				dirs=$((dirs + 1))
			fi
		done
	done
	echo "links $links, directories $dirs"
	[ "$links" -gt 0 ]
	[ "$dirs" -gt 0 ]
	no_host_secret "$OUT"
	# and as a tar stream
	for copy in $(seq 10); do
		"$DHIDEBUG" cp --no-record -q "$TARGET:/data/race" - >"$BATS_TEST_TMPDIR/r.tar"
		mkdir "$OUT/t$copy"
		tar -C "$OUT/t$copy" -xf "$BATS_TEST_TMPDIR/r.tar"
	done
	no_host_secret "$OUT"
}

big_bundle()
{
	head -c $((4 << 20)) /dev/urandom >"$1/rootfs/data/big"
}

@test "cp: the host disk filling up leaves no partial file, and copy.end says failed" {
	more_bundle() { big_bundle "$@"; }
	container_rm
	container_start dynamic
	mkdir "$BATS_TEST_TMPDIR/small"
	mount -t tmpfs -o size=1m tmpfs "$BATS_TEST_TMPDIR/small"
	run --separate-stderr dcp --manifest "$BATS_TEST_TMPDIR/manifest" "$TARGET:/data" "$BATS_TEST_TMPDIR/small/data"
	ls -la "$BATS_TEST_TMPDIR/small/data" || true
	left=$(find "$BATS_TEST_TMPDIR/small" -name '*big*' -o -name '.*dhicp*' | wc -l)
	used=$(df -k --output=used "$BATS_TEST_TMPDIR/small" | tail -1)
	umount "$BATS_TEST_TMPDIR/small"
	one_line_125
	[[ "$stderr" == *"No space left on device"* ]]
	[ "$left" -eq 0 ]
	[ "$used" -lt 512 ]
	[ ! -e "$BATS_TEST_TMPDIR/manifest" ]
	sid=$(last_session)
	run "$DHIDEBUG" sessions verify --dir "$SDIR" "$sid"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "copy.end") | .status' "$SDIR/$sid/audit.jsonl")" = failed ]
	[[ "$(jq -r 'select(.type == "copy.end") | .reason' "$SDIR/$sid/audit.jsonl")" == *"No space left on device"* ]]
	[ "$(jq -r 'select(.type == "session.end") | .status' "$SDIR/$sid/audit.jsonl")" = 125 ]
}

@test "cp: - reads a tar stream into a directory of the container; members that would leave it are refused" {
	src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src/t/sub"
	printf 'from-a-tar\n' >"$src/t/sub/f"
	ln -s /etc/passwd "$src/t/link"
	truncate -s 16M "$src/t/sparse"
	printf 'end' >>"$src/t/sparse"
	tar -C "$src" --sparse -cf "$BATS_TEST_TMPDIR/t.tar" t
	run --separate-stderr dcp_in --manifest "$BATS_TEST_TMPDIR/manifest" - "$TARGET:/data" <"$BATS_TEST_TMPDIR/t.tar"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$ROOTFS/data/t/sub/f")" = from-a-tar ]
	[ "$(readlink "$ROOTFS/data/t/link")" = /etc/passwd ]
	cmp "$ROOTFS/data/t/sparse" "$src/t/sparse"
	[ "$(du -k "$ROOTFS/data/t/sparse" | cut -f1)" -lt 1024 ]
	# the records hash what was written; the manifest names the members
	sid=$(last_session)
	[ "$(jq -r 'select(.type == "copy.file" and .path == "/data/t/sub/f") | .sha256' "$SDIR/$sid/audit.jsonl")" = "$(sha256sum <"$src/t/sub/f" | cut -d' ' -f1)" ]
	(cd "$src" && sha256sum -c "$BATS_TEST_TMPDIR/manifest")
	run "$DHIDEBUG" sessions verify --dir "$SDIR" "$sid"
	[ "$status" -eq 0 ]
	# a member with `..`
	python3 -c '
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
for name in sys.argv[2:]:
    i = tarfile.TarInfo(name); i.size = 1; t.addfile(i, io.BytesIO(b"x"))
' "$BATS_TEST_TMPDIR/evil.tar" "../../../../../../../../$BATS_TEST_TMPDIR/escaped"
	run --separate-stderr dcp_in - "$TARGET:/data" <"$BATS_TEST_TMPDIR/evil.tar"
	one_line_125
	[[ "$stderr" == *"leaves the destination"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/escaped" ]
	# a member through the container's symlink to /, whose host path is the test's folder
	python3 -c '
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
i = tarfile.TarInfo(sys.argv[2]); i.size = 1; t.addfile(i, io.BytesIO(b"x"))
' "$BATS_TEST_TMPDIR/evil2.tar" "toroot$BATS_TEST_TMPDIR/escaped2"
	run --separate-stderr dcp_in - "$TARGET:/data" <"$BATS_TEST_TMPDIR/evil2.tar"
	one_line_125
	[ ! -e "$BATS_TEST_TMPDIR/escaped2" ]
	[ ! -e "$ROOTFS$BATS_TEST_TMPDIR/escaped2" ]
	# a file that is there is refused without --force
	run --separate-stderr dcp_in - "$TARGET:/data" <"$BATS_TEST_TMPDIR/t.tar"
	one_line_125
	[[ "$stderr" == *"exists (--force replaces it)"* ]]
	# the observe profile refuses it too
	run --separate-stderr dcp_in --profile observe - "$TARGET:/data" <"$BATS_TEST_TMPDIR/t.tar"
	one_line_125
}

@test "cp: a name that is not UTF-8 is copied as it is and recorded escaped, not dropped" {
	name=$(printf 'bad\xffname')
	printf 'odd\n' >"$ROOTFS/data/$name"
	run --separate-stderr dcp --manifest "$BATS_TEST_TMPDIR/manifest" "$TARGET:/data" "$OUT/data"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/data/$name")" = odd ]
	sid=$(last_session)
	run "$DHIDEBUG" sessions verify --dir "$SDIR" "$sid"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "copy.file" and .escaped) | "\(.path) \(.escaped | join(","))"' "$SDIR/$sid/audit.jsonl")" = '/data/bad\xffname path,host_path' ]
	sha256sum -c "$BATS_TEST_TMPDIR/manifest"
}

# as_site POLICY-JSON ARGS...: dhidebug ARGS as a delegated operator (sudo by alice), with
# POLICY-JSON as the site policy and the site's sessions folder, both bound over the host's in a
# mount namespace of its own (as attack_trust.bats' site_run does)
as_site()
{
	local site=$BATS_TEST_TMPDIR/site

	mkdir -p "$site/etc"
	[ -d "$site/sessions" ] || mkdir -m 0700 "$site/sessions"
	printf '%s\n' "$1" >"$site/etc/policy.json"
	shift
	run --separate-stderr unshare -m --propagation private sh -c '
		mount --bind "$1/etc" /etc/dhidebug &&
			mount --bind "$1/sessions" /var/lib/dhidebug/sessions || exit 99
		shift
		cd / && exec "$@"' sh "$site" env SUDO_UID=1000 SUDO_GID=1000 SUDO_USER=alice \
		SUDO_COMMAND=/usr/bin/dhidebug "$DHIDEBUG" "$@" </dev/null
	echo "dhidebug $* -> status $status, stdout: $output, stderr: $stderr"
	SITE_SESSIONS=$site/sessions
}

@test "cp: a delegated operator is held to the site policy, recorded in the site's folder, refusals too" {
	# the host's side is alice's (uid 1000): a directory of hers
	UOUT=$(mktemp -d /tmp/dhi-fixcp-user.XXXXXX)
	echo "$UOUT" >>"$BATS_TEST_TMPDIR/rm.dirs"
	chown 1000:1000 "$UOUT"
	as_site '{}' cp "$TARGET:/data/a.txt" "$UOUT/a.txt"
	[ "$status" -eq 0 ]
	[ "$(cat "$UOUT/a.txt")" = from-the-container ]
	[ "$(stat -c %u:%g "$UOUT/a.txt")" = 1000:1000 ]
	# -a: the mode without its set-id bits, the owner hers (not the container's 0:0)
	install -m 06755 /dev/null "$ROOTFS/data/suid"
	as_site '{}' cp -a "$TARGET:/data/suid" "$UOUT/"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a:%u "$UOUT/suid")" = 755:1000 ]
	# in: a file of hers reaches the container
	echo from-alice >"$UOUT/mine"
	chown 1000:1000 "$UOUT/mine"
	as_site '{}' cp "$UOUT/mine" "$TARGET:/data/"
	[ "$status" -eq 0 ]
	[ "$(cat "$ROOTFS/data/mine")" = from-alice ]
	# what she may not write is refused, one line, and recorded (attack_r4.bats: reading too)
	as_site '{}' cp "$TARGET:/data/a.txt" "$OUT/a.txt"
	one_line_125
	[[ "$stderr" == *"is refused in delegated mode: the host's side of a copy is done as"* ]]
	[ ! -e "$OUT/a.txt" ]
	grep -l '"refused":1\|"refused": *true\|"refused":true' "$SITE_SESSIONS"/*/audit.jsonl
	rm -rf "$UOUT" "$SITE_SESSIONS"/*/
	as_site '{}' cp "$TARGET:/data/a.txt" -
	[ "$status" -eq 0 ]
	[ "$output" != "" ]
	f=$(ls "$SITE_SESSIONS"/*/audit.jsonl)
	[ "$(jq -r 'select(.type == "session.start") | "\(.kind) \(.operator.delegated) \(.operator.sudo_user)"' "$f")" = "copy true alice" ]
	[ "$(jq -r 'select(.type == "copy.start") | .operator.sudo_user' "$f")" = alice ]
	# options that would widen the site policy are refused, one line, and recorded
	as_site '{}' cp --sessions-dir "$SDIR" "$TARGET:/data/a.txt" "$OUT/b"
	one_line_125
	[[ "$stderr" == *"--sessions-dir is refused in delegated mode"* ]]
	as_site '{}' cp --no-record "$TARGET:/data/a.txt" "$OUT/b"
	one_line_125
	as_site '{}' cp "pid://$CPID:/data/a.txt" "$OUT/b"
	one_line_125
	# the site's profiles and `cp`
	as_site '{"delegation": {"allowed_profiles": ["observe"]}, "default_profile": "observe"}' \
		cp "$OUT/a.txt" "$TARGET:/data/x"
	one_line_125
	[ ! -e "$ROOTFS/data/x" ]
	as_site '{"cp": "in"}' cp "$TARGET:/data/a.txt" "$OUT/b"
	one_line_125
	[ ! -e "$OUT/b" ]
	[ "$(grep -l '"refused":1\|"refused": *true\|"refused":true' "$SITE_SESSIONS"/*/audit.jsonl | wc -l)" -eq 5 ]
}

@test "cp: a container that exits and is deleted once its root is open: the copy finishes from its files" {
	# the manifest is opened after the container's root: a FIFO nobody reads holds the copy there
	mkfifo "$BATS_TEST_TMPDIR/manifest"
	"$DHIDEBUG" cp --sessions-dir "$SDIR" --force --manifest "$BATS_TEST_TMPDIR/manifest" \
		"$TARGET:/data" "$OUT/data" </dev/null 2>"$BATS_TEST_TMPDIR/cp.err" &
	cpid=$!
	echo "$cpid" >>"$BATS_TEST_TMPDIR/bg.pids"
	# (not a timed assertion: it waits, up to the test's timeout, for cp to be in that open)
	until [ "$(cat "/proc/$cpid/wchan" 2>/dev/null)" = wait_for_partner ]; do
		kill -0 "$cpid"
		sleep 0.1
	done
	# its root is open by then, and nothing copied yet
	[ -z "$(ls "$SDIR")" ]
	[ ! -e "$OUT/data" ]
	rt kill "$CID" KILL
	for i in $(seq 50); do
		[ "$(rt state "$CID" 2>/dev/null | jq -r .status)" = stopped ] && break
		sleep 0.1
	done
	rt delete -f "$CID"
	cat "$BATS_TEST_TMPDIR/manifest" >"$BATS_TEST_TMPDIR/manifest.txt"
	wait "$cpid"
	cat "$BATS_TEST_TMPDIR/cp.err"
	[ "$(cat "$OUT/data/a.txt")" = from-the-container ]
	[ "$(cat "$OUT/data/sub/b.txt")" = deeper ]
	sha256sum -c "$BATS_TEST_TMPDIR/manifest.txt"
	sid=$(last_session)
	run "$DHIDEBUG" sessions verify --dir "$SDIR" "$sid"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "copy.end") | .status' "$SDIR/$sid/audit.jsonl")" = ok ]
}

@test "cp: --wait-stdin starts the copy only once a byte arrives on stdin, and does nothing if none does" {
	# (kubectl dhidebug cp: the pod's dhidebug writes its stream once the attach reads it)
	run --separate-stderr "$DHIDEBUG" cp --sessions-dir "$SDIR" --wait-stdin "$TARGET:/data/a.txt" "$OUT/a.txt" </dev/null
	one_line_125
	[[ "$stderr" == *"--wait-stdin: stdin closed before the copy began"* ]]
	[ ! -e "$OUT/a.txt" ]
	[ -z "$(ls "$SDIR")" ]
	# the byte comes a while later: nothing was written before it
	mkfifo "$BATS_TEST_TMPDIR/go"
	("$DHIDEBUG" cp -q --sessions-dir "$SDIR" --wait-stdin "$TARGET:/data" - <"$BATS_TEST_TMPDIR/go" \
		>"$OUT/stream.tar" 2>"$OUT/err") 3>&- &
	pid=$!
	exec 4>"$BATS_TEST_TMPDIR/go"
	sleep 0.5
	[ ! -s "$OUT/stream.tar" ]
	printf x >&4
	exec 4>&-
	wait "$pid"
	cat "$OUT/err"
	tar -C "$OUT" -xf "$OUT/stream.tar"
	[ "$(cat "$OUT/data/a.txt")" = from-the-container ]
}

@test "cp: into a container with a user namespace, owners go through its uid_map and gid_map" {
	requires toolbox
	# a runc container the runtime gave a user namespace, as attack_redteam.bats makes one
	container_rm
	more_bundle()
	{
		jq '.linux.namespaces += [{type: "user"}]
		    | .linux.uidMappings = [{containerID: 0, hostID: 200000, size: 65536}]
		    | .linux.gidMappings = [{containerID: 0, hostID: 300000, size: 65536}]
		    | .mounts |= map(select(.type != "cgroup"))' \
			"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
		chown -R 200000:300000 "$VOLDIR"
		local m d=$1
		for m in $(jq -r '.mounts[].destination' "$1/config.json"); do
			mkdir -p "$1/rootfs$m"
		done
		while [ "$d" != / ] && [ "$d" != /tmp ]; do
			chmod o+x "$d"
			d=$(dirname "$d")
		done
	}
	container_start dynamic
	[ "$(readlink "/proc/$CPID/ns/user")" != "$(readlink /proc/self/ns/user)" ]
	printf 'plain\n' >"$BATS_TEST_TMPDIR/plain"
	printf 'kept\n' >"$BATS_TEST_TMPDIR/kept"
	mkdir "$BATS_TEST_TMPDIR/tree"
	ln -s kept "$BATS_TEST_TMPDIR/tree/link"
	printf 'deep\n' >"$BATS_TEST_TMPDIR/tree/f"
	chown 1000:1001 "$BATS_TEST_TMPDIR/kept"
	chown -h 1000:1001 "$BATS_TEST_TMPDIR/tree" "$BATS_TEST_TMPDIR/tree/link" "$BATS_TEST_TMPDIR/tree/f"
	# without -a: the container's root, not the host's (which it would see as nobody)
	run --separate-stderr dcp "$BATS_TEST_TMPDIR/plain" "$TARGET:/data/plain"
	[ "$status" -eq 0 ]
	[ "$(stat -c '%u:%g' "$ROOTFS/data/plain")" = 200000:300000 ]
	# -a: the source's owner, as the container names it
	run --separate-stderr dcp -a "$BATS_TEST_TMPDIR/kept" "$TARGET:/data/kept"
	[ "$status" -eq 0 ]
	run --separate-stderr dcp -a "$BATS_TEST_TMPDIR/tree" "$TARGET:/data/tree"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(stat -c '%u:%g' "$ROOTFS/data/kept" "$ROOTFS/data/tree" "$ROOTFS/data/tree/f" | sort -u)" = 201000:301001 ]
	[ "$(stat -c '%u:%g' "$ROOTFS/data/tree/link")" = 201000:301001 ]
	# a tar stream too
	mkdir -p "$BATS_TEST_TMPDIR/t"
	printf 'member\n' >"$BATS_TEST_TMPDIR/t/m"
	run bash -c "tar -C '$BATS_TEST_TMPDIR/t' --owner=7 --group=8 -cf - m | '$DHIDEBUG' cp -q --no-record -a - '$TARGET:/data'"
	[ "$status" -eq 0 ]
	[ "$(stat -c '%u:%g' "$ROOTFS/data/m")" = 200007:300008 ]
	run bash -c "tar -C '$BATS_TEST_TMPDIR/t' -cf - m | '$DHIDEBUG' cp -q --no-record -f - '$TARGET:/data'"
	[ "$status" -eq 0 ]
	[ "$(stat -c '%u:%g' "$ROOTFS/data/m")" = 200000:300000 ]
	# what the container itself sees
	run dhidebug --no-record --profile general "$TARGET" -- stat -c '%n %u:%g' /data/plain /data/kept /data/m
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "/data/plain 0:0
/data/kept 1000:1001
/data/m 0:0" ]
	# an owner the namespace does not map: one line, nothing of it left
	printf 'far\n' >"$BATS_TEST_TMPDIR/far"
	chown 70000:70000 "$BATS_TEST_TMPDIR/far"
	run --separate-stderr dcp -a "$BATS_TEST_TMPDIR/far" "$TARGET:/data/far"
	one_line_125
	[[ "$stderr" == *"uid 70000 has no mapping in the container's user namespace"* ]]
	[ ! -e "$ROOTFS/data/far" ]
}

@test "cp: hard links stay hard links, out and in, in a recursive copy and in tar streams" {
	mkdir -p "$ROOTFS/data/hl/a" "$ROOTFS/data/hl/b"
	printf 'linked\n' >"$ROOTFS/data/hl/a/one"
	ln "$ROOTFS/data/hl/a/one" "$ROOTFS/data/hl/b/two"
	ln "$ROOTFS/data/hl/a/one" "$ROOTFS/data/hl/three"
	printf 'single\n' >"$ROOTFS/data/hl/single"
	run --separate-stderr dcp --manifest "$BATS_TEST_TMPDIR/manifest" "$TARGET:/data/hl" "$OUT/hl"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	# one inode with three names, as in the container
	[ "$(stat -c %i "$OUT/hl/a/one" "$OUT/hl/b/two" "$OUT/hl/three" | sort -u | wc -l)" -eq 1 ]
	[ "$(stat -c %h "$OUT/hl/a/one")" -eq 3 ]
	[ "$(stat -c %h "$OUT/hl/single")" -eq 1 ]
	[ "$(cat "$OUT/hl/b/two")" = linked ]
	# recorded: the first name with its bytes, the others as links to it, each with the hash
	audit=$SDIR/$(last_session)/audit.jsonl
	want=$(printf 'linked\n' | sha256sum | cut -d' ' -f1)
	first=$(jq -r 'select(.type == "copy.file" and .file_type == "file" and (.hardlink | not) and .path != "/data/hl/single") | .path' "$audit")
	[ "$(wc -l <<<"$first")" -eq 1 ]
	[ "$(jq -r 'select(.type == "copy.file" and .hardlink) | "\(.hardlink) \(.sha256) \(.size)"' "$audit" | sort -u)" = "$first $want 0" ]
	[ "$(jq -r 'select(.type == "copy.file" and .hardlink) | .path' "$audit" | wc -l)" -eq 2 ]
	[ "$(jq -r 'select(.type == "copy.end") | .bytes' "$audit")" -eq 14 ]
	sha256sum -c "$BATS_TEST_TMPDIR/manifest"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/manifest")" -eq 4 ]
	# into the container
	mkdir -p "$BATS_TEST_TMPDIR/h/x"
	printf 'in\n' >"$BATS_TEST_TMPDIR/h/x/f"
	ln "$BATS_TEST_TMPDIR/h/x/f" "$BATS_TEST_TMPDIR/h/g"
	run --separate-stderr dcp "$BATS_TEST_TMPDIR/h" "$TARGET:/data/h"
	[ "$status" -eq 0 ]
	[ "$(stat -c %i "$ROOTFS/data/h/x/f" "$ROOTFS/data/h/g" | sort -u | wc -l)" -eq 1 ]
	# a tar stream out: link members, which tar makes links of
	"$DHIDEBUG" cp -q --no-record "$TARGET:/data/hl" - >"$BATS_TEST_TMPDIR/hl.tar"
	[ "$(tar -tvf "$BATS_TEST_TMPDIR/hl.tar" | grep -c ' link to hl/')" -eq 2 ]
	mkdir "$OUT/t"
	tar -C "$OUT/t" -xf "$BATS_TEST_TMPDIR/hl.tar"
	[ "$(stat -c %i "$OUT/t/hl/a/one" "$OUT/t/hl/b/two" "$OUT/t/hl/three" | sort -u | wc -l)" -eq 1 ]
	# a tar stream in: GNU tar's link members, linked in the container and recorded as links
	tar -C "$BATS_TEST_TMPDIR" -cf "$BATS_TEST_TMPDIR/h.tar" h
	mkdir "$ROOTFS/data/tin"
	run --separate-stderr dcp_in - "$TARGET:/data/tin" <"$BATS_TEST_TMPDIR/h.tar"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" != *skipped* ]]
	[ "$(stat -c %i "$ROOTFS/data/tin/h/x/f" "$ROOTFS/data/tin/h/g" | sort -u | wc -l)" -eq 1 ]
	audit=$SDIR/$(last_session)/audit.jsonl
	[ "$(jq -r 'select(.type == "copy.file" and .hardlink) | "\(.path) \(.hardlink)"' "$audit")" = "$(tar -tvf "$BATS_TEST_TMPDIR/h.tar" | awk '/ link to / { print "/data/tin/" $6 " /data/tin/" $9 }')" ]
	# a link to a member the stream did not give: skipped, with the reason
	python3 -c '
import sys, tarfile
t = tarfile.open(sys.argv[1], "w")
i = tarfile.TarInfo("orphan"); i.type = tarfile.LNKTYPE; i.linkname = "nowhere"; t.addfile(i)
' "$BATS_TEST_TMPDIR/orphan.tar"
	run --separate-stderr dcp_in - "$TARGET:/data/tin" <"$BATS_TEST_TMPDIR/orphan.tar"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"skipped \`orphan\`: a hard link to \`nowhere\`, which the stream has not placed before"* ]]
	[ ! -e "$ROOTFS/data/tin/orphan" ]
}

@test "cp: -a carries user.* extended attributes in tar streams, out and in; without -a none" {
	requires python3
	setx() { python3 -c 'import os, sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())' "$@"; }
	getx() { python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode())' "$@"; }
	setx "$ROOTFS/data/a.txt" user.origin the-container
	setx "$ROOTFS/data/a.txt" trusted.secret no
	setx "$ROOTFS/data/sub" user.dir d
	run --separate-stderr bash -c "'$DHIDEBUG' cp --sessions-dir '$SDIR' -a '$TARGET:/data' - >'$BATS_TEST_TMPDIR/x.tar'"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	mkdir "$OUT/x"
	tar --xattrs --xattrs-include='*' -C "$OUT/x" -xf "$BATS_TEST_TMPDIR/x.tar"
	[ "$(getx "$OUT/x/data/a.txt" user.origin)" = the-container ]
	[ "$(getx "$OUT/x/data/sub" user.dir)" = d ]
	[ "$(python3 -c 'import os, sys; print(os.listxattr(sys.argv[1]))' "$OUT/x/data/a.txt")" = "['user.origin']" ]
	[ "$(jq -r 'select(.type == "copy.file" and .path == "/data/a.txt") | .xattrs | join(",")' "$SDIR/$(last_session)/audit.jsonl")" = user.origin ]
	# without -a the stream has none
	"$DHIDEBUG" cp -q --no-record "$TARGET:/data" - >"$BATS_TEST_TMPDIR/plain.tar"
	run_fails grep -aq SCHILY.xattr "$BATS_TEST_TMPDIR/plain.tar"
	# in: GNU tar's xattr records, set with -a
	printf 'to-the-container\n' >"$BATS_TEST_TMPDIR/in"
	setx "$BATS_TEST_TMPDIR/in" user.from the-host
	tar --xattrs -C "$BATS_TEST_TMPDIR" -cf "$BATS_TEST_TMPDIR/in.tar" in
	run --separate-stderr dcp_in -a - "$TARGET:/data" <"$BATS_TEST_TMPDIR/in.tar"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(getx "$ROOTFS/data/in" user.from)" = the-host ]
	[ "$(jq -r 'select(.type == "copy.file" and .path == "/data/in") | .xattrs | join(",")' "$SDIR/$(last_session)/audit.jsonl")" = user.from ]
	run --separate-stderr dcp_in -f - "$TARGET:/data" <"$BATS_TEST_TMPDIR/in.tar"
	[ "$status" -eq 0 ]
	[ "$(python3 -c 'import os, sys; print(os.listxattr(sys.argv[1]))' "$ROOTFS/data/in")" = "[]" ]
}

@test "cp: --max-size skips a larger file on the way out (copy.skip) and refuses a larger tar member on the way in" {
	run --separate-stderr dcp --max-size 10 "$TARGET:/data/a.txt" "$OUT/"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ ! -e "$OUT/a.txt" ]
	[[ "$stderr" == *"skipped"*"over --max-size (10 bytes)"* ]]
	jq -e -s 'any(.[]; .type == "copy.skip" and (.reason | test("19 bytes")))' \
		"$SDIR/$(last_session)/audit.jsonl"
	# in: the stream is refused, nothing of the member written
	tar -C "$ROOTFS/data" -cf "$BATS_TEST_TMPDIR/a.tar" a.txt
	run --separate-stderr "$DHIDEBUG" cp --no-record --max-size=10 - "$TARGET:/data/sub" \
		<"$BATS_TEST_TMPDIR/a.tar"
	one_line_125
	[[ "$stderr" == *"claims 19 bytes, over --max-size"* ]]
	[ ! -e "$ROOTFS/data/sub/a.txt" ]
	run --separate-stderr dcp --max-size=lots "$TARGET:/data/a.txt" "$OUT/"
	one_line_125
	# control: at the size, it is copied
	run --separate-stderr dcp --max-size 19 "$TARGET:/data/a.txt" "$OUT/"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/a.txt")" = from-the-container ]
}
