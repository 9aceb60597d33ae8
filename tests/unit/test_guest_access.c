/* test_guest_access.c: unit tests for guest page-table walks and copy_{from,to}_guest/gpa. */
#include <stdbool.h>
#include <string.h>

#include "core/accel.h"
#include "core/core.h"
#include "tests/unit/harness.h"

#define CR0_PE (1ULL << 0)
#define CR0_WP (1ULL << 16)
#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

#define P 0x1ULL
#define RW 0x2ULL
#define US 0x4ULL
#define A 0x20ULL
#define D 0x40ULL
#define PS 0x80ULL
#define NX (1ULL << 63)
#define ADDR 0x000ffffffffff000ULL

#define RAM (16ULL << 20)
#define PT_BASE 0x100000ULL /* page tables are allocated from here */
#define DATA 0x800000ULL    /* data pages */
#define VA 0x40201000ULL    /* valid in every mode: < 4 GiB, distinct index per level */
#define EFAULT_ (-XEN_EFAULT)

static const struct accel_ops ga_ops = {.name = "guest-access-test"};

enum pt_mode { M_2LEVEL, M_PAE, M_LONG4, M_LONG5, M_NR };
static const char *const mode_name[M_NR] = {"2-level", "PAE", "4-level", "5-level"};

/* A guest with page tables built by the test in its RAM, and a caller vCPU. */
struct env {
    struct domain *d;
    struct vcpu v;
    enum pt_mode mode;
    uint64_t root, next;
};

static uint8_t *hva(struct env *e, uint64_t gpa)
{
    struct p2m_entry pe;
    if (p2m_lookup(e->d, gpa >> PAGE_SHIFT, &pe))
        return NULL;
    return pe.hva + (gpa & ~PAGE_MASK);
}

static unsigned width(const struct env *e)
{
    return e->mode == M_2LEVEL ? 4 : 8;
}

static uint64_t rd(struct env *e, uint64_t gpa)
{
    uint64_t v = 0;
    memcpy(&v, hva(e, gpa), width(e));
    return v;
}

static void wr(struct env *e, uint64_t gpa, uint64_t val)
{
    memcpy(hva(e, gpa), &val, width(e));
}

static uint64_t pt_alloc(struct env *e)
{
    uint64_t gpa = e->next;
    e->next += PAGE_SIZE;
    memset(hva(e, gpa), 0, PAGE_SIZE);
    return gpa;
}

static unsigned levels(const struct env *e)
{
    static const unsigned n[M_NR] = {2, 3, 4, 5};
    return n[e->mode];
}

static unsigned pt_index(const struct env *e, uint64_t va, unsigned lvl)
{
    if (e->mode == M_2LEVEL)
        return (va >> (12 + 10 * (lvl - 1))) & 1023;
    if (e->mode == M_PAE && lvl == 3)
        return (va >> 30) & 3;
    return (va >> (12 + 9 * (lvl - 1))) & 511;
}

static uint64_t entry_addr(const struct env *e, uint64_t entry)
{
    return entry & (e->mode == M_2LEVEL ? 0xfffff000ULL : ADDR);
}

/* Guest-physical address of va's entry at level lvl, creating the tables above it. */
static uint64_t slot(struct env *e, uint64_t va, unsigned lvl)
{
    uint64_t table = e->mode == M_PAE ? e->root : e->root & PAGE_MASK;
    for (unsigned l = levels(e);; l--) {
        uint64_t s = table + (uint64_t)pt_index(e, va, l) * width(e), ent;
        if (l == lvl)
            return s;
        ent = rd(e, s);
        if (!(ent & P)) {
            ent = pt_alloc(e) | ((e->mode == M_PAE && l == 3) ? P : P | RW | US);
            wr(e, s, ent);
        }
        table = entry_addr(e, ent);
    }
}

/* Map va to gpa with a leaf at level lvl (lvl > 1: superpage). */
static void map(struct env *e, uint64_t va, uint64_t gpa, unsigned lvl, uint64_t flags)
{
    uint64_t ent = gpa;
    if (lvl > 1)
        ent |= PS;
    if (e->mode == M_2LEVEL && lvl == 2)
        ent = (gpa & 0xffc00000ULL) | ((gpa >> 32) << 13) | PS;
    wr(e, slot(e, va, lvl), ent | flags);
}

