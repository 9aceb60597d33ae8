/* cmd_info.c: `xhv info [FIELD]` (sysctl physinfo + xen_version, shaped like xl info) and
 * `xhv dmesg [-c]` (sysctl readconsole: xhvd's log ring), `xhv debug-keys KEYS`. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cli/ctl.h"
#include "cli/xhv.h"

static const char *info_name; /* xl info FIELD: print only that field's value */

/* xl_info.c maybe_printf(): "field : value" lines, or just the value of the chosen field. */
static void maybe_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void maybe_printf(const char *fmt, ...)
{
    char *str, *s;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&str, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (!info_name)
        fputs(str, stdout);
    else if (!strncmp(str, info_name, strlen(info_name)) && (s = strchr(str, ':')) && s[1] == ' ')
        fputs(s + 2, stdout);
    free(str);
}

static void output_nodeinfo(void)
{
    struct utsname u;
    if (uname(&u) < 0)
        return;
    maybe_printf("host                   : %s\n", u.nodename);
    maybe_printf("release                : %s\n", u.release);
    maybe_printf("version                : %s\n", u.version);
    maybe_printf("machine                : %s\n", u.machine);
}

static int output_physinfo(struct xl_ctx *ctx)
{
    xc_physinfo_t p;
    uint32_t c;
    if (xc_physinfo(ctx->xch, &p) < 0) {
        xl_perror(ctx, "physinfo");
        return -1;
    }
    c = p.capabilities;
    maybe_printf("nr_cpus                : %u\n", p.nr_cpus);
    maybe_printf("max_cpu_id             : %u\n", p.max_cpu_id);
    maybe_printf("nr_nodes               : %u\n", p.nr_nodes);
    maybe_printf("cores_per_socket       : %u\n", p.cores_per_socket);
    maybe_printf("threads_per_core       : %u\n", p.threads_per_core);
    maybe_printf("cpu_mhz                : %u.%03u\n", p.cpu_khz / 1000, p.cpu_khz % 1000);
    maybe_printf("hw_caps                : %08x:%08x:%08x:%08x:%08x:%08x:%08x:%08x\n", p.hw_cap[0],
                 p.hw_cap[1], p.hw_cap[2], p.hw_cap[3], p.hw_cap[4], p.hw_cap[5], p.hw_cap[6],
                 p.hw_cap[7]);
    maybe_printf("virt_caps              :%s%s%s%s%s%s%s%s%s\n",
                 c & XEN_SYSCTL_PHYSCAP_pv ? " pv" : "", c & XEN_SYSCTL_PHYSCAP_hvm ? " hvm" : "",
                 c & XEN_SYSCTL_PHYSCAP_directio ? " hvm_directio" : "",
                 c & XEN_SYSCTL_PHYSCAP_hap ? " hap" : "",
                 c & XEN_SYSCTL_PHYSCAP_shadow ? " shadow" : "",
                 c & XEN_SYSCTL_PHYSCAP_vmtrace ? " vmtrace" : "",
                 c & XEN_SYSCTL_PHYSCAP_vpmu ? " vpmu" : "",
                 c & XEN_SYSCTL_PHYSCAP_gnttab_v1 ? " gnttab-v1" : "",
                 c & XEN_SYSCTL_PHYSCAP_gnttab_v2 ? " gnttab-v2" : "");
    maybe_printf("total_memory           : %llu\n", (unsigned long long)p.total_pages / 256);
    maybe_printf("free_memory            : %llu\n",
                 (unsigned long long)(p.free_pages - p.outstanding_pages) / 256);
    maybe_printf("sharing_freed_memory   : 0\n");
    maybe_printf("sharing_used_memory    : 0\n");
    maybe_printf("outstanding_claims     : %llu\n", (unsigned long long)p.outstanding_pages / 256);
    return 0;
}

static const char *scheduler_name(int id)
{
    switch (id) {
    case XEN_SCHEDULER_CREDIT:
        return "credit";
    case XEN_SCHEDULER_CREDIT2:
        return "credit2";
    case XEN_SCHEDULER_ARINC653:
        return "arinc653";
    case XEN_SCHEDULER_RTDS:
        return "rtds";
    case XEN_SCHEDULER_NULL:
        return "null";
    default:
        return "unknown";
    }
}

