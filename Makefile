# dhidebug - one non-recursive Makefile; everything is built into $(BUILD).
#   make            build build/dhidebug
#   make deps       install the Debian packages the build and the tests need
#   make check      deps, build, unit tests (cmocka) and integration tests (bats, as root)
#   make demo       deps, build, then attach to a shell-less demo container
#   make bench      benchmarks, results in docs/benchmarks.md (and docs/benchmarks-*.md)
#   make asan       the same checks with ASan and UBSan, built into build-san/
#   make install    PREFIX=/usr/local DESTDIR= (never sets setuid bits or file caps)
#   make image      dhidebug's own image with buildah, no registry needed (docs/dhidebug-image.md)

VERSION := 0.1.0
PREFIX ?= /usr/local
BUILD ?= build
PKG_CONFIG ?= pkg-config
CC ?= cc
V ?= 0
WERROR ?= 1

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Libraries: only through pkg-config. libssl (besides libcurl, which links it too): the syslog
# collector's TLS (injector/record/syslog.c), which needs the close_notify exchange and the
# TCP half-close that libcurl's CONNECT_ONLY sockets do not give.
PKGS := jansson libcap libseccomp readline libcurl libssl libcrypto libarchive
# STATIC=1 (default): a static PIE. Nothing is loaded at run time (no dlopen, NSS or
# gconv from anywhere, let alone from a container), and start-up is a millisecond
# faster, which is most of what an attach costs. STATIC=0 links the shared libraries.
STATIC ?= 1
ifeq ($(STATIC),1)
# Debian's libcurl.a is built with LDAP, RTMP and GSS-API. Their static archives cannot
# go into a static PIE (no libgssapi_krb5.a; libldap.a and librtmp.a pull in libsasl2.a,
# which is not PIC, and GnuTLS, which needs p11-kit, which has no .a), so they are left
# out and common/static_curl.c defines their entry points to abort: dhidebug restricts
# libcurl to plain http (CURLOPT_PROTOCOLS_STR) and never enables Negotiate, so none is
# reachable. libunistring and brotlicommon are what libidn2.a and libbrotlidec.a need.
CURL_UNLINKED := -lrtmp -lgssapi_krb5 -lldap -llber
# libarchive.a's pkg-config names every codec it was built with (acl, lz4 have no .a);
# dhidebug only asks for tar with gzip, zstd or no compression, which need zlib and zstd.
ARCHIVE_STATIC_LIBS := -larchive -lzstd -lz
PKG_LIBS := $(shell $(PKG_CONFIG) --static --libs $(filter-out libcurl libarchive,$(PKGS)) \
	2>/dev/null) $(ARCHIVE_STATIC_LIBS) \
	-Wl,--start-group $(filter-out $(CURL_UNLINKED),$(shell $(PKG_CONFIG) --static --libs \
	libcurl 2>/dev/null)) -lunistring -lbrotlicommon -Wl,--end-group
STATIC_SRCS := common/static_curl.c
LINK_MODE := -static-pie
else
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
STATIC_SRCS :=
LINK_MODE := -pie
endif
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection -fPIE
ifdef SANITIZE
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
SANLD := -fsanitize=$(SANITIZE)
HARDEN := -fstack-protector-strong -fPIE
else
OPT := -O2 -g
endif
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) -I. -DDHIDEBUG_VERSION=\"$(VERSION)\" \
	$(PKG_CFLAGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS := -Wl,-z,relro,-z,now,-z,noexecstack -Wl,--as-needed $(SANLD) $(LDFLAGS)

COMMON_SRCS := common/err.c common/path.c common/xalloc.c common/fdio.c common/osrelease.c common/syscalls.c \
	common/rfc3339.c common/membuf.c common/selfexe.c \
	common/nonss.c common/trust.c common/sha256.c
