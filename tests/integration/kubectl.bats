#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# kubectl.bats: the kubectl-dhidebug plugin. No cluster runs here, so the API flow is tested
# against a test server, written from the Kubernetes API reference, that serves pod GET, the
# ephemeralcontainers PATCH, pod create (the node mode's pod) and delete, and watches, and
# rejects any request whose method, path, content type or body does not match the reference
# (tests/integration/fake_kube.py). It speaks TLS with
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
	command -v kubectl >/dev/null || missing "needs kubectl (kubernetes-client)"
	[ -s "$d/srv.crt" ] || missing "needs openssl to make the test CA"
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
	local c

	if [ -e "$BATS_TEST_TMPDIR/pm.containers" ]; then
		while read -r c; do
			pm rm -f -t 0 "$c" >/dev/null 2>&1 || true
		done <"$BATS_TEST_TMPDIR/pm.containers"
	fi
	if [ -n "${KPID:-}" ]; then
		kill "$KPID" 2>/dev/null || true
		wait "$KPID" 2>/dev/null || true
	fi
	[ -z "${KLOG:-}" ] || { echo "fake_kube log:"; cat "$KLOG"; }
}

# kdbg ARGS...: the plugin ($PLUGIN, named kubectl-dhidebug) as kubectl runs it, with the test's
# kubeconfig
kdbg()
{
	PATH=$(dirname "$PLUGIN"):$PATH kubectl dhidebug --kubeconfig "$KCFG" "$@"
}

@test "kubectl plugin list finds kubectl-dhidebug on PATH" {
	command -v kubectl >/dev/null || missing "needs kubectl (kubernetes-client)"
	run env PATH="$BUILD:$PATH" kubectl plugin list
	echo "$output"
	[[ "$output" == *"$BUILD/kubectl-dhidebug"* ]]
}

@test "kubectl dhidebug --help prints the usage" {
	command -v kubectl >/dev/null || missing "needs kubectl (kubernetes-client)"
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
	run "$PLUGIN" app --mode host
	[ "$status" -eq 2 ]
	[[ "$output" == *'unknown --mode `host`'* ]]
	run "$PLUGIN" app --node-namespace x
	[ "$status" -eq 2 ]
	run "$PLUGIN" app --mode node --node-deadline 0
	[ "$status" -eq 2 ]
}

@test "arguments that are not UTF-8 are usage errors naming them, before any request" {
	start_kube ok
	local args
	# (each: the arguments, then what the error names)
	while IFS='|' read -r args what; do
		eval "set -- $args"
		run "$PLUGIN" --kubeconfig "$KCFG" "$@"
		echo "$args -> $status: $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"$what is not valid UTF-8"* ]]
		[ "$(grep -c . <<<"$output")" -eq 1 ]
	done <<-'EOF'
		app --no-attach -- cat $'/tmp/\xff'|argument 2 of the program after `--`
		app --no-attach --toolbox $'dhi.io/x\xc3'|--toolbox
		app --no-attach --image $'img\xc0\xaf'|--image
		app --no-attach --profile $'general\xff'|--profile
		$'app\xff' --no-attach|<pod>
		app -c $'web\xff' --no-attach|-c/--container
		app -n $'default\xed\xa0\x80' --no-attach|-n/--namespace
		app --mode node --node-namespace $'ns\xff'|--node-namespace
	EOF
	run_fails grep -qE '^(GET|PATCH|POST)' "$KLOG"
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
	echo "$output"
	# 2: a usage error or what does not exist (docs/kubernetes.md)
	[ "$status" -eq 2 ]
	[[ "$output" == *'no container `nope`'* ]]
	run kdbg ghost --no-attach
	echo "$output"
	[ "$status" -eq 2 ]
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

# (how long the cut takes is measured by bench/limits, not asserted here)
@test "an API server answer that never ends is cut at 16 MiB: one error, before the server gives up" {
	start_kube endless
	run kdbg app --no-attach
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"the answer is larger than 16 MiB"* ]]
	[ "$(grep -c ENDLESS "$KLOG")" -eq 1 ]
	grep -q "ENDLESS stopped by the client" "$KLOG"
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

