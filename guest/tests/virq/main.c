/* virq: a control guest takes VIRQ_DOM_EXC (set_virq_handler), VIRQ_DEBUG and VIRQ_CON_RING. */
/* domctl.h and sysctl.h are tools-only; xen.h (included by kit.h) must see that first. */
#define __XEN_TOOLS__ 1
#include "kit.h"
#include <xen/domctl.h>
#include <xen/sysctl.h>

#define QUIET_NS 250000000ull /* 2.5 VIRQ_CON_RING gaps */
#define EXPECT(name, expr, val) test_expect_eq(name, (long)(expr), (long)(val))
#define SHINFO_GFN 0xf0000UL /* past the end of RAM */
#define DOMID_BAD 0x7fef     /* highest ordinary domid: no such domain */
#define WAIT_NS 5000000000ull
#define BITS_PER_WORD (8 * sizeof(xen_ulong_t))

static volatile struct shared_info *const shinfo = (void *)(SHINFO_GFN << 12);
static domid_t self = DOMID_INVALID;

/* ---- hypercalls ---- */

static long domctl(struct xen_domctl *op, uint32_t cmd, domid_t dom)
{
    op->cmd = cmd;
    op->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    op->domain = dom;
    return _hc(__HYPERVISOR_domctl, op, 0, 0);
}

static long set_virq_handler(domid_t dom, uint32_t virq)
{
    struct xen_domctl op;

    memset(&op, 0, sizeof(op));
    op.u.set_virq_handler.virq = virq;
    return domctl(&op, XEN_DOMCTL_set_virq_handler, dom);
}

static long debug_keys(const char *keys, uint32_t nr)
{
    struct xen_sysctl op;

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_SYSCTL_debug_keys;
    op.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    set_xen_guest_handle(op.u.debug_keys.keys, (char *)keys);
    op.u.debug_keys.nr_keys = nr;
    return _hc(__HYPERVISOR_sysctl, &op, 0, 0);
}

static long bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_virq b = {.virq = virq, .vcpu = vcpu};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &b);

    *port = b.port;
    return rc;
}

/* ---- the 2-level pending bits, read and cleared by hand (no upcalls here) ---- */

static bool pending(evtchn_port_t port)
{
    return (shinfo->evtchn_pending[port / BITS_PER_WORD] >> (port % BITS_PER_WORD)) & 1;
}

static void clear_pending(evtchn_port_t port)
{
    __atomic_fetch_and(&shinfo->evtchn_pending[port / BITS_PER_WORD],
                       ~((xen_ulong_t)1 << (port % BITS_PER_WORD)), __ATOMIC_SEQ_CST);
}

/* SCHEDOP_poll on one port until it is pending or WAIT_NS pass (a poll may return early: an
 * earlier event woke this vCPU while it was not polling). */
static bool wait_port(evtchn_port_t port)
{
    struct sched_poll poll = {.nr_ports = 1, .timeout = xen_system_time() + WAIT_NS};

    set_xen_guest_handle(poll.ports, &port);
    while (!pending(port) && xen_system_time() < poll.timeout)
        HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
    return pending(port);
}

/* Poll the port for ns (returns early if it becomes pending); true if it stayed clear. */
static bool quiet_for(evtchn_port_t port, uint64_t ns)
{
    struct sched_poll poll = {.nr_ports = 1, .timeout = xen_system_time() + ns};

    set_xen_guest_handle(poll.ports, &port);
    while (!pending(port) && xen_system_time() < poll.timeout)
        HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
    return !pending(port);
}

/* ---- setup ---- */

/* Our domid: CPUID leaf base+4 (XEN_HVM_CPUID_DOMID_PRESENT), as Xen gives it. */
static domid_t cpuid_domid(void)
{
    uint32_t r[4];

    cpuid(xen_cpuid_base + 4, 0, r);
    return (r[0] & XEN_HVM_CPUID_DOMID_PRESENT) ? (domid_t)r[2] : DOMID_INVALID;
}

static bool map_shared_info(void)
{
    struct xen_add_to_physmap x = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0, .gpfn = SHINFO_GFN};
    long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x);

    EXPECT("map shared_info", rc, 0);
    return rc == 0;
}

/* ---- VIRQ_DOM_EXC ---- */

static void handler_errnos(void)
{
    EXPECT("set_virq_handler virq NR_VIRQS -> -EINVAL", set_virq_handler(self, NR_VIRQS),
           -XEN_EINVAL);
    EXPECT("set_virq_handler VIRQ_TIMER (per-vCPU) -> -EINVAL", set_virq_handler(self, VIRQ_TIMER),
           -XEN_EINVAL);
    EXPECT("set_virq_handler VIRQ_DEBUG (per-vCPU) -> -EINVAL", set_virq_handler(self, VIRQ_DEBUG),
           -XEN_EINVAL);
    EXPECT("set_virq_handler on a missing domain -> -ESRCH",
           set_virq_handler(DOMID_BAD, VIRQ_DOM_EXC), -XEN_ESRCH);
}

