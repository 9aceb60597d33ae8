/* domctl_vcpu.c: per-vCPU domctls as Xen 4.17: vCPU affinity and getvcpuinfo. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/domctl.h"

/* ---- xenctl_bitmap <-> cpu_set_t (bitmap_to_xenctl_bitmap(), xenctl_bitmap_to_bitmap()) ---- */

static unsigned bitmap_bytes(uint64_t bits)
{
    return (unsigned)((bits + 7) / 8);
}

/* The guest's bitmap, cut to nr_cpu_ids bits; bits past nr_bits in its last byte ignored. */
static int bitmap_from_guest(struct vcpu *v, const struct xenctl_bitmap *b, cpu_set_t *set)
{
    unsigned nbits = host_nr_cpu_ids(), guest = bitmap_bytes(b->nr_bits);
    unsigned copy = guest < bitmap_bytes(nbits) ? guest : bitmap_bytes(nbits);
    uint8_t bytes[CPU_SETSIZE / 8];

    memset(bytes, 0, sizeof(bytes));
    if (copy && copy_from_guest(v, bytes, guest_handle_addr(b->bitmap), copy))
        return -XEN_EFAULT;
    if ((b->nr_bits & 7) && guest == copy)
        bytes[copy - 1] &= (uint8_t) ~(0xffu << (b->nr_bits & 7));
    CPU_ZERO(set);
    for (unsigned i = 0; i < nbits; i++)
        if (bytes[i / 8] & (1u << (i % 8)))
            CPU_SET(i, set);
    return 0;
}

/* nr_cpu_ids bits of set into the guest's bitmap; its remaining bytes are zeroed. */
static int bitmap_to_guest(struct vcpu *v, const struct xenctl_bitmap *b, const cpu_set_t *set)
{
    unsigned nbits = host_nr_cpu_ids(), guest = bitmap_bytes(b->nr_bits);
    unsigned copy = guest < bitmap_bytes(nbits) ? guest : bitmap_bytes(nbits);
    uint64_t addr = guest_handle_addr(b->bitmap);
    uint8_t bytes[CPU_SETSIZE / 8];

    memset(bytes, 0, sizeof(bytes));
    for (unsigned i = 0; i < nbits; i++)
        if (CPU_ISSET(i, set))
            bytes[i / 8] |= (uint8_t)(1u << (i % 8));
    if (copy && copy_to_guest(v, addr, bytes, copy))
        return -XEN_EFAULT;
    if (guest > copy && clear_guest(v, addr + copy, guest - copy))
        return -XEN_EFAULT;
    return 0;
}

/* ---- affinity state ---- */

static void all_cpus(cpu_set_t *s)
{
    CPU_ZERO(s);
    for (unsigned i = 0; i < host_nr_cpu_ids(); i++)
        CPU_SET(i, s);
}

/* The cpupool's online CPUs: those the xhv process may use (its main thread's mask). */
static void online_cpus(cpu_set_t *s)
{
    if (sched_getaffinity(getpid(), sizeof(*s), s) != 0)
        all_cpus(s);
}

/* The hard affinity: Xen's starts as every CPU (cpumask_setall()) until set. */
static void hard_affinity(struct vcpu *w, cpu_set_t *s)
{
    pthread_mutex_lock(&w->domain->lock);
    *s = w->affinity;
    pthread_mutex_unlock(&w->domain->lock);
    if (!CPU_COUNT(s))
        all_cpus(s);
}

/*
 * Soft affinity is a scheduling preference Linux has no use for: it is only remembered for
 * getvcpuaffinity, in a small table keyed by (domain, id, vCPU). Entries of a domain id are
 * dropped when a domain with that id is created or destroyed through domctl. Callers hold
 * domctl_lock.
 */
struct soft_affinity {
    const struct domain *d;
    domid_t domid;
    unsigned vcpu;
    cpu_set_t set;
};
static struct soft_affinity *soft;
static unsigned nr_soft, cap_soft;

static struct soft_affinity *soft_find(const struct vcpu *w)
{
    for (unsigned i = 0; i < nr_soft; i++)
        if (soft[i].d == w->domain && soft[i].domid == w->domain->domain_id &&
            soft[i].vcpu == w->vcpu_id)
            return &soft[i];
    return NULL;
}

static int soft_store(const struct vcpu *w, const cpu_set_t *set)
{
    struct soft_affinity *e = soft_find(w);

    if (!e && nr_soft == cap_soft) {
        unsigned cap = cap_soft ? 2 * cap_soft : 16;
        struct soft_affinity *n = realloc(soft, cap * sizeof(*n));
        if (!n)
            return -XEN_ENOMEM;
        soft = n, cap_soft = cap;
    }
    if (!e) {
        e = &soft[nr_soft++];
        *e = (struct soft_affinity){w->domain, w->domain->domain_id, w->vcpu_id, *set};
    }
    e->set = *set;
    return 0;
}

static void soft_affinity(const struct vcpu *w, cpu_set_t *s)
{
    const struct soft_affinity *e = soft_find(w);

    if (e)
        *s = e->set;
    else
        all_cpus(s);
}

