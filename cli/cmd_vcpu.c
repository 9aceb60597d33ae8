/* cmd_vcpu.c: `xhv vcpu-list [DOM...]` and `xhv vcpu-pin DOM VCPU|all CPUS [SOFT]`, shaped
 * like xl_vcpu.c: getvcpuinfo and get/setvcpuaffinity domctls. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ctl.h"
#include "cli/xhv.h"

#define MAX_CPUS 4096

static bool bit(const uint8_t *map, unsigned i)
{
    return map[i / 8] & (1u << (i % 8));
}

/* xl_utils.c print_bitmap(): "all", "none", or ranges "0-2,5". */
static void print_bitmap(const uint8_t *map, unsigned nr, FILE *f)
{
    unsigned set = 0, i = 0;
    bool first = true;
    for (unsigned k = 0; k < nr; k++)
        set += bit(map, k);
    if (set == 0 || set == nr) {
        fputs(set ? "all" : "none", f);
        return;
    }
    while (i < nr) {
        unsigned j = i;
        if (!bit(map, i)) {
            i++;
            continue;
        }
        while (j + 1 < nr && bit(map, j + 1))
            j++;
        fprintf(f, j > i ? "%s%u-%u" : "%s%u", first ? "" : ",", i, j);
        first = false;
        i = j + 1;
    }
}

static int host_cpus(struct xl_ctx *ctx, unsigned *nr)
{
    xc_physinfo_t p;
    if (xc_physinfo(ctx->xch, &p) < 0) {
        xl_perror(ctx, "physinfo");
        return -1;
    }
    *nr = p.max_cpu_id + 1 < MAX_CPUS ? p.max_cpu_id + 1 : MAX_CPUS;
    return 0;
}

static void print_vcpu(struct xl_ctx *ctx, const char *name, uint32_t domid, uint32_t v,
                       unsigned nr_cpus)
{
    xc_vcpuinfo_t vi;
    uint8_t hard[MAX_CPUS / 8] = {0}, soft[MAX_CPUS / 8] = {0};
    if (xc_vcpu_getinfo(ctx->xch, domid, v, &vi) < 0)
        return; /* a hole in the vCPU ids: xl skips it too */
    if (xc_vcpu_getaffinity(ctx->xch, domid, (int)v, hard, soft,
                            XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT, nr_cpus) < 0) {
        memset(hard, 0xff, sizeof(hard));
        memset(soft, 0xff, sizeof(soft));
    }
    printf("%-32s %5u %5u", name, domid, v);
    if (!vi.online)
        printf("%5c %3c%cp ", '-', '-', '-');
    else if (vi.cpu == (uint32_t)~0u) /* not placed on any CPU yet */
        printf("%5c %3c%c- ", '-', vi.running ? 'r' : '-', vi.blocked ? 'b' : '-');
    else
        printf("%5u %3c%c- ", vi.cpu, vi.running ? 'r' : '-', vi.blocked ? 'b' : '-');
    printf("%9.1f  ", (double)vi.cpu_time / 1e9);
    print_bitmap(hard, nr_cpus, stdout);
    printf(" / ");
    print_bitmap(soft, nr_cpus, stdout);
    printf("\n");
}

static void print_domain_vcpus(struct xl_ctx *ctx, const xc_domaininfo_t *d, unsigned nr_cpus)
{
    char *name = xl_domid_to_name(ctx, d->domain);
    if (d->max_vcpu_id != (uint32_t)~0u)
        for (uint32_t v = 0; v <= d->max_vcpu_id && v < 4096; v++)
            print_vcpu(ctx, name ? name : "(null)", d->domain, v, nr_cpus);
    free(name);
}

int cmd_vcpu_list(int argc, char **argv)
{
    struct xl_ctx ctx;
    xc_domaininfo_t info[64];
    unsigned nr_cpus;
    uint32_t domid, first = 0;
    int n, rc = 0;
    if (argc > 1 && argv[1][0] == '-') {
        fprintf(stderr, "usage: xhv vcpu-list [DOM ...]\n");
        return 1;
    }
    if (xl_ctx_open(&ctx, "vcpu-list", false))
        return 1;
    if (host_cpus(&ctx, &nr_cpus)) {
        xl_ctx_close(&ctx);
        return 1;
    }
    printf("%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU", "State", "Time(s)",
           "Affinity (Hard / Soft)");
    for (int i = 1; i < argc; i++) {
        if (xl_find_domain(&ctx, argv[i], &domid) ||
            xc_domain_getinfo_single(ctx.xch, domid, &info[0]) < 0)
            rc = 1;
        else
            print_domain_vcpus(&ctx, &info[0], nr_cpus);
    }
    while (argc == 1 && (n = xc_domain_getinfolist(ctx.xch, first, 64, info)) > 0) {
        for (int i = 0; i < n; i++)
            print_domain_vcpus(&ctx, &info[i], nr_cpus);
        first = info[n - 1].domain + 1u;
    }
    xl_ctx_close(&ctx);
    return rc;
}

