/* test_memory_op.c: memory_op (12): memory map, reservation queries and decrease,
 * add_to_physmap of shared_info, start-extent rules, both ABIs. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compat_layout.h"
#include "core/core.h"
#include "tests/unit/fake_accel.h"
#include "tests/unit/harness.h"

#define MO __HYPERVISOR_memory_op
#define ARG 0x10000ull
#define LIST 0x11000ull
#define OUT 0x12000ull
#define EXT(op, start) ((uint64_t)(op) | ((uint64_t)(start) << 6))

static bool mapped(struct domain *d, uint64_t gfn)
{
    struct p2m_entry e;
    return p2m_lookup(d, gfn, &e) == 0;
}

/* ---- XENMEM_memory_map ---- */

static void set_memmap(struct domain *d, unsigned n)
{
    d->memmap = calloc(n, sizeof(*d->memmap)); /* freed with the domain */
    for (unsigned i = 0; i < n; i++)
        d->memmap[i] =
            (struct hvm_memmap_table_entry){.addr = i << 20, .size = 0x1000 + i, .type = 1 + i};
    d->nr_memmap = n;
}

/* xen_memory_map in the caller's layout: {nr_entries, handle buffer}. */
static void put_map(struct domain *d, bool is64, uint32_t nr, uint64_t buf)
{
    if (is64) {
        struct xen_memory_map m = {.nr_entries = nr};
        set_xen_guest_handle(m.buffer, (void *)(uintptr_t)buf);
        gpa_write(d, ARG, &m, sizeof(m));
    } else {
        uint32_t b = (uint32_t)buf;
        gpa_write(d, ARG + COMPAT_xen_memory_map__nr_entries_OFF, &nr, 4);
        gpa_write(d, ARG + COMPAT_xen_memory_map__buffer_OFF, &b, 4);
    }
}

TEST(memop_memory_map)
{
    struct domain *d = fake_domain(16, 1, false);
    uint8_t rec[3][20];
    uint32_t nr;
    for (int is64 = 0; is64 < 2; is64++) {
        put_map(d, is64, 8, OUT);
        CHECK_EQ(hc(d->vcpu[0], is64, MO, XENMEM_memory_map, ARG, 0), -XEN_ENOSYS);
    }
    set_memmap(d, 3);
    for (int is64 = 0; is64 < 2; is64++) {
        gpa_fill(d, OUT, 0xaa, sizeof(rec));
        put_map(d, is64, 2, OUT);
        CHECK_EQ(hc(d->vcpu[0], is64, MO, XENMEM_memory_map, ARG, 0), 0);
        gpa_read(d, ARG, &nr, 4);
        CHECK_EQ(nr, 2);
        gpa_read(d, OUT, rec, sizeof(rec));
        uint64_t addr, size;
        uint32_t type;
        memcpy(&addr, rec[1], 8), memcpy(&size, rec[1] + 8, 8), memcpy(&type, rec[1] + 16, 4);
        CHECK(addr == 1 << 20 && size == 0x1001 && type == 2); /* packed 20-byte records */
        CHECK_EQ(rec[2][0], 0xaa);
        put_map(d, is64, 100, OUT);
        CHECK_EQ(hc(d->vcpu[0], is64, MO, XENMEM_memory_map, ARG, 0), 0);
        gpa_read(d, ARG, &nr, 4);
        CHECK_EQ(nr, 3);
        put_map(d, is64, 100, HOLE_GPA);
        CHECK_EQ(hc(d->vcpu[0], is64, MO, XENMEM_memory_map, ARG, 0), -XEN_EFAULT);
        CHECK_EQ(hc(d->vcpu[0], is64, MO, XENMEM_memory_map, HOLE_GPA, 0), -XEN_EFAULT);
        /* arch_memory_op() matches the whole cmd: a start extent makes it unknown */
        CHECK_EQ(hc(d->vcpu[0], is64, MO, EXT(XENMEM_memory_map, 1), ARG, 0), -XEN_ENOSYS);
    }
    domain_destroy(d);
}

