/* timer: pvclock, wallclock, CPUID leaf 3 and VIRQ_TIMER timers, checked by order only. */
#include "kit.h"

#define SHINFO_GFN 0xf0000UL /* past the end of RAM */
#define UPCALL_VECTOR 0xf3
#define MS 1000000ull
#define NR_READS 500       /* pvclock reads checked for monotonicity */
#define NR_ORDER 20        /* pvclock / HVMOP_get_time / pvclock sandwiches */
#define Y2020 1577836800ul /* 2020-01-01T00:00:00Z */
#define MAX_BENCH 1000
#define EXPECT(name, expr, val) test_expect_eq(name, (long)(expr), (long)(val))

static volatile struct shared_info *const shinfo = (void *)(SHINFO_GFN << 12);
static volatile uint32_t nr_timer_events;
static volatile uint64_t event_time; /* pvclock when the last timer event was handled */
static evtchn_port_t timer_port;
static uint32_t bench_late[MAX_BENCH];

/* (delta * mul) >> 32 without a 128-bit product: delta = hi * 2^32 + lo. */
static uint64_t scale(uint64_t delta, uint32_t mul, int8_t shift)
{
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    return (delta >> 32) * mul + (((delta & 0xffffffffu) * mul) >> 32);
}

/* The pvclock of vCPU 0 with the version protocol (odd: being written; changed: retry). */
static uint64_t pvclock_now(void)
{
    volatile struct vcpu_time_info *t = &shinfo->vcpu_info[0].time;
    uint64_t stamp, sys, tsc;
    uint32_t ver, mul;
    int8_t shift;

    do {
        ver = t->version;
        asm volatile("" ::: "memory");
        stamp = t->tsc_timestamp;
        sys = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        tsc = rdtsc();
        asm volatile("" ::: "memory");
    } while ((ver & 1) || ver != t->version);
    return sys + (tsc > stamp ? scale(tsc - stamp, mul, shift) : 0);
}

static void upcall(unsigned int vector)
{
    volatile struct vcpu_info *vi = &shinfo->vcpu_info[0];
    xen_ulong_t bit = (xen_ulong_t)1 << (timer_port % (8 * sizeof(xen_ulong_t)));
    volatile xen_ulong_t *pending = &shinfo->evtchn_pending[timer_port / (8 * sizeof(xen_ulong_t))];

    (void)vector;
    vi->evtchn_upcall_pending = 0;
    __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    if (__atomic_fetch_and(pending, ~bit, __ATOMIC_SEQ_CST) & bit) {
        event_time = pvclock_now();
        nr_timer_events++;
    }
    apic_eoi();
}

/*
 * Sleep in SCHEDOP_block until the timer event count passes `before`; its pvclock time. Block
 * returns once the upcall is pending; the interrupt itself is taken by `sti; hlt` (KVM injects
 * at entry, and only a window at an exit lets it in; a timer is always armed here).
 */
static uint64_t wait_timer(uint32_t before)
{
    while (nr_timer_events == before) {
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
        if (nr_timer_events == before)
            safe_halt();
    }
    return event_time;
}

static long singleshot(uint64_t at)
{
    struct vcpu_set_singleshot_timer s = {.timeout_abs_ns = at, .flags = 0};

    return HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &s);
}

static bool setup(void)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0, .gpfn = SHINFO_GFN};
    struct xen_hvm_evtchn_upcall_vector uv = {.vcpu = 0, .vector = UPCALL_VECTOR};
    struct evtchn_bind_virq bv = {.virq = VIRQ_TIMER, .vcpu = 0};

    EXPECT("map shared_info", HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), 0);
    irq_disable();
    apic_enable();
    irq_set_handler(UPCALL_VECTOR, upcall);
    EXPECT("bind_virq(VIRQ_TIMER, vcpu 0)", HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv),
           0);
    timer_port = bv.port;
    EXPECT("HVMOP_set_evtchn_upcall_vector", HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv),
           0);
    return test_failures() == 0;
}

