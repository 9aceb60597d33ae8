/* xhvd.h: the daemon's internal interfaces: the epoll server, control and xenstore connections. */
#ifndef XHV_XHVD_H
#define XHV_XHVD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/xhv_proto.h"

struct vcpu;

/* What an epoll event's data.ptr points at (the first member of each watched object). */
enum ev_kind { EV_LISTEN, EV_XS_LISTEN, EV_SIGNAL, EV_CONN, EV_XS_CONN, EV_VIRQ };
struct ev_source {
    enum ev_kind kind;
    int fd;
};

/* ---- server.c: sockets, peer check, epoll loop ---- */
/* Create the listening socket at path (mode 0600; "already running" if someone serves it;
 * a stale socket is replaced). fd, or -1 with a one-line reason in err. */
int server_listen(const char *path, char *err, size_t errlen);
/* Set up epoll and signalfd (SIGTERM, SIGINT must already be blocked) and watch both
 * listening sockets (xs_fd may be -1). 0 or -1 with err. */
int server_init(int ctl_fd, int xs_fd, char *err, size_t errlen);
/* Serve until SIGTERM/SIGINT; returns the signal number (or -1 on an epoll failure). */
int server_run(void);
/* Close every connection, the listeners, epoll and signalfd. */
void server_fini(void);
int server_watch(struct ev_source *s, uint32_t events);
int server_modify(struct ev_source *s, uint32_t events);
void server_unwatch(struct ev_source *s);

/* ---- conn.c: control connections ---- */
struct outmsg; /* a queued reply */

struct conn {
    struct ev_source ev; /* first: epoll's data.ptr */
    struct conn *prev, *next;
    unsigned id; /* for logs */
    bool dead;   /* close once the error reply is out */
    bool hello_done;
    /* input: header, then payload */
    struct xhv_msg_hdr hdr;
    uint32_t got;               /* bytes of header + payload received */
    int fds[XHV_MAX_FDS], nfds; /* descriptors received since the last message */
    _Alignas(8) uint8_t in[sizeof(struct xhv_foreign_map) + XHV_MAP_MAX * 8]; /* largest request */
    /* output queue */
    struct outmsg *out_head, *out_tail;
    /* the tool's hypercall buffer (HELLO) and its dom0 vCPU */
    uint8_t *buf;
    uint64_t buf_size;
    struct vcpu *v;
};

/* Adopt an accepted, nonblocking socket. false if out of memory (fd left to the caller). */
bool conn_new(int fd);
/* Handle epoll events for c; may free c. */
void conn_event(struct conn *c, uint32_t events);
void conn_free_all(void);
unsigned conn_count(void);
/* Queue a reply to request h (fd: a descriptor to pass with it, duplicated; -1 none). */
void conn_reply(struct conn *c, const struct xhv_msg_hdr *h, const void *payload, uint32_t len,
                int fd);
/* Queue an XHV_MSG_ERROR for h (NULL: header unknown); fatal: close the connection after it. */
void conn_error(struct conn *c, const struct xhv_msg_hdr *h, int err, bool fatal, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));

/* ---- ops.c: one handler per request type (payload length already checked by type) ---- */
void op_hello(struct conn *c, const struct xhv_msg_hdr *h, const void *p);
void op_hypercall(struct conn *c, const struct xhv_msg_hdr *h, const void *p);
void op_foreign_map(struct conn *c, const struct xhv_msg_hdr *h, const void *p);
void op_console_read(struct conn *c, const struct xhv_msg_hdr *h, const void *p);
/* Release what HELLO set up (the dom0 vCPU and the buffer mapping). */
void op_conn_release(struct conn *c);

/* ---- xs_host.c: the xenstore wire-protocol socket ---- */
/* Create the store (if the xenstore library is built in). false if it is not available. */
bool xs_host_init(void);
/* Serve an accepted socket as domain 0. false: not adopted (fd left to the caller). */
bool xs_host_conn_new(int fd);
void xs_host_event(struct ev_source *s, uint32_t events);
void xs_host_fini(void);
unsigned xs_host_conn_count(void);
/* Fire a special watch ("@releaseDomain") for every watcher allowed to see it. */
void xs_host_fire_special(const char *name);

#endif
