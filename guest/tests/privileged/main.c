/* privileged: a control guest builds a sibling domain with domctl, runs it, destroys it. */
/* domctl.h is tools-only, and xen.h (included by kit.h) must see that first: it defines
 * uint64_aligned_t and the XEN_X86_EMU_* flags only for tools. */
#define __XEN_TOOLS__ 1
#include "kit.h"
#include <xen/domctl.h> /* pulls in xen/hvm/save.h */

#define EXPECT(name, expr, val) test_expect_eq(name, (long)(expr), (long)(val))
#define BAD_PTR ((void *)0UL) /* the kit leaves page 0 unmapped */

/* Architectural values a toolstack uses (Xen's asm/x86-defns.h, asm/mtrr.h, asm/debugreg.h). */
#define X86_CR0_PE 0x01u
#define X86_CR0_ET 0x10u
#define X86_DR6_DEFAULT 0xffff0ff0u
#define X86_DR7_DEFAULT 0x00000400u
#define MTRR_TYPE_WRBACK 6u
#define MTRR_DEF_TYPE_ENABLE (1u << 11)

#define SIB_PAGES 4           /* sibling GFNs 0..3 */
#define SIB_ENTRY 0x1000u     /* the tiny kernel, at sibling GPA 0x1000 */
#define SIB_MAGIC_GPA 0x2000u /* where it writes MAGIC */
#define MAGIC 0x600dcafeu
#define MAP_GFN 0x80000UL       /* where the sibling's frames appear here (2 GiB, not RAM) */
#define UNPOPULATED_GFN 0x500UL /* a sibling GFN with nothing behind it */
#define SIB_MAX_MEM_KB 4096
#define WAIT_NS 5000000000ull /* give up waiting for the sibling after 5 s */

static const char sib_handle[16] = "xhv-privileged"; /* a xen_domain_handle_t */
static uint8_t hvmctx[16384] __aligned(16);

static domid_t self = DOMID_INVALID, sib = DOMID_INVALID;

/* ---- hypercall wrappers ---- */

static long HYPERVISOR_domctl(struct xen_domctl *op)
{
    return _hc(__HYPERVISOR_domctl, op, 0, 0);
}

/* A domctl of the current interface version on dom; op->u is left as the caller set it. */
static long domctl(struct xen_domctl *op, uint32_t cmd, domid_t dom)
{
    op->cmd = cmd;
    op->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    op->domain = dom;
    return HYPERVISOR_domctl(op);
}

static long getdomaininfo(domid_t dom, struct xen_domctl *op)
{
    memset(op, 0, sizeof(*op));
    return domctl(op, XEN_DOMCTL_getdomaininfo, dom);
}

static void *gfn_va(unsigned long gfn)
{
    return (void *)(gfn << 12);
}

/* ---- step 0: who am I (Xen tells a guest its id only through xenstore) ---- */

/* The one domain whose handle, page counts and type match this one's own view. */
static domid_t find_self(void)
{
    xen_domain_handle_t h;
    domid_t me = DOMID_SELF, found = DOMID_INVALID;
    long tot = HYPERVISOR_memory_op(XENMEM_current_reservation, &me);
    long max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &me);
    struct xen_domctl op;
    unsigned matches = 0;
    uint32_t flags = 0;

    HYPERVISOR_xen_version(XENVER_guest_handle, h);
    for (unsigned next = 0, n = 0; n < 64 && next < DOMID_FIRST_RESERVED; n++) {
        if (getdomaininfo((domid_t)next, &op))
            break;
        const struct xen_domctl_getdomaininfo *i = &op.u.getdomaininfo;
        if ((long)i->tot_pages == tot && (long)i->max_pages == max &&
            !memcmp(i->handle, h, sizeof(h))) {
            found = i->domain;
            flags = i->flags;
            matches++;
        }
        next = i->domain + 1u;
    }
    printf("# self: %u matching domain(s), id %u (%ld pages)\n", matches, found, tot);
    if (matches != 1)
        return DOMID_INVALID;
    /* a PVH domain is an HVM container: Xen reports it as one, with HAP */
    test_ok((flags & XEN_DOMINF_hvm_guest) && (flags & XEN_DOMINF_hap) &&
                !(flags & (XEN_DOMINF_paused | XEN_DOMINF_shutdown | XEN_DOMINF_dying)),
            "getdomaininfo of ourselves: hvm_guest, hap, running (flags 0x%x)", flags);
    return found;
}

