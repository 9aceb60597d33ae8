/* test_hvm_context.c: XEN_DOMCTL_{get,set}hvmcontext as the toolstack uses them to set a PVH
 * boot vCPU (xc_dom_x86.c vcpu_hvm()), corrupt streams, and {get,set}vcpucontext. */
#include <string.h>

#include "cli/build.h"
#include "core/accel.h"
#include "core/domctl.h"
#include "tests/unit/domctl_util.h"
#include "tests/unit/fake_accel.h"
#include "tests/unit/harness.h"

#define BUF 0x20000ull
#define VGC 0x30000ull

static domid_t create(struct vcpu *v, unsigned vcpus)
{
    struct xen_domctl op = mkop(XEN_DOMCTL_createdomain, 0);
    op.u.createdomain.flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
    op.u.createdomain.max_vcpus = vcpus;
    op.u.createdomain.max_grant_frames = op.u.createdomain.max_maptrack_frames = -1;
    op.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
    op.u.createdomain.arch.emulation_flags = XEN_X86_EMU_LAPIC;
    return domctl(v, &op) == 0 ? op.domain : 0;
}

/* get (buffer NULL: the size) or set with len bytes at BUF. */
static long hvmctx(struct vcpu *v, uint32_t cmd, domid_t id, const void *buf, uint32_t len,
                   uint32_t *size)
{
    struct xen_domctl op = mkop(cmd, id);
    if (buf && cmd == XEN_DOMCTL_sethvmcontext)
        gpa_write(v->domain, BUF, buf, len);
    op.u.hvmcontext.size = len;
    if (buf)
        set_xen_guest_handle(op.u.hvmcontext.buffer, (uint8_t *)(uintptr_t)BUF);
    long rc = domctl(v, &op);
    if (size)
        *size = op.u.hvmcontext.size;
    return rc;
}

/* The PVH entry state vcpu_hvm() builds, with the header a get returned. */
static struct bsp_ctx bsp(const struct hvm_save_header *hdr)
{
    struct bsp_ctx c;
    memset(&c, 0, sizeof(c));
    c.header_d = (struct hvm_save_descriptor){HVM_SAVE_CODE(HEADER), 0, HVM_SAVE_LENGTH(HEADER)};
    c.header = *hdr;
    c.cpu_d = (struct hvm_save_descriptor){HVM_SAVE_CODE(CPU), 0, HVM_SAVE_LENGTH(CPU)};
    c.cpu.cs_limit = c.cpu.ds_limit = c.cpu.es_limit = c.cpu.ss_limit = ~0u;
    c.cpu.tr_limit = 0x67;
    c.cpu.cs_arbytes = 0xc9b;
    c.cpu.ds_arbytes = c.cpu.es_arbytes = c.cpu.ss_arbytes = 0xc93;
    c.cpu.tr_arbytes = 0x8b;
    c.cpu.cr0 = 0x11; /* PE | ET */
    c.cpu.rip = 0x1000000;
    c.cpu.rbx = 0x5000; /* hvm_start_info */
    c.cpu.dr6 = 0xffff0ff0, c.cpu.dr7 = 0x400;
    c.end_d = (struct hvm_save_descriptor){HVM_SAVE_CODE(END), 0, 0};
    return c;
}

/* Find record (code, instance) in a saved stream; NULL if absent. */
static const uint8_t *find_record(const uint8_t *buf, uint32_t size, uint16_t code, uint16_t inst)
{
    struct hvm_save_descriptor d;
    for (uint32_t off = 0; off + sizeof(d) <= size; off += sizeof(d) + d.length) {
        memcpy(&d, buf + off, sizeof(d));
        if (d.typecode == code && d.instance == inst)
            return buf + off + sizeof(d);
        if (d.typecode == 0)
            break;
    }
    return NULL;
}

static struct fake_vcpu *fv(domid_t id, unsigned i)
{
    struct domain *d = rcu_lock_domain_by_id(id);
    struct fake_vcpu *f = d ? fake_vcpu_of(d->vcpu[i]) : NULL;
    if (d)
        rcu_unlock_domain(d);
    return f;
}

static bool online(domid_t id, unsigned i)
{
    struct domain *d = rcu_lock_domain_by_id(id);
    bool on = d && d->vcpu[i]->online;
    if (d)
        rcu_unlock_domain(d);
    return on;
}

static void destroy(struct vcpu *v, domid_t id)
{
    struct xen_domctl op = mkop(XEN_DOMCTL_destroydomain, id);
    CHECK_EQ(domctl(v, &op), 0);
}

