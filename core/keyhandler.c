/* keyhandler.c: debug keys (XEN_SYSCTL_debug_keys, `xhv debug-keys`) as Xen's keyhandler.c. */
#include <stddef.h>

#include "core/domctl.h"
#include "core/event.h"
#include "core/hypercall.h"

/* Xen's struct keyhandler: diagnostic keys are the ones '*' runs. */
struct keyhandler {
    void (*fn)(unsigned char key);
    const char *desc;
    bool diagnostic;
};

static void show_handlers(unsigned char key);
static void dump_domains(unsigned char key);
static void dump_time(unsigned char key);
static void run_all_keyhandlers(unsigned char key);

/* Xen's keys and descriptions, for the ones xhv has something to show. */
static const struct keyhandler key_table[128] = {
    ['*'] = {run_all_keyhandlers, "print all diagnostics", false},
    ['h'] = {show_handlers, "show this message", false},
    ['q'] = {dump_domains, "dump domain (and guest debug) info", true},
    ['t'] = {dump_time, "display multi-cpu clock info", true},
};

/* handle_keypress(): keys without a handler (and those >= 128) are ignored silently. */
static void handle_keypress(unsigned char key)
{
    if (key < sizeof(key_table) / sizeof(key_table[0]) && key_table[key].fn)
        key_table[key].fn(key);
}

static void show_handlers(unsigned char key)
{
    xhv_log(LOG_INFO, "'%c' pressed -> showing installed handlers", key);
    for (unsigned i = 0; i < sizeof(key_table) / sizeof(key_table[0]); i++)
        if (key_table[i].fn)
            xhv_log(LOG_INFO, " key '%c' (ascii '%02x') => %s", (int)i, i, key_table[i].desc);
}

static void run_all_keyhandlers(unsigned char key)
{
    xhv_log(LOG_INFO, "'%c' pressed -> firing all diagnostic keyhandlers", key);
    for (unsigned i = 0; i < sizeof(key_table) / sizeof(key_table[0]); i++) {
        if (!key_table[i].fn || !key_table[i].diagnostic)
            continue;
        xhv_log(LOG_INFO, "[%c: %s]", (int)i, key_table[i].desc);
        key_table[i].fn((unsigned char)i);
    }
    xhv_log(LOG_INFO, "All keyhandlers fired.");
}

/* ---- 'q': dump_domains() ---- */

static const char *runstate_name(int state)
{
    static const char *const n[] = {"running", "runnable", "blocked", "offline"};
    return state >= 0 && state < 4 ? n[state] : "?";
}

/* evtchn_upcall_pending and _mask: the first two bytes of vcpu_info in both layouts. */
static void upcall_bytes(struct vcpu *v, unsigned *pend, unsigned *mask)
{
    const uint8_t *vi = v->domain->is_control ? NULL : vcpu_info_hva(v);

    _Static_assert(offsetof(struct vcpu_info, evtchn_upcall_pending) == 0 &&
                       offsetof(struct vcpu_info, evtchn_upcall_mask) == 1,
                   "vcpu_info head");
    *pend = vi ? __atomic_load_n(&vi[0], __ATOMIC_RELAXED) : 0;
    *mask = vi ? __atomic_load_n(&vi[1], __ATOMIC_RELAXED) : 0;
}

static void dump_vcpu(struct vcpu *v)
{
    struct domain *d = v->domain;
    unsigned pend, mask;
    uint64_t period = __atomic_load_n(&v->periodic_period, __ATOMIC_RELAXED);

    upcall_bytes(v, &pend, &mask);
    pthread_mutex_lock(&d->lock);
    int rs = v->runstate;
    bool online = v->online, parked = v->parked;
    pthread_mutex_unlock(&d->lock);
    xhv_log(LOG_INFO, "    VCPU%u: %s%s%s upcall_pend=%02x upcall_mask=%02x upcall_vector=%02x",
            v->vcpu_id, runstate_name(rs), online ? "" : " down", parked ? " parked" : "", pend,
            mask, v->upcall_vector);
    if (!period)
        xhv_log(LOG_INFO, "    No periodic timer");
    else
        xhv_log(LOG_INFO, "    %llu Hz periodic timer (period %llu ms)",
                (unsigned long long)(1000000000ull / period), (unsigned long long)period / 1000000);
}

