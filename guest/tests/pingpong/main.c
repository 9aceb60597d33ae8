/* pingpong: two domains over interdomain event channels the toolstack connects (xhv_evtchn ->
 * "xhv.evtchn=<dom>:<port>,..." on ping's command line): "ping" sends on a pseudo-random one of
 * its channels and waits for the echo on the same one, "pong" echoes every event; both fold the
 * channel sequence into an FNV-1a checksum. Bench modes: "ping bench=rtt|oneway", "pong oneway". */
#include "kit.h"

#define UPCALL_VECTOR 0xf3
#define MAX_CHANS 8
#define DEFAULT_N 10000
#define TICK_NS 100000000ULL /* the liveness tick: a periodic VIRQ_TIMER */
#define IDLE_TICKS 200       /* liveness only: 20 s without an awaited event = the peer is gone */
#define FIRST_TICKS 1200     /* pong: 120 s for ping's first send (ping is built after pong) */
#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u
#define DOMID_BAD 0x7fef /* highest ordinary domid: no such domain */
#define EXPECT(name, expr, val) test_expect_eq(name, (long)(expr), (long)(val))

struct chan {
    domid_t dom;
    evtchn_port_t remote, local;
};

static struct chan chans[MAX_CHANS]; /* ping: config order; pong: ascending local port */
static unsigned int nr_chans;
static volatile uint32_t ticks, events, strays, send_errors, done;
static volatile unsigned int last_chan;
static uint32_t checksum = FNV_OFFSET;
static bool oneway;
static uint64_t first_tsc, last_tsc;

/* Where `name` starts a word of the command line: the text after it, or NULL. */
static const char *word_at(const char *name)
{
    const char *c = kit_cmdline();

    for (const char *p = c; (p = strstr(p, name)); p++)
        if (p == c || p[-1] == ' ')
            return p + strlen(name);
    return NULL;
}

static bool flag(const char *name)
{
    const char *e = word_at(name);

    return e && (*e == ' ' || *e == '\0');
}

static unsigned long count(void)
{
    const char *p = word_at("n=");
    unsigned long n = p ? strtoul(p, NULL, 10) : 0;

    return n ? n : DEFAULT_N;
}

static void fold(unsigned int chan)
{
    checksum = (checksum ^ chan) * FNV_PRIME;
}

static int chan_of(evtchn_port_t port)
{
    for (unsigned int i = 0; i < nr_chans; i++)
        if (chans[i].local == port)
            return (int)i;
    return -1;
}

static void on_tick(evtchn_port_t port)
{
    (void)port;
    ticks++;
}

/* A periodic VIRQ_TIMER bounds every wait (liveness, never a timing check). */
static long start_ticks(void)
{
    struct evtchn_bind_virq bv = {.virq = VIRQ_TIMER, .vcpu = 0};
    struct vcpu_set_periodic_timer pt = {.period_ns = TICK_NS};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv);

    if (rc)
        return rc;
    kit_port_bind(bv.port, 0, on_tick);
    return HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt);
}

/* Halt (interrupts on only inside the halt) until *v moves from old or `limit` ticks pass. */
static bool wait_change(volatile uint32_t *v, uint32_t old, uint32_t limit)
{
    uint32_t t0 = ticks;

    while (*v == old && ticks - t0 < limit)
        safe_halt();
    return *v != old;
}

static uint64_t tsc_to_ns(uint64_t cycles)
{
    uint32_t r[4];

    cpuid(xen_cpuid_base + 3, 0, r); /* ECX: guest TSC frequency in kHz (0: unknown) */
    return r[2] ? cycles * 1000000 / r[2] : 0;
}

/* ---- pong ---- */

/* Its interdomain ports, ascending (= ping's config order, as the toolstack allocated them). */
static void discover(void)
{
    struct evtchn_status st;

    for (evtchn_port_t p = 1; nr_chans < MAX_CHANS && kit_evtchn_status(p, &st) == 0; p++)
        if (st.status == EVTCHNSTAT_interdomain)
            chans[nr_chans++] = (struct chan){
                .dom = st.u.interdomain.dom, .remote = st.u.interdomain.port, .local = p};
}