NSENTER_SRCS := nsenter/target.c nsenter/cgroup.c nsenter/view.c
TOOLBOX_SRCS := toolbox/toolbox.c toolbox/ref.c toolbox/registry.c toolbox/layer.c toolbox/cache.c
INJECTOR_SRCS := injector/cli.c injector/shell/history.c injector/session.c injector/attach.c \
	injector/handoff.c injector/delegate.c \
	injector/supervisor.c injector/shell/dhish.c injector/shell/exec.c injector/shell/builtins.c \
	injector/record/record.c injector/record/execaudit.c injector/record/ship.c injector/record/syslog.c \
	injector/record/redact.c injector/record/ring.c \
	injector/ls.c injector/runtime/runtime.c injector/runtime/fields.c injector/runtime/proc.c \
	injector/runtime/runc.c injector/runtime/pid.c injector/runtime/docker.c \
	injector/runtime/podmancli.c \
	injector/runtime/oci.c injector/runtime/containerd.c injector/runtime/crio.c \
	injector/runtime/process.c injector/policy/profile.c injector/policy/seccomp.c \
	injector/policy/apply.c injector/policy/bpfcache.c injector/policy/user.c \
	injector/policy/execid.c \
	injector/toolbox_cmd.c injector/portfwd.c injector/lint.c injector/imagetarget.c \
	injector/init/memfd.c \
	injector/copy/spec.c injector/copy/custody.c injector/copy/sink_dir.c \
	injector/copy/sink_tar.c injector/copy/walk.c injector/copy/tarin.c injector/copy/idmap.c \
	injector/copy/hostuser.c
INJECTOR_SRCS += injector/record/sessions.c injector/record/replay.c injector/record/export.c \
	injector/record/player.c injector/record/against.c injector/record/grep.c injector/record/follow.c \
	injector/record/index.c
SHELL_SRCS := injector/shell/parse.c injector/shell/expand.c
# the subcommands' fronts (main.c dispatches to them through injector/cli.c's table)
CMD_SRCS := injector/cmd/cmd.c injector/cmd/attach.c injector/cmd/profiles.c injector/cmd/ls.c \
	injector/cmd/portfwd.c injector/cmd/lint.c injector/cmd/toolbox.c injector/cmd/sessions.c \
	injector/cmd/help.c injector/cmd/cp.c
LIB_SRCS := $(COMMON_SRCS) $(NSENTER_SRCS) $(TOOLBOX_SRCS) $(INJECTOR_SRCS) $(SHELL_SRCS) $(CMD_SRCS)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/injector/init/image.o

DHIDEBUG := $(BUILD)/dhidebug
# the kubectl plugin: found by `kubectl plugin list` when it is on PATH beside dhidebug
KUBECTL_PLUGIN := $(BUILD)/kubectl-dhidebug
KUBECTL_SRCS := injector/kubectl/kube.c injector/kubectl/attach.c injector/kubectl/node.c \
	injector/kubectl/kcp.c injector/kubectl/plugin.c

.PHONY: unit-bins all deps check-deps check test check-unit check-integration demo bench install man clean asan format \
	fixtures toolbox fuzz check-fuzz
all: $(DHIDEBUG) $(KUBECTL_PLUGIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(DHIDEBUG): $(LIB_OBJS) $(BUILD)/obj/injector/main.o $(STATIC_SRCS:%.c=$(BUILD)/obj/%.o)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LINK_MODE) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LIBS)

$(KUBECTL_PLUGIN): $(KUBECTL_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB_OBJS) \
		$(STATIC_SRCS:%.c=$(BUILD)/obj/%.o)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LINK_MODE) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LIBS)

# --- dhidebug-init (injector/init/init.h): what the session's processes run, embedded ---
# Static, against musl, linked with nothing of dhidebug's: a small program of its own. Not a
# PIE: Debian's musl-gcc links no static PIE, and a fixed text address gives nothing away in a
# program whose memory a tracer reads anyway. The kernel's uapi headers come after musl's.
MUSL_CC ?= musl-gcc
INIT_BIN := $(BUILD)/init/dhidebug-init
INIT_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Os $(WARN) -fstack-protector-strong -I. \
	-idirafter /usr/include -idirafter /usr/include/$(shell $(CC) -dumpmachine)
$(INIT_BIN): injector/init/init.c injector/init/init.h injector/record/execaudit_bpf.h
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  MUSLCC  $<"
	$(Q)$(MUSL_CC) $(INIT_CFLAGS) -static -Wl,-z,relro,-z,now,-z,noexecstack -s -o $@ $<
$(BUILD)/obj/injector/init/image.o: injector/init/image.S $(INIT_BIN)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  AS      $<"
	$(Q)$(CC) -c -DINIT_BIN='"$(abspath $(INIT_BIN))"' -o $@ $<

