/* vcpu_op.c: vcpu_op (24) as Xen 4.17's do_vcpu_op()/common_vcpu_op(), and vcpu_info placement. */
#include <string.h>

#include "compat_layout.h"
#include "core/accel.h"
#include "core/core.h"
#include "core/hvm.h"
#include "core/hypercall.h"
#include "core/time.h"

#define MILLISECS(ms) ((uint64_t)(ms)*1000000ull)
#define STIME_DELTA_MAX (~0ull >> 2) /* xen/include/xen/time.h */

/* The vcpu_info of vCPU i < 32 lives in shared_info (same offsets in both layouts). */
_Static_assert(COMPAT_vcpu_info_SIZE == sizeof(struct vcpu_info), "vcpu_info size");
_Static_assert(COMPAT_shared_info__vcpu_info_OFF == offsetof(struct shared_info, vcpu_info),
               "legacy vcpu_info slots");
_Static_assert(COMPAT_vcpu_info__evtchn_upcall_mask_OFF ==
                   offsetof(struct vcpu_info, evtchn_upcall_mask),
               "upcall mask offset");

/*
 * Read by other threads (event senders, the timer and calibration threads) without d->lock:
 * registration publishes gfn and offset before `registered` (release/acquire). Only the
 * domain's own pages: a foreign page could be unmapped (and its memory freed) under us.
 */
uint8_t *vcpu_info_hva(struct vcpu *v)
{
    struct domain *d = v->domain;
    struct p2m_entry e;

    if (__atomic_load_n(&v->vcpu_info_registered, __ATOMIC_ACQUIRE))
        return p2m_lookup(d, v->vcpu_info_gfn, &e) || e.type == p2m_foreign
                   ? NULL
                   : e.hva + v->vcpu_info_offset;
    if (v->vcpu_id < XEN_LEGACY_MAX_VCPUS)
        return physmap_owned_page(d, XHV_PG_SHARED_INFO) + offsetof(struct shared_info, vcpu_info) +
               v->vcpu_id * sizeof(struct vcpu_info);
    return NULL; /* Xen's dummy_vcpu_info */
}

/* Checks of map_vcpu_info() (xen/common/domain.c), in Xen's order; d->lock held. */
static int map_vcpu_info_check(struct vcpu *v, struct vcpu *t, uint64_t gfn, uint32_t offset,
                               struct p2m_entry *e)
{
    unsigned align = shared_info_is_compat(t->domain) ? 4 : 8; /* alignof(vcpu_info) per layout */

    if (offset > PAGE_SIZE - sizeof(struct vcpu_info) || (offset & (align - 1)))
        return -XEN_ENXIO;
    if (t->vcpu_info_registered)
        return -XEN_EINVAL; /* once per vCPU */
    if (t != v && t->online)
        return -XEN_EINVAL; /* only the caller itself or an offline vCPU */
    if (p2m_lookup(t->domain, gfn, e) || e->type == p2m_foreign)
        return -XEN_EINVAL; /* get_page_from_gfn(): not a page of the domain */
    return 0;
}

/*
 * VCPUOP_register_vcpu_info: the new area starts as a copy of the legacy shared_info slot
 * (vCPUs < 32) or zeroed with evtchn_upcall_mask = 1 (others); then, deliberately, every
 * selector bit is set and vcpu_mark_events_pending() raises the upcall, so no event is lost
 * (the guest sees one spurious event), as Xen's map_vcpu_info().
 */
