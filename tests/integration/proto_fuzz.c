/* proto_fuzz.c: abuses xhvd's control socket (malformed messages) and checks it still serves. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/xen_abi.h"
#include <xen/domctl.h>
#include "proto/foreignmemory.h"
#include "proto/xencall.h"
#include "proto/xhv_proto.h"
#include "xenstore/xs_client.h"

/*
 * usage: proto_fuzz SOCKET [CASE...]   (no CASE: every abuse case, each followed by a good call)
 *        proto_fuzz SOCKET cycles N    (N connect / call / disconnect cycles, for fd counting)
 *        proto_fuzz SOCKET leave-domain (create a domain and leave it: "domain left")
 * Prints "PASS fuzz-<case>" or "FAIL fuzz-<case>: why" per case; exit status 1 if any failed.
 */

static const char *sock_path;
static char why[256];

static const char *fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return why;
}

static int raw_connect(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = 60}; /* a hang guard, not a timing check */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Send bytes with nfds descriptors attached (blocking, all of it). */
static int send_raw(int fd, const void *buf, size_t len, const int *fds, int nfds)
{
    char ctl[CMSG_SPACE(sizeof(int) * 16)] = {0};
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds) {
        m.msg_control = ctl;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    return sendmsg(fd, &m, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* A header + payload, as a tool would send it. */
static int send_msg(int fd, uint16_t type, uint32_t seq, const void *p, uint32_t len,
                    const int *fds, int nfds)
{
    uint8_t buf[16 + 16384];
    if (len > sizeof(buf) - 16)
        return -1;
    xhv_hdr_init((struct xhv_msg_hdr *)buf, type, len, seq);
    if (len)
        memcpy(buf + 16, p, len);
    return send_raw(fd, buf, 16 + len, fds, nfds);
}

/* Read one message; its type and (for errors) err. -1 on EOF/error. */
static int read_reply(int fd, struct xhv_msg_hdr *h, int32_t *err)
{
    static uint8_t payload[XHV_PROTO_MAX_LEN];
    int fds[XHV_MAX_FDS], nfds;
    if (xhv_recv_msg(fd, h, payload, sizeof(payload), fds, &nfds) < 0)
        return -1;
    while (nfds)
        close(fds[--nfds]);
    if (err)
        *err = h->type == XHV_MSG_ERROR ? ((struct xhv_error *)payload)->err : 0;
    return 0;
}

/* The daemon must answer with XHV_MSG_ERROR(err) and then close the connection. */
static const char *expect_fatal(int fd, int err)
{
    struct xhv_msg_hdr h;
    int32_t e;
    char c;
    if (read_reply(fd, &h, &e) < 0)
        return fail("no error reply (%s)", strerror(errno));
    if (h.type != XHV_MSG_ERROR || e != err)
        return fail("reply type 0x%x err %d, expected ERROR %d", h.type, e, err);
    if (recv(fd, &c, 1, 0) != 0 && errno != ECONNRESET)
        return fail("connection not closed after the error");
    return NULL;
}

static int hello(int fd)
{
    struct xhv_hello hl = {.version = XHV_PROTO_VERSION};
    struct xhv_msg_hdr h;
    int32_t e;
    if (send_msg(fd, XHV_MSG_HELLO, 1, &hl, sizeof(hl), NULL, 0) < 0 || read_reply(fd, &h, &e))
        return -1;
    return h.type == (XHV_MSG_HELLO | XHV_MSG_REPLY) ? 0 : -1;
}

/* A sealed memfd of size bytes (what a good HELLO carries). */
static int arena(size_t size, bool seal)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd >= 0 && ftruncate(fd, (off_t)size) == 0 &&
        (!seal || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0))
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* ---- framing abuse ---- */

static const char *c_garbage(int fd)
{
    uint8_t junk[256];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)rand();
    junk[0] = 0x11; /* not the magic */
    send_raw(fd, junk, sizeof(junk), NULL, 0);
    return expect_fatal(fd, -XEN_EBADMSG);
}

static const char *c_truncated_header(int fd)
{
    char c;
    send_raw(fd, "XHVP\1\0\2", 7, NULL, 0);
    shutdown(fd, SHUT_WR);
    return recv(fd, &c, 1, 0) == 0 ? NULL : fail("expected a silent close");
}

