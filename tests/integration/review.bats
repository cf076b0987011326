#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# review.bats: incident review across hosts and sessions (docs/recording.md, "Comparing with a
# collected copy" and "Searching"): `sessions verify ID --against` the collector's copy (the
# test collector of ship.bats, tests/integration/collector.py, a real HTTP server on loopback)
# names a record changed, removed or added on the host even when root rewrote the host's chain
# so that it verifies; `sessions ls` selects by operator, program, image and state;
# `sessions grep` finds lines of the recorded output.

load helpers

setup()
{
	requires root runc toolbox
	SDIR=$BATS_TEST_TMPDIR/sessions
	mkdir -m 0700 "$SDIR"
	PORT=$(free_port)
	CLOG=$BATS_TEST_TMPDIR/collector.log
	POL=$BATS_TEST_TMPDIR/policy.json
	jq -n --arg url "http://127.0.0.1:$PORT/records" '{collector: {url: $url}}' >"$POL"
}

teardown()
{
	tmux_stop
	collector_stop
	container_rm
}

# review ARGS...: the reviewing commands, on the test's sessions folder
review()
{
	"$DHIDEBUG" "$@" --dir "$SDIR"
}

# record LINE [ARGS...]: a real session running LINE (with dhidebug ARGS); D is its folder, ID its id
record()
{
	[ -n "${CID:-}" ] || container_start static
	run_dhi "${@:2}" --sessions-dir "$SDIR" -c "$1" "$TARGET"
	[ "$status" -eq 0 ]
	D=$(ls -td "$SDIR"/*/ | head -1)
	D=${D%/}
	ID=${D##*/}
}

