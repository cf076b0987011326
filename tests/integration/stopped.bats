#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# stopped.bats: sessions on a runc container whose PID 1 has exited: its files in fresh
# namespaces, writes discarded without --write and kept with it, nothing left behind.

load helpers

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
