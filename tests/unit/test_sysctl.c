/* test_sysctl.c: sysctl (35): version and XSM, physinfo, getdomaininfolist paging, the
 * readconsole ring semantics, CPU and NUMA topology, getcpuinfo. */
#include <string.h>

#include "core/accel.h"
#include "core/domctl.h"
#include "tests/unit/fake_accel.h"
#include "tests/unit/harness.h"

#define SC __HYPERVISOR_sysctl
#define DC __HYPERVISOR_domctl
#define OP 0x10000ull
#define BUF 0x20000ull
#define BUF2 0x40000ull

static struct xen_sysctl mkop(uint32_t cmd)
{
    struct xen_sysctl op;
    memset(&op, 0, sizeof(op));
    op.cmd = cmd;
    op.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    return op;
}

static long sysctl(struct vcpu *v, struct xen_sysctl *op)
{
    gpa_write(v->domain, OP, op, sizeof(*op));
    long rc = hc64(v, SC, OP, 0, 0);
    gpa_read(v->domain, OP, op, sizeof(*op));
    return rc;
}

static long domctl_simple(struct vcpu *v, uint32_t cmd, domid_t dom, bool create)
{
    struct xen_domctl op;
    memset(&op, 0, sizeof(op));
    op.cmd = cmd;
    op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    op.domain = dom;
    if (create) {
        op.u.createdomain.flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
        op.u.createdomain.max_vcpus = 1;
        op.u.createdomain.max_grant_frames = op.u.createdomain.max_maptrack_frames = -1;
        op.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
        op.u.createdomain.arch.emulation_flags = XEN_X86_EMU_LAPIC;
    }
    gpa_write(v->domain, OP, &op, sizeof(op));
    return hc64(v, DC, OP, 0, 0);
}

TEST(sysctl_version_xsm_unknown)
{
    struct vcpu *v = fake_ctl_vcpu();
    struct domain *u = fake_domain(16, 1, false);
    struct xen_sysctl op = mkop(XEN_SYSCTL_physinfo);

    op.interface_version = 0x14;
    CHECK_EQ(sysctl(v, &op), -XEN_EACCES);
    op = mkop(XEN_SYSCTL_physinfo);
    CHECK_EQ(sysctl(u->vcpu[0], &op), -XEN_EPERM);
    op = mkop(XEN_SYSCTL_readconsole);
    CHECK_EQ(sysctl(u->vcpu[0], &op), -XEN_EPERM);
    op = mkop(XEN_SYSCTL_tbuf_op);
    CHECK_EQ(sysctl(v, &op), -XEN_ENOSYS);
    op = mkop(999);
    CHECK_EQ(sysctl(v, &op), -XEN_ENOSYS);
    CHECK_EQ(hc64(v, SC, HOLE_GPA, 0, 0), -XEN_EFAULT);
    op = mkop(XEN_SYSCTL_sched_id);
    CHECK_EQ(sysctl(v, &op), 0);
    CHECK_EQ(op.u.sched_id.sched_id, XEN_SCHEDULER_CREDIT2);
    CHECK_EQ(hc32(v, SC, OP, 0, 0), 0); /* a 32-bit caller: the same layout */
    domain_destroy(u);
}

TEST(sysctl_physinfo)
{
    struct vcpu *v = fake_ctl_vcpu();
    struct xen_sysctl op = mkop(XEN_SYSCTL_physinfo);

    CHECK_EQ(sysctl(v, &op), 0);
    const struct xen_sysctl_physinfo *pi = &op.u.physinfo;
    CHECK(pi->threads_per_core >= 1 && pi->cores_per_socket >= 1);
    CHECK(pi->nr_cpus >= 1 && pi->max_cpu_id + 1 == host_nr_cpu_ids());
    CHECK(pi->nr_nodes == 1 && pi->max_node_id == 63);
    CHECK_EQ(pi->capabilities,
             XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_hap | XEN_SYSCTL_PHYSCAP_gnttab_v1);
    CHECK(pi->total_pages > 0 && pi->free_pages <= pi->total_pages && pi->max_mfn > 0);
    CHECK(pi->hw_cap[0] != 0); /* CPUID 1 EDX */
}

