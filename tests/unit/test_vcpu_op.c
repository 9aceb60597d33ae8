/* test_vcpu_op.c: vcpu_op (24): vCPU lookup, is_up/up/down, runstate, register_vcpu_info,
 * timers and the not-yet-implemented ops, both ABIs. */
#include <string.h>

#include <stddef.h>

#include "compat_layout.h"
#include "core/core.h"
#include "tests/unit/fake_accel.h"
#include "tests/unit/harness.h"

#define VO __HYPERVISOR_vcpu_op
#define ARG 0x10000ull

static long vop(struct vcpu *v, bool is64, int cmd, uint32_t id, uint64_t arg)
{
    return hc(v, is64, VO, (uint32_t)cmd, id, arg);
}

TEST(vcpuop_lookup_and_up)
{
    struct domain *d = fake_domain(16, 2, false);
    struct vcpu *v = d->vcpu[0];
    for (int is64 = 0; is64 < 2; is64++) {
        CHECK_EQ(vop(v, is64, VCPUOP_is_up, 2, 0), -XEN_ENOENT);
        CHECK_EQ(vop(v, is64, VCPUOP_is_up, 0xffffffff, 0), -XEN_ENOENT);
        CHECK_EQ(vop(v, is64, 99, 2, 0), -XEN_ENOENT); /* the vCPU is checked first */
        CHECK_EQ(vop(v, is64, VCPUOP_is_up, 0, 0), 1);
        CHECK_EQ(vop(v, is64, VCPUOP_is_up, 1, 0), 0);
        CHECK_EQ(vop(v, is64, VCPUOP_up, 0, 0), 0);
        CHECK_EQ(vop(v, is64, VCPUOP_up, 1, 0), -XEN_EINVAL); /* not initialised */
        CHECK_EQ(vop(v, is64, VCPUOP_down, 1, 0), 0);         /* already down */
        CHECK_EQ(vop(v, is64, VCPUOP_get_physid, 0, ARG), -XEN_EINVAL);
        CHECK_EQ(vop(v, is64, VCPUOP_send_nmi, 1, ARG), -XEN_EINVAL);
        CHECK_EQ(vop(v, is64, VCPUOP_send_nmi, 1, 0), -XEN_ENOSYS);
        CHECK_EQ(vop(v, is64, 14, 0, ARG), -XEN_ENOSYS);
    }
    CHECK(domain_is_running(d));
    /* the last vCPU going down powers the domain off */
    CHECK_EQ(vop(v, true, VCPUOP_down, 0, 0), 0);
    CHECK(!domain_is_running(d));
    CHECK_EQ(d->shutdown_code, SHUTDOWN_poweroff);
    domain_destroy(d);
}

static struct vcpu_hvm_context ctx64(uint64_t rip)
{
    struct vcpu_hvm_context c;
    memset(&c, 0, sizeof(c));
    c.mode = VCPU_HVM_MODE_64B;
    c.cpu_regs.x86_64.rip = rip;
    c.cpu_regs.x86_64.rsp = 0x9000;
    c.cpu_regs.x86_64.rdi = 7;
    c.cpu_regs.x86_64.rflags = 0x200 | 0x8000; /* IF, and bit 15 (not in EFLAGS_ALL) */
    c.cpu_regs.x86_64.cr0 = 0x80010011;        /* PG WP ET PE */
    c.cpu_regs.x86_64.cr3 = 0x100000;
    c.cpu_regs.x86_64.cr4 = 0x20;   /* PAE */
    c.cpu_regs.x86_64.efer = 0x100; /* LME */
    return c;
}

static struct vcpu_hvm_context ctx32(void)
{
    struct vcpu_hvm_context c;
    struct vcpu_hvm_x86_32 *r = &c.cpu_regs.x86_32;
    memset(&c, 0, sizeof(c));
    c.mode = VCPU_HVM_MODE_32B;
    r->eip = 0x1000, r->esp = 0x2000, r->cr0 = 0x11;
    r->cs_limit = r->ds_limit = r->ss_limit = r->es_limit = ~0u;
    r->cs_ar = 0xc9a, r->ds_ar = r->ss_ar = r->es_ar = 0xc92;
    r->tr_limit = 0x67, r->tr_ar = 0x8b;
    return c;
}

