/* arch64.c: 64-bit IDT (256 vectors) and TSS setup, 2 MiB page table edits, xAPIC. */
#include "kit.h"

extern const uint8_t trap_stubs[];
extern uint64_t gdt_tss[2], kit_pd[4 * 512];
extern uint8_t kit_tss[];

static uint64_t idt[256 * 2] __aligned(16);

void arch_init_traps(void);
void arch_init_traps(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr;
    uint64_t tss = (uint64_t)(uintptr_t)kit_tss;

    for (unsigned int v = 0; v < 256; v++) {
        uint64_t off = (uint64_t)(uintptr_t)(trap_stubs + 16 * v);

        /* 64-bit interrupt gate, DPL 0, IST 0 */
        idt[2 * v] = (off & 0xffff) | ((uint64_t)KERNEL_CS << 16) | (0x8eULL << 40) |
                     (((off >> 16) & 0xffff) << 48);
        idt[2 * v + 1] = off >> 32;
    }
    idtr.limit = sizeof(idt) - 1;
    idtr.base = (uint64_t)(uintptr_t)idt;
    asm volatile("lidt %0" ::"m"(idtr));

    /* available 64-bit TSS, limit 103 */
    gdt_tss[0] = 103 | ((tss & 0xffffff) << 16) | (0x89ULL << 40) | (((tss >> 24) & 0xff) << 56);
    gdt_tss[1] = tss >> 32;
    asm volatile("ltr %w0" ::"r"(TSS_SEL));
}

void pt_set_2m(uint64_t va, uint64_t flags)
{
    uint64_t base = va & ~0x1fffffULL;

    kit_pd[va >> 21] = flags ? (base | flags | _PAGE_PSE) : 0;
    invlpg(base);
}

/* xAPIC registers: the kit's identity map covers the default base 0xFEE00000. */
#define APIC_BASE 0xfee00000UL
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_ICR 0x300
#define APIC_ICR_SELF 0x40000 /* destination shorthand: self */
#define APIC_SVR_ENABLE 0x100

static volatile uint32_t *apic_reg(unsigned int off)
{
    return (volatile uint32_t *)(APIC_BASE + off);
}

void apic_enable(void)
{
    /* software-enable, spurious vector 0xff */
    *apic_reg(APIC_SVR) = APIC_SVR_ENABLE | 0xff;
}

void apic_eoi(void)
{
    *apic_reg(APIC_EOI) = 0;
}

void apic_self_ipi(uint8_t vector)
{
    *apic_reg(APIC_ICR) = APIC_ICR_SELF | vector;
}
