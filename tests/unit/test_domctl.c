/* test_domctl.c: domctl (36) from a privileged fake domain and from a domU: lifecycle, the
 * getdomaininfo search, limits, affinity, XSM, and memory_op on behalf of another domain. */
#include <string.h>

#include "core/accel.h"
#include "core/domctl.h"
#include "core/hypercall.h"
#include "core/xsm.h"
#include <xen/hvm/hvm_info_table.h>
#include "tests/unit/domctl_util.h"
#include "tests/unit/fake_accel.h"
#include "tests/unit/harness.h"

#define MO __HYPERVISOR_memory_op
#define MAP 0x11000ull /* bitmaps, extent lists */
#define MAP2 0x12000ull

/* A PVH createdomain config as libxl builds it. */
static struct xen_domctl create_op(domid_t want, unsigned vcpus)
{
    struct xen_domctl op = mkop(XEN_DOMCTL_createdomain, want);
    struct xen_domctl_createdomain *c = &op.u.createdomain;
    c->flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
    c->max_vcpus = vcpus;
    c->max_evtchn_port = 1023;
    c->max_grant_frames = -1;
    c->max_maptrack_frames = -1;
    c->grant_opts = XEN_DOMCTL_GRANT_version(1);
    c->arch.emulation_flags = XEN_X86_EMU_LAPIC;
    memset(c->handle, 0xab, sizeof(c->handle));
    return op;
}

static domid_t create(struct vcpu *v, domid_t want, unsigned vcpus)
{
    struct xen_domctl op = create_op(want, vcpus);
    return domctl(v, &op) == 0 ? op.domain : 0;
}

static long destroy(struct vcpu *v, domid_t id)
{
    struct xen_domctl op = mkop(XEN_DOMCTL_destroydomain, id);
    return domctl(v, &op);
}

static long info(struct vcpu *v, domid_t id, struct xen_domctl_getdomaininfo *out, domid_t *got)
{
    struct xen_domctl op = mkop(XEN_DOMCTL_getdomaininfo, id);
    long rc = domctl(v, &op);
    *out = op.u.getdomaininfo;
    if (got)
        *got = op.domain;
    return rc;
}

TEST(domctl_version_xsm_and_lookup_errors)
{
    struct vcpu *v = fake_ctl_vcpu();
    struct domain *u = fake_domain(16, 1, false);
    domid_t id = create(v, 0, 1);
    struct xen_domctl op = mkop(XEN_DOMCTL_getdomaininfo, id);

    CHECK(id != 0);
    op.interface_version = 0x14;
    CHECK_EQ(domctl(v, &op), -XEN_EACCES);
    op = mkop(XEN_DOMCTL_max_mem, id);
    CHECK_EQ(domctl(u->vcpu[0], &op), -XEN_EPERM); /* a domU: XSM_PRIV */
    op = mkop(XEN_DOMCTL_getdomaininfo, id);
    CHECK_EQ(domctl(u->vcpu[0], &op), -XEN_EPERM); /* XSM_XS_PRIV */
    op = mkop(XEN_DOMCTL_max_mem, 31999);
    CHECK_EQ(domctl(u->vcpu[0], &op), -XEN_ESRCH); /* the lookup comes before XSM */
    CHECK_EQ(domctl(v, &op), -XEN_ESRCH);
    op = mkop(XEN_DOMCTL_pausedomain, DOMID_SELF); /* no DOMID_SELF in domctl */
    CHECK_EQ(domctl(v, &op), -XEN_ESRCH);
    op = mkop(999, id);
    CHECK_EQ(domctl(v, &op), -XEN_ENOSYS);
    op = mkop(XEN_DOMCTL_shadow_op, id); /* a Xen op xhv does not implement */
    CHECK_EQ(domctl(v, &op), -XEN_ENOSYS);
    CHECK_EQ(hc64(v, DC, HOLE_GPA, 0, 0), -XEN_EFAULT);
    CHECK_EQ(destroy(u->vcpu[0], id), -XEN_EPERM);
    CHECK_EQ(destroy(v, id), 0);
    domain_destroy(u);
}

