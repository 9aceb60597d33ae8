/* conn.c: xhvd control connections: nonblocking framing, received descriptors, reply queue. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/core.h"
#include "daemon/xhvd.h"

/* Messages handled per wakeup before other connections get their turn. */
#define CONN_BATCH 64

struct outmsg {
    struct outmsg *next;
    size_t len, sent;
    int fd; /* our duplicate of the descriptor passed with the first byte, or -1 */
    uint8_t data[];
};

static struct conn *conns;
static unsigned nr_conns, next_id;
static struct token_bucket err_log_bucket; /* misbehaving tools must not flood the log */

unsigned conn_count(void)
{
    return nr_conns;
}

bool conn_new(int fd)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        return false;
    c->ev = (struct ev_source){.kind = EV_CONN, .fd = fd};
    if (server_watch(&c->ev, EPOLLIN) < 0) {
        free(c);
        return false;
    }
    c->id = ++next_id;
    c->next = conns;
    if (conns)
        conns->prev = c;
    conns = c;
    nr_conns++;
    xhv_log(LOG_DEBUG, "xhvd: connection %u opened", c->id);
    return true;
}

static void close_fds(struct conn *c)
{
    while (c->nfds)
        close(c->fds[--c->nfds]);
}

static void outmsg_free(struct outmsg *m)
{
    if (m->fd >= 0)
        close(m->fd);
    free(m);
}

