#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# attack_trust.bats: what decides which process dhidebug enters (issue 14 findings 4 and 6,
# THREATS.md 44 and 46). A runtime's answer naming a host process (a user's runtime root, an
# engine socket of anyone's, pid://) must not give a session on the host; a policy file or
# runtime state that someone other than root can write is not believed; and a delegated
# operator (sudo) cannot widen the site policy with an option.
#
# Delegated mode is SUDO_UID/SUDO_USER of a user who is not root, as sudo sets them, and the
# site policy is /etc/dhidebug/policy.json: site_run binds this test's own folders over
# /etc/dhidebug and /var/lib/dhidebug/sessions in a mount namespace of its own, so the host's
# stay untouched (setup_file only makes sure /etc/dhidebug exists, empty, as a mount point).

load helpers

setup_file()
{
	[ "$(id -u)" -eq 0 ] || return 0
	mkdir -p /etc/dhidebug /var/lib/dhidebug/sessions
}

setup()
{
	requires root runc toolbox
	MARK=$BATS_TEST_TMPDIR/host-marker
	echo "host-file-$$" >"$MARK"
	SITE=$BATS_TEST_TMPDIR/site
	mkdir -p "$SITE/etc"
	mkdir -m 0700 "$SITE/sessions"
	SUDO=(SUDO_UID=1000 SUDO_GID=1000 SUDO_USER=alice SUDO_COMMAND=/usr/bin/dhidebug)
}

teardown()
{
	[ -n "${USERDIR:-}" ] && rm -rf "$USERDIR"
	container_rm
}

# host_sleeper: a plain process of the host (its mount namespace, its root). Sets HPID.
host_sleeper()
{
	sleep 600 </dev/null >/dev/null 2>&1 3>&- &
	HPID=$!
	echo "$HPID" >>"$BATS_TEST_TMPDIR/bg.pids"
}

# start_of PID: its start time (field 22 of /proc/PID/stat), as runc records it
start_of()
{
	local s

	s=$(cat "/proc/$1/stat")
	s=${s##*) }
	awk '{ print $20 }' <<<"$s"
}

# runc_state ROOT ID PID ROOTFS: ROOT/ID/state.json as runc writes it, naming PID
runc_state()
{
	mkdir -p "$1/$2"
	printf '{"id":"%s","init_process_pid":%d,"init_process_start":%s,"config":{"rootfs":"%s"}}\n' \
		"$2" "$3" "$(start_of "$3")" "$4" >"$1/$2/state.json"
}

# one_line_125: the last `run` failed as a dhidebug error: status 125, one line on stderr
one_line_125()
{
	echo "status $status, stdout: $output"
	echo "stderr: $stderr"
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "dhidebug: "* ]]
	[[ "$output$stderr" != *"host-file-$$"* ]]
}

# fake_engine SOCK [RUNAS]: an engine API on SOCK answering every inspect with pid
# $FAKE_PID; RUNAS (a uid) serves it as that user. Its request log is SOCK.log.
fake_engine()
{
	local sock=$1 i
	local as=() py=python3

	# (another user cannot run root's own python, a pyenv shim in /root, say)
	[ -n "${2:-}" ] && as=(setpriv --reuid="$2" --regid="$2" --clear-groups) py=/usr/bin/python3
	daemon "$sock.pid" "$sock.out" env FAKE_PID="$FAKE_PID" "${as[@]}" \
		"$py" "$BATS_TEST_DIRNAME/fake_engine.py" "$sock" pid "$sock.log"
	cat "$sock.pid" >>"$BATS_TEST_TMPDIR/bg.pids"
	for i in $(seq 50); do
		[ -S "$sock" ] && return 0
		sleep 0.1
	done
	cat "$sock.out" >&2
	return 1
}

