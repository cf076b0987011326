#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# image.bats: sessions on image://REF, an image the test builds (lintimg.py) and pushes with skopeo
# to a docker-registry on 127.0.0.1, pulled into a cache of the test's own: the image's files,
# fresh namespaces (own PID 1, loopback only, own hostname), writes discarded, nothing left.

load helpers

setup_file()
{
	local port i d=$BATS_FILE_TMPDIR

	command -v docker-registry >/dev/null && command -v skopeo >/dev/null || return 0
	mkdir -p "$d/reg/data" "$d/root/etc" "$d/root/app"
	port=$(registry_start "$d/reg")
	port=${port##*:}
	echo "hello from the image" >"$d/root/etc/hello"
	printf 'root:x:0:0::/root:/sbin/nologin\napp:x:65532:65532::/home/app:/sbin/nologin\n' >"$d/root/etc/passwd"
	printf 'root:x:0:\nstaff:x:50:\nwheel:x:10:root,app\n' >"$d/root/etc/group"
	cp "$BUILD/tests/app-static" "$d/root/app/server"
	"$BATS_TEST_DIRNAME/lintimg.py" "$d/oci" 1 "$d/root" \
		'{"Entrypoint":["/app/server"],"User":"app:staff","WorkingDir":"/app","Env":["GREETING=hello","LD_PRELOAD=/app/server"]}' &&
		skopeo copy -q --dest-tls-verify=false "oci:$d/oci:1" "docker://127.0.0.1:$port/img/small:1" \
			>"$d/build.log" 2>&1 &&
		echo "127.0.0.1:$port" >"$d/reg/addr"
}

teardown_file()
{
	[ -e "$BATS_FILE_TMPDIR/reg/pid" ] && kill "$(cat "$BATS_FILE_TMPDIR/reg/pid")" 2>/dev/null || true
}

setup()
{
	requires root toolbox
	command -v docker-registry >/dev/null || missing "needs docker-registry"
	command -v skopeo >/dev/null || missing "needs skopeo"
	REG=$(cat "$BATS_FILE_TMPDIR/reg/addr" 2>/dev/null) ||
		missing "the test image was not pushed: $(tail -n 3 "$BATS_FILE_TMPDIR/reg/log" "$BATS_FILE_TMPDIR/build.log" 2>/dev/null | tr '\n' ' ')"
	IMG=image://$REG/img/small:1
	CACHE=$BATS_FILE_TMPDIR/cache
}

# img ARGS...: dhidebug with the test toolbox and cache, the sysadmin profile (it runs sh)
img()
{
	"$DHIDEBUG" --toolbox "$TOOLBOX" --toolbox-cache "$CACHE" --profile sysadmin -q "$@" </dev/null
}

@test "image://: a session sees the image's files, from the registry through the cache" {
	run img "$IMG" -- cat /target/etc/hello
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "hello from the image" ]
	# the image was pulled into the given cache
	ls "$CACHE"/sha256/*/rootfs/app/server
}

@test "image://: fresh namespaces: its own PID 1, loopback only, hostname image" {
	run img "$IMG" -- sh -c 'cat /proc/1/comm; ip -o link | cut -d: -f2; hostname'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = dhi-image ]
	[ "${lines[1]}" = " lo" ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[2]}" = image ]
	# none of the host's processes is visible: only the image's holder and the session's own
	run img "$IMG" -- sh -c 'ps -e -o comm= | sort -u | paste -sd " "'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "dhi-image dhidebug-init paste ps sh sort" ]
}

@test "image://: writes are discarded: not in the cache, not in the next session" {
	run img "$IMG" -- sh -c 'echo written >/target/etc/new && cat /target/etc/new'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = written ]
	# the cache entry is there, the written file is not
	ls "$CACHE"/sha256/*/rootfs/etc/hello
	run ls "$CACHE"/sha256/*/rootfs/etc/new
	[ "$status" -eq 2 ]
	[[ "$output" == *"/rootfs/etc/new': No such file or directory" ]]
	run img "$IMG" -- cat /target/etc/new
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "cat: /target/etc/new: No such file or directory" ]
}

@test "image://: no process is left behind, also after SIGKILL of dhidebug" {
	local pid i

	run img "$IMG" -- true
	[ "$status" -eq 0 ]
	[ -z "$(pgrep -x dhi-image)" ]
	("$DHIDEBUG" --toolbox "$TOOLBOX" --toolbox-cache "$CACHE" --profile sysadmin -q "$IMG" -- sleep 60 \
		</dev/null >/dev/null 2>&1 3>&-) &
	pid=$!
	for i in $(seq 100); do
		[ -n "$(pgrep -x dhi-image)" ] && break
		sleep 0.1
	done
	[ -n "$(pgrep -x dhi-image)" ]
	kill -KILL "$pid"
	wait "$pid" || true
	for i in $(seq 50); do
		[ -z "$(pgrep -x dhi-image)" ] && break
		sleep 0.1
	done
	[ -z "$(pgrep -x dhi-image)" ]
}

@test "image://: the session has the image's User (by name, with its groups), WorkingDir and Env (without LD_PRELOAD)" {
	run img --view toolbox "$IMG" -- sh -c 'id -u; id -g; id -G; pwd; echo "$GREETING"; echo "${LD_PRELOAD-unset}"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 65532 ]
	[ "${lines[1]}" = 50 ]
	[ "${lines[2]}" = "50 10" ]
	[ "${lines[3]}" = /target/app ]
	[ "${lines[4]}" = hello ]
	[ "${lines[5]}" = unset ]
	# --user and --user target
	run img --user 0 "$IMG" -- id -u
	[ "$output" = 0 ]
	run img --user target "$IMG" -- id -u
	[ "$output" = 65532 ]
	# --net host: the host's interfaces
	run img --net host "$IMG" -- cat /proc/net/dev
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]:2}" | cut -d: -f1 | tr -d ' ' | sort | tr '\n' ' ')" = \
		"$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\n' ' ')" ]
}

@test "image://: the holder (PID 1 of the session) keeps nothing privileged: nobody, no capabilities, no_new_privs, strict seccomp" {
	run img "$IMG" -- cat /proc/1/status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\nUid:\t65534\t65534\t65534\t65534'* ]]
	[[ "$output" == *$'\nCapEff:\t0000000000000000'* ]]
	[[ "$output" == *$'\nCapPrm:\t0000000000000000'* ]]
	[[ "$output" == *$'\nCapBnd:\t0000000000000000'* ]]
	[[ "$output" == *$'\nNoNewPrivs:\t1'* ]]
	[[ "$output" == *$'\nSeccomp:\t1'* ]]
	# a device node made in its /dev opens nothing (nodev): a second /dev/null there is refused
	run img "$IMG" -- sh -c 'mknod /dev/null2 c 1 3 && echo x >/dev/null2'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"/dev/null2: Permission denied"* ]]
}

@test "image://: --write is refused (the cache is never written)" {
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --toolbox-cache "$CACHE" --write "$IMG" -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"--write applies to stopped containers"* ]]
	[ -z "$(pgrep -x dhi-image)" ]
}

@test "image://: an image that is not in the registry is an error" {
	run img "image://$REG/img/nope:1" -- true
	echo "$output"
	[ "$status" -eq 125 ]
	[[ "$output" == *"img/nope:1"* ]]
}