static long init_with(struct domain *d, unsigned id, const struct vcpu_hvm_context *c)
{
    gpa_write(d, ARG, c, sizeof(*c));
    return vop(d->vcpu[0], true, VCPUOP_initialise, id, ARG);
}

TEST(vcpuop_initialise_checks)
{
    struct domain *d = fake_domain(16, 34, false);
    struct vcpu *v = d->vcpu[0];
    struct vcpu_hvm_context c;
    gpa_fill(d, ARG, 0, sizeof(struct vcpu_hvm_context));
    CHECK_EQ(vop(v, true, VCPUOP_initialise, 0, ARG), -XEN_EEXIST);
    CHECK_EQ(vop(v, true, VCPUOP_initialise, 1, HOLE_GPA), -XEN_EFAULT);
    CHECK_EQ(vop(v, false, VCPUOP_initialise, 1, ARG), -XEN_EINVAL); /* 32-bit, null CS */
    CHECK_EQ(vop(v, true, VCPUOP_initialise, 33, ARG), -XEN_EINVAL); /* no vcpu_info */
    CHECK_EQ(vop(v, true, VCPUOP_initialise, 34, ARG), -XEN_ENOENT);
    /* 64-bit: each of Xen's checks */
    c = ctx64(0x8000000000000000ull);
    CHECK_EQ(init_with(d, 1, &c), -XEN_EINVAL);
    c = ctx64(0x1000), c.cpu_regs.x86_64.cr0 = 0x11;
    CHECK_EQ(init_with(d, 1, &c), -XEN_EINVAL);
    c = ctx64(0x1000), c.cpu_regs.x86_64.cr4 = 0;
    CHECK_EQ(init_with(d, 1, &c), -XEN_EINVAL);
    c = ctx64(0x1000), c.cpu_regs.x86_64.efer = 0;
    CHECK_EQ(init_with(d, 1, &c), -XEN_EINVAL);
    c = ctx64(0x1000), c.cpu_regs.x86_64.cr4 |= 1ull << 31;
    CHECK_EQ(init_with(d, 1, &c), -XEN_EINVAL);
    c = ctx64(0x1000), c.cpu_regs.x86_64.efer |= 1ull << 20;
    CHECK_EQ(init_with(d, 1, &c), -XEN_EINVAL);
    c = ctx64(0x1000), c.mode = 2;
    CHECK_EQ(init_with(d, 1, &c), -XEN_EINVAL);
    c = ctx64(0x1000), c.pad = 1;
    CHECK_EQ(init_with(d, 1, &c), -XEN_EINVAL);
    CHECK(!d->vcpu[1]->initialised);
    CHECK_EQ(vop(v, true, VCPUOP_up, 1, 0), -XEN_EINVAL);
    /* a good one: loaded with Xen's flat segments, RFLAGS masked, LMA added; still down */
    c = ctx64(0xffffffff80001000ull);
    CHECK_EQ(init_with(d, 1, &c), 0);
    struct fake_vcpu *f = fake_vcpu_of(d->vcpu[1]);
    CHECK(f->state_set);
    CHECK_EQ(f->state.rip, 0xffffffff80001000ull);
    CHECK_EQ(f->state.gpr[R_SP], 0x9000);
    CHECK_EQ(f->state.gpr[R_DI], 7);
    CHECK_EQ(f->state.rflags, 0x202);
    CHECK_EQ(f->state.efer, 0x500);
    CHECK_EQ(f->state.cs.ar, 0xa9b);
    CHECK_EQ(f->state.ss.ar, 0xc93);
    CHECK_EQ(f->state.tr.ar, 0x8b);
    CHECK_EQ(f->state.tr.limit, 0x67);
    CHECK_EQ(init_with(d, 1, &c), -XEN_EEXIST);
    CHECK_EQ(vop(v, true, VCPUOP_is_up, 1, 0), 0);
    domain_destroy(d);
}

