/* hypercall.h: the hypercall table, dispatch, and every do_<name> handler's prototype. */
#ifndef XHV_HYPERCALL_H
#define XHV_HYPERCALL_H

#include "core/core.h"

struct vm_exit;
struct guest_cpu;

/* Handlers read their arguments from args[0..4] (already truncated to 32 bits for compat
 * callers) and return 0 / a positive result / a negative Xen errno. */
typedef long (*hypercall_fn_t)(struct vcpu *v, const uint64_t args[5]);

struct hypercall_entry {
    const char *name;
    hypercall_fn_t fn; /* NULL: not implemented (-ENOSYS, logged once) */
    unsigned nargs;
};

#define NR_HYPERCALLS 64
extern const struct hypercall_entry hypercall_table[NR_HYPERCALLS];

/* A hypercall exit: reads number/arguments per the caller's mode and CPL, dispatches, and
 * sets ex->ret. Guards against re-entry. */
void hvm_hypercall(struct vcpu *v, struct vm_exit *ex);
/* Dispatch a call whose arguments are already decoded (also the control-plane path). */
long hypercall_dispatch(struct vcpu *v, uint64_t nr, const uint64_t args[5]);
/* Log "unimplemented sub-op" once per (domain, hypercall, sub-op); returns -XEN_ENOSYS. */
long hypercall_unimplemented_subop(struct vcpu *v, unsigned nr, unsigned long subop);
/* 64-bit caller: EFER.LMA && CS.L. */
bool vcpu_is_64bit(const struct guest_cpu *cpu);

long do_xen_version(struct vcpu *v, const uint64_t args[5]);
long do_console_io(struct vcpu *v, const uint64_t args[5]);
long do_sched_op(struct vcpu *v, const uint64_t args[5]);
long do_memory_op(struct vcpu *v, const uint64_t args[5]);
long do_hvm_op(struct vcpu *v, const uint64_t args[5]);
long do_vcpu_op(struct vcpu *v, const uint64_t args[5]);
long do_vm_assist(struct vcpu *v, const uint64_t args[5]);
long do_domctl(struct vcpu *v, const uint64_t args[5]);
long do_event_channel_op(struct vcpu *v, const uint64_t args[5]);
long do_set_timer_op(struct vcpu *v, const uint64_t args[5]);
long do_sysctl(struct vcpu *v, const uint64_t args[5]);

/* XENMEM_add_to_physmap_batch / remove_from_physmap (core/memory_physmap.c) */
long memop_add_to_physmap_batch(struct vcpu *v, uint64_t start, uint64_t arg);
long memop_remove_from_physmap(struct vcpu *v, uint64_t arg);

/* shared_info helpers (core/memory_op.c) */
int shared_info_map(struct domain *d, uint64_t gfn);
/* Unmap [gfn, gfn+nr) of t, uncharge freed RAM, forget a shared_info GFN in the range;
 * t->memop_lock held. 0 or p2m_remove()'s error. */
int unmap_range(struct domain *t, uint64_t gfn, uint64_t nr);

#endif