static const char *bad_header(int fd, uint32_t magic, uint16_t version, uint16_t type, uint32_t len,
                              int err)
{
    struct xhv_msg_hdr h = {.magic = magic, .version = version, .type = type, .len = len};
    send_raw(fd, &h, sizeof(h), NULL, 0);
    return expect_fatal(fd, err);
}

static const char *c_huge_len(int fd)
{
    return bad_header(fd, XHV_PROTO_MAGIC, XHV_PROTO_VERSION, XHV_MSG_HYPERCALL, 0xffffffffu,
                      -XEN_EMSGSIZE);
}

static const char *c_wrong_len(int fd)
{
    return bad_header(fd, XHV_PROTO_MAGIC, XHV_PROTO_VERSION, XHV_MSG_HYPERCALL, 40, -XEN_EBADMSG);
}

static const char *c_bad_magic(int fd)
{
    return bad_header(fd, 0xdeadbeef, XHV_PROTO_VERSION, XHV_MSG_HELLO, 24, -XEN_EBADMSG);
}

static const char *c_bad_version(int fd)
{
    return bad_header(fd, XHV_PROTO_MAGIC, 99, XHV_MSG_HELLO, 24, -XEN_EOPNOTSUPP);
}

static const char *c_call_before_hello(int fd)
{
    struct xhv_hypercall hc = {.op = __HYPERVISOR_xen_version};
    send_msg(fd, XHV_MSG_HYPERCALL, 7, &hc, sizeof(hc), NULL, 0);
    return expect_fatal(fd, -XEN_ENOTCONN);
}

static const char *c_partial_close(int fd)
{
    struct xhv_hello hl = {.version = XHV_PROTO_VERSION};
    uint8_t buf[16 + sizeof(hl)];
    xhv_hdr_init((struct xhv_msg_hdr *)buf, XHV_MSG_HELLO, sizeof(hl), 1);
    memcpy(buf + 16, &hl, sizeof(hl));
    send_raw(fd, buf, 16 + 10, NULL, 0);
    return NULL; /* the daemon must just drop it */
}

/* ---- HELLO abuse ---- */

static const char *hello_with(int fd, uint64_t size, uint64_t base, const int *fds, int nfds,
                              int err)
{
    struct xhv_hello hl = {.version = XHV_PROTO_VERSION, .buf_size = size, .buf_base = base};
    send_msg(fd, XHV_MSG_HELLO, 1, &hl, sizeof(hl), fds, nfds);
    return expect_fatal(fd, err);
}

static const char *c_hello_bad_fd_count(int fd)
{
    int m[10];
    const char *r;
    for (int i = 0; i < 10; i++)
        m[i] = arena(1 << 16, true);
    r = hello_with(fd, 1 << 16, 1 << 20, m, 2, -XEN_EBADF);
    if (!r) {
        int fd2 = raw_connect();
        r = hello_with(fd2, 1 << 16, 1 << 20, m, 10, -XEN_EBADF); /* more than XHV_MAX_FDS */
        close(fd2);
    }
    if (!r) {
        int fd3 = raw_connect();
        r = hello_with(fd3, 1 << 16, 1 << 20, NULL, 0, -XEN_EBADF);
        close(fd3);
    }
    for (int i = 0; i < 10; i++)
        close(m[i]);
    return r;
}

static const char *c_hello_not_memfd(int fd)
{
    int p[2];
    const char *r;
    if (pipe(p) < 0)
        return fail("pipe");
    r = hello_with(fd, 1 << 16, 1 << 20, p, 1, -XEN_EINVAL);
    close(p[0]);
    close(p[1]);
    return r;
}

static const char *c_hello_bad_buffer(int fd)
{
    struct {
        size_t memfd_size;
        bool seal;
        uint64_t size, base;
    } t[] = {
        {1 << 16, false, 1 << 16, 1 << 20},     /* not sealed against shrinking */
        {4096, true, 1 << 16, 1 << 20},         /* memfd smaller than buf_size */
        {1 << 16, true, 1ull << 30, 1 << 20},   /* larger than XHV_BUF_MAX */
        {1 << 16, true, 1 << 16, 0x1001},       /* unaligned base */
        {1 << 16, true, 1 << 16, ~0ull - 4095}, /* base + size wraps */
        {1 << 16, true, 1000, 1 << 20},         /* not whole pages */
    };
    const char *r = NULL;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]) && !r; i++) {
        int m = arena(t[i].memfd_size, t[i].seal), c = i ? raw_connect() : fd;
        r = hello_with(c, t[i].size, t[i].base, &m, 1, -XEN_EINVAL);
        if (r)
            r = fail("case %zu: %s", i, why);
        close(m);
        if (i)
            close(c);
    }
    return r;
}

