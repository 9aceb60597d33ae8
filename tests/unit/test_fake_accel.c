/* test_fake_accel.c: the fake backend itself: slots, scripted exits through the vCPU loop,
 * completions, kicks and injected interrupts. */
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "tests/unit/fake_accel.h"
#include "tests/unit/harness.h"

TEST(fake_slots_follow_physmap)
{
    struct domain *d = fake_domain(16, 1, false);
    struct fake_domain *f = fake_domain_of(d);
    unsigned used = 0;
    for (unsigned i = 0; i < FAKE_MAX_SLOTS; i++)
        if (f->slots[i].used) {
            used++;
            if (f->slots[i].gpa == 0)
                CHECK_EQ(f->slots[i].size, 16 << 20);
        }
    CHECK_EQ(used, 2); /* RAM and the special pages */
    uint64_t freed;
    CHECK(p2m_remove(d, 0x10, 1, &freed) == 0);
    used = 0;
    for (unsigned i = 0; i < FAKE_MAX_SLOTS; i++)
        used += f->slots[i].used;
    CHECK_EQ(used, 3); /* RAM split around the hole */
    domain_destroy(d);
}

static struct vm_exit hcall(struct vcpu *v, uint64_t nr, uint64_t a1, uint64_t a2)
{
    const uint64_t a[5] = {a1, a2};
    return fake_hcall_exit(v, 0, true, nr, a);
}

TEST(fake_script_runs_through_vcpu_loop)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    struct sched_shutdown s = {.reason = SHUTDOWN_reboot};
    gpa_write(d, 0x10000, &s, sizeof(s));
    struct vm_exit ex = hcall(v, __HYPERVISOR_xen_version, XENVER_version, 0);
    fake_script_exit(v, &ex);
    ex = hcall(v, __HYPERVISOR_sched_op, SCHEDOP_shutdown, 0x10000);
    fake_script_exit(v, &ex);
    CHECK(domain_unpause(v->domain) == 0);
    CHECK_EQ(domain_wait_shutdown(d), SHUTDOWN_reboot);
    vcpu_join(v);
    struct fake_vcpu *f = fake_vcpu_of(v);
    CHECK_EQ(f->runs, 2);
    CHECK(f->completed && f->completed_reason == VMEXIT_HCALL);
    CHECK_EQ(f->completed_ret, 0x00040011); /* the first exit's result came back */
    CHECK(!f->completed_inject_gp);
    domain_destroy(d);
}

TEST(fake_script_empty_is_a_fault)
{
    struct domain *d = fake_domain(16, 1, false);
    CHECK(domain_unpause(d) == 0);
    CHECK_EQ(domain_wait_shutdown(d), SHUTDOWN_crash);
    vcpu_join(d->vcpu[0]);
    CHECK_EQ(fake_vcpu_of(d->vcpu[0])->runs, 1);
    domain_destroy(d);
}

TEST(fake_msr_completion_and_irqs)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    struct vm_exit ex = {.reason = VMEXIT_MSR_WRITE, .cpu_valid = true};
    ex.msr.index = XEN_HYPERCALL_MSR + 1;
    fake_script_exit(v, &ex);
    CHECK(domain_unpause(v->domain) == 0);
    CHECK_EQ(domain_wait_shutdown(d), SHUTDOWN_crash); /* then the script runs out */
    vcpu_join(v);
    CHECK(fake_vcpu_of(v)->completed_inject_gp);
    CHECK_EQ(d->accel_ops->vcpu_inject_irq(v, 0xf3), 0);
    CHECK_EQ(fake_vcpu_of(v)->nr_irqs, 1);
    CHECK_EQ(fake_vcpu_of(v)->irqs[0], 0xf3);
    domain_destroy(d);
}

TEST(fake_kick_on_shutdown_of_blocked_vcpu)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    struct vm_exit ex = hcall(v, __HYPERVISOR_sched_op, SCHEDOP_block, 0);
    fake_script_exit(v, &ex);
    CHECK(domain_unpause(v->domain) == 0);
    for (;;) { /* until the vCPU sleeps in SCHEDOP_block */
        pthread_mutex_lock(&d->lock);
        bool blocked = v->runstate == RUNSTATE_blocked;
        pthread_mutex_unlock(&d->lock);
        if (blocked)
            break;
        usleep(1000);
    }
    domain_shutdown(d, SHUTDOWN_poweroff);
    CHECK_EQ(domain_wait_shutdown(d), SHUTDOWN_poweroff);
    vcpu_join(v);
    CHECK(fake_vcpu_of(v)->kicks >= 1);
    CHECK_EQ(fake_vcpu_of(v)->runs, 1); /* block returned, the loop saw the shutdown */
    domain_destroy(d);
}
