/* kvm_vcpu.c: KVM vCPUs: creation, CPUID, initial state, the KVM_RUN loop, kicks, interrupts. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/hvm.h"
#include "core/time.h"
#include "kvm/kvm.h"
#include "kvm/kvm_int.h"

/* ---- CPUID ---- */

/* KVM_GET_SUPPORTED_CPUID, fetched once: it does not change while the module is loaded. */
static struct kvm_cpuid2 *kvm_supported;

/* Entries KVM may describe, plus what xhv adds; KVM itself caps the table at 256. */
#define KVM_CPUID_MAX 256
#define XEN_CPUID_NR_ENTRIES 8 /* base+0..5, with three subleaves for base+3 */

int kvm_cpuid_global_init(int dev_fd)
{
    for (unsigned n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

        if (!c)
            return -1;
        c->nent = n;
        if (ioctl(dev_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            kvm_supported = c;
            return 0;
        }
        free(c);
        if (errno != E2BIG)
            return -1;
    }
    return -1;
}

static bool kvm_is_hv_leaf(uint32_t fn)
{
    return fn >= 0x40000000u && fn <= 0x400000ffu;
}

/* Make the APIC ID the guest reads in CPUID agree with the one KVM gave the LAPIC. */
static void kvm_cpuid_patch(struct kvm_cpuid_entry2 *e, unsigned apic_id)
{
    switch (e->function) {
    case 1:
        e->ecx |= 1u << 31; /* hypervisor present */
        e->ebx = (e->ebx & 0x00ffffffu) | ((apic_id & 0xffu) << 24);
        break;
    case 0xb:
    case 0x1f:
        e->edx = apic_id; /* x2APIC ID */
        break;
    default:
        break;
    }
}

static void kvm_cpuid_add_xen(const struct vcpu *v, struct kvm_cpuid2 *c)
{
    static const struct {
        uint32_t idx, sub;
        bool indexed;
    } xen[XEN_CPUID_NR_ENTRIES] = {
        {0, 0, false}, {1, 0, false}, {2, 0, false}, {3, 0, true},
        {3, 1, true},  {3, 2, true},  {4, 0, true},  {5, 0, false},
    };

    for (unsigned i = 0; i < XEN_CPUID_NR_ENTRIES; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];
        uint32_t out[4] = {0, 0, 0, 0};

        memset(e, 0, sizeof(*e));
        e->function = XEN_CPUID_BASE + xen[i].idx;
        e->index = xen[i].sub;
        e->flags = xen[i].indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
        xen_cpuid_leaf(v, e->function, e->index, out);
        e->eax = out[0];
        e->ebx = out[1];
        e->ecx = out[2];
        e->edx = out[3];
    }
}

/* Build this vCPU's table and hand it to KVM. */
static int kvm_cpuid_set(struct vcpu *v, int vcpu_fd, unsigned apic_id)
{
    struct kvm_cpuid2 *c;
    int r;

    if (!kvm_supported)
        return -1;
    c = calloc(1, sizeof(*c) + KVM_CPUID_MAX * sizeof(c->entries[0]));
    if (!c)
        return -1;
    for (uint32_t i = 0; i < kvm_supported->nent; i++) {
        struct kvm_cpuid_entry2 e = kvm_supported->entries[i];

        /* KVM's own leaves ("KVMKVMKVM", PV features) would shadow Xen's. */
        if (kvm_is_hv_leaf(e.function))
            continue;
        if (c->nent >= KVM_CPUID_MAX - XEN_CPUID_NR_ENTRIES)
            break;
        kvm_cpuid_patch(&e, apic_id);
        c->entries[c->nent++] = e;
    }
    kvm_cpuid_add_xen(v, c);
    r = kvm_ioctl(vcpu_fd, KVM_SET_CPUID2, c);
    if (r < 0)
        xhv_log(LOG_ERR, "kvm: d%uv%u KVM_SET_CPUID2 (%u entries): %s",
                (unsigned)v->domain->domain_id, v->vcpu_id, c->nent, strerror(errno));
    free(c);
    return r < 0 ? -1 : 0;
}

/* ---- lifecycle ---- */