/* ---- step 1: createdomain, max_vcpus, max_mem ---- */

/* libxl's config for a PVH domain: HVM + HAP, LAPIC only, default grant limits. */
static void pvh_config(struct xen_domctl *op)
{
    struct xen_domctl_createdomain *c = &op->u.createdomain;

    memset(op, 0, sizeof(*op));
    memcpy(c->handle, sib_handle, sizeof(c->handle));
    c->flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
    c->max_vcpus = 1;
    c->max_evtchn_port = 1023;
    c->max_grant_frames = -1;
    c->max_maptrack_frames = -1;
    c->grant_opts = XEN_DOMCTL_GRANT_version(1); /* 4.17: version 0 is -EINVAL */
    c->arch.emulation_flags = XEN_X86_EMU_LAPIC;
}

static bool create_sibling(void)
{
    struct xen_domctl op;
    long rc;

    pvh_config(&op);
    rc = domctl(&op, XEN_DOMCTL_createdomain, 0);
    EXPECT("XEN_DOMCTL_createdomain (domid 0 = any)", rc, 0);
    if (rc)
        return false;
    sib = op.domain;
    test_ok(sib > 0 && sib < DOMID_FIRST_RESERVED && sib != self, "new domain id %u", sib);
    op.u.max_vcpus.max = 1;
    EXPECT("XEN_DOMCTL_max_vcpus 1", domctl(&op, XEN_DOMCTL_max_vcpus, sib), 0);
    op.u.max_mem.max_memkb = SIB_MAX_MEM_KB;
    EXPECT("XEN_DOMCTL_max_mem 4096 KiB", domctl(&op, XEN_DOMCTL_max_mem, sib), 0);
    rc = getdomaininfo(sib, &op);
    EXPECT("getdomaininfo of the new domain", rc, 0);
    const struct xen_domctl_getdomaininfo *i = &op.u.getdomaininfo;
    test_ok(rc == 0 && i->domain == sib && (i->flags & XEN_DOMINF_paused) &&
                (i->flags & XEN_DOMINF_hvm_guest) && i->tot_pages == 0 &&
                i->max_pages == SIB_MAX_MEM_KB / 4 && !memcmp(i->handle, sib_handle, 16),
            "d%u: paused, hvm, 0 pages of max %lu, our handle (flags 0x%x)", i->domain,
            (unsigned long)i->max_pages, i->flags);
    return true;
}

/* ---- step 2: populate the sibling's physmap ---- */

static void populate_sibling(void)
{
    static xen_pfn_t gfns[SIB_PAGES];
    struct xen_memory_reservation r = {
        .nr_extents = SIB_PAGES, .extent_order = 0, .mem_flags = 0, .domid = sib};
    domid_t d = sib;

    for (unsigned i = 0; i < SIB_PAGES; i++)
        gfns[i] = i;
    set_xen_guest_handle(r.extent_start, gfns);
    EXPECT("XENMEM_populate_physmap 4 pages of the sibling",
           HYPERVISOR_memory_op(XENMEM_populate_physmap, &r), SIB_PAGES);
    EXPECT("XENMEM_current_reservation of the sibling",
           HYPERVISOR_memory_op(XENMEM_current_reservation, &d), SIB_PAGES);
}

/* ---- step 3: map the sibling's frames here (gmfn_foreign) ---- */

static long map_foreign(const xen_ulong_t *idxs, const xen_pfn_t *gpfns, int *errs, uint16_t n)
{
    struct xen_add_to_physmap_batch b = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_gmfn_foreign, .size = n};

    b.u.foreign_domid = sib;
    set_xen_guest_handle(b.idxs, (xen_ulong_t *)idxs);
    set_xen_guest_handle(b.gpfns, (xen_pfn_t *)gpfns);
    set_xen_guest_handle(b.errs, errs);
    return HYPERVISOR_memory_op(XENMEM_add_to_physmap_batch, &b);
}

/* Is the page at va all zeroes? (64-bit reads: few emulated instructions) */
static bool page_zero(const void *va)
{
    const volatile uint64_t *p = va;

    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        if (p[i])
            return false;
    return true;
}