static const char *c_hello_version(int fd)
{
    struct xhv_hello hl = {.version = 2};
    send_msg(fd, XHV_MSG_HELLO, 1, &hl, sizeof(hl), NULL, 0);
    return expect_fatal(fd, -XEN_EOPNOTSUPP);
}

static const char *c_second_hello(int fd)
{
    struct xhv_hello hl = {.version = XHV_PROTO_VERSION};
    if (hello(fd) < 0)
        return fail("first HELLO refused");
    send_msg(fd, XHV_MSG_HELLO, 2, &hl, sizeof(hl), NULL, 0);
    return expect_fatal(fd, -XEN_EBADMSG);
}

/* ---- requests after HELLO ---- */

static const char *c_map_huge_nr(int fd)
{
    uint8_t buf[8 + 8 * 4];
    struct xhv_foreign_map *m = (struct xhv_foreign_map *)buf;
    const char *r;
    int fd2;
    if (hello(fd) < 0)
        return fail("HELLO refused");
    memset(buf, 0, sizeof(buf));
    m->domid = 1;
    m->nr = 0xffffffffu; /* does not match the length */
    send_msg(fd, XHV_MSG_FOREIGN_MAP, 3, buf, sizeof(buf), NULL, 0);
    if ((r = expect_fatal(fd, -XEN_EBADMSG)))
        return r;
    /* a length beyond XHV_MAP_MAX pages is refused from the header alone */
    fd2 = raw_connect();
    if (hello(fd2) < 0)
        r = fail("HELLO refused");
    else
        r = bad_header(fd2, XHV_PROTO_MAGIC, XHV_PROTO_VERSION, XHV_MSG_FOREIGN_MAP,
                       xhv_foreign_map_len(XHV_MAP_MAX + 1), -XEN_EBADMSG);
    close(fd2);
    return r;
}

static const char *console_read_ok(int fd, uint32_t seq)
{
    struct xhv_console_read q = {.domid = 0, .max = 100};
    struct xhv_msg_hdr h;
    int32_t e;
    send_msg(fd, XHV_MSG_CONSOLE_READ, seq, &q, sizeof(q), NULL, 0);
    if (read_reply(fd, &h, &e) < 0 || h.type != (XHV_MSG_CONSOLE_READ | XHV_MSG_REPLY) ||
        h.seq != seq)
        return fail("CONSOLE_READ after it got no reply");
    return NULL;
}

static const char *c_unknown_type(int fd)
{
    uint64_t junk = 0;
    struct xhv_msg_hdr h;
    int32_t e;
    if (hello(fd) < 0)
        return fail("HELLO refused");
    send_msg(fd, 77, 5, &junk, sizeof(junk), NULL, 0);
    if (read_reply(fd, &h, &e) < 0 || h.type != XHV_MSG_ERROR || e != -XEN_ENOSYS || h.seq != 5)
        return fail("no ENOSYS error reply for type 77");
    send_msg(fd, 78, 6, NULL, 0, NULL, 0); /* no payload */
    if (read_reply(fd, &h, &e) < 0 || h.type != XHV_MSG_ERROR || e != -XEN_ENOSYS || h.seq != 6)
        return fail("no ENOSYS error reply for type 78 without payload");
    return console_read_ok(fd, 7); /* the connection stays usable */
}

static const char *c_call_without_buffer(int fd)
{
    struct xhv_hypercall hc = {.op = __HYPERVISOR_xen_version};
    struct xhv_msg_hdr h;
    int32_t e;
    if (hello(fd) < 0)
        return fail("HELLO refused");
    send_msg(fd, XHV_MSG_HYPERCALL, 9, &hc, sizeof(hc), NULL, 0);
    if (read_reply(fd, &h, &e) < 0 || h.type != XHV_MSG_ERROR || e != -XEN_EINVAL)
        return fail("HYPERCALL without a buffer: expected ERROR -EINVAL");
    return console_read_ok(fd, 10);
}

static const char *c_fd_with_request(int fd)
{
    struct xhv_console_read q = {.max = 10};
    int p[2];
    const char *r;
    if (hello(fd) < 0 || pipe(p) < 0)
        return fail("HELLO refused");
    send_msg(fd, XHV_MSG_CONSOLE_READ, 4, &q, sizeof(q), p, 2);
    r = expect_fatal(fd, -XEN_EBADF);
    close(p[0]);
    close(p[1]);
    return r;
}