static void set_paging(struct env *e)
{
    struct vcpu_paging *pg = &e->v.paging;
    pg->cr0 = CR0_PE | CR0_PG | CR0_WP;
    pg->cr3 = e->root;
    pg->cr4 = e->mode == M_2LEVEL ? CR4_PSE : CR4_PAE;
    pg->efer = e->mode == M_2LEVEL ? 0 : EFER_NXE;
    if (e->mode >= M_LONG4)
        pg->efer |= EFER_LME | EFER_LMA;
    if (e->mode == M_LONG5)
        pg->cr4 |= CR4_LA57;
    e->v.hcall_compat = e->mode < M_LONG4;
}

static bool env_init(struct env *e, enum pt_mode mode)
{
    struct domain_config cfg = {.mem_bytes = RAM, .max_vcpus = 1, .name = "ga"};
    int err = 0;
    memset(e, 0, sizeof(*e));
    e->d = domain_create(0, &cfg, &ga_ops, &err);
    CHECK_EQ(err, 0);
    if (!e->d)
        return false;
    e->v.domain = e->d;
    e->mode = mode;
    e->next = PT_BASE;
    /* PAE: the PDPT is 32-byte aligned, not page aligned: put it mid-page. */
    e->root = pt_alloc(e) + (mode == M_PAE ? 0x20 : 0);
    set_paging(e);
    return true;
}

static void env_fini(struct env *e)
{
    if (e->d)
        domain_destroy(e->d);
}

static int walk(struct env *e, uint64_t va, bool write, uint64_t *gpa)
{
    return guest_walk(e->d, &e->v.paging, va, write, gpa);
}

#define FOR_EACH_MODE(m) for (enum pt_mode m = 0; m < M_NR; m++)
#define MODE_FAIL(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            test_fail(__FILE__, __LINE__, "[%s] CHECK(%s)", mode_name[m], #cond);                  \
    } while (0)

/* ---- paging off ---- */

TEST(ga_paging_off)
{
    struct env e;
    uint64_t gpa = 0;
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8] = {0};
    if (!env_init(&e, M_LONG4))
        return;
    e.v.paging = (struct vcpu_paging){0};
    CHECK_EQ(walk(&e, 0x123456789aULL, true, &gpa), 0);
    CHECK_EQ(gpa, 0x123456789aULL);
    CHECK_EQ(copy_to_guest(&e.v, DATA + 4092, buf, 8), 0);
    CHECK_EQ(copy_from_guest(&e.v, out, DATA + 4092, 8), 0);
    CHECK(!memcmp(buf, out, 8));
    CHECK(!memcmp(hva(&e, DATA + 4092), buf, 4) && !memcmp(hva(&e, DATA + 4096), buf + 4, 4));
    CHECK_EQ(copy_from_guest(&e.v, out, RAM - 4, 8), EFAULT_); /* runs off the end of RAM */
    e.v.hcall_compat = true;
    CHECK_EQ(copy_from_guest(&e.v, out, 0x100000000ULL + DATA, 8), EFAULT_);
    CHECK_EQ(copy_from_guest(&e.v, out, DATA, 8), 0);
    env_fini(&e);
}

/* ---- translation in every mode ---- */

TEST(ga_walk_4k_every_mode)
{
    FOR_EACH_MODE(m)
    {
        struct env e;
        uint64_t gpa = 0;
        char msg[] = "hello, guest", out[sizeof(msg)] = "";
        if (!env_init(&e, m))
            return;
        map(&e, VA, DATA, 1, P | RW);
        MODE_FAIL(walk(&e, VA + 0x123, false, &gpa) == 0 && gpa == DATA + 0x123);
        MODE_FAIL(walk(&e, VA + 0xfff, true, &gpa) == 0 && gpa == DATA + 0xfff);
        MODE_FAIL(walk(&e, VA + 0x1000, false, &gpa) == EFAULT_);
        MODE_FAIL(walk(&e, VA - 1, false, &gpa) == EFAULT_);
        MODE_FAIL(copy_to_guest(&e.v, VA + 100, msg, sizeof(msg)) == 0);
        MODE_FAIL(!memcmp(hva(&e, DATA + 100), msg, sizeof(msg)));
        MODE_FAIL(copy_from_guest(&e.v, out, VA + 100, sizeof(msg)) == 0);
        MODE_FAIL(!strcmp(out, msg));
        env_fini(&e);
    }
}

