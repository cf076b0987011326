#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# install.bats: `make install` into a DESTDIR installs the two programs, 0755 and owned by
# root, and never sets a setuid or setgid bit or a file capability (README.md: dhidebug is run
# by root, or through sudo; privileges are never handed out by the file itself).

load helpers

setup()
{
	requires root
	command -v getcap >/dev/null || missing "needs getcap (libcap2-bin)"
	command -v setcap >/dev/null || missing "needs setcap (libcap2-bin)"
	DEST=$BATS_TEST_TMPDIR/dest
	# the build tree of the binary under test (build/, or build-san/ under make asan)
	BUILDDIR=$(dirname "$DHIDEBUG")
}

# privileged_files DIR: every file under DIR with a setuid or setgid bit or a file capability
privileged_files()
{
	find "$1" -type f -perm /6000 -printf 'mode %m %P\n'
	getcap -r "$1"
}

@test "make install: the programs, 0755 root:root, no setuid or setgid bit, no file capability" {
	run make -C "$REPO" --no-print-directory install BUILD="$BUILDDIR" DESTDIR="$DEST" \
		PREFIX=/usr/local
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cd "$DEST" && find . -type f -printf '%P %m %U:%G\n' | sort)" = \
		"usr/local/bin/dhidebug 755 0:0
usr/local/bin/kubectl-dhidebug 755 0:0" ]
	cmp "$DEST/usr/local/bin/dhidebug" "$DHIDEBUG"
	cmp "$DEST/usr/local/bin/kubectl-dhidebug" "$BUILDDIR/kubectl-dhidebug"
	run privileged_files "$DEST"
	echo "privileged files: $output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]

	# the control: the same check sees a capability and a setuid bit set on a copy
	cp "$DEST/usr/local/bin/dhidebug" "$DEST/usr/local/bin/with-cap"
	setcap cap_sys_admin+ep "$DEST/usr/local/bin/with-cap"
	cp "$DEST/usr/local/bin/dhidebug" "$DEST/usr/local/bin/with-suid"
	chmod 4755 "$DEST/usr/local/bin/with-suid"
	run privileged_files "$DEST"
	echo "privileged files: $output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "$output" == *"mode 4755 usr/local/bin/with-suid"* ]]
	[[ "$output" == *"$DEST/usr/local/bin/with-cap cap_sys_admin=ep"* ]]
}
