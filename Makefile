# hostd — build, test, install, demo, bench, fuzz.
#
#   make                      hostd and hostctl (into build/)
#   make check                every test: unit (plain and ASan+UBSan) + integration
#   make check-unit           cmocka unit tests only
#   make check SANITIZE=address,undefined
#   make install PREFIX=/usr DESTDIR=/tmp/root
#   make bench | fuzz | demo
#
# Dependencies come from pkg-config; `make deps` (run by check/demo/bench)
# installs the Debian packages that are missing. Flags are read when a recipe
# first needs them, after `deps`, never when this file is parsed: on a fresh
# machine the packages only exist once `deps` has run.

VERSION := 0.1.0
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
# private programs: hostd-patch-worker
LIBEXECDIR ?= $(PREFIX)/lib/hostd
SYSCONFDIR ?= /etc
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
# from systemd's .pc file; without one (a build box without systemd),
# where Debian puts them
UNITDIR ?= $(or $(call pkg_optional_variable,systemdsystemunitdir,systemd),/lib/systemd/system)
TMPFILESDIR ?= $(or $(call pkg_optional_variable,tmpfilesdir,systemd),/usr/lib/tmpfiles.d)
COMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
DESTDIR ?=

CC ?= cc
CXX ?= c++
CLANG ?= clang
PKG_CONFIG ?= pkg-config
SANITIZE ?=

ifeq ($(SANITIZE),)
BUILD ?= build
else
BUILD ?= build/san-$(subst $(comma),-,$(SANITIZE))
endif
comma := ,

PKGS := libsystemd jansson libcurl libmicrohttpd libnftnl libmnl libseccomp gnutls rpm libxml-2.0
# the Debian package of each module, for the error that names a missing one
DEB_libsystemd := libsystemd-dev
DEB_jansson := libjansson-dev
DEB_libcurl := libcurl4-gnutls-dev
DEB_libmicrohttpd := libmicrohttpd-dev
DEB_libnftnl := libnftnl-dev
DEB_libmnl := libmnl-dev
DEB_libseccomp := libseccomp-dev
DEB_gnutls := libgnutls28-dev
DEB_rpm := librpm-dev
DEB_libxml-2.0 := libxml2-dev
DEB_cmocka := libcmocka-dev

# $(call pkg_flags,--cflags,MODULES): pkg-config's answer, or a stop naming
# each module it cannot find and the package that has it.
pkg_have = $(shell command -v $(PKG_CONFIG) >/dev/null && $(PKG_CONFIG) --exists $(1) && echo yes)
pkg_missing = $(strip $(foreach m,$(1),$(if $(call pkg_have,$(m)),,$(m))))
pkg_name_deb = $(1)$(if $(DEB_$(1)), (Debian package $(DEB_$(1))))
pkg_check = $(if $(call pkg_missing,$(1)),$(error pkg-config ($(PKG_CONFIG)) cannot find: \
	$(foreach m,$(call pkg_missing,$(1)),$(call pkg_name_deb,$(m))); run `make deps` as root to install them))