/* oneway: count deliveries on channel 0 (sends coalesce); channel 1 ends the run. */
static void on_oneway(unsigned int chan, evtchn_port_t port)
{
    if (chan == 0) {
        last_tsc = rdtsc();
        if (!events++)
            first_tsc = last_tsc;
        return;
    }
    done = 1;
    if (kit_evtchn_send(port))
        send_errors++;
}

/* Any port without a handler: the toolstack's channels, found on the first event. */
static void on_event(evtchn_port_t port)
{
    int chan;

    if (!nr_chans)
        discover();
    chan = chan_of(port);
    if (chan < 0) {
        strays++;
        return;
    }
    if (oneway) {
        on_oneway((unsigned int)chan, port);
        return;
    }
    fold((unsigned int)chan);
    if (kit_evtchn_send(port))
        send_errors++;
    events++;
}

static void pong(unsigned long n)
{
    kit_port_default(on_event);
    if (oneway)
        wait_change(&done, 0, FIRST_TICKS);
    while (!oneway && events < n && wait_change(&events, events, events ? IDLE_TICKS : FIRST_TICKS))
        ;
    test_ok(nr_chans >= 2, "found %u interdomain channels (want 2)", nr_chans);
    for (unsigned int i = 0; i < nr_chans; i++)
        printf("# channel %u: port %u <-> dom %u port %u\n", i, chans[i].local, chans[i].dom,
               chans[i].remote);
    EXPECT("events on no channel of ours", strays, 0);
    EXPECT("failed echoes", send_errors, 0);
    if (oneway) {
        test_ok(done, "the end marker arrived");
        printf("pingpong: pong oneway events=%u first_to_last_ns=%llu\n", events,
               (unsigned long long)tsc_to_ns(last_tsc - first_tsc));
        printf("# a pending bit absorbs sends until pong clears it: events <= sends\n");
        return;
    }
    EXPECT("events echoed", events, n);
    printf("pingpong: pong events=%u checksum=%08x\n", events, checksum);
}

/* ---- ping ---- */

static void on_echo(evtchn_port_t port)
{
    int chan = chan_of(port);

    if (chan < 0) {
        strays++;
        return;
    }
    last_chan = (unsigned int)chan;
    events++;
}

/* xhv.evtchn=<dom>:<port>[,<dom>:<port>...]: the peer's unbound ports, in config order. */
static unsigned int parse_chans(void)
{
    const char *p = word_at("xhv.evtchn=");

    while (p && nr_chans < MAX_CHANS) {
        const char *e;
        unsigned long dom = strtoul(p, &e, 10), port;

        if (*e != ':')
            break;
        port = strtoul(e + 1, &e, 10);
        chans[nr_chans++] = (struct chan){.dom = (domid_t)dom, .remote = (evtchn_port_t)port};
        if (*e != ',')
            break;
        p = e + 1;
    }
    return nr_chans;
}

static bool bind_chans(void)
{
    for (unsigned int i = 0; i < nr_chans; i++) {
        struct chan *c = &chans[i];
        long rc = kit_evtchn_bind_interdomain(c->dom, c->remote, &c->local);

        test_ok(rc == 0, "bind_interdomain(dom %u, port %u): rc %ld, local port %u", c->dom,
                c->remote, rc, c->local);
        if (rc)
            return false;
        kit_port_bind(c->local, 0, on_echo);
        /* Xen sets the new local port pending (lost-notification fixup): not an echo */
        test_ok(kit_port_clear(c->local), "port %u is pending at once after the bind; cleared",
                c->local);
    }
    return true;
}

static void bad_input(void)
{
    struct evtchn_alloc_unbound a = {.dom = DOMID_SELF, .remote_dom = chans[0].dom};
    struct evtchn_close cl;
    evtchn_port_t p;

    EXPECT("bind_interdomain to the peer's port again (bound: not ours to bind)",
           kit_evtchn_bind_interdomain(chans[0].dom, chans[0].remote, &p), -XEN_EINVAL);
    EXPECT("bind_interdomain to a port the peer does not have",
           kit_evtchn_bind_interdomain(chans[0].dom, EVTCHN_2L_NR_CHANNELS - 1, &p), -XEN_EINVAL);
    EXPECT("bind_interdomain to a missing domain", kit_evtchn_bind_interdomain(DOMID_BAD, 1, &p),
           -XEN_ESRCH);
    EXPECT("alloc_unbound(self, peer)", HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a), 0);
    cl.port = a.port;
    EXPECT("close it", HYPERVISOR_event_channel_op(EVTCHNOP_close, &cl), 0);
    EXPECT("send on the closed port", kit_evtchn_send(a.port), -XEN_EINVAL);
    EXPECT("close it again", HYPERVISOR_event_channel_op(EVTCHNOP_close, &cl), -XEN_EINVAL);
}

