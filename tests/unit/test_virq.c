/* test_virq.c: global VIRQ routing (set_virq_handler, fallback), VIRQ_DOM_EXC, VIRQ_DEBUG from
 * sysctl debug_keys, the deferred VIRQ_CON_RING, VIRQ_CONSOLE on console input. */
#include <string.h>
#include <time.h>

#include "core/event.h"
#include "tests/unit/domctl_util.h"
#include "tests/unit/harness.h"

#define EO __HYPERVISOR_event_channel_op
#define SC __HYPERVISOR_sysctl
#define ARG 0x11000ull
#define KEYS 0x12000ull
#define SHINFO_GFN 0x200ull

/* ---- helpers ---- */

static struct domain *domu(unsigned vcpus)
{
    struct domain *d = fake_domain(16, vcpus, false);
    struct xen_add_to_physmap x = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .gpfn = SHINFO_GFN};
    gpa_write(d, ARG, &x, sizeof(x));
    CHECK_EQ(hc64(d->vcpu[0], __HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), 0);
    return d;
}

static uint32_t bind_virq(struct domain *d, uint32_t virq, uint32_t vcpu, long *rc)
{
    struct evtchn_bind_virq b = {.virq = virq, .vcpu = vcpu};
    gpa_write(d, ARG, &b, sizeof(b));
    *rc = hc64(d->vcpu[0], EO, EVTCHNOP_bind_virq, ARG, 0);
    gpa_read(d, ARG, &b, sizeof(b));
    return b.port;
}

static uint32_t bound(struct domain *d, uint32_t virq, uint32_t vcpu)
{
    long rc;
    uint32_t port = bind_virq(d, virq, vcpu, &rc);
    CHECK_EQ(rc, 0);
    return port;
}

/* The guest consumes the event: pending bit cleared (the port stays bound). */
static void ack(struct domain *d, uint32_t port)
{
    uint64_t w;
    uint64_t gpa =
        (SHINFO_GFN << PAGE_SHIFT) + offsetof(struct shared_info, evtchn_pending) + 8 * (port / 64);
    gpa_read(d, gpa, &w, 8);
    w &= ~(1ull << (port % 64));
    gpa_write(d, gpa, &w, 8);
}

static long set_handler(struct vcpu *caller, domid_t dom, uint32_t virq)
{
    struct xen_domctl op = mkop(XEN_DOMCTL_set_virq_handler, dom);
    op.u.set_virq_handler.virq = virq;
    return domctl(caller, &op);
}

static long debug_keys(struct vcpu *v, uint64_t keys, uint32_t nr)
{
    struct xen_sysctl op;
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_SYSCTL_debug_keys;
    op.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    set_xen_guest_handle(op.u.debug_keys.keys, (char *)(uintptr_t)keys);
    op.u.debug_keys.nr_keys = nr;
    gpa_write(v->domain, OP, &op, sizeof(op));
    return hc64(v, SC, OP, 0, 0);
}

static long press(struct vcpu *v, const char *keys)
{
    gpa_write(v->domain, KEYS, keys, strlen(keys));
    return debug_keys(v, KEYS, (uint32_t)strlen(keys));
}

