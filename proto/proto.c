/* proto.c: xhvd wire protocol helpers: framing checks, sendmsg/recvmsg with SCM_RIGHTS, calls. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/xen_abi.h"
#include "proto/xencall.h"
#include "proto/xhv_proto.h"

void xhv_hdr_init(struct xhv_msg_hdr *h, uint16_t type, uint32_t len, uint32_t seq)
{
    *h = (struct xhv_msg_hdr){
        .magic = XHV_PROTO_MAGIC,
        .version = XHV_PROTO_VERSION,
        .type = type,
        .len = len,
        .seq = seq,
    };
}

int xhv_hdr_check(const struct xhv_msg_hdr *h)
{
    if (h->magic != XHV_PROTO_MAGIC)
        return -XEN_EBADMSG;
    if (h->version != XHV_PROTO_VERSION)
        return -XEN_EOPNOTSUPP;
    if (h->len > XHV_PROTO_MAX_LEN)
        return -XEN_EMSGSIZE;
    return 0;
}

int xhv_request_len_check(uint16_t type, uint32_t len)
{
    switch (type) {
    case XHV_MSG_HELLO:
        return len == sizeof(struct xhv_hello) ? 0 : -XEN_EBADMSG;
    case XHV_MSG_HYPERCALL:
        return len == sizeof(struct xhv_hypercall) ? 0 : -XEN_EBADMSG;
    case XHV_MSG_CONSOLE_READ:
        return len == sizeof(struct xhv_console_read) ? 0 : -XEN_EBADMSG;
    case XHV_MSG_FOREIGN_MAP:
        /* the count is checked against len once the payload is in */
        return len >= xhv_foreign_map_len(1) && len <= xhv_foreign_map_len(XHV_MAP_MAX) &&
                       (len - sizeof(struct xhv_foreign_map)) % 8 == 0
                   ? 0
                   : -XEN_EBADMSG;
    default:
        return -XEN_ENOSYS;
    }
}

static int reply_payload_check(uint16_t req, uint32_t len, const void *p)
{
    switch (req) {
    case XHV_MSG_HELLO:
        return len == sizeof(struct xhv_hello_reply) ? 0 : -XEN_EBADMSG;
    case XHV_MSG_HYPERCALL:
        return len == sizeof(struct xhv_hypercall_reply) ? 0 : -XEN_EBADMSG;
    case XHV_MSG_FOREIGN_MAP: {
        const struct xhv_foreign_map_reply *r = p;
        if (len < sizeof(*r) || r->nr > XHV_MAP_MAX)
            return -XEN_EBADMSG;
        return len == xhv_foreign_map_reply_len(r->nr) ? 0 : -XEN_EBADMSG;
    }
    case XHV_MSG_CONSOLE_READ: {
        const struct xhv_console_read_reply *r = p;
        if (len < sizeof(*r) || r->len > XHV_CONSOLE_MAX)
            return -XEN_EBADMSG;
        return len == sizeof(*r) + r->len ? 0 : -XEN_EBADMSG;
    }
    default:
        return -XEN_EBADMSG;
    }
}

int xhv_reply_check(uint16_t req, const struct xhv_msg_hdr *h, const void *payload)
{
    int rc = xhv_hdr_check(h);
    if (rc)
        return rc;
    if (h->type == XHV_MSG_ERROR)
        return h->len == sizeof(struct xhv_error) ? 0 : -XEN_EBADMSG;
    if (h->type != (req | XHV_MSG_REPLY))
        return -XEN_EBADMSG;
    return reply_payload_check(req, h->len, payload);
}

void xhv_error_init(struct xhv_error *e, int err, uint16_t req_type, const char *msg)
{
    memset(e, 0, sizeof(*e));
    e->err = err;
    e->req_type = req_type;
    e->version = XHV_PROTO_VERSION;
    strncpy(e->msg, msg ? msg : "", sizeof(e->msg) - 1);
}