# --- asciinema-player for `sessions export` (the npm package, fetched once, embedded) ---
# Outside $(BUILD) so that build-san and other build trees share one download; npm runs only
# when the files are missing, so later builds work offline.
NPM ?= npm
PLAYER_VERSION ?= 3.18.0
PLAYER_NPM := build/npm
PLAYER_DIST := $(PLAYER_NPM)/node_modules/asciinema-player/dist/bundle
PLAYER_JS := $(PLAYER_DIST)/asciinema-player.min.js
PLAYER_CSS := $(PLAYER_DIST)/asciinema-player.css
$(PLAYER_JS) $(PLAYER_CSS) &:
	@mkdir -p $(PLAYER_NPM)
	@[ "$(V)" = 1 ] || echo "  NPM     asciinema-player@$(PLAYER_VERSION)"
	$(Q)$(NPM) install --prefix $(PLAYER_NPM) --no-audit --no-fund --no-save --silent \
		asciinema-player@$(PLAYER_VERSION) || { echo "npm install asciinema-player failed:" \
		"\`sessions export\` embeds it (needs npm and the registry once)" >&2; exit 1; }
	$(Q)test -s $(PLAYER_JS) && test -s $(PLAYER_CSS) && touch $(PLAYER_JS) $(PLAYER_CSS)
$(BUILD)/obj/injector/record/player.o: $(PLAYER_JS) $(PLAYER_CSS)
$(BUILD)/obj/injector/record/player.o: ALL_CFLAGS += -DSESSIONS_PLAYER_JS=\"$(abspath $(PLAYER_JS))\" \
	-DSESSIONS_PLAYER_CSS=\"$(abspath $(PLAYER_CSS))\"

# --- dependencies (Debian 12): every package list is here, and only here ---
# `make deps` installs with --no-install-recommends, so what a package only recommends but the
# tests, the demo or the benchmarks need at run time is named here too (podman's pause image
# needs catatonit). scripts/check-deps, run by `make check` before the tests, proves it.
# The second line: the static archives libcurl.a needs (see STATIC above).
DEPS_BUILD := gcc make pkg-config libc6-dev libjansson-dev libcap-dev libseccomp-dev \
	libcurl4-openssl-dev libreadline-dev libarchive-dev libssl-dev libcmocka-dev \
	libnghttp2-dev libssh2-1-dev libpsl-dev libzstd-dev libunistring-dev libidn2-dev \
	libbrotli-dev zlib1g-dev
# dhidebug-init is built against musl (see above)
DEPS_BUILD += musl-tools
# npm fetches asciinema-player once (see above); a nodejs from elsewhere often brings its own
DEPS_BUILD += $(if $(shell command -v $(NPM)),,npm)
# What the tests, the demo and the benchmarks run, as COMMAND:PACKAGE: scripts/check-deps
# looks for each command on PATH and names the package when one is missing.
# - the suite itself and its plumbing: bats, jq, python3 (fake servers), curl, tmux and
#   script (terminals), strace (fallback tests), capsh, busybox, git, tar and gzip
DEPS_CMDS := bats:bats jq:jq python3:python3 curl:curl tmux:tmux script:bsdutils \
	strace:strace capsh:libcap2-bin busybox:busybox-static git:git tar:tar gzip:gzip \
	ps:procps ip:iproute2 nsenter:util-linux findmnt:util-linux
# - the runtimes the targets run in: runc (crun where the cgroup layout allows), podman
#   (its pause image needs catatonit, which podman only recommends), containerd with ctr
DEPS_CMDS += runc:runc crun:crun podman:podman catatonit:catatonit containerd:containerd \
	ctr:containerd
# - a real Docker Engine: docker.bats, cp_docker.bats and bench/cp start Debian's dockerd on a
#   private socket, data root and exec root (tests/integration/dockerd.bash: no iptables, no
#   bridge); its docker CLI is also what runtimes.bats compares
#   `dhidebug ls` with on podman's Docker-compatible socket
DEPS_CMDS += dockerd:docker.io docker:docker.io
# - images: a real registry with TLS and htpasswd, filled by skopeo; umoci for bench/toolbox;
#   buildah and mmdebstrap build dhidebug's own image (dhiimage.bats, `make image`)
DEPS_CMDS += docker-registry:docker-registry skopeo:skopeo umoci:umoci htpasswd:apache2-utils \
	openssl:openssl buildah:buildah mmdebstrap:mmdebstrap
