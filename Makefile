# probity — see README.md. `make` builds ./probity; `make check` runs every
# test (release build and ASan+UBSan build); `make demo` installs what is
# missing, builds and runs the end-to-end demonstration.

# `make` with no target builds ./probity (the first rule would otherwise be
# a build/ object).
.DEFAULT_GOAL := probity

CC      ?= cc
WARN    := -std=c11 -Wall -Wextra -Wpedantic -Werror
DEFS    := -D_GNU_SOURCE
CFLAGS  ?= -O2 -g
LDLIBS  := -lmicrohttpd -lsystemd -lcurl -lsqlite3 -ljansson -larchive -lz -lcrypto -lpthread
TLIBS   :=
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all

LIB_SRC  := $(sort $(wildcard src/base/*.c src/log/*.c src/ingest/*.c src/audit/*.c src/writer/*.c src/net/*.c))
CLI_SRC  := $(sort $(wildcard src/cmd/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_SUP := $(sort $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c)))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
HDRS     := $(wildcard include/probity/*.h src/*/*.h tests/unit/*.h tests/fuzz/*.h)

# $(1) = build kind (rel|san), $(2) = extra flags
define build_rules
build/$(1)/lib/%.o: src/%.c $(HDRS) | build/$(1)/lib build/$(1)/cli build/$(1)/tests build/$(1)/fuzz
	@mkdir -p $$(@D)
	$$(CC) $$(WARN) $$(DEFS) $$(CPPFLAGS) $(2) -Iinclude -Isrc -c $$< -o $$@
build/$(1)/cli/%.o: src/cmd/%.c $(HDRS) | build/$(1)/cli
	$$(CC) $$(WARN) $$(DEFS) $$(CPPFLAGS) $(2) -Iinclude -Isrc -c $$< -o $$@
build/$(1)/libprobity.a: $(patsubst src/%.c,build/$(1)/lib/%.o,$(LIB_SRC))
	rm -f $$@ && ar rcs $$@ $$^
build/$(1)/probity: $(patsubst src/cmd/%.c,build/$(1)/cli/%.o,$(CLI_SRC)) build/$(1)/libprobity.a
	$$(CC) $(2) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
build/$(1)/tests/%: tests/unit/%.c $(UNIT_SUP) build/$(1)/libprobity.a $(HDRS) | build/$(1)/tests
	$$(CC) $$(WARN) $$(DEFS) $(2) -Iinclude -Isrc -Itests/unit -o $$@ $$< $(UNIT_SUP) build/$(1)/libprobity.a $$(TLIBS) $$(LDLIBS)
build/$(1)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c build/$(1)/libprobity.a $(HDRS) | build/$(1)/fuzz
	$$(CC) $$(WARN) $$(DEFS) $(2) -Iinclude -Isrc -o $$@ $$< tests/fuzz/replay.c build/$(1)/libprobity.a $$(LDLIBS)
build/$(1)/gen-events: bench/gen_events.c | build/$(1)/lib
	$$(CC) $$(WARN) $(2) -o $$@ $$<
build/$(1)/lib build/$(1)/cli build/$(1)/tests build/$(1)/fuzz:
	mkdir -p $$@
$(1)-all: build/$(1)/probity build/$(1)/gen-events \
	$(patsubst tests/unit/%.c,build/$(1)/tests/%,$(UNIT_SRC)) \
	$(patsubst tests/fuzz/%.c,build/$(1)/fuzz/%,$(FUZZ_SRC))
endef

# probity audit's default --policies when the program is not installed
# (no ../share/probity/policies beside it): the pack in this tree. Empty
# for a package build (debian/rules), which must not name its build tree.
SOURCE_POLICIES ?= $(CURDIR)/policies
build/rel/cli/cmd_audit.o build/san/cli/cmd_audit.o: DEFS += -DPRB_SOURCE_POLICY_DIR='"$(SOURCE_POLICIES)"'

# probity --version: the file VERSION is the one place the version is kept.
build/rel/cli/main.o build/san/cli/main.o: VERSION
build/rel/cli/main.o build/san/cli/main.o: DEFS += -DPRB_VERSION='"$(shell cat VERSION)"'

$(eval $(call build_rules,rel,$(CFLAGS)))
$(eval $(call build_rules,san,$(SANFLAGS)))

.PHONY: all deps check check-rel check-san demo bench bench-audit fuzz clean rel-all san-all \
	install uninstall man

all: probity

probity: build/rel/probity
	cp $< $@.tmp && mv -f $@.tmp $@

deps:
	@sh scripts/deps.sh

# Every test, twice: the release build, then under ASan and UBSan.
check: deps
	$(MAKE) rel-all san-all probity
	sh tests/run.sh build/rel build/san

check-rel: rel-all probity
	sh tests/run.sh build/rel

demo: deps
	$(MAKE) probity build/rel/gen-events
	sh scripts/demo.sh

# bench/s3 skips (one line) where Ceph is not installed.
# bench/ingest first: the audit benchmark deletes its log (~8,000 files) at
# the end, and ext4 without a journal then makes new files slow for minutes.
bench: probity build/rel/gen-events
	sh bench/ingest
	sh bench/audit
	sh bench/s3

bench-audit: probity build/rel/gen-events
	sh bench/audit

# Coverage-guided fuzzing with libFuzzer (clang); FUZZ_SECONDS per harness.
FUZZ_SECONDS ?= 60
fuzz: build/rel/libprobity.a
	sh tests/fuzz/run-libfuzzer.sh $(FUZZ_SECONDS)

clean:
	rm -rf build probity

# ---- make install / make uninstall (README "Install") ----
# PREFIX, DESTDIR and the directories below as the GNU conventions have
# them; BIN is the program installed (and documented).
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
DOCDIR  ?= $(DATADIR)/doc/probity
MANDIR  ?= $(DATADIR)/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
BIN     ?= probity
MANBUILD ?= build/man

INSTALL ?= install
POLICY_FILES := $(notdir $(sort $(wildcard policies/*.sql)))
DOC_FILES    := $(notdir $(sort $(wildcard docs/*.md)))
# The subcommands (the table in main.c): a man page each.
COMMANDS  := $(shell sed -n 's/^[[:space:]]*{"\([a-z-]*\)", *cmd_.*/\1/p' src/cmd/main.c)
MAN_PAGES := probity.1 $(COMMANDS:%=probity-%.1)
UNITS     := probity-serve@.service probity-witness@.service
EXAMPLES  := serve.conf.example witness.conf.example

# The man pages, made by help2man from the program's --help and
# --version (scripts/manpages.sh) and man/*.h2m.
man: $(MANBUILD)/probity.1
$(MANBUILD)/probity.1: $(BIN) scripts/manpages.sh $(wildcard man/*.h2m)
	sh scripts/manpages.sh $(BIN) $(MANBUILD)
$(COMMANDS:%=$(MANBUILD)/probity-%.1): $(MANBUILD)/probity.1

# Every file install writes, as DESTDIR-less paths: uninstall removes
# exactly these, then the directories of ours left empty.
INSTALLED = $(BINDIR)/probity \
	$(POLICY_FILES:%=$(DATADIR)/probity/policies/%) \
	$(DOCDIR)/README.md $(DOC_FILES:%=$(DOCDIR)/docs/%) \
	$(MAN_PAGES:%=$(MANDIR)/man1/%) $(UNITS:%=$(UNITDIR)/%) \
	$(EXAMPLES:%=$(DOCDIR)/examples/%)
OUR_DIRS = $(DATADIR)/probity/policies $(DATADIR)/probity $(DOCDIR)/docs \
	$(DOCDIR)/examples $(DOCDIR)

install: $(BIN) $(MAN_PAGES:%=$(MANBUILD)/%)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/probity/policies \
		$(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 755 $(BIN) $(DESTDIR)$(BINDIR)/probity
	$(INSTALL) -m 644 $(POLICY_FILES:%=policies/%) $(DESTDIR)$(DATADIR)/probity/policies
	$(INSTALL) -m 644 README.md $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 644 $(DOC_FILES:%=docs/%) $(DESTDIR)$(DOCDIR)/docs
	$(INSTALL) -m 644 $(MAN_PAGES:%=$(MANBUILD)/%) $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 644 $(EXAMPLES:%=systemd/%) $(DESTDIR)$(DOCDIR)/examples
	for u in $(UNITS); do \
		sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			systemd/$$u.in >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rmdir $(addprefix $(DESTDIR),$(OUR_DIRS)) 2>/dev/null || true
