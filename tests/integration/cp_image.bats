#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# cp_image.bats: `dhidebug cp image://REF:/PATH DEST` (docs/cp.md): an image's files, pulled from
# a docker-registry on 127.0.0.1 into the test's own cache (as image.bats does), copied out
# through the holder a session on the image gets; a copy in is refused.

load helpers

setup_file()
{
	local port d=$BATS_FILE_TMPDIR

	command -v docker-registry >/dev/null && command -v skopeo >/dev/null || return 0
	mkdir -p "$d/reg/data" "$d/root/etc" "$d/root/data"
	port=$(registry_start "$d/reg")
	port=${port##*:}
	cp "$BUILD/tests/app-static" "$d/root/app"
	cp /usr/lib/os-release "$d/root/etc/os-release"
	printf 'in-the-image\n' >"$d/root/data/a.txt"
	ln -s /etc/shadow "$d/root/data/abs"
	"$BATS_TEST_DIRNAME/lintimg.py" "$d/oci" 1 "$d/root" '{"Entrypoint":["/app"]}' &&
		skopeo copy -q --dest-tls-verify=false "oci:$d/oci:1" "docker://127.0.0.1:$port/img/cp:1" \
			>"$d/build.log" 2>&1 &&
		echo "127.0.0.1:$port" >"$d/reg/addr"
}

teardown_file()
{
	[ -e "$BATS_FILE_TMPDIR/reg/pid" ] && kill "$(cat "$BATS_FILE_TMPDIR/reg/pid")" 2>/dev/null || true
}

setup()
{
	requires root
	command -v docker-registry >/dev/null || missing "needs docker-registry"
	command -v skopeo >/dev/null || missing "needs skopeo"
	REG=$(cat "$BATS_FILE_TMPDIR/reg/addr" 2>/dev/null) ||
		missing "the test image was not pushed: $(tail -n 3 "$BATS_FILE_TMPDIR/reg/log" "$BATS_FILE_TMPDIR/build.log" 2>/dev/null | tr '\n' ' ')"
	IMG=image://$REG/img/cp:1
	CACHE=$BATS_FILE_TMPDIR/cache
	SDIR=$BATS_TEST_TMPDIR/sessions
	mkdir -m 0700 "$SDIR"
}

dcp()
{
	"$DHIDEBUG" cp --toolbox-cache "$CACHE" --sessions-dir "$SDIR" "$@" </dev/null
}

@test "cp image://: an image's directory out, links as links, recorded with the image's digest" {
	run --separate-stderr dcp "$IMG:/data" "$BATS_TEST_TMPDIR/out"
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out/a.txt")" = in-the-image ]
	[ "$(readlink "$BATS_TEST_TMPDIR/out/abs")" = /etc/shadow ]
	sid=$(ls "$SDIR")
	run "$DHIDEBUG" sessions verify --dir "$SDIR" "$sid"
	[ "$status" -eq 0 ]
	start=$(head -n1 "$SDIR/$sid/audit.jsonl")
	[ "$(jq -r .target.runtime <<<"$start")" = image ]
	[[ "$(jq -r .target.image_digest <<<"$start")" == sha256:* ]]
}

@test "cp image://: a copy into an image is refused, one line" {
	printf 'x\n' >"$BATS_TEST_TMPDIR/x"
	run --separate-stderr dcp "$BATS_TEST_TMPDIR/x" "$IMG:/data/x"
	echo "$status: $stderr"
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"an image's files are never written"* ]]
}