# - recordings: the real asciinema player, and chromium for the exported page
DEPS_CMDS += asciinema:asciinema chromium:chromium
# - the fuzzers: clang with its sanitizer runtime (a library, so no command of its own)
DEPS_CMDS += clang:clang
# - kubectl.bats: `kubectl plugin list` and the plugin's `kubectl config view`; Debian's kubectl
#   is kubernetes-client (installed only when no kubectl is on PATH, e.g. one from another
#   repository)
DEPS_CMDS += $(if $(shell command -v kubectl),,kubectl:kubernetes-client)
# - attack_trust.bats: a delegated operator through a real sudo
DEPS_CMDS += sudo:sudo
# - `make install` builds the man pages from docs/*.1.md with go-md2man (what podman and docker
#   use; not part of `make`, so not of the image's build stage); install.bats reads them with
#   man and checks the zsh completion with zsh
DEPS_CMDS += go-md2man:go-md2man man:man-db zsh:zsh
# - syslog.bats: Debian's rsyslog as the syslog collector's receiver (imtcp over TLS through its
#   OpenSSL driver, rsyslog-openssl: a module, no command of its own, so named in DEPS_TEST),
#   and nginx as a reverse proxy with TLS in front of the test HTTP collector
DEPS_CMDS += rsyslogd:rsyslog nginx:nginx
# - bench/phases (from bench/run): valgrind's callgrind (tried on the attach, and checked against
#   bench/icount where it runs), taskset to pin bench/icount to one CPU
DEPS_CMDS += valgrind:valgrind taskset:util-linux
# - bench/run: GNU time for the peak memory (`time` is also bash's keyword, so a command check
#   would always pass: named in DEPS_TEST)
DEPS_TEST := $(sort $(foreach c,$(DEPS_CMDS),$(word 2,$(subst :, ,$(c))))) ca-certificates \
	libclang-rt-14-dev rsyslog-openssl time
