#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Toolbox images against a real registry: docker-registry (the Debian package) on 127.0.0.1,
# plain HTTP for most tests and TLS with a test CA plus htpasswd for the auth test, filled with
# images the tests build (mkdev --oci, ociimg.py) and push with skopeo. Every pull goes into a
# cache of the test's own (--toolbox-cache), never /var/lib/dhidebug.

load helpers

OCIIMG=$BATS_TEST_DIRNAME/ociimg.py

# registry_start NAME [EXTRA-YAML]: a registry in $RT/NAME on a free port; sets nothing, writes
# $RT/NAME/port. EXTRA-YAML goes under `http:` (tls) or at the top (auth) as given.
registry_start()
{
	local name=$1 http_extra=${2:-} top_extra=${3:-} dir=$RT/$1 port i

	mkdir -p "$dir/data"
	port=$(free_port)
	cat >"$dir/config.yml" <<-EOF
		version: 0.1
		log:
		  level: info
		storage:
		  filesystem:
		    rootdirectory: $dir/data
		  delete:
		    enabled: true
		http:
		  addr: 127.0.0.1:$port
		$http_extra
		$top_extra
	EOF
	daemon "$dir/pid" "$dir/log" docker-registry serve "$dir/config.yml"
	for i in $(seq 100); do
		if curl -s -o /dev/null "http://127.0.0.1:$port/v2/" ||
			curl -sk -o /dev/null "https://127.0.0.1:$port/v2/"; then
			echo "$port" >"$dir/port"
			return 0
		fi
		sleep 0.1
	done
	echo "registry $name did not start: $(tail -n 5 "$dir/log")"
	return 1
}

# push LAYOUT:TAG NAME:TAG: skopeo into the plain registry
push()
{
	skopeo copy -q --all --dest-tls-verify=false "oci:$1" "docker://$REG/$2"
}

setup_file()
{
	RT=$BATS_FILE_TMPDIR
	export RT
	command -v docker-registry >/dev/null && command -v skopeo >/dev/null || return 0
	registry_start plain >"$RT/registry-setup.log" 2>&1 || return 0
	REG=127.0.0.1:$(cat "$RT/plain/port")
	# a small tree: a file, a symlink, a hard link pair, an empty directory, odd modes
	mkdir -p "$RT/small/etc" "$RT/small/usr/bin" "$RT/small/empty"
	echo hello >"$RT/small/etc/hello"
	echo data >"$RT/small/usr/bin/tool"
	chmod 0750 "$RT/small/usr/bin/tool"
	ln "$RT/small/usr/bin/tool" "$RT/small/usr/bin/tool2"
	ln -s /etc/hello "$RT/small/hello-link"
	"$REPO/toolbox/mkdev" --rootfs "$RT/small" --oci "$RT/small-oci" --oci-tag 1 --no-build \
		>>"$RT/registry-setup.log" 2>&1
	push "$RT/small-oci:1" dhi/small:1 >>"$RT/registry-setup.log" 2>&1
	echo "$REG" >"$RT/reg"
}

# (the tests that start a container, for a session on a cache entry)
teardown()
{
	container_rm
}

