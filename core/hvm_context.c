/* hvm_context.c: XEN_DOMCTL_{get,set}hvmcontext in Xen's HVM save format, {get,set}vcpucontext. */
#include <cpuid.h>
#include <stdlib.h>
#include <string.h>

#include "core/accel.h"
#include "core/domctl.h"
#include "core/hvm.h"

#define X86_DR6_DEFAULT 0xffff0ff0ull
#define X86_DR7_DEFAULT 0x400ull
/* MTRRs as a domU starts (hvm_vcpu_cacheattr_init() + the toolstack's vcpu_hvm()). */
#define MTRR_CAP_DEFAULT 0x508ull    /* 8 variable ranges, fixed ranges, WC */
#define MTRR_DEF_WB_ENABLED 0xc06ull /* MTRR_TYPE_WRBACK | MTRR_DEF_TYPE_ENABLE (+ fixed) */
#define PAT_DEFAULT 0x0007040600070406ull

#define DESC sizeof(struct hvm_save_descriptor)

/* ---- save (hvm_save(), hvm_save_cpu_ctxt()) ---- */

/* hvm_save_size(): the header, CPU and MTRR records for every vCPU, the end marker. */
uint32_t hvm_save_size(struct domain *d)
{
    return (uint32_t)(DESC + HVM_SAVE_LENGTH(HEADER) +
                      d->max_vcpus * (2 * DESC + HVM_SAVE_LENGTH(CPU) + HVM_SAVE_LENGTH(MTRR)) +
                      DESC + HVM_SAVE_LENGTH(END));
}

struct hvm_ctx {
    uint8_t *data;
    uint32_t size, cur;
};

static int save_entry(struct hvm_ctx *h, uint16_t code, uint16_t inst, const void *p, uint32_t len)
{
    struct hvm_save_descriptor d = {code, inst, len};

    if (h->size - h->cur < DESC + len)
        return -XEN_ENOSPC;
    memcpy(h->data + h->cur, &d, DESC);
    memcpy(h->data + h->cur + DESC, p, len);
    h->cur += (uint32_t)DESC + len;
    return 0;
}

static void seg_out(const struct seg_init *s, uint32_t *sel, uint32_t *limit, uint64_t *base,
                    uint32_t *ar)
{
    *sel = s->sel, *limit = s->limit, *base = s->base, *ar = s->ar;
}

/* The fields struct vcpu_init_state carries; the rest as a vCPU that never set them. */
static void cpu_record(const struct vcpu_init_state *s, struct hvm_hw_cpu *c)
{
    memset(c, 0, sizeof(*c));
    c->rax = s->gpr[R_AX], c->rbx = s->gpr[R_BX], c->rcx = s->gpr[R_CX];
    c->rdx = s->gpr[R_DX], c->rbp = s->gpr[R_BP], c->rsi = s->gpr[R_SI];
    c->rdi = s->gpr[R_DI], c->rsp = s->gpr[R_SP], c->r8 = s->gpr[R_R8];
    c->r9 = s->gpr[R_R9], c->r10 = s->gpr[R_R10], c->r11 = s->gpr[R_R11];
    c->r12 = s->gpr[R_R12], c->r13 = s->gpr[R_R13], c->r14 = s->gpr[R_R14];
    c->r15 = s->gpr[R_R15];
    c->rip = s->rip, c->rflags = s->rflags;
    c->cr0 = s->cr0, c->cr3 = s->cr3, c->cr4 = s->cr4, c->msr_efer = s->efer;
    c->dr6 = X86_DR6_DEFAULT, c->dr7 = X86_DR7_DEFAULT;
    seg_out(&s->cs, &c->cs_sel, &c->cs_limit, &c->cs_base, &c->cs_arbytes);
    seg_out(&s->ds, &c->ds_sel, &c->ds_limit, &c->ds_base, &c->ds_arbytes);
    seg_out(&s->es, &c->es_sel, &c->es_limit, &c->es_base, &c->es_arbytes);
    seg_out(&s->ss, &c->ss_sel, &c->ss_limit, &c->ss_base, &c->ss_arbytes);
    seg_out(&s->fs, &c->fs_sel, &c->fs_limit, &c->fs_base, &c->fs_arbytes);
    seg_out(&s->gs, &c->gs_sel, &c->gs_limit, &c->gs_base, &c->gs_arbytes);
    seg_out(&s->tr, &c->tr_sel, &c->tr_limit, &c->tr_base, &c->tr_arbytes);
}