@test "ephemeral: the kubeconfig's certificate-authority is the only CA trusted, not the system's too" {
	start_kube ok
	local d=$BATS_FILE_TMPDIR/pki certs=$BATS_TEST_TMPDIR/certs
	# the system's CA directory, in a private mount namespace, knows the test server's CA
	mkdir -p "$certs"
	cp "$d/ca.crt" "$certs/fake-kube-ca.pem"
	cp "$d/ca.crt" "$certs/ca-certificates.crt"
	openssl rehash "$certs" 2>/dev/null
	in_system_certs()
	{
		unshare -m --propagation private sh -c 'mount --bind "$1" /etc/ssl/certs && shift && exec "$@"' \
			sh "$certs" "$@"
	}
	# the control: with no certificate-authority the system's CAs are used, and know the server
	sed -i "/certificate-authority-data/d" "$KCFG"
	run in_system_certs env PATH="$(dirname "$PLUGIN"):$PATH" kubectl dhidebug --kubeconfig "$KCFG" \
		app --no-attach
	echo "no CA: $output"
	grep -q 'GET /api/v1/namespaces/default/pods/app' "$KLOG"
	# a certificate-authority that is not the server's: refused, though the system's would do
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca \
		-keyout "$BATS_TEST_TMPDIR/other.key" -out "$BATS_TEST_TMPDIR/other.crt" 2>/dev/null
	sed -i "s|^    server: .*|&\n    certificate-authority-data: $(base64 -w0 "$BATS_TEST_TMPDIR/other.crt")|" "$KCFG"
	: >"$KLOG"
	run in_system_certs env PATH="$(dirname "$PLUGIN"):$PATH" kubectl dhidebug --kubeconfig "$KCFG" \
		app --no-attach
	echo "other CA: $output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"GET \`https://127.0.0.1:"* ]]
	[ -z "$(grep 'GET /api' "$KLOG")" ]
}

# assert_plain: $output holds no ESC, no CR and no C1 CSI (U+009B) from the API server
assert_plain()
{
	if [[ "$output" == *$'\e'* || "$output" == *$'\r'* || "$output" == *$'\u009b'* ]]; then
		echo "control characters reached the output:"
		printf '%q\n' "$output"
		return 1
	fi
}

@test "ephemeral: ESC sequences and CR/LF in the API server's texts reach the terminal as one line of text" {
	start_kube rbac,hostile
	run "$PLUGIN" --kubeconfig "$KCFG" app --no-attach
	[ "$status" -eq 125 ]
	assert_plain
	[ "$(grep -c . <<<"$output")" -eq 1 ]
	[[ "$output" == *'RBAC denies it (403)'*'?]0;pwned??[2J??kubectl-dhidebug: all good?31m' ]]
	teardown
	KPID= KLOG=
	rm -f "$BATS_TEST_TMPDIR/port"
	start_kube imagepull,hostile
	run "$PLUGIN" --kubeconfig "$KCFG" app --no-attach --image 127.0.0.1:1/nope:1
	echo "$output"
	[ "$status" -eq 125 ]
	assert_plain
	# `added`, the waiting line and the error: three lines, whatever the texts held
	[ "$(grep -c . <<<"$output")" -eq 3 ]
	[[ "$output" == *'waiting: Slow?]0;pwned'* ]]
	[[ "$output" == *'(ErrImagePull): failed to pull'*'?[2J??kubectl-dhidebug: all good?31m; give another with --image' ]]
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

	requires root podman toolbox static-dhidebug
	[ -e "$RT/pm.images" ] && return 0
	containers_conf "$RT/containers.conf"
	# the application: a static app, no shell, and files to copy; the debug image: nothing
	# but a marker file
	mkdir -p "$RT/img/etc" "$RT/dimg/etc" "$RT/img/data/sub"
	cp "$BUILD/tests/app-static" "$RT/img/app"
	cp /usr/lib/os-release "$RT/img/etc/os-release"
	printf 'in-the-app\n' >"$RT/img/data/a.txt"
	printf 'deeper\n' >"$RT/img/data/sub/b.txt"
	ln -s /etc/shadow "$RT/img/data/abs"
	echo dhidebug-image >"$RT/dimg/etc/dhidebug-image"
	tar -C "$RT/img" --owner=0 --group=0 -cf "$RT/app.tar" app etc
	tar -C "$RT/img" --owner=65532 --group=65532 -rf "$RT/app.tar" data
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
	[ "$status" -eq 125 ]
	[[ "$output" == *"pid://4000000"* ]]
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
# session: it says whether it has a terminal, echoes its arguments and a line it reads, and
# exits 3. With STANDIN=ok it exits 0 at once, =fail it fails as an attach to a missing
# container does, =sleep it says `attached` and stays (a long session).
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
			case "\${STANDIN:-}" in
			ok) exit 0 ;;
			fail) echo "error: unable to upgrade connection: container not found" >&2; exit 1 ;;
			sleep) echo \$\$ >"$BATS_TEST_TMPDIR/standin.pid"; echo "stand-in: attached"; sleep 60; exit 0 ;;
			esac
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
	# (the Kubernetes user is only for the recording: not asked without one)
	run_fails grep -q '^SSR' "$KLOG"
	mkdir -m 0777 "$BATS_TEST_TMPDIR/open"
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$PLUGIN" --kubeconfig "$KCFG" app \
		--record-dir "$BATS_TEST_TMPDIR/open" </dev/null
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"recording on this side"* ]]
	[[ "$output" != *"stand-in:"* ]]
}

# --- kubectl dhidebug cp: the tar stream over the attach, recorded on this side --------------
# The attach's stand-in (standin_attach.sh) plays the kubelet: it runs the command the plugin
# gave the container, in the ephemeral mode as the ephemeral container would (podman, in the
# app container's pid and network namespaces, with the capabilities the plugin asks for,
# the static dhidebug mounted), in node mode as the node pod would (the host's dhidebug, the
# container named by its host pid in place of its containerd ID), then reports its exit.

# cp_setup MODE: the test server in MODE, an app container of the image with /data, the
# stand-in; exports what the stand-in needs. Sets APP, APP_PID, STANDIN_LOG.
cp_setup()
{
	pod_setup
	start_kube "$1"
	APP=dhik8s-$$-$BATS_TEST_NUMBER
	pm run -d --name "$APP" localhost/dhi-k8s-app:test /app /nonexistent/marker >/dev/null
	echo "$APP" >>"$BATS_TEST_TMPDIR/pm.containers"
	APP_PID=$(pm inspect --format '{{.State.Pid}}' "$APP")
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/inpod" <<-EOF
		#!/bin/sh
		exec env CONTAINERS_CONF="$BATS_FILE_TMPDIR/containers.conf" podman \
			--root "$BATS_FILE_TMPDIR/pm/root" --runroot "$BATS_FILE_TMPDIR/pm/run" \
			--storage-driver vfs run --rm -i --pid "container:$APP" --network "container:$APP" \
			--cap-drop all --cap-add "$GENERAL_CAPS" -v "$DHIDEBUG:/usr/local/bin/dhidebug:ro" \
			--entrypoint /usr/local/bin/dhidebug localhost/dhi-k8s-dbg:test "\$@"
	EOF
	chmod 0755 "$BATS_TEST_TMPDIR/bin/inpod"
	ln -sf "$BATS_TEST_DIRNAME/standin_attach.sh" "$BATS_TEST_TMPDIR/bin/kubectl"
	STANDIN_LOG=$BATS_TEST_TMPDIR/standin.log
	: >"$STANDIN_LOG"
	export STANDIN_LOG REAL_KUBECTL FAKE_URL FAKE_CA=$BATS_FILE_TMPDIR/pki/ca.crt FAKE_TOKEN=$TOKEN
	REAL_KUBECTL=$(PATH=${PATH#"$BATS_TEST_TMPDIR/bin:"} command -v kubectl)
	FAKE_URL=https://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")
	# ephemeral: the container as the ephemeral container runs; node: the host, the container
	# by its host pid
	if [ "$1" = node ]; then
		export STANDIN_RUN=$DHIDEBUG STANDIN_FROM=containerd://k8s.io/$(printf '4f1c%.0s' $(seq 16))
		export STANDIN_TO=pid://$APP_PID
	else
		export STANDIN_RUN=$BATS_TEST_TMPDIR/bin/inpod
		unset STANDIN_FROM STANDIN_TO
	fi
	OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$OUT"
	REC=$BATS_TEST_TMPDIR/rec
}

# kcp ARGS...: kubectl dhidebug cp, recorded in $REC, with the stand-in kubectl
kcp()
{
	env PATH="$BATS_TEST_TMPDIR/bin:$(dirname "$PLUGIN"):$PATH" "$PLUGIN" cp --kubeconfig "$KCFG" \
		--record-dir "$REC" "$@"
}

# the only recording in $REC, verified by dhidebug; prints its audit.jsonl's path
cp_recording()
{
	local id

	id=$(ls "$REC")
	[ "$(wc -w <<<"$id")" -eq 1 ]
	"$DHIDEBUG" sessions verify "$id" --dir "$REC" >&2
	echo "$REC/$id/audit.jsonl"
}

@test "cp: a directory out of the pod over the attach, hashed and recorded here, as dhidebug cp in the pod streams it" {
	cp_setup ok
	run --separate-stderr kcp app:/data "$OUT/data" </dev/null
	echo "$status: $output / $stderr"
	cat "$STANDIN_LOG"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/data/a.txt")" = in-the-app ]
	[ "$(cat "$OUT/data/sub/b.txt")" = deeper ]
	[ "$(readlink "$OUT/data/abs")" = /etc/shadow ]
	[[ "$stderr" == *"kubectl-dhidebug: cp: 5 entries, 18 bytes, session "* ]]
	# the container: dhidebug cp, no tty, stdin once, the stream started by the plugin's byte
	grep -F 'PATCH body' "$KLOG" | grep -F '"command": ["dhidebug", "cp", "--profile", "general", "--wait-stdin", "pid://1:/data", "-"]'
	grep -F 'PATCH body' "$KLOG" | grep -F '"tty": false' | grep -F '"stdinOnce": true' | grep -qF '"stdin": true'
	grep -qx 'stand-in: kubectl attach -i app -c dhidebug-.* -n default --kubeconfig .*' "$STANDIN_LOG"
	audit=$(cp_recording)
	[ "$(jq -r .type "$audit" | sort | uniq -c | awk '{ print $2 ":" $1 }' | tr '\n' ' ')" = "copy.end:1 copy.file:5 copy.start:1 session.end:1 session.start:1 " ]
	[ "$(jq -r 'select(.type == "session.start") | "\(.kind) \(.target.runtime) \(.target.mode) \(.target.name) \(.target.container) \(.operator.kubernetes.username)"' "$audit")" = "copy kubernetes ephemeral app web oidc:jane@example.com" ]
	[ "$(jq -r 'select(.type == "copy.start") | "\(.direction) \(.target) \(.container_path) \(.host_path)"' "$audit")" = "out kubernetes://default/app/web /data $OUT/data" ]
	[ "$(jq -r 'select(.type == "copy.file" and .path == "/data/sub/b.txt") | "\(.host_path) \(.sha256) \(.uid)"' "$audit")" = "$OUT/data/sub/b.txt $(printf 'deeper\n' | sha256sum | cut -d' ' -f1) 65532" ]
	[ "$(jq -r 'select(.type == "copy.end") | "\(.files) \(.bytes) \(.status)"' "$audit")" = "5 18 ok" ]
	[ "$(jq -r 'select(.type == "session.end") | "\(.status) \(.reason)"' "$audit")" = "0 copied" ]
	# a file to a new name, -a keeping the container's owner
	run --separate-stderr kcp -a -q app:/data/a.txt "$OUT/renamed.txt" </dev/null
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(stat -c '%U:%G %s' "$OUT/renamed.txt")" = "65532:65532 11" ] ||
		[ "$(stat -c '%u:%g %s' "$OUT/renamed.txt")" = "65532:65532 11" ]
}

@test "cp: into the pod, into a directory (PATH/) and to a new name, with a manifest checked by sha256sum -c" {
	cp_setup ok
	printf 'from-the-operator\n' >"$BATS_TEST_TMPDIR/x"
	mkdir -p "$BATS_TEST_TMPDIR/tree/d"
	printf 'nested\n' >"$BATS_TEST_TMPDIR/tree/d/n"
	run --separate-stderr kcp --manifest "$BATS_TEST_TMPDIR/manifest" "$BATS_TEST_TMPDIR/x" app:/data/ </dev/null
	echo "$status: $output / $stderr"
	cat "$STANDIN_LOG"
	[ "$status" -eq 0 ]
	# in the app's own root, as its process sees it
	[ "$(cat "/proc/$APP_PID/root/data/x")" = from-the-operator ]
	grep -F 'PATCH body' "$KLOG" | grep -qF '"command": ["dhidebug", "cp", "--profile", "general", "-", "pid://1:/data"]'
	(cd "$BATS_TEST_TMPDIR" && sha256sum -c manifest)
	audit=$(cp_recording)
	[ "$(jq -r 'select(.type == "copy.file") | "\(.path) \(.host_path) \(.sha256)"' "$audit")" = "/data/x $BATS_TEST_TMPDIR/x $(sha256sum <"$BATS_TEST_TMPDIR/x" | cut -d' ' -f1)" ]
	[ "$(jq -r 'select(.type == "copy.start") | "\(.direction) \(.container_path)"' "$audit")" = "in /data/" ]
	rm -rf "$REC"
	# a directory to a new name: it is that name
	run --separate-stderr kcp -q "$BATS_TEST_TMPDIR/tree" app:/data/newtree </dev/null
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "/proc/$APP_PID/root/data/newtree/d/n")" = nested ]
	audit=$(cp_recording)
	jq -se 'map(select(.type == "copy.file" and .path == "/data/newtree/d/n")) | .[0].host_path | endswith("/tree/d/n")' "$audit"
}

@test "cp: a copy that fails in the pod fails here with its status; nothing of it stays, copy.end says failed" {
	cp_setup ok
	run --separate-stderr kcp --manifest "$BATS_TEST_TMPDIR/m" app:/data/missing "$OUT/missing" </dev/null
	echo "$status: $output / $stderr"
	cat "$STANDIN_LOG"
	[ "$status" -eq 125 ]
	# the pod's dhidebug says why, through the attach; the plugin says how it ended
	[[ "$stderr" == *"dhidebug: cp: cannot open \`/data/missing\`: No such file or directory"* ]]
	[[ "$stderr" == *"kubectl-dhidebug: dhidebug in the pod exited with status 125"* ]]
	[ ! -e "$OUT/missing" ]
	[ ! -e "$BATS_TEST_TMPDIR/m" ]
	audit=$(cp_recording)
	[ "$(jq -r 'select(.type == "copy.end") | .status' "$audit")" = failed ]
	[ "$(jq -r 'select(.type == "session.end") | .status' "$audit")" = 125 ]
	# the observe profile refuses a copy in, in the pod
	rm -rf "$REC"
	printf 'x\n' >"$BATS_TEST_TMPDIR/x"
	run --separate-stderr kcp --profile observe "$BATS_TEST_TMPDIR/x" app:/data/ </dev/null
	echo "$status: $stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"profile \`observe\` does not write the container's files"* ]]
	[ ! -e "/proc/$APP_PID/root/data/x" ]
}

@test "cp: bad operands and a destination that exists are refused before anything is added to the pod" {
	cp_setup ok
	: >"$OUT/there"
	run --separate-stderr kcp app:/data/a.txt "$OUT/there" </dev/null
	echo "$status: $stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == "kubectl-dhidebug: \`$OUT/there\` exists (--force replaces it)" ]]
	run --separate-stderr kcp app:/a other:/b </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"both operands name a pod"* ]]
	run --separate-stderr kcp ./a ./b </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"neither operand is"* ]]
	run --separate-stderr kcp "$BATS_TEST_TMPDIR/nothing" app:/data/ </dev/null
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"cannot open"*"No such file or directory"* ]]
	run_fails grep -q PATCH "$KLOG"
	[ ! -e "$REC" ]
	run kcp --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: kubectl dhidebug cp"* ]]
}

@test "cp: node mode: out and in through the node pod, a Pod the reference accepts, deleted after; recorded" {
	cp_setup node
	run --separate-stderr kcp --mode node app:/data/sub "$OUT/sub" </dev/null
	echo "$status: $output / $stderr"
	cat "$STANDIN_LOG"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/sub/b.txt")" = deeper ]
	grep -q '^CREATED pod dhidebug-node-' "$KLOG"
	grep -q '^DELETE pod dhidebug-node-' "$KLOG"
	grep '^POST pod body' "$KLOG" | grep -F '"command": ["dhidebug", "cp", "--profile", "general", "--wait-stdin", "containerd://k8s.io/'
	audit=$(cp_recording)
	[ "$(jq -r 'select(.type == "session.start") | "\(.kind) \(.target.mode)"' "$audit")" = "copy node" ]
	rm -rf "$REC"
	printf 'via-the-node\n' >"$BATS_TEST_TMPDIR/y"
	run --separate-stderr kcp --mode node "$BATS_TEST_TMPDIR/y" app:/data/y </dev/null
	echo "$status: $stderr"
	[ "$status" -eq 0 ]
	[ "$(cat "/proc/$APP_PID/root/data/y")" = via-the-node ]
	[ "$(grep -c '^DELETE pod dhidebug-node-' "$KLOG")" -eq 2 ]
}

@test "cp: node mode: SIGTERM during the copy ends the attach, deletes the node pod, records the copy failed, exits 143" {
	cp_setup node
	# the container's side never ends: the copy is cut by the signal
	cat >"$BATS_TEST_TMPDIR/bin/hang" <<-EOF
		#!/bin/sh
		echo \$\$ >"$BATS_TEST_TMPDIR/hang.pid"
		exec sleep 60
	EOF
	chmod 0755 "$BATS_TEST_TMPDIR/bin/hang"
	export STANDIN_RUN=$BATS_TEST_TMPDIR/bin/hang
	out=$BATS_TEST_TMPDIR/plugin.out
	env --default-signal=INT,QUIT PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$PLUGIN" cp \
		--kubeconfig "$KCFG" --record-dir "$REC" --mode node app:/data "$OUT/data" \
		</dev/null >"$out" 2>&1 3>&- &
	BGPID=$!
	wait_line "$STANDIN_LOG" '^stand-in: runs'
	for i in $(seq 50); do
		[ -s "$BATS_TEST_TMPDIR/hang.pid" ] && break
		sleep 0.1
	done
	kill -TERM "$BGPID"
	st=0
	wait "$BGPID" || st=$?
	cat "$out"
	[ "$st" -eq 143 ]
	assert_deleted
	grep -q 'stopped by SIGTERM' "$out"
	# the attach's whole process group went: the container's side too
	for i in $(seq 30); do
		kill -0 "$(cat "$BATS_TEST_TMPDIR/hang.pid")" 2>/dev/null || break
		sleep 0.1
	done
	run_fails kill -0 "$(cat "$BATS_TEST_TMPDIR/hang.pid")"
	[ ! -e "$OUT/data" ]
	audit=$(cp_recording)
	[ "$(jq -r 'select(.type == "copy.end") | "\(.status) \(.reason)"' "$audit")" = "failed stopped by SIGTERM" ]
	[ "$(jq -r 'select(.type == "session.end") | .status' "$audit")" = 143 ]
}

# --- the Kubernetes user in the recording: the API server's answer to a SelfSubjectReview -----
# (THREATS #40: the audit record carries the authenticated user, not a client-supplied one)

# rename_kube_user NAME: the kubeconfig's user entry (and its context's user) becomes NAME;
# the token, and so the user the API server authenticates, stay the same
rename_kube_user()
{
	sed -i "s/^- name: dev$/- name: $1/; s/user: dev,/user: $1,/" "$KCFG"
	grep -q "name: $1" "$KCFG"
}

# recorded_start REC: the only session's session.start in REC, after `dhidebug sessions verify`
recorded_start()
{
	local id

	id=$(ls "$1")
	run "$DHIDEBUG" sessions verify "$id" --dir "$1"
	echo "$output" >&2
	[ "$status" -eq 0 ] || return 1
	head -n1 "$1/$id/audit.jsonl"
}

@test "kubernetes user: ephemeral mode records the user the API server names (v1), not the kubeconfig's" {
	FAKE_KUBE_USER=oidc:alice@corp.example FAKE_KUBE_GROUPS=sre,oncall start_kube ok
	rename_kube_user cluster-admin-from-kubeconfig
	fake_attach
	rec=$BATS_TEST_TMPDIR/rec
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" STANDIN=ok "$PLUGIN" --kubeconfig "$KCFG" app \
		--record-dir "$rec" </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"stand-in: kubectl attach"* ]]
	[[ "$output" != *"notice:"* ]]
	run_fails grep -E '^REJECT [A-Z]+ /api' "$KLOG"
	# v1 answered: no v1beta1 request
	[ "$(grep '^SSR ' "$KLOG" | grep -v ' body ')" = "SSR v1 -> 201 oidc:alice@corp.example" ]
	[ "$(sed -n 's/^SSR v1 body //p' "$KLOG")" = '{"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}' ]
	start=$(recorded_start "$rec")
	[ "$(jq -c .operator.kubernetes <<<"$start")" = '{"username":"oidc:alice@corp.example","uid":"7e0c1b6a-5f1d-4e55-9b0e-3a1f0c2d4e5f","groups":["sre","oncall","system:authenticated"]}' ]
	[ "$(jq -r '.operator | has("kubernetes_error")' <<<"$start")" = false ]
	# the local fields are still there
	[ "$(jq -r .operator.uid <<<"$start")" = "$(id -u)" ]
	# the kubeconfig's name for the user appears nowhere in the recording
	run_fails grep -rq cluster-admin-from-kubeconfig "$rec"
}

@test "kubernetes user: node mode records the user the API server names" {
	FAKE_KUBE_USER=system:serviceaccount:ops:debugger FAKE_KUBE_GROUPS=system:serviceaccounts start_kube node
	rename_kube_user kubeconfig-says-root
	fake_attach
	rec=$BATS_TEST_TMPDIR/rec
	STANDIN=ok node_run --record-dir "$rec"
	[ "$status" -eq 0 ]
	assert_deleted
	# asked before the node pod was created
	[ "$(grep -E '^(SSR v1 ->|CREATED pod)' "$KLOG" | cut -c1-6 | tr '\n' ' ')" = "SSR v1 CREATE " ]
	start=$(recorded_start "$rec")
	[ "$(jq -r .target.mode <<<"$start")" = node ]
	[ "$(jq -r '.operator.kubernetes | [.username, (.groups | join(","))] | @tsv' <<<"$start")" = "system:serviceaccount:ops:debugger	system:serviceaccounts,system:authenticated" ]
	run_fails grep -rq kubeconfig-says-root "$rec"
}

@test "kubernetes user: a cluster serving only v1beta1 (Kubernetes 1.27) answers in v1beta1" {
	start_kube ok,ssrbeta
	fake_attach
	rec=$BATS_TEST_TMPDIR/rec
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" STANDIN=ok "$PLUGIN" --kubeconfig "$KCFG" app \
		--record-dir "$rec" </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep '^SSR ' "$KLOG" | grep -v ' body ' | tr '\n' '|')" = "SSR v1 -> 404|SSR v1beta1 -> 201 oidc:jane@example.com|" ]
	[ "$(sed -n 's/^SSR v1beta1 body //p' "$KLOG" | jq -r .apiVersion)" = authentication.k8s.io/v1beta1 ]
	start=$(recorded_start "$rec")
	[ "$(jq -r .operator.kubernetes.username <<<"$start")" = oidc:jane@example.com ]
}

@test "kubernetes user: 403 or no SelfSubjectReview at all records null with the reason, and the session still runs" {
	local mode why
	fake_attach
	while IFS='|' read -r mode why; do
		start_kube "ok,$mode"
		rec=$BATS_TEST_TMPDIR/rec-$mode
		run --separate-stderr env PATH="$BATS_TEST_TMPDIR/bin:$PATH" STANDIN=ok "$PLUGIN" \
			--kubeconfig "$KCFG" app --record-dir "$rec" </dev/null
		echo "$mode: $status"
		echo "$output"
		echo "$stderr"
		[ "$status" -eq 0 ]
		[[ "$output" == *"stand-in: kubectl attach"* ]]
		# one notice line on stderr
		[ "$(grep -c 'notice: the recording names no Kubernetes user' <<<"$stderr")" -eq 1 ]
		grep 'notice:' <<<"$stderr" | grep -qF "$why"
		start=$(recorded_start "$rec")
		[ "$(jq -c .operator.kubernetes <<<"$start")" = null ]
		[[ "$(jq -r .operator.kubernetes_error <<<"$start")" == *"$why"* ]]
		kill "$KPID"
		wait "$KPID" 2>/dev/null || true
		KPID=
		rm -f "$BATS_TEST_TMPDIR/port"
	done <<-'EOF'
		ssrforbidden|RBAC denies `create` on `selfsubjectreviews` in API group `authentication.k8s.io` (403)
		nossr|serves no SelfSubjectReview (404 on authentication.k8s.io v1 and v1beta1
	EOF
}

@test "kubernetes user: a hostile answer is recorded as text, at most 64 groups" {
	start_kube ok,ssrhostile
	fake_attach
	rec=$BATS_TEST_TMPDIR/rec
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" STANDIN=ok "$PLUGIN" --kubeconfig "$KCFG" app \
		--record-dir "$rec" </dev/null
	[ "$status" -eq 0 ]
	start=$(recorded_start "$rec")
	user=$(jq -r .operator.kubernetes.username <<<"$start")
	[ "$user" = "oidc:jane@example.com?]0;pwned??[2J??kubectl-dhidebug: all good?31m" ]
	[ "$(jq -r '.operator.kubernetes.groups | length' <<<"$start")" -eq 64 ]
	[ "$(jq -r '.operator.kubernetes.groups[63]' <<<"$start")" = 'g63?[1m' ]
	[ "$(jq -r .operator.kubernetes.groups_omitted <<<"$start")" -eq 36 ]
}

@test "fake_kube: selfsubjectreviews is as strict as the API server (method, content type, body)" {
	start_kube ok
	command -v curl >/dev/null || missing "needs curl"
	local url ca=$BATS_FILE_TMPDIR/pki/ca.crt
	url=$(awk '/server:/ { print $2 }' "$KCFG")/apis/authentication.k8s.io/v1/selfsubjectreviews
	post() { curl -sS -o /dev/null -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $TOKEN" "$@" "$url"; }
	[ "$(post -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}')" = 201 ]
	[ "$(post -X GET)" = 405 ]
	[ "$(post -X POST -H 'Content-Type: text/plain' -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}')" = 415 ]
	[ "$(post -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"authentication.k8s.io/v1beta1","kind":"SelfSubjectReview"}')" = 400 ]
	[ "$(post -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview"}')" = 400 ]
	[ "$(post -X POST -H 'Content-Type: application/json' -d 'not json')" = 400 ]
	[ "$(post -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview","status":{"userInfo":{"username":"root"}}}')" = 400 ]
	[ "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$ca" -X POST -H 'Content-Type: application/json' -d '{}' "$url")" = 401 ]
}

# --- --mode node: a privileged pod on the target's node, deleted on every way out -------------
# The test server checks the created pod against the Pod reference and against what the node
# mode promises (fake_kube.py check_node_pod), and logs CREATED and DELETE lines.

CID=$(printf '4f1c%.0s' $(seq 16))

# node_run ARGS...: the plugin in node mode with the attach stand-in, stdin from /dev/null
node_run()
{
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$PLUGIN" --kubeconfig "$KCFG" app --mode node \
		"$@" </dev/null
	echo "$output"
}

# node_pod: the POST body of the node pod
node_pod()
{
	sed -n 's/^POST pod body //p' "$KLOG"
}

# assert_deleted: the one pod the plugin created was deleted, at once (gracePeriodSeconds 0)
assert_deleted()
{
	local name

	name=$(sed -n 's/^CREATED pod //p' "$KLOG")
	if [ -z "$name" ] || [ "$(wc -l <<<"$name")" -ne 1 ]; then
		echo "expected one created pod, got: '$name'"
		return 1
	fi
	if ! grep "^DELETE pod $name body " "$KLOG" | grep -q '"gracePeriodSeconds": 0'; then
		echo "pod $name was not deleted"
		return 1
	fi
}

# plugin_bg OUT ARGS...: the node-mode plugin in the background, its output in OUT, its pid in
# BGPID. (bash starts background jobs with SIGINT ignored; env gives it back its default, as a
# terminal's Ctrl-C finds it.)
plugin_bg()
{
	local out=$1

	shift
	env --default-signal=INT,QUIT PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$PLUGIN" \
		--kubeconfig "$KCFG" app --mode node "$@" </dev/null >"$out" 2>&1 3>&- &
	BGPID=$!
}

# wait_line FILE PATTERN: until a line of FILE matches PATTERN (grep -E), 20 s at most
wait_line()
{
	local i

	for i in $(seq 200); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no line matching '$2' in $1:"
	cat "$1"
	return 1
}

@test "node: the pod is a Pod the reference accepts, privileged on the target's node; attached, recorded, deleted" {
	start_kube node
	fake_attach
	rec=$BATS_TEST_TMPDIR/rec
	STANDIN=ok node_run --profile netadmin --toolbox dhi.io/nginx:1-debian12-dev \
		--image reg.example/dhidebug:1 --record-dir "$rec" -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	run_fails grep -E '^REJECT [A-Z]+ /api/v1/' "$KLOG"
	pod=$(node_pod)
	name=$(sed -n 's/^CREATED pod //p' "$KLOG")
	[[ "$name" == dhidebug-node-????? ]]
	[ "$(jq -r .metadata.generateName <<<"$pod")" = dhidebug-node- ]
	[ "$(jq -r '.metadata.labels["app.kubernetes.io/name"]' <<<"$pod")" = dhidebug ]
	[ "$(jq -r '.metadata.labels["dhidebug.io/target-pod"]' <<<"$pod")" = app ]
	[ "$(jq -r '.spec | [.nodeName, .hostPID, .restartPolicy, .activeDeadlineSeconds] | @tsv' <<<"$pod")" = "node-1	true	Never	14400" ]
	[ "$(jq -c .spec.tolerations <<<"$pod")" = '[{"operator":"Exists"}]' ]
	ctr=$(jq -c '.spec.containers[0]' <<<"$pod")
	[ "$(jq -r '[.image, .securityContext.privileged, .stdin, .stdinOnce, .tty] | @tsv' <<<"$ctr")" = "reg.example/dhidebug:1	true	true	true	true" ]
	[ "$(jq -c .command <<<"$ctr")" = '["dhidebug","--profile","netadmin","--toolbox","dhi.io/nginx:1-debian12-dev","containerd://k8s.io/'"$CID"'","--","cat","/proc/1/cmdline"]' ]
	# containerd's state, the host's cgroups and dhidebug's cache, each at its own path
	[ "$(jq -r '[.spec.volumes[].hostPath.path] | sort | join(" ")' <<<"$pod")" = "/run/containerd /sys/fs/cgroup /var/lib/dhidebug" ]
	[ "$(jq -r '[.volumeMounts[].mountPath] | sort | join(" ")' <<<"$ctr")" = "/run/containerd /sys/fs/cgroup /var/lib/dhidebug" ]
	[[ "$output" == *"stand-in: kubectl attach -it $name -c dhidebug -n default --kubeconfig $KCFG"* ]]
	[[ "$output" == *"deleted pod \`$name\`"* ]]
	assert_deleted
	id=$(ls "$rec")
	start=$(head -n1 "$rec/$id/audit.jsonl")
	[ "$(jq -r '.target | [.runtime, .mode, .namespace, .name, .container, .node, .id, .image] | @tsv' <<<"$start")" = "kubernetes	node	default	app	web	node-1	$name	reg.example/dhidebug:1" ]
	[ "$(jq -r .target.container_id <<<"$start")" = "containerd://k8s.io/$CID" ]
	[ "$(jq -r .target.server <<<"$start")" = "$(awk '/server:/ { print $2 }' "$KCFG")" ]
	[[ "$(jq -r .target.container_image_id <<<"$start")" == dhi.io/nginx@sha256:* ]]
	run "$DHIDEBUG" sessions verify "$id" --dir "$rec"
	[ "$status" -eq 0 ]
}

@test "node: the program's non-zero exit is the plugin's, and the pod is deleted" {
	start_kube node
	fake_attach
	node_run --no-record
	[ "$status" -eq 3 ]
	assert_deleted
}

@test "node: a CRI-O container gives crio://ID and CRI-O's directories" {
	start_kube node,crio
	fake_attach
	STANDIN=ok node_run --no-record
	[ "$status" -eq 0 ]
	run_fails grep -E '^REJECT [A-Z]+ /api/v1/' "$KLOG"
	pod=$(node_pod)
	[ "$(jq -c '.spec.containers[0].command' <<<"$pod")" = '["dhidebug","--profile","general","crio://'"$CID"'"]' ]
	[ "$(jq -r '[.spec.volumes[].hostPath.path] | sort | join(" ")' <<<"$pod")" = "/run/containers/storage /run/crio /sys/fs/cgroup /var/lib/containers/storage /var/lib/dhidebug" ]
	assert_deleted
}

@test "node: a container that is not running is refused before any POST" {
	start_kube node,notrunning
	node_run --no-record
	[ "$status" -eq 125 ]
	[[ "$output" == *'container `web` is not running (waiting, CrashLoopBackOff)'* ]]
	[ "$(grep -c . <<<"$output")" -eq 1 ]
	run_fails grep -q '^POST' "$KLOG"
}

@test "node: a container on an unknown runtime is refused before any POST" {
	start_kube node,docker
	node_run --no-record
	[ "$status" -eq 125 ]
	[[ "$output" == *'runs on a runtime --mode node does not know (`docker`)'* ]]
	[ "$(grep -c . <<<"$output")" -eq 1 ]
	run_fails grep -q '^POST' "$KLOG"
}

@test "node: SIGINT while the pod is pending deletes it and exits 130" {
	start_kube node,pending
	fake_attach
	out=$BATS_TEST_TMPDIR/out
	plugin_bg "$out" --no-record
	wait_line "$KLOG" '^WATCH node pod '
	kill -INT "$BGPID"
	st=0
	wait "$BGPID" || st=$?
	cat "$out"
	[ "$st" -eq 130 ]
	grep -q 'stopped by SIGINT; pod `dhidebug-node-.....` deleted' "$out"
	run_fails grep -q 'stand-in:' "$out"
	assert_deleted
}

@test "node: SIGINT when the DELETE then fails says the pod was not deleted" {
	start_kube node,pending,nodelete
	fake_attach
	out=$BATS_TEST_TMPDIR/out
	plugin_bg "$out" --no-record
	wait_line "$KLOG" '^WATCH node pod '
	kill -INT "$BGPID"
	st=0
	wait "$BGPID" || st=$?
	cat "$out"
	[ "$st" -eq 130 ]
	name=$(sed -n 's/^CREATED pod //p' "$KLOG")
	grep -q "^DELETE pod $name " "$KLOG"
	grep -q "cannot delete pod \`$name\`" "$out"
	grep -q "stopped by SIGINT; pod \`$name\` was not deleted" "$out"
	run_fails grep -q '` deleted' "$out"
}