TEST(vcpuop_initialise_32bit_segments)
{
    struct domain *d = fake_domain(16, 4, false);
    struct vcpu_hvm_context c = ctx32();
    CHECK_EQ(init_with(d, 1, &c), 0);
    struct fake_vcpu *f = fake_vcpu_of(d->vcpu[1]);
    CHECK_EQ(f->state.cs.ar, 0xc9b); /* accessed bit added */
    CHECK_EQ(f->state.ds.ar, 0xc93);
    CHECK_EQ(f->state.tr.ar, 0x8b); /* busy already */
    CHECK_EQ(f->state.rip, 0x1000);
    /* each segment rule of check_segment() and the 32-bit sanity checks */
    struct {
        size_t off;
        uint32_t val;
    } bad[] = {
#define R32(f) offsetof(struct vcpu_hvm_context, cpu_regs.x86_32.f)
        {R32(pad1), 1},         {R32(cs_ar), 0},      {R32(ss_ar), 0},
        {R32(tr_ar), 0},        {R32(cs_ar), 0x1c9a}, {R32(cs_ar), 0xc92},
        {R32(ss_ar), 0xc9a},    {R32(ss_ar), 0xc90},  {R32(ds_ar), 0xc98},
        {R32(tr_ar), 0x9b},     {R32(tr_ar), 0x83},   {R32(cs_ar), 0xc1a},
        {R32(ds_ar), 0x82},     {R32(cs_ar), 0xcfa},  {R32(ss_ar), 0xcf2},
        {R32(cs_limit), 0xfff}, /* G set: limit 0xffffff: eip fits; see below */
#undef R32
    };
    for (unsigned i = 0; i + 1 < sizeof(bad) / sizeof(bad[0]); i++) {
        c = ctx32();
        size_t ar0 = offsetof(struct vcpu_hvm_context, cpu_regs.x86_32.cs_ar);
        bool u16 = bad[i].off >= ar0; /* the _ar fields; pad1 and the limits are u32 */
        memcpy((uint8_t *)&c + bad[i].off, &bad[i].val, u16 ? 2 : 4);
        CHECK_EQ(init_with(d, 2, &c), -XEN_EINVAL);
    }
    c = ctx32(), c.cpu_regs.x86_32.cs_ar = 0x49a, c.cpu_regs.x86_32.cs_limit = 0xfff;
    CHECK_EQ(init_with(d, 2, &c), -XEN_EINVAL); /* EIP 0x1000 beyond a byte-granular limit */
    c = ctx32(), c.cpu_regs.x86_32.ds_ar = 0, c.cpu_regs.x86_32.es_ar = 0;
    CHECK_EQ(init_with(d, 2, &c), 0); /* null DS/ES are fine */
    c = ctx32(), c.cpu_regs.x86_32.efer = 0x400;
    CHECK_EQ(init_with(d, 3, &c), -XEN_EINVAL); /* LMA without LME */
    domain_destroy(d);
}

TEST(vcpuop_up_down_cycle)
{
    struct domain *d = fake_domain(16, 3, false);
    struct vcpu *v = d->vcpu[0];
    struct vcpu_hvm_context c = ctx64(0x1000);
    CHECK_EQ(init_with(d, 1, &c), 0);
    CHECK_EQ(vop(v, true, VCPUOP_is_up, 1, 0), 0);
    CHECK_EQ(vop(v, true, VCPUOP_up, 1, 0), 0);
    CHECK_EQ(vop(v, true, VCPUOP_is_up, 1, 0), 1);
    CHECK_EQ(vop(v, true, VCPUOP_up, 1, 0), 0); /* already up */
    CHECK_EQ(vop(v, true, VCPUOP_down, 1, 0), 0);
    CHECK_EQ(vop(v, true, VCPUOP_is_up, 1, 0), 0);
    CHECK_EQ(vop(v, true, VCPUOP_up, 1, 0), 0);   /* still initialised */
    CHECK_EQ(vop(v, true, VCPUOP_down, 0, 0), 0); /* vCPU 1 is up: not the last */
    CHECK(domain_is_running(d));
    CHECK_EQ(vop(v, true, VCPUOP_is_up, 0, 0), 0);
    CHECK_EQ(vop(v, true, VCPUOP_down, 1, 0), 0); /* the last: poweroff */
    CHECK(!domain_is_running(d));
    CHECK_EQ(d->shutdown_code, SHUTDOWN_poweroff);
    domain_destroy(d);
}

