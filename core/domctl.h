/* domctl.h: the control plane (domctl, sysctl, HVM context) shared inside the core. */
#ifndef XHV_DOMCTL_H
#define XHV_DOMCTL_H

#include "core/core.h"

/* Tools-only public headers (xen_abi.h defines __XEN_TOOLS__). */
#include <xen/domctl.h>
#include <xen/sysctl.h>

/* Xen 4.17 defaults (xen/common/grant_table.c opt_max_{grant,maptrack}_frames). */
#define XHV_DEFAULT_MAX_GRANT_FRAMES 64
#define XHV_DEFAULT_MAX_MAPTRACK_FRAMES 1024

/* Hypercall handlers: __HYPERVISOR_domctl (36) and __HYPERVISOR_sysctl (35), one argument. */
long do_domctl(struct vcpu *v, const uint64_t args[5]);
long do_sysctl(struct vcpu *v, const uint64_t args[5]);

/* getdomaininfo() (xen/common/domctl.c): fill *info for d (also sysctl getdomaininfolist). */
void getdomaininfo(struct domain *d, struct xen_domctl_getdomaininfo *info);
/* The live domain with the smallest id >= first, referenced (rcu_unlock_domain()), or NULL. */
struct domain *domain_find_from(domid_t first);

/* Host facts for physinfo / topology / affinity (core/sysctl.c). */
unsigned host_nr_cpu_ids(void); /* Xen's nr_cpu_ids: highest possible CPU + 1 */
unsigned host_paddr_bits(void); /* CPUID 0x80000008 physical address width */

/* XEN_SYSCTL_debug_keys (core/keyhandler.c): 0 or -XEN_EFAULT. */
long sysctl_debug_keys(struct vcpu *v, const struct xen_sysctl_debug_keys *k);

/* Per-vCPU domctls (core/domctl_vcpu.c): {set,get}vcpuaffinity, getvcpuinfo. */
long domctl_vcpuaffinity(struct vcpu *caller, struct domain *d, struct xen_domctl *op);
long domctl_getvcpuinfo(struct domain *d, struct xen_domctl *op);
/* Forget the soft affinities kept for domain id domid (domctl_lock held). */
void soft_affinity_forget(domid_t domid);

/* HVM save records (core/hvm_context.c): XEN_DOMCTL_gethvmcontext / sethvmcontext.
 * d is paused by the caller; size in/out as in struct xen_domctl_hvmcontext. */
uint32_t hvm_save_size(struct domain *d);
int hvm_save(struct domain *d, uint8_t *buf, uint32_t size, uint32_t *used);
int hvm_load(struct domain *d, const uint8_t *buf, uint32_t size);
/* XEN_DOMCTL_{get,set}vcpucontext for an HVM domain (arch_{get,set}_info_guest()). */
long domctl_vcpucontext(struct vcpu *caller, struct domain *d, struct xen_domctl *op);
long domctl_hvmcontext(struct vcpu *caller, struct domain *d, struct xen_domctl *op,
                       bool *copyback);

#endif
