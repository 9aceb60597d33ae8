/* xs_path.c: xenstore path rules and permission strings, as Xen 4.17's xenstored has them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore/xs_store_int.h"

static bool valid_chars(const char *p)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz"
                             "0123456789-/_@";
    return p[strspn(p, ok)] == '\0';
}

void xs_domain_path(unsigned domid, char *out)
{
    snprintf(out, 32, "/local/domain/%u", domid);
}

/* Length of a "/local/domain/<digits>/" prefix of path, or 0: Xen's local_off. */
static size_t local_prefix_len(const char *path)
{
    static const char pre[] = "/local/domain/";
    size_t i = sizeof(pre) - 1, digits = 0;

    if (strncmp(path, pre, i) != 0)
        return 0;
    while (path[i] >= '0' && path[i] <= '9' && digits < 5) {
        i++;
        digits++;
    }
    return digits && path[i] == '/' ? i + 1 : 0;
}

int xs_path_canonical(unsigned domid, const char *path, bool allow_special, char *out)
{
    size_t len;

    if (!path || !valid_chars(path) || (path[0] == '@' && !allow_special))
        return -EINVAL;
    len = strlen(path);
    if (path[0] == '/' || path[0] == '@') {
        if (len > XENSTORE_ABS_PATH_MAX)
            return -EINVAL;
        memcpy(out, path, len + 1);
    } else {
        char base[32];
        xs_domain_path(domid, base);
        if (len > XENSTORE_REL_PATH_MAX)
            return -EINVAL;
        snprintf(out, XENSTORE_ABS_PATH_MAX + 1, "%s/%s", base, path);
        len = strlen(out);
    }
    if (len > 1 && out[len - 1] == '/')
        return -EINVAL;
    if (strstr(out, "//"))
        return -EINVAL;
    if (len - local_prefix_len(out) > XENSTORE_REL_PATH_MAX)
        return -EINVAL;
    return 0;
}

unsigned xs_perm_for(unsigned domid, const struct xs_permissions *perms, unsigned num)
{
    const unsigned all = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;

    if (xs_privileged(domid) || (num && perms[0].id == domid))
        return all;
    for (unsigned i = 1; i < num; i++)
        if (!(perms[i].perms & XS_PERM_IGNORE) && perms[i].id == domid)
            return perms[i].perms & all;
    return num ? perms[0].perms & all : 0;
}

int xs_perm_parse(const char *str, struct xs_permissions *p)
{
    unsigned long id;
    char *end;

    switch (str[0]) {
    case 'r':
        p->perms = XS_PERM_READ;
        break;
    case 'w':
        p->perms = XS_PERM_WRITE;
        break;
    case 'b':
        p->perms = XS_PERM_READ | XS_PERM_WRITE;
        break;
    case 'n':
        p->perms = XS_PERM_NONE;
        break;
    default:
        return -EINVAL;
    }
    if (str[1] < '0' || str[1] > '9')
        return -EINVAL;
    errno = 0;
    id = strtoul(str + 1, &end, 0);
    if (*end || errno || id > 0xffff)
        return -EINVAL;
    p->id = (unsigned)id;
    return 0;
}

int xs_perm_format(const struct xs_permissions *p, char *out, unsigned cap)
{
    static const char letter[4] = {'n', 'r', 'w', 'b'};
    int n = snprintf(out, cap, "%c%u", letter[p->perms & (XS_PERM_READ | XS_PERM_WRITE)], p->id);

    return n < 0 || (unsigned)n >= cap ? -E2BIG : n;
}
