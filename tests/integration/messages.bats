#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# messages.bats: what dhidebug says (issue 16, items 7, 9 and 10): the prompt names the
# container as docker does (its name, or 12 hex digits of its id); --default-toolbox and the
# policy's default_toolbox take a directory as --toolbox does; no errno text that is not the
# cause; a hint when the container's files are noexec; a directory that is not a toolbox; a
# mistyped subcommand. The podman tests use podman's CLI (no API service) on a private store,
# as podman_cli.bats does.

load helpers

setup_file()
{
	RT=$BATS_FILE_TMPDIR
	export RT
	containers_conf "$RT/containers.conf"
	cat >"$RT/storage.conf" <<-EOF
		[storage]
		driver = "overlay"
		graphroot = "$RT/pm/root"
		runroot = "$RT/pm/run"
	EOF
	mkdir -p "$RT/img/etc"
	cp "$BUILD/tests/app-static" "$RT/img/app"
	cp /usr/lib/os-release "$RT/img/etc/os-release"
	tar -C "$RT/img" -cf "$RT/app.tar" app etc
	command -v podman >/dev/null || return 0
	# an image no toolbox rule matches (localhost/…, no DHI tag)
	env -u CONTAINER_HOST CONTAINERS_CONF="$RT/containers.conf" \
		CONTAINERS_STORAGE_CONF="$RT/storage.conf" \
		podman import --change 'ENTRYPOINT ["/app"]' "$RT/app.tar" localhost/dhi-msg:test \
		>"$RT/setup.log" 2>&1 || true
}

teardown_file()
{
	local m

	env -u CONTAINER_HOST CONTAINERS_CONF="$RT/containers.conf" \
		CONTAINERS_STORAGE_CONF="$RT/storage.conf" podman rm -af -t 0 >/dev/null 2>&1 || true
	for m in $(awk -v rt="$RT" 'index($5, rt) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	if [ -e "$RT/reg/pid" ]; then
		kill "$(cat "$RT/reg/pid")" 2>/dev/null || true
	fi
}

setup()
{
	requires root runc toolbox
}

teardown()
{
	tmux_stop
	[ -z "${PNAME:-}" ] || podman rm -f -t 0 "$PNAME" >/dev/null 2>&1 || true
	container_rm
}

# podman_start: a podman container of localhost/dhi-msg:test through podman's CLI. Sets PNAME
# and PCID.
podman_start()
{
	requires podman
	export CONTAINERS_CONF=$RT/containers.conf CONTAINERS_STORAGE_CONF=$RT/storage.conf
	unset CONTAINER_HOST DOCKER_HOST
	[ ! -S /run/podman/podman.sock ] || {
		echo "podman's API service runs on this host: these tests use podman's CLI" >&2
		return 1
	}
	PNAME=dhi-msg-$$-$BATS_TEST_NUMBER
	podman run -d --name "$PNAME" --network none localhost/dhi-msg:test /app /nonexistent/m \
		>"$BATS_TEST_TMPDIR/run.log" 2>&1 || {
		cat "$BATS_TEST_TMPDIR/run.log" "$RT/setup.log" >&2
		return 1
	}
	PCID=$(podman inspect --format '{{.Id}}' "$PNAME")
}

# --- item 7: the prompt ---

@test "prompt: a runc container with a 64-hex id shows 12 hex digits of it, as docker does" {
	requires tmux
	local id
	id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	[ "${#id}" -eq 64 ]
	container_start static "$id"
	tmux_start
	tm send-keys -t t "$DHIDEBUG -q --no-record --toolbox $TOOLBOX $TARGET; echo EXIT=\$?" Enter
	screen_has "[dhidebug $RUNTIME://${id:0:12} general] / #"
	tm send-keys -t t 'exit' Enter
	screen_has 'EXIT=0'
}

@test "prompt: a podman container shows its name, not its id" {
	requires tmux
	podman_start
	tmux_start
	tm send-keys -t t "CONTAINERS_CONF=$CONTAINERS_CONF CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF $DHIDEBUG -q --no-record --toolbox $TOOLBOX podman://$PNAME; echo EXIT=\$?" Enter
	screen_has "[dhidebug podman://$PNAME general] / #"
	run_fails screen_has "${PCID:0:12}" 1
	tm send-keys -t t 'exit' Enter
	screen_has 'EXIT=0'
}

# --- item 9: a default toolbox directory ---

@test "default toolbox: --default-toolbox and the policy's default_toolbox take a directory, as --toolbox does" {
	local pol=$BATS_TEST_TMPDIR/policy.json
	run --separate-stderr "$DHIDEBUG" --default-toolbox "$TOOLBOX" toolbox rule localhost/shop:1
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$TOOLBOX" ]
	[[ "$output" == *"rule: default: no rule matches \`localhost/shop\`"* ]]
	jq -n --arg d "$TOOLBOX" '{default_toolbox: $d}' >"$pol"
	run --separate-stderr "$DHIDEBUG" --policy "$pol" toolbox rule localhost/shop:1
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$TOOLBOX" ]
	# a reference is still one
	run "$DHIDEBUG" --default-toolbox dhi.io/debug:1 toolbox rule localhost/shop:1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = dhi.io/debug:1 ]
}