static int vcpu_state_get(struct vcpu *w, struct vcpu_init_state *s)
{
    const struct accel_ops *ops = w->domain->accel_ops;

    memset(s, 0, sizeof(*s));
    if (!ops || !ops->vcpu_get_state)
        return -XEN_EOPNOTSUPP;
    return ops->vcpu_get_state(w, s) < 0 ? -XEN_EINVAL : 0;
}

/* Per-vCPU records of one type: CPU for online vCPUs only ("the restore code will leave it
 * down if there is nothing saved"), MTRR for all, as xhv's guests see them (WB default). */
static int save_vcpus(struct domain *d, struct hvm_ctx *h, bool cpu)
{
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        struct vcpu *w = d->vcpu[i];
        int rc = 0;
        if (cpu && w->online) {
            struct vcpu_init_state s;
            struct hvm_hw_cpu c;
            rc = vcpu_state_get(w, &s);
            cpu_record(&s, &c);
            if (rc == 0)
                rc = save_entry(h, HVM_SAVE_CODE(CPU), (uint16_t)i, &c, sizeof(c));
        } else if (!cpu) {
            struct hvm_hw_mtrr m = {.msr_pat_cr = PAT_DEFAULT,
                                    .msr_mtrr_cap = MTRR_CAP_DEFAULT,
                                    .msr_mtrr_def_type = MTRR_DEF_WB_ENABLED};
            rc = save_entry(h, HVM_SAVE_CODE(MTRR), (uint16_t)i, &m, sizeof(m));
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* hvm_save(): records in typecode order, the header first and the end marker last. */
int hvm_save(struct domain *d, uint8_t *buf, uint32_t size, uint32_t *used)
{
    struct hvm_ctx h = {buf, size, 0};
    struct hvm_save_header hdr = {
        .magic = HVM_FILE_MAGIC,
        .version = HVM_FILE_VERSION,
        .changeset = ~0ull, /* "unknown" */
        .gtsc_khz = xhv_tsc_khz,
    };
    struct hvm_save_end end;
    unsigned b, c, dx;
    int rc;

    if (d->is_dying)
        return -XEN_EINVAL;
    __get_cpuid(1, &hdr.cpuid, &b, &c, &dx); /* arch_hvm_save() */
    rc = save_entry(&h, HVM_SAVE_CODE(HEADER), 0, &hdr, sizeof(hdr));
    if (rc == 0)
        rc = save_vcpus(d, &h, true);
    if (rc == 0)
        rc = save_vcpus(d, &h, false);
    if (rc == 0)
        rc = save_entry(&h, HVM_SAVE_CODE(END), 0, &end, 0);
    *used = h.cur;
    return rc;
}

/* ---- load (hvm_load(), hvm_load_cpu_ctxt()) ---- */

/* Pre-4.x images stored VMCS-format access rights (UNFOLD_ARBYTES). */
static uint16_t unfold_ar(uint32_t ar)
{
    if ((ar & 0xf000) && !(ar & 0x0f00))
        ar = (ar & 0xff) | ((ar >> 4) & 0xf00);
    return (uint16_t)ar;
}

static struct seg_init seg_in(uint32_t sel, uint32_t limit, uint64_t base, uint32_t ar)
{
    return (struct seg_init){base, limit, (uint16_t)sel, unfold_ar(ar)};
}

/* hvm_load_cpu_ctxt() checks, then the register state. */
static int cpu_record_load(const struct hvm_hw_cpu *c, struct vcpu_init_state *s)
{
    if (c->pad0 || (c->flags & ~XEN_X86_FPU_INITIALISED))
        return -XEN_EINVAL;
    if ((c->cr0 & ~HVM_CR0_GUEST_VALID) || !(c->cr0 & X86_CR0_ET) ||
        (c->cr0 & (X86_CR0_PE | X86_CR0_PG)) == X86_CR0_PG)
        return -XEN_EINVAL;
    if ((c->cr4 & ~hvm_cr4_guest_valid_bits()) || !hvm_efer_valid(c->msr_efer, c->cr0 & X86_CR0_PG))
        return -XEN_EINVAL;
    memset(s, 0, sizeof(*s));
    s->gpr[R_AX] = c->rax, s->gpr[R_BX] = c->rbx, s->gpr[R_CX] = c->rcx;
    s->gpr[R_DX] = c->rdx, s->gpr[R_BP] = c->rbp, s->gpr[R_SI] = c->rsi;
    s->gpr[R_DI] = c->rdi, s->gpr[R_SP] = c->rsp, s->gpr[R_R8] = c->r8;
    s->gpr[R_R9] = c->r9, s->gpr[R_R10] = c->r10, s->gpr[R_R11] = c->r11;
    s->gpr[R_R12] = c->r12, s->gpr[R_R13] = c->r13, s->gpr[R_R14] = c->r14;
    s->gpr[R_R15] = c->r15;
    s->rip = c->rip, s->rflags = c->rflags | X86_EFLAGS_MBS;
    s->cr0 = c->cr0, s->cr3 = c->cr3, s->cr4 = c->cr4, s->efer = c->msr_efer;
    s->cs = seg_in(c->cs_sel, c->cs_limit, c->cs_base, c->cs_arbytes);
    s->ds = seg_in(c->ds_sel, c->ds_limit, c->ds_base, c->ds_arbytes);
    s->es = seg_in(c->es_sel, c->es_limit, c->es_base, c->es_arbytes);
    s->ss = seg_in(c->ss_sel, c->ss_limit, c->ss_base, c->ss_arbytes);
    s->fs = seg_in(c->fs_sel, c->fs_limit, c->fs_base, c->fs_arbytes);
    s->gs = seg_in(c->gs_sel, c->gs_limit, c->gs_base, c->gs_arbytes);
    s->tr = seg_in(c->tr_sel, c->tr_limit, c->tr_base, c->tr_arbytes);
    return 0;
}

/* A parsed stream: the CPU state for each vCPU that has a record. */
struct hvm_plan {
    struct vcpu_init_state *state;
    bool *have;
};

/* _hvm_check_entry() + _hvm_read_entry(): the record at cur must have typecode code, fit in
 * the data and be at most len bytes (exactly len if strict); it is zero-extended into dst. */
static int read_entry(const uint8_t *buf, uint32_t size, uint32_t *cur, uint16_t code, void *dst,
                      uint32_t len, bool strict)
{
    struct hvm_save_descriptor d;

    if (size - *cur < DESC)
        return -1;
    memcpy(&d, buf + *cur, DESC);
    if (d.typecode != code || (strict ? d.length != len : d.length > len) ||
        d.length > size - *cur - DESC)
        return -1;
    memset(dst, 0, len);
    memcpy(dst, buf + *cur + DESC, d.length);
    *cur += (uint32_t)DESC + d.length;
    return 0;
}

/* One CPU record: instance must name a vCPU; a 4.x-compat sized record is converted by
 * Xen's own _hvm_hw_fix_cpu() (which also marks the FPU initialised). */
static int load_cpu(struct domain *d, const uint8_t *buf, uint32_t size, uint32_t *cur,
                    struct hvm_plan *p, uint16_t inst)
{
    struct hvm_hw_cpu c;
    struct hvm_save_descriptor desc;

    if (inst >= d->max_vcpus)
        return -XEN_EINVAL;
    memcpy(&desc, buf + *cur, DESC);
    if (read_entry(buf, size, cur, HVM_SAVE_CODE(CPU), &c, sizeof(c), false))
        return -XEN_EINVAL;
    if (desc.length != sizeof(c)) {
        if (desc.length != sizeof(struct hvm_hw_cpu_compat))
            return -XEN_EINVAL;
        _hvm_hw_fix_cpu(&c, desc.length);
    }
    p->have[inst] = true;
    return cpu_record_load(&c, &p->state[inst]);
}

/* Records xhv checks and skips: devices PVH has but xhv does not restore (KVM keeps them),
 * and MTRRs (guest memory is WB under KVM without pass-through). Fixed sizes, or 0 for the
 * variable-length CPU_XSAVE / CPU_MSR. */
static int skip_record(struct domain *d, uint32_t size, uint32_t *cur,
                       const struct hvm_save_descriptor *desc)
{
    static const uint32_t len[HVM_SAVE_CODE_MAX + 1] = {
        [HVM_SAVE_CODE(LAPIC)] = HVM_SAVE_LENGTH(LAPIC),
        [HVM_SAVE_CODE(LAPIC_REGS)] = HVM_SAVE_LENGTH(LAPIC_REGS),
        [HVM_SAVE_CODE(PCI_IRQ)] = HVM_SAVE_LENGTH(PCI_IRQ),
        [HVM_SAVE_CODE(ISA_IRQ)] = HVM_SAVE_LENGTH(ISA_IRQ),
        [HVM_SAVE_CODE(PCI_LINK)] = HVM_SAVE_LENGTH(PCI_LINK),
        [HVM_SAVE_CODE(MTRR)] = HVM_SAVE_LENGTH(MTRR),
        [HVM_SAVE_CODE(VIRIDIAN_DOMAIN)] = HVM_SAVE_LENGTH(VIRIDIAN_DOMAIN),
        [HVM_SAVE_CODE(VIRIDIAN_VCPU)] = HVM_SAVE_LENGTH(VIRIDIAN_VCPU),
        [HVM_SAVE_CODE(VMCE_VCPU)] = HVM_SAVE_LENGTH(VMCE_VCPU),
        [HVM_SAVE_CODE(TSC_ADJUST)] = HVM_SAVE_LENGTH(TSC_ADJUST),
    };
    uint32_t want = len[desc->typecode];
    bool per_vcpu = desc->typecode != HVM_SAVE_CODE(VIRIDIAN_DOMAIN) &&
                    desc->typecode != HVM_SAVE_CODE(PCI_IRQ) &&
                    desc->typecode != HVM_SAVE_CODE(ISA_IRQ) &&
                    desc->typecode != HVM_SAVE_CODE(PCI_LINK);

    if (per_vcpu && desc->instance >= d->max_vcpus)
        return -XEN_EINVAL;                /* "dom%u has no vcpu%u" */
    if (desc->length > size - *cur - DESC) /* variable records: "not enough data left" */
        return want ? -XEN_EINVAL : -XEN_ENODATA;
    if (want && desc->length > want)
        return -XEN_EINVAL;
    if (desc->typecode != HVM_SAVE_CODE(MTRR) &&
        domain_log_once(d, ((uint64_t)__HYPERVISOR_domctl << 32) | 0x100u | desc->typecode))
        dprintk(d, "sethvmcontext: record type %u not restored", desc->typecode);
    *cur += (uint32_t)DESC + desc->length;
    return 0;
}

/* One record after the header; *end set at the end marker. */
static int load_record(struct domain *d, const uint8_t *buf, uint32_t size, uint32_t *cur,
                       struct hvm_plan *p, bool *end)
{
    struct hvm_save_descriptor desc;

    if (size - *cur < DESC) /* "save did not end with a null entry" */
        return -XEN_ENODATA;
    memcpy(&desc, buf + *cur, DESC);
    switch (desc.typecode) {
    case HVM_SAVE_CODE(END):
        *end = true;
        return 0;
    case HVM_SAVE_CODE(CPU):
        return load_cpu(d, buf, size, cur, p, desc.instance);
    case HVM_SAVE_CODE(PIC):
    case HVM_SAVE_CODE(IOAPIC):
    case HVM_SAVE_CODE(PIT):
    case HVM_SAVE_CODE(RTC):
    case HVM_SAVE_CODE(HPET):
    case HVM_SAVE_CODE(PMTIMER): /* !has_vpic() etc.: a PVH domain has none of these */
        return -XEN_ENODEV;
    case HVM_SAVE_CODE(LAPIC):
    case HVM_SAVE_CODE(LAPIC_REGS):
    case HVM_SAVE_CODE(PCI_IRQ):
    case HVM_SAVE_CODE(ISA_IRQ):
    case HVM_SAVE_CODE(PCI_LINK):
    case HVM_SAVE_CODE(MTRR):
    case HVM_SAVE_CODE(VIRIDIAN_DOMAIN):
    case CPU_XSAVE_CODE:
    case HVM_SAVE_CODE(VIRIDIAN_VCPU):
    case HVM_SAVE_CODE(VMCE_VCPU):
    case HVM_SAVE_CODE(TSC_ADJUST):
    case CPU_MSR_CODE:
        return skip_record(d, size, cur, &desc);
    default: /* a second header, or no handler: "unknown entry typecode" */
        return -XEN_EINVAL;
    }
}

/* Parse and check the whole stream into p (nothing is applied on any error). */
static int hvm_parse(struct domain *d, const uint8_t *buf, uint32_t size, struct hvm_plan *p)
{
    struct hvm_save_header hdr;
    uint32_t cur = 0;
    bool end = false;
    int rc = 0;

    if (read_entry(buf, size, &cur, HVM_SAVE_CODE(HEADER), &hdr, sizeof(hdr), true))
        return -XEN_ENODATA; /* the header must come first */
    if (hdr.magic != HVM_FILE_MAGIC || hdr.version != HVM_FILE_VERSION) /* arch_hvm_load() */
        return -XEN_EINVAL;
    while (rc == 0 && !end)
        rc = load_record(d, buf, size, &cur, p, &end);
    return rc;
}

/*
 * Apply a parsed stream: every vCPU goes down, those with a CPU record get its state and come
 * up ("we only re-enable the ones that had state saved", hvm_load()).
 */
static int hvm_apply(struct domain *d, const struct hvm_plan *p)
{
    int rc = 0;

    for (unsigned i = 0; i < d->max_vcpus; i++)
        vcpu_set_online(d->vcpu[i], false);
    for (unsigned i = 0; i < d->max_vcpus && rc == 0; i++) {
        if (!p->have[i])
            continue;
        rc = vcpu_load_state(d->vcpu[i], &p->state[i]);
        if (rc == 0)
            rc = vcpu_set_online(d->vcpu[i], true);
    }
    return rc;
}

int hvm_load(struct domain *d, const uint8_t *buf, uint32_t size)
{
    struct hvm_plan p = {calloc(d->max_vcpus ? d->max_vcpus : 1, sizeof(*p.state)),
                         calloc(d->max_vcpus ? d->max_vcpus : 1, sizeof(*p.have))};
    int rc = p.state && p.have ? 0 : -XEN_ENOMEM;

    if (rc == 0 && d->is_dying)
        rc = -XEN_EINVAL;
    if (rc == 0)
        rc = hvm_parse(d, buf, size, &p);
    if (rc == 0)
        rc = hvm_apply(d, &p);
    free(p.state);
    free(p.have);
    return rc;
}

/* ---- XEN_DOMCTL_gethvmcontext / sethvmcontext (arch/x86/domctl.c) ---- */

#define HVMCONTEXT_MAX (16u << 20) /* a larger set buffer is Xen's xmalloc failure */

/* A NULL buffer asks for the size; a short one is -ENOSPC. size becomes the bytes written;
 * the whole buffer of hvm_save_size() bytes is copied out, as Xen does. */
static long gethvmcontext(struct vcpu *caller, struct domain *d, struct xen_domctl_hvmcontext *hc)
{
    uint32_t need = hvm_save_size(d), used = 0;
    uint64_t buf = guest_handle_addr(hc->buffer);
    uint8_t *data;
    long rc;

    if (!buf) {
        hc->size = need;
        return 0;
    }
    if (hc->size < need)
        return -XEN_ENOSPC;
    if (!(data = calloc(1, need)))
        return -XEN_ENOMEM;
    domain_pause(d);
    rc = hvm_save(d, data, need, &used);
    domain_unpause(d);
    hc->size = used;
    if (copy_to_guest(caller, buf, data, need))
        rc = -XEN_EFAULT;
    free(data);
    return rc;
}

static long sethvmcontext(struct vcpu *caller, struct domain *d,
                          const struct xen_domctl_hvmcontext *hc)
{
    uint8_t *data;
    long rc = 0;

    if (hc->size > HVMCONTEXT_MAX || !(data = malloc(hc->size ? hc->size : 1)))
        return -XEN_ENOMEM;
    if (copy_from_guest(caller, data, guest_handle_addr(hc->buffer), hc->size))
        rc = -XEN_EFAULT;
    if (rc == 0) {
        domain_pause(d);
        rc = hvm_load(d, data, hc->size);
        domain_unpause(d);
    }
    free(data);
    return rc;
}

/* Not on oneself (no domain_pause() of one's own vCPUs), HVM domains only: -EINVAL. The
 * struct is copied back for gethvmcontext whatever the result (Xen's copyback = 1). */
long domctl_hvmcontext(struct vcpu *caller, struct domain *d, struct xen_domctl *op, bool *copyback)
{
    bool get = op->cmd == XEN_DOMCTL_gethvmcontext;

    *copyback = get;
    if (d == caller->domain || !(d->cdf_flags & XEN_DOMCTL_CDF_hvm) || !d->vcpu)
        return -XEN_EINVAL;
    return get ? gethvmcontext(caller, d, &op->u.hvmcontext)
               : sethvmcontext(caller, d, &op->u.hvmcontext);
}

/* ---- XEN_DOMCTL_getvcpucontext / setvcpucontext for an HVM domain ---- */

/* arch_get_info_guest(), HVM: registers, selectors, CR0/2/3/4, FS/GS bases. */
static void vgc_fill(struct domain *d, const struct vcpu_init_state *s, bool online,
                     struct vcpu_guest_context *c)
{
    struct cpu_user_regs *r = &c->user_regs;

    c->flags = online ? VGCF_online : 0;
    r->rax = s->gpr[R_AX], r->rbx = s->gpr[R_BX], r->rcx = s->gpr[R_CX];
    r->rdx = s->gpr[R_DX], r->rsi = s->gpr[R_SI], r->rdi = s->gpr[R_DI];
    r->rbp = s->gpr[R_BP], r->rsp = s->gpr[R_SP], r->r8 = s->gpr[R_R8];
    r->r9 = s->gpr[R_R9], r->r10 = s->gpr[R_R10], r->r11 = s->gpr[R_R11];
    r->r12 = s->gpr[R_R12], r->r13 = s->gpr[R_R13], r->r14 = s->gpr[R_R14];
    r->r15 = s->gpr[R_R15];
    r->rip = s->rip, r->rflags = s->rflags;
    r->cs = s->cs.sel, r->ss = s->ss.sel, r->ds = s->ds.sel;
    r->es = s->es.sel, r->fs = s->fs.sel, r->gs = s->gs.sel;
    c->ctrlreg[0] = s->cr0, c->ctrlreg[3] = s->cr3, c->ctrlreg[4] = s->cr4;
    c->debugreg[6] = X86_DR6_DEFAULT, c->debugreg[7] = X86_DR7_DEFAULT;
    c->fs_base = s->fs.base;
    if ((r->cs & 3) == 0) /* ring_0(): GS is the kernel's (the shadow GS base is not kept) */
        c->gs_base_kernel = s->gs.base;
    else
        c->gs_base_user = s->gs.base;
    c->vm_assist = d->vm_assist;
}

/* arch_set_info_guest(), HVM branch: the user registers, vm_assist from vCPU 0, online. */
static void vgc_apply(const struct vcpu_guest_context *c, struct vcpu_init_state *s)
{
    const struct cpu_user_regs *r = &c->user_regs;

    s->gpr[R_AX] = r->rax, s->gpr[R_BX] = r->rbx, s->gpr[R_CX] = r->rcx;
    s->gpr[R_DX] = r->rdx, s->gpr[R_SI] = r->rsi, s->gpr[R_DI] = r->rdi;
    s->gpr[R_BP] = r->rbp, s->gpr[R_SP] = r->rsp, s->gpr[R_R8] = r->r8;
    s->gpr[R_R9] = r->r9, s->gpr[R_R10] = r->r10, s->gpr[R_R11] = r->r11;
    s->gpr[R_R12] = r->r12, s->gpr[R_R13] = r->r13, s->gpr[R_R14] = r->r14;
    s->gpr[R_R15] = r->r15;
    s->rip = r->rip, s->rflags = r->rflags | X86_EFLAGS_MBS;
}

static long getvcpucontext(struct vcpu *caller, struct vcpu *w, uint64_t ctxt)
{
    struct vcpu_guest_context *c;
    struct vcpu_init_state s;
    long rc;

    if (!w->initialised) /* !v->is_initialised (a down vCPU still has its context) */
        return -XEN_ENODATA;
    if (!(c = calloc(1, sizeof(*c))))
        return -XEN_ENOMEM;
    domain_pause(w->domain);
    rc = vcpu_state_get(w, &s);
    domain_unpause(w->domain);
    if (rc == 0) {
        vgc_fill(w->domain, &s, w->online, c);
        rc = copy_to_guest(caller, ctxt, c, sizeof(*c)) ? -XEN_EFAULT : 0;
    }
    free(c);
    return rc;
}

static long setvcpucontext(struct vcpu *caller, struct vcpu *w, uint64_t ctxt)
{
    struct domain *d = w->domain;
    struct vcpu_guest_context *c;
    struct vcpu_init_state s;
    long rc = 0;

    if (!ctxt) { /* vcpu_reset(): down, not initialised */
        domain_pause(d);
        rc = vcpu_set_online(w, false);
        pthread_mutex_lock(&d->lock);
        w->initialised = false;
        pthread_mutex_unlock(&d->lock);
        domain_unpause(d);
        return rc;
    }
    if (!(c = malloc(sizeof(*c))))
        return -XEN_ENOMEM;
    if (copy_from_guest(caller, c, ctxt, sizeof(*c)))
        rc = -XEN_EFAULT;
    else if (w->vcpu_id == 0 && (c->vm_assist & ~(1ul << VMASST_TYPE_runstate_update_flag)))
        rc = -XEN_EINVAL; /* arch_vm_assist_valid_mask() of an HVM domain */
    if (rc == 0) {
        domain_pause(d);
        rc = vcpu_state_get(w, &s);
        vgc_apply(c, &s);
        if (rc == 0)
            rc = vcpu_load_state(w, &s);
        if (rc == 0 && w->vcpu_id == 0)
            d->vm_assist = c->vm_assist;
        if (rc == 0)
            rc = vcpu_set_online(w, c->flags & VGCF_online);
        domain_unpause(d);
    }
    free(c);
    return rc;
}

/* The context is in the target's layout: native for an HVM domain. xhv also refuses the
 * caller's own domain for getvcpucontext (Xen only its own vCPU): domain_pause() cannot be
 * used from inside the domain. */
long domctl_vcpucontext(struct vcpu *caller, struct domain *d, struct xen_domctl *op)
{
    uint32_t id = op->u.vcpucontext.vcpu;
    uint64_t ctxt = guest_handle_addr(op->u.vcpucontext.ctxt);

    if (d == caller->domain || id >= d->max_vcpus || !d->vcpu || !d->vcpu[id])
        return -XEN_EINVAL;
    if (op->cmd == XEN_DOMCTL_getvcpucontext)
        return getvcpucontext(caller, d->vcpu[id], ctxt);
    return setvcpucontext(caller, d->vcpu[id], ctxt);
}
