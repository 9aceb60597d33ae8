/* conformance: every implemented hypercall and sub-op, good and bad arguments, vs Xen 4.17. */
#include "kit.h"

#ifdef __x86_64__
#define BAD_VA 0x0UL /* the kit leaves page 0 unmapped */
#else
#define BAD_VA 0xe0000000UL /* paging off: a GPA in the MMIO hole, no RAM behind it */
#endif
#define BAD_PTR ((void *)BAD_VA)
#define BAD_GFN (0xe0000000UL >> 12)
#define DOMID_BAD 0x7fef     /* highest ordinary domid: no such domain */
#define SHINFO_GFN 0xf0000UL /* past the end of RAM */
#define XEN_4_17 0x00040011
#define OP_UNKNOWN 99
#define EXPECT(name, expr, val) test_expect_eq(name, (long)(expr), (long)(val))

static char buf[2048];
static uint8_t vcpu_info_page[PAGE_SIZE] __aligned(PAGE_SIZE);

/* Xen fills these strings with a NUL and zero padding up to their full size. */
static bool nul_padded(const char *s, size_t n)
{
    size_t len = strnlen(s, n);

    for (size_t i = len; i < n; i++)
        if (s[i])
            return false;
    return len < n;
}

static long xv(int cmd, void *arg)
{
    return HYPERVISOR_xen_version(cmd, arg);
}

static void test_xen_version(void)
{
    struct xen_compile_info ci;
    struct xen_platform_parameters pp;
    struct xen_feature_info fi = {.submap_idx = 0};
    uint32_t r[4];

    cpuid(xen_cpuid_base + 1, 0, r);
    EXPECT("XENVER_version is 4.17", xv(XENVER_version, NULL), XEN_4_17);
    EXPECT("XENVER_version matches CPUID base+1", xv(XENVER_version, NULL), r[0]);

    memset(buf, 0xaa, sizeof(buf));
    EXPECT("XENVER_extraversion", xv(XENVER_extraversion, buf), 0);
    test_ok(nul_padded(buf, sizeof(xen_extraversion_t)) &&
                buf[sizeof(xen_extraversion_t)] == (char)0xaa,
            "extraversion \"%.16s\" NUL-terminated, zero-padded, 16 bytes", buf);
    memset(&ci, 0xaa, sizeof(ci));
    EXPECT("XENVER_compile_info", xv(XENVER_compile_info, &ci), 0);
    test_ok(nul_padded(ci.compiler, sizeof(ci.compiler)) &&
                nul_padded(ci.compile_by, sizeof(ci.compile_by)) &&
                nul_padded(ci.compile_domain, sizeof(ci.compile_domain)) &&
                nul_padded(ci.compile_date, sizeof(ci.compile_date)),
            "compile_info fields NUL-padded");
    memset(buf, 0xaa, sizeof(buf));
    EXPECT("XENVER_capabilities", xv(XENVER_capabilities, buf), 0);
    test_ok(nul_padded(buf, sizeof(xen_capabilities_info_t)) && strstr(buf, "hvm-3.0-x86_64"),
            "capabilities \"%.100s\" NUL-padded, lists hvm-3.0-x86_64", buf);
    memset(buf, 0xaa, sizeof(buf));
    EXPECT("XENVER_changeset", xv(XENVER_changeset, buf), 0);
    test_ok(nul_padded(buf, sizeof(xen_changeset_info_t)), "changeset \"%.64s\" NUL-padded", buf);

    memset(&pp, 0xaa, sizeof(pp));
    EXPECT("XENVER_platform_parameters", xv(XENVER_platform_parameters, &pp), 0);
#ifdef __x86_64__
    /* 4.17 reports HYPERVISOR_VIRT_START to 64-bit callers (4.18 changed HVM to 0) */
    test_ok(pp.virt_start == HYPERVISOR_VIRT_START, "virt_start 0x%lx",
            (unsigned long)pp.virt_start);
#else
    printf("# platform_parameters virt_start 0x%lx\n", (unsigned long)pp.virt_start);
#endif

    EXPECT("XENVER_get_features submap 0", xv(XENVER_get_features, &fi), 0);
    test_ok(fi.submap & (1U << XENFEAT_auto_translated_physmap),
            "XENFEAT_auto_translated_physmap (0x%x)", fi.submap);
    /* Only features xhv really has: event channels deliver through a vector. */
    test_ok(fi.submap & (1U << XENFEAT_hvm_callback_vector), "XENFEAT_hvm_callback_vector");
    test_ok(fi.submap & (1U << XENFEAT_not_direct_mapped), "XENFEAT_not_direct_mapped");
    test_ok(!(fi.submap & (1U << XENFEAT_dom0)), "no XENFEAT_dom0 for a domU");
    fi.submap_idx = 1;
    EXPECT("get_features submap 1 -> -EINVAL", xv(XENVER_get_features, &fi), -XEN_EINVAL);
    EXPECT("get_features bad handle -> -EFAULT", xv(XENVER_get_features, BAD_PTR), -XEN_EFAULT);

    EXPECT("XENVER_pagesize", xv(XENVER_pagesize, NULL), 4096);
    EXPECT("XENVER_pagesize with arg -> -EINVAL", xv(XENVER_pagesize, buf), -XEN_EINVAL);
    memset(buf, 0xaa, sizeof(buf));
    EXPECT("XENVER_guest_handle", xv(XENVER_guest_handle, buf), 0);
    test_ok(buf[sizeof(xen_domain_handle_t)] == (char)0xaa, "guest_handle writes 16 bytes");
    /* XSM dummy denies commandline to a domU: Xen copies "<denied>" and returns 0 */
    memset(buf, 0xaa, sizeof(buf));
    EXPECT("XENVER_commandline (denied)", xv(XENVER_commandline, buf), 0);
    test_ok(!memcmp(buf, "<denied>", 9) && buf[9] == (char)0xaa,
            "commandline reads \"<denied>\" only");
    ((struct xen_build_id *)buf)->len = sizeof(buf) - sizeof(struct xen_build_id);
    EXPECT("XENVER_build_id -> -EPERM", xv(XENVER_build_id, buf), -XEN_EPERM);
    EXPECT("xen_version unknown sub-op -> -ENOSYS", xv(OP_UNKNOWN, buf), -XEN_ENOSYS);
    EXPECT("XENVER_extraversion bad handle -> -EFAULT", xv(XENVER_extraversion, BAD_PTR),
           -XEN_EFAULT);
}

