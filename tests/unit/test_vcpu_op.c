/* test_vcpu_op.c: vcpu_op (24): vCPU lookup, is_up/up/down, runstate, register_vcpu_info,
 * timers and the not-yet-implemented ops, both ABIs. */
#include <string.h>

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

TEST(vcpuop_initialise_checks)
{
    struct domain *d = fake_domain(16, 34, false);
    struct vcpu *v = d->vcpu[0];
    gpa_fill(d, ARG, 0, sizeof(struct vcpu_hvm_context));
    CHECK_EQ(vop(v, true, VCPUOP_initialise, 0, ARG), -XEN_EEXIST);
    CHECK_EQ(vop(v, true, VCPUOP_initialise, 1, HOLE_GPA), -XEN_EFAULT);
    CHECK_EQ(vop(v, false, VCPUOP_initialise, 1, ARG), -XEN_ENOSYS);
    CHECK_EQ(vop(v, true, VCPUOP_initialise, 33, ARG), -XEN_EINVAL); /* no vcpu_info */
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
}

TEST(vcpuop_register_vcpu_info_beyond_legacy)
{
    struct domain *d = fake_domain(16, 33, false);
    uint8_t area[64];
    CHECK(vcpu_info_hva(d->vcpu[32]) == NULL); /* no legacy slot */
    gpa_fill(d, 0x400000, 0x77, 64);
    CHECK_EQ(register_info(d->vcpu[0], true, 32, 0x400, 0), 0);
    gpa_read(d, 0x400000, area, 64);
    CHECK_EQ(area[offsetof(struct vcpu_info, evtchn_upcall_mask)], 1); /* zeroed, masked */
    CHECK_EQ(area[offsetof(struct vcpu_info, evtchn_upcall_pending)], 1);
    uint32_t tver; /* zeroed, then force_update_vcpu_system_time(): version 0 -> 1 -> 2 */
    memcpy(&tver, area + offsetof(struct vcpu_info, time.version), 4);
    CHECK_EQ(tver, 2);
    CHECK(vcpu_info_hva(d->vcpu[32]) != NULL);
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
        CHECK_EQ(vop(v, is64, VCPUOP_set_singleshot_timer, 0, ARG), 0);
        CHECK(v->singleshot != 0);
        CHECK_EQ(vop(v, is64, VCPUOP_stop_singleshot_timer, 1, 0), -XEN_EINVAL);
        CHECK_EQ(vop(v, is64, VCPUOP_stop_singleshot_timer, 0, 0), 0);
        CHECK_EQ(v->singleshot, 0);
        CHECK_EQ(vop(v, is64, VCPUOP_register_runstate_memory_area, 0, HOLE_GPA), -XEN_EFAULT);
        CHECK_EQ(vop(v, is64, VCPUOP_register_runstate_memory_area, 0, ARG), -XEN_ENOSYS);
        CHECK_EQ(vop(v, is64, VCPUOP_register_vcpu_time_memory_area, 0, ARG), -XEN_ENOSYS);
    }
    /* another vCPU's single-shot timer: native checks the vCPU first, compat copies first */
    CHECK_EQ(vop(v, true, VCPUOP_set_singleshot_timer, 1, HOLE_GPA), -XEN_EINVAL);
    CHECK_EQ(vop(v, false, VCPUOP_set_singleshot_timer, 1, HOLE_GPA), -XEN_EFAULT);
    domain_destroy(d);
}