TEST(domctl_createdomain)
{
    struct vcpu *v = fake_ctl_vcpu();
    struct xen_domctl_getdomaininfo gi;
    struct xen_domctl op = create_op(0, 2);

    CHECK_EQ(domctl(v, &op), 0);
    domid_t id = op.domain;
    CHECK(id > 0 && id < DOMID_FIRST_RESERVED);
    CHECK_EQ(info(v, id, &gi, NULL), 0);
    CHECK_EQ(gi.domain, id);
    CHECK(gi.flags & XEN_DOMINF_paused); /* new domains start paused */
    CHECK(gi.flags & XEN_DOMINF_hvm_guest);
    CHECK(gi.flags & XEN_DOMINF_hap);
    CHECK(!(gi.flags & (XEN_DOMINF_running | XEN_DOMINF_blocked | XEN_DOMINF_shutdown)));
    CHECK_EQ(gi.flags >> XEN_DOMINF_shutdownshift, 0xffff); /* SHUTDOWN_CODE_INVALID */
    CHECK_EQ(gi.nr_online_vcpus, 0);                        /* vCPUs start down */
    CHECK_EQ(gi.max_vcpu_id, 1);
    CHECK_EQ(gi.tot_pages, 0); /* the toolstack populates */
    CHECK_EQ(gi.handle[15], 0xab);
    CHECK_EQ(gi.arch_config.emulation_flags, XEN_X86_EMU_LAPIC);
    CHECK(gi.gpaddr_bits >= 36 && gi.gpaddr_bits <= 52);
    CHECK_EQ(gi.shared_info_frame, INVALID_GFN);
    struct domain *d = rcu_lock_domain_by_id(id);
    CHECK(d && !d->privileged && d->max_grant_frames == XHV_DEFAULT_MAX_GRANT_FRAMES);
    CHECK(d && d->max_evtchn_port == 1023 && d->max_vcpus == 2);
    if (d)
        rcu_unlock_domain(d);

    /* the rover: a destroyed id is not handed out again at once */
    CHECK_EQ(destroy(v, id), 0);
    domid_t next = create(v, 0, 1);
    CHECK(next != 0 && next != id);
    CHECK_EQ(destroy(v, next), 0);

    /* an explicit id; -EEXIST when taken; XHV_SSIDREF_CONTROL makes a control domain */
    op = create_op(30000, 1);
    op.u.createdomain.ssidref = XHV_SSIDREF_CONTROL;
    CHECK_EQ(domctl(v, &op), 0);
    CHECK_EQ(op.domain, 30000);
    d = rcu_lock_domain_by_id(30000);
    CHECK(d && d->privileged);
    if (d)
        rcu_unlock_domain(d);
    op = create_op(30000, 1);
    CHECK_EQ(domctl(v, &op), -XEN_EEXIST);
    CHECK_EQ(destroy(v, 30000), 0);
}

/* sanitise_domain_config() and friends: what xhv cannot offer is refused as Xen would. */
TEST(domctl_createdomain_bad_config)
{
    struct vcpu *v = fake_ctl_vcpu();
    static const struct {
        uint32_t flags, emu, grant, vcpus, pool, misc;
        long rc;
    } t[] = {
        {XEN_DOMCTL_CDF_hvm, XEN_X86_EMU_LAPIC, 1, 1, 0, 0, -XEN_EINVAL}, /* no shadow paging */
        {0, 0, 1, 1, 0, 0, -XEN_EINVAL},                                  /* PV */
        {XEN_DOMCTL_CDF_hap, XEN_X86_EMU_LAPIC, 1, 1, 0, 0, -XEN_EINVAL}, /* hap without hvm */
        {3 | (1u << 8), XEN_X86_EMU_LAPIC, 1, 1, 0, 0, -XEN_EINVAL},      /* unknown flag */
        {3 | XEN_DOMCTL_CDF_iommu, XEN_X86_EMU_LAPIC, 1, 1, 0, 0, -XEN_EINVAL},
        {3 | XEN_DOMCTL_CDF_vpmu, XEN_X86_EMU_LAPIC, 1, 1, 0, 0, -XEN_EINVAL},
        {3 | XEN_DOMCTL_CDF_nested_virt, XEN_X86_EMU_LAPIC, 1, 1, 0, 0, -XEN_EINVAL},
        {3, XEN_X86_EMU_ALL & ~XEN_X86_EMU_VPCI, 1, 1, 0, 0, -XEN_EOPNOTSUPP}, /* full HVM */
        {3, 0, 1, 1, 0, 0, -XEN_EOPNOTSUPP},
        {3, 1u << 15, 1, 1, 0, 0, -XEN_EINVAL},             /* unknown emulator */
        {3, XEN_X86_EMU_LAPIC, 0, 1, 0, 0, -XEN_EINVAL},    /* grant version 0 */
        {3, XEN_X86_EMU_LAPIC, 2, 1, 0, 0, -XEN_EINVAL},    /* v2 not offered */
        {3, XEN_X86_EMU_LAPIC, 0x11, 1, 0, 0, -XEN_EINVAL}, /* unknown grant option */
        {3, XEN_X86_EMU_LAPIC, 1, 0, 0, 0, -XEN_EINVAL},    /* no vCPUs */
        {3, XEN_X86_EMU_LAPIC, 1, HVM_MAX_VCPUS + 1, 0, 0, -XEN_EINVAL},
        {3, XEN_X86_EMU_LAPIC, 1, 1, 1, 0, -XEN_ENOENT}, /* no cpupool 1 */
        {3, XEN_X86_EMU_LAPIC, 1, 1, 0, 2, -XEN_EINVAL}, /* unknown misc flag */
    };
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct xen_domctl op = create_op(0, t[i].vcpus);
        op.u.createdomain.flags = t[i].flags;
        op.u.createdomain.arch.emulation_flags = t[i].emu;
        op.u.createdomain.arch.misc_flags = t[i].misc;
        op.u.createdomain.grant_opts = t[i].grant;
        op.u.createdomain.cpupool_id = t[i].pool;
        long rc = domctl(v, &op);
        if (rc != t[i].rc)
            test_fail(__FILE__, __LINE__, "case %u: %ld, expected %ld", i, rc, t[i].rc);
        if (rc == 0)
            destroy(v, op.domain);
    }
}