void kvm_vcpu_free(struct kvm_vcpu_state *kv)
{
    if (kv->kd->vcpus[kv->vcpu_id] == kv)
        kv->kd->vcpus[kv->vcpu_id] = NULL;
    if (kv->run)
        munmap(kv->run, kv->run_size);
    if (kv->fd >= 0)
        close(kv->fd);
    free(kv);
}

static void kvm_set_tsc_khz(int vcpu_fd)
{
    int khz;

    if (xhv_tsc_khz)
        return;
    khz = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
    if (khz > 0)
        xhv_tsc_khz = (uint32_t)khz;
    else
        xhv_log(LOG_WARN, "kvm: KVM_GET_TSC_KHZ: %s", strerror(errno));
}

int kvm_vcpu_init(struct vcpu *v)
{
    struct kvm_dom *kd = v->domain->accel;
    struct kvm_vcpu_state *kv;

    if (!kd || v->vcpu_id >= XHV_MAX_VCPUS || kd->vcpus[v->vcpu_id])
        return -1;
    kv = calloc(1, sizeof(*kv));
    if (!kv)
        return -1;
    kv->d = v->domain;
    kv->kd = kd;
    kv->vcpu_id = v->vcpu_id;
    kv->apic_id = KVM_APIC_ID(v->vcpu_id);
    kv->fd = kvm_ioctl(kd->vm_fd, KVM_CREATE_VCPU, (void *)(uintptr_t)kv->apic_id);
    if (kv->fd < 0) {
        xhv_log(LOG_ERR, "kvm: d%uv%u KVM_CREATE_VCPU(%u): %s", (unsigned)v->domain->domain_id,
                v->vcpu_id, kv->apic_id, strerror(errno));
        goto fail;
    }
    kv->run = mmap(NULL, kvm_run_size, PROT_READ | PROT_WRITE, MAP_SHARED, kv->fd, 0);
    if (kv->run == MAP_FAILED) {
        kv->run = NULL;
        xhv_log(LOG_ERR, "kvm: mmap kvm_run: %s", strerror(errno));
        goto fail;
    }
    kv->run_size = kvm_run_size;
    kv->run->kvm_valid_regs = KVM_SYNC_VALID;
    kvm_set_tsc_khz(kv->fd); /* first: CPUID leaf base+3 reports it */
    if (kvm_cpuid_set(v, kv->fd, kv->apic_id) < 0)
        goto fail;
    kd->vcpus[v->vcpu_id] = kv;
    v->accel = kv;
    return 0;
fail:
    kvm_vcpu_free(kv);
    return -1;
}

void kvm_vcpu_destroy(struct vcpu *v)
{
    if (!v->accel)
        return;
    kvm_vcpu_free(v->accel);
    v->accel = NULL;
}

/* Xen's 12-bit AR: type 3:0, S 4, DPL 6:5, P 7, AVL 8, L 9, DB 10, G 11. */
static void kvm_seg_from_xen(const struct seg_init *x, struct kvm_segment *k)
{
    uint16_t ar = x->ar;

    memset(k, 0, sizeof(*k));
    k->base = x->base;
    k->limit = x->limit;
    k->selector = x->sel;
    k->type = ar & 0xf;
    k->s = (ar >> 4) & 1;
    k->dpl = (ar >> 5) & 3;
    k->present = (ar >> 7) & 1;
    k->avl = (ar >> 8) & 1;
    k->l = (ar >> 9) & 1;
    k->db = (ar >> 10) & 1;
    k->g = (ar >> 11) & 1;
    k->unusable = !k->present;
}

static void kvm_seg_to_xen(const struct kvm_segment *k, struct seg_init *x)
{
    x->base = k->base;
    x->limit = k->limit;
    x->sel = k->selector;
    x->ar = (uint16_t)((k->type & 0xf) | (k->s << 4) | (k->dpl << 5) | (k->present << 7) |
                       (k->avl << 8) | (k->l << 9) | (k->db << 10) | (k->g << 11));
    if (k->unusable)
        x->ar &= (uint16_t) ~(1u << 7);
}

/* The vCPU's registers and special registers (it is not running). A completion not yet handed
 * to KVM is what the guest will see: report that. */