/* One "N", "N-M", "^N" or "^N-M" item of a CPU list into map. */
static int parse_cpu_item(const char *s, uint8_t *map, unsigned nr)
{
    bool not = *s == '^';
    char *end;
    unsigned long a = strtoul(s + not, &end, 10), b = a;
    if (end == s + not )
        return -1;
    if (*end == '-') {
        const char *t = end + 1;
        b = strtoul(t, &end, 10);
        if (end == t)
            return -1;
    }
    if (*end || b < a)
        return -1;
    if (b >= nr) {
        errno = ERANGE;
        return -1;
    }
    for (unsigned long i = a; i <= b; i++) {
        if (not )
            map[i / 8] &= (uint8_t) ~(1u << (i % 8));
        else
            map[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    return 0;
}

/* xl's parse_cpurange() for plain CPU lists: "all", "0-1", "0,2", "all,^1". */
static int parse_cpus(const char *spec, uint8_t *map, unsigned nr)
{
    char *copy = strdup(spec), *save = NULL;
    int rc = copy ? 0 : -1;
    memset(map, 0, (nr + 7) / 8);
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && rc == 0;
         tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "all"))
            for (unsigned i = 0; i < nr; i++)
                map[i / 8] |= (uint8_t)(1u << (i % 8));
        else
            rc = parse_cpu_item(tok, map, nr);
    }
    free(copy);
    if (rc < 0)
        fprintf(stderr, "xhv vcpu-pin: bad CPU list '%s'%s\n", spec,
                errno == ERANGE ? ": no such CPU on this host" : "");
    return rc;
}

static int pin(struct xl_ctx *ctx, uint32_t domid, int vcpu, uint8_t *hard, uint8_t *soft,
               unsigned nr_cpus)
{
    uint32_t flags = XEN_VCPUAFFINITY_HARD | (soft ? XEN_VCPUAFFINITY_SOFT : 0);
    uint8_t cur_soft[MAX_CPUS / 8] = {0};
    if (xc_vcpu_setaffinity(ctx->xch, domid, vcpu, hard, soft ? soft : cur_soft, flags, nr_cpus) <
        0) {
        char what[64];
        snprintf(what, sizeof(what), "could not set affinity for vcpu %d", vcpu);
        xl_perror(ctx, what);
        return -1;
    }
    return 0;
}

int cmd_vcpu_pin(int argc, char **argv)
{
    struct xl_ctx ctx;
    xc_domaininfo_t d;
    uint8_t hard[MAX_CPUS / 8], soft[MAX_CPUS / 8];
    unsigned nr_cpus;
    uint32_t domid;
    char *end;
    long vcpu = -1;
    int rc = 1;
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: xhv vcpu-pin DOM VCPU|all CPUS [SOFT-CPUS]\n");
        return 1;
    }
    if (strcmp(argv[2], "all") &&
        ((vcpu = strtol(argv[2], &end, 10)) < 0 || *end || end == argv[2])) {
        fprintf(stderr, "xhv vcpu-pin: invalid vCPU '%s' (a number or all)\n", argv[2]);
        return 1;
    }
    if (xl_ctx_open(&ctx, "vcpu-pin", false))
        return 1;
    if (host_cpus(&ctx, &nr_cpus) || xl_find_domain(&ctx, argv[1], &domid) ||
        parse_cpus(argv[3], hard, nr_cpus) || (argc == 5 && parse_cpus(argv[4], soft, nr_cpus)))
        goto out;
    if (xc_domain_getinfo_single(ctx.xch, domid, &d) < 0) {
        xl_perror(&ctx, "cannot get domain info");
        goto out;
    }
    if (vcpu > (long)d.max_vcpu_id || d.max_vcpu_id == (uint32_t)~0u) {
        fprintf(stderr, "xhv vcpu-pin: domain %u has no vCPU %ld\n", domid, vcpu);
        goto out;
    }
    rc = 0;
    for (long v = vcpu < 0 ? 0 : vcpu; v <= (vcpu < 0 ? (long)d.max_vcpu_id : vcpu); v++)
        if (pin(&ctx, domid, (int)v, hard, argc == 5 ? soft : NULL, nr_cpus))
            rc = 1;
out:
    xl_ctx_close(&ctx);
    return rc;
}
