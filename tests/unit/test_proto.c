/* test_proto.c: xhvd's wire protocol helpers: framing checks, SCM_RIGHTS, the request channel. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xen_abi.h"
#include "proto/xhv_proto.h"
#include "tests/unit/harness.h"

TEST(proto_header_checks)
{
    struct xhv_msg_hdr h;
    xhv_hdr_init(&h, XHV_MSG_HYPERCALL, 48, 7);
    CHECK_EQ(h.magic, XHV_PROTO_MAGIC);
    CHECK_EQ(h.version, XHV_PROTO_VERSION);
    CHECK_EQ(h.seq, 7);
    CHECK_EQ(xhv_hdr_check(&h), 0);
    h.len = XHV_PROTO_MAX_LEN;
    CHECK_EQ(xhv_hdr_check(&h), 0);
    h.len = XHV_PROTO_MAX_LEN + 1;
    CHECK_EQ(xhv_hdr_check(&h), -XEN_EMSGSIZE);
    h.len = 48;
    h.version = XHV_PROTO_VERSION + 1;
    CHECK_EQ(xhv_hdr_check(&h), -XEN_EOPNOTSUPP);
    h.version = XHV_PROTO_VERSION;
    h.magic ^= 1;
    CHECK_EQ(xhv_hdr_check(&h), -XEN_EBADMSG);
}

TEST(proto_request_lengths)
{
    CHECK_EQ(xhv_request_len_check(XHV_MSG_HELLO, 24), 0);
    CHECK_EQ(xhv_request_len_check(XHV_MSG_HELLO, 23), -XEN_EBADMSG);
    CHECK_EQ(xhv_request_len_check(XHV_MSG_HYPERCALL, 48), 0);
    CHECK_EQ(xhv_request_len_check(XHV_MSG_HYPERCALL, 56), -XEN_EBADMSG);
    CHECK_EQ(xhv_request_len_check(XHV_MSG_CONSOLE_READ, 16), 0);
    CHECK_EQ(xhv_request_len_check(XHV_MSG_CONSOLE_READ, 0), -XEN_EBADMSG);
    CHECK_EQ(xhv_request_len_check(XHV_MSG_FOREIGN_MAP, xhv_foreign_map_len(0)), -XEN_EBADMSG);
    CHECK_EQ(xhv_request_len_check(XHV_MSG_FOREIGN_MAP, xhv_foreign_map_len(1)), 0);
    CHECK_EQ(xhv_request_len_check(XHV_MSG_FOREIGN_MAP, xhv_foreign_map_len(XHV_MAP_MAX)), 0);
    CHECK_EQ(xhv_request_len_check(XHV_MSG_FOREIGN_MAP, xhv_foreign_map_len(XHV_MAP_MAX + 1)),
             -XEN_EBADMSG);
    CHECK_EQ(xhv_request_len_check(XHV_MSG_FOREIGN_MAP, xhv_foreign_map_len(2) + 4), -XEN_EBADMSG);
    CHECK_EQ(xhv_request_len_check(0, 0), -XEN_ENOSYS);
    CHECK_EQ(xhv_request_len_check(XHV_MSG_ERROR, 128), -XEN_ENOSYS);
    CHECK_EQ(xhv_request_len_check(XHV_MSG_HELLO | XHV_MSG_REPLY, 16), -XEN_ENOSYS);
    CHECK_EQ(xhv_foreign_map_len(3), 8 + 24);
    CHECK_EQ(xhv_foreign_map_reply_len(3), 8 + 48);
}

TEST(proto_reply_checks)
{
    struct xhv_msg_hdr h;
    union {
        struct xhv_foreign_map_reply m;
        struct xhv_console_read_reply c;
        uint8_t raw[256];
    } p = {0};

    xhv_hdr_init(&h, XHV_MSG_HYPERCALL | XHV_MSG_REPLY, 8, 1);
    CHECK_EQ(xhv_reply_check(XHV_MSG_HYPERCALL, &h, &p), 0);
    CHECK_EQ(xhv_reply_check(XHV_MSG_HELLO, &h, &p), -XEN_EBADMSG); /* not its reply */
    h.len = 16;
    CHECK_EQ(xhv_reply_check(XHV_MSG_HYPERCALL, &h, &p), -XEN_EBADMSG);
    xhv_hdr_init(&h, XHV_MSG_ERROR, sizeof(struct xhv_error), 1);
    CHECK_EQ(xhv_reply_check(XHV_MSG_HYPERCALL, &h, &p), 0);
    h.len = 8;
    CHECK_EQ(xhv_reply_check(XHV_MSG_HYPERCALL, &h, &p), -XEN_EBADMSG);
    /* counts inside the payload must match its length */
    p.m.nr = 3;
    xhv_hdr_init(&h, XHV_MSG_FOREIGN_MAP | XHV_MSG_REPLY, xhv_foreign_map_reply_len(3), 1);
    CHECK_EQ(xhv_reply_check(XHV_MSG_FOREIGN_MAP, &h, &p), 0);
    p.m.nr = 4;
    CHECK_EQ(xhv_reply_check(XHV_MSG_FOREIGN_MAP, &h, &p), -XEN_EBADMSG);
    p.m.nr = 0xffffffffu;
    CHECK_EQ(xhv_reply_check(XHV_MSG_FOREIGN_MAP, &h, &p), -XEN_EBADMSG);
    memset(&p, 0, sizeof(p));
    p.c.len = 10;
    xhv_hdr_init(&h, XHV_MSG_CONSOLE_READ | XHV_MSG_REPLY, 24 + 10, 1);
    CHECK_EQ(xhv_reply_check(XHV_MSG_CONSOLE_READ, &h, &p), 0);
    p.c.len = 11;
    CHECK_EQ(xhv_reply_check(XHV_MSG_CONSOLE_READ, &h, &p), -XEN_EBADMSG);
}