TEST(vcpuop_runstate_info_both_layouts)
{
    struct domain *d = fake_domain(16, 2, false);
    struct vcpu *v = d->vcpu[0];
    struct vcpu_runstate_info r;
    uint8_t raw[64];
    CHECK_EQ(vop(v, true, VCPUOP_get_runstate_info, 1, ARG), 0);
    gpa_read(d, ARG, &r, sizeof(r));
    CHECK_EQ(r.state, RUNSTATE_offline);
    CHECK(r.time[RUNSTATE_offline] > 0);
    gpa_fill(d, ARG, 0xaa, sizeof(raw));
    CHECK_EQ(vop(v, false, VCPUOP_get_runstate_info, 1, ARG), 0);
    gpa_read(d, ARG, raw, sizeof(raw));
    int32_t state;
    uint64_t entry, t3;
    memcpy(&state, raw + COMPAT_vcpu_runstate_info__state_OFF, 4);
    memcpy(&entry, raw + COMPAT_vcpu_runstate_info__state_entry_time_OFF, 8);
    memcpy(&t3, raw + COMPAT_vcpu_runstate_info__time_OFF + 8 * RUNSTATE_offline, 8);
    CHECK_EQ(state, RUNSTATE_offline);
    CHECK_EQ(entry, d->vcpu[1]->runstate_entry - xen_system_time_epoch());
    CHECK(t3 >= r.time[RUNSTATE_offline]);
    CHECK_EQ(raw[COMPAT_vcpu_runstate_info_SIZE], 0xaa); /* 44 bytes, no more */
    CHECK_EQ(vop(v, true, VCPUOP_get_runstate_info, 0, HOLE_GPA), -XEN_EFAULT);
    domain_destroy(d);
}

static long register_info(struct vcpu *v, bool is64, uint32_t id, uint64_t gfn, uint32_t off)
{
    struct vcpu_register_vcpu_info i = {.mfn = gfn, .offset = off};
    gpa_write(v->domain, ARG, &i, sizeof(i));
    return vop(v, is64, VCPUOP_register_vcpu_info, id, ARG);
}

TEST(vcpuop_register_vcpu_info_rules)
{
    struct domain *d = fake_domain(16, 3, false);
    struct vcpu *v0 = d->vcpu[0], *v1 = d->vcpu[1];
    CHECK_EQ(register_info(v0, true, 0, 0x300, 4096 - 63), -XEN_ENXIO); /* crosses the page */
    CHECK_EQ(register_info(v0, true, 0, 0x300, 4), -XEN_ENXIO);         /* 8-aligned */
    CHECK_EQ(register_info(v0, true, 0, HOLE_GPA >> 12, 64), -XEN_EINVAL);
    struct domain *src = fake_domain(16, 1, false); /* another domain's page mapped here */
    CHECK_EQ(p2m_set_foreign(d, 0x200000, src, 7), 0);
    CHECK_EQ(register_info(v0, true, 0, 0x200000, 64), -XEN_EINVAL);
    CHECK_EQ(register_info(v1, true, 0, 0x300, 64), -XEN_EINVAL); /* online and not the caller */
    CHECK_EQ(vop(v0, true, VCPUOP_register_vcpu_info, 0, HOLE_GPA), -XEN_EFAULT);
    CHECK(!v0->vcpu_info_registered);
    /* the legacy slot's contents move to the new area */
    uint8_t *legacy = vcpu_info_hva(v0), area[64];
    memset(legacy, 0x11, 64);
    CHECK_EQ(register_info(v0, true, 0, 0x300, 4096 - 64), 0);
    CHECK(v0->vcpu_info_registered && v0->vcpu_info_gfn == 0x300);
    gpa_read(d, 0x300000 + 4096 - 64, area, 64);
    CHECK_EQ(area[offsetof(struct vcpu_info, evtchn_upcall_pending)], 1);
    CHECK_EQ(area[offsetof(struct vcpu_info, evtchn_upcall_mask)], 0x11);
    uint64_t sel;
    memcpy(&sel, area + offsetof(struct vcpu_info, evtchn_pending_sel), 8);
    CHECK_EQ(sel, ~0ull);
    uint32_t tver; /* the time area came along, then was force-updated (odd, then even) */
    memcpy(&tver, area + offsetof(struct vcpu_info, time.version), 4);
    CHECK_EQ(tver, 0x11111114);
    CHECK(vcpu_info_hva(v0) == vcpu_info_hva(v0) && vcpu_info_hva(v0) != legacy);
    CHECK_EQ(register_info(v0, true, 0, 0x301, 0), -XEN_EINVAL); /* once only */
    /* an offline vCPU may be registered by another; 32-bit layout: 4-byte alignment */
    d->has_32bit_shinfo = true;
    CHECK_EQ(register_info(v0, false, 2, 0x302, 4), 0);
    gpa_read(d, 0x302000 + 4, area, 64);
    uint32_t sel32;
    memcpy(&sel32, area + COMPAT_vcpu_info__evtchn_pending_sel_OFF, 4);
    CHECK_EQ(sel32, ~0u);
    domain_destroy(d);
    domain_destroy(src);
}

