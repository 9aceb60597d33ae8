/* xs_store.c: the xenstore tree, its node operations and transactions (Xen 4.17 semantics). */
#include <stdlib.h>
#include <string.h>

#include "xenstore/xs_store_int.h"

#define XS_HDR_SIZE 24 /* Xen's struct xs_tdb_record_hdr, counted by the entry-size quota */

static struct xs_node *node_new(const char *name, size_t nlen, const struct xs_permissions *perms,
                                unsigned nperms)
{
    struct xs_node *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    n->name = strndup(name, nlen);
    n->perms = malloc(nperms * sizeof(*perms));
    if (!n->name || !n->perms) {
        free(n->name);
        free(n->perms);
        free(n);
        return NULL;
    }
    memcpy(n->perms, perms, nperms * sizeof(*perms));
    n->nperms = nperms;
    return n;
}

void xs_node_free(struct xs_node *n)
{
    if (!n)
        return;
    for (unsigned i = 0; i < n->nkids; i++)
        xs_node_free(n->kids[i]);
    free(n->kids);
    free(n->name);
    free(n->value);
    free(n->perms);
    free(n);
}

struct xs_node *xs_node_clone(const struct xs_node *n)
{
    struct xs_node *c = node_new(n->name, strlen(n->name), n->perms, n->nperms);

    if (!c)
        return NULL;
    c->gen = n->gen;
    c->kids = n->nkids ? malloc(n->nkids * sizeof(*c->kids)) : NULL;
    c->value = n->vlen ? malloc(n->vlen) : NULL;
    if ((n->nkids && !c->kids) || (n->vlen && !c->value)) {
        xs_node_free(c);
        return NULL;
    }
    if (n->vlen)
        memcpy(c->value, n->value, n->vlen);
    c->vlen = n->vlen;
    c->kcap = n->nkids;
    for (; c->nkids < n->nkids; c->nkids++) {
        c->kids[c->nkids] = xs_node_clone(n->kids[c->nkids]);
        if (!c->kids[c->nkids]) {
            xs_node_free(c);
            return NULL;
        }
    }
    return c;
}

static int add_kid(struct xs_node *parent, struct xs_node *kid)
{
    if (parent->nkids == parent->kcap) {
        unsigned cap = parent->kcap ? parent->kcap * 2 : 4;
        struct xs_node **k = realloc(parent->kids, cap * sizeof(*k));
        if (!k)
            return -ENOMEM;
        parent->kids = k;
        parent->kcap = cap;
    }
    parent->kids[parent->nkids++] = kid;
    return 0;
}

static struct xs_node *find_kid(const struct xs_node *n, const char *name, size_t len,
                                unsigned *idx)
{
    for (unsigned i = 0; i < n->nkids; i++) {
        if (strncmp(n->kids[i]->name, name, len) == 0 && n->kids[i]->name[len] == '\0') {
            if (idx)
                *idx = i;
            return n->kids[i];
        }
    }
    return NULL;
}

/* Walk abs from root as far as it exists: the deepest existing node; *rest = the unmatched
 * remainder ("" when the node itself exists), *parent = its parent (NULL for the root). */
static struct xs_node *walk(struct xs_node *root, const char *abs, const char **rest,
                            struct xs_node **parent)
{
    struct xs_node *n = root, *up = NULL;
    const char *p = abs + 1;

    while (*p) {
        size_t len = strcspn(p, "/");
        struct xs_node *k = find_kid(n, p, len, NULL);
        if (!k)
            break;
        up = n;
        n = k;
        p += len + (p[len] == '/');
    }
    *rest = p;
    if (parent)
        *parent = up;
    return n;
}

static unsigned child_bytes(const struct xs_node *n)
{
    unsigned len = 0;

    for (unsigned i = 0; i < n->nkids; i++)
        len += strlen(n->kids[i]->name) + 1;
    return len;
}

