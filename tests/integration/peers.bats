#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# peers.bats: hostile network peers (issue 22). A malicious registry (hostile_registry.py) and
# a malicious Docker Engine (hostile_engine.py), python on 127.0.0.1 or a unix socket, each
# serving what a real one serves except for the one thing a test is about. A test first shows
# the harmless variant (the positive control: the technique works, the server is right), then
# what dhidebug makes of the attack. Caches and configs are the tests' own.

load helpers

HREG=$BATS_TEST_DIRNAME/hostile_registry.py
HENGINE=$BATS_TEST_DIRNAME/hostile_engine.py
ESC=$'\e'
BEL=$'\a'

setup_file()
{
	# a gzip bomb: one file of 1 GiB of zeros, about 1 MB compressed (the issue's was 3 GiB)
	command -v python3 >/dev/null || return 0
	python3 "$BATS_TEST_DIRNAME/hostile_registry.py" mkbomb "$BATS_FILE_TMPDIR/bomb.tar.gz" 1024
}

setup()
{
	CACHE=$BATS_TEST_TMPDIR/cache
	mkdir -m 0700 "$CACHE"
}

teardown()
{
	local p

	for p in "$BATS_TEST_TMPDIR"/*.pid; do
		[ -e "$p" ] || continue
		kill "$(cat "$p")" 2>/dev/null || true
	done
	container_rm
	if [ -n "${SMALL:-}" ]; then
		umount "$SMALL" 2>/dev/null || true
	fi
	for p in "$BATS_TEST_TMPDIR"/*.log; do
		[ -e "$p" ] && { echo "--- $p"; cat -v "$p"; }
	done
	true
}

# hostile MODE: hostile_registry.py in MODE; sets REG (127.0.0.1:PORT) and RLOG
hostile()
{
	local d=$BATS_TEST_TMPDIR i

	requires python3
	rm -f "$d/reg.port"
	RLOG=$d/registry-$1.log
	: >"$RLOG"
	daemon "$d/registry-$1.pid" "$d/registry-$1.out" \
		python3 "$HREG" "$1" "$d/reg.port" "$RLOG" "$BATS_FILE_TMPDIR/bomb.tar.gz"
	for i in $(seq 100); do
		[ -s "$d/reg.port" ] && break
		sleep 0.1
	done
	[ -s "$d/reg.port" ] || { cat "$d/registry-$1.out"; return 1; }
	REG=127.0.0.1:$(cat "$d/reg.port")
}

# pull [OPTIONS...]: dhidebug toolbox pull $REG/hostile/img:1 into $CACHE, bounded by timeout(1)
# only so that a dhidebug that never stops (the bugs here) fails its test instead of the run
pull()
{
	run --separate-stderr timeout 60 "$DHIDEBUG" --toolbox-cache "$CACHE" "$@" \
		toolbox pull "$REG/hostile/img:1"
	echo "pull $* -> $status"
	echo "stdout: $output"
	echo "stderr: $(cat -v <<<"$stderr")"
}

# no_entry: the cache holds no entry and no leftover of a build
no_entry()
{
	[ -z "$(ls -A "$CACHE/sha256")" ]
	[ -z "$(ls -A "$CACHE/tmp")" ]
}

# raw_free TEXT: TEXT holds no terminal control byte (ESC, BEL, CR, C1 CSI/OSC/ST, U+202E)
raw_free()
{
	! LC_ALL=C grep -q $'[\e\a\r]' <<<"$1" &&
		! LC_ALL=C grep -qE $'\xc2[\x80-\x9f]|\xe2\x80[\xa8-\xae]' <<<"$1"
}

@test "gzip bomb: --max-unpacked stops the unpacking at the cap, one line, nothing left" {
	hostile ok
	pull --max-unpacked=16M
	[ "$status" -eq 0 ]
	[ "$(cat "$CACHE"/sha256/*/rootfs/etc/hello)" = hello ]
	kill "$(cat "$BATS_TEST_TMPDIR/registry-ok.pid")"
	rm -rf "$CACHE" && mkdir -m 0700 "$CACHE"

	hostile bomb
	pull --max-unpacked=16M
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "dhidebug: cannot pull \`$REG/hostile/img:1\`: the image unpacks to more than 16.0 MiB (16777216 bytes), its cap (--max-unpacked or the policy's \`toolbox_max_unpacked\`); nothing of it is kept" ]]
	no_entry
}

