# SPDX-License-Identifier: Apache-2.0
# ctrd.bash: a real containerd of the test file's own (root, state and socket under $RT/ctrd,
# no CRI plugin), its tasks in namespace $CTRD_NS, for runtimes.bats and containerd_images.bats.
# The file sets RT (a directory of its own) and makes $RT/app.tar, the image's one layer,
# before containerd_start.

CTRD_NS=${CTRD_NS:-dhi-rt}

ctr_()
{
	ctr -a "$RT/ctrd/c.sock" -n "$CTRD_NS" "$@"
}

# make_docker_archive [LAYER_TAR OUT TAG]: a docker archive (manifest.json, config, one layer)
# of LAYER_TAR (default $RT/app.tar) tagged TAG (localhost/dhi-rt:test) as OUT
# ($RT/app-docker.tar), made by hand: no registry is reachable, and `ctr image import` takes
# this format.
make_docker_archive()
{
	local src=${1:-$RT/app.tar} out=${2:-$RT/app-docker.tar} tag=${3:-localhost/dhi-rt:test}
	local dir layer cfg

	dir=$(mktemp -d "$RT/arc.XXXXXX")
	cp "$src" "$dir/layer.tar"
	layer=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
	printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/app"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$layer" >"$dir/config.json"
	cfg=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
	mv "$dir/config.json" "$dir/$cfg.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' \
		"$cfg" "$tag" >"$dir/manifest.json"
	tar -C "$dir" -cf "$out" manifest.json "$cfg.json" layer.tar
	rm -rf "$dir"
}

containerd_start()
{
	local d=$RT/ctrd i

	mkdir -p "$d"
	# no CRI plugin (it wants a CNI setup and a kubelet), and nothing written under /opt
	cat >"$d/config.toml" <<-EOF
		version = 2
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$d/opt"
	EOF
	daemon "$RT/containerd.pid" "$d/log" containerd --config "$d/config.toml" \
		--root "$d/root" --state "$d/state" --address "$d/c.sock"
	for i in $(seq 100); do
		ctr -a "$d/c.sock" version >/dev/null 2>&1 && break
		sleep 0.1
	done
	ctr -a "$d/c.sock" version >/dev/null || {
		tail -n 20 "$d/log"
		return 1
	}
	make_docker_archive || return 1
	ctr_ image import --snapshotter native "$RT/app-docker.tar"
}

# containerd_stop: its tasks and containerd itself (teardown_file)
containerd_stop()
{
	local pid

	[ -e "$RT/containerd.pid" ] || return 0
	ctrd_cleanup_all
	pid=$(cat "$RT/containerd.pid")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	# the shim's runc root for our namespace, empty now
	rmdir "/run/containerd/runc/$CTRD_NS" 2>/dev/null || true
}

requires_containerd()
{
	requires root containerd
	[ -S "$RT/ctrd/c.sock" ] || missing "containerd did not start here: $(tail -n 3 "$RT/containerd-setup.log" 2>/dev/null | tr '\n' ' ')"
}

# ctrd_run ID [ANNOTATION...]: a running task ID in namespace CTRD_NS. Sets TPID.
ctrd_run()
{
	local id=$1 a args=() i

	shift
	for a in "$@"; do
		args+=(--annotation "$a")
	done
	echo "$id" >>"$BATS_TEST_TMPDIR/ctrd.ids"
	ctr_ run -d --snapshotter native "${args[@]}" localhost/dhi-rt:test "$id" /app /nonexistent/marker \
		>"$BATS_TEST_TMPDIR/ctr-run.log" 2>&1 || {
		cat "$BATS_TEST_TMPDIR/ctr-run.log" >&2
		return 1
	}
	for i in $(seq 50); do
		TPID=$(ctr_ task ls | awk -v id="$id" '$1 == id && $3 == "RUNNING" { print $2 }')
		[ -n "$TPID" ] && return 0
		sleep 0.1
	done
	echo "task $id is not running" >&2
	return 1
}

ctrd_rm()
{
	ctr_ task kill -s KILL "$1" >/dev/null 2>&1 || true
	for _ in $(seq 30); do
		ctr_ task delete "$1" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ctr_ container delete "$1" >/dev/null 2>&1 || true
}

ctrd_cleanup_all()
{
	local id

	for id in $(ctr_ container ls -q 2>/dev/null); do
		ctrd_rm "$id"
	done
}

# ctrd_teardown: the tasks this test started (teardown)
ctrd_teardown()
{
	local n

	[ -e "$BATS_TEST_TMPDIR/ctrd.ids" ] || return 0
	while read -r n; do
		ctrd_rm "$n"
	done <"$BATS_TEST_TMPDIR/ctrd.ids"
}