pkg_flags = $(call pkg_check,$(2))$(shell $(PKG_CONFIG) $(1) $(2))
pkg_optional_variable = $(if $(call pkg_have,$(2)),$(shell $(PKG_CONFIG) --variable=$(1) $(2)))
# libapt-pkg's .pc file, where the -dev package has one
apt_libs = $(if $(call pkg_have,apt-pkg),$(shell $(PKG_CONFIG) --libs apt-pkg),-lapt-pkg)
# A variable set on first use and kept: pkg-config runs once per make, not
# once per compiler call.
PKG_CFLAGS = $(eval PKG_CFLAGS := $(call pkg_flags,--cflags,$(PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $(call pkg_flags,--libs,$(PKGS)) $(apt_libs) -lstdc++ -lm)$(PKG_LIBS)
CMOCKA_LIBS = $(eval CMOCKA_LIBS := $(call pkg_flags,--libs,cmocka))$(CMOCKA_LIBS)

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wpointer-arith -Wvla -Wno-missing-field-initializers
BASE_CFLAGS := -std=gnu11 -g -O2 -D_GNU_SOURCE -DHOSTD_VERSION='"$(VERSION)"' -DHOSTD_DATADIR='"$(DATADIR)"' \
	-DHOSTD_LIBEXECDIR='"$(LIBEXECDIR)"' \
	-I. $(WARNINGS) -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
ifneq ($(SANITIZE),)
BASE_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(BASE_CFLAGS)) -O1 \
	-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_LDFLAGS := -fsanitize=$(SANITIZE)
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(PKG_CFLAGS) $(CFLAGS)
# the libapt-pkg shim, the only C++: same warnings where they apply to C++
ALL_CXXFLAGS := -std=c++17 $(filter-out -std=gnu11 -Wmissing-prototypes -Wstrict-prototypes,$(BASE_CFLAGS)) $(CXXFLAGS)
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now $(SAN_LDFLAGS) $(LDFLAGS)

# Everything but the two programs' main files goes into one static library
# that the programs, unit tests and fuzzers link.
MAINS := hostd/hostd-main.c
WORKER_MAIN := hostd/hostctl/patch-worker-main.c
HOSTCTL_SRCS := $(sort $(filter-out $(WORKER_MAIN),$(wildcard hostd/hostctl/*.c)))
LIB_SRCS := $(sort $(wildcard common/*.c policy/*.c firewall/*.c patching/*.c) \
	$(filter-out $(MAINS),$(wildcard hostd/*.c)))
LIB_CXX_SRCS := $(wildcard patching/*.cc)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB_CXX_SRCS:%.cc=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libhostd.a

UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
ITEST_SRCS := $(sort $(wildcard tests/integration/*-client.c))
ITEST_BINS := $(ITEST_SRCS:tests/integration/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)

.PHONY: all deps check-build demo-build check fuzz-replies check-layering check-unit check-unit-san check-integration check-integration-san e2e-wave install \
	uninstall bench fuzz fuzz-build demo clean tests dist deb rpm syscall-table
.DEFAULT_GOAL := all
# a recipe that fails leaves no target behind (a half-linked fuzzer would
# look up to date); keep objects that pattern chains would otherwise delete
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/hostd $(BUILD)/hostctl $(BUILD)/hostd-patch-worker

deps:
	@scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/hostd: $(BUILD)/obj/hostd/hostd-main.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# hostctl links only the libraries its objects use (--as-needed): no
# package manager (its --root operations run hostd-patch-worker) and no TLS
# stack, so that it starts in a millisecond rather than fifteen.
$(BUILD)/hostctl: $(HOSTCTL_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB)
	$(CC) $(ALL_LDFLAGS) -Wl,--as-needed -o $@ $^ $(PKG_LIBS)

$(BUILD)/hostd-patch-worker: $(BUILD)/obj/hostd/hostctl/patch-worker-main.o \
		$(BUILD)/obj/hostd/hostctl/patch-args.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# what the unit tests share: a fake Docker Engine on a Unix socket
UNIT_HELPER_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c)))

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/%-client: $(BUILD)/obj/tests/integration/%-client.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

BENCH_SRCS := tests/bench/seccomp-compile.c tests/bench/connect-rate.c tests/bench/seccomp-path.c
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%) $(BUILD)/bench/nft-inprocess

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# libnftables is the benchmark's peer only: hostd itself never links it
$(BUILD)/bench/nft-inprocess: tests/bench/nft-inprocess.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $$(pkg-config --cflags --libs libnftables)

tests: all $(UNIT_BINS) $(ITEST_BINS)

# Docker's and Podman's own profiles, which test-seccomp-bpf compiles both ways.
check-unit: $(UNIT_BINS)
	@tests/harness/upstream-profiles.sh build/upstream
	@HOSTD_UPSTREAM=build/upstream tests/run-unit.sh $(UNIT_BINS)

# The layering rule of the README's design section: no library includes
# hostd/, no include or call cycle between modules (from the objects).
check-layering: all
	@python3 tests/check-layering.py $(BUILD)

# The unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
check-unit-san:
	@$(MAKE) --no-print-directory SANITIZE=address,undefined check-unit

check-integration: tests
	@BUILD=$(BUILD) tests/run-integration.sh

# The integration tests of the firewall, the daemon, patching and the node
# protocol again, against hostd, hostctl and the test clients built with
# ASan+UBSan: a report from any of their processes fails the test.
SAN_ITESTS ?= test-firewall test-firewall-durable test-daemon test-patch-apt test-patch-rpm test-patch-faults test-wave-protocol
SAN_BUILD := build/san-address-undefined
check-integration-san:
	@$(MAKE) --no-print-directory SANITIZE=address,undefined tests
	@BUILD=$(SAN_BUILD) HOSTD_SANITIZED=1 TESTS="$(SAN_ITESTS)" tests/run-integration.sh

# Patch waves end to end on a real 4-node Swarm (also part of check).
e2e-wave: demo-build
	@BUILD=$(BUILD) tests/integration/test-wave-e2e.sh

# Each fuzzer briefly, so a parser change that crashes on known seeds or
# shallow mutations fails the suite; `make fuzz` runs them longer.
FUZZ_SMOKE_SECONDS ?= 10

# What `make check` builds before it runs anything, and what `make demo`
# builds: each a new make, so that pkg-config is asked after `deps` has
# installed the packages (tests/integration/test-fresh-root.sh runs both as
# the first command on a fresh Debian 12 root).
check-build: deps
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory SANITIZE=address,undefined tests
	@$(MAKE) --no-print-directory fuzz-build

demo-build: deps
	@$(MAKE) --no-print-directory all

ifeq ($(SANITIZE),)
check: check-build
	@$(MAKE) --no-print-directory check-layering
	@$(MAKE) --no-print-directory check-unit
	@$(MAKE) --no-print-directory check-unit-san
	@tests/fuzz/run.sh --seconds $(FUZZ_SMOKE_SECONDS) $(FUZZ_BINS)
	@$(MAKE) --no-print-directory check-integration
	@$(MAKE) --no-print-directory check-integration-san
else
check: deps
	@$(MAKE) --no-print-directory check-unit
	@HOSTD_SANITIZED=1 $(MAKE) --no-print-directory check-integration
endif

# libFuzzer harnesses, built with clang; `make fuzz` runs each for FUZZ_RUNS
# executions. Undefined behaviour aborts like any other finding.
FUZZ_RUNS ?= 10000000
FUZZ_CFLAGS = -std=gnu11 -g -O1 -D_GNU_SOURCE -DHOSTD_VERSION='"$(VERSION)"' -I. $(PKG_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The fuzzers link the library's objects built again with the fuzzer's
# instrumentation; each harness pulls in only the objects it uses.
FUZZ_LIB := build/fuzz/libhostd-fuzz.a
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=build/fuzz/obj/%.o) $(LIB_CXX_SRCS:%.cc=build/fuzz/obj/%.o)
FUZZ_CXXFLAGS = -std=c++17 -g -O1 -D_GNU_SOURCE -I. -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=vptr,function \
	-fno-sanitize-recover=all -fno-omit-frame-pointer

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(subst -fsanitize=fuzzer$(comma),-fsanitize=fuzzer-no-link$(comma),$(FUZZ_CFLAGS)) -MMD -MP -c -o $@ $<

build/fuzz/obj/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CLANG)++ $(FUZZ_CXXFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $^ $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

# policy/syscall-table.c again, from a libseccomp git checkout
# (LIBSECCOMP=DIR): README, "The syscall table".
syscall-table:
	@test -n "$(LIBSECCOMP)" || { echo "make syscall-table LIBSECCOMP=DIR (a git checkout of libseccomp)" >&2; exit 2; }
	python3 scripts/gen-syscall-table.py $(LIBSECCOMP) >policy/syscall-table.c.new
	mv policy/syscall-table.c.new policy/syscall-table.c

# The kernel replies fuzz-nft-readback starts from, recorded again (after a
# change of the table hostd builds), in a network namespace of its own.
$(BUILD)/tests/nft-record: $(BUILD)/obj/tests/fuzz/nft-record.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

fuzz-replies: $(BUILD)/tests/nft-record
	@ip netns add hostd-nft-record
	@nsenter --net=/var/run/netns/hostd-nft-record $(BUILD)/tests/nft-record tests/fuzz/nft-replies; \
		rc=$$?; ip netns delete hostd-nft-record; exit $$rc

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@tests/fuzz/run.sh --runs $(FUZZ_RUNS) $(FUZZ_BINS)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@BUILD=$(BUILD) tests/bench/run.sh

demo: demo-build
	@BUILD=$(BUILD) scripts/demo.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/hostd $(DESTDIR)$(SBINDIR)/hostd
	install -m 0755 $(BUILD)/hostctl $(DESTDIR)$(BINDIR)/hostctl
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(BUILD)/hostd-patch-worker $(DESTDIR)$(LIBEXECDIR)/hostd-patch-worker
	install -d $(DESTDIR)$(DATADIR)/hostd/seccomp
	install -m 0644 policy/profiles/hostd-hardened.json policy/profiles/docker-default.json $(DESTDIR)$(DATADIR)/hostd/seccomp/
	install -d $(DESTDIR)$(SYSCONFDIR)/hostd
	test -e $(DESTDIR)$(SYSCONFDIR)/hostd/hostd.json || \
		install -m 0644 packaging/hostd.json $(DESTDIR)$(SYSCONFDIR)/hostd/hostd.json
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(COMPLETIONDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 packaging/hostd.service packaging/hostd-firewall.service $(DESTDIR)$(UNITDIR)/
	install -m 0644 packaging/hostd.tmpfiles $(DESTDIR)$(TMPFILESDIR)/hostd.conf
	install -m 0644 packaging/hostctl.bash-completion $(DESTDIR)$(COMPLETIONDIR)/hostctl
	install -m 0644 packaging/man/hostd.8 packaging/man/hostctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 packaging/man/hostd.json.5 $(DESTDIR)$(MANDIR)/man5/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/hostd $(DESTDIR)$(BINDIR)/hostctl $(DESTDIR)$(LIBEXECDIR)/hostd-patch-worker
	-rmdir $(DESTDIR)$(LIBEXECDIR)
	rm -rf $(DESTDIR)$(DATADIR)/hostd
	rm -f $(DESTDIR)$(UNITDIR)/hostd.service $(DESTDIR)$(UNITDIR)/hostd-firewall.service \
		$(DESTDIR)$(TMPFILESDIR)/hostd.conf $(DESTDIR)$(COMPLETIONDIR)/hostctl \
		$(DESTDIR)$(MANDIR)/man8/hostd.8 $(DESTDIR)$(MANDIR)/man8/hostctl.8 $(DESTDIR)$(MANDIR)/man5/hostd.json.5

# The packages, from the files git knows (tracked and new, not ignored) of
# this tree: build/hostd_$(VERSION)_*.deb and build/hostd-$(VERSION)-*.rpm.
DIST := build/dist/hostd-$(VERSION)
dist:
	rm -rf build/dist && mkdir -p $(DIST)
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t $(DIST)
	tar -C build/dist -czf build/hostd-$(VERSION).tar.gz hostd-$(VERSION)

deb: deps dist
	cp -r packaging/debian $(DIST)/debian
	cd $(DIST) && dpkg-buildpackage -b -us -uc
	mv build/dist/hostd_$(VERSION)_*.deb build/
	@ls build/hostd_$(VERSION)_*.deb

rpm: deps dist
	mkdir -p build/rpm/SOURCES
	cp build/hostd-$(VERSION).tar.gz build/rpm/SOURCES/
	rpmbuild -bb --nodeps --define "_topdir $(CURDIR)/build/rpm" --define "version $(VERSION)" packaging/rpm/hostd.spec
	cp build/rpm/RPMS/*/hostd-$(VERSION)-*.rpm build/
	@ls build/hostd-$(VERSION)-*.rpm

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj build/fuzz/obj -name '*.d' 2>/dev/null)
