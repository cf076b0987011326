#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# containerd_images.bats: image:// and --toolbox REF served from containerd's own image store
# (issue 16 item 5), through its ctr CLI, against a real containerd started here (ctrd.bash:
# its own root, state and socket, no CRI plugin), with images put in by `ctr images import`
# of archives made here. No registry listens: what containerd does not have goes to one and
# fails. ctr's answers are hostile: a ctr of the test's own is bound over /usr/bin/ctr in a
# private mount namespace to lie about names, images and sizes.

load helpers
CTRD_NS=dhi-ci
load ctrd

setup_file()
{
	RT=$BATS_FILE_TMPDIR
	export RT
	command -v containerd >/dev/null && command -v ctr >/dev/null || return 0
	mkdir -p "$RT/img/etc"
	cp "$BUILD/tests/app-static" "$RT/img/app"
	cp /usr/lib/os-release "$RT/img/etc/os-release"
	tar -C "$RT/img" -cf "$RT/app.tar" app etc
	{
		containerd_start || exit 1
		# the app in `default` under a name only containerd has
		ctr -a "$RT/ctrd/c.sock" -n default image import --snapshotter native "$RT/app-docker.tar"
		ctr -a "$RT/ctrd/c.sock" -n default image tag localhost/dhi-rt:test localhost/dhi-ci:only
		# a second image, also in `default`: what a lying ctr exports instead
		tar -C "$RT/img" -cf "$RT/other.tar" etc
		make_docker_archive "$RT/other.tar" "$RT/other-docker.tar" localhost/dhi-ci-other:1
		ctr -a "$RT/ctrd/c.sock" -n default image import --snapshotter native "$RT/other-docker.tar"
		# the busybox toolbox as an image in the target's namespace alone
		if [ -d "$BUILD/toolbox/busybox" ]; then
			tar -C "$BUILD/toolbox/busybox" -cf "$RT/tools.tar" .
			make_docker_archive "$RT/tools.tar" "$RT/tools-docker.tar" localhost/dhi-ci-tools:1
			ctr_ image import --snapshotter native "$RT/tools-docker.tar"
		fi
	} >"$RT/containerd-setup.log" 2>&1 || echo "containerd setup failed" >>"$RT/containerd-setup.log"
}