# in_site SUDOERS [VAR=VALUE...] -- ARGS...: dhidebug ARGS (test toolbox, no terminal) with
# $SITE/etc as /etc/dhidebug and $SITE/sessions as /var/lib/dhidebug/sessions, in a mount
# namespace of its own, in an environment with the VARs; with a SUDOERS file, through sudo
# as the user nobody, SUDOERS bound over /etc/sudoers. `run --separate-stderr`.
in_site()
{
	local sudoers=$1 envs=() via=()

	shift
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	# (`sessions` must come first on its command line)
	[ "$1" = sessions ] || set -- --toolbox "$TOOLBOX" "$@"
	site_lists_toolbox
	[ -z "$sudoers" ] ||
		via=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups sudo -n)
	run --separate-stderr unshare -m --propagation private sh -c '
		mount --bind "$1/etc" /etc/dhidebug &&
			mount --bind "$1/sessions" /var/lib/dhidebug/sessions || exit 99
		if [ -n "$2" ]; then mount --bind "$2" /etc/sudoers || exit 99; fi
		shift 2
		cd / && exec "$@"' sh "$SITE" "$sudoers" env "${envs[@]}" "${via[@]}" "$DHIDEBUG" "$@" \
		</dev/null
	echo "dhidebug $* -> status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
}

# site_lists_toolbox: the test toolbox is a directory, which a delegated operator may name only
# when the site lists it (`delegation.toolboxes`): added to the site policy (made when there is
# none), in place so that its owner and mode stay what the test made them; a file that is not
# JSON is left as it is
site_lists_toolbox()
{
	local pol=$SITE/etc/policy.json

	if [ ! -e "$pol" ]; then
		printf '{"delegation": {"toolboxes": ["%s"]}}\n' "$TOOLBOX" >"$pol"
	elif jq --arg tb "$TOOLBOX" \
		'.delegation.toolboxes = ((.delegation.toolboxes // []) + [$tb] | unique)' \
		"$pol" >"$pol.new" 2>/dev/null; then
		cat "$pol.new" >"$pol"
	fi
	rm -f "$pol.new"
}

# site_run [VAR=VALUE...] -- ARGS...: in_site, run as root (SUDO_* among the VARs or not)
site_run()
{
	in_site "" "$@"
}

# refusals TEXT: how many refusal records in the site's sessions folder have TEXT in their
# reason
refusals()
{
	local f n=0

	for f in "$SITE"/sessions/*/audit.jsonl; do
		[ -e "$f" ] || continue
		jq -e --arg t "$1" 'select(.type == "session.end") | select(.status == 125)
			| select(.reason | startswith("refused: ") and contains($t))' "$f" >/dev/null &&
			n=$((n + 1))
	done
	echo "$n"
}

# the session.start record of the only non-refused session in the site's sessions folder
site_start()
{
	local f

	for f in "$SITE"/sessions/*/audit.jsonl; do
		if head -n1 "$f" | jq -e '.refused != true' >/dev/null; then
			head -n1 "$f"
		fi
	done
}

# --- finding 4: a runtime's answer makes the host the target -----------------------------

@test "host: a user's runtime root whose state.json names a host process with rootfs / is refused; root's own state of a container works" {
	container_start static
	host_sleeper
	# the attack: a folder of its own, a state that names any process and any root
	runc_state "$BATS_TEST_TMPDIR/user/runc" evil "$HPID" /
	chown -R nobody "$BATS_TEST_TMPDIR/user"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --runtime-root "$BATS_TEST_TMPDIR/user/runc" \
		runc://evil -- cat "/target$MARK"
	one_line_125
	[[ "$stderr" == *"\`$BATS_TEST_TMPDIR/user\` is owned by uid $(id -u nobody)"* ]]
	# nor when it names the container: what the state says does not matter, who wrote it does
	runc_state "$BATS_TEST_TMPDIR/user/runc" web "$CPID" "$BUNDLE/rootfs"
	chown -R nobody "$BATS_TEST_TMPDIR/user"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --runtime-root "$BATS_TEST_TMPDIR/user/runc" \
		runc://web -- cat /proc/1/cmdline
	one_line_125
	# control: root's own state of the container is believed
	chown -R root "$BATS_TEST_TMPDIR/user"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --runtime-root "$BATS_TEST_TMPDIR/user/runc" \
		runc://web -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == "/app"* ]]
	# and root's own state naming the host process is the host, refused as such
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --runtime-root "$BATS_TEST_TMPDIR/user/runc" \
		runc://evil -- cat "/target$MARK"
	one_line_125
	[[ "$stderr" == *"\`runc://evil\` is the host, not a container: it shares the host's mount namespace"* ]]
}