static void test_console_io(void)
{
    static const char msg[] = "conformance: CONSOLEIO_write works\n";
    long rc;

    console_flush();
    EXPECT("CONSOLEIO_write", HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, msg), 0);
    EXPECT("CONSOLEIO_write count 0", HYPERVISOR_console_io(CONSOLEIO_write, 0, BAD_PTR), 0);
    EXPECT("CONSOLEIO_write bad buffer -> -EFAULT",
           HYPERVISOR_console_io(CONSOLEIO_write, 8, BAD_PTR), -XEN_EFAULT);
    EXPECT("CONSOLEIO_read count 0", HYPERVISOR_console_io(CONSOLEIO_read, 0, buf), 0);
    rc = HYPERVISOR_console_io(CONSOLEIO_read, 16, buf);
    test_ok(rc >= 0 && rc <= 16, "CONSOLEIO_read returns 0..16 (%ld)", rc);
    EXPECT("console_io unknown cmd -> -ENOSYS", HYPERVISOR_console_io(OP_UNKNOWN, 0, buf),
           -XEN_ENOSYS);
}

static void test_sched_op(void)
{
    struct sched_poll poll = {.nr_ports = 0};
    uint64_t t0;
    long rc;

    EXPECT("SCHEDOP_yield", HYPERVISOR_sched_op(SCHEDOP_yield, NULL), 0);
    EXPECT("sched_op unknown cmd -> -ENOSYS", HYPERVISOR_sched_op(OP_UNKNOWN, NULL), -XEN_ENOSYS);
    set_xen_guest_handle(poll.ports, NULL);
    t0 = xen_system_time();
    poll.timeout = t0 + 1000000;
    rc = HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
    EXPECT("SCHEDOP_poll no ports, 1 ms timeout", rc, 0);
    printf("# poll returned after %lu us\n", (unsigned long)((xen_system_time() - t0) / 1000));
    poll.nr_ports = 129;
    EXPECT("SCHEDOP_poll nr_ports 129 -> -EINVAL", HYPERVISOR_sched_op(SCHEDOP_poll, &poll),
           -XEN_EINVAL);
    EXPECT("SCHEDOP_poll bad arg -> -EFAULT", HYPERVISOR_sched_op(SCHEDOP_poll, BAD_PTR),
           -XEN_EFAULT);
}