TEST(ga_walk_superpages)
{
    FOR_EACH_MODE(m)
    {
        struct env e;
        uint64_t gpa = 0, va = 0x80400000ULL; /* 4 MiB aligned: a 2-level superpage too */
        if (!env_init(&e, m))
            return;
        map(&e, va, 0x400000, 2, P | RW);
        MODE_FAIL(walk(&e, va + 0x12345, true, &gpa) == 0 && gpa == 0x412345);
        if (m != M_2LEVEL) {
            /* 2 MiB page: frame bits 20:13 are reserved, bit 12 is PAT */
            wr(&e, slot(&e, va, 2), 0x400000 | 0x1000 | PS | P);
            MODE_FAIL(walk(&e, va + 0x12345, false, &gpa) == 0 && gpa == 0x412345);
            wr(&e, slot(&e, va, 2), 0x402000 | PS | P);
            MODE_FAIL(walk(&e, va, false, &gpa) == EFAULT_);
        }
        env_fini(&e);
    }
}

TEST(ga_walk_1g_pages)
{
    struct env e;
    uint64_t gpa = 0, va = 0x7f0040000000ULL;
    if (!env_init(&e, M_LONG4))
        return;
    map(&e, va, 0, 3, P | RW);
    CHECK_EQ(walk(&e, va + DATA + 0x10, true, &gpa), 0);
    CHECK_EQ(gpa, DATA + 0x10);
    CHECK_EQ(copy_to_guest(&e.v, va + DATA, "x", 1), 0);
    CHECK_EQ(*hva(&e, DATA), 'x');
    wr(&e, slot(&e, va, 3), 0x40000000ULL | 0x1000 | PS | P); /* PAT bit: fine */
    CHECK_EQ(walk(&e, va + 5, false, &gpa), 0);
    CHECK_EQ(gpa, 0x40000005ULL);
    wr(&e, slot(&e, va, 3), 0x200000 | PS | P); /* misaligned frame */
    CHECK_EQ(walk(&e, va, false, &gpa), EFAULT_);
    wr(&e, slot(&e, va, 3), 0x20000000 | PS | P);
    CHECK_EQ(walk(&e, va, false, &gpa), EFAULT_);
    env_fini(&e);
}

TEST(ga_walk_2level_pse)
{
    struct env e;
    uint64_t gpa = 0, va = 0xc0000000ULL;
    if (!env_init(&e, M_2LEVEL))
        return;
    /* PSE-36: PDE bits 20:13 are physical address bits 39:32 */
    map(&e, va, 0x3400000000ULL + 0x400000, 2, P | RW);
    CHECK_EQ(walk(&e, va + 0x3ff000, false, &gpa), 0);
    CHECK_EQ(gpa, 0x34007ff000ULL);
    CHECK_EQ(copy_from_guest(&e.v, &gpa, va, 4), EFAULT_);     /* that is no RAM */
    wr(&e, slot(&e, va, 2), 0x400000 | (1ULL << 21) | PS | P); /* bit 21 is reserved */
    CHECK_EQ(walk(&e, va, false, &gpa), EFAULT_);
    /* 32-bit addresses only: even if what lies past the directory looks like a PDE */
    map(&e, VA, DATA, 1, P);
    wr(&e, e.root + 4 * ((0x100000000ULL + VA) >> 22), rd(&e, slot(&e, VA, 2)));
    CHECK_EQ(walk(&e, 0x100000000ULL + VA, false, &gpa), EFAULT_);
    CHECK_EQ(walk(&e, VA, false, &gpa), 0);
    /* without CR4.PSE the PS bit is ignored: the PDE points to a page table */
    e.v.paging.cr4 &= ~CR4_PSE;
    uint64_t pt = pt_alloc(&e);
    wr(&e, slot(&e, va, 2), pt | PS | P | RW);
    wr(&e, pt + 4 * 3, DATA | P);
    CHECK_EQ(walk(&e, va + 0x3004, false, &gpa), 0);
    CHECK_EQ(gpa, DATA + 4);
    env_fini(&e);
}

TEST(ga_walk_5level)
{
    struct env e;
    uint64_t gpa = 0, va = 0x00ff801234567000ULL; /* canonical at 57 bits, not at 48 */
    if (!env_init(&e, M_LONG5))
        return;
    map(&e, va, DATA, 1, P);
    CHECK_EQ(walk(&e, va + 8, false, &gpa), 0);
    CHECK_EQ(gpa, DATA + 8);
    map(&e, 0xff00000000001000ULL, DATA + PAGE_SIZE, 1, P);
    CHECK_EQ(walk(&e, 0xff00000000001000ULL, false, &gpa), 0);
    CHECK_EQ(walk(&e, 0x0100000000000000ULL, false, &gpa), EFAULT_); /* bit 56 → sign */
    CHECK_EQ(walk(&e, 0xfe00000000001000ULL, false, &gpa), EFAULT_);
    wr(&e, slot(&e, va, 5), P | RW | PS); /* PS in a PML5E is reserved, not a huge page */
    CHECK_EQ(walk(&e, va, false, &gpa), EFAULT_);
    /* the same va is non-canonical with 4 levels */
    e.v.paging.cr4 &= ~CR4_LA57;
    CHECK_EQ(walk(&e, va, false, &gpa), EFAULT_);
    env_fini(&e);
}

