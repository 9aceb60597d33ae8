/* test_dispatch.c: hypercall dispatch (CPL, ABIs, unknown numbers, re-entry), the hypercall
 * page MSR, and the non-hypercall exits of the vCPU loop, driven without KVM. */
#include <string.h>

#include "core/accel.h"
#include "core/core.h"
#include "core/hypercall.h"
#include "core/xhv_ports.h"
#include "tests/unit/harness.h"

static const struct accel_ops null_ops = {.name = "test-null"};

static struct domain *mkdom(void)
{
    struct domain_config cfg = {.mem_bytes = 8 << 20, .max_vcpus = 2, .name = "t"};
    int rc;
    struct domain *d = domain_create(0, &cfg, &null_ops, &rc);
    CHECK(d != NULL);
    return d;
}

static struct vm_exit hcall64(uint64_t nr, uint64_t a1, uint64_t a2)
{
    struct vm_exit ex = {.reason = VMEXIT_HCALL, .cpu_valid = true};
    ex.cpu.gpr[R_AX] = nr, ex.cpu.gpr[R_DI] = a1, ex.cpu.gpr[R_SI] = a2;
    ex.cpu.efer = 0x500, ex.cpu.cs_l = true, ex.cpu.cr0 = 0x11;
    return ex;
}

static struct vm_exit hcall32(uint64_t nr, uint64_t a1, uint64_t a2)
{
    struct vm_exit ex = {.reason = VMEXIT_HCALL, .cpu_valid = true};
    ex.cpu.gpr[R_AX] = nr, ex.cpu.gpr[R_BX] = a1, ex.cpu.gpr[R_CX] = a2;
    ex.cpu.cr0 = 0x11;
    return ex;
}

TEST(dispatch_version_both_abis)
{
    struct domain *d = mkdom();
    struct vm_exit ex = hcall64(__HYPERVISOR_xen_version, XENVER_version, 0);
    CHECK(vcpu_handle_exit(d->vcpu[0], &ex));
    CHECK_EQ(ex.ret, 0x00040011);
    ex = hcall32(__HYPERVISOR_xen_version, XENVER_version, 0);
    vcpu_handle_exit(d->vcpu[0], &ex);
    CHECK_EQ(ex.ret, 0x00040011);
    /* 32-bit callers: only EAX/EBX count, the upper halves are ignored */
    ex = hcall32(0xdead000000000000ull | __HYPERVISOR_xen_version, 0xffffffff00000000ull, 0);
    vcpu_handle_exit(d->vcpu[0], &ex);
    CHECK_EQ(ex.ret, 0x00040011);
    domain_destroy(d);
}

TEST(dispatch_unknown_numbers_enosys)
{
    struct domain *d = mkdom();
    const uint64_t nrs[] = {2,  23,   41,         63,
                            64, 1000, 1ull << 40, (1ull << 32) | __HYPERVISOR_xen_version};
    for (unsigned i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
        struct vm_exit ex = hcall64(nrs[i], 0, 0);
        CHECK(vcpu_handle_exit(d->vcpu[0], &ex));
        CHECK_EQ((int64_t)ex.ret, -XEN_ENOSYS);
    }
    struct vm_exit ex = hcall32(1000, 0, 0);
    vcpu_handle_exit(d->vcpu[0], &ex);
    CHECK_EQ(ex.ret, (uint32_t)-XEN_ENOSYS); /* EAX gets the 32-bit errno */
    domain_destroy(d);
}

