/* test_hvm_op.c: hvm_op (34) params and sub-ops, and vm_assist (21), both ABIs. */
#include <cpuid.h>
#include <string.h>

#include "core/core.h"
#include "tests/unit/fake_accel.h"
#include "tests/unit/harness.h"

#define HO __HYPERVISOR_hvm_op
#define ARG 0x10000ull

static long param(struct vcpu *v, bool is64, unsigned op, domid_t dom, uint32_t index,
                  uint64_t *value)
{
    struct xen_hvm_param a = {.domid = dom, .index = index, .value = *value};
    gpa_write(v->domain, ARG, &a, sizeof(a));
    long rc = hc(v, is64, HO, op, ARG, 0);
    gpa_read(v->domain, ARG, &a, sizeof(a));
    *value = a.value;
    return rc;
}

static long set(struct vcpu *v, bool is64, domid_t dom, uint32_t index, uint64_t value)
{
    return param(v, is64, HVMOP_set_param, dom, index, &value);
}

static long get(struct vcpu *v, bool is64, domid_t dom, uint32_t index, uint64_t *value)
{
    *value = 0xdeadbeef;
    return param(v, is64, HVMOP_get_param, dom, index, value);
}

TEST(hvmop_params_guest_rules)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    uint64_t val;
    for (int is64 = 0; is64 < 2; is64++) {
        CHECK_EQ(set(v, is64, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, 2ull << 56 | 0xf3), 0);
        CHECK_EQ(get(v, is64, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &val), 0);
        CHECK_EQ(val, 2ull << 56 | 0xf3);
        CHECK_EQ(d->has_32bit_shinfo, !is64); /* hvm_latch_shinfo_size() */
        CHECK_EQ(get(v, is64, DOMID_SELF, HVM_PARAM_STORE_PFN, &val), 0);
        CHECK_EQ(val, 0); /* never set: no xenstore ring */
        CHECK_EQ(set(v, is64, DOMID_SELF, HVM_PARAM_STORE_PFN, 5), -XEN_EPERM);
        CHECK_EQ(set(v, is64, DOMID_SELF, HVM_PARAM_STORE_EVTCHN, 3), 0);
        CHECK_EQ(get(v, is64, d->domain_id, HVM_PARAM_STORE_EVTCHN, &val), 0);
        CHECK_EQ(val, 3);
        CHECK_EQ(get(v, is64, DOMID_SELF, HVM_PARAM_IDENT_PT, &val), -XEN_EPERM);
        CHECK_EQ(val, 0xdeadbeef); /* not copied back */
        CHECK_EQ(set(v, is64, DOMID_SELF, HVM_PARAM_IDENT_PT, 5), -XEN_EPERM);
        CHECK_EQ(set(v, is64, DOMID_SELF, HVM_PARAM_PAE_ENABLED, 1), -XEN_EINVAL);
        CHECK_EQ(get(v, is64, DOMID_SELF, HVM_PARAM_MEMORY_EVENT_MSR, &val), -XEN_EINVAL);
        CHECK_EQ(set(v, is64, DOMID_SELF, HVM_NR_PARAMS, 0), -XEN_EINVAL);
        CHECK_EQ(get(v, is64, 999, HVM_NR_PARAMS, &val), -XEN_EINVAL); /* index first */
        CHECK_EQ(get(v, is64, 999, HVM_PARAM_STORE_PFN, &val), -XEN_ESRCH);
        CHECK_EQ(set(v, is64, DOMID_SELF, HVM_PARAM_ACPI_IOPORTS_LOCATION, 1), -XEN_ENODEV);
        CHECK_EQ(hc(v, is64, HO, HVMOP_get_param, HOLE_GPA, 0), -XEN_EFAULT);
        CHECK_EQ(hc(v, is64, HO, HVMOP_set_param, HOLE_GPA, 0), -XEN_EFAULT);
    }
    domain_destroy(d);
}