TEST(proto_error_payload)
{
    struct xhv_error e;
    char big[300];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    xhv_error_init(&e, -XEN_EINVAL, XHV_MSG_HELLO, big);
    CHECK_EQ(e.err, -XEN_EINVAL);
    CHECK_EQ(e.req_type, XHV_MSG_HELLO);
    CHECK_EQ(e.version, XHV_PROTO_VERSION);
    CHECK_EQ(strlen(e.msg), sizeof(e.msg) - 1);
    CHECK(!strcmp(xhv_msg_type_name(XHV_MSG_FOREIGN_MAP | XHV_MSG_REPLY), "FOREIGN_MAP"));
    CHECK(!strcmp(xhv_msg_type_name(XHV_MSG_ERROR), "ERROR"));
    CHECK(!strcmp(xhv_msg_type_name(999), "unknown"));
}

static int test_memfd(const char *text)
{
    int fd = memfd_create("test_proto", MFD_CLOEXEC);
    if (fd >= 0 && write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        close(fd);
        return -1;
    }
    return fd;
}

TEST(proto_scm_rights_round_trip)
{
    int sv[2], fd = test_memfd("shared"), fds[XHV_MAX_FDS], nfds = -1;
    struct xhv_hypercall hc = {.op = 17, .args = {1, 2, 3, 4, 5}}, got;
    struct xhv_msg_hdr h;
    struct stat a, b;
    char text[8] = {0};

    CHECK(fd >= 0);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    CHECK_EQ(xhv_send_msg(sv[0], XHV_MSG_HYPERCALL, 42, &hc, sizeof(hc), fd), 0);
    CHECK_EQ(xhv_recv_msg(sv[1], &h, &got, sizeof(got), fds, &nfds), 0);
    CHECK_EQ(h.type, XHV_MSG_HYPERCALL);
    CHECK_EQ(h.seq, 42);
    CHECK_EQ(h.len, sizeof(hc));
    CHECK(!memcmp(&got, &hc, sizeof(hc)));
    CHECK_EQ(nfds, 1);
    if (nfds == 1) {
        /* the same file, not a copy */
        CHECK(fstat(fd, &a) == 0 && fstat(fds[0], &b) == 0 && a.st_ino == b.st_ino);
        CHECK_EQ(pread(fds[0], text, 6, 0), 6);
        CHECK(!strcmp(text, "shared"));
        close(fds[0]);
    }
    /* no descriptor: none received */
    CHECK_EQ(xhv_send_msg(sv[0], XHV_MSG_HYPERCALL, 43, &hc, sizeof(hc), -1), 0);
    CHECK_EQ(xhv_recv_msg(sv[1], &h, &got, sizeof(got), fds, &nfds), 0);
    CHECK_EQ(nfds, 0);
    close(fd);
    close(sv[0]);
    close(sv[1]);
}

/* More descriptors than XHV_MAX_FDS: the rest are closed and the excess reported. */
TEST(proto_too_many_fds)
{
    int sv[2], in[XHV_MAX_FDS + 3], fds[XHV_MAX_FDS], nfds = 0, truncated = 0;
    char ctl[CMSG_SPACE(sizeof(in))] = {0}, byte = 'x';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);

    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    for (unsigned i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        in[i] = test_memfd("x");
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(in));
    memcpy(CMSG_DATA(c), in, sizeof(in));
    CHECK_EQ(sendmsg(sv[0], &m, 0), 1);
    CHECK_EQ(xhv_sock_recv(sv[1], &byte, 1, fds, &nfds, XHV_MAX_FDS, &truncated, 1), 1);
    CHECK(truncated);
    CHECK(nfds <= XHV_MAX_FDS);
    while (nfds)
        close(fds[--nfds]);
    for (unsigned i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        close(in[i]);
    /* nothing to read: EAGAIN when nonblocking */
    CHECK_EQ(xhv_sock_recv(sv[1], &byte, 1, fds, &nfds, XHV_MAX_FDS, &truncated, 1), -1);
    CHECK_EQ(errno, EAGAIN);
    close(sv[0]);
    close(sv[1]);
}

