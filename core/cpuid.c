/* cpuid.c: the Xen hypervisor CPUID leaves (0x40000000 + 0..5) as xhv presents them. */
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "core/time.h"

uint32_t xhv_tsc_khz;
char xhv_cmdline[1024];

void xhv_set_cmdline(int argc, char **argv)
{
    for (int i = 0, n = 0; i < argc && n < (int)sizeof(xhv_cmdline) - 1; i++)
        n += snprintf(xhv_cmdline + n, sizeof(xhv_cmdline) - (size_t)n, "%s%s", i ? " " : "",
                      argv[i]);
}
const struct accel_ops *xhv_accel;

/* ns = ((tsc << shift) * mul_frac) >> 32, as Xen's set_time_scale() computes it. */
void time_scale(uint64_t hz, uint32_t *mul_frac, int8_t *shift)
{
    uint64_t tps64 = hz, ns = 1000000000ull;
    int s = 0;
    if (!hz) {
        *mul_frac = 0, *shift = 0;
        return;
    }
    while (tps64 > ns * 2) {
        tps64 >>= 1;
        s--;
    }
    while (tps64 <= ns) {
        tps64 <<= 1;
        s++;
    }
    *mul_frac = (uint32_t)((ns << 32) / tps64);
    *shift = (int8_t)s;
}

void xen_cpuid_leaf(const struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    memset(out, 0, 4 * sizeof(out[0]));
    switch (leaf - XEN_CPUID_BASE) {
    case 0:
        out[0] = XEN_CPUID_BASE + XEN_CPUID_LIMIT;
        out[1] = XEN_CPUID_SIGNATURE_EBX;
        out[2] = XEN_CPUID_SIGNATURE_ECX;
        out[3] = XEN_CPUID_SIGNATURE_EDX;
        break;
    case 1:
        out[0] = (XHV_VERSION_MAJOR << 16) | XHV_VERSION_MINOR;
        break;
    case 2:
        out[0] = 1; /* one hypercall page */
        out[1] = XEN_HYPERCALL_MSR;
        break;
    case 3:
        cpuid_time_leaf(v->domain, subleaf, out); /* core/pvclock.c */
        break;
    case 4:
        if (subleaf != 0)
            break;
        /* Only what xhv really provides: the per-vCPU upcall vector (event channels), no
         * IOMMU, no APIC virtualisation. */
        out[0] = XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT |
                 XEN_HVM_CPUID_UPCALL_VECTOR;
        out[1] = v->vcpu_id;
        out[2] = v->domain->domain_id;
        break;
    default:
        break; /* base+5 is PV-only; everything beyond the limit reads as zero */
    }
}
