/* memory_op.c: memory_op (12) as Xen 4.17's do_memory_op(), and the shared_info mapping. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat_layout.h"
#include "core/accel.h"
#include "core/core.h"
#include "core/hypercall.h"
#include "core/time.h"
#include "core/xsm.h"

/* One E820 record as XENMEM_memory_map returns it (Xen's packed struct e820entry). */
struct e820entry {
    uint64_t addr, size;
    uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct e820entry) == 20, "e820entry");

/* CONFIG_DOMU_MAX_ORDER and CONFIG_CTLDOM_MAX_ORDER defaults (memory.c: max_order()). */
#define DOMU_MAX_ORDER 9
#define CTLDOM_MAX_ORDER 12
#define MAX_NUMNODES 64
/* public/memory.h, visible to __XEN__ only: cmd[:6] is the start extent. */
#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK ((1u << MEMOP_EXTENT_SHIFT) - 1)

/* ---- shared_info ---- */

/*
 * XENMAPSPACE_shared_info (xenmem_add_to_physmap_one(), xen/arch/x86/mm/p2m.c): RAM displaced
 * at gfn is freed (guest_remove_page()), the frame's previous mapping is removed, then the
 * frame is mapped at gfn. The page itself is xhv's and, as Xen's xenheap page, starts zeroed
 * (no upcall masks set: Xen's toolstack only does that for PV guests); its wallclock and the
 * vCPUs' pvclocks are rewritten here so they are valid whenever the guest looks.
 */
/* d->memop_lock serialises shared_info_gfn and physmap changes per domain */

int shared_info_map(struct domain *d, uint64_t gfn)
{
    uint64_t freed = 0, old;
    int rc;

    pthread_mutex_lock(&d->memop_lock);
    old = d->shared_info_gfn;
    rc = p2m_remove(d, gfn, 1, &freed); /* fails only for a GFN out of range: no change */
    if (rc == 0) {
        __atomic_fetch_sub(&d->tot_pages, freed, __ATOMIC_RELAXED);
        if (old != INVALID_GFN && old != gfn)
            p2m_remove(d, old, 1, NULL);
        rc = p2m_set(d, gfn, 1, physmap_owned_off(d, XHV_PG_SHARED_INFO), p2m_shared_info);
        d->shared_info_gfn = rc == 0 ? gfn : INVALID_GFN;
    }
    pthread_mutex_unlock(&d->memop_lock);
    if (rc == 0) {
        shared_info_update_wallclock(d);
        force_update_domain_system_time(d);
    }
    return rc;
}

/* ---- reservations ---- */

/* construct_memop_from_reservation() + propagate_node(): false = refuse the request. */
static bool memflags_ok(const struct vcpu *v, uint32_t flags)
{
    unsigned bits = XENMEMF_get_address_bits(flags), node = XENMEMF_get_node(flags);

    if (bits && bits <= PAGE_SHIFT) /* below any host's address width: no page fits */
        return false;
    if ((flags & XENMEMF_vnode) || node == 0xff) /* no vNUMA: vnode requests are ignored */
        return true;
    if (v->domain->privileged)
        return node < MAX_NUMNODES;
    return !(flags & XENMEMF_exact_node_request);
}

/* max_order() (memory.c): extent orders are bounded by the *calling* domain. */
static unsigned max_order(const struct domain *caller)
{
    return caller->privileged ? CTLDOM_MAX_ORDER : DOMU_MAX_ORDER;
}

/* Element i of the extent list: xen_pfn_t, 8 bytes for 64-bit callers, 4 (zero-extended)
 * for 32-bit ones. i < nr_extents < 2^26 (checked by the caller), so no overflow (XSA-212). */
static bool extent_read(struct vcpu *v, uint64_t list, uint64_t i, uint64_t *gfn)
{
    unsigned esz = v->hcall_compat ? 4 : 8;
    uint64_t at = list + i * esz;

    *gfn = 0;
    return copy_from_guest(v, gfn, v->hcall_compat ? (uint32_t)at : at, esz) == 0;
}

