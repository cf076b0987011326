#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# peers.bats: hostile network peers (issue 22). A malicious registry (hostile_registry.py), a
# malicious Docker Engine (hostile_engine.py) and a malicious Kubernetes API server
# (hostile_kube.py), python on 127.0.0.1 or a unix socket, each serving what a real one serves
# except for the one thing a test is about. A test first shows the harmless variant (the
# positive control: the technique works, the server is right), then what dhidebug or
# kubectl-dhidebug makes of the attack. Caches, configs and kubeconfigs are the tests' own.

load helpers

HREG=$BATS_TEST_DIRNAME/hostile_registry.py
HENGINE=$BATS_TEST_DIRNAME/hostile_engine.py
HKUBE=$BATS_TEST_DIRNAME/hostile_kube.py
PLUGIN=${PLUGIN:-$BUILD/kubectl-dhidebug}
ESC=$'\e'
BEL=$'\a'

setup_file()
{
	local d=$BATS_FILE_TMPDIR/pki

	# a CA and a server certificate for 127.0.0.1, for the API server
	if command -v openssl >/dev/null; then
		mkdir -p "$d"
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=hostile-kube-ca \
			-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
		openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
			-keyout "$d/srv.key" -out "$d/srv.csr" 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
		openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -days 2 -extfile "$d/ext" -out "$d/srv.crt" 2>/dev/null
	fi
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
	run_fails grep -q '^TOKEN' "$RLOG"
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

# --- a lying Kubernetes API server ---

TOKEN=hostile-token-$$

# hkube MODE [KUBECONFIG-CLUSTER-YAML]: hostile_kube.py in MODE and a kubeconfig ($KCFG) for
# it; the cluster entry is the CA by default, or the YAML given (indented for `cluster:`)
hkube()
{
	local d=$BATS_FILE_TMPDIR/pki i port cluster=${2:-}

	requires python3
	command -v kubectl >/dev/null || { echo "needs kubectl (kubernetes-client)" >&2; return 1; }
	[ -s "$d/srv.crt" ] || { echo "needs openssl to make the test CA" >&2; return 1; }
	KLOG=$BATS_TEST_TMPDIR/kube.log
	: >"$KLOG"
	rm -f "$BATS_TEST_TMPDIR/kube.port"
	daemon "$BATS_TEST_TMPDIR/kube.pid" "$BATS_TEST_TMPDIR/kube.out" python3 "$HKUBE" \
		"$d/srv.crt" "$d/srv.key" "$TOKEN" "$1" "$KLOG" "$BATS_TEST_TMPDIR/kube.port"
	for i in $(seq 100); do
		[ -s "$BATS_TEST_TMPDIR/kube.port" ] && break
		sleep 0.05
	done
	[ -s "$BATS_TEST_TMPDIR/kube.port" ] || { cat "$BATS_TEST_TMPDIR/kube.out"; return 1; }
	port=$(cat "$BATS_TEST_TMPDIR/kube.port")
	[ -n "$cluster" ] || cluster="    certificate-authority-data: $(base64 -w0 "$d/ca.crt")"
	KCFG=$BATS_TEST_TMPDIR/kubeconfig
	cat >"$KCFG" <<EOF2
apiVersion: v1
kind: Config
clusters:
- name: hostile
  cluster:
    server: https://127.0.0.1:$port
$cluster
users:
- name: dev
  user:
    token: $TOKEN
contexts:
- name: hostile
  context: {cluster: hostile, user: dev, namespace: default}
current-context: hostile
EOF2
}

# plugin ARGS...: kubectl-dhidebug with the test's kubeconfig, bounded by timeout(1) only so
# that a plugin that never stops fails its test instead of the run
plugin()
{
	run --separate-stderr timeout 60 "$PLUGIN" --kubeconfig "$KCFG" --no-record "$@"
	echo "plugin $* -> $status"
	echo "stdout: $output"
	echo "stderr: $(cat -v <<<"$stderr")"
}

# created_uid: the uid of the node pod the server made
created_uid()
{
	sed -n 's/^CREATED dhidebug-node-[a-z0-9]* uid //p' "$KLOG"
}

@test "node mode: the node pod is deleted with its uid as the DELETE's precondition" {
	local uid

	# (an honest create; the node pod's container ends, so the plugin deletes it at once)
	hkube ok
	plugin --mode node app
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"exited before the attach"* ]]
	uid=$(created_uid)
	[ -n "$uid" ]
	grep -q "^DELETE dhidebug-node-[a-z0-9]* body .*\"preconditions\": {\"uid\": \"$uid\"}" "$KLOG"
	grep -q '^DELETED dhidebug-node-' "$KLOG"
}

