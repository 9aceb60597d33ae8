/* test_sched_op.c: sched_op (29): shutdown codes, poll, block/wake, remote shutdown, watchdog. */
#include <string.h>
#include <unistd.h>

#include "compat_layout.h"
#include "core/core.h"
#include "core/event.h"
#include "tests/unit/fake_accel.h"
#include "tests/unit/harness.h"

#define SO __HYPERVISOR_sched_op
#define ARG 0x10000ull
#define PORTS 0x11000ull

static void put32(struct domain *d, uint64_t gpa, uint32_t val)
{
    gpa_write(d, gpa, &val, sizeof(val));
}

TEST(sched_yield_and_int_cmd)
{
    struct domain *d = fake_domain(16, 1, false);
    CHECK_EQ(hc64(d->vcpu[0], SO, SCHEDOP_yield, 0, 0), 0);
    CHECK_EQ(hc32(d->vcpu[0], SO, SCHEDOP_yield, 0, 0), 0);
    CHECK_EQ(hc64(d->vcpu[0], SO, 1ull << 32 | SCHEDOP_yield, 0, 0), 0); /* int cmd */
    CHECK_EQ(hc64(d->vcpu[0], SO, SCHEDOP_pin_override, ARG, 0), -XEN_EPERM);
    CHECK_EQ(hc64(d->vcpu[0], SO, 8, ARG, 0), -XEN_ENOSYS);
    CHECK_EQ(hc32(d->vcpu[0], SO, -1, ARG, 0), -XEN_ENOSYS);
    CHECK(domain_is_running(d));
    domain_destroy(d);
}

TEST(sched_shutdown_reason_u8_first_code_wins)
{
    struct domain *d = fake_domain(16, 1, false);
    put32(d, ARG, 0x101); /* truncated to u8: reboot; no SHUTDOWN_MAX check */
    CHECK_EQ(hc64(d->vcpu[0], SO, SCHEDOP_shutdown, HOLE_GPA, 0), -XEN_EFAULT);
    CHECK(domain_is_running(d));
    CHECK_EQ(hc64(d->vcpu[0], SO, SCHEDOP_shutdown, ARG, 0), 0);
    CHECK(!domain_is_running(d));
    CHECK_EQ(d->shutdown_code, SHUTDOWN_reboot);
    domain_destroy(d);

    d = fake_domain(16, 1, false);
    put32(d, ARG, 0x1fe);
    CHECK_EQ(hc32(d->vcpu[0], SO, SCHEDOP_shutdown_code, ARG, 0), 0);
    CHECK(domain_is_running(d)); /* only records */
    put32(d, ARG, SHUTDOWN_crash);
    CHECK_EQ(hc32(d->vcpu[0], SO, SCHEDOP_shutdown_code, ARG, 0), 0);
    CHECK_EQ(d->shutdown_code, 0xfe);
    CHECK_EQ(hc32(d->vcpu[0], SO, SCHEDOP_shutdown_code, HOLE_GPA, 0), -XEN_EFAULT);
    put32(d, ARG, SHUTDOWN_poweroff);
    CHECK_EQ(hc32(d->vcpu[0], SO, SCHEDOP_shutdown, ARG, 0), 0);
    CHECK_EQ(d->shutdown_code, 0xfe); /* the first recorded code wins */
    domain_destroy(d);
}

/* struct sched_poll in the caller's layout (compat: u32 handle, u32 nr, u64 timeout). */
static void put_poll(struct domain *d, bool is64, uint64_t ports, uint32_t nr, uint64_t timeout)
{
    if (is64) {
        struct sched_poll p = {.nr_ports = nr, .timeout = timeout};
        set_xen_guest_handle(p.ports, (evtchn_port_t *)(uintptr_t)ports);
        gpa_write(d, ARG, &p, sizeof(p));
    } else {
        put32(d, ARG, (uint32_t)ports);
        put32(d, ARG + 4, nr);
        gpa_write(d, ARG + 8, &timeout, 8);
    }
}