/* Requests without reading any reply: the daemon stops reading, then cleans up. */
static const char *c_flood(int fd)
{
    uint8_t buf[16 + sizeof(struct xhv_console_read)];
    struct xhv_console_read q = {.max = XHV_CONSOLE_MAX};
    if (hello(fd) < 0)
        return fail("HELLO refused");
    xhv_hdr_init((struct xhv_msg_hdr *)buf, XHV_MSG_CONSOLE_READ, sizeof(q), 1);
    memcpy(buf + 16, &q, sizeof(q));
    for (int i = 0; i < 1000000; i++)
        if (send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(buf))
            break;
    return NULL;
}

/* Random messages, mostly well framed, on fresh connections. */
static const char *c_random(int fd)
{
    static const uint16_t types[] = {XHV_MSG_HELLO,
                                     XHV_MSG_HYPERCALL,
                                     XHV_MSG_FOREIGN_MAP,
                                     XHV_MSG_CONSOLE_READ,
                                     0,
                                     9,
                                     XHV_MSG_ERROR,
                                     0x8002};
    (void)fd;
    for (int iter = 0; iter < 300; iter++) {
        uint8_t buf[16 + 1024];
        struct xhv_msg_hdr *h = (struct xhv_msg_hdr *)buf;
        int c = raw_connect(), msgs = 1 + rand() % 4;
        if (c < 0)
            return fail("connect failed at iteration %d", iter);
        if (rand() % 2)
            hello(c);
        for (int k = 0; k < msgs; k++) {
            uint32_t len = (uint32_t)(rand() % 2 ? rand() % 1024 : (rand() % 4) * 8 + 8);
            for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (uint8_t)rand();
            xhv_hdr_init(h, types[rand() % 8], len, (uint32_t)k);
            if (rand() % 8 == 0)
                h->len = (uint32_t)rand();
            if (h->type == XHV_MSG_HYPERCALL) /* harmless: xen_version with random arguments */
                *(uint64_t *)(buf + 16) = rand() % 2 ? __HYPERVISOR_xen_version : 64 + rand() % 9;
            send(c, buf, 16 + len, MSG_NOSIGNAL);
        }
        close(c);
    }
    return NULL;
}

/* ---- the good paths ---- */

static const char *check_buffers(xencall_handle *h)
{
    uint8_t *a = xencall_alloc_buffer(h, 10), *b = xencall_alloc_buffer_pages(h, 3);
    uint8_t *c = xencall_alloc_buffer(h, 4097), *d;
    if (!a || !b || !c || ((uintptr_t)a | (uintptr_t)b | (uintptr_t)c) % 4096)
        return fail("alloc_buffer: %p %p %p", (void *)a, (void *)b, (void *)c);
    memset(b, 0xff, 3 * 4096);
    xencall_free_buffer_pages(h, b, 3);
    if ((d = xencall_alloc_buffer_pages(h, 2)) != b || d[0] || d[2 * 4096 - 1])
        return fail("freed pages not reused zeroed");
    if (xencall_alloc_buffer(h, 17u << 20) || errno != ENOMEM)
        return fail("a buffer larger than the arena did not fail with ENOMEM");
    xencall_free_buffer(h, a);
    xencall_free_buffer(h, c);
    xencall_free_buffer(h, d);
    return NULL;
}

static const char *good_calls(int fd)
{
    xencall_handle *h = xhv_xencall_open_path(sock_path);
    const char *r = NULL;
    char *s;
    uint8_t con[64];
    uint64_t idx = 0;
    int v;

    (void)fd;
    if (!h)
        return fail("xencall open: %s", strerror(errno));
    s = xencall_alloc_buffer(h, sizeof(xen_extraversion_t));
    if ((v = xencall2(h, __HYPERVISOR_xen_version, XENVER_version, 0)) != 0x00040011)
        r = fail("XENVER_version = %#x (%s)", v, strerror(errno));
    else if (!s || xencall2(h, __HYPERVISOR_xen_version, XENVER_extraversion, (uintptr_t)s) ||
             strcmp(s, ".0-xhv"))
        r = fail("XENVER_extraversion through the shared buffer: '%s'", s ? s : "");
    else if (xencall2(h, __HYPERVISOR_xen_version, XENVER_extraversion, 0x1000) != -1 ||
             errno != EFAULT)
        r = fail("a handle outside the buffer did not give EFAULT");
    else if (xencall0(h, 63) != -1 || errno != ENOSYS)
        r = fail("hypercall 63 did not give ENOSYS");
    else if (xhv_console_read(h, 30000, &idx, con, sizeof(con), NULL) != -1 || errno != ESRCH)
        r = fail("console read of a missing domain did not give ESRCH");
    else if (xhv_console_read(h, 0, &idx, con, sizeof(con), NULL) < 0)
        r = fail("console read of domain 0: %s", strerror(errno));
    else
        r = check_buffers(h);
    xencall_free_buffer(h, s);
    xencall_close(h);
    return r;
}

