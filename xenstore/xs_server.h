/* xs_server.h: xenstore wire protocol server: framed request handling and stream connections. */
#ifndef XHV_XS_SERVER_H
#define XHV_XS_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "xenstore/xs_store.h"

/*
 * Requests and replies are Xen's struct xsd_sockmsg + payload (docs/misc/xenstore.txt).
 * Handled: READ, WRITE, MKDIR, RM, DIRECTORY, DIRECTORY_PART, GET_PERMS, SET_PERMS,
 * GET_DOMAIN_PATH, TRANSACTION_START/END, WATCH, UNWATCH, RESET_WATCHES. CONTROL, INTRODUCE,
 * RELEASE, IS_DOMAIN_INTRODUCED, RESUME and SET_TARGET are privileged (a domU gets EACCES) and
 * not implemented yet (ENOSYS). Any other type (WATCH_EVENT, ERROR, unknown) gets ENOSYS, as
 * xenstored does. Errors are XS_ERROR replies carrying the errno's name and a NUL; every reply
 * echoes req_id and tx_id. A tx_id that is not an open transaction of this connection gets
 * ENOENT (WATCH, UNWATCH, GET_DOMAIN_PATH and RESET_WATCHES ignore tx_id).
 */

/* What one request produces: a reply, and after it possibly a watch's first event. */
struct xs_reply {
    struct xsd_sockmsg hdr;
    char body[XENSTORE_PAYLOAD_MAX];
    bool has_event;
    struct xsd_sockmsg ev_hdr;
    char ev_body[XENSTORE_PAYLOAD_MAX];
};

/* Handle one framed request from domid on connection owner (the key of its transactions and
 * watches). req->len bytes of payload (at most XENSTORE_PAYLOAD_MAX). Pure: no I/O; events
 * for other watchers go through the store's event sink. */
void xs_handle_request(struct xs_store *s, void *owner, unsigned domid,
                       const struct xsd_sockmsg *req, const void *payload, struct xs_reply *rep);

/*
 * A connection on a stream socket (the daemon's accepted fd, blocking or not), speaking for
 * domid (0 for the tool socket). Watch events for it are queued by the store's event sink,
 * which xs_conn_new installs (one sink per store: every connection of a store must be an
 * xs_conn).
 *
 * xs_conn_readable: call when the fd is readable (level-triggered epoll). Reads what is there
 * (partial messages are buffered), handles up to 64 complete requests, then writes all queued
 * output, waiting for the peer if its socket buffer is full (blocking write of the whole reply:
 * TODO non-blocking replies once the daemon polls for EPOLLOUT). 0 = fine, < 0 = close the
 * connection (EOF, read error, payload longer than XENSTORE_PAYLOAD_MAX as xenstored does, or
 * a peer that let more than XS_CONN_OUT_MAX bytes of events pile up unread).
 * xs_conn_want_write / xs_conn_writable: queued output (events for an idle peer whose socket
 * buffer was full) and its non-blocking flush, for an EPOLLOUT handler; same return values.
 * xs_conn_free drops the connection's watches and transactions; it does not close the fd (the
 * caller owns it).
 */
#define XS_CONN_OUT_MAX (1u << 20)

struct xs_conn;
struct xs_conn *xs_conn_new(struct xs_store *s, int fd, unsigned domid);
int xs_conn_readable(struct xs_conn *c);
bool xs_conn_want_write(const struct xs_conn *c);
int xs_conn_writable(struct xs_conn *c);
void xs_conn_free(struct xs_conn *c);

#endif