static bool map_sibling(void)
{
    xen_ulong_t idxs[SIB_PAGES];
    xen_pfn_t gpfns[SIB_PAGES];
    int errs[SIB_PAGES];
    unsigned bad = 0;
    long rc;

    test_ok(!kit_is_ram(MAP_GFN << 12, (SIB_PAGES + 2) * PAGE_SIZE),
            "GFNs 0x%lx.. are not RAM here", MAP_GFN);
    for (unsigned i = 0; i < SIB_PAGES; i++)
        idxs[i] = i, gpfns[i] = MAP_GFN + i, errs[i] = 0x7777;
    rc = map_foreign(idxs, gpfns, errs, SIB_PAGES);
    EXPECT("add_to_physmap_batch gmfn_foreign, 4 sibling frames", rc, 0);
    for (unsigned i = 0; i < SIB_PAGES; i++)
        bad += errs[i] != 0;
    test_ok(bad == 0, "every errs[i] is 0 (%d %d %d %d)", errs[0], errs[1], errs[2], errs[3]);
    if (rc || bad)
        return false;
    test_ok(page_zero(gfn_va(MAP_GFN)) && page_zero(gfn_va(MAP_GFN + 2)),
            "the mapped sibling pages read as fresh zeroed memory");
    return true;
}

/* A batch with an unpopulated source frame: that entry fails, the call and the rest succeed. */
static void map_bad_entry(void)
{
    xen_ulong_t idxs[2] = {UNPOPULATED_GFN, SIB_PAGES - 1};
    xen_pfn_t gpfns[2] = {MAP_GFN + SIB_PAGES, MAP_GFN + SIB_PAGES + 1};
    int errs[2] = {0x7777, 0x7777};

    EXPECT("add_to_physmap_batch with an unpopulated frame -> 0", map_foreign(idxs, gpfns, errs, 2),
           0);
    EXPECT("  errs[0] (sibling GFN 0x500, nothing there) -> -EINVAL", errs[0], -XEN_EINVAL);
    EXPECT("  errs[1] (sibling GFN 3) -> 0", errs[1], 0);
}

/* ---- step 4: the sibling's kernel ---- */

/*
 * 32-bit protected mode, paging off, at SIB_ENTRY: "sib up\n" to port 0xe9, then
 * MAGIC to SIB_MAGIC_GPA, then wait with interrupts on (Xen 4.17's hvm_hlt() takes a vCPU
 * halted with IF=0 down, and a domain with every vCPU down powers off).
 */
static unsigned build_kernel(uint8_t *k)
{
    static const char msg[] = "sib up\n";
    static const uint8_t tail[] = {
        0xc7, 0x05, 0x00, 0x20, 0x00, 0x00, 0xfe, 0xca, 0x0d, 0x60, /* movl $MAGIC, 0x2000 */
        0xfb,                                                       /* sti */
        0xf4,                                                       /* 1: hlt */
        0xeb, 0xfd,                                                 /* jmp 1b */
    };
    unsigned n = 0;

    for (unsigned i = 0; i < sizeof(msg) - 1; i++) {
        k[n++] = 0xb0, k[n++] = (uint8_t)msg[i]; /* mov $c, %al */
        k[n++] = 0xe6, k[n++] = 0xe9;            /* out %al, $0xe9 */
    }
    memcpy(k + n, tail, sizeof(tail));
    return n + sizeof(tail);
}

static void load_kernel(void)
{
    uint8_t code[64];
    unsigned len = build_kernel(code);
    uint8_t *dst = (uint8_t *)gfn_va(MAP_GFN) + SIB_ENTRY;

    _Static_assert(SIB_MAGIC_GPA == 0x2000 && MAGIC == 0x600dcafe, "the movl encodes them");
    memcpy(dst, code, len);
    test_ok(!memcmp(dst, code, len), "%u bytes of kernel written at sibling GPA 0x%x", len,
            SIB_ENTRY);
}

/* ---- step 5: the boot vCPU, as the toolstack's vcpu_hvm() (xg_dom_x86.c) sets it ---- */

static long hvmcontext(uint32_t cmd, void *buf, uint32_t size, uint32_t *out_size)
{
    struct xen_domctl op;
    long rc;

    memset(&op, 0, sizeof(op));
    op.u.hvmcontext.size = size;
    set_xen_guest_handle(op.u.hvmcontext.buffer, (uint8_t *)buf);
    rc = domctl(&op, cmd, sib);
    if (out_size)
        *out_size = op.u.hvmcontext.size;
    return rc;
}