/* Number of mapped pages from gfn on, up to nr (guest_remove_page() stops at a hole). */
static uint64_t mapped_prefix(struct domain *t, uint64_t gfn, uint64_t nr)
{
    struct p2m_entry e;
    uint64_t i;

    for (i = 0; i < nr && gfn + i >= gfn; i++)
        if (p2m_lookup(t, gfn + i, &e))
            break;
    return i;
}

/* Unmap [gfn, gfn+nr), uncharging the RAM freed and forgetting shared_info if it was there.
 * t->memop_lock held. */
int unmap_range(struct domain *t, uint64_t gfn, uint64_t nr)
{
    uint64_t freed = 0;
    int rc = p2m_remove(t, gfn, nr, &freed);

    __atomic_fetch_sub(&t->tot_pages, freed, __ATOMIC_RELAXED);
    if (rc == 0 && t->shared_info_gfn >= gfn && t->shared_info_gfn - gfn < nr)
        t->shared_info_gfn = INVALID_GFN;
    return rc;
}

/* One extent of decrease_reservation(): true if all 2^order pages were removed. */
static bool remove_extent(struct domain *t, uint64_t gfn, unsigned order)
{
    uint64_t nr = 1ull << order, k = mapped_prefix(t, gfn, nr);

    pthread_mutex_lock(&t->memop_lock);
    int rc = k ? unmap_range(t, gfn, k) : 0;
    pthread_mutex_unlock(&t->memop_lock);
    return rc == 0 && k == nr;
}

/*
 * assign_pages() (page_alloc.c): a dying domain, or one whose tot_pages would pass max_pages
 * ("Over-allocation"), gets no page. Domain 0 has no memory of its own. memop_lock held.
 */
static bool charge_ok(const struct domain *t, uint64_t nr)
{
    return !t->is_dying && !t->is_control && t->tot_pages + nr <= t->max_pages;
}

/*
 * One extent of populate_physmap(): 2^order fresh zeroed pages at gfn. What was mapped there
 * is freed first (Xen's guest_physmap_add_page() unmaps it but leaves the old page charged
 * to the domain until it dies; xhv gives the memory back at once).
 */
static bool populate_extent(struct domain *t, uint64_t gfn, unsigned order)
{
    uint64_t nr = 1ull << order;
    bool ok = false;

    pthread_mutex_lock(&t->memop_lock);
    if (charge_ok(t, nr) && unmap_range(t, gfn, nr) == 0 && physmap_populate(t, gfn, nr) == 0) {
        __atomic_fetch_add(&t->tot_pages, nr, __ATOMIC_RELAXED);
        ok = true;
    }
    pthread_mutex_unlock(&t->memop_lock);
    return ok;
}

/* decrease_reservation(): extents done, from start. */
static uint64_t decrease_reservation(struct vcpu *v, struct domain *t,
                                     const struct xen_memory_reservation *r, uint64_t start)
{
    uint64_t list = guest_handle_addr(r->extent_start), i, gfn;

    if (r->extent_order > max_order(v->domain))
        return start;
    for (i = start; i < r->nr_extents; i++)
        if (!extent_read(v, list, i, &gfn) || !remove_extent(t, gfn, r->extent_order))
            break;
    return i;
}

/*
 * populate_physmap(): extent_start[i] is the GFN to back with 2^order fresh pages; stops at
 * the first extent that cannot be read or allocated (max_pages reached). Populate-on-demand
 * is refused on oneself as in Xen, and unsupported on others (xhv has no PoD): 0 done.
 */
static uint64_t populate_physmap(struct vcpu *v, struct domain *t,
                                 const struct xen_memory_reservation *r, uint64_t start)
{
    uint64_t list = guest_handle_addr(r->extent_start), i, gfn;

    if (r->mem_flags & XENMEMF_populate_on_demand) {
        if (t != v->domain &&
            domain_log_once(v->domain, ((uint64_t)__HYPERVISOR_memory_op << 32) | 0x200u))
            gprintk(v, "populate_physmap: populate-on-demand unsupported, 0 extents done");
        return start;
    }
    if (r->extent_order > max_order(v->domain))
        return start;
    for (i = start; i < r->nr_extents; i++)
        if (!extent_read(v, list, i, &gfn) || !populate_extent(t, gfn, r->extent_order))
            break;
    return i;
}

