#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# attack_cast.bats: what a container prints is what the reviewer searches and replays. Output
# that holds NULs (\u0000 in session.cast, which a JSON reader refuses unless told) must not
# vanish from `sessions grep`, `replay` or `follow`; and the C1 controls (U+009B is CSI to a
# terminal that takes 8-bit controls, U+009D OSC) must not reach the reviewer's terminal
# through grep's lines, any more than ESC sequences do.

load helpers

setup()
{
	requires root runc toolbox
	SDIR=$BATS_TEST_TMPDIR/sessions
	mkdir -m 0700 "$SDIR"
}

teardown()
{
	container_rm
}

# hostile_output: a session whose output has a NUL in a line, an OSC title, C1 CSI and OSC
hostile_output()
{
	container_start static
	run_dhi --sessions-dir "$SDIR" "$TARGET" -- printf \
		'HIDDEN-ONE\000 tail\nHIDDEN-TWO \302\2332J \302\2350;title\007 \033]0;esc\007 end\n'
	[ "$status" -eq 0 ]
	ID=$(ls "$SDIR" | grep -v '^\.' | head -1)
	[ -n "$ID" ]
	# the recording has them, escaped
	grep -q 'HIDDEN-ONE\\u0000' "$SDIR/$ID/session.cast"
}

@test "sessions grep finds output whose lines hold a NUL" {
	hostile_output
	run "$DHIDEBUG" sessions grep --dir "$SDIR" HIDDEN
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c HIDDEN <<<"$output")" -eq 2 ]
	run "$DHIDEBUG" sessions grep --dir "$SDIR" --json 'HIDDEN-ONE tail'
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].line' <<<"$output")" = "HIDDEN-ONE tail" ]
}

@test "sessions grep prints no control of the output: no ESC, BEL or C1 (U+0080-U+009F) reaches the terminal" {
	hostile_output
	"$DHIDEBUG" sessions grep --dir "$SDIR" HIDDEN >"$BATS_TEST_TMPDIR/grep.out"
	od -An -tx1 "$BATS_TEST_TMPDIR/grep.out"
	run grep -c -P '\x1b|\x07|\xc2[\x80-\x9f]' "$BATS_TEST_TMPDIR/grep.out"
	[ "$output" = 0 ]
	# what a terminal would have shown of the line is kept
	grep -q 'HIDDEN-TWO    end' "$BATS_TEST_TMPDIR/grep.out"
}

@test "replay plays output that holds a NUL (it was skipped as not an event)" {
	hostile_output
	run --separate-stderr "$DHIDEBUG" replay --dir "$SDIR" --speed 100 "$ID"
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *HIDDEN-ONE* ]]
	[[ "$output" == *HIDDEN-TWO* ]]
	[[ "$stderr" != *"not an event"* ]]
}

@test "exec records keep arguments and paths that are not UTF-8 (escaped, and said so), instead of dropping them" {
	container_start static
	# what the session runs: an argument and a program path that are not UTF-8 (in the
	# session's own scratch directory)
	printf '/usr/bin/true \377\376 ok\ncp /usr/bin/true /.dhi-scratch/x\377\n/.dhi-scratch/x\377 arg\n' >"$BATS_TEST_TMPDIR/cmds"
	run_dhi --sessions-dir "$SDIR" --profile sysadmin "$TARGET" -- xargs -L1 -a /dev/stdin env \
		<"$BATS_TEST_TMPDIR/cmds"
	[ "$status" -eq 0 ]
	local d
	d=$SDIR/$(ls "$SDIR" | grep -v '^\.' | head -1)
	jq -c 'select(.type == "exec") | [.path, .argv, .escaped]' "$d/audit.jsonl"
	# every argument is there, the bytes that are not UTF-8 as \xNN
	jq -e -s 'any(.[]; .type == "exec" and .path == "/usr/bin/true" and
		.argv == ["/usr/bin/true", "\\xff\\xfe", "ok"] and .escaped == ["argv"])' "$d/audit.jsonl"
	# the exec of a program whose path is not UTF-8 is recorded at all
	jq -e -s 'any(.[]; .type == "exec" and .path == "/.dhi-scratch/x\\xff" and
		.argv == ["/.dhi-scratch/x\\xff", "arg"] and (.escaped | index("path")) != null)' "$d/audit.jsonl"
	"$DHIDEBUG" sessions verify --dir "$SDIR" "$(basename "$d")"
}

@test "a dhish line longer than one message (4 KiB) is recorded whole, in line and line.end: nothing hides behind padding" {
	container_start static
	local pad long
	pad=$(head -c 5000 /dev/zero | tr '\0' a)
	long=$(head -c 100000 /dev/zero | tr '\0' b)
	run_dhi --sessions-dir "$SDIR" -c "echo $pad >/dev/null; echo HIDDEN-TAIL" "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = HIDDEN-TAIL ]
	run_dhi --sessions-dir "$SDIR" -c "echo $long >/dev/null; echo SECOND-TAIL" "$TARGET"
	[ "$status" -eq 0 ]
	local d n=0
	for d in "$SDIR"/2*; do
		jq -c 'select(.type == "line" or .type == "line.end") | [.type, (.text | length), .text[-16:], .truncated]' "$d/audit.jsonl"
		jq -e -s --arg t "echo $pad >/dev/null; echo HIDDEN-TAIL" --arg u "echo $long >/dev/null; echo SECOND-TAIL" \
			'[.[] | select(.type == "line" or .type == "line.end") | select(.text == $t or .text == $u)
			  | select(.truncated == null)] | length == 2' "$d/audit.jsonl"
		"$DHIDEBUG" sessions verify --dir "$SDIR" "$(basename "$d")"
		n=$((n + 1))
	done
	[ "$n" -eq 2 ]
}
