#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# privs.bats: the security profiles, read from inside the session: capability sets,
# no_new_privs, seccomp (with a probe that calls what must be denied, through the native
# and the i386 entry points), what each profile can and cannot do, and the policy file.

load helpers

setup()
{
	requires root runc toolbox probe
}

teardown()
{
	container_rm
}

# The profile's capability names from `dhidebug profiles --json`, sorted, one per line.
profile_caps()
{
	"$DHIDEBUG" profiles --json | jq -r --arg p "$1" '.[] | select(.name == $p) | .capabilities[]' |
		sort
}

# The capability names of a hex mask, as capsh decodes it, sorted.
decode_caps()
{
	capsh --decode="0x$1" | sed 's/^0x[0-9a-f]*=//' | tr ',' '\n' | grep -v '^$' | sort
}

status_field()
{
	awk -v k="$1:" '$1 == k { print $2 }' <<<"$2"
}

check_profile_status()
{
	local profile=$1 st want set

	run_dhi --profile "$profile" "$TARGET" -- cat /proc/self/status
	[ "$status" -eq 0 ]
	st=$output
	# a profile cannot grant what dhidebug itself does not hold on this host
	want=$(comm -12 <(profile_caps "$profile") \
		<(decode_caps "$(awk '/^CapPrm:/ { print $2 }' /proc/self/status)"))
	[ -n "$want" ]
	for set in CapEff CapPrm CapBnd CapAmb CapInh; do
		echo "$profile $set: $(status_field "$set" "$st")"
		[ "$(decode_caps "$(status_field "$set" "$st")")" = "$want" ]
	done
	[ "$(status_field NoNewPrivs "$st")" = 1 ]
	[ "$(status_field Seccomp "$st")" = 2 ]
}

@test "every profile: capability sets, no_new_privs and seccomp are the profile's" {
	container_start static
	for p in observe general netadmin sysadmin; do
		check_profile_status "$p"
	done
}

# probe_expect PROFILE NAME=RESULT...: run the probe in PROFILE and check each result.
probe_expect()
{
	local profile=$1 kv

	shift
	run_dhi --profile "$profile" "$TARGET" -- dhi-probe
	[ "$status" -eq 0 ]
	for kv in "$@"; do
		grep -qx -- "$kv" <<<"$output" || { echo "$profile: expected $kv"; return 1; }
	done
}

DENIED_EVERYWHERE=(unshare=EPERM setns=EPERM open_by_handle_at=EPERM kexec_load=EPERM
	init_module=EPERM keyctl=EPERM add_key=EPERM userfaultfd=EPERM io_uring_setup=EPERM
	clone_newns=EPERM tiocsti=EPERM tiocsti_high=EPERM clone3=ENOSYS vhangup=ENOSYS
	i386:unshare=EPERM i386:setns=EPERM i386:keyctl=EPERM i386:init_module=EPERM
	i386:kexec_load=EPERM)
MOUNT_FAMILY=(mount=EPERM umount2=EPERM pivot_root=EPERM chroot=EPERM open_tree=EPERM
	fsopen=EPERM move_mount=EPERM mount_setattr=EPERM i386:mount=EPERM)

@test "seccomp: escape syscalls fail with EPERM in every profile, natively and via int 0x80" {
	container_start static
	for p in observe general netadmin; do
		probe_expect "$p" "${DENIED_EVERYWHERE[@]}" "${MOUNT_FAMILY[@]}" bpf=EPERM \
			i386:bpf=EPERM
	done
	# sysadmin: the mount family and bpf reach the kernel (which refuses the probe's
	# nonsense arguments), everything else is still denied
	probe_expect sysadmin "${DENIED_EVERYWHERE[@]}" mount=ENOENT chroot=ENOENT bpf=EINVAL
}

