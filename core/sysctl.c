/* sysctl.c: sysctl (35) as Xen 4.17's do_sysctl(): host facts, domain list, the log ring. */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "core/accel.h"
#include "core/domctl.h"
#include "core/hypercall.h"
#include "core/xsm.h"

/* Tools-only structs of fixed layout: a 32-bit caller's is the same (no compat sysctl). */
_Static_assert(sizeof(struct xen_sysctl) == 136, "xen_sysctl");
_Static_assert(sizeof(struct xen_sysctl_physinfo) == 112, "xen_sysctl_physinfo");

#define MAX_NUMNODES 64    /* CONFIG_NR_NUMA_NODES: physinfo's max_node_id is MAX_NUMNODES-1 */
#define NODE_LOCAL_DIST 10 /* __node_distance(n, n) without a SLIT */

static pthread_mutex_t sysctl_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- host facts ---- */

/* Both are fixed while xhv runs: worked out once (sysconf reads sysfs; CPUID may trap when
 * xhv itself runs in a VM), then read from a cache. */
unsigned host_nr_cpu_ids(void)
{
    static unsigned cached;
    unsigned v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (!v) {
        long n = sysconf(_SC_NPROCESSORS_CONF);
        v = n < 1 ? 1 : n > CPU_SETSIZE ? CPU_SETSIZE : (unsigned)n;
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

/* hap_paddr_bits: CPUID 0x80000008 EAX[23:16] (guest size) or [7:0], at most PADDR_BITS. */
unsigned host_paddr_bits(void)
{
    static unsigned cached;
    unsigned a = 0, b, c, d, bits = __atomic_load_n(&cached, __ATOMIC_RELAXED);

    if (bits)
        return bits;
    bits = 36;
    if (__get_cpuid(0x80000008, &a, &b, &c, &d))
        bits = (a >> 16) & 0xff ? (a >> 16) & 0xff : a & 0xff;
    bits = bits < 32 ? 36 : bits > 52 ? 52 : bits;
    __atomic_store_n(&cached, bits, __ATOMIC_RELAXED);
    return bits;
}

/* One unsigned value from a sysfs file; -1 if absent. */
static long sysfs_long(const char *fmt, unsigned cpu)
{
    char path[128];
    long v = -1;

    snprintf(path, sizeof(path), fmt, cpu);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* Number of CPUs in a sysfs cpu list ("0-3,8"); 0 if absent. */
static unsigned sysfs_cpulist_weight(const char *path)
{
    char buf[4096];
    unsigned n = 0;
    FILE *f = fopen(path, "r");

    if (!f)
        return 0;
    if (fgets(buf, sizeof(buf), f)) {
        for (char *p = buf; *p && *p != '\n';) {
            char *end;
            unsigned long lo = strtoul(p, &end, 10), hi = lo;
            if (end == p)
                break;
            if (*end == '-')
                hi = strtoul(end + 1, &end, 10);
            n += hi >= lo ? (unsigned)(hi - lo + 1) : 0;
            p = *end == ',' ? end + 1 : end;
        }
    }
    fclose(f);
    return n;
}

static uint64_t host_cpu_khz(void)
{
    char line[256];
    double mhz = 0;

    if (xhv_tsc_khz)
        return xhv_tsc_khz;
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof(line), f) && !mhz)
        if (sscanf(line, "cpu MHz : %lf", &mhz) != 1)
            mhz = 0;
    if (f)
        fclose(f);
    return (uint64_t)(mhz * 1000);
}

/* Idle time in ns (idle + iowait in /proc/stat) of host CPUs 0..nr-1, read in one pass;
 * 0 for a CPU that is offline. */
static void cpus_idle_ns(uint64_t *out, unsigned nr)
{
    char line[512];
    unsigned long long idle, iowait;
    unsigned n;
    long hz = sysconf(_SC_CLK_TCK);
    FILE *f = fopen("/proc/stat", "r");

    memset(out, 0, nr * sizeof(*out));
    while (f && hz > 0 && fgets(line, sizeof(line), f))
        if (sscanf(line, "cpu%u %*u %*u %*u %llu %llu", &n, &idle, &iowait) == 3 && n < nr)
            out[n] = (idle + iowait) * (1000000000ull / (uint64_t)hz);
    if (f)
        fclose(f);
}

/* ---- XEN_SYSCTL_physinfo ---- */

/* boot_cpu_data.x86_capability words 0-7 (FEATURESET_1d, 1c, e1d, e1c, Da1, 7b0, 7c0, e7d). */
static void host_hw_cap(uint32_t cap[8])
{
    static const struct {
        unsigned leaf, sub, reg;
    } w[8] = {{1, 0, 3},   {1, 0, 2}, {0x80000001, 0, 3}, {0x80000001, 0, 2},
              {0xd, 1, 0}, {7, 0, 1}, {7, 0, 2},          {0x80000007, 0, 3}};
    unsigned r[4];

    for (int i = 0; i < 8; i++) {
        cap[i] = 0;
        if (__get_cpuid_count(w[i].leaf, w[i].sub, &r[0], &r[1], &r[2], &r[3]))
            cap[i] = r[w[i].reg];
    }
}

/* The host seen as one NUMA node; HVM with HAP only, grant table v1. */
static void physinfo(struct xen_sysctl_physinfo *pi)
{
    struct sysinfo si;
    unsigned threads =
        sysfs_cpulist_weight("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list");
    unsigned package =
        sysfs_cpulist_weight("/sys/devices/system/cpu/cpu0/topology/core_siblings_list");
    long online = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES);

    memset(pi, 0, sizeof(*pi));
    pi->threads_per_core = threads ? threads : 1;
    pi->cores_per_socket = package >= pi->threads_per_core ? package / pi->threads_per_core : 1;
    pi->nr_cpus = online > 0 ? (uint32_t)online : 1;
    pi->nr_nodes = 1;
    pi->max_node_id = MAX_NUMNODES - 1;
    pi->max_cpu_id = host_nr_cpu_ids() - 1;
    pi->cpu_khz = (uint32_t)host_cpu_khz();
    pi->capabilities =
        XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_hap | XEN_SYSCTL_PHYSCAP_gnttab_v1;
    if (sysinfo(&si) == 0) {
        pi->total_pages = (uint64_t)si.totalram * si.mem_unit >> PAGE_SHIFT;
        pi->free_pages = (uint64_t)si.freeram * si.mem_unit >> PAGE_SHIFT;
    }
    pi->max_mfn = pages > 0 ? (uint64_t)pages - 1 : 0; /* get_upper_mfn_bound() */
    host_hw_cap(pi->hw_cap);
}