/* XENMEM_memory_map entries are packed 20-byte e820 records {u64 addr; u64 size; u32 type}. */
static bool e820_equal(const uint8_t *rec, const struct hvm_memmap_table_entry *m)
{
    uint64_t addr, size;
    uint32_t type;

    memcpy(&addr, rec, 8);
    memcpy(&size, rec + 8, 8);
    memcpy(&type, rec + 16, 4);
    return addr == m->addr && size == m->size && type == m->type;
}

static void test_memory_map(void)
{
    const struct hvm_memmap_table_entry *m = (const void *)(uintptr_t)start_info->memmap_paddr;
    unsigned int n = start_info->memmap_entries;
    struct xen_memory_map mm = {.nr_entries = 16};
    bool same = true;

    memset(buf, 0xaa, sizeof(buf));
    set_xen_guest_handle(mm.buffer, buf);
    EXPECT("XENMEM_memory_map", HYPERVISOR_memory_op(XENMEM_memory_map, &mm), 0);
    EXPECT("memory_map entry count equals start_info", mm.nr_entries, n);
    for (unsigned int i = 0; i < n && i < mm.nr_entries; i++)
        same &= e820_equal((uint8_t *)buf + 20 * i, &m[i]);
    test_ok(same, "memory_map entries equal the start_info memmap");

    memset(buf, 0xaa, sizeof(buf));
    mm.nr_entries = 1;
    EXPECT("memory_map capacity 1", HYPERVISOR_memory_op(XENMEM_memory_map, &mm), 0);
    test_ok(mm.nr_entries == 1 && e820_equal((uint8_t *)buf, m) && (uint8_t)buf[20] == 0xaa,
            "capacity 1 gets exactly one entry");
    EXPECT("memory_map bad arg -> -EFAULT", HYPERVISOR_memory_op(XENMEM_memory_map, BAD_PTR),
           -XEN_EFAULT);
    mm.nr_entries = 16;
    set_xen_guest_handle(mm.buffer, BAD_PTR);
    EXPECT("memory_map bad buffer -> -EFAULT", HYPERVISOR_memory_op(XENMEM_memory_map, &mm),
           -XEN_EFAULT);
}

static long reservation_op(unsigned int cmd, domid_t id)
{
    return HYPERVISOR_memory_op(cmd, &id);
}

static uint64_t highest_ram_gfn(void)
{
    const struct hvm_memmap_table_entry *m = (const void *)(uintptr_t)start_info->memmap_paddr;
    uint64_t top = 0;

    for (unsigned int i = 0; i < start_info->memmap_entries; i++)
        if (m[i].type == XEN_HVM_MEMMAP_TYPE_RAM && m[i].addr + m[i].size > top)
            top = m[i].addr + m[i].size;
    return (top >> 12) - 1;
}

static void test_shared_info(void)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = SHINFO_GFN,
    };
    volatile struct shared_info *s = (void *)(SHINFO_GFN << 12);

    EXPECT("add_to_physmap shared_info", HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), 0);
    /* HVM: Xen clears shared_info and never masks the legacy slots (only PV builders do) */
    EXPECT("shared_info vcpu_info[0].evtchn_upcall_mask", s->vcpu_info[0].evtchn_upcall_mask, 0);
    test_ok(!(s->wc_version & 1), "shared_info wc_version %u is even", s->wc_version);
    xatp.idx = 1;
    EXPECT("add_to_physmap shared_info idx 1 -> -EINVAL",
           HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_EINVAL);
    xatp.idx = 0;
    xatp.space = OP_UNKNOWN;
    EXPECT("add_to_physmap unknown space -> -EINVAL",
           HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_EINVAL);
    xatp.space = XENMAPSPACE_shared_info;
    xatp.domid = DOMID_BAD;
    EXPECT("add_to_physmap bad domid -> -ESRCH", HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp),
           -XEN_ESRCH);
    EXPECT("add_to_physmap bad arg -> -EFAULT",
           HYPERVISOR_memory_op(XENMEM_add_to_physmap, BAD_PTR), -XEN_EFAULT);
}