TEST(memop_hvm_filter_and_unknown)
{
    struct domain *d = fake_domain(16, 1, true);
    const uint64_t cmds[] = {XENMEM_machine_memory_map,
                             XENMEM_machphys_mapping,
                             EXT(XENMEM_machphys_mapping, 5),
                             XENMEM_exchange,
                             30,
                             63};
    for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        CHECK_EQ(hc64(d->vcpu[0], MO, cmds[i], ARG, 0), -XEN_ENOSYS);
        CHECK_EQ(hc32(d->vcpu[0], MO, cmds[i], ARG, 0), -XEN_ENOSYS);
    }
    CHECK(hc64(d->vcpu[0], MO, XENMEM_maximum_ram_page, 0, 0) > 0);
    CHECK_EQ(hc64(d->vcpu[0], MO, EXT(XENMEM_maximum_ram_page, 1), 0, 0), -XEN_EINVAL);
    domain_destroy(d);
}

/* ---- reservation queries ---- */

static long query(struct vcpu *v, bool is64, uint64_t cmd, domid_t id)
{
    gpa_write(v->domain, ARG, &id, sizeof(id));
    return hc(v, is64, MO, cmd, ARG, 0);
}

TEST(memop_reservation_queries)
{
    struct domain *u = fake_domain(16, 1, false), *p = fake_domain(32, 1, true);
    for (int is64 = 0; is64 < 2; is64++) {
        CHECK_EQ(query(u->vcpu[0], is64, XENMEM_current_reservation, DOMID_SELF), 4096);
        CHECK_EQ(query(u->vcpu[0], is64, XENMEM_maximum_reservation, DOMID_SELF), 4096);
        CHECK_EQ(query(u->vcpu[0], is64, XENMEM_maximum_gpfn, DOMID_SELF), 0xfefff);
        CHECK_EQ(query(u->vcpu[0], is64, XENMEM_current_reservation, u->domain_id), 4096);
        CHECK_EQ(query(u->vcpu[0], is64, XENMEM_current_reservation, p->domain_id), -XEN_EPERM);
        CHECK_EQ(query(p->vcpu[0], is64, XENMEM_maximum_reservation, u->domain_id), 4096);
        CHECK_EQ(query(p->vcpu[0], is64, XENMEM_current_reservation, DOMID_SELF), 8192);
        CHECK_EQ(query(u->vcpu[0], is64, XENMEM_maximum_gpfn, 999), -XEN_ESRCH);
        CHECK_EQ(hc(u->vcpu[0], is64, MO, XENMEM_maximum_gpfn, HOLE_GPA, 0), -XEN_EFAULT);
        CHECK_EQ(query(u->vcpu[0], is64, EXT(XENMEM_current_reservation, 1), DOMID_SELF),
                 -XEN_EINVAL);
    }
    domain_destroy(u);
    domain_destroy(p);
}

/* ---- add_to_physmap ---- */

static long atp(struct vcpu *v, bool is64, uint64_t cmd, domid_t dom, unsigned space, uint64_t idx,
                uint64_t gpfn, uint16_t size)
{
    struct domain *d = v->domain;
    if (is64) {
        struct xen_add_to_physmap x = {
            .domid = dom, .size = size, .space = space, .idx = idx, .gpfn = gpfn};
        gpa_write(d, ARG, &x, sizeof(x));
    } else {
        uint32_t sp = space, i = (uint32_t)idx, g = (uint32_t)gpfn;
        gpa_write(d, ARG + COMPAT_xen_add_to_physmap__domid_OFF, &dom, 2);
        gpa_write(d, ARG + COMPAT_xen_add_to_physmap__size_OFF, &size, 2);
        gpa_write(d, ARG + COMPAT_xen_add_to_physmap__space_OFF, &sp, 4);
        gpa_write(d, ARG + COMPAT_xen_add_to_physmap__idx_OFF, &i, 4);
        gpa_write(d, ARG + COMPAT_xen_add_to_physmap__gpfn_OFF, &g, 4);
    }
    return hc(v, is64, MO, cmd, ARG, 0);
}

static void check_wallclock(struct domain *d, bool compat)
{
    uint32_t ver, sec;
    size_t vo =
        compat ? COMPAT_shared_info__wc_version_OFF : offsetof(struct shared_info, wc_version);
    size_t so = compat ? COMPAT_shared_info__wc_sec_OFF : offsetof(struct shared_info, wc_sec);
    gpa_read(d, d->shared_info_gfn << PAGE_SHIFT | vo, &ver, 4);
    gpa_read(d, d->shared_info_gfn << PAGE_SHIFT | so, &sec, 4);
    CHECK(ver != 0 && !(ver & 1));
    /* wallclock + system time is now */
    CHECK(sec <= (uint64_t)time(NULL) &&
          sec + xen_system_time() / 1000000000ull + 2 >= (uint64_t)time(NULL));
}

