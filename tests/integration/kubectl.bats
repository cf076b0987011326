#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# kubectl.bats: the kubectl-dhidebug plugin. No cluster runs here, so the API flow is tested
# against a test server, written from the Kubernetes API reference, that serves pod GET, the
# ephemeralcontainers PATCH and a watch, and rejects any request whose method, path, content
# type or body does not match the reference (tests/integration/fake_kube.py). It speaks TLS with
# a CA made here by openssl and wants a bearer token; the plugin finds both in a kubeconfig
# made here, read through the real `kubectl config view`.

load helpers

PLUGIN=${PLUGIN:-$BUILD/kubectl-dhidebug}
TOKEN=test-token-$$

setup_file()
{
	local d=$BATS_FILE_TMPDIR/pki

	command -v openssl >/dev/null || return 0
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fake-kube-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$d/srv.key" -out "$d/srv.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext" -out "$d/srv.crt" 2>/dev/null
}

# start_kube MODE: the test server in MODE, and a kubeconfig ($KCFG) pointing at it
start_kube()
{
	local d=$BATS_FILE_TMPDIR/pki i

	requires python3
	command -v kubectl >/dev/null || skip "needs kubectl (kubernetes-client)"
	[ -s "$d/srv.crt" ] || skip "needs openssl to make the test CA"
	[ -x "$PLUGIN" ] || { echo "no plugin at $PLUGIN (make all)" >&2; return 1; }
	KLOG=$BATS_TEST_TMPDIR/kube.log
	: >"$KLOG"
	python3 "$BATS_TEST_DIRNAME/fake_kube.py" "$d/srv.crt" "$d/srv.key" "$TOKEN" "$1" \
		"$KLOG" "$BATS_TEST_TMPDIR/port" 3>&- &
	KPID=$!
	for i in $(seq 100); do
		[ -s "$BATS_TEST_TMPDIR/port" ] && break
		sleep 0.05
	done
	[ -s "$BATS_TEST_TMPDIR/port" ] || { echo "fake_kube did not start" >&2; return 1; }
	KCFG=$BATS_TEST_TMPDIR/kubeconfig
	cat >"$KCFG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")
    certificate-authority-data: $(base64 -w0 "$d/ca.crt")
users:
- name: dev
  user:
    token: $TOKEN
contexts:
- name: fake
  context: {cluster: fake, user: dev, namespace: default}
current-context: fake
EOF
}

teardown()
{
	if [ -n "${KPID:-}" ]; then
		kill "$KPID" 2>/dev/null || true
		wait "$KPID" 2>/dev/null || true
	fi
	[ -z "${KLOG:-}" ] || { echo "fake_kube log:"; cat "$KLOG"; }
}

# kdbg ARGS...: the plugin as kubectl runs it, with the test's kubeconfig
kdbg()
{
	PATH=$BUILD:$PATH kubectl dhidebug --kubeconfig "$KCFG" "$@"
}

@test "kubectl plugin list finds kubectl-dhidebug on PATH" {
	command -v kubectl >/dev/null || skip "needs kubectl (kubernetes-client)"
	run env PATH="$BUILD:$PATH" kubectl plugin list
	echo "$output"
	[[ "$output" == *"$BUILD/kubectl-dhidebug"* ]]
}

@test "kubectl dhidebug --help prints the usage" {
	command -v kubectl >/dev/null || skip "needs kubectl (kubernetes-client)"
	run env PATH="$BUILD:$PATH" kubectl dhidebug --help
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: kubectl dhidebug <pod>"* ]]
	[[ "$output" == *"--profile"* ]]
}

@test "no pod and bad options are usage errors" {
	[ -x "$PLUGIN" ] || { echo "no plugin at $PLUGIN" >&2; return 1; }
	run "$PLUGIN"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no pod given"* ]]
	run "$PLUGIN" app --profile root
	[ "$status" -eq 2 ]
	[[ "$output" == *'unknown profile `root`'* ]]
	run "$PLUGIN" app --mode node
	[ "$status" -eq 2 ]
	[[ "$output" == *"not supported"* ]]
}

