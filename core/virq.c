/* virq.c: global VIRQ routing (set_virq_handler), VIRQ_DOM_EXC and the deferred VIRQ_CON_RING. */
#include <time.h>

#include "core/event.h"
#include "core/xsm.h"

/*
 * Xen's global_virq_handlers[]: the domain each global VIRQ goes to, NULL = the hardware
 * domain. A handler is forgotten when its domain dies (clear_global_virq_handlers(), from
 * domain_destroy() before it waits for references), so send_global_virq() can take a
 * reference on it under the lock. Lock order: global_virq_handlers_lock, then d->lock.
 */
static struct domain *global_virq_handlers[NR_VIRQS];
static pthread_mutex_t global_virq_handlers_lock = PTHREAD_MUTEX_INITIALIZER;

/* Domain 0 has no vCPUs: what the daemon does with the global VIRQs aimed at it. */
static void (*control_virq_fn)(unsigned virq);

/* VIRQ_CON_RING: new log text raises a flag; a thread sends, at most every CONRING_GAP_NS. */
#define CONRING_GAP_NS 100000000ull
static pthread_mutex_t conring_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conring_cond;
static pthread_once_t conring_once = PTHREAD_ONCE_INIT;
static bool conring_pending, conring_thread_on; /* atomic */

bool virq_is_global(unsigned virq)
{
    switch (virq) {
    case VIRQ_TIMER:
    case VIRQ_DEBUG:
    case VIRQ_XENOPROF:
    case VIRQ_XENPMU:
        return false;
    default:
        return true; /* x86: arch_virq_is_global() is true for VIRQ_ARCH_0..7 */
    }
}

void control_set_virq_notify(void (*fn)(unsigned virq))
{
    __atomic_store_n(&control_virq_fn, fn, __ATOMIC_RELEASE);
}

static void conring_thread_start(void);

/*
 * set_global_virq_handler(): -EINVAL for a virq out of range or not global; setting the
 * current handler again is a no-op. A dying domain cannot be referenced (Xen's get_domain()
 * failing): -EINVAL. Domain 0 may be named: that is the default target anyway.
 */
int set_global_virq_handler(struct domain *d, uint32_t virq)
{
    int rc = 0;

    if (virq >= NR_VIRQS || !virq_is_global(virq))
        return -XEN_EINVAL;
    pthread_mutex_lock(&global_virq_handlers_lock);
    if (__atomic_load_n(&d->is_dying, __ATOMIC_ACQUIRE))
        rc = -XEN_EINVAL;
    else
        global_virq_handlers[virq] = d;
    pthread_mutex_unlock(&global_virq_handlers_lock);
    if (rc == 0 && virq == VIRQ_CON_RING && !d->is_control)
        pthread_once(&conring_once, conring_thread_start);
    return rc;
}

void clear_global_virq_handlers(struct domain *d)
{
    pthread_mutex_lock(&global_virq_handlers_lock);
    for (unsigned virq = 0; virq < NR_VIRQS; virq++)
        if (global_virq_handlers[virq] == d)
            global_virq_handlers[virq] = NULL;
    pthread_mutex_unlock(&global_virq_handlers_lock);
}

struct domain *global_virq_handler(uint32_t virq)
{
    struct domain *d;

    if (virq >= NR_VIRQS)
        return NULL;
    pthread_mutex_lock(&global_virq_handlers_lock);
    d = global_virq_handlers[virq];
    pthread_mutex_unlock(&global_virq_handlers_lock);
    return d;
}

/* The handler, referenced (rcu_unlock_domain()), or NULL for the hardware domain. */
static struct domain *get_global_virq_handler(uint32_t virq)
{
    struct domain *d;

    pthread_mutex_lock(&global_virq_handlers_lock);
    d = global_virq_handlers[virq];
    if (d && d->is_control)
        d = NULL;
    if (d) {
        domain_get(d);
    }
    pthread_mutex_unlock(&global_virq_handlers_lock);
    return d;
}

/*
 * send_global_virq(): to the handler's vCPU 0 port (send_guest_global_virq()), else to the
 * hardware domain. xhv's domain 0 has no vCPUs and no event channels: its VIRQs go to the
 * notifier the daemon registered (control_set_virq_notify()), or nowhere.
 */
void send_global_virq(uint32_t virq)
{
    if (virq >= NR_VIRQS || !virq_is_global(virq))
        return;
    struct domain *d = get_global_virq_handler(virq);
    if (d) {
        send_guest_global_virq(d, virq);
        rcu_unlock_domain(d);
        return;
    }
    void (*fn)(unsigned) = __atomic_load_n(&control_virq_fn, __ATOMIC_ACQUIRE);
    if (fn)
        fn(virq);
}

/* ---- VIRQ_CON_RING ---- */

static unsigned long conring_sends; /* VIRQ_CON_RING sends so far (tests) */

unsigned long virq_con_ring_sends(void)
{
    return __atomic_load_n(&conring_sends, __ATOMIC_RELAXED);
}

static void *conring_thread(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&conring_lock);
        while (!__atomic_load_n(&conring_pending, __ATOMIC_ACQUIRE))
            pthread_cond_wait(&conring_cond, &conring_lock);
        pthread_mutex_unlock(&conring_lock);
        __atomic_store_n(&conring_pending, false, __ATOMIC_RELEASE);
        send_global_virq(VIRQ_CON_RING);
        __atomic_fetch_add(&conring_sends, 1, __ATOMIC_RELAXED);
        /* rate limit: text logged meanwhile is announced by the next one */
        struct timespec gap = {0, (long)CONRING_GAP_NS};
        nanosleep(&gap, NULL);
    }
    return NULL;
}

static void conring_thread_start(void)
{
    deadline_thread_start(&conring_cond, conring_thread, "console-ring VIRQ");
    __atomic_store_n(&conring_thread_on, true, __ATOMIC_RELEASE);
    pthread_mutex_lock(&conring_lock);
    pthread_cond_signal(&conring_cond); /* text logged before the thread existed */
    pthread_mutex_unlock(&conring_lock);
}

/*
 * Called by the log with no log lock held, but possibly with any other lock (domain table,
 * domain, event channel) held by its caller: only a flag and a signal here, as Xen's
 * conring_puts() only schedules a tasklet. The thread runs only once a domain other than
 * domain 0 was made the VIRQ_CON_RING handler.
 */
void console_ring_notify(void)
{
    if (__atomic_exchange_n(&conring_pending, true, __ATOMIC_ACQ_REL))
        return;
    if (!__atomic_load_n(&conring_thread_on, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&conring_lock);
    pthread_cond_signal(&conring_cond);
    pthread_mutex_unlock(&conring_lock);
}

/* ---- XEN_DOMCTL_set_virq_handler ---- */

/* do_domctl() has found d (-ESRCH) and passed xsm_domctl(); then xsm_set_virq_handler. */
long domctl_set_virq_handler(struct vcpu *v, struct domain *d, uint32_t virq)
{
    int rc = xsm_set_virq_handler(v, d, virq);

    return rc ? rc : set_global_virq_handler(d, virq);
}