/* Domains from first_domain on, max_domains at a time: how tools page through them. */
TEST(sysctl_getdomaininfolist_paging)
{
    struct vcpu *v = fake_ctl_vcpu();
    struct xen_domctl_getdomaininfo gi[3];
    static const domid_t ids[3] = {31000, 31001, 31003};

    for (int i = 0; i < 3; i++)
        CHECK_EQ(domctl_simple(v, XEN_DOMCTL_createdomain, ids[i], true), 0);
    struct xen_sysctl op = mkop(XEN_SYSCTL_getdomaininfolist);
    op.u.getdomaininfolist.first_domain = 31000;
    op.u.getdomaininfolist.max_domains = 2;
    set_xen_guest_handle(op.u.getdomaininfolist.buffer,
                         (xen_domctl_getdomaininfo_t *)(uintptr_t)BUF);
    CHECK_EQ(sysctl(v, &op), 0);
    CHECK_EQ(op.u.getdomaininfolist.num_domains, 2);
    gpa_read(v->domain, BUF, gi, 2 * sizeof(gi[0]));
    CHECK(gi[0].domain == 31000 && gi[1].domain == 31001);
    CHECK(gi[0].flags & XEN_DOMINF_paused);

    op.u.getdomaininfolist.first_domain = gi[1].domain + 1;
    CHECK_EQ(sysctl(v, &op), 0);
    CHECK_EQ(op.u.getdomaininfolist.num_domains, 1);
    gpa_read(v->domain, BUF, gi, sizeof(gi[0]));
    CHECK_EQ(gi[0].domain, 31003);

    op.u.getdomaininfolist.first_domain = 31004;
    CHECK_EQ(sysctl(v, &op), 0);
    CHECK_EQ(op.u.getdomaininfolist.num_domains, 0);
    op.u.getdomaininfolist.first_domain = 31000;
    op.u.getdomaininfolist.max_domains = 0;
    CHECK_EQ(sysctl(v, &op), 0);
    CHECK_EQ(op.u.getdomaininfolist.num_domains, 0);
    op.u.getdomaininfolist.max_domains = 3;
    set_xen_guest_handle(op.u.getdomaininfolist.buffer,
                         (xen_domctl_getdomaininfo_t *)(uintptr_t)HOLE_GPA);
    CHECK_EQ(sysctl(v, &op), -XEN_EFAULT);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(domctl_simple(v, XEN_DOMCTL_destroydomain, ids[i], false), 0);
}

/* readconsole: count bytes into buffer from index (incremental) or the consumer. */
static long readconsole(struct vcpu *v, bool incremental, bool clear, uint32_t *index,
                        uint32_t count, char *out)
{
    struct xen_sysctl op = mkop(XEN_SYSCTL_readconsole);
    op.u.readconsole.incremental = incremental;
    op.u.readconsole.clear = clear;
    op.u.readconsole.index = *index;
    op.u.readconsole.count = count;
    set_xen_guest_handle(op.u.readconsole.buffer, (char *)(uintptr_t)BUF2);
    long rc = sysctl(v, &op);
    *index = op.u.readconsole.index;
    if (rc == 0) {
        gpa_read(v->domain, BUF2, out, op.u.readconsole.count);
        out[op.u.readconsole.count] = 0;
        return op.u.readconsole.count;
    }
    return rc;
}

