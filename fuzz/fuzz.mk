# fuzz/fuzz.mk — libFuzzer targets, built with clang into build-fuzz/ (its own object dir).
#   make fuzz                                  build build-fuzz/fuzz_module, fuzz_dockerfile, fuzz_tar,
#                                              fuzz_dns, fuzz_compose_interp, fuzz_compose_yaml,
#                                              fuzz_compose_load, fuzz_shim_pb, fuzz_native_obj,
#                                              fuzz_native_diff (interpreter vs compiler tier),
#                                              fuzz_toml, fuzz_spin_manifest, fuzz_spin_locked
#   make -f fuzz/fuzz.mk run FUZZ_TIME=60      run it for a while on a scratch corpus + fuzz/seeds
#                                              (FUZZ_ARGS='-jobs=2' etc. for more libFuzzer flags)
#   make -f fuzz/fuzz.mk seeds                 regenerate fuzz/seeds from the spec suite (wast2json)
# A crash is written to build-fuzz/crash-*; minimise it with `build-fuzz/fuzz_module -minimize_crash=1
# -runs=10000 FILE` and keep it as tests/regression/fuzz-<name>.wasm.

FUZZ_CC ?= clang
FUZZ_BUILD ?= build-fuzz
SHARED ?= ../shared
FUZZ_TIME ?= 60
FUZZ_ARGS ?=

FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_WARN := -Wall -Wextra -Werror -Wno-unused-parameter
FUZZ_CFLAGS := -g -O1 $(FUZZ_SAN) -std=gnu17 -D_GNU_SOURCE -Isrc $(FUZZ_WARN) -MMD -MP