# apt-get runs only when something is missing, so a second `make check` does not hit the network.
deps:
	@missing=$$(for p in $(DEPS_BUILD) $(DEPS_TEST); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' \
			|| echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing" $$missing; \
		[ "$$(id -u)" = 0 ] || { echo "deps: run as root to install packages" >&2; exit 1; }; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else echo "deps: all installed"; fi

# Every command the tests call is there, and podman can create a pod in an empty store.
check-deps:
	$(Q)DEPS_CMDS='$(DEPS_CMDS)' DEPS_BUILD='$(DEPS_BUILD)' scripts/check-deps

# --- test fixtures and the test toolbox ---
FIXTURES := $(BUILD)/tests/app-static $(BUILD)/tests/app-dynamic $(BUILD)/tests/app-musl \
	$(BUILD)/tests/enosys \
	$(BUILD)/tests/probe $(BUILD)/tests/attacker $(BUILD)/tests/seizer $(BUILD)/tests/waitgone \
	$(BUILD)/tests/plant $(BUILD)/tests/fhandle $(BUILD)/tests/evil $(BUILD)/tests/libevil.so \
	$(BUILD)/tests/execat $(BUILD)/tests/nest $(BUILD)/tests/survivor $(BUILD)/tests/stallfs \
	$(BUILD)/tests/flipper $(BUILD)/tests/cpbomb
fixtures: $(FIXTURES)
$(BUILD)/tests/app-static: tests/fixtures/app.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -static -o $@ $<
$(BUILD)/tests/app-dynamic: tests/fixtures/app.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -o $@ $<
# the app of bundle.bash's musl kind (an Alpine-style target)
$(BUILD)/tests/app-musl: tests/fixtures/app.c
	@mkdir -p $(dir $@)
	$(Q)$(MUSL_CC) -std=gnu11 -O2 -Wall -o $@ $<
$(BUILD)/tests/probe: tests/fixtures/probe.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -static -o $@ $<
$(BUILD)/tests/attacker: tests/fixtures/attacker.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -static -o $@ $<
# attack_init.bats: a PID 1 that seizes the session's processes, and a fast poller;
# attack_reads.bats: FIFOs, device nodes, huge files and terminals where dhidebug reads;
# attack_exec.bats: execveat with a dirfd (put in a copy of the test toolbox);
# attack_redteam.bats: a PID 1 that moves itself into a user namespace of its own;
# attack_r3.bats: a session program whose thread-group leader exits before its other thread,
# a FUSE file system whose reads never end; cp.bats: a directory and a symlink swapped in a loop;
# attack_r4.bats: a file that grows while it is copied, a huge hole, a sparse tar bomb
$(BUILD)/tests/seizer $(BUILD)/tests/waitgone $(BUILD)/tests/plant $(BUILD)/tests/execat \
		$(BUILD)/tests/nest $(BUILD)/tests/survivor $(BUILD)/tests/flipper \
		$(BUILD)/tests/stallfs $(BUILD)/tests/cpbomb: $(BUILD)/tests/%: tests/fixtures/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<
# attack_view.bats: the shocker attack on a mount; code a container plants for the session
$(BUILD)/tests/fhandle $(BUILD)/tests/evil: $(BUILD)/tests/%: tests/fixtures/%.c tests/fixtures/evil.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<
$(BUILD)/tests/libevil.so: tests/fixtures/libevil.c tests/fixtures/evil.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC -Wl,-soname,libselinux.so.1 -o $@ $<
$(BUILD)/tests/enosys: tests/helpers/enosys.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $$($(PKG_CONFIG) --libs libseccomp)

TOOLBOX_ROOTFS := $(BUILD)/toolbox/rootfs
# The test toolbox is mkdev's tree plus the syscall probe of the security tests.
TEST_TOOLBOX := $(TOOLBOX_ROOTFS)/usr/local/bin/dhi-probe
toolbox: $(TOOLBOX_ROOTFS)
$(TOOLBOX_ROOTFS): toolbox/mkdev
	$(Q)toolbox/mkdev --rootfs $@ --cache $(BUILD)/debs
$(TEST_TOOLBOX): $(BUILD)/tests/probe $(TOOLBOX_ROOTFS)
	$(Q)install -D -m 0755 $< $@
# An Alpine-style toolbox (mkdev --busybox: busybox and musl from Debian's packages), with a
# musl-linked program for the tests of musl's loader (attack_exec.bats).
BUSYBOX_ROOTFS := $(BUILD)/toolbox/busybox
TEST_BUSYBOX_TOOLBOX := $(BUSYBOX_ROOTFS)/usr/local/bin/musl-hello
.PHONY: toolbox-busybox
toolbox-busybox: $(TEST_BUSYBOX_TOOLBOX)
$(BUSYBOX_ROOTFS): toolbox/mkdev
	$(Q)toolbox/mkdev --busybox --rootfs $@ --cache $(BUILD)/debs
$(BUILD)/tests/musl-hello: tests/fixtures/musl-hello.c
	@mkdir -p $(dir $@)
	$(Q)$(MUSL_CC) -std=gnu11 -O2 -Wall -o $@ $<
$(TEST_BUSYBOX_TOOLBOX): $(BUILD)/tests/musl-hello $(BUSYBOX_ROOTFS)
	$(Q)install -D -m 0755 $< $@

# --- unit tests (cmocka): one binary per module, linked with that module's sources ---
UNIT_TESTS := osrelease cli path runtime runtime_parse shell_lang ref registry sessions portfwd lint kube err \
	user trust execid redact syslog record copy
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/unit/test_%)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
$(BUILD)/tests/unit/test_%: tests/unit/test_%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -pie $(ALL_LDFLAGS) $(UNIT_LDFLAGS_$*) -o $@ $< $(LIB_OBJS) \
		$(CMOCKA_LIBS) $$($(PKG_CONFIG) --libs $(PKGS))
UNIT_LDFLAGS_path := -Wl,--wrap=dhi_sys_openat2
UNIT_LDFLAGS_execid := -Wl,--wrap=dhi_sys_openat2
# kubectl-dhidebug's sources are not in LIB_OBJS (dhidebug does not need them)
UNIT_KUBE_OBJS := $(addprefix $(BUILD)/obj/injector/kubectl/,kube.o node.o kcp.o attach.o)
UNIT_LDFLAGS_kube := $(UNIT_KUBE_OBJS)
$(BUILD)/tests/unit/test_kube: $(UNIT_KUBE_OBJS)

