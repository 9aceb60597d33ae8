/* smp: vCPUs brought up with VCPUOP_initialise/up, signalling each other with IPI event
 * channels in a ring; VCPUOP_down/up/is_up; bad VCPUOP_initialise input. Run with 4 vCPUs. */
#include "kit.h"

#define NR_CPUS 4
#define UPCALL_VECTOR 0xf3
#define ROUNDS 50   /* trips of the token around the ring */
#define MAX_MS 5000 /* liveness bound of every wait (not a timing check) */
#define EXPECT(name, expr, val) test_expect_eq(name, (long)(expr), (long)(val))

static uint8_t stacks[NR_CPUS][8192] __aligned(16);
static evtchn_port_t ipi[NR_CPUS];       /* IPI port notifying vCPU i */
static volatile uint32_t got[NR_CPUS];   /* IPIs handled by vCPU i */
static volatile uint32_t ready, ring_on; /* APs set up; pass the token on */
static volatile uint32_t seen_id[NR_CPUS], seen_apic[NR_CPUS];
static volatile struct vcpu_runstate_info runstate[NR_CPUS]; /* registered runstate areas */

static void on_ipi(evtchn_port_t port)
{
    unsigned int cpu = apic_id() / 2;

    (void)port;
    got[cpu]++;
    if (ring_on && !(cpu == 0 && got[0] >= ROUNDS))
        kit_evtchn_send(ipi[(cpu + 1) % NR_CPUS]);
}

/* An AP: what it knows of itself, its LAPIC and upcall vector, then halt for IPIs forever. */
static void ap_main(unsigned int cpu)
{
    uint32_t r[4];

    cpuid(xen_cpuid_base + 4, 0, r);
    seen_id[cpu] = (r[0] & XEN_HVM_CPUID_VCPU_ID_PRESENT) ? r[1] : ~0u;
    seen_apic[cpu] = apic_id();
    if (kit_events_init_cpu(cpu) == 0)
        __atomic_fetch_add(&ready, 1, __ATOMIC_SEQ_CST);
    for (;;)
        safe_halt();
}

static void bad_initialise(void)
{
    struct vcpu_hvm_context c;

    kit_vcpu_context(&c, 1, ap_main, stacks[1] + sizeof(stacks[1]));
    EXPECT("VCPUOP_up of a vCPU never initialised", HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL),
           -XEN_EINVAL);
    EXPECT("VCPUOP_is_up of a down vCPU", HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    EXPECT("VCPUOP_initialise of vCPU 0 (running)", HYPERVISOR_vcpu_op(VCPUOP_initialise, 0, &c),
           -XEN_EEXIST);
    EXPECT("VCPUOP_initialise of a missing vCPU",
           HYPERVISOR_vcpu_op(VCPUOP_initialise, NR_CPUS, &c), -XEN_ENOENT);
    EXPECT("VCPUOP_initialise from NULL", HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, NULL),
           -XEN_EFAULT);
    c.mode = 7;
    EXPECT("VCPUOP_initialise, unknown mode", HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &c),
           -XEN_EINVAL);
    kit_vcpu_context(&c, 1, ap_main, stacks[1] + sizeof(stacks[1]));
    c.cpu_regs.x86_64.rip = 0x0000800000000000ull;
    EXPECT("VCPUOP_initialise, non-canonical RIP", HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &c),
           -XEN_EINVAL);
    kit_vcpu_context(&c, 1, ap_main, stacks[1] + sizeof(stacks[1]));
    c.cpu_regs.x86_64.cr0 &= ~0x80000000ull;
    EXPECT("VCPUOP_initialise, 64-bit without paging", HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &c),
           -XEN_EINVAL);
    kit_vcpu_context(&c, 1, ap_main, stacks[1] + sizeof(stacks[1]));
    c.mode = VCPU_HVM_MODE_32B; /* all-zero segments: a null CS */
    memset(&c.cpu_regs, 0, sizeof(c.cpu_regs));
    EXPECT("VCPUOP_initialise, 32-bit with a null CS", HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &c),
           -XEN_EINVAL);
}

/* VCPUOP_register_runstate_memory_area for every vCPU, by vCPU 0 (as Linux does at bring-up);
 * the area is written at once, and by each vCPU itself at its runstate changes. */
static void runstate_areas(void)
{
    for (unsigned int i = 0; i < NR_CPUS; i++) {
        struct vcpu_register_runstate_memory_area a;

        runstate[i].state = -1;
        a.addr.v = (struct vcpu_runstate_info *)&runstate[i];
        EXPECT("VCPUOP_register_runstate_memory_area",
               HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, i, &a), 0);
    }
    test_ok(runstate[0].state == RUNSTATE_running && runstate[1].state == RUNSTATE_offline,
            "runstate areas written at registration (vCPU 0 running %d, vCPU 1 offline %d)",
            runstate[0].state, runstate[1].state);
}

