/* hypercall.c: hypercall page discovery (CPUID 0x4000xx00 + MSR) and small helpers. */
#include "kit.h"

uint8_t hypercall_page[PAGE_SIZE] __aligned(PAGE_SIZE);
uint32_t xen_cpuid_base;
bool hypercall_ready;

static uint32_t find_xen_base(void)
{
    uint32_t r[4];

    for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
        cpuid(base, 0, r);
        if (r[1] == XEN_CPUID_SIGNATURE_EBX && r[2] == XEN_CPUID_SIGNATURE_ECX &&
            r[3] == XEN_CPUID_SIGNATURE_EDX && r[0] - base >= 2)
            return base;
    }
    return 0;
}

void hypercall_init(void)
{
    uint32_t r[4];

    xen_cpuid_base = find_xen_base();
    if (!xen_cpuid_base) {
        printf("kit: no Xen CPUID leaves (XenVMMXenVMM)\n");
        kit_triple_fault();
    }
    cpuid(xen_cpuid_base + 2, 0, r);
    wrmsr(r[1], (uint64_t)(uintptr_t)hypercall_page);
    if (hypercall_page[0] != 0xb8) { /* mov $0, %eax */
        printf("kit: hypercall page not written (MSR 0x%x, byte 0 = 0x%x)\n", r[1],
               hypercall_page[0]);
        kit_triple_fault();
    }
    hypercall_ready = true;
    cpuid(xen_cpuid_base + 1, 0, r);
    printf("kit: %s guest, Xen %u.%u (CPUID base 0x%x), hypercall page at %p\n", KIT_ARCH,
           r[0] >> 16, r[0] & 0xffff, xen_cpuid_base, (void *)hypercall_page);
}

uint64_t xen_system_time(void)
{
    struct xen_hvm_get_time t = {0};

    return HYPERVISOR_hvm_op(HVMOP_get_time, &t) ? 0 : t.now;
}