@test "node: SIGTERM while attached deletes the pod, ends the recording, exits 143" {
	start_kube node
	fake_attach
	out=$BATS_TEST_TMPDIR/out rec=$BATS_TEST_TMPDIR/rec
	STANDIN=sleep plugin_bg "$out" --record-dir "$rec"
	wait_line "$out" '^stand-in: attached'
	kill -TERM "$BGPID"
	st=0
	wait "$BGPID" || st=$?
	cat "$out"
	[ "$st" -eq 143 ]
	assert_deleted
	# the stand-in and the sleep it runs (its session) got SIGTERM too: none of it is left
	# (once whoever inherited the sleep has reaped it)
	sid=$(cat "$BATS_TEST_TMPDIR/standin.pid")
	for i in $(seq 30); do
		pgrep -s "$sid" >/dev/null || break
		sleep 0.1
	done
	ps -o pid,stat,args -s "$sid" || true
	run_fails pgrep -s "$sid"
	id=$(ls "$rec")
	[ "$(tail -n1 "$rec/$id/audit.jsonl" | jq -r '[.type, .status, .reason, .signal] | @tsv')" = "session.end	143	signal	TERM" ]
	run "$DHIDEBUG" sessions verify "$id" --dir "$rec"
	[ "$status" -eq 0 ]
}