/*
 * increase_reservation() for a translated (HVM/PVH) domain: Xen allocates 2^order pages per
 * extent and charges them to the domain without mapping them anywhere, and writes nothing
 * back (MFNs are only reported to non-translated guests). xhv does the same accounting:
 * tot_pages grows, bounded by max_pages, and no memory is mapped.
 */
static uint64_t increase_reservation(struct vcpu *v, struct domain *t,
                                     const struct xen_memory_reservation *r, uint64_t start)
{
    uint64_t nr = 1ull << r->extent_order, i;

    if (r->extent_order > max_order(v->domain))
        return start;
    for (i = start; i < r->nr_extents; i++) {
        pthread_mutex_lock(&t->memop_lock);
        bool ok = charge_ok(t, nr);
        if (ok)
            __atomic_fetch_add(&t->tot_pages, nr, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&t->memop_lock);
        if (!ok)
            break;
    }
    return i;
}

/*
 * increase_reservation / decrease_reservation / populate_physmap: the number of extents done
 * (>= start), never an errno; any up-front failure returns start (do_memory_op()), including
 * the XSM_TARGET refusal of a domU acting on another domain (-EPERM from xsm.c, swallowed as
 * Xen does).
 */
static long memop_reservation(struct vcpu *v, unsigned op, uint64_t start, uint64_t arg)
{
    struct xen_memory_reservation r;
    struct domain *t;

    if (copy_struct_from_guest(v, &r, arg, &xlat_xen_memory_reservation))
        return (long)start;
    if (r.nr_extents > (UINT32_MAX >> MEMOP_EXTENT_SHIFT) || start >= r.nr_extents)
        return (long)start;
    t = rcu_lock_domain_by_any_id(v, r.domid);
    if (!t)
        return (long)start;
    long done = (long)start;
    if (!memflags_ok(v, r.mem_flags) || xsm_memory_adjust_reservation(v, t))
        ;
    else if (op == XENMEM_decrease_reservation)
        done = (long)decrease_reservation(v, t, &r, start);
    else if (op == XENMEM_populate_physmap)
        done = (long)populate_physmap(v, t, &r, start);
    else
        done = (long)increase_reservation(v, t, &r, start);
    rcu_unlock_domain(t);
    return done;
}

/* ---- queries ---- */

/* current_reservation / maximum_reservation / maximum_gpfn on a domid_t. */
static long memop_domain_query(struct vcpu *v, unsigned op, uint64_t arg)
{
    domid_t domid;
    struct domain *t;

    if (copy_from_guest(v, &domid, arg, sizeof(domid)))
        return -XEN_EFAULT;
    t = rcu_lock_domain_by_any_id(v, domid);
    if (!t)
        return -XEN_ESRCH;
    long rc = xsm_memory_stat_reservation(v, t);
    if (rc == 0) {
        if (op == XENMEM_current_reservation)
            rc = (long)t->tot_pages;
        else if (op == XENMEM_maximum_reservation)
            rc = (long)t->max_pages;
        else /* XENMEM_maximum_gpfn: domain_get_maximum_gpfn() */
            rc = (long)p2m_max_gfn(t);
    }
    rcu_unlock_domain(t);
    return rc;
}

/* arch_memory_op() XENMEM_memory_map: the caller's own map, nr_entries = min(cap, n). */
static long memory_map_copy_out(struct vcpu *v, struct domain *d, struct xen_memory_map *map)
{
    if (!d->memmap || !d->nr_memmap) /* "backwards compatibility": no map set */
        return -XEN_ENOSYS;
    if (map->nr_entries > d->nr_memmap)
        map->nr_entries = d->nr_memmap;
    uint64_t buf = guest_handle_addr(map->buffer);
    for (unsigned i = 0; i < map->nr_entries; i++) {
        const struct hvm_memmap_table_entry *m = &d->memmap[i];
        struct e820entry e = {m->addr, m->size, m->type};
        uint64_t at = buf + (uint64_t)i * sizeof(e);
        if (copy_to_guest(v, v->hcall_compat ? (uint32_t)at : at, &e, sizeof(e)))
            return -XEN_EFAULT;
    }
    return 0;
}

