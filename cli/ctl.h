/* ctl.h: a small libxc-shaped layer over xencall: domctl, sysctl, memory_op, sched_op and
 * xen_version as Xen's xc_* calls build them, in hypercall buffers shared with xhvd. */
#ifndef XHV_CTL_H
#define XHV_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/xen_abi.h"
#include <xen/domctl.h>
#include <xen/sysctl.h>

typedef struct xc_interface_core xc_interface;
typedef struct xen_domctl_getdomaininfo xc_domaininfo_t;
typedef struct xen_domctl_getvcpuinfo xc_vcpuinfo_t;
typedef struct xen_sysctl_physinfo xc_physinfo_t;
typedef uint8_t *xc_cpumap_t;

/* One E820 record as XENMEM_set_memory_map takes it (xenctrl.h's packed struct e820entry:
 * Xen's public headers have no definition of it). */
struct xc_e820entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct xc_e820entry) == 20, "e820entry");

/* Open a connection to xhvd at path (NULL: $XHV_SOCKET, else the default). NULL + errno. */
xc_interface *xhv_xc_open(const char *path);
int xc_interface_close(xc_interface *xch);
struct xencall_handle *xhv_xc_xcall(xc_interface *xch);

/* Every call below returns 0 (or a count where said) or -1 with errno = the Xen errno, as
 * libxc does. A dead daemon connection shows as EPIPE / ECONNRESET / ENOTCONN. */
int xc_domain_create(xc_interface *xch, uint32_t *pdomid, struct xen_domctl_createdomain *config);
int xc_domain_destroy(xc_interface *xch, uint32_t domid);
int xc_domain_pause(xc_interface *xch, uint32_t domid);
int xc_domain_unpause(xc_interface *xch, uint32_t domid);
int xc_domain_max_vcpus(xc_interface *xch, uint32_t domid, unsigned int max);
int xc_domain_sethandle(xc_interface *xch, uint32_t domid, const xen_domain_handle_t handle);
int xc_domain_setmaxmem(xc_interface *xch, uint32_t domid, uint64_t max_memkb);
/* Exactly this domain (ESRCH if it does not exist, whatever 4.17's next-domain rule gives). */
int xc_domain_getinfo_single(xc_interface *xch, uint32_t domid, xc_domaininfo_t *info);
/* sysctl getdomaininfolist: domains with id >= first, at most max; returns how many. */
int xc_domain_getinfolist(xc_interface *xch, uint32_t first, unsigned int max,
                          xc_domaininfo_t *info);
/* SCHEDOP_remote_shutdown with reason SHUTDOWN_*. */
int xc_domain_shutdown(xc_interface *xch, uint32_t domid, int reason);
/* populate_physmap for domid: every extent must be done (else ENOMEM / the error). */
int xc_domain_populate_physmap_exact(xc_interface *xch, uint32_t domid, unsigned long nr_extents,
                                     unsigned int extent_order, unsigned int mem_flags,
                                     xen_pfn_t *extent_start);
int xc_domain_set_memory_map(xc_interface *xch, uint32_t domid, const struct xc_e820entry entries[],
                             uint32_t nr);
/* HVM save records: with buf NULL returns the size the full context needs; else the size
 * written. -1 + errno on failure. */
int xc_domain_hvm_getcontext(xc_interface *xch, uint32_t domid, uint8_t *buf, uint32_t size);
int xc_domain_hvm_setcontext(xc_interface *xch, uint32_t domid, const uint8_t *buf, uint32_t size);
int xc_hvm_param_set(xc_interface *xch, uint32_t domid, uint32_t param, uint64_t value);
/* EVTCHNOP_alloc_unbound in dom for remote_dom: the port, or -1 (errno). */
int xc_evtchn_alloc_unbound(xc_interface *xch, uint32_t dom, uint32_t remote_dom);
int xc_vcpu_getinfo(xc_interface *xch, uint32_t domid, uint32_t vcpu, xc_vcpuinfo_t *info);
/* Affinity maps are nr_bits bits (bytes = (nr_bits + 7) / 8); hard or soft may be NULL. */
int xc_vcpu_setaffinity(xc_interface *xch, uint32_t domid, int vcpu, xc_cpumap_t hard,
                        xc_cpumap_t soft, uint32_t flags, unsigned nr_bits);
int xc_vcpu_getaffinity(xc_interface *xch, uint32_t domid, int vcpu, xc_cpumap_t hard,
                        xc_cpumap_t soft, uint32_t flags, unsigned nr_bits);
int xc_physinfo(xc_interface *xch, xc_physinfo_t *info);
int xc_sched_id(xc_interface *xch, int *sched_id);
/* sysctl readconsole into buffer (*pnr_chars: size in, bytes out). */
int xc_readconsolering(xc_interface *xch, char *buffer, unsigned int *pnr_chars, int clear,
                       int incremental, uint32_t *pindex);
/* sysctl debug_keys: each character of keys is a debug key (unknown ones do nothing). */
int xc_send_debug_keys(xc_interface *xch, const char *keys);
/* xen_version sub-op cmd; arg (may be NULL) of the sub-op's size. Returns the result. */
int xc_version(xc_interface *xch, int cmd, void *arg);

/* Bytes of the argument of a xen_version sub-op (0 if none or unknown). */
size_t xhv_xenver_arg_size(int cmd);

#endif
