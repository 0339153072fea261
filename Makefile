# wasmbox — one top-level Makefile, out-of-tree build.
#   make            build build/wasmbox (static core) and build/wasmbox-full (docs/binaries.md),
#                   build/wasmbox-spectest, build/unit-tests, examples
#   make check      run every test; last line "N passed, N failed"
#   make spec       the WebAssembly spec suite only
#   make bench      benchmarks against native builds of the same C sources
#   make bench-realworld  the same for real-world programs (SQLite, Lua, zstd, bzip2)
#   make fuzz       build the libFuzzer targets (clang) into build-fuzz/
#   make SAN=1 ...  the same with ASan+UBSan, in build-san/

SAN ?= 0
CC ?= gcc
SHARED ?= ../shared
ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD ?= build
SANFLAGS :=
endif

# V=1 shows full commands
ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu17 $(WARN) -D_GNU_SOURCE -Isrc $(SANFLAGS) $(CFLAGS) -MMD -MP
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)
# no libm: the interpreter rounds by itself (one shared library less to load at every start);
# libcurl, libcrypto and libarchive are dlopen'ed when needed (src/base/dynlib.h)
LIBS := -Wl,-Bstatic -ljansson -Wl,-Bdynamic -ldl -lpthread

# Two links of the same objects (docs/binaries.md): build/wasmbox, the static core that runs
# containers and modules (no dynamic loader, no relocations), and build/wasmbox-full, linked
# dynamically, to which the core hands the commands that need libcurl, libcrypto or libarchive
# (pull, push, build, save, load, ...). CORE says how the core is built:
#   musl     every source again with musl-gcc (Debian's musl-tools, which scripts/deps.sh
#            installs): glibc's static start-up alone costs 0.8 ms more here
#   glibc    without musl-gcc: the same objects linked -static -no-pie
#   dynamic  SAN=1 (the sanitizers need a dynamic executable): build/wasmbox is the full program
MUSL_CC := $(shell command -v musl-gcc 2>/dev/null)
ifeq ($(SAN),1)
CORE := dynamic
else ifneq ($(MUSL_CC),)
CORE := musl
else
CORE := glibc
endif

# the compiler tier (LLVM through its C API, dlopen'ed) is not in the static core, which has
# src/core/compiler_stub.c instead
COMPILER_SRCS := $(wildcard src/compiler/*.c)
LLVM_CFLAGS := -I/usr/lib/llvm-14/include
LIB_SRCS := $(wildcard src/base/*.c src/wasm/*.c src/wasi/*.c src/oci/*.c src/runtime/*.c src/registry/*.c \
                      src/compose/*.c src/shim/*.c src/apps/*.c) $(COMPILER_SRCS)
CLI_SRCS := $(wildcard src/cli/*.c)
SPECTEST_SRCS := $(wildcard tools/spectest/*.c)
UNIT_SRCS := $(wildcard tests/unit/*.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
SPECTEST_OBJS := $(SPECTEST_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o)

EXAMPLE_WATS := $(wildcard examples/*/*.wat)
EXAMPLES := $(patsubst examples/%.wat,$(BUILD)/examples/%.wasm,$(EXAMPLE_WATS)) \
            $(BUILD)/examples/hello/hello.wasm $(BUILD)/examples/hello/Dockerfile
WASI_CC := clang --target=wasm32-wasi --sysroot=/usr -O2