/* hvm_get_save_record(): the body of record (type, instance), or NULL. */
static const void *save_record(const uint8_t *ctx, uint32_t size, uint16_t type, uint16_t inst)
{
    const struct hvm_save_descriptor *d;

    for (uint32_t at = 0; at + sizeof(*d) <= size; at += sizeof(*d) + d->length) {
        d = (const void *)(ctx + at);
        if (d->typecode == type && d->instance == inst && at + sizeof(*d) + d->length <= size)
            return d + 1;
        if (d->typecode == HVM_SAVE_CODE(END))
            break;
    }
    return NULL;
}

/* The whole context into hvmctx: NULL buffer for the size first. 0 on failure. */
static uint32_t fetch_context(const char *what)
{
    uint32_t need = 0, got = 0;
    long rc = hvmcontext(XEN_DOMCTL_gethvmcontext, NULL, 0, &need);
    char name[96];

    snprintf(name, sizeof(name), "gethvmcontext NULL buffer -> size (%s)", what);
    EXPECT(name, rc, 0);
    test_ok(need > sizeof(struct hvm_save_descriptor) && need <= sizeof(hvmctx),
            "  context size %u fits our %lu-byte buffer", need, (unsigned long)sizeof(hvmctx));
    if (rc || need <= sizeof(struct hvm_save_descriptor) || need > sizeof(hvmctx))
        return 0;
    memset(hvmctx, 0, sizeof(hvmctx));
    snprintf(name, sizeof(name), "gethvmcontext into our buffer (%s)", what);
    rc = hvmcontext(XEN_DOMCTL_gethvmcontext, hvmctx, need, &got);
    EXPECT(name, rc, 0);
    const struct hvm_save_header *h = save_record(hvmctx, got, HVM_SAVE_CODE(HEADER), 0);
    test_ok(rc == 0 && got <= need && h && h->magic == HVM_FILE_MAGIC &&
                h->version == HVM_FILE_VERSION,
            "  %u bytes, HEADER first with magic 0x%x", got, h ? h->magic : 0);
    return rc == 0 && h ? got : 0;
}

/* vcpu_hvm() without a device model: MTRRs enabled with WB as the default type. */
static void set_mtrrs(uint32_t size)
{
    const struct hvm_hw_mtrr *m = save_record(hvmctx, size, HVM_SAVE_CODE(MTRR), 0);
    struct {
        struct hvm_save_descriptor header_d;
        struct hvm_save_header header;
        struct hvm_save_descriptor mtrr_d;
        struct hvm_hw_mtrr mtrr;
        struct hvm_save_descriptor end_d;
        struct hvm_save_end end;
    } ctx;

    test_ok(m != NULL, "  the context has an MTRR record for vCPU 0");
    if (!m)
        return;
    memset(&ctx, 0, sizeof(ctx));
    memcpy(&ctx, hvmctx, sizeof(ctx.header_d) + sizeof(ctx.header));
    ctx.mtrr_d = (struct hvm_save_descriptor){HVM_SAVE_CODE(MTRR), 0, HVM_SAVE_LENGTH(MTRR)};
    memcpy(&ctx.mtrr, m, sizeof(ctx.mtrr));
    ctx.mtrr.msr_mtrr_def_type = MTRR_TYPE_WRBACK | MTRR_DEF_TYPE_ENABLE;
    ctx.end_d = (struct hvm_save_descriptor){HVM_SAVE_CODE(END), 0, HVM_SAVE_LENGTH(END)};
    EXPECT("sethvmcontext HEADER + MTRR + END",
           hvmcontext(XEN_DOMCTL_sethvmcontext, &ctx, sizeof(ctx), NULL), 0);
}

/* The BSP record: flat 32-bit protected mode, paging off, at SIB_ENTRY. */
static void bsp_cpu(struct hvm_hw_cpu *c)
{
    memset(c, 0, sizeof(*c));
    c->cs_base = c->ds_base = c->es_base = c->ss_base = c->tr_base = 0;
    c->cs_limit = c->ds_limit = c->es_limit = c->ss_limit = ~0u;
    c->tr_limit = 0x67;
    c->cs_arbytes = 0xc9b;
    c->ds_arbytes = c->es_arbytes = c->ss_arbytes = 0xc93;
    c->tr_arbytes = 0x8b;
    c->cr0 = X86_CR0_PE | X86_CR0_ET;
    c->cr4 = 0;
    c->msr_efer = 0;
    c->rip = SIB_ENTRY;
    c->rflags = 2; /* only the must-be-one bit */
    c->dr6 = X86_DR6_DEFAULT;
    c->dr7 = X86_DR7_DEFAULT;
}