# shipped LINE: a real session running LINE, shipped to the collector as it runs; every record
# arrived, and the copy matches the host
shipped()
{
	local n

	collector_run
	record "$1" --policy "$POL"
	n=$(wc -l <"$D/audit.jsonl")
	[ "$(jq -r --arg id "$ID" 'select(.kind == "record" and .dup == false and (.key | startswith($id + ":"))) | .key' "$CLOG" | wc -l)" -eq "$n" ]
	run review sessions verify "$ID" --against "$CLOG"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$ID: matches the copy \`$CLOG\`: $n records, seq 0 to $((n - 1))" ]
}

# rechain FILE: what root does to hide an edit of FILE (an audit.jsonl): every record's seq and
# prev written again, so that the host's chain verifies
rechain()
{
	python3 - "$1" <<-'EOF'
	import hashlib, re, sys
	lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
	prev, out = b"0" * 64, []
	for i, line in enumerate(lines):
	    line = re.sub(rb'"seq":\d+', b'"seq":%d' % i, line, count=1)
	    line = re.sub(rb'"prev":"[0-9a-f]{64}"', b'"prev":"' + prev + b'"', line, count=1)
	    out.append(line)
	    prev = hashlib.sha256(line).hexdigest().encode()
	open(sys.argv[1], "wb").write(b"\n".join(out) + b"\n")
	EOF
	run review sessions verify "$(basename "$(dirname "$1")")"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *": ok: complete, "* ]]
}

# against_says WHAT: `sessions verify $ID --against $CLOG` exits 1 with the one line WHAT
against_says()
{
	run review sessions verify "$ID" --against "$CLOG"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "$ID: differs from the copy \`$CLOG\`: $1" ]
}

# line_of PATTERN: the line number in $D/audit.jsonl of the first record matching PATTERN (grep -E)
line_of()
{
	grep -nE "$1" "$D/audit.jsonl" | head -1 | cut -d: -f1
}

@test "verify --against the collector's copy: a record changed on the host, its chain rewritten, is named; a change in the copy too" {
	shipped 'echo one; echo two'
	local n
	n=$(line_of '"type":"line",')
	[ -n "$n" ]
	cp "$D/audit.jsonl" "$BATS_TEST_TMPDIR/orig"
	sed -i "${n}s/echo one/echo ONE/" "$D/audit.jsonl"
	rechain "$D/audit.jsonl"
	against_says "seq $((n - 1)) (line): changed: \`text\` is not the same"
	# the other side: the host as it was, a field put into the copy's record
	cp "$BATS_TEST_TMPDIR/orig" "$D/audit.jsonl"
	run review sessions verify "$ID" --against "$CLOG"
	[ "$status" -eq 0 ]
	jq -c --arg k "$ID:$((n - 1))" 'if .key == $k then .record.extra = 1 else . end' "$CLOG" >"$CLOG.new"
	mv "$CLOG.new" "$CLOG"
	against_says "seq $((n - 1)) (line): changed: \`extra\` (only in the copy) is not the same"
}

@test "verify --against the collector's copy: a record removed from the host is named, the later ones renumbered or not" {
	shipped 'ls /proc | wc -l; echo after'
	local n
	n=$(line_of '"type":"exec",.*"path":"[^"]*/wc"')
	[ -n "$n" ]
	cp "$D/audit.jsonl" "$BATS_TEST_TMPDIR/orig"
	sed -i "${n}d" "$D/audit.jsonl"
	rechain "$D/audit.jsonl"
	against_says "seq $((n - 1)) (exec): in the copy, not on the host (removed from the host, the later records renumbered)"
	# removed and left as a gap (the host's own verify fails too)
	cp "$BATS_TEST_TMPDIR/orig" "$D/audit.jsonl"
	sed -i "${n}d" "$D/audit.jsonl"
	against_says "seq $((n - 1)) (exec): in the copy, not on the host (removed from the host)"
}

@test "verify --against the collector's copy: a record added on the host, the later ones renumbered, is named; before the last record too" {
	shipped 'ls /proc | wc -l; echo after'
	local n last
	n=$(line_of '"type":"exec",.*"path":"[^"]*/ls"')
	[ -n "$n" ]
	cp "$D/audit.jsonl" "$BATS_TEST_TMPDIR/orig"
	# an exec that never happened, after the real one
	sed -i "${n}{p;s|\"/proc\"|\"/root\"|}" "$D/audit.jsonl"
	[ "$(wc -l <"$D/audit.jsonl")" -eq "$(($(wc -l <"$BATS_TEST_TMPDIR/orig") + 1))" ]
	rechain "$D/audit.jsonl"
	against_says "seq $n (exec): on the host, not in the copy (added on the host, the later records renumbered)"
	# a resize before session.end
	cp "$BATS_TEST_TMPDIR/orig" "$D/audit.jsonl"
	last=$(wc -l <"$D/audit.jsonl")
	sed -i '${h;s/"type":"session.end"/"type":"resize","width":80,"height":24/;p;x}' "$D/audit.jsonl"
	rechain "$D/audit.jsonl"
	against_says "seq $((last - 1)) (resize): on the host, not in the copy (added on the host, the later records renumbered)"
}

@test "verify --against: the copy on stdin; records not in the copy yet; wrong uses" {
	shipped 'echo one'
	run sh -c '"$1" sessions verify "$2" --against - --dir "$3" <"$4"' sh "$DHIDEBUG" "$ID" "$SDIR" "$CLOG"
	[ "$status" -eq 0 ]
	[[ "$output" == "$ID: matches the copy \`-\`: "* ]]
	# the copy as the collector had it before the last record arrived
	head -n "$(($(grep -c '"kind": "record"' "$CLOG") - 1))" "$CLOG" >"$BATS_TEST_TMPDIR/short"
	local n
	n=$(wc -l <"$D/audit.jsonl")
	run review sessions verify "$ID" --against "$BATS_TEST_TMPDIR/short"
	[ "$status" -eq 1 ]
	[ "$output" = "$ID: differs from the copy \`$BATS_TEST_TMPDIR/short\`: seq $((n - 1)) (session.end): on the host, not in the copy (added on the host)" ]
	run review sessions verify --all --against "$CLOG"
	[ "$status" -eq 125 ]
	[[ "$output" == *"--against compares one session"* ]]
	run review sessions verify "$ID" --against "$BATS_TEST_TMPDIR/none"
	[ "$status" -eq 125 ]
	[[ "$output" == "dhidebug: cannot open the copy \`$BATS_TEST_TMPDIR/none\`: No such file or directory" ]]
	run review sessions ls --against "$CLOG"
	[ "$status" -eq 125 ]
}

# variant NAME JQ: a copy of session $D as NAME, its session.start changed by the jq filter JQ,
# the chain written again so that it verifies (generated sessions for the filters)
variant()
{
	cp -a "$D" "$SDIR/$1"
	{ head -n1 "$D/audit.jsonl" | jq -c "$2"; tail -n +2 "$D/audit.jsonl"; } >"$SDIR/$1/audit.jsonl"
	rechain "$SDIR/$1/audit.jsonl"
}

# selects ARGS...: the ids `sessions ls --json ARGS` lists, sorted, on one line
selects()
{
	review sessions ls --json "$@" | jq -r '.[].id' | sort | tr '\n' ' '
}

# ids ID...: the ids sorted as `selects` prints them
ids()
{
	[ "$#" -eq 0 ] || printf '%s\n' "$@" | sort | tr '\n' ' '
}

@test "sessions ls selects by --operator, --exec, --image and --state" {
	record 'ls /proc | wc -l'
	local A=$ID DA=$D B
	record 'echo plain'
	B=$ID
	! grep -q '"type":"exec"' "$D/audit.jsonl"
	variant x-k8s '.operator.kubernetes = {username: "bob@example.com", uid: "u-1", groups: []}'
	D=$DA
	variant x-alice '.operator.sudo_user = "alice" | .target.image = "dhi.io/web:1.2-debian12" | .target.image_digest = "sha256:'"$(printf '%064d' 7)"'"'
	# incomplete: the end lost; invalid: a record changed
	cp -a "$SDIR/$B" "$SDIR/y-incomplete"
	sed -i '$d' "$SDIR/y-incomplete/audit.jsonl"
	cp -a "$SDIR/$B" "$SDIR/y-invalid"
	sed -i '2s/echo plain/echo PLAIN/' "$SDIR/y-invalid/audit.jsonl"

	[ "$(selects)" = "$(ids $A $B x-alice x-k8s y-incomplete y-invalid)" ]
	# the operator: sudo's user, the Kubernetes user, else the uid (by number or as shown)
	[ "$(selects --operator alice)" = "$(ids x-alice)" ]
	[ "$(selects --operator bob@example.com)" = "$(ids x-k8s)" ]
	[ "$(selects --operator 0)" = "$(ids $A $B x-k8s y-incomplete y-invalid)" ]
	[ "$(selects --operator 'uid 0')" = "$(ids $A $B x-k8s y-incomplete y-invalid)" ]
	[ "$(selects --operator 1000)" = "" ]
	# a program that ran (or was denied): by name or by path
	[ "$(selects --exec wc)" = "$(ids $A x-alice)" ]
	[ "$(selects --exec "$(jq -r 'select(.type == "exec" and (.path | endswith("/ls"))) | .path' "$DA/audit.jsonl")")" = "$(ids $A x-alice)" ]
	[ "$(selects --exec cat)" = "" ]
	[ "$(selects --exec /wc)" = "" ]
	# the image: as recorded, its digest, or its repository (every tag)
	[ "$(selects --image dhi.io/web:1.2-debian12)" = "$(ids x-alice)" ]
	[ "$(selects --image "sha256:$(printf '%064d' 7)")" = "$(ids x-alice)" ]
	[ "$(selects --image dhi.io/web)" = "$(ids x-alice)" ]
	[ "$(selects --image dhi.io/web:1.3-debian12)" = "" ]
	[ "$(selects --image dhi.io/we)" = "" ]
	# the state
	[ "$(selects --state complete)" = "$(ids $A $B x-alice x-k8s)" ]
	[ "$(selects --state incomplete)" = "$(ids y-incomplete)" ]
	[ "$(selects --state invalid)" = "$(ids y-invalid)" ]
	# filters add up, the table takes them too
	[ "$(selects --exec ls --operator 0)" = "$(ids $A)" ]
	run review sessions ls --operator alice
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == "x-alice "*"alice"* ]]
	run review sessions ls --state done
	[ "$status" -eq 125 ]
	[ "$output" = 'dhidebug: invalid --state `done` (use complete, incomplete or invalid)' ]
}

@test "sessions grep finds lines of the recorded output: session, time offset and line; --json; filters; across events and escape sequences" {
	record 'echo needle-one; echo hay; printf "\033[31mneedle-red\033[0m\n"; ls /proc | wc -l'
	local A=$ID
	record 'echo another-needle'
	local B=$ID
	# a generated session: a line cut across events and an escape sequence, input and a title
	mkdir -m 0700 "$SDIR/x-gen"
	cat >"$SDIR/x-gen/session.cast" <<-'EOF2'
	{"version": 2, "width": 80, "height": 24}
	[0.5, "o", "split-"]
	[1.0, "o", "nee\u001b[1"]
	[1.25, "i", "needle-typed\r"]
	[1.5, "o", "mdle\r\nhay\r\n"]
	[2.0, "o", "\u001b]0;title-needle\u0007tail\n"]
	[2.5, "o", "last needle, no newline"]
	EOF2

	run review sessions grep needle
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	# (A and B start in the same second: their order is their ids')
	[[ "$(grep "^$A " <<<"$output")" =~ ^"$A  "\ +[0-9]+\.[0-9]{3}"  needle-one"$'\n'"$A  "\ +[0-9]+\.[0-9]{3}"  needle-red"$ ]]
	[[ "$(grep "^$B " <<<"$output")" =~ ^"$B  "\ +[0-9]+\.[0-9]{3}"  another-needle"$ ]]
	[ "${lines[3]}" = "x-gen       0.500  split-needle" ]
	[ "${lines[4]}" = "x-gen       2.500  last needle, no newline" ]
	# an extended regular expression, as JSON
	run review sessions grep --json '^needle-(one|red)$'
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.[] | [.session, .line]]' <<<"$output")" = "[[\"$A\",\"needle-one\"],[\"$A\",\"needle-red\"]]" ]
	[ "$(jq '.[0].offset | type' <<<"$output")" = '"number"' ]
	[ "$(jq '.[0].offset <= .[1].offset' <<<"$output")" = true ]
	# the filters of ls
	[ "$(review sessions grep --json --exec wc needle | jq -r '[.[].session] | unique | join(" ")')" = "$A" ]
	# none: exit 1, nothing printed; a bad pattern: 125
	run review sessions grep needle-typed
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	run review sessions grep title
	[ "$status" -eq 1 ]
	run review sessions grep 'a('
	[ "$status" -eq 125 ]
	[[ "$output" == 'dhidebug: invalid pattern `a(`: '* ]]
	run review sessions grep
	[ "$status" -eq 125 ]
}

# cached ID: after a `sessions ls`, the summary cache has a line for session ID
cached()
{
	review sessions ls >/dev/null && grep -q "^$1"$'\t' "$SDIR/.index"
}

@test "sessions ls and grep keep what verified in a cache (.index, root's 0600): it is used; an untrusted one is not; a changed session is verified again" {
	record 'echo needle-cache'
	# files changed in the last 2 s are not cached (a second change could keep size and times)
	wait_for -t 20 -m "ls to cache the session" cached "$ID"
	[ "$(stat -c '%u %a' "$SDIR/.index")" = "0 600" ]
	[ "$(head -n1 "$SDIR/.index")" = "dhidebug-sessions-index 1" ]
	run review sessions ls
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" == "$ID "*"  complete" ]]
	# the filters on what the cache holds
	[ "$(review sessions ls --json --exec echo --target "runc://$CID" | jq -r '.[].id')" = "$ID" ]
	[ "$(review sessions ls --json --operator "uid 0" --image nosuch | jq length)" = 0 ]
	[ "$(review sessions ls --json --exec nosuch | jq length)" = 0 ]
	[ "$(review sessions grep --json --exec echo needle-cache | jq -r '.[].state')" = complete ]
	# what ls shows of a session whose files did not change comes from the cache, not a new
	# verification: a cache edited by root says incomplete, and ls believes it
	sed -i 's/  complete\t/  incomplete\t/; s/"state":"complete"/"state":"incomplete"/' "$SDIR/.index"
	run review sessions ls
	[[ "${lines[1]}" == "$ID "*"  incomplete" ]]
	[ "$(review sessions ls --json | jq -r '.[0].state')" = incomplete ]
	[ "$(review sessions ls --json --state incomplete | jq -r '.[0].id')" = "$ID" ]
	# a cache others could have written is not read: verified again, and the cache written anew
	chmod 0644 "$SDIR/.index"
	run review sessions ls
	[[ "${lines[1]}" == "$ID "*"  complete" ]]
	[ "$(stat -c '%u %a' "$SDIR/.index")" = "0 600" ]
	run_fails grep -q incomplete "$SDIR/.index"
	# the session changed: verified again at once, whatever the cache says; invalid is never cached
	sed -i '/"type":"line"/s/echo needle-cache/echo needle-CACHE/' "$D/audit.jsonl"
	run review sessions ls
	[[ "${lines[1]}" == "$ID "*"  invalid" ]]
	[ "$(review sessions ls --json --state invalid | jq -r '.[0].problem')" = "audit.jsonl:3: prev does not match record 2" ]
	run_fails grep -q "^$ID"$'\t' "$SDIR/.index"
	# grep --json says whether the session of a match verifies; the text lines are as before
	[ "$(review sessions grep --json needle-cache | jq -c '[.[] | [.session, .line, .state]]')" = "[[\"$ID\",\"needle-cache\",\"invalid\"]]" ]
	run review sessions grep needle-cache
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^"$ID  "\ +[0-9]+\.[0-9]{3}"  needle-cache"$ ]]
	# a folder that others can write gets no cache
	rm "$SDIR/.index"
	chmod 0733 "$SDIR"
	review sessions ls >/dev/null
	chmod 0700 "$SDIR"
	[ ! -e "$SDIR/.index" ]
}

# sink_start DIR: an HTTP server on $PORT that answers every POST 200 and keeps its body as
# DIR/<n>, and its headers as DIR/<n>.h (what a collector stores, byte for byte)
sink_start()
{
	local i

	mkdir -p "$1"
	daemon "$BATS_TEST_TMPDIR/collector.pid" "$BATS_TEST_TMPDIR/collector.out" python3 -c '
import http.server, itertools, sys
n = itertools.count(1)
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        k = next(n)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        open("%s/%d" % (sys.argv[2], k), "wb").write(body)
        open("%s/%d.h" % (sys.argv[2], k), "w").write(str(self.headers))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$PORT" "$1"
	CPID_COLLECTOR=$(cat "$BATS_TEST_TMPDIR/collector.pid")
	for i in $(seq 50); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT))" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

@test "redact: secrets printed by cat are replaced before session.cast and the collector; redact records count them; the chain verifies" {
	container_start static
	local tok=eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.Zm9vYmFy aws=AKIAZ3EXAMPLE7ABCDEF pemline=MIIEvQIBADANBgkqhkiG9w0BAQEFAASC
	printf 'before\nAuthorization: Bearer %s\nkey %s here\n-----BEGIN PRIVATE KEY-----\n%s\n%s\n-----END PRIVATE KEY-----\nsite-secret-424242 and site-secret-7\nafter\n' \
		"$tok" "$aws" "$pemline" "$pemline" >"$BUNDLE/rootfs/secret"
	jq -n --arg url "http://127.0.0.1:$PORT/records" \
		'{collector: {url: $url}, redact: ["bearer", "aws", "pem", {name: "site", regex: "site-secret-[0-9]+"}]}' >"$POL"
	sink_start "$BATS_TEST_TMPDIR/sink"
	record 'cat /target/secret' --policy "$POL"
	# the operator saw them: only the recording is redacted
	[[ "$output" == *"Bearer $tok"*"$aws"*"$pemline"*"site-secret-424242"* ]]
	# nothing of them on the disk, nor at the collector (records and recording as it stored them)
	local s
	for s in "$tok" "$aws" "$pemline" site-secret-424242 site-secret-7; do
		! grep -rqF -- "$s" "$SDIR"
		! grep -rqF -- "$s" "$BATS_TEST_TMPDIR/sink"
	done
	grep -l 'X-Dhidebug-Kind: recording' "$BATS_TEST_TMPDIR"/sink/*.h
	cmp "$D/session.cast" "$(grep -l 'X-Dhidebug-Kind: recording' "$BATS_TEST_TMPDIR"/sink/*.h | sed 's/\.h$//')"
	# what the recording shows instead, the rest as it was
	run jq -rj 'select(type == "array" and .[1] == "o") | .[2]' "$D/session.cast"
	echo "$output"
	[ "$output" = "before
Authorization: [REDACTED:bearer]
key [REDACTED:aws] here
[REDACTED:pem]
[REDACTED:site] and [REDACTED:site]
after" ]
	# one redact record per pattern, with its count and the offset of the event it replaced in
	[ "$(jq -c 'select(.type == "redact") | [.pattern, .count]' "$D/audit.jsonl" | tr '\n' ' ')" = '["bearer",1] ["aws",1] ["pem",1] ["site",2] ' ]
	local off
	off=$(jq -r 'select(.type == "redact" and .pattern == "site") | .cast_offset' "$D/audit.jsonl")
	tail -c +"$((off + 1))" "$D/session.cast" | head -n1 | grep -qF '[REDACTED:site]'
	run review sessions verify "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == "$ID: ok: complete, "* ]]
	run review sessions show "$ID"
	[[ "$output" == *"redact    site: 2 replaced in the output (session.cast byte $off)"* ]]
	# a policy naming an unknown pattern, or a bad regular expression, is refused
	jq -n '{redact: ["passwords"]}' >"$POL"
	run_dhi --policy "$POL" --sessions-dir "$SDIR" -c true "$TARGET"
	[ "$status" -eq 125 ]
	[[ "$output" == *'unknown pattern `passwords`'* ]]
	jq -n '{redact: [{name: "x", regex: "a("}]}' >"$POL"
	run_dhi --policy "$POL" --sessions-dir "$SDIR" -c true "$TARGET"
	[ "$status" -eq 125 ]
	[[ "$output" == *'pattern `x`: invalid regular expression'* ]]
}

@test "redact on a terminal (tmux): the operator sees the token, the recording has the marker, the prompts and the rest" {
	container_start static
	local tok=eyJhbGciOiJIUzI1NiJ9.dGVybWluYWwtdG9rZW4.YmFy
	printf 'Authorization: Bearer %s\n' "$tok" >"$BUNDLE/rootfs/secret"
	jq -n '{redact: ["bearer"]}' >"$POL"
	tmux_start
	tm send-keys -t t "$DHIDEBUG -q --toolbox $TOOLBOX --policy $POL --sessions-dir $SDIR $TARGET; echo EXIT=\$?" Enter
	screen_has "[dhidebug $TARGET general] / #"
	tm send-keys -t t 'cat /target/secret; echo done-4"2"' Enter
	screen_has done-42
	screen_has "Bearer $tok"
	tm send-keys -t t 'exit' Enter
	screen_has 'EXIT=0'
	D=$(ls -d "$SDIR"/*/)
	D=${D%/}
	! grep -rqF -- "$tok" "$SDIR"
	run jq -rj 'select(type == "array" and .[1] == "o") | .[2]' "$D/session.cast"
	echo "$output"
	[[ "$output" == *"Authorization: [REDACTED:bearer]"$'\r\n'"done-42"* ]]
	[[ "$output" == *"[dhidebug $TARGET general] / #"*"[dhidebug $TARGET general] / #"* ]]
	[ "$(jq -c 'select(.type == "redact") | [.pattern, .count]' "$D/audit.jsonl")" = '["bearer",1]' ]
	run review sessions verify "${D##*/}"
	[ "$status" -eq 0 ]
	[[ "$output" == *": ok: complete, "* ]]
}