TEST(memop_shared_info_over_ram_and_past_ram)
{
    struct domain *d = fake_domain(16, 1, false);
    struct p2m_entry e;
    for (int is64 = 1; is64 >= 0; is64--) {
        uint64_t tot = d->tot_pages, g = is64 ? 0x100 : 0x180;
        d->has_32bit_shinfo = !is64;
        CHECK_EQ(atp(d->vcpu[0], is64, XENMEM_add_to_physmap, DOMID_SELF, XENMAPSPACE_shared_info,
                     0, g, 0),
                 0);
        CHECK(p2m_lookup(d, g, &e) == 0 && e.type == p2m_shared_info);
        CHECK(e.hva == physmap_owned_page(d, XHV_PG_SHARED_INFO));
        CHECK_EQ(d->shared_info_gfn, g);
        CHECK_EQ(d->tot_pages, tot - 1); /* the displaced RAM page is freed */
        check_wallclock(d, !is64);
        /* move it past RAM: the old place becomes a hole, no RAM is displaced */
        CHECK_EQ(atp(d->vcpu[0], is64, XENMEM_add_to_physmap, DOMID_SELF, XENMAPSPACE_shared_info,
                     0, 0x10000, 0),
                 0);
        CHECK(!mapped(d, g));
        CHECK(mapped(d, 0x10000));
        CHECK_EQ(d->tot_pages, tot - 1);
        CHECK_EQ(p2m_max_gfn(d), 0xfefff);
        uint8_t b;
        CHECK_EQ(copy_from_gpa(d, &b, g << PAGE_SHIFT, 1), -XEN_EFAULT);
        /* mapping it where it already is changes nothing */
        CHECK_EQ(atp(d->vcpu[0], is64, XENMEM_add_to_physmap, DOMID_SELF, XENMAPSPACE_shared_info,
                     0, 0x10000, 0),
                 0);
        CHECK_EQ(d->tot_pages, tot - 1);
    }
    domain_destroy(d);
}

TEST(memop_add_to_physmap_errors)
{
    struct domain *u = fake_domain(16, 1, false), *p = fake_domain(16, 1, true);
    struct vcpu *v = u->vcpu[0];
    for (int is64 = 0; is64 < 2; is64++) {
        uint64_t op = XENMEM_add_to_physmap;
        CHECK_EQ(atp(v, is64, op, DOMID_SELF, XENMAPSPACE_shared_info, 1, 0x100, 0), -XEN_EINVAL);
        CHECK_EQ(atp(v, is64, op, DOMID_SELF, XENMAPSPACE_gmfn_foreign, 0, 0x100, 0), -XEN_ENOSYS);
        CHECK_EQ(atp(v, is64, op, 999, XENMAPSPACE_gmfn_foreign, 0, 0x100, 0), -XEN_ENOSYS);
        CHECK_EQ(atp(v, is64, op, 999, XENMAPSPACE_shared_info, 0, 0x100, 0), -XEN_ESRCH);
        CHECK_EQ(atp(v, is64, op, DOMID_SELF, XENMAPSPACE_dev_mmio, 0, 0x100, 0), -XEN_EACCES);
        CHECK_EQ(atp(v, is64, op, p->domain_id, XENMAPSPACE_shared_info, 0, 0x100, 0), -XEN_EPERM);
        CHECK_EQ(atp(v, is64, op, DOMID_SELF, 9, 0, 0x100, 0), -XEN_EINVAL);
        CHECK_EQ(atp(v, is64, op, DOMID_SELF, XENMAPSPACE_grant_table, 0, 0x100, 0), -XEN_ENOSYS);
        CHECK_EQ(atp(v, is64, op, DOMID_SELF, XENMAPSPACE_gmfn_range, 0, 0x100, 2), -XEN_ENOSYS);
        CHECK_EQ(atp(v, is64, EXT(op, 3), DOMID_SELF, XENMAPSPACE_gmfn_range, 0, 0x100, 2),
                 -XEN_EILSEQ);
        CHECK_EQ(atp(v, is64, EXT(op, 0x10000), DOMID_SELF, XENMAPSPACE_shared_info, 0, 0x100, 0),
                 -XEN_EDOM);
        CHECK_EQ(hc(v, is64, MO, op, HOLE_GPA, 0), -XEN_EFAULT);
    }
    CHECK_EQ(atp(v, true, XENMEM_add_to_physmap, DOMID_SELF, XENMAPSPACE_shared_info, 0, ~0ull, 0),
             -XEN_EINVAL);
    CHECK_EQ(atp(v, true, XENMEM_add_to_physmap, DOMID_SELF, XENMAPSPACE_gmfn_range, ~0ull - 1,
                 0x100, 4),
             -XEN_EOVERFLOW);
    CHECK_EQ(u->shared_info_gfn, INVALID_GFN);
    /* the control domain may place another domain's shared_info */
    CHECK_EQ(atp(p->vcpu[0], true, XENMEM_add_to_physmap, u->domain_id, XENMAPSPACE_shared_info, 0,
                 0x200, 0),
             0);
    CHECK_EQ(u->shared_info_gfn, 0x200);
    CHECK_EQ(p->shared_info_gfn, INVALID_GFN);
    domain_destroy(u);
    domain_destroy(p);
}

