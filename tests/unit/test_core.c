/* test_core.c: physmap extents and slots, domain lifetime and shutdown, Xen CPUID leaves. */
#include <string.h>
#include <time.h>

#include "core/accel.h"
#include "core/core.h"
#include "tests/unit/harness.h"

static unsigned slots_live;
static int count_mem_set(struct domain *d, int slot, uint64_t gpa, uint64_t size, void *hva)
{
    (void)d, (void)slot, (void)gpa;
    if (hva && size)
        slots_live++;
    else
        slots_live--;
    return 0;
}
static const struct accel_ops counting_ops = {.name = "count", .mem_set = count_mem_set};

static struct domain *mkdom(uint64_t mib, unsigned vcpus)
{
    struct domain_config cfg = {.mem_bytes = mib << 20, .max_vcpus = vcpus, .name = "t"};
    int rc;
    return domain_create(0, &cfg, &counting_ops, &rc);
}

TEST(physmap_initial_layout)
{
    slots_live = 0;
    struct domain *d = mkdom(16, 1);
    struct p2m_entry e;
    CHECK(d != NULL);
    CHECK_EQ(d->tot_pages, 16 * 256);
    CHECK(p2m_lookup(d, 0, &e) == 0 && e.type == p2m_ram_rw);
    CHECK(p2m_lookup(d, 16 * 256 - 1, &e) == 0);
    CHECK_EQ(p2m_lookup(d, 16 * 256, &e), -XEN_EFAULT);
    CHECK(p2m_lookup(d, XHV_SPECIAL_GFN(SPECIALPAGE_CONSOLE), &e) == 0 && e.type == p2m_special);
    CHECK_EQ(p2m_max_gfn(d), 0xfefff);
    CHECK_EQ(slots_live, 2);
    domain_destroy(d);
    CHECK_EQ(slots_live, 0);
}

TEST(physmap_split_and_punch)
{
    struct domain *d = mkdom(16, 1);
    struct p2m_entry e, e2;
    uint64_t freed;
    CHECK(p2m_lookup(d, 100, &e) == 0);
    memset(e.hva, 0x5a, PAGE_SIZE);
    CHECK(p2m_remove(d, 100, 2, &freed) == 0);
    CHECK_EQ(freed, 2);
    CHECK_EQ(p2m_lookup(d, 100, &e2), -XEN_EFAULT);
    CHECK_EQ(p2m_lookup(d, 101, &e2), -XEN_EFAULT);
    CHECK(p2m_lookup(d, 99, &e2) == 0 && p2m_lookup(d, 102, &e2) == 0);
    CHECK(e.hva[0] == 0); /* the page went back to the host: reads as zero */
    CHECK_EQ(slots_live, 3);
    CHECK(p2m_remove(d, 100, 2, &freed) == 0);
    CHECK_EQ(freed, 0); /* already a hole */
    /* map an owned page over RAM and into a hole, then move it */
    CHECK(p2m_set(d, 50, 1, physmap_owned_off(d, XHV_PG_SHARED_INFO), p2m_shared_info) == 0);
    CHECK(p2m_lookup(d, 50, &e) == 0 && e.type == p2m_shared_info);
    CHECK(e.hva == physmap_owned_page(d, XHV_PG_SHARED_INFO));
    CHECK(p2m_set(d, 0x100000, 1, physmap_owned_off(d, XHV_PG_SHARED_INFO), p2m_shared_info) == 0);
    CHECK(p2m_lookup(d, 0x100000, &e) == 0);
    CHECK_EQ(p2m_max_gfn(d), 0x100000);
    domain_destroy(d);
    CHECK_EQ(slots_live, 0);
}

TEST(physmap_bad_ranges)
{
    struct domain *d = mkdom(4, 1);
    uint64_t freed;
    CHECK_EQ(p2m_remove(d, ~0ull, 1, &freed), -XEN_EINVAL);
    CHECK_EQ(p2m_remove(d, 1ull << 40, 1, &freed), -XEN_EINVAL);
    CHECK_EQ(p2m_remove(d, 5, 0, &freed), -XEN_EINVAL);
    CHECK_EQ(p2m_set(d, 5, 1, d->p2m.memfd_size, p2m_special), -XEN_EINVAL);
    CHECK_EQ(p2m_set(d, 5, 2, d->p2m.memfd_size - PAGE_SIZE, p2m_special), -XEN_EINVAL);
    CHECK_EQ(p2m_set(d, 5, 1, 123, p2m_special), -XEN_EINVAL);
    domain_destroy(d);
}

