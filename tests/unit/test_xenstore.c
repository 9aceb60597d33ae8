/* test_xenstore.c: the xenstore library: tree, paths, permissions, quotas, transactions, watches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "xenstore/xs_store.h"

/* ---- store helpers ---- */

/* Read path as domid: the value as a NUL-terminated static string, or NULL (rc in *err). */
static const char *rd(struct xs_store *s, unsigned domid, const char *path, int *err)
{
    static char buf[XENSTORE_PAYLOAD_MAX + 1];
    const void *v;
    unsigned len;
    int rc = xs_store_read(s, NULL, domid, path, &v, &len);

    if (err)
        *err = rc;
    if (rc)
        return NULL;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return buf;
}

static int rd_rc(struct xs_store *s, unsigned domid, const char *path)
{
    int rc;
    rd(s, domid, path, &rc);
    return rc;
}

static int wr(struct xs_store *s, unsigned domid, const char *path, const char *val)
{
    return xs_store_write(s, NULL, domid, path, val, strlen(val));
}

/* Directory listing with names joined by ',' (static), or NULL. */
static const char *ls(struct xs_store *s, unsigned domid, const char *path)
{
    static char buf[8192];
    unsigned len;

    if (xs_store_directory(s, NULL, domid, path, buf, sizeof(buf) - 1, &len, NULL))
        return NULL;
    for (unsigned i = 0; i + 1 < len; i++)
        if (!buf[i])
            buf[i] = ',';
    buf[len ? len - 1 : 0] = '\0';
    return buf;
}

/* Permissions as "n0,r5" (static), or NULL. */
static const char *perms(struct xs_store *s, unsigned domid, const char *path)
{
    static char buf[256];
    struct xs_permissions p[16];
    unsigned n, off = 0;

    if (xs_store_get_perms(s, NULL, domid, path, p, 16, &n))
        return NULL;
    buf[0] = '\0';
    for (unsigned i = 0; i < n; i++)
        off += snprintf(buf + off, sizeof(buf) - off, "%s%c%u", i ? "," : "",
                        "nrwb"[p[i].perms & 3], p[i].id);
    return buf;
}

static int setp(struct xs_store *s, unsigned domid, const char *path, const char *list)
{
    struct xs_permissions p[16];
    char copy[256], *save, *tok;
    unsigned n = 0;

    snprintf(copy, sizeof(copy), "%s", list);
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (xs_perm_parse(tok, &p[n++]))
            return -EINVAL;
    return xs_store_set_perms(s, NULL, domid, path, p, n);
}

static void streq_at(const char *got, const char *want, int line)
{
    if (!got || strcmp(got, want))
        test_fail(__FILE__, line, "got \"%s\", expected \"%s\"", got ? got : "(null)", want);
}
#define STREQ(a, b) streq_at((a), (b), __LINE__)

/* ---- store semantics ---- */

TEST(xs_initial_tree)
{
    struct xs_store *s = xs_store_new();
    STREQ(ls(s, 0, "/"), "local,tool");
    STREQ(ls(s, 0, "/local"), "domain");
    STREQ(ls(s, 0, "/local/domain"), "");
    STREQ(perms(s, 0, "/"), "n0");
    STREQ(perms(s, 0, "/local/domain"), "n0");
    STREQ(rd(s, 0, "/tool", NULL), "");
    xs_store_free(s);
}

TEST(xs_write_creates_parents)
{
    struct xs_store *s = xs_store_new();
    const void *v;
    unsigned len;
    CHECK_EQ(wr(s, 0, "/a/b/c", "hello"), 0);
    STREQ(rd(s, 0, "/a/b/c", NULL), "hello");
    STREQ(rd(s, 0, "/a", NULL), "");
    STREQ(rd(s, 0, "/a/b", NULL), "");
    STREQ(ls(s, 0, "/a"), "b");
    STREQ(ls(s, 0, "/a/b/c"), "");
    CHECK_EQ(wr(s, 0, "/a/b/c", "x"), 0); /* overwrite, shorter */
    STREQ(rd(s, 0, "/a/b/c", NULL), "x");
    /* values are bytes: NULs kept, nothing appended */
    CHECK_EQ(xs_store_write(s, NULL, 0, "/bin", "a\0b", 3), 0);
    CHECK_EQ(xs_store_read(s, NULL, 0, "/bin", &v, &len), 0);
    CHECK_EQ(len, 3);
    CHECK(!memcmp(v, "a\0b", 3));
    CHECK_EQ(xs_store_write(s, NULL, 0, "/bin", "", 0), 0);
    CHECK_EQ(xs_store_read(s, NULL, 0, "/bin", &v, &len), 0);
    CHECK_EQ(len, 0);
    xs_store_free(s);
}