static long memop_memory_map(struct vcpu *v, uint64_t arg)
{
    struct domain *d = v->domain;
    struct xen_memory_map map;
    long rc;

    if (copy_struct_from_guest(v, &map, arg, &xlat_xen_memory_map))
        return -XEN_EFAULT;
    pthread_mutex_lock(&d->memop_lock); /* against XENMEM_set_memory_map replacing it */
    rc = memory_map_copy_out(v, d, &map);
    pthread_mutex_unlock(&d->memop_lock);
    if (rc)
        return rc;
    return copy_struct_to_guest(v, arg, &map, &xlat_xen_memory_map) ? -XEN_EFAULT : 0;
}

/* xen_foreign_memory_map in the caller's layout (it nests xen_memory_map). */
static int foreign_memory_map_in(struct vcpu *v, uint64_t arg, struct xen_foreign_memory_map *f)
{
    if (!v->hcall_compat)
        return copy_from_guest(v, f, arg, sizeof(*f));
    memset(f, 0, sizeof(*f));
    if (copy_from_guest(v, &f->domid, arg + COMPAT_xen_foreign_memory_map__domid_OFF,
                        sizeof(f->domid)))
        return -XEN_EFAULT;
    return copy_struct_from_guest(v, &f->map, arg + COMPAT_xen_foreign_memory_map__map_OFF,
                                  &xlat_xen_memory_map);
}

/* Read nr packed e820 records into a new memmap array. */
static int memory_map_copy_in(struct vcpu *v, const struct xen_memory_map *map,
                              struct hvm_memmap_table_entry **out)
{
    struct hvm_memmap_table_entry *m = calloc(map->nr_entries ? map->nr_entries : 1, sizeof(*m));
    uint64_t buf = guest_handle_addr(map->buffer);
    if (!m)
        return -XEN_ENOMEM;
    for (unsigned i = 0; i < map->nr_entries; i++) {
        struct e820entry e;
        if (copy_from_guest(v, &e, buf + (uint64_t)i * sizeof(e), sizeof(e))) {
            free(m);
            return -XEN_EFAULT;
        }
        m[i] = (struct hvm_memmap_table_entry){.addr = e.addr, .size = e.size, .type = e.type};
    }
    *out = m;
    return 0;
}

/* XENMEM_set_memory_map (arch_memory_op): the toolstack sets a domain's E820, at most E820MAX
 * entries; XSM_TARGET (xsm_domain_memory_map). */
#define E820MAX 1024
static long memop_set_memory_map(struct vcpu *v, uint64_t arg)
{
    struct xen_foreign_memory_map f;
    struct hvm_memmap_table_entry *m = NULL;
    if (foreign_memory_map_in(v, arg, &f))
        return -XEN_EFAULT;
    if (f.map.nr_entries > E820MAX)
        return -XEN_EINVAL;
    struct domain *t = rcu_lock_domain_by_any_id(v, f.domid);
    if (!t)
        return -XEN_ESRCH;
    long rc = xsm_target(v, t);
    if (rc == 0)
        rc = memory_map_copy_in(v, &f.map, &m);
    if (rc == 0) {
        pthread_mutex_lock(&t->memop_lock);
        free(t->memmap);
        t->memmap = m;
        t->nr_memmap = f.map.nr_entries;
        pthread_mutex_unlock(&t->memop_lock);
    }
    rcu_unlock_domain(t);
    return rc;
}

/* ---- add_to_physmap ---- */

static long xenmem_add_to_physmap_one(struct vcpu *v, struct domain *t,
                                      const struct xen_add_to_physmap *x)
{
    switch (x->space) {
    case XENMAPSPACE_shared_info:
        if (x->idx != 0)
            return -XEN_EINVAL;
        return shared_info_map(t, x->gpfn);
    case XENMAPSPACE_grant_table: /* TODO(grant tables): gnttab_map_frame() */
    case XENMAPSPACE_gmfn:        /* TODO(physmap): moving a page needs p2m support */
    case XENMAPSPACE_gmfn_range:
        return hypercall_unimplemented_subop(v, __HYPERVISOR_memory_op, 0x100u | x->space);
    default: /* no frame for this space */
        return -XEN_EINVAL;
    }
}

