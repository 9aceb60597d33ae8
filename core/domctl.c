/* domctl.c: domctl (36) as Xen 4.17's do_domctl(): domain lifecycle, information, limits. */
#include <string.h>

#include "core/accel.h"
#include "core/domctl.h"
#include "core/event.h"
#include "core/hypercall.h"
#include "core/xsm.h"

#include <xen/hvm/hvm_info_table.h>

/*
 * The domctl structs are tools-only and built from uint64_aligned_t and XEN_GUEST_HANDLE_64,
 * so a 32-bit caller's layout is the 64-bit one by design (Xen has no compat domctl).
 */
_Static_assert(sizeof(struct xen_domctl) == 144, "xen_domctl");
_Static_assert(offsetof(struct xen_domctl, u) == 16, "xen_domctl.u");
_Static_assert(sizeof(struct xen_domctl_getdomaininfo) == 112, "xen_domctl_getdomaininfo");

/*
 * Xen's domctl_lock. Taken around the ops that only touch xhv's own bookkeeping; never held
 * while waiting for another domain's vCPUs (pause, destroy, vCPU state): a privileged
 * guest's vCPU blocked on it counts as running guest code for domain_pause(), and xhv has no
 * hypercall continuations to back out with as Xen's domctl_lock_acquire() does.
 */
static pthread_mutex_t domctl_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- domain ids (XEN_DOMCTL_createdomain) ---- */

static bool is_free_domid(domid_t dom)
{
    struct domain *d = rcu_lock_domain_by_id(dom);

    if (d)
        rcu_unlock_domain(d);
    return !d;
}

/* 1..DOMID_FIRST_RESERVED-1 asks for that id; anything else takes the next free id after the
 * last one handed out (Xen's rover: ids are not reused at once). domctl_lock held. */
static int domid_pick(domid_t want, domid_t *out)
{
    static domid_t rover;
    domid_t dom = rover;

    if (want > 0 && want < DOMID_FIRST_RESERVED) {
        *out = want;
        return is_free_domid(want) ? 0 : -XEN_EEXIST;
    }
    for (unsigned n = 1; n < DOMID_FIRST_RESERVED; n++) {
        dom = dom + 1u >= DOMID_FIRST_RESERVED ? 1 : (domid_t)(dom + 1);
        if (is_free_domid(dom)) {
            *out = rover = dom;
            return 0;
        }
    }
    return -XEN_ENOMEM;
}

/* ---- XEN_DOMCTL_createdomain ---- */

/* sanitise_domain_config() and its arch part (common/domain.c, arch/x86/domain.c). */
static int createdomain_flags_check(const struct xen_domctl_createdomain *c)
{
    const uint32_t known = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap | XEN_DOMCTL_CDF_s3_integrity |
                           XEN_DOMCTL_CDF_oos_off | XEN_DOMCTL_CDF_xs_domain |
                           XEN_DOMCTL_CDF_iommu | XEN_DOMCTL_CDF_nested_virt | XEN_DOMCTL_CDF_vpmu;
    uint32_t f = c->flags;

    if ((f & ~known) || (c->grant_opts & ~XEN_DOMCTL_GRANT_version_mask) || c->max_vcpus < 1)
        return -XEN_EINVAL;
    if ((f & XEN_DOMCTL_CDF_hap) && !(f & XEN_DOMCTL_CDF_hvm))
        return -XEN_EINVAL;
    /* Xen refuses what the hardware or build lacks: xhv has no IOMMU, vmtrace, vPMU, PV,
     * tboot, shadow paging or nested virtualisation. */
    if ((f & (XEN_DOMCTL_CDF_iommu | XEN_DOMCTL_CDF_vpmu | XEN_DOMCTL_CDF_s3_integrity |
              XEN_DOMCTL_CDF_nested_virt)) ||
        c->iommu_opts || c->vmtrace_size)
        return -XEN_EINVAL;
    if (!(f & XEN_DOMCTL_CDF_hvm) || !(f & XEN_DOMCTL_CDF_hap))
        return -XEN_EINVAL;
    if (c->max_vcpus > HVM_MAX_VCPUS || c->max_vcpus > XHV_MAX_VCPUS)
        return -XEN_EINVAL;
    if (c->arch.misc_flags & ~XEN_X86_MSR_RELAXED)
        return -XEN_EINVAL;
    return 0;
}