TEST(sched_poll_checks)
{
    struct domain *d = fake_domain(16, 1, false);
    for (int is64 = 0; is64 < 2; is64++) {
        struct vcpu *v = d->vcpu[0];
        CHECK_EQ(hc(v, is64, SO, SCHEDOP_poll, HOLE_GPA, 0), -XEN_EFAULT);
        put_poll(d, is64, PORTS, 129, 0);
        CHECK_EQ(hc(v, is64, SO, SCHEDOP_poll, ARG, 0), -XEN_EINVAL);
        put_poll(d, is64, HOLE_GPA, 1, 0);
        CHECK_EQ(hc(v, is64, SO, SCHEDOP_poll, ARG, 0), -XEN_EFAULT);
        put32(d, PORTS, 4000); /* beyond the allocated port buckets: not a port */
        put_poll(d, is64, PORTS, 1, 0);
        CHECK_EQ(hc(v, is64, SO, SCHEDOP_poll, ARG, 0), -XEN_EINVAL); /* no such channel */
        put_poll(d, is64, PORTS, 128, 1); /* the first listed port is invalid: none blocks */
        CHECK_EQ(hc(v, is64, SO, SCHEDOP_poll, ARG, 0), -XEN_EINVAL);
        put_poll(d, is64, PORTS, 0, 1); /* a timeout in the past returns at once */
        CHECK_EQ(hc(v, is64, SO, SCHEDOP_poll, ARG, 0), 0);
        put_poll(d, is64, PORTS, 0, 1ull << 63); /* negative s_time_t: expired */
        CHECK_EQ(hc(v, is64, SO, SCHEDOP_poll, ARG, 0), 0);
    }
    domain_destroy(d);
}

TEST(sched_poll_timeout_waits)
{
    struct domain *d = fake_domain(16, 1, false);
    for (int is64 = 0; is64 < 2; is64++) {
        uint64_t t0 = now_ns();
        put_poll(d, is64, PORTS, 0, xen_system_time() + 1000000);
        CHECK_EQ(hc(d->vcpu[0], is64, SO, SCHEDOP_poll, ARG, 0), 0);
        CHECK(now_ns() - t0 >= 1000000);
        CHECK_EQ(d->vcpu[0]->runstate, RUNSTATE_offline); /* restored after the wait */
    }
    domain_destroy(d);
}

struct blocker {
    struct vcpu *v;
    uint64_t cmd, arg;
    long ret;
    pthread_t t;
};

static void *blocker_main(void *p)
{
    struct blocker *b = p;
    b->ret = hc64(b->v, SO, b->cmd, b->arg, 0);
    return NULL;
}

static void blocker_start(struct blocker *b, struct vcpu *v, uint64_t cmd, uint64_t arg)
{
    *b = (struct blocker){.v = v, .cmd = cmd, .arg = arg, .ret = -1};
    CHECK(pthread_create(&b->t, NULL, blocker_main, b) == 0);
}

/* Wait (no time limit) until v sleeps in vcpu_block_until(). */
static void wait_blocked(struct vcpu *v)
{
    for (;;) {
        pthread_mutex_lock(&v->domain->lock);
        int rs = v->runstate;
        pthread_mutex_unlock(&v->domain->lock);
        if (rs == RUNSTATE_blocked)
            return;
        usleep(1000);
    }
}

TEST(sched_block_woken_by_shutdown)
{
    struct domain *d = fake_domain(16, 1, false);
    struct blocker b;
    uint8_t *vi = vcpu_info_hva(d->vcpu[0]);
    vi[offsetof(struct vcpu_info, evtchn_upcall_mask)] = 1;
    blocker_start(&b, d->vcpu[0], SCHEDOP_block, 0);
    wait_blocked(d->vcpu[0]);
    CHECK_EQ(vi[offsetof(struct vcpu_info, evtchn_upcall_mask)], 0); /* events enabled */
    domain_shutdown(d, SHUTDOWN_poweroff);
    pthread_join(b.t, NULL);
    CHECK_EQ(b.ret, 0);
    domain_destroy(d);
}

