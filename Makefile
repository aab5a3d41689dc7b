# Coffer build. `make` builds ./coffer; `make check` runs every test (unit, unit under
# ASan+UBSan, FUSE integration); `make deps` installs missing Debian packages.
PREFIX ?= /usr/local
CC ?= cc
PKGS := fuse3 libsodium libcurl libxml-2.0
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I. $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -lpthread
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC := $(wildcard lib/*.c) $(wildcard crypto/*.c) $(wildcard format/*.c) $(wildcard fs/*.c) \
	$(wildcard sync/*.c)
CLI_SRC := $(wildcard cli/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
LIB_OBJ := $(LIB_SRC:%.c=build/%.o)
CLI_OBJ := $(CLI_SRC:%.c=build/%.o)
SAN_OBJ := $(LIB_SRC:%.c=build/san/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
UNIT_SAN_BIN := $(UNIT_SRC:tests/unit/%.c=build/san/tests/%)

.SECONDARY:
.PHONY: all check unit unit-asan integration deps install clean format

all: coffer

coffer: $(LIB_OBJ) $(CLI_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/%.o: %.c $(wildcard */*.h tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

build/san/%.o: %.c $(wildcard */*.h tests/unit/*.h)
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

integration: coffer
	@tests/integration/run.sh

check: coffer unit unit-asan integration

deps:
	@tests/deps.sh

install: coffer
	install -D -m 755 coffer $(DESTDIR)$(PREFIX)/bin/coffer
	install -D -m 644 man/coffer.1 $(DESTDIR)$(PREFIX)/share/man/man1/coffer.1
	install -D -m 644 man/coffer-format.5 $(DESTDIR)$(PREFIX)/share/man/man5/coffer-format.5

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) $(UNIT_SRC) $(wildcard */*.h tests/unit/*.h)

clean:
	rm -rf build coffer