static void test_decrease_reservation(void)
{
    uintptr_t scratch = (kit_used_end() + 0x1fffff) & ~0x1fffffUL;
    xen_pfn_t gfn = scratch >> 12;
    struct xen_memory_reservation r = {.nr_extents = 1, .extent_order = 0, .domid = DOMID_SELF};
    long before = reservation_op(XENMEM_current_reservation, DOMID_SELF);

    if (!kit_is_ram(scratch, PAGE_SIZE)) {
        test_skip("no free RAM page at 0x%lx for decrease_reservation", (unsigned long)scratch);
        return;
    }
    *(volatile uint32_t *)scratch = 0x12345678;
    set_xen_guest_handle(r.extent_start, &gfn);
    EXPECT("decrease_reservation of one page",
           HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), 1);
    EXPECT("current_reservation drops by one",
           reservation_op(XENMEM_current_reservation, DOMID_SELF), before - 1);
    test_ok(*(volatile uint8_t *)scratch == 0xff &&
                *(volatile uint32_t *)(scratch + 64) == 0xffffffff,
            "the freed GFN 0x%lx reads as a hole (0xff)", (unsigned long)gfn);
    EXPECT("console_io from the freed GFN -> -EFAULT",
           HYPERVISOR_console_io(CONSOLEIO_write, 8, (void *)scratch), -XEN_EFAULT);
    set_xen_guest_handle(r.extent_start, BAD_PTR);
    EXPECT("decrease_reservation bad extent_start -> 0 done",
           HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), 0);
    set_xen_guest_handle(r.extent_start, &gfn);
    r.domid = DOMID_BAD;
    EXPECT("decrease_reservation bad domid -> 0 done",
           HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), 0);
}

static void test_memory_op(void)
{
    long cur;

    test_memory_map();
    test_ok(HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL) > 0, "XENMEM_maximum_ram_page > 0");
    cur = reservation_op(XENMEM_current_reservation, DOMID_SELF);
    test_ok(cur > 0, "current_reservation %ld pages", cur);
    test_ok(cur > 0 && reservation_op(XENMEM_maximum_reservation, DOMID_SELF) >= cur,
            "maximum_reservation >= current");
    EXPECT("current_reservation bad domid -> -ESRCH",
           reservation_op(XENMEM_current_reservation, DOMID_BAD), -XEN_ESRCH);
    EXPECT("maximum_reservation bad domid -> -ESRCH",
           reservation_op(XENMEM_maximum_reservation, DOMID_BAD), -XEN_ESRCH);
    EXPECT("maximum_gpfn bad domid -> -ESRCH", reservation_op(XENMEM_maximum_gpfn, DOMID_BAD),
           -XEN_ESRCH);
    EXPECT("current_reservation bad arg -> -EFAULT",
           HYPERVISOR_memory_op(XENMEM_current_reservation, BAD_PTR), -XEN_EFAULT);
    test_ok(reservation_op(XENMEM_maximum_gpfn, DOMID_SELF) >= (long)highest_ram_gfn(),
            "maximum_gpfn >= highest RAM GFN 0x%lx", (unsigned long)highest_ram_gfn());
    test_shared_info();
    test_decrease_reservation();
    EXPECT("memory_op unknown sub-op -> -ENOSYS", HYPERVISOR_memory_op(50, buf), -XEN_ENOSYS);
}

static long param_op(int op, domid_t id, uint32_t index, uint64_t *value)
{
    struct xen_hvm_param p = {.domid = id, .index = index, .value = *value};
    long rc = HYPERVISOR_hvm_op(op, &p);

    *value = p.value;
    return rc;
}