check-unit: $(UNIT_BINS)
	$(Q)tests/run-tap unit $(UNIT_BINS)

check-integration: $(DHIDEBUG) $(FIXTURES) $(TEST_TOOLBOX) $(TEST_BUSYBOX_TOOLBOX) check-deps
	$(Q)DHIDEBUG=$(abspath $(DHIDEBUG)) tests/run-tap integration tests/integration/*.bats

# The README's test command: everything, as root, from a clean clone.
# Fuzzers first and the unit tests also under ASan/UBSan, so that the TAP summary of every
# test is the last line CI prints.
SAN_UNIT_BINS := $(UNIT_TESTS:%=build-san/tests/unit/test_%)
check test: deps
	$(Q)$(MAKE) --no-print-directory check-deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) $(FIXTURES) $(TEST_TOOLBOX) \
		$(TEST_BUSYBOX_TOOLBOX)
	$(Q)$(MAKE) --no-print-directory check-fuzz
	$(Q)$(MAKE) --no-print-directory BUILD=build-san SANITIZE=address,undefined STATIC=0 unit-bins
	$(Q)DHIDEBUG=$(abspath $(DHIDEBUG)) tests/run-tap all $(UNIT_BINS) $(SAN_UNIT_BINS) \
		tests/integration/*.bats

unit-bins: $(UNIT_BINS)

# --- fuzzing (libFuzzer, clang): tests/fuzz/fuzz_<name>.c per target, linked with the sources
# in FUZZ_SRCS_<name> (and FUZZ_LDFLAGS_<name>), seeds in tests/fuzz/corpus/<name>/.
# `make fuzz` runs each target FUZZ_TIME seconds, `make check` FUZZ_SHORT_TIME. New inputs go
# to $(BUILD)/fuzz/corpus/<name>/ and crashes to $(BUILD)/fuzz/<name>-crash-*, never into
# the checked-in seeds.
FUZZ_CC ?= clang
FUZZ_TIME ?= 300
FUZZ_SHORT_TIME ?= 20
FUZZ_CFLAGS ?= -std=gnu11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(WARN) -I.
FUZZ_TARGETS := shell_parse
FUZZ_SRCS_shell_parse := injector/shell/parse.c injector/shell/expand.c common/xalloc.c
FUZZ_LDFLAGS_shell_parse := -Wl,--wrap=glob
# the runtime parsers: everything the runtimes (engines, state files) hand dhidebug
FUZZ_TARGETS += runtime_docker runtime_oci
FUZZ_RT_SRCS := $(filter injector/runtime/%,$(INJECTOR_SRCS)) common/err.c common/xalloc.c \
	common/fdio.c common/rfc3339.c common/membuf.c common/trust.c common/path.c common/syscalls.c
FUZZ_SRCS_runtime_docker := $(FUZZ_RT_SRCS)
FUZZ_SRCS_runtime_oci := $(FUZZ_RT_SRCS)
# (-Wno-format-nonliteral: clang flags common/err.c's err_vset, which lacks a format attribute)
FUZZ_LDFLAGS_runtime_docker := -Wno-format-nonliteral -ljansson -lcurl
FUZZ_LDFLAGS_runtime_oci := -Wno-format-nonliteral -ljansson -lcurl
# what registries and image references hand the toolbox code
FUZZ_TARGETS += toolbox
FUZZ_SRCS_toolbox := toolbox/ref.c toolbox/registry.c toolbox/layer.c common/path.c common/err.c \
	common/xalloc.c common/fdio.c common/syscalls.c common/membuf.c
FUZZ_LDFLAGS_toolbox := -Wno-format-nonliteral -ljansson -lcurl -lcrypto -larchive
FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

.SECONDEXPANSION:
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRCS_$$*)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LDFLAGS_$*) -o $@ $< $(FUZZ_SRCS_$*)

# $(call fuzz_run,<seconds>): every target in turn; its log is shown only when it fails.
fuzz_run = for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$t; \
		echo "  FUZZ    $$t for $(1) s"; \
		$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(1) -timeout=10 -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/$$t- $(BUILD)/fuzz/corpus/$$t \
			tests/fuzz/corpus/$$t > $(BUILD)/fuzz/$$t.log 2>&1 \
			|| { tail -n 60 $(BUILD)/fuzz/$$t.log; echo "fuzz $$t: FAILED"; exit 1; }; \
		echo "fuzz $$t: $$(sed -n 's/^stat::number_of_executed_units: *//p' \
			$(BUILD)/fuzz/$$t.log) runs, no crash, leak or sanitizer report"; \
	done

