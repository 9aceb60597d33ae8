/* xs_server.c: xenstore connections on stream sockets: framing, output queue, watch events. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xenstore/xs_server.h"

#define XS_CONN_BATCH 64 /* requests handled per xs_conn_readable call */

struct xs_out {
    struct xs_out *next;
    size_t len, off;
    char data[];
};

struct xs_conn {
    struct xs_store *s;
    int fd;
    unsigned domid;
    bool broken;
    unsigned hdr_used, body_used; /* progress of the request being read */
    struct xsd_sockmsg hdr;
    char body[XENSTORE_PAYLOAD_MAX];
    struct xs_out *out, **out_tail;
    size_t out_bytes;
    struct xs_reply rep;
};

/* Queue one message (header + payload) for the peer. */
static void enqueue(struct xs_conn *c, const struct xsd_sockmsg *hdr, const void *body)
{
    size_t len = sizeof(*hdr) + hdr->len;
    struct xs_out *o;

    if (c->broken)
        return;
    if (c->out_bytes + len > XS_CONN_OUT_MAX || !(o = malloc(sizeof(*o) + len))) {
        c->broken = true; /* a peer that stopped reading: xenstored drops it too */
        return;
    }
    o->next = NULL;
    o->len = len;
    o->off = 0;
    memcpy(o->data, hdr, sizeof(*hdr));
    memcpy(o->data + sizeof(*hdr), body, hdr->len);
    *c->out_tail = o;
    c->out_tail = &o->next;
    c->out_bytes += len;
}

/* Write what the socket takes without blocking. 1 = all written, 0 = more left, -1 = dead. */
static int flush_some(struct xs_conn *c)
{
    while (c->out && !c->broken) {
        struct xs_out *o = c->out;
        ssize_t n = send(c->fd, o->data + o->off, o->len - o->off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(c->fd, o->data + o->off, o->len - o->off);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (n <= 0) {
            c->broken = true;
            break;
        }
        o->off += n;
        if (o->off < o->len)
            continue;
        c->out = o->next;
        if (!c->out)
            c->out_tail = &c->out;
        c->out_bytes -= o->len;
        free(o);
    }
    return c->broken ? -1 : 1;
}

/* Flush, waiting for the peer while its socket buffer is full -- but never for long: a client
 * that stops reading its replies is dropped rather than stalling the daemon's only thread. */
#define XS_FLUSH_TIMEOUT_MS 1000
static int flush_all(struct xs_conn *c)
{
    int rc;

    while ((rc = flush_some(c)) == 0) {
        struct pollfd p = {.fd = c->fd, .events = POLLOUT};
        int n = poll(&p, 1, XS_FLUSH_TIMEOUT_MS);
        if (n == 0 || (n < 0 && errno != EINTR))
            return -1;
    }
    return rc < 0 ? -1 : 0;
}

/* The store's event sink: every watch owner is an xs_conn. */
static void conn_event(void *opaque, void *owner, const char *path, const char *token)
{
    struct xs_conn *c = owner;
    size_t plen = strlen(path) + 1, tlen = strlen(token) + 1;
    struct xsd_sockmsg hdr = {.type = XS_WATCH_EVENT, .len = plen + tlen};
    char body[XENSTORE_PAYLOAD_MAX];

    (void)opaque;
    if (plen + tlen > XENSTORE_PAYLOAD_MAX)
        return; /* xenstored does not send over-long events either */
    memcpy(body, path, plen);
    memcpy(body + plen, token, tlen);
    enqueue(c, &hdr, body);
    flush_some(c);
}

struct xs_conn *xs_conn_new(struct xs_store *s, int fd, unsigned domid)
{
    struct xs_conn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->s = s;
    c->fd = fd;
    c->domid = domid;
    c->out_tail = &c->out;
    xs_store_set_event_sink(s, conn_event, NULL);
    return c;
}

static void handle(struct xs_conn *c)
{
    xs_handle_request(c->s, c, c->domid, &c->hdr, c->body, &c->rep);
    enqueue(c, &c->rep.hdr, c->rep.body);
    if (c->rep.has_event)
        enqueue(c, &c->rep.ev_hdr, c->rep.ev_body);
    c->hdr_used = c->body_used = 0;
}

/* Read into buf without blocking: recv(MSG_DONTWAIT) on a socket; on another kind of fd only
 * the call's first read (the fd was reported readable) may use read(). >0 bytes, 0 = nothing
 * more now, -1 = EOF or error. */
static ssize_t read_some(struct xs_conn *c, void *buf, size_t len, bool first)
{
    ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);

    if (n < 0 && errno == ENOTSOCK)
        n = first ? read(c->fd, buf, len) : (errno = EAGAIN, -1);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    return n > 0 ? n : -1;
}

/* Advance the request being read; 1 = a whole request is there, 0 = need more, -1 = close. */
static int read_request(struct xs_conn *c, bool first)
{
    ssize_t n;

    if (c->hdr_used < sizeof(c->hdr)) {
        n = read_some(c, (char *)&c->hdr + c->hdr_used, sizeof(c->hdr) - c->hdr_used, first);
        first = false;
        if (n <= 0)
            return n;
        c->hdr_used += n;
        if (c->hdr_used < sizeof(c->hdr))
            return 0;
        if (c->hdr.len > XENSTORE_PAYLOAD_MAX)
            return -1; /* xenstored kills such a connection without a reply */
    }
    if (c->body_used < c->hdr.len) {
        n = read_some(c, c->body + c->body_used, c->hdr.len - c->body_used, first);
        if (n <= 0)
            return n;
        c->body_used += n;
    }
    return c->body_used == c->hdr.len;
}

int xs_conn_readable(struct xs_conn *c)
{
    for (unsigned handled = 0; !c->broken && handled < XS_CONN_BATCH; handled++) {
        int rc = read_request(c, handled == 0);
        if (rc < 0) {
            flush_some(c); /* replies to what came before EOF, if the peer still reads */
            return -1;
        }
        if (rc == 0)
            break;
        handle(c);
    }
    return flush_all(c);
}

bool xs_conn_want_write(const struct xs_conn *c)
{
    return c->out != NULL;
}

int xs_conn_writable(struct xs_conn *c)
{
    return flush_some(c) < 0 ? -1 : 0;
}

void xs_conn_free(struct xs_conn *c)
{
    if (!c)
        return;
    xs_store_forget_owner(c->s, c, true, true);
    while (c->out) {
        struct xs_out *o = c->out;
        c->out = o->next;
        free(o);
    }
    free(c);
}