/* arch_domain_create() emulation_flags_ok(), grant_table_init(), the cpupool lookup. */
static int createdomain_check(const struct xen_domctl_createdomain *c)
{
    unsigned grant_version = XEN_DOMCTL_GRANT_version(c->grant_opts);
    int rc = createdomain_flags_check(c);

    if (rc)
        return rc;
    if (c->arch.emulation_flags & ~XEN_X86_EMU_ALL)
        return -XEN_EINVAL;
    /* Xen also allows a full HVM set (everything but vPCI); xhv has no device model, so
     * only PVH's LAPIC-only set is offered: the others are "not allowed" as in Xen. */
    if (c->arch.emulation_flags != XEN_X86_EMU_LAPIC)
        return -XEN_EOPNOTSUPP;
    /* grant_table_init(): version 0 is invalid, xhv's opt_gnttab_max_version is 1 */
    if (grant_version != 1)
        return -XEN_EINVAL;
    if (c->max_grant_frames == 0) /* < INITIAL_NR_GRANT_FRAMES; negative = the default */
        return -XEN_EINVAL;
    if (c->cpupool_id != 0) /* cpupool_add_domain(): only pool 0 exists */
        return -XEN_ENOENT;
    return 0;
}

static long domctl_createdomain(struct vcpu *v, struct xen_domctl *op)
{
    const struct xen_domctl_createdomain *c = &op->u.createdomain;
    struct domain_config cfg = {
        .ssidref = c->ssidref,
        .cdf_flags = c->flags,
        .max_evtchn_port = c->max_evtchn_port,
        .max_grant_frames =
            c->max_grant_frames < 0 ? XHV_DEFAULT_MAX_GRANT_FRAMES : c->max_grant_frames,
        .max_maptrack_frames =
            c->max_maptrack_frames < 0 ? XHV_DEFAULT_MAX_MAPTRACK_FRAMES : c->max_maptrack_frames,
        .max_vcpus = c->max_vcpus,
        .privileged = c->ssidref == XHV_SSIDREF_CONTROL,
    };
    struct domain *d = NULL;
    domid_t id;
    int rc = createdomain_check(c);

    if (rc == 0)
        rc = xsm_domain_create(v, c->ssidref);
    if (rc == 0 && !xhv_accel) {
        xhv_log(LOG_ERR, "createdomain: no backend for new domains");
        rc = -XEN_EINVAL; /* "HVM support not available" */
    }
    /* an automatic id may be taken by a domain created outside domctl meanwhile: retry */
    for (unsigned tries = 0; rc == 0 && !d && tries < 8; tries++) {
        rc = domid_pick(op->domain, &id);
        if (rc == 0)
            d = domain_create(id, &cfg, xhv_accel, &rc);
        if (!d && rc == -XEN_EEXIST && !(op->domain > 0 && op->domain < DOMID_FIRST_RESERVED))
            rc = 0;
    }
    if (!d)
        return rc ? rc : -XEN_ENOMEM;
    /* vCPUs start down (Xen's VPF_down): sethvmcontext or setvcpucontext brings them up */
    pthread_mutex_lock(&d->lock);
    memcpy(d->handle, c->handle, sizeof(d->handle));
    for (unsigned i = 0; i < d->max_vcpus; i++)
        d->vcpu[i]->online = d->vcpu[i]->initialised = false;
    pthread_mutex_unlock(&d->lock);
    soft_affinity_forget(d->domain_id);
    op->domain = d->domain_id; /* the new domain stays paused until the first unpause */
    xhv_log(LOG_INFO, "d%u created by d%u (%u vCPUs%s)", d->domain_id, v->domain->domain_id,
            c->max_vcpus, d->privileged ? ", privileged" : "");
    return 0;
}

/* ---- XEN_DOMCTL_destroydomain / pausedomain / unpausedomain ---- */