FUZZ_LIB_SRCS := $(wildcard src/base/*.c src/wasm/*.c) src/oci/dockerfile.c src/oci/fstree.c \
                 src/oci/tar.c src/oci/tar_stream.c src/oci/digest.c src/wasi/dns.c \
                 src/compose/interp.c src/compose/dotenv.c
FUZZ_LIB_SRCS += src/compose/yaml.c
FUZZ_LIB_SRCS += $(filter-out $(FUZZ_LIB_SRCS),$(wildcard src/compose/*.c))
FUZZ_LIB_SRCS += src/shim/pb.c src/shim/messages.c src/shim/ttrpc.c
FUZZ_LIB_SRCS += src/apps/spin_manifest.c src/apps/spin_locked.c
# the compiler tier (LLVM's C API, dlopen'ed at run time)
FUZZ_LIB_SRCS += $(wildcard src/compiler/*.c)
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_TARGETS := $(FUZZ_BUILD)/fuzz_module $(FUZZ_BUILD)/fuzz_dockerfile $(FUZZ_BUILD)/fuzz_tar \
                $(FUZZ_BUILD)/fuzz_dns $(FUZZ_BUILD)/fuzz_compose_interp
FUZZ_TARGETS += $(FUZZ_BUILD)/fuzz_compose_yaml
FUZZ_TARGETS += $(FUZZ_BUILD)/fuzz_compose_load
FUZZ_TARGETS += $(FUZZ_BUILD)/fuzz_shim_pb
FUZZ_TARGETS += $(FUZZ_BUILD)/fuzz_native_obj
FUZZ_TARGETS += $(FUZZ_BUILD)/fuzz_native_diff
FUZZ_TARGETS += $(FUZZ_BUILD)/fuzz_toml
FUZZ_TARGETS += $(FUZZ_BUILD)/fuzz_spin_manifest
FUZZ_TARGETS += $(FUZZ_BUILD)/fuzz_spin_locked

.PHONY: all run seeds
.SECONDARY:
all: $(FUZZ_TARGETS)

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ -lm -lpthread -ljansson -ldl

# The dispatch loops are single functions with thousands of labels: clang's ASan and UBSan
# instrumentation of them takes many minutes. They get coverage instrumentation only here; the
# gcc ASan+UBSan build (make SAN=1) runs the whole spec suite through them instead.
$(FUZZ_BUILD)/obj/src/wasm/interp_%.o: FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link -std=gnu17 \
    -D_GNU_SOURCE -Isrc $(FUZZ_WARN) -MMD -MP

$(FUZZ_BUILD)/obj/src/compiler/%.o: FUZZ_CFLAGS += -I/usr/lib/llvm-14/include

# the differential fuzzer of the compiler tier: fuzz_module's harness, interpreter vs native code
$(FUZZ_BUILD)/obj/fuzz/fuzz_native_diff.o: fuzz/fuzz_module.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_NATIVE -c -o $@ $<

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

# -rss_limit_mb: guarded memories reserve 8 GiB of address space but commit only what they use.
run: $(FUZZ_TARGETS)
	@mkdir -p $(FUZZ_BUILD)/corpus/fuzz_module $(FUZZ_BUILD)/corpus/fuzz_dockerfile
	$(FUZZ_BUILD)/fuzz_module -max_total_time=$(FUZZ_TIME) -print_final_stats=1 $(FUZZ_ARGS) \
	    -dict=fuzz/wasm.dict -max_len=65536 -timeout=25 -rss_limit_mb=2560 \
	    -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_module fuzz/seeds
	$(FUZZ_BUILD)/fuzz_dockerfile -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
	    -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_dockerfile fuzz/seeds-dockerfile
	@mkdir -p $(FUZZ_BUILD)/corpus/fuzz_tar
	$(FUZZ_BUILD)/fuzz_tar -max_total_time=$(FUZZ_TIME) -max_len=65536 -timeout=10 \
	    -rss_limit_mb=2560 -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_tar \
	    fuzz/seeds-tar
	@mkdir -p $(FUZZ_BUILD)/corpus/fuzz_dns
	$(FUZZ_BUILD)/fuzz_dns -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
	    -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_dns fuzz/seeds-dns
	@mkdir -p $(FUZZ_BUILD)/corpus/fuzz_compose_interp
	$(FUZZ_BUILD)/fuzz_compose_interp -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
	    -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_compose_interp \
	    fuzz/seeds-compose-interp
	@mkdir -p $(FUZZ_BUILD)/corpus/fuzz_compose_yaml
	$(FUZZ_BUILD)/fuzz_compose_yaml -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
	    -rss_limit_mb=2560 -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_compose_yaml \
	    fuzz/seeds-compose-yaml
	@mkdir -p $(FUZZ_BUILD)/corpus/fuzz_compose_load
	$(FUZZ_BUILD)/fuzz_compose_load -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
	    -rss_limit_mb=2560 -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_compose_load \
	    fuzz/seeds-compose-load </dev/null
	@mkdir -p $(FUZZ_BUILD)/corpus/fuzz_shim_pb
	$(FUZZ_BUILD)/fuzz_shim_pb -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
	    -rss_limit_mb=2560 -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_shim_pb \
	    fuzz/seeds-shim-pb
	@mkdir -p $(FUZZ_BUILD)/corpus/fuzz_native_obj
	$(FUZZ_BUILD)/fuzz_native_obj -max_total_time=$(FUZZ_TIME) -max_len=65536 -timeout=10 \
	    -rss_limit_mb=2560 -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_native_obj \
	    fuzz/seeds-native-obj
	@mkdir -p $(FUZZ_BUILD)/corpus/fuzz_toml
	$(FUZZ_BUILD)/fuzz_toml -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
	    -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_toml fuzz/seeds-toml
	@mkdir -p $(FUZZ_BUILD)/corpus/fuzz_spin_manifest
	$(FUZZ_BUILD)/fuzz_spin_manifest -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
	    -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_spin_manifest \
	    fuzz/seeds-spin-manifest
	@mkdir -p $(FUZZ_BUILD)/corpus/fuzz_spin_locked
	$(FUZZ_BUILD)/fuzz_spin_locked -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
	    -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_spin_locked \
	    fuzz/seeds-spin-locked
	@mkdir -p $(FUZZ_BUILD)/corpus/fuzz_native_diff
	$(FUZZ_BUILD)/fuzz_native_diff -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	    -dict=fuzz/wasm.dict -max_len=65536 -timeout=60 -rss_limit_mb=4096 \
	    -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/fuzz_native_diff fuzz/seeds

seeds:
	SHARED=$(SHARED) bash fuzz/make-seeds.sh

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
