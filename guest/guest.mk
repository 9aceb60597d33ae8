# guest/guest.mk: the freestanding guest kit, the test guests and the bench guest:
# $(O)/guest/<test>.elf for each of GUEST_TESTS, and $(O)/guest/bench.elf. A test passed when
# its last console line is "Test result: PASS (...)" and it shut down with SHUTDOWN_poweroff
# (crash.elf must instead end in a crash).
O ?= build

GUEST_TESTS    := hello hello32 conformance conformance32 badptr user crash idle privileged evtchn \
                  smp pingpong virq timer
GUEST_TESTS_32 := hello32 conformance32

GUEST_CC      ?= gcc
GUEST_CFLAGS  := -std=gnu11 -ffreestanding -fno-pic -fno-pie -nostdlib -fno-stack-protector \
                 -fno-asynchronous-unwind-tables -mno-red-zone -mgeneral-regs-only -O2 \
                 -fno-tree-loop-distribute-patterns -Wall -Wextra -Werror -I. -Iguest/kit
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,guest/guest.ld -Wl,-z,max-page-size=0x1000 \
                 -Wl,--build-id=none -Wl,-z,noexecstack \
                 -Wl,--no-warn-rwx-segments

GUEST_KIT   := start.c hypercall.c printf.c test.c traps.c lib.c pvh-note.S
GUEST_KIT64 := $(GUEST_KIT) arch64.c head64.S events.c
GUEST_KIT32 := $(GUEST_KIT) arch32.c head32.S
GO          := $(O)/guest

guest_kit_objs = $(patsubst %,$(GO)/obj$(1)/kit/%.o,$(GUEST_KIT$(1)))
guest_bits     = $(if $(filter $(1),$(GUEST_TESTS_32)),32,64)

.PHONY: guests
guests: $(foreach t,$(GUEST_TESTS),$(GO)/$(t).elf) $(GO)/bench.elf

$(GO)/obj64/%.o: guest/%
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m64 $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GO)/obj32/%.o: guest/%
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GO)/obj64/bench/%.o: bench/%
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m64 $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

# $(1): output ELF, $(2): 64 or 32, $(3): the guest's own object
define GUEST_ELF_RULE
$(1): $(call guest_kit_objs,$(2)) $(3) guest/guest.ld guest/check_insns.sh
	$$(GUEST_CC) -m$(2) $$(GUEST_LDFLAGS) -o $$@ $$(filter %.o,$$^) -lgcc
	guest/check_insns.sh $$@
endef
$(foreach t,$(GUEST_TESTS),$(eval $(call GUEST_ELF_RULE,$(GO)/$(t).elf,$(call guest_bits,$(t)),$(GO)/obj$(call guest_bits,$(t))/tests/$(t)/main.c.o)))
$(eval $(call GUEST_ELF_RULE,$(GO)/bench.elf,64,$(GO)/obj64/bench/bench_guest.c.o))

-include $(shell find $(GO) -name '*.d' 2>/dev/null)