TEST(hvmop_params_other_domains)
{
    struct domain *u = fake_domain(16, 1, false), *p = fake_domain(16, 1, true);
    uint64_t val;
    CHECK_EQ(set(p->vcpu[0], true, u->domain_id, HVM_PARAM_STORE_PFN, 0xfeffc), 0);
    CHECK_EQ(set(p->vcpu[0], true, u->domain_id, HVM_PARAM_CONSOLE_PFN, 0xfefff), 0);
    CHECK_EQ(get(u->vcpu[0], false, DOMID_SELF, HVM_PARAM_STORE_PFN, &val), 0);
    CHECK_EQ(val, 0xfeffc);
    CHECK_EQ(get(u->vcpu[0], true, DOMID_SELF, HVM_PARAM_CONSOLE_PFN, &val), 0);
    CHECK_EQ(val, 0xfefff);
    CHECK_EQ(get(u->vcpu[0], true, p->domain_id, HVM_PARAM_STORE_PFN, &val), -XEN_EPERM);
    CHECK_EQ(set(u->vcpu[0], true, p->domain_id, HVM_PARAM_CALLBACK_IRQ, 1), -XEN_EPERM);
    CHECK_EQ(get(p->vcpu[0], true, u->domain_id, HVM_PARAM_IDENT_PT, &val), 0);
    /* once-only params */
    CHECK_EQ(set(p->vcpu[0], true, u->domain_id, HVM_PARAM_NR_IOREQ_SERVER_PAGES, 4), 0);
    CHECK_EQ(set(p->vcpu[0], true, u->domain_id, HVM_PARAM_NR_IOREQ_SERVER_PAGES, 4), 0);
    CHECK_EQ(set(p->vcpu[0], true, u->domain_id, HVM_PARAM_NR_IOREQ_SERVER_PAGES, 5), -XEN_EEXIST);
    CHECK_EQ(set(p->vcpu[0], true, u->domain_id, HVM_PARAM_TIMER_MODE, 4), -XEN_EINVAL);
    CHECK_EQ(set(p->vcpu[0], true, u->domain_id, HVM_PARAM_TRIPLE_FAULT_REASON, 6), -XEN_EINVAL);
    CHECK_EQ(set(p->vcpu[0], true, u->domain_id, HVM_PARAM_ALTP2M, 4), -XEN_EINVAL);
    CHECK_EQ(set(p->vcpu[0], true, u->domain_id, HVM_PARAM_MCA_CAP, XEN_HVM_MCA_CAP_LMCE),
             -XEN_EINVAL);
    /* the callback latch only applies to the caller's own domain */
    u->has_32bit_shinfo = false;
    CHECK_EQ(set(p->vcpu[0], false, u->domain_id, HVM_PARAM_CALLBACK_IRQ, 1), 0);
    CHECK(!u->has_32bit_shinfo);
    domain_destroy(u);
    domain_destroy(p);
}

TEST(hvmop_params_fip_width_and_vm86_tss)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    unsigned a, b = 0, c, dd;
    uint64_t val;
    __get_cpuid_count(7, 0, &a, &b, &c, &dd);
    CHECK_EQ(get(v, true, DOMID_SELF, HVM_PARAM_X87_FIP_WIDTH, &val), 0);
    CHECK_EQ(val, (b & (1u << 13)) ? 8 : 0);
    CHECK_EQ(set(v, true, DOMID_SELF, HVM_PARAM_X87_FIP_WIDTH, 3), -XEN_EINVAL);
    CHECK_EQ(set(v, true, DOMID_SELF, HVM_PARAM_X87_FIP_WIDTH, 4), 0);
    CHECK_EQ(get(v, false, DOMID_SELF, HVM_PARAM_X87_FIP_WIDTH, &val), 0);
    CHECK_EQ(val, 4);
    CHECK_EQ(set(v, true, DOMID_SELF, HVM_PARAM_VM86_TSS, 0x1000), 0);
    CHECK_EQ(get(v, true, DOMID_SELF, HVM_PARAM_VM86_TSS, &val), 0);
    CHECK_EQ(val, 0x1000);
    CHECK_EQ(get(v, true, DOMID_SELF, HVM_PARAM_VM86_TSS_SIZED, &val), 0);
    CHECK_EQ(val, 128ull << 32 | 0x1000);
    CHECK_EQ(set(v, true, DOMID_SELF, HVM_PARAM_VM86_TSS_SIZED, 16384ull << 32 | 0x2000), 0);
    CHECK_EQ(get(v, true, DOMID_SELF, HVM_PARAM_VM86_TSS_SIZED, &val), 0);
    CHECK_EQ(val, 8329ull << 32 | 0x2000); /* capped */
    CHECK(domain_is_running(d));
    /* Xen crashes a domain that gives itself a TSS above 4 GiB */
    CHECK_EQ(set(v, true, DOMID_SELF, HVM_PARAM_VM86_TSS, 1ull << 32), -XEN_EINVAL);
    CHECK(!domain_is_running(d));
    domain_destroy(d);
}