static void dump_domain(struct domain *d)
{
    const uint8_t *h = d->handle;

    pthread_mutex_lock(&d->lock);
    unsigned refcnt = d->refcnt, pause = d->pause_count;
    bool dying = d->is_dying, down = d->is_shut_down, stopping = d->is_shutting_down;
    int code = d->shutdown_code;
    pthread_mutex_unlock(&d->lock);
    xhv_log(LOG_INFO, "General information for domain %u:", d->domain_id);
    xhv_log(LOG_INFO, "    refcnt=%u dying=%d pause_count=%u shutting_down=%d shut_down=%d code=%d",
            refcnt, dying, pause, stopping, down, code);
    xhv_log(LOG_INFO, "    nr_pages=%llu max_pages=%llu privileged=%d",
            (unsigned long long)__atomic_load_n(&d->tot_pages, __ATOMIC_RELAXED),
            (unsigned long long)__atomic_load_n(&d->max_pages, __ATOMIC_RELAXED), d->privileged);
    xhv_log(LOG_INFO,
            "    handle=%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x "
            "vm_assist=%08lx",
            h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13],
            h[14], h[15], d->vm_assist);
    xhv_log(LOG_INFO, "VCPU information and callbacks for domain %u:", d->domain_id);
    for (unsigned i = 0; d->vcpu && i < d->max_vcpus; i++)
        dump_vcpu(d->vcpu[i]);
}

/* Every vCPU of d gets VIRQ_DEBUG (a guest may dump its own state on it). */
static void notify_domain(struct domain *d)
{
    for (unsigned i = 0; d->vcpu && !d->is_control && i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpu[i];
        xhv_log(LOG_INFO, "Notifying guest %u:%u (virq %u, port %u)", d->domain_id, v->vcpu_id,
                VIRQ_DEBUG, evtchn_virq_port(v, VIRQ_DEBUG));
        send_guest_vcpu_virq(v, VIRQ_DEBUG);
    }
}

/* Each walk holds one domain reference at a time (domain_find_from()). */
static void for_each_domain(void (*fn)(struct domain *d))
{
    for (unsigned id = 0; id < XHV_DOMID_LIMIT;) {
        struct domain *d = domain_find_from((domid_t)id);
        if (!d)
            break;
        id = d->domain_id + 1u;
        fn(d);
        rcu_unlock_domain(d);
    }
}

static void dump_domains(unsigned char key)
{
    xhv_log(LOG_INFO, "'%c' pressed -> dumping domain info (now = %llu)", key,
            (unsigned long long)xen_system_time());
    for_each_domain(dump_domain);
    for_each_domain(notify_domain);
}

/* ---- 't': the clock ---- */

static void dump_time(unsigned char key)
{
    uint32_t mul;
    int8_t shift;

    xhv_log(LOG_INFO, "'%c' pressed -> dumping time info (now = %llu)", key,
            (unsigned long long)xen_system_time());
    time_scale(xhv_tsc_khz * 1000ull, &mul, &shift);
    xhv_log(LOG_INFO,
            "    system time: ns since xhv started (CLOCK_MONOTONIC); TSC %u kHz, "
            "tsc_to_system_mul %#x shift %d",
            xhv_tsc_khz, xhv_tsc_khz ? mul : 0, xhv_tsc_khz ? shift : 0);
}

/* ---- XEN_SYSCTL_debug_keys ---- */

/*
 * Each of nr_keys characters, read from the caller's buffer, is handled in order; a key with
 * no handler does nothing. -EFAULT at an unreadable byte (the keys before it were handled).
 * Read in chunks: nr_keys is the caller's and only bounded by what it can map.
 */
long sysctl_debug_keys(struct vcpu *v, const struct xen_sysctl_debug_keys *k)
{
    char chunk[256];
    uint64_t keys = guest_handle_addr(k->keys);

    for (uint32_t done = 0; done < k->nr_keys;) {
        uint32_t n = k->nr_keys - done < sizeof(chunk) ? k->nr_keys - done : sizeof(chunk);
        if (copy_from_guest(v, chunk, keys + done, n)) {
            for (uint32_t i = 0; i < n; i++) { /* as Xen: byte by byte up to the fault */
                if (copy_from_guest(v, chunk, keys + done + i, 1))
                    return -XEN_EFAULT;
                handle_keypress((unsigned char)chunk[0]);
            }
        } else {
            for (uint32_t i = 0; i < n; i++)
                handle_keypress((unsigned char)chunk[i]);
        }
        done += n;
    }
    return 0;
}