@test "host: runtime state that a group or others can write is refused, on every directory of the way" {
	container_start static
	local r=$BATS_TEST_TMPDIR/st/runc
	runc_state "$r" web "$CPID" "$BUNDLE/rootfs"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --runtime-root "$r" runc://web -- true
	[ "$status" -eq 0 ]
	chmod g+w "$r/web/state.json"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --runtime-root "$r" runc://web -- true
	one_line_125
	[[ "$stderr" == *"\`state.json\` is writable by its group"* ]]
	chmod g-w "$r/web/state.json"
	chmod o+w "$r/web"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --runtime-root "$r" runc://web -- true
	one_line_125
	[[ "$stderr" == *"runc state \`$r/web\`: \`web\` is writable by others"* ]]
	chmod o-w "$r/web"
	chmod g+w "$BATS_TEST_TMPDIR/st"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --runtime-root "$r" runc://web -- true
	one_line_125
	[[ "$stderr" == *"\`$BATS_TEST_TMPDIR/st\` is writable by its group"* ]]
	# a sticky world-writable folder (/tmp) on the way is fine: nobody can replace root's entry
	chmod g-w "$BATS_TEST_TMPDIR/st"
	chmod 1777 "$BATS_TEST_TMPDIR/st"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q --runtime-root "$r" runc://web -- true
	[ "$status" -eq 0 ]
}

@test "host: DOCKER_HOST at an engine answering with a host pid is refused as the host; with the container's pid it works" {
	requires python3
	container_start static
	host_sleeper
	FAKE_PID=$HPID fake_engine "$BATS_TEST_TMPDIR/host.sock"
	run --separate-stderr env DOCKER_HOST="unix://$BATS_TEST_TMPDIR/host.sock" \
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q docker://web -- cat "/target$MARK"
	one_line_125
	[[ "$stderr" == *"\`docker://"*"\` is the host, not a container: it shares the host's mount namespace"* ]]
	# control: the same engine naming the container's process
	FAKE_PID=$CPID fake_engine "$BATS_TEST_TMPDIR/ctr.sock"
	run --separate-stderr env DOCKER_HOST="unix://$BATS_TEST_TMPDIR/ctr.sock" \
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q docker://web -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == "/app"* ]]
}

@test "host: an engine socket of another user's (a rootless engine's, in its own folder) is refused" {
	requires python3
	container_start static
	USERDIR=$(mktemp -d /tmp/dhi-trust-XXXXXX)
	chmod 0755 "$USERDIR"
	mkdir "$USERDIR/run"
	chown nobody "$USERDIR/run"
	# even naming the container: who serves the socket decides what dhidebug enters
	FAKE_PID=$CPID fake_engine "$USERDIR/run/podman.sock" "$(id -u nobody)"
	run --separate-stderr env CONTAINER_HOST="unix://$USERDIR/run/podman.sock" \
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q podman://web -- cat /proc/1/cmdline
	one_line_125
	[[ "$stderr" == *"\`$USERDIR/run\` is owned by uid $(id -u nobody)"* ]]
	[ ! -s "$USERDIR/run/podman.sock.log" ]
	# the socket of another user's, in a folder of root's
	chown root "$USERDIR/run"
	run --separate-stderr env CONTAINER_HOST="unix://$USERDIR/run/podman.sock" \
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q podman://web -- cat /proc/1/cmdline
	one_line_125
	[[ "$stderr" == *"\`$USERDIR/run/podman.sock\` is owned by uid $(id -u nobody)"* ]]
	# and made root's: it is the process serving it that is not root
	chown root "$USERDIR/run/podman.sock"
	run --separate-stderr env CONTAINER_HOST="unix://$USERDIR/run/podman.sock" \
		"$DHIDEBUG" --toolbox "$TOOLBOX" -q podman://web -- cat /proc/1/cmdline
	one_line_125
	[[ "$stderr" == *"\`$USERDIR/run/podman.sock\` is served by uid $(id -u nobody) (pid "*"), not by root"* ]]
	[ ! -s "$USERDIR/run/podman.sock.log" ]
}