TEST(sched_block_woken_by_kick)
{
    struct domain *d = fake_domain(16, 2, false);
    struct blocker b;
    struct vcpu_runstate_info r;
    blocker_start(&b, d->vcpu[1], SCHEDOP_block, 0);
    wait_blocked(d->vcpu[1]);
    vcpu_runstate_get(d->vcpu[1], &r);
    CHECK_EQ(r.state, RUNSTATE_blocked);
    vcpu_wake(d->vcpu[1]);
    pthread_join(b.t, NULL);
    CHECK_EQ(b.ret, 0);
    CHECK(domain_is_running(d));
    /* an earlier wake is forgotten (Xen: it found the vCPU running); a pending upcall is not:
     * the block returns at once (local_events_need_delivery()) */
    vcpu_wake(d->vcpu[0]);
    vcpu_info_hva(d->vcpu[0])[offsetof(struct vcpu_info, evtchn_upcall_pending)] = 1;
    CHECK_EQ(hc64(d->vcpu[0], SO, SCHEDOP_block, 0, 0), 0);
    domain_destroy(d);
}

/* A wake while the vCPU runs does not carry over into its next block. */
TEST(sched_block_forgets_an_old_wake)
{
    struct domain *d = fake_domain(16, 1, false);
    struct blocker b;
    vcpu_wake(d->vcpu[0]);
    blocker_start(&b, d->vcpu[0], SCHEDOP_block, 0);
    wait_blocked(d->vcpu[0]); /* it really sleeps */
    vcpu_wake(d->vcpu[0]);
    pthread_join(b.t, NULL);
    CHECK_EQ(b.ret, 0);
    domain_destroy(d);
}

/* evtchn_check_pollers(): vCPU 1 polls a port that notifies vCPU 0 and wakes when it is
 * sent; a poll with interrupts on returns at once when an upcall is pending. */
TEST(sched_poll_woken_by_its_port_on_another_vcpu)
{
    struct domain *d = fake_domain(16, 2, false);
    struct blocker b;
    struct evtchn_bind_ipi ipi = {.vcpu = 0};
    gpa_write(d, ARG + 0x100, &ipi, sizeof(ipi));
    CHECK_EQ(hc64(d->vcpu[0], __HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, ARG + 0x100, 0), 0);
    gpa_read(d, ARG + 0x100, &ipi, sizeof(ipi));
    put32(d, PORTS, ipi.port);
    put_poll(d, true, PORTS, 1, 0);
    blocker_start(&b, d->vcpu[1], SCHEDOP_poll, ARG);
    wait_blocked(d->vcpu[1]);
    CHECK_EQ(d->vcpu[1]->poll_port, ipi.port);
    CHECK_EQ(evtchn_send(d, ipi.port), 0);
    pthread_join(b.t, NULL);
    CHECK_EQ(b.ret, 0);
    CHECK_EQ(d->vcpu[1]->poll_port, 0);
    CHECK_EQ(d->nr_pollers, 0);
    /* vCPU 0 got the upcall; its poll (no ports, no timeout) with IF set returns at once */
    CHECK_EQ(vcpu_info_hva(d->vcpu[0])[offsetof(struct vcpu_info, evtchn_upcall_pending)], 1);
    put_poll(d, true, PORTS, 0, 0);
    fake_set_rflags(d->vcpu[0], 0x202);
    CHECK_EQ(hc64(d->vcpu[0], SO, SCHEDOP_poll, ARG, 0), 0);
    domain_destroy(d);
}

TEST(sched_poll_forever_interrupted_by_shutdown)
{
    struct domain *d = fake_domain(16, 1, false);
    struct blocker b;
    put_poll(d, true, PORTS, 0, 0); /* no ports, no timeout: blocks until woken */
    blocker_start(&b, d->vcpu[0], SCHEDOP_poll, ARG);
    wait_blocked(d->vcpu[0]);
    domain_shutdown(d, SHUTDOWN_crash);
    pthread_join(b.t, NULL);
    CHECK_EQ(b.ret, 0);
    domain_destroy(d);
}