static domid_t create_sibling(void)
{
    struct xen_domctl op;
    struct xen_domctl_createdomain *c = &op.u.createdomain;
    long rc;

    memset(&op, 0, sizeof(op));
    c->flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
    c->max_vcpus = 1;
    c->max_evtchn_port = 1023;
    c->max_grant_frames = c->max_maptrack_frames = -1;
    c->grant_opts = XEN_DOMCTL_GRANT_version(1);
    c->arch.emulation_flags = XEN_X86_EMU_LAPIC;
    rc = domctl(&op, XEN_DOMCTL_createdomain, 0);
    EXPECT("createdomain (a sibling)", rc, 0);
    return rc ? DOMID_INVALID : op.domain;
}

static void test_dom_exc(void)
{
    struct sched_remote_shutdown rs = {.reason = SHUTDOWN_poweroff};
    struct xen_domctl op;
    evtchn_port_t port = 0, x;

    handler_errnos();
    EXPECT("set_virq_handler(self, VIRQ_DOM_EXC)", set_virq_handler(self, VIRQ_DOM_EXC), 0);
    EXPECT("bind VIRQ_DOM_EXC on vCPU 1 -> -EINVAL (global: vCPU 0)",
           bind_virq(VIRQ_DOM_EXC, 1, &x), -XEN_EINVAL);
    EXPECT("bind VIRQ_DOM_EXC on vCPU 0", bind_virq(VIRQ_DOM_EXC, 0, &port), 0);
    rs.domain_id = create_sibling();
    if (rs.domain_id == DOMID_INVALID)
        return;
    test_ok(!pending(port), "port %u not pending after the sibling's creation", port);
    EXPECT("remote_shutdown of the sibling", HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), 0);
    test_ok(wait_port(port), "VIRQ_DOM_EXC pending after the sibling shut down");
    clear_pending(port);
    memset(&op, 0, sizeof(op));
    EXPECT("destroydomain of the sibling", domctl(&op, XEN_DOMCTL_destroydomain, rs.domain_id), 0);
    test_ok(wait_port(port), "VIRQ_DOM_EXC pending after the sibling was destroyed");
    clear_pending(port);
}

/* ---- VIRQ_DEBUG and VIRQ_CON_RING ---- */

static void test_debug_keys(void)
{
    evtchn_port_t port = 0;

    EXPECT("bind VIRQ_DEBUG on vCPU 0", bind_virq(VIRQ_DEBUG, 0, &port), 0);
    EXPECT("debug_keys \"Z\" (no such key) -> 0", debug_keys("Z", 1), 0);
    test_ok(!pending(port), "an unknown key raises nothing");
    EXPECT("debug_keys \"q\"", debug_keys("q", 1), 0);
    test_ok(pending(port), "VIRQ_DEBUG pending after 'q'");
    clear_pending(port);
    EXPECT("debug_keys with an unmapped buffer -> -EFAULT", debug_keys(NULL, 1), -XEN_EFAULT);
    EXPECT("debug_keys with no keys and no buffer -> 0", debug_keys(NULL, 0), 0);
}

static void test_con_ring(void)
{
    evtchn_port_t port = 0;

    EXPECT("set_virq_handler(self, VIRQ_CON_RING)", set_virq_handler(self, VIRQ_CON_RING), 0);
    EXPECT("bind VIRQ_CON_RING on vCPU 0", bind_virq(VIRQ_CON_RING, 0, &port), 0);
    /* settle: text logged before (the thread announces it when it starts) may still come,
     * at most one send per 100 ms; then the port stays quiet until we log something */
    for (int i = 0; i < 2; i++) {
        quiet_for(port, QUIET_NS);
        clear_pending(port);
    }
    test_ok(quiet_for(port, QUIET_NS), "VIRQ_CON_RING quiet while nothing is logged");
    EXPECT("debug_keys \"h\" (writes the log)", debug_keys("h", 1), 0);
    test_ok(wait_port(port), "VIRQ_CON_RING pending after new log text");
}

/* ---- a domU is refused ---- */

static void unprivileged(void)
{
    EXPECT("domU: set_virq_handler -> -EPERM", set_virq_handler(self, VIRQ_DOM_EXC), -XEN_EPERM);
    EXPECT("domU: debug_keys -> -EPERM", debug_keys("q", 1), -XEN_EPERM);
}

int main(void)
{
    self = cpuid_domid();
    test_ok(self != DOMID_INVALID && self != 0, "own domid %u from CPUID", self);
    if (strstr(kit_cmdline(), "unprivileged")) {
        unprivileged();
        return 0;
    }
    if (!map_shared_info())
        return 0;
    test_dom_exc();
    test_debug_keys();
    test_con_ring();
    return 0;
}
