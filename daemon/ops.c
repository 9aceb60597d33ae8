/* ops.c: xhvd's request handlers: HELLO, HYPERCALL (as domain 0), FOREIGN_MAP, CONSOLE_READ. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/accel.h"
#include "core/core.h"
#include "core/hypercall.h"
#include "daemon/xhvd.h"

/* Map the tool's buffer arena and give the connection its dom0 vCPU. 0 or -errno (why set). */
static int map_buffer(struct conn *c, const struct xhv_hello *hl, int fd, const char **why)
{
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);
    uint8_t *buf;

    *why = "bad buffer size or base";
    if (hl->buf_size % PAGE_SIZE || hl->buf_size > XHV_BUF_MAX || hl->buf_base % PAGE_SIZE ||
        !hl->buf_base || hl->buf_base + hl->buf_size < hl->buf_base)
        return -XEN_EINVAL;
    /* a shrinkable file could be truncated under our mapping: SIGBUS in the daemon */
    *why = "buffer is not a memfd sealed against shrinking";
    if (seals < 0 || !(seals & F_SEAL_SHRINK))
        return -XEN_EINVAL;
    *why = "buffer memfd is smaller than buf_size";
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < hl->buf_size)
        return -XEN_EINVAL;
    *why = "cannot map the buffer";
    buf = mmap(NULL, hl->buf_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (buf == MAP_FAILED)
        return -XEN_EINVAL;
    *why = "cannot create the tool's vCPU";
    if (!(c->v = ctl_vcpu_create(buf, hl->buf_size, hl->buf_base))) {
        munmap(buf, hl->buf_size);
        return -XEN_ENOMEM;
    }
    c->buf = buf;
    c->buf_size = hl->buf_size;
    return 0;
}

void op_hello(struct conn *c, const struct xhv_msg_hdr *h, const void *p)
{
    struct xhv_hello hl;
    struct xhv_hello_reply r = {
        .version = XHV_PROTO_VERSION,
        .max_len = XHV_PROTO_MAX_LEN,
        .max_map = XHV_MAP_MAX,
    };
    const char *why;
    int rc, want;

    memcpy(&hl, p, sizeof(hl));
    want = hl.buf_size ? 1 : 0;
    if (c->hello_done)
        return conn_error(c, h, -XEN_EBADMSG, true, "second HELLO");
    if (hl.version != XHV_PROTO_VERSION)
        return conn_error(c, h, -XEN_EOPNOTSUPP, true,
                          "protocol version %u not supported (xhvd speaks %u)", hl.version,
                          XHV_PROTO_VERSION);
    if (hl.flags)
        return conn_error(c, h, -XEN_EINVAL, true, "HELLO flags 0x%x", hl.flags);
    if (c->nfds != want)
        return conn_error(c, h, -XEN_EBADF, true, "HELLO with %d descriptors (expected %d)",
                          c->nfds, want);
    if (want && (rc = map_buffer(c, &hl, c->fds[0], &why)))
        return conn_error(c, h, rc, true, "HELLO: %s", why);
    c->hello_done = true;
    xhv_log(LOG_DEBUG, "xhvd: connection %u: HELLO, buffer %llu KiB at 0x%llx", c->id,
            (unsigned long long)hl.buf_size >> 10, (unsigned long long)hl.buf_base);
    conn_reply(c, h, &r, sizeof(r), -1);
}

void op_conn_release(struct conn *c)
{
    if (c->v)
        ctl_vcpu_destroy(c->v);
    if (c->buf)
        munmap(c->buf, c->buf_size);
    c->v = NULL;
    c->buf = NULL;
}

void op_hypercall(struct conn *c, const struct xhv_msg_hdr *h, const void *p)
{
    struct xhv_hypercall hc;
    struct xhv_hypercall_reply r;

    memcpy(&hc, p, sizeof(hc));
    if (!c->v)
        return conn_error(c, h, -XEN_EINVAL, false, "HYPERCALL on a connection without buffer");
    /* every call runs on the epoll thread: one at a time, like a single dom0 vCPU per tool */
    r.ret = hypercall_dispatch(c->v, hc.op, hc.args);
    xhv_log(LOG_DEBUG, "xhvd: connection %u: hypercall %llu(0x%llx, 0x%llx, ...) = %lld", c->id,
            (unsigned long long)hc.op, (unsigned long long)hc.args[0],
            (unsigned long long)hc.args[1], (long long)r.ret);
    conn_reply(c, h, &r, sizeof(r), -1);
}