/* CPUID 0x40000003 and the pvclock's scale agree on the TSC frequency (to 0.1%). */
static void test_cpuid_and_scale(void)
{
    volatile struct vcpu_time_info *t = &shinfo->vcpu_info[0].time;
    struct xen_feature_info fi = {.submap_idx = 0};
    uint32_t r0[4], r1[4], r2[4];
    uint64_t hz, ns_pv, ns_cpuid;

    cpuid(xen_cpuid_base + 3, 0, r0);
    cpuid(xen_cpuid_base + 3, 1, r1);
    cpuid(xen_cpuid_base + 3, 2, r2);
    printf("# leaf 3: flags 0x%x mode %u khz %u incarnation %u; offset %llu mul 0x%x shift %d; "
           "host khz %u\n",
           r0[0], r0[1], r0[2], r0[3],
           (unsigned long long)r1[0] | ((unsigned long long)r1[1] << 32), r1[2], (int)r1[3], r2[0]);
    test_ok(r0[2] != 0, "leaf 3.0 ecx: guest TSC kHz %u", r0[2]);
    EXPECT("leaf 3.0 ebx: tsc_mode default", r0[1], 0);
    EXPECT("leaf 3.0 eax bit 0: rdtsc not emulated", r0[0] & 1, 0);
    EXPECT("leaf 3.0 edx: incarnation", r0[3], 1);
    EXPECT("leaf 3.2 eax: host kHz = guest kHz (no scaling)", r2[0], r0[2]);
    hz = (uint64_t)r0[2] * 1000;
    ns_pv = scale(hz, t->tsc_to_system_mul, t->tsc_shift);
    ns_cpuid = scale(hz, r1[2], (int8_t)r1[3]);
    test_ok(ns_pv > 999 * MS && ns_pv < 1001 * MS, "pvclock mul/shift: 1 s of TSC = %llu ns",
            (unsigned long long)ns_pv);
    test_ok(ns_cpuid > 999 * MS && ns_cpuid < 1001 * MS, "leaf 3.1 mul/shift: 1 s = %llu ns",
            (unsigned long long)ns_cpuid);
    EXPECT("pvclock flags: no TSC_STABLE (as Xen's default clocksource)", t->flags, 0);
    test_ok((t->version & 1) == 0 && t->version != 0, "pvclock version %u even, written",
            t->version);
    EXPECT("XENVER_get_features", HYPERVISOR_xen_version(XENVER_get_features, &fi), 0);
    test_ok(fi.submap & (1u << XENFEAT_hvm_safe_pvclock), "XENFEAT_hvm_safe_pvclock");
}

static void test_wallclock(void)
{
    uint32_t ver, sec, nsec, hi;
    uint64_t s, now;

    do {
        ver = shinfo->wc_version;
        asm volatile("" ::: "memory");
        sec = shinfo->wc_sec;
        nsec = shinfo->wc_nsec;
        hi = shinfo->wc_sec_hi;
        asm volatile("" ::: "memory");
    } while ((ver & 1) || ver != shinfo->wc_version);
    s = sec | ((uint64_t)hi << 32);
    now = s + (nsec + pvclock_now()) / 1000000000ull;
    printf("# wallclock: boot %llu.%09u, now %llu s UTC\n", (unsigned long long)s, nsec,
           (unsigned long long)now);
    test_ok(s > Y2020 && nsec < 1000000000u, "wallclock after 2020, wc_nsec < 1e9");
}

/* Order checks only: pvclock never goes back; HVMOP_get_time lies between two reads. */
static void test_order(void)
{
    uint64_t prev = pvclock_now(), back = 0;
    unsigned int bad = 0;

    for (unsigned int i = 0; i < NR_READS; i++) {
        uint64_t t = pvclock_now();
        if (t < prev)
            back++;
        prev = t;
    }
    test_ok(back == 0, "pvclock non-decreasing over %u reads (%llu back)", NR_READS,
            (unsigned long long)back);
    for (unsigned int i = 0; i < NR_ORDER; i++) {
        uint64_t a = pvclock_now(), g = xen_system_time(), b = pvclock_now();
        if (!(a <= g && g <= b)) {
            printf("# pvclock %llu, get_time %llu, pvclock %llu\n", (unsigned long long)a,
                   (unsigned long long)g, (unsigned long long)b);
            bad++;
        }
    }
    test_ok(bad == 0, "HVMOP_get_time between two pvclock reads, %u/%u times", NR_ORDER - bad,
            NR_ORDER);
}