TEST(xs_directory_order_and_mkdir)
{
    struct xs_store *s = xs_store_new();
    CHECK_EQ(wr(s, 0, "/d/zeta", "1"), 0);
    CHECK_EQ(wr(s, 0, "/d/alpha", "2"), 0);
    CHECK_EQ(xs_store_mkdir(s, NULL, 0, "/d/mid"), 0);
    CHECK_EQ(wr(s, 0, "/d/zeta", "3"), 0); /* rewriting keeps the position */
    STREQ(ls(s, 0, "/d"), "zeta,alpha,mid");
    CHECK_EQ(xs_store_mkdir(s, NULL, 0, "/d/zeta"), 0); /* exists: fine, value kept */
    STREQ(rd(s, 0, "/d/zeta", NULL), "3");
    CHECK_EQ(xs_store_mkdir(s, NULL, 0, "/e/f/g"), 0);
    STREQ(ls(s, 0, "/e/f"), "g");
    CHECK(ls(s, 0, "/nope") == NULL);
    xs_store_free(s);
}

TEST(xs_rm_recursive)
{
    struct xs_store *s = xs_store_new();
    CHECK_EQ(wr(s, 0, "/a/b/c", "1"), 0);
    CHECK_EQ(wr(s, 0, "/a/b/d", "2"), 0);
    CHECK_EQ(wr(s, 0, "/a/e", "3"), 0);
    CHECK_EQ(xs_store_rm(s, NULL, 0, "/a/b"), 0);
    CHECK_EQ(rd_rc(s, 0, "/a/b/c"), -ENOENT);
    CHECK_EQ(rd_rc(s, 0, "/a/b"), -ENOENT);
    STREQ(ls(s, 0, "/a"), "e");
    CHECK_EQ(xs_store_rm(s, NULL, 0, "/a/b"), 0);         /* missing, parent exists: fine */
    CHECK_EQ(xs_store_rm(s, NULL, 0, "/a/x/y"), -ENOENT); /* parent missing too */
    CHECK_EQ(xs_store_rm(s, NULL, 0, "/"), -EINVAL);
    CHECK_EQ(xs_store_rm(s, NULL, 0, "/a"), 0);
    STREQ(ls(s, 0, "/"), "local,tool");
    xs_store_free(s);
}

TEST(xs_invalid_paths)
{
    static const char *const bad[] = {"",       "/a/",  "//a",   "/a//b", "/a b",
                                      "/a\x01", "@foo", "/a/b/", "a//b",  "/a.b"};
    struct xs_store *s = xs_store_new();
    char path[4200];

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ(wr(s, 0, bad[i], "v"), -EINVAL);
        CHECK_EQ(rd_rc(s, 0, bad[i]), -EINVAL);
    }
    CHECK_EQ(wr(s, 0, "/ok-_@/A9", "v"), 0);
    /* At most XENSTORE_REL_PATH_MAX bytes outside /local/domain/<id>/ ... */
    path[0] = '/';
    memset(path + 1, 'x', XENSTORE_REL_PATH_MAX - 1);
    path[XENSTORE_REL_PATH_MAX] = '\0';
    CHECK_EQ(wr(s, 0, path, "v"), 0);
    strcat(path, "y");
    CHECK_EQ(wr(s, 0, path, "v"), -EINVAL);
    /* ... and after the domain's prefix */
    strcpy(path, "/local/domain/5/");
    memset(path + 16, 'x', XENSTORE_REL_PATH_MAX);
    path[16 + XENSTORE_REL_PATH_MAX] = '\0';
    CHECK_EQ(wr(s, 0, path, "v"), 0);
    strcat(path, "y");
    CHECK_EQ(wr(s, 0, path, "v"), -EINVAL);
    /* never beyond XENSTORE_ABS_PATH_MAX */
    memset(path, 'x', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    CHECK_EQ(wr(s, 0, path, "v"), -EINVAL);
    xs_store_free(s);
}