teardown_file()
{
	local d

	for d in "$RT"/*/pid; do
		[ -e "$d" ] && kill "$(cat "$d")" 2>/dev/null || true
	done
	if [ -e "$RT/podman.pid" ]; then
		pm rm -af -t 0 >/dev/null 2>&1 || true
		kill "$(cat "$RT/podman.pid")" 2>/dev/null || true
	fi
	for d in $(awk -v rt="$RT" 'index($5, rt) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$d" 2>/dev/null || true
	done
	rm -rf "/etc/containers/certs.d/127.0.0.1:$(cat "$RT/tls/port" 2>/dev/null)" 2>/dev/null || true
}

setup()
{
	RT=$BATS_FILE_TMPDIR
	REG=$(cat "$RT/reg" 2>/dev/null || true)
	CACHE=$BATS_TEST_TMPDIR/cache
	unset DOCKER_CONFIG
}

requires_registry()
{
	requires root
	command -v docker-registry >/dev/null || missing "needs docker-registry"
	command -v skopeo >/dev/null || missing "needs skopeo"
	[ -n "$REG" ] || missing "the test registry did not start: $(tail -n 3 "$RT/registry-setup.log" | tr '\n' ' ')"
}

tb()
{
	"$DHIDEBUG" --toolbox-cache "$CACHE" -q "$@"
}

run_tb()
{
	run --separate-stderr tb "$@"
	echo "dhidebug $* -> status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
}

# the cache entry's tree, as names, types, modes, owners, sizes and link targets
tree_listing()
{
	(cd "$1" && find . -mindepth 1 -printf '%P %y %m %U:%G %s %l\n' | sort)
}

@test "toolbox rule: DHI, Docker Hub mirror, Chainguard, distroless and the default, each with why" {
	run -0 "$DHIDEBUG" toolbox rule dhi.io/python:3.13-debian13
	[ "${lines[0]}" = "dhi.io/python:3.13-debian13-dev" ]
	[[ "${lines[1]}" == "rule: dhi: "* ]]
	run -0 "$DHIDEBUG" toolbox rule dhi.io/python:3.13-debian13-dev
	[ "${lines[0]}" = "dhi.io/python:3.13-debian13-dev" ]
	[[ "$output" == *"its own toolbox"* ]]
	run -0 "$DHIDEBUG" toolbox rule acme/dhi-node:22-alpine3.21
	[ "${lines[0]}" = "docker.io/acme/dhi-node:22-alpine3.21-dev" ]
	run -0 "$DHIDEBUG" toolbox rule cgr.dev/chainguard/python:latest
	[ "${lines[0]}" = "cgr.dev/chainguard/python:latest-dev" ]
	run -0 "$DHIDEBUG" toolbox rule gcr.io/distroless/static-debian12
	[ "${lines[0]}" = "gcr.io/distroless/static-debian12:debug" ]
	run -0 "$DHIDEBUG" --default-toolbox 127.0.0.1:5000/tools:1 toolbox rule nginx:1.27
	[ "${lines[0]}" = "127.0.0.1:5000/tools:1" ]
	[[ "${lines[1]}" == "rule: default: "* ]]
	run -125 "$DHIDEBUG" toolbox rule nginx:1.27
	[[ "$output" == *"no toolbox rule matches image \`docker.io/library/nginx:1.27\`"* ]]
	run -125 "$DHIDEBUG" toolbox rule 'Bad/Name'
	[[ "$output" == *"invalid repository"* ]]
}

@test "pull by tag and by digest: the same verified entry, the image's files, read from the cache afterwards" {
	requires_registry
	run_tb toolbox pull "$REG/dhi/small:1"
	[ "$status" -eq 0 ]
	digest=$output
	[[ "$digest" == sha256:* ]]
	root=$CACHE/sha256/${digest#sha256:}/rootfs
	# what was pushed is what is there: names, types, modes, owners, sizes, link targets
	diff -u <(tree_listing "$RT/small") <(tree_listing "$root")
	[ "$(cat "$root/etc/hello")" = hello ]
	[ "$(stat -c %i "$root/usr/bin/tool")" = "$(stat -c %i "$root/usr/bin/tool2")" ]
	# the entry is root's and closed to everyone else; no leftovers
	[ "$(stat -c '%U %a' "$CACHE")" = "root 700" ]
	[ "$(stat -c %a "$CACHE/sha256/${digest#sha256:}")" = 555 ]
	[ -z "$(ls -A "$CACHE/tmp")" ]

	# by digest, into another cache: the same entry
	run_tb --toolbox-cache "$BATS_TEST_TMPDIR/cache2" toolbox pull "$REG/dhi/small@$digest"
	[ "$status" -eq 0 ]
	[ "$output" = "$digest" ]
	diff -u <(tree_listing "$root") <(tree_listing "$BATS_TEST_TMPDIR/cache2/sha256/${digest#sha256:}/rootfs")

	# --json: the result as JSON on stdout, progress as one JSON object a line on stderr
	run --separate-stderr "$DHIDEBUG" -q --toolbox-cache "$BATS_TEST_TMPDIR/cache3" --json \
		toolbox pull "$REG/dhi/small:1"
	[ "$status" -eq 0 ]
	[ "$(jq -r .digest <<<"$output")" = "$digest" ]
	[ "$(jq -s 'map(select(.done)) | length' <<<"$stderr")" -ge 1 ]
	[ "$(jq -s 'map(select(.done)) | .[-1] | .layer == .layers' <<<"$stderr")" = true ]

	# ls shows the reference, digest and size; --json is valid JSON
	run_tb toolbox ls
	[ "$status" -eq 0 ]
	[[ "$output" == *"$REG/dhi/small:1"*"${digest:0:19}"* ]]
	run_tb toolbox ls --json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].digest' <<<"$output")" = "$digest" ]
	[ "$(jq -r '.[0].references[0]' <<<"$output")" = "$REG/dhi/small:1" ]
	[ "$(jq -r '.[0].size > 0' <<<"$output")" = true ]

	# a second pull asks the registry for the manifest only: no blob is fetched again
	before=$(grep -c "GET /v2/dhi/small/blobs/" "$RT/plain/log")
	run_tb toolbox pull "$REG/dhi/small:1"
	[ "$status" -eq 0 ]
	[ "$(grep -c "GET /v2/dhi/small/blobs/" "$RT/plain/log")" = "$before" ]
}

@test "an image index with two platforms yields the host's" {
	requires_registry
	host=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
	other=$([ "$host" = amd64 ] && echo arm64 || echo amd64)
	mkdir -p "$BATS_TEST_TMPDIR/$host/etc" "$BATS_TEST_TMPDIR/$other/etc"
	echo "$host" >"$BATS_TEST_TMPDIR/$host/etc/arch"
	echo "$other" >"$BATS_TEST_TMPDIR/$other/etc/arch"
	python3 "$OCIIMG" multiarch "$BATS_TEST_TMPDIR/multi" 2 \
		"$other=$BATS_TEST_TMPDIR/$other" "$host=$BATS_TEST_TMPDIR/$host"
	push "$BATS_TEST_TMPDIR/multi:2" dhi/multi:2
	# the registry serves an index for the tag
	curl -sf -H 'Accept: application/vnd.oci.image.index.v1+json' \
		"http://$REG/v2/dhi/multi/manifests/2" | jq -e '.manifests | length == 2'
	run_tb toolbox pull "$REG/dhi/multi:2"
	[ "$status" -eq 0 ]
	[ "$(cat "$CACHE/sha256/${output#sha256:}/rootfs/etc/arch")" = "$host" ]
}

@test "a tampered blob fails the pull with a digest error and leaves the cache as it was" {
	requires_registry
	mkdir -p "$BATS_TEST_TMPDIR/t/etc"
	head -c 200000 /dev/urandom >"$BATS_TEST_TMPDIR/t/etc/blob"
	"$REPO/toolbox/mkdev" --rootfs "$BATS_TEST_TMPDIR/t" --oci "$BATS_TEST_TMPDIR/t-oci" --no-build >/dev/null
	push "$BATS_TEST_TMPDIR/t-oci:latest" dhi/tampered:1
	layer=$(jq -r '.layers[0].digest' "$BATS_TEST_TMPDIR/t-oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$BATS_TEST_TMPDIR/t-oci/index.json" | cut -d: -f2)")
	data=$RT/plain/data/docker/registry/v2/blobs/sha256/${layer:7:2}/${layer#sha256:}/data
	[ -f "$data" ]
	# the cache already holds another image: it must come out unchanged
	run_tb toolbox pull "$REG/dhi/small:1"
	[ "$status" -eq 0 ]
	# (locks/ may gain a lock file: that is not an entry)
	before=$(cd "$CACHE" && find sha256 refs tmp -printf '%P %y %s\n' | sort)
	# change bytes in the middle of the stored layer, same size
	printf 'XXXXXXXXXXXXXXXX' | dd of="$data" bs=1 seek=100000 conv=notrunc status=none
	run_tb toolbox pull "$REG/dhi/tampered:1"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"digest mismatch for layer: expected \`$layer\`"* ]]
	[ "$(cd "$CACHE" && find sha256 refs tmp -printf '%P %y %s\n' | sort)" = "$before" ]
}

@test "malicious layers (.., absolute names, a symlink out, hard links out, whiteouts naming ..) write nothing outside" {
	requires_registry
	outside=$BATS_TEST_TMPDIR/outside
	# the `..' prefix ociimg.py puts before OUTSIDE (relative to /)
	up=$(printf '../%.0s' $(seq 24))${outside#/}/
	mkdir -p "$outside"
	echo victim >"$outside/victim"
	snapshot() { (cd "$outside" && find . -printf '%P %y %s %n %T@\n' | sort; cat victim); }
	before=$(snapshot)
	for kind in dotdot absolute symlink hardlink hardabs whiteout; do
		python3 "$OCIIMG" evil "$BATS_TEST_TMPDIR/evil-$kind" t "$kind" "$outside"
		push "$BATS_TEST_TMPDIR/evil-$kind:t" "evil/$kind:t"
		run_tb toolbox pull "$REG/evil/$kind:t"
		[ "$status" -eq 125 ]
		# the refusal names the entry and why (a symlink out is resolved inside the root,
		# where its target does not exist)
		case $kind in
		dotdot) want="layer entry \`${up}pwned\` leaves the root with \`..\` (refused)" ;;
		absolute) want="layer entry \`$outside/pwned\` has an absolute name (refused)" ;;
		symlink) want="layer entry \`esc/pwned\`: cannot open \`esc\` inside the target: No such file or directory" ;;
		hardlink) want="layer entry \`${up}victim\` leaves the root with \`..\` (refused)" ;;
		hardabs) want="layer entry \`$outside/victim\` has an absolute name (refused)" ;;
		whiteout) want="layer whiteout \`d/.wh...\` names \`..\` (refused)" ;;
		esac
		[[ "$stderr" == "dhidebug: cannot pull \`$REG/evil/$kind:t\`: layer \`sha256:"*"\`: $want" ]]
		[ "$(snapshot)" = "$before" ]
		[ ! -e /pwned ]
		[ ! -e "$CACHE/pwned" ]
		# nothing published, nothing half-built left
		[ -z "$(ls -A "$CACHE/sha256")" ]
		[ -z "$(ls -A "$CACHE/tmp")" ]
	done
}

@test "two pulls of one image at once: one download, both succeed, the entry is whole" {
	requires_registry
	mkdir -p "$BATS_TEST_TMPDIR/c/etc"
	head -c 20000000 /dev/urandom >"$BATS_TEST_TMPDIR/c/etc/big"
	"$REPO/toolbox/mkdev" --rootfs "$BATS_TEST_TMPDIR/c" --oci "$BATS_TEST_TMPDIR/c-oci" --no-build >/dev/null
	push "$BATS_TEST_TMPDIR/c-oci:latest" dhi/conc:1
	layer=$(jq -r '.layers[0].digest' "$BATS_TEST_TMPDIR/c-oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$BATS_TEST_TMPDIR/c-oci/index.json" | cut -d: -f2)")
	tb toolbox pull "$REG/dhi/conc:1" >"$BATS_TEST_TMPDIR/p1" 2>&1 &
	p1=$!
	tb toolbox pull "$REG/dhi/conc:1" >"$BATS_TEST_TMPDIR/p2" 2>&1 &
	p2=$!
	wait "$p1"
	wait "$p2"
	[ "$(cat "$BATS_TEST_TMPDIR/p1")" = "$(cat "$BATS_TEST_TMPDIR/p2")" ]
	digest=$(cat "$BATS_TEST_TMPDIR/p1")
	[ "$(grep -c "GET /v2/dhi/conc/blobs/$layer" "$RT/plain/log")" = 1 ]
	cmp "$BATS_TEST_TMPDIR/c/etc/big" "$CACHE/sha256/${digest#sha256:}/rootfs/etc/big"
	[ -z "$(ls -A "$CACHE/tmp")" ]
}

@test "rm by reference or digest prefix; prune drops what no reference points at" {
	requires_registry
	run_tb toolbox pull "$REG/dhi/small:1"
	[ "$status" -eq 0 ]
	old=$output
	# the tag moves to another image: the old entry is no longer referenced
	mkdir -p "$BATS_TEST_TMPDIR/v2/etc"
	echo v2 >"$BATS_TEST_TMPDIR/v2/etc/version"
	"$REPO/toolbox/mkdev" --rootfs "$BATS_TEST_TMPDIR/v2" --oci "$BATS_TEST_TMPDIR/v2-oci" --no-build >/dev/null
	push "$BATS_TEST_TMPDIR/v2-oci:latest" dhi/moving:1
	push "$RT/small-oci:1" dhi/moving:0
	run_tb toolbox pull "$REG/dhi/moving:1"
	[ "$status" -eq 0 ]
	new=$output
	run_tb toolbox prune
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# a resolve by digest prefix works from the cache
	run_tb toolbox rm "${new:7:12}"
	[ "$status" -eq 0 ]
	[ ! -e "$CACHE/sha256/${new#sha256:}" ]
	run_tb toolbox rm "$REG/dhi/moving:1"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"not in the cache"* ]]
	# an entry whose reference file is gone is pruned
	rm "$CACHE/refs/"*small*
	run_tb toolbox prune
	[ "$status" -eq 0 ]
	[[ "$output" == *"removed $old"* ]]
	[ -z "$(ls -A "$CACHE/sha256")" ]
}

@test "a registry with TLS (test CA) and htpasswd: credentials from config.json work, wrong ones fail clearly" {
	requires_registry
	command -v htpasswd >/dev/null || missing "needs htpasswd (apache2-utils)"
	command -v openssl >/dev/null || missing "needs openssl"
	d=$RT/tls
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=dhi-test-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$d/srv.key" \
		-out "$d/srv.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 1 -extfile "$d/ext" -out "$d/srv.crt" 2>/dev/null
	htpasswd -Bbn alice s3cret >"$d/htpasswd"
	registry_start tls "  tls:
    certificate: $d/srv.crt
    key: $d/srv.key" "auth:
  htpasswd:
    realm: dhi-test
    path: $d/htpasswd"
	port=$(cat "$d/port")
	mkdir -p "$d/certs" "/etc/containers/certs.d/127.0.0.1:$port"
	cp "$d/ca.crt" "$d/certs/ca.crt"
	cp "$d/ca.crt" "/etc/containers/certs.d/127.0.0.1:$port/ca.crt"
	skopeo copy -q --dest-cert-dir "$d/certs" --dest-creds alice:s3cret \
		"oci:$RT/small-oci:1" "docker://127.0.0.1:$port/dhi/small:1"

	# no credentials
	export DOCKER_CONFIG=$BATS_TEST_TMPDIR/none
	run_tb toolbox pull "127.0.0.1:$port/dhi/small:1"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"requires authentication"*"no credentials"* ]]
	# wrong ones
	export DOCKER_CONFIG=$BATS_TEST_TMPDIR/wrong
	mkdir -p "$DOCKER_CONFIG"
	printf '{"auths": {"127.0.0.1:%s": {"auth": "%s"}}}\n' "$port" \
		"$(printf alice:nope | base64)" >"$DOCKER_CONFIG/config.json"
	run_tb toolbox pull "127.0.0.1:$port/dhi/small:1"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"refused the credentials"*"wrong user name or password"* ]]
	[ -z "$(ls -A "$CACHE/sha256")" ]
	# the right ones, over verified TLS
	export DOCKER_CONFIG=$BATS_TEST_TMPDIR/right
	mkdir -p "$DOCKER_CONFIG"
	printf '{"auths": {"https://127.0.0.1:%s": {"auth": "%s"}}}\n' "$port" \
		"$(printf alice:s3cret | base64)" >"$DOCKER_CONFIG/config.json"
	run_tb toolbox pull "127.0.0.1:$port/dhi/small:1"
	[ "$status" -eq 0 ]
	[ "$(cat "$CACHE/sha256/${output#sha256:}/rootfs/etc/hello")" = hello ]
	# TLS was used: the plain-HTTP fallback is for a registry that cannot speak TLS at all
	grep -q 'http.request.method=GET.*dhi/small/blobs' "$d/log"
	# a credential helper (credHelpers), run as docker runs it
	mkdir -p "$BATS_TEST_TMPDIR/bin" "$BATS_TEST_TMPDIR/helper"
	cat >"$BATS_TEST_TMPDIR/bin/docker-credential-dhitest" <<-'EOF'
		#!/bin/sh
		[ "$1" = get ] || exit 1
		read -r server
		echo "$server" >"$(dirname "$0")/asked"
		printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret"}\n' "$server"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/bin/docker-credential-dhitest"
	export DOCKER_CONFIG=$BATS_TEST_TMPDIR/helper
	printf '{"credHelpers": {"127.0.0.1:%s": "dhitest"}}\n' "$port" >"$DOCKER_CONFIG/config.json"
	PATH=$BATS_TEST_TMPDIR/bin:$PATH run_tb --toolbox-cache "$BATS_TEST_TMPDIR/c4" \
		toolbox pull "127.0.0.1:$port/dhi/small:1"
	[ "$status" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/bin/asked")" = "127.0.0.1:$port" ]
	# a helper that is not installed: no credentials, one clear error, never a death by
	# SIGPIPE (dhidebug writes the server's name to a helper that never started; it raced)
	local i
	for i in $(seq 20); do
		run_tb --toolbox-cache "$BATS_TEST_TMPDIR/c5" toolbox pull "127.0.0.1:$port/dhi/small:1"
		[ "$status" -eq 125 ]
		[[ "$stderr" == *"requires authentication"* ]]
	done
	# without the CA the certificate is refused (no silent downgrade)
	rm -rf "/etc/containers/certs.d/127.0.0.1:$port"
	run_tb --toolbox-cache "$BATS_TEST_TMPDIR/c3" toolbox pull "127.0.0.1:$port/dhi/small:1"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"cannot reach registry"* ]]
}

@test "import of an OCI layout (directory and archive) and of a docker-archive gives the same root as a pull" {
	requires_registry
	run_tb toolbox pull "$REG/dhi/small:1"
	[ "$status" -eq 0 ]
	pulled=$output
	want=$(tree_listing "$CACHE/sha256/${pulled#sha256:}/rootfs")
	skopeo copy -q "oci:$RT/small-oci:1" "oci-archive:$BATS_TEST_TMPDIR/small.oci.tar"
	skopeo copy -q "docker://$REG/dhi/small:1" --src-tls-verify=false \
		"docker-archive:$BATS_TEST_TMPDIR/small.docker.tar:$REG/dhi/small:docker"
	for src in "$RT/small-oci" "$BATS_TEST_TMPDIR/small.oci.tar" "$BATS_TEST_TMPDIR/small.docker.tar"; do
		c=$BATS_TEST_TMPDIR/c-${src##*/}
		run_tb --toolbox-cache "$c" toolbox import "$src"
		[ "$status" -eq 0 ]
		[ "$(tree_listing "$c/sha256/${output#sha256:}/rootfs")" = "$want" ]
		[ -z "$(ls -A "$c/tmp")" ]
	done
	# an OCI layout is the very image that was pushed: the same digest
	run_tb --toolbox-cache "$BATS_TEST_TMPDIR/again" toolbox import "$RT/small-oci"
	[ "$output" = "$pulled" ]
	# the docker-archive's RepoTags name the entry
	run_tb --toolbox-cache "$BATS_TEST_TMPDIR/c-small.docker.tar" toolbox ls --json
	[ "$(jq -r '.[0].references[0]' <<<"$output")" = "$REG/dhi/small:docker" ]
	# a layer that does not match its digest is refused (bytes changed, same size)
	blob=$(jq -r '.layers[0].digest' "$RT/small-oci/blobs/sha256/${pulled#sha256:}")
	cp -a "$RT/small-oci" "$BATS_TEST_TMPDIR/bad-oci"
	printf 'XXXXXXXXXXXXXXXX' | dd of="$BATS_TEST_TMPDIR/bad-oci/blobs/sha256/${blob#sha256:}" \
		bs=1 seek=100 conv=notrunc status=none
	run_tb --toolbox-cache "$BATS_TEST_TMPDIR/bad" toolbox import "$BATS_TEST_TMPDIR/bad-oci"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"digest mismatch"* ]]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/bad/sha256")" ]
	# and one longer than its descriptor says, at the first byte too many
	cp "$RT/small-oci/blobs/sha256/${blob#sha256:}" "$BATS_TEST_TMPDIR/bad-oci/blobs/sha256/"
	printf 'x' >>"$BATS_TEST_TMPDIR/bad-oci/blobs/sha256/${blob#sha256:}"
	run_tb --toolbox-cache "$BATS_TEST_TMPDIR/bad" toolbox import "$BATS_TEST_TMPDIR/bad-oci"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"is longer than the "*" bytes its descriptor says (refused)"* ]]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/bad/sha256")" ]
}

