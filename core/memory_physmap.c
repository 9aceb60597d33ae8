/* memory_physmap.c: XENMEM_add_to_physmap_batch (foreign frames) and remove_from_physmap. */
#include "core/hypercall.h"
#include "core/xsm.h"

/*
 * p2m_add_foreign() (xen/arch/x86/mm/p2m.c): fdom must be another, existing domain
 * (rcu_lock_remote_domain_by_id(): -ESRCH, the caller itself -EPERM), the caller must be
 * privileged over it (xsm_map_gmfn_foreign, XSM_TARGET), its frame must be RAM (-EINVAL).
 * Whatever was at gpfn is removed first; displaced RAM is freed.
 */
static int add_foreign_one(struct vcpu *v, struct domain *t, domid_t fdomid, uint64_t idx,
                           uint64_t gpfn)
{
    uint64_t freed = 0;
    int rc;
    if (fdomid == DOMID_SELF || fdomid == v->domain->domain_id || fdomid == t->domain_id)
        return -XEN_EPERM;
    struct domain *f = rcu_lock_domain_by_id(fdomid);
    if (!f)
        return -XEN_ESRCH;
    /* xsm_map_gmfn_foreign(XSM_TARGET, t, f): the domain receiving the mapping must be
     * privileged over the foreign one, not just the caller. */
    rc = xsm_default_action(XSM_TARGET, t, f);
    if (rc == 0) {
        pthread_mutex_lock(&t->memop_lock);
        rc = p2m_remove(t, gpfn, 1, &freed);
        __atomic_fetch_sub(&t->tot_pages, freed, __ATOMIC_RELAXED);
        if (rc == 0)
            rc = p2m_set_foreign(t, gpfn, f, idx);
        pthread_mutex_unlock(&t->memop_lock);
    }
    rcu_unlock_domain(f);
    return rc;
}

/* One entry of a batch: xenmem_add_to_physmap_one() for the spaces a batch may use. */
static int batch_one(struct vcpu *v, struct domain *t, const struct xen_add_to_physmap_batch *b,
                     uint64_t idx, uint64_t gpfn)
{
    switch (b->space) {
    case XENMAPSPACE_gmfn_foreign:
        return add_foreign_one(v, t, b->u.foreign_domid, idx, gpfn);
    case XENMAPSPACE_shared_info:
        return idx ? -XEN_EINVAL : shared_info_map(t, gpfn);
    default: /* gmfn, grant_table, dev_mmio: not for xhv's HVM guests yet */
        return -XEN_EINVAL;
    }
}

/* xenmem_add_to_physmap_batch(): per-entry result in errs[]; the call itself fails only for
 * bad arguments or an unreadable/unwritable array (bounded by size, never by start). */
static long batch_entries(struct vcpu *v, struct domain *t,
                          const struct xen_add_to_physmap_batch *b, uint64_t start)
{
    size_t esz = v->hcall_compat ? 4 : 8; /* xen_ulong_t / xen_pfn_t */
    uint64_t idxs = guest_handle_addr(b->idxs), gpfns = guest_handle_addr(b->gpfns);
    uint64_t errs = guest_handle_addr(b->errs);
    if (b->size < start)
        return -XEN_EILSEQ;
    if (b->size == start)
        return start ? -XEN_EILSEQ : 0;
    for (uint64_t i = start; i < b->size; i++) {
        uint64_t idx = 0, gpfn = 0;
        int32_t rc;
        if (copy_from_guest(v, &idx, idxs + i * esz, esz) ||
            copy_from_guest(v, &gpfn, gpfns + i * esz, esz))
            return -XEN_EFAULT;
        rc = batch_one(v, t, b, idx, gpfn);
        if (copy_to_guest(v, errs + i * sizeof(rc), &rc, sizeof(rc)))
            return -XEN_EFAULT;
        if (!domain_is_running(v->domain))
            break;
    }
    return 0;
}

long memop_add_to_physmap_batch(struct vcpu *v, uint64_t start, uint64_t arg)
{
    struct xen_add_to_physmap_batch b;
    if (start != (uint16_t)start)
        return -XEN_EDOM;
    if (copy_struct_from_guest(v, &b, arg, &xlat_xen_add_to_physmap_batch))
        return -XEN_EFAULT;
    if (b.space == XENMAPSPACE_gmfn_range)
        return -XEN_EOPNOTSUPP;
    struct domain *t = rcu_lock_domain_by_any_id(v, b.domid);
    if (!t)
        return -XEN_ESRCH;
    long rc = xsm_target(v, t);
    if (rc == 0)
        rc = batch_entries(v, t, &b, start);
    rcu_unlock_domain(t);
    return rc;
}

/* XENMEM_remove_from_physmap: whatever is at gpfn goes (RAM is freed); a hole -ENOENT. */
long memop_remove_from_physmap(struct vcpu *v, uint64_t arg)
{
    struct xen_remove_from_physmap x;
    struct p2m_entry e;
    long rc;
    if (copy_struct_from_guest(v, &x, arg, &xlat_xen_remove_from_physmap))
        return -XEN_EFAULT;
    struct domain *t = rcu_lock_domain_by_any_id(v, x.domid);
    if (!t)
        return -XEN_ESRCH;
    if ((rc = xsm_target(v, t)) == 0) {
        pthread_mutex_lock(&t->memop_lock);
        rc = p2m_lookup(t, x.gpfn, &e) ? -XEN_ENOENT : unmap_range(t, x.gpfn, 1);
        pthread_mutex_unlock(&t->memop_lock);
    }
    rcu_unlock_domain(t);
    return rc;
}