/* ---- decrease_reservation ---- */

/* xen_memory_reservation in the caller's layout; list entries are 8 or 4 bytes. */
static void put_rsv(struct domain *d, bool is64, uint64_t list, uint64_t nr, unsigned order,
                    uint32_t flags, domid_t dom)
{
    if (is64) {
        struct xen_memory_reservation r = {
            .nr_extents = nr, .extent_order = order, .mem_flags = flags, .domid = dom};
        set_xen_guest_handle(r.extent_start, (xen_pfn_t *)(uintptr_t)list);
        gpa_write(d, ARG, &r, sizeof(r));
        return;
    }
    uint32_t l = (uint32_t)list, n = (uint32_t)nr;
    gpa_write(d, ARG + COMPAT_xen_memory_reservation__extent_start_OFF, &l, 4);
    gpa_write(d, ARG + COMPAT_xen_memory_reservation__nr_extents_OFF, &n, 4);
    gpa_write(d, ARG + COMPAT_xen_memory_reservation__extent_order_OFF, &order, 4);
    gpa_write(d, ARG + COMPAT_xen_memory_reservation__mem_flags_OFF, &flags, 4);
    gpa_write(d, ARG + COMPAT_xen_memory_reservation__domid_OFF, &dom, 2);
}

static void put_list(struct domain *d, bool is64, const uint64_t *gfns, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (is64)
            gpa_write(d, LIST + 8 * i, &gfns[i], 8);
        else
            gpa_write(d, LIST + 4 * i, &gfns[i], 4);
    }
}

static long decrease(struct vcpu *v, bool is64, uint64_t start)
{
    return hc(v, is64, MO, EXT(XENMEM_decrease_reservation, start), ARG, 0);
}

TEST(memop_decrease_reservation)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    for (int is64 = 0; is64 < 2; is64++) {
        uint64_t base = is64 ? 0x200 : 0x600, tot = d->tot_pages;
        uint64_t gfns[3] = {base, base + 0x10, base + 0x20};
        put_list(d, is64, gfns, 3);
        put_rsv(d, is64, LIST, 2, 0, 0, DOMID_SELF);
        CHECK_EQ(decrease(v, is64, 0), 2);
        CHECK(!mapped(d, base) && !mapped(d, base + 0x10) && mapped(d, base + 0x20));
        CHECK_EQ(d->tot_pages, tot - 2);
        uint8_t b;
        CHECK_EQ(copy_from_gpa(d, &b, base << PAGE_SHIFT, 1), -XEN_EFAULT);
        /* a hole stops the batch: extents done so far */
        put_rsv(d, is64, LIST, 3, 0, 0, DOMID_SELF);
        CHECK_EQ(decrease(v, is64, 0), 0);
        /* continuation: start at extent 2 */
        CHECK_EQ(decrease(v, is64, 2), 3);
        CHECK(!mapped(d, base + 0x20));
        CHECK_EQ(d->tot_pages, tot - 3);
        /* start >= nr_extents, a bad struct, a bad list: start comes back, nothing done */
        CHECK_EQ(decrease(v, is64, 5), 5);
        CHECK_EQ(hc(v, is64, MO, EXT(XENMEM_decrease_reservation, 1), HOLE_GPA, 0), 1);
        put_rsv(d, is64, HOLE_GPA, 3, 0, 0, DOMID_SELF);
        CHECK_EQ(decrease(v, is64, 0), 0);
        put_rsv(d, is64, LIST, 0x4000000, 0, 0, DOMID_SELF); /* > UINT_MAX >> 6 */
        CHECK_EQ(decrease(v, is64, 0), 0);
        CHECK_EQ(d->tot_pages, tot - 3);
    }
    domain_destroy(d);
}

