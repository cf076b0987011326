#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# standin_attach.sh: `kubectl` for kubectl.bats's copies, the real one ($REAL_KUBECTL) for
# everything but `attach -i POD -c CONTAINER -n NS`, which nothing serves here (no kubelet).
# For that it plays the kubelet's part: reads the container's command from the test API
# server (the ephemeral container the plugin added, or the node pod's container), runs it
# with its own stdin and stdout (the attach's streams) through $STANDIN_RUN (the container
# as the test makes it: podman in the app's pid namespace, or the host), its target
# $STANDIN_FROM replaced by $STANDIN_TO when set, then tells the server the container's exit
# status (POST /fake-kubelet/exited), as the kubelet's status update would, and exits 0 as
# kubectl attach does when the container ends. Env: FAKE_URL, FAKE_CA, FAKE_TOKEN, and the
# above; STANDIN_LOG gets one line per attach.

[ "$1" = attach ] || exec "$REAL_KUBECTL" "$@"
echo "stand-in: kubectl $*" >>"$STANDIN_LOG"
[ "$2" = -i ] && [ "$4" = -c ] && [ "$6" = -n ] || {
	echo "stand-in: not attach -i POD -c CONTAINER -n NS: $*" >&2
	exit 1
}
pod=$3 ctr=$5 ns=$7

api()
{
	curl -sf --cacert "$FAKE_CA" -H "Authorization: Bearer $FAKE_TOKEN" "$@"
}

spec=$(api "$FAKE_URL/api/v1/namespaces/$ns/pods/$pod") || {
	echo "stand-in: cannot get pod $ns/$pod" >&2
	exit 1
}
mapfile -t cmd < <(jq -r --arg c "$ctr" '[(.spec.ephemeralContainers // [])[],
	.spec.containers[]] | map(select(.name == $c)) | .[0].command // [] | .[]' <<<"$spec")
[ "${cmd[0]:-}" = dhidebug ] || {
	echo "stand-in: container $ctr of $pod runs no dhidebug" >&2
	exit 1
}
if [ -n "${STANDIN_FROM:-}" ]; then
	for i in "${!cmd[@]}"; do
		cmd[i]=${cmd[i]/"$STANDIN_FROM"/"$STANDIN_TO"}
	done
fi
echo "stand-in: runs ${cmd[*]}" >>"$STANDIN_LOG"
"$STANDIN_RUN" "${cmd[@]:1}"
code=$?
echo "stand-in: exit $code" >>"$STANDIN_LOG"
api -X POST -H 'Content-Type: application/json' -o /dev/null \
	-d "$(jq -cn --arg ns "$ns" --arg pod "$pod" --arg c "$ctr" --argjson code "$code" \
		'{namespace: $ns, pod: $pod, container: $c, exitCode: $code}')" \
	"$FAKE_URL/fake-kubelet/exited" || echo "stand-in: cannot report the exit" >&2
exit 0