@test "node: an image pull error names the image and deletes the pod" {
	start_kube node,imagepull
	node_run --no-record --image 127.0.0.1:1/nope:1
	[ "$status" -eq 125 ]
	[[ "$output" == *'cannot pull the dhidebug image `127.0.0.1:1/nope:1` (ErrImagePull)'* ]]
	assert_deleted
}

@test "node: a pod that cannot be scheduled is told as such and deleted" {
	start_kube node,unschedulable
	node_run --no-record
	[ "$status" -eq 125 ]
	[[ "$output" == *'cannot be scheduled on node `node-1`: 0/1 nodes are available: 1 Insufficient memory.'* ]]
	assert_deleted
}

@test "node: ESC sequences and CR/LF in the watch's texts are printed as text, the pod deleted" {
	start_kube node,unschedulable,hostile
	node_run --no-record
	[ "$status" -eq 125 ]
	assert_plain
	[[ "$output" == *'waiting: Slow?]0;pwned??[2J??kubectl-dhidebug: all good?31m: still?]0;pwned'* ]]
	[[ "$output" == *'cannot be scheduled on node `node-1`: 0/1 nodes are available: 1 Insufficient memory.?]0;pwned'* ]]
	assert_deleted
}

@test "node: an attach failure, and a record folder that stops the attach, delete the pod" {
	start_kube node
	fake_attach
	STANDIN=fail node_run --no-record
	[ "$status" -eq 1 ]
	[[ "$output" == *"unable to upgrade connection"* ]]
	assert_deleted
	: >"$KLOG"
	mkdir -m 0777 "$BATS_TEST_TMPDIR/open"
	node_run --record-dir "$BATS_TEST_TMPDIR/open"
	[ "$status" -eq 125 ]
	[[ "$output" == *"recording on this side"* ]]
	[[ "$output" != *"stand-in:"* ]]
	assert_deleted
}

