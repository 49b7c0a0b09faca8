# dmtool: library, command-line tool, kernel module, tests and benchmarks.
#
#   make                  build the library, dmtool and the kernel module
#   make check            unit tests on the host, then integration tests on
#                         a real kernel (MODE=auto|guest|native)
#   make demo             the classic sparse-file failure and dmtool's answer
#   make bench            fio benchmarks of every layering (bench/run)
#   make install          install to $(DESTDIR)$(PREFIX)
#
# KDIR selects the kernel build tree for the module; by default it is the
# running kernel's when tests run natively, else the test guest's kernel.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= /etc/systemd/system
MODE ?= auto

BUILD := build
CC ?= cc
# V=1 prints every command.
Q := $(if $(filter 1,$(V)),,@)
CFLAGS ?= -O2 -g
WERROR ?= 1

PKGS := devmapper libcryptsetup json-c blkid libkmod
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wvla $(if $(filter 1,$(WERROR)),-Werror)
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC $(WARNINGS) $(CFLAGS) \
	-Idmtool/include -Idmtool/lib $(PKG_CFLAGS) -MMD -MP
LDLIBS := $(PKG_LIBS) -lpthread

LIB_SOURCES := $(sort $(wildcard dmtool/lib/*.c))
CLI_SOURCES := $(sort $(wildcard dmtool/cli/*.c))
UNIT_SOURCES := $(sort $(wildcard tests/unit/test_*.c))
HELPER_SOURCES := $(sort $(wildcard tests/helpers/*.c))

LIB_OBJECTS := $(LIB_SOURCES:%.c=$(BUILD)/obj/%.o)
CLI_OBJECTS := $(CLI_SOURCES:%.c=$(BUILD)/obj/%.o)
UNIT_BINARIES := $(UNIT_SOURCES:tests/unit/%.c=$(BUILD)/tests/unit/%)
HELPER_BINARIES := $(HELPER_SOURCES:tests/helpers/%.c=$(BUILD)/tests/helpers/%)

STATIC_LIB := $(BUILD)/libdmtool.a
SHARED_LIB := $(BUILD)/libdmtool.so.0
CLI := $(BUILD)/bin/dmtool

SELECTED_MODE = $(shell scripts/select-mode $(MODE))
KVERSION = $(if $(filter native,$(SELECTED_MODE)),$(shell uname -r),$(shell scripts/kernel-version))
KDIR ?= /lib/modules/$(KVERSION)/build
MODULE := kmod/dm-space-guard.ko

.SECONDARY:

.PHONY: all userspace module check check-unit check-integration demo bench \
	install uninstall clean deps

all: userspace module

userspace: $(STATIC_LIB) $(SHARED_LIB) $(CLI) $(UNIT_BINARIES) $(HELPER_BINARIES)

deps:
	scripts/install-deps

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(STATIC_LIB): $(LIB_OBJECTS)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

# Binaries are linked under a temporary name and renamed into place, so a
# test or monitor starting during a rebuild never runs a half-written file.
$(SHARED_LIB): $(LIB_OBJECTS)
	$(Q)$(CC) -shared -Wl,-soname,libdmtool.so.0 -o $@.tmp $^ $(LDLIBS)
	@mv $@.tmp $@

$(CLI): $(CLI_OBJECTS) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) -o $@.tmp $(CLI_OBJECTS) $(STATIC_LIB) $(LDLIBS)
	@mv $@.tmp $@

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -o $@.tmp $< $(STATIC_LIB) $(LDLIBS) $(shell pkg-config --libs cmocka)
	@mv $@.tmp $@

$(BUILD)/tests/helpers/%: $(BUILD)/obj/tests/helpers/%.o $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -o $@.tmp $< $(STATIC_LIB) $(LDLIBS)
	@mv $@.tmp $@

# kbuild writes its products next to the sources in kmod/.
module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

check-unit: userspace
	scripts/run-unit-tests $(UNIT_BINARIES)

check-integration: all
	scripts/run-integration --mode $(MODE)

check: all
	scripts/check --mode $(MODE) $(UNIT_BINARIES)

demo: all
	scripts/demo --mode $(MODE)

bench: all
	bench/run --mode $(MODE) $(BENCH_ARGS)

install: all
	install -D -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/dmtool
	install -D -m 0644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/libdmtool.a
	install -D -m 0755 $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/libdmtool.so.0
	ln -sf libdmtool.so.0 $(DESTDIR)$(LIBDIR)/libdmtool.so
	install -D -m 0644 dmtool/include/dmtool.h $(DESTDIR)$(INCLUDEDIR)/dmtool.h
	install -D -m 0644 docs/dmtool.8 $(DESTDIR)$(MANDIR)/man8/dmtool.8
	install -D -m 0644 scripts/dmtool-watch@.service $(DESTDIR)$(UNITDIR)/dmtool-watch@.service
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) modules_install

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/dmtool $(DESTDIR)$(LIBDIR)/libdmtool.a \
		$(DESTDIR)$(LIBDIR)/libdmtool.so.0 $(DESTDIR)$(LIBDIR)/libdmtool.so \
		$(DESTDIR)$(INCLUDEDIR)/dmtool.h $(DESTDIR)$(MANDIR)/man8/dmtool.8 \
		$(DESTDIR)$(UNITDIR)/dmtool-watch@.service

clean:
	rm -rf $(BUILD)/obj $(BUILD)/bin $(BUILD)/tests $(STATIC_LIB) $(SHARED_LIB)
	if [ -e $(KDIR)/Makefile ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