static long register_vcpu_info(struct vcpu *v, struct vcpu *t, uint64_t arg)
{
    struct domain *d = t->domain;
    struct vcpu_register_vcpu_info info;
    struct p2m_entry e;
    int rc;

    if (copy_from_guest(v, &info, arg, sizeof(info)))
        return -XEN_EFAULT;
    pthread_mutex_lock(&d->lock);
    rc = map_vcpu_info_check(v, t, info.mfn, info.offset, &e);
    if (rc == 0) {
        uint8_t *old = vcpu_info_hva(t), *new = e.hva + info.offset;
        if (old)
            memmove(new, old, sizeof(struct vcpu_info));
        else
            memset(new, 0, sizeof(struct vcpu_info));
        if (!old)
            new[offsetof(struct vcpu_info, evtchn_upcall_mask)] = 1;
        t->vcpu_info_gfn = info.mfn;
        t->vcpu_info_offset = info.offset;
        __atomic_store_n(&t->vcpu_info_registered, true, __ATOMIC_RELEASE);
        if (shared_info_is_compat(d))
            __atomic_store_n((uint32_t *)(new + COMPAT_vcpu_info__evtchn_pending_sel_OFF), ~0u,
                             __ATOMIC_SEQ_CST);
        else
            __atomic_store_n((uint64_t *)(new + offsetof(struct vcpu_info, evtchn_pending_sel)),
                             ~0ull, __ATOMIC_SEQ_CST);
    }
    pthread_mutex_unlock(&d->lock);
    if (rc == 0) {
        vcpu_mark_events_pending(t); /* the upcall for the spurious event (map_vcpu_info()) */
        vcpu_time_refresh(t, true);  /* force_update_vcpu_system_time(); t is v or not running */
    }
    return rc;
}
_Static_assert(sizeof(struct vcpu_register_vcpu_info) == COMPAT_vcpu_register_vcpu_info_SIZE,
               "same layout in both ABIs");

/* VCPUOP_down (common_vcpu_op()): the last vCPU going down powers the domain off; any other
 * stops before its next guest instruction (it may be the caller itself). */
static long vcpu_down(struct vcpu *t)
{
    struct domain *d = t->domain;
    bool others = false;

    /* the check and the store under one d->lock hold: two vCPUs downing themselves at once
     * cannot both see the other one up */
    pthread_mutex_lock(&d->lock);
    for (unsigned i = 0; i < d->max_vcpus; i++)
        if (i != t->vcpu_id && d->vcpu[i]->online)
            others = true;
    bool stop = others && t->online && t->thread_started;
    if (others)
        __atomic_store_n(&t->online, false, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&d->lock);
    if (!others)
        domain_shutdown(d, SHUTDOWN_poweroff);
    else if (stop && d->accel_ops->vcpu_kick)
        d->accel_ops->vcpu_kick(t); /* it leaves guest code and waits, offline */
    return 0;
}

/* VCPUOP_up: -EINVAL unless initialised; otherwise clear "down" and let it run. */
static long vcpu_up(struct vcpu *t)
{
    struct domain *d = t->domain;

    pthread_mutex_lock(&d->lock);
    bool ok = t->initialised, wake = ok && !t->online;
    pthread_mutex_unlock(&d->lock);
    if (!ok)
        return -XEN_EINVAL;
    return wake ? vcpu_set_online(t, true) : 0;
}

/* VCPUOP_initialise (arch_initialise_vcpu(), HVM): dummy vcpu_info -EINVAL, copy -EFAULT,
 * already initialised -EEXIST, then arch_set_info_hvm_guest(); the vCPU stays down. */
static long vcpu_initialise(struct vcpu *v, struct vcpu *t, uint64_t arg)
{
    struct vcpu_hvm_context ctx;
    long rc;

    if (t->vcpu_id >= XEN_LEGACY_MAX_VCPUS && !t->vcpu_info_registered)
        return -XEN_EINVAL;
    if (copy_from_guest(v, &ctx, arg, sizeof(ctx)))
        return -XEN_EFAULT;
    pthread_mutex_lock(&t->domain->vcpu_init_lock); /* Xen: domain_lock() */
    pthread_mutex_lock(&t->domain->lock);
    bool initialised = t->initialised;
    pthread_mutex_unlock(&t->domain->lock);
    rc = initialised ? -XEN_EEXIST : arch_set_info_hvm_guest(t, &ctx);
    pthread_mutex_unlock(&t->domain->vcpu_init_lock);
    return rc;
}
_Static_assert(sizeof(struct vcpu_hvm_context) == 128, "vcpu_hvm_context (both ABIs)");