TEST(physmap_ram_above_4g)
{
    struct domain *d = mkdom(4096, 1); /* 3.75 GiB low, 256 MiB high */
    struct p2m_entry e;
    CHECK(d != NULL);
    CHECK(p2m_lookup(d, (XHV_LOW_RAM_END >> 12) - 1, &e) == 0);
    CHECK_EQ(p2m_lookup(d, XHV_LOW_RAM_END >> 12, &e), -XEN_EFAULT);
    CHECK(p2m_lookup(d, 0x100000, &e) == 0);
    CHECK(p2m_lookup(d, 0x100000 + 256 * 256 - 1, &e) == 0);
    CHECK_EQ(p2m_lookup(d, 0x100000 + 256 * 256, &e), -XEN_EFAULT);
    domain_destroy(d);
}

TEST(domain_ids_and_config)
{
    struct domain_config cfg = {.mem_bytes = 4 << 20, .max_vcpus = 1};
    int rc;
    struct domain *a = domain_create(0, &cfg, &counting_ops, &rc);
    struct domain *b = domain_create(0, &cfg, &counting_ops, &rc);
    CHECK(a && b && a->domain_id != b->domain_id && a->domain_id >= 1);
    struct domain *ref = rcu_lock_domain_by_id(a->domain_id);
    CHECK(ref == a);
    if (ref)
        rcu_unlock_domain(ref);
    CHECK(domain_create(a->domain_id, &cfg, &counting_ops, &rc) == NULL);
    CHECK_EQ(rc, -XEN_EEXIST);
    cfg.max_vcpus = 0;
    CHECK(domain_create(0, &cfg, &counting_ops, &rc) == NULL && rc == -XEN_EINVAL);
    cfg.max_vcpus = XHV_MAX_VCPUS + 1;
    CHECK(domain_create(0, &cfg, &counting_ops, &rc) == NULL && rc == -XEN_EINVAL);
    cfg.max_vcpus = 1, cfg.mem_bytes = 4096;
    CHECK(domain_create(0, &cfg, &counting_ops, &rc) == NULL && rc == -XEN_EINVAL);
    cfg.mem_bytes = (4 << 20) + 1;
    CHECK(domain_create(0, &cfg, &counting_ops, &rc) == NULL && rc == -XEN_EINVAL);
    domid_t ida = a->domain_id;
    domain_destroy(a);
    CHECK(rcu_lock_domain_by_id(ida) == NULL);
    domain_destroy(b);
}

TEST(domain_shutdown_first_code_wins)
{
    struct domain *d = mkdom(4, 1);
    domain_shutdown(d, SHUTDOWN_reboot);
    domain_shutdown(d, SHUTDOWN_poweroff);
    CHECK_EQ(d->shutdown_code, SHUTDOWN_reboot);
    CHECK(!domain_is_running(d));
    domain_destroy(d);
}

TEST(cpuid_xen_leaves)
{
    struct domain *d = mkdom(4, 2);
    uint32_t r[4];
    xen_cpuid_leaf(d->vcpu[1], 0x40000000, 0, r);
    CHECK_EQ(r[0], 0x40000005);
    CHECK(!memcmp(&r[1], "XenV", 4) && !memcmp(&r[2], "MMXe", 4) && !memcmp(&r[3], "nVMM", 4));
    xen_cpuid_leaf(d->vcpu[1], 0x40000001, 0, r);
    CHECK_EQ(r[0], 0x00040011);
    xen_cpuid_leaf(d->vcpu[1], 0x40000002, 0, r);
    CHECK(r[0] == 1 && r[1] == 0x40000000);
    xen_cpuid_leaf(d->vcpu[1], 0x40000004, 0, r);
    CHECK(r[0] & XEN_HVM_CPUID_VCPU_ID_PRESENT);
    CHECK(r[0] & XEN_HVM_CPUID_UPCALL_VECTOR); /* event channels: per-vCPU upcall vector */
    CHECK(r[1] == 1 && r[2] == d->domain_id);
    xen_cpuid_leaf(d->vcpu[1], 0x40000006, 0, r);
    CHECK(r[0] == 0 && r[1] == 0 && r[2] == 0 && r[3] == 0);
    domain_destroy(d);
}

