/* test_xenstore_wire.c: xenstore wire requests, socket connections and the xs_client library. */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/unit/harness.h"
#include "xenstore/xs_client.h"
#include "xenstore/xs_server.h"

/* ---- wire requests (pure) ---- */

static struct xs_reply rep;
static char owner_c[] = "C"; /* the connection the requests come from */

/* Send type with payload (len bytes) as domid on owner "C"; returns the reply type. */
static uint32_t req_tx(struct xs_store *s, unsigned domid, uint32_t type, uint32_t tx,
                       const void *payload, unsigned len)
{
    struct xsd_sockmsg m = {.type = type, .req_id = 0x1234, .tx_id = tx, .len = len};
    memset(&rep, 0x5a, sizeof(rep));
    xs_handle_request(s, owner_c, domid, &m, payload, &rep);
    CHECK_EQ(rep.hdr.req_id, 0x1234);
    CHECK_EQ(rep.hdr.tx_id, tx);
    CHECK(rep.hdr.len <= XENSTORE_PAYLOAD_MAX);
    return rep.hdr.type;
}

static uint32_t req(struct xs_store *s, uint32_t type, const void *payload, unsigned len)
{
    return req_tx(s, 0, type, 0, payload, len);
}

/* The reply body equals (data, len) exactly. */
static bool body_is(const void *data, unsigned len)
{
    return rep.hdr.len == len && !memcmp(rep.body, data, len);
}

#define IS_ERROR(name) (rep.hdr.type == XS_ERROR && body_is(name, sizeof(name)))

/* The request got the reply type want with body "OK\0" / an error reply naming err. */
static void reply_at(uint32_t type, uint32_t want, const char *body, unsigned len, int line)
{
    if (type != want || !body_is(body, len))
        test_fail(__FILE__, line, "reply type %u body \"%.*s\", expected type %u body \"%s\"", type,
                  (int)rep.hdr.len, rep.body, want, body);
}
#define REQ_OK(call, type) reply_at((call), (type), "OK", 3, __LINE__)
#define REQ_ERR(call, err) reply_at((call), XS_ERROR, (err), sizeof(err), __LINE__)

TEST(xs_req_basic_types)
{
    struct xs_store *s = xs_store_new();
    REQ_OK(req(s, XS_WRITE, "/a/b\0hello", 10), XS_WRITE);
    CHECK_EQ(req(s, XS_READ, "/a/b", 5), XS_READ);
    CHECK(body_is("hello", 5));                        /* no NUL */
    CHECK_EQ(req(s, XS_WRITE, "/a/c\0", 5), XS_WRITE); /* empty value */
    CHECK_EQ(req(s, XS_DIRECTORY, "/a", 3), XS_DIRECTORY);
    CHECK(body_is("b\0c", 4));
    REQ_OK(req(s, XS_MKDIR, "/a/d", 5), XS_MKDIR);
    REQ_OK(req(s, XS_RM, "/a/b", 5), XS_RM);
    CHECK_EQ(req(s, XS_DIRECTORY, "/a", 3), XS_DIRECTORY);
    CHECK(body_is("c\0d", 4));
    CHECK_EQ(req(s, XS_DIRECTORY, "/a/c", 5), XS_DIRECTORY);
    CHECK_EQ(rep.hdr.len, 0);
    REQ_OK(req(s, XS_SET_PERMS, "/a\0n3\0r5\0", 9), XS_SET_PERMS);
    CHECK_EQ(req(s, XS_GET_PERMS, "/a", 3), XS_GET_PERMS);
    CHECK(body_is("n3\0r5", 6));
    CHECK_EQ(req(s, XS_GET_DOMAIN_PATH, "7", 2), XS_GET_DOMAIN_PATH);
    CHECK(body_is("/local/domain/7", 16));
    REQ_ERR(req(s, XS_READ, "/a/zz", 6), "ENOENT");
    REQ_ERR(req_tx(s, 3, XS_READ, 0, "/tool", 6), "EACCES");
    REQ_ERR(req_tx(s, 3, XS_WRITE, 0, "x\0v", 3), "EACCES"); /* /local/domain/3 missing */
    xs_store_free(s);
}