@test "an import keeps a name (its own, localhost/DIR:TAG or --name); prune removes only unnamed entries and says which" {
	requires_registry
	local c=$BATS_TEST_TMPDIR/c named unnamed
	# mkdev's layout names only its tag (ref.name `1`): localhost/<dir>:1, not <none>
	run_tb --toolbox-cache "$c" toolbox import "$RT/small-oci"
	[ "$status" -eq 0 ]
	named=$output
	run_tb --toolbox-cache "$c" toolbox ls --json
	[ "$(jq -r --arg d "$named" '.[] | select(.digest == $d) | .references[0]' <<<"$output")" = localhost/small-oci:1 ]
	run_tb --toolbox-cache "$c" toolbox ls
	[[ "$output" != *"<none>"* ]]
	# a docker-archive without RepoTags names nothing; --name names it
	skopeo copy -q "oci:$RT/small-oci:1" "docker-archive:$BATS_TEST_TMPDIR/bare.tar"
	run_tb --toolbox-cache "$c" toolbox import "$BATS_TEST_TMPDIR/bare.tar"
	[ "$status" -eq 0 ]
	unnamed=$output
	[ "$unnamed" != "$named" ]
	run_tb --toolbox-cache "$c" toolbox ls
	[[ "$output" == *"<none>"*"${unnamed:0:19}"* ]]
	run_tb --toolbox-cache "$BATS_TEST_TMPDIR/c2" toolbox import --name example.com/tools/small:9 \
		"$BATS_TEST_TMPDIR/bare.tar"
	[ "$status" -eq 0 ]
	run_tb --toolbox-cache "$BATS_TEST_TMPDIR/c2" toolbox ls --json
	[ "$(jq -r '.[0].references[0]' <<<"$output")" = example.com/tools/small:9 ]
	# --dry-run lists the unnamed entry and removes nothing
	run_tb --toolbox-cache "$c" toolbox prune --dry-run
	[ "$status" -eq 0 ]
	[ "$output" = "would remove $unnamed (0.0M, no name)" ]
	[ -d "$c/sha256/${unnamed#sha256:}" ]
	run_tb --toolbox-cache "$c" toolbox prune
	[ "$status" -eq 0 ]
	[ "$output" = "removed $unnamed (0.0M, no name)" ]
	[ ! -e "$c/sha256/${unnamed#sha256:}" ]
	# the named import stays, and still resolves by its name
	[ -d "$c/sha256/${named#sha256:}/rootfs" ]
	run_tb --toolbox-cache "$c" toolbox prune
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# bad input: one line, 125, nothing imported
	run_tb --toolbox-cache "$BATS_TEST_TMPDIR/c3" toolbox import --name 'Not A Name' "$RT/small-oci"
	[ "$status" -eq 125 ]
	[[ "$stderr" == "dhidebug: --name \`Not A Name\`"* ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/c3/sha256" 2>/dev/null)" ]
	run_tb --toolbox-cache "$c" toolbox ls --dry-run
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"--dry-run goes with \`dhidebug toolbox prune\`"* ]]
	run_tb --toolbox-cache "$c" --name x/y:1 toolbox prune
	[ "$status" -eq 125 ]
}