TEST(domctl_destroy_pause_unpause)
{
    struct vcpu *v = fake_ctl_vcpu();
    struct xen_domctl_getdomaininfo gi;
    domid_t id = create(v, 0, 1);
    struct xen_domctl op;

    CHECK_EQ(destroy(v, v->domain->domain_id), -XEN_EINVAL); /* oneself */
    control_domain();
    CHECK_EQ(destroy(v, 0), -XEN_EINVAL); /* the host-side toolstack */
    op = mkop(XEN_DOMCTL_pausedomain, v->domain->domain_id);
    CHECK_EQ(domctl(v, &op), -XEN_EINVAL);

    op = mkop(XEN_DOMCTL_unpausedomain, id); /* vCPUs down: no thread starts */
    CHECK_EQ(domctl(v, &op), 0);
    CHECK_EQ(info(v, id, &gi, NULL), 0);
    CHECK(!(gi.flags & XEN_DOMINF_paused));
    CHECK_EQ(domctl(v, &op), -XEN_EINVAL); /* not paused */
    op = mkop(XEN_DOMCTL_pausedomain, id);
    for (int i = 0; i < 255; i++)
        CHECK_EQ(domctl(v, &op), 0);
    CHECK_EQ(domctl(v, &op), -XEN_EOVERFLOW);
    CHECK_EQ(info(v, id, &gi, NULL), 0);
    CHECK(gi.flags & XEN_DOMINF_paused);

    CHECK_EQ(destroy(v, id), 0);
    CHECK_EQ(destroy(v, id), -XEN_ESRCH);
}

