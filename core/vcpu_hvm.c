/* vcpu_hvm.c: VCPUOP_initialise's register checks and load (Xen's arch_set_info_hvm_guest()),
 * and the CR4/EFER validity rules they share with the HVM save records. */
#include <cpuid.h>
#include <string.h>

#include "core/accel.h"
#include "core/hvm.h"

/* hvm_cr4_guest_valid_bits() from the host's CPUID (the guest sees the host's features):
 * {leaf, register (0 eax .. 3 edx), feature bit, CR4 bits it makes valid}. */
uint64_t hvm_cr4_guest_valid_bits(void)
{
    static const struct {
        unsigned leaf, reg, bit;
        uint32_t cr4;
    } f[] = {
        {1, 3, 1, 0x3},       /* VME: VME, PVI */
        {1, 3, 2, 1u << 3},   /* DE */
        {1, 3, 3, 1u << 4},   /* PSE */
        {1, 3, 6, 1u << 5},   /* PAE */
        {1, 3, 7, 1u << 6},   /* MCE */
        {1, 3, 14, 1u << 6},  /* MCA: MCE */
        {1, 3, 13, 1u << 7},  /* PGE */
        {1, 3, 24, 1u << 9},  /* FXSR: OSFXSR */
        {1, 3, 25, 1u << 10}, /* SSE: OSXMMEXCPT */
        {7, 2, 2, 1u << 11},  /* UMIP */
        {7, 2, 16, 1u << 12}, /* LA57 */
        {7, 1, 0, 1u << 16},  /* FSGSBASE */
        {1, 2, 17, 1u << 17}, /* PCID: PCIDE */
        {1, 2, 26, 1u << 18}, /* XSAVE: OSXSAVE */
        {7, 1, 7, 1u << 20},  /* SMEP */
        {7, 1, 20, 1u << 21}, /* SMAP */
        {7, 2, 3, 1u << 22},  /* PKU: PKE */
    };
    uint64_t valid = (1u << 2) | (1u << 8); /* TSD, PCE */

    for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        unsigned r[4] = {0, 0, 0, 0};
        if (__get_cpuid_count(f[i].leaf, 0, &r[0], &r[1], &r[2], &r[3]) &&
            (r[f[i].reg] & (1u << f[i].bit)))
            valid |= f[i].cr4;
    }
    return valid;
}

/* hvm_efer_valid() with the host's CPUID 0x80000001 (no nested virtualisation in xhv). */
bool hvm_efer_valid(uint64_t efer, bool cr0_pg)
{
    unsigned a, b, c, d = 0;

    __get_cpuid(0x80000001, &a, &b, &c, &d);
    if (efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME | EFER_LMSLE | EFER_FFXSE))
        return false;
    if (((efer & EFER_SCE) && !(d & (1u << 11))) ||
        ((efer & (EFER_LME | EFER_LMA)) && !(d & (1u << 29))) ||
        ((efer & EFER_NXE) && !(d & (1u << 20))) || ((efer & EFER_FFXSE) && !(d & (1u << 25))))
        return false;
    if ((efer & EFER_LMA) && (!(efer & EFER_LME) || !cr0_pg))
        return false;
    return !(efer & (EFER_SVME | EFER_LMSLE));
}

#define SYS_DESC_TSS_BUSY 0xb
/* Xen's segment attribute bits (struct segment_register's attr, 12 bits + 4 pad). */
#define AR_TYPE(ar) ((ar)&0xf)
#define AR_S(ar) (((ar) >> 4) & 1)
#define AR_DPL(ar) (((ar) >> 5) & 3)
#define AR_P(ar) (((ar) >> 7) & 1)
#define AR_G(ar) (((ar) >> 11) & 1)

enum hvm_seg { SEG_CS, SEG_DS, SEG_SS, SEG_ES, SEG_TR };

/* check_segment() (xen/arch/x86/hvm/domain.c); every failure is -EINVAL with a log line. */
static int check_segment(struct vcpu *v, const struct seg_init *s, enum hvm_seg seg)
{
    static const char *const what[] = {"CS", "DS", "SS", "ES", "TR"};
    uint16_t ar = s->ar, type = AR_TYPE(ar);
    const char *bad = NULL;

    if (ar & 0xf000)
        bad = "attribute bits 12-15 are not zero";
    else if (ar == 0)
        bad = seg == SEG_DS || seg == SEG_ES ? NULL : "null attributes";
    else if (seg == SEG_TR && (AR_S(ar) || type != SYS_DESC_TSS_BUSY))
        bad = "not a busy 32-bit TSS";
    else if (seg != SEG_TR && !AR_S(ar))
        bad = "system segment for a code or data segment";
    else if (!AR_P(ar))
        bad = "not present";
    else if (seg == SEG_CS && !(type & 0x8))
        bad = "not a code segment";
    else if (seg == SEG_SS && ((type & 0x8) || !(type & 0x2)))
        bad = "not writeable";
    else if ((seg == SEG_DS || seg == SEG_ES) && (type & 0x8) && !(type & 0x2))
        bad = "not readable";
    if (bad)
        gprintk(v, "VCPUOP_initialise: %s: %s", what[seg], bad);
    return bad ? -XEN_EINVAL : 0;
}

/* The SEG() macro of the 32-bit case: selector 0, accessed (TR: busy) bit set if present. */
static struct seg_init seg32(uint32_t base, uint32_t limit, uint16_t ar, enum hvm_seg seg)
{
    struct seg_init s = {base, limit, 0, ar};
    if (AR_P(ar))
        s.ar |= seg == SEG_TR ? 2 : 1;
    return s;
}