/* A tool is domain 0 with no VM: self-directed calls are refused, never run (review: block
 * and poll hung the daemon, shutdown stopped dom0, set_param crashed on its shared_info). */
static const char *c_dom0_self_calls(int fd)
{
    xencall_handle *h = xhv_xencall_open_path(sock_path);
    struct sched_shutdown *sd;
    struct sched_poll *sp;
    struct xen_hvm_param *hp;
    const char *r = NULL;
    (void)fd;
    if (!h)
        return fail("xencall open: %s", strerror(errno));
    sd = xencall_alloc_buffer(h, sizeof(*sd));
    sp = xencall_alloc_buffer(h, sizeof(*sp));
    hp = xencall_alloc_buffer(h, sizeof(*hp));
    hp->domid = DOMID_SELF, hp->index = HVM_PARAM_CALLBACK_IRQ;
    if (xencall2(h, __HYPERVISOR_sched_op, SCHEDOP_block, 0) != -1 || errno != EINVAL)
        r = fail("SCHEDOP_block from a tool was not refused");
    else if (xencall2(h, __HYPERVISOR_sched_op, SCHEDOP_poll, (uintptr_t)sp) != -1)
        r = fail("SCHEDOP_poll from a tool was not refused");
    else if (xencall2(h, __HYPERVISOR_sched_op, SCHEDOP_shutdown, (uintptr_t)sd) != -1)
        r = fail("SCHEDOP_shutdown from a tool was not refused");
    else if (xencall2(h, __HYPERVISOR_hvm_op, HVMOP_set_param, (uintptr_t)hp) != -1 ||
             errno != ESRCH)
        r = fail("HVMOP_set_param on DOMID_SELF from a tool did not give ESRCH");
    else if (xencall3(h, __HYPERVISOR_vcpu_op, VCPUOP_is_up, 0, 0) != -1 || errno != ENOSYS)
        r = fail("vcpu_op from a tool did not give ENOSYS");
    xencall_free_buffer(h, sd);
    xencall_free_buffer(h, sp);
    xencall_free_buffer(h, hp);
    xencall_close(h);
    return r;
}

static const char *c_foreign_errors(int fd)
{
    xenforeignmemory_handle *fm = xhv_foreignmemory_open_path(sock_path);
    xen_pfn_t g[2] = {0x100, 0x101};
    int err[2];
    const char *r = NULL;
    (void)fd;
    if (!fm)
        return fail("foreignmemory open: %s", strerror(errno));
    if (xenforeignmemory_map(fm, 30000, PROT_READ, 2, g, err) || errno != ESRCH)
        r = fail("map of a missing domain did not give ESRCH");
    else if (xenforeignmemory_map(fm, 0, PROT_READ, 2, g, err) || errno != EINVAL)
        r = fail("map of domain 0 did not give EINVAL");
    else if (xenforeignmemory_map(fm, 1, PROT_READ, 0, g, err) || errno != EINVAL)
        r = fail("map of 0 pages did not give EINVAL");
    xenforeignmemory_close(fm);
    return r;
}

/* domctl through the shared buffer; -1/errno. */
static int domctl(xencall_handle *h, struct xen_domctl *dc, uint32_t cmd, domid_t dom)
{
    dc->cmd = cmd;
    dc->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    dc->domain = dom;
    return xencall1(h, __HYPERVISOR_domctl, (uintptr_t)dc);
}

