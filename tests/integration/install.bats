#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# install.bats: `make install` into a DESTDIR installs the two programs, 0755 and owned by
# root, and never sets a setuid or setgid bit or a file capability (README.md: dhidebug is run
# by root, or through sudo; privileges are never handed out by the file itself); and the man
# pages and the bash and zsh completions, which complete from what dhidebug itself lists.

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
	# (the man pages and completions under share/: the next test)
	[ "$(cd "$DEST" && find . -path ./usr/local/share -prune -o -type f -printf '%P %m %U:%G\n' | sort)" = \
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

teardown()
{
	container_rm
}

# complete WORDS...: what the installed bash completion offers for the last word (a word
# may be empty), one a line; COMP_WORDS split as bash splits them (`=` is a word of its own)
complete_bash()
{
	PATH=$DEST/usr/local/bin:$PATH bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_dhidebug
		printf "%s\n" "${COMPREPLY[@]}"' _ \
		"$DEST/usr/local/share/bash-completion/completions/dhidebug" "$@"
}

@test "make install: man pages for both programs; bash and zsh completions of subcommands, options, profiles, targets and session ids" {
	run make -C "$REPO" --no-print-directory install BUILD="$BUILDDIR" DESTDIR="$DEST" \
		PREFIX=/usr/local
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cd "$DEST/usr/local/share" && find . -type f -printf '%P %m %U:%G\n' | sort)" = \
		"bash-completion/completions/dhidebug 644 0:0
man/man1/dhidebug.1 644 0:0
man/man1/kubectl-dhidebug.1 644 0:0
zsh/site-functions/_dhidebug 644 0:0" ]
	# `man` finds and renders both, from the markdown's text
	run env MANWIDTH=200 man -M "$DEST/usr/local/share/man" -P cat dhidebug
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "DHIDEBUG(1)"*"User Commands"*"DHIDEBUG(1)" ]]
	[[ "$output" == *"dhidebug - open a shell, or run a program, inside a running shell-less container"* ]]
	[[ "$output" == *"dhidebug toolbox (pull ref | ls [--json]"* ]]
	[[ "$output" != *"**"* ]]
	run env MANWIDTH=200 man -M "$DEST/usr/local/share/man" -P cat kubectl-dhidebug
	[ "$status" -eq 0 ]
	[[ "$output" == *"kubectl-dhidebug - debug a container of a Kubernetes pod"* ]]
	[[ "$output" == *"--node-deadline=s"* ]]

	# bash: a running container and a recorded session to complete
	container_start static
	run dhidebug --sessions-dir "$BATS_TEST_TMPDIR/s" -c true "$TARGET"
	[ "$status" -eq 0 ]
	local id
	id=$(ls "$BATS_TEST_TMPDIR/s")
	run complete_bash dhidebug ""
	echo "$output"
	[[ "$output" == *$'\n'sessions$'\n'* ]]
	[[ "$output" == *$'\n'toolbox$'\n'* ]]
	[[ "$output" == *"runc://$CID"* ]]
	run complete_bash dhidebug sessions ""
	[ "$output" = "$(printf '%s\n' ls grep show verify export ship follow)" ]
	run complete_bash dhidebug toolbox p
	[ "$output" = "$(printf '%s\n' pull prune)" ]
	run complete_bash dhidebug --pro
	[ "$output" = --profile ]
	run complete_bash dhidebug --no-r
	[ "$output" = --no-record ]
	run complete_bash dhidebug --profile ""
	[ "$output" = "$(printf '%s\n' observe general netadmin sysadmin)" ]
	run complete_bash dhidebug --profile = n
	[ "$output" = netadmin ]
	run complete_bash dhidebug --view ""
	[ "$output" = "$(printf '%s\n' auto union toolbox)" ]
	run complete_bash dhidebug sessions show --dir "$BATS_TEST_TMPDIR/s" ""
	[ "$output" = "$id" ]
	run complete_bash dhidebug replay --dir = "$BATS_TEST_TMPDIR/s" ""
	[ "$output" = "$id" ]
	run complete_bash dhidebug lint "runc://${CID:0:9}"
	[ "$output" = "runc://$CID" ]
	# after `--` it is the program's line, not dhidebug's
	run complete_bash dhidebug "$TARGET" -- --pro
	[ -z "$output" ]

	# zsh: the function parses, and zsh's completion system loads it for dhidebug
	zsh -n "$DEST/usr/local/share/zsh/site-functions/_dhidebug"
	run zsh -fc "fpath=($DEST/usr/local/share/zsh/site-functions \$fpath); autoload -Uz compinit;
		compinit -u -d $BATS_TEST_TMPDIR/zcompdump; print -r -- \${_comps[dhidebug]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = _dhidebug ]
}