/* Timers: Xen's argument checks, then core/timer.c arms them (VIRQ_TIMER when due). */
static long vcpu_timer_op(struct vcpu *v, struct vcpu *t, int cmd, uint64_t arg)
{
    struct vcpu_set_periodic_timer p;
    struct vcpu_set_singleshot_timer s;

    switch (cmd) {
    case VCPUOP_set_periodic_timer:
        if (copy_from_guest(v, &p, arg, sizeof(p)))
            return -XEN_EFAULT;
        if (p.period_ns < MILLISECS(1) || p.period_ns > STIME_DELTA_MAX)
            return -XEN_EINVAL;
        vcpu_set_periodic(t, p.period_ns);
        return 0;
    case VCPUOP_stop_periodic_timer:
        vcpu_set_periodic(t, 0);
        return 0;
    case VCPUOP_set_singleshot_timer:
        /* compat_vcpu_op() copies the 12-byte i386 struct in before checking t */
        if (!v->hcall_compat && t != v)
            return -XEN_EINVAL;
        if (copy_struct_from_guest(v, &s, arg, &xlat_vcpu_set_singleshot_timer))
            return -XEN_EFAULT;
        if (t != v)
            return -XEN_EINVAL;
        /* VCPU_SSHOTTMR_future is ignored (no -ETIME), as in 4.17: an expired time fires */
        vcpu_set_singleshot(t, s.timeout_abs_ns ? s.timeout_abs_ns : 1);
        return 0;
    default: /* VCPUOP_stop_singleshot_timer */
        if (t != v)
            return -XEN_EINVAL;
        vcpu_set_singleshot(t, 0);
        return 0;
    }
}
_Static_assert(sizeof(struct vcpu_set_periodic_timer) == 8, "same layout in both ABIs");