fuzz: $(FUZZ_BINS)
	$(Q)$(call fuzz_run,$(FUZZ_TIME))

check-fuzz: $(FUZZ_BINS)
	$(Q)$(call fuzz_run,$(FUZZ_SHORT_TIME))

# sanitizers need the shared runtime: no static link there. Leaks are not reported here:
# dhidebug is a command that exits, and what it holds until then (the target, the toolbox,
# history, filters) is left to exit; `make check` runs the unit tests and the fuzzers under
# LeakSanitizer, where every allocation must be freed.
asan:
	$(Q)ASAN_OPTIONS=detect_leaks=0 $(MAKE) --no-print-directory BUILD=build-san \
		SANITIZE=address,undefined STATIC=0 check

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(FIXTURES) $(TOOLBOX_ROOTFS)
	$(Q)DHIDEBUG=$(abspath $(DHIDEBUG)) scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(FIXTURES) $(TOOLBOX_ROOTFS) $(BUILD)/bench/resolve \
		$(BUILD)/bench/tbresolve
	$(Q)DHIDEBUG=$(abspath $(DHIDEBUG)) bench/run
	$(Q)DHIDEBUG=$(abspath $(DHIDEBUG)) bench/runtimes
	$(Q)DHIDEBUG=$(abspath $(DHIDEBUG)) bench/toolbox
	$(Q)DHIDEBUG=$(abspath $(DHIDEBUG)) bench/record
	$(Q)DHIDEBUG=$(abspath $(DHIDEBUG)) bench/sessions
	$(Q)DHIDEBUG=$(abspath $(DHIDEBUG)) bench/limits
	$(Q)DHIDEBUG=$(abspath $(DHIDEBUG)) bench/cp

# bench/toolbox times this: resolving a cached toolbox, linked as dhidebug is
$(BUILD)/bench/tbresolve: bench/tbresolve.c $(LIB_OBJS) $(STATIC_SRCS:%.c=$(BUILD)/obj/%.o)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LINK_MODE) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LIBS)

# bench/runtimes times this: dhidebug's target resolution alone, linked as dhidebug is
$(BUILD)/bench/resolve: bench/resolve.c $(LIB_OBJS) $(STATIC_SRCS:%.c=$(BUILD)/obj/%.o)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LINK_MODE) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LIBS)

# --- dhidebug's own image (images/dhidebug/Dockerfile, docs/dhidebug-image.md) ---
# The build stage has no npm: the player goes in with the context. IMAGE_ARGS go to the script
# (e.g. IMAGE_ARGS='--push oci-archive:dhidebug.tar'); the image's name is its last line.
.PHONY: player image
player: $(PLAYER_JS) $(PLAYER_CSS)
image: $(PLAYER_JS) $(PLAYER_CSS)
	$(Q)VERSION=$(VERSION) scripts/image.sh $(IMAGE_ARGS)

# the man pages, from their markdown sources
MAN_PAGES := $(BUILD)/man/dhidebug.1 $(BUILD)/man/kubectl-dhidebug.1
$(BUILD)/man/%.1: docs/%.1.md
	@mkdir -p $(dir $@)
	$(Q)go-md2man -in $< -out $@.tmp && mv $@.tmp $@
man: $(MAN_PAGES)

install: $(DHIDEBUG) $(KUBECTL_PLUGIN) $(MAN_PAGES)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 0755 $(DHIDEBUG) $(DESTDIR)$(PREFIX)/bin/dhidebug
	install -m 0755 $(KUBECTL_PLUGIN) $(DESTDIR)$(PREFIX)/bin/kubectl-dhidebug
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 completions/dhidebug.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/dhidebug
	install -m 0644 completions/_dhidebug $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_dhidebug

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