TEST(ga_walk_canonical_4level)
{
    struct env e;
    uint64_t gpa = 0, hi = 0xffff800000000000ULL, top = 0xfffffffffffff000ULL;
    if (!env_init(&e, M_LONG4))
        return;
    map(&e, hi, DATA, 1, P);
    map(&e, top, DATA + PAGE_SIZE, 1, P);
    map(&e, 0x00007ffffffff000ULL, DATA + 2 * PAGE_SIZE, 1, P);
    CHECK_EQ(walk(&e, hi, false, &gpa), 0);
    CHECK_EQ(gpa, DATA);
    CHECK_EQ(walk(&e, top + 0xfff, false, &gpa), 0);
    CHECK_EQ(gpa, DATA + PAGE_SIZE + 0xfff);
    CHECK_EQ(walk(&e, 0x0000800000000000ULL, false, &gpa), EFAULT_);
    CHECK_EQ(walk(&e, 0xffff7fffffffffffULL, false, &gpa), EFAULT_);
    CHECK_EQ(walk(&e, 0x8000000000000000ULL, false, &gpa), EFAULT_);
    /* a copy that runs from the last canonical low page into the hole */
    uint8_t buf[16];
    CHECK_EQ(copy_from_guest(&e.v, buf, 0x00007ffffffffff8ULL, 16), EFAULT_);
    CHECK_EQ(copy_from_guest(&e.v, buf, 0x00007ffffffffff8ULL, 8), 0);
    /* PS in a PML4E is reserved */
    wr(&e, slot(&e, hi, 4), P | RW | PS); /* an aligned "512 GiB page" at 0 */
    CHECK_EQ(walk(&e, hi, false, &gpa), EFAULT_);
    /* long mode without CR4.PAE cannot exist */
    e.v.paging.cr4 &= ~CR4_PAE;
    CHECK_EQ(walk(&e, top, false, &gpa), EFAULT_);
    env_fini(&e);
}

/* ---- per-level faults ---- */

TEST(ga_not_present_each_level)
{
    FOR_EACH_MODE(m)
    {
        struct env e;
        uint64_t gpa = 0;
        if (!env_init(&e, m))
            return;
        map(&e, VA, DATA, 1, P | RW);
        for (unsigned l = levels(&e); l >= 1; l--) {
            uint64_t s = slot(&e, VA, l), ent = rd(&e, s);
            wr(&e, s, ent & ~P);
            MODE_FAIL(walk(&e, VA, false, &gpa) == EFAULT_);
            MODE_FAIL(copy_from_guest(&e.v, &gpa, VA, 1) == EFAULT_);
            wr(&e, s, ent);
            MODE_FAIL(walk(&e, VA, false, &gpa) == 0);
        }
        env_fini(&e);
    }
}

TEST(ga_read_only_each_level)
{
    FOR_EACH_MODE(m)
    {
        struct env e;
        uint64_t gpa = 0;
        if (!env_init(&e, m))
            return;
        map(&e, VA, DATA, 1, P | RW);
        /* PAE PDPTEs have no R/W bit */
        unsigned top = m == M_PAE ? 2 : levels(&e);
        for (unsigned l = top; l >= 1; l--) {
            uint64_t s = slot(&e, VA, l), ent = rd(&e, s);
            wr(&e, s, ent & ~RW);
            MODE_FAIL(walk(&e, VA, false, &gpa) == 0);
            MODE_FAIL(walk(&e, VA, true, &gpa) == EFAULT_);
            MODE_FAIL(copy_to_guest(&e.v, VA, "z", 1) == EFAULT_);
            MODE_FAIL(clear_guest(&e.v, VA, 1) == EFAULT_);
            MODE_FAIL(copy_from_guest(&e.v, &gpa, VA, 1) == 0);
            e.v.paging.cr0 &= ~CR0_WP; /* supervisor writes ignore R/W */
            MODE_FAIL(copy_to_guest(&e.v, VA, "z", 1) == 0);
            e.v.paging.cr0 |= CR0_WP;
            wr(&e, s, ent);
        }
        MODE_FAIL(*hva(&e, DATA) == 'z');
        env_fini(&e);
    }
}