static int kvm_read_regs(struct kvm_vcpu_state *kv, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
    if (!kv || kvm_ioctl(kv->fd, KVM_GET_REGS, regs) < 0 ||
        kvm_ioctl(kv->fd, KVM_GET_SREGS, sregs) < 0)
        return -1;
    if (kv->run->kvm_dirty_regs & KVM_SYNC_X86_REGS)
        *regs = kv->run->s.regs.regs;
    return 0;
}

/* For XEN_DOMCTL_gethvmcontext: the vCPU is paused (or this is its own thread). */
int kvm_vcpu_get_state(struct vcpu *v, struct vcpu_init_state *s)
{
    struct guest_cpu c;
    struct kvm_regs regs;
    struct kvm_sregs sr;

    if (kvm_read_regs(v->accel, &regs, &sr) < 0)
        return -1;
    kvm_cpu_from_kvm(&regs, &sr, &c);
    memset(s, 0, sizeof(*s));
    memcpy(s->gpr, c.gpr, sizeof(s->gpr));
    s->rip = c.rip, s->rflags = c.rflags;
    s->cr0 = c.cr0, s->cr3 = c.cr3, s->cr4 = c.cr4, s->efer = c.efer;
    kvm_seg_to_xen(&sr.cs, &s->cs);
    kvm_seg_to_xen(&sr.ds, &s->ds);
    kvm_seg_to_xen(&sr.es, &s->es);
    kvm_seg_to_xen(&sr.ss, &s->ss);
    kvm_seg_to_xen(&sr.fs, &s->fs);
    kvm_seg_to_xen(&sr.gs, &s->gs);
    kvm_seg_to_xen(&sr.tr, &s->tr);
    return 0;
}

static void kvm_sregs_from_init(const struct vcpu_init_state *s, struct kvm_sregs *sr)
{
    kvm_seg_from_xen(&s->cs, &sr->cs);
    kvm_seg_from_xen(&s->ds, &sr->ds);
    kvm_seg_from_xen(&s->es, &sr->es);
    kvm_seg_from_xen(&s->ss, &sr->ss);
    kvm_seg_from_xen(&s->fs, &sr->fs);
    kvm_seg_from_xen(&s->gs, &sr->gs);
    kvm_seg_from_xen(&s->tr, &sr->tr);
    sr->cr0 = s->cr0;
    sr->cr3 = s->cr3;
    sr->cr4 = s->cr4;
    sr->efer = s->efer;
    /* KVM rejects LME+PG without LMA; a caller handing us long mode means it. */
    if ((sr->efer & EFER_LME) && (sr->cr0 & X86_CR0_PG))
        sr->efer |= EFER_LMA;
    sr->gdt.base = 0;
    sr->gdt.limit = 0xffff;
    sr->idt.base = 0;
    sr->idt.limit = 0xffff;
}

static void kvm_regs_from_init(const struct vcpu_init_state *s, struct kvm_regs *r)
{
    struct guest_cpu c = {.rip = s->rip};

    memcpy(c.gpr, s->gpr, sizeof(c.gpr));
    memset(r, 0, sizeof(*r));
    kvm_gprs_to_kvm(&c, r);
    r->rflags = s->rflags | X86_EFLAGS_MBS;
}