static uint32_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 32);
}

/* n round trips on pseudo-random channels; returns how many completed. */
static unsigned long round_trips(unsigned long n, unsigned int *mismatches)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    unsigned long i;

    for (i = 0; i < n; i++) {
        unsigned int chan = xorshift(&seed) % 2;
        uint32_t before = events;
        long rc = kit_evtchn_send(chans[chan].local);

        if (rc) {
            test_ok(false, "send %lu on port %u: rc %ld", i, chans[chan].local, rc);
            break;
        }
        if (!wait_change(&events, before, IDLE_TICKS)) {
            test_ok(false, "echo %lu came back (none for 20 s: is the peer gone?)", i);
            break;
        }
        *mismatches += last_chan != chan;
        fold(chan);
    }
    return i;
}

static void ping_rtt(unsigned long n)
{
    unsigned int mismatches = 0;
    uint64_t t0 = xen_system_time();
    unsigned long done_n = round_trips(n, &mismatches);
    uint64_t t1 = xen_system_time();

    EXPECT("round trips", done_n, n);
    EXPECT("echoes", events, done_n);
    EXPECT("echoes on the other channel", mismatches, 0);
    EXPECT("events on no channel of ours", strays, 0);
    printf("pingpong: ping round_trips=%lu mismatches=%u checksum=%08x\n", done_n, mismatches,
           checksum);
    printf("pingpong: ping rtt_ns=%llu per round trip, guest-side (emulator time: guest ring 0 "
           "is emulated on kvm-pvm)\n",
           (unsigned long long)(done_n ? (t1 - t0) / done_n : 0));
}

/* n sends back to back on channel 0, then an end marker on channel 1 that pong echoes. */
static void ping_oneway(unsigned long n)
{
    unsigned int errors = 0;
    uint64_t t0 = xen_system_time(), t1, t2;
    uint32_t before;

    for (unsigned long i = 0; i < n; i++)
        errors += kit_evtchn_send(chans[0].local) != 0;
    t1 = xen_system_time();
    before = events;
    kit_evtchn_send(chans[1].local);
    test_ok(wait_change(&events, before, IDLE_TICKS) && last_chan == 1,
            "pong acknowledged the end marker");
    t2 = xen_system_time();
    EXPECT("failed sends", errors, 0);
    printf("pingpong: ping oneway sent=%lu send_ns=%llu total_ns=%llu sent_per_s=%llu\n", n,
           (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t0),
           (unsigned long long)(t1 > t0 ? n * 1000000000ull / (t1 - t0) : 0));
}

static void ping(unsigned long n)
{
    const char *bench = word_at("bench=");
    unsigned int nr = parse_chans();

    test_ok(nr >= 2,
            "xhv.evtchn= gives %u channels (want 2; set by xhv_evtchn in the config): '%s'", nr,
            kit_cmdline());
    if (nr_chans < 2 || !bind_chans())
        return;
    if (!bench)
        bad_input();
    if (bench && !strncmp(bench, "oneway", 6))
        ping_oneway(n);
    else
        ping_rtt(n);
}

int main(void)
{
    unsigned long n = count();
    long rc;

    irq_disable(); /* interrupts come only inside safe_halt() */
    rc = kit_events_init(UPCALL_VECTOR);
    EXPECT("events set up on vCPU 0", rc, 0);
    if (rc == 0)
        EXPECT("liveness tick (periodic VIRQ_TIMER)", start_ticks(), 0);
    if (test_failures())
        return 0;
    oneway = flag("oneway");
    if (flag("pong"))
        pong(n);
    else if (flag("ping"))
        ping(n);
    else
        test_ok(false, "a role, ping or pong, on the command line: '%s'", kit_cmdline());
    return 0;
}
