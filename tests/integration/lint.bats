#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# lint.bats: dhidebug lint on images the tests build (lintimg.py: one layer and an image config),
# pushed with skopeo to a docker-registry on 127.0.0.1 and linted as image://REF into a cache of
# the test's own; and on running runc containers (config from the bundle, files from the target).

load helpers

LINTIMG=$BATS_TEST_DIRNAME/lintimg.py

setup_file()
{
	local port i d=$BATS_FILE_TMPDIR

	command -v docker-registry >/dev/null && command -v skopeo >/dev/null && command -v cc >/dev/null ||
		return 0
	mkdir -p "$d/reg/data"
	port=$(registry_start "$d/reg")
	port=${port##*:}
	echo "127.0.0.1:$port" >"$d/reg/addr"
	build_images "$d" "127.0.0.1:$port" >"$d/build.log" 2>&1 || rm -f "$d/reg/addr"
}

teardown_file()
{
	[ -e "$BATS_FILE_TMPDIR/reg/pid" ] && kill "$(cat "$BATS_FILE_TMPDIR/reg/pid")" 2>/dev/null || true
}

# image NAME:TAG ROOT CONFIG-JSON: an OCI layout of ROOT, pushed to the registry as lint/NAME:TAG
image()
{
	local d=$1 reg=$2 ref=$3 root=$4 cfg=$5 lay

	lay=$d/oci-${ref%%:*}
	"$LINTIMG" "$lay" "${ref#*:}" "$root" "$cfg" &&
		skopeo copy -q --dest-tls-verify=false "oci:$lay:${ref#*:}" "docker://$reg/lint/$ref"
}

# build_images DIR REG: the four images of the issue, and a root-and-latest one
build_images()
{
	local d=$1 reg=$2 libc ld src=$d/src

	mkdir -p "$src"
	# (b) a program linked against a fake libpq.so.5, which the image then lacks
	printf 'int PQlibVersion(void) { return 160000; }\n' >"$src/pq.c"
	printf 'int PQlibVersion(void);\nint main(void) { return PQlibVersion() == 0; }\n' >"$src/main.c"
	cc -shared -fPIC -Wl,-soname,libpq.so.5 -o "$src/libpq.so.5" "$src/pq.c"
	cc -o "$src/pgapp" "$src/main.c" "$src/libpq.so.5" -Wl,-rpath,/nonexistent
	libc=$(cc -print-file-name=libc.so.6)
	libc=$(readlink -f "$libc")
	ld=$(readlink -f /lib64/ld-linux-x86-64.so.2)

	# (a) shell form, no /bin/sh
	mkdir -p "$d/a/app"
	cp "$BUILD/tests/app-static" "$d/a/app/server"
	image "$d" "$reg" a:1 "$d/a" '{"Entrypoint":["/bin/sh","-c","exec /app/server"],"User":"65532"}'
	# (b) dynamic, libc and the loader present, libpq.so.5 missing
	mkdir -p "$d/b/app" "$d/b/lib/x86_64-linux-gnu" "$d/b/lib64"
	cp "$src/pgapp" "$d/b/app/pgapp"
	cp "$libc" "$d/b/lib/x86_64-linux-gnu/libc.so.6"
	cp "$ld" "$d/b/lib64/ld-linux-x86-64.so.2"
	image "$d" "$reg" b:1 "$d/b" '{"Entrypoint":["/app/pgapp"],"User":"65532"}'
	# (b') the same with the library: passes the ELF check
	mkdir -p "$d/b2"
	cp -a "$d/b/." "$d/b2/"
	cp "$src/libpq.so.5" "$d/b2/lib/x86_64-linux-gnu/libpq.so.5"
	image "$d" "$reg" b2:1 "$d/b2" '{"Entrypoint":["/app/pgapp"],"User":"65532"}'
	# (c) a #!/bin/bash script, no bash
	mkdir -p "$d/c"
	printf '#!/bin/bash\nexec /app/server "$@"\n' >"$d/c/entrypoint.sh"
	chmod 0755 "$d/c/entrypoint.sh"
	image "$d" "$reg" c:1 "$d/c" '{"Entrypoint":["/entrypoint.sh"],"Cmd":["--port","8080"],"User":"65532"}'
	# (d) exec form, static, non-root
	mkdir -p "$d/d/app"
	cp "$BUILD/tests/app-static" "$d/d/app/server"
	image "$d" "$reg" d:1 "$d/d" '{"Entrypoint":["/app/server"],"Cmd":["--port","8080"],"User":"65532","Env":["PATH=/app"]}'
	# Alpine-style, musl: a program built with musl-gcc against its own libfoo.so.1, the
	# loader at /lib/ld-musl-x86_64.so.1 (which is musl's libc too) and an Alpine os-release
	musl_images "$d" "$reg"
	# (e) the same as root, tagged latest, and as a -dev variant
	image "$d" "$reg" e:latest "$d/d" '{"Entrypoint":["server"],"Env":["PATH=/usr/bin:/app"]}'
	image "$d" "$reg" e:1-debian12-dev "$d/d" '{"Entrypoint":["/app/server"],"User":"nonroot"}'
}

# musl_images DIR REG: (m) a musl program with its library in /usr/lib: passes; (m2) the
# library missing: fails naming it; (m3) the library in /opt/lib, which the image's
# /etc/ld-musl-x86_64.path names: passes; (m4) a shell-form entrypoint where /bin/sh is a
# link to a busybox that is not there (an Alpine runtime image)
musl_images()
{
	local d=$1 reg=$2 src=$1/src musl m

	command -v musl-gcc >/dev/null || return 1
	musl=$(readlink -f /lib/ld-musl-x86_64.so.1)
	printf 'int foo(void) { return 0; }\n' >"$src/foo.c"
	printf 'int foo(void);\nint main(void) { return foo(); }\n' >"$src/mmain.c"
	musl-gcc -shared -fPIC -Wl,-soname,libfoo.so.1 -o "$src/libfoo.so.1" "$src/foo.c"
	musl-gcc -o "$src/mapp" "$src/mmain.c" "$src/libfoo.so.1"
	for m in m m2 m3; do
		mkdir -p "$d/$m/app" "$d/$m/lib" "$d/$m/etc"
		cp "$src/mapp" "$d/$m/app/mapp"
		cp "$musl" "$d/$m/lib/ld-musl-x86_64.so.1"
		printf 'ID=alpine\nVERSION_ID=3.21.3\n' >"$d/$m/etc/os-release"
	done
	mkdir -p "$d/m/usr/lib" "$d/m3/opt/lib"
	cp "$src/libfoo.so.1" "$d/m/usr/lib/"
	cp "$src/libfoo.so.1" "$d/m3/opt/lib/"
	printf '/opt/lib\n/usr/lib\n' >"$d/m3/etc/ld-musl-x86_64.path"
	image "$d" "$reg" m:1 "$d/m" '{"Entrypoint":["/app/mapp"],"User":"65532"}'
	image "$d" "$reg" m2:1 "$d/m2" '{"Entrypoint":["/app/mapp"],"User":"65532"}'
	image "$d" "$reg" m3:1 "$d/m3" '{"Entrypoint":["/app/mapp"],"User":"65532"}'
	mkdir -p "$d/m4/bin"
	cp -a "$d/m/." "$d/m4/"
	ln -s /bin/busybox "$d/m4/bin/sh"
	image "$d" "$reg" m4:1 "$d/m4" '{"Entrypoint":["/bin/sh","-c","exec /app/mapp"],"User":"65532"}'
}

setup()
{
	REG=$(cat "$BATS_FILE_TMPDIR/reg/addr" 2>/dev/null || true)
	CACHE=$BATS_TEST_TMPDIR/cache
}

teardown()
{
	container_rm
}

requires_images()
{
	requires root
	command -v docker-registry >/dev/null || missing "needs docker-registry"
	command -v skopeo >/dev/null || missing "needs skopeo"
	command -v cc >/dev/null || missing "needs a C compiler"
	[ -n "$REG" ] || missing "the test images were not built: $(tail -n 3 "$BATS_FILE_TMPDIR/build.log" | tr '\n' ' ')"
}

# lint REF [ARGS...]: dhidebug lint image://REG/lint/REF --json; sets $status, $output, and
# V_<check> (the verdict of each check) and M_<check> (its message)
lint()
{
	local ref=$1 c

	shift
	run --separate-stderr "$DHIDEBUG" --toolbox-cache "$CACHE" -q lint "image://$REG/lint/$ref" --json "$@"
	echo "lint $ref -> $status"
	echo "$output"
	echo "$stderr"
	for c in entrypoint elf user reference variant; do
		eval "V_$c=\$(jq -r --arg c \"\$c\" '.checks[] | select(.check == \$c) | .verdict' <<<\"\$output\")"
		eval "M_$c=\$(jq -r --arg c \"\$c\" '.checks[] | select(.check == \$c) | .message' <<<\"\$output\")"
	done
}

@test "lint (a): a shell-form ENTRYPOINT without /bin/sh fails, with the exec form as the fix" {
	requires_images
	lint a:1
	[ "$status" -eq 1 ]
	[ "$V_entrypoint" = fail ]
	[[ "$M_entrypoint" == *"shell form"*"/bin/sh"* ]]
	[[ "$(jq -r '.checks[0].hint' <<<"$output")" == *"exec form"* ]]
	[ "$V_user" = pass ]
	[ "$(jq -r .failed <<<"$output")" -eq 1 ]
}

@test "lint (b): a dynamic binary missing libpq.so.5 fails naming it; with it, it passes" {
	requires_images
	lint b:1
	[ "$status" -eq 1 ]
	[ "$V_entrypoint" = pass ]
	[ "$V_elf" = fail ]
	[[ "$M_elf" == *"libpq.so.5"* ]]
	# libc and the loader are there: only libpq is named
	[[ "$M_elf" != *"libc.so.6"* ]]
	[[ "$M_elf" != *"interpreter"* ]]
	lint b2:1
	[ "$status" -eq 0 ]
	[ "$V_elf" = pass ]
}

@test "lint: musl (Alpine) programs: the musl loader is their libc, its path file is read, a missing library is named" {
	requires_images
	lint m:1
	[ "$status" -eq 0 ]
	[ "$V_elf" = pass ]
	[[ "$M_elf" == *"interpreter \`/lib/ld-musl-x86_64.so.1\` (musl) and every needed library are present"* ]]
	lint m2:1
	[ "$status" -eq 1 ]
	[ "$V_elf" = fail ]
	[[ "$M_elf" == *"needs libraries missing from the image: libfoo.so.1" ]]
	# (musl's libc.so is its loader: not reported missing)
	[[ "$M_elf" != *"libc.so"* ]]
	lint m3:1
	[ "$status" -eq 0 ]
	[ "$V_elf" = pass ]
	# an Alpine runtime image whose /bin/sh is busybox's link, without busybox
	lint m4:1
	[ "$status" -eq 1 ]
	[ "$V_entrypoint" = fail ]
	[[ "$M_entrypoint" == *"shell form"*"/bin/sh"* ]]
}

@test "lint (c): a #!/bin/bash script entrypoint without bash fails" {
	requires_images
	lint c:1
	[ "$status" -eq 1 ]
	[ "$V_entrypoint" = fail ]
	[[ "$M_entrypoint" == *"/entrypoint.sh"*"script for \`/bin/bash\`"* ]]
}

@test "lint (d): an exec-form static binary as non-root passes" {
	requires_images
	lint d:1
	[ "$status" -eq 0 ]
	[ "$V_entrypoint" = pass ]
	[ "$V_elf" = pass ]
	[[ "$M_elf" == *"statically linked"* ]]
	[ "$V_user" = pass ]
	# pinned by tag only: a warning with the pulled digest in the fix, not a failure
	[ "$V_reference" = warn ]
	[[ "$(jq -r '.checks[] | select(.check == "reference") | .hint' <<<"$output")" == *"@sha256:"* ]]
	[ "$V_variant" = pass ]
	[ "$(jq -r .failed <<<"$output")" -eq 0 ]
	# the same by digest: the reference passes too
	lint "d@$(jq -r .digest <<<"$output")"
	[ "$status" -eq 0 ]
	[ "$V_reference" = pass ]
	# and the text output says the same
	run "$DHIDEBUG" --toolbox-cache "$CACHE" -q lint "image://$REG/lint/d:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"pass  entrypoint  exec form: \`/app/server\`"* ]]
	[[ "$output" == *"0 failed"* ]]
}

@test "lint: root, latest and -dev variants fail" {
	requires_images
	lint e:latest
	[ "$status" -eq 1 ]
	[ "$V_entrypoint" = pass ] # found on PATH
	[ "$V_user" = fail ]
	[ "$V_reference" = fail ]
	lint e:1-debian12-dev
	[ "$status" -eq 1 ]
	[ "$V_variant" = fail ]
	[ "$V_user" = pass ]
}

@test "lint: a running runc container, from its bundle's config and its own files" {
	requires root runc
	container_start static
	run --separate-stderr "$DHIDEBUG" -q lint "$TARGET" --json
	echo "$output $stderr"
	# runc spec runs it as root: that fails; the static /app passes
	[ "$status" -eq 1 ]
	[ "$(jq -r .source <<<"$output")" = "the bundle's config.json" ]
	[ "$(jq -r '.checks[] | select(.check == "entrypoint") | .verdict' <<<"$output")" = pass ]
	[ "$(jq -r '.checks[] | select(.check == "elf") | .verdict' <<<"$output")" = pass ]
	[ "$(jq -r '.checks[] | select(.check == "user") | .verdict' <<<"$output")" = fail ]
	[ "$(jq -r '.checks[] | select(.check == "reference") | .verdict' <<<"$output")" = skip ]
}

@test "lint: a running dynamic container passes the ELF check from its own root" {
	requires root runc
	container_start dynamic
	run --separate-stderr "$DHIDEBUG" -q lint "$TARGET" --json
	echo "$output $stderr"
	[ "$(jq -r '.checks[] | select(.check == "elf") | .verdict' <<<"$output")" = pass ]
	[ "$(jq -r '.checks[] | select(.check == "user") | .verdict' <<<"$output")" = pass ]
}

@test "lint: errors: no such image, no such container, usage" {
	requires root
	run "$DHIDEBUG" lint
	[ "$status" -eq 125 ]
	run "$DHIDEBUG" lint runc://no-such-container-$$
	[ "$status" -eq 125 ]
	[[ "$output" == *"no-such-container"* ]]
	if [ -n "$REG" ]; then
		run "$DHIDEBUG" --toolbox-cache "$BATS_TEST_TMPDIR/c" -q lint "image://$REG/lint/nope:1"
		[ "$status" -eq 125 ]
	fi
}