/*
 * domain_kill(): never oneself (-EINVAL), and in xhv never domain 0, the host-side
 * toolstack. The caller's reference is dropped here: the first caller to mark the domain
 * dying destroys it (domain_destroy() waits for every reference); a concurrent one returns
 * 0 at once, as Xen does for a domain already dead.
 */
static long domctl_destroydomain(struct vcpu *v, struct domain *d)
{
    bool claimed = false;

    if (d == v->domain || d->is_control) {
        rcu_unlock_domain(d);
        return -XEN_EINVAL;
    }
    pthread_mutex_lock(&d->lock);
    if (!d->is_dying)
        claimed = true, __atomic_store_n(&d->is_dying, true, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&d->lock);
    rcu_unlock_domain(d);
    if (claimed) {
        domid_t id = d->domain_id;
        xhv_log(LOG_INFO, "d%u destroyed by d%u", id, v->domain->domain_id);
        domain_destroy(d);
        pthread_mutex_lock(&domctl_lock);
        soft_affinity_forget(id);
        pthread_mutex_unlock(&domctl_lock);
    }
    return 0;
}

/* domain_pause_by_systemcontroller(): not oneself (no domain_pause() of one's own vCPUs);
 * the pause count is capped at 255 (-EOVERFLOW). */
static long domctl_pausedomain(struct vcpu *v, struct domain *d)
{
    if (d == v->domain)
        return -XEN_EINVAL;
    pthread_mutex_lock(&d->lock);
    bool full = d->pause_count >= 255;
    pthread_mutex_unlock(&d->lock);
    if (full)
        return -XEN_EOVERFLOW;
    domain_pause(d);
    return 0;
}

/* ---- XEN_DOMCTL_getdomaininfo ---- */

struct domain *domain_find_from(domid_t first)
{
    for (unsigned id = first; id < XHV_DOMID_LIMIT; id++) {
        pthread_mutex_lock(&domain_table_lock);
        while (id < XHV_DOMID_LIMIT && !domain_table[id])
            id++;
        pthread_mutex_unlock(&domain_table_lock);
        if (id >= XHV_DOMID_LIMIT)
            break;
        struct domain *d = rcu_lock_domain_by_id((domid_t)id);
        if (d)
            return d;
    }
    return NULL;
}

/* The vCPU loop of getdomaininfo(): blocked only if every online vCPU is blocked, running if
 * any is; cpu_time sums the running time. d->lock held. */
static uint32_t vcpus_info(const struct domain *d, struct xen_domctl_getdomaininfo *info)
{
    uint32_t flags = XEN_DOMINF_blocked;

    for (unsigned i = 0; d->vcpu && i < d->max_vcpus; i++) {
        const struct vcpu *w = d->vcpu[i];
        struct vcpu_runstate_info r;
        vcpu_runstate_get_locked(w, &r);
        info->cpu_time += r.time[RUNSTATE_running];
        info->max_vcpu_id = w->vcpu_id;
        if (!w->online)
            continue;
        if (w->runstate != RUNSTATE_blocked)
            flags &= ~XEN_DOMINF_blocked;
        if (w->runstate == RUNSTATE_running)
            flags |= XEN_DOMINF_running;
        info->nr_online_vcpus++;
    }
    return info->nr_online_vcpus ? flags : 0;
}

/*
 * getdomaininfo() + arch_get_domain_info(). The shutdown code is shifted in unconditionally,
 * as Xen does: a domain not shut down has code -1 (SHUTDOWN_CODE_INVALID, ~0u), so bits 16-31
 * are all set; readers look at them only with XEN_DOMINF_shutdown (libxl does).
 */
