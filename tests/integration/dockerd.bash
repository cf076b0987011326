# SPDX-License-Identifier: Apache-2.0
# dockerd.bash: a real Docker Engine (Debian's docker.io) for one test file or one bench run,
# on a private socket, data root and exec root, with no iptables, masquerading or bridge
# (what users bring, without touching the host's network or its own engine). Images come from
# `docker import`. Loaded by docker.bats and cp_docker.bats (`load dockerd`) and sourced by
# bench/cp; needs nothing of bats.

# dockerd_start DIR: starts dockerd on DIR/docker.sock (data in DIR/data, state in DIR/exec,
# its log DIR/dockerd.log, its pid DIR/dockerd.pid), holding none of the caller's fds but
# 0-2 (bats waits for every holder of its pipes), and waits up to 30 s for it to answer.
# Sets DKSOCK. Returns 0 when it answers.
dockerd_start()
{
	local d=$1 i

	DKSOCK=$d/docker.sock
	export DKSOCK
	command -v dockerd >/dev/null || return 1
	mkdir -p "$d"
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		exec dockerd --host "unix://$DKSOCK" --data-root "$d/data" --exec-root "$d/exec" \
			--pidfile "$d/dockerd.pidfile" --iptables=false --ip-masq=false --bridge=none
	) </dev/null >"$d/dockerd.log" 2>&1 &
	echo $! >"$d/dockerd.pid"
	for i in $(seq 120); do
		dockerd_ping && return 0
		sleep 0.25
	done
	return 1
}

# dockerd_ping: the engine on DKSOCK answers
dockerd_ping()
{
	[ -S "${DKSOCK:-}" ] && curl -sf --unix-socket "$DKSOCK" http://d/_ping >/dev/null 2>&1
}

# dk ARGS...: Debian's docker CLI on the engine of DKSOCK
dk()
{
	local cli=/usr/bin/docker

	[ -x "$cli" ] || cli=docker
	DOCKER_HOST=unix://$DKSOCK "$cli" "$@"
}

# dockerd_stop DIR: removes every container, stops the engine (SIGTERM, then up to 10 s) and
# unmounts what it left under DIR. Safe to call whatever happened before.
dockerd_stop()
{
	local d=$1 m pid

	dockerd_ping && dk rm -f $(dk ps -aq) >/dev/null 2>&1
	if [ -e "$d/dockerd.pid" ]; then
		pid=$(cat "$d/dockerd.pid")
		kill "$pid" 2>/dev/null
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		rm -f "$d/dockerd.pid"
	fi
	for m in $(awk -v d="$d/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	return 0
}
