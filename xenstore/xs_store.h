/* xs_store.h: the xenstore database as a pure library (libc only): tree, perms, tx, watches. */
#ifndef XHV_XS_STORE_H
#define XHV_XS_STORE_H

/*
 * Semantics follow Xen 4.17's C xenstored (tools/xenstore/xenstored_core.c) and
 * docs/misc/xenstore.txt. Every operation is made on behalf of a caller domain (domid; 0 is
 * the privileged tool domain and may do everything) and returns 0 or a negative errno whose
 * name is in xsd_errors (<xen/io/xs_wire.h>): -EINVAL bad path or argument, -ENOENT no such
 * node, -EACCES permission denied (also for missing nodes under an unreadable parent, so a
 * domain learns nothing it may not read), -EEXIST, -E2BIG, -ENOSPC (quota), -EAGAIN
 * (transaction conflict), -EPERM, -ENOMEM.
 *
 * Paths: absolute ("/a/b"), or relative to /local/domain/<caller> ("a/b"). Characters
 * [A-Za-z0-9-/_@], no "//", no trailing "/" except "/" itself; the part after
 * "/local/domain/<id>/" (or the whole path elsewhere) is at most XENSTORE_REL_PATH_MAX bytes
 * (Xen 4.17's rule, which keeps every path below XENSTORE_ABS_PATH_MAX). "@name" paths are
 * special watch names, accepted by watch/unwatch only.
 *
 * Permissions are Xen's struct xs_permissions list: entry 0 = owner and the default for
 * everybody else, later entries = per-domain exceptions (first match wins). The owner and
 * domain 0 have full access. New nodes inherit their parent's list; a node created by an
 * unprivileged domain is owned by it. The initial tree is "/", "/local", "/local/domain",
 * "/tool", all "n0" (owner 0, others nothing).
 *
 * Transactions (xs_store_tx_*) work on a private copy of the whole tree taken at start, as
 * xenstore.txt describes. Commit is coarse: a transaction that wrote anything fails with
 * -EAGAIN if any other change was committed since it started (Xen 4.17 only fails on
 * conflicting nodes: TODO per-node conflict detection). Read-only transactions always commit.
 *
 * Watches belong to an opaque owner (a connection). Changes fire events through the sink set
 * with xs_store_set_event_sink(): immediately, or at commit for changes made in a
 * transaction. An event reaches a watch whose path is a parent of (or equal to) the changed
 * path; removing a parent of a watched path fires the watched path itself. A watcher must be
 * able to read the changed node. Relative watches get relative event paths.
 *
 * Quotas for unprivileged callers, as Xen's defaults: node size 2048 bytes (value + child
 * names + perms) -> -ENOSPC, 5 permissions per node -> -ENOSPC, 128 watches per domain ->
 * -E2BIG, 10 open transactions per owner -> -ENOSPC. TODO: entries per domain (1000).
 */

#include <stdbool.h>
#include <stdint.h>
#include <errno.h>
#include <xen/io/xs_wire.h>
#include <xenstore_lib.h> /* struct xs_permissions, XS_PERM_* (types only: no libxenstore) */

#define XS_QUOTA_ENTRY_SIZE 2048
#define XS_QUOTA_PERMS 5
#define XS_QUOTA_WATCHES 128
#define XS_QUOTA_TRANSACTIONS 10

struct xs_store;
struct xs_txn;

/* Domains with full access to the store (Xen: dom0 and the priv domain): domain 0 for now. */
static inline bool xs_privileged(unsigned domid)
{
    return domid == 0;
}

struct xs_store *xs_store_new(void);
void xs_store_free(struct xs_store *s);

/* Path rules (pure): write the absolute form of path as seen by domid into out
 * (XENSTORE_ABS_PATH_MAX + 1 bytes). allow_special accepts "@name". 0 or -EINVAL. */
int xs_path_canonical(unsigned domid, const char *path, bool allow_special, char *out);
/* "/local/domain/<domid>" into out (>= 32 bytes). */
void xs_domain_path(unsigned domid, char *out);
/* Access (XS_PERM_READ|WRITE|OWNER bits) that perms[0..num) give domid: Xen's perm_for_conn. */
unsigned xs_perm_for(unsigned domid, const struct xs_permissions *perms, unsigned num);
/* "r5" etc. <-> struct xs_permissions. Parse: 0 or -EINVAL. Format: bytes written w/o NUL. */
int xs_perm_parse(const char *str, struct xs_permissions *p);
int xs_perm_format(const struct xs_permissions *p, char *out, unsigned cap);

/*
 * Node operations. t is an open transaction of the caller (xs_store_tx_find) or NULL.
 * read: *val points into the store (valid until the next change), *len bytes, no NUL added.
 * write: creates missing parents. mkdir: fine if it exists. rm: recursive; fine if the node
 * is missing but its parent exists; "/" is -EINVAL.
 * directory: NUL-terminated child names in creation order into buf (cap bytes), *len = their
 * size; -E2BIG (with *len = the size needed) if they do not fit; *gen = the node's
 * generation (changes whenever the node does).
 * get_perms: up to max entries into perms, *num = count (-E2BIG if more than max).
 * set_perms: needs ownership (or domain 0); an unprivileged owner cannot give the node away.
 */
int xs_store_read(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path,
                  const void **val, unsigned *len);
int xs_store_write(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path,
                   const void *val, unsigned len);
int xs_store_mkdir(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path);
int xs_store_rm(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path);
int xs_store_directory(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path,
                       char *buf, unsigned cap, unsigned *len, uint64_t *gen);
int xs_store_get_perms(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path,
                       struct xs_permissions *perms, unsigned max, unsigned *num);
int xs_store_set_perms(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path,
                       const struct xs_permissions *perms, unsigned num);

/* Transactions. start: *id is never 0. find: NULL unless id is open and belongs to owner.
 * end: frees t; commit -> 0 or -EAGAIN (changes dropped); abort -> 0. */
int xs_store_tx_start(struct xs_store *s, void *owner, unsigned domid, uint32_t *id);
struct xs_txn *xs_store_tx_find(struct xs_store *s, void *owner, uint32_t id);
int xs_store_tx_end(struct xs_store *s, struct xs_txn *t, bool commit);

/* Watches. The sink gets the owner, the event path (relative for relative watches) and the
 * token. watch: registers only (the caller sends the initial event itself, after its reply);
 * -EEXIST for the same (path, token) twice. unwatch: -ENOENT if not registered. */
typedef void xs_event_sink_fn(void *opaque, void *owner, const char *path, const char *token);
void xs_store_set_event_sink(struct xs_store *s, xs_event_sink_fn *fn, void *opaque);
int xs_store_watch(struct xs_store *s, void *owner, unsigned domid, const char *path,
                   const char *token);
int xs_store_unwatch(struct xs_store *s, void *owner, unsigned domid, const char *path,
                     const char *token);
/* Fire "@introduceDomain" / "@releaseDomain" (for the daemon, later). */
void xs_store_fire_special(struct xs_store *s, const char *name);
/* Drop every watch and open transaction of owner (connection closed, RESET_WATCHES). */
void xs_store_forget_owner(struct xs_store *s, void *owner, bool watches, bool txns);

#endif
