/* server.c: xhvd's listening sockets, peer credential check, signalfd and the epoll loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/core.h"
#include "core/event.h"
#include "daemon/xhvd.h"

#define ACCEPT_BATCH 64

static int epfd = -1;
static struct ev_source ev_ctl = {EV_LISTEN, -1}, ev_xs = {EV_XS_LISTEN, -1};
static struct ev_source ev_sig = {EV_SIGNAL, -1};
/* Domain 0's global VIRQs (core/virq.c): a bit per VIRQ, and an eventfd that wakes the loop.
 * The eventfd is never closed: a vCPU thread may still be notifying while we exit. */
static struct ev_source ev_virq = {EV_VIRQ, -1};
static uint32_t virq_bits; /* atomic */
static int spare_fd = -1;  /* given up to accept-and-close a connection when out of fds */
static struct token_bucket refuse_log_bucket;

int server_watch(struct ev_source *s, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.ptr = s};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &e);
}

int server_modify(struct ev_source *s, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.ptr = s};
    return epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &e);
}

void server_unwatch(struct ev_source *s)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
}

/* Does a live server answer at path? */
static bool socket_served(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool served = fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
    if (fd >= 0)
        close(fd);
    return served;
}

/* Is path free to take (absent, or a socket nobody serves)? -1 with err if not. */
static int path_check(const struct sockaddr_un *sa, char *err, size_t errlen)
{
    struct stat st;

    if (lstat(sa->sun_path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s exists and is not a socket", sa->sun_path);
        return -1;
    }
    if (socket_served(sa)) {
        snprintf(err, errlen, "xhvd already running at %s", sa->sun_path);
        return -1;
    }
    return 0;
}

/*
 * Bind and listen under a temporary name, then rename into place: a client that sees the
 * path can connect at once. The umask makes the socket 0600 from its birth.
 */
int server_listen(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX}, tmp = {.sun_family = AF_UNIX};
    mode_t old;
    int fd, rc;

    if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path) >= (int)sizeof(sa.sun_path) ||
        snprintf(tmp.sun_path, sizeof(tmp.sun_path), "%s.%d", path, (int)getpid()) >=
            (int)sizeof(tmp.sun_path)) {
        snprintf(err, errlen, "socket path too long: %s", path);
        return -1;
    }
    if (path_check(&sa, err, errlen) < 0)
        return -1;
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    unlink(tmp.sun_path);
    old = umask(0177);
    rc = bind(fd, (struct sockaddr *)&tmp, sizeof(tmp));
    umask(old);
    if (rc < 0 || listen(fd, 128) < 0 || rename(tmp.sun_path, path) < 0) {
        snprintf(err, errlen, "cannot listen at %s: %s", path, strerror(errno));
        unlink(tmp.sun_path);
        close(fd);
        return -1;
    }
    return fd;
}

/* Only root and the daemon's own user may talk to it. */
static bool peer_allowed(int fd)
{
    struct ucred cr;
    socklen_t len = sizeof(cr);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
        xhv_log(LOG_WARN, "xhvd: refused a connection: no peer credentials (%s)", strerror(errno));
        return false;
    }
    if (cr.uid == 0 || cr.uid == geteuid())
        return true;
    if (token_bucket_take(&refuse_log_bucket, 20, 1, 1))
        xhv_log(LOG_WARN,
                "xhvd: refused a connection from uid %u (pid %d): only root%s may connect", cr.uid,
                cr.pid, geteuid() ? " and the daemon's user" : "");
    return false;
}

/* Out of descriptors: accept the pending connection with the spare fd and drop it, so the
 * listening socket does not stay readable forever. */
static void shed_connection(int lfd)
{
    if (spare_fd < 0)
        return;
    close(spare_fd);
    int fd = accept(lfd, NULL, NULL);
    if (fd >= 0)
        close(fd);
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    xhv_log(LOG_WARN, "xhvd: out of file descriptors: a connection was dropped");
}