/*
 * XENMEM_add_to_physmap (do_memory_op(), xatp_permission_check(), xenmem_add_to_physmap()):
 * start extent beyond u16 -EDOM; gmfn_foreign -ENOSYS (batch only); -ESRCH; dev_mmio -EACCES
 * (hardware domain mapping itself only); XSM_TARGET -EPERM; gpfn INVALID -EINVAL; for
 * gmfn_range, start > size -EILSEQ and wrapping ranges -EOVERFLOW.
 */
/* xenmem_add_to_physmap() / arch_memory_op() checks after the domain lookup. */
static long add_to_physmap_checks(struct vcpu *v, struct domain *t,
                                  const struct xen_add_to_physmap *x, uint64_t start)
{
    if (x->space == XENMAPSPACE_dev_mmio)
        return -XEN_EACCES;
    if (xsm_add_to_physmap(v, t))
        return -XEN_EPERM;
    if (x->gpfn == INVALID_GFN)
        return -XEN_EINVAL;
    if (x->space == XENMAPSPACE_gmfn_range) {
        if (x->size < start)
            return -XEN_EILSEQ;
        if (x->gpfn + x->size < x->gpfn || x->idx + x->size < x->idx)
            return -XEN_EOVERFLOW;
    }
    return 0;
}

static long memop_add_to_physmap(struct vcpu *v, uint64_t start, uint64_t arg)
{
    struct xen_add_to_physmap x;
    struct domain *t;

    if (start != (uint16_t)start)
        return -XEN_EDOM;
    if (copy_struct_from_guest(v, &x, arg, &xlat_xen_add_to_physmap))
        return -XEN_EFAULT;
    if (x.space == XENMAPSPACE_gmfn_foreign)
        return -XEN_ENOSYS;
    t = rcu_lock_domain_by_any_id(v, x.domid);
    if (!t)
        return -XEN_ESRCH;
    long rc = add_to_physmap_checks(v, t, &x, start);
    if (rc == 0)
        rc = xenmem_add_to_physmap_one(v, t, &x);
    rcu_unlock_domain(t);
    return rc;
}

/* XENMEM_maximum_ram_page: Xen's max_page, one past the highest host frame; xhv's "host"
 * memory is the machine's RAM. */
static long host_max_page(void)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    return pages > 0 ? pages : 0;
}

/* ---- dispatch ---- */

/*
 * cmd & MEMOP_CMD_MASK is the sub-op, cmd >> MEMOP_EXTENT_SHIFT the continuation's start
 * extent. hvm_memory_op() refuses machine_memory_map and machphys_mapping first; ops that do
 * not continue refuse a start extent (-EINVAL), and arch_memory_op() matches the whole cmd,
 * so memory_map with a start extent is unknown (-ENOSYS).
 */
long do_memory_op(struct vcpu *v, const uint64_t args[5])
{
    uint64_t cmd = args[0], arg = args[1], start = cmd >> MEMOP_EXTENT_SHIFT;
    unsigned op = (unsigned)(cmd & MEMOP_CMD_MASK);

    switch (op) {
    case XENMEM_machine_memory_map:
    case XENMEM_machphys_mapping:
        return -XEN_ENOSYS;
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return memop_reservation(v, op, start, arg);
    case XENMEM_maximum_ram_page:
        return start ? -XEN_EINVAL : host_max_page();
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn:
        return start ? -XEN_EINVAL : memop_domain_query(v, op, arg);
    case XENMEM_add_to_physmap:
        return memop_add_to_physmap(v, start, arg);
    case XENMEM_set_memory_map: /* arch_memory_op() matches the whole cmd: start -> -ENOSYS */
        if (!start)
            return memop_set_memory_map(v, arg);
        return hypercall_unimplemented_subop(v, __HYPERVISOR_memory_op, op);
    case XENMEM_add_to_physmap_batch:
        return memop_add_to_physmap_batch(v, start, arg);
    case XENMEM_remove_from_physmap:
        return start ? -XEN_EINVAL : memop_remove_from_physmap(v, arg);
    case XENMEM_memory_map:
        if (!start)
            return memop_memory_map(v, arg);
        /* fall through */
    default:
        return hypercall_unimplemented_subop(v, __HYPERVISOR_memory_op, op);
    }
}
