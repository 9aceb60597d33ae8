/* kvm_int.h: state and helpers shared by the KVM backend's files (never included outside kvm/). */
#ifndef XHV_KVM_INT_H
#define XHV_KVM_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "core/accel.h"
#include "core/core.h"

/* uapi headers older than Linux 6.8 lack the memory-fault exit; the kernel may still use it. */
#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT 39
#endif

/* VMX needs a TSS and an identity-map page for real mode; both sit in the MMIO hole. */
#define KVM_IDENTITY_MAP_GPA 0xfffbc000ULL
#define KVM_TSS_GPA 0xfffbd000ULL

/* Xen's PVH convention: APIC ID = 2 * vcpu_id. The KVM vCPU id is the initial APIC ID. */
#define KVM_APIC_ID(vcpu_id) (2u * (vcpu_id))

/* Register classes KVM copies into kvm_run at every exit. */
#define KVM_SYNC_VALID (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)

struct kvm_vcpu_state;

struct kvm_dom {
    int vm_fd;
    int evt_fd; /* ioeventfd on XHV_EVENTFD_PORT (the bench floor), -1 if none */
    /* Live vCPUs, so domain_destroy can release any the core left behind. */
    struct kvm_vcpu_state *vcpus[XHV_MAX_VCPUS];
};

struct kvm_vcpu_state {
    int fd;
    unsigned vcpu_id;
    struct kvm_dom *kd;
    struct kvm_run *run;
    size_t run_size;
    unsigned apic_id;
    struct domain *d;
    atomic_int kick; /* a kick is pending: vcpu_run must return VMEXIT_INTR */
    atomic_int tid;  /* thread running vcpu_run (0 = none yet), for tgkill */
};

/* kvm.c: the /dev/kvm fd (-1 until kvm_global_init succeeds) and the kvm_run mmap size. */
extern int kvm_dev_fd;
extern size_t kvm_run_size;

/* kvm_vcpu.c */
int kvm_cpuid_global_init(int dev_fd);
int kvm_vcpu_init(struct vcpu *v);
void kvm_vcpu_destroy(struct vcpu *v);
void kvm_vcpu_free(struct kvm_vcpu_state *kv);
int kvm_vcpu_set_state(struct vcpu *v, const struct vcpu_init_state *s);
int kvm_vcpu_run(struct vcpu *v, struct vm_exit *ex);
void kvm_vcpu_kick(struct vcpu *v);
int kvm_vcpu_inject_irq(struct vcpu *v, uint8_t vector);
int kvm_vcpu_get_cpu(struct vcpu *v, struct guest_cpu *cpu);
int kvm_vcpu_get_state(struct vcpu *v, struct vcpu_init_state *s);
int kvm_vcpu_tsc_offset(struct vcpu *v, int64_t *offset);

/* kvm_exit.c: register conversion and exit translation */
void kvm_cpu_from_kvm(const struct kvm_regs *r, const struct kvm_sregs *s, struct guest_cpu *c);
void kvm_gprs_to_kvm(const struct guest_cpu *c, struct kvm_regs *r);
void kvm_complete_exit(struct kvm_vcpu_state *kv, struct vm_exit *ex);
void kvm_translate_exit(struct kvm_vcpu_state *kv, struct vm_exit *ex);
bool kvm_exit_absorbed(struct kvm_vcpu_state *kv);
void kvm_fault(struct vm_exit *ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ioctl that retries on EINTR (for everything but KVM_RUN). */
int kvm_ioctl(int fd, unsigned long req, void *arg);

#endif
