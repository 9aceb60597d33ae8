/* guest_access.c: guest page-table walks (every x86 paging mode) and copy_{from,to}_guest. */
#include <string.h>

#include "core/core.h"

/*
 * Semantics follow Xen's HVM hypercall copy path: copy_{from,to}_user_hvm() ->
 * hvm_copy_{from,to}_guest_linear(pfec = 0) -> __hvm_copy() (xen/arch/x86/hvm/hvm.c) ->
 * paging_gva_to_gfn() -> guest_walk_tables() (xen/arch/x86/mm/guest_walk.c), with the
 * reserved-bit rules of xen/arch/x86/include/asm/guest_pt.h:
 *  - a hypercall copy is a supervisor data access: U/S only matters for SMAP, R/W is
 *    enforced on writes only when CR0.WP is set;
 *  - SMAP: guest_walk_tables() fails a supervisor data access to a user mapping when
 *    CR4.SMAP is set and the guest's EFLAGS.AC is clear (pfec has no PFEC_implicit; Linux's
 *    privcmd does stac() around hypercalls for exactly this reason). See smap_blocks();
 *  - A/D bits: guest_walk_tables() sets Accessed on every level used and Dirty on the leaf
 *    of a write (set_ad_bits(), cmpxchg so a concurrently changed entry is left alone), and
 *    HAP's hypercall copies go through it, so we do the same. PAE PDPTEs get no A bit;
 *  - reserved bits: address bits >= MAXPHYADDR, NX without EFER.NXE, PS in a PML4E/PML5E,
 *    misaligned superpage frames, PAE's bits 62:52 and PDPTE bits 8:5,2:1. Bits 62:52 of a
 *    4/5-level entry are ignored (software/protection-key bits Linux uses), not reserved;
 *  - protection keys (PKU/PKS) are not checked: PKRU/PKRS are not part of the exit state.
 */

#define X86_CR0_WP (1ULL << 16)
#define X86_CR0_PG (1ULL << 31)
#define X86_CR4_PSE (1ULL << 4)
#define X86_CR4_PAE (1ULL << 5)
#define X86_CR4_LA57 (1ULL << 12)
#define X86_CR4_SMAP (1ULL << 21)
#define X86_EFER_LMA (1ULL << 10)
#define X86_EFER_NXE (1ULL << 11)

#define PTE_P 0x001ULL
#define PTE_RW 0x002ULL
#define PTE_US 0x004ULL
#define PTE_A 0x020ULL
#define PTE_D 0x040ULL
#define PTE_PS 0x080ULL
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL /* bits 51:12 */
#define PAE_HIGH_RSVD 0x7ff0000000000000ULL
#define PAE_PDPTE_RSVD (0xfff0000000000000ULL | 0x1e6ULL)
#define PSE36_RSVD (1ULL << 21) /* PSE-36 tops out at 40 address bits */

/*
 * The guest's CPUID MAXPHYADDR is the backend's business; assume the architectural maximum.
 * An entry pointing beyond the real limit still fails: its GFN is a hole in the P2M.
 */
#define GUEST_MAXPHYADDR 52
#define PADDR_RSVD (((1ULL << 52) - 1) & ~((1ULL << GUEST_MAXPHYADDR) - 1))

#define MAX_LEVELS 5

struct walk {
    struct domain *d;
    uint64_t va;
    uint64_t rsvd; /* reserved in every entry of this mode */
    uint64_t ar;   /* R/W and U/S ANDed over the levels that carry them */
    uint64_t gpa;  /* result */
    bool wide;     /* 8-byte entries (PAE, long mode) */
    unsigned nr;   /* entries recorded for A/D update */
    void *ptep[MAX_LEVELS];
    uint64_t pte[MAX_LEVELS];
};

static bool p2m_type_accessible(enum p2m_type t)
{
    switch (t) {
    case p2m_ram_rw:
    case p2m_special:
    case p2m_shared_info:
        return true;
    case p2m_foreign: /* another domain's page: never a hypercall buffer (nor a page table) */
        return false;
    }
    return false;
}

/* Host address of guest-physical gpa, if it lies in accessible guest memory. */
static uint8_t *gpa_to_hva(struct domain *d, uint64_t gpa)
{
    struct p2m_entry e;

    if (p2m_lookup(d, gpa >> PAGE_SHIFT, &e) || !p2m_type_accessible(e.type))
        return NULL;
    return e.hva + (gpa & ~PAGE_MASK);
}