@test "node mode: a create answer naming another pod is refused; that pod stays, the one made is deleted" {
	local uid

	hkube victim
	plugin --mode node app
	[ "$status" -eq 125 ]
	# (the server did make a node pod, and named another in its answer)
	uid=$(created_uid)
	[ -n "$uid" ]
	[[ "$stderr" == *"the API server's answer to the create (HTTP 201) is not the pod asked for: it names pod \`victim-db-0\`, not one of generateName \`dhidebug-node-\`"* ]]
	[[ "$stderr" != *"created pod \`victim-db-0\`"* ]]
	run_fails grep -q '^DELETE victim-db-0' "$KLOG"
	# the list returned every pod: the victim and the target are named, not deleted
	[[ "$stderr" == *"not deleting what the pod list returned: it names pod \`victim-db-0\`"* ]]
	run_fails grep -q '^DELETE app' "$KLOG"
	# and the pod the create did make is found by the session's labels and deleted by uid
	grep -q "^DELETE dhidebug-node-[a-z0-9]* body .*\"uid\": \"$uid\"" "$KLOG"
	grep -q '^DELETED dhidebug-node-' "$KLOG"
}

@test "node mode: a GET of the target answered with another pod is refused before anything is made" {
	hkube wrongget
	plugin --mode node app
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"the API server answered the GET of pod \`app\` in namespace \`default\` with another object"* ]]
	run_fails grep -q '^POST' "$KLOG"
}

@test "ephemeral mode: the PATCH carries the uid read, so a pod recreated under the name is not patched" {
	# (positive control: the uid matches, the server takes the patch)
	hkube ok
	plugin app --timeout 5
	grep -q '^PATCH app body .*"metadata": {"uid": "a0a0a0a0-0000-4000-8000-000000000001"}' "$KLOG"
	grep -q '^PATCHED app uid a0a0a0a0-' "$KLOG"
	kill "$(cat "$BATS_TEST_TMPDIR/kube.pid")"

	hkube replaced
	plugin app --timeout 5
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"(422, invalid or refused by admission)"*"metadata.uid"*"field is immutable"* ]]
	run_fails grep -q '^PATCHED' "$KLOG"
}

@test "insecure-skip-tls-verify is honoured with a warning" {
	hkube ok "    insecure-skip-tls-verify: true"
	plugin --mode node app
	[ "$status" -eq 125 ]
	[[ "$stderr" == "kubectl-dhidebug: warning: insecure-skip-tls-verify: the certificate of \`https://127.0.0.1:"*"\` is not checked; its credentials go to whoever answers"* ]]
	# (the requests were made: the flag is honoured)
	grep -q '^GET pod app' "$KLOG"
}

@test "insecure-skip-tls-verify together with a certificate-authority is refused, as client-go refuses it" {
	# (positive control: the CA alone verifies the server, and requests are made)
	hkube ok
	plugin --mode node app
	[[ "$stderr" == *"exited before the attach"* ]]
	grep -q '^GET pod app' "$KLOG"
	kill "$(cat "$BATS_TEST_TMPDIR/kube.pid")"

	hkube ok "    insecure-skip-tls-verify: true
    certificate-authority-data: $(base64 -w0 "$BATS_FILE_TMPDIR/pki/ca.crt")"
	plugin --mode node app
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"sets insecure-skip-tls-verify and a certificate-authority: specifying a root certificate with the insecure flag is not allowed"* ]]
	[ ! -s "$KLOG" ]
}