static void bring_up(void)
{
    struct vcpu_hvm_context c;

    for (unsigned int i = 1; i < NR_CPUS; i++) {
        kit_vcpu_context(&c, i, ap_main, stacks[i] + sizeof(stacks[i]));
        EXPECT("VCPUOP_initialise of an AP", HYPERVISOR_vcpu_op(VCPUOP_initialise, i, &c), 0);
        EXPECT("VCPUOP_initialise again", HYPERVISOR_vcpu_op(VCPUOP_initialise, i, &c),
               -XEN_EEXIST);
        EXPECT("initialised but still down", HYPERVISOR_vcpu_op(VCPUOP_is_up, i, NULL), 0);
        EXPECT("VCPUOP_up", HYPERVISOR_vcpu_op(VCPUOP_up, i, NULL), 0);
        EXPECT("VCPUOP_is_up after up", HYPERVISOR_vcpu_op(VCPUOP_is_up, i, NULL), 1);
    }
    bool all = kit_wait(&ready, NR_CPUS - 1, MAX_MS);
    test_ok(all, "every AP runs and has its upcall vector (%u)", ready);
    for (unsigned int i = 1; i < NR_CPUS; i++)
        test_ok(seen_id[i] == i && seen_apic[i] == 2 * i,
                "vCPU %u sees CPUID vcpu_id %u and APIC ID %u", i, seen_id[i], seen_apic[i]);
}

static void ring(void)
{
    for (unsigned int i = 0; i < NR_CPUS; i++) {
        EXPECT("EVTCHNOP_bind_ipi", kit_evtchn_bind_ipi(i, &ipi[i]), 0);
        kit_port_bind(ipi[i], i, on_ipi);
    }
    ring_on = 1;
    kit_evtchn_send(ipi[1]);
    bool done = kit_wait(&got[0], ROUNDS, MAX_MS);
    test_ok(done, "the token went %u times around %u vCPUs", got[0], NR_CPUS);
    ring_on = 0;
    for (unsigned int i = 1; i < NR_CPUS; i++)
        EXPECT("IPIs taken by an AP", got[i], ROUNDS);
}

static void down_up(void)
{
    const unsigned int t = NR_CPUS - 1;
    struct vcpu_runstate_info rs;
    uint32_t before = got[t];

    HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, t, &rs);
    uint64_t offline0 = rs.time[RUNSTATE_offline];
    EXPECT("VCPUOP_down of another vCPU", HYPERVISOR_vcpu_op(VCPUOP_down, t, NULL), 0);
    EXPECT("VCPUOP_is_up after down", HYPERVISOR_vcpu_op(VCPUOP_is_up, t, NULL), 0);
    rs.state = RUNSTATE_running;
    for (unsigned int i = 0; i < MAX_MS && rs.state != RUNSTATE_offline; i++) {
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
        HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, t, &rs);
    }
    EXPECT("a down vCPU's runstate", rs.state, RUNSTATE_offline);
    EXPECT("... and its runstate area, written by the vCPU itself", runstate[t].state,
           RUNSTATE_offline);
    EXPECT("send to the down vCPU's IPI", kit_evtchn_send(ipi[t]), 0);
    for (unsigned int i = 0; i < 20; i++)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    test_ok(got[t] == before && kit_port_pending(ipi[t]),
            "a down vCPU takes no event (handled %u, pending %d)", got[t] - before,
            kit_port_pending(ipi[t]));
    EXPECT("VCPUOP_up again (still initialised)", HYPERVISOR_vcpu_op(VCPUOP_up, t, NULL), 0);
    test_ok(kit_wait(&got[t], before + 1, MAX_MS), "back up, it takes the pending event");
    EXPECT("its runstate area says running again", runstate[t].state, RUNSTATE_running);
    EXPECT("VCPUOP_get_runstate_info", HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, t, &rs), 0);
    test_ok(rs.time[RUNSTATE_offline] > offline0 && rs.state != RUNSTATE_offline,
            "its offline time grew while it was down, and it is no longer offline (state %d)",
            rs.state);
}

int main(void)
{
    long rc = kit_events_init(UPCALL_VECTOR);

    EXPECT("events set up on vCPU 0", rc, 0);
    if (rc)
        return 0;
    irq_disable();
    bad_initialise();
    runstate_areas();
    bring_up();
    ring();
    down_up();
    return 0;
}
