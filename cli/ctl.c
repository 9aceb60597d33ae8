/* ctl.c: libxc-shaped calls (xc_domain_*, xc_vcpu_*, xc_physinfo...): each builds Xen's struct
 * in a hypercall buffer from xencall_alloc_buffer and issues the hypercall through xencall. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ctl.h"
#include "proto/xencall.h"

#include <xen/hvm/hvm_op.h>

struct xc_interface_core {
    xencall_handle *xcall;
};

xc_interface *xhv_xc_open(const char *path)
{
    xc_interface *xch = calloc(1, sizeof(*xch));
    if (!xch)
        return NULL;
    xch->xcall = path ? xhv_xencall_open_path(path) : xencall_open(NULL, 0);
    if (!xch->xcall) {
        int e = errno;
        free(xch);
        errno = e;
        return NULL;
    }
    return xch;
}

int xc_interface_close(xc_interface *xch)
{
    if (!xch)
        return 0;
    int rc = xencall_close(xch->xcall);
    free(xch);
    return rc;
}

struct xencall_handle *xhv_xc_xcall(xc_interface *xch)
{
    return xch->xcall;
}

/* ---- hypercall buffers (libxc's bounce buffers) ---- */

/* A buffer of len bytes holding a copy of src (zeroes if src is NULL). */
static void *bounce_in(xc_interface *xch, const void *src, size_t len)
{
    void *b = xencall_alloc_buffer(xch->xcall, len ? len : 1);
    if (b && src)
        memcpy(b, src, len);
    return b;
}

/* Copy a buffer back to dst (if non-NULL) and free it, keeping errno. */
static void bounce_out(xc_interface *xch, void *b, void *dst, size_t len)
{
    int e = errno;
    if (b && dst)
        memcpy(dst, b, len);
    if (b)
        xencall_free_buffer(xch->xcall, b);
    errno = e;
}

static int do_domctl(xc_interface *xch, struct xen_domctl *d)
{
    struct xen_domctl *b;
    int rc;
    d->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    if (!(b = bounce_in(xch, d, sizeof(*d))))
        return -1;
    rc = xencall1(xch->xcall, __HYPERVISOR_domctl, (uint64_t)(uintptr_t)b);
    bounce_out(xch, b, d, sizeof(*d));
    return rc < 0 ? -1 : rc;
}

static int do_sysctl(xc_interface *xch, struct xen_sysctl *s)
{
    struct xen_sysctl *b;
    int rc;
    s->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    if (!(b = bounce_in(xch, s, sizeof(*s))))
        return -1;
    rc = xencall1(xch->xcall, __HYPERVISOR_sysctl, (uint64_t)(uintptr_t)b);
    bounce_out(xch, b, s, sizeof(*s));
    return rc < 0 ? -1 : rc;
}

/* A hypercall taking (cmd, pointer to a struct of len bytes) that may write the struct. */
static int do_op2(xc_interface *xch, unsigned op, unsigned long cmd, void *arg, size_t len)
{
    void *b = NULL;
    int rc;
    if (arg && !(b = bounce_in(xch, arg, len)))
        return -1;
    rc = xencall2(xch->xcall, op, cmd, (uint64_t)(uintptr_t)b);
    bounce_out(xch, b, arg, len);
    return rc;
}

/* ---- domctl ---- */

static int domctl_simple(xc_interface *xch, uint32_t cmd, uint32_t domid)
{
    struct xen_domctl d = {.cmd = cmd, .domain = (domid_t)domid};
    return do_domctl(xch, &d);
}

int xc_domain_create(xc_interface *xch, uint32_t *pdomid, struct xen_domctl_createdomain *config)
{
    struct xen_domctl d = {.cmd = XEN_DOMCTL_createdomain, .domain = (domid_t)*pdomid};
    d.u.createdomain = *config;
    if (do_domctl(xch, &d) < 0)
        return -1;
    *pdomid = d.domain;
    *config = d.u.createdomain;
    return 0;
}

int xc_domain_destroy(xc_interface *xch, uint32_t domid)
{
    int rc;
    do { /* preemptible in Xen: -ERESTART / EAGAIN until done */
        rc = domctl_simple(xch, XEN_DOMCTL_destroydomain, domid);
    } while (rc < 0 && errno == EAGAIN);
    return rc;
}

int xc_domain_pause(xc_interface *xch, uint32_t domid)
{
    return domctl_simple(xch, XEN_DOMCTL_pausedomain, domid);
}

