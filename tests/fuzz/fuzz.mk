# fuzz.mk: libFuzzer targets (clang). `make fuzz-loader` builds, `make fuzz` runs for $(FUZZ_TIME) s.
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

.PHONY: fuzz fuzz-loader
fuzz-loader: $(O)/fuzz_loader

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