TEST(xs_req_malformed)
{
    struct xs_store *s = xs_store_new();
    REQ_ERR(req(s, XS_READ, "/tool", 5), "EINVAL");    /* no NUL */
    REQ_ERR(req(s, XS_READ, "/tool\0x", 7), "EINVAL"); /* NUL not at the end */
    REQ_ERR(req(s, XS_READ, "", 0), "EINVAL");
    REQ_ERR(req(s, XS_WRITE, "/a", 2), "EINVAL");
    REQ_ERR(req(s, XS_WRITE, "/a/\0v", 5), "EINVAL");
    REQ_ERR(req(s, XS_MKDIR, "/a b", 5), "EINVAL");
    REQ_ERR(req(s, XS_SET_PERMS, "/tool", 6), "EINVAL");
    REQ_ERR(req(s, XS_SET_PERMS, "/tool\0q1", 9), "EINVAL");
    REQ_ERR(req(s, XS_WATCH, "/a", 3), "EINVAL");
    REQ_ERR(req(s, XS_WATCH, "/a\0t\0\0", 6), "EINVAL");
    REQ_ERR(req(s, XS_TRANSACTION_END, "X", 2), "EINVAL");
    REQ_ERR(req(s, XS_DIRECTORY_PART, "/", 2), "EINVAL");
    /* oversized payload (a framing layer never passes one: the pure function refuses it) */
    {
        static char big[XENSTORE_PAYLOAD_MAX + 2];
        CHECK_EQ(req(s, XS_WRITE, big, sizeof(big)), XS_ERROR);
        CHECK(IS_ERROR("E2BIG"));
    }
    /* a value filling the payload is fine */
    {
        static char full[XENSTORE_PAYLOAD_MAX];
        memcpy(full, "/f", 3);
        memset(full + 3, 'v', sizeof(full) - 3);
        CHECK_EQ(req(s, XS_WRITE, full, sizeof(full)), XS_WRITE);
        CHECK_EQ(req(s, XS_READ, "/f", 3), XS_READ);
        CHECK_EQ(rep.hdr.len, XENSTORE_PAYLOAD_MAX - 3);
    }
    xs_store_free(s);
}

TEST(xs_req_unsupported_types)
{
    struct xs_store *s = xs_store_new();
    REQ_ERR(req(s, 999, "", 0), "ENOSYS");
    REQ_ERR(req(s, XS_WATCH_EVENT, "/a\0t", 5), "ENOSYS");
    REQ_ERR(req(s, XS_ERROR, "", 0), "ENOSYS");
    CHECK_EQ(req(s, XS_INTRODUCE,
                 "5\0"
                 "123\0"
                 "4",
                 8),
             XS_ERROR);
    CHECK(IS_ERROR("ENOSYS"));
    REQ_ERR(req(s, XS_CONTROL, "check", 6), "ENOSYS");
    CHECK_EQ(req_tx(s, 5, XS_INTRODUCE, 0,
                    "5\0"
                    "123\0"
                    "4",
                    8),
             XS_ERROR);
    CHECK(IS_ERROR("EACCES")); /* privileged types: a domU is refused first */
    xs_store_free(s);
}