@test "observe: the container's files are read-only, ptrace and kill are denied" {
	container_start dynamic
	run_dhi --profile observe -c 'touch /target/observed' "$TARGET"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Read-only file system"* ]]
	[ ! -e "$BUNDLE/rootfs/observed" ]
	run_dhi --profile observe "$TARGET" -- timeout 10 strace -e trace=none -p 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"Operation not permitted"* ]]
	run_dhi --profile observe "$TARGET" -- kill -0 1
	[ "$status" -eq 1 ]
	[ "$output" = "kill: (1): Operation not permitted" ]
	# what observe is for: reading what other users' processes have
	run_dhi --profile observe "$TARGET" -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == /app* ]]
}

@test "general: strace -p 1 and kill work, the container's files are writable" {
	container_start dynamic
	run_dhi --profile general -c 'timeout -s INT 2 strace -e trace=none -p 1; true' "$TARGET"
	[[ "$output" == *"attached"* ]]
	[[ "$output" != *"Operation not permitted"* ]]
	run_dhi --profile general "$TARGET" -- kill -0 1
	[ "$status" -eq 0 ]
	run_dhi --profile general -c 'echo hi > /target/written-by-session' "$TARGET"
	[ "$status" -eq 0 ]
	[ "$(cat "$BUNDLE/rootfs/written-by-session")" = hi ]
}

@test "netadmin: ip link set lo mtu works, and fails in observe and general" {
	container_start static
	run_dhi --profile netadmin -c 'ip link set lo mtu 1400 && cat /sys/class/net/lo/mtu' "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = 1400 ]
	for p in observe general; do
		run_dhi --profile "$p" "$TARGET" -- ip link set lo mtu 1300
		[ "$status" -eq 2 ]
		[[ "$output" == *"Operation not permitted"* ]]
	done
}

@test "programs run only from the toolbox: the container's and the scratch's are noexec" {
	container_start dynamic
	run_dhi "$TARGET" -- /target/app
	[ "$status" -eq 126 ]
	run_dhi -c 'cp /bin/true /.dhi-scratch/t && /.dhi-scratch/t' "$TARGET"
	[ "$status" -eq 126 ]
	# sysadmin may run the container's own programs
	run_dhi --profile sysadmin -c 'cp /bin/true /.dhi-scratch/t && /.dhi-scratch/t' "$TARGET"
	[ "$status" -eq 0 ]
}

@test "--user: explicit ids and groups; target takes PID 1's" {
	container_start dynamic
	run_dhi --user 1000:1000 "$TARGET" -- id
	[ "$status" -eq 0 ]
	[ "$output" = "uid=1000 gid=1000 groups=1000" ]
	run_dhi --user target "$TARGET" -- id -u
	[ "$output" = 65532 ]
	# root's own supplementary groups never leak in
	run_dhi "$TARGET" -- id -G
	[ "$output" = 0 ]
	run_dhi --user nobody "$TARGET" -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalid --user"* ]]
}

@test "the session holds no fd but 0, 1 and 2, and its environment is the allowlist" {
	container_start static
	check_no_host_fds
	LD_PRELOAD=/x.so BASH_ENV=/x ENV=/x PROMPT_COMMAND=x run_dhi "$TARGET" -- env
	[[ "$output" != *LD_PRELOAD=* ]]
	[[ "$output" != *BASH_ENV=* ]]
	[[ "$output" != *PROMPT_COMMAND=* ]]
	# the union view (auto, here) runs programs from /.dhi, with the toolbox's libraries
	[[ "$output" == *"PATH=/.dhi/usr/local/sbin:"* ]]
	[[ "$output" == *"LD_LIBRARY_PATH=/.dhi/"* ]]
	run_dhi --view toolbox "$TARGET" -- env
	[[ "$output" == *"PATH=/usr/local/sbin"* ]]
	[[ "$output" != *LD_LIBRARY_PATH=* ]]
}

