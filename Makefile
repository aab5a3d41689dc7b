# Coffer build. `make` builds ./coffer; `make check` runs every test (unit, unit under
# ASan+UBSan, a short libFuzzer run of every parser, FUSE integration); `make fuzz` fuzzes every
# parser for FUZZ_SECONDS each; `make deps` installs missing Debian packages.
PREFIX ?= /usr/local
# mount(8) looks for the helper mount.fuse.coffer in /sbin only; the rest follows PREFIX.
SBINDIR ?= /sbin
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUSERDIR ?= $(PREFIX)/lib/systemd/user
CC ?= cc
PKGS := fuse3 libsodium libcurl libxml-2.0
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I. $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -lpthread
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC := $(wildcard lib/*.c) $(wildcard crypto/*.c) $(wildcard format/*.c) $(wildcard cache/*.c) \
	$(wildcard fs/*.c) $(wildcard sync/*.c) $(wildcard sync/remote/*.c)
CLI_SRC := $(wildcard cli/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
HDR := $(wildcard */*.h sync/remote/*.h tests/unit/*.h)
LIB_OBJ := $(LIB_SRC:%.c=build/%.o)
CLI_OBJ := $(CLI_SRC:%.c=build/%.o)
SAN_OBJ := $(LIB_SRC:%.c=build/san/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
UNIT_SAN_BIN := $(UNIT_SRC:tests/unit/%.c=build/san/tests/%)
# libFuzzer targets (tests/fuzz/fuzz_*.c), built with clang against an instrumented library.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)

.SECONDARY:
.PHONY: all check unit unit-asan integration deps install clean format fuzz fuzz-smoke fuzz-seeds

all: coffer

coffer: $(LIB_OBJ) $(CLI_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

build/san/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -c -o $@ $<

build/tests/%: tests/unit/%.c $(LIB_OBJ) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

build/san/tests/%: tests/unit/%.c $(SAN_OBJ) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -o $@ $< $(SAN_OBJ) $(LDLIBS)

unit: $(UNIT_BIN)
	@tests/unit/run.sh $(UNIT_BIN)

unit-asan: $(UNIT_SAN_BIN)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/unit/run.sh $(UNIT_SAN_BIN)

build/fuzz/obj/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/libcoffer.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h build/fuzz/libcoffer.a
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< build/fuzz/libcoffer.a $(LDLIBS)

# The in-process measurement of the inode table's memory (bench/mem.sh runs it).
build/bench/mem_bench: bench/mem_bench.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

build/tests/fuzz_seeds: tests/fuzz/seeds.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

# Every target for FUZZ_SECONDS each; fuzz-smoke (in check) for a few seconds each. Both fail on
# a crash, whose input lands in build/fuzz/crashes/.
fuzz: $(FUZZ_BIN)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-smoke: $(FUZZ_BIN)
	@tests/fuzz/run.sh 2 $(FUZZ_BIN)

# Rewrites the seed corpora (tests/fuzz/corpus/) from the real encoders.
fuzz-seeds: build/tests/fuzz_seeds
	build/tests/fuzz_seeds tests/fuzz/corpus

integration: coffer
	@tests/integration/run.sh

check: coffer unit unit-asan fuzz-smoke integration

deps:
	@tests/deps.sh

install: coffer
	install -D -m 755 coffer $(DESTDIR)$(PREFIX)/bin/coffer
	install -D -m 644 man/coffer.1 $(DESTDIR)$(PREFIX)/share/man/man1/coffer.1
	install -D -m 644 man/coffer-format.5 $(DESTDIR)$(PREFIX)/share/man/man5/coffer-format.5
	install -d $(DESTDIR)$(SBINDIR)
	ln -sf $(PREFIX)/bin/coffer $(DESTDIR)$(SBINDIR)/mount.fuse.coffer
	ln -sf $(PREFIX)/bin/coffer $(DESTDIR)$(SBINDIR)/umount.fuse.coffer
	install -d $(DESTDIR)$(PREFIX)/share/man/man8
	ln -sf ../man1/coffer.1 $(DESTDIR)$(PREFIX)/share/man/man8/mount.fuse.coffer.8
	ln -sf ../man1/coffer.1 $(DESTDIR)$(PREFIX)/share/man/man8/umount.fuse.coffer.8
	install -D -m 644 tools/coffer.bash-completion $(DESTDIR)$(BASHCOMPDIR)/coffer
	install -d $(DESTDIR)$(SYSTEMDUSERDIR)
	sed 's|/usr/bin/coffer|$(PREFIX)/bin/coffer|g' tools/coffer@.service >$(DESTDIR)$(SYSTEMDUSERDIR)/coffer@.service

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) $(UNIT_SRC) $(HDR) $(FUZZ_SRC) tests/fuzz/*.h tests/fuzz/seeds.c

clean:
	rm -rf build coffer