@test "host: pid:// of a host process is refused as the host; pid:// of the container works" {
	container_start static
	host_sleeper
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q "pid://$HPID" -- cat "/target$MARK"
	one_line_125
	[[ "$stderr" == *"\`pid://$HPID\` is the host, not a container: it shares the host's mount namespace"* ]]
	# the bats shell's own process, and the host's PID 1 (where this host lets root look at it)
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q "pid://$$" -- cat "/target$MARK"
	one_line_125
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q pid://1 -- cat "/target$MARK"
	one_line_125
	if [ -r /proc/1/ns/mnt ]; then
		[[ "$stderr" == *"is the host, not a container"* ]]
	fi
	# port-forward and lint do not reach the host that way either
	run --separate-stderr "$DHIDEBUG" -q port-forward "pid://$HPID" 0:22
	one_line_125
	[[ "$stderr" == *"is the host, not a container"* ]]
	run --separate-stderr "$DHIDEBUG" -q lint "pid://$HPID"
	one_line_125
	[[ "$stderr" == *"is the host, not a container"* ]]
	# control
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" -q "pid://$CPID" -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == "/app"* ]]
}

@test "host: --allow-host enters the host, says so and records it; a policy with allow_host false refuses it" {
	host_sleeper
	mkdir -m 0700 "$BATS_TEST_TMPDIR/sess"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --allow-host \
		--sessions-dir "$BATS_TEST_TMPDIR/sess" "pid://$HPID" -- cat "/target$MARK"
	echo "status $status, stdout: $output, stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "host-file-$$" ]
	[[ "$stderr" == *"\`pid://$HPID\` is the host (it shares the host's mount namespace): debugging the host (--allow-host)"* ]]
	[ "$(head -n1 "$BATS_TEST_TMPDIR"/sess/*/audit.jsonl | jq -r .target.host)" = true ]
	echo '{"allow_host": false}' >"$BATS_TEST_TMPDIR/nohost.json"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --allow-host --policy "$BATS_TEST_TMPDIR/nohost.json" \
		"pid://$HPID" -- cat "/target$MARK"
	one_line_125
	[[ "$stderr" == *"--allow-host: policy \`$BATS_TEST_TMPDIR/nohost.json\` forbids the host as a target"* ]]
}

@test "policy: a policy file a group can write, another user's, or in another user's folder is refused; root's own is used" {
	local p=$BATS_TEST_TMPDIR/pol/policy.json
	mkdir "$BATS_TEST_TMPDIR/pol"
	echo '{"default_profile": "observe"}' >"$p"
	run --separate-stderr "$DHIDEBUG" --policy "$p" profiles
	[ "$status" -eq 0 ]
	[[ "$output" == *"observe    yes     yes"* ]]
	chmod g+w "$p"
	run --separate-stderr "$DHIDEBUG" --policy "$p" profiles
	one_line_125
	[[ "$stderr" == *"policy \`$p\`: \`$p\` is writable by its group"* ]]
	chmod g-w "$p"
	chown nobody "$p"
	run --separate-stderr "$DHIDEBUG" --policy "$p" profiles
	one_line_125
	[[ "$stderr" == *"\`$p\` is owned by uid $(id -u nobody)"* ]]
	chown root "$p"
	chown nobody "$BATS_TEST_TMPDIR/pol"
	run --separate-stderr "$DHIDEBUG" --policy "$p" profiles
	one_line_125
	[[ "$stderr" == *"\`$BATS_TEST_TMPDIR/pol\` is owned by uid $(id -u nobody)"* ]]
	# the site's own file (/etc/dhidebug/policy.json) by the same rule, for every command
	chown root "$BATS_TEST_TMPDIR/pol"
	echo '{"default_profile": "observe"}' >"$SITE/etc/policy.json"
	chmod o+w "$SITE/etc/policy.json"
	site_run -- profiles
	one_line_125
	[[ "$stderr" == *"policy \`/etc/dhidebug/policy.json\`: \`/etc/dhidebug/policy.json\` is writable by others"* ]]
	chmod o-w "$SITE/etc/policy.json"
	site_run -- profiles
	[ "$status" -eq 0 ]
	[[ "$output" == *"observe    yes     yes"* ]]
}

# --- finding 6: a delegated operator widens the site policy --------------------------------