void getdomaininfo(struct domain *d, struct xen_domctl_getdomaininfo *info)
{
    bool hvm = d->cdf_flags & XEN_DOMCTL_CDF_hvm;

    memset(info, 0, sizeof(*info));
    info->domain = d->domain_id;
    info->max_vcpu_id = XEN_INVALID_MAX_VCPU_ID;
    pthread_mutex_lock(&d->lock);
    info->flags = vcpus_info(d, info) | (d->is_dying ? XEN_DOMINF_dying : 0) |
                  (d->is_shut_down ? XEN_DOMINF_shutdown : 0) |
                  (d->pause_count ? XEN_DOMINF_paused : 0) |
                  (d->cdf_flags & XEN_DOMCTL_CDF_xs_domain ? XEN_DOMINF_xs_domain : 0) |
                  (hvm ? XEN_DOMINF_hvm_guest : 0) |
                  (d->cdf_flags & XEN_DOMCTL_CDF_hap ? XEN_DOMINF_hap : 0) |
                  (uint32_t)d->shutdown_code << XEN_DOMINF_shutdownshift;
    memcpy(info->handle, d->handle, sizeof(info->handle));
    pthread_mutex_unlock(&d->lock);
    info->ssidref = d->ssidref; /* FLASK-style label (the dummy module would report 0) */
    info->tot_pages = __atomic_load_n(&d->tot_pages, __ATOMIC_RELAXED);
    info->max_pages = __atomic_load_n(&d->max_pages, __ATOMIC_RELAXED);
    info->shared_info_frame = d->shared_info_gfn; /* ~0 (INVALID_M2P_ENTRY) when unmapped */
    info->cpupool = 0;
    info->gpaddr_bits = (uint8_t)host_paddr_bits(); /* paging_max_paddr_bits() under HAP */
    info->arch_config.emulation_flags = hvm ? XEN_X86_EMU_LAPIC : 0;
}

/* 4.17: a domain that does not exist is replaced by the next one up (tools iterate with
 * it); ids in the reserved range are -EINVAL, nothing left -ESRCH. */
static long domctl_getdomaininfo(struct vcpu *v, struct domain *d, struct xen_domctl *op)
{
    struct domain *found = d;
    long rc;

    if (!found) {
        if (op->domain >= DOMID_FIRST_RESERVED)
            return -XEN_EINVAL;
        found = domain_find_from(op->domain);
        if (!found)
            return -XEN_ESRCH;
    }
    rc = xsm_getdomaininfo(v, found);
    if (rc == 0) {
        getdomaininfo(found, &op->u.getdomaininfo);
        op->domain = op->u.getdomaininfo.domain;
    }
    if (found != d)
        rcu_unlock_domain(found);
    return rc;
}

/* ---- limits, handle, time offset ---- */

/* XEN_DOMCTL_max_mem: max_pages = max_memkb >> 2, clamped to Xen's unsigned int; it may go
 * below tot_pages ("ratchet down": later allocations fail until the domain shrinks). */
static long domctl_max_mem(struct domain *d, const struct xen_domctl *op)
{
    uint64_t max = op->u.max_mem.max_memkb >> (PAGE_SHIFT - 10);

    pthread_mutex_lock(&d->memop_lock);
    __atomic_store_n(&d->max_pages, max > UINT32_MAX ? UINT32_MAX : max, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&d->memop_lock);
    return 0;
}

/* XEN_DOMCTL_max_vcpus: the vCPUs exist since createdomain; the count must match it, and a
 * domain cannot do this to itself (no domain_pause() of oneself). */
static long domctl_max_vcpus(struct vcpu *v, struct domain *d, const struct xen_domctl *op)
{
    return d == v->domain || op->u.max_vcpus.max != d->max_vcpus ? -XEN_EINVAL : 0;
}

/* XEN_DOMCTL_settimeoffset (domain_set_time_offset()): seconds added to the wallclock;
 * xhv keeps it in an int32_t, so it is clamped to that range. */
static long domctl_settimeoffset(struct domain *d, const struct xen_domctl *op)
{
    int64_t s = op->u.settimeoffset.time_offset_seconds;

    pthread_mutex_lock(&d->lock);
    d->time_offset = s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s;
    pthread_mutex_unlock(&d->lock);
    if (!d->is_control) /* update_domain_wallclock_time() */
        shared_info_update_wallclock(d);
    return 0;
}

/* ---- dispatch ---- */

