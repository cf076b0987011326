#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh: `make demo` — attach dhidebug to a disposable shell-less runc container.
#
# Interactive when stdin is a terminal (you get the session's shell); otherwise it runs a
# few commands through dhidebug and prints their output, so it also works in CI logs.
# The container is the "static" test target (tests/integration/bundle.bash): a static /app
# as PID 1, a read-only root, no shell, no libc.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$REPO/build}
DHIDEBUG=${DHIDEBUG:-$BUILD/dhidebug}
TOOLBOX=${TOOLBOX:-$BUILD/toolbox/rootfs}

# shellcheck source=../tests/integration/bundle.bash
. "$REPO/tests/integration/bundle.bash"

say()
{
	echo "demo: $*"
}

# The demo needs a privileged host; on one without, say so and succeed, so `make demo`
# on a developer laptop without runc is not an error.
skip()
{
	say "skipped: $*"
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip "needs root (dhidebug enters another container's namespaces)"
command -v runc >/dev/null || skip "needs runc"
command -v jq >/dev/null || skip "needs jq"
# These are build products: their absence is a broken build, not a missing host feature.
[ -x "$DHIDEBUG" ] || { say "no $DHIDEBUG (make all)" >&2; exit 1; }
[ -e "$TOOLBOX/bin/sh" ] || { say "no toolbox at $TOOLBOX (make toolbox)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/dhidebug-demo.XXXXXX)
id=dhidebug-demo-$$

# Always remove the container, however the demo ends (error, ^C, end of the session).
cleanup()
{
	runc kill "$id" KILL >/dev/null 2>&1 || true
	runc delete -f "$id" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "building a shell-less container bundle in $tmp/bundle"
bundle_make static "$tmp/bundle" "$tmp/vol"
say "its root filesystem is just:"
(cd "$tmp/bundle/rootfs" && find . -mindepth 1 | sed 's/^/demo:   /')

say "starting it with runc as \`$id'"
runc run -d --bundle "$tmp/bundle" "$id" </dev/null >/dev/null
say "PID 1 of the container is host pid $(runc state "$id" | jq .pid)"

say "trying \`runc exec $id /bin/sh' (there is no shell, so this fails):"
if out=$(runc exec "$id" /bin/sh -c true </dev/null 2>&1); then
	say "unexpected: the container has a shell" >&2
	exit 1
fi
sed 's/^/demo:   /' <<<"$out"

dhi=("$DHIDEBUG" --toolbox "$TOOLBOX")
if [ -t 0 ]; then
	say "attaching: ${dhi[*]} runc://$id"
	say "(you are in the container's namespaces with the toolbox; exit to end the demo)"
	# Not exec: the trap must still remove the container afterwards.
	"${dhi[@]}" "runc://$id" || say "dhidebug exited with status $?"
else
	say "stdin is not a terminal: running a few commands instead of a shell"
	for cmd in "ps" "ls /" "cat /proc/1/status"; do
		echo
		say "\$ dhidebug --toolbox $TOOLBOX runc://$id -- $cmd"
		# shellcheck disable=SC2086 # each command is meant to split into words
		"${dhi[@]}" "runc://$id" -- $cmd </dev/null || say "exit status $?"
	done
fi
echo
say "removing the container"