TEST(xs_relative_paths)
{
    struct xs_store *s = xs_store_new();
    char out[XENSTORE_ABS_PATH_MAX + 1];
    CHECK_EQ(xs_path_canonical(7, "device/vif", false, out), 0);
    STREQ(out, "/local/domain/7/device/vif");
    CHECK_EQ(xs_path_canonical(7, "@releaseDomain", true, out), 0);
    STREQ(out, "@releaseDomain");
    CHECK_EQ(wr(s, 0, "name", "Domain-0"), 0);
    STREQ(rd(s, 0, "/local/domain/0/name", NULL), "Domain-0");
    CHECK_EQ(wr(s, 0, "/local/domain/5/x", "five"), 0);
    CHECK_EQ(setp(s, 0, "/local/domain/5", "n5"), 0);
    CHECK_EQ(setp(s, 0, "/local/domain/5/x", "n5"), 0);
    STREQ(rd(s, 5, "x", NULL), "five");
    CHECK_EQ(wr(s, 5, "y/z", "1"), 0);
    STREQ(rd(s, 0, "/local/domain/5/y/z", NULL), "1");
    xs_store_free(s);
}

TEST(xs_perm_rules)
{
    struct xs_permissions p[3];
    char buf[16];
    CHECK_EQ(xs_perm_parse("n5", &p[0]), 0);
    CHECK_EQ(xs_perm_parse("r7", &p[1]), 0);
    CHECK_EQ(xs_perm_parse("b9", &p[2]), 0);
    CHECK_EQ(xs_perm_for(0, p, 3), XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER);
    CHECK_EQ(xs_perm_for(5, p, 3), XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER);
    CHECK_EQ(xs_perm_for(7, p, 3), XS_PERM_READ);
    CHECK_EQ(xs_perm_for(9, p, 3), XS_PERM_READ | XS_PERM_WRITE);
    CHECK_EQ(xs_perm_for(8, p, 3), XS_PERM_NONE);
    CHECK_EQ(xs_perm_parse("w3", &p[0]), 0);
    CHECK_EQ(xs_perm_for(8, p, 1), XS_PERM_WRITE); /* entry 0 is everybody's default */
    CHECK_EQ(xs_perm_format(&p[2], buf, sizeof(buf)), 2);
    STREQ(buf, "b9");
    CHECK_EQ(xs_perm_parse("x5", &p[0]), -EINVAL);
    CHECK_EQ(xs_perm_parse("r", &p[0]), -EINVAL);
    CHECK_EQ(xs_perm_parse("r5x", &p[0]), -EINVAL);
    CHECK_EQ(xs_perm_parse("r-1", &p[0]), -EINVAL);
    CHECK_EQ(xs_perm_parse("r65536", &p[0]), -EINVAL);
}

TEST(xs_perms_dom0_vs_domu)
{
    struct xs_store *s = xs_store_new();
    CHECK_EQ(rd_rc(s, 5, "/tool"), -EACCES);
    CHECK_EQ(rd_rc(s, 5, "/nonexistent"), -EACCES); /* "/" unreadable: nothing leaks */
    CHECK_EQ(wr(s, 5, "/local/domain/9", "x"), -EACCES);
    CHECK(ls(s, 5, "/local/domain") == NULL);
    /* the toolstack gives domain 5 its home */
    CHECK_EQ(xs_store_mkdir(s, NULL, 0, "/local/domain/5"), 0);
    CHECK_EQ(setp(s, 0, "/local/domain/5", "n5"), 0);
    CHECK_EQ(rd_rc(s, 5, "/local/domain/5/missing"), -ENOENT);
    CHECK_EQ(wr(s, 5, "/local/domain/5/data/x", "1"), 0);
    STREQ(perms(s, 5, "/local/domain/5/data/x"), "n5");
    CHECK_EQ(rd_rc(s, 7, "/local/domain/5/data/x"), -EACCES);
    /* exceptions: r7 reads, cannot write or set perms */
    CHECK_EQ(setp(s, 5, "/local/domain/5/data/x", "n5,r7"), 0);
    STREQ(rd(s, 7, "/local/domain/5/data/x", NULL), "1");
    CHECK_EQ(wr(s, 7, "/local/domain/5/data/x", "2"), -EACCES);
    CHECK_EQ(setp(s, 7, "/local/domain/5/data/x", "n5,b7"), -EACCES);
    CHECK_EQ(xs_store_rm(s, NULL, 7, "/local/domain/5/data/x"), -EACCES);
    /* an unprivileged owner may not give a node away; dom0 may */
    CHECK_EQ(setp(s, 5, "/local/domain/5/data/x", "n7"), -EPERM);
    CHECK_EQ(setp(s, 0, "/local/domain/5/data/x", "n7"), 0);
    STREQ(rd(s, 7, "/local/domain/5/data/x", NULL), "1");
    /* a node created by a domU in a directory it may write is its own */
    CHECK_EQ(setp(s, 0, "/tool", "n0,w5"), 0);
    CHECK_EQ(wr(s, 5, "/tool/mine/leaf", "v"), 0);
    STREQ(perms(s, 0, "/tool/mine"), "n5,w5");
    CHECK_EQ(rd_rc(s, 5, "/tool"), -EACCES);
    CHECK_EQ(xs_store_rm(s, NULL, 5, "/tool/mine"), 0);
    xs_store_free(s);
}

