/* fake_accel.h: a fake backend that replays scripted exits and records kicks and interrupts. */
#ifndef XHV_FAKE_ACCEL_H
#define XHV_FAKE_ACCEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/accel.h"
#include "core/core.h"

extern const struct accel_ops fake_accel_ops;

#define FAKE_MAX_IRQS 64

/* What the fake saw of one vCPU (v->accel). Read it after the vCPU thread has stopped, or
 * under lock. */
struct fake_vcpu {
    pthread_mutex_t lock;
    struct vm_exit *script; /* exits vcpu_run() hands out, in order */
    unsigned nr_script, next_script, cap_script;
    /* the completion vcpu_run() received for the previous exit */
    bool completed;
    enum vm_exit_reason completed_reason;
    uint64_t completed_ret;
    bool completed_cpu_dirty, completed_inject_gp;
    unsigned runs;               /* vcpu_run() calls */
    unsigned kicks;              /* vcpu_kick() calls */
    uint8_t irqs[FAKE_MAX_IRQS]; /* vcpu_inject_irq() vectors, in order */
    unsigned nr_irqs;
    struct vcpu_init_state state; /* the last vcpu_set_state() */
    bool state_set;
    struct guest_cpu cpu;      /* registers of the current exit, for vcpu_get_cpu() */
    struct vcpu_paging paging; /* paging state fake_hypercall() puts in its exits */
    uint64_t rflags;           /* RFLAGS of its exits (0: 0x2, interrupts off) */
    int64_t tsc_offset;        /* what vcpu_tsc_offset() reports */
    unsigned tsc_offset_reads;
};

/* Memory slots as mem_set() left them (d->accel). */
#define FAKE_MAX_SLOTS 512
struct fake_domain {
    pthread_mutex_t lock;
    struct {
        bool used;
        uint64_t gpa, size;
        void *hva;
    } slots[FAKE_MAX_SLOTS];
    unsigned mem_set_calls;
};

static inline struct fake_vcpu *fake_vcpu_of(struct vcpu *v)
{
    return v->accel;
}
static inline struct fake_domain *fake_domain_of(struct domain *d)
{
    return d->accel;
}

/* A domain on the fake backend (domain_create()); NULL on failure. */
struct domain *fake_domain(uint64_t mem_mb, unsigned vcpus, bool privileged);
/* The dom0-like caller of control-plane tests: a privileged fake domain made on first use
 * (one per test file), with the fake backend as the one createdomain uses. */
static inline struct vcpu *fake_ctl_vcpu(void)
{
    static struct domain *d;
    xhv_accel = &fake_accel_ops;
    if (!d)
        d = fake_domain(16, 1, true);
    return d->vcpu[0];
}
/* Queue an exit for v's next vcpu_run(). */
void fake_script_exit(struct vcpu *v, const struct vm_exit *ex);
/* Paging state of later fake_hypercall()s on v (default: all 0 = paging off). */
void fake_set_paging(struct vcpu *v, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer);
/* RFLAGS of later fake_hypercall()s on v (default 0x2). */
void fake_set_rflags(struct vcpu *v, uint64_t rflags);
/* One hypercall exit from v, handled by vcpu_handle_exit(): the result as the guest sees it
 * (RAX, or EAX sign-extended for a 32-bit caller). */
long fake_hypercall(struct vcpu *v, unsigned cpl, bool is64, uint64_t nr, uint64_t a1, uint64_t a2,
                    uint64_t a3, uint64_t a4, uint64_t a5);
/* The exit fake_hypercall() builds, for tests that want to run it another way. */
struct vm_exit fake_hcall_exit(struct vcpu *v, unsigned cpl, bool is64, uint64_t nr,
                               const uint64_t a[5]);

/* Shorthands for handler tests: a CPL0 call with three arguments. */
static inline long hc64(struct vcpu *v, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
    return fake_hypercall(v, 0, true, nr, a1, a2, a3, 0, 0);
}
static inline long hc32(struct vcpu *v, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
    return fake_hypercall(v, 0, false, nr, a1, a2, a3, 0, 0);
}
static inline long hc(struct vcpu *v, bool is64, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
    return fake_hypercall(v, 0, is64, nr, a1, a2, a3, 0, 0);
}

/* Guest-physical helpers (paging is off: a GPA is also the linear address). */
#define HOLE_GPA 0x40000000ull /* never RAM in a fake domain under 1 GiB */
static inline void gpa_write(struct domain *d, uint64_t gpa, const void *p, size_t n)
{
    if (copy_to_gpa(d, gpa, p, n))
        abort();
}
static inline void gpa_read(struct domain *d, uint64_t gpa, void *p, size_t n)
{
    if (copy_from_gpa(d, p, gpa, n))
        abort();
}
static inline void gpa_fill(struct domain *d, uint64_t gpa, int byte, size_t n)
{
    struct p2m_entry e;
    for (size_t i = 0; i < n; i++) {
        if (p2m_lookup(d, (gpa + i) >> PAGE_SHIFT, &e))
            abort();
        e.hva[(gpa + i) & ~PAGE_MASK] = (uint8_t)byte;
    }
}

#endif