@test "node: a create whose answer never comes, or is not a Pod, still deletes the pod, found by its label" {
	local mode
	for mode in dropcreate garbagecreate; do
		start_kube "node,$mode"
		fake_attach
		node_run --no-record
		[ "$status" -eq 125 ]
		run_fails grep -E '^REJECT [A-Z]+ /api/v1/' "$KLOG"
		session=$(node_pod | jq -r '.metadata.labels["dhidebug.io/session"]')
		grep -q "^LIST pods default labelSelector dhidebug.io/session=$session -> dhidebug-node-" "$KLOG"
		assert_deleted
		[[ "$output" == *"deleted pod \`dhidebug-node-"* ]]
		[[ "$output" != *"stand-in:"* ]]
		teardown
		KPID= KLOG=
		rm -f "$BATS_TEST_TMPDIR/port"
	done
}

@test "node: RBAC 403 on the create names the permission" {
	start_kube node,rbac
	node_run --no-record
	[ "$status" -eq 125 ]
	[[ "$output" == *'RBAC denies it (403); kubectl dhidebug --mode node needs `create` on `pods` in namespace `default`'* ]]
	run_fails grep -q '^DELETE' "$KLOG"
}

@test "node: a PodSecurity namespace is told apart; --node-namespace puts the pod elsewhere" {
	start_kube node,podsecurity
	fake_attach
	node_run --no-record
	[ "$status" -eq 125 ]
	[[ "$output" == *'namespace `default` enforces a PodSecurity level (baseline or restricted) that refuses a privileged pod (403)'* ]]
	[[ "$output" == *"--node-namespace"* ]]
	: >"$KLOG"
	STANDIN=ok node_run --no-record --node-namespace dhidebug-system
	[ "$status" -eq 0 ]
	[ "$(node_pod | jq -r .metadata.namespace)" = dhidebug-system ]
	[[ "$output" == *"stand-in: kubectl attach -it dhidebug-node-"*" -c dhidebug -n dhidebug-system"* ]]
	grep -q '^WATCH node pod ' "$KLOG"
	assert_deleted
}

