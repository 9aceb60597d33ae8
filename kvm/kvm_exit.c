/* kvm_exit.c: translating kvm_run exits into struct vm_exit and completing them on the next run. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/xhv_ports.h"
#include "kvm/kvm_int.h"

void kvm_cpu_from_kvm(const struct kvm_regs *r, const struct kvm_sregs *s, struct guest_cpu *c)
{
    c->gpr[R_AX] = r->rax;
    c->gpr[R_CX] = r->rcx;
    c->gpr[R_DX] = r->rdx;
    c->gpr[R_BX] = r->rbx;
    c->gpr[R_SP] = r->rsp;
    c->gpr[R_BP] = r->rbp;
    c->gpr[R_SI] = r->rsi;
    c->gpr[R_DI] = r->rdi;
    c->gpr[R_R8] = r->r8;
    c->gpr[R_R9] = r->r9;
    c->gpr[R_R10] = r->r10;
    c->gpr[R_R11] = r->r11;
    c->gpr[R_R12] = r->r12;
    c->gpr[R_R13] = r->r13;
    c->gpr[R_R14] = r->r14;
    c->gpr[R_R15] = r->r15;
    c->rip = r->rip;
    c->rflags = r->rflags;
    c->cr0 = s->cr0;
    c->cr2 = s->cr2;
    c->cr3 = s->cr3;
    c->cr4 = s->cr4;
    c->efer = s->efer;
    c->cpl = s->ss.dpl;
    c->cs_l = s->cs.l;
    c->cs_db = s->cs.db;
}

/* GPRs and RIP only: RFLAGS and control registers are not the core's to rewrite on an exit. */
void kvm_gprs_to_kvm(const struct guest_cpu *c, struct kvm_regs *r)
{
    r->rax = c->gpr[R_AX];
    r->rcx = c->gpr[R_CX];
    r->rdx = c->gpr[R_DX];
    r->rbx = c->gpr[R_BX];
    r->rsp = c->gpr[R_SP];
    r->rbp = c->gpr[R_BP];
    r->rsi = c->gpr[R_SI];
    r->rdi = c->gpr[R_DI];
    r->r8 = c->gpr[R_R8];
    r->r9 = c->gpr[R_R9];
    r->r10 = c->gpr[R_R10];
    r->r11 = c->gpr[R_R11];
    r->r12 = c->gpr[R_R12];
    r->r13 = c->gpr[R_R13];
    r->r14 = c->gpr[R_R14];
    r->r15 = c->gpr[R_R15];
    r->rip = c->rip;
}

void kvm_fault(struct vm_exit *ex, const char *fmt, ...)
{
    va_list ap;

    ex->reason = VMEXIT_FAULT;
    va_start(ap, fmt);
    vsnprintf(ex->fault.why, sizeof(ex->fault.why), fmt, ap);
    va_end(ap);
}

/*
 * Hand the core's answer to the previous exit back to KVM through kvm_run; KVM applies it at the
 * start of the next KVM_RUN (sync regs first, then the pending I/O / MSR completion).
 */
void kvm_complete_exit(struct kvm_vcpu_state *kv, struct vm_exit *ex)
{
    struct kvm_run *run = kv->run;
    struct kvm_regs *regs = &run->s.regs.regs;
    uint8_t *io_data;

    if (ex->cpu_dirty && (ex->cpu_valid || ex->reason == VMEXIT_HCALL)) {
        kvm_gprs_to_kvm(&ex->cpu, regs);
        run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
    }
    switch (ex->reason) {
    case VMEXIT_HCALL:
        /* RIP untouched (unless cpu_dirty moved it), so KVM finishes and skips the OUT. */
        regs->rax = ex->ret;
        run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
        break;
    case VMEXIT_IO:
        io_data = (uint8_t *)run + run->io.data_offset;
        if (!ex->io.out && ex->io.data && ex->io.data != io_data)
            memcpy(io_data, ex->io.data, (size_t)ex->io.size * ex->io.count);
        break;
    case VMEXIT_MMIO:
        if (!ex->mmio.write && ex->mmio.data && ex->mmio.data != run->mmio.data)
            memcpy(run->mmio.data, ex->mmio.data, sizeof(run->mmio.data));
        break;
    case VMEXIT_MSR_READ:
        run->msr.data = ex->inject_gp ? 0 : ex->msr.data;
        run->msr.error = ex->inject_gp;
        break;
    case VMEXIT_MSR_WRITE:
        run->msr.error = ex->inject_gp;
        break;
    default:
        break;
    }
    ex->ret = 0;
    ex->cpu_dirty = false;
    ex->inject_gp = false;
}

static void kvm_exit_io(struct kvm_run *run, struct vm_exit *ex)
{
    bool out = run->io.direction == KVM_EXIT_IO_OUT;

    if (out && run->io.port == XHV_HCALL_PORT && run->io.size == 4 && run->io.count == 1) {
        ex->reason = VMEXIT_HCALL;
        return;
    }
    ex->reason = VMEXIT_IO;
    ex->io.port = run->io.port;
    ex->io.size = run->io.size;
    ex->io.out = out;
    ex->io.count = run->io.count;
    ex->io.data = (uint8_t *)run + run->io.data_offset;
}

