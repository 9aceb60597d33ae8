/* physmap.c: a domain's guest-physical map: GFN extents over one memfd, mirrored as backend slots.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/accel.h"
#include "core/core.h"

/* KVM guarantees at least 509 user memory slots (KVM_USER_MEM_SLOTS on older kernels). */
#define MAX_SLOTS 500
/* A cut and a set together need at most this many slots beyond the ones they free. */
#define SLOTS_PER_OP 3

static int slot_alloc(struct physmap *p)
{
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (!(p->slot_bitmap[i / 64] & (1ull << (i % 64)))) {
            p->slot_bitmap[i / 64] |= 1ull << (i % 64);
            return i;
        }
    }
    return -1;
}

static unsigned slots_free(const struct physmap *p)
{
    unsigned used = 0;
    for (unsigned i = 0; i < sizeof(p->slot_bitmap) / sizeof(p->slot_bitmap[0]); i++)
        used += (unsigned)__builtin_popcountll(p->slot_bitmap[i]);
    return used >= MAX_SLOTS ? 0 : MAX_SLOTS - used;
}

/* Reserve what one cut + set can need, so a change never stops half-done. Lock held. */
static int ext_reserve(struct physmap *p)
{
    if (slots_free(p) < SLOTS_PER_OP)
        return -XEN_ENOSPC;
    if (p->nr_ext + SLOTS_PER_OP > p->cap_ext) {
        unsigned cap = p->cap_ext ? p->cap_ext * 2 : 8;
        struct p2m_extent *n = realloc(p->ext, cap * sizeof(*n));
        if (!n)
            return -XEN_ENOMEM;
        p->ext = n;
        p->cap_ext = cap;
    }
    return 0;
}

static void slot_free(struct physmap *p, int slot)
{
    p->slot_bitmap[slot / 64] &= ~(1ull << (slot % 64));
}

/* ---- RAM-area page allocator (free runs, first fit); lock held ---- */

#define RAM_AREA_PG XHV_NR_OWNED /* first memfd page of the RAM area */
/* Address space reserved per domain for RAM: sparse, so it costs nothing until used. */
uint64_t physmap_reserve_bytes = 64ull << 30;
#define DEFAULT_RESERVE_PAGES (physmap_reserve_bytes >> PAGE_SHIFT)

static int runs_insert(struct physmap *p, unsigned i, uint64_t pg, uint64_t nr)
{
    if (p->nr_free == p->cap_free) {
        unsigned cap = p->cap_free ? p->cap_free * 2 : 16;
        struct page_run *n = realloc(p->free_runs, cap * sizeof(*n));
        if (!n)
            return -XEN_ENOMEM;
        p->free_runs = n;
        p->cap_free = cap;
    }
    memmove(&p->free_runs[i + 1], &p->free_runs[i], (p->nr_free - i) * sizeof(*p->free_runs));
    p->free_runs[i] = (struct page_run){pg, nr};
    p->nr_free++;
    return 0;
}

/* Give [pg, pg+nr) back, coalescing with neighbours. */
static int pages_free(struct physmap *p, uint64_t pg, uint64_t nr)
{
    unsigned i = 0;
    while (i < p->nr_free && p->free_runs[i].pg < pg)
        i++;
    bool left = i > 0 && p->free_runs[i - 1].pg + p->free_runs[i - 1].nr == pg;
    bool right = i < p->nr_free && pg + nr == p->free_runs[i].pg;
    if (left && right) {
        p->free_runs[i - 1].nr += nr + p->free_runs[i].nr;
        memmove(&p->free_runs[i], &p->free_runs[i + 1],
                (p->nr_free - i - 1) * sizeof(*p->free_runs));
        p->nr_free--;
    } else if (left) {
        p->free_runs[i - 1].nr += nr;
    } else if (right) {
        p->free_runs[i].pg = pg, p->free_runs[i].nr += nr;
    } else {
        return runs_insert(p, i, pg, nr);
    }
    return 0;
}

