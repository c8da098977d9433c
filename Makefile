# sbx - the one entry point: build, check, install, bench, demo, clean.
#
#   make            build build/sbx and build/sbx-import
#   make check      unit + integration (as root) + rootless + vm tests
#   make install    PREFIX=/usr/local DESTDIR=
#   make bench      side-by-side benchmarks, results in docs/benchmarks.md
#   make demo       one real sandbox on the default policy and host rootfs

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
B := build

CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
	-Wswitch-default -Wformat=2 -Wpointer-arith -Wcast-align -Wundef -Wvla \
	-Wno-missing-field-initializers
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
SBX_CFLAGS := -std=gnu11 $(WARN) $(HARDEN) -fvisibility=hidden -MMD -MP \
	-D_GNU_SOURCE -Iruntime/util -Iruntime -Iruntime/cli -Ipolicy -Irootfs-tools -I$(B)/gen

# Everything `sbx run` needs is linked statically: each shared object costs
# start-up time (measured in docs/benchmarks.md).  libarchive, which only an
# image import needs, is linked into the separate build/sbx-import.
STATIC_PKGS := libseccomp libcap libnl-route-3.0 libnl-3.0 yaml-0.1 jansson
ARCHIVE_PKGS := libarchive
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(STATIC_PKGS) $(ARCHIVE_PKGS) check 2>/dev/null)
STATIC_LIBS := -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs $(STATIC_PKGS) 2>/dev/null) -Wl,-Bdynamic \
	-lpthread -lm
SBX_LIBS := $(shell $(PKG_CONFIG) --libs $(STATIC_PKGS) 2>/dev/null) -lpthread -lm
ARCHIVE_LIBS := $(shell $(PKG_CONFIG) --libs $(ARCHIVE_PKGS) 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now $(LDFLAGS)

ALL_CFLAGS = $(SBX_CFLAGS) $(PKG_CFLAGS) $(CFLAGS)

UTIL_SRC := $(wildcard runtime/util/*.c)
RUNTIME_SRC := $(wildcard runtime/*.c)
POLICY_SRC := $(wildcard policy/*.c)
ROOTFS_SRC := $(filter-out rootfs-tools/archive%.c,$(wildcard rootfs-tools/*.c))
ARCHIVE_SRC := $(wildcard rootfs-tools/archive*.c)
CLI_SRC := $(filter-out runtime/cli/main.c runtime/cli/sbx-import.c,$(wildcard runtime/cli/*.c))
GEN_SRC := $(B)/gen/builtin-policies.c

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIB_OBJ := $(call obj,$(UTIL_SRC) $(RUNTIME_SRC) $(POLICY_SRC) $(ROOTFS_SRC)) \
	$(B)/obj/gen/builtin-policies.o
CLI_OBJ := $(call obj,$(CLI_SRC))
ARCHIVE_OBJ := $(call obj,$(ARCHIVE_SRC))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))

.PHONY: all check check-unit check-integration check-rootless check-vm check-fuzz \
	install uninstall bench demo clean format

all: $(B)/sbx $(B)/sbx-import

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/obj/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Built-in policies are YAML files compiled into the binary as data.
$(B)/gen/builtin-policies.c: scripts/embed-policies.sh $(wildcard policy/builtin/*.yaml)
	@mkdir -p $(dir $@)
	sh scripts/embed-policies.sh $(sort $(wildcard policy/builtin/*.yaml)) > $@.tmp && mv $@.tmp $@

# sbx itself is linked fully statically (glibc too): the dynamic loader
# costs every run about 0.7 ms.  nss-stubs.c says why it is safe.
SBX_MAIN_OBJ := $(B)/obj/runtime/cli/main.o $(B)/obj/runtime/cli/static/nss-stubs.o

# The built-in policies are compiled at build time by a first-stage sbx (the
# same code without them) and embedded in the final one, seccomp programs
# and whole plans (policy/precompiled.h): no libseccomp time for them, even
# on a first run, and no YAML parsing when `sbx run` uses one.
BUILTIN_NAMES := $(sort $(basename $(notdir $(wildcard policy/builtin/*.yaml))))

$(B)/sbx-stage1: $(SBX_MAIN_OBJ) $(CLI_OBJ) $(LIB_OBJ)
	$(CC) -static-pie -Wl,-z,relro,-z,now $(LDFLAGS) -o $@ $^ $(SBX_LIBS)

$(B)/gen/builtin-compiled.c: $(B)/sbx-stage1 scripts/embed-compiled.sh
	sh scripts/embed-compiled.sh $(B)/sbx-stage1 $(BUILTIN_NAMES) > $@.tmp && mv $@.tmp $@

$(B)/sbx: $(SBX_MAIN_OBJ) $(CLI_OBJ) $(LIB_OBJ) $(B)/obj/gen/builtin-compiled.o
	$(CC) -static-pie -Wl,-z,relro,-z,now $(LDFLAGS) -o $@ $^ $(SBX_LIBS)

$(B)/sbx-import: $(B)/obj/runtime/cli/sbx-import.o $(ARCHIVE_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(ARCHIVE_LIBS) $(STATIC_LIBS)

# Unit tests link the objects (not the exported API) so internals stay reachable.
$(B)/tests/%: tests/unit/%.c $(CLI_OBJ) $(ARCHIVE_OBJ) $(LIB_OBJ) $(B)/obj/gen/builtin-compiled.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS_ALL) -o $@ $(filter %.c %.o,$^) $(CHECK_LIBS) $(ARCHIVE_LIBS) $(STATIC_LIBS)

check: check-unit check-integration check-rootless check-vm check-fuzz

check-unit: $(UNIT_BIN)
	sh scripts/run-unit.sh $(UNIT_BIN)

check-integration: all
	bash tests/integration/run.sh
	bash tests/integration/image.sh

check-rootless: all
	bash tests/integration/rootless.sh

check-vm: all
	bash tests/vm/run.sh

check-fuzz:
	$(MAKE) -f tests/fuzz/Makefile replay

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)/sbx $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(B)/sbx $(DESTDIR)$(BINDIR)/sbx
	install -m 0755 $(B)/sbx-import $(DESTDIR)$(LIBEXECDIR)/sbx/sbx-import
	install -m 0644 $(wildcard docs/*.1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(wildcard docs/*.5) $(DESTDIR)$(MANDIR)/man5/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sbx $(DESTDIR)$(LIBEXECDIR)/sbx/sbx-import
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard docs/*.1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard docs/*.5)))

bench: all
	bash scripts/bench.sh

demo: all
	$(B)/sbx run --json $(B)/demo-result.json -- /bin/sh -c '\
		echo "hello from $$(hostname) as $$(id -un) (uid $$(id -u)) in $$(pwd)"; \
		echo "network interfaces: $$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " ")"; \
		grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status | tr "\n" " "; echo; \
		command -v python3 >/dev/null && python3 -c "print(\"python3 runs:\", 6 * 7)"; \
		unshare -U true 2>&1 | head -1'
	@echo "result record: $(B)/demo-result.json"

format:
	clang-format -i $(wildcard runtime/*.[ch] runtime/*/*.[ch] policy/*.[ch] rootfs-tools/*.[ch] \
		tests/unit/*.[ch] tests/bench/*.[ch] tests/fuzz/*.[ch])

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