static void on_accept(struct ev_source *l)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                shed_connection(l->fd);
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                     errno != ECONNABORTED)
                xhv_log(LOG_WARN, "xhvd: accept: %s", strerror(errno));
            return;
        }
        if (!peer_allowed(fd) || !(l->kind == EV_LISTEN ? conn_new(fd) : xs_host_conn_new(fd)))
            close(fd);
    }
}

/* Any thread, no core lock held: note the VIRQ and wake the event loop. */
static void virq_notify(unsigned virq)
{
    uint64_t one = 1;

    if (__atomic_fetch_or(&virq_bits, 1u << virq, __ATOMIC_ACQ_REL) & (1u << virq))
        return; /* already announced */
    if (write(ev_virq.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        xhv_log(LOG_WARN, "xhvd: VIRQ notification lost: %s", strerror(errno));
}

/* As xenstored on VIRQ_DOM_EXC: some domain shut down or died, "@releaseDomain" fires (xhv's
 * store knows no introduced domains, so every DOM_EXC fires it; watchers re-check). */
static void on_virq(void)
{
    uint64_t n;

    if (read(ev_virq.fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    uint32_t bits = __atomic_exchange_n(&virq_bits, 0, __ATOMIC_ACQ_REL);
    if (bits & (1u << VIRQ_DOM_EXC))
        xs_host_fire_special("@releaseDomain");
}

/* The VIRQ eventfd, created once for the process. */
static int virq_init(void)
{
    _Static_assert(NR_VIRQS <= 32, "virq_bits");
    if (ev_virq.fd < 0)
        ev_virq.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ev_virq.fd < 0 || server_watch(&ev_virq, EPOLLIN) < 0)
        return -1;
    control_set_virq_notify(virq_notify);
    return 0;
}

int server_init(int ctl_fd, int xs_fd, char *err, size_t errlen)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    ev_ctl.fd = ctl_fd;
    ev_xs.fd = xs_fd;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    ev_sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (epfd < 0 || ev_sig.fd < 0 || server_watch(&ev_sig, EPOLLIN) < 0 ||
        server_watch(&ev_ctl, EPOLLIN) < 0 || (xs_fd >= 0 && server_watch(&ev_xs, EPOLLIN) < 0) ||
        virq_init() < 0) {
        snprintf(err, errlen, "epoll/signalfd setup: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* The signal that asks us to stop, 0 if none is pending. */
static int read_signal(void)
{
    struct signalfd_siginfo si;
    ssize_t n = read(ev_sig.fd, &si, sizeof(si));
    if (n != (ssize_t)sizeof(si))
        return 0;
    xhv_log(LOG_INFO, "xhvd: signal %u (%s) from pid %u", si.ssi_signo,
            strsignal((int)si.ssi_signo), si.ssi_pid);
    return (int)si.ssi_signo;
}

static void dispatch(struct ev_source *s, uint32_t events)
{
    switch (s->kind) {
    case EV_LISTEN:
    case EV_XS_LISTEN:
        on_accept(s);
        break;
    case EV_CONN:
        conn_event((struct conn *)s, events);
        break;
    case EV_XS_CONN:
        xs_host_event(s, events);
        break;
    case EV_VIRQ:
        on_virq();
        break;
    case EV_SIGNAL:
        break;
    }
}

int server_run(void)
{
    struct epoll_event evs[64];

    for (;;) {
        int n = epoll_wait(epfd, evs, 64, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            xhv_log(LOG_ERR, "xhvd: epoll_wait: %s", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n; i++) {
            struct ev_source *s = evs[i].data.ptr;
            int sig = s->kind == EV_SIGNAL ? read_signal() : 0;
            if (sig)
                return sig;
            dispatch(s, evs[i].events);
        }
    }
}

void server_fini(void)
{
    control_set_virq_notify(NULL);
    conn_free_all();
    xs_host_fini();
    int *fds[] = {&ev_ctl.fd, &ev_xs.fd, &ev_sig.fd, &epfd, &spare_fd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}