TEST(xs_req_transactions)
{
    struct xs_store *s = xs_store_new();
    uint32_t id;

    CHECK_EQ(req(s, XS_TRANSACTION_START, "", 1), XS_TRANSACTION_START);
    CHECK(rep.hdr.len >= 2 && rep.body[rep.hdr.len - 1] == '\0');
    id = (uint32_t)strtoul(rep.body, NULL, 10);
    CHECK(id != 0);
    CHECK_EQ(req_tx(s, 0, XS_WRITE, id, "/t\0v", 4), XS_WRITE);
    CHECK_EQ(req(s, XS_READ, "/t", 3), XS_ERROR);
    CHECK_EQ(req_tx(s, 0, XS_READ, id, "/t", 3), XS_READ);
    REQ_ERR(req_tx(s, 0, XS_TRANSACTION_START, id, "", 1), "EBUSY");
    REQ_ERR(req_tx(s, 0, XS_READ, id + 1, "/t", 3), "ENOENT");
    CHECK_EQ(req_tx(s, 0, XS_GET_DOMAIN_PATH, id + 1, "1", 2), XS_GET_DOMAIN_PATH); /* ignores tx */
    REQ_OK(req_tx(s, 0, XS_TRANSACTION_END, id, "T", 2), XS_TRANSACTION_END);
    CHECK_EQ(req(s, XS_READ, "/t", 3), XS_READ);
    REQ_ERR(req_tx(s, 0, XS_TRANSACTION_END, id, "T", 2), "ENOENT"); /* gone */
    REQ_ERR(req(s, XS_TRANSACTION_END, "T", 2), "ENOENT");
    /* conflict -> EAGAIN */
    CHECK_EQ(req(s, XS_TRANSACTION_START, "", 1), XS_TRANSACTION_START);
    id = (uint32_t)strtoul(rep.body, NULL, 10);
    CHECK_EQ(req_tx(s, 0, XS_WRITE, id, "/t\0w", 4), XS_WRITE);
    CHECK_EQ(req(s, XS_WRITE, "/u\0w", 4), XS_WRITE);
    REQ_ERR(req_tx(s, 0, XS_TRANSACTION_END, id, "T", 2), "EAGAIN");
    xs_store_forget_owner(s, owner_c, true, true);
    CHECK_EQ(req_tx(s, 0, XS_TRANSACTION_END, id, "F", 2), XS_ERROR); /* forgotten */
    xs_store_free(s);
}

TEST(xs_req_watch_first_event)
{
    struct xs_store *s = xs_store_new();
    REQ_OK(req(s, XS_WATCH, "rel/p\0tok\0", 10), XS_WATCH);
    CHECK(rep.has_event);
    CHECK_EQ(rep.ev_hdr.type, XS_WATCH_EVENT);
    CHECK_EQ(rep.ev_hdr.req_id, 0);
    CHECK_EQ(rep.ev_hdr.tx_id, 0);
    CHECK(rep.ev_hdr.len == 10 && !memcmp(rep.ev_body, "rel/p\0tok\0", 10));
    REQ_ERR(req(s, XS_WATCH, "rel/p\0tok\0", 10), "EEXIST");
    CHECK(!rep.has_event);
    CHECK_EQ(req(s, XS_UNWATCH, "rel/p\0tok\0", 10), XS_UNWATCH);
    REQ_ERR(req(s, XS_UNWATCH, "rel/p\0tok\0", 10), "ENOENT");
    CHECK_EQ(req(s, XS_WATCH, "/x\0t\0", 5), XS_WATCH);
    CHECK_EQ(req(s, XS_RESET_WATCHES, "", 1), XS_RESET_WATCHES);
    CHECK_EQ(req(s, XS_UNWATCH, "/x\0t\0", 5), XS_ERROR);
    xs_store_free(s);
}

TEST(xs_req_directory_part)
{
    struct xs_store *s = xs_store_new();
    char path[64], all[16384], off[16];
    unsigned total = 0, got = 0;
    bool last = false;

    for (int i = 0; i < 1000; i++) { /* ~7 KiB of names: more than one payload */
        int n = snprintf(path, sizeof(path), "/big/node%03d", i);
        CHECK_EQ(req(s, XS_MKDIR, path, n + 1), XS_MKDIR);
        memcpy(all + total, path + 5, n - 4);
        total += n - 4;
    }
    REQ_ERR(req(s, XS_DIRECTORY, "/big", 5), "E2BIG");
    for (int chunks = 0; !last && chunks < 10; chunks++) {
        char q[32];
        int n = snprintf(off, sizeof(off), "%u", got);
        memcpy(q, "/big", 5);
        memcpy(q + 5, off, n + 1);
        CHECK_EQ(req(s, XS_DIRECTORY_PART, q, 5 + n + 1), XS_DIRECTORY_PART);
        unsigned gl = strlen(rep.body) + 1, nl = rep.hdr.len - gl;
        last = nl >= 2 && !rep.body[gl + nl - 1] && !rep.body[gl + nl - 2];
        nl -= last;
        CHECK(got + nl <= total && !memcmp(rep.body + gl, all + got, nl));
        got += nl;
    }
    CHECK(last);
    CHECK_EQ(got, total);
    xs_store_free(s);
}