TEST(vcpuop_register_vcpu_info_beyond_legacy)
{
    struct domain *d = fake_domain(16, 33, false);
    uint8_t area[64];
    CHECK(vcpu_info_hva(d->vcpu[32]) == NULL); /* no legacy slot */
    /* the spurious event of the new area comes with its upcall (vcpu_mark_events_pending()) */
    d->vcpu[32]->upcall_vector = 0xf3;
    gpa_fill(d, 0x400000, 0x77, 64);
    CHECK_EQ(register_info(d->vcpu[0], true, 32, 0x400, 0), 0);
    gpa_read(d, 0x400000, area, 64);
    CHECK_EQ(area[offsetof(struct vcpu_info, evtchn_upcall_mask)], 1); /* zeroed, masked */
    CHECK_EQ(area[offsetof(struct vcpu_info, evtchn_upcall_pending)], 1);
    uint32_t tver; /* zeroed, then force_update_vcpu_system_time(): version 0 -> 1 -> 2 */
    memcpy(&tver, area + offsetof(struct vcpu_info, time.version), 4);
    CHECK_EQ(tver, 2);
    CHECK(vcpu_info_hva(d->vcpu[32]) != NULL);
    struct fake_vcpu *f = fake_vcpu_of(d->vcpu[32]);
    CHECK(f->nr_irqs == 1 && f->irqs[0] == 0xf3);
    domain_destroy(d);
}

/* The runstate area: written at registration (from the caller's view), then by the vCPU at
 * each runstate change once it has made a hypercall; XEN_RUNSTATE_UPDATE is clear after each
 * write; the 32-bit shared_info layout gives the 44-byte compat struct; 0 unregisters. */
TEST(vcpuop_runstate_area)
{
    struct domain *d = fake_domain(16, 2, false);
    struct vcpu *v = d->vcpu[0], *w = d->vcpu[1];
    struct vcpu_runstate_info r;
    uint64_t area = 0x20000, area1 = 0x20100, bad = HOLE_GPA;
    gpa_write(d, ARG, &bad, 8); /* an unmapped area is taken; the write just fails (Xen) */
    CHECK_EQ(vop(v, true, VCPUOP_register_runstate_memory_area, 1, ARG), 0);
    gpa_write(d, ARG, &area1, 8);
    CHECK_EQ(vop(v, true, VCPUOP_register_runstate_memory_area, 1, ARG), 0);
    gpa_read(d, area1, &r, sizeof(r));
    CHECK_EQ(r.state, RUNSTATE_offline); /* vCPU 1, written by vCPU 0 */
    gpa_write(d, ARG, &area, 8);
    CHECK_EQ(vop(v, true, VCPUOP_register_runstate_memory_area, 0, ARG), 0);
    hc64(v, __HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag, 0);
    pthread_mutex_lock(&d->lock);
    vcpu_runstate_change_locked(v, RUNSTATE_blocked); /* as its own thread would */
    vcpu_runstate_change_locked(w, RUNSTATE_running); /* w made no hypercall: no update */
    pthread_mutex_unlock(&d->lock);
    gpa_read(d, area, &r, sizeof(r));
    CHECK_EQ(r.state, RUNSTATE_blocked);
    CHECK_EQ(r.state_entry_time, v->runstate_entry - xen_system_time_epoch()); /* flag clear */
    gpa_read(d, area1, &r, sizeof(r));
    CHECK_EQ(r.state, RUNSTATE_offline);
    d->has_32bit_shinfo = true;
    uint8_t raw[48];
    gpa_fill(d, area, 0xaa, sizeof(raw));
    pthread_mutex_lock(&d->lock);
    vcpu_runstate_change_locked(v, RUNSTATE_running);
    pthread_mutex_unlock(&d->lock);
    gpa_read(d, area, raw, sizeof(raw));
    int32_t state;
    memcpy(&state, raw + COMPAT_vcpu_runstate_info__state_OFF, 4);
    CHECK_EQ(state, RUNSTATE_running);
    CHECK_EQ(raw[COMPAT_vcpu_runstate_info_SIZE], 0xaa); /* 44 bytes */
    uint64_t zero = 0;
    gpa_write(d, ARG, &zero, 8);
    CHECK_EQ(vop(v, true, VCPUOP_register_runstate_memory_area, 0, ARG), 0);
    CHECK_EQ(v->runstate_guest, 0);
    domain_destroy(d);
}

