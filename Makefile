# Bitcache: `make` builds the nginx module and the CLI; `make test` and
# `make demo` also install what they need (scripts/deps.sh).

NGX_SRC    ?= /usr/share/nginx/src
BUILD      := build
CC         ?= cc
WARN       := -Wall -Wextra -Werror
CFLAGS     ?= -O2 -g
LDFLAGS    ?=
# more flags for nginx's configure of the module (make deb: dpkg-buildflags)
NGX_CC_OPT ?=
NGX_LD_OPT ?=
BC_CFLAGS  := $(CFLAGS) $(WARN) -std=gnu11 -fPIC -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
              -Ilibbitcache
LIBS       := -lhiredis -lsecp256k1 -lcrypto -lqrencode
# the watcher's JSON-RPC client: only the CLI links these, never the module
CLI_LIBS   := -lcurl -ljansson -pthread

LIB_SRCS   := $(sort $(wildcard libbitcache/*.c))
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB_HDRS   := $(wildcard libbitcache/*.h)
CLI_SRCS   := $(sort $(wildcard cli/*.c))
CLI_OBJS   := $(CLI_SRCS:%.c=$(BUILD)/%.o)
CLI_HDRS   := $(wildcard cli/*.h)
UNIT_SRCS  := $(sort $(wildcard t/unit/*.c))
UNIT_BINS  := $(UNIT_SRCS:t/unit/%.c=$(BUILD)/unit/%)
# the same unit tests again under AddressSanitizer and UBSan
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_BINS  := $(UNIT_SRCS:t/unit/%.c=$(BUILD)/asan/unit/%)
MOD_SRCS   := $(wildcard ngx_bitcache_module/*.c ngx_bitcache_module/*.h)
# test-only programs: t/tools/NAME.c -> build/tools/NAME, linked with libbitcache
TOOL_SRCS  := $(sort $(wildcard t/tools/*.c))
TOOL_BINS  := $(TOOL_SRCS:t/tools/%.c=$(BUILD)/tools/%)

MODULE     := $(BUILD)/ngx_http_bitcache_module.so
CLI        := $(BUILD)/bitcache

.PHONY: all deps module cli unit test demo demo-stop bench clean deb man
all: module cli

deps:
	@sh scripts/deps.sh

$(BUILD)/%.o: %.c $(LIB_HDRS) $(CLI_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BC_CFLAGS) -c $< -o $@

$(BUILD)/libbitcache.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

cli: $(CLI)
$(CLI): $(CLI_OBJS) $(BUILD)/libbitcache.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libbitcache.a $(LIBS) $(CLI_LIBS)

unit: $(UNIT_BINS) $(ASAN_BINS) $(TOOL_BINS)
$(BUILD)/unit/%: t/unit/%.c t/unit/tap.h $(BUILD)/libbitcache.a
	@mkdir -p $(dir $@)
	$(CC) $(BC_CFLAGS) -It/unit -o $@ $< $(BUILD)/libbitcache.a $(LIBS)

# libbitcache compiled once more with the sanitizers, for the ASan unit tests
ASAN_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/asan/%.o)
$(BUILD)/asan/libbitcache/%.o: libbitcache/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) $(WARN) -std=gnu11 -Ilibbitcache -c $< -o $@

$(BUILD)/asan/libbitcache.a: $(ASAN_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/asan/unit/%: t/unit/%.c t/unit/tap.h $(BUILD)/asan/libbitcache.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) $(WARN) -std=gnu11 -Ilibbitcache -It/unit -o $@ $< $(BUILD)/asan/libbitcache.a $(LIBS)

$(BUILD)/tools/%: t/tools/%.c $(BUILD)/libbitcache.a $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BC_CFLAGS) -I$(BUILD) -o $@ $< $(BUILD)/libbitcache.a $(LIBS)
$(BUILD)/tools/render_page: $(BUILD)/page_default.h

# the default payment page, embedded in the module as a C string
$(BUILD)/page_default.h: ngx_bitcache_module/page_default.html scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh ngx_http_bitcache_page_default $< > $@.tmp && mv -f $@.tmp $@

# the wallet page (GET <api>/wallet), embedded the same way
$(BUILD)/wallet_default.h: ngx_bitcache_module/wallet_default.html scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh ngx_http_bitcache_wallet_default $< > $@.tmp && mv -f $@.tmp $@

# the pay button's script (GET <api>/button.js), embedded the same way
$(BUILD)/button_js.h: ngx_bitcache_module/button.js scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh ngx_http_bitcache_button_src $< > $@.tmp && mv -f $@.tmp $@

# the sealed files' opener (GET <api>/open, open.js, open-sw.js), the same way
$(BUILD)/open_default.h: ngx_bitcache_module/open_default.html scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh ngx_http_bitcache_open_default $< > $@.tmp && mv -f $@.tmp $@
$(BUILD)/open_js.h: ngx_bitcache_module/open.js scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh ngx_http_bitcache_open_js $< > $@.tmp && mv -f $@.tmp $@
$(BUILD)/open_sw_js.h: ngx_bitcache_module/open-sw.js scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh ngx_http_bitcache_open_sw_js $< > $@.tmp && mv -f $@.tmp $@

# The module is built by nginx's own build system from Debian's nginx-dev
# tree with Debian's configure flags, so that the packaged nginx loads it.
module: $(MODULE)
$(BUILD)/nginx/.configured: config scripts/ngx-configure.sh
	bash scripts/ngx-configure.sh $(NGX_SRC) $(BUILD)/nginx "$(WARN) $(NGX_CC_OPT)" "$(NGX_LD_OPT)"
	touch $@

$(MODULE): $(BUILD)/nginx/.configured $(MOD_SRCS) $(BUILD)/libbitcache.a $(BUILD)/page_default.h $(BUILD)/wallet_default.h $(BUILD)/button_js.h $(BUILD)/open_default.h $(BUILD)/open_js.h $(BUILD)/open_sw_js.h
	@# nginx's Makefile does not know the library: relink when it changed
	rm -f $(BUILD)/nginx/objs/ngx_http_bitcache_module.so
	$(MAKE) -C $(BUILD)/nginx -f objs/Makefile modules
	cp $(BUILD)/nginx/objs/ngx_http_bitcache_module.so $@.tmp && mv -f $@.tmp $@

# Each file runs under a time limit, and the suite ends within 75 minutes
# (scripts/test-file.sh); a line per file is shown as it ends, with its
# time, and at the end every line that was not "ok" (the whole TAP is in
# build/prove.log).
test: deps all unit
	@rm -f $(BUILD)/prove.rc
	@echo "prove: t/*.t and the unit tests (plain and ASan), TAP in $(BUILD)/prove.log"
	@BC_SUITE_END=$$(( $$(date +%s) + 4500 )); export BC_SUITE_END; \
	{ perl -MApp::Prove -e '$$| = 1; my $$p = App::Prove->new; $$p->process_args(@ARGV); exit($$p->run ? 0 : 1)' -- \
	    -v --timer --exec 'sh scripts/test-file.sh' t/*.t $(UNIT_BINS) $(ASAN_BINS) 2>&1; \
	    echo $$? > $(BUILD)/prove.rc; } | tee $(BUILD)/prove.log | \
	    grep --line-buffered -E '^\[[0-9:]+\] |^not ok|^(ok|Failed).* ms|^Dubious|^Failed [0-9]|^(Files|Result)=' | \
	    grep --line-buffered -v '# TODO'; \
	rc=$$(cat $(BUILD)/prove.rc); \
	if [ "$$rc" != 0 ]; then echo "== lines that were not ok"; \
	    grep -vE '^\s*ok |^\[[0-9:]+\] ' $(BUILD)/prove.log | tail -n 200; fi; \
	[ "$$rc" = 0 ]

bench: deps all
	@for b in $(filter-out bench/lib.sh,$(wildcard bench/*.sh)); do echo "== $$b"; bash $$b || exit 1; done

demo: deps all
	@bash scripts/demo.sh

demo-stop:
	@sh scripts/demo-stop.sh

# the directives' man page, made from their reference
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
man: $(BUILD)/man/bitcache-directives.5
$(BUILD)/man/bitcache-directives.5: docs/directives.md scripts/directives-man.pl debian/changelog
	@mkdir -p $(dir $@)
	perl scripts/directives-man.pl $(VERSION) < $< > $@.tmp && mv -f $@.tmp $@

# Debian packages (debian/) in build/deb, built from a copy of the tree, and lintian
deb: deps
	@bash scripts/deb.sh

clean:
	rm -rf $(BUILD)

# benchmark programs: bench/NAME.c -> build/bench/NAME, linked with libbitcache
$(BUILD)/bench/%: bench/%.c $(BUILD)/libbitcache.a $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BC_CFLAGS) -o $@ $< $(BUILD)/libbitcache.a $(LIBS)

# libFuzzer targets fuzz/NAME.c (clang 14 with Debian's libclang-rt-14-dev),
# each run for FUZZ_SECONDS from its seeds; the corpus grows in build/fuzz/corpus/NAME
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/*.c))
.PHONY: fuzz
$(BUILD)/fuzz/%: fuzz/%.c fuzz/fuzz.h $(LIB_SRCS) $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -Ilibbitcache -o $@ $< $(LIB_SRCS) $(LIBS)

fuzz: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(BUILD)/fuzz/corpus/$$t; echo "== fuzz $$t: $(FUZZ_SECONDS)s"; \
	    $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=1024 \
	        -artifact_prefix=$(BUILD)/fuzz/$$t- $(BUILD)/fuzz/corpus/$$t fuzz/seeds/$$t \
	        2>$(BUILD)/fuzz/$$t.log || { tail -n 40 $(BUILD)/fuzz/$$t.log; exit 1; }; \
	    grep -E '^(#[0-9]+ +DONE|Done)' $(BUILD)/fuzz/$$t.log | tail -n 1; \
	done
