#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# record.bats: reviewing recorded sessions (docs/recording.md, "Reviewing"): sessions ls, show,
# verify against every kind of tampering, replay, and the HTML export, on recordings written
# by real sessions; the real asciinema player and a headless Chromium are the judges.

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

# review ARGS...: the reviewing commands, on the test's sessions folder (no toolbox, no -q).
review()
{
	"$DHIDEBUG" "$@" --dir "$SDIR"
}

# record LINE: a real session running LINE in a fresh container; SESSION is its id, SESSION_DIR
# its folder and SESSION_OUT what it printed.
record()
{
	[ -n "${CID:-}" ] || container_start static
	run_dhi --sessions-dir "$SDIR" -c "$1" "$TARGET"
	[ "$status" -eq 0 ]
	SESSION_OUT=$output
	SESSION_DIR=$(ls -td "$SDIR"/*/ | head -1)
	SESSION_DIR=${SESSION_DIR%/}
	SESSION=${SESSION_DIR##*/}
}

# tampered NAME: a copy of the session as NAME in the sessions folder, to edit.
tampered()
{
	cp -a "$SESSION_DIR" "$SDIR/$1"
	T=$SDIR/$1
}

# expect_bad NAME WANT: `sessions verify NAME` exits 1 and names WANT.
expect_bad()
{
	run review sessions verify "$1"
	echo "verify $1 -> $status: $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$1: invalid: $2"* ]]
}

@test "sessions verify, ls and show read a session recorded by a real session" {
	record 'echo hello-from-session; ls /proc | wc -l; env | sort | head -1'
	run review sessions verify "$SESSION"
	[ "$status" -eq 0 ]
	[[ "$output" == "$SESSION: ok: complete, "* ]]
	# a unique prefix of the id is enough, and --all covers the folder
	run review sessions verify "${SESSION:0:20}"
	[ "$status" -eq 0 ]
	run review sessions verify --all
	[ "$status" -eq 0 ]

	run review sessions ls --json
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" -eq 1 ]
	[ "$(jq -r '.[0].id' <<<"$output")" = "$SESSION" ]
	[ "$(jq -r '.[0].state' <<<"$output")" = complete ]
	[ "$(jq -r '.[0].status' <<<"$output")" = 0 ]
	[ "$(jq -r '.[0].target.id' <<<"$output")" = "$CID" ]
	[ "$(jq -r '.[0].profile' <<<"$output")" = general ]
	run review sessions ls
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == ID*STARTED*TARGET*OPERATOR*PROFILE*DURATION*STATUS*STATE ]]
	[[ "${lines[1]}" == "$SESSION "*"runc://$CID"*general*complete ]]

	run review sessions show "$SESSION"
	[ "$status" -eq 0 ]
	[[ "$output" == *"target    runc://$CID"* ]]
	[[ "$output" == *"line      echo hello-from-session; ls /proc | wc -l; env | sort | head -1   (in /)"* ]]
	# the default view here is union: the toolbox's programs run from /.dhi
	[[ "$output" == *"exec      allowed /.dhi/usr/bin/ls: ls /proc"* ]]
	[[ "$output" == *"exec      allowed /.dhi/usr/bin/wc: wc -l"* ]]
	[[ "$output" == *"exec      allowed /.dhi/usr/bin/sort: sort"* ]]
	[[ "$output" == *"line.end  status 0, "* ]]
	[[ "$output" == *"end       status 0, reason exit"* ]]
}

