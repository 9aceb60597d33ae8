/* console_io.c: CONSOLEIO_write/read; a domain's console log ring, terminal echo, rate limit. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/accel.h"
#include "core/core.h"
#include "core/event.h"
#include "core/hypercall.h"
#include "core/xsm.h"

/*
 * Guest output goes three ways: every byte into d->console.ring (the 64 KiB log `xhv console`
 * reads; prod free-running), and, when d->console.to_terminal, complete lines to the terminal.
 * Terminal lines are escaped (Xen's guest_console_write() strips non-printables for domUs; we
 * keep them visible instead): printable ASCII, '\t' and '\n' pass, '\r' is dropped, anything
 * else becomes \xNN, so a guest cannot send escape sequences to the host terminal. Each line
 * is one write(), so lines of different domains never interleave, and a token bucket per
 * domain (burst 64 KiB, 16 KiB/s) keeps a flooding guest from slowing the host: lines over
 * budget are dropped and counted, and the count is reported once in the host log.
 */
#define CONSOLE_BURST (64 * 1024)
#define CONSOLE_RATE (16 * 1024) /* bytes per second */
#define CONSOLE_CHUNK 127        /* bytes copied from the guest at a time, as Xen's kbuf */
#define LINE_MAX_OUT (sizeof(((struct console *)0)->line) * 4 + 2)

static int console_fd = STDOUT_FILENO;

void console_set_output_fd(int fd)
{
    console_drain();
    console_fd = fd;
}

/*
 * Terminal output is queued and written by one writer thread, so a stalled terminal or pipe
 * never blocks a vCPU (or holds console.lock), and lines of different domains cannot
 * interleave. A full queue drops lines (counted like the rate limiter's drops).
 */
#define TERM_QUEUE (256 * 1024)
static struct {
    pthread_mutex_t lock;
    pthread_cond_t more, idle;
    pthread_once_t once;
    char buf[TERM_QUEUE];
    size_t head, len; /* ring of queued bytes */
    bool busy;        /* the writer holds bytes it has not written yet */
} term = {PTHREAD_MUTEX_INITIALIZER,
          PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER,
          PTHREAD_ONCE_INIT,
          {0},
          0,
          0,
          false};

static size_t term_take(char *out, size_t max) /* term.lock held */
{
    size_t n = term.len < max ? term.len : max;
    for (size_t i = 0; i < n; i++)
        out[i] = term.buf[(term.head + i) % TERM_QUEUE];
    term.head = (term.head + n) % TERM_QUEUE;
    term.len -= n;
    return n;
}

static void *term_writer(void *arg)
{
    char chunk[4096];
    (void)arg;
    pthread_mutex_lock(&term.lock);
    for (;;) {
        term.busy = false;
        while (!term.len) {
            pthread_cond_broadcast(&term.idle);
            pthread_cond_wait(&term.more, &term.lock);
        }
        size_t n = term_take(chunk, sizeof(chunk)), off = 0;
        term.busy = true;
        pthread_mutex_unlock(&term.lock);
        while (off < n) { /* a closed terminal is no reason to stop: drop the rest */
            ssize_t w = write(console_fd, chunk + off, n - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        pthread_mutex_lock(&term.lock);
    }
    return NULL;
}

static void term_start(void)
{
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &a, term_writer, NULL) != 0)
        xhv_log(LOG_ERR, "console: cannot start the terminal writer");
    pthread_attr_destroy(&a);
}

static bool term_push(const char *s, size_t n)
{
    pthread_once(&term.once, term_start);
    pthread_mutex_lock(&term.lock);
    bool ok = TERM_QUEUE - term.len >= n;
    for (size_t i = 0; ok && i < n; i++)
        term.buf[(term.head + term.len + i) % TERM_QUEUE] = s[i];
    if (ok) {
        term.len += n;
        pthread_cond_signal(&term.more);
    }
    pthread_mutex_unlock(&term.lock);
    return ok;
}

void console_drain(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 2; /* a stalled terminal must not keep xhv from exiting */
    pthread_mutex_lock(&term.lock);
    while (term.len || term.busy)
        if (pthread_cond_timedwait(&term.idle, &term.lock, &ts) != 0)
            break;
    pthread_mutex_unlock(&term.lock);
}

static size_t escape_line(char *out, const char *in, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\r')
            continue;
        if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
            out[n++] = (char)c;
            continue;
        }
        out[n++] = '\\', out[n++] = 'x';
        out[n++] = hex[c >> 4], out[n++] = hex[c & 15];
    }
    out[n++] = '\n';
    return n;
}

/* Token bucket; console.lock held. */
static bool bucket_take(struct console *c, size_t cost)
{
    return token_bucket_take(&c->bucket, CONSOLE_BURST, CONSOLE_RATE, cost);
}

/* Report (once per episode) what the bucket dropped; console.lock held. */
static void report_dropped(struct domain *d)
{
    if (!d->console.dropped)
        return;
    xhv_log(LOG_WARN, "d%u console output rate-limited, %llu bytes dropped", d->domain_id,
            (unsigned long long)d->console.dropped);
    d->console.dropped = 0;
}