# The site: observe and general only, recorded, nothing delegated beyond that.
site_strict()
{
	cat >"$SITE/etc/policy.json" <<-EOF
	{"allowed_profiles": ["observe", "general"], "record": "required",
	 "delegation": {"policies": ["/etc/dhidebug/observe.json"],
	                "runtime_roots": ["$BATS_TEST_TMPDIR/listed"]}}
	EOF
	echo '{"allowed_profiles": ["observe"], "default_profile": "observe", "record": "required"}' \
		>"$SITE/etc/observe.json"
}

@test "delegated: each option that would widen the site policy is refused, one line, 125, recorded" {
	container_start static
	site_strict
	mkdir -m 0700 "$BATS_TEST_TMPDIR/mine"
	echo '{"record": "off"}' >"$BATS_TEST_TMPDIR/mine.json"
	mkdir -p "$BATS_TEST_TMPDIR/other"
	mkdir -p "$BATS_TEST_TMPDIR/usertb"
	chown nobody "$BATS_TEST_TMPDIR/usertb"
	local -a cases=(
		"--policy|--policy $BATS_TEST_TMPDIR/mine.json --profile sysadmin"
		"--sessions-dir|--sessions-dir $BATS_TEST_TMPDIR/mine"
		"--no-record|--no-record"
		"profile \`sysadmin\`|--profile sysadmin"
		"--runtime-root|--runtime-root $BATS_TEST_TMPDIR/other"
		"--containerd-root|--containerd-root $BATS_TEST_TMPDIR/other"
		"--crio-root|--crio-root $BATS_TEST_TMPDIR/other"
		"--allow-host|--allow-host"
		"--no-cgroup|--no-cgroup"
		"--toolbox-cache|--toolbox-cache $BATS_TEST_TMPDIR/mine"
		"--user|--profile observe --user 0:0"
		"--toolbox|--toolbox $BATS_TEST_TMPDIR/usertb"
	)
	local c what args n
	for c in "${cases[@]}"; do
		what=${c%%|*}
		args=${c#*|}
		# shellcheck disable=SC2086
		site_run "${SUDO[@]}" -- -q $args "$TARGET" -- cat /proc/1/cmdline
		one_line_125
		[[ "$stderr" == "dhidebug: $what"*" is refused in delegated mode (sudo by \`alice\`)"* || \
			"$stderr" == "dhidebug: $what"*"not allowed by policy"* ]]
		[ -z "$output" ]
		n=$(refusals "$what ")
		echo "refusal records for $what: $n"
		[ "$n" -eq 1 ]
	done
	# pid:// names any process of the host
	site_run "${SUDO[@]}" -- -q "pid://$CPID" -- true
	one_line_125
	[[ "$stderr" == "dhidebug: a pid:// target is refused in delegated mode"* ]]
	# reviewing: the folder read is the site's
	site_run "${SUDO[@]}" -- sessions ls --dir "$BATS_TEST_TMPDIR/mine"
	one_line_125
	[[ "$stderr" == "dhidebug: --dir is refused in delegated mode"* ]]
	# a copy to compare with comes on stdin, opened by the user: a path would be opened as root
	site_run "${SUDO[@]}" -- sessions verify x --against /etc/shadow
	one_line_125
	[[ "$stderr" == "dhidebug: --against is refused in delegated mode"* ]]
	site_run "${SUDO[@]}" -- sessions verify x --against -
	[ "$status" -eq 125 ]
	[[ "$stderr" == 'dhidebug: no session `x` in'* ]]
	# the same options without delegation (root's own): the policy file is root's choice
	site_run -- -q --policy "$BATS_TEST_TMPDIR/mine.json" --profile sysadmin "$TARGET" -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
}

@test "delegated: DOCKER_HOST and CONTAINER_HOST are ignored (the engine hears nothing) unless the site allows socket variables" {
	requires python3
	container_start static
	FAKE_PID=$CPID fake_engine "$BATS_TEST_TMPDIR/e.sock"
	# (no site policy file: the built-in policy, which allows no socket variables either)
	site_run "${SUDO[@]}" DOCKER_HOST="unix://$BATS_TEST_TMPDIR/e.sock" -- docker://web -- cat /proc/1/cmdline
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"dhidebug: DOCKER_HOST ignored in delegated mode (the site policy does not allow socket variables: \`delegation.socket_env\`)"* ]]
	[ ! -s "$BATS_TEST_TMPDIR/e.sock.log" ]
	site_run "${SUDO[@]}" CONTAINER_HOST="unix://$BATS_TEST_TMPDIR/e.sock" -- podman://web -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"dhidebug: CONTAINER_HOST ignored in delegated mode"* ]]
	[ ! -s "$BATS_TEST_TMPDIR/e.sock.log" ]
	# where the site allows them, they are used
	echo '{"delegation": {"socket_env": true}}' >"$SITE/etc/policy.json"
	site_run "${SUDO[@]}" DOCKER_HOST="unix://$BATS_TEST_TMPDIR/e.sock" -- -q docker://web -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == "/app"* ]]
	[ -s "$BATS_TEST_TMPDIR/e.sock.log" ]
}