/* Write XEN_RUNSTATE_UPDATE's byte (bit 63 of state_entry_time, little-endian) alone. */
static void runstate_update_flag(struct vcpu *v, uint64_t gva, bool compat, bool set)
{
    size_t off = compat ? COMPAT_vcpu_runstate_info__state_entry_time_OFF
                        : offsetof(struct vcpu_runstate_info, state_entry_time);
    uint64_t t = v->runstate_entry - xen_system_time_epoch();
    uint8_t top = (uint8_t)((set ? t | XEN_RUNSTATE_UPDATE : t) >> 56);
    copy_to_guest(v, gva + off + 7, &top, 1);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/*
 * update_runstate_area(): the area gets the runstate in the latched shared_info layout; with
 * VMASST_TYPE_runstate_update_flag, XEN_RUNSTATE_UPDATE is set in state_entry_time while it
 * is written. It is translated with v's own paging (its last hypercall's: Linux registers a
 * kernel address, the same in every address space); before v's first hypercall there is
 * nothing to translate with and the update waits. Faults are ignored, as in Xen.
 */
void update_runstate_area(struct vcpu *v)
{
    struct domain *d = v->domain;
    uint64_t gva = v->runstate_guest;
    struct vcpu_runstate_info r;

    if (!gva || !v->paging_valid || v->ctl_buf)
        return;
    bool compat = shared_info_is_compat(d),
         flag = vm_assist_enabled(d, VMASST_TYPE_runstate_update_flag);
    vcpu_runstate_get_locked(v, &r);
    if (flag) {
        runstate_update_flag(v, gva, compat, true);
        r.state_entry_time |= XEN_RUNSTATE_UPDATE;
    }
    copy_struct_to_guest_layout(v, gva, &r, &xlat_vcpu_runstate_info, compat);
    if (flag)
        runstate_update_flag(v, gva, compat, false);
}

/*
 * VCPUOP_register_runstate_memory_area: -EFAULT if the 8-byte argument cannot be read; then
 * the address is taken (0 unregisters) and written at once from the caller's view of it
 * (Xen's __copy_to_guest() in the caller's context; its failure is ignored).
 */
static long register_runstate_area(struct vcpu *v, struct vcpu *t, uint64_t arg)
{
    struct domain *d = t->domain;
    struct vcpu_runstate_info r;
    uint64_t area;

    if (copy_from_guest(v, &area, arg, sizeof(area)))
        return -XEN_EFAULT;
    if (v->hcall_compat)
        area = (uint32_t)area; /* the compat handle is 32 bits */
    pthread_mutex_lock(&d->lock);
    t->runstate_guest = area;
    vcpu_runstate_get_locked(t, &r);
    pthread_mutex_unlock(&d->lock);
    if (area)
        copy_struct_to_guest_layout(v, area, &r, &xlat_vcpu_runstate_info,
                                    shared_info_is_compat(d));
    return 0;
}

/* VCPUOP_register_vcpu_time_memory_area: copied, then not implemented (Linux falls back). */
static long vcpu_area_op(struct vcpu *v, int cmd, uint64_t arg)
{
    uint64_t area; /* vcpu_register_time_memory_area: 8 bytes in both ABIs */

    if (copy_from_guest(v, &area, arg, sizeof(area)))
        return -XEN_EFAULT;
    return hypercall_unimplemented_subop(v, __HYPERVISOR_vcpu_op, (unsigned)cmd);
}
_Static_assert(sizeof(struct vcpu_register_runstate_memory_area) == 8, "runstate area");

static long vcpu_runstate_info(struct vcpu *v, struct vcpu *t, uint64_t arg)
{
    struct vcpu_runstate_info r;

    vcpu_runstate_get(t, &r);
    return copy_struct_to_guest(v, arg, &r, &xlat_vcpu_runstate_info) ? -XEN_EFAULT : 0;
}

/* do_vcpu_op() (xen/arch/x86/domain.c) + common_vcpu_op() (xen/common/domain.c). */
long do_vcpu_op(struct vcpu *v, const uint64_t args[5])
{
    struct domain *d = v->domain;
    int cmd = (int)args[0];
    uint32_t vcpuid = (uint32_t)args[1];
    uint64_t arg = args[2];
    struct vcpu *t = vcpuid < d->max_vcpus ? d->vcpu[vcpuid] : NULL;

    if (!t)
        return -XEN_ENOENT;
    switch (cmd) {
    case VCPUOP_initialise:
        return vcpu_initialise(v, t, arg);
    case VCPUOP_up:
        return vcpu_up(t);
    case VCPUOP_down:
        return vcpu_down(t);
    case VCPUOP_is_up:
        return __atomic_load_n(&t->online, __ATOMIC_ACQUIRE);
    case VCPUOP_get_runstate_info:
        return vcpu_runstate_info(v, t, arg);
    case VCPUOP_register_vcpu_info:
        return register_vcpu_info(v, t, arg);
    case VCPUOP_set_periodic_timer:
    case VCPUOP_stop_periodic_timer:
    case VCPUOP_set_singleshot_timer:
    case VCPUOP_stop_singleshot_timer:
        return vcpu_timer_op(v, t, cmd, arg);
    case VCPUOP_register_runstate_memory_area:
        return register_runstate_area(v, t, arg);
    case VCPUOP_register_vcpu_time_memory_area:
        return vcpu_area_op(v, cmd, arg);
    case VCPUOP_send_nmi: /* TODO: NMI injection needs a backend op */
        return arg ? -XEN_EINVAL
                   : hypercall_unimplemented_subop(v, __HYPERVISOR_vcpu_op, (unsigned)cmd);
    case VCPUOP_get_physid: /* hardware domain's pinned vCPUs only */
        return -XEN_EINVAL;
    default:
        return hypercall_unimplemented_subop(v, __HYPERVISOR_vcpu_op, (unsigned)cmd);
    }
}
