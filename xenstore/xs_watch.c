/* xs_watch.c: xenstore watches: registration, matching of change events, delivery to owners. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore/xs_store_int.h"

/* Xen's is_child(child, parent): parent is "/", equal, or a "/"-bounded prefix of child. */
static bool is_parent(const char *parent, const char *child)
{
    size_t len = strlen(parent);

    if (strcmp(parent, "/") == 0)
        return child[0] == '/';
    return strncmp(parent, child, len) == 0 && (child[len] == '\0' || child[len] == '/');
}

/* The path to report for a change at path to w, or NULL if w does not match it. */
static const char *match(const struct xs_watch *w, const char *path, bool recursive)
{
    if ((w->path[0] == '@') != (path[0] == '@'))
        return NULL;
    if (is_parent(w->path, path))
        return path;
    if (recursive && is_parent(path, w->path))
        return w->path;
    return NULL;
}

static void deliver_one(struct xs_store *s, const struct xs_watch *w, const char *epath)
{
    char base[32];
    size_t blen;

    if (w->relative) {
        xs_domain_path(w->domid, base);
        blen = strlen(base);
        if (strncmp(epath, base, blen) == 0 && epath[blen] == '/')
            epath += blen + 1;
    }
    s->sink(s->sink_opaque, w->owner, epath, w->token);
}

void xs_event_deliver(struct xs_store *s, const char *path, bool recursive,
                      const struct xs_permissions *perms, unsigned nperms)
{
    if (!s->sink)
        return;
    for (const struct xs_watch *w = s->watches; w; w = w->next) {
        const char *epath = match(w, path, recursive);
        if (!epath)
            continue;
        if (!(xs_perm_for(w->domid, perms, nperms) & XS_PERM_READ))
            continue;
        deliver_one(s, w, epath);
    }
}

static struct xs_event *event_new(const char *path, bool recursive,
                                  const struct xs_permissions *perms, unsigned nperms)
{
    size_t len = strlen(path) + 1;
    struct xs_event *e = calloc(1, sizeof(*e) + len);

    if (!e)
        return NULL;
    e->perms = malloc(nperms ? nperms * sizeof(*perms) : 1);
    if (!e->perms) {
        free(e);
        return NULL;
    }
    memcpy(e->perms, perms, nperms * sizeof(*perms));
    e->nperms = nperms;
    e->recursive = recursive;
    memcpy(e->path, path, len);
    return e;
}

void xs_event_emit(struct xs_store *s, struct xs_txn *t, const char *path, bool recursive,
                   const struct xs_permissions *perms, unsigned nperms)
{
    struct xs_event *e;

    if (!t) {
        xs_event_deliver(s, path, recursive, perms, nperms);
        return;
    }
    e = event_new(path, recursive, perms, nperms);
    if (!e)
        return; /* out of memory: the event is lost (watches may miss, never crash) */
    *t->events_tail = e;
    t->events_tail = &e->next;
}

void xs_events_free(struct xs_event *e)
{
    while (e) {
        struct xs_event *next = e->next;
        free(e->perms);
        free(e);
        e = next;
    }
}

void xs_store_set_event_sink(struct xs_store *s, xs_event_sink_fn *fn, void *opaque)
{
    s->sink = fn;
    s->sink_opaque = opaque;
}

static struct xs_watch **find_watch(struct xs_store *s, void *owner, const char *abs,
                                    const char *token)
{
    for (struct xs_watch **pw = &s->watches; *pw; pw = &(*pw)->next)
        if ((*pw)->owner == owner && !strcmp((*pw)->path, abs) && !strcmp((*pw)->token, token))
            return pw;
    return NULL;
}

static unsigned watches_of(const struct xs_store *s, unsigned domid)
{
    unsigned n = 0;

    for (const struct xs_watch *w = s->watches; w; w = w->next)
        n += w->domid == domid;
    return n;
}

int xs_store_watch(struct xs_store *s, void *owner, unsigned domid, const char *path,
                   const char *token)
{
    char abs[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_watch *w, **tail;
    int rc = xs_path_canonical(domid, path, true, abs);

    if (rc)
        return rc;
    if (find_watch(s, owner, abs, token))
        return -EEXIST;
    if (!xs_privileged(domid) && watches_of(s, domid) >= XS_QUOTA_WATCHES)
        return -E2BIG;
    w = calloc(1, sizeof(*w) + strlen(abs) + 1);
    if (!w || !(w->token = strdup(token))) {
        free(w);
        return -ENOMEM;
    }
    strcpy(w->path, abs);
    w->owner = owner;
    w->domid = domid;
    w->relative = path[0] != '/' && path[0] != '@';
    /* Append: events reach watches in the order they were set. */
    for (tail = &s->watches; *tail; tail = &(*tail)->next)
        ;
    *tail = w;
    return 0;
}

int xs_store_unwatch(struct xs_store *s, void *owner, unsigned domid, const char *path,
                     const char *token)
{
    char abs[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_watch **pw, *w;
    int rc = xs_path_canonical(domid, path, true, abs);

    if (rc)
        return rc;
    pw = find_watch(s, owner, abs, token);
    if (!pw)
        return -ENOENT;
    w = *pw;
    *pw = w->next;
    free(w->token);
    free(w);
    return 0;
}

void xs_store_fire_special(struct xs_store *s, const char *name)
{
    /* Special nodes carry Xen's default permissions "n0": only privileged watchers see them
     * (TODO: SET_PERMS on @introduceDomain / @releaseDomain). */
    static const struct xs_permissions n0 = {.id = 0, .perms = XS_PERM_NONE};

    if (name[0] == '@')
        xs_event_emit(s, NULL, name, false, &n0, 1);
}

static void drop_watches(struct xs_store *s, bool all, void *owner)
{
    struct xs_watch **pw = &s->watches;

    while (*pw) {
        struct xs_watch *w = *pw;
        if (!all && w->owner != owner) {
            pw = &w->next;
            continue;
        }
        *pw = w->next;
        free(w->token);
        free(w);
    }
}

void xs_watches_free(struct xs_store *s)
{
    drop_watches(s, true, NULL);
}

static void drop_txns(struct xs_store *s, void *owner)
{
    struct xs_txn *t = s->txns, *next;

    for (; t; t = next) {
        next = t->next;
        if (t->owner == owner)
            xs_store_tx_end(s, t, false);
    }
}

void xs_store_forget_owner(struct xs_store *s, void *owner, bool watches, bool txns)
{
    if (watches)
        drop_watches(s, false, owner);
    if (txns)
        drop_txns(s, owner);
}