TEST(sched_remote_shutdown)
{
    struct domain *u = fake_domain(16, 1, false), *p = fake_domain(16, 1, true);
    struct domain *t = fake_domain(16, 1, false);
    struct sched_remote_shutdown rs = {.domain_id = t->domain_id, .reason = 0x103};
    gpa_write(u, ARG, &rs, sizeof(rs));
    gpa_write(p, ARG, &rs, sizeof(rs));
    CHECK_EQ(hc64(u->vcpu[0], SO, SCHEDOP_remote_shutdown, ARG, 0), -XEN_EPERM);
    CHECK_EQ(hc64(p->vcpu[0], SO, SCHEDOP_remote_shutdown, HOLE_GPA, 0), -XEN_EFAULT);
    CHECK(domain_is_running(t));
    CHECK_EQ(hc32(p->vcpu[0], SO, SCHEDOP_remote_shutdown, ARG, 0), 0);
    CHECK(!domain_is_running(t));
    CHECK_EQ(t->shutdown_code, SHUTDOWN_crash); /* 0x103 as u8 */
    CHECK(domain_is_running(p));
    rs.domain_id = DOMID_SELF; /* rcu_lock_domain_by_id(): no DOMID_SELF */
    gpa_write(p, ARG, &rs, sizeof(rs));
    CHECK_EQ(hc64(p->vcpu[0], SO, SCHEDOP_remote_shutdown, ARG, 0), -XEN_ESRCH);
    rs.domain_id = 1000;
    gpa_write(u, ARG, &rs, sizeof(rs));
    CHECK_EQ(hc64(u->vcpu[0], SO, SCHEDOP_remote_shutdown, ARG, 0), -XEN_ESRCH);
    domain_destroy(u);
    domain_destroy(p);
    domain_destroy(t);
}

static long watchdog(struct domain *d, uint32_t id, uint32_t timeout)
{
    struct sched_watchdog w = {.id = id, .timeout = timeout};
    gpa_write(d, ARG, &w, sizeof(w));
    return hc64(d->vcpu[0], SO, SCHEDOP_watchdog, ARG, 0);
}

TEST(sched_watchdog_ids)
{
    struct domain *d = fake_domain(16, 1, false);
    CHECK_EQ(watchdog(d, 0, 1000), 1);
    CHECK_EQ(watchdog(d, 0, 1000), 2);
    CHECK_EQ(watchdog(d, 0, 1000), -XEN_ENOSPC);
    CHECK_EQ(watchdog(d, 3, 10), -XEN_EINVAL);
    CHECK_EQ(watchdog(d, 1, 2000), 0); /* re-arm */
    CHECK_EQ(watchdog(d, 1, 0), 0);    /* free */
    CHECK_EQ(watchdog(d, 1, 10), -XEN_EINVAL);
    CHECK_EQ(watchdog(d, 0, 1000), 1); /* the freed id comes back */
    CHECK_EQ(hc32(d->vcpu[0], SO, SCHEDOP_watchdog, HOLE_GPA, 0), -XEN_EFAULT);
    CHECK(domain_is_running(d));
    sched_domain_destroy(d);
    domain_destroy(d);
}

TEST(sched_watchdog_expiry_shuts_down)
{
    struct domain *d = fake_domain(16, 1, false), *other = fake_domain(16, 1, false);
    CHECK_EQ(watchdog(other, 0, 1000), 1);
    CHECK_EQ(watchdog(d, 0, 0), 1); /* Xen arms NOW() + 0: fires at once */
    pthread_mutex_lock(&d->lock);
    while (!d->is_shutting_down)
        pthread_cond_wait(&d->shutdown_cond, &d->lock);
    pthread_mutex_unlock(&d->lock);
    CHECK_EQ(d->shutdown_code, SHUTDOWN_watchdog);
    CHECK(domain_is_running(other));
    sched_domain_destroy(d);
    sched_domain_destroy(other);
    domain_destroy(d);
    domain_destroy(other);
}