void soft_affinity_forget(domid_t domid)
{
    for (unsigned i = 0; i < nr_soft;)
        if (soft[i].domid == domid)
            soft[i] = soft[--nr_soft];
        else
            i++;
}

/* ---- XEN_DOMCTL_{set,get}vcpuaffinity (vcpu_affinity_domctl(), sched/core.c) ---- */

/* Set soft after hard: on failure the hard affinity is put back, as Xen does. The maps
 * written back are the effective ones: hard ∩ online, soft ∩ online ∩ hard. */
static long affinity_set(struct vcpu *v, struct vcpu *w, struct xen_domctl_vcpuaffinity *a)
{
    cpu_set_t old, set, hard, online;
    long rc = 0;

    hard_affinity(w, &old);
    online_cpus(&online);
    if (a->flags & XEN_VCPUAFFINITY_HARD) {
        rc = bitmap_from_guest(v, &a->cpumap_hard, &set);
        if (rc == 0)
            rc = vcpu_set_affinity(w, &set); /* -EINVAL: no online CPU in it */
        if (rc)
            return rc;
    }
    hard_affinity(w, &hard);
    CPU_AND(&hard, &hard, &online);
    if (a->flags & XEN_VCPUAFFINITY_HARD)
        rc = bitmap_to_guest(v, &a->cpumap_hard, &hard);
    if (a->flags & XEN_VCPUAFFINITY_SOFT) {
        long r = bitmap_from_guest(v, &a->cpumap_soft, &set);
        if (r == 0)
            r = soft_store(w, &set);
        if (r) {
            if (a->flags & XEN_VCPUAFFINITY_HARD)
                vcpu_set_affinity(w, &old);
            return r;
        }
        CPU_AND(&set, &set, &hard);
        rc = bitmap_to_guest(v, &a->cpumap_soft, &set);
    }
    return rc;
}

/* As Xen, the soft result (if asked) overrides the hard one. */
static long affinity_get(struct vcpu *v, struct vcpu *w, struct xen_domctl_vcpuaffinity *a)
{
    cpu_set_t set;
    long rc = 0;

    if (a->flags & XEN_VCPUAFFINITY_HARD) {
        hard_affinity(w, &set);
        rc = bitmap_to_guest(v, &a->cpumap_hard, &set);
    }
    if (a->flags & XEN_VCPUAFFINITY_SOFT) {
        soft_affinity(w, &set);
        rc = bitmap_to_guest(v, &a->cpumap_soft, &set);
    }
    return rc;
}

/* vcpuaffinity_params_invalid(): no flag, or a named map with a NULL handle. */
static bool affinity_params_invalid(const struct xen_domctl_vcpuaffinity *a)
{
    return a->flags == 0 ||
           ((a->flags & XEN_VCPUAFFINITY_HARD) && !guest_handle_addr(a->cpumap_hard.bitmap)) ||
           ((a->flags & XEN_VCPUAFFINITY_SOFT) && !guest_handle_addr(a->cpumap_soft.bitmap));
}

/* vCPU out of range -EINVAL, missing -ESRCH, bad flags/maps -EINVAL; XEN_VCPUAFFINITY_FORCE
 * (undo SCHEDOP_pin_override) has nothing to undo in xhv. Hard affinity pins the thread. */
long domctl_vcpuaffinity(struct vcpu *caller, struct domain *d, struct xen_domctl *op)
{
    struct xen_domctl_vcpuaffinity *a = &op->u.vcpuaffinity;
    struct vcpu *w;

    if (a->vcpu >= d->max_vcpus)
        return -XEN_EINVAL;
    if (!d->vcpu || !(w = d->vcpu[a->vcpu]))
        return -XEN_ESRCH;
    if (affinity_params_invalid(a))
        return -XEN_EINVAL;
    if (op->cmd == XEN_DOMCTL_setvcpuaffinity)
        return affinity_set(caller, w, a);
    return affinity_get(caller, w, a);
}

/* ---- XEN_DOMCTL_getvcpuinfo ---- */

/*
 * online, blocked, running and the running time from the runstate. `cpu` is Xen's
 * v->processor: xhv knows the host CPU only when the vCPU thread is pinned to one CPU
 * (that one); otherwise it answers ~0 (-1).
 */
long domctl_getvcpuinfo(struct domain *d, struct xen_domctl *op)
{
    struct xen_domctl_getvcpuinfo *g = &op->u.getvcpuinfo;
    struct vcpu *w;
    cpu_set_t aff;

    if (g->vcpu >= d->max_vcpus)
        return -XEN_EINVAL;
    if (!d->vcpu || !(w = d->vcpu[g->vcpu]))
        return -XEN_ESRCH;
    pthread_mutex_lock(&d->lock);
    struct vcpu_runstate_info r;
    vcpu_runstate_get_locked(w, &r);
    g->online = w->online;
    g->blocked = r.state == RUNSTATE_blocked;
    g->running = r.state == RUNSTATE_running;
    g->cpu_time = r.time[RUNSTATE_running];
    aff = w->affinity;
    pthread_mutex_unlock(&d->lock);
    g->cpu = ~0u;
    for (unsigned i = 0; CPU_COUNT(&aff) == 1 && i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &aff))
            g->cpu = i;
    return 0;
}