static int populate(xencall_handle *h, domid_t dom, xen_pfn_t first, unsigned n)
{
    struct xen_memory_reservation *r = xencall_alloc_buffer(h, sizeof(*r));
    xen_pfn_t *list = xencall_alloc_buffer(h, n * sizeof(*list));
    int rc = -1;
    if (r && list) {
        for (unsigned i = 0; i < n; i++)
            list[i] = first + i;
        set_xen_guest_handle(r->extent_start, list);
        r->nr_extents = n;
        r->domid = dom;
        rc = xencall2(h, __HYPERVISOR_memory_op, XENMEM_populate_physmap, (uintptr_t)r);
    }
    xencall_free_buffer(h, r);
    xencall_free_buffer(h, list);
    return rc;
}

/* Write through one mapping, read back through another; a hole gives -EFAULT. */
static const char *map_and_check(domid_t dom)
{
    xenforeignmemory_handle *fm = xhv_foreignmemory_open_path(sock_path);
    xen_pfn_t g[17];
    int err[17];
    uint8_t *p, *q = NULL;
    const char *r = NULL;
    for (int i = 0; i < 17; i++)
        g[i] = i < 16 ? 0x100 + (xen_pfn_t)i : 0x5000;
    if (!fm || !(p = xenforeignmemory_map(fm, dom, PROT_READ | PROT_WRITE, 17, g, err)))
        return fail("map: %s", strerror(errno));
    for (int i = 0; i < 16 && !r; i++)
        if (err[i])
            r = fail("page %d: err %d", i, err[i]);
    if (!r && err[16] != -EFAULT)
        r = fail("hole: err %d, expected -EFAULT", err[16]);
    for (int i = 0; i < 16 && !r; i++)
        memset(p + i * 4096, 0x40 + i, 4096);
    if (!r && (!(q = xenforeignmemory_map(fm, dom, PROT_READ, 16, g, NULL)) ||
               q[5 * 4096 + 7] != 0x45 || q[15 * 4096 + 4095] != 0x4f))
        r = fail("second mapping does not see the first one's writes");
    if (!r && (xenforeignmemory_map(fm, dom, PROT_READ, 17, g, NULL) || errno != EFAULT))
        r = fail("map with a hole and no err[] did not fail with EFAULT");
    xenforeignmemory_unmap(fm, p, 17);
    if (q)
        xenforeignmemory_unmap(fm, q, 16);
    xenforeignmemory_close(fm);
    return r;
}

/* A paused domain with 16 pages at GFN 0x100 (dc: a domctl buffer of h). */
static const char *create_domain(xencall_handle *h, struct xen_domctl *dc, domid_t *dom)
{
    dc->u.createdomain.flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
    dc->u.createdomain.max_vcpus = 1;
    dc->u.createdomain.max_evtchn_port = 1023;
    dc->u.createdomain.max_grant_frames = -1;
    dc->u.createdomain.max_maptrack_frames = -1;
    dc->u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
    dc->u.createdomain.arch.emulation_flags = XEN_X86_EMU_LAPIC;
    if (domctl(h, dc, XEN_DOMCTL_createdomain, 0) < 0)
        return errno == ENOSYS ? "SKIP: domctl createdomain is not implemented yet"
                               : fail("createdomain: %s", strerror(errno));
    *dom = dc->domain;
    memset(&dc->u, 0, sizeof(dc->u));
    dc->u.max_mem.max_memkb = 1024;
    if (domctl(h, dc, XEN_DOMCTL_max_mem, *dom) < 0 || populate(h, *dom, 0x100, 16) != 16)
        return fail("max_mem / populate_physmap: %s", strerror(errno));
    return NULL;
}

/* keep: leave the domain for the daemon's shutdown to destroy. */
static const char *with_domain(bool keep)
{
    xencall_handle *h = xhv_xencall_open_path(sock_path);
    struct xen_domctl *dc = h ? xencall_alloc_buffer(h, sizeof(*dc)) : NULL;
    domid_t dom = 0;
    const char *r;
    if (!dc)
        return fail("xencall open: %s", strerror(errno));
    r = create_domain(h, dc, &dom);
    if (!r && !keep)
        r = map_and_check(dom);
    if (dom && !keep && domctl(h, dc, XEN_DOMCTL_destroydomain, dom) < 0 && !r)
        r = fail("destroydomain: %s", strerror(errno));
    xencall_free_buffer(h, dc);
    xencall_close(h);
    return r;
}

static const char *c_map_domain(int fd)
{
    (void)fd;
    return with_domain(false);
}

