#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# help.bats: `dhidebug help [<subcommand>]` and `dhidebug <subcommand> --help` (issue 21): the
# subcommands with one line each, or one subcommand's usage on stdout, exit 0; nothing runs,
# no container is needed. An unknown subcommand is a usage error with the near miss.

load helpers

@test "help: the subcommands, one line each" {
	run --separate-stderr "$DHIDEBUG" help </dev/null
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "${lines[0]}" == "usage: dhidebug [<options>] <target> "* ]]
	for sub in profiles ls port-forward lint toolbox sessions replay help; do
		printf '%s\n' "${lines[@]}" | grep -qE "^  $sub +[a-z]"
	done
}

@test "help <subcommand>: its usage alone, the same as <subcommand> --help" {
	run --separate-stderr "$DHIDEBUG" help ls </dev/null
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "usage: dhidebug ls [--json]" ]
	[[ "$output" == *"lists the containers of every runtime"* ]]
	[[ "$output" == *"--runtime-root=<...>"* ]]
	# not the whole usage: no other subcommand's lines, no targets
	[[ "$output" != *"dhidebug lint"* ]]
	[[ "$output" != *"Targets:"* ]]
	help_ls=$output
	run --separate-stderr "$DHIDEBUG" ls --help </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "$help_ls" ]
	run --separate-stderr "$DHIDEBUG" --json ls -h </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "$help_ls" ]
}

@test "help: each subcommand's usage starts with its synopsis" {
	for sub in profiles ls port-forward lint toolbox sessions replay help; do
		run --separate-stderr "$DHIDEBUG" help "$sub" </dev/null
		echo "help $sub -> $status: ${lines[0]}"
		[ "$status" -eq 0 ]
		[[ "${lines[0]}" == "usage: dhidebug $sub"* ]]
	done
	run --separate-stderr "$DHIDEBUG" toolbox pull --help </dev/null
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: dhidebug toolbox pull"* ]]
	[[ "$output" == *"--toolbox-cache=<...>"* ]]
	run --separate-stderr "$DHIDEBUG" sessions --help </dev/null
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: dhidebug sessions ls"* ]]
	[[ "$output" == *"sessions verify"* ]]
	run --separate-stderr "$DHIDEBUG" replay x --help </dev/null
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: dhidebug replay <id>"* ]]
}

@test "help: an unknown subcommand is a usage error (125) with the near miss" {
	run --separate-stderr "$DHIDEBUG" help sesions </dev/null
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[ "$stderr" = "dhidebug: no subcommand \`sesions\` (see \`dhidebug help\`); did you mean \`sessions\`?" ]
	run --separate-stderr "$DHIDEBUG" help no-such-thing </dev/null
	[ "$status" -eq 125 ]
	[ "$stderr" = "dhidebug: no subcommand \`no-such-thing\` (see \`dhidebug help\`)" ]
	run --separate-stderr "$DHIDEBUG" help ls lint </dev/null
	[ "$status" -eq 125 ]
	[ "$stderr" = "dhidebug: usage: dhidebug help [<subcommand>]" ]
}

@test "help: --help is still the whole usage, now naming help" {
	run --separate-stderr "$DHIDEBUG" --help </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"dhidebug help [<subcommand>]"* ]]
	[[ "$output" == *"Targets:"* ]]
	[[ "$output" == *"dhidebug replay <id>"* ]]
}