static int hvm_ctx_32(struct vcpu *v, const struct vcpu_hvm_x86_32 *r, struct vcpu_init_state *s)
{
    int rc = 0;
    uint32_t limit; /* Xen computes it in 32 bits: a G=1 limit >= 2^20 wraps */

    if (r->pad1 || r->pad2[0] || r->pad2[1] || r->pad2[2])
        return -XEN_EINVAL;
    s->cs = seg32(r->cs_base, r->cs_limit, r->cs_ar, SEG_CS);
    s->ds = seg32(r->ds_base, r->ds_limit, r->ds_ar, SEG_DS);
    s->ss = seg32(r->ss_base, r->ss_limit, r->ss_ar, SEG_SS);
    s->es = seg32(r->es_base, r->es_limit, r->es_ar, SEG_ES);
    s->tr = seg32(r->tr_base, r->tr_limit, r->tr_ar, SEG_TR);
    rc |= check_segment(v, &s->cs, SEG_CS) | check_segment(v, &s->ds, SEG_DS);
    rc |= check_segment(v, &s->ss, SEG_SS) | check_segment(v, &s->es, SEG_ES);
    rc |= check_segment(v, &s->tr, SEG_TR);
    if (rc)
        return -XEN_EINVAL;
    limit = AR_G(s->cs.ar) ? (s->cs.limit << 12) | 0xfff : s->cs.limit;
    if (r->eip > limit || AR_DPL(s->ss.ar) != AR_DPL(s->cs.ar) ||
        (AR_P(s->ds.ar) && AR_DPL(s->ds.ar) > AR_DPL(s->cs.ar)) ||
        (AR_P(s->es.ar) && AR_DPL(s->es.ar) > AR_DPL(s->cs.ar)) ||
        ((r->efer & EFER_LMA) && !(r->efer & EFER_LME))) {
        gprintk(v, "VCPUOP_initialise: inconsistent 32-bit state (eip %#x)", r->eip);
        return -XEN_EINVAL;
    }
    s->gpr[R_AX] = r->eax, s->gpr[R_CX] = r->ecx, s->gpr[R_DX] = r->edx;
    s->gpr[R_BX] = r->ebx, s->gpr[R_SP] = r->esp, s->gpr[R_BP] = r->ebp;
    s->gpr[R_SI] = r->esi, s->gpr[R_DI] = r->edi;
    s->rip = r->eip, s->rflags = r->eflags;
    s->cr0 = r->cr0, s->cr3 = r->cr3, s->cr4 = r->cr4, s->efer = r->efer;
    return 0;
}

static bool is_canonical(uint64_t va)
{
    return ((int64_t)va >> 47) == 0 || ((int64_t)va >> 47) == -1;
}

static int hvm_ctx_64(struct vcpu *v, const struct vcpu_hvm_x86_64 *r, struct vcpu_init_state *s)
{
    const char *bad = !is_canonical(r->rip)     ? "non-canonical RIP"
                      : !(r->cr0 & X86_CR0_PG)  ? "CR0 without paging"
                      : !(r->cr4 & X86_CR4_PAE) ? "CR4 without PAE"
                      : !(r->efer & EFER_LME)   ? "EFER without LME"
                                                : NULL;
    if (bad) {
        gprintk(v, "VCPUOP_initialise: %s", bad);
        return -XEN_EINVAL;
    }
    s->gpr[R_AX] = r->rax, s->gpr[R_CX] = r->rcx, s->gpr[R_DX] = r->rdx;
    s->gpr[R_BX] = r->rbx, s->gpr[R_SP] = r->rsp, s->gpr[R_BP] = r->rbp;
    s->gpr[R_SI] = r->rsi, s->gpr[R_DI] = r->rdi;
    s->rip = r->rip, s->rflags = r->rflags;
    s->cr0 = r->cr0, s->cr3 = r->cr3, s->cr4 = r->cr4, s->efer = r->efer;
    s->cs = (struct seg_init){0, ~0u, 0, 0xa9b}; /* 64-bit code */
    s->ds = s->ss = s->es = (struct seg_init){0, ~0u, 0, 0xc93};
    s->tr = (struct seg_init){0, 0x67, 0, 0x8b}; /* 64-bit TSS, busy */
    return 0;
}

int arch_set_info_hvm_guest(struct vcpu *v, const struct vcpu_hvm_context *ctx)
{
    struct vcpu_init_state s;
    int rc;

    memset(&s, 0, sizeof(s));
    if (ctx->pad)
        return -XEN_EINVAL;
    if (ctx->mode == VCPU_HVM_MODE_32B)
        rc = hvm_ctx_32(v, &ctx->cpu_regs.x86_32, &s);
    else if (ctx->mode == VCPU_HVM_MODE_64B)
        rc = hvm_ctx_64(v, &ctx->cpu_regs.x86_64, &s);
    else
        rc = -XEN_EINVAL;
    if (rc)
        return rc;
    s.rflags = (s.rflags & X86_EFLAGS_ALL) | X86_EFLAGS_MBS;
    if (s.efer & EFER_LME)
        s.efer |= EFER_LMA;
    if ((s.cr4 & ~hvm_cr4_guest_valid_bits()) || !hvm_efer_valid(s.efer, true)) {
        gprintk(v, "VCPUOP_initialise: bad CR4 %#llx or EFER %#llx", (unsigned long long)s.cr4,
                (unsigned long long)s.efer);
        return -XEN_EINVAL;
    }
    /* FS and GS keep their reset state (flat data), as Xen leaves them */
    s.fs = s.gs = (struct seg_init){0, 0xffff, 0, 0x93};
    return vcpu_load_state(v, &s) ? -XEN_EINVAL : 0;
}