static bool set_boot_vcpu(void)
{
    uint32_t size = fetch_context("fresh domain");
    struct {
        struct hvm_save_descriptor header_d;
        struct hvm_save_header header;
        struct hvm_save_descriptor cpu_d;
        struct hvm_hw_cpu cpu;
        struct hvm_save_descriptor end_d;
        struct hvm_save_end end;
    } ctx;

    if (!size)
        return false;
    /* Xen saves no CPU record for a vCPU that is down, as a new domain's are */
    test_ok(!save_record(hvmctx, size, HVM_SAVE_CODE(CPU), 0), "  no CPU record: vCPU 0 is down");
    set_mtrrs(size);
    memset(&ctx, 0, sizeof(ctx));
    memcpy(&ctx, hvmctx, sizeof(ctx.header_d) + sizeof(ctx.header));
    ctx.cpu_d = (struct hvm_save_descriptor){HVM_SAVE_CODE(CPU), 0, HVM_SAVE_LENGTH(CPU)};
    bsp_cpu(&ctx.cpu);
    ctx.end_d = (struct hvm_save_descriptor){HVM_SAVE_CODE(END), 0, HVM_SAVE_LENGTH(END)};
    long rc = hvmcontext(XEN_DOMCTL_sethvmcontext, &ctx, sizeof(ctx), NULL);
    EXPECT("sethvmcontext HEADER + CPU (32-bit flat, rip 0x1000) + END", rc, 0);
    if (rc)
        return false;
    size = fetch_context("after set");
    const struct hvm_hw_cpu *c = size ? save_record(hvmctx, size, HVM_SAVE_CODE(CPU), 0) : NULL;
    test_ok(c && c->rip == SIB_ENTRY && c->cr0 == (X86_CR0_PE | X86_CR0_ET) && !c->msr_efer &&
                c->cs_arbytes == 0xc9b && c->cs_limit == ~0u,
            "  vCPU 0 reads back up: rip 0x%lx cr0 0x%lx cs ar 0x%x", c ? (unsigned long)c->rip : 0,
            c ? (unsigned long)c->cr0 : 0, c ? c->cs_arbytes : 0);
    return true;
}

/* ---- step 6: run it ---- */

/* Poll (no ports, 1 ms timeout) until the sibling's magic shows or WAIT_NS pass. */
static uint32_t wait_magic(void)
{
    volatile uint32_t *magic = (volatile uint32_t *)((uint8_t *)gfn_va(MAP_GFN) + SIB_MAGIC_GPA);
    struct sched_poll poll = {.nr_ports = 0};
    uint64_t t0 = xen_system_time(), now = t0;

    set_xen_guest_handle(poll.ports, NULL);
    while (*magic != MAGIC && now - t0 < WAIT_NS) {
        poll.timeout = now + 1000000;
        if (HYPERVISOR_sched_op(SCHEDOP_poll, &poll))
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
        now = xen_system_time();
    }
    printf("# waited %lu us for the sibling\n", (unsigned long)((now - t0) / 1000));
    return *magic;
}

static void run_sibling(void)
{
    struct xen_domctl op;
    long rc;

    memset(&op, 0, sizeof(op));
    EXPECT("XEN_DOMCTL_unpausedomain", domctl(&op, XEN_DOMCTL_unpausedomain, sib), 0);
    uint32_t m = wait_magic();
    test_ok(m == MAGIC, "the sibling wrote 0x%x at its GPA 0x%x", m, SIB_MAGIC_GPA);
    rc = getdomaininfo(sib, &op);
    const struct xen_domctl_getdomaininfo *i = &op.u.getdomaininfo;
    test_ok(rc == 0 && i->domain == sib &&
                !(i->flags & (XEN_DOMINF_paused | XEN_DOMINF_shutdown | XEN_DOMINF_dying)) &&
                i->nr_online_vcpus == 1 && i->tot_pages == SIB_PAGES,
            "getdomaininfo d%u: not paused, shut down or dying; 1 vCPU, %lu pages (flags 0x%x)",
            i->domain, (unsigned long)i->tot_pages, i->flags);
}

/* ---- step 7: unmap and destroy ---- */

static long remove_from_physmap(unsigned long gpfn)
{
    struct xen_remove_from_physmap x = {.domid = DOMID_SELF, .gpfn = gpfn};

    return HYPERVISOR_memory_op(XENMEM_remove_from_physmap, &x);
}