const char *xhv_msg_type_name(uint16_t type)
{
    static const char *const names[] = {
        [XHV_MSG_HELLO] = "HELLO",
        [XHV_MSG_HYPERCALL] = "HYPERCALL",
        [XHV_MSG_FOREIGN_MAP] = "FOREIGN_MAP",
        [XHV_MSG_CONSOLE_READ] = "CONSOLE_READ",
    };
    uint16_t t = type & (uint16_t)~XHV_MSG_REPLY;
    if (type == XHV_MSG_ERROR)
        return "ERROR";
    if (t < sizeof(names) / sizeof(names[0]) && names[t])
        return names[t];
    return "unknown";
}

ssize_t xhv_sock_send(int sock, const void *buf, size_t len, int fd, int nonblock)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;

    if (fd >= 0) {
        memset(&ctl, 0, sizeof(ctl));
        m.msg_control = ctl.buf;
        m.msg_controllen = sizeof(ctl.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    do
        n = sendmsg(sock, &m, MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0));
    while (n < 0 && errno == EINTR);
    return n;
}

/* Take the descriptors out of every SCM_RIGHTS block; close what does not fit. */
static void take_fds(struct msghdr *m, int *fds, int *nfds, int max, int *truncated)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (*nfds < max) {
                fds[(*nfds)++] = fd;
            } else {
                close(fd);
                *truncated = 1;
            }
        }
    }
    if (m->msg_flags & MSG_CTRUNC)
        *truncated = 1; /* the kernel closed the ones that did not fit */
}

ssize_t xhv_sock_recv(int sock, void *buf, size_t len, int *fds, int *nfds, int max, int *truncated,
                      int nonblock)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * XHV_MAX_FDS)];
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr m = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = ctl.buf,
        .msg_controllen = sizeof(ctl.buf),
    };
    ssize_t n;

    do
        n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | (nonblock ? MSG_DONTWAIT : 0));
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        take_fds(&m, fds, nfds, max, truncated);
    return n;
}

/* Blocking: all of buf (fd with the first byte). */
static int send_all(int sock, const void *buf, size_t len, int fd)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = xhv_sock_send(sock, p, len, fd, 0);
        if (n < 0)
            return -1;
        p += n, len -= (size_t)n;
        fd = -1;
    }
    return 0;
}

int xhv_send_msg(int sock, uint16_t type, uint32_t seq, const void *payload, uint32_t len, int fd)
{
    uint8_t small[256];
    uint8_t *msg = small;
    size_t total = sizeof(struct xhv_msg_hdr) + len;
    int rc;

    if (len > XHV_PROTO_MAX_LEN) {
        errno = EMSGSIZE;
        return -1;
    }
    if (total > sizeof(small) && !(msg = malloc(total)))
        return -1;
    xhv_hdr_init((struct xhv_msg_hdr *)msg, type, len, seq);
    if (len)
        memcpy(msg + sizeof(struct xhv_msg_hdr), payload, len);
    rc = send_all(sock, msg, total, fd);
    if (msg != small)
        free(msg);
    return rc;
}

/* Blocking: exactly len bytes (collecting descriptors); EOF is ECONNRESET. */
static int recv_all(int sock, void *buf, size_t len, int *fds, int *nfds)
{
    uint8_t *p = buf;
    int truncated = 0;
    while (len) {
        ssize_t n = xhv_sock_recv(sock, p, len, fds, nfds, XHV_MAX_FDS, &truncated, 0);
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = ECONNRESET;
            return -1;
        }
        p += n, len -= (size_t)n;
    }
    return 0;
}

/* Read and drop n bytes (a payload too large for the caller), closing any descriptors. */
static int discard(int sock, uint32_t n)
{
    uint8_t junk[4096];
    int fds[XHV_MAX_FDS], nfds = 0;
    while (n) {
        uint32_t k = n < sizeof(junk) ? n : (uint32_t)sizeof(junk);
        if (recv_all(sock, junk, k, fds, &nfds) < 0)
            return -1;
        n -= k;
    }
    while (nfds)
        close(fds[--nfds]);
    return 0;
}

