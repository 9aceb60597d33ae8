/* cmd_run.c: `xhv run`: embedded mode, one domain in this process, no daemon. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/xhv.h"
#include "core/accel.h"
#include "core/compat.h"
#include "core/core.h"
#include "kvm/kvm.h"

#include <xen/domctl.h> /* after core.h: it needs __XEN_TOOLS__ */
#include "loader/domain_build.h"

struct run_opts {
    unsigned long mem_mib, vcpus;
    const char *cmdline, *module, *kernel;
    bool stats, privileged;
};

/* Read a whole file; NULL with a one-line message on failure. */
static uint8_t *read_file(const char *path, size_t *len, const char *what)
{
    uint8_t *buf;
    int e = xl_read_file(path, &buf, len);
    if (e) {
        fprintf(stderr, "xhv: cannot read %s %s: %s\n", what, path, strerror(e));
        return NULL;
    }
    return buf;
}

static int parse_num(const char *s, unsigned long lo, unsigned long hi, const char *what,
                     unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "xhv run: bad %s '%s' (expected %lu..%lu)\n", what, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
    static const struct option lo[] = {
        {"memory", required_argument, 0, 'm'},
        {"vcpus", required_argument, 0, 'c'},
        {"cmdline", required_argument, 0, 'C'},
        {"module", required_argument, 0, 'M'},
        {"verbose", no_argument, 0, 'v'},
        {"stats", no_argument, 0, 's'},
        {"privileged", no_argument, 0, 'P'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    *o = (struct run_opts){.mem_mib = 128, .vcpus = 1};
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:c:C:M:vsPh", lo, NULL)) != -1) {
        if ((c == 'm' && parse_num(optarg, 2, 1ul << 20, "--memory", &o->mem_mib)) ||
            (c == 'c' && parse_num(optarg, 1, XHV_MAX_VCPUS, "--vcpus", &o->vcpus)))
            return -1;
        if (c == 'C')
            o->cmdline = optarg;
        else if (c == 'M')
            o->module = optarg;
        else if (c == 'v')
            xhv_log_level = xhv_log_level < LOG_INFO ? LOG_INFO : LOG_DEBUG;
        else if (c == 's')
            o->stats = true;
        else if (c == 'P')
            o->privileged = true;
        else if (c == 'h' || c == '?')
            return -1;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: xhv run [--memory MiB] [--vcpus N] [--cmdline S] "
                        "[--module FILE] [-v] [--stats] [--privileged] KERNEL\n");
        return -1;
    }
    o->kernel = argv[optind];
    return 0;
}

static int exit_status(int code)
{
    switch (code) {
    case SHUTDOWN_poweroff:
        return XHV_EXIT_POWEROFF;
    case SHUTDOWN_reboot:
        return XHV_EXIT_REBOOT;
    case SHUTDOWN_suspend:
        return XHV_EXIT_SUSPEND;
    case SHUTDOWN_watchdog:
        return XHV_EXIT_WATCHDOG;
    case SHUTDOWN_soft_reset:
        return XHV_EXIT_SOFT_RESET;
    default:
        return XHV_EXIT_CRASH;
    }
}

static const char *shutdown_name(int code)
{
    static const char *const n[] = {"poweroff", "reboot",   "suspend",
                                    "crash",    "watchdog", "soft_reset"};
    return code >= 0 && code <= SHUTDOWN_MAX ? n[code] : "unknown";
}

/* Terminal input for CONSOLEIO_read. */
static void *stdin_pump(void *arg)
{
    struct domain *d = arg;
    char buf[256];
    ssize_t n;
    while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
        console_input(d, buf, (size_t)n);
    return NULL;
}

static struct domain *run_create(const struct run_opts *o, const struct pvh_build_args *a)
{
    char err[256];
    int rc;
    const char *base = strrchr(o->kernel, '/');
    struct domain_config cfg = {
        .mem_bytes = (uint64_t)o->mem_mib << 20,
        .max_vcpus = (unsigned)o->vcpus,
        .console_terminal = true,
        .name = base ? base + 1 : o->kernel,
        .ssidref = o->privileged ? XHV_SSIDREF_CONTROL : XHV_SSIDREF_DOMU,
        .cdf_flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap, /* a PVH domain */
    };
    struct domain *d = domain_create(0, &cfg, &kvm_accel_ops, &rc);
    if (!d) {
        fprintf(stderr, "xhv: cannot create the domain (Xen error %d)\n", rc);
        return NULL;
    }
    d->stats_on = o->stats;
    if (pvh_build_domain(d, a, err, sizeof(err))) {
        fprintf(stderr, "xhv: %s: %s\n", o->kernel, err);
        domain_destroy(d);
        return NULL;
    }
    return d;
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    struct pvh_build_args a = {0};
    char err[256];
    pthread_t pump;
    int status = XHV_EXIT_ERROR;
    uint8_t *kernel = NULL, *module = NULL;
    if (parse_opts(argc, argv, &o) || compat_selfcheck())
        return XHV_EXIT_ERROR;
    if (kvm_probe(err, sizeof(err))) {
        fprintf(stderr, "xhv: %s\n", err);
        return XHV_EXIT_ERROR;
    }
    xhv_accel = &kvm_accel_ops; /* domains a --privileged guest creates run on KVM too */
    if (!(kernel = read_file(o.kernel, &a.kernel_len, "kernel")) ||
        (o.module && !(module = read_file(o.module, &a.module_len, "module"))))
        goto out;
    a.kernel = kernel, a.module = module, a.cmdline = o.cmdline;
    struct domain *d = run_create(&o, &a);
    if (!d)
        goto out;
    if (pthread_create(&pump, NULL, stdin_pump, d) == 0)
        pthread_detach(pump);
    if (domain_unpause(d) == 0) {
        int code = domain_wait_shutdown(d);
        console_flush(d);
        fprintf(stderr, "xhv: domain %u (%s) shut down: %s\n", d->domain_id, d->name,
                shutdown_name(code));
        status = exit_status(code);
    }
    if (o.stats)
        domain_stats_report(d, NULL, stderr);
    /* The stdin pump may still hold d: leave the domain to process exit. */
out:
    free(kernel);
    free(module);
    return status;
}