# The start record is on disk before the program runs (a crash of the machine leaves it): its
# fsync runs while the stage starts the session, and the program's execve waits for the
# supervisor's answer to its exec notification, which comes after it.
@test "the program starts only after session.start is on disk, and session.end is on disk before dhidebug exits" {
	container_start static
	local log=$BATS_TEST_TMPDIR/strace
	# one file per process (no call split by another's), each call with its start and length
	strace -ff -qq -ttt -T -y -o "$log" -e trace=fsync,execve,exit_group \
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q --sessions-dir "$SDIR" "$TARGET" -- true </dev/null
	# the calls' ends, in time order: "END CALL FILE" (execve: the program it ran)
	python3 - "$log" >"$log.ends" <<-'EOF'
		import glob, re, sys
		ends = []
		for f in glob.glob(sys.argv[1] + ".*"):
		    pid = f.rsplit(".", 1)[1]
		    for line in open(f):
		        m = re.match(r'([0-9.]+) (\w+)\((?:[0-9]+<([^>]*)>|"([^"]*)")?.*?(?:<([0-9.]+)>)?$', line)
		        if m and (m.group(5) or m.group(2) == "exit_group"):
		            end = float(m.group(1)) + float(m.group(5) or 0)
		            ends.append((end, m.group(2), m.group(3) or m.group(4) or "", pid))
		for e in sorted(ends):
		    print("%.6f %s %s %s" % e)
	EOF
	cat "$log.ends"
	local first prog
	first=$(awk '$2 == "fsync" && $3 ~ /audit.jsonl$/ { print NR; exit }' "$log.ends")
	prog=$(awk '$2 == "execve" && $3 == "/.dhi/usr/bin/true" { print NR; exit }' "$log.ends")
	[ -n "$first" ] && [ -n "$prog" ]
	# session.start's fsync done before the program's exec returned
	[ "$first" -lt "$prog" ]
	# session.end's fsyncs (audit and cast) after the program, before dhidebug's own exit
	tail -n +"$prog" "$log.ends" | grep -q ' fsync .*/audit.jsonl '
	tail -n +"$prog" "$log.ends" | grep -q ' fsync .*/session.cast '
	[ "$(tail -1 "$log.ends" | cut -d' ' -f2)" = exit_group ]
}

@test "sessions ls selects by --target and --since" {
	record 'echo one'
	run review sessions ls --json --target "runc://$CID"
	[ "$(jq length <<<"$output")" -eq 1 ]
	run review sessions ls --json --target "$CID"
	[ "$(jq length <<<"$output")" -eq 1 ]
	run review sessions ls --json --target runc://another
	[ "$(jq length <<<"$output")" -eq 0 ]
	run review sessions ls --json --since 1h
	[ "$(jq length <<<"$output")" -eq 1 ]
	run review sessions ls --json --since 2099-01-01
	[ "$(jq length <<<"$output")" -eq 0 ]
	run review sessions ls --since yesterday
	[ "$status" -eq 125 ]
	[[ "$output" == *'invalid --since `yesterday`'* ]]
}

@test "asciinema cat of a recording prints what the session printed; asciinema play -s 100 exits 0" {
	command -v asciinema >/dev/null || missing "needs asciinema"
	record 'echo hello-from-session; seq 1 50; echo "tab	and ünïcode ✓"'
	# asciinema 2.2 opens /dev/tty even for `cat`: script gives it one, the output goes to a file
	script -qec "asciinema cat '$SESSION_DIR/session.cast' >'$BATS_TEST_TMPDIR/cat.out'" /dev/null </dev/null
	[ "$(cat "$BATS_TEST_TMPDIR/cat.out")" = "$SESSION_OUT" ]
	[[ "$SESSION_OUT" == *"hello-from-session"*"50"*"ünïcode ✓"* ]]
	run timeout 30 asciinema play -s 100 "$SESSION_DIR/session.cast" </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"hello-from-session"* ]]
}

@test "sessions verify names the first bad place for each kind of tampering" {
	record 'echo first; ls /proc | wc -l; echo second; env | sort | head -2'
	local n
	n=$(wc -l <"$SESSION_DIR/audit.jsonl")
	[ "$n" -ge 6 ]

	# an edited record: the next record's prev no longer matches
	tampered edited
	sed -i '2s/echo first/echo FIRST/' "$T/audit.jsonl"
	expect_bad edited "audit.jsonl:3: prev does not match record 2"

	# a deleted record
	tampered deleted
	sed -i '3d' "$T/audit.jsonl"
	expect_bad deleted "audit.jsonl:3: seq is 3, expected 2"

	# reordered records
	tampered reordered
	sed -i '3{h;d};4G' "$T/audit.jsonl"
	expect_bad reordered "audit.jsonl:3: seq is 3, expected 2"

	# reordered and renumbered: the chain still shows it
	tampered renumbered
	sed -i '3{h;d};4G' "$T/audit.jsonl"
	sed -i '3s/"seq":3,/"seq":2,/; 4s/"seq":2,/"seq":3,/' "$T/audit.jsonl"
	expect_bad renumbered "audit.jsonl:3: prev does not match record 2"

	# a record appended after session.end (a copy of a real one)
	tampered appended
	sed -n 2p "$T/audit.jsonl" >>"$T/audit.jsonl"
	expect_bad appended "audit.jsonl:$((n + 1)): record after session.end"

	# a truncated recording
	tampered truncated
	truncate -s -10 "$T/session.cast"
	expect_bad truncated "audit.jsonl:"
	[[ "$output" == *"beyond the end of session.cast"*"the recording was truncated"* ]]

	# an edited recording, same length
	tampered castedit
	sed -i 's/second/SECOND/' "$T/session.cast"
	expect_bad castedit "audit.jsonl:"
	[[ "$output" == *"cast_sha256 does not match the first "*" bytes of session.cast"* ]]

	# the untouched original still verifies, and --all fails for the folder, naming each
	run review sessions verify "$SESSION"
	[ "$status" -eq 0 ]
	run review sessions verify --all
	[ "$status" -eq 1 ]
	[[ "$output" == *"$SESSION: ok: complete"* ]]
	[ "$(grep -c ': invalid: ' <<<"$output")" -eq 7 ]
	run review sessions ls --json
	[ "$(jq '[.[] | select(.state == "invalid")] | length' <<<"$output")" -eq 7 ]
}

