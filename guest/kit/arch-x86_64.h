/* arch-x86_64.h: 64-bit (long mode) specifics of the guest kit: trap frame, CPU helpers, paging. */
#ifndef GUEST_ARCH_X86_64_H
#define GUEST_ARCH_X86_64_H

#define KIT_ARCH "x86_64"
/* Selectors of the kit GDT (head64.S). */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_DS 0x1b
#define USER_CS 0x23
#define TSS_SEL 0x28

/* Paging: the kit identity-maps [0, 4 GiB) with 2 MiB pages, except page 0 (unmapped). */
#define _PAGE_PRESENT 0x001
#define _PAGE_RW 0x002
#define _PAGE_USER 0x004
#define _PAGE_PSE 0x080
#define KIT_MAPPED_END 0x100000000ULL

#ifndef __ASSEMBLY__
/* Saved by the trap stubs (head64.S), lowest address first. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t ip, cs, flags, sp, ss; /* pushed by the CPU */
};

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    asm volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline void outb(uint16_t port, uint8_t v)
{
    asm volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    asm volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline unsigned long read_cr2(void)
{
    unsigned long v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
static inline void invlpg(unsigned long va)
{
    asm volatile("invlpg (%0)" ::"r"(va) : "memory");
}

/* Set the 2 MiB mapping of va (< 4 GiB) to identity | flags (0: not present) and flush it. */
void pt_set_2m(uint64_t va, uint64_t flags);
/* Software-enable the xAPIC (SVR bit 8, spurious vector 0xff); signal end of interrupt. */
void apic_enable(void);
void apic_eoi(void);
void apic_self_ipi(uint8_t vector); /* fixed, edge */
unsigned int apic_id(void);         /* this CPU's xAPIC ID (Xen: 2 * vCPU id) */

/* Secondary vCPUs: a vCPU brought up with kit_vcpu_start() runs fn(cpu) on stack_top in the
 * kit's long mode (same page tables, GDT and IDT; interrupts off), and goes down if fn returns. */
typedef void (*kit_ap_fn_t)(unsigned int cpu);
struct vcpu_hvm_context;
/* The VCPUOP_initialise context kit_vcpu_start() uses (for tests that alter it). */
void kit_vcpu_context(struct vcpu_hvm_context *c, unsigned int cpu, kit_ap_fn_t fn,
                      void *stack_top);
/* VCPUOP_initialise then VCPUOP_up: 0 or the first error. */
long kit_vcpu_start(unsigned int cpu, kit_ap_fn_t fn, void *stack_top);

static inline void irq_enable(void)
{
    asm volatile("sti" ::: "memory");
}
static inline void irq_disable(void)
{
    asm volatile("cli" ::: "memory");
}
/* Enable interrupts and halt until one arrives (sti's shadow covers the hlt), then cli. */
static inline void safe_halt(void)
{
    asm volatile("sti; hlt; cli" ::: "memory");
}
#endif /* __ASSEMBLY__ */

#endif