TEST(sysctl_readconsole_incremental)
{
    struct vcpu *v = fake_ctl_vcpu();
    static char buf[XHV_LOG_RING + 1];
    uint32_t idx = 0, end;

    xhv_log(LOG_INFO, "readconsole marker one");
    long n = readconsole(v, false, false, &idx, XHV_LOG_RING, buf);
    CHECK(n > 0 && strstr(buf, "readconsole marker one") != NULL);
    end = idx;

    /* incremental from the end: just the new line; again: nothing */
    xhv_log(LOG_INFO, "readconsole marker two");
    n = readconsole(v, true, false, &idx, XHV_LOG_RING, buf);
    CHECK(n > 0 && strstr(buf, "marker two") && !strstr(buf, "marker one"));
    CHECK_EQ(idx, end + (uint32_t)n);
    CHECK_EQ(readconsole(v, true, false, &idx, XHV_LOG_RING, buf), 0);

    /* a small buffer: count bytes at a time, the index advancing */
    uint32_t from = end;
    CHECK_EQ(readconsole(v, true, false, &from, 5, buf), 5);
    CHECK_EQ(from, end + 5);
    CHECK(strncmp(buf, "(XHV)", 5) == 0);

    /* an index outside the valid window reads from the consumer */
    uint32_t bogus = idx + 1000;
    n = readconsole(v, true, false, &bogus, XHV_LOG_RING, buf);
    CHECK(n > 0 && strstr(buf, "marker one"));

    /* clear: later non-incremental reads start where the clearing read stopped */
    uint32_t i2 = 0;
    CHECK(readconsole(v, false, true, &i2, XHV_LOG_RING, buf) > 0);
    i2 = 0;
    CHECK_EQ(readconsole(v, false, false, &i2, XHV_LOG_RING, buf), 0);
    xhv_log(LOG_INFO, "readconsole marker three");
    n = readconsole(v, false, false, &i2, XHV_LOG_RING, buf);
    CHECK(n > 0 && strstr(buf, "marker three") && !strstr(buf, "marker two"));

    struct xen_sysctl op = mkop(XEN_SYSCTL_readconsole);
    op.u.readconsole.count = 100;
    set_xen_guest_handle(op.u.readconsole.buffer, (char *)(uintptr_t)HOLE_GPA);
    CHECK_EQ(sysctl(v, &op), -XEN_EFAULT);
}

TEST(sysctl_topology_and_cpuinfo)
{
    struct vcpu *v = fake_ctl_vcpu();
    struct xen_sysctl op = mkop(XEN_SYSCTL_cputopoinfo);
    unsigned nr = host_nr_cpu_ids();

    CHECK_EQ(sysctl(v, &op), 0); /* NULL handle: the count */
    CHECK_EQ(op.u.cputopoinfo.num_cpus, nr);
    op.u.cputopoinfo.num_cpus = 1;
    set_xen_guest_handle(op.u.cputopoinfo.cputopo, (xen_sysctl_cputopo_t *)(uintptr_t)BUF);
    CHECK_EQ(sysctl(v, &op), 0);
    CHECK_EQ(op.u.cputopoinfo.num_cpus, 1);
    struct xen_sysctl_cputopo t;
    gpa_read(v->domain, BUF, &t, sizeof(t));
    CHECK_EQ(t.node, 0);

    op = mkop(XEN_SYSCTL_numainfo);
    CHECK_EQ(sysctl(v, &op), 0);
    CHECK_EQ(op.u.numainfo.num_nodes, 1);
    op.u.numainfo.num_nodes = 4;
    set_xen_guest_handle(op.u.numainfo.meminfo, (xen_sysctl_meminfo_t *)(uintptr_t)BUF);
    set_xen_guest_handle(op.u.numainfo.distance, (uint32_t *)(uintptr_t)(BUF + 0x100));
    CHECK_EQ(sysctl(v, &op), 0);
    CHECK_EQ(op.u.numainfo.num_nodes, 1);
    struct xen_sysctl_meminfo mi;
    uint32_t dist = 0;
    gpa_read(v->domain, BUF, &mi, sizeof(mi));
    gpa_read(v->domain, BUF + 0x100, &dist, sizeof(dist));
    CHECK(mi.memsize > 0 && mi.memfree <= mi.memsize && dist == 10);

    op = mkop(XEN_SYSCTL_getcpuinfo);
    op.u.getcpuinfo.max_cpus = 1;
    set_xen_guest_handle(op.u.getcpuinfo.info, (xen_sysctl_cpuinfo_t *)(uintptr_t)BUF);
    CHECK_EQ(sysctl(v, &op), 0);
    CHECK_EQ(op.u.getcpuinfo.nr_cpus, 1);
    op.u.getcpuinfo.max_cpus = 100000;
    CHECK_EQ(sysctl(v, &op), 0);
    CHECK_EQ(op.u.getcpuinfo.nr_cpus, nr);
    op.u.getcpuinfo.max_cpus = 0;
    CHECK_EQ(sysctl(v, &op), 0);
    CHECK_EQ(op.u.getcpuinfo.nr_cpus, 0);
}