int kvm_vcpu_set_state(struct vcpu *v, const struct vcpu_init_state *s)
{
    struct kvm_vcpu_state *kv = v->accel;
    struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_RUNNABLE};
    struct kvm_sregs sregs;
    struct kvm_regs regs;

    if (!kv)
        return -1;
    /* An exit the vCPU never completed (the OUT of a hypercall, say) would complete on the
     * new state at the next KVM_RUN, moving its RIP: let KVM finish it now, running nothing. */
    if (atomic_load(&kv->tid)) {
        __atomic_store_n(&kv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        kv->run->kvm_dirty_regs = 0;
        (void)ioctl(kv->fd, KVM_RUN, 0); /* -EINTR: nothing ran */
        __atomic_store_n(&kv->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    }
    /* Start from KVM's view so the APIC base, LDTR and pending-IRQ bitmap survive. */
    if (kvm_ioctl(kv->fd, KVM_GET_SREGS, &sregs) < 0)
        goto fail;
    kvm_sregs_from_init(s, &sregs);
    kvm_regs_from_init(s, &regs);
    /* Whatever the last exit left in the sync area is void now. */
    kv->run->kvm_dirty_regs = 0;
    if (kvm_ioctl(kv->fd, KVM_SET_SREGS, &sregs) < 0 || kvm_ioctl(kv->fd, KVM_SET_REGS, &regs) < 0)
        goto fail;
    /* With the in-kernel irqchip, APs wait for INIT/SIPI unless told they are running. */
    if (kvm_ioctl(kv->fd, KVM_SET_MP_STATE, &mp) < 0)
        goto fail;
    return 0;
fail:
    xhv_log(LOG_ERR, "kvm: d%uv%u set initial state: %s", (unsigned)v->domain->domain_id,
            v->vcpu_id, strerror(errno));
    return -1;
}

/* ---- kicks ---- */

static __thread int kvm_tls_tid;

/*
 * Bind the vCPU to the calling thread: the kick signal stays blocked here except inside
 * KVM_RUN, so a kick sent while we are in user space stays pending and makes the next KVM_RUN
 * return -EINTR at once; nothing is lost and the handler never runs outside KVM_RUN.
 */
static int kvm_thread_attach(struct kvm_vcpu_state *kv)
{
    struct {
        struct kvm_signal_mask m;
        uint8_t set[8]; /* the kernel's sigset_t: 64 bits */
    } km = {.m.len = 8};
    sigset_t kick, old;

    if (!kvm_tls_tid)
        kvm_tls_tid = (int)syscall(SYS_gettid);
    if (atomic_load(&kv->tid) == kvm_tls_tid)
        return 0;
    sigemptyset(&kick);
    sigaddset(&kick, KVM_KICK_SIGNAL);
    if (pthread_sigmask(SIG_BLOCK, &kick, &old) != 0)
        return -1;
    sigdelset(&old, KVM_KICK_SIGNAL);
    memcpy(km.set, &old, sizeof(km.set));
    if (kvm_ioctl(kv->fd, KVM_SET_SIGNAL_MASK, &km) < 0) {
        xhv_log(LOG_ERR, "kvm: KVM_SET_SIGNAL_MASK: %s", strerror(errno));
        return -1;
    }
    atomic_store(&kv->tid, kvm_tls_tid);
    return 0;
}

/* Consume a kick signal left pending on this thread (it is blocked outside KVM_RUN). */
static void kvm_drain_kick_signal(void)
{
    struct timespec zero = {0, 0};
    sigset_t kick;

    sigemptyset(&kick);
    sigaddset(&kick, KVM_KICK_SIGNAL);
    while (sigtimedwait(&kick, NULL, &zero) > 0)
        ;
}

void kvm_vcpu_kick(struct vcpu *v)
{
    struct kvm_vcpu_state *kv = v->accel;
    int tid;

    if (!kv)
        return;
    atomic_store(&kv->kick, 1);
    /* Covers the window between the kick check and KVM_RUN entering the guest. */
    __atomic_store_n(&kv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    tid = atomic_load(&kv->tid);
    if (tid > 0)
        syscall(SYS_tgkill, getpid(), tid, KVM_KICK_SIGNAL);
}

/* ---- the run loop ---- */

static void kvm_exit_intr(struct vm_exit *ex)
{
    ex->reason = VMEXIT_INTR;
    ex->cpu_valid = false;
    ex->t_exit = 0;
}

/* KVM_RUN failed with EFAULT: a memslot whose host memory is gone, or a bad GPA for KVM. */
static void kvm_exit_efault(struct kvm_vcpu_state *kv, struct vm_exit *ex, int err)
{
    struct kvm_run *run = kv->run;
    const uint64_t *mf = (const uint64_t *)&run->hw; /* memory_fault: flags, gpa, size */

    if (run->exit_reason == KVM_EXIT_MEMORY_FAULT)
        kvm_fault(ex, "KVM_RUN: %s at gpa %#llx size %#llx", strerror(err),
                  (unsigned long long)mf[1], (unsigned long long)mf[2]);
    else
        kvm_fault(ex, "KVM_RUN: %s (guest memory not accessible?)", strerror(err));
    ex->cpu_valid = false;
}

int kvm_vcpu_run(struct vcpu *v, struct vm_exit *ex)
{
    struct kvm_vcpu_state *kv = v->accel;
    int r, err;

    if (!kv || kvm_thread_attach(kv) < 0)
        return -1;
    kvm_complete_exit(kv, ex);
    for (;;) {
        __atomic_store_n(&kv->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
        if (atomic_exchange(&kv->kick, 0)) {
            kvm_exit_intr(ex);
            return 0;
        }
        r = ioctl(kv->fd, KVM_RUN, 0);
        err = errno;
        ex->t_exit = kv->d->stats_on ? now_ns() : 0;
        if (r == 0) {
            if (kvm_exit_absorbed(kv))
                continue;
            kvm_translate_exit(kv, ex);
            return 0;
        }
        if (err == EINTR || err == EAGAIN) {
            kvm_drain_kick_signal();
            continue;
        }
        if (err == EFAULT || err == EHWPOISON) {
            kvm_exit_efault(kv, ex, err);
            return 0;
        }
        xhv_log(LOG_ERR, "kvm: d%uv%u KVM_RUN: %s", (unsigned)v->domain->domain_id, v->vcpu_id,
                strerror(err));
        return -err;
    }
}

/* ---- interrupts and state for the core ---- */

/* Fixed, edge-triggered, physical destination = the vCPU's APIC ID. */
int kvm_vcpu_inject_irq(struct vcpu *v, uint8_t vector)
{
    struct kvm_vcpu_state *kv = v->accel;
    struct kvm_dom *kd = v->domain->accel;
    struct kvm_msi msi = {0};
    int r;

    if (!kv || !kd || vector < 16)
        return -EINVAL;
    msi.address_lo = 0xfee00000u | (kv->apic_id << 12);
    msi.data = vector;
    r = kvm_ioctl(kd->vm_fd, KVM_SIGNAL_MSI, &msi);
    if (r < 0) {
        r = -errno;
        xhv_log(LOG_ERR, "kvm: d%uv%u KVM_SIGNAL_MSI vector %u: %s", (unsigned)v->domain->domain_id,
                v->vcpu_id, vector, strerror(-r));
        return r;
    }
    /* 0: the LAPIC refused it (software-disabled, or the destination does not exist). */
    return r > 0 ? 0 : -EAGAIN;
}

int kvm_vcpu_get_cpu(struct vcpu *v, struct guest_cpu *cpu)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs;

    if (kvm_read_regs(v->accel, &regs, &sregs) < 0)
        return -1;
    kvm_cpu_from_kvm(&regs, &sregs, cpu);
    return 0;
}

/* ---- TSC ---- */

#define MSR_IA32_TSC 0x10

/* Without KVM_VCPU_TSC_OFFSET (kernels before 5.16): read the guest TSC with KVM_GET_MSRS
 * between two host rdtscs and keep the tightest of a few tries. */
static int kvm_tsc_offset_by_msr(struct kvm_vcpu_state *kv, int64_t *offset)
{
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e;
    } m;
    uint64_t best = UINT64_MAX;

    for (int i = 0; i < 5; i++) {
        memset(&m, 0, sizeof(m));
        m.hdr.nmsrs = 1;
        m.e.index = MSR_IA32_TSC;
        uint64_t t0 = host_rdtsc();
        if (kvm_ioctl(kv->fd, KVM_GET_MSRS, &m) != 1)
            return -1;
        uint64_t t1 = host_rdtsc();
        if (t1 - t0 < best) {
            best = t1 - t0;
            *offset = (int64_t)(m.e.data - (t0 + (t1 - t0) / 2));
        }
    }
    return 0;
}

/* xhv never calls KVM_SET_TSC_KHZ, so the guest TSC runs at the host rate plus KVM's offset. */
int kvm_vcpu_tsc_offset(struct vcpu *v, int64_t *offset)
{
    struct kvm_vcpu_state *kv = v->accel;
    uint64_t off = 0;
    struct kvm_device_attr attr = {
        .group = KVM_VCPU_TSC_CTRL,
        .attr = KVM_VCPU_TSC_OFFSET,
        .addr = (uint64_t)(uintptr_t)&off,
    };

    if (!kv)
        return -1;
    if (kvm_ioctl(kv->fd, KVM_GET_DEVICE_ATTR, &attr) == 0) {
        *offset = (int64_t)off;
        return 0;
    }
    return kvm_tsc_offset_by_msr(kv, offset);
}