/* Read entry idx of the table at guest-physical table (tables never cross a page). */
static int read_entry(struct walk *w, uint64_t table, unsigned idx, uint64_t *pte)
{
    unsigned width = w->wide ? 8 : 4;
    uint8_t *p = gpa_to_hva(w->d, table + (uint64_t)idx * width);

    if (!p)
        return -XEN_EFAULT;
    if (w->wide)
        *pte = __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
    else
        *pte = __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED);
    w->ptep[w->nr] = p;
    w->pte[w->nr++] = *pte;
    return 0;
}

/* The 512-entry levels of PAE and long mode, from `level` down to the leaf. */
static int walk_levels(struct walk *w, uint64_t table, unsigned level)
{
    for (;; level--) {
        unsigned shift = PAGE_SHIFT + 9 * (level - 1);
        uint64_t pte, low = (1ULL << shift) - 1;

        if (read_entry(w, table, (w->va >> shift) & 511, &pte))
            return -XEN_EFAULT;
        if (!(pte & PTE_P) || (pte & w->rsvd))
            return -XEN_EFAULT;
        w->ar &= pte;
        if (level >= 4 && (pte & PTE_PS))
            return -XEN_EFAULT;
        if (level == 1 || (pte & PTE_PS)) {
            /* superpage frames must be aligned; bit 12 is the PAT bit there */
            if (level > 1 && (pte & low & ~0x1fffULL))
                return -XEN_EFAULT;
            w->gpa = (pte & PTE_ADDR & ~low) | (w->va & low);
            return 0;
        }
        table = pte & PTE_ADDR;
    }
}

static bool is_canonical(uint64_t va, unsigned bits)
{
    int64_t s = (int64_t)(va << (64 - bits)) >> (64 - bits);

    return (uint64_t)s == va;
}

static int walk_long(struct walk *w, const struct vcpu_paging *pg)
{
    unsigned levels = (pg->cr4 & X86_CR4_LA57) ? 5 : 4;

    if (!(pg->cr4 & X86_CR4_PAE) || !is_canonical(w->va, PAGE_SHIFT + 9 * levels))
        return -XEN_EFAULT;
    return walk_levels(w, pg->cr3 & PTE_ADDR, levels);
}

/* PAE: four PDPTEs at CR3[31:5], then two 512-entry levels. */
static int walk_pae(struct walk *w, const struct vcpu_paging *pg)
{
    uint64_t pdpte;

    if (w->va > UINT32_MAX)
        return -XEN_EFAULT;
    if (read_entry(w, pg->cr3 & 0xffffffe0ULL, w->va >> 30, &pdpte))
        return -XEN_EFAULT;
    w->nr = 0; /* PDPTEs have no A bit */
    if (!(pdpte & PTE_P) || (pdpte & (PAE_PDPTE_RSVD | PADDR_RSVD)))
        return -XEN_EFAULT;
    w->rsvd |= PAE_HIGH_RSVD;
    return walk_levels(w, pdpte & PTE_ADDR, 2);
}

/* Classic 32-bit paging: 4-byte entries, 4 MiB (PSE-36) pages when CR4.PSE. */
static int walk_2level(struct walk *w, const struct vcpu_paging *pg)
{
    uint64_t pde, pte;

    w->wide = false;
    if (w->va > UINT32_MAX || read_entry(w, pg->cr3 & 0xfffff000ULL, w->va >> 22, &pde))
        return -XEN_EFAULT;
    if (!(pde & PTE_P))
        return -XEN_EFAULT;
    w->ar &= pde;
    if ((pde & PTE_PS) && (pg->cr4 & X86_CR4_PSE)) {
        if (pde & PSE36_RSVD)
            return -XEN_EFAULT;
        w->gpa = (pde & 0xffc00000ULL) | (((pde >> 13) & 0xff) << 32) | (w->va & 0x3fffff);
        return 0;
    }
    if (read_entry(w, pde & 0xfffff000ULL, (w->va >> 12) & 1023, &pte) || !(pte & PTE_P))
        return -XEN_EFAULT;
    w->ar &= pte;
    w->gpa = (pte & 0xfffff000ULL) | (w->va & 0xfff);
    return 0;
}

/* guest_walk_tables(): a supervisor data access to a user page faults unless EFLAGS.AC. */
static bool smap_blocks(const struct vcpu_paging *pg)
{
    return !(pg->rflags & (1ULL << 18));
}

static int check_access(const struct walk *w, const struct vcpu_paging *pg, bool write)
{
    if (write && !(w->ar & PTE_RW) && (pg->cr0 & X86_CR0_WP))
        return -XEN_EFAULT;
    if ((w->ar & PTE_US) && (pg->cr4 & X86_CR4_SMAP) && smap_blocks(pg))
        return -XEN_EFAULT;
    return 0;
}

