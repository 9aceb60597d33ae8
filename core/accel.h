/* accel.h: the core <-> backend contract (implemented by kvm/ and by the unit tests' fake). */
#ifndef XHV_ACCEL_H
#define XHV_ACCEL_H

#include <stdbool.h>
#include <stdint.h>

struct domain;
struct vcpu;

/* x86 GPR order, as in the instruction encoding. */
enum {
    R_AX,
    R_CX,
    R_DX,
    R_BX,
    R_SP,
    R_BP,
    R_SI,
    R_DI,
    R_R8,
    R_R9,
    R_R10,
    R_R11,
    R_R12,
    R_R13,
    R_R14,
    R_R15,
    NR_GPRS
};

/* Register state as plain values: the core never sees kvm_run. */
struct guest_cpu {
    uint64_t gpr[NR_GPRS];
    uint64_t rip, rflags;
    uint64_t cr0, cr2, cr3, cr4, efer;
    uint8_t cpl; /* SS.DPL */
    bool cs_l;   /* CS.L: 64-bit code segment */
    bool cs_db;
};

/* A segment as Xen's vcpu_hvm_context gives it (AR in Xen's 12-bit format, e.g. 0xc9b). */
struct seg_init {
    uint64_t base;
    uint32_t limit;
    uint16_t sel, ar;
};

/* Initial vCPU state (PVH entry, later VCPUOP_initialise). */
struct vcpu_init_state {
    uint64_t gpr[NR_GPRS];
    uint64_t rip, rflags, cr0, cr3, cr4, efer;
    struct seg_init cs, ds, es, ss, fs, gs, tr;
};

enum vm_exit_reason {
    VMEXIT_NONE,
    VMEXIT_HCALL,     /* OUT to XHV_HCALL_PORT: cpu valid; core sets ret */
    VMEXIT_IO,        /* other port I/O */
    VMEXIT_MMIO,      /* access to a GPA with no memory */
    VMEXIT_MSR_READ,  /* trapped RDMSR */
    VMEXIT_MSR_WRITE, /* trapped WRMSR */
    VMEXIT_SHUTDOWN,  /* triple fault */
    VMEXIT_FAULT,     /* the backend cannot continue this vCPU (emulation failure, ...) */
    VMEXIT_INTR,      /* run interrupted by a kick: nothing to complete */
    VMEXIT_NR
};

struct vm_exit {
    enum vm_exit_reason reason;
    struct guest_cpu cpu; /* VMEXIT_HCALL: always; other reasons: when cpu_valid */
    bool cpu_valid;
    union {
        struct {
            uint16_t port;
            uint8_t size; /* 1, 2, 4 */
            bool out;
            uint32_t count; /* string I/O repeat */
            uint8_t *data;  /* count*size bytes, owned by the backend */
        } io;
        struct {
            uint64_t gpa;
            uint8_t size;
            bool write;
            uint8_t *data; /* 8 bytes */
        } mmio;
        struct {
            uint32_t index;
            uint64_t data; /* WRMSR value / RDMSR result filled by the core */
        } msr;
        struct {
            char why[96];
        } fault;
    };
    /* Filled by the core, consumed by the next vcpu_run(): */
    uint64_t ret;   /* VMEXIT_HCALL: value for RAX */
    bool cpu_dirty; /* write all of cpu.gpr and cpu.rip back */
    bool inject_gp; /* MSR exits: raise #GP(0) instead of completing */
    /* Stats (only when d->stats_on): now_ns() right after KVM_RUN returned. */
    uint64_t t_exit;
};

struct accel_ops {
    const char *name;
    int (*domain_init)(struct domain *d);
    void (*domain_destroy)(struct domain *d);
    /* Map (hva != NULL) or delete (hva == NULL) memory slot `slot` at gpa. */
    int (*mem_set)(struct domain *d, int slot, uint64_t gpa, uint64_t size, void *hva);
    int (*vcpu_init)(struct vcpu *v);
    void (*vcpu_destroy)(struct vcpu *v);
    int (*vcpu_set_state)(struct vcpu *v, const struct vcpu_init_state *s);
    /* Complete the previous exit in *ex, run to the next one. <0 = backend failure. */
    int (*vcpu_run)(struct vcpu *v, struct vm_exit *ex);
    /* Make vcpu_run return soon (VMEXIT_INTR) from another thread. */
    void (*vcpu_kick)(struct vcpu *v);
    int (*vcpu_inject_irq)(struct vcpu *v, uint8_t vector);
    /* Full state (registers, control registers, segments) for XEN_DOMCTL_gethvmcontext;
     * vCPU not running (paused, or its own thread). <0 if unavailable. */
    int (*vcpu_get_state)(struct vcpu *v, struct vcpu_init_state *s);
    /* Current registers for a crash dump; <0 if unavailable. */
    int (*vcpu_get_cpu)(struct vcpu *v, struct guest_cpu *cpu);
    /* The guest TSC is host TSC + *offset (xhv never scales the guest TSC). Call on v's own
     * thread, or while v does not run (KVM holds the vCPU while in KVM_RUN). <0 if unknown. */
    int (*vcpu_tsc_offset)(struct vcpu *v, int64_t *offset);
};

#endif