static void conn_free(struct conn *c)
{
    server_unwatch(&c->ev);
    close(c->ev.fd);
    close_fds(c);
    while (c->out_head) {
        struct outmsg *m = c->out_head;
        c->out_head = m->next;
        outmsg_free(m);
    }
    op_conn_release(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    nr_conns--;
    xhv_log(LOG_DEBUG, "xhvd: connection %u closed", c->id);
    free(c);
}

void conn_free_all(void)
{
    while (conns)
        conn_free(conns);
}

/* ---- output ---- */

static void queue(struct conn *c, uint16_t type, uint32_t seq, const void *p, uint32_t len, int fd)
{
    struct outmsg *m = malloc(sizeof(*m) + sizeof(struct xhv_msg_hdr) + len);
    if (!m) {
        xhv_log(LOG_ERR, "xhvd: connection %u: out of memory for a reply", c->id);
        c->dead = true;
        if (fd >= 0)
            close(fd);
        return;
    }
    m->next = NULL;
    m->len = sizeof(struct xhv_msg_hdr) + len;
    m->sent = 0;
    m->fd = fd;
    xhv_hdr_init((struct xhv_msg_hdr *)m->data, type, len, seq);
    memcpy(m->data + sizeof(struct xhv_msg_hdr), p, len);
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
}

void conn_reply(struct conn *c, const struct xhv_msg_hdr *h, const void *payload, uint32_t len,
                int fd)
{
    int dup = -1;
    /* a duplicate: the original (a domain's memfd) may be closed before the reply goes out */
    if (fd >= 0 && (dup = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
        conn_error(c, h, -XEN_EMFILE, false, "cannot pass a descriptor: %s", strerror(errno));
        return;
    }
    queue(c, h->type | XHV_MSG_REPLY, h->seq, payload, len, dup);
}

void conn_error(struct conn *c, const struct xhv_msg_hdr *h, int err, bool fatal, const char *fmt,
                ...)
{
    struct xhv_error e;
    char msg[sizeof(e.msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    xhv_error_init(&e, err, h ? h->type : 0, msg);
    queue(c, XHV_MSG_ERROR, h ? h->seq : 0, &e, sizeof(e), -1);
    if (!fatal) {
        xhv_log(LOG_DEBUG, "xhvd: connection %u: %s", c->id, msg);
        return;
    }
    c->dead = true;
    if (token_bucket_take(&err_log_bucket, 20, 5, 1))
        xhv_log(LOG_WARN, "xhvd: connection %u: %s (errno %d): closed", c->id, msg, -err);
}

/* Send what the socket takes now; -1 when the peer is gone. */
static int conn_flush(struct conn *c)
{
    while (c->out_head) {
        struct outmsg *m = c->out_head;
        ssize_t n =
            xhv_sock_send(c->ev.fd, m->data + m->sent, m->len - m->sent, m->sent ? -1 : m->fd, 1);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        m->sent += (size_t)n;
        if (m->sent < m->len)
            continue;
        c->out_head = m->next;
        if (!c->out_head)
            c->out_tail = NULL;
        outmsg_free(m);
    }
    return 0;
}

/* ---- input ---- */

enum { READ_AGAIN, READ_MORE, READ_DONE, READ_CLOSE };

/* A complete header: framing checks before any payload is read. */
static int header_check(struct conn *c)
{
    const struct xhv_msg_hdr *h = &c->hdr;
    int rc = xhv_hdr_check(h);

    if (rc == -XEN_EOPNOTSUPP)
        conn_error(c, h, rc, true, "protocol version %u not supported (xhvd speaks %u)", h->version,
                   XHV_PROTO_VERSION);
    else if (rc == -XEN_EMSGSIZE)
        conn_error(c, h, rc, true, "message of %u bytes is too large", h->len);
    else if (rc)
        conn_error(c, h, rc, true, "bad magic 0x%08x", h->magic);
    else if ((rc = xhv_request_len_check(h->type, h->len)) == -XEN_ENOSYS &&
             h->len <= sizeof(c->in))
        return h->len ? READ_MORE : READ_DONE; /* read and answer it */
    else if (rc)
        conn_error(c, h, -XEN_EBADMSG, true, "%s request with a bad length (%u bytes)",
                   xhv_msg_type_name(h->type), h->len);
    else
        return h->len ? READ_MORE : READ_DONE;
    return READ_CLOSE;
}

static int conn_read(struct conn *c)
{
    const uint32_t hsz = sizeof(struct xhv_msg_hdr);
    uint8_t *dst = c->got < hsz ? (uint8_t *)&c->hdr + c->got : c->in + (c->got - hsz);
    uint32_t want = c->got < hsz ? hsz - c->got : hsz + c->hdr.len - c->got;
    int truncated = 0;
    ssize_t n = xhv_sock_recv(c->ev.fd, dst, want, c->fds, &c->nfds, XHV_MAX_FDS, &truncated, 1);

    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? READ_AGAIN : READ_CLOSE;
    if (n == 0)
        return READ_CLOSE;
    c->got += (uint32_t)n;
    if (truncated) {
        conn_error(c, c->got >= hsz ? &c->hdr : NULL, -XEN_EBADF, true, "too many descriptors");
        return READ_CLOSE;
    }
    if (c->got == hsz)
        return header_check(c);
    return c->got >= hsz && c->got == hsz + c->hdr.len ? READ_DONE : READ_MORE;
}

static void conn_dispatch(struct conn *c)
{
    const struct xhv_msg_hdr *h = &c->hdr;

    c->got = 0;
    if (c->nfds && h->type != XHV_MSG_HELLO)
        conn_error(c, h, -XEN_EBADF, true, "unexpected descriptor with a %s message",
                   xhv_msg_type_name(h->type));
    else if (xhv_request_len_check(h->type, h->len) == -XEN_ENOSYS)
        conn_error(c, h, -XEN_ENOSYS, false, "unknown message type %u", h->type);
    else if (!c->hello_done && h->type != XHV_MSG_HELLO)
        conn_error(c, h, -XEN_ENOTCONN, true, "%s before HELLO", xhv_msg_type_name(h->type));
    else if (h->type == XHV_MSG_HELLO)
        op_hello(c, h, c->in);
    else if (h->type == XHV_MSG_HYPERCALL)
        op_hypercall(c, h, c->in);
    else if (h->type == XHV_MSG_FOREIGN_MAP)
        op_foreign_map(c, h, c->in);
    else
        op_console_read(c, h, c->in);
    close_fds(c);
}

/* Read and handle up to CONN_BATCH messages; false when the connection must go. */
static bool conn_input(struct conn *c)
{
    for (int i = 0; i < CONN_BATCH && !c->dead && !c->out_head;) {
        switch (conn_read(c)) {
        case READ_AGAIN:
            return true;
        case READ_CLOSE:
            return c->dead; /* dead: the error reply goes out first */
        case READ_DONE:
            conn_dispatch(c);
            i++;
            if (conn_flush(c) < 0)
                return false;
            break;
        default:
            break;
        }
    }
    return true;
}

void conn_event(struct conn *c, uint32_t events)
{
    bool was_out = c->out_head != NULL;

    if ((events & EPOLLOUT) && conn_flush(c) < 0)
        goto close;
    if (!c->out_head && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !conn_input(c))
        goto close;
    if (c->dead) {
        conn_flush(c); /* best effort: the error reply */
        goto close;
    }
    /* while replies wait, stop reading: a tool that does not read cannot grow the queue */
    if (was_out != (c->out_head != NULL) &&
        server_modify(&c->ev, c->out_head ? EPOLLOUT : EPOLLIN) < 0)
        goto close;
    return;
close:
    conn_free(c);
}