/* ---- XEN_SYSCTL_getdomaininfolist ---- */

/* Domains with id >= first_domain, at most max_domains, in id order. */
static long getdomaininfolist(struct vcpu *v, struct xen_sysctl_getdomaininfolist *l)
{
    struct xen_domctl_getdomaininfo info;
    uint64_t buf = guest_handle_addr(l->buffer);
    uint32_t num = 0;
    long rc = 0;

    for (unsigned id = l->first_domain; id < XHV_DOMID_LIMIT;) {
        struct domain *d = domain_find_from((domid_t)id);
        if (!d)
            break;
        id = d->domain_id + 1u;
        if (num == l->max_domains) {
            rcu_unlock_domain(d);
            break;
        }
        if (xsm_getdomaininfo(v, d) == 0) {
            getdomaininfo(d, &info);
            rc = copy_to_guest(v, buf + (uint64_t)num * sizeof(info), &info, sizeof(info));
            num += rc == 0;
        }
        rcu_unlock_domain(d);
        if (rc)
            return -XEN_EFAULT;
    }
    l->num_domains = num;
    return 0;
}

/* ---- XEN_SYSCTL_readconsole ---- */

/*
 * read_console_ring() over xhv's log ring: the valid window is [c, p) where c is the
 * consumer (advanced by `clear` and by the ring wrapping). An incremental read starts at
 * index when it lies in (c, p]. Returns the bytes read in count and the end index in index.
 */
static long readconsole(struct vcpu *v, struct xen_sysctl_readconsole *rc)
{
    static uint32_t consumer; /* Xen's conringc, under sysctl_lock */
    uint32_t c = consumer, skip = 0, n, len;
    char *ring = malloc(XHV_LOG_RING);

    if (!ring)
        return -XEN_ENOMEM;
    n = (uint32_t)xhv_log_read(ring, XHV_LOG_RING, &c); /* c becomes p */
    uint32_t start = c - n;                             /* the consumer, or the ring's tail */
    if (rc->incremental && rc->index - start - 1 < n)   /* start < index <= p */
        skip = rc->index - start;
    len = n - skip < rc->count ? n - skip : rc->count;
    long ret =
        len && copy_to_guest(v, guest_handle_addr(rc->buffer), ring + skip, len) ? -XEN_EFAULT : 0;
    free(ring);
    if (ret)
        return ret;
    if (rc->clear)
        consumer = start + skip + len;
    rc->count = len;
    rc->index = start + skip + len;
    return 0;
}

/* ---- topology ---- */

/* Host CPUs and their core / socket; every CPU is on node 0 (xhv's single node). */
static long cputopoinfo(struct vcpu *v, struct xen_sysctl_cputopoinfo *ti)
{
    unsigned num = host_nr_cpu_ids(), i;
    uint64_t buf = guest_handle_addr(ti->cputopo);

    if (buf) {
        if (num > ti->num_cpus)
            num = ti->num_cpus;
        for (i = 0; i < num; i++) {
            long core = sysfs_long("/sys/devices/system/cpu/cpu%u/topology/core_id", i);
            long socket =
                sysfs_long("/sys/devices/system/cpu/cpu%u/topology/physical_package_id", i);
            struct xen_sysctl_cputopo t = {XEN_INVALID_CORE_ID, XEN_INVALID_SOCKET_ID,
                                           XEN_INVALID_NODE_ID};
            if (core >= 0 && socket >= 0)
                t = (struct xen_sysctl_cputopo){(uint32_t)core, (uint32_t)socket, 0};
            if (copy_to_guest(v, buf + (uint64_t)i * sizeof(t), &t, sizeof(t)))
                return -XEN_EFAULT;
        }
    }
    ti->num_cpus = num;
    return 0;
}