int xhv_recv_msg(int sock, struct xhv_msg_hdr *h, void *payload, uint32_t cap, int fds[], int *nfds)
{
    int rc;
    *nfds = 0;
    if (recv_all(sock, h, sizeof(*h), fds, nfds) < 0)
        goto fail;
    if ((rc = xhv_hdr_check(h))) {
        errno = -rc;
        goto fail;
    }
    if (h->len > cap) {
        if (discard(sock, h->len) == 0)
            errno = EMSGSIZE;
        goto fail;
    }
    if (recv_all(sock, payload, h->len, fds, nfds) < 0)
        goto fail;
    return 0;
fail:
    rc = errno;
    while (*nfds)
        close(fds[--*nfds]);
    errno = rc;
    return -1;
}

int xhv_chan_connect(struct xhv_chan *c, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    const char *env = getenv("XHV_SOCKET");

    c->sock = -1;
    c->seq = 0;
    pthread_mutex_init(&c->lock, NULL);
    if (!path)
        path = env && *env ? env : XHV_DEFAULT_SOCKET;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->sock < 0)
        return -1;
    if (connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(c->sock);
        c->sock = -1;
        errno = e;
        return -1;
    }
    return 0;
}

void xhv_chan_close(struct xhv_chan *c)
{
    if (c->sock >= 0)
        close(c->sock);
    c->sock = -1;
    pthread_mutex_destroy(&c->lock);
}

/* Keep the first descriptor for the caller (if it wants one); close the others. */
static void hand_fds(int *fds, int nfds, int *fd_out)
{
    for (int i = 0; i < nfds; i++) {
        if (i == 0 && fd_out)
            *fd_out = fds[0];
        else
            close(fds[i]);
    }
}

/* A broken stream cannot be resynchronised: later calls fail with EPIPE. */
static int chan_broken(struct xhv_chan *c)
{
    int e = errno;
    if (c->sock >= 0)
        shutdown(c->sock, SHUT_RDWR);
    errno = e;
    return -1;
}

static int chan_call(struct xhv_chan *c, uint16_t type, const void *req, uint32_t len, int fd_in,
                     void *rep, uint32_t rep_cap, uint32_t *rep_len, int *fd_out)
{
    uint32_t seq = ++c->seq;
    struct xhv_msg_hdr h;
    int fds[XHV_MAX_FDS], nfds;

    if (fd_out)
        *fd_out = -1;
    if (c->sock < 0 || rep_cap < sizeof(struct xhv_error)) {
        errno = c->sock < 0 ? ENOTCONN : EINVAL;
        return -1;
    }
    if (xhv_send_msg(c->sock, type, seq, req, len, fd_in) < 0)
        return chan_broken(c);
    for (;;) {
        if (xhv_recv_msg(c->sock, &h, rep, rep_cap, fds, &nfds) < 0)
            return chan_broken(c);
        if (h.seq == seq)
            break;
        hand_fds(fds, nfds, NULL); /* a stale reply */
    }
    if (xhv_reply_check(type, &h, rep)) {
        hand_fds(fds, nfds, NULL);
        errno = EBADMSG;
        return chan_broken(c);
    }
    if (h.type == XHV_MSG_ERROR) {
        const struct xhv_error *e = rep;
        hand_fds(fds, nfds, NULL);
        errno = e->err < 0 ? -e->err : EIO;
        return -1;
    }
    hand_fds(fds, nfds, fd_out);
    if (rep_len)
        *rep_len = h.len;
    return 0;
}

int xhv_chan_call(struct xhv_chan *c, uint16_t type, const void *req, uint32_t len, int fd_in,
                  void *rep, uint32_t rep_cap, uint32_t *rep_len, int *fd_out)
{
    pthread_mutex_lock(&c->lock);
    int rc = chan_call(c, type, req, len, fd_in, rep, rep_cap, rep_len, fd_out);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int xhv_chan_hello(struct xhv_chan *c, int memfd, uint64_t buf_size, uint64_t buf_base)
{
    struct xhv_hello hello = {
        .version = XHV_PROTO_VERSION,
        .buf_size = buf_size,
        .buf_base = buf_base,
    };
    union {
        struct xhv_hello_reply r;
        struct xhv_error e;
    } rep;

    if (xhv_chan_call(c, XHV_MSG_HELLO, &hello, sizeof(hello), memfd, &rep, sizeof(rep), NULL,
                      NULL) < 0)
        return -1;
    if (rep.r.rc < 0) {
        errno = -rep.r.rc;
        return -1;
    }
    return 0;
}