@test "ephemeral: the PATCH is a strategic-merge patch the reference accepts, then a watch" {
	start_kube ok
	run kdbg app --no-attach --profile netadmin --toolbox dhi.io/nginx:1-debian12-dev \
		-- cat /proc/1/cmdline
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ephemeral container dhidebug-"*" is running"* ]]
	[[ "$output" == *"kubectl attach -it app -c dhidebug-"*" -n default"* ]]
	# (only the plugin's requests: a kubectl dispatcher may probe /version and /api itself)
	! grep -E '^REJECT [A-Z]+ /api/v1/' "$KLOG"
	grep -q '^GET pod$' "$KLOG"
	grep -q '^WATCH pod$' "$KLOG"
	body=$(sed -n 's/^PATCH body //p' "$KLOG")
	ec=$(jq -c '.spec.ephemeralContainers[0]' <<<"$body")
	# the default-container annotation chose `web` among two containers
	[ "$(jq -r .targetContainerName <<<"$ec")" = web ]
	[ "$(jq -r .stdin <<<"$ec")" = true ]
	[ "$(jq -r .tty <<<"$ec")" = true ]
	[ "$(jq -c .command <<<"$ec")" = '["dhidebug","--profile","netadmin","--toolbox","dhi.io/nginx:1-debian12-dev","pid://1","--","cat","/proc/1/cmdline"]' ]
	caps=$(jq -r '.securityContext.capabilities.add | join(",")' <<<"$ec")
	[[ ",$caps," == *,SYS_ADMIN,* && ",$caps," == *,SYS_PTRACE,* && ",$caps," == *,NET_ADMIN,* ]]
}

@test "ephemeral: -c chooses the container; an unknown one is refused before any PATCH" {
	start_kube ok
	run kdbg app -c sidecar --no-attach
	[ "$status" -eq 0 ]
	[ "$(sed -n 's/^PATCH body //p' "$KLOG" | jq -r '.spec.ephemeralContainers[0].targetContainerName')" = sidecar ]
	run kdbg app -c nope --no-attach
	[ "$status" -ne 0 ]
	[[ "$output" == *'no container `nope`'* ]]
	run kdbg ghost --no-attach
	[ "$status" -ne 0 ]
	[[ "$output" == *'pod `ghost` not found in namespace `default`'* ]]
}

@test "ephemeral: sysadmin asks for a privileged container" {
	start_kube ok
	run kdbg app --no-attach --profile sysadmin
	[ "$status" -eq 0 ]
	[ "$(sed -n 's/^PATCH body //p' "$KLOG" | jq -r '.spec.ephemeralContainers[0].securityContext.privileged')" = true ]
}

@test "ephemeral: RBAC 403 says which permission is missing" {
	start_kube rbac
	run kdbg app --no-attach
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"RBAC denies it (403)"* ]]
	[[ "$output" == *'`patch` on `pods/ephemeralcontainers`'* ]]
}

@test "ephemeral: a PodSecurity rejection is told apart from RBAC" {
	start_kube podsecurity
	run kdbg app --no-attach
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"rejected by admission (403)"* ]]
	[[ "$output" == *"PodSecurity"* ]]
}

@test "ephemeral: a cluster without ephemeral containers (404 on the subresource)" {
	start_kube noephemeral
	run kdbg app --no-attach
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"the cluster has no ephemeral containers"* ]]
}

@test "ephemeral: an image pull error names the image and stops waiting" {
	start_kube imagepull
	run kdbg app --no-attach --image 127.0.0.1:1/nope:1
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *'cannot pull the dhidebug image `127.0.0.1:1/nope:1` (ErrImagePull)'* ]]
}

@test "ephemeral: a wrong token is a 401, an unknown CA a TLS error" {
	start_kube ok
	sed -i "s/token: .*/token: wrong/" "$KCFG"
	run kdbg app --no-attach
	[ "$status" -ne 0 ]
	[[ "$output" == *"(401)"* ]]
	# without the test CA the server's certificate is unknown
	sed -i "s/token: .*/token: $TOKEN/; /certificate-authority-data/d" "$KCFG"
	run kdbg app --no-attach
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"GET \`https://127.0.0.1:"* ]]
}