# --- a real target: podman, whose API reports the container's image reference ----------------

pm()
{
	env -u CONTAINER_HOST podman --root "$RT/pm/root" --runroot "$RT/pm/run" --storage-driver vfs "$@"
}

podman_service()
{
	local i

	containers_conf "$RT/containers.conf"
	export CONTAINERS_CONF=$RT/containers.conf PSOCK=$RT/podman.sock
	[ -S "$PSOCK" ] && return 0
	daemon "$RT/podman.pid" "$RT/podman-service.log" podman --root "$RT/pm/root" \
		--runroot "$RT/pm/run" --storage-driver vfs system service --time=0 "unix://$PSOCK"
	for i in $(seq 100); do
		curl -sf --unix-socket "$PSOCK" http://d/_ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

@test "a target running 127.0.0.1:PORT/dhi/app:1-debian12 gets …:1-debian12-dev from the registry without --toolbox" {
	requires_registry podman
	podman_service || missing "podman's API service did not start here: $(tail -n 3 "$RT/podman-service.log" | tr '\n' ' ')"
	[ -x /bin/busybox ] || missing "needs busybox-static"
	# the app (a static binary and an os-release) and its -dev (busybox as the shell and tools)
	dhi_images dhi/app 1-debian12
	dhi_dev_images dhi/app 1-debian12-dev

	pm pull -q --tls-verify=false "$REG/dhi/app:1-debian12" >/dev/null
	name=dhi-tb-$$
	pm run -d --name "$name" --network none "$REG/dhi/app:1-debian12" /app /nonexistent/marker >/dev/null
	export CONTAINER_HOST=unix://$PSOCK
	# (sysadmin: the toolbox view's cat is busybox, and this is about the rule, not the profile)
	run --separate-stderr "$DHIDEBUG" --toolbox-cache "$CACHE" --view toolbox --profile sysadmin \
		"podman://$name" -- \
		/bin/cat /proc/1/cmdline /etc/dhi-toolbox
	echo "status $status; stdout: $output; stderr: $stderr"
	pm rm -f -t 0 "$name" >/dev/null 2>&1 || true
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"toolbox \`$REG/dhi/app:1-debian12-dev\` (rule dhi: "* ]]
	[[ "$output" == *"/app"*"dev-toolbox"* ]]
	# pulled into the cache under the -dev reference
	run_tb toolbox ls --json
	[ "$(jq -r '.[0].references[0]' <<<"$output")" = "$REG/dhi/app:1-debian12-dev" ]
}