TEST(memop_decrease_orders_and_flags)
{
    struct domain *u = fake_domain(16, 1, false), *p = fake_domain(32, 1, true);
    struct vcpu *v = u->vcpu[0];
    uint64_t g = 0x400, tot = u->tot_pages;
    put_list(u, true, &g, 1);
    put_rsv(u, true, LIST, 1, 9, 0, DOMID_SELF);
    CHECK_EQ(decrease(v, true, 0), 1);
    CHECK_EQ(u->tot_pages, tot - 512);
    CHECK(!mapped(u, 0x400) && !mapped(u, 0x5ff) && mapped(u, 0x600));
    put_rsv(u, true, LIST, 1, 10, 0, DOMID_SELF); /* domU max order is 9 */
    CHECK_EQ(decrease(v, true, 0), 0);
    /* an extent whose second page is a hole: the first page goes, the extent fails */
    g = 0x6ff;
    put_list(u, true, &g, 1);
    put_rsv(u, true, LIST, 1, 0, 0, DOMID_SELF);
    CHECK_EQ(decrease(v, true, 0), 1);
    g = 0x6fe;
    put_list(u, true, &g, 1);
    put_rsv(u, true, LIST, 1, 1, 0, DOMID_SELF);
    CHECK_EQ(decrease(v, true, 0), 0);
    CHECK(!mapped(u, 0x6fe));
    /* mem_flags: address bits <= 12, or an exact node for a domU, refuse the request */
    g = 0x800;
    put_list(u, true, &g, 1);
    put_rsv(u, true, LIST, 1, 0, XENMEMF_address_bits(12), DOMID_SELF);
    CHECK_EQ(decrease(v, true, 0), 0);
    put_rsv(u, true, LIST, 1, 0, XENMEMF_exact_node(0), DOMID_SELF);
    CHECK_EQ(decrease(v, true, 0), 0);
    put_rsv(u, true, LIST, 1, 0, XENMEMF_node(0) | XENMEMF_address_bits(32), DOMID_SELF);
    CHECK_EQ(decrease(v, true, 0), 1);
    /* the control domain's max order is 12 (CONFIG_CTLDOM_MAX_ORDER) */
    g = 0x1000;
    put_list(p, true, &g, 1);
    put_rsv(p, true, LIST, 1, 10, 0, DOMID_SELF);
    CHECK_EQ(decrease(p->vcpu[0], true, 0), 1);
    CHECK(!mapped(p, 0x13ff) && mapped(p, 0x1400));
    domain_destroy(u);
    domain_destroy(p);
}

TEST(memop_decrease_other_domains)
{
    struct domain *u = fake_domain(16, 1, false), *p = fake_domain(32, 1, true);
    struct vcpu *v = u->vcpu[0];
    uint64_t g;
    /* another domain: refused for a domU, allowed for the control domain */
    g = 0x900;
    put_list(u, true, &g, 1);
    put_list(p, true, &g, 1);
    put_rsv(u, true, LIST, 1, 0, 0, p->domain_id);
    CHECK_EQ(decrease(v, true, 0), 0);
    CHECK(mapped(p, 0x900));
    put_rsv(p, true, LIST, 1, 0, 0, u->domain_id);
    CHECK_EQ(decrease(p->vcpu[0], true, 0), 1);
    CHECK(!mapped(u, 0x900) && mapped(p, 0x900));
    put_rsv(p, true, LIST, 1, 0, 0, 999);
    CHECK_EQ(decrease(p->vcpu[0], true, 0), 0);
    domain_destroy(u);
    domain_destroy(p);
}