TEST(hvmcontext_pvh_boot_round_trip)
{
    struct vcpu *v = fake_ctl_vcpu();
    domid_t id = create(v, 2);
    static uint8_t full[8192];
    uint32_t size = 0, need;

    CHECK_EQ(hvmctx(v, XEN_DOMCTL_gethvmcontext, id, NULL, 0, &need), 0);
    CHECK(need > 0 && need <= sizeof(full));
    CHECK_EQ(hvmctx(v, XEN_DOMCTL_gethvmcontext, id, full, need - 1, &size), -XEN_ENOSPC);
    CHECK_EQ(hvmctx(v, XEN_DOMCTL_gethvmcontext, id, full, need, &size), 0);
    CHECK(size > 0 && size <= need);
    gpa_read(v->domain, BUF, full, size);

    /* a fresh domain: header, MTRRs for every vCPU (vcpu_hvm() needs one), no CPU (down) */
    const struct hvm_save_header *hdr = (const void *)find_record(full, size, 1, 0);
    CHECK(hdr && hdr->magic == HVM_FILE_MAGIC && hdr->version == HVM_FILE_VERSION);
    const struct hvm_hw_mtrr *mtrr = (const void *)find_record(full, size, 14, 1);
    CHECK(mtrr && mtrr->msr_mtrr_def_type == 0xc06);
    CHECK(!find_record(full, size, HVM_SAVE_CODE(CPU), 0));
    if (!hdr)
        return;

    struct bsp_ctx c = bsp(hdr);
    CHECK_EQ(hvmctx(v, XEN_DOMCTL_sethvmcontext, id, &c, sizeof(c), NULL), 0);
    struct fake_vcpu *f = fv(id, 0);
    CHECK(f && f->state_set);
    if (!f)
        return;
    CHECK_EQ(f->state.rip, 0x1000000);
    CHECK_EQ(f->state.gpr[R_BX], 0x5000);
    CHECK_EQ(f->state.cr0, 0x11);
    CHECK_EQ(f->state.rflags, 0x2); /* X86_EFLAGS_MBS */
    CHECK(f->state.cs.ar == 0xc9b && f->state.cs.limit == ~0u && f->state.tr.limit == 0x67);
    CHECK(f->state.ss.ar == 0xc93 && f->state.tr.ar == 0x8b);
    CHECK(online(id, 0) && !online(id, 1));

    /* get returns the same CPU record */
    CHECK_EQ(hvmctx(v, XEN_DOMCTL_gethvmcontext, id, full, need, &size), 0);
    gpa_read(v->domain, BUF, full, size);
    const struct hvm_hw_cpu *cpu = (const void *)find_record(full, size, HVM_SAVE_CODE(CPU), 0);
    CHECK(cpu != NULL);
    CHECK(!find_record(full, size, HVM_SAVE_CODE(CPU), 1));
    if (cpu) {
        CHECK(cpu->rip == c.cpu.rip && cpu->rbx == c.cpu.rbx && cpu->cr0 == c.cpu.cr0);
        CHECK(cpu->cs_arbytes == 0xc9b && cpu->cs_limit == ~0u && cpu->tr_arbytes == 0x8b);
        CHECK(cpu->tr_limit == 0x67 && cpu->ds_arbytes == 0xc93 && cpu->rflags == 0x2);
        CHECK(cpu->dr7 == 0x400 && cpu->msr_efer == 0 && cpu->cr4 == 0);
    }

    /* an MTRR-only stream (vcpu_hvm() sends one per vCPU first) downs every vCPU */
    struct {
        struct hvm_save_descriptor hd;
        struct hvm_save_header h;
        struct hvm_save_descriptor md;
        struct hvm_hw_mtrr m;
        struct hvm_save_descriptor ed;
    } m = {{1, 0, sizeof(struct hvm_save_header)},
           *hdr,
           {14, 1, sizeof(struct hvm_hw_mtrr)},
           {.msr_mtrr_def_type = 0xc06},
           {0, 0, 0}};
    CHECK_EQ(hvmctx(v, XEN_DOMCTL_sethvmcontext, id, &m, sizeof(m), NULL), 0);
    CHECK(!online(id, 0));
    CHECK_EQ(hvmctx(v, XEN_DOMCTL_sethvmcontext, id, &c, sizeof(c), NULL), 0);
    CHECK(online(id, 0));

    /* not on a non-HVM domain, nor on oneself */
    CHECK_EQ(hvmctx(v, XEN_DOMCTL_gethvmcontext, v->domain->domain_id, NULL, 0, NULL), -XEN_EINVAL);
    destroy(v, id);
}