# dhi_images REPO TAG... / dhi_dev_images REPO TAG...: the app (a static binary and an
# os-release) and a -dev toolbox (busybox and a marker file) pushed under each tag
dhi_images()
{
	local repo=$1 t
	shift
	mkdir -p "$BATS_TEST_TMPDIR/app/etc"
	cp "$BUILD/tests/app-static" "$BATS_TEST_TMPDIR/app/app"
	cp /usr/lib/os-release "$BATS_TEST_TMPDIR/app/etc/os-release"
	for t in "$@"; do
		# one image per tag (their own digests, so each has one tag)
		echo "$t" >"$BATS_TEST_TMPDIR/app/etc/tag"
		rm -rf "$BATS_TEST_TMPDIR/app-oci"
		"$REPO/toolbox/mkdev" --rootfs "$BATS_TEST_TMPDIR/app" --oci "$BATS_TEST_TMPDIR/app-oci" --no-build >/dev/null
		push "$BATS_TEST_TMPDIR/app-oci:latest" "$repo:$t"
	done
}

dhi_dev_images()
{
	local repo=$1 t a
	shift
	if [ ! -d "$BATS_TEST_TMPDIR/dev-oci" ]; then
		mkdir -p "$BATS_TEST_TMPDIR/dev/bin" "$BATS_TEST_TMPDIR/dev/etc"
		cp /bin/busybox "$BATS_TEST_TMPDIR/dev/bin/busybox"
		for a in sh cat ls ps; do ln -s busybox "$BATS_TEST_TMPDIR/dev/bin/$a"; done
		cp /usr/lib/os-release "$BATS_TEST_TMPDIR/dev/etc/os-release"
		echo dev-toolbox >"$BATS_TEST_TMPDIR/dev/etc/dhi-toolbox"
		"$REPO/toolbox/mkdev" --rootfs "$BATS_TEST_TMPDIR/dev" --oci "$BATS_TEST_TMPDIR/dev-oci" --no-build >/dev/null
	fi
	for t in "$@"; do push "$BATS_TEST_TMPDIR/dev-oci:latest" "$repo:$t"; done
}