TEST(memop_decrease_shared_info_and_increase)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    uint64_t tot, g = 0x300;
    CHECK_EQ(atp(v, true, XENMEM_add_to_physmap, DOMID_SELF, XENMAPSPACE_shared_info, 0, g, 0), 0);
    tot = d->tot_pages;
    put_list(d, true, &g, 1);
    put_rsv(d, true, LIST, 1, 0, 0, DOMID_SELF);
    CHECK_EQ(decrease(v, true, 0), 1);
    CHECK_EQ(d->shared_info_gfn, INVALID_GFN);
    CHECK_EQ(d->tot_pages, tot); /* not a RAM page */
    CHECK(!mapped(d, g));
    /* shared_info displaced one RAM page: one page may come back, then max_pages stops it */
    for (int is64 = 0; is64 < 2; is64++) {
        put_list(d, is64, &g, 1);
        put_rsv(d, is64, LIST, 1, 0, 0, DOMID_SELF);
        CHECK_EQ(hc(v, is64, MO, EXT(XENMEM_populate_physmap, 4), ARG, 0), 4);
    }
    CHECK_EQ(hc(v, true, MO, XENMEM_populate_physmap, ARG, 0), 1);
    CHECK(mapped(d, g));
    CHECK_EQ(d->tot_pages, d->max_pages);
    for (int is64 = 0; is64 < 2; is64++) {
        put_list(d, is64, &g, 1);
        put_rsv(d, is64, LIST, 1, 0, 0, DOMID_SELF);
        CHECK_EQ(hc(v, is64, MO, XENMEM_populate_physmap, ARG, 0), 0);
        CHECK_EQ(hc(v, is64, MO, XENMEM_increase_reservation, ARG, 0), 0);
    }
    domain_destroy(d);
}

/* XENMEM_set_memory_map from the control domain, then the domU reads it back. */
TEST(memop_set_memory_map_toolstack)
{
    struct domain *d = fake_domain(16, 1, false), *p = fake_domain(16, 1, true);
    struct xen_foreign_memory_map f = {.domid = d->domain_id};
    uint8_t rec[20];
    uint64_t addr = 0x100000, size = 0x200000;
    uint32_t type = 1;
    memcpy(rec, &addr, 8), memcpy(rec + 8, &size, 8), memcpy(rec + 16, &type, 4);
    gpa_write(p, 0x5000, rec, sizeof(rec));
    f.map.nr_entries = 1;
    set_xen_guest_handle(f.map.buffer, (void *)0x5000);
    gpa_write(p, 0x4000, &f, sizeof(f));
    CHECK_EQ(fake_hypercall(p->vcpu[0], 0, true, __HYPERVISOR_memory_op, XENMEM_set_memory_map,
                            0x4000, 0, 0, 0),
             0);
    CHECK_EQ(d->nr_memmap, 1);
    CHECK(d->memmap && d->memmap[0].addr == addr && d->memmap[0].size == size);
    /* a domU may not set another domain's map; too many entries -EINVAL */
    gpa_write(d, 0x4000, &f, sizeof(f));
    f.domid = p->domain_id;
    gpa_write(d, 0x4000, &f, sizeof(f));
    CHECK_EQ(fake_hypercall(d->vcpu[0], 0, true, __HYPERVISOR_memory_op, XENMEM_set_memory_map,
                            0x4000, 0, 0, 0),
             -XEN_EPERM);
    f.map.nr_entries = 1025;
    gpa_write(p, 0x4000, &f, sizeof(f));
    CHECK_EQ(fake_hypercall(p->vcpu[0], 0, true, __HYPERVISOR_memory_op, XENMEM_set_memory_map,
                            0x4000, 0, 0, 0),
             -XEN_EINVAL);
    /* a start extent in cmd[:6]: arch_memory_op() matches the whole cmd, so no such op */
    CHECK_EQ(fake_hypercall(p->vcpu[0], 0, true, __HYPERVISOR_memory_op,
                            XENMEM_set_memory_map | (1ull << 6), 0x4000, 0, 0, 0),
             -XEN_ENOSYS);
    domain_destroy(d);
    domain_destroy(p);
}