/* Wait (up to 5 s; no bound is asserted) for a deferred event. */
static bool wait_pending(struct domain *d, uint32_t port)
{
    for (int i = 0; i < 500 && !evtchn_port_is_pending(d, port); i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return evtchn_port_is_pending(d, port);
}

/* Does the host log ring (its last 64 KiB) contain s? */
static bool log_has(const char *s)
{
    static char buf[XHV_LOG_RING + 1];
    size_t n = xhv_log_read(buf, XHV_LOG_RING, NULL);
    buf[n] = 0;
    return strstr(buf, s) != NULL;
}

/* ---- tests ---- */

TEST(virq_set_handler_errnos)
{
    struct domain *p = fake_domain(16, 1, true), *a = domu(1);
    struct vcpu *pv = p->vcpu[0];

    CHECK(control_domain() != NULL);
    CHECK_EQ(set_handler(pv, a->domain_id, NR_VIRQS), -XEN_EINVAL);
    CHECK_EQ(set_handler(pv, a->domain_id, 0xffffffffu), -XEN_EINVAL);
    CHECK_EQ(set_handler(pv, a->domain_id, VIRQ_TIMER), -XEN_EINVAL); /* per-vCPU */
    CHECK_EQ(set_handler(pv, a->domain_id, VIRQ_DEBUG), -XEN_EINVAL);
    CHECK_EQ(set_handler(pv, DOMID_FIRST_RESERVED - 1, VIRQ_DOM_EXC), -XEN_ESRCH);
    CHECK_EQ(set_handler(pv, DOMID_SELF, VIRQ_DOM_EXC), -XEN_ESRCH); /* domctl: no DOMID_SELF */
    CHECK_EQ(set_handler(a->vcpu[0], a->domain_id, VIRQ_DOM_EXC), -XEN_EPERM);
    CHECK(global_virq_handler(VIRQ_DOM_EXC) == NULL);
    CHECK_EQ(set_handler(pv, a->domain_id, VIRQ_DOM_EXC), 0);
    CHECK_EQ(set_handler(pv, a->domain_id, VIRQ_DOM_EXC), 0); /* again: no-op */
    CHECK(global_virq_handler(VIRQ_DOM_EXC) == a);
    CHECK_EQ(set_handler(pv, 0, VIRQ_DOM_EXC), 0); /* domain 0: the default target */
    CHECK(global_virq_handler(VIRQ_DOM_EXC) == control_domain());
    a->is_dying = true; /* a dying domain cannot be referenced (get_domain() fails) */
    CHECK_EQ(set_global_virq_handler(a, VIRQ_DOM_EXC), -XEN_EINVAL);
    a->is_dying = false;
    CHECK(global_virq_handler(VIRQ_DOM_EXC) == control_domain());
    clear_global_virq_handlers(control_domain());
    domain_destroy(a);
    domain_destroy(p);
}

/* The handler gets DOM_EXC when a domain shuts down and when one is destroyed. */
TEST(virq_dom_exc_shutdown_and_destroy)
{
    struct domain *p = fake_domain(16, 1, true), *a = domu(1), *b = fake_domain(16, 1, false);
    long rc;

    CHECK_EQ(bind_virq(a, VIRQ_DOM_EXC, 1, &rc), 0);
    CHECK_EQ(rc, -XEN_EINVAL); /* global: vCPU 0 only at bind time (vCPU 1 does not exist) */
    uint32_t port = bound(a, VIRQ_DOM_EXC, 0);
    CHECK_EQ(set_handler(p->vcpu[0], a->domain_id, VIRQ_DOM_EXC), 0);
    CHECK(!evtchn_port_is_pending(a, port));
    domain_shutdown(b, SHUTDOWN_poweroff); /* never started: shut down at once */
    CHECK(b->is_shut_down);
    CHECK(evtchn_port_is_pending(a, port));
    ack(a, port);
    domain_shutdown(b, SHUTDOWN_crash); /* already shut down: nothing new */
    CHECK(!evtchn_port_is_pending(a, port));
    domain_destroy(b);
    CHECK(evtchn_port_is_pending(a, port));
    ack(a, port);
    /* the handler's own destruction: it is forgotten, later DOM_EXC go to domain 0 */
    domain_destroy(a);
    CHECK(global_virq_handler(VIRQ_DOM_EXC) == NULL);
    domain_destroy(p);
}

/* An unbound handler port drops the event; a crash is a shutdown too. */
TEST(virq_dom_exc_crash_and_unbound)
{
    struct domain *p = fake_domain(16, 1, true), *a = domu(1), *b = fake_domain(16, 1, false);
    uint32_t port;

    CHECK_EQ(set_handler(p->vcpu[0], a->domain_id, VIRQ_DOM_EXC), 0);
    domain_shutdown(b, SHUTDOWN_reboot); /* nothing bound: dropped */
    port = bound(a, VIRQ_DOM_EXC, 0);
    CHECK(!evtchn_port_is_pending(a, port));
    domain_destroy(b);
    CHECK(evtchn_port_is_pending(a, port));
    ack(a, port);
    b = fake_domain(16, 1, false);
    domain_crash(b, NULL, "unit test");
    CHECK(evtchn_port_is_pending(a, port));
    domain_destroy(b);
    domain_destroy(a);
    domain_destroy(p);
}

/* A running domain: DOM_EXC once its last vCPU has stopped (vcpu_stopped()), not before. */
TEST(virq_dom_exc_running_domain)
{
    struct domain *p = fake_domain(16, 1, true), *a = domu(1), *b = fake_domain(16, 1, false);
    struct vcpu *v = b->vcpu[0];
    struct sched_shutdown s = {.reason = SHUTDOWN_poweroff};
    const uint64_t args[5] = {SCHEDOP_shutdown, ARG};
    uint32_t port = bound(a, VIRQ_DOM_EXC, 0);

    CHECK_EQ(set_handler(p->vcpu[0], a->domain_id, VIRQ_DOM_EXC), 0);
    gpa_write(b, ARG, &s, sizeof(s));
    struct vm_exit ex = fake_hcall_exit(v, 0, true, __HYPERVISOR_sched_op, args);
    fake_script_exit(v, &ex);
    CHECK_EQ(domain_unpause(b), 0);
    CHECK_EQ(domain_wait_shutdown(b), SHUTDOWN_poweroff);
    vcpu_join(v); /* the send follows the shut-down state, on the vCPU's thread */
    CHECK(evtchn_port_is_pending(a, port));
    ack(a, port);
    domain_destroy(b);
    CHECK(evtchn_port_is_pending(a, port));
    domain_destroy(a);
    domain_destroy(p);
}

static unsigned dom0_virqs[NR_VIRQS];
static void dom0_notify(unsigned virq)
{
    __atomic_fetch_add(&dom0_virqs[virq], 1, __ATOMIC_RELAXED);
}

/* Without a handler, global VIRQs reach domain 0's notifier (the daemon's event loop). */
TEST(virq_fallback_to_domain0_notifier)
{
    struct domain *p = fake_domain(16, 1, true), *a = domu(1), *b = fake_domain(16, 1, false);
    uint32_t port = bound(a, VIRQ_DOM_EXC, 0);

    memset(dom0_virqs, 0, sizeof(dom0_virqs));
    control_set_virq_notify(dom0_notify);
    domain_shutdown(b, SHUTDOWN_poweroff);
    CHECK_EQ(dom0_virqs[VIRQ_DOM_EXC], 1);
    CHECK(!evtchn_port_is_pending(a, port)); /* a is not the handler */
    CHECK_EQ(set_handler(p->vcpu[0], a->domain_id, VIRQ_DOM_EXC), 0);
    domain_destroy(b);
    CHECK_EQ(dom0_virqs[VIRQ_DOM_EXC], 1);
    CHECK(evtchn_port_is_pending(a, port));
    domain_destroy(a); /* the handler dies: back to domain 0 (a's own kill and destroy) */
    CHECK_EQ(dom0_virqs[VIRQ_DOM_EXC], 3);
    control_set_virq_notify(NULL);
    domain_destroy(p);
}

/* 'q' dumps every domain to the log and raises VIRQ_DEBUG on every vCPU. */
TEST(virq_debug_keys_q)
{
    struct domain *p = fake_domain(16, 1, true), *a = domu(2), *b = domu(1);
    uint32_t a0 = bound(a, VIRQ_DEBUG, 0), a1 = bound(a, VIRQ_DEBUG, 1), b0;
    char line[96];
    long rc;

    b0 = bind_virq(b, VIRQ_DEBUG, 1, &rc);
    CHECK_EQ(rc, -XEN_ENOENT);             /* b has one vCPU */
    CHECK_EQ(press(p->vcpu[0], "xyz"), 0); /* unknown keys: ignored */
    CHECK(!evtchn_port_is_pending(a, a0) && !evtchn_port_is_pending(a, a1));
    CHECK_EQ(press(p->vcpu[0], "q"), 0);
    CHECK(evtchn_port_is_pending(a, a0) && evtchn_port_is_pending(a, a1));
    snprintf(line, sizeof(line), "General information for domain %u", a->domain_id);
    CHECK(log_has(line));
    snprintf(line, sizeof(line), "Notifying guest %u:1 (virq %u, port %u)", a->domain_id,
             VIRQ_DEBUG, a1);
    CHECK(log_has(line));
    snprintf(line, sizeof(line), "Notifying guest %u:0 (virq %u, port 0)", b->domain_id,
             VIRQ_DEBUG);
    CHECK(log_has(line));
    b0 = bound(b, VIRQ_DEBUG, 0);
    CHECK_EQ(press(p->vcpu[0], "hq*"), 0);
    CHECK(evtchn_port_is_pending(b, b0));
    CHECK(log_has("'h' pressed -> showing installed handlers"));
    CHECK(log_has(" key 'q' (ascii '71') => dump domain (and guest debug) info"));
    CHECK(log_has("All keyhandlers fired."));
    domain_destroy(b);
    domain_destroy(a);
    domain_destroy(p);
}

TEST(virq_debug_keys_bad_args)
{
    struct domain *p = fake_domain(16, 1, true), *a = domu(1);
    uint32_t port = bound(a, VIRQ_DEBUG, 0);

    CHECK_EQ(debug_keys(p->vcpu[0], KEYS, 0), 0);
    CHECK_EQ(debug_keys(p->vcpu[0], HOLE_GPA, 1), -XEN_EFAULT);
    CHECK_EQ(debug_keys(p->vcpu[0], 0, 0), 0); /* NULL with no keys: nothing read */
    /* 'q' just before a hole: handled, then -EFAULT at the first unreadable key */
    uint64_t last = (16ull << 20) - 1;
    gpa_write(p, last, "q", 1);
    CHECK_EQ(debug_keys(p->vcpu[0], last, 300), -XEN_EFAULT);
    CHECK(evtchn_port_is_pending(a, port));
    CHECK_EQ(press(a->vcpu[0], "q"), -XEN_EPERM); /* sysctl: XSM_PRIV */
    struct xen_sysctl op;
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_SYSCTL_debug_keys;
    op.interface_version = XEN_SYSCTL_INTERFACE_VERSION - 1;
    gpa_write(p, OP, &op, sizeof(op));
    CHECK_EQ(hc64(p->vcpu[0], SC, OP, 0, 0), -XEN_EACCES);
    domain_destroy(a);
    domain_destroy(p);
}

/* New log text raises VIRQ_CON_RING at its handler, later, from another thread. */
TEST(virq_con_ring_deferred)
{
    struct domain *p = fake_domain(16, 1, true), *a = domu(1);
    uint32_t port = bound(a, VIRQ_CON_RING, 0);

    CHECK_EQ(set_handler(p->vcpu[0], a->domain_id, VIRQ_CON_RING), 0);
    ack(a, port);
    xhv_log(LOG_INFO, "unit test: VIRQ_CON_RING wanted");
    CHECK(wait_pending(a, port));
    ack(a, port);
    /* a flood is coalesced, not a storm: at most one send per 100 ms gap of the flood's
     * duration, plus the one in flight and the one announcing the flood's tail */
    unsigned long sends0 = virq_con_ring_sends();
    uint64_t t0 = now_ns();
    for (int i = 0; i < 1000; i++)
        xhv_log(LOG_INFO, "unit test: flood %d", i);
    uint64_t flood_ns = now_ns() - t0;
    CHECK(wait_pending(a, port));
    unsigned long sends = virq_con_ring_sends() - sends0;
    CHECK(sends >= 1 && sends <= 2 + flood_ns / 100000000ull);
    domain_destroy(a);
    domain_destroy(p);
}

TEST(virq_console_on_input)
{
    struct domain *a = domu(1);
    uint32_t port = bound(a, VIRQ_CONSOLE, 0);

    console_input(a, "x", 1);
    CHECK(evtchn_port_is_pending(a, port));
    domain_destroy(a);
}

/* Sends race with the destruction of their handler (ASan: no use after free). */
struct race {
    bool stop; /* atomic */
};

static void *dom_exc_sender(void *arg)
{
    struct race *r = arg;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
        send_global_virq(VIRQ_DOM_EXC);
    return NULL;
}

TEST(virq_send_races_handler_destroy)
{
    struct domain *p = fake_domain(16, 1, true);
    struct race r = {false};
    pthread_t th;

    CHECK_EQ(pthread_create(&th, NULL, dom_exc_sender, &r), 0);
    for (int i = 0; i < 50; i++) {
        struct domain *a = domu(1);
        bound(a, VIRQ_DOM_EXC, 0);
        CHECK_EQ(set_handler(p->vcpu[0], a->domain_id, VIRQ_DOM_EXC), 0);
        domain_destroy(a);
    }
    __atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    CHECK(global_virq_handler(VIRQ_DOM_EXC) == NULL);
    domain_destroy(p);
}