TEST(hvmop_misc_subops)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    for (int is64 = 0; is64 < 2; is64++) {
        uint64_t t0 = xen_system_time(), now;
        CHECK_EQ(hc(v, is64, HO, HVMOP_get_time, ARG, 0), 0);
        gpa_read(d, ARG, &now, 8);
        CHECK(now >= t0 && now <= xen_system_time());
        CHECK_EQ(hc(v, is64, HO, HVMOP_get_time, HOLE_GPA, 0), -XEN_EFAULT);
        CHECK_EQ(hc(v, is64, HO, HVMOP_flush_tlbs, 0, 0), 0);
        CHECK_EQ(hc(v, is64, HO, HVMOP_flush_tlbs, ARG, 0), -XEN_EINVAL);
        CHECK_EQ(hc(v, is64, HO, HVMOP_guest_request_vm_event, 0, 0), 0);
        CHECK_EQ(hc(v, is64, HO, HVMOP_guest_request_vm_event, ARG, 0), -XEN_EINVAL);
        CHECK_EQ(hc(v, is64, HO, HVMOP_altp2m, ARG, 0), -XEN_EOPNOTSUPP);
        CHECK_EQ(hc(v, is64, HO, 2, ARG, 0), -XEN_ENOSYS); /* set_pci_intx_level */
        CHECK_EQ(hc(v, is64, HO, 26, ARG, 0), -XEN_ENOSYS);
    }
    CHECK_EQ(hc64(v, HO, 1ull << 32 | HVMOP_get_time, ARG, 0), -XEN_ENOSYS); /* unsigned long */
    CHECK_EQ(hc32(v, HO, 1ull << 32 | HVMOP_get_time, ARG, 0), 0);
    domain_destroy(d);
}

TEST(hvmop_set_evtchn_upcall_vector)
{
    struct domain *d = fake_domain(16, 2, false);
    struct vcpu *v = d->vcpu[0];
    /* set_evtchn_upcall_vector: Xen's checks, then the vector is recorded per vCPU */
    struct xen_hvm_evtchn_upcall_vector uv = {.vcpu = 1, .vector = 0x0f};
    gpa_write(d, ARG, &uv, sizeof(uv));
    CHECK_EQ(hc64(v, HO, HVMOP_set_evtchn_upcall_vector, ARG, 0), -XEN_EINVAL);
    uv = (struct xen_hvm_evtchn_upcall_vector){.vcpu = 2, .vector = 0xf3};
    gpa_write(d, ARG, &uv, sizeof(uv));
    CHECK_EQ(hc64(v, HO, HVMOP_set_evtchn_upcall_vector, ARG, 0), -XEN_ENOENT);
    uv.vcpu = 1;
    gpa_write(d, ARG, &uv, sizeof(uv));
    CHECK_EQ(hc32(v, HO, HVMOP_set_evtchn_upcall_vector, ARG, 0), 0);
    CHECK_EQ(d->vcpu[1]->upcall_vector, 0xf3);
    CHECK_EQ(d->vcpu[0]->upcall_vector, 0);
    CHECK_EQ(hc32(v, HO, HVMOP_set_evtchn_upcall_vector, HOLE_GPA, 0), -XEN_EFAULT);
    domain_destroy(d);
}

TEST(hvmop_get_mem_type_and_pagetable_dying)
{
    struct domain *d = fake_domain(16, 2, false), *p = fake_domain(16, 1, true);
    struct vcpu *v = d->vcpu[0];
    /* get_mem_type */
    struct xen_hvm_get_mem_type mt = {.domid = DOMID_SELF, .pfn = 5};
    gpa_write(d, ARG, &mt, sizeof(mt));
    CHECK_EQ(hc64(v, HO, HVMOP_get_mem_type, ARG, 0), 0);
    gpa_read(d, ARG, &mt, sizeof(mt));
    CHECK_EQ(mt.mem_type, HVMMEM_ram_rw);
    mt.pfn = HOLE_GPA >> 12;
    gpa_write(d, ARG, &mt, sizeof(mt));
    CHECK_EQ(hc32(v, HO, HVMOP_get_mem_type, ARG, 0), 0);
    gpa_read(d, ARG, &mt, sizeof(mt));
    CHECK_EQ(mt.mem_type, HVMMEM_mmio_dm);
    mt.domid = p->domain_id;
    gpa_write(d, ARG, &mt, sizeof(mt));
    CHECK_EQ(hc64(v, HO, HVMOP_get_mem_type, ARG, 0), -XEN_EPERM);
    /* pagetable_dying: HAP -EINVAL on itself, another domain -EOPNOTSUPP */
    struct xen_hvm_pagetable_dying pd = {.domid = DOMID_SELF, .gpa = 0x1000};
    gpa_write(d, ARG, &pd, sizeof(pd));
    CHECK_EQ(hc64(v, HO, HVMOP_pagetable_dying, ARG, 0), -XEN_EINVAL);
    pd.domid = d->domain_id;
    gpa_write(p, ARG, &pd, sizeof(pd));
    CHECK_EQ(hc64(p->vcpu[0], HO, HVMOP_pagetable_dying, ARG, 0), -XEN_EOPNOTSUPP);
    pd.domid = 999;
    gpa_write(d, ARG, &pd, sizeof(pd));
    CHECK_EQ(hc64(v, HO, HVMOP_pagetable_dying, ARG, 0), -XEN_ESRCH);
    domain_destroy(d);
    domain_destroy(p);
}

