# probity — see README.md. `make` builds ./probity; `make check` runs every
# test (release build and ASan+UBSan build); `make demo` installs what is
# missing, builds and runs the end-to-end demonstration.

CC      ?= cc
WARN    := -std=c11 -Wall -Wextra -Wpedantic -Werror
DEFS    := -D_GNU_SOURCE
CFLAGS  ?= -O2 -g
LDLIBS  := -lmicrohttpd -lcurl -lsqlite3 -ljansson -lz -lcrypto -lpthread
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
	$$(CC) $$(WARN) $$(DEFS) $(2) -Iinclude -Isrc -c $$< -o $$@
build/$(1)/cli/%.o: src/cmd/%.c $(HDRS) | build/$(1)/cli
	$$(CC) $$(WARN) $$(DEFS) $(2) -Iinclude -Isrc -c $$< -o $$@
build/$(1)/libprobity.a: $(patsubst src/%.c,build/$(1)/lib/%.o,$(LIB_SRC))
	rm -f $$@ && ar rcs $$@ $$^
build/$(1)/probity: $(patsubst src/cmd/%.c,build/$(1)/cli/%.o,$(CLI_SRC)) build/$(1)/libprobity.a
	$$(CC) $(2) -o $$@ $$^ $$(LDLIBS)
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

# probity audit's default --policies: the pack in this tree.
build/rel/cli/cmd_audit.o build/san/cli/cmd_audit.o: DEFS += -DPRB_POLICY_DIR='"$(CURDIR)/policies"'

$(eval $(call build_rules,rel,$(CFLAGS)))
$(eval $(call build_rules,san,$(SANFLAGS)))

.PHONY: all deps check check-rel check-san demo bench bench-audit fuzz clean rel-all san-all

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