int xc_domain_unpause(xc_interface *xch, uint32_t domid)
{
    return domctl_simple(xch, XEN_DOMCTL_unpausedomain, domid);
}

int xc_domain_max_vcpus(xc_interface *xch, uint32_t domid, unsigned int max)
{
    struct xen_domctl d = {.cmd = XEN_DOMCTL_max_vcpus, .domain = (domid_t)domid};
    d.u.max_vcpus.max = max;
    return do_domctl(xch, &d);
}

int xc_domain_setmaxmem(xc_interface *xch, uint32_t domid, uint64_t max_memkb)
{
    struct xen_domctl d = {.cmd = XEN_DOMCTL_max_mem, .domain = (domid_t)domid};
    d.u.max_mem.max_memkb = max_memkb;
    return do_domctl(xch, &d);
}

int xc_domain_sethandle(xc_interface *xch, uint32_t domid, const xen_domain_handle_t handle)
{
    struct xen_domctl d = {.cmd = XEN_DOMCTL_setdomainhandle, .domain = (domid_t)domid};
    memcpy(d.u.setdomainhandle.handle, handle, sizeof(xen_domain_handle_t));
    return do_domctl(xch, &d);
}

int xc_domain_getinfo_single(xc_interface *xch, uint32_t domid, xc_domaininfo_t *info)
{
    struct xen_domctl d = {.cmd = XEN_DOMCTL_getdomaininfo, .domain = (domid_t)domid};
    if (do_domctl(xch, &d) < 0)
        return -1;
    if (d.u.getdomaininfo.domain != domid) { /* 4.17 gave the next domain up */
        errno = ESRCH;
        return -1;
    }
    *info = d.u.getdomaininfo;
    return 0;
}

int xc_domain_hvm_getcontext(xc_interface *xch, uint32_t domid, uint8_t *buf, uint32_t size)
{
    struct xen_domctl d = {.cmd = XEN_DOMCTL_gethvmcontext, .domain = (domid_t)domid};
    void *b = NULL;
    int rc;
    if (buf && !(b = bounce_in(xch, NULL, size)))
        return -1;
    d.u.hvmcontext.size = buf ? size : 0;
    set_xen_guest_handle(d.u.hvmcontext.buffer, (uint8_t *)b);
    rc = do_domctl(xch, &d);
    bounce_out(xch, b, rc < 0 ? NULL : buf, size);
    return rc < 0 ? -1 : (int)d.u.hvmcontext.size;
}

int xc_domain_hvm_setcontext(xc_interface *xch, uint32_t domid, const uint8_t *buf, uint32_t size)
{
    struct xen_domctl d = {.cmd = XEN_DOMCTL_sethvmcontext, .domain = (domid_t)domid};
    void *b = bounce_in(xch, buf, size);
    int rc;
    if (!b)
        return -1;
    d.u.hvmcontext.size = size;
    set_xen_guest_handle(d.u.hvmcontext.buffer, (uint8_t *)b);
    rc = do_domctl(xch, &d);
    bounce_out(xch, b, NULL, 0);
    return rc;
}

int xc_vcpu_getinfo(xc_interface *xch, uint32_t domid, uint32_t vcpu, xc_vcpuinfo_t *info)
{
    struct xen_domctl d = {.cmd = XEN_DOMCTL_getvcpuinfo, .domain = (domid_t)domid};
    d.u.getvcpuinfo.vcpu = vcpu;
    if (do_domctl(xch, &d) < 0)
        return -1;
    *info = d.u.getvcpuinfo;
    return 0;
}

/* XEN_DOMCTL_{set,get}vcpuaffinity with the maps in hypercall buffers; maps copied back. */
static int vcpu_affinity(xc_interface *xch, uint32_t cmd, uint32_t domid, int vcpu,
                         xc_cpumap_t hard, xc_cpumap_t soft, uint32_t flags, unsigned nr_bits)
{
    struct xen_domctl d = {.cmd = cmd, .domain = (domid_t)domid};
    size_t len = (nr_bits + 7) / 8;
    uint8_t *bh = bounce_in(xch, hard, len), *bs = bounce_in(xch, soft, len);
    int rc = -1;
    if (bh && bs) {
        d.u.vcpuaffinity.vcpu = (uint32_t)vcpu;
        d.u.vcpuaffinity.flags = flags;
        set_xen_guest_handle(d.u.vcpuaffinity.cpumap_hard.bitmap, bh);
        set_xen_guest_handle(d.u.vcpuaffinity.cpumap_soft.bitmap, bs);
        d.u.vcpuaffinity.cpumap_hard.nr_bits = nr_bits;
        d.u.vcpuaffinity.cpumap_soft.nr_bits = nr_bits;
        rc = do_domctl(xch, &d);
    }
    bounce_out(xch, bh, rc < 0 ? NULL : hard, len);
    bounce_out(xch, bs, rc < 0 ? NULL : soft, len);
    return rc;
}