/* Write the pending line (d->console.line) to the terminal; console.lock held. */
static void emit_line(struct domain *d)
{
    struct console *c = &d->console;
    char out[LINE_MAX_OUT];
    size_t n = escape_line(out, c->line, c->line_len);

    if (bucket_take(c, n)) {
        report_dropped(d);
        if (!c->to_terminal) /* as Xen prints guest output in its own log: "(d2) ..." */
            xhv_log(LOG_INFO, "(d%u) %.*s", d->domain_id, (int)(n ? n - 1 : 0), out);
        else if (!term_push(out, n))
            c->dropped += c->line_len;
    } else {
        c->dropped += c->line_len;
    }
    c->line_len = 0;
}

static void ring_put(struct console *c, const char *buf, size_t len)
{
    if (len > CONSOLE_RING) { /* only the last CONSOLE_RING bytes survive anyway */
        c->prod += len - CONSOLE_RING;
        buf += len - CONSOLE_RING;
        len = CONSOLE_RING;
    }
    size_t at = c->prod % CONSOLE_RING, first = CONSOLE_RING - at;
    if (first > len)
        first = len;
    memcpy(c->ring + at, buf, first);
    memcpy(c->ring, buf + first, len - first);
    c->prod += len;
}

void console_write(struct domain *d, const char *buf, size_t len)
{
    struct console *c = &d->console;

    pthread_mutex_lock(&c->lock);
    ring_put(c, buf, len);
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            c->line[c->line_len++] = buf[i];
        if (buf[i] == '\n' || c->line_len == sizeof(c->line))
            emit_line(d);
    }
    pthread_mutex_unlock(&c->lock);
}

void console_flush(struct domain *d)
{
    struct console *c = &d->console;

    pthread_mutex_lock(&c->lock);
    if (c->line_len)
        emit_line(d);
    report_dropped(d);
    pthread_mutex_unlock(&c->lock);
    console_drain();
}

/* Input for CONSOLEIO_read. As Xen's serial_rx ring: when full, new characters are lost, and
 * VIRQ_CONSOLE is raised every time (so the reader never gets stuck). Xen raises it at the
 * hardware domain, whose ring it is; in xhv the ring is the console domain's own. */
void console_input(struct domain *d, const char *buf, size_t len)
{
    struct console *c = &d->console;

    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < len && c->in_prod - c->in_cons < sizeof(c->in); i++)
        c->in[c->in_prod++ % sizeof(c->in)] = buf[i];
    pthread_mutex_unlock(&c->lock);
    send_guest_global_virq(d, VIRQ_CONSOLE);
}

/* guest_console_write(): 0, or -EFAULT (bytes before the bad chunk are already written). */
static long guest_console_write(struct vcpu *v, uint64_t gva, uint32_t count)
{
    char kbuf[CONSOLE_CHUNK];

    /* No continuations yet: at least stop copying once the domain is going away. */
    while (count && domain_is_running(v->domain)) {
        uint32_t n = count < sizeof(kbuf) ? count : sizeof(kbuf);
        if (copy_from_guest(v, kbuf, gva, n))
            return -XEN_EFAULT;
        console_write(v->domain, kbuf, n);
        gva += n;
        count -= n;
    }
    return 0;
}

/* do_console_io() CONSOLEIO_read: bytes read (the result must not look like an errno,
 * hence -E2BIG for count > INT_MAX), or -EFAULT; bytes already copied stay consumed. */
static long guest_console_read(struct vcpu *v, uint64_t gva, uint32_t count)
{
    struct console *c = &v->domain->console;
    long rc = 0;

    if (count > INT32_MAX)
        return -XEN_E2BIG;
    pthread_mutex_lock(&c->lock);
    while (c->in_cons != c->in_prod && (uint32_t)rc < count) {
        uint32_t idx = c->in_cons % sizeof(c->in), len = c->in_prod - c->in_cons;
        if (idx + len > sizeof(c->in))
            len = sizeof(c->in) - idx;
        if (rc + len > count)
            len = count - (uint32_t)rc;
        if (copy_to_guest(v, gva + (uint64_t)rc, c->in + idx, len)) {
            rc = -XEN_EFAULT;
            break;
        }
        rc += len;
        c->in_cons += len;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/*
 * do_console_io() (xen/drivers/char/console.c) behind xsm_console_io() (xsm/dummy.h): the
 * check comes first, so a domU gets -EPERM for read and unknown commands. Writes are allowed
 * for every domain, as in a Xen built with CONFIG_VERBOSE_DEBUG (debug builds): xhv always
 * wants guest output.
 */
long do_console_io(struct vcpu *v, const uint64_t args[5])
{
    uint32_t cmd = (uint32_t)args[0], count = (uint32_t)args[1];
    uint64_t buf = args[2];

    if (cmd != CONSOLEIO_write && xsm_console_io(v, (int)cmd)) {
        gprintk(v, "console_io %u: not the console domain", cmd);
        return -XEN_EPERM;
    }
    switch (cmd) {
    case CONSOLEIO_write:
        return guest_console_write(v, buf, count);
    case CONSOLEIO_read:
        return guest_console_read(v, buf, count);
    default:
        return hypercall_unimplemented_subop(v, __HYPERVISOR_console_io, cmd);
    }
}