static void kvm_exit_mmio(struct kvm_run *run, struct vm_exit *ex)
{
    ex->reason = VMEXIT_MMIO;
    ex->mmio.gpa = run->mmio.phys_addr;
    ex->mmio.size = (uint8_t)run->mmio.len;
    ex->mmio.write = run->mmio.is_write;
    ex->mmio.data = run->mmio.data;
}

static void kvm_exit_msr(struct kvm_run *run, struct vm_exit *ex)
{
    ex->reason = run->exit_reason == KVM_EXIT_X86_RDMSR ? VMEXIT_MSR_READ : VMEXIT_MSR_WRITE;
    ex->msr.index = run->msr.index;
    ex->msr.data = ex->reason == VMEXIT_MSR_WRITE ? run->msr.data : 0;
}

static const char *kvm_internal_name(uint32_t sub)
{
    switch (sub) {
    case KVM_INTERNAL_ERROR_EMULATION:
        return "emulation";
    case KVM_INTERNAL_ERROR_SIMUL_EX:
        return "simultaneous exceptions";
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
        return "event delivery";
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
        return "unexpected exit";
    default:
        return "?";
    }
}

/* "KVM internal error 1 (emulation), code 0f 01 c1 .." (bytes fetched at RIP) or ", data ..". */
static void kvm_exit_internal(struct kvm_run *run, struct vm_exit *ex)
{
    char *p = ex->fault.why, *end = p + sizeof(ex->fault.why);
    uint32_t sub = run->internal.suberror, nd = run->internal.ndata;

    kvm_fault(ex, "KVM internal error %u (%s)", sub, kvm_internal_name(sub));
    p += strlen(p);
    if (sub == KVM_INTERNAL_ERROR_EMULATION && nd >= 3 &&
        (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
        unsigned n = run->emulation_failure.insn_size;

        p += snprintf(p, (size_t)(end - p), ", code");
        for (unsigned i = 0; i < n && i < 15 && p < end - 1; i++)
            p += snprintf(p, (size_t)(end - p), " %02x", run->emulation_failure.insn_bytes[i]);
        return;
    }
    if (nd > 16)
        nd = 16;
    for (uint32_t i = 0; i < nd && p < end - 1; i++)
        p += snprintf(p, (size_t)(end - p), "%s%#llx", i ? " " : ", data ",
                      (unsigned long long)run->internal.data[i]);
}

static void kvm_exit_system_event(struct kvm_run *run, struct vm_exit *ex)
{
    uint32_t type = run->system_event.type;

    if (type == KVM_SYSTEM_EVENT_SHUTDOWN || type == KVM_SYSTEM_EVENT_RESET)
        ex->reason = VMEXIT_SHUTDOWN;
    else
        kvm_fault(ex, "KVM system event %u", type);
}

/*
 * An "unknown MSR" exit for anything but the Xen MSR: answer #GP here, as KVM itself would have
 * without user-space MSR exits (see kvm_setup_msr_exits). True if the exit was absorbed.
 */
bool kvm_exit_absorbed(struct kvm_vcpu_state *kv)
{
    struct kvm_run *run = kv->run;

    if (run->exit_reason != KVM_EXIT_X86_RDMSR && run->exit_reason != KVM_EXIT_X86_WRMSR)
        return false;
    if (run->msr.index == XEN_HYPERCALL_MSR)
        return false;
    dprintk(kv->d, "%s of unknown MSR %#x: #GP",
            run->exit_reason == KVM_EXIT_X86_RDMSR ? "rdmsr" : "wrmsr", run->msr.index);
    run->msr.error = 1;
    return true;
}

/* After KVM_RUN returned 0: fill *ex from kvm_run (registers come from the sync-regs area). */
void kvm_translate_exit(struct kvm_vcpu_state *kv, struct vm_exit *ex)
{
    struct kvm_run *run = kv->run;

    kvm_cpu_from_kvm(&run->s.regs.regs, &run->s.regs.sregs, &ex->cpu);
    ex->cpu_valid = true;
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        kvm_exit_io(run, ex);
        break;
    case KVM_EXIT_MMIO:
        kvm_exit_mmio(run, ex);
        break;
    case KVM_EXIT_X86_RDMSR:
    case KVM_EXIT_X86_WRMSR:
        kvm_exit_msr(run, ex);
        break;
    case KVM_EXIT_SHUTDOWN:
        ex->reason = VMEXIT_SHUTDOWN;
        break;
    case KVM_EXIT_HLT: /* not expected with the in-kernel irqchip */
    case KVM_EXIT_INTR:
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        ex->reason = VMEXIT_INTR;
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        kvm_exit_internal(run, ex);
        break;
    case KVM_EXIT_FAIL_ENTRY:
        kvm_fault(ex, "KVM entry failed, hardware reason %#llx",
                  (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        kvm_exit_system_event(run, ex);
        break;
    default:
        kvm_fault(ex, "unexpected KVM exit %u", run->exit_reason);
        break;
    }
}