/* ---- connections on sockets ---- */

/* Read one message from fd if one is ready now: its type, or -1 if none. */
static int recv_msg(int fd, char *body, unsigned *len)
{
    struct xsd_sockmsg m;
    struct pollfd p = {.fd = fd, .events = POLLIN};

    if (poll(&p, 1, 0) != 1 || recv(fd, &m, sizeof(m), MSG_WAITALL) != sizeof(m))
        return -1;
    if (m.len > XENSTORE_PAYLOAD_MAX || recv(fd, body, m.len, MSG_WAITALL) != (ssize_t)m.len)
        return -1;
    *len = m.len;
    return (int)m.type;
}

static void send_msg(int fd, uint32_t type, const char *payload, unsigned len)
{
    struct xsd_sockmsg m = {.type = type, .req_id = 9, .len = len};
    CHECK_EQ(send(fd, &m, sizeof(m), 0), sizeof(m));
    CHECK_EQ(send(fd, payload, len, 0), len);
}

TEST(xs_conn_partial_reads)
{
    struct xs_store *s = xs_store_new();
    struct xsd_sockmsg m = {.type = XS_WRITE, .req_id = 77, .len = 8};
    char wire[sizeof(m) + 8], body[XENSTORE_PAYLOAD_MAX];
    unsigned len;
    int sv[2];

    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct xs_conn *c = xs_conn_new(s, sv[0], 0);
    memcpy(wire, &m, sizeof(m));
    memcpy(wire + sizeof(m), "/p/q\0abc", 8);
    /* a header in two pieces, then the payload in two pieces */
    CHECK_EQ(send(sv[1], wire, 5, 0), 5);
    CHECK_EQ(xs_conn_readable(c), 0);
    CHECK_EQ(send(sv[1], wire + 5, sizeof(m) - 5 + 3, 0), sizeof(m) - 5 + 3);
    CHECK_EQ(xs_conn_readable(c), 0);
    CHECK_EQ(recv_msg(sv[1], body, &len), -1); /* nothing yet */
    CHECK_EQ(send(sv[1], wire + sizeof(m) + 3, 5, 0), 5);
    CHECK_EQ(xs_conn_readable(c), 0);
    CHECK_EQ(recv_msg(sv[1], body, &len), XS_WRITE);
    CHECK(len == 3 && !memcmp(body, "OK", 3));
    /* two requests in one go: two replies */
    send_msg(sv[1], XS_READ, "/p/q", 5);
    send_msg(sv[1], XS_READ, "/p/none", 8);
    CHECK_EQ(xs_conn_readable(c), 0);
    CHECK_EQ(recv_msg(sv[1], body, &len), XS_READ);
    CHECK(len == 3 && !memcmp(body, "abc", 3));
    CHECK_EQ(recv_msg(sv[1], body, &len), XS_ERROR);
    CHECK(len == 7 && !memcmp(body, "ENOENT", 7));
    CHECK(!xs_conn_want_write(c));
    CHECK_EQ(xs_conn_writable(c), 0);
    /* the peer going away closes the connection, after answering what came before */
    send_msg(sv[1], XS_READ, "/p/q", 5);
    CHECK_EQ(shutdown(sv[1], SHUT_WR), 0);
    CHECK(xs_conn_readable(c) < 0);
    CHECK_EQ(recv_msg(sv[1], body, &len), XS_READ);
    xs_conn_free(c);
    close(sv[0]);
    close(sv[1]);
    xs_store_free(s);
}