TEST(ga_user_pages_are_accessible)
{
    FOR_EACH_MODE(m)
    {
        struct env e;
        uint64_t gpa = 0;
        if (!env_init(&e, m))
            return;
        map(&e, VA, DATA, 1, P | RW | US);
        MODE_FAIL(walk(&e, VA, true, &gpa) == 0); /* hypercall copies are supervisor */
        map(&e, VA, DATA, 1, P | RW);
        MODE_FAIL(walk(&e, VA, true, &gpa) == 0);
        env_fini(&e);
    }
}

/* SMAP (guest_walk_tables): user pages fault for hypercall copies unless EFLAGS.AC is set. */
TEST(ga_smap_needs_ac)
{
    FOR_EACH_MODE(m)
    {
        struct env e;
        uint64_t gpa = 0;
        if (!env_init(&e, m))
            return;
        map(&e, VA, DATA, 1, P | RW | US);
        e.v.paging.cr4 |= 1ULL << 21; /* CR4.SMAP */
        e.v.paging.rflags = 0;
        MODE_FAIL(walk(&e, VA, false, &gpa) == -XEN_EFAULT);
        e.v.paging.rflags = 1ULL << 18; /* EFLAGS.AC: stac() around the call */
        MODE_FAIL(walk(&e, VA, false, &gpa) == 0);
        e.v.paging.rflags = 0;
        map(&e, VA, DATA, 1, P | RW); /* supervisor page: SMAP does not apply */
        MODE_FAIL(walk(&e, VA, true, &gpa) == 0);
        env_fini(&e);
    }
}

TEST(ga_reserved_bits)
{
    FOR_EACH_MODE(m)
    {
        struct env e;
        uint64_t gpa = 0, s;
        if (!env_init(&e, m))
            return;
        map(&e, VA, DATA, 1, P | RW);
        s = slot(&e, VA, 1);
        if (m != M_2LEVEL) {
            wr(&e, s, DATA | P | NX); /* NX: fine for data with EFER.NXE... */
            MODE_FAIL(walk(&e, VA, false, &gpa) == 0);
            e.v.paging.efer &= ~EFER_NXE; /* ...reserved without it */
            MODE_FAIL(walk(&e, VA, false, &gpa) == EFAULT_);
            e.v.paging.efer |= EFER_NXE;
            wr(&e, s, DATA | P | (1ULL << 52)); /* PAE: 62:52 reserved; long: ignored */
            MODE_FAIL(walk(&e, VA, false, &gpa) == (m == M_PAE ? EFAULT_ : 0));
            wr(&e, s, DATA | P | (0x7fULL << 52)); /* software bits Linux uses */
            MODE_FAIL(walk(&e, VA, false, &gpa) == (m == M_PAE ? EFAULT_ : 0));
            wr(&e, s, DATA | P | (1ULL << 51)); /* beyond guest RAM: a hole */
            MODE_FAIL(copy_from_guest(&e.v, &gpa, VA, 1) == EFAULT_);
            wr(&e, slot(&e, VA, 2), rd(&e, slot(&e, VA, 2)) | (1ULL << 51));
            wr(&e, s, DATA | P);
            MODE_FAIL(walk(&e, VA, false, &gpa) == EFAULT_); /* table in a hole */
        }
        env_fini(&e);
    }
}

TEST(ga_pae_pdpte_reserved)
{
    static const uint64_t bad[] = {RW, US, A, D, PS, 0x100, NX, 1ULL << 52};
    struct env e;
    uint64_t gpa = 0, s;
    if (!env_init(&e, M_PAE))
        return;
    map(&e, VA, DATA, 1, P | RW);
    s = slot(&e, VA, 3);
    uint64_t ent = rd(&e, s);
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr(&e, s, ent | bad[i]);
        CHECK_EQ(walk(&e, VA, false, &gpa), EFAULT_);
    }
    wr(&e, s, ent | 0x18 | 0xe00); /* PWT, PCD and the available bits are fine */
    CHECK_EQ(walk(&e, VA, false, &gpa), 0);
    CHECK_EQ(gpa, DATA);
    env_fini(&e);
}

/* ---- accessed / dirty ---- */