/* Fill r's pages for d: the memfd offset of each RAM page, -EFAULT for anything else. */
static int foreign_lookup(struct domain *d, const struct xhv_foreign_map *m,
                          struct xhv_foreign_map_reply *r)
{
    bool dying;

    pthread_mutex_lock(&d->lock);
    dying = d->is_dying;
    pthread_mutex_unlock(&d->lock);
    if (dying)
        return -XEN_ESRCH;
    if (d->is_control || d->p2m.memfd < 0)
        return -XEN_EINVAL; /* no RAM of its own */
    for (uint32_t i = 0; i < m->nr; i++) {
        enum p2m_type t;
        uint64_t off, gfn;
        memcpy(&gfn, (const uint8_t *)m->gfns + i * sizeof(gfn), sizeof(gfn));
        if (p2m_lookup_off(d, gfn, &off, &t) == 0 && t == p2m_ram_rw)
            r->page[i].off = off;
        else
            r->page[i].err = -XEN_EFAULT;
    }
    return 0;
}

void op_foreign_map(struct conn *c, const struct xhv_msg_hdr *h, const void *p)
{
    const struct xhv_foreign_map *m = p;
    struct xhv_foreign_map_reply *r;
    struct domain *d;
    uint32_t len;

    if (!m->nr || m->nr > XHV_MAP_MAX || h->len != xhv_foreign_map_len(m->nr))
        return conn_error(c, h, -XEN_EBADMSG, true, "FOREIGN_MAP: count %u does not match %u bytes",
                          m->nr, h->len);
    len = xhv_foreign_map_reply_len(m->nr);
    if (!(r = calloc(1, len)))
        return conn_error(c, h, -XEN_ENOMEM, false, "FOREIGN_MAP: out of memory");
    r->nr = m->nr;
    d = rcu_lock_domain_by_id(m->domid);
    r->rc = d ? foreign_lookup(d, m, r) : -XEN_ESRCH;
    /* the reply holds its own duplicate of the memfd: d may go away once unlocked */
    conn_reply(c, h, r, len, r->rc == 0 ? d->p2m.memfd : -1);
    if (d)
        rcu_unlock_domain(d);
    free(r);
}

/* Copy the console log bytes [start, start + len) out of the ring; lock held. */
static void console_copy(const struct console *con, uint64_t start, uint32_t len, uint8_t *out)
{
    size_t at = start % CONSOLE_RING, first = CONSOLE_RING - at;
    if (first > len)
        first = len;
    memcpy(out, con->ring + at, first);
    memcpy(out + first, con->ring, len - first);
}

void op_console_read(struct conn *c, const struct xhv_msg_hdr *h, const void *p)
{
    struct xhv_console_read q;
    struct xhv_console_read_reply *r;
    struct domain *d;
    uint64_t prod, start;

    memcpy(&q, p, sizeof(q));
    if (q.max > XHV_CONSOLE_MAX)
        q.max = XHV_CONSOLE_MAX;
    if (!(r = calloc(1, sizeof(*r) + q.max)))
        return conn_error(c, h, -XEN_ENOMEM, false, "CONSOLE_READ: out of memory");
    start = q.index;
    if (!(d = rcu_lock_domain_by_id(q.domid))) {
        r->rc = -XEN_ESRCH;
    } else {
        pthread_mutex_lock(&d->console.lock);
        prod = d->console.prod;
        if (start > prod)
            start = prod;
        if (prod - start > CONSOLE_RING)
            start = prod - CONSOLE_RING; /* older bytes were overwritten */
        r->len = prod - start < q.max ? (uint32_t)(prod - start) : q.max;
        console_copy(&d->console, start, r->len, r->data);
        pthread_mutex_unlock(&d->console.lock);
        rcu_unlock_domain(d);
    }
    r->start = start;
    r->index = start + r->len;
    conn_reply(c, h, r, (uint32_t)sizeof(*r) + r->len, -1);
    free(r);
}