SPEC_WASTS := $(sort $(wildcard $(SHARED)/testsuite/wasm-spec/wast/*.wast))
SPEC_NAMES := $(notdir $(basename $(SPEC_WASTS)))
SPEC_JSONS := $(foreach n,$(SPEC_NAMES),$(BUILD)/spec/$(n)/$(n).json)
SPEC_NONSIMD := $(foreach n,$(filter-out simd_%,$(SPEC_NAMES)),$(BUILD)/spec/$(n)/$(n).json)
# the engine's own .wast tests (tests/wast/), run in both tiers
WAST_NAMES := $(notdir $(basename $(wildcard tests/wast/*.wast)))
WAST_JSONS := $(foreach n,$(WAST_NAMES),$(BUILD)/wast/$(n)/$(n).json)

.PHONY: install all check check-native wast-jsons spec spec-nonsimd bench bench-realworld bench-http examples-http examples-microservice fuzz clean format
all: $(BUILD)/wasmbox $(BUILD)/wasmbox-full $(BUILD)/wasmbox-spectest $(BUILD)/unit-tests $(EXAMPLES) examples-http \
     examples-microservice

$(BUILD)/libwasmbox.a: $(LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

ifeq ($(CORE),musl)
# against musl's headers (third-party headers, for types only, from /usr/include after them);
# Debian's libjansson.a, built for glibc, needs src/core/jansson_chk.c
CORE_CFLAGS = $(ALL_CFLAGS) -idirafter /usr/include -idirafter /usr/include/x86_64-linux-gnu
CORE_SRCS := $(filter-out src/base/dynlib.c $(COMPILER_SRCS),$(LIB_SRCS) $(CLI_SRCS)) $(wildcard src/core/*.c)
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/core-obj/%.o) $(BUILD)/core-obj/src/base/dynlib_core.o

$(BUILD)/wasmbox: $(CORE_OBJS)
	@$(if $(Q),echo "  LINK    $@ (musl)")
	$(Q)$(MUSL_CC) -static -o $@ $^ /usr/lib/x86_64-linux-gnu/libjansson.a

$(BUILD)/core-obj/src/wasm/interp%.o: CORE_CFLAGS += $(INTERP_CFLAGS)

$(BUILD)/core-obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (musl)")
	$(Q)$(MUSL_CC) $(CORE_CFLAGS) -c -o $@ $<

$(BUILD)/core-obj/src/base/dynlib_core.o: src/base/dynlib.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (musl, core)")
	$(Q)$(MUSL_CC) $(CORE_CFLAGS) -DWB_STATIC_CORE -c -o $@ $<
else ifeq ($(CORE),glibc)
# its own dynlib.o (no dlopen) comes before the library, whose dlopen'ing one it replaces
$(BUILD)/wasmbox: $(CLI_OBJS) $(BUILD)/obj/src/base/dynlib_core.o $(BUILD)/obj/src/core/compiler_stub.o \
                 $(BUILD)/libwasmbox.a
	@$(if $(Q),echo "  LINK    $@ (static)")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ -static -no-pie -ljansson -lpthread

$(BUILD)/obj/src/base/dynlib_core.o: src/base/dynlib.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (core)")
	$(Q)$(CC) $(ALL_CFLAGS) -DWB_STATIC_CORE -c -o $@ $<
else
$(BUILD)/wasmbox: $(CLI_OBJS) $(BUILD)/libwasmbox.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
endif

$(BUILD)/wasmbox-full: $(CLI_OBJS) $(BUILD)/libwasmbox.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/wasmbox-spectest: $(SPECTEST_OBJS) $(BUILD)/libwasmbox.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS) -lm

$(BUILD)/unit-tests: $(UNIT_OBJS) $(BUILD)/libwasmbox.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

# Fixtures of the native code loader's unit test (tests/unit/test_native_obj.c): ELF relocatable
# objects compiled from tests/unit/native/ as LLVM emits them (clang; gcc without it), never
# sanitized, into $(BUILD)/native-fixtures/, where the test finds them beside its binary.
NATIVE_FIXTURE_CC := $(if $(shell command -v clang 2>/dev/null),clang,$(CC))
NATIVE_FIXTURE_FLAGS := -c -O2 -fno-stack-protector
NATIVE_FIXTURES := $(addprefix $(BUILD)/native-fixtures/,pic.o nopic.o large.o large_pic.o \
                   many.o relocs.o)
$(BUILD)/unit-tests: | $(NATIVE_FIXTURES)
$(BUILD)/native-fixtures/pic.o: NATIVE_FIXTURE_MODEL := -fPIC
$(BUILD)/native-fixtures/nopic.o: NATIVE_FIXTURE_MODEL := -fno-pic -mcmodel=small
$(BUILD)/native-fixtures/large.o: NATIVE_FIXTURE_MODEL := -fno-pic -mcmodel=large
$(BUILD)/native-fixtures/large_pic.o: NATIVE_FIXTURE_MODEL := -fPIC -mcmodel=large
$(BUILD)/native-fixtures/many.o: NATIVE_FIXTURE_MODEL := -fPIC
$(BUILD)/native-fixtures/relocs.o: NATIVE_FIXTURE_FLAGS := -c
$(BUILD)/native-fixtures/pic.o $(BUILD)/native-fixtures/nopic.o $(BUILD)/native-fixtures/large.o \
$(BUILD)/native-fixtures/large_pic.o: tests/unit/native/fixture.c
$(BUILD)/native-fixtures/many.o: tests/unit/native/many.c
$(BUILD)/native-fixtures/relocs.o: tests/unit/native/relocs.s
$(NATIVE_FIXTURES):
	@mkdir -p $(dir $@)
	$(Q)$(NATIVE_FIXTURE_CC) $(NATIVE_FIXTURE_FLAGS) $(NATIVE_FIXTURE_MODEL) -o $@ $<

# The interpreter's dispatch loop: -fno-gcse keeps one indirect jump per handler (better branch
# prediction for computed goto, as the GCC manual advises); no memset calls for short loops; sqrt
# inline (the C library's errno is of no interest to wasm).
INTERP_CFLAGS := -fno-math-errno
ifneq ($(findstring clang,$(shell $(CC) --version 2>/dev/null | head -n 1)),clang)
INTERP_CFLAGS += -fno-gcse -fno-tree-loop-distribute-patterns
endif
$(BUILD)/obj/src/wasm/interp%.o: ALL_CFLAGS += $(INTERP_CFLAGS)
$(BUILD)/obj/src/compiler/%.o: ALL_CFLAGS += $(LLVM_CFLAGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/examples/%.wasm: examples/%.wat
	@mkdir -p $(dir $@)
	$(Q)wat2wasm --debug-names -o $@ $<

$(BUILD)/examples/hello/hello.wasm: examples/hello/hello.c
	@mkdir -p $(dir $@)
	$(Q)$(WASI_CC) -o $@ $<

$(BUILD)/examples/hello/Dockerfile: examples/hello/Dockerfile
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

# make install [PREFIX=/usr/local] [DESTDIR=]: the core and wasmbox-full side by side (the core
# finds wasmbox-full beside itself)
PREFIX ?= /usr/local
install: $(BUILD)/wasmbox $(BUILD)/wasmbox-full
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/wasmbox $(BUILD)/wasmbox-full $(DESTDIR)$(PREFIX)/bin/

# Spec tests: converted from ../shared at build time, never committed.
.SECONDEXPANSION:
$(BUILD)/spec/%.json: $(SHARED)/testsuite/wasm-spec/wast/$$(notdir $$*).wast
	@mkdir -p $(dir $@)
	@wast2json -o $@ $<

wast-jsons: $(WAST_JSONS)

$(BUILD)/wast/%.json: tests/wast/$$(notdir $$*).wast
	@mkdir -p $(dir $@)
	@wast2json -o $@ $<

spec: $(BUILD)/wasmbox-spectest $(SPEC_JSONS)
	@if [ -z "$(SPEC_JSONS)" ]; then echo "spec: skipped: $(SHARED)/testsuite/wasm-spec not found"; \
	else $(BUILD)/wasmbox-spectest $(SPEC_JSONS); fi

spec-nonsimd: $(BUILD)/wasmbox-spectest $(SPEC_NONSIMD)
	@$(BUILD)/wasmbox-spectest $(SPEC_NONSIMD)

check: all $(SPEC_JSONS) $(WAST_JSONS)
	@BUILD=$(BUILD) SHARED=$(SHARED) bash tests/run-all.sh

# the end-to-end suites with compiled code (tests/run-native.sh)
check-native: all
	@BUILD=$(BUILD) SHARED=$(SHARED) bash tests/run-native.sh

bench: all
	@BUILD=$(BUILD) bash bench/run.sh

# real-world C programs (SQLite, Lua, zstd, bzip2), sources fetched into a cache outside the tree
bench-realworld: all
	@BUILD=$(BUILD) bash bench/realworld.sh

examples-http:
	@$(MAKE) --no-print-directory -C examples/http-hello OUT=$(abspath $(BUILD))/examples/http-hello

# the demo's order service (issue #16): order_demo_service.wasm and -native
examples-microservice:
	@$(MAKE) --no-print-directory -C examples/microservice/server OUT=$(abspath $(BUILD))/examples/microservice

bench-http: all
	@BUILD=$(BUILD) bash bench/http.sh

fuzz:
	@$(MAKE) --no-print-directory -f fuzz/fuzz.mk SHARED=$(SHARED)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj $(BUILD)/core-obj -name '*.d' 2>/dev/null)