TEST(ga_accessed_dirty_bits)
{
    FOR_EACH_MODE(m)
    {
        struct env e;
        uint64_t gpa = 0;
        if (!env_init(&e, m))
            return;
        map(&e, VA, DATA, 1, P | RW);
        unsigned top = m == M_PAE ? 2 : levels(&e);
        uint64_t pdpte = m == M_PAE ? rd(&e, slot(&e, VA, 3)) : 0;
        MODE_FAIL(walk(&e, VA, false, &gpa) == 0);
        for (unsigned l = top; l >= 1; l--)
            MODE_FAIL((rd(&e, slot(&e, VA, l)) & (A | D)) == A);
        MODE_FAIL(copy_to_guest(&e.v, VA, "d", 1) == 0);
        for (unsigned l = top; l >= 1; l--)
            MODE_FAIL((rd(&e, slot(&e, VA, l)) & (A | D)) == (l == 1 ? A | D : A));
        if (m == M_PAE) /* PDPTEs have no A bit (and A is reserved there) */
            MODE_FAIL(rd(&e, slot(&e, VA, 3)) == pdpte);
        /* a failed walk sets nothing */
        uint64_t va2 = VA + 0x200000ULL;
        map(&e, va2, DATA, 1, P); /* read-only leaf */
        MODE_FAIL(walk(&e, va2, true, &gpa) == EFAULT_);
        MODE_FAIL((rd(&e, slot(&e, va2, 1)) & (A | D)) == 0);
        /* superpage leaf gets D */
        map(&e, 0x80400000ULL, 0x400000, 2, P | RW);
        MODE_FAIL(clear_guest(&e.v, 0x80400010ULL, 4) == 0);
        MODE_FAIL((rd(&e, slot(&e, 0x80400000ULL, 2)) & (A | D)) == (A | D));
        env_fini(&e);
    }
}

/* ---- page tables and data in holes ---- */

TEST(ga_tables_in_holes)
{
    FOR_EACH_MODE(m)
    {
        struct env e;
        uint64_t gpa = 0;
        uint8_t b;
        if (!env_init(&e, m))
            return;
        map(&e, VA, DATA, 1, P | RW);
        e.v.paging.cr3 = 0xfee00000ULL; /* CR3 past RAM (in the MMIO hole) */
        MODE_FAIL(walk(&e, VA, false, &gpa) == EFAULT_);
        MODE_FAIL(copy_from_guest(&e.v, &b, VA, 1) == EFAULT_);
        e.v.paging.cr3 = e.root;
        /* each intermediate table pointer aimed past RAM */
        for (unsigned l = levels(&e); l >= 2; l--) {
            uint64_t s = slot(&e, VA, l), ent = rd(&e, s);
            wr(&e, s, (ent & 0xfff) | 0xf0000000ULL);
            MODE_FAIL(walk(&e, VA, false, &gpa) == EFAULT_);
            wr(&e, s, ent);
        }
        MODE_FAIL(walk(&e, VA, false, &gpa) == 0);
        env_fini(&e);
    }
}

TEST(ga_p2m_remove_holes)
{
    struct env e;
    uint64_t gpa = 0, freed = 0;
    uint8_t b = 0;
    if (!env_init(&e, M_LONG4))
        return;
    map(&e, VA, DATA, 1, P | RW);
    map(&e, VA + PAGE_SIZE, DATA + PAGE_SIZE, 1, P | RW);
    CHECK_EQ(copy_from_guest(&e.v, &b, VA, 1), 0);
    CHECK_EQ(p2m_remove(e.d, DATA >> PAGE_SHIFT, 1, &freed), 0);
    CHECK_EQ(walk(&e, VA, false, &gpa), 0);              /* the translation still exists... */
    CHECK_EQ(copy_from_guest(&e.v, &b, VA, 1), EFAULT_); /* ...the memory does not */
    CHECK_EQ(copy_to_guest(&e.v, VA, &b, 1), EFAULT_);
    CHECK_EQ(copy_from_gpa(e.d, &b, DATA, 1), EFAULT_);
    CHECK_EQ(copy_from_guest(&e.v, &b, VA + PAGE_SIZE, 1), 0);
    /* remove the page holding the L1 table */
    uint64_t l1 = slot(&e, VA, 1) & PAGE_MASK;
    CHECK_EQ(p2m_remove(e.d, l1 >> PAGE_SHIFT, 1, &freed), 0);
    CHECK_EQ(walk(&e, VA + PAGE_SIZE, false, &gpa), EFAULT_);
    env_fini(&e);
}

/* ---- boundaries ---- */

