/* badptr: hypercall handles that are NULL, unmapped, non-canonical, wrapping, read-only... */
#include "kit.h"

#define NONCANON 0x8000000000000000UL
#define WRAP 0xfffffffffffffff0UL
#define XEN_RANGE 0xffff800000000000UL /* where a PV guest would see Xen */
#define NO_RAM_VA 0xe0000000UL         /* identity-mapped, but no RAM behind the GPA */
#define EXPECT(name, expr, val) test_expect_eq(name, (long)(expr), (long)(val))

static long cons_write(unsigned long va, unsigned int len)
{
    return HYPERVISOR_console_io(CONSOLEIO_write, len, (const void *)va);
}

static long extraversion_to(unsigned long va)
{
    return HYPERVISOR_xen_version(XENVER_extraversion, (void *)va);
}

/* The same family of calls against one bad address. */
static void bad_address(const char *what, unsigned long va)
{
    char name[96];
    struct xen_memory_map mm = {.nr_entries = 4};

    snprintf(name, sizeof(name), "%s: console_io write -> -EFAULT", what);
    EXPECT(name, cons_write(va, 16), -XEN_EFAULT);
    snprintf(name, sizeof(name), "%s: XENVER_extraversion -> -EFAULT", what);
    EXPECT(name, extraversion_to(va), -XEN_EFAULT);
    snprintf(name, sizeof(name), "%s: XENVER_get_features -> -EFAULT", what);
    EXPECT(name, HYPERVISOR_xen_version(XENVER_get_features, (void *)va), -XEN_EFAULT);
    snprintf(name, sizeof(name), "%s: HVMOP_get_time -> -EFAULT", what);
    EXPECT(name, HYPERVISOR_hvm_op(HVMOP_get_time, (void *)va), -XEN_EFAULT);
    snprintf(name, sizeof(name), "%s: VCPUOP_get_runstate_info -> -EFAULT", what);
    EXPECT(name, HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, (void *)va), -XEN_EFAULT);
    snprintf(name, sizeof(name), "%s: SCHEDOP_poll -> -EFAULT", what);
    EXPECT(name, HYPERVISOR_sched_op(SCHEDOP_poll, (void *)va), -XEN_EFAULT);
    snprintf(name, sizeof(name), "%s: memory_map buffer handle -> -EFAULT", what);
    set_xen_guest_handle(mm.buffer, (void *)va);
    EXPECT(name, HYPERVISOR_memory_op(XENMEM_memory_map, &mm), -XEN_EFAULT);
}

static void hypercall_page_target(void)
{
    xen_extraversion_t good;
    uint8_t *slot = hypercall_page + PAGE_SIZE - 32; /* stub 127: never called */

    HYPERVISOR_xen_version(XENVER_extraversion, good);
    /* the page is ordinary guest RAM to Xen: the copy lands there */
    EXPECT("extraversion into the hypercall page (RAM) -> 0", extraversion_to((unsigned long)slot),
           0);
    test_ok(!memcmp(slot, good, sizeof(good)), "copy-out really landed in the hypercall page");
    test_ok(hypercall_page[32 * __HYPERVISOR_xen_version] == 0xb8, "xen_version stub still intact");
    EXPECT("a hypercall still works afterwards", HYPERVISOR_xen_version(XENVER_pagesize, NULL),
           4096);
}

int main(void)
{
    uint64_t hole = (kit_used_end() + 0x1fffff) & ~0x1fffffUL, ro = hole + 0x200000;
    static const char ro_msg[] = "badptr: copy-in from a read-only page works\n";

    printf("badptr: hole (no PTE) at 0x%lx, read-only 2 MiB page at 0x%lx\n", (unsigned long)hole,
           (unsigned long)ro);
    pt_set_2m(hole, 0);

    bad_address("NULL", 0);
    bad_address("unmapped GVA", hole);
    bad_address("non-canonical", NONCANON);
    bad_address("hypervisor range", XEN_RANGE);
    bad_address("GVA mapped to no RAM", NO_RAM_VA);
    EXPECT("wrapping buffer (0xfff...f0 + 0x100) -> -EFAULT", cons_write(WRAP, 0x100), -XEN_EFAULT);
    EXPECT("capabilities copy-out wrapping -> -EFAULT",
           HYPERVISOR_xen_version(XENVER_capabilities, (void *)(WRAP - 0xf0)), -XEN_EFAULT);
    EXPECT("console_io crossing mapped -> unmapped -> -EFAULT", cons_write(hole - 16, 32),
           -XEN_EFAULT);
    EXPECT("extraversion crossing mapped -> unmapped -> -EFAULT", extraversion_to(hole - 8),
           -XEN_EFAULT);

    if (kit_is_ram(ro, 0x200000)) {
        memcpy((void *)ro, ro_msg, sizeof(ro_msg));
        memset((void *)(ro + 4096), 0x5a, 16);
        pt_set_2m(ro, _PAGE_PRESENT | _PAGE_USER); /* CR0.WP is set by the kit */
        EXPECT("extraversion into a read-only page -> -EFAULT", extraversion_to(ro + 4096),
               -XEN_EFAULT);
        test_ok(*(volatile uint8_t *)(ro + 4096) == 0x5a, "read-only page left unchanged");
        console_flush();
        EXPECT("console_io from a read-only page", cons_write(ro, sizeof(ro_msg) - 1), 0);
    } else {
        test_skip("no RAM at 0x%lx for the read-only page", (unsigned long)ro);
    }

    hypercall_page_target();
    EXPECT("guest alive: XENVER_version", HYPERVISOR_xen_version(XENVER_version, NULL), 0x00040011);
    return 0;
}