@test "delegated: -q does not hide \"not recording\"; --no-record where the site allows it still says so" {
	container_start static
	# a sessions folder dhidebug cannot use: recording (optional) fails, the session runs
	chmod 0755 "$SITE/sessions"
	site_run "${SUDO[@]}" -- -q "$TARGET" -- true
	[ "$status" -eq 0 ]
	[[ "$stderr" == "dhidebug: not recording: "* ]]
	# (root's own -q is quiet)
	site_run -- -q "$TARGET" -- true
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	chmod 0700 "$SITE/sessions"
	echo '{"delegation": {"no_record": true}}' >"$SITE/etc/policy.json"
	site_run "${SUDO[@]}" -- -q --no-record "$TARGET" -- true
	[ "$status" -eq 0 ]
	[ "$stderr" = "dhidebug: not recording: --no-record" ]
	# with `record: required` --no-record stays refused, delegation or not
	echo '{"record": "required", "delegation": {"no_record": true}}' >"$SITE/etc/policy.json"
	site_run "${SUDO[@]}" -- -q --no-record "$TARGET" -- true
	one_line_125
	[[ "$stderr" == *"--no-record: the policy requires recording"* ]]
}

@test "delegated: options that narrow the site policy are accepted; session.start names the delegating user" {
	container_start static
	echo '{"allowed_profiles": ["observe", "general"], "record": "required"}' >"$SITE/etc/policy.json"
	site_run "${SUDO[@]}" -- -q --profile observe --view toolbox "$TARGET" -- id -u
	[ "$status" -eq 0 ]
	[ "$output" = 65534 ]
	local start
	start=$(site_start)
	[ "$(jq -r .operator.sudo_user <<<"$start")" = alice ]
	[ "$(jq -r .operator.sudo_uid <<<"$start")" = 1000 ]
	[ "$(jq -r .operator.delegated <<<"$start")" = true ]
	[ "$(jq -r .profile.name <<<"$start")" = observe ]
	site_strict
	runc_state "$BATS_TEST_TMPDIR/listed" web "$CPID" "$BUNDLE/rootfs"
	# a user of the container under a profile that names none; the site's listed policy
	# file; the site's listed runtime root; -q
	site_run "${SUDO[@]}" -- -q --user 1000:1000 "$TARGET" -- id -u
	[ "$status" -eq 0 ]
	[ "$output" = 1000 ]
	site_run "${SUDO[@]}" -- -q --policy /etc/dhidebug/observe.json "$TARGET" -- id -u
	[ "$status" -eq 0 ]
	[ "$output" = 65534 ]
	site_run "${SUDO[@]}" -- -q --runtime-root "$BATS_TEST_TMPDIR/listed" runc://web -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == "/app"* ]]
	# the listed policy allows observe only
	site_run "${SUDO[@]}" -- -q --policy /etc/dhidebug/observe.json --profile general "$TARGET" -- true
	one_line_125
	[[ "$stderr" == *"profile \`general\` is not allowed by policy \`/etc/dhidebug/observe.json\`"* ]]
}