TEST(hvmop_xentrace)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    /* xentrace */
    struct xen_hvm_xentrace tr = {.event = 0x123, .extra_bytes = 28};
    gpa_write(d, ARG, &tr, sizeof(tr));
    CHECK_EQ(hc64(v, HO, HVMOP_xentrace, ARG, 0), 0);
    tr.extra_bytes = 29;
    gpa_write(d, ARG, &tr, sizeof(tr));
    CHECK_EQ(hc64(v, HO, HVMOP_xentrace, ARG, 0), -XEN_EINVAL);
    tr = (struct xen_hvm_xentrace){.event = 0x1000};
    gpa_write(d, ARG, &tr, sizeof(tr));
    CHECK_EQ(hc32(v, HO, HVMOP_xentrace, ARG, 0), -XEN_EINVAL);
    domain_destroy(d);
}

TEST(vm_assist_runstate_flag_only)
{
    struct domain *d = fake_domain(16, 1, false), *e = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    const unsigned VA = __HYPERVISOR_vm_assist;
    CHECK(!vm_assist_enabled(d, VMASST_TYPE_runstate_update_flag));
    CHECK_EQ(hc64(v, VA, VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag, 0), 0);
    CHECK(vm_assist_enabled(d, VMASST_TYPE_runstate_update_flag));
    CHECK(!vm_assist_enabled(e, VMASST_TYPE_runstate_update_flag));
    CHECK_EQ(hc32(v, VA, VMASST_CMD_disable, VMASST_TYPE_runstate_update_flag, 0), 0);
    CHECK(!vm_assist_enabled(d, VMASST_TYPE_runstate_update_flag));
    for (int is64 = 0; is64 < 2; is64++) {
        for (unsigned t = 0; t < 70; t++)
            if (t != VMASST_TYPE_runstate_update_flag)
                CHECK_EQ(hc(v, is64, VA, VMASST_CMD_enable, t, 0), -XEN_EINVAL);
        CHECK_EQ(hc(v, is64, VA, 2, VMASST_TYPE_runstate_update_flag, 0), -XEN_ENOSYS);
        CHECK_EQ(hc(v, is64, VA, 2, VMASST_TYPE_writable_pagetables, 0), -XEN_EINVAL);
    }
    /* unsigned int arguments: the upper half of a 64-bit register is ignored */
    CHECK_EQ(hc64(v, VA, 1ull << 32, 1ull << 32 | VMASST_TYPE_runstate_update_flag, 0), 0);
    domain_destroy(d);
    domain_destroy(e);
}

/* vcpu_mark_events_pending: 0 -> 1 injects the vCPU's upcall vector once; 1 -> 1 does not. */
TEST(upcall_vector_injected_on_first_pending)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    struct fake_vcpu *f = v->accel;
    struct xen_add_to_physmap x = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .gpfn = 0x300};
    gpa_write(d, ARG, &x, sizeof(x));
    CHECK_EQ(hc64(v, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), 0);
    v->upcall_vector = 0xf3;
    v->thread_started = true; /* as if running: injection only targets started vCPUs */
    vcpu_mark_events_pending(v);
    vcpu_mark_events_pending(v);
    v->thread_started = false;
    CHECK_EQ(f->nr_irqs, 1);
    CHECK_EQ(f->irqs[0], 0xf3);
    uint8_t pending = 0;
    gpa_read(d, 0x300000, &pending, 1);
    CHECK_EQ(pending, 1);
    domain_destroy(d);
}