TEST(xs_quotas_for_domu)
{
    struct xs_store *s = xs_store_new();
    char big[2100];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_EQ(xs_store_mkdir(s, NULL, 0, "/local/domain/5"), 0);
    CHECK_EQ(setp(s, 0, "/local/domain/5", "n5"), 0);
    CHECK_EQ(wr(s, 5, "/local/domain/5/big", big), -ENOSPC);
    CHECK_EQ(rd_rc(s, 5, "/local/domain/5/big"), -ENOENT); /* nothing half-made */
    CHECK_EQ(wr(s, 0, "/local/domain/5/big", big), 0);
    CHECK_EQ(wr(s, 5, "/local/domain/5/big", big), -ENOSPC);
    CHECK_EQ(setp(s, 5, "/local/domain/5", "n5,r1,r2,r3,r4,r6"), -ENOSPC);
    CHECK_EQ(setp(s, 5, "/local/domain/5", "n5,r1,r2,r3,r4"), 0);
    CHECK_EQ(setp(s, 0, "/local/domain/5", "n5,r1,r2,r3,r4,r6,r7"), 0);
    xs_store_free(s);
}

TEST(xs_transactions)
{
    struct xs_store *s = xs_store_new();
    int owner;
    uint32_t id, id2;
    struct xs_txn *t;
    const void *v;
    unsigned len;

    CHECK_EQ(xs_store_tx_start(s, &owner, 0, &id), 0);
    CHECK(id != 0);
    t = xs_store_tx_find(s, &owner, id);
    CHECK(t != NULL);
    CHECK(xs_store_tx_find(s, &id, id) == NULL); /* another owner's */
    CHECK_EQ(xs_store_write(s, t, 0, "/t/x", "1", 1), 0);
    CHECK_EQ(rd_rc(s, 0, "/t/x"), -ENOENT); /* invisible outside */
    CHECK_EQ(xs_store_read(s, t, 0, "/t/x", &v, &len), 0);
    CHECK_EQ(xs_store_tx_end(s, t, true), 0);
    STREQ(rd(s, 0, "/t/x", NULL), "1");
    CHECK(xs_store_tx_find(s, &owner, id) == NULL);
    /* conflict: a write committed meanwhile */
    CHECK_EQ(xs_store_tx_start(s, &owner, 0, &id), 0);
    CHECK_EQ(xs_store_tx_start(s, &owner, 0, &id2), 0);
    CHECK(id != id2);
    CHECK_EQ(xs_store_write(s, xs_store_tx_find(s, &owner, id), 0, "/t/x", "2", 1), 0);
    CHECK_EQ(wr(s, 0, "/t/y", "other"), 0);
    CHECK_EQ(xs_store_tx_end(s, xs_store_tx_find(s, &owner, id), true), -EAGAIN);
    STREQ(rd(s, 0, "/t/x", NULL), "1");
    /* read-only transactions commit; aborts drop changes */
    CHECK_EQ(xs_store_tx_end(s, xs_store_tx_find(s, &owner, id2), true), 0);
    CHECK_EQ(xs_store_tx_start(s, &owner, 0, &id), 0);
    CHECK_EQ(xs_store_rm(s, xs_store_tx_find(s, &owner, id), 0, "/t"), 0);
    CHECK_EQ(xs_store_tx_end(s, xs_store_tx_find(s, &owner, id), false), 0);
    STREQ(rd(s, 0, "/t/x", NULL), "1");
    /* a domU may hold 10 open transactions; leftovers are freed with the store */
    for (int i = 0; i < XS_QUOTA_TRANSACTIONS; i++)
        CHECK_EQ(xs_store_tx_start(s, &owner, 5, &id), 0);
    CHECK_EQ(xs_store_tx_start(s, &owner, 5, &id), -ENOSPC);
    xs_store_forget_owner(s, &owner, false, true);
    CHECK_EQ(xs_store_tx_start(s, &owner, 5, &id), 0);
    xs_store_free(s);
}