int xc_vcpu_setaffinity(xc_interface *xch, uint32_t domid, int vcpu, xc_cpumap_t hard,
                        xc_cpumap_t soft, uint32_t flags, unsigned nr_bits)
{
    return vcpu_affinity(xch, XEN_DOMCTL_setvcpuaffinity, domid, vcpu, hard, soft, flags, nr_bits);
}

int xc_vcpu_getaffinity(xc_interface *xch, uint32_t domid, int vcpu, xc_cpumap_t hard,
                        xc_cpumap_t soft, uint32_t flags, unsigned nr_bits)
{
    return vcpu_affinity(xch, XEN_DOMCTL_getvcpuaffinity, domid, vcpu, hard, soft, flags, nr_bits);
}

/* ---- sysctl ---- */

int xc_domain_getinfolist(xc_interface *xch, uint32_t first, unsigned int max,
                          xc_domaininfo_t *info)
{
    struct xen_sysctl s = {.cmd = XEN_SYSCTL_getdomaininfolist};
    size_t len = (size_t)max * sizeof(*info);
    void *b = bounce_in(xch, NULL, len);
    int rc;
    if (!b)
        return -1;
    s.u.getdomaininfolist.first_domain = (domid_t)first;
    s.u.getdomaininfolist.max_domains = max;
    set_xen_guest_handle(s.u.getdomaininfolist.buffer, (xc_domaininfo_t *)b);
    rc = do_sysctl(xch, &s);
    if (rc == 0 && s.u.getdomaininfolist.num_domains > max) {
        errno = EPROTO;
        rc = -1;
    }
    bounce_out(xch, b, rc < 0 ? NULL : info, len);
    return rc < 0 ? -1 : (int)s.u.getdomaininfolist.num_domains;
}

int xc_physinfo(xc_interface *xch, xc_physinfo_t *info)
{
    struct xen_sysctl s = {.cmd = XEN_SYSCTL_physinfo};
    if (do_sysctl(xch, &s) < 0)
        return -1;
    *info = s.u.physinfo;
    return 0;
}

int xc_sched_id(xc_interface *xch, int *sched_id)
{
    struct xen_sysctl s = {.cmd = XEN_SYSCTL_sched_id};
    if (do_sysctl(xch, &s) < 0)
        return -1;
    *sched_id = (int)s.u.sched_id.sched_id;
    return 0;
}

int xc_readconsolering(xc_interface *xch, char *buffer, unsigned int *pnr_chars, int clear,
                       int incremental, uint32_t *pindex)
{
    struct xen_sysctl s = {.cmd = XEN_SYSCTL_readconsole};
    void *b = bounce_in(xch, NULL, *pnr_chars);
    int rc;
    if (!b)
        return -1;
    set_xen_guest_handle(s.u.readconsole.buffer, (char *)b);
    s.u.readconsole.count = *pnr_chars;
    s.u.readconsole.clear = (uint8_t) !!clear;
    s.u.readconsole.incremental = (uint8_t) !!incremental;
    if (pindex)
        s.u.readconsole.index = *pindex;
    rc = do_sysctl(xch, &s);
    if (rc == 0 && s.u.readconsole.count > *pnr_chars) {
        errno = EPROTO;
        rc = -1;
    }
    bounce_out(xch, b, rc < 0 ? NULL : buffer, *pnr_chars);
    if (rc == 0) {
        *pnr_chars = s.u.readconsole.count;
        if (incremental && pindex)
            *pindex = s.u.readconsole.index;
    }
    return rc;
}

