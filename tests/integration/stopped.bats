#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# stopped.bats: sessions on a runc container whose PID 1 has exited: its files in fresh
# namespaces, writes discarded without --write and kept with it, nothing left behind.

load helpers

# the app's configured environment and working directory, and a user by name
customize_bundle()
{
	local b=$1
	jq '.process.env += ["GREETING=hello", "LD_PRELOAD=/app", "LD_LIBRARY_PATH=/app", "BASH_ENV=/app",
		"PROMPT_COMMAND=/app", "PYTHONPATH=/app", "PATH=/app"] | .process.cwd = "/etc" |
		.process.user = {"uid": 4242, "gid": 4243}' \
		"$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}

setup()
{
	requires root runc toolbox
	container_start static
	rt kill "$CID" KILL
	for i in $(seq 50); do
		[ "$(rt state "$CID" | jq -r .status)" = stopped ] && break
		sleep 0.1
	done
	[ "$(rt state "$CID" | jq -r .status)" = stopped ]
	ROOTFS=$(jq -r .root.path "$BUNDLE/config.json")
	[[ "$ROOTFS" == /* ]] || ROOTFS=$BUNDLE/$ROOTFS
}

teardown()
{
	container_rm
}

stopped()
{
	"$DHIDEBUG" --toolbox "$TOOLBOX" --profile sysadmin -q "$@" </dev/null
}

@test "stopped: a runc container whose PID 1 exited can still be opened" {
	run stopped "$TARGET" -- sh -c 'ls /target/app && cat /proc/1/comm && hostname'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /target/app ]
	[ "${lines[1]}" = dhi-image ]
}

@test "stopped: without --write a file the session writes is not in the container afterwards" {
	run stopped "$TARGET" -- sh -c 'echo from-session >/target/written && cat /target/written'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = from-session ]
	[ ! -e "$ROOTFS/written" ]
	[ -z "$(pgrep -x dhi-image)" ]
}

@test "stopped: with --write it is" {
	run stopped --write "$TARGET" -- sh -c 'echo from-session >/target/written'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$ROOTFS/written")" = from-session ]
	rm -f "$ROOTFS/written"
}

@test "stopped: a container that does not exist is still an error" {
	run stopped runc://no-such-container-$$ -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"no-such-container"* ]]
}

@test "stopped: the session has the container's env (not LD_*, BASH_ENV, PROMPT_COMMAND, PYTHONPATH, PATH), user and working directory, and says it is stopped" {
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --profile sysadmin --view toolbox "$TARGET" -- \
		sh -c 'pwd; echo "$GREETING"; echo "${LD_PRELOAD-u} ${LD_LIBRARY_PATH-u} ${BASH_ENV-u} ${PROMPT_COMMAND-u} ${PYTHONPATH-u}"; echo "$PATH"; id -u; id -g' </dev/null
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /target/etc ]
	[ "${lines[1]}" = hello ]
	[ "${lines[2]}" = "u u u u u" ]
	[ "${lines[3]}" = /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ]
	[ "${lines[4]}" = 4242 ]
	[ "${lines[5]}" = 4243 ]
	[[ "$stderr" == *"\`$TARGET\` is not running: its files in fresh namespaces, writes discarded"* ]]
}

@test "stopped: the session.start record says stopped, --write and --net" {
	local dir=$BATS_TEST_TMPDIR/sessions start
	install -d -m 0700 "$dir"
	run "$DHIDEBUG" --toolbox "$TOOLBOX" -q --sessions-dir "$dir" --profile sysadmin --write --net host \
		"$TARGET" -- true </dev/null
	[ "$status" -eq 0 ]
	start=$(head -n1 "$dir"/*/audit.jsonl)
	echo "$start"
	[ "$(jq -r '.target.state, .target.write, .target.net, .user.uid' <<<"$start" | tr '\n' ' ')" = "stopped true host 4242 " ]
}

@test "stopped: a rootfs reached through a symlink (a bundle's owner may plant one) is refused" {
	mv "$ROOTFS" "$ROOTFS.real"
	ln -s "$ROOTFS.real" "$ROOTFS"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --profile sysadmin --write "$TARGET" -- \
		sh -c 'echo x >/target/planted' </dev/null
	rm "$ROOTFS"
	mv "$ROOTFS.real" "$ROOTFS"
	echo "$status / $stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"no symlink may lead there"* ]]
	[ ! -e "$ROOTFS/planted" ]
	[ -z "$(pgrep -x dhi-image)" ]
}

@test "stopped: --net none (the default) has loopback only, --net host the host's interfaces" {
	local host
	host=$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev | sort | tr '\n' ' ')
	run stopped "$TARGET" -- cat /proc/net/dev
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]:2}" | awk -F: '{ gsub(/ /, "", $1); print $1 }' | tr '\n' ' ')" = "lo " ]
	run stopped --net none "$TARGET" -- cat /proc/net/dev
	[ "${#lines[@]}" -eq 3 ]
	run stopped --net host "$TARGET" -- cat /proc/net/dev
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]:2}" | awk -F: '{ gsub(/ /, "", $1); print $1 }' | sort | tr '\n' ' ')" = "$host" ]
	[[ "$host" != "lo " ]]
}

@test "stopped: --net and --write are refused for a running target; a bad --net is a usage error" {
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --net host "pid://$$" -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"--net applies to image:// and stopped containers"* ]]
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --write "pid://$$" -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"--write applies to stopped containers"* ]]
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --net bridge "$TARGET" -- true
	[ "$status" -eq 125 ]
	[ "$stderr" = "dhidebug: invalid --net \`bridge\` (none or host)" ]
	[ -z "$(pgrep -x dhi-image)" ]
}