/* ---- watches ---- */

static char events[2048];

static void record(void *opaque, void *owner, const char *path, const char *token)
{
    size_t off = strlen(events);
    (void)opaque;
    snprintf(events + off, sizeof(events) - off, "%s%s:%s:%s", off ? " " : "", (char *)owner, path,
             token);
}

TEST(xs_watch_events)
{
    struct xs_store *s = xs_store_new();
    char A[] = "A", B[] = "B";
    uint32_t id;

    xs_store_set_event_sink(s, record, NULL);
    CHECK_EQ(xs_store_watch(s, A, 0, "/w", "tok"), 0);
    CHECK_EQ(xs_store_watch(s, A, 0, "/w", "tok"), -EEXIST);
    CHECK_EQ(xs_store_watch(s, B, 0, "/w/deep/leaf", "t2"), 0);
    CHECK_EQ(xs_store_watch(s, B, 0, "rel", "r"), 0);
    CHECK_EQ(xs_store_watch(s, B, 0, "/bad/", "r"), -EINVAL);
    events[0] = '\0';
    CHECK_EQ(wr(s, 0, "/w/x", "1"), 0);
    CHECK_EQ(wr(s, 0, "/other", "1"), 0);
    CHECK_EQ(wr(s, 0, "/wx", "1"), 0); /* not below /w */
    STREQ(events, "A:/w/x:tok");
    events[0] = '\0';
    CHECK_EQ(wr(s, 0, "/w/deep/leaf", "1"), 0);
    CHECK_EQ(xs_store_rm(s, NULL, 0, "/w"), 0); /* removing a parent fires the watched path */
    STREQ(events, "A:/w/deep/leaf:tok B:/w/deep/leaf:t2 A:/w:tok B:/w/deep/leaf:t2");
    events[0] = '\0';
    CHECK_EQ(wr(s, 0, "/local/domain/0/rel/k", "v"), 0);
    STREQ(events, "B:rel/k:r"); /* relative watch, relative event */
    /* changes in a transaction fire at commit only */
    events[0] = '\0';
    CHECK_EQ(xs_store_tx_start(s, A, 0, &id), 0);
    CHECK_EQ(xs_store_write(s, xs_store_tx_find(s, A, id), 0, "/w/t", "1", 1), 0);
    STREQ(events, "");
    CHECK_EQ(xs_store_tx_end(s, xs_store_tx_find(s, A, id), true), 0);
    STREQ(events, "A:/w/t:tok");
    CHECK_EQ(xs_store_unwatch(s, A, 0, "/w", "tok"), 0);
    CHECK_EQ(xs_store_unwatch(s, A, 0, "/w", "tok"), -ENOENT);
    xs_store_forget_owner(s, B, true, false);
    events[0] = '\0';
    CHECK_EQ(wr(s, 0, "/w/deep/leaf", "2"), 0);
    STREQ(events, "");
    xs_store_free(s);
}

TEST(xs_watch_permissions_and_specials)
{
    struct xs_store *s = xs_store_new();
    char A[] = "A", D[] = "D";

    xs_store_set_event_sink(s, record, NULL);
    CHECK_EQ(xs_store_watch(s, D, 5, "/", "all"), 0); /* domU 5 may watch anything... */
    CHECK_EQ(xs_store_watch(s, D, 5, "@releaseDomain", "rel"), 0);
    CHECK_EQ(xs_store_watch(s, A, 0, "@releaseDomain", "rel"), 0);
    events[0] = '\0';
    CHECK_EQ(wr(s, 0, "/secret", "1"), 0); /* ...but sees only what it may read */
    CHECK_EQ(wr(s, 0, "/public", "1"), 0);
    CHECK_EQ(setp(s, 0, "/public", "r0"), 0);
    xs_store_fire_special(s, "@releaseDomain");
    STREQ(events, "D:/public:all A:@releaseDomain:rel");
    for (int i = 2; i < XS_QUOTA_WATCHES; i++) { /* it has 2 already */
        char tok[16];
        snprintf(tok, sizeof(tok), "%d", i);
        CHECK_EQ(xs_store_watch(s, D, 5, "/x", tok), 0);
    }
    CHECK_EQ(xs_store_watch(s, D, 5, "/x", "one-too-many"), -E2BIG);
    xs_store_free(s);
}