TEST(ga_page_crossing)
{
    struct env e;
    uint8_t buf[64], out[64];
    if (!env_init(&e, M_LONG4))
        return;
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i + 1);
    /* three virtually contiguous pages backed by scattered frames */
    map(&e, VA, DATA + 5 * PAGE_SIZE, 1, P | RW);
    map(&e, VA + PAGE_SIZE, DATA, 1, P | RW);
    map(&e, VA + 2 * PAGE_SIZE, DATA + 9 * PAGE_SIZE, 1, P);
    CHECK_EQ(copy_to_guest(&e.v, VA + PAGE_SIZE - 1, buf, 1), 0); /* last byte of a page */
    CHECK_EQ(*hva(&e, DATA + 6 * PAGE_SIZE - 1), 1);
    CHECK_EQ(copy_to_guest(&e.v, VA + PAGE_SIZE - 32, buf, 64), 0);
    CHECK(!memcmp(hva(&e, DATA + 6 * PAGE_SIZE - 32), buf, 32));
    CHECK(!memcmp(hva(&e, DATA), buf + 32, 32));
    CHECK_EQ(copy_from_guest(&e.v, out, VA + PAGE_SIZE - 32, 64), 0);
    CHECK(!memcmp(out, buf, 64));
    /* second page read-only: the write faults after the first part is done (as Xen) */
    CHECK_EQ(copy_to_guest(&e.v, VA + 3 * PAGE_SIZE - 16, buf, 32), EFAULT_);
    CHECK_EQ(copy_to_guest(&e.v, VA + 2 * PAGE_SIZE - 16, buf, 32), EFAULT_);
    CHECK(!memcmp(hva(&e, DATA + PAGE_SIZE - 16), buf, 16));
    CHECK_EQ(copy_from_guest(&e.v, out, VA + 2 * PAGE_SIZE - 16, 32), 0);
    /* fourth page unmapped */
    CHECK_EQ(copy_from_guest(&e.v, out, VA + 3 * PAGE_SIZE - 1, 2), EFAULT_);
    CHECK_EQ(copy_from_guest(&e.v, out, VA + 3 * PAGE_SIZE - 1, 1), 0);
    env_fini(&e);
}

