/* hello: prints a greeting, the Xen version, the command line and the E820 map from start_info. */
#include "kit.h"

static const char *e820_name(uint32_t type)
{
    switch (type) {
    case XEN_HVM_MEMMAP_TYPE_RAM:
        return "RAM";
    case XEN_HVM_MEMMAP_TYPE_RESERVED:
        return "reserved";
    case XEN_HVM_MEMMAP_TYPE_ACPI:
        return "ACPI";
    case XEN_HVM_MEMMAP_TYPE_NVS:
        return "NVS";
    default:
        return "other";
    }
}

int main(void)
{
    const struct hvm_memmap_table_entry *m = (const void *)(uintptr_t)start_info->memmap_paddr;
    xen_extraversion_t extra = "";
    long ver = HYPERVISOR_xen_version(XENVER_version, NULL);
    uint32_t r[4];

    printf("Hello from a Xen PVH guest on xhv\n");
    HYPERVISOR_xen_version(XENVER_extraversion, extra);
    printf("Xen version %ld.%ld%s\n", ver >> 16, ver & 0xffff, extra);
    printf("cmdline: \"%s\"\n", kit_cmdline());
    printf("E820 map (%u entries):\n", start_info->memmap_entries);
    for (unsigned int i = 0; i < start_info->memmap_entries; i++)
        printf("  [%u] 0x%016llx-0x%016llx type %u (%s)\n", i, (unsigned long long)m[i].addr,
               (unsigned long long)(m[i].addr + m[i].size - 1), m[i].type, e820_name(m[i].type));

    cpuid(xen_cpuid_base + 1, 0, r);
    test_ok(start_info->magic == XEN_HVM_START_MAGIC_VALUE, "start_info magic");
    test_ok(ver == (long)r[0], "XENVER_version matches CPUID leaf base+1 (0x%lx)", ver);
    test_ok(start_info->memmap_entries > 0, "start_info has a memory map");
    return 0;
}
