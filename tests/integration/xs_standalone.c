/* xs_standalone.c: serve xhv's xenstore on one UNIX socket, without xhvd (for tests). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xenstore/xs_server.h"

#define MAX_CONNS 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int listen_on(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "xs_standalone: socket path too long\n");
        return -1;
    }
    strcpy(sa.sun_path, path);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
        perror("xs_standalone: listen");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* conns[i] serves fd i's peer; the epoll data is the fd. */
static struct xs_conn *conns[MAX_CONNS];
static int conn_fd[MAX_CONNS];

static void drop(int ep, int i)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, conn_fd[i], NULL);
    xs_conn_free(conns[i]);
    close(conn_fd[i]);
    conns[i] = NULL;
}

static void accept_one(struct xs_store *s, int ep, int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN};

    if (fd < 0)
        return;
    for (int i = 0; i < MAX_CONNS; i++) {
        if (conns[i])
            continue;
        conns[i] = xs_conn_new(s, fd, 0);
        conn_fd[i] = fd;
        ev.data.u32 = i;
        if (conns[i] && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0)
            return;
        xs_conn_free(conns[i]);
        conns[i] = NULL;
        break;
    }
    close(fd);
}

static int serve(struct xs_store *s, int lfd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = MAX_CONNS}, evs[16];
    int ep = epoll_create1(EPOLL_CLOEXEC);

    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
        return 1;
    while (!stop) {
        int n = epoll_wait(ep, evs, 16, -1);
        if (n < 0 && errno != EINTR)
            break;
        for (int k = 0; k < n; k++) {
            unsigned i = evs[k].data.u32;
            if (i == MAX_CONNS)
                accept_one(s, ep, lfd);
            else if (conns[i] && xs_conn_readable(conns[i]) < 0)
                drop(ep, i);
        }
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i])
            drop(ep, i);
    close(ep);
    return 0;
}

int main(int argc, char **argv)
{
    struct sigaction sa = {.sa_handler = on_signal};
    struct xs_store *s;
    int lfd, rc;

    if (argc != 2) {
        fprintf(stderr, "usage: xs_standalone SOCKET\n");
        return 2;
    }
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    s = xs_store_new();
    lfd = s ? listen_on(argv[1]) : -1;
    if (lfd < 0) {
        xs_store_free(s);
        return 1;
    }
    printf("xs_standalone: serving %s\n", argv[1]);
    fflush(stdout);
    rc = serve(s, lfd);
    close(lfd);
    unlink(argv[1]);
    xs_store_free(s);
    return rc;
}