TEST(vcpuop_timers_and_areas)
{
    struct domain *d = fake_domain(16, 2, false);
    struct vcpu *v = d->vcpu[0];
    for (int is64 = 0; is64 < 2; is64++) {
        uint64_t period = 999999;
        gpa_write(d, ARG, &period, 8);
        CHECK_EQ(vop(v, is64, VCPUOP_set_periodic_timer, 0, ARG), -XEN_EINVAL);
        period = ~0ull >> 1;
        gpa_write(d, ARG, &period, 8);
        CHECK_EQ(vop(v, is64, VCPUOP_set_periodic_timer, 0, ARG), -XEN_EINVAL);
        period = 1000000;
        gpa_write(d, ARG, &period, 8);
        CHECK_EQ(vop(v, is64, VCPUOP_set_periodic_timer, 1, ARG), 0);
        CHECK_EQ(d->vcpu[1]->periodic_period, 1000000);
        CHECK_EQ(vop(v, is64, VCPUOP_set_periodic_timer, 0, HOLE_GPA), -XEN_EFAULT);
        CHECK_EQ(vop(v, is64, VCPUOP_stop_periodic_timer, 1, 0), 0);
        CHECK_EQ(d->vcpu[1]->periodic_period, 0);
        CHECK_EQ(vop(v, is64, VCPUOP_set_singleshot_timer, 1, ARG), -XEN_EINVAL);
        uint64_t later = xen_system_time() + 3600000000000ull; /* not due: it stays armed */
        gpa_write(d, ARG, &later, 8);
        CHECK_EQ(vop(v, is64, VCPUOP_set_singleshot_timer, 0, ARG), 0);
        CHECK(v->singleshot != 0);
        CHECK_EQ(vop(v, is64, VCPUOP_stop_singleshot_timer, 1, 0), -XEN_EINVAL);
        CHECK_EQ(vop(v, is64, VCPUOP_stop_singleshot_timer, 0, 0), 0);
        CHECK_EQ(v->singleshot, 0);
        CHECK_EQ(vop(v, is64, VCPUOP_register_runstate_memory_area, 0, HOLE_GPA), -XEN_EFAULT);
        CHECK_EQ(vop(v, is64, VCPUOP_register_vcpu_time_memory_area, 0, HOLE_GPA), -XEN_EFAULT);
        CHECK_EQ(vop(v, is64, VCPUOP_register_vcpu_time_memory_area, 0, ARG), -XEN_ENOSYS);
    }
    /* another vCPU's single-shot timer: native checks the vCPU first, compat copies first */
    CHECK_EQ(vop(v, true, VCPUOP_set_singleshot_timer, 1, HOLE_GPA), -XEN_EINVAL);
    CHECK_EQ(vop(v, false, VCPUOP_set_singleshot_timer, 1, HOLE_GPA), -XEN_EFAULT);
    domain_destroy(d);
}