@test "node: a failed DELETE names the pod and how to delete it by hand" {
	start_kube node,nodelete
	fake_attach
	STANDIN=ok node_run --no-record
	# the session's own status (docs/kubernetes.md): the session ran, only the clean-up failed
	[ "$status" -eq 0 ]
	name=$(sed -n 's/^CREATED pod //p' "$KLOG")
	[[ "$output" == *"cannot delete pod \`$name\` in namespace \`default\`: HTTP 403 (RBAC: needs \`delete\` on \`pods\`)"* ]]
	[[ "$output" == *"kubectl delete pod $name -n default"* ]]
}

# --- exec credential plugins ---------------------------------------------------------------

# (the exec tests run the plugin itself, not through `kubectl dhidebug`: kubectl would run the
# exec plugin as well, for its own requests, and the recorded call would not be ours)

# exec_kubeconfig APIVERSION LINE...: $KCFG's user becomes an exec plugin, $BATS_TEST_TMPDIR/cred
# (with these extra lines under `exec:`); the plugin records what it was given in $XDIR and
# answers as $XDIR/behave says (token, soon: one that expires in 30 s, garbage, leak, wrongapi,
# fail, nothing)
exec_kubeconfig()
{
	local api=$1 server ca

	shift
	XDIR=$BATS_TEST_TMPDIR/x
	mkdir -p "$XDIR"
	echo token >"$XDIR/behave"
	server=$(awk '/server:/ { print $2 }' "$KCFG")
	ca=$(awk '/certificate-authority-data:/ { print $2 }' "$KCFG")
	cat >"$BATS_TEST_TMPDIR/cred" <<-EOF
		#!/bin/sh
		# (what kubectl-dhidebug gives it: this kubectl may run it too, for its own probes)
		r=$XDIR
		[ "\$(cat /proc/\$PPID/comm)" = kubectl-dhidebu ] || r=$XDIR/by-kubectl
		mkdir -p "\$r"
		printf '%s\n' "\$KUBERNETES_EXEC_INFO" >"\$r/info"
		printf '%s\n' "\$@" >"\$r/args"
		printf '%s\n' "\${EXEC_TEST:-unset}" >"\$r/env"
		readlink /proc/\$\$/fd/0 >"\$r/stdin"
		echo call >>"\$r/calls"
		case "\$(cat "$XDIR/behave")" in
		soon) printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\n' "$api" "$TOKEN" "\$(date -u -d '+30 sec' +%Y-%m-%dT%H:%M:%SZ)" ;;
		token) printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}\n' "$api" "$TOKEN" ;;
		garbage) echo "this is not json $TOKEN" ;;
		leak) printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s\\\\r\\\\nX-Evil: 1"}}\n' "$api" "$TOKEN" ;;
		wrongapi) printf '{"apiVersion":"client.authentication.k8s.io/v1alpha1","kind":"ExecCredential","status":{"token":"%s"}}\n' "$TOKEN" ;;
		fail) echo "cred: no session, run cred login" >&2; exit 1 ;;
		nothing) ;;
		esac
	EOF
	chmod 0755 "$BATS_TEST_TMPDIR/cred"
	cat >"$KCFG" <<-EOF
		apiVersion: v1
		kind: Config
		clusters:
		- name: fake
		  cluster:
		    server: $server
		    certificate-authority-data: $ca
		users:
		- name: dev
		  user:
		    exec:
		      apiVersion: $api
		      command: $BATS_TEST_TMPDIR/cred
		$(printf '      %s\n' "$@")
		contexts:
		- name: fake
		  context: {cluster: fake, user: dev, namespace: default}
		current-context: fake
	EOF
}