@test "delegated: pid://, --allow-host and profiles as the site policy says" {
	container_start static
	host_sleeper
	cat >"$SITE/etc/policy.json" <<-EOF
	{"delegation": {"pid_targets": true, "allow_host": true, "allowed_profiles": ["observe"]}}
	EOF
	site_run "${SUDO[@]}" -- -q --profile observe "pid://$CPID" -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == "/app"* ]]
	site_run "${SUDO[@]}" -- -q --profile observe --allow-host "pid://$HPID" -- cat "/target$MARK"
	[ "$status" -eq 0 ]
	[ "$output" = "host-file-$$" ]
	# the host is still refused without --allow-host
	site_run "${SUDO[@]}" -- -q --profile observe "pid://$HPID" -- cat "/target$MARK"
	one_line_125
	[ "$(refusals "is the host")" -eq 1 ]
	# general is allowed by the policy, not to delegated operators
	site_run "${SUDO[@]}" -- -q "pid://$CPID" -- true
	one_line_125
	[[ "$stderr" == *"profile \`general\` is refused in delegated mode (sudo by \`alice\`): the site policy allows observe (\`delegation.allowed_profiles\`)"* ]]
	# the site forbids the host for everyone: delegation cannot allow it
	echo '{"allow_host": false, "delegation": {"pid_targets": true, "allow_host": true}}' >"$SITE/etc/policy.json"
	site_run "${SUDO[@]}" -- -q --allow-host "pid://$HPID" -- cat "/target$MARK"
	one_line_125
	[[ "$stderr" == *"--allow-host: policy \`/etc/dhidebug/policy.json\` forbids the host"* ]]
}

@test "delegated: on without sudo when the site policy says so; root's own sudo (SUDO_UID=0) is not delegated" {
	container_start static
	echo '{"delegation": {"always": true}}' >"$SITE/etc/policy.json"
	site_run -- -q "pid://$CPID" -- true
	one_line_125
	[[ "$stderr" == "dhidebug: a pid:// target is refused in delegated mode (the site policy's \`delegation.always\`)"* ]]
	echo '{"delegation": {}}' >"$SITE/etc/policy.json"
	site_run SUDO_UID=0 SUDO_USER=root -- -q "pid://$CPID" -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == "/app"* ]]
	site_run SUDO_USER=alice -- -q "pid://$CPID" -- true
	one_line_125
}

# sudo_run [VAR=VALUE...] -- ARGS...: in_site through a real sudo with the sudoers setup
# docs/security.md shows, plus env_keep of the engine variables (a site that keeps them)
sudo_run()
{
	printf '%s\n' 'Defaults env_reset' 'Defaults !fqdn' 'Defaults !syslog' 'Defaults !lecture' \
		'Defaults env_keep += "DOCKER_HOST CONTAINER_HOST"' \
		"nobody ALL=(root) NOPASSWD: $DHIDEBUG" >"$BATS_TEST_TMPDIR/sudoers"
	chmod 0440 "$BATS_TEST_TMPDIR/sudoers"
	in_site "$BATS_TEST_TMPDIR/sudoers" "$@"
}

@test "delegated through a real sudo: the site policy's boundary holds, the session names the user" {
	command -v sudo >/dev/null || skip "needs sudo"
	container_start static
	site_strict
	echo '{"record": "off", "allowed_profiles": ["sysadmin"]}' >"$BATS_TEST_TMPDIR/mine.json"
	# the attack of the issue: a policy of one's own for sysadmin and no recording
	sudo_run -- -q --policy "$BATS_TEST_TMPDIR/mine.json" --profile sysadmin "$TARGET" -- id -u
	one_line_125
	[[ "$stderr" == "dhidebug: --policy is refused in delegated mode (sudo by \`nobody\`)"* ]]
	[ "$(refusals "--policy ")" -eq 1 ]
	# an engine socket kept through sudo is not used
	sudo_run DOCKER_HOST="unix://$BATS_TEST_TMPDIR/e.sock" -- docker://web -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"dhidebug: DOCKER_HOST ignored in delegated mode"* ]]
	# what the site allows works, and is recorded as the delegating user's
	sudo_run -- -q --profile observe "$TARGET" -- id -u
	[ "$status" -eq 0 ]
	[ "$output" = 65534 ]
	local start
	start=$(site_start)
	[ "$(jq -r .operator.sudo_user <<<"$start")" = nobody ]
	[ "$(jq -r .operator.sudo_uid <<<"$start")" = "$(id -u nobody)" ]
	[ "$(jq -r .operator.delegated <<<"$start")" = true ]
}