static int output_xeninfo(struct xl_ctx *ctx)
{
    xen_extraversion_t extra = {0};
    xen_capabilities_info_t caps = {0};
    xen_changeset_info_t chg = {0};
    xen_commandline_t cmdline = {0};
    struct xen_compile_info ci = {0};
    struct xen_platform_parameters pp = {0};
    int ver = xc_version(ctx->xch, XENVER_version, NULL), sched = -1, page;
    if (ver < 0 || xc_version(ctx->xch, XENVER_extraversion, extra) < 0 ||
        xc_version(ctx->xch, XENVER_capabilities, caps) < 0) {
        xl_perror(ctx, "xen_version");
        return -1;
    }
    /* What the hypervisor does not answer prints empty, as libxl's version info would. */
    xc_version(ctx->xch, XENVER_changeset, chg);
    xc_version(ctx->xch, XENVER_commandline, cmdline);
    xc_version(ctx->xch, XENVER_compile_info, &ci);
    xc_version(ctx->xch, XENVER_platform_parameters, &pp);
    page = xc_version(ctx->xch, XENVER_pagesize, NULL);
    xc_sched_id(ctx->xch, &sched);
    maybe_printf("xen_major              : %d\n", ver >> 16);
    maybe_printf("xen_minor              : %d\n", ver & 0xffff);
    maybe_printf("xen_extra              : %.16s\n", extra);
    maybe_printf("xen_version            : %d.%d%.16s\n", ver >> 16, ver & 0xffff, extra);
    maybe_printf("xen_caps               : %.1024s\n", caps);
    maybe_printf("xen_scheduler          : %s\n", scheduler_name(sched));
    maybe_printf("xen_pagesize           : %d\n", page > 0 ? page : 4096);
    maybe_printf("platform_params        : virt_start=0x%llx\n", (unsigned long long)pp.virt_start);
    maybe_printf("xen_changeset          : %.64s\n", chg);
    maybe_printf("xen_commandline        : %.1024s\n", cmdline);
    maybe_printf("cc_compiler            : %.64s\n", ci.compiler);
    maybe_printf("cc_compile_by          : %.16s\n", ci.compile_by);
    maybe_printf("cc_compile_domain      : %.32s\n", ci.compile_domain);
    maybe_printf("cc_compile_date        : %.32s\n", ci.compile_date);
    return 0;
}

int cmd_info(int argc, char **argv)
{
    struct xl_ctx ctx;
    int rc;
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: xhv info [FIELD]\n");
        return 1;
    }
    info_name = argc == 2 ? argv[1] : NULL;
    if (xl_ctx_open(&ctx, "info", false))
        return 1;
    output_nodeinfo();
    rc = output_physinfo(&ctx) || output_xeninfo(&ctx);
    if (!rc)
        maybe_printf("xend_config_format     : 4\n");
    xl_ctx_close(&ctx);
    return rc ? 1 : 0;
}

/* libxl_xen_console_read_line(): incremental reads from index 0 until nothing is left. */
int cmd_dmesg(int argc, char **argv)
{
    static const struct option lo[] = {
        {"clear", no_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    static char buf[16384];
    struct xl_ctx ctx;
    uint32_t index = 0, prev;
    int c, clear = 0, rc = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ch", lo, NULL)) != -1) {
        if (c != 'c') {
            fprintf(stderr, "usage: xhv dmesg [-c]\n");
            return 1;
        }
        clear = 1;
    }
    if (optind != argc) {
        fprintf(stderr, "usage: xhv dmesg [-c]\n");
        return 1;
    }
    if (xl_ctx_open(&ctx, "dmesg", false))
        return 1;
    for (unsigned count = sizeof(buf);; count = sizeof(buf)) {
        prev = index;
        if (xc_readconsolering(ctx.xch, buf, &count, clear, 1, &index) < 0) {
            xl_perror(&ctx, "cannot read xhvd's log");
            rc = 1;
            break;
        }
        if (!count)
            break;
        fwrite(buf, 1, count, stdout);
        if (index == prev) /* not incremental: all of it came at once */
            break;
    }
    xl_ctx_close(&ctx);
    return rc;
}

/* xl debug-keys: one argument, every character a key; what the keys print is in dmesg. */
int cmd_debug_keys(int argc, char **argv)
{
    struct xl_ctx ctx;
    int rc = 0;
    if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fprintf(stderr, "usage: xhv debug-keys KEYS\n");
        return 1;
    }
    if (xl_ctx_open(&ctx, "debug-keys", false))
        return 1;
    if (xc_send_debug_keys(ctx.xch, argv[1]) < 0) {
        xl_perror(&ctx, "cannot send debug keys");
        rc = 1;
    }
    xl_ctx_close(&ctx);
    return rc;
}