/* xc_send_debug_keys(): sysctl debug_keys with strlen(keys) keys. */
int xc_send_debug_keys(xc_interface *xch, const char *keys)
{
    struct xen_sysctl s = {.cmd = XEN_SYSCTL_debug_keys};
    size_t len = strlen(keys);
    char *b = bounce_in(xch, keys, len);
    int rc;
    if (!b)
        return -1;
    set_xen_guest_handle(s.u.debug_keys.keys, b);
    s.u.debug_keys.nr_keys = (uint32_t)len;
    rc = do_sysctl(xch, &s);
    bounce_out(xch, b, NULL, len);
    return rc;
}

/* ---- memory_op, hvm_op, sched_op, xen_version ---- */

int xc_domain_populate_physmap_exact(xc_interface *xch, uint32_t domid, unsigned long nr_extents,
                                     unsigned int extent_order, unsigned int mem_flags,
                                     xen_pfn_t *extent_start)
{
    struct xen_memory_reservation r = {
        .nr_extents = nr_extents,
        .extent_order = extent_order,
        .mem_flags = mem_flags,
        .domid = (domid_t)domid,
    };
    size_t len = nr_extents * sizeof(*extent_start);
    xen_pfn_t *b = bounce_in(xch, extent_start, len);
    int rc;
    if (!b)
        return -1;
    set_xen_guest_handle(r.extent_start, b);
    rc = do_op2(xch, __HYPERVISOR_memory_op, XENMEM_populate_physmap, &r, sizeof(r));
    bounce_out(xch, b, rc < 0 ? NULL : extent_start, len);
    if (rc >= 0 && (unsigned long)rc != nr_extents) { /* partial: Xen reports no errno */
        errno = ENOMEM;
        rc = -1;
    }
    return rc < 0 ? -1 : 0;
}

int xc_domain_set_memory_map(xc_interface *xch, uint32_t domid, const struct xc_e820entry entries[],
                             uint32_t nr)
{
    struct xen_foreign_memory_map fmap = {.domid = (domid_t)domid};
    void *b = bounce_in(xch, entries, nr * sizeof(*entries));
    int rc;
    if (!b)
        return -1;
    fmap.map.nr_entries = nr;
    set_xen_guest_handle(fmap.map.buffer, b);
    rc = do_op2(xch, __HYPERVISOR_memory_op, XENMEM_set_memory_map, &fmap, sizeof(fmap));
    bounce_out(xch, b, NULL, 0);
    return rc < 0 ? -1 : 0;
}

int xc_hvm_param_set(xc_interface *xch, uint32_t domid, uint32_t param, uint64_t value)
{
    struct xen_hvm_param a = {.domid = (domid_t)domid, .index = param, .value = value};
    return do_op2(xch, __HYPERVISOR_hvm_op, HVMOP_set_param, &a, sizeof(a)) < 0 ? -1 : 0;
}

int xc_evtchn_alloc_unbound(xc_interface *xch, uint32_t dom, uint32_t remote_dom)
{
    struct evtchn_alloc_unbound a = {.dom = (domid_t)dom, .remote_dom = (domid_t)remote_dom};
    if (do_op2(xch, __HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, &a, sizeof(a)) < 0)
        return -1;
    return (int)a.port;
}

int xc_domain_shutdown(xc_interface *xch, uint32_t domid, int reason)
{
    struct sched_remote_shutdown arg = {.domain_id = (domid_t)domid, .reason = (unsigned)reason};
    return do_op2(xch, __HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, &arg, sizeof(arg)) < 0 ? -1
                                                                                              : 0;
}

size_t xhv_xenver_arg_size(int cmd)
{
    switch (cmd) {
    case XENVER_extraversion:
        return sizeof(xen_extraversion_t);
    case XENVER_compile_info:
        return sizeof(struct xen_compile_info);
    case XENVER_capabilities:
        return sizeof(xen_capabilities_info_t);
    case XENVER_changeset:
        return sizeof(xen_changeset_info_t);
    case XENVER_platform_parameters:
        return sizeof(struct xen_platform_parameters);
    case XENVER_get_features:
        return sizeof(struct xen_feature_info);
    case XENVER_guest_handle:
        return sizeof(xen_domain_handle_t);
    case XENVER_commandline:
        return sizeof(xen_commandline_t);
    default: /* XENVER_version, XENVER_pagesize: no argument */
        return 0;
    }
}

int xc_version(xc_interface *xch, int cmd, void *arg)
{
    size_t len = xhv_xenver_arg_size(cmd);
    return do_op2(xch, __HYPERVISOR_xen_version, (unsigned long)cmd, len ? arg : NULL, len);
}
