#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# image.sh: build dhidebug's own image (images/dhidebug/Dockerfile) with buildah: no daemon, and
# by default no container registry either. The build stage's base is made here, once, with
# mmdebstrap from the Debian mirror with every build package already in it, and kept in buildah's
# storage as localhost/dhidebug-build:<suite>-<hash of the package list>; the final stage is FROM
# scratch. With --build-image docker.io/library/debian:bookworm the base is pulled instead and
# the build stage installs the packages itself (that needs network in RUN steps).
# See docs/dhidebug-image.md.

set -euo pipefail

readonly PROG=image.sh
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO
readonly DOCKERFILE=$REPO/images/dhidebug/Dockerfile
readonly PACKAGES_FILE=$REPO/images/dhidebug/build-packages

version=${VERSION:-$(sed -n 's/^VERSION := //p' "$REPO/Makefile")}
tag=
build_image=
suite=bookworm
mirror=
push=
storage=()
build_args=()
tmp=

usage()
{
	cat <<EOF
usage: scripts/$PROG [--tag <ref>] [--build-image <ref>] [--suite <suite>] [--mirror <url>]
                       [--root <dir>] [--runroot <dir>] [--storage-driver <driver>]
                       [--push <dest>] [-- <buildah build option>...]

Build dhidebug's image from this source tree with buildah (run \`make player\` first, or
\`make image\`, which does both).
  --tag <ref>             the image's name (default localhost/dhidebug:<version>)
  --build-image <ref>     the build stage's base instead of the local one, e.g.
                          docker.io/library/debian:bookworm (its RUN steps then need the
                          network to reach the Debian mirror)
  --suite, --mirror       what mmdebstrap makes the local base from (default bookworm and the
                          mirror it chooses itself, deb.debian.org)
  --root, --runroot, --storage-driver
                          buildah's storage (default: buildah's own, with its driver or
                          \$STORAGE_DRIVER; vfs works where overlay cannot, e.g. in containers)
  --push <dest>           then copy the image there: oci-archive:<file>, docker://<registry>/…
  -- <option>...          passed on to \`buildah build\`
RUN steps use BUILDAH_ISOLATION (default chroot: no OCI runtime, the host's network).
The image's reference is printed on the last line of the output.
EOF
}

step()
{
	printf '%s: %s\n' "$PROG" "$*" >&2
}

die()
{
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

# bah ARGS...: buildah on the chosen storage
bah()
{
	buildah "${storage[@]}" "$@"
}

cleanup()
{
	if [ -n "$tmp" ]; then
		rm -rf "$tmp"
	fi
}

parse_args()
{
	local driver=${STORAGE_DRIVER:-}

	while [ $# -gt 0 ]; do
		case $1 in
		--tag | --build-image | --suite | --mirror | --root | --runroot | --storage-driver | --push)
			[ $# -ge 2 ] || die "$1 needs a value"
			case $1 in
			--tag) tag=$2 ;;
			--build-image) build_image=$2 ;;
			--suite) suite=$2 ;;
			--mirror) mirror=$2 ;;
			--root | --runroot) storage+=("$1" "$2") ;;
			--storage-driver) driver=$2 ;;
			--push) push=$2 ;;
			esac
			shift 2
			;;
		-h | --help)
			usage
			exit 0
			;;
		--)
			shift
			build_args=("$@")
			break
			;;
		*)
			usage >&2
			exit 2
			;;
		esac
	done
	if [ -n "$driver" ]; then
		storage+=(--storage-driver "$driver")
	fi
	# RUN steps in a chroot with their own namespaces but no OCI runtime and no cgroups: the
	# build runs only this tree's Makefile, and crun and runc both fail on some hosts (crun with
	# cgroups in hybrid mode, either in containers without cgroup delegation). It shares the
	# host's network, which the apt-get of --build-image debian:bookworm needs.
	export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
	[ -n "$version" ] || die "no VERSION in $REPO/Makefile"
	tag=${tag:-localhost/dhidebug:$version}
}

check_tools()
{
	local f

	command -v buildah >/dev/null || die "needs buildah (apt-get install buildah, or make deps)"
	if [ -z "$build_image" ]; then
		command -v mmdebstrap >/dev/null ||
			die "needs mmdebstrap for the local build base (make deps), or --build-image <ref>"
	fi
	for f in asciinema-player.min.js asciinema-player.css; do
		[ -s "$REPO/build/npm/node_modules/asciinema-player/dist/bundle/$f" ] ||
			die "no build/npm/…/$f: run \`make player\` first (sessions export embeds it)"
	done
}

# packages: the build stage's packages, comma-separated, as mmdebstrap --include wants them
packages()
{
	grep -v -e '^#' -e '^[[:space:]]*$' "$PACKAGES_FILE" | paste -sd, -
}

# make_base REF: the build stage's base, made with mmdebstrap (variant apt: the essential set,
# apt, and the build packages with their dependencies; no documentation), imported as one layer
make_base()
{
	local ref=$1 ctr start=$SECONDS

	step "making $ref with mmdebstrap ($suite${mirror:+, $mirror})"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/dhidebug-base.XXXXXX")
	mmdebstrap --quiet --variant=apt --include="$(packages)" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		"$suite" "$tmp/rootfs.tar" ${mirror:+"$mirror"}
	ctr=$(bah from scratch)
	if ! bah add --quiet "$ctr" "$tmp/rootfs.tar" / ||
		! bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			--cmd /bin/bash --label "org.opencontainers.image.title=dhidebug-build" \
			--label "org.opencontainers.image.description=Debian $suite with dhidebug's build packages (scripts/image.sh)" \
			"$ctr" ||
		! bah commit --quiet --rm "$ctr" "$ref" >/dev/null; then
		bah rm "$ctr" >/dev/null 2>&1 || true
		die "cannot import the mmdebstrap tarball into buildah"
	fi
	rm -rf "$tmp"
	tmp=
	step "made $ref in $((SECONDS - start)) s"
}

main()
{
	local start=$SECONDS hash revision created

	parse_args "$@"
	check_tools
	trap cleanup EXIT
	if [ -z "$build_image" ]; then
		hash=$({
			echo "$suite $mirror"
			packages
		} | sha256sum | cut -c1-12)
		build_image=localhost/dhidebug-build:$suite-$hash
		if bah inspect --type image "$build_image" >/dev/null 2>&1; then
			step "using $build_image"
		else
			make_base "$build_image"
		fi
	fi
	revision=$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)
	if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
		created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
	else
		created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	fi
	step "building $tag (build stage on $build_image)"
	bah build --file "$DOCKERFILE" --tag "$tag" \
		--build-arg "BUILD_IMAGE=$build_image" --build-arg "VERSION=$version" \
		--build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
		"${build_args[@]}" "$REPO" >&2
	if [ -n "$push" ]; then
		step "pushing $tag to $push"
		bah push --quiet "$tag" "$push" >&2
	fi
	step "built $tag in $((SECONDS - start)) s"
	echo "$tag"
}

main "$@"