static bool over_quota(unsigned domid, unsigned nperms, size_t vlen, size_t childlen)
{
    size_t size = XS_HDR_SIZE + nperms * sizeof(struct xs_permissions) + vlen + childlen;

    return !xs_privileged(domid) && size >= XS_QUOTA_ENTRY_SIZE;
}

static struct xs_node *root_of(struct xs_store *s, struct xs_txn *t)
{
    return t ? t->root : s->root;
}

static void changed(struct xs_store *s, struct xs_txn *t, struct xs_node *n)
{
    n->gen = ++s->gen;
    if (t)
        t->dirty = true;
    else
        s->commit_seq++;
}

/*
 * Xen's get_node(): canonicalize path into abs and find the node, which must give domid all
 * of perm. A missing node is -ENOENT only if its deepest existing ancestor gives domid one
 * of perm, else -EACCES (errno_from_parents), so nothing leaks about unreadable subtrees.
 */
static int get_node(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path,
                    unsigned perm, char *abs, struct xs_node **out)
{
    const char *rest;
    struct xs_node *n;
    int rc = xs_path_canonical(domid, path, false, abs);

    if (rc)
        return rc;
    n = walk(root_of(s, t), abs, &rest, NULL);
    if (*rest == '\0') {
        *out = n;
        return (xs_perm_for(domid, n->perms, n->nperms) & perm) == perm ? 0 : -EACCES;
    }
    *out = NULL;
    return xs_perm_for(domid, n->perms, n->nperms) & perm ? -ENOENT : -EACCES;
}

/* Build the missing nodes of abs below the deepest existing one, inheriting its perms (an
 * unprivileged creator owns them); attach only when all of it could be made. */
static int create_path(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *abs,
                       const void *val, unsigned vlen, struct xs_node **out)
{
    const char *rest;
    struct xs_node *top = walk(root_of(s, t), abs, &rest, NULL), *chain = NULL, *leaf = NULL;
    unsigned np = top->nperms;

    if (over_quota(domid, np, top->vlen, child_bytes(top) + strcspn(rest, "/") + 1))
        return -ENOSPC;
    if (over_quota(domid, np, vlen, 0))
        return -ENOSPC;
    for (const char *p = rest; *p;) {
        size_t len = strcspn(p, "/");
        struct xs_node *n = node_new(p, len, top->perms, np);
        if (!n || (leaf && add_kid(leaf, n))) {
            xs_node_free(n);
            xs_node_free(chain);
            return -ENOMEM;
        }
        if (!xs_privileged(domid))
            n->perms[0].id = domid;
        chain = chain ? chain : n;
        leaf = n;
        p += len + (p[len] == '/');
    }
    if (vlen && !(leaf->value = malloc(vlen))) {
        xs_node_free(chain);
        return -ENOMEM;
    }
    if (vlen)
        memcpy(leaf->value, val, vlen);
    leaf->vlen = vlen;
    if (add_kid(top, chain)) {
        xs_node_free(chain);
        return -ENOMEM;
    }
    changed(s, t, top);
    for (struct xs_node *n = chain; n; n = n->nkids ? n->kids[0] : NULL)
        n->gen = s->gen;
    *out = leaf;
    return 0;
}

