# SPDX-License-Identifier: Apache-2.0
# bundle.bash: build OCI bundles for shell-less test containers (sourced by helpers.bash and
# scripts/demo.sh, so the demo container is exactly what the tests attach to).
#
# Two kinds, the two shapes of hardened image dhidebug has to handle:
#   static   /app (a static binary) and /etc/os-release only; read-only root, runs as root.
#            Nothing in the container can help the debugger: no libc, no /bin, no /tmp.
#   dynamic  /app linked against glibc plus exactly the libraries ldd names; writable root,
#            runs as 65532:65532 (the DHI "nonroot" user).
#   musl     an Alpine-style target: /app linked against musl (musl-gcc), musl's loader at
#            /lib/ld-musl-x86_64.so.1 (which is also its libc), Alpine 3.21's os-release;
#            read-only root, runs as root.
# Both mount a host directory at /vol and use runc spec's default namespaces and mounts.

# bundle_make KIND BUNDLE_DIR VOL_DIR
# Needs BUILD (the build directory holding tests/app-static and tests/app-dynamic).
bundle_make()
{
	local kind=$1 bundle=$2 voldir=$3
	local rootfs=$bundle/rootfs app args ro uid

	case $kind in
	static)
		app=$BUILD/tests/app-static
		args='["/app", "/vol/from-app"]'
		ro=true
		uid=0
		;;
	dynamic)
		app=$BUILD/tests/app-dynamic
		args='["/app", "/vol/from-app", "/from-app"]'
		ro=false
		uid=65532
		;;
	musl)
		app=$BUILD/tests/app-musl
		args='["/app", "/vol/from-app"]'
		ro=true
		uid=0
		;;
	*)
		echo "bundle_make: unknown kind \`$kind' (static, dynamic or musl)" >&2
		return 1
		;;
	esac
	if [ ! -x "$app" ]; then
		echo "bundle_make: $app is missing (run make first)" >&2
		return 1
	fi

	mkdir -p "$rootfs" "$voldir" || return 1
	# The app runs as 65532 in the dynamic kind and writes /vol/from-app.
	chmod 0777 "$voldir" || return 1
	install -m 0755 "$app" "$rootfs/app" || return 1
	# The union view's auto rule picks the toolbox by the target's os-release; the host's
	# matches the Debian 12 toolbox that toolbox/mkdev builds from the host's mirror.
	mkdir -p "$rootfs/etc" || return 1
	install -m 0644 /usr/lib/os-release "$rootfs/etc/os-release" || return 1
	if [ "$kind" = musl ]; then
		# Alpine 3.21's fields; the loader is musl's libc.so from Debian's musl package
		printf '%s\n' 'NAME="Alpine Linux"' 'ID=alpine' 'VERSION_ID=3.21.3' \
			'PRETTY_NAME="the musl target"' >"$rootfs/etc/os-release" || return 1
		mkdir -p "$rootfs/lib" || return 1
		cp -L /lib/ld-musl-x86_64.so.1 "$rootfs/lib/ld-musl-x86_64.so.1" || return 1
	fi
	if [ "$kind" = dynamic ]; then
		bundle_copy_libs "$app" "$rootfs" || return 1
		# The app writes /from-app into its own root as 65532.
		chown 65532:65532 "$rootfs" || return 1
	fi

	(cd "$bundle" && runc spec) || return 1
	jq --argjson args "$args" --argjson ro "$ro" --argjson uid "$uid" \
		--arg vol "$voldir" '
		.process.terminal = false
		| .process.args = $args
		| .process.user = {uid: $uid, gid: $uid}
		| .hostname = "dhi-target"
		| .root.readonly = $ro
		| .mounts += [{destination: "/vol", type: "bind", source: $vol,
			       options: ["rbind", "rw"]}]
		' "$bundle/config.json" >"$bundle/config.json.new" || return 1
	mv "$bundle/config.json.new" "$bundle/config.json"
}

# Copy the shared libraries PROGRAM needs, and its loader, to the same paths under ROOTFS.
# Symlinks are dereferenced: a host /lib -> usr/lib must not become a link out of the rootfs.
bundle_copy_libs()
{
	local prog=$1 rootfs=$2 lib

	# ldd prints "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" for libraries and
	# "/lib64/ld-linux-x86-64.so.2 (0x...)" for the loader; take every absolute path.
	for lib in $(ldd "$prog" | grep -o '/[^ ]*'); do
		mkdir -p "$rootfs$(dirname "$lib")" || return 1
		cp -L "$lib" "$rootfs$lib" || return 1
	done
}