@test "exec credential plugin (v1): its token is used; args, env and KUBERNETES_EXEC_INFO as the reference says" {
	start_kube ok
	server=$(awk '/server:/ { print $2 }' "$KCFG")
	exec_kubeconfig client.authentication.k8s.io/v1 'args: [get-token, --cluster, fake]' \
		'env: [{name: EXEC_TEST, value: from-kubeconfig}]' 'interactiveMode: Never' \
		'provideClusterInfo: true'
	run "$PLUGIN" --kubeconfig "$KCFG" app --no-attach
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ephemeral container dhidebug-"*" is running"* ]]
	[[ "$output" != *"$TOKEN"* ]]
	run_fails grep -E '^REJECT [A-Z]+ /api/v1/' "$KLOG"
	grep -q '^GET pod$' "$KLOG"
	[ "$(cat "$XDIR/args" | tr '\n' ' ')" = "get-token --cluster fake " ]
	[ "$(cat "$XDIR/env")" = from-kubeconfig ]
	[ "$(cat "$XDIR/stdin")" = /dev/null ]
	info=$(cat "$XDIR/info")
	[ "$(jq -r '[.apiVersion, .kind, .spec.interactive] | @tsv' <<<"$info")" = "client.authentication.k8s.io/v1	ExecCredential	false" ]
	[ "$(jq -r .spec.cluster.server <<<"$info")" = "$server" ]
	[ "$(jq -r '.spec.cluster["certificate-authority-data"]' <<<"$info" | base64 -d | head -n1)" = "-----BEGIN CERTIFICATE-----" ]
}

@test "exec credential plugin (v1beta1): interactiveMode defaults, no cluster info unless asked" {
	start_kube ok
	exec_kubeconfig client.authentication.k8s.io/v1beta1
	run "$PLUGIN" --kubeconfig "$KCFG" app --no-attach
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -c .spec "$XDIR/info")" = '{"interactive":false}' ]
	[ "$(jq -r .apiVersion "$XDIR/info")" = client.authentication.k8s.io/v1beta1 ]
}

@test "exec credential plugin: failing, garbage, a header in the token, wrong apiVersion, nothing, not found: one line naming it, status 125" {
	start_kube ok
	exec_kubeconfig client.authentication.k8s.io/v1 'interactiveMode: Never' \
		'installHint: "install cred from https://cred.example"'
	for b in fail garbage leak wrongapi nothing; do
		echo "$b" >"$XDIR/behave"
		run --separate-stderr "$PLUGIN" --kubeconfig "$KCFG" app --no-attach
		echo "$b: $status: $stderr"
		[ "$status" -eq 125 ]
		[[ "$stderr" == *"exec credential plugin \`$BATS_TEST_TMPDIR/cred\`"* ]]
		# the plugin's own stderr goes to the user; ours is one line, without the token
		[ "$(grep -vc '^cred: ' <<<"$stderr")" -eq 1 ]
		[[ "$stderr" != *"$TOKEN"* ]]
	done
	[[ "$stderr" == *"printed nothing"* ]]
	run_fails grep -q '^GET pod' "$KLOG"
	rm "$BATS_TEST_TMPDIR/cred"
	run --separate-stderr "$PLUGIN" --kubeconfig "$KCFG" app --no-attach
	echo "$stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"not found: install cred from https://cred.example"* ]]
}

@test "exec credential plugin: a token that expires during a node session is renewed for the DELETE" {
	start_kube node
	fake_attach
	exec_kubeconfig client.authentication.k8s.io/v1 'interactiveMode: Never'
	echo soon >"$XDIR/behave"
	STANDIN=ok node_run --no-record
	[ "$status" -eq 0 ]
	assert_deleted
	# once for the session, once more before the DELETE
	[ "$(wc -l <"$XDIR/calls")" -eq 2 ]
}

@test "exec credential plugin: with several KUBECONFIG files, a relative command is taken from the folder of the file that names the user" {
	start_kube ok
	exec_kubeconfig client.authentication.k8s.io/v1 'interactiveMode: Never'
	# the cluster and the context in one file, the user (./bin/cred) in another, elsewhere
	mkdir -p "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b/bin" "$BATS_TEST_TMPDIR/cwd/bin"
	mv "$BATS_TEST_TMPDIR/cred" "$BATS_TEST_TMPDIR/b/bin/cred"
	sed -n '/^users:/,/^contexts:/p' "$KCFG" | sed '$d' |
		sed "s|command: .*|command: ./bin/cred|" >"$BATS_TEST_TMPDIR/b/config"
	sed '/^users:/,/^contexts:/{/^contexts:/!d}' "$KCFG" >"$BATS_TEST_TMPDIR/a/config"
	cat "$BATS_TEST_TMPDIR/a/config" "$BATS_TEST_TMPDIR/b/config"
	# a ./bin/cred where we run it is not the one: it fails
	printf '#!/bin/sh\necho "wrong cred" >&2\nexit 1\n' >"$BATS_TEST_TMPDIR/cwd/bin/cred"
	chmod 0755 "$BATS_TEST_TMPDIR/cwd/bin/cred"
	cd "$BATS_TEST_TMPDIR/cwd"
	run env KUBECONFIG="$BATS_TEST_TMPDIR/missing:$BATS_TEST_TMPDIR/a/config:$BATS_TEST_TMPDIR/b/config" \
		"$PLUGIN" app --no-attach
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"wrong cred"* ]]
	[ "$(wc -l <"$XDIR/calls")" -ge 1 ]
	grep -q '^GET pod$' "$KLOG"
}

# --- watches and the ephemeralcontainers subresource as the API server serves them -----------
# From the API reference (api-concepts: resource versions, "410 Gone" responses, watch
# bookmarks) and the apiserver's ValidatePodEphemeralContainersUpdate: the test server's
# watches carry a resourceVersion per change, end early, answer 410 Gone (as an ERROR event
# or an HTTP 410) and send BOOKMARKs when asked; its PATCH takes the three patch types and
# refuses to change or remove an existing ephemeral container (422).

# stop_kube: the test server of this test stopped (and its log shown), for the next start_kube
stop_kube()
{
	teardown
	KPID= KLOG=
	rm -f "$BATS_TEST_TMPDIR/port"
}

# watch_lines: the target pod's watches the plugin made, as `WATCH pod[ from resourceVersion N]|…`
watch_lines()
{
	grep -E '^WATCH pod( from resourceVersion [0-9]+)?$' "$KLOG" | tr '\n' '|'
}

@test "ephemeral: a watch the API server ends early (its timeout, a restart), or a proxy cuts, is watched again from the last resourceVersion" {
	local mode rv
	for mode in watchclose watchcut; do
		start_kube "ok,$mode"
		run kdbg app --no-attach
		echo "$mode: $status"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"ephemeral container dhidebug-"*" is running"* ]]
		run_fails grep -E '^REJECT [A-Z]+ /api/v1/' "$KLOG"
		grep -qE '^WATCH pod (ended by the server|cut)$' "$KLOG"
		rv=$(sed -n 's/^EVENT ADDED //p' "$KLOG")
		[ "$(watch_lines)" = "WATCH pod|WATCH pod from resourceVersion $rv|" ]
		stop_kube
	done
}