static void test_hvm_op(void)
{
    static const uint32_t ring_params[] = {HVM_PARAM_CONSOLE_PFN, HVM_PARAM_STORE_PFN,
                                           HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_STORE_EVTCHN};
    char name[64];
    uint64_t v = 0xdead, t1, t2;

    EXPECT("get_param CALLBACK_IRQ",
           param_op(HVMOP_get_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v), 0);
    EXPECT("CALLBACK_IRQ value", v, 0);
    for (unsigned int i = 0; i < ARRAY_SIZE(ring_params); i++) {
        v = 0xdead;
        snprintf(name, sizeof(name), "get_param %u (no PV console/xenstore: 0)", ring_params[i]);
        EXPECT(name, param_op(HVMOP_get_param, DOMID_SELF, ring_params[i], &v) ?: (long)v, 0);
    }
    EXPECT("get_param index HVM_NR_PARAMS -> -EINVAL",
           param_op(HVMOP_get_param, DOMID_SELF, HVM_NR_PARAMS, &v), -XEN_EINVAL);
    EXPECT("get_param IDENT_PT -> -EPERM",
           param_op(HVMOP_get_param, DOMID_SELF, HVM_PARAM_IDENT_PT, &v), -XEN_EPERM);
    EXPECT("get_param bad domid -> -ESRCH",
           param_op(HVMOP_get_param, DOMID_BAD, HVM_PARAM_CALLBACK_IRQ, &v), -XEN_ESRCH);
    EXPECT("get_param bad arg -> -EFAULT", HYPERVISOR_hvm_op(HVMOP_get_param, BAD_PTR),
           -XEN_EFAULT);
    v = 0;
    EXPECT("set_param CALLBACK_IRQ 0",
           param_op(HVMOP_set_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v), 0);
    v = 0x1234;
    EXPECT("set_param STORE_PFN -> -EPERM",
           param_op(HVMOP_set_param, DOMID_SELF, HVM_PARAM_STORE_PFN, &v), -XEN_EPERM);
    EXPECT("set_param index HVM_NR_PARAMS -> -EINVAL",
           param_op(HVMOP_set_param, DOMID_SELF, HVM_NR_PARAMS, &v), -XEN_EINVAL);
    t1 = xen_system_time();
    t2 = xen_system_time();
    test_ok(t1 > 0 && t2 > t1, "HVMOP_get_time increases (%lu us, +%lu ns)",
            (unsigned long)(t1 / 1000), (unsigned long)(t2 - t1));
    EXPECT("get_time bad arg -> -EFAULT", HYPERVISOR_hvm_op(HVMOP_get_time, BAD_PTR), -XEN_EFAULT);
    EXPECT("hvm_op unknown op -> -ENOSYS", HYPERVISOR_hvm_op(OP_UNKNOWN, buf), -XEN_ENOSYS);
}

static void test_register_vcpu_info(void)
{
    struct vcpu_register_vcpu_info info = {.mfn = (uintptr_t)vcpu_info_page >> 12, .offset = 2};
    volatile struct vcpu_info *vi = (void *)(vcpu_info_page + 64);

    EXPECT("register_vcpu_info misaligned -> -ENXIO",
           HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &info), -XEN_ENXIO);
    info.offset = PAGE_SIZE - 32;
    EXPECT("register_vcpu_info crossing the page -> -ENXIO",
           HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &info), -XEN_ENXIO);
    info.mfn = BAD_GFN;
    info.offset = 64;
    EXPECT("register_vcpu_info non-RAM GFN -> -EINVAL",
           HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &info), -XEN_EINVAL);
    EXPECT("register_vcpu_info bad arg -> -EFAULT",
           HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, BAD_PTR), -XEN_EFAULT);
    info.mfn = (uintptr_t)vcpu_info_page >> 12;
    EXPECT("register_vcpu_info", HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &info), 0);
    /* Xen copies the legacy slot, then marks everything pending (a deliberate spurious event) */
    test_ok(vi->evtchn_upcall_mask == 0 && vi->evtchn_upcall_pending == 1 &&
                vi->evtchn_pending_sel == (xen_ulong_t)~0UL,
            "new vcpu_info: mask copied (0), upcall pending, pending_sel all ones");
    EXPECT("register_vcpu_info again -> -EINVAL (4.17)",
           HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &info), -XEN_EINVAL);
}