/* 4.17: the first domain with id >= the one asked; op.domain rewritten. */
TEST(domctl_getdomaininfo_search)
{
    struct vcpu *v = fake_ctl_vcpu();
    struct xen_domctl_getdomaininfo gi;
    domid_t got = 0;

    CHECK_EQ(create(v, 32000, 1), 32000);
    CHECK_EQ(create(v, 32005, 3), 32005);
    CHECK_EQ(info(v, 32000, &gi, &got), 0);
    CHECK(got == 32000 && gi.domain == 32000);
    struct xen_domctl op32 = mkop(XEN_DOMCTL_getdomaininfo, 32001); /* a 32-bit caller */
    gpa_write(v->domain, OP, &op32, sizeof(op32));
    CHECK_EQ(hc32(v, DC, OP, 0, 0), 0);
    gpa_read(v->domain, OP, &op32, sizeof(op32));
    CHECK(op32.domain == 32005 && op32.u.getdomaininfo.max_vcpu_id == 2);
    CHECK_EQ(info(v, 32001, &gi, &got), 0);
    CHECK(got == 32005 && gi.domain == 32005 && gi.max_vcpu_id == 2);
    CHECK_EQ(info(v, 32006, &gi, &got), -XEN_ESRCH);
    CHECK_EQ(info(v, DOMID_FIRST_RESERVED, &gi, &got), -XEN_EINVAL);
    CHECK_EQ(info(v, DOMID_SELF, &gi, &got), -XEN_EINVAL);

    /* the xenstore domain may ask (XSM_XS_PRIV), not manage */
    struct xen_domctl op = create_op(32010, 1);
    op.u.createdomain.flags |= XEN_DOMCTL_CDF_xs_domain;
    CHECK_EQ(domctl(v, &op), 0);
    struct domain *xs = rcu_lock_domain_by_id(32010);
    CHECK(xs != NULL);
    if (xs) {
        CHECK_EQ(xsm_domctl(xs->vcpu[0], NULL, XEN_DOMCTL_getdomaininfo), 0);
        CHECK_EQ(xsm_domctl(xs->vcpu[0], NULL, XEN_DOMCTL_max_mem), -XEN_EPERM);
        rcu_unlock_domain(xs);
    }
    CHECK_EQ(info(v, 32010, &gi, NULL), 0);
    CHECK(gi.flags & XEN_DOMINF_xs_domain);
    destroy(v, 32000), destroy(v, 32005), destroy(v, 32010);
}

TEST(domctl_limits_handle_timeoffset)
{
    struct vcpu *v = fake_ctl_vcpu();
    struct xen_domctl_getdomaininfo gi;
    domid_t id = create(v, 0, 2);
    struct xen_domctl op = mkop(XEN_DOMCTL_max_mem, id);

    op.u.max_mem.max_memkb = 64 << 10;
    CHECK_EQ(domctl(v, &op), 0);
    CHECK_EQ(info(v, id, &gi, NULL), 0);
    CHECK_EQ(gi.max_pages, 16384);
    op.u.max_mem.max_memkb = ~0ull;
    CHECK_EQ(domctl(v, &op), 0);
    CHECK_EQ(info(v, id, &gi, NULL), 0);
    CHECK_EQ(gi.max_pages, UINT32_MAX); /* Xen's unsigned int max_pages */

    op = mkop(XEN_DOMCTL_max_vcpus, id);
    op.u.max_vcpus.max = 2;
    CHECK_EQ(domctl(v, &op), 0);
    op.u.max_vcpus.max = 3;
    CHECK_EQ(domctl(v, &op), -XEN_EINVAL);
    op = mkop(XEN_DOMCTL_max_vcpus, v->domain->domain_id);
    op.u.max_vcpus.max = 1;
    CHECK_EQ(domctl(v, &op), -XEN_EINVAL); /* oneself */

    op = mkop(XEN_DOMCTL_setdomainhandle, id);
    memset(op.u.setdomainhandle.handle, 0x5a, sizeof(op.u.setdomainhandle.handle));
    CHECK_EQ(domctl(v, &op), 0);
    CHECK_EQ(info(v, id, &gi, NULL), 0);
    CHECK(gi.handle[0] == 0x5a && gi.handle[15] == 0x5a);

    op = mkop(XEN_DOMCTL_settimeoffset, id);
    op.u.settimeoffset.time_offset_seconds = -3600;
    CHECK_EQ(domctl(v, &op), 0);
    struct domain *d = rcu_lock_domain_by_id(id);
    CHECK(d && d->time_offset == -3600);
    if (d)
        rcu_unlock_domain(d);
    destroy(v, id);
}

/* ---- affinity and getvcpuinfo ---- */

static long affinity(struct vcpu *v, uint32_t cmd, domid_t id, uint32_t vcpu, uint32_t flags,
                     uint32_t nr_bits)
{
    struct xen_domctl op = mkop(cmd, id);
    op.u.vcpuaffinity.vcpu = vcpu;
    op.u.vcpuaffinity.flags = flags;
    set_xen_guest_handle(op.u.vcpuaffinity.cpumap_hard.bitmap, (uint8_t *)(uintptr_t)MAP);
    set_xen_guest_handle(op.u.vcpuaffinity.cpumap_soft.bitmap, (uint8_t *)(uintptr_t)MAP2);
    op.u.vcpuaffinity.cpumap_hard.nr_bits = nr_bits;
    op.u.vcpuaffinity.cpumap_soft.nr_bits = nr_bits;
    return domctl(v, &op);
}