static void test_singleshot(void)
{
    uint64_t at, seen;

    at = pvclock_now() + 5 * MS;
    EXPECT("set_singleshot_timer now + 5 ms", singleshot(at), 0);
    seen = wait_timer(nr_timer_events);
    test_ok(seen >= at, "singleshot: woken at %llu >= deadline %llu (+%llu ns)",
            (unsigned long long)seen, (unsigned long long)at, (unsigned long long)(seen - at));
    /* a stopped singleshot never fires: poll the timer port (interrupts off, so nothing takes
     * the event) until 30 ms past its 10 ms deadline; had it fired, the poll would end early
     * with the port pending (no printing between arming and stopping: printf is slow here) */
    uint64_t now = pvclock_now();
    uint32_t before = nr_timer_events;
    long rc1 = singleshot(now + 10 * MS);
    long rc2 = HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL);
    struct sched_poll poll = {.nr_ports = 1, .timeout = now + 30 * MS};
    set_xen_guest_handle(poll.ports, &timer_port);
    long rc3 = HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
    uint64_t after = pvclock_now();
    bool fired = (shinfo->evtchn_pending[timer_port / (8 * sizeof(xen_ulong_t))] >>
                  (timer_port % (8 * sizeof(xen_ulong_t)))) &
                 1;
    EXPECT("set_singleshot_timer now + 10 ms", rc1, 0);
    EXPECT("stop_singleshot_timer", rc2, 0);
    EXPECT("SCHEDOP_poll on the timer port, 30 ms", rc3, 0);
    test_ok(!fired && nr_timer_events == before && after >= now + 30 * MS,
            "stopped singleshot did not fire (port pending %d, poll ended %lld ns after the "
            "stopped deadline)",
            fired, (long long)(after - (now + 10 * MS)));
    at = pvclock_now() + 5 * MS;
    EXPECT("set_timer_op now + 5 ms", _hc(__HYPERVISOR_set_timer_op, at, 0, 0), 0);
    seen = wait_timer(nr_timer_events);
    test_ok(seen >= at, "set_timer_op fired at or after its deadline");
}

/* Take events until one comes at or after `at` (a singleshot armed for it); events raised
 * before are drained. */
static void drain_until(uint64_t at)
{
    singleshot(at);
    while (wait_timer(nr_timer_events) < at)
        ;
}

static void test_periodic(void)
{
    struct vcpu_set_periodic_timer p = {.period_ns = 2 * MS};
    uint32_t n0 = nr_timer_events;
    uint64_t start = pvclock_now(), at, seen;

    EXPECT("set_periodic_timer 2 ms", HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &p), 0);
    wait_timer(n0);
    seen = wait_timer(n0 + 1);
    test_ok(seen >= start + 2 * p.period_ns, "periodic fired twice, the second after 2 periods");
    EXPECT("stop_periodic_timer", HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
    /* an event raised before the stop may still be pending: drain, then a running periodic
     * timer would fire (every 2 ms) before a singleshot 7 ms ahead */
    drain_until(pvclock_now() + MS);
    at = pvclock_now() + 7 * MS;
    EXPECT("singleshot after the stop", singleshot(at), 0);
    seen = wait_timer(nr_timer_events);
    test_ok(seen >= at, "no periodic event after stop_periodic_timer");
}

static int cmp_u32(uint32_t a, uint32_t b)
{
    return a < b ? -1 : a > b;
}

/* bench=N: N singleshots 1 ms ahead; lateness seen by pvclock at the upcall. */
static void bench(unsigned long n)
{
    if (n > MAX_BENCH)
        n = MAX_BENCH;
    if (!n)
        n = 1;
    for (unsigned long i = 0; i < n; i++) {
        uint64_t at = pvclock_now() + MS;
        singleshot(at);
        uint64_t late = wait_timer(nr_timer_events) - at;
        uint32_t v = late > 0xffffffffu ? 0xffffffffu : (uint32_t)late, j = (uint32_t)i;
        for (; j > 0 && cmp_u32(bench_late[j - 1], v) > 0; j--) /* insertion sort */
            bench_late[j] = bench_late[j - 1];
        bench_late[j] = v;
    }
    printf("bench: timer_late_guest %lu timers median %u ns p99 %u ns max %u ns\n", n,
           bench_late[n / 2], bench_late[(n * 99) / 100], bench_late[n - 1]);
}

int main(void)
{
    const char *b = strstr(kit_cmdline(), "bench=");

    printf("timer (%s): pvclock, wallclock, CPUID leaf 3, VIRQ_TIMER timers\n", KIT_ARCH);
    if (!setup())
        return 0;
    if (b) {
        bench(strtoul(b + 6, NULL, 10));
        return 0;
    }
    test_cpuid_and_scale();
    test_wallclock();
    test_order();
    test_singleshot();
    test_periodic();
    return 0;
}