TEST(ga_large_copy)
{
    struct env e;
    enum { N = 5 * 4096 + 300 };
    static uint8_t buf[N], out[N];
    if (!env_init(&e, M_LONG4))
        return;
    for (unsigned i = 0; i < 7; i++)
        map(&e, VA + i * PAGE_SIZE, DATA + (7 - i) * PAGE_SIZE, 1, P | RW);
    for (unsigned i = 0; i < N; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    CHECK_EQ(copy_to_guest(&e.v, VA + 100, buf, N), 0);
    memset(out, 0, N);
    CHECK_EQ(copy_from_guest(&e.v, out, VA + 100, N), 0);
    CHECK(!memcmp(buf, out, N));
    CHECK_EQ(clear_guest(&e.v, VA + 200, N - 200), 0);
    CHECK_EQ(copy_from_guest(&e.v, out, VA + 100, N), 0);
    CHECK(!memcmp(buf, out, 100));
    CHECK_EQ(out[100] | out[N / 2] | out[N - 101], 0); /* out[i] is at VA + 100 + i */
    CHECK(!memcmp(out + N - 100, buf + N - 100, 100));
    env_fini(&e);
}

TEST(ga_compat_4g_wrap)
{
    struct env e;
    uint8_t b[4] = {0xaa, 0xbb};
    uint64_t gpa = 0;
    if (!env_init(&e, M_PAE))
        return;
    map(&e, 0xfffff000ULL, DATA, 1, P | RW);
    map(&e, 0, DATA + PAGE_SIZE, 1, P | RW);
    CHECK_EQ(copy_to_guest(&e.v, 0xffffffffULL, b, 1), 0);
    CHECK_EQ(*hva(&e, DATA + 0xfff), 0xaa);
    CHECK_EQ(copy_to_guest(&e.v, 0xffffffffULL, b + 1, 2), EFAULT_); /* would wrap to 0 */
    CHECK_EQ(*hva(&e, DATA + 0xfff), 0xaa); /* rejected before copying anything */
    CHECK_EQ(copy_from_guest(&e.v, b, 0xfffffffeULL, 2), 0);
    CHECK_EQ(copy_from_guest(&e.v, b, 0x100000000ULL, 1), EFAULT_);
    /* 32-bit linear addresses only, even if what follows the PDPT looks like PDPTEs */
    for (unsigned i = 4; i < 8; i++)
        wr(&e, e.root + 8 * i, rd(&e, e.root + 8 * 3));
    CHECK_EQ(walk(&e, 0x1fffff000ULL, false, &gpa), EFAULT_);
    CHECK_EQ(walk(&e, 0xfffff000ULL, false, &gpa), 0);
    env_fini(&e);
    /* the same for a compat caller in long mode (compatibility mode) */
    if (!env_init(&e, M_LONG4))
        return;
    map(&e, 0xfffff000ULL, DATA, 1, P | RW);
    map(&e, 0x100000000ULL, DATA + PAGE_SIZE, 1, P | RW);
    e.v.hcall_compat = true;
    CHECK_EQ(copy_from_guest(&e.v, b, 0xffffffffULL, 1), 0);
    CHECK_EQ(copy_from_guest(&e.v, b, 0xffffffffULL, 2), EFAULT_);
    e.v.hcall_compat = false; /* a 64-bit caller may cross 4 GiB */
    CHECK_EQ(copy_from_guest(&e.v, b, 0xffffffffULL, 2), 0);
    env_fini(&e);
}

TEST(ga_overflow_and_len0)
{
    struct env e;
    uint8_t b[0x200] = {0};
    if (!env_init(&e, M_LONG4))
        return;
    map(&e, 0xfffffffffffff000ULL, DATA, 1, P | RW);
    memset(hva(&e, DATA), 0x5a, PAGE_SIZE);
    CHECK_EQ(copy_to_guest(&e.v, 0xffffffffffffff00ULL, b, 0x200), EFAULT_);
    CHECK_EQ(*hva(&e, DATA + 0xf00), 0x5a);                              /* nothing written */
    CHECK_EQ(copy_from_guest(&e.v, b, 0xffffffffffffff00ULL, 0x100), 0); /* ends at 2^64-1 */
    CHECK_EQ(b[0], 0x5a);
    CHECK_EQ(clear_guest(&e.v, 0xffffffffffffff00ULL, SIZE_MAX), EFAULT_);
    /* len 0 touches nothing, whatever the address */
    CHECK_EQ(copy_from_guest(&e.v, NULL, 0xdead000000000000ULL, 0), 0);
    CHECK_EQ(copy_to_guest(&e.v, 0xdead000000000000ULL, NULL, 0), 0);
    CHECK_EQ(clear_guest(&e.v, 0xdead000000000000ULL, 0), 0);
    CHECK_EQ(copy_to_gpa(e.d, UINT64_MAX, NULL, 0), 0);
    env_fini(&e);
}

/* ---- physical access ---- */

TEST(ga_gpa_access)
{
    struct env e;
    uint8_t b[16] = "physical!", out[16] = {0};
    if (!env_init(&e, M_LONG4))
        return;
    CHECK_EQ(copy_to_gpa(e.d, DATA + PAGE_SIZE - 4, b, sizeof(b)), 0);
    CHECK_EQ(copy_from_gpa(e.d, out, DATA + PAGE_SIZE - 4, sizeof(out)), 0);
    CHECK(!memcmp(b, out, sizeof(b)));
    CHECK_EQ(copy_to_gpa(e.d, RAM - 8, b, 16), EFAULT_); /* runs off RAM */
    CHECK(!memcmp(hva(&e, RAM - 8), b, 8));              /* first part done */
    CHECK_EQ(copy_from_gpa(e.d, out, RAM, 1), EFAULT_);
    CHECK_EQ(copy_from_gpa(e.d, out, UINT64_MAX - 3, 8), EFAULT_);
    CHECK_EQ(copy_from_gpa(e.d, out, 0xfee00000ULL, 4), EFAULT_);
    /* special pages and the shared_info overlay are accessible too */
    uint64_t sp = XHV_SPECIAL_GFN(SPECIALPAGE_CONSOLE) << PAGE_SHIFT;
    CHECK_EQ(copy_to_gpa(e.d, sp + 8, b, 4), 0);
    CHECK(!memcmp(physmap_owned_page(e.d, XHV_PG_SPECIAL0 + SPECIALPAGE_CONSOLE) + 8, b, 4));
    uint64_t si = 0x2000000ULL; /* a GFN above RAM */
    CHECK_EQ(p2m_set(e.d, si >> PAGE_SHIFT, 1, physmap_owned_off(e.d, XHV_PG_SHARED_INFO),
                     p2m_shared_info),
             0);
    e.v.paging = (struct vcpu_paging){0};
    CHECK_EQ(copy_to_guest(&e.v, si + 16, b, 4), 0);
    CHECK(!memcmp(physmap_owned_page(e.d, XHV_PG_SHARED_INFO) + 16, b, 4));
    env_fini(&e);
}