TEST(dispatch_cpl3_eperm_and_not_run)
{
    struct domain *d = mkdom();
    struct vm_exit ex = hcall64(__HYPERVISOR_sched_op, SCHEDOP_shutdown, 0);
    ex.cpu.cpl = 3;
    CHECK(vcpu_handle_exit(d->vcpu[0], &ex));
    CHECK_EQ((int64_t)ex.ret, -XEN_EPERM);
    CHECK(domain_is_running(d));
    ex = hcall32(__HYPERVISOR_xen_version, 0, 0);
    ex.cpu.cpl = 1;
    vcpu_handle_exit(d->vcpu[0], &ex);
    CHECK_EQ(ex.ret, (uint32_t)-XEN_EPERM);
    ex = hcall32(__HYPERVISOR_xen_version, 0, 0);
    ex.cpu.rflags = 1u << 17; /* virtual-8086 mode */
    vcpu_handle_exit(d->vcpu[0], &ex);
    CHECK_EQ(ex.ret, (uint32_t)-XEN_EPERM);
    CHECK(!d->vcpu[0]->in_hypercall);
    domain_destroy(d);
}

TEST(dispatch_reentry_refused)
{
    struct domain *d = mkdom();
    struct vm_exit ex = hcall64(__HYPERVISOR_xen_version, XENVER_version, 0);
    d->vcpu[0]->in_hypercall = true;
    vcpu_handle_exit(d->vcpu[0], &ex);
    CHECK_EQ((int64_t)ex.ret, -XEN_EBUSY);
    d->vcpu[0]->in_hypercall = false;
    domain_destroy(d);
}

TEST(dispatch_table_shape)
{
    CHECK(hypercall_table[__HYPERVISOR_memory_op].fn == do_memory_op);
    CHECK_EQ(hypercall_table[__HYPERVISOR_console_io].nargs, 3);
    CHECK(!strcmp(hypercall_table[__HYPERVISOR_xen_version].name, "xen_version"));
    CHECK(hypercall_table[__HYPERVISOR_iret].fn == NULL);
    CHECK(hypercall_table[11].name == NULL);
}

static struct vm_exit msr_write(uint32_t idx, uint64_t val, bool is64)
{
    struct vm_exit ex = {.reason = VMEXIT_MSR_WRITE, .cpu_valid = true};
    ex.msr.index = idx, ex.msr.data = val;
    if (is64)
        ex.cpu.efer = 0x500, ex.cpu.cs_l = true;
    return ex;
}

TEST(hypercall_page_contents)
{
    struct domain *d = mkdom();
    struct p2m_entry e;
    struct vm_exit ex = msr_write(XEN_HYPERCALL_MSR, 0x5000, true);
    vcpu_handle_exit(d->vcpu[0], &ex);
    CHECK(!ex.inject_gp);
    CHECK(p2m_lookup(d, 5, &e) == 0);
    const uint8_t *p = e.hva;
    for (unsigned i = 0; i < 128; i++) {
        const uint8_t *s = p + 32 * i;
        if (i == __HYPERVISOR_iret) {
            CHECK(s[0] == 0x0f && s[1] == 0x0b && s[2] == 0xcc);
            continue;
        }
        uint32_t imm;
        memcpy(&imm, s + 1, 4);
        CHECK(s[0] == 0xb8 && imm == i && s[5] == 0xe7 && s[6] == XHV_HCALL_PORT && s[7] == 0xc3);
        for (int j = 8; j < 32; j++)
            CHECK(s[j] == 0xcc);
    }
    CHECK(!d->has_32bit_shinfo);
    ex = msr_write(XEN_HYPERCALL_MSR, 0x6000, false); /* a 32-bit caller latches compat */
    vcpu_handle_exit(d->vcpu[0], &ex);
    CHECK(!ex.inject_gp && d->has_32bit_shinfo);
    domain_destroy(d);
}

TEST(hypercall_page_msr_bad_values_gp)
{
    struct domain *d = mkdom();
    const uint64_t bad[] = {0x5001, 0x5800, 0xf0000000ull << 4, 1ull << 52, ~0ull};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct vm_exit ex = msr_write(XEN_HYPERCALL_MSR, bad[i], true);
        vcpu_handle_exit(d->vcpu[0], &ex);
        CHECK(ex.inject_gp);
    }
    /* a special page is not guest RAM */
    struct vm_exit ex = msr_write(XEN_HYPERCALL_MSR, XHV_SPECIAL_GFN(7) << 12, true);
    vcpu_handle_exit(d->vcpu[0], &ex);
    CHECK(ex.inject_gp);
    ex = msr_write(XEN_HYPERCALL_MSR + 1, 0x5000, true);
    vcpu_handle_exit(d->vcpu[0], &ex);
    CHECK(ex.inject_gp);
    ex =
        (struct vm_exit){.reason = VMEXIT_MSR_READ, .msr = {.index = XEN_HYPERCALL_MSR, .data = 7}};
    vcpu_handle_exit(d->vcpu[0], &ex);
    CHECK(!ex.inject_gp && ex.msr.data == 0);
    CHECK_EQ(d->hcall_page_writes, 0);
    domain_destroy(d);
}