teardown_file()
{
	local m

	containerd_stop
	for m in $(awk -v rt="$RT" 'index($5, rt) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
}

setup()
{
	RT=$BATS_FILE_TMPDIR
	requires toolbox
	requires_containerd
	# no Docker Engine or podman service of the caller's: containerd's is the only store asked
	unset DOCKER_HOST CONTAINER_HOST
	export CONTAINERD_ADDRESS=$RT/ctrd/c.sock
	CACHE=$BATS_TEST_TMPDIR/cache
}

teardown()
{
	ctrd_teardown
	container_rm
}

@test "containerd: image:// and lint image:// are served from containerd's images (namespace default), exported once; what it has not goes to the registry" {
	run --separate-stderr "$DHIDEBUG" lint --toolbox-cache "$CACHE" --json image://localhost/dhi-ci:only
	echo "$output / $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"\`localhost/dhi-ci:only\` from containerd's images (namespace default), cached as sha256:"* ]]
	[ "$(jq -r '.checks[] | select(.check == "user") | .verdict' <<<"$output")" = fail ]
	# a session in the image, from the entry made then: containerd still has that digest
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --toolbox-cache "$CACHE" \
		image://localhost/dhi-ci:only -- ls /target/app
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = /target/app ]
	[[ "$stderr" == *"\`localhost/dhi-ci:only\` from containerd's images (namespace default) is cached as sha256:"* ]]
	# a reference containerd does not have, asked in every namespace, goes to the registry
	run --separate-stderr strace -f -qq -v -s 512 -e trace=execveat -e signal=none \
		-o "$BATS_TEST_TMPDIR/st" "$DHIDEBUG" lint --toolbox-cache "$CACHE" image://localhost/dhi-ci-none:1
	echo "$output / $stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"cannot pull \`localhost/dhi-ci-none:1\`"* ]]
	local ns exec
	for ns in default k8s.io moby; do
		exec=$(grep -F "execveat(3, \"\", [\"ctr\", \"--address\", \"$RT/ctrd/c.sock\", \"--namespace\", \"$ns\", \"images\", \"ls\", \"name==\\\"localhost/dhi-ci-none:1\\\"\"]" "$BATS_TEST_TMPDIR/st")
		echo "$exec"
		# ctr by fd, told the socket that was checked; nothing of the caller's environment
		[[ "$exec" == *'], ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"], AT_EMPTY_PATH) = 0' ]]
	done
}

@test "containerd: --toolbox REF is served from the containerd target's own namespace; another target does not ask there" {
	[ -d "$BUILD/toolbox/busybox" ] || missing "no busybox toolbox (make toolbox-busybox)"
	local id=dhi-ci-$$-$BATS_TEST_NUMBER
	ctrd_run "$id"
	run --separate-stderr "$DHIDEBUG" --toolbox localhost/dhi-ci-tools:1 --toolbox-cache "$CACHE" \
		--containerd-root "$RT/ctrd/state" --view toolbox "containerd://$CTRD_NS/$id" \
		-- busybox echo from-containerd
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = from-containerd ]
	[[ "$stderr" == *"\`localhost/dhi-ci-tools:1\` from containerd's images (namespace $CTRD_NS), cached as sha256:"* ]]
	# an image target has no namespace of its own: default, k8s.io and moby lack it
	run --separate-stderr "$DHIDEBUG" --toolbox localhost/dhi-ci-tools:1 --toolbox-cache "$BATS_TEST_TMPDIR/c2" \
		--view toolbox image://localhost/dhi-ci:only -- busybox true
	echo "$output / $stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"cannot pull \`localhost/dhi-ci-tools:1\`"* ]]
}

# liar MODE ARGS...: ARGS run with a ctr of the test's bound over /usr/bin/ctr (in a mount
# namespace of their own), answering as MODE says. $ASKED and $OTHER are the digests of
# localhost/dhi-ci:only and localhost/dhi-ci-other:1 in containerd.
liar()
{
	local mode=$1 fake=$BATS_TEST_TMPDIR/ctr

	shift
	cat >"$fake" <<-EOF
		#!/bin/sh
		# (no environment reaches it: everything it needs is written here)
		case "\$*" in
		*" images ls "*) printf 'REF TYPE DIGEST SIZE PLATFORMS LABELS\n' ;;
		esac
		case "$mode \$*" in
		"othername "*" images ls "*)
			printf 'localhost/dhi-ci-other:1 x $OTHER 1 linux/amd64 -\n' ;;
		*" images ls "*)
			printf 'localhost/dhi-ci:only x $ASKED 1 linux/amd64 -\n' ;;
		"honest "*" images export "*) exec cat "$RT/asked.oci.tar" ;;
		"otherimage "*" images export "*) exec cat "$RT/other.oci.tar" ;;
		"two "*" images export "*) exec cat "$RT/two.oci.tar" ;;
		"flood "*" images export "*) exec cat /dev/zero ;;
		esac
	EOF
	chmod 755 "$fake"
	run --separate-stderr unshare -m sh -c 'mount --bind "$0" /usr/bin/ctr && exec "$@"' "$fake" "$@"
}

@test "containerd: ctr's answers are not believed: another name, another image, two images, no end" {
	local c=(ctr -a "$RT/ctrd/c.sock" -n default)
	ASKED=$("${c[@]}" images ls 'name=="localhost/dhi-ci:only"' | awk 'NR == 2 { print $3 }')
	OTHER=$("${c[@]}" images ls 'name=="localhost/dhi-ci-other:1"' | awk 'NR == 2 { print $3 }')
	[[ "$ASKED" == sha256:* && "$OTHER" == sha256:* ]]
	"${c[@]}" images export "$RT/asked.oci.tar" localhost/dhi-ci:only
	"${c[@]}" images export "$RT/other.oci.tar" localhost/dhi-ci-other:1
	"${c[@]}" images export "$RT/two.oci.tar" localhost/dhi-ci:only localhost/dhi-ci-other:1
	# the control: the fake telling the truth is believed
	liar honest "$DHIDEBUG" lint --toolbox-cache "$CACHE" image://localhost/dhi-ci:only
	echo "$output / $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"\`localhost/dhi-ci:only\` from containerd's images"*", cached as $ASKED"* ]]
	rm -rf "$CACHE"
	# a line for an image it was not asked about is none of ours: the registry is asked
	liar othername "$DHIDEBUG" lint --toolbox-cache "$CACHE" image://localhost/dhi-ci:only
	echo "$output / $stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"cannot pull \`localhost/dhi-ci:only\`"* ]]
	[[ "$stderr" != *"containerd's images"* ]]
	# it names the asked image's digest and exports another image: refused, nothing cached
	liar otherimage "$DHIDEBUG" lint --toolbox-cache "$CACHE" image://localhost/dhi-ci:only
	echo "$output / $stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"from containerd's images (namespace default)"*"holds image \`$OTHER\`, not \`$ASKED\`"* ]]
	run "$DHIDEBUG" toolbox ls --toolbox-cache "$CACHE"
	echo "$output"
	[[ "$output" != *dhi-ci* ]]
	# two images in the archive of one
	liar two "$DHIDEBUG" lint --toolbox-cache "$CACHE" image://localhost/dhi-ci:only
	echo "$output / $stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"archive holds 2 images, not the one asked for"* ]]
	# an export with no end stops at the cap (ctr killed)
	liar flood "$DHIDEBUG" lint --toolbox-cache "$CACHE" --max-unpacked 1M image://localhost/dhi-ci:only
	echo "$output / $stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"ctr images export printed more than 1048576 bytes"* ]]
}
