/* xs_host.c: xhvd hosts the xenstore wire-protocol socket (<socket>.xs), served as domain 0. */
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/core.h"
#include "daemon/xhvd.h"

#include "xenstore/xs_server.h"

struct xs_host_conn {
    struct ev_source ev; /* first: epoll's data.ptr */
    struct xs_host_conn *prev, *next;
    struct xs_conn *xc;
    bool pollout; /* EPOLLOUT wanted: queued output (watch events for an idle peer) */
};

static struct xs_store *store;
static struct xs_host_conn *xs_conns;
static unsigned nr_xs_conns;

bool xs_host_init(void)
{
    if (!store)
        store = xs_store_new();
    return store != NULL;
}

unsigned xs_host_conn_count(void)
{
    return nr_xs_conns;
}

bool xs_host_conn_new(int fd)
{
    struct xs_host_conn *hc = calloc(1, sizeof(*hc));
    if (!hc)
        return false;
    hc->ev = (struct ev_source){.kind = EV_XS_CONN, .fd = fd};
    if (!(hc->xc = xs_conn_new(store, fd, 0))) {
        free(hc);
        return false;
    }
    if (server_watch(&hc->ev, EPOLLIN) < 0) {
        xs_conn_free(hc->xc);
        free(hc);
        return false;
    }
    hc->next = xs_conns;
    if (xs_conns)
        xs_conns->prev = hc;
    xs_conns = hc;
    nr_xs_conns++;
    return true;
}

static void xs_host_conn_free(struct xs_host_conn *hc)
{
    server_unwatch(&hc->ev);
    xs_conn_free(hc->xc);
    close(hc->ev.fd);
    if (hc->prev)
        hc->prev->next = hc->next;
    else
        xs_conns = hc->next;
    if (hc->next)
        hc->next->prev = hc->prev;
    nr_xs_conns--;
    free(hc);
}

/* A request on one connection may queue watch events on any other: poll for output where
 * some is waiting. */
static void update_pollout(void)
{
    struct xs_host_conn *hc = xs_conns, *next;
    for (; hc; hc = next) {
        bool want = xs_conn_want_write(hc->xc);
        next = hc->next;
        if (want == hc->pollout)
            continue;
        hc->pollout = want;
        if (server_modify(&hc->ev, EPOLLIN | (want ? EPOLLOUT : 0)) < 0)
            xs_host_conn_free(hc);
    }
}

void xs_host_event(struct ev_source *s, uint32_t events)
{
    struct xs_host_conn *hc = (struct xs_host_conn *)s;
    int rc = 0;

    if (events & EPOLLOUT)
        rc = xs_conn_writable(hc->xc);
    /* readable, hung up or in error: xs_conn_readable() finds out which */
    if (rc >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        rc = xs_conn_readable(hc->xc);
    if (rc < 0)
        xs_host_conn_free(hc);
    update_pollout();
}

void xs_host_fire_special(const char *name)
{
    if (!store)
        return;
    xs_store_fire_special(store, name);
    update_pollout();
}

void xs_host_fini(void)
{
    while (xs_conns)
        xs_host_conn_free(xs_conns);
    if (store)
        xs_store_free(store);
    store = NULL;
}