TEST(proto_recv_errors)
{
    int sv[2], fds[XHV_MAX_FDS], nfds;
    struct xhv_msg_hdr h, bad;
    uint8_t big[64] = {0}, small[8];

    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    /* a payload larger than the caller's buffer is skipped: the stream stays in step */
    CHECK_EQ(xhv_send_msg(sv[0], XHV_MSG_HYPERCALL, 1, big, sizeof(big), -1), 0);
    CHECK_EQ(xhv_send_msg(sv[0], XHV_MSG_HYPERCALL, 2, big, 8, -1), 0);
    CHECK_EQ(xhv_recv_msg(sv[1], &h, small, sizeof(small), fds, &nfds), -1);
    CHECK_EQ(errno, EMSGSIZE);
    CHECK_EQ(xhv_recv_msg(sv[1], &h, small, sizeof(small), fds, &nfds), 0);
    CHECK_EQ(h.seq, 2);
    /* a bad header */
    xhv_hdr_init(&bad, XHV_MSG_HELLO, 0, 3);
    bad.magic = 0x12345678;
    CHECK_EQ(write(sv[0], &bad, sizeof(bad)), (ssize_t)sizeof(bad));
    CHECK_EQ(xhv_recv_msg(sv[1], &h, small, sizeof(small), fds, &nfds), -1);
    CHECK_EQ(errno, EBADMSG);
    /* EOF in the middle of a message */
    xhv_hdr_init(&bad, XHV_MSG_HELLO, 8, 4);
    CHECK_EQ(write(sv[0], &bad, sizeof(bad)), (ssize_t)sizeof(bad));
    close(sv[0]);
    CHECK_EQ(xhv_recv_msg(sv[1], &h, small, sizeof(small), fds, &nfds), -1);
    CHECK_EQ(errno, ECONNRESET);
    CHECK_EQ(xhv_send_msg(sv[1], XHV_MSG_HELLO, 1, big, XHV_PROTO_MAX_LEN + 1, -1), -1);
    CHECK_EQ(errno, EMSGSIZE);
    close(sv[1]);
}

/* A scripted peer for xhv_chan_call: a stale reply, then the real one or an error. */
struct peer {
    int sock;
    bool send_error;
};

static void *peer_main(void *arg)
{
    struct peer *p = arg;
    struct xhv_msg_hdr h;
    uint8_t req[64];
    int fds[XHV_MAX_FDS], nfds;
    struct xhv_hypercall_reply r = {.ret = 0x40011};
    struct xhv_error e;

    if (xhv_recv_msg(p->sock, &h, req, sizeof(req), fds, &nfds) < 0)
        return NULL;
    while (nfds)
        close(fds[--nfds]);
    r.ret = -1;
    xhv_send_msg(p->sock, XHV_MSG_HYPERCALL | XHV_MSG_REPLY, h.seq - 1, &r, sizeof(r), -1);
    r.ret = 0x40011;
    xhv_error_init(&e, -XEN_ESRCH, h.type, "no such thing");
    if (p->send_error)
        xhv_send_msg(p->sock, XHV_MSG_ERROR, h.seq, &e, sizeof(e), -1);
    else
        xhv_send_msg(p->sock, XHV_MSG_HYPERCALL | XHV_MSG_REPLY, h.seq, &r, sizeof(r), -1);
    return NULL;
}

static int chan_call_against_peer(bool send_error, int64_t *ret)
{
    int sv[2], rc;
    struct xhv_chan c = {.seq = 100, .lock = PTHREAD_MUTEX_INITIALIZER};
    struct xhv_hypercall hc = {.op = 17};
    struct peer p = {.send_error = send_error};
    pthread_t t;
    union {
        struct xhv_hypercall_reply r;
        struct xhv_error e;
    } rep;
    uint32_t len = 0;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -2;
    c.sock = sv[0];
    p.sock = sv[1];
    pthread_create(&t, NULL, peer_main, &p);
    rc = xhv_chan_call(&c, XHV_MSG_HYPERCALL, &hc, sizeof(hc), -1, &rep, sizeof(rep), &len, NULL);
    pthread_join(t, NULL);
    if (rc == 0)
        *ret = len == sizeof(rep.r) ? rep.r.ret : -999;
    xhv_chan_close(&c);
    close(sv[1]);
    return rc;
}

TEST(proto_chan_call)
{
    int64_t ret = 0;
    CHECK_EQ(chan_call_against_peer(false, &ret), 0);
    CHECK_EQ(ret, 0x40011); /* the stale reply (seq - 1) was skipped */
    CHECK_EQ(chan_call_against_peer(true, &ret), -1);
    CHECK_EQ(errno, ESRCH);
}