# dhi_session NAME: dhidebug on podman://NAME without --toolbox; the toolbox's marker and the
# app's command line on stdout
dhi_session()
{
	run --separate-stderr "$DHIDEBUG" --toolbox-cache "$CACHE" --view toolbox --profile sysadmin \
		"podman://$1" -- /bin/cat /proc/1/cmdline /etc/dhi-toolbox
	echo "podman://$1: status $status; stdout: $output; stderr: $stderr"
}

@test "targets pinned by digest (REG/dhi/python:3.13@sha256:…, REG/dhi/python@sha256:…) get 3.13-dev; a fips one falls back, naming each toolbox tried" {
	requires_registry podman
	podman_service || missing "podman's API service did not start here: $(tail -n 3 "$RT/podman-service.log" | tr '\n' ' ')"
	[ -x /bin/busybox ] || missing "needs busybox-static"
	dhi_images dhi/python 3.13 3.13-debian12-fips
	# DHI publishes -fips-dev; this registry has only the plain -dev of the fips tag
	dhi_dev_images dhi/python 3.13-dev 3.13-debian12-dev
	pm pull -q --tls-verify=false "$REG/dhi/python:3.13" >/dev/null
	digest=$(pm image inspect --format '{{.Digest}}' "$REG/dhi/python:3.13")
	[[ "$digest" == sha256:* ]]
	export CONTAINER_HOST=unix://$PSOCK
	pm run -d --name "pin-tag-$$" --network none "$REG/dhi/python:3.13@$digest" /app /nonexistent/1 >/dev/null
	pm run -d --name "pin-digest-$$" --network none "$REG/dhi/python@$digest" /app /nonexistent/2 >/dev/null
	pm pull -q --tls-verify=false "$REG/dhi/python:3.13-debian12-fips" >/dev/null
	pm run -d --name "fips-$$" --network none "$REG/dhi/python:3.13-debian12-fips" /app /nonexistent/3 >/dev/null

	# the tag beside the digest: its -dev, from the registry
	dhi_session "pin-tag-$$"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"toolbox \`$REG/dhi/python:3.13-dev\` (rule dhi: "* ]]
	[[ "$output" == *"/app"*"/nonexistent/1"*"dev-toolbox"* ]]
	# a digest only: the tag podman records for the image (RepoTags)
	dhi_session "pin-digest-$$"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"image \`$REG/dhi/python@$digest\` is pinned by digest; its runtime records it as \`$REG/dhi/python:3.13\`"* ]]
	[[ "$stderr" == *"toolbox \`$REG/dhi/python:3.13-dev\` (rule dhi: "* ]]
	[[ "$output" == *"/nonexistent/2"*"dev-toolbox"* ]]
	# fips: -fips-dev is not there, the plain -dev is, and both names are said
	dhi_session "fips-$$"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"toolbox \`$REG/dhi/python:3.13-debian12-fips-dev\` (rule dhi: "* ]]
	[[ "$stderr" == *"3.13-debian12-fips-dev\` not found in the registry"*"trying the next toolbox"* ]]
	[[ "$stderr" == *"toolbox \`$REG/dhi/python:3.13-debian12-dev\` (the registry has it)"* ]]
	[[ "$output" == *"/nonexistent/3"*"dev-toolbox"* ]]
	# both pulled into the cache under their own references
	run_tb toolbox ls --json
	[ "$(jq -r '[.[].references[]] | sort | join(" ")' <<<"$output")" = "$REG/dhi/python:3.13-debian12-dev $REG/dhi/python:3.13-dev" ]
	# no tag left anywhere: one line naming --toolbox, nothing pulled
	pm untag "$REG/dhi/python:3.13"
	dhi_session "pin-digest-$$"
	pm rm -f -t 0 "pin-tag-$$" "pin-digest-$$" "fips-$$" >/dev/null 2>&1 || true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"is pinned by digest only"*"(use --toolbox $REG/dhi/python:<version>-dev)"* ]]
}