@test "gzip bomb: the default cap is 20 times the compressed size, at least 64 MiB, at most 90% of the free space" {
	local size mib small_free cap

	hostile bomb
	size=$(stat -c %s "$BATS_FILE_TMPDIR/bomb.tar.gz")
	mib=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')
	# 20 × 1 MB is less than 64 MiB: the floor
	pull
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"the image unpacks to more than 64.0 MiB (67108864 bytes), its cap (20 × its $mib MiB of layers, at least 64 MiB; --max-unpacked sets another); nothing of it is kept" ]]
	no_entry

	# a cache on a 48 MiB filesystem: 90% of what is free there, however it was asked
	SMALL=$BATS_TEST_TMPDIR/small
	mkdir -p "$SMALL"
	mount -t tmpfs -o size=48m,mode=0700 tmpfs "$SMALL"
	CACHE=$SMALL/cache
	mkdir -m 0700 "$CACHE"
	pull --max-unpacked=1G
	[ "$status" -eq 125 ]
	[[ "$stderr" =~ unpacks\ to\ more\ than\ [0-9.]+\ MiB\ \(([0-9]+)\ bytes\),\ its\ cap\ \(90%\ of\ the\ [0-9.]+\ MiB\ free\ on\ the\ cache\'s\ filesystem\) ]]
	cap=${BASH_REMATCH[1]}
	[ "$cap" -le $((48 * 1048576 * 9 / 10)) ]
	[ "$cap" -ge $((47 * 1048576 * 9 / 10)) ]
	no_entry
	# (the filesystem is whole again, and a real image still fits)
	kill "$(cat "$BATS_TEST_TMPDIR/registry-bomb.pid")"
	hostile ok
	pull
	[ "$status" -eq 0 ]
}

@test "gzip bomb: the policy's toolbox_max_unpacked caps it; an option may lower it, not raise it" {
	hostile bomb
	echo '{"toolbox_max_unpacked": 8388608}' >"$BATS_TEST_TMPDIR/policy.json"
	pull --policy "$BATS_TEST_TMPDIR/policy.json"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"unpacks to more than 8.0 MiB (8388608 bytes)"* ]]
	pull --policy "$BATS_TEST_TMPDIR/policy.json" --max-unpacked=4M
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"unpacks to more than 4.0 MiB (4194304 bytes)"* ]]
	pull --policy "$BATS_TEST_TMPDIR/policy.json" --max-unpacked=16M
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"--max-unpacked: the policy allows at most 8388608 bytes"* ]]
	no_entry
}

@test "endless layer body: the pull stops at the descriptor's size, one line, nothing left" {
	hostile ok
	pull
	[ "$status" -eq 0 ]
	kill "$(cat "$BATS_TEST_TMPDIR/registry-ok.pid")"
	rm -rf "$CACHE" && mkdir -m 0700 "$CACHE"

	hostile endless
	pull
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"is longer than the "*" bytes its descriptor says (refused)"* ]]
	no_entry
}

@test "drip-fed layer body: --pull-timeout and the policy's toolbox_pull_timeout end the pull" {
	hostile drip
	pull --pull-timeout=3
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"cannot pull \`$REG/hostile/img:1\`: the pull from \`$REG\` did not end within its deadline of 3 s"* ]]
	no_entry
	echo '{"toolbox_pull_timeout": 2}' >"$BATS_TEST_TMPDIR/policy.json"
	pull --policy "$BATS_TEST_TMPDIR/policy.json"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"did not end within its deadline of 2 s"* ]]
	pull --policy "$BATS_TEST_TMPDIR/policy.json" --pull-timeout=5
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"--pull-timeout: the policy allows at most 2 s"* ]]
	# (the body was a real, slow layer: the server saw the client go)
	for i in $(seq 50); do
		grep -q "DRIP stopped by the client" "$RLOG" && break
		sleep 0.1
	done
	grep -q "DRIP stopped by the client" "$RLOG"
}

