/* arch-x86_32.h: 32-bit (protected mode, paging off) specifics of the guest kit. */
#ifndef GUEST_ARCH_X86_32_H
#define GUEST_ARCH_X86_32_H

#define KIT_ARCH "x86_32"
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10

#ifndef __ASSEMBLY__
/* Saved by the trap stubs (head32.S), lowest address first (pusha order). */
struct trap_frame {
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t ip, cs, flags; /* pushed by the CPU (same privilege: no ss/esp) */
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
    uint64_t v;
    asm volatile("rdtsc" : "=A"(v));
    return v;
}
static inline unsigned long read_cr2(void)
{
    unsigned long v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

/* Paging is off: linear == physical, everything below 4 GiB is addressable. */
#define KIT_MAPPED_END 0x100000000ULL

#endif /* __ASSEMBLY__ */

#endif
