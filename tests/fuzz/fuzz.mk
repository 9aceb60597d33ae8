# fuzz.mk: libFuzzer targets (clang). `make fuzz-loader` / `make fuzz-hypercall` build them;
# `make fuzz` runs the loader target and `make fuzz-hc` the hypercall target, $(FUZZ_TIME) s each.
# Included from the top-level Makefile; defines only FUZZ_* variables and fuzz targets.

FUZZ_CC       ?= clang
FUZZ_TIME     ?= 60
FUZZ_ARGS     ?=
FUZZ_SANFLAGS  = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                 -fno-omit-frame-pointer
FUZZ_CFLAGS    = $(CFLAGS_BASE) $(FUZZ_SANFLAGS)
FUZZ_DIR       = $(O)/fuzz
# Only the pure loader files: loader/domain_build.c needs the core.
FUZZ_LOADER_SRC = tests/fuzz/fuzz_loader.c loader/elf.c loader/pvh.c
FUZZ_LOADER_DEP = $(FUZZ_LOADER_SRC) loader/loader.h core/xen_abi.h
FUZZ_LOADER_SEED = $(FUZZ_DIR)/fuzz_loader_seed
FUZZ_LOADER_CORPUS = $(FUZZ_DIR)/corpus-loader

.PHONY: fuzz fuzz-loader fuzz-hypercall fuzz-hc
fuzz-loader: $(O)/fuzz_loader
fuzz-hypercall: $(O)/fuzz_hypercall

# The hypercall surface on the fake backend: the whole core, no KVM.
FUZZ_HC_SRC = tests/fuzz/fuzz_hypercall.c tests/unit/fake_accel.c $(CORE_SRC)
FUZZ_HC_CORPUS = $(FUZZ_DIR)/corpus-hypercall

$(O)/fuzz_hypercall: $(FUZZ_HC_SRC) $(GEN_HDR) $(wildcard core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_HC_SRC) -o $@ -lpthread

# Seed programs (the same source with -DFUZZ_SEED_MAIN, normal compiler).
$(FUZZ_DIR)/fuzz_hypercall_seed: $(FUZZ_HC_SRC) $(GEN_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -DFUZZ_SEED_MAIN tests/fuzz/fuzz_hypercall.c -o $@

fuzz-hc: $(O)/fuzz_hypercall $(FUZZ_DIR)/fuzz_hypercall_seed
	@mkdir -p $(FUZZ_HC_CORPUS)
	$(FUZZ_DIR)/fuzz_hypercall_seed $(FUZZ_HC_CORPUS)
	$(O)/fuzz_hypercall -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=4096 \
		-artifact_prefix=$(FUZZ_DIR)/hc- $(FUZZ_ARGS) $(FUZZ_HC_CORPUS)

$(O)/fuzz_loader: $(FUZZ_LOADER_DEP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LOADER_SRC) -o $@

# Writes a few valid PVH images as the starting corpus.
$(FUZZ_LOADER_SEED): $(FUZZ_LOADER_DEP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -DFUZZ_SEED_MAIN $(FUZZ_LOADER_SRC) -o $@

fuzz: $(O)/fuzz_loader $(FUZZ_LOADER_SEED)
	@mkdir -p $(FUZZ_LOADER_CORPUS)
	$(FUZZ_LOADER_SEED) $(FUZZ_LOADER_CORPUS)
	$(O)/fuzz_loader -max_total_time=$(FUZZ_TIME) -artifact_prefix=$(FUZZ_DIR)/ \
		$(FUZZ_ARGS) $(FUZZ_LOADER_CORPUS)