/* Each corruption is refused with Xen's errno, and nothing is applied. */
TEST(hvmcontext_corrupt_streams)
{
    struct vcpu *v = fake_ctl_vcpu();
    domid_t id = create(v, 2);
    struct hvm_save_header hdr = {HVM_FILE_MAGIC, HVM_FILE_VERSION, ~0ull, 0, 0};
    struct bsp_ctx good = bsp(&hdr), c;
    const uint32_t cpu_off = offsetof(struct bsp_ctx, cpu_d);
    uint8_t raw[sizeof(struct bsp_ctx) + 64];

    CHECK_EQ(hvmctx(v, XEN_DOMCTL_sethvmcontext, id, &good, 0, NULL), -XEN_ENODATA);
#define TRY(mut, len, want)                                                                        \
    do {                                                                                           \
        c = good;                                                                                  \
        mut;                                                                                       \
        CHECK_EQ(hvmctx(v, XEN_DOMCTL_sethvmcontext, id, &c, (len), NULL), (want));                \
    } while (0)
    TRY(c.header_d.typecode = 2, sizeof(c), -XEN_ENODATA); /* header not first */
    TRY(c.header_d.length = 20, sizeof(c), -XEN_ENODATA);  /* short header */
    TRY(c.header.magic ^= 1, sizeof(c), -XEN_EINVAL);
    TRY(c.header.version = 2, sizeof(c), -XEN_EINVAL);
    TRY((void)0, cpu_off + 4, -XEN_ENODATA);                         /* cut descriptor */
    TRY((void)0, sizeof(c) - sizeof(c.end_d), -XEN_ENODATA);         /* no end marker */
    TRY((void)0, sizeof(c) - sizeof(c.end_d) - 8, -XEN_EINVAL);      /* truncated CPU */
    TRY(c.cpu_d.length = sizeof(c.cpu) + 8, sizeof(c), -XEN_EINVAL); /* oversized CPU */
    TRY(c.cpu_d.instance = 2, sizeof(c), -XEN_EINVAL);               /* no such vCPU */
    TRY(c.cpu_d.typecode = 21, sizeof(c), -XEN_EINVAL);              /* unknown type */
    TRY(c.cpu_d.typecode = 0x8000, sizeof(c), -XEN_EINVAL);
    TRY(c.cpu_d.typecode = 1, sizeof(c), -XEN_EINVAL);                  /* second header */
    TRY(c.cpu_d.typecode = HVM_SAVE_CODE(PIC), sizeof(c), -XEN_ENODEV); /* PVH has no PIC */
    TRY(c.cpu.cr0 = 0x80000010, sizeof(c), -XEN_EINVAL);                /* PG without PE */
    TRY(c.cpu.cr0 = 0x1, sizeof(c), -XEN_EINVAL);                       /* ET clear */
    TRY(c.cpu.cr0 = 0x11 | (1ull << 40), sizeof(c), -XEN_EINVAL);       /* reserved */
    TRY(c.cpu.msr_efer = 1ull << 10, sizeof(c), -XEN_EINVAL);           /* LMA without LME */
    TRY(c.cpu.msr_efer = 1ull << 12, sizeof(c), -XEN_EINVAL);           /* SVME */
    TRY(c.cpu.cr4 = 1ull << 13, sizeof(c), -XEN_EINVAL);                /* VMXE */
    TRY(c.cpu.flags = 2, sizeof(c), -XEN_EINVAL);
    TRY(c.cpu.pad0 = 1, sizeof(c), -XEN_EINVAL);
    struct fake_vcpu *f = fv(id, 0);
    CHECK(f && !f->state_set && !online(id, 0));

    /* a LAPIC record is checked and skipped; trailing bytes after END are ignored */
    struct hvm_save_descriptor lapic = {HVM_SAVE_CODE(LAPIC), 0, HVM_SAVE_LENGTH(LAPIC)};
    memset(raw, 0, sizeof(raw));
    memcpy(raw, &good, cpu_off);
    memcpy(raw + cpu_off, &lapic, sizeof(lapic));
    memcpy(raw + cpu_off + sizeof(lapic) + HVM_SAVE_LENGTH(LAPIC), &good.end_d, 8);
    CHECK_EQ(hvmctx(v, XEN_DOMCTL_sethvmcontext, id, raw, sizeof(raw), NULL), 0);
    lapic.instance = 2;
    memcpy(raw + cpu_off, &lapic, sizeof(lapic));
    CHECK_EQ(hvmctx(v, XEN_DOMCTL_sethvmcontext, id, raw, sizeof(raw), NULL), -XEN_EINVAL);

    /* an old (pre-4.7, no flags) CPU record is converted */
    uint32_t compat = sizeof(struct hvm_hw_cpu_compat);
    struct hvm_hw_cpu_compat old;
    memset(&old, 0, sizeof(old));
    old.cr0 = 0x11, old.rip = 0x4242, old.cs_arbytes = 0xc9b;
    struct hvm_save_descriptor od = {HVM_SAVE_CODE(CPU), 1, compat};
    memset(raw, 0, sizeof(raw));
    memcpy(raw, &good, cpu_off);
    memcpy(raw + cpu_off, &od, 8);
    memcpy(raw + cpu_off + 8, &old, compat);
    CHECK_EQ(hvmctx(v, XEN_DOMCTL_sethvmcontext, id, raw, cpu_off + 8 + compat + 8, NULL), 0);
    f = fv(id, 1);
    CHECK(f && f->state_set && f->state.rip == 0x4242);
    CHECK(online(id, 1) && !online(id, 0));
#undef TRY
    destroy(v, id);
}

