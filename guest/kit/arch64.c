/* arch64.c: 64-bit IDT (256 vectors) and TSS setup, 2 MiB page table edits, xAPIC. */
#include "kit.h"

extern const uint8_t trap_stubs[];
extern uint64_t gdt_tss[2], kit_pd[4 * 512];
extern uint8_t kit_tss[];

static uint64_t idt[256 * 2] __aligned(16);

static void load_idt(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};

    asm volatile("lidt %0" ::"m"(idtr));
}

void arch_init_traps(void);
void arch_init_traps(void)
{
    uint64_t tss = (uint64_t)(uintptr_t)kit_tss;

    for (unsigned int v = 0; v < 256; v++) {
        uint64_t off = (uint64_t)(uintptr_t)(trap_stubs + 16 * v);

        /* 64-bit interrupt gate, DPL 0, IST 0 */
        idt[2 * v] = (off & 0xffff) | ((uint64_t)KERNEL_CS << 16) | (0x8eULL << 40) |
                     (((off >> 16) & 0xffff) << 48);
        idt[2 * v + 1] = off >> 32;
    }
    load_idt();

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

/* ---- secondary vCPUs ---- */
extern const uint8_t kit_ap_entry[];
__noreturn void kit_ap_main(unsigned int cpu, kit_ap_fn_t fn);

/* The BSP's IDT (no TSS: the BSP's descriptor is busy, and APs never leave ring 0). */
__noreturn void kit_ap_main(unsigned int cpu, kit_ap_fn_t fn)
{
    load_idt();
    fn(cpu);
    for (;;) /* done: go down for good */
        HYPERVISOR_vcpu_op(VCPUOP_down, cpu, NULL);
}

static uint64_t read_cr(int n)
{
    uint64_t v = 0;

    if (n == 0)
        asm volatile("mov %%cr0, %0" : "=r"(v));
    else if (n == 3)
        asm volatile("mov %%cr3, %0" : "=r"(v));
    else
        asm volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

void kit_vcpu_context(struct vcpu_hvm_context *c, unsigned int cpu, kit_ap_fn_t fn, void *stack_top)
{
    struct vcpu_hvm_x86_64 *r = &c->cpu_regs.x86_64;

    memset(c, 0, sizeof(*c));
    c->mode = VCPU_HVM_MODE_64B;
    r->rip = (uint64_t)(uintptr_t)kit_ap_entry;
    r->rsp = (uint64_t)(uintptr_t)stack_top;
    r->rdi = cpu;
    r->rsi = (uint64_t)(uintptr_t)fn;
    r->rflags = 0x2;
    r->cr0 = read_cr(0), r->cr3 = read_cr(3), r->cr4 = read_cr(4);
    r->efer = rdmsr(0xc0000080);
}

long kit_vcpu_start(unsigned int cpu, kit_ap_fn_t fn, void *stack_top)
{
    struct vcpu_hvm_context c;
    long rc;

    kit_vcpu_context(&c, cpu, fn, stack_top);
    rc = HYPERVISOR_vcpu_op(VCPUOP_initialise, cpu, &c);
    return rc ? rc : HYPERVISOR_vcpu_op(VCPUOP_up, cpu, NULL);
}

unsigned int apic_id(void)
{
    return *apic_reg(0x20) >> 24;
}
