/* cmd_list.c: `xhv list [-l] [--json] [DOM...]` shaped like xl list (xl_info.c), and the name
 * verbs `domid`, `domname`, `rename`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/build.h"
#include "cli/ctl.h"
#include "cli/xhv.h"

#define LIST_CHUNK 256

/* Every domain (sysctl getdomaininfolist in chunks); count, or -1 after a message. */
static int all_domains(struct xl_ctx *ctx, xc_domaininfo_t **out)
{
    xc_domaininfo_t *info = NULL, *ni;
    uint32_t first = 0;
    int nr = 0, n;
    do {
        if (!(ni = realloc(info, (size_t)(nr + LIST_CHUNK) * sizeof(*info)))) {
            free(info);
            fprintf(stderr, "xhv %s: out of memory\n", ctx->verb);
            return -1;
        }
        info = ni;
        n = xc_domain_getinfolist(ctx->xch, first, LIST_CHUNK, info + nr);
        if (n < 0) {
            xl_perror(ctx, "cannot list domains");
            free(info);
            return -1;
        }
        if (n > 0)
            first = info[nr + n - 1].domain + 1u;
        nr += n;
    } while (n == LIST_CHUNK);
    *out = info;
    return nr;
}

/* The six state letters of xl list: r b p s <reason> d. */
static void state_letters(const xc_domaininfo_t *d, char s[7])
{
    static const char reasons[] = "-rscwS"; /* poweroff reboot suspend crash watchdog soft_reset */
    bool shut = d->flags & XEN_DOMINF_shutdown;
    unsigned reason = (d->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    s[0] = d->flags & XEN_DOMINF_running ? 'r' : '-';
    s[1] = d->flags & XEN_DOMINF_blocked ? 'b' : '-';
    s[2] = d->flags & XEN_DOMINF_paused ? 'p' : '-';
    s[3] = shut ? 's' : '-';
    s[4] = !shut ? '-' : reason < sizeof(reasons) - 1 ? reasons[reason] : '?';
    s[5] = d->flags & XEN_DOMINF_dying ? 'd' : '-';
    s[6] = 0;
}

static void list_plain(struct xl_ctx *ctx, const xc_domaininfo_t *info, int nr)
{
    char st[7];
    printf("Name                                        ID   Mem VCPUs\tState\tTime(s)\n");
    for (int i = 0; i < nr; i++) {
        char *name = xl_domid_to_name(ctx, info[i].domain);
        state_letters(&info[i], st);
        printf("%-40s %5u %5lu %5u     %s  %8.1f\n", name ? name : "(null)", info[i].domain,
               (unsigned long)((info[i].tot_pages + info[i].outstanding_pages) * 4 / 1024),
               info[i].nr_online_vcpus, st, (double)info[i].cpu_time / 1e9);
        free(name);
    }
}

static void json_info(struct xl_ctx *ctx, const xc_domaininfo_t *d)
{
    char st[7], uuid[37];
    char *name = xl_domid_to_name(ctx, d->domain);
    unsigned reason = (d->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    state_letters(d, st);
    xl_uuid_format(d->handle, uuid);
    printf("{\n            \"name\": ");
    xl_json_string(stdout, name ? name : "(null)");
    printf(",\n            \"state\": \"%s\",\n            \"uuid\": \"%s\",\n", st, uuid);
    printf("            \"current_memkb\": %llu,\n            \"max_memkb\": %llu,\n",
           (unsigned long long)d->tot_pages * 4, (unsigned long long)d->max_pages * 4);
    printf("            \"vcpu_online\": %u,\n            \"vcpu_max_id\": %d,\n",
           d->nr_online_vcpus, (int)d->max_vcpu_id);
    printf("            \"cpu_time\": %llu,\n            \"ssidref\": %u,\n",
           (unsigned long long)d->cpu_time, d->ssidref);
    printf("            \"shutdown\": %s,\n            \"shutdown_reason\": ",
           d->flags & XEN_DOMINF_shutdown ? "true" : "false");
    if (d->flags & XEN_DOMINF_shutdown)
        printf("%u\n        }", reason);
    else
        printf("null\n        }");
    free(name);
}

/* xl list -l: [ { "domid": N, "config": {...}, "info": {...} }, ... ] */
static void list_json(struct xl_ctx *ctx, const xc_domaininfo_t *info, int nr)
{
    printf("[\n");
    for (int i = 0; i < nr; i++) {
        struct xl_config c;
        printf("    {\n        \"domid\": %u,\n        \"config\": ", info[i].domain);
        if (xhv_domain_config(ctx, info[i].domain, &c) == 0) {
            memcpy(c.uuid, info[i].handle, sizeof(c.uuid)); /* generated at creation */
            xl_config_json(&c, stdout, 8);
            xl_config_free(&c);
        } else {
            printf("null");
        }
        printf(",\n        \"info\": ");
        json_info(ctx, &info[i]);
        printf("\n    }%s\n", i + 1 < nr ? "," : "");
    }
    printf("]\n");
}

/* The named domains only (each must exist). */
static int some_domains(struct xl_ctx *ctx, char **doms, int nr, xc_domaininfo_t **out)
{
    xc_domaininfo_t *info = calloc((size_t)nr, sizeof(*info));
    uint32_t domid;
    for (int i = 0; info && i < nr; i++) {
        if (xl_find_domain(ctx, doms[i], &domid) ||
            xc_domain_getinfo_single(ctx->xch, domid, &info[i]) < 0) {
            free(info);
            return -1;
        }
    }
    *out = info;
    return info ? nr : -1;
}

int cmd_list(int argc, char **argv)
{
    static const struct option lo[] = {
        {"long", no_argument, 0, 'l'},
        {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    bool json = false;
    xc_domaininfo_t *info = NULL;
    struct xl_ctx ctx;
    int c, nr;
    optind = 1;
    while ((c = getopt_long(argc, argv, "lh", lo, NULL)) != -1) {
        if (c == 'l' || c == 'j') {
            json = true;
        } else {
            fprintf(stderr, "usage: xhv list [-l|--long] [--json] [DOM ...]\n");
            return 1;
        }
    }
    if (xl_ctx_open(&ctx, "list", false))
        return 1;
    nr = optind < argc ? some_domains(&ctx, argv + optind, argc - optind, &info)
                       : all_domains(&ctx, &info);
    if (nr >= 0 && json)
        list_json(&ctx, info, nr);
    else if (nr >= 0)
        list_plain(&ctx, info, nr);
    free(info);
    xl_ctx_close(&ctx);
    return nr < 0 ? 1 : 0;
}

/* ---- domid, domname, rename ---- */

int cmd_domid(int argc, char **argv)
{
    struct xl_ctx ctx;
    uint32_t domid;
    int rc = 1;
    if (argc != 2) {
        fprintf(stderr, "usage: xhv domid NAME\n");
        return 1;
    }
    if (xl_ctx_open(&ctx, "domid", false))
        return 1;
    if (xl_name_to_domid(&ctx, argv[1], &domid) == 0) {
        printf("%u\n", domid);
        rc = 0;
    } else {
        fprintf(stderr, "xhv domid: no domain is named '%s'\n", argv[1]);
    }
    xl_ctx_close(&ctx);
    return rc;
}

int cmd_domname(int argc, char **argv)
{
    struct xl_ctx ctx;
    xc_domaininfo_t info;
    char *end, *name = NULL;
    unsigned long id = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
    if (argc != 2 || !*argv[1] || *end || id >= DOMID_FIRST_RESERVED) {
        fprintf(stderr, "usage: xhv domname ID (a domain id)\n");
        return 1;
    }
    if (xl_ctx_open(&ctx, "domname", false))
        return 1;
    if (xc_domain_getinfo_single(ctx.xch, (uint32_t)id, &info) == 0)
        name = xl_domid_to_name(&ctx, (uint32_t)id);
    if (name)
        printf("%s\n", name);
    else
        fprintf(stderr, "xhv domname: domain %lu does not exist\n", id);
    xl_ctx_close(&ctx);
    free(name);
    return name ? 0 : 1;
}

int cmd_rename(int argc, char **argv)
{
    struct xl_ctx ctx;
    uint32_t domid;
    const char *why;
    int rc = 1, lock;
    if (argc != 3) {
        fprintf(stderr, "usage: xhv rename DOM NEWNAME\n");
        return 1;
    }
    if ((why = xl_name_invalid(argv[2]))) {
        fprintf(stderr, "xhv rename: invalid domain name '%s': it %s\n", argv[2], why);
        return 1;
    }
    if (xl_ctx_open(&ctx, "rename", true))
        return 1;
    if (xl_find_domain(&ctx, argv[1], &domid) == 0) {
        lock = xl_lock(&ctx);
        if (domid == 0)
            fprintf(stderr, "xhv rename: the control domain keeps its name\n");
        else if (xl_domain_rename(&ctx, domid, argv[2]) == 0)
            rc = 0;
        else if (errno == EEXIST)
            fprintf(stderr, "xhv rename: domain name '%s' is already in use\n", argv[2]);
        else
            xl_perror(&ctx, "cannot rename the domain");
        xl_unlock(lock);
    }
    xl_ctx_close(&ctx);
    return rc;
}