@test "registry text: a layer media type with terminal sequences is printed as text" {
	hostile mediatype
	pull
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	raw_free "$stderr"
	[[ "$stderr" == *"unsupported media type \`application/vnd.oci.image.layer.v1.tar+gzip?]0;pwned??[2J\`"* ]]
}

@test "image text: a layer entry named with terminal sequences is printed as text" {
	hostile entryname
	pull
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	raw_free "$stderr"
	[[ "$stderr" == *"layer entry \`/?]0;pwned??[2J\` has an absolute name (refused)"* ]]
	no_entry
}

@test "a config blob that is not JSON is refused, nothing stored" {
	hostile badconfig
	pull
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"the image config \`sha256:"*"\` is not a JSON object"* ]]
	no_entry
}

# docker_config: a config.json with credentials for $REG; DOCKER_CONFIG points at it
docker_config()
{
	mkdir -p "$BATS_TEST_TMPDIR/docker"
	printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" "$(printf 'dev:s3cret' | base64)" \
		>"$BATS_TEST_TMPDIR/docker/config.json"
	export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker
}

@test "a plain-HTTP Bearer realm on another host gets no credentials; on the registry's own host it does" {
	hostile ownrealm
	docker_config
	pull
	[ "$status" -eq 0 ]
	grep -qx "TOKEN Basic $(printf 'dev:s3cret' | base64)" "$RLOG"
	kill "$(cat "$BATS_TEST_TMPDIR/registry-ownrealm.pid")"
	rm -rf "$CACHE" && mkdir -m 0700 "$CACHE"

	hostile realm
	docker_config
	pull
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"sent a plain-HTTP token realm \`http://127.0.0.2:"*"/token\` on another host: credentials go in clear text only to the registry's own host"* ]]
	! grep -q '^TOKEN' "$RLOG"
}

@test "runtime text: an engine's error message with C1 controls and a bidi override is printed as text" {
	local sock=$BATS_TEST_TMPDIR/engine.sock i

	requires root python3
	daemon "$BATS_TEST_TMPDIR/engine.pid" "$BATS_TEST_TMPDIR/engine.out" \
		python3 "$HENGINE" "$sock" "$BATS_TEST_TMPDIR/engine.log"
	for i in $(seq 50); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	[ -S "$sock" ]
	run --separate-stderr env DOCKER_HOST="unix://$sock" "$DHIDEBUG" --toolbox "$TOOLBOX" \
		docker://app -- true
	echo "$status: $(cat -v <<<"$stderr")"
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	# (the engine was asked, and answered with its message)
	grep -q "GET /v1.*/containers/app/json" "$BATS_TEST_TMPDIR/engine.log"
	[[ "$stderr" == *"HTTP 500: No such container: ?2J?0;pwned? ?evil"* ]]
	raw_free "$stderr"
}

# (container text: the dynamic container's /app names its ELF interpreter with terminal
# sequences, and the loader is there under that name, so the container runs)
evil_interpreter_bundle()
{
	local root=$1/rootfs

	python3 - "$root/app" <<'PY' || return 1
import sys
path = sys.argv[1]
data = open(path, "rb").read()
old = b"/lib64/ld-linux-x86-64.so.2\0"
new = b"/\x1b]0;pwned\x07\x1b[2J"
assert data.count(old) == 1, "no /lib64 loader path in the program"
open(path, "wb").write(data.replace(old, new + b"\0" * (len(old) - len(new))))
PY
	cp "$root/lib64/ld-linux-x86-64.so.2" "$root/${ESC}]0;pwned${BEL}${ESC}[2J"
}

@test "container text: an ELF interpreter path with terminal sequences is printed as text by lint" {
	requires root runc python3
	customize_bundle() { evil_interpreter_bundle "$@"; }
	container_start dynamic
	# (positive control: the kernel ran /app through the loader of that name)
	grep -q "${ESC}]0;pwned" "/proc/$CPID/maps"
	run --separate-stderr "$DHIDEBUG" -q lint "$TARGET"
	echo "$status: $(cat -v <<<"$output") $(cat -v <<<"$stderr")"
	[[ "$output" == *"interpreter \`/?]0;pwned??[2J\` and every needed library are present"* ]]
	raw_free "$output"
	raw_free "$stderr"
}