@test "an Alpine target from the registry (REG/dhi/alp:1-alpine3.21) gets its -alpine3.21-dev toolbox (mkdev --busybox) pulled and a union session in general" {
	requires_registry podman
	podman_service || missing "podman's API service did not start here: $(tail -n 3 "$RT/podman-service.log" | tr '\n' ' ')"
	local bb=$BUILD/toolbox/busybox app=$BATS_TEST_TMPDIR/alp
	[ -x "$bb/bin/busybox" ] || missing "no busybox toolbox at $bb (make toolbox-busybox)"
	[ -x "$BUILD/tests/app-musl" ] || missing "no $BUILD/tests/app-musl (make fixtures)"
	# the app: musl-linked, musl's loader, Alpine 3.21's os-release
	mkdir -p "$app/lib" "$app/etc"
	cp "$BUILD/tests/app-musl" "$app/app"
	cp -L /lib/ld-musl-x86_64.so.1 "$app/lib/ld-musl-x86_64.so.1"
	printf '%s\n' ID=alpine VERSION_ID=3.21.3 'PRETTY_NAME="alpine app"' >"$app/etc/os-release"
	"$REPO/toolbox/mkdev" --rootfs "$app" --oci "$BATS_TEST_TMPDIR/alp-oci" --no-build >/dev/null
	push "$BATS_TEST_TMPDIR/alp-oci:latest" dhi/alp:1-alpine3.21
	# its -dev: the Alpine-style toolbox, as an OCI image
	"$REPO/toolbox/mkdev" --rootfs "$bb" --oci "$BATS_TEST_TMPDIR/bb-oci" --no-build >/dev/null
	push "$BATS_TEST_TMPDIR/bb-oci:latest" dhi/alp:1-alpine3.21-dev
	pm pull -q --tls-verify=false "$REG/dhi/alp:1-alpine3.21" >/dev/null
	pm run -d --name "alp-$$" --network none "$REG/dhi/alp:1-alpine3.21" /app /nonexistent/alp >/dev/null
	export CONTAINER_HOST=unix://$PSOCK
	run --separate-stderr "$DHIDEBUG" --toolbox-cache "$CACHE" "podman://alp-$$" -- \
		cat /proc/1/cmdline /etc/os-release
	echo "status $status; stdout: $output; stderr: $stderr"
	pm rm -f -t 0 "alp-$$" >/dev/null 2>&1 || true
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"toolbox \`$REG/dhi/alp:1-alpine3.21-dev\` (rule dhi: "* ]]
	[[ "$stderr" == *"view: union (toolbox and target are the same distribution and release)"* ]]
	[[ "$output" == "/app"*"/nonexistent/alp"*'PRETTY_NAME="alpine app"'* ]]
}

