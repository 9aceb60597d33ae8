/* arch32.c: 32-bit IDT setup (faults are printed, never returned from: no 32-bit iret here). */
#include "kit.h"

extern const uint8_t trap_stubs[];

static uint64_t idt[32] __aligned(8);

void arch_init_traps(void);
void arch_init_traps(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } idtr;

    for (unsigned int v = 0; v < 32; v++) {
        uint32_t off = (uint32_t)(uintptr_t)(trap_stubs + 16 * v);

        /* 32-bit interrupt gate, DPL 0 */
        idt[v] = (off & 0xffff) | ((uint64_t)KERNEL_CS << 16) | (0x8eULL << 40) |
                 ((uint64_t)(off >> 16) << 48);
    }
    idtr.limit = sizeof(idt) - 1;
    idtr.base = (uint32_t)(uintptr_t)idt;
    asm volatile("lidt %0" ::"m"(idtr));
}