/* Ops under domctl_lock: those that touch only xhv state and never wait for d's vCPUs. */
static long domctl_locked(struct vcpu *v, struct domain *d, struct xen_domctl *op, bool *copyback)
{
    switch (op->cmd) {
    case XEN_DOMCTL_createdomain:
        *copyback = true;
        return domctl_createdomain(v, op);
    case XEN_DOMCTL_getdomaininfo: {
        long rc = domctl_getdomaininfo(v, d, op);
        *copyback = rc == 0;
        return rc;
    }
    case XEN_DOMCTL_max_mem:
        return domctl_max_mem(d, op);
    case XEN_DOMCTL_max_vcpus:
        return domctl_max_vcpus(v, d, op);
    case XEN_DOMCTL_setdomainhandle:
        pthread_mutex_lock(&d->lock);
        memcpy(d->handle, op->u.setdomainhandle.handle, sizeof(d->handle));
        pthread_mutex_unlock(&d->lock);
        return 0;
    case XEN_DOMCTL_settimeoffset:
        return domctl_settimeoffset(d, op);
    case XEN_DOMCTL_setvcpuaffinity:
    case XEN_DOMCTL_getvcpuaffinity:
        return domctl_vcpuaffinity(v, d, op);
    case XEN_DOMCTL_set_virq_handler:
        return domctl_set_virq_handler(v, d, op->u.set_virq_handler.virq);
    case XEN_DOMCTL_getvcpuinfo: {
        long rc = domctl_getvcpuinfo(d, op);
        *copyback = rc == 0;
        return rc;
    }
    default:
        return hypercall_unimplemented_subop(v, __HYPERVISOR_domctl, op->cmd);
    }
}

/* Ops that may wait for d's vCPUs run outside domctl_lock; every other op runs under it.
 * Consumes the reference on d for destroydomain (*dp = NULL). */
static long domctl_dispatch(struct vcpu *v, struct domain **dp, struct xen_domctl *op,
                            bool *copyback)
{
    struct domain *d = *dp;
    long rc;

    switch (op->cmd) {
    case XEN_DOMCTL_destroydomain:
        *dp = NULL;
        return domctl_destroydomain(v, d);
    case XEN_DOMCTL_pausedomain:
        return domctl_pausedomain(v, d);
    case XEN_DOMCTL_unpausedomain: /* domain_unpause_by_systemcontroller(): -EINVAL at 0 */
        return domain_unpause(d);
    case XEN_DOMCTL_gethvmcontext:
    case XEN_DOMCTL_sethvmcontext:
        return domctl_hvmcontext(v, d, op, copyback);
    case XEN_DOMCTL_getvcpucontext:
    case XEN_DOMCTL_setvcpucontext:
        return domctl_vcpucontext(v, d, op);
    default:
        pthread_mutex_lock(&domctl_lock);
        rc = domctl_locked(v, d, op, copyback);
        pthread_mutex_unlock(&domctl_lock);
        return rc;
    }
}

/*
 * do_domctl(): copy in, interface version (-EACCES), the target domain (-ESRCH, except for
 * the ops that name none and getdomaininfo's search), XSM (-EPERM), the op, then the struct
 * is copied back only for ops with output. Unknown ops -ENOSYS (logged once).
 */
long do_domctl(struct vcpu *v, const uint64_t args[5])
{
    struct xen_domctl op;
    struct domain *d = NULL;
    bool copyback = false;
    long rc;

    if (copy_from_guest(v, &op, args[0], sizeof(op)))
        return -XEN_EFAULT;
    if (op.interface_version != XEN_DOMCTL_INTERFACE_VERSION)
        return -XEN_EACCES;
    if (op.cmd != XEN_DOMCTL_createdomain && op.cmd != XEN_DOMCTL_test_assign_device &&
        op.cmd != XEN_DOMCTL_gdbsx_guestmemio) {
        d = rcu_lock_domain_by_id(op.domain);
        if (!d && op.cmd != XEN_DOMCTL_getdomaininfo)
            return -XEN_ESRCH;
    }
    rc = xsm_domctl(v, d, op.cmd);
    if (rc == 0)
        rc = domctl_dispatch(v, &d, &op, &copyback);
    if (d)
        rcu_unlock_domain(d);
    if (copyback && copy_to_guest(v, args[0], &op, sizeof(op)))
        rc = -XEN_EFAULT;
    return rc;
}