static void test_vcpu_op(void)
{
    struct vcpu_runstate_info rs;
    unsigned int nr = 1;

    EXPECT("VCPUOP_is_up vcpu 0", HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
    while (nr < 4096 && HYPERVISOR_vcpu_op(VCPUOP_is_up, nr, NULL) >= 0)
        nr++;
    printf("# %u vCPU(s)\n", nr);
    EXPECT("is_up vcpuid == nr_vcpus -> -ENOENT", HYPERVISOR_vcpu_op(VCPUOP_is_up, nr, NULL),
           -XEN_ENOENT);
    EXPECT("is_up vcpuid 0xffffffff -> -ENOENT",
           HYPERVISOR_vcpu_op(VCPUOP_is_up, 0xffffffffU, NULL), -XEN_ENOENT);
    memset(&rs, 0xaa, sizeof(rs));
    EXPECT("VCPUOP_get_runstate_info", HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &rs), 0);
    EXPECT("runstate state is RUNSTATE_running", rs.state, RUNSTATE_running);
    test_ok(rs.time[RUNSTATE_running] > 0 && rs.time[RUNSTATE_running] != 0xaaaaaaaaaaaaaaaaULL,
            "time[running] = %lu us", (unsigned long)(rs.time[RUNSTATE_running] / 1000));
    EXPECT("get_runstate_info bad arg -> -EFAULT",
           HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, BAD_PTR), -XEN_EFAULT);
    EXPECT("vcpu_op unknown cmd -> -ENOSYS", HYPERVISOR_vcpu_op(OP_UNKNOWN, 0, buf), -XEN_ENOSYS);
    test_register_vcpu_info();
}

static void test_vm_assist(void)
{
    EXPECT("vm_assist enable runstate_update_flag",
           HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag), 0);
    EXPECT("vm_assist enable 4gb_segments -> -EINVAL",
           HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_4gb_segments), -XEN_EINVAL);
    EXPECT("vm_assist unknown cmd -> -ENOSYS",
           HYPERVISOR_vm_assist(7, VMASST_TYPE_runstate_update_flag), -XEN_ENOSYS);
}

/* Numbers past the page's 128 stubs: issue stub 0's instructions with another immediate. */
static long hypercall_raw(uint32_t nr)
{
    static uint8_t stub[32] __aligned(32);

    memcpy(stub, hypercall_page, sizeof(stub));
    memcpy(stub + 1, &nr, sizeof(nr));
    return _hypercall_stub(stub, 0, 0, 0, 0, 0);
}

static void test_numbers(void)
{
    bool stubs_ok = true;

    for (uint32_t i = 0; i < PAGE_SIZE / 32; i++) {
        uint32_t imm;

        memcpy(&imm, hypercall_page + 32 * i + 1, sizeof(imm));
        if (i != __HYPERVISOR_iret && (hypercall_page[32 * i] != 0xb8 || imm != i))
            stubs_ok = false;
    }
    test_ok(stubs_ok, "hypercall page: stub i starts with mov $i, %%eax");
    test_ok(hypercall_page[32 * __HYPERVISOR_iret] == 0x0f &&
                hypercall_page[32 * __HYPERVISOR_iret + 1] == 0x0b,
            "hypercall page: stub 23 (iret) is ud2");
    EXPECT("hypercall 2 (set_gdt) -> -ENOSYS", _hypercall5(__HYPERVISOR_set_gdt, 0, 0, 0, 0, 0),
           -XEN_ENOSYS);
    EXPECT("hypercall 63 -> -ENOSYS", _hypercall5(63, 0, 0, 0, 0, 0), -XEN_ENOSYS);
    EXPECT("hypercall 0x1000 -> -ENOSYS", hypercall_raw(0x1000), -XEN_ENOSYS);
}

int main(void)
{
    struct sched_shutdown s;

    printf("conformance (%s): Xen 4.17 semantics for an unprivileged PVH domU\n", KIT_ARCH);
    test_numbers();
    test_xen_version();
    test_console_io();
    test_sched_op();
    test_memory_op();
    test_hvm_op();
    test_vcpu_op();
    test_vm_assist();
    /* last: the first recorded shutdown code wins, so record the verdict test_finish() uses */
    s.reason = test_failures() ? SHUTDOWN_crash : SHUTDOWN_poweroff;
    EXPECT("SCHEDOP_shutdown_code", HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &s), 0);
    return 0;
}