@test "ephemeral: 410 Gone, as an ERROR event or as the answer to a watch from a compacted resourceVersion: the plugin starts over from the pod's current state" {
	local rv
	start_kube ok,expired
	run kdbg app --no-attach
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *" is running"* ]]
	grep -q '^EVENT ERROR -$' "$KLOG"
	# (a watch without resourceVersion starts with the current state: a new list and watch)
	[ "$(watch_lines)" = "WATCH pod|WATCH pod|" ]
	stop_kube
	start_kube ok,gone
	run kdbg app --no-attach
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *" is running"* ]]
	rv=$(sed -n 's/^EVENT ADDED //p' "$KLOG" | head -n1)
	grep -q "^GONE $rv$" "$KLOG"
	[ "$(watch_lines)" = "WATCH pod|WATCH pod from resourceVersion $rv|WATCH pod|" ]
}

@test "ephemeral: an ERROR event that is not a 410 (an internal error) ends the wait with the Status message, status 125" {
	start_kube ok,watcherror
	run kdbg app --no-attach
	echo "$output"
	[ "$status" -eq 125 ]
	[[ "$output" == *'`: watch error: Internal error occurred: etcdserver: request timed out' ]]
	[ "$(watch_lines)" = "WATCH pod|" ]
}

@test "ephemeral: BOOKMARKs are asked for and only move the resourceVersion: a watch ended after one resumes from it" {
	local mark
	start_kube ok,bookmark,watchclose
	run kdbg app --no-attach
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *" is running"* ]]
	grep -q '^WATCH asks for bookmarks$' "$KLOG"
	mark=$(sed -n 's/^EVENT BOOKMARK //p' "$KLOG")
	[ -n "$mark" ]
	[ "$(watch_lines)" = "WATCH pod|WATCH pod from resourceVersion $mark|" ]
	# the bookmark, a Pod with only a resourceVersion, was not taken for a state: not a word
	[ "$(grep -c . <<<"$output")" -eq 3 ]
}

@test "ephemeral: a container that exits before the attach: its exit code, reason and message, status 125, no attach" {
	start_kube ok,terminated
	fake_attach
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$PLUGIN" --kubeconfig "$KCFG" app --no-record \
		</dev/null
	echo "$output"
	[ "$status" -eq 125 ]
	[[ "$output" == *"kubectl-dhidebug: ephemeral container \`dhidebug-"*"\`: exited before the attach (code 125, Error): dhidebug: cannot enter pid://1: no such process" ]]
	[[ "$output" != *"stand-in:"* ]]
	# `added`, and the error
	[ "$(grep -c . <<<"$output")" -eq 2 ]
}

@test "ephemeral: a name taken meanwhile is refused (422) as the API server refuses changing an existing ephemeral container; the plugin adds its own under a fresh name" {
	local names first second
	start_kube ok,nametaken
	run kdbg app --no-attach
	echo "$output"
	[ "$status" -eq 0 ]
	names=$(sed -n 's/^PATCH body //p' "$KLOG" | jq -r '.spec.ephemeralContainers[0].name')
	[ "$(wc -l <<<"$names")" -eq 2 ]
	first=$(head -n1 <<<"$names")
	second=$(tail -n1 <<<"$names")
	[ "$first" != "$second" ]
	grep -q "^PRESET ephemeral container $first$" "$KLOG"
	grep -q "^PATCH -> 422 .*existing ephemeral containers \"$first\" may not be changed" "$KLOG"
	grep -q "^PATCH -> 200 added $second$" "$KLOG"
	[[ "$output" == *"ephemeral container $second is running"* ]]
	[[ "$output" == *"kubectl attach -it app -c $second -n default"* ]]
}

@test "fake_kube: pods/ephemeralcontainers takes the three patch types as the API server does, and refuses changing or removing an existing ephemeral container" {
	start_kube ok
	command -v curl >/dev/null || missing "needs curl"
	local url ca=$BATS_FILE_TMPDIR/pki/ca.crt ec
	url=$(awk '/server:/ { print $2 }' "$KCFG")/api/v1/namespaces/default/pods/app/ephemeralcontainers
	patch() { curl -sS -o "$BATS_TEST_TMPDIR/answer" -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $TOKEN" -X PATCH -H "Content-Type: $1" -d "$2" "$url"; }
	ec() { printf '{"name":"%s","image":"%s","targetContainerName":"web"}' "$1" "$2"; }
	# strategic merge: merged by name, so a new name adds one
	[ "$(patch application/strategic-merge-patch+json "{\"spec\":{\"ephemeralContainers\":[$(ec one img:1)]}}")" = 200 ]
	[ "$(jq -r '[.spec.ephemeralContainers[].name] | join(",")' "$BATS_TEST_TMPDIR/answer")" = one ]
	# the same name with another image changes it: 422
	[ "$(patch application/strategic-merge-patch+json "{\"spec\":{\"ephemeralContainers\":[$(ec one img:2)]}}")" = 422 ]
	jq -e '.reason == "Invalid" and (.details.causes[0].message | test("existing ephemeral containers \"one\" may not be changed"))' "$BATS_TEST_TMPDIR/answer"
	# json-patch: an add at the end
	[ "$(patch application/json-patch+json "[{\"op\":\"add\",\"path\":\"/spec/ephemeralContainers/-\",\"value\":$(ec two img:1)}]")" = 200 ]
	[ "$(jq -r '[.spec.ephemeralContainers[].name] | join(",")' "$BATS_TEST_TMPDIR/answer")" = one,two ]
	[ "$(patch application/json-patch+json '[{"op":"remove","path":"/spec/ephemeralContainers/0"}]')" = 422 ]
	jq -e '.details.causes[0].message | test("existing ephemeral containers \"one\" may not be removed")' "$BATS_TEST_TMPDIR/answer"
	# merge-patch (RFC 7386) replaces the list: without the existing ones, it removes them
	[ "$(patch application/merge-patch+json "{\"spec\":{\"ephemeralContainers\":[$(ec three img:1)]}}")" = 422 ]
	[ "$(jq '.details.causes | length' "$BATS_TEST_TMPDIR/answer")" -eq 2 ]
	# a name of one of the pod's containers is a duplicate
	[ "$(patch application/strategic-merge-patch+json "{\"spec\":{\"ephemeralContainers\":[$(ec web img:1)]}}")" = 422 ]
	jq -e '.details.causes[0].message | test("Duplicate value: \"web\"")' "$BATS_TEST_TMPDIR/answer"
	# not a patch type: 415
	[ "$(patch application/json "{\"spec\":{\"ephemeralContainers\":[$(ec four img:1)]}}")" = 415 ]
	jq -e '.reason == "UnsupportedMediaType"' "$BATS_TEST_TMPDIR/answer"
	# nothing of the refused ones was kept
	[ "$(patch application/strategic-merge-patch+json '{"spec":{"ephemeralContainers":[]}}')" = 200 ]
	[ "$(jq -r '[.spec.ephemeralContainers[].name] | join(",")' "$BATS_TEST_TMPDIR/answer")" = one,two ]
}

@test "node: SIGHUP (the terminal closed) while attached deletes the pod and exits 129" {
	start_kube node
	fake_attach
	local out=$BATS_TEST_TMPDIR/out name st=0
	STANDIN=sleep plugin_bg "$out" --no-record
	wait_line "$out" '^stand-in: attached'
	name=$(sed -n 's/^CREATED pod //p' "$KLOG")
	run_fails grep -q "^DELETE pod $name " "$KLOG"
	kill -HUP "$BGPID"
	wait "$BGPID" || st=$?
	cat "$out"
	[ "$st" -eq 129 ]
	grep -q "stopped by SIGHUP; pod \`$name\` deleted" "$out"
	assert_deleted
}

@test "ephemeral: an API server that ends every watch at once: the plugin's --timeout holds across the watches" {
	start_kube ok,closeall
	run kdbg app --no-attach --timeout 3
	echo "$output"
	[ "$status" -eq 125 ]
	[[ "$output" == *'`: gave up waiting after 3 s (the API server ended the watch '*' times)'* ]]
	[ "$(grep -c '^WATCH pod ended by the server$' "$KLOG")" -ge 2 ]
}