@test "toolbox rule explains itself: the parsed fields, each candidate in order, the DHI grammar of the seed" {
	run -0 "$DHIDEBUG" toolbox rule dhi.io/python:3.13
	[ "${lines[0]}" = dhi.io/python:3.13-dev ]
	[[ "$output" == *"image: registry dhi.io, repository python, tag 3.13, digest (none)"* ]]
	[[ "$output" == *"tag fields: version 3.13, distribution (none"* ]]
	run -0 "$DHIDEBUG" toolbox rule dhi.io/python:3
	[ "${lines[0]}" = dhi.io/python:3-dev ]
	run -0 "$DHIDEBUG" toolbox rule dhi.io/python:3.13-dev
	[ "${lines[0]}" = dhi.io/python:3.13-dev ]
	[[ "$output" == *"its own toolbox"* ]]
	run -0 "$DHIDEBUG" toolbox rule "dhi.io/python:3.13@sha256:$(printf '%064d' 1)"
	[ "${lines[0]}" = dhi.io/python:3.13-dev ]
	[[ "$output" == *"digest sha256:$(printf '%064d' 1)"* ]]
	run -0 "$DHIDEBUG" toolbox rule docker.io/acme/dhi-python:3.13
	[ "${lines[0]}" = docker.io/acme/dhi-python:3.13-dev ]
	run -0 "$DHIDEBUG" toolbox rule dhi.io/python:3.13-debian13-fips
	[ "${lines[0]}" = dhi.io/python:3.13-debian13-fips-dev ]
	[[ "$output" == *"variants fips"* ]]
	[[ "$output" == *"tried in this order, the first the registry has: dhi.io/python:3.13-debian13-fips-dev, dhi.io/python:3.13-debian13-dev"* ]]
	run -0 "$DHIDEBUG" toolbox rule dhi.io/nginx:1-debian13-stig
	[[ "$output" == *": dhi.io/nginx:1-debian13-stig-dev, dhi.io/nginx:1-debian13-dev"* ]]
	# the seed's examples: each -dev is its own, each runtime tag gets its -dev
	for t in node:22-debian13-dev python:3.13-alpine3.21-dev golang:1-alpine3.21-dev golang:1.25-debian12-dev \
		golang:1.25-alpine3.22-dev node:23-alpine3.21-dev; do
		run -0 "$DHIDEBUG" toolbox rule "dhi.io/$t"
		[ "${lines[0]}" = "dhi.io/$t" ]
	done
	run -125 "$DHIDEBUG" toolbox rule "dhi.io/python@sha256:$(printf '%064d' 1)"
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"pinned by digest only"*"--toolbox dhi.io/python:<version>-dev"* ]]
}

@test "toolbox rule: a site's rules from the policy file come first, then the built-in ones, then its default" {
	local pol=$BATS_TEST_TMPDIR/policy.json
	cat >"$pol" <<'JSON'
{"toolbox_rules": [{"match": "registry.example/apps/*", "toolbox": "registry.example/tools:{tag}-dev"}],
 "default_toolbox": "registry.example/tools:plain"}
JSON
	run "$DHIDEBUG" --policy "$pol" toolbox rule registry.example/apps/web:1.2
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = registry.example/tools:1.2-dev ]
	[[ "${lines[1]}" == "rule: site: "*"registry.example/apps/*"* ]]
	# built-in rules still apply to what the site's do not match
	run "$DHIDEBUG" --policy "$pol" toolbox rule dhi.io/python:3.13-debian13
	[ "${lines[0]}" = dhi.io/python:3.13-debian13-dev ]
	# the policy's default, which --default-toolbox overrides
	run "$DHIDEBUG" --policy "$pol" toolbox rule other.example/x:1
	[ "${lines[0]}" = registry.example/tools:plain ]
	run "$DHIDEBUG" --policy "$pol" --default-toolbox other.example/tb:dev toolbox rule other.example/x:1
	[ "${lines[0]}" = other.example/tb:dev ]
	# a malformed rule is an error naming it
	echo '{"toolbox_rules": [{"match": "x", "toolbox": "y", "colour": 1}]}' >"$pol"
	run "$DHIDEBUG" --policy "$pol" toolbox rule other.example/x:1
	[ "$status" -eq 125 ]
	[[ "$output" == *"unknown key \`colour\`"* ]]
}

@test "prune keeps an unnamed entry a session is using (and removes it once the session is over)" {
	requires root runc
	[ -x "$BUILD/toolbox/busybox/bin/busybox" ] || missing "no busybox toolbox (make toolbox-busybox)"
	local c=$BATS_TEST_TMPDIR/c arc=$BATS_TEST_TMPDIR/arc digest layer cfg
	# the busybox toolbox as a docker-archive that names nothing: an unnamed entry
	mkdir -p "$arc"
	tar -C "$BUILD/toolbox/busybox" -cf "$arc/layer.tar" .
	layer=$(sha256sum "$arc/layer.tar" | cut -d' ' -f1)
	printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$layer" >"$arc/config.json"
	cfg=$(sha256sum "$arc/config.json" | cut -d' ' -f1)
	mv "$arc/config.json" "$arc/$cfg.json"
	printf '[{"Config":"%s.json","RepoTags":null,"Layers":["layer.tar"]}]' "$cfg" >"$arc/manifest.json"
	tar -C "$arc" -cf "$BATS_TEST_TMPDIR/tools.tar" manifest.json "$cfg.json" layer.tar
	run_tb --toolbox-cache "$c" toolbox import "$BATS_TEST_TMPDIR/tools.tar"
	[ "$status" -eq 0 ]
	digest=$output
	container_start static
	# a session on it, by digest
	(exec "$DHIDEBUG" -q --toolbox-cache "$c" --toolbox "$digest" --view toolbox "$TARGET" -- \
		busybox sleep 3) </dev/null >"$BATS_TEST_TMPDIR/session.out" 2>&1 3>&- &
	local pid=$! i
	echo "$pid" >>"$BATS_TEST_TMPDIR/bg.pids"
	wait_for_session
	run_tb --toolbox-cache "$c" toolbox prune
	[ "$status" -eq 0 ]
	[ "$output" = "kept $digest (a pull, an import or a session is using it)" ]
	[ -d "$c/sha256/${digest#sha256:}/rootfs" ]
	wait "$pid"
	cat "$BATS_TEST_TMPDIR/session.out"
	run_tb --toolbox-cache "$c" toolbox prune
	[ "$status" -eq 0 ]
	[[ "$output" == "removed $digest ("* ]]
	[ ! -e "$c/sha256/${digest#sha256:}" ]
}
