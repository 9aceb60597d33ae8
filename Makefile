# xhv: GNU make build. `make` builds everything, `make check` runs the whole test suite
# (unit + KVM integration, normal and ASan+UBSan builds), `make bench` runs the benchmark.

CC      ?= gcc
SAN     ?= 0
O       ?= build
ifeq ($(SAN),1)
O       := build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ifeq ($(SAN),thread) # data-race checks of the SMP paths (make SAN=thread build-tsan/xhv)
O       := build-tsan
SANFLAGS = -fsanitize=thread -fno-omit-frame-pointer -Wno-error=tsan -Wno-tsan
endif

CFLAGS_BASE = -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I. -I$(O)/gen
CFLAGS  = $(CFLAGS_BASE) $(SANFLAGS) -MMD -MP
LDFLAGS = $(SANFLAGS)
LDLIBS  = -lpthread

CORE_SRC   := $(wildcard core/*.c)
LOADER_SRC := $(wildcard loader/*.c)
KVM_SRC    := $(wildcard kvm/*.c)
CLI_SRC    := $(wildcard cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/*.c)
PROTO_SRC  := $(wildcard proto/*.c)
XS_SRC     := $(wildcard xenstore/*.c)
DAEMON_SRC := $(wildcard daemon/*.c)

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))

CORE_OBJ   := $(call obj,$(CORE_SRC))
LOADER_OBJ := $(call obj,$(LOADER_SRC))
KVM_OBJ    := $(call obj,$(KVM_SRC))
CLI_OBJ    := $(call obj,$(CLI_SRC))
UNIT_OBJ   := $(call obj,$(UNIT_SRC))
PROTO_OBJ  := $(call obj,$(PROTO_SRC))
XS_OBJ     := $(call obj,$(XS_SRC))
DAEMON_OBJ := $(call obj,$(DAEMON_SRC))
GEN_HDR    := $(O)/gen/compat_layout.h

.PHONY: all check check-fast check-san check-tsan unit guests bench bench-domains bench-events clean format format-check fuzz
all: $(O)/xhv $(O)/xhvd $(O)/unit_tests $(O)/proto_fuzz $(O)/xs_standalone guests

$(O)/obj/%.o: %.c $(GEN_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Compat (32-bit caller) layouts are measured from Xen's own headers built with -m32.
$(GEN_HDR): tools/gen_compat.c
	@mkdir -p $(dir $@)
	$(CC) -m32 -std=gnu11 -Wall -Wextra -Werror -I. $< -o $(O)/gen/gen_compat
	$(O)/gen/gen_compat > $@.tmp && mv $@.tmp $@

$(O)/xhv: $(CLI_OBJ) $(PROTO_OBJ) $(XS_OBJ) $(KVM_OBJ) $(LOADER_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(O)/xhvd: $(DAEMON_OBJ) $(PROTO_OBJ) $(XS_OBJ) $(KVM_OBJ) $(LOADER_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# The pure parts of the CLI (xl.cfg) are unit-tested too.
CLI_LIB_OBJ := $(call obj,$(wildcard cli/xlcfg*.c))

$(O)/unit_tests: $(UNIT_OBJ) $(CLI_LIB_OBJ) $(PROTO_OBJ) $(XS_OBJ) $(LOADER_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(O)/proto_fuzz: $(call obj,tests/integration/proto_fuzz.c) $(PROTO_OBJ) $(XS_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(O)/xs_standalone: $(call obj,tests/integration/xs_standalone.c) $(XS_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

unit: $(O)/unit_tests
	$(O)/unit_tests

-include guest/guest.mk
-include bench/bench.mk
-include tests/fuzz/fuzz.mk

check: all
	$(MAKE) SAN=1 build-san/xhv build-san/xhvd build-san/unit_tests build-san/proto_fuzz build-san/xs_standalone
	$(MAKE) SAN=thread build-tsan/xhv build-tsan/unit_tests
	tests/run_tests.sh

check-fast: all
	XHV_NO_SAN=1 tests/run_tests.sh

# Data races in the SMP and event paths (ThreadSanitizer): the unit tests and the guests that
# run vCPUs and event channels concurrently (`make check` runs it too, last; TSan's shadow
# memory cannot hold the 1024-domain limit test, which is skipped there).
check-tsan: all
	$(MAKE) SAN=thread build-tsan/xhv build-tsan/unit_tests
	tests/run_tsan.sh build-tsan

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-tsan

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