/* One node: all of the host's memory, distance 10 to itself. NULL handles: the count. */
static long numainfo(struct vcpu *v, struct xen_sysctl_numainfo *ni)
{
    uint64_t mem = guest_handle_addr(ni->meminfo), dist = guest_handle_addr(ni->distance);
    unsigned num = 1;
    struct sysinfo si;

    if (mem || dist) {
        if (num > ni->num_nodes)
            num = ni->num_nodes;
        if (num && mem) {
            struct xen_sysctl_meminfo m = {0, 0};
            if (sysinfo(&si) == 0) {
                m.memsize = (uint64_t)si.totalram * si.mem_unit;
                m.memfree = (uint64_t)si.freeram * si.mem_unit;
            }
            if (copy_to_guest(v, mem, &m, sizeof(m)))
                return -XEN_EFAULT;
        }
        uint32_t d = NODE_LOCAL_DIST;
        if (num && dist && copy_to_guest(v, dist, &d, sizeof(d)))
            return -XEN_EFAULT;
    }
    ni->num_nodes = num;
    return 0;
}

/* Per host CPU idle time, for min(max_cpus, nr_cpu_ids) CPUs. */
static long getcpuinfo(struct vcpu *v, struct xen_sysctl_getcpuinfo *gc)
{
    unsigned nr = host_nr_cpu_ids(), i;
    uint64_t idle[CPU_SETSIZE]; /* host_nr_cpu_ids() <= CPU_SETSIZE */

    if (nr > gc->max_cpus)
        nr = gc->max_cpus;
    cpus_idle_ns(idle, nr);
    for (i = 0; i < nr; i++) {
        struct xen_sysctl_cpuinfo ci = {.idletime = idle[i]};
        if (copy_to_guest(v, guest_handle_addr(gc->info) + (uint64_t)i * sizeof(ci), &ci,
                          sizeof(ci)))
            return -XEN_EFAULT;
    }
    gc->nr_cpus = i;
    return 0;
}

/* ---- dispatch ---- */

/* The op; *copyback = false for ops whose struct must not be copied back. */
static long sysctl_op(struct vcpu *v, struct xen_sysctl *op, bool *copyback)
{
    switch (op->cmd) {
    case XEN_SYSCTL_readconsole: {
        long rc = xsm_readconsole(v, op->u.readconsole.clear);
        return rc ? rc : readconsole(v, &op->u.readconsole);
    }
    case XEN_SYSCTL_debug_keys: /* handle_keypress() per key; nothing to copy back */
        *copyback = false;
        return sysctl_debug_keys(v, &op->u.debug_keys);
    case XEN_SYSCTL_sched_id: /* credit2, 4.17's default scheduler (Linux schedules) */
        op->u.sched_id.sched_id = XEN_SCHEDULER_CREDIT2;
        return 0;
    case XEN_SYSCTL_getdomaininfolist:
        return getdomaininfolist(v, &op->u.getdomaininfolist);
    case XEN_SYSCTL_getcpuinfo:
        return getcpuinfo(v, &op->u.getcpuinfo);
    case XEN_SYSCTL_physinfo:
        physinfo(&op->u.physinfo);
        return 0;
    case XEN_SYSCTL_numainfo:
        return numainfo(v, &op->u.numainfo);
    case XEN_SYSCTL_cputopoinfo:
        return cputopoinfo(v, &op->u.cputopoinfo);
    default: /* arch_do_sysctl(): -ENOSYS, no copy back */
        *copyback = false;
        return hypercall_unimplemented_subop(v, __HYPERVISOR_sysctl, op->cmd);
    }
}

/* do_sysctl(): copy in, interface version (-EACCES), XSM_PRIV (-EPERM), the op under the
 * sysctl lock, and the struct copied back when the op succeeded. */
long do_sysctl(struct vcpu *v, const uint64_t args[5])
{
    struct xen_sysctl op;
    bool copyback = true;
    long rc;

    if (copy_from_guest(v, &op, args[0], sizeof(op)))
        return -XEN_EFAULT;
    if (op.interface_version != XEN_SYSCTL_INTERFACE_VERSION)
        return -XEN_EACCES;
    rc = xsm_sysctl(v, op.cmd);
    if (rc)
        return rc;
    pthread_mutex_lock(&sysctl_lock);
    rc = sysctl_op(v, &op, &copyback);
    pthread_mutex_unlock(&sysctl_lock);
    if (copyback && rc == 0 && copy_to_guest(v, args[0], &op, sizeof(op)))
        rc = -XEN_EFAULT;
    return rc;
}