@test "a policy that allows only observe refuses general with 125, before entering" {
	container_start static
	local pol=$BATS_TEST_TMPDIR/policy.json
	echo '{"default_profile": "observe", "allowed_profiles": ["observe"]}' >"$pol"
	run --separate-stderr dhidebug --policy "$pol" --profile general "$TARGET" -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"profile \`general\` is not allowed"* ]]
	run_dhi --policy "$pol" "$TARGET" -- cat /proc/self/status
	[ "$(decode_caps "$(status_field CapEff "$output")")" = "$(profile_caps observe)" ]
}

@test "policy file errors name the key, capability or syscall, and exit 125" {
	local pol=$BATS_TEST_TMPDIR/policy.json
	echo '{"profiles": {"x": {"base": "general", "colour": "red"}}}' >"$pol"
	run --separate-stderr "$DHIDEBUG" profiles --policy "$pol"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"unknown key \`colour\`"* ]]
	echo '{"profiles": {"x": {"capabilities": ["CAP_FLY"]}}}' >"$pol"
	run --separate-stderr "$DHIDEBUG" profiles --policy "$pol"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"unknown capability \`CAP_FLY\`"* ]]
	echo '{"profiles": {"x": {"deny_syscalls": ["frobnicate"]}}}' >"$pol"
	run --separate-stderr "$DHIDEBUG" profiles --policy "$pol"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"unknown syscall \`frobnicate\`"* ]]
	echo '{"profiles": ' >"$pol"
	run --separate-stderr "$DHIDEBUG" profiles --policy "$pol"
	[ "$status" -eq 125 ]
	run --separate-stderr "$DHIDEBUG" profiles --policy "$BATS_TEST_TMPDIR/none.json"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"cannot open policy"* ]]
}

@test "a site profile from the policy file is applied: extra denied syscall, fewer caps" {
	container_start static
	local pol=$BATS_TEST_TMPDIR/policy.json
	echo '{"profiles": {"tight": {"base": "general", "capabilities": ["CAP_KILL"],
	       "deny_syscalls": ["uname"]}}}' >"$pol"
	run_dhi --policy "$pol" --profile tight -c 'grep CapEff /proc/self/status; uname' "$TARGET"
	[[ "$output" == *"Operation not permitted"* ]]
	[ "$(decode_caps "$(status_field CapEff "$output")")" = cap_kill ]
}

@test "memfd execution (which noexec mounts do not cover) is refused unless the profile runs anything" {
	container_start static
	run_dhi "$TARGET" -- dhi-probe memfd-exec
	[ "$output" = "memfd_exec=EPERM" ]
	run_dhi --profile sysadmin "$TARGET" -- dhi-probe memfd-exec
	[ "$output" = "memfd_exec=ok" ]
}

@test "landlock_exec: applied where the kernel has it (the session can no longer ptrace the app); otherwise a notice" {
	container_start static
	local pol=$BATS_TEST_TMPDIR/policy.json
	echo '{"profiles": {"locked": {"base": "general", "landlock_exec": true}}}' >"$pol"
	run_dhi --policy "$pol" --profile locked "$TARGET" -- timeout 10 strace -e trace=none -p 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"Operation not permitted"* ]]
	# toolbox programs still run
	run_dhi --policy "$pol" --profile locked "$TARGET" -- true
	[ "$status" -eq 0 ]
	# a kernel without Landlock: one notice, and the session goes on (and ptrace works)
	run --separate-stderr "$ENOSYS" --no-landlock "$DHIDEBUG" --toolbox "$TOOLBOX" \
		--policy "$pol" --profile locked "$TARGET" -- true
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"landlock: not in this kernel"* ]]
}

@test "resource limits are the target's, and the session cannot raise them" {
	customize_bundle()
	{
		jq '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: 512, soft: 256}]' \
			"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
	}
	container_start static
	run_dhi "$TARGET" -- prlimit --nofile --output SOFT,HARD --noheadings
	[ "$status" -eq 0 ]
	[ "$(echo $output)" = "256 512" ]
	run_dhi "$TARGET" -- prlimit --nofile=256:1024 true
	[ "$status" -eq 1 ]
	[[ "$output" == *"Operation not permitted"* ]]
}
