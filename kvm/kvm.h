/* kvm.h: the Linux KVM backend (the accel_ops implementation the core runs guests on). */
#ifndef XHV_KVM_H
#define XHV_KVM_H

#include <signal.h>
#include <stddef.h>

#include "core/accel.h"

/*
 * Backend-specific rules on top of core/accel.h:
 * - vcpu_run binds the vCPU to the calling thread and blocks KVM_KICK_SIGNAL there (it is only
 *   deliverable inside KVM_RUN); the thread's signal mask at its first vcpu_run is the mask
 *   used inside KVM_RUN. A vCPU may move to another thread; it is re-bound on the next run.
 * - vcpu_kick may be called from any thread, any time between vcpu_init and vcpu_destroy.
 * - vcpu_get_cpu waits for KVM_RUN to return: call it on the vCPU's thread or after a kick.
 * - VMEXIT_HCALL completion: RAX = ex->ret always; with cpu_dirty, the other GPRs and RIP come
 *   from ex->cpu first. The RIP reported at an HCALL/IO exit is the OUT's own address on
 *   hardware KVM but the next instruction's when KVM emulated the OUT (kvm-pvm): do not derive
 *   anything from it except the stub start (rip & ~31) for a continuation.
 * - Destroy vCPUs before their domain; domain_destroy releases any left over (and warns).
 * - APIC ID (= KVM vCPU id) is 2 * vcpu_id, as Xen gives PVH guests; CPUID leaf 1 / 0xb agree.
 */
extern const struct accel_ops kvm_accel_ops;

/*
 * Check that /dev/kvm is usable and do the backend's one-time setup (keep the /dev/kvm fd,
 * install the kick signal handler, cache the supported CPUID). Returns 0, or -1 with a
 * one-line reason in err. Safe to call more than once; call it before creating domains so the
 * process's fd baseline already includes the /dev/kvm fd.
 */
int kvm_probe(char *err, size_t errlen);

/* One-time setup without the diagnostics (domain_init calls it too). */
void kvm_global_init(void);

/*
 * The signal vcpu_kick sends to a vCPU thread. The backend installs an empty handler for it;
 * nothing else in xhv may use it.
 */
#define KVM_KICK_SIGNAL SIGUSR1

#endif