TEST(exit_io_mmio_holes)
{
    struct domain *d = mkdom();
    uint8_t buf[8];
    struct vm_exit ex = {.reason = VMEXIT_IO};
    ex.io.port = 0x70, ex.io.size = 2, ex.io.count = 2, ex.io.out = false, ex.io.data = buf;
    memset(buf, 0, sizeof(buf));
    CHECK(vcpu_handle_exit(d->vcpu[0], &ex));
    CHECK(buf[0] == 0xff && buf[3] == 0xff && buf[4] == 0);
    ex = (struct vm_exit){.reason = VMEXIT_MMIO};
    ex.mmio.gpa = 0xe0000000, ex.mmio.size = 4, ex.mmio.data = buf;
    memset(buf, 0, sizeof(buf));
    CHECK(vcpu_handle_exit(d->vcpu[0], &ex));
    CHECK(buf[0] == 0xff && buf[3] == 0xff && buf[4] == 0);
    memcpy(buf, "hi\n", 3);
    ex = (struct vm_exit){.reason = VMEXIT_IO};
    ex.io.port = XHV_DEBUGCON_PORT, ex.io.size = 1, ex.io.count = 3, ex.io.out = true,
    ex.io.data = buf;
    CHECK(vcpu_handle_exit(d->vcpu[0], &ex));
    CHECK(d->console.prod == 3 && !memcmp(d->console.ring, "hi\n", 3));
    domain_destroy(d);
}

/* A slot-less exit on a GPA the p2m maps (another vCPU was splitting a memory slot) is done
 * on the page itself, also across a page boundary; RAM next to a hole stays partial. */
TEST(exit_mmio_on_ram_during_slot_change)
{
    struct domain *d = mkdom();
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8];
    struct vm_exit ex = {.reason = VMEXIT_MMIO};
    ex.mmio.gpa = 0x1ffc, ex.mmio.size = 8, ex.mmio.write = true, ex.mmio.data = buf;
    CHECK(vcpu_handle_exit(d->vcpu[0], &ex));
    CHECK_EQ(copy_from_gpa(d, out, 0x1ffc, 8), 0);
    CHECK(!memcmp(out, buf, 8));
    memset(buf, 0, sizeof(buf));
    ex.mmio.write = false, ex.mmio.gpa = 0x1ffe, ex.mmio.size = 4;
    CHECK(vcpu_handle_exit(d->vcpu[0], &ex));
    CHECK(buf[0] == 3 && buf[3] == 6 && buf[4] == 0);
    domain_destroy(d);
}

TEST(exit_triple_fault_crashes_domain_only)
{
    struct domain *d = mkdom(), *other = mkdom();
    struct vm_exit ex = {.reason = VMEXIT_SHUTDOWN};
    CHECK(!vcpu_handle_exit(d->vcpu[0], &ex));
    CHECK(!domain_is_running(d));
    CHECK_EQ(d->shutdown_code, SHUTDOWN_crash);
    CHECK(domain_is_running(other));
    ex = (struct vm_exit){.reason = VMEXIT_FAULT};
    strcpy(ex.fault.why, "emulation failure");
    CHECK(!vcpu_handle_exit(other->vcpu[0], &ex));
    CHECK_EQ(other->shutdown_code, SHUTDOWN_crash);
    domain_destroy(d);
    domain_destroy(other);
}