/* The xenstore socket next to the control socket, served as domain 0. */
static const char *c_xenstore(int fd)
{
    char path[256];
    struct xs_handle *xs;
    unsigned len = 0;
    char *v = NULL;
    const char *r = NULL;
    (void)fd;
    snprintf(path, sizeof(path), "%s.xs", sock_path);
    if (access(path, F_OK) < 0)
        return "SKIP: no xenstore socket (xenstore not built in)";
    if (!(xs = xhv_xs_open_path(path)))
        return fail("xenstore open %s: %s", path, strerror(errno));
    if (!xs_write(xs, XBT_NULL, "/tool/proto_fuzz", "hello", 5))
        r = fail("xs_write: %s", strerror(errno));
    else if (!(v = xs_read(xs, XBT_NULL, "/tool/proto_fuzz", &len)) || len != 5 ||
             memcmp(v, "hello", 5))
        r = fail("xs_read did not return what was written");
    else if (!xs_rm(xs, XBT_NULL, "/tool/proto_fuzz"))
        r = fail("xs_rm: %s", strerror(errno));
    free(v);
    xs_close(xs);
    return r;
}

static const struct fuzz_case {
    const char *name;
    const char *(*fn)(int fd);
} cases[] = {
    {"garbage", c_garbage},
    {"truncated-header", c_truncated_header},
    {"huge-len", c_huge_len},
    {"wrong-len", c_wrong_len},
    {"bad-magic", c_bad_magic},
    {"bad-version", c_bad_version},
    {"call-before-hello", c_call_before_hello},
    {"partial-close", c_partial_close},
    {"hello-bad-fd-count", c_hello_bad_fd_count},
    {"hello-not-memfd", c_hello_not_memfd},
    {"hello-bad-buffer", c_hello_bad_buffer},
    {"hello-version", c_hello_version},
    {"second-hello", c_second_hello},
    {"map-huge-nr", c_map_huge_nr},
    {"unknown-type", c_unknown_type},
    {"call-without-buffer", c_call_without_buffer},
    {"fd-with-request", c_fd_with_request},
    {"flood", c_flood},
    {"random", c_random},
    {"good-calls", good_calls},
    {"dom0-self-calls", c_dom0_self_calls},
    {"foreign-errors", c_foreign_errors},
    {"foreign-map-domain", c_map_domain},
    {"xenstore-socket", c_xenstore},
};

static int cycles(int n)
{
    for (int i = 0; i < n; i++) {
        xencall_handle *h = xhv_xencall_open_path(sock_path);
        xenforeignmemory_handle *fm = xhv_foreignmemory_open_path(sock_path);
        if (!h || !fm || xencall2(h, __HYPERVISOR_xen_version, XENVER_version, 0) != 0x00040011) {
            printf("cycle %d failed: %s\n", i, strerror(errno));
            return 1;
        }
        xencall_close(h);
        xenforeignmemory_close(fm);
    }
    printf("%d cycles ok\n", n);
    return 0;
}

static int run_case(const struct fuzz_case *c)
{
    int fd = raw_connect();
    const char *r = fd < 0 ? fail("connect: %s", strerror(errno)) : c->fn(fd), *alive;
    if (fd >= 0)
        close(fd);
    if (r && !strncmp(r, "SKIP: ", 6)) {
        printf("SKIPPED fuzz-%s (%s)\n", c->name, r + 6);
        return 0;
    }
    if (!r && (alive = good_calls(-1)))
        r = fail("the daemon no longer serves: %s", alive);
    if (r)
        printf("FAIL fuzz-%s: %s\n", c->name, r);
    else
        printf("PASS fuzz-%s\n", c->name);
    fflush(stdout);
    return r != NULL;
}

int main(int argc, char **argv)
{
    int failed = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: proto_fuzz SOCKET [CASE...] | proto_fuzz SOCKET cycles N\n");
        return 2;
    }
    sock_path = argv[1];
    srand(12345);
    if (argc == 4 && !strcmp(argv[2], "cycles"))
        return cycles(atoi(argv[3]));
    if (argc == 3 && !strcmp(argv[2], "leave-domain")) { /* for the shutdown test */
        const char *r = with_domain(true);
        printf("%s\n", r ? r : "domain left");
        return r ? 1 : 0;
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool want = argc == 2;
        for (int a = 2; a < argc; a++)
            want |= !strcmp(argv[a], cases[i].name);
        if (want)
            failed += run_case(&cases[i]);
    }
    return failed ? 1 : 0;
}