/* As Xen's set_ad_bits(): only if the entry still holds what the walk read. */
static void set_ad_bits(struct walk *w, bool write)
{
    for (unsigned i = 0; i < w->nr; i++) {
        uint64_t want = PTE_A | ((write && i == w->nr - 1) ? PTE_D : 0);
        uint64_t old = w->pte[i];

        if ((old & want) == want)
            continue;
        if (w->wide) {
            __atomic_compare_exchange_n((uint64_t *)w->ptep[i], &old, old | want, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
        } else {
            uint32_t o32 = (uint32_t)old;
            __atomic_compare_exchange_n((uint32_t *)w->ptep[i], &o32, o32 | (uint32_t)want, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
        }
    }
}

int guest_walk(struct domain *d, const struct vcpu_paging *pg, uint64_t gva, bool write,
               uint64_t *gpa)
{
    struct walk w; /* not zero-initialised: this is the hypercall hot path */
    int rc;

    if (!(pg->cr0 & X86_CR0_PG)) {
        *gpa = gva;
        return 0;
    }
    w.d = d;
    w.va = gva;
    w.ar = PTE_RW | PTE_US;
    w.wide = true;
    w.nr = 0;
    w.rsvd = PADDR_RSVD | ((pg->efer & X86_EFER_NXE) ? 0 : PTE_NX);
    if (pg->efer & X86_EFER_LMA)
        rc = walk_long(&w, pg);
    else if (pg->cr4 & X86_CR4_PAE)
        rc = walk_pae(&w, pg);
    else
        rc = walk_2level(&w, pg);
    if (!rc)
        rc = check_access(&w, pg, write);
    if (rc)
        return rc;
    set_ad_bits(&w, write);
    *gpa = w.gpa;
    return 0;
}

enum xfer_op { XFER_FROM, XFER_TO, XFER_CLEAR };

/* A tool connection's buffer: handles are addresses in the tool's own mapping of it. */
static uint8_t *ctl_xlate(const struct vcpu *v, uint64_t addr)
{
    uint64_t off = addr - v->ctl_base;
    return addr >= v->ctl_base && off < v->ctl_size ? v->ctl_buf + off : NULL;
}

/* Host address of the byte at addr: linear through v's page tables, or physical (!v). */
static uint8_t *xlate(struct domain *d, struct vcpu *v, uint64_t addr, bool write)
{
    uint64_t gpa = addr;

    if (v && v->ctl_buf)
        return ctl_xlate(v, addr);
    if (v && guest_walk(d, &v->paging, addr, write, &gpa))
        return NULL;
    return gpa_to_hva(d, gpa);
}

/* Page by page, one translation per page; bytes before a failing page stay copied. */
static int xfer(struct domain *d, struct vcpu *v, uint64_t addr, void *buf, size_t len,
                enum xfer_op op)
{
    uint64_t last;
    uint8_t *b = buf;

    if (len == 0)
        return 0;
    if (__builtin_add_overflow(addr, (uint64_t)len - 1, &last))
        return -XEN_EFAULT;
    if (v && v->hcall_compat && last > UINT32_MAX)
        return -XEN_EFAULT;
    while (len) {
        size_t n = PAGE_SIZE - (addr & ~PAGE_MASK);
        uint8_t *p = xlate(d, v, addr, op != XFER_FROM);

        if (!p)
            return -XEN_EFAULT;
        n = n < len ? n : len;
        /* hide n's bound (<= 4 KiB) from gcc, which otherwise inlines a slow `rep movsq`
         * for the small copies that dominate; libc's memcpy is faster for them */
        __asm__("" : "+r"(n));
        if (op == XFER_FROM)
            memcpy(b, p, n);
        else if (op == XFER_TO)
            memcpy(p, b, n);
        else
            memset(p, 0, n);
        if (b)
            b += n;
        addr += n;
        len -= n;
    }
    return 0;
}

int copy_from_guest(struct vcpu *v, void *dst, uint64_t gva, size_t len)
{
    return xfer(v->domain, v, gva, dst, len, XFER_FROM);
}

int copy_to_guest(struct vcpu *v, uint64_t gva, const void *src, size_t len)
{
    return xfer(v->domain, v, gva, (void *)src, len, XFER_TO);
}

int clear_guest(struct vcpu *v, uint64_t gva, size_t len)
{
    return xfer(v->domain, v, gva, NULL, len, XFER_CLEAR);
}

int copy_to_gpa(struct domain *d, uint64_t gpa, const void *src, size_t len)
{
    return xfer(d, NULL, gpa, (void *)src, len, XFER_TO);
}

int copy_from_gpa(struct domain *d, void *dst, uint64_t gpa, size_t len)
{
    return xfer(d, NULL, gpa, dst, len, XFER_FROM);
}