/* Up to want pages from the first free run: *pg and the count (0 = none left). */
static uint64_t pages_alloc(struct physmap *p, uint64_t want, uint64_t *pg)
{
    if (!p->nr_free)
        return 0;
    struct page_run *r = &p->free_runs[0];
    uint64_t n = r->nr < want ? r->nr : want;
    *pg = r->pg;
    r->pg += n, r->nr -= n;
    if (!r->nr) {
        memmove(&p->free_runs[0], &p->free_runs[1], (p->nr_free - 1) * sizeof(*p->free_runs));
        p->nr_free--;
    }
    return n;
}

static uint8_t *ext_hva(struct physmap *p, const struct p2m_extent *e)
{
    return (e->mem ? e->mem->base : p->base) + e->memfd_off;
}

static void guest_mem_get(struct guest_mem *m)
{
    __atomic_fetch_add(&m->refs, 1, __ATOMIC_RELAXED);
}

static void guest_mem_put(struct guest_mem *m)
{
    if (!m || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL))
        return;
    if (m->base)
        munmap(m->base, m->size);
    if (m->fd >= 0)
        close(m->fd);
    free(m);
}

/* Tell the backend about one extent (map) or forget it (unmap). */
static int ext_publish(struct domain *d, struct p2m_extent *e, bool map)
{
    struct physmap *p = &d->p2m;
    if (!d->accel_ops || !d->accel_ops->mem_set)
        return 0;
    if (!map)
        return d->accel_ops->mem_set(d, e->slot, e->gfn << PAGE_SHIFT, 0, NULL);
    return d->accel_ops->mem_set(d, e->slot, e->gfn << PAGE_SHIFT, e->nr << PAGE_SHIFT,
                                 ext_hva(p, e));
}

static void ext_insert_at(struct physmap *p, unsigned idx, const struct p2m_extent *e)
{
    memmove(&p->ext[idx + 1], &p->ext[idx], (p->nr_ext - idx) * sizeof(*e));
    p->ext[idx] = *e;
    p->nr_ext++;
}

static void ext_delete_at(struct physmap *p, unsigned idx)
{
    memmove(&p->ext[idx], &p->ext[idx + 1], (p->nr_ext - idx - 1) * sizeof(p->ext[0]));
    p->nr_ext--;
}