int xs_store_read(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path,
                  const void **val, unsigned *len)
{
    char abs[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_node *n;
    int rc = get_node(s, t, domid, path, XS_PERM_READ, abs, &n);

    if (rc)
        return rc;
    *val = n->value ? (const void *)n->value : "";
    *len = n->vlen;
    return 0;
}

static int set_value(struct xs_store *s, struct xs_txn *t, unsigned domid, struct xs_node *n,
                     const void *val, unsigned len)
{
    uint8_t *v = NULL;

    if (over_quota(domid, n->nperms, len, child_bytes(n)))
        return -ENOSPC;
    if (len && !(v = malloc(len)))
        return -ENOMEM;
    if (len)
        memcpy(v, val, len);
    free(n->value);
    n->value = v;
    n->vlen = len;
    changed(s, t, n);
    return 0;
}

int xs_store_write(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path,
                   const void *val, unsigned len)
{
    char abs[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_node *n;
    int rc = get_node(s, t, domid, path, XS_PERM_WRITE, abs, &n);

    if (rc == -ENOENT)
        rc = create_path(s, t, domid, abs, val, len, &n);
    else if (rc == 0)
        rc = set_value(s, t, domid, n, val, len);
    if (rc)
        return rc;
    xs_event_emit(s, t, abs, false, n->perms, n->nperms);
    return 0;
}

int xs_store_mkdir(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path)
{
    char abs[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_node *n;
    int rc = get_node(s, t, domid, path, XS_PERM_WRITE, abs, &n);

    if (rc != -ENOENT)
        return rc;
    rc = create_path(s, t, domid, abs, NULL, 0, &n);
    if (rc)
        return rc;
    xs_event_emit(s, t, abs, false, n->perms, n->nperms);
    return 0;
}

int xs_store_rm(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path)
{
    char abs[XENSTORE_ABS_PATH_MAX + 1];
    const char *rest;
    struct xs_node *n, *parent;
    unsigned idx = 0;
    int rc = get_node(s, t, domid, path, XS_PERM_WRITE, abs, &n);

    if (rc == -ENOENT) {
        walk(root_of(s, t), abs, &rest, NULL);
        /* Missing is fine if the parent exists: only the last component is unmatched. */
        return strchr(rest, '/') ? -ENOENT : 0;
    }
    if (rc)
        return rc;
    if (strcmp(abs, "/") == 0)
        return -EINVAL;
    /* Fired before the removal, while the node's permissions are still there (as Xen). */
    xs_event_emit(s, t, abs, true, n->perms, n->nperms);
    walk(root_of(s, t), abs, &rest, &parent);
    find_kid(parent, n->name, strlen(n->name), &idx);
    memmove(&parent->kids[idx], &parent->kids[idx + 1],
            (parent->nkids - idx - 1) * sizeof(*parent->kids));
    parent->nkids--;
    xs_node_free(n);
    changed(s, t, parent);
    return 0;
}

int xs_store_directory(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path,
                       char *buf, unsigned cap, unsigned *len, uint64_t *gen)
{
    char abs[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_node *n;
    unsigned off = 0;
    int rc = get_node(s, t, domid, path, XS_PERM_READ, abs, &n);

    if (rc)
        return rc;
    for (unsigned i = 0; i < n->nkids; i++) {
        size_t l = strlen(n->kids[i]->name) + 1;
        if (off + l <= cap)
            memcpy(buf + off, n->kids[i]->name, l);
        off += l;
    }
    *len = off;
    if (gen)
        *gen = n->gen;
    return off > cap ? -E2BIG : 0;
}

int xs_store_get_perms(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path,
                       struct xs_permissions *perms, unsigned max, unsigned *num)
{
    char abs[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_node *n;
    int rc = get_node(s, t, domid, path, XS_PERM_READ, abs, &n);

    if (rc)
        return rc;
    if (n->nperms > max)
        return -E2BIG;
    memcpy(perms, n->perms, n->nperms * sizeof(*perms));
    *num = n->nperms;
    return 0;
}

int xs_store_set_perms(struct xs_store *s, struct xs_txn *t, unsigned domid, const char *path,
                       const struct xs_permissions *perms, unsigned num)
{
    char abs[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_node *n;
    struct xs_permissions *p;
    int rc;

    if (num == 0)
        return -EINVAL;
    if (!xs_privileged(domid) && num > XS_QUOTA_PERMS)
        return -ENOSPC;
    rc = get_node(s, t, domid, path, XS_PERM_WRITE | XS_PERM_OWNER, abs, &n);
    if (rc)
        return rc;
    if (!xs_privileged(domid) && perms[0].id != n->perms[0].id)
        return -EPERM;
    if (over_quota(domid, num, n->vlen, child_bytes(n)))
        return -ENOSPC;
    p = malloc(num * sizeof(*p));
    if (!p)
        return -ENOMEM;
    memcpy(p, perms, num * sizeof(*p));
    free(n->perms);
    n->perms = p;
    n->nperms = num;
    changed(s, t, n);
    xs_event_emit(s, t, abs, false, n->perms, n->nperms);
    return 0;
}

/* ---- transactions: a private copy of the tree, committed if nothing changed ---- */

static unsigned txns_of(const struct xs_store *s, const void *owner)
{
    unsigned n = 0;

    for (const struct xs_txn *t = s->txns; t; t = t->next)
        n += t->owner == owner;
    return n;
}

static bool id_in_use(const struct xs_store *s, uint32_t id)
{
    for (const struct xs_txn *t = s->txns; t; t = t->next)
        if (t->id == id)
            return true;
    return false;
}

int xs_store_tx_start(struct xs_store *s, void *owner, unsigned domid, uint32_t *id)
{
    struct xs_txn *t;

    if (!xs_privileged(domid) && txns_of(s, owner) >= XS_QUOTA_TRANSACTIONS)
        return -ENOSPC;
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->root = xs_node_clone(s->root);
    if (!t->root) {
        free(t);
        return -ENOMEM;
    }
    while (s->next_tx_id == 0 || id_in_use(s, s->next_tx_id))
        s->next_tx_id++;
    t->id = s->next_tx_id++;
    t->owner = owner;
    t->domid = domid;
    t->base_seq = s->commit_seq;
    t->events_tail = &t->events;
    t->next = s->txns;
    s->txns = t;
    *id = t->id;
    return 0;
}

struct xs_txn *xs_store_tx_find(struct xs_store *s, void *owner, uint32_t id)
{
    for (struct xs_txn *t = s->txns; t; t = t->next)
        if (t->id == id && t->owner == owner)
            return t;
    return NULL;
}

static void unlink_txn(struct xs_store *s, struct xs_txn *t)
{
    for (struct xs_txn **pt = &s->txns; *pt; pt = &(*pt)->next) {
        if (*pt == t) {
            *pt = t->next;
            return;
        }
    }
}

int xs_store_tx_end(struct xs_store *s, struct xs_txn *t, bool commit)
{
    int rc = 0;

    unlink_txn(s, t);
    if (commit && t->dirty) {
        if (s->commit_seq != t->base_seq) {
            rc = -EAGAIN;
        } else {
            xs_node_free(s->root);
            s->root = t->root;
            t->root = NULL;
            s->commit_seq++;
            for (const struct xs_event *e = t->events; e; e = e->next)
                xs_event_deliver(s, e->path, e->recursive, e->perms, e->nperms);
        }
    }
    xs_node_free(t->root);
    xs_events_free(t->events);
    free(t);
    return rc;
}

static void txns_free(struct xs_store *s)
{
    while (s->txns)
        xs_store_tx_end(s, s->txns, false);
}

struct xs_store *xs_store_new(void)
{
    static const struct xs_permissions none = {.id = 0, .perms = XS_PERM_NONE};
    static const char *const initial[] = {"/local", "/local/domain", "/tool"};
    struct xs_store *s = calloc(1, sizeof(*s));
    struct xs_node *n;

    if (!s)
        return NULL;
    s->next_tx_id = 1;
    s->root = node_new("", 0, &none, 1);
    if (!s->root) {
        free(s);
        return NULL;
    }
    for (unsigned i = 0; i < sizeof(initial) / sizeof(initial[0]); i++) {
        if (create_path(s, NULL, 0, initial[i], NULL, 0, &n)) {
            xs_store_free(s);
            return NULL;
        }
    }
    return s;
}

void xs_store_free(struct xs_store *s)
{
    if (!s)
        return;
    txns_free(s);
    xs_watches_free(s);
    xs_node_free(s->root);
    free(s);
}