/* XEN_DOMCTL_{get,set}vcpucontext on an HVM domain: registers and VGCF_online. */
TEST(vcpucontext_hvm)
{
    struct vcpu *v = fake_ctl_vcpu();
    domid_t id = create(v, 2);
    struct vcpu_guest_context c;
    struct xen_domctl op = mkop(XEN_DOMCTL_getvcpucontext, id);

    op.u.vcpucontext.vcpu = 1;
    set_xen_guest_handle(op.u.vcpucontext.ctxt, (vcpu_guest_context_t *)(uintptr_t)VGC);
    CHECK_EQ(domctl(v, &op), -XEN_ENODATA); /* down: not initialised */
    op.u.vcpucontext.vcpu = 2;
    CHECK_EQ(domctl(v, &op), -XEN_EINVAL);

    memset(&c, 0, sizeof(c));
    c.flags = VGCF_online;
    c.user_regs.rip = 0x2000, c.user_regs.rax = 7, c.user_regs.rsp = 0x9000;
    gpa_write(v->domain, VGC, &c, sizeof(c));
    op = mkop(XEN_DOMCTL_setvcpucontext, id);
    op.u.vcpucontext.vcpu = 1;
    set_xen_guest_handle(op.u.vcpucontext.ctxt, (vcpu_guest_context_t *)(uintptr_t)VGC);
    CHECK_EQ(domctl(v, &op), 0);
    struct fake_vcpu *f = fv(id, 1);
    CHECK(f && f->state.rip == 0x2000 && f->state.gpr[R_AX] == 7 && f->state.gpr[R_SP] == 0x9000);
    CHECK(online(id, 1));

    op.cmd = XEN_DOMCTL_getvcpucontext;
    gpa_write(v->domain, VGC, &(char[16]){0}, 16);
    CHECK_EQ(domctl(v, &op), 0);
    gpa_read(v->domain, VGC, &c, sizeof(c));
    CHECK(c.user_regs.rip == 0x2000 && c.user_regs.rax == 7 && (c.flags & VGCF_online));

    c.vm_assist = 1; /* only runstate_update_flag is valid for HVM, checked on vCPU 0 */
    gpa_write(v->domain, VGC, &c, sizeof(c));
    op = mkop(XEN_DOMCTL_setvcpucontext, id);
    set_xen_guest_handle(op.u.vcpucontext.ctxt, (vcpu_guest_context_t *)(uintptr_t)VGC);
    CHECK_EQ(domctl(v, &op), -XEN_EINVAL);

    op.u.vcpucontext.vcpu = 1; /* a NULL context resets: the vCPU goes down */
    set_xen_guest_handle(op.u.vcpucontext.ctxt, NULL);
    CHECK_EQ(domctl(v, &op), 0);
    CHECK(!online(id, 1));
    op = mkop(XEN_DOMCTL_setvcpucontext, v->domain->domain_id);
    CHECK_EQ(domctl(v, &op), -XEN_EINVAL); /* oneself */
    destroy(v, id);
}