/* Index of the first extent whose end is above gfn. */
static unsigned ext_search(const struct physmap *p, uint64_t gfn)
{
    unsigned lo = 0, hi = p->nr_ext;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (p->ext[mid].gfn + p->ext[mid].nr <= gfn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The extent that maps gfn, or NULL (a hole). Lock held. */
static const struct p2m_extent *ext_find(const struct physmap *p, uint64_t gfn)
{
    unsigned i = ext_search(p, gfn);
    return i < p->nr_ext && p->ext[i].gfn <= gfn ? &p->ext[i] : NULL;
}

/* Add a new extent (already known not to overlap), with its own backend slot; an extent of
 * another domain's memory takes a reference on it. */
static int ext_add_mem(struct domain *d, uint64_t gfn, uint64_t nr, uint64_t off, enum p2m_type t,
                       struct guest_mem *mem)
{
    struct physmap *p = &d->p2m;
    struct p2m_extent e = {.gfn = gfn, .nr = nr, .memfd_off = off, .type = t, .mem = mem};
    int rc;
    if (nr == 0)
        return 0;
    e.slot = slot_alloc(p); /* cannot fail: ext_reserve() made room */
    rc = ext_publish(d, &e, true);
    if (rc) {
        /* Slots and array were reserved, so only the backend can refuse: the domain's
         * memory is no longer what it thinks it is. */
        slot_free(p, e.slot);
        domain_crash(d, NULL, "backend refused memory slot for GFN 0x%llx+%llu (%d)",
                     (unsigned long long)gfn, (unsigned long long)nr, rc);
        return rc;
    }
    if (mem)
        guest_mem_get(mem);
    ext_insert_at(p, ext_search(p, gfn), &e);
    return 0;
}

static int ext_add(struct domain *d, uint64_t gfn, uint64_t nr, uint64_t off, enum p2m_type t)
{
    return ext_add_mem(d, gfn, nr, off, t, NULL);
}

/* Free RAM pages: memory back to the host (reads as zero when reused), offsets back to the
 * allocator. If punching fails the pages stay allocated but unused. */
static void punch(struct physmap *p, uint64_t off, uint64_t nr)
{
    if (fallocate(p->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                  (off_t)(nr << PAGE_SHIFT)) != 0) {
        xhv_log(LOG_WARN, "physmap: punch hole failed: %s", strerror(errno));
        return;
    }
    if (pages_free(p, off >> PAGE_SHIFT, nr))
        xhv_log(LOG_WARN, "physmap: out of memory tracking free pages");
}

/* Cut [gfn, gfn+nr) out of every extent; RAM pages cut out are freed. Lock held. */
static int ext_cut(struct domain *d, uint64_t gfn, uint64_t nr, uint64_t *freed)
{
    struct physmap *p = &d->p2m;
    uint64_t end = gfn + nr;
    unsigned i = ext_search(p, gfn);
    while (i < p->nr_ext && p->ext[i].gfn < end) {
        struct p2m_extent old = p->ext[i];
        uint64_t oend = old.gfn + old.nr;
        uint64_t cut_lo = old.gfn > gfn ? old.gfn : gfn, cut_hi = oend < end ? oend : end;
        ext_publish(d, &old, false);
        slot_free(p, old.slot);
        ext_delete_at(p, i);
        if (old.type == p2m_ram_rw) {
            punch(p, old.memfd_off + ((cut_lo - old.gfn) << PAGE_SHIFT), cut_hi - cut_lo);
            if (freed)
                *freed += cut_hi - cut_lo;
        }
        int rc = ext_add_mem(d, old.gfn, cut_lo - old.gfn, old.memfd_off, old.type, old.mem);
        if (rc == 0)
            rc = ext_add_mem(d, cut_hi, oend - cut_hi,
                             old.memfd_off + ((cut_hi - old.gfn) << PAGE_SHIFT), old.type, old.mem);
        guest_mem_put(old.mem); /* the remnants took their own references */
        if (rc)
            return rc;
        i = ext_search(p, cut_hi);
    }
    return 0;
}

static bool range_ok(uint64_t gfn, uint64_t nr)
{
    /* 52-bit guest-physical addresses at most. */
    return nr && gfn < (1ull << 40) && nr <= (1ull << 40) - gfn;
}

int p2m_set(struct domain *d, uint64_t gfn, uint64_t nr, uint64_t memfd_off, enum p2m_type t)
{
    struct physmap *p = &d->p2m;
    int rc;
    if (!range_ok(gfn, nr) || (memfd_off & ~PAGE_MASK) || memfd_off > p->memfd_size ||
        nr > (p->memfd_size - memfd_off) >> PAGE_SHIFT)
        return -XEN_EINVAL;
    pthread_mutex_lock(&p->lock);
    rc = ext_reserve(p);
    if (rc == 0)
        rc = ext_cut(d, gfn, nr, NULL);
    if (rc == 0)
        rc = ext_add(d, gfn, nr, memfd_off, t);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int p2m_remove(struct domain *d, uint64_t gfn, uint64_t nr, uint64_t *freed)
{
    int rc;
    if (freed)
        *freed = 0;
    if (!range_ok(gfn, nr))
        return -XEN_EINVAL;
    pthread_mutex_lock(&d->p2m.lock);
    rc = ext_reserve(&d->p2m);
    if (rc == 0)
        rc = ext_cut(d, gfn, nr, freed);
    pthread_mutex_unlock(&d->p2m.lock);
    return rc;
}

int p2m_lookup(struct domain *d, uint64_t gfn, struct p2m_entry *out)
{
    struct physmap *p = &d->p2m;
    pthread_mutex_lock(&p->lock);
    const struct p2m_extent *e = ext_find(p, gfn);
    if (e) {
        out->hva = ext_hva(p, e) + ((gfn - e->gfn) << PAGE_SHIFT);
        out->type = e->type;
    }
    pthread_mutex_unlock(&p->lock);
    return e ? 0 : -XEN_EFAULT;
}

uint64_t p2m_max_gfn(struct domain *d)
{
    uint64_t max = 0;
    pthread_mutex_lock(&d->p2m.lock);
    if (d->p2m.nr_ext)
        max = d->p2m.ext[d->p2m.nr_ext - 1].gfn + d->p2m.ext[d->p2m.nr_ext - 1].nr - 1;
    pthread_mutex_unlock(&d->p2m.lock);
    return max;
}

uint64_t physmap_owned_off(struct domain *d, unsigned i)
{
    (void)d;
    return (uint64_t)i << PAGE_SHIFT;
}

uint8_t *physmap_owned_page(struct domain *d, unsigned i)
{
    return d->p2m.base + physmap_owned_off(d, i);
}

/* Embedded mode (`xhv run`): all RAM at creation, below 4 GiB then above, and the special
 * pages xhv owns. Toolstack-built domains start empty and are populated. */
static int physmap_layout(struct domain *d)
{
    uint64_t ram = d->p2m.ram_pages, low = XHV_LOW_RAM_END >> PAGE_SHIFT;
    int rc = 0;
    if (!ram)
        return 0;
    rc = physmap_populate(d, 0, ram < low ? ram : low);
    if (rc == 0 && ram > low)
        rc = physmap_populate(d, 1ull << (32 - PAGE_SHIFT), ram - low);
    if (rc == 0)
        rc = p2m_set(d, XHV_SPECIAL_GFN(0), X86_HVM_NR_SPECIAL_PAGES,
                     physmap_owned_off(d, XHV_PG_SPECIAL0), p2m_special);
    return rc;
}

/* Merge extent i with its right neighbour when they are contiguous in GFN and memfd. */
static int ext_merge_right(struct domain *d, unsigned i)
{
    struct physmap *p = &d->p2m;
    if (i + 1 >= p->nr_ext)
        return 0;
    struct p2m_extent a = p->ext[i], b = p->ext[i + 1];
    if (a.gfn + a.nr != b.gfn || a.type != b.type || a.mem != b.mem ||
        a.memfd_off + (a.nr << PAGE_SHIFT) != b.memfd_off)
        return 0;
    ext_publish(d, &a, false);
    ext_publish(d, &b, false);
    slot_free(p, b.slot);
    ext_delete_at(p, i + 1);
    guest_mem_put(b.mem);
    p->ext[i].nr += b.nr;
    int rc = ext_publish(d, &p->ext[i], true);
    if (rc)
        domain_crash(d, NULL, "backend refused merged memory slot (%d)", rc);
    return rc;
}

/* Merge the extents around gfn with their neighbours (fewer backend slots). Lock held. */
static int ext_merge_around(struct domain *d, uint64_t gfn)
{
    unsigned i = ext_search(&d->p2m, gfn);
    int rc = ext_merge_right(d, i);
    if (rc == 0 && i > 0)
        rc = ext_merge_right(d, i - 1);
    return rc;
}

int physmap_populate(struct domain *d, uint64_t gfn, uint64_t nr)
{
    struct physmap *p = &d->p2m;
    int rc;
    if (!range_ok(gfn, nr))
        return -XEN_EINVAL;
    pthread_mutex_lock(&p->lock);
    uint64_t avail = 0;
    for (unsigned i = 0; i < p->nr_free; i++)
        avail += p->free_runs[i].nr;
    rc = avail < nr ? -XEN_ENOMEM : ext_reserve(p); /* fail before changing anything */
    if (rc == 0)
        rc = ext_cut(d, gfn, nr, NULL);
    while (rc == 0 && nr) {
        uint64_t pg, n = pages_alloc(p, nr, &pg);
        if (!n) {
            rc = -XEN_ENOMEM;
            break;
        }
        rc = ext_reserve(p);
        if (rc == 0)
            rc = ext_add(d, gfn, n, pg << PAGE_SHIFT, p2m_ram_rw);
        if (rc == 0)
            rc = ext_merge_around(d, gfn);
        gfn += n, nr -= n;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int p2m_set_foreign(struct domain *d, uint64_t gfn, struct domain *src, uint64_t src_gfn)
{
    struct physmap *p = &d->p2m;
    uint64_t off;
    enum p2m_type t;
    int rc;
    if (!range_ok(gfn, 1) || !src->p2m.mem)
        return -XEN_EINVAL;
    if (p2m_lookup_off(src, src_gfn, &off, &t) || t != p2m_ram_rw)
        return -XEN_EINVAL;
    pthread_mutex_lock(&p->lock);
    rc = ext_reserve(p);
    if (rc == 0)
        rc = ext_cut(d, gfn, 1, NULL);
    if (rc == 0)
        rc = ext_add_mem(d, gfn, 1, off, p2m_foreign, src->p2m.mem);
    if (rc == 0)
        rc = ext_merge_around(d, gfn);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int p2m_lookup_off(struct domain *d, uint64_t gfn, uint64_t *memfd_off, enum p2m_type *t)
{
    struct physmap *p = &d->p2m;
    pthread_mutex_lock(&p->lock);
    const struct p2m_extent *e = ext_find(p, gfn);
    if (e) {
        *memfd_off = e->memfd_off + ((gfn - e->gfn) << PAGE_SHIFT);
        *t = e->type;
    }
    pthread_mutex_unlock(&p->lock);
    return e ? 0 : -XEN_EFAULT;
}

int physmap_init(struct domain *d, uint64_t ram_bytes)
{
    struct physmap *p = &d->p2m;
    char name[32];
    memset(p, 0, sizeof(*p));
    p->memfd = -1;
    pthread_mutex_init(&p->lock, NULL);
    if ((ram_bytes && ram_bytes < (1ull << 20)) || (ram_bytes & ~PAGE_MASK) ||
        ram_bytes > (1ull << 40))
        return -XEN_EINVAL;
    p->ram_pages = ram_bytes >> PAGE_SHIFT;
    p->reserve_pages = p->ram_pages > DEFAULT_RESERVE_PAGES ? p->ram_pages : DEFAULT_RESERVE_PAGES;
    p->memfd_size = (RAM_AREA_PG + p->reserve_pages) << PAGE_SHIFT;
    if (runs_insert(p, 0, RAM_AREA_PG, p->reserve_pages))
        return -XEN_ENOMEM;
    snprintf(name, sizeof(name), "xhv-d%u-ram", d->domain_id);
    p->mem = calloc(1, sizeof(*p->mem));
    if (!p->mem)
        goto fail;
    p->mem->fd = -1, p->mem->refs = 1;
    p->memfd = p->mem->fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (p->memfd < 0 || ftruncate(p->memfd, (off_t)p->memfd_size) < 0)
        goto fail;
    /* Tools get this fd for foreign mappings: none of them may shrink it under our mapping. */
    if (fcntl(p->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        goto fail;
    p->base =
        mmap(NULL, p->memfd_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, p->memfd, 0);
    if (p->base == MAP_FAILED) {
        p->base = NULL;
        goto fail;
    }
    p->mem->base = p->base, p->mem->size = p->memfd_size;
    int rc = physmap_layout(d);
    if (rc)
        physmap_destroy(d);
    return rc;
fail:
    xhv_log(LOG_ERR, "d%u: cannot allocate %llu MiB of guest RAM: %s", d->domain_id,
            (unsigned long long)(ram_bytes >> 20), strerror(errno));
    physmap_destroy(d);
    return -XEN_ENOMEM;
}

void physmap_destroy(struct domain *d)
{
    struct physmap *p = &d->p2m;
    pthread_mutex_lock(&p->lock);
    while (p->nr_ext) {
        ext_publish(d, &p->ext[p->nr_ext - 1], false);
        guest_mem_put(p->ext[p->nr_ext - 1].mem);
        p->nr_ext--;
    }
    free(p->ext);
    p->ext = NULL;
    p->cap_ext = 0;
    free(p->free_runs);
    p->free_runs = NULL;
    p->nr_free = p->cap_free = 0;
    memset(p->slot_bitmap, 0, sizeof(p->slot_bitmap));
    if (p->mem) /* foreign mappings elsewhere may keep the memory a while longer */
        guest_mem_put(p->mem);
    else if (p->memfd >= 0)
        close(p->memfd);
    p->mem = NULL;
    p->base = NULL;
    p->memfd = -1;
    pthread_mutex_unlock(&p->lock);
}