TEST(time_scale_matches_xen)
{
    uint32_t mul;
    int8_t shift;
    time_scale(1000000000ull, &mul, &shift); /* 1 GHz: 1 tick = 1 ns */
    CHECK_EQ(shift, 1);
    CHECK_EQ(mul, 0x80000000u);
    time_scale(2400000000ull, &mul, &shift);
    uint64_t t = shift >= 0 ? 1000000ull << shift : 1000000ull >> -shift;
    uint64_t ns = (t * mul) >> 32;
    CHECK(ns >= 416600 && ns <= 416700); /* 10^6 ticks at 2.4 GHz = 416.67 us */
}

TEST(token_bucket_limits_and_refills)
{
    struct token_bucket b = {0, 0};
    unsigned ok = 0;
    for (int i = 0; i < 20; i++)
        ok += token_bucket_take(&b, 10, 1000, 1);
    CHECK(ok >= 10 && ok <= 11); /* the burst, plus at most what 1000/s refilled meanwhile */
    CHECK(!token_bucket_take(&b, 10, 1000, 100)); /* more than the burst: never */
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL); /* 20 ms at 1000/s: the bucket is full again */
    CHECK(token_bucket_take(&b, 10, 1000, 10));
}

/* Ballooning out page after page splits extents: when slots run out the request fails whole,
 * and no page the guest kept is lost (review finding: half-done cuts dropped RAM). */
TEST(physmap_slot_exhaustion_loses_nothing)
{
    struct domain *d = mkdom(16, 1);
    struct p2m_entry e;
    uint64_t freed;
    int rc = 0;
    unsigned i;
    for (i = 0; i < 1000 && rc == 0; i++)
        rc = p2m_remove(d, 10 + 2 * (uint64_t)i, 1, &freed);
    CHECK_EQ(rc, -XEN_ENOSPC);
    CHECK(i > 400);
    for (uint64_t g = 0; g < 16 * 256; g++) {
        bool removed = g >= 10 && g < 10 + 2 * (uint64_t)(i - 1) && (g - 10) % 2 == 0;
        if ((p2m_lookup(d, g, &e) == 0) == removed) {
            CHECK(!"page state wrong");
            break;
        }
    }
    CHECK(domain_is_running(d));
    domain_destroy(d);
    CHECK_EQ(slots_live, 0);
}

/* A foreign mapping keeps the other domain's memory alive after that domain is destroyed. */
TEST(physmap_foreign_outlives_source)
{
    struct domain *src = mkdom(4, 1), *dst = mkdom(4, 1);
    struct p2m_entry e;
    CHECK(p2m_lookup(src, 7, &e) == 0);
    memcpy(e.hva, "sibling", 8);
    CHECK_EQ(p2m_set_foreign(dst, 0x200000, src, 7), 0);
    CHECK_EQ(p2m_set_foreign(dst, 0x200001, src, 0x7ffff), -XEN_EINVAL); /* not RAM */
    CHECK(p2m_lookup(dst, 0x200000, &e) == 0 && e.type == p2m_foreign);
    CHECK(!memcmp(e.hva, "sibling", 8));
    domain_destroy(src);
    CHECK(p2m_lookup(dst, 0x200000, &e) == 0 && !memcmp(e.hva, "sibling", 8));
    uint64_t freed;
    CHECK_EQ(p2m_remove(dst, 0x200000, 1, &freed), 0);
    CHECK_EQ(freed, 0); /* not dst's RAM: nothing of dst's is freed */
    domain_destroy(dst);
}

/* The live-domain limit answers with an error, and frees up again. */
TEST(domain_limit_enospc)
{
    static struct domain *ds[XHV_MAX_DOMAINS + 1];
    struct domain_config cfg = {.mem_bytes = 0, .max_vcpus = 1};
    unsigned n = 0;
    int rc = 0;
    while (n <= XHV_MAX_DOMAINS && (ds[n] = domain_create(0, &cfg, &counting_ops, &rc)))
        n++;
    CHECK_EQ(rc, -XEN_ENOSPC);
    CHECK(n > XHV_MAX_DOMAINS - 8 && n <= XHV_MAX_DOMAINS); /* other tests' domains may live */
    while (n)
        domain_destroy(ds[--n]);
    ds[0] = domain_create(0, &cfg, &counting_ops, &rc);
    CHECK(ds[0] != NULL);
    if (ds[0])
        domain_destroy(ds[0]);
}
