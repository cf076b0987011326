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

teardown_file()
{
	local m RT=$BATS_FILE_TMPDIR

	if [ -d "$RT/pm" ]; then
		pm pod rm -af -t 0 >/dev/null 2>&1 || true
		pm rm -af -t 0 >/dev/null 2>&1 || true
	fi
	for m in $(awk -v rt="$RT" 'index($5, rt) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
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
	run_fails grep -E '^REJECT [A-Z]+ /api/v1/' "$KLOG"
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

# --- the in-pod half: dhidebug started the way the ephemeral container starts it ------------
# No kubelet runs here, so podman plays it: a pod whose containers share the pid, net, ipc and
# uts namespaces, the application in one container, and dhidebug started in a second one with
# the capabilities kubectl-dhidebug asks for (profile general: not privileged), the build's
# static dhidebug and the test toolbox mounted into it, as the dhidebug image would hold them.
# Podman runs on private storage with runc and cgroupfs, as in runtimes.bats.

pm()
{
	CONTAINERS_CONF=$BATS_FILE_TMPDIR/containers.conf env -u CONTAINER_HOST podman \
		--root "$BATS_FILE_TMPDIR/pm/root" --runroot "$BATS_FILE_TMPDIR/pm/run" \
		--storage-driver vfs "$@"
}

# the caps of the ephemeral container for profile general, from the plugin's own PATCH
GENERAL_CAPS=SYS_ADMIN,SYS_CHROOT,SYS_PTRACE,SETPCAP,SETUID,SETGID,KILL,DAC_OVERRIDE,CHOWN,FOWNER

pod_setup()
{
	local RT=$BATS_FILE_TMPDIR

	requires root podman toolbox
	[ -e "$RT/pm.images" ] && return 0
	cat >"$RT/containers.conf" <<-'EOF'
		[containers]
		default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
		[engine]
		runtime = "runc"
		cgroup_manager = "cgroupfs"
	EOF
	# the application: a static app, no shell; the debug image: nothing but a marker file
	mkdir -p "$RT/img/etc" "$RT/dimg/etc"
	cp "$BUILD/tests/app-static" "$RT/img/app"
	cp /usr/lib/os-release "$RT/img/etc/os-release"
	echo dhidebug-image >"$RT/dimg/etc/dhidebug-image"
	tar -C "$RT/img" -cf "$RT/app.tar" app etc
	tar -C "$RT/dimg" -cf "$RT/dbg.tar" etc
	pm import --change 'ENTRYPOINT ["/app"]' "$RT/app.tar" localhost/dhi-k8s-app:test >/dev/null
	pm import "$RT/dbg.tar" localhost/dhi-k8s-dbg:test >/dev/null
	touch "$RT/pm.images"
}

# debug_run PODMAN-ARGS... -- DHIDEBUG-ARGS...: dhidebug in a debug container
debug_run()
{
	local pargs=()

	while [ "$1" != -- ]; do
		pargs+=("$1")
		shift
	done
	shift
	run timeout 90 env CONTAINERS_CONF="$BATS_FILE_TMPDIR/containers.conf" \
		podman --root "$BATS_FILE_TMPDIR/pm/root" --runroot "$BATS_FILE_TMPDIR/pm/run" \
		--storage-driver vfs run --rm "${pargs[@]}" --cap-drop all --cap-add "$GENERAL_CAPS" \
		-v "$DHIDEBUG:/usr/local/bin/dhidebug:ro" -v "$TOOLBOX:/toolbox:ro" \
		--entrypoint /usr/local/bin/dhidebug localhost/dhi-k8s-dbg:test \
		--toolbox /toolbox -q "$@" </dev/null
	echo "dhidebug $* -> status $status, output:"
	echo "$output"
}

@test "in-pod: a pod sharing pid,net,ipc,uts; dhidebug in a second container enters the app by its pid there" {
	pod_setup
	local pod=dhik8s-$$-$BATS_TEST_NUMBER hostpid nspid
	pm pod create --name "$pod" --share pid,net,ipc,uts >/dev/null
	pm run -d --pod "$pod" --name "$pod-app" localhost/dhi-k8s-app:test /app /nonexistent/marker >/dev/null
	hostpid=$(pm inspect --format '{{.State.Pid}}' "$pod-app")
	# the app's pid as the pod's shared pid namespace numbers it (pid 1 is the pod's infra)
	nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$hostpid/status")
	[ "$nspid" -gt 1 ]
	debug_run --pod "$pod" -- "pid://$nspid" \
		-c "tr '\0' ' ' </proc/$nspid/cmdline; echo; cat /etc/os-release | head -n1; ls /etc/dhidebug-image; grep CapEff /proc/self/status"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/app /nonexistent/marker"* ]]
	# the session sees the app's root, not the debug container's
	[[ "$output" == *"$(head -n1 /usr/lib/os-release)"* ]]
	[[ "$output" == *"cannot access '/etc/dhidebug-image'"* ]]
	# and still under the profile, inside an unprivileged container
	[[ "$output" == *"CapEff:"* ]]
	# a finished session leaves the app alone
	[ "$(pm inspect --format '{{.State.Status}}' "$pod-app")" = running ]
}

@test "in-pod: a program after -- runs in the app (cat /proc/1/cmdline as kubectl dhidebug -- would)" {
	pod_setup
	local pod=dhik8s-$$-$BATS_TEST_NUMBER hostpid nspid
	pm pod create --name "$pod" --share pid,net,ipc,uts >/dev/null
	pm run -d --pod "$pod" --name "$pod-app" localhost/dhi-k8s-app:test /app /nonexistent/marker >/dev/null
	hostpid=$(pm inspect --format '{{.State.Pid}}' "$pod-app")
	nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$hostpid/status")
	debug_run --pod "$pod" -- "pid://$nspid" -- cat "/proc/$nspid/cmdline"
	[ "$status" -eq 0 ]
	# (bash drops the NULs of cmdline from $output: /app\0/app\0/nonexistent/marker)
	[[ "$output" == *"/app/app/nonexistent/marker"* ]]
	# an unknown pid in the pod's namespace is an error, not a session elsewhere
	debug_run --pod "$pod" -- pid://4000000 -- true
	[ "$status" -ne 0 ]
}

@test "in-pod: joined to the app container's own pid namespace (targetContainerName), the app is pid://1" {
	pod_setup
	local app=dhik8s-$$-$BATS_TEST_NUMBER
	pm run -d --name "$app" localhost/dhi-k8s-app:test /app /nonexistent/marker >/dev/null
	debug_run --pid "container:$app" --network "container:$app" -- pid://1 -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == *"/app/app/nonexistent/marker"* ]]
	pm rm -f -t 0 "$app" >/dev/null
}

# --- the operator's side of the session: kubectl attach on the plugin's pty, recorded here ------

# fake_attach: $BATS_TEST_TMPDIR/bin/kubectl, the real kubectl for everything but `attach`, which
# has nothing to attach to here (the fake API server serves no attach), so a stand-in plays the
# session: it says whether it has a terminal, echoes its arguments and a line it reads.
fake_attach()
{
	local real

	real=$(command -v kubectl)
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/kubectl" <<-EOF
		#!/bin/sh
		if [ "\$1" = attach ]; then
			[ -t 0 ] && [ -t 1 ] && echo "stand-in: on a terminal"
			echo "stand-in: kubectl \$*"
			read -r line
			echo "stand-in: read \$line"
			exit 3
		fi
		exec "$real" "\$@"
	EOF
	chmod 0755 "$BATS_TEST_TMPDIR/bin/kubectl"
}

@test "attach: kubectl attach runs on the plugin's own pty; the session is recorded on this side and verifies" {
	start_kube ok
	fake_attach
	rec=$BATS_TEST_TMPDIR/rec
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$PLUGIN" --kubeconfig "$KCFG" app \
		--record-dir "$rec" <<<"hello from the operator"
	echo "$output"
	# the stand-in's status is the plugin's
	[ "$status" -eq 3 ]
	[[ "$output" == *"stand-in: on a terminal"* ]]
	[[ "$output" == *"stand-in: kubectl attach -it app -c dhidebug-"*" -n default --kubeconfig $KCFG"* ]]
	[[ "$output" == *"stand-in: read hello from the operator"* ]]
	id=$(ls "$rec")
	[ "$(stat -c %a "$rec" "$rec/$id" | sort -u)" = 700 ]
	grep -q 'stand-in: read hello from the operator' "$rec/$id/session.cast"
	head -n1 "$rec/$id/session.cast" | jq -e '.version == 2'
	start=$(head -n1 "$rec/$id/audit.jsonl")
	[ "$(jq -r .type <<<"$start")" = session.start ]
	[ "$(jq -r '.target.runtime + " " + .target.namespace + "/" + .target.name + " " + .target.container' <<<"$start")" = "kubernetes default/app web" ]
	[[ "$(jq -r .target.id <<<"$start")" == dhidebug-* ]]
	[ "$(jq -r .profile.name <<<"$start")" = general ]
	end=$(tail -n1 "$rec/$id/audit.jsonl")
	[ "$(jq -r '.type + " " + (.status|tostring)' <<<"$end")" = "session.end 3" ]
	# the hash chain and the cast digests, checked by dhidebug itself
	run "$DHIDEBUG" sessions verify "$id" --dir "$rec"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "attach: --no-record attaches without a recording; an unusable record dir stops before attaching" {
	start_kube ok
	fake_attach
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$PLUGIN" --kubeconfig "$KCFG" app \
		--no-record --record-dir "$BATS_TEST_TMPDIR/rec" </dev/null
	[ "$status" -eq 3 ]
	[ ! -e "$BATS_TEST_TMPDIR/rec" ]
	mkdir -m 0777 "$BATS_TEST_TMPDIR/open"
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$PLUGIN" --kubeconfig "$KCFG" app \
		--record-dir "$BATS_TEST_TMPDIR/open" </dev/null
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"recording on this side"* ]]
	[[ "$output" != *"stand-in:"* ]]
}