TEST(xs_conn_oversized_payload_closes)
{
    struct xs_store *s = xs_store_new();
    struct xsd_sockmsg m = {.type = XS_WRITE, .len = XENSTORE_PAYLOAD_MAX + 1};
    int sv[2];

    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct xs_conn *c = xs_conn_new(s, sv[0], 0);
    CHECK_EQ(send(sv[1], &m, sizeof(m), 0), sizeof(m));
    CHECK(xs_conn_readable(c) < 0);
    xs_conn_free(c);
    close(sv[0]);
    close(sv[1]);
    xs_store_free(s);
}

TEST(xs_conn_watch_events_between_connections)
{
    struct xs_store *s = xs_store_new();
    char body[XENSTORE_PAYLOAD_MAX];
    unsigned len;
    int a[2], b[2];

    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    struct xs_conn *ca = xs_conn_new(s, a[0], 0), *cb = xs_conn_new(s, b[0], 0);
    send_msg(a[1], XS_WATCH, "/w\0tk\0", 6);
    CHECK_EQ(xs_conn_readable(ca), 0);
    CHECK_EQ(recv_msg(a[1], body, &len), XS_WATCH);
    CHECK_EQ(recv_msg(a[1], body, &len), XS_WATCH_EVENT);
    CHECK(len == 6 && !memcmp(body, "/w\0tk\0", 6));
    send_msg(b[1], XS_WRITE,
             "/w/x\0"
             "1",
             6);
    CHECK_EQ(xs_conn_readable(cb), 0);
    CHECK_EQ(recv_msg(b[1], body, &len), XS_WRITE);
    CHECK_EQ(recv_msg(a[1], body, &len), XS_WATCH_EVENT); /* without A doing anything */
    CHECK(len == 8 && !memcmp(body, "/w/x\0tk\0", 8));
    xs_conn_free(ca); /* its watch goes with it */
    send_msg(b[1], XS_WRITE,
             "/w/y\0"
             "1",
             6);
    CHECK_EQ(xs_conn_readable(cb), 0);
    CHECK_EQ(recv_msg(b[1], body, &len), XS_WRITE);
    CHECK_EQ(recv_msg(a[1], body, &len), -1);
    xs_conn_free(cb);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
    }
    xs_store_free(s);
}

/* A watcher that never reads: events queue up behind its full socket buffer, and past
 * XS_CONN_OUT_MAX the connection is given up (xenstored drops such connections too). */
TEST(xs_conn_stalled_watcher_is_dropped)
{
    struct xs_store *s = xs_store_new();
    static char watch[2 + 2000 + 1];
    int a[2];
    bool dropped = false;

    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    struct xs_conn *c = xs_conn_new(s, a[0], 0);
    memcpy(watch, "/", 2);
    memset(watch + 2, 't', 2000);
    send_msg(a[1], XS_WATCH, watch, sizeof(watch));
    CHECK_EQ(xs_conn_readable(c), 0);
    for (unsigned i = 0; i < 2 * XS_CONN_OUT_MAX / 2000 && !dropped; i++) {
        CHECK_EQ(xs_store_write(s, NULL, 0, "/x", "1", 1), 0);
        dropped = xs_conn_writable(c) < 0;
    }
    CHECK(dropped);
    CHECK(xs_conn_readable(c) < 0);
    xs_conn_free(c);
    close(a[0]);
    close(a[1]);
    xs_store_free(s);
}

/* ---- the client library against a server thread ---- */

struct server {
    struct xs_store *s;
    int lfd;
    int conns; /* how many connections to serve, one after the other */
};

static void *serve(void *arg)
{
    struct server *sv = arg;

    for (int i = 0; i < sv->conns; i++) {
        int fd = accept(sv->lfd, NULL, NULL);
        struct xs_conn *c = fd >= 0 ? xs_conn_new(sv->s, fd, 0) : NULL;
        while (c) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, -1) < 0 || xs_conn_readable(c) < 0)
                break;
        }
        xs_conn_free(c);
        if (fd >= 0)
            close(fd);
    }
    return NULL;
}