@test "default toolbox: a session on an image no rule matches uses the directory, named either way; delegated, it is checked as --toolbox is" {
	local pol=$BATS_TEST_TMPDIR/policy.json
	podman_start
	run --separate-stderr "$DHIDEBUG" --no-record --default-toolbox "$TOOLBOX" "podman://$PNAME" -- \
		cat /.dhi/etc/os-release /proc/1/cmdline </dev/null
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"dhidebug: toolbox \`$TOOLBOX\` (rule default: no rule matches \`localhost/dhi-msg\`"* ]]
	[[ "$output" == *"/app/app/nonexistent/m" ]]
	# a directory named as a bare word, as --toolbox takes it
	(cd "$(dirname "$TOOLBOX")" &&
		"$DHIDEBUG" -q --no-record --default-toolbox "$(basename "$TOOLBOX")" "podman://$PNAME" -- true </dev/null)
	jq -n --arg d "$TOOLBOX" '{default_toolbox: $d, record: "off"}' >"$pol"
	run "$DHIDEBUG" -q --policy "$pol" "podman://$PNAME" -- true </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	# a delegated operator (what sudo puts in the environment) names any directory neither way
	run env SUDO_USER=nobody SUDO_UID=65534 SUDO_GID=65534 SUDO_COMMAND="$DHIDEBUG" \
		"$DHIDEBUG" -q --default-toolbox "$TOOLBOX" "podman://$PNAME" -- true </dev/null
	echo "$output"
	[ "$status" -eq 125 ]
	[[ "$output" == *"--default-toolbox"*"delegation.toolboxes"* ]]
}

# --- item 10: error texts ---

@test "errors: a manifest the registry does not have, and a sessions folder that is not private, say so without a stray errno text" {
	command -v docker-registry >/dev/null || missing "needs docker-registry"
	local reg
	[ -e "$RT/reg/pid" ] || registry_start "$RT/reg" >"$RT/reg.addr"
	reg=$(cat "$RT/reg.addr")
	run --separate-stderr "$DHIDEBUG" --toolbox-cache "$BATS_TEST_TMPDIR/cache" \
		--insecure-registry "$reg" toolbox pull "$reg/dhi/none:dev"
	echo "$stderr"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"manifest \`dev\` not found in the registry" ]]
	[[ "$stderr" != *"No such file or directory"* ]]
	# a sessions folder that is someone else's or open to others
	container_start static
	mkdir -m 0755 "$BATS_TEST_TMPDIR/sessions"
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --sessions-dir "$BATS_TEST_TMPDIR/sessions" \
		"$TARGET" -- true </dev/null
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"dhidebug: not recording: cannot use the sessions folder \`$BATS_TEST_TMPDIR/sessions\` (it must be root's, mode 0700)"$'\n'* ]]
	[[ "$stderr" != *"File exists"* ]]
}

@test "errors: a toolbox program that runs the container's file gets 126 and a line saying the container's files are noexec here" {
	container_start static
	run_dhi -c 'timeout 5 /target/app' "$TARGET"
	[ "$status" -eq 126 ]
	[[ "$output" == *"Permission denied"* ]]
	[[ "$output" == *"dhish: \`/target/app\` is mounted noexec: profile \`general\` runs programs from the toolbox only, not the container's files (sysadmin does)"* ]]
	run_dhi -c 'cd /target && nice ./app' "$TARGET"
	[ "$status" -eq 126 ]
	[[ "$output" == *"\`./app\` is mounted noexec: profile \`general\`"* ]]
	# a 126 of a program's own is not the view's (and sysadmin runs the container's files)
	run_dhi -c 'sh -c "exit 126"' --profile sysadmin "$TARGET"
	[ "$status" -eq 126 ]
	[[ "$output" != *noexec* ]]
}

@test "errors: a directory with no shell and no /bin is not a toolbox: one line, 125, nothing enters" {
	container_start static
	mkdir -p "$BATS_TEST_TMPDIR/notatb/etc"
	echo x >"$BATS_TEST_TMPDIR/notatb/etc/file"
	run --separate-stderr "$DHIDEBUG" -q --toolbox "$BATS_TEST_TMPDIR/notatb" "$TARGET" -- true </dev/null
	echo "$stderr"
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "dhidebug: \`$BATS_TEST_TMPDIR/notatb\` is not a toolbox ("* ]]
	[ -z "$(session_pids)" ]
	# the shell too
	run --separate-stderr "$DHIDEBUG" -q --toolbox "$BATS_TEST_TMPDIR/notatb" "$TARGET" -c true </dev/null
	[ "$status" -eq 125 ]
	[[ "$stderr" == "dhidebug: \`$BATS_TEST_TMPDIR/notatb\` is not a toolbox ("* ]]
}

@test "errors: a first word close to a subcommand that is no container: the error, then did you mean" {
	run --separate-stderr "$DHIDEBUG" sesions ls </dev/null
	echo "$stderr"
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "dhidebug: no container \`sesions\`"*"; did you mean \`sessions\`?" ]]
	run --separate-stderr "$DHIDEBUG" lnt image://x </dev/null
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"; did you mean \`lint\`?" ]]
	# a word that is no near miss gets the error alone
	run --separate-stderr "$DHIDEBUG" no-such-thing-$$ ls </dev/null
	[ "$status" -eq 125 ]
	[[ "$stderr" != *"did you mean"* ]]
}