static struct xen_domctl_getvcpuinfo vcpuinfo(struct vcpu *v, domid_t id, uint32_t vcpu, long *rc)
{
    struct xen_domctl op = mkop(XEN_DOMCTL_getvcpuinfo, id);
    op.u.getvcpuinfo.vcpu = vcpu;
    *rc = domctl(v, &op);
    return op.u.getvcpuinfo;
}

TEST(domctl_vcpuaffinity_and_vcpuinfo)
{
    struct vcpu *v = fake_ctl_vcpu();
    struct domain *d = v->domain;
    domid_t id = create(v, 0, 2);
    uint8_t map[8], one = 1, ff[8];
    long rc;

    memset(ff, 0xff, sizeof(ff));
    CHECK_EQ(affinity(v, XEN_DOMCTL_getvcpuaffinity, id, 2, XEN_VCPUAFFINITY_HARD, 64),
             -XEN_EINVAL);
    CHECK_EQ(affinity(v, XEN_DOMCTL_getvcpuaffinity, id, 0, 0, 64), -XEN_EINVAL);
    struct xen_domctl op = mkop(XEN_DOMCTL_setvcpuaffinity, id); /* NULL hard map */
    op.u.vcpuaffinity.flags = XEN_VCPUAFFINITY_HARD;
    CHECK_EQ(domctl(v, &op), -XEN_EINVAL);

    /* default: every CPU; bytes past nr_cpu_ids zeroed */
    gpa_write(d, MAP, ff, sizeof(ff));
    CHECK_EQ(affinity(v, XEN_DOMCTL_getvcpuaffinity, id, 1, XEN_VCPUAFFINITY_HARD, 64), 0);
    gpa_read(d, MAP, map, sizeof(map));
    CHECK(map[0] & 1);
    if (host_nr_cpu_ids() <= 8)
        CHECK(map[7] == 0 && map[0] == (uint8_t)((1u << host_nr_cpu_ids()) - 1));

    /* pin vCPU 1 to CPU 0: the effective map is written back */
    gpa_write(d, MAP, &one, 1);
    CHECK_EQ(affinity(v, XEN_DOMCTL_setvcpuaffinity, id, 1, XEN_VCPUAFFINITY_HARD, 8), 0);
    gpa_write(d, MAP, ff, sizeof(ff));
    CHECK_EQ(affinity(v, XEN_DOMCTL_getvcpuaffinity, id, 1, XEN_VCPUAFFINITY_HARD, 64), 0);
    gpa_read(d, MAP, map, sizeof(map));
    CHECK(map[0] == 1 && map[1] == 0 && map[7] == 0);
    struct xen_domctl_getvcpuinfo vi = vcpuinfo(v, id, 1, &rc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(vi.cpu, 0); /* pinned to one CPU: that one */
    CHECK(!vi.online && !vi.running);

    /* an empty hard map; a map with only bits past nr_bits */
    uint8_t zero = 0, high = 0xfe;
    gpa_write(d, MAP, &zero, 1);
    CHECK_EQ(affinity(v, XEN_DOMCTL_setvcpuaffinity, id, 1, XEN_VCPUAFFINITY_HARD, 8), -XEN_EINVAL);
    gpa_write(d, MAP, &high, 1);
    CHECK_EQ(affinity(v, XEN_DOMCTL_setvcpuaffinity, id, 1, XEN_VCPUAFFINITY_HARD, 1), -XEN_EINVAL);

    /* soft affinity is kept; the default is every CPU */
    gpa_write(d, MAP2, &one, 1);
    CHECK_EQ(affinity(v, XEN_DOMCTL_setvcpuaffinity, id, 0, XEN_VCPUAFFINITY_SOFT, 8), 0);
    gpa_write(d, MAP2, ff, 8);
    CHECK_EQ(affinity(v, XEN_DOMCTL_getvcpuaffinity, id, 0, XEN_VCPUAFFINITY_SOFT, 64), 0);
    gpa_read(d, MAP2, map, 8);
    CHECK(map[0] == 1 && map[7] == 0);
    gpa_write(d, MAP2, ff, 8);
    CHECK_EQ(affinity(v, XEN_DOMCTL_getvcpuaffinity, id, 1, XEN_VCPUAFFINITY_SOFT, 64), 0);
    gpa_read(d, MAP2, map, 8);
    CHECK(map[0] & 1);

    vcpuinfo(v, id, 2, &rc);
    CHECK_EQ(rc, -XEN_EINVAL);
    destroy(v, id);
}

/* ---- xsm.c ---- */

TEST(xsm_default_actions)
{
    struct domain *p = fake_domain(16, 1, true), *a = fake_domain(16, 1, false);
    struct domain *b = fake_domain(16, 1, false);

    CHECK_EQ(xsm_default_action(XSM_HOOK, a, b), 0);
    CHECK_EQ(xsm_default_action(XSM_TARGET, a, a), 0);
    CHECK_EQ(xsm_default_action(XSM_TARGET, a, b), -XEN_EPERM);
    CHECK_EQ(xsm_default_action(XSM_TARGET, p, b), 0);
    CHECK_EQ(xsm_default_action(XSM_PRIV, a, a), -XEN_EPERM);
    CHECK_EQ(xsm_default_action(XSM_PRIV, p, NULL), 0);
    CHECK_EQ(xsm_default_action(XSM_XS_PRIV, a, b), -XEN_EPERM);
    b->cdf_flags |= XEN_DOMCTL_CDF_xs_domain;
    CHECK_EQ(xsm_default_action(XSM_XS_PRIV, b, a), 0);
    CHECK_EQ(xsm_default_action(XSM_TARGET, b, a), -XEN_EPERM); /* no TARGET rights */
    CHECK_EQ(xsm_target(a->vcpu[0], b), -XEN_EPERM);
    CHECK_EQ(xsm_memory_adjust_reservation(p->vcpu[0], a), 0);
    CHECK_EQ(xsm_memory_stat_reservation(a->vcpu[0], p), -XEN_EPERM);
    CHECK_EQ(xsm_hvm_param(a->vcpu[0], a), 0);
    CHECK_EQ(xsm_sysctl(a->vcpu[0], XEN_SYSCTL_physinfo), -XEN_EPERM);
    CHECK_EQ(xsm_sysctl(p->vcpu[0], XEN_SYSCTL_physinfo), 0);
    CHECK_EQ(xsm_domctl(a->vcpu[0], b, XEN_DOMCTL_pausedomain), -XEN_EPERM);
    CHECK_EQ(xsm_domctl(p->vcpu[0], NULL, XEN_DOMCTL_createdomain), 0);
    CHECK_EQ(xsm_schedop_shutdown(a->vcpu[0], b), -XEN_EPERM);
    CHECK_EQ(xsm_schedop_shutdown(p->vcpu[0], b), 0);
    CHECK_EQ(xsm_console_io(a->vcpu[0], CONSOLEIO_read), -XEN_EPERM);
    CHECK_EQ(xsm_console_io(p->vcpu[0], CONSOLEIO_read), 0);
    CHECK_EQ(xsm_xen_version(a->vcpu[0], XENVER_version), 0);
    CHECK_EQ(xsm_xen_version(a->vcpu[0], XENVER_pagesize), 0);
    CHECK_EQ(xsm_xen_version(a->vcpu[0], XENVER_commandline), -XEN_EPERM);
    CHECK_EQ(xsm_xen_version(p->vcpu[0], XENVER_commandline), 0);
    domain_destroy(p), domain_destroy(a), domain_destroy(b);
}

/* ---- memory_op on behalf of another domain ---- */

static struct xen_memory_reservation resv(domid_t dom, uint64_t nr, unsigned order, uint32_t flags)
{
    struct xen_memory_reservation r;
    memset(&r, 0, sizeof(r));
    set_xen_guest_handle(r.extent_start, (xen_pfn_t *)(uintptr_t)MAP);
    r.nr_extents = nr;
    r.extent_order = order;
    r.mem_flags = flags;
    r.domid = dom;
    return r;
}

static long memop(struct vcpu *v, unsigned cmd, const struct xen_memory_reservation *r,
                  const uint64_t *gfns, unsigned n)
{
    gpa_write(v->domain, MAP, gfns, n * sizeof(*gfns));
    gpa_write(v->domain, OP, r, sizeof(*r));
    return hc64(v, MO, cmd, OP, 0);
}

static bool is_ram(struct domain *d, uint64_t gfn)
{
    struct p2m_entry e;
    return p2m_lookup(d, gfn, &e) == 0 && e.type == p2m_ram_rw;
}

TEST(memop_populate_on_behalf)
{
    struct vcpu *v = fake_ctl_vcpu();
    struct domain *u = fake_domain(16, 1, false);
    domid_t id = create(v, 0, 1);
    struct domain *d = rcu_lock_domain_by_id(id);
    uint64_t gfns[4] = {0x100, 0x101, 0x200, 0x7000};
    struct xen_domctl op = mkop(XEN_DOMCTL_max_mem, id);
    domid_t did = id;

    CHECK(d != NULL);
    if (!d)
        return;
    struct xen_memory_reservation r = resv(id, 4, 0, 0);
    CHECK_EQ(memop(v, XENMEM_populate_physmap, &r, gfns, 4), 0); /* max_pages 0 */
    op.u.max_mem.max_memkb = 6 * 4;                              /* six pages */
    CHECK_EQ(domctl(v, &op), 0);
    CHECK_EQ(memop(v, XENMEM_populate_physmap, &r, gfns, 4), 4);
    CHECK(is_ram(d, 0x100) && is_ram(d, 0x101) && is_ram(d, 0x200) && is_ram(d, 0x7000));
    CHECK(!is_ram(d, 0x102));
    CHECK_EQ(d->tot_pages, 4);
    gpa_write(v->domain, OP, &did, sizeof(did));
    CHECK_EQ(hc64(v, MO, XENMEM_current_reservation, OP, 0), 4);
    CHECK_EQ(hc64(v, MO, XENMEM_maximum_reservation, OP, 0), 6);

    /* max_pages stops it (assign_pages() "over-allocation"): 2 of 4 */
    uint64_t more[4] = {0x300, 0x301, 0x302, 0x303};
    CHECK_EQ(memop(v, XENMEM_populate_physmap, &r, more, 4), 2);
    CHECK_EQ(d->tot_pages, 6);
    CHECK(is_ram(d, 0x301) && !is_ram(d, 0x302));

    /* order beyond the control domain's max order (12); PoD unsupported */
    op.u.max_mem.max_memkb = 64 << 10;
    CHECK_EQ(domctl(v, &op), 0);
    r = resv(id, 1, 13, 0);
    CHECK_EQ(memop(v, XENMEM_populate_physmap, &r, more, 1), 0);
    r = resv(id, 1, 9, 0); /* a 2 MiB superpage */
    uint64_t big = 0x400;
    CHECK_EQ(memop(v, XENMEM_populate_physmap, &r, &big, 1), 1);
    CHECK(is_ram(d, 0x400) && is_ram(d, 0x5ff) && !is_ram(d, 0x600));
    CHECK_EQ(d->tot_pages, 6 + 512);
    r = resv(id, 1, 0, XENMEMF_populate_on_demand);
    CHECK_EQ(memop(v, XENMEM_populate_physmap, &r, more + 2, 1), 0);

    /* decrease on behalf frees; increase only charges (translated domain) */
    r = resv(id, 2, 0, 0);
    CHECK_EQ(memop(v, XENMEM_decrease_reservation, &r, gfns, 2), 2);
    CHECK(!is_ram(d, 0x100) && !is_ram(d, 0x101));
    CHECK_EQ(d->tot_pages, 4 + 512);
    r = resv(id, 3, 0, 0);
    CHECK_EQ(memop(v, XENMEM_increase_reservation, &r, gfns, 3), 3);
    CHECK_EQ(d->tot_pages, 7 + 512);
    CHECK(!is_ram(d, 0x100));

    /* a domU acting on another domain: XSM_TARGET refuses; 0 extents, -EPERM for queries */
    r = resv(id, 1, 0, 0);
    CHECK_EQ(memop(u->vcpu[0], XENMEM_populate_physmap, &r, gfns, 1), 0);
    CHECK_EQ(memop(u->vcpu[0], XENMEM_increase_reservation, &r, gfns, 1), 0);
    CHECK_EQ(memop(u->vcpu[0], XENMEM_decrease_reservation, &r, gfns + 2, 1), 0);
    CHECK(is_ram(d, 0x200) && !is_ram(d, 0x100));
    gpa_write(u, OP, &did, sizeof(did));
    CHECK_EQ(hc64(u->vcpu[0], MO, XENMEM_current_reservation, OP, 0), -XEN_EPERM);
    CHECK_EQ(hc64(u->vcpu[0], MO, XENMEM_maximum_reservation, OP, 0), -XEN_EPERM);
    CHECK_EQ(d->tot_pages, 7 + 512);

    /* a domU repopulating its own ballooned-out page */
    r = resv(DOMID_SELF, 1, 0, 0);
    uint64_t own = 0x300;
    CHECK_EQ(memop(u->vcpu[0], XENMEM_decrease_reservation, &r, &own, 1), 1);
    CHECK(!is_ram(u, 0x300));
    CHECK_EQ(memop(u->vcpu[0], XENMEM_populate_physmap, &r, &own, 1), 1);
    CHECK(is_ram(u, 0x300));
    rcu_unlock_domain(d);
    destroy(v, id);
    domain_destroy(u);
}

/* ---- concurrency: creates, destroys and searches from several callers at once ---- */

struct racer {
    struct vcpu *v;
    domid_t target;
    long rc;
    unsigned created;
};

static void *create_destroy_loop(void *arg)
{
    struct racer *r = arg;
    struct xen_domctl_getdomaininfo gi;
    for (int i = 0; i < 40; i++) {
        domid_t id = create(r->v, 0, 1);
        r->created += id != 0;
        if (id && info(r->v, id, &gi, NULL) == 0 && gi.domain != id)
            r->rc = -1;
        if (id && destroy(r->v, id) != 0)
            r->rc = -2;
    }
    return NULL;
}

static void *destroy_one(void *arg)
{
    struct racer *r = arg;
    r->rc = destroy(r->v, r->target);
    return NULL;
}

TEST(domctl_concurrent_create_destroy)
{
    struct racer r[4];
    pthread_t t[4];

    fake_ctl_vcpu();
    for (int i = 0; i < 4; i++) {
        r[i] = (struct racer){fake_domain(16, 1, true)->vcpu[0], 0, 0, 0};
        pthread_create(&t[i], NULL, create_destroy_loop, &r[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(r[i].rc, 0);
        CHECK_EQ(r[i].created, 40);
    }
    /* two destroys of one domain: one does it, the other finds it dying or gone */
    for (int round = 0; round < 20; round++) {
        domid_t id = create(r[0].v, 0, 1);
        r[0].target = r[1].target = id;
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, destroy_one, &r[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        CHECK(r[0].rc == 0 || r[0].rc == -XEN_ESRCH);
        CHECK(r[1].rc == 0 || r[1].rc == -XEN_ESRCH);
        CHECK(r[0].rc == 0 || r[1].rc == 0);
        struct domain *gone = rcu_lock_domain_by_id(id);
        CHECK(gone == NULL);
        if (gone)
            rcu_unlock_domain(gone);
    }
    for (int i = 0; i < 4; i++)
        domain_destroy(r[i].v->domain);
}

/* The daemon's path: a tool connection's vCPU of domain 0, handles in its shared buffer. */
TEST(domctl_from_tool_connection)
{
    static uint8_t buf[4096];
    const uint64_t base = 0x7f0000000000ull, args[5] = {base};
    struct vcpu *t = ctl_vcpu_create(buf, sizeof(buf), base);
    struct xen_domctl op = create_op(0, 1);

    fake_ctl_vcpu();
    CHECK(t != NULL);
    if (!t)
        return;
    memcpy(buf, &op, sizeof(op));
    CHECK_EQ(hypercall_dispatch(t, DC, args), 0);
    memcpy(&op, buf, sizeof(op));
    domid_t id = op.domain;
    CHECK(id != 0);
    op = mkop(XEN_DOMCTL_getdomaininfo, 0); /* Domain-0 itself: no vCPUs, not HVM */
    memcpy(buf, &op, sizeof(op));
    CHECK_EQ(hypercall_dispatch(t, DC, args), 0);
    memcpy(&op, buf, sizeof(op));
    CHECK(op.domain == 0 && op.u.getdomaininfo.max_vcpu_id == XEN_INVALID_MAX_VCPU_ID);
    CHECK(!(op.u.getdomaininfo.flags & XEN_DOMINF_hvm_guest));
    op = mkop(XEN_DOMCTL_pausedomain, 0);
    memcpy(buf, &op, sizeof(op));
    CHECK_EQ(hypercall_dispatch(t, DC, args), -XEN_EINVAL); /* oneself */
    op = mkop(XEN_DOMCTL_destroydomain, id);
    memcpy(buf, &op, sizeof(op));
    CHECK_EQ(hypercall_dispatch(t, DC, args), 0);
    const uint64_t bad[5] = {base + sizeof(buf) - 8};
    CHECK_EQ(hypercall_dispatch(t, DC, bad), -XEN_EFAULT); /* runs off the buffer */
    ctl_vcpu_destroy(t);
}