/* Start a server at <tmpdir>/ctl.xs for n connections; dir gets the directory. */
static bool start_server(struct server *sv, pthread_t *th, char *dir, int n)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    strcpy(dir, "/tmp/xhv-xs-XXXXXX");
    if (!mkdtemp(dir))
        return false;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl.xs", dir);
    sv->s = xs_store_new();
    sv->conns = n;
    sv->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(sv->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(sv->lfd, 4))
        return false;
    return pthread_create(th, NULL, serve, sv) == 0;
}

static void stop_server(struct server *sv, pthread_t th, const char *dir)
{
    char path[128];

    pthread_join(th, NULL);
    close(sv->lfd);
    xs_store_free(sv->s);
    snprintf(path, sizeof(path), "%s/ctl.xs", dir);
    unlink(path);
    rmdir(dir);
}

static void client_ops(struct xs_handle *h)
{
    unsigned len, num;
    char *v, **names, path[64];

    CHECK(xs_write(h, XBT_NULL, "/c/k", "val", 3));
    v = xs_read(h, XBT_NULL, "/c/k", &len);
    CHECK(v && len == 3 && !strcmp(v, "val"));
    free(v);
    CHECK(xs_read(h, XBT_NULL, "/c/missing", &len) == NULL && errno == ENOENT);
    CHECK(!xs_write(h, XBT_NULL, "/c/bad/", "x", 1) && errno == EINVAL);
    CHECK(xs_mkdir(h, XBT_NULL, "/c/d"));
    names = xs_directory(h, XBT_NULL, "/c", &num);
    CHECK(names && num == 2 && !strcmp(names[0], "k") && !strcmp(names[1], "d"));
    free(names);
    CHECK(xs_rm(h, XBT_NULL, "/c/k"));
    names = xs_directory(h, XBT_NULL, "/c", &num);
    CHECK(names && num == 1 && !strcmp(names[0], "d"));
    free(names);
    v = xs_get_domain_path(h, 12);
    CHECK(v && !strcmp(v, "/local/domain/12"));
    free(v);
    /* a children list longer than one payload comes in DIRECTORY_PART chunks */
    for (int i = 0; i < 900; i++) {
        snprintf(path, sizeof(path), "/many/entry%04d", i);
        CHECK(xs_mkdir(h, XBT_NULL, path));
    }
    names = xs_directory(h, XBT_NULL, "/many", &num);
    CHECK(names && num == 900);
    CHECK(names && !strcmp(names[0], "entry0000") && !strcmp(names[899], "entry0899"));
    free(names);
}

TEST(xs_client_library)
{
    struct server sv;
    pthread_t th;
    char dir[64], path[96];
    char *old_xs = getenv("XENSTORED_PATH"), *old_ctl = getenv("XHV_SOCKET");
    struct xs_handle *h;

    old_xs = old_xs ? strdup(old_xs) : NULL;
    old_ctl = old_ctl ? strdup(old_ctl) : NULL;
    CHECK(start_server(&sv, &th, dir, 3));
    snprintf(path, sizeof(path), "%s/ctl.xs", dir);
    h = xhv_xs_open_path(path);
    CHECK(h != NULL);
    if (h)
        client_ops(h);
    xs_close(h);
    /* $XENSTORED_PATH first, else $XHV_SOCKET + ".xs" */
    setenv("XENSTORED_PATH", path, 1);
    h = xs_open(0);
    CHECK(h && xs_write(h, XBT_NULL, "/env", "1", 1));
    xs_close(h);
    unsetenv("XENSTORED_PATH");
    snprintf(path, sizeof(path), "%s/ctl", dir);
    setenv("XHV_SOCKET", path, 1);
    h = xs_open(0);
    CHECK(h && xs_rm(h, XBT_NULL, "/env"));
    xs_close(h);
    stop_server(&sv, th, dir);
    old_xs ? setenv("XENSTORED_PATH", old_xs, 1) : unsetenv("XENSTORED_PATH");
    old_ctl ? setenv("XHV_SOCKET", old_ctl, 1) : unsetenv("XHV_SOCKET");
    free(old_xs);
    free(old_ctl);
}
