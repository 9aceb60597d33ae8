/* xs_store_int.h: xenstore library internals shared by xs_store.c and xs_watch.c. */
#ifndef XHV_XS_STORE_INT_H
#define XHV_XS_STORE_INT_H

#include "xenstore/xs_store.h"

struct xs_node {
    char *name; /* last path component; "" for the root */
    uint8_t *value;
    unsigned vlen;
    struct xs_permissions *perms;
    unsigned nperms;
    struct xs_node **kids; /* in creation order */
    unsigned nkids, kcap;
    uint64_t gen; /* store-wide generation of the last change to this node */
};

/* A change event waiting for its transaction to commit. */
struct xs_event {
    struct xs_event *next;
    bool recursive;               /* a removal: also fires watches below path */
    struct xs_permissions *perms; /* of the changed node, for the watcher's read check */
    unsigned nperms;
    char path[];
};

struct xs_txn {
    struct xs_txn *next;
    void *owner;
    unsigned domid;
    uint32_t id;
    uint64_t base_seq; /* s->commit_seq when started */
    bool dirty;
    struct xs_node *root; /* private copy of the tree */
    struct xs_event *events, **events_tail;
};

struct xs_watch {
    struct xs_watch *next;
    void *owner;
    unsigned domid;
    bool relative;
    char *token;
    char path[]; /* absolute, or "@name" */
};

struct xs_store {
    struct xs_node *root;
    uint64_t gen;        /* bumped by every change, inside transactions too */
    uint64_t commit_seq; /* bumped by every change visible outside transactions */
    struct xs_txn *txns;
    uint32_t next_tx_id;
    struct xs_watch *watches;
    xs_event_sink_fn *sink;
    void *sink_opaque;
};

/* xs_store.c */
struct xs_node *xs_node_clone(const struct xs_node *n);
void xs_node_free(struct xs_node *n);
/* xs_watch.c: a change at path (absolute); perms of the changed node. Queued in t if any. */
void xs_event_emit(struct xs_store *s, struct xs_txn *t, const char *path, bool recursive,
                   const struct xs_permissions *perms, unsigned nperms);
void xs_event_deliver(struct xs_store *s, const char *path, bool recursive,
                      const struct xs_permissions *perms, unsigned nperms);
void xs_events_free(struct xs_event *e);
void xs_watches_free(struct xs_store *s);

#endif