@test "a session whose supervisor was SIGKILLed verifies as incomplete, up to its last record" {
	container_start static
	dhidebug_bg "$BATS_TEST_TMPDIR/bg.out" --sessions-dir "$SDIR" -c 'echo started; sleep 30' "$TARGET"
	wait_for_session
	for _ in $(seq 50); do
		grep -q '"path":"/.dhi/usr/bin/sleep"' "$SDIR"/*/audit.jsonl 2>/dev/null && break
		sleep 0.1
	done
	kill -KILL "$DHI_PID"
	wait_pid_exit "$DHI_PID"
	wait_no_session 5
	run review sessions verify --all
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *": ok: incomplete (no session.end"* ]]
	run review sessions ls --json
	[ "$(jq -r '.[0].state' <<<"$output")" = incomplete ]
	[ "$(jq -r '.[0].status' <<<"$output")" = null ]
	run review sessions show "$(jq -r '.[0].id' <<<"$output")"
	[[ "$output" == *"exec      allowed /.dhi/usr/bin/sleep: sleep 30"* ]]
	[[ "$output" != *"end       status"* ]]
}

# replay_pauses OUT ARGS...: `replay ARGS` under strace; OUT gets the longest pause it slept
# for, in ms: the largest step between the absolute deadlines of its clock_nanosleep calls
replay_pauses()
{
	local out=$1

	shift
	strace -qq -o "$out.trace" -e trace=clock_nanosleep "$DHIDEBUG" replay "$@" --dir "$SDIR" \
		>"$out.stdout"
	cat "$out.trace"
	sed -nE 's/.*TIMER_ABSTIME, \{tv_sec=([0-9]+), tv_nsec=([0-9]+)\}.*/\1 \2/p' "$out.trace" |
		awk 'NR > 1 { d = ($1 - s) * 1000 + ($2 - n) / 1e6; if (d > m) m = d }
		     { s = $1; n = $2 } END { printf "%d\n", m }' >"$out"
}

@test "replay plays the recorded output; --idle-limit caps pauses; Ctrl-C stops it" {
	record 'echo before; sleep 2; echo after'
	run review replay "$SESSION" --idle-limit 0.2
	[ "$status" -eq 0 ]
	[ "$output" = "$SESSION_OUT" ]
	# the 2 s pause is slept for as 0.2 s (what it takes on the clock is bench/limits' part);
	# the control: without --idle-limit, replay sleeps the whole pause
	replay_pauses "$BATS_TEST_TMPDIR/plain" "$SESSION"
	replay_pauses "$BATS_TEST_TMPDIR/capped" "$SESSION" --idle-limit 0.2
	echo "longest pause: $(cat "$BATS_TEST_TMPDIR/plain") ms, with --idle-limit 0.2: $(cat "$BATS_TEST_TMPDIR/capped") ms"
	[ "$(cat "$BATS_TEST_TMPDIR/plain")" -ge 1900 ]
	[ "$(cat "$BATS_TEST_TMPDIR/capped")" -le 200 ]
	[ "$(cat "$BATS_TEST_TMPDIR/capped.stdout")" = "$SESSION_OUT" ]
	# --speed 0.5 over the same pause, interrupted: exits at once, 130, the terminal reset
	"$DHIDEBUG" replay "$SESSION" --dir "$SDIR" --speed 0.5 >"$BATS_TEST_TMPDIR/replay.out" \
		2>"$BATS_TEST_TMPDIR/replay.err" 3>&- &
	local pid=$!
	# interrupted in the pause, once `before' was played
	wait_for -m "the replay playing \`before'" grep -q before "$BATS_TEST_TMPDIR/replay.out"
	kill -INT "$pid"
	wait_pid_exit "$pid" 2
	[ "$WAIT_STATUS" -eq 130 ]
	run_fails grep -q after "$BATS_TEST_TMPDIR/replay.out"
	grep -q 'replay stopped' "$BATS_TEST_TMPDIR/replay.err"
}