/* The four mapped frames plus the good entry of the mixed batch. */
static void unmap_sibling(bool mapped)
{
    unsigned long first = mapped ? MAP_GFN : MAP_GFN + SIB_PAGES + 1;
    unsigned ok = 0, gone = 0;

    for (unsigned long g = first; g <= MAP_GFN + SIB_PAGES + 1; g++) {
        if (g == MAP_GFN + SIB_PAGES) /* the failed entry: nothing was mapped */
            continue;
        ok += remove_from_physmap(g) == 0;
        gone += remove_from_physmap(g) == -XEN_ENOENT;
    }
    unsigned n = mapped ? SIB_PAGES + 1 : 1;
    test_ok(ok == n, "remove_from_physmap of %u mapped frames -> 0 (%u did)", n, ok);
    test_ok(gone == n, "  again -> -ENOENT (%u did)", gone);
    EXPECT("remove_from_physmap of the failed entry's GFN -> -ENOENT",
           remove_from_physmap(MAP_GFN + SIB_PAGES), -XEN_ENOENT);
}

static void destroy_sibling(void)
{
    struct xen_domctl op;
    domid_t d = sib;
    long rc;

    memset(&op, 0, sizeof(op));
    EXPECT("XEN_DOMCTL_destroydomain", domctl(&op, XEN_DOMCTL_destroydomain, sib), 0);
    rc = getdomaininfo(sib, &op);
    test_ok(rc == -XEN_ESRCH || (rc == 0 && op.domain != sib),
            "getdomaininfo d%u afterwards: rc %ld, domain %u (4.17: the next one up)", sib, rc,
            op.domain);
    EXPECT("XENMEM_current_reservation of the destroyed domain -> -ESRCH",
           HYPERVISOR_memory_op(XENMEM_current_reservation, &d), -XEN_ESRCH);
}

/* ---- step 8: bad input ---- */

static void bad_input(void)
{
    struct xen_domctl op;

    pvh_config(&op);
    op.cmd = XEN_DOMCTL_createdomain;
    op.interface_version = XEN_DOMCTL_INTERFACE_VERSION - 1;
    EXPECT("createdomain, interface version 0x14 -> -EACCES", HYPERVISOR_domctl(&op), -XEN_EACCES);
    memset(&op, 0, sizeof(op));
    if (self != DOMID_INVALID)
        EXPECT("destroydomain of oneself -> -EINVAL", domctl(&op, XEN_DOMCTL_destroydomain, self),
               -XEN_EINVAL);
    else
        test_skip("destroydomain of oneself: own domain id not found");
    EXPECT("pausedomain of a domain that does not exist -> -ESRCH",
           domctl(&op, XEN_DOMCTL_pausedomain, DOMID_FIRST_RESERVED - 1), -XEN_ESRCH);
    EXPECT("domctl with an unmapped struct -> -EFAULT", HYPERVISOR_domctl(BAD_PTR), -XEN_EFAULT);
}

/* ---- the unprivileged mode: a domU is refused ---- */

static void unprivileged(void)
{
    struct xen_domctl op;
    static xen_pfn_t gfn = 0;
    struct xen_memory_reservation r = {.nr_extents = 1, .domid = 0};

    pvh_config(&op);
    EXPECT("domU: createdomain -> -EPERM", domctl(&op, XEN_DOMCTL_createdomain, 0), -XEN_EPERM);
    EXPECT("domU: getdomaininfo -> -EPERM", getdomaininfo(0, &op), -XEN_EPERM);
    pvh_config(&op);
    op.cmd = XEN_DOMCTL_createdomain;
    op.interface_version = XEN_DOMCTL_INTERFACE_VERSION - 1;
    EXPECT("domU: wrong interface version -> -EACCES (checked first)", HYPERVISOR_domctl(&op),
           -XEN_EACCES);
    set_xen_guest_handle(r.extent_start, &gfn);
    EXPECT("domU: populate_physmap for domain 0 -> 0 extents",
           HYPERVISOR_memory_op(XENMEM_populate_physmap, &r), 0);
}

int main(void)
{
    if (strstr(kit_cmdline(), "unprivileged")) {
        unprivileged();
        return 0;
    }
    self = find_self();
    test_ok(self != DOMID_INVALID, "found our own domain id (%u) through getdomaininfo", self);
    if (!create_sibling())
        return 0;
    populate_sibling();
    bool mapped = map_sibling();
    map_bad_entry();
    if (mapped) {
        load_kernel();
        if (set_boot_vcpu())
            run_sibling();
    }
    unmap_sibling(mapped);
    destroy_sibling();
    bad_input();
    return 0;
}
