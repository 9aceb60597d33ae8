/* domctl_util.h: issuing a domctl from a fake vCPU, shared by the domctl-family unit tests. */
#ifndef XHV_TEST_DOMCTL_UTIL_H
#define XHV_TEST_DOMCTL_UTIL_H

#include <string.h>

#include "core/domctl.h"
#include "tests/unit/fake_accel.h"

#define DC __HYPERVISOR_domctl
#define OP 0x10000ull /* the xen_domctl in the caller's memory (paging off: GVA = GPA) */

/* A domctl from v; *op is updated with what the caller would read back. */
static inline long domctl(struct vcpu *v, struct xen_domctl *op)
{
    gpa_write(v->domain, OP, op, sizeof(*op));
    long rc = hc64(v, DC, OP, 0, 0);
    gpa_read(v->domain, OP, op, sizeof(*op));
    return rc;
}

static inline struct xen_domctl mkop(uint32_t cmd, domid_t dom)
{
    struct xen_domctl op;
    memset(&op, 0, sizeof(op));
    op.cmd = cmd;
    op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    op.domain = dom;
    return op;
}

#endif