# chromium ARGS... URL: Debian's chromium, headless, with nothing of the host's profile and no
# network; a fresh profile folder each time.
chromium_headless()
{
	timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d "$BATS_TEST_TMPDIR/chromium.XXXXXX")" "$@" 2>/dev/null
}

@test "the HTML export opens in headless Chromium: the player shows the session's text beside the timeline" {
	command -v chromium >/dev/null || missing "needs chromium"
	record 'echo hello-from-the-export; ls /proc | wc -l; echo "<b>not bold</b> & done"'
	local page=$BATS_TEST_TMPDIR/session.html png=$BATS_TEST_TMPDIR/shot.png
	run review sessions export "$SESSION" --html "$page"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$page")" = 600 ]
	# self-contained: nothing is loaded from elsewhere
	run_fails grep -qiE '<script[^>]*[[:space:]]src=|<link[[:space:]]' "$page"

	chromium_headless --window-size=1280,800 --virtual-time-budget=5000 --screenshot="$png" "file://$page"
	[ -s "$png" ]
	# not a blank image: the player's text and the page's colours
	python3 - "$png" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h = 8, b"", 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
colours, stride, prev = set(), w * bpp, bytearray(w * bpp)
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 4):
        colours.add(bytes(line[x:x + 3]))
    prev = line
print(w, h, len(colours), "colours")
assert len(colours) > 10, "a blank screenshot"
EOF

	# the player draws as its clock runs: on a loaded machine the first dump may come before
	# the last frame, so give it longer before calling it a failure
	local budget ok=
	for budget in 5000 15000 40000; do
		chromium_headless --virtual-time-budget=$budget --dump-dom "file://$page" \
			>"$BATS_TEST_TMPDIR/dom.html"
		if dom_matches; then
			ok=1
			break
		fi
	done
	[ -n "$ok" ]
}

# dom_matches: the dumped page's player shows every printed line, in order, and its timeline
# lists the line and the execs (prints why not)
dom_matches()
{
	python3 - "$BATS_TEST_TMPDIR/dom.html" "$SESSION_OUT" <<'EOF'
import html, re, sys
dom, printed = open(sys.argv[1]).read(), sys.argv[2]
def text(fragment):
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))
i, j = dom.index('id="player"'), dom.index('id="timeline"')
player, timeline = text(dom[i:j]), text(dom[j:dom.index("</ol>", j)])
# the player's screen holds every line the session printed, in order
at = 0
for line in printed.splitlines():
    k = player.find(line.strip(), at)
    assert k >= 0, "player does not show %r" % line
    at = k + len(line.strip())
# the timeline lists the line and the execs
for want in ['echo hello-from-the-export; ls /proc | wc -l; echo "<b>not bold</b> & done"',
             "/usr/bin/ls", "ls /proc", "/usr/bin/wc", "wc -l", "status 0"]:
    assert want in timeline, "timeline lacks %r" % want
assert "<b>not bold</b>" not in dom, "audit text was not escaped"
print("player and timeline match")
EOF
}

@test "reviewing errors: unknown or ambiguous ids, a bad --dir, wrong options" {
	run "$DHIDEBUG" sessions verify nosuch --dir "$SDIR"
	[ "$status" -eq 125 ]
	[[ "$output" == 'dhidebug: no session `nosuch` in'* ]]
	mkdir "$SDIR/20260101T000000Z-aaaaaaaa" "$SDIR/20260101T000000Z-bbbbbbbb"
	run "$DHIDEBUG" sessions show 2026 --dir "$SDIR"
	[ "$status" -eq 125 ]
	[[ "$output" == *"is ambiguous (2 sessions start with it)"* ]]
	# a folder without audit.jsonl is listed as invalid, and fails verify
	run "$DHIDEBUG" sessions verify 20260101T000000Z-a --dir "$SDIR"
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid: audit.jsonl: missing"* ]]
	run "$DHIDEBUG" sessions verify --all --dir "$BATS_TEST_TMPDIR/none"
	[ "$status" -eq 125 ]
	[[ "$output" == *"cannot open the sessions folder"* ]]
	run "$DHIDEBUG" sessions ls --dir "$BATS_TEST_TMPDIR/none"
	[ "$status" -eq 0 ]
	run "$DHIDEBUG" sessions show x --json
	[ "$status" -eq 125 ]
	run "$DHIDEBUG" sessions export x
	[ "$status" -eq 125 ]
	[[ "$output" == *"--html"* ]]
}
