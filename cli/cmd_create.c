/* cmd_create.c: `xhv create CFG [-c] [-p] [-q] [-e] [-n] [KEY=VALUE ...]`, as xl create: parse
 * the xl.cfg, build the domain through xhvd, start its monitor, optionally follow its console. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/build.h"
#include "cli/xhv.h"
#include "cli/xlcfg.h"

struct create_opts {
    bool console, paused, quiet, no_monitor, dryrun;
    const char *file;
    char **overrides;
    int nr_overrides;
};

static void usage(void)
{
    fprintf(stderr,
            "usage: xhv create CFG [-c] [-p] [-q] [-e] [-n] [KEY=VALUE ...]\n"
            "  -c  follow the console until the domain shuts down\n"
            "  -p  leave the domain paused after it is built\n"
            "  -q  quiet\n"
            "  -e  no monitor: on_poweroff / on_reboot / on_crash actions are not applied\n"
            "  -n  dry run: parse the config and print it as JSON\n"
            "  KEY=VALUE  xl.cfg settings applied after the file (e.g. memory=64 'name=\"x\"')\n");
}

static int parse_opts(int argc, char **argv, struct create_opts *o)
{
    static const struct option lo[] = {
        {"quiet", no_argument, 0, 'q'},
        {"dryrun", no_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    memset(o, 0, sizeof(*o));
    optind = 1;
    while ((c = getopt_long(argc, argv, "cpqenhf:", lo, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->console = true;
            break;
        case 'p':
            o->paused = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'e':
            o->no_monitor = true;
            break;
        case 'n':
            o->dryrun = true;
            break;
        case 'f': /* xl create -f CFG */
            o->file = optarg;
            break;
        default:
            usage();
            return -1;
        }
    }
    if (!o->file && optind < argc && !strchr(argv[optind], '='))
        o->file = argv[optind++];
    for (int i = optind; i < argc; i++)
        if (!strchr(argv[i], '=')) {
            fprintf(stderr, "xhv create: '%s' is not a KEY=VALUE setting\n", argv[i]);
            return -1;
        }
    o->overrides = argv + optind, o->nr_overrides = argc - optind;
    if (!o->file) {
        usage();
        return -1;
    }
    return 0;
}

/* xl opens kernel and ramdisk relative to its working directory; the monitor, which may rebuild
 * the domain later, works from "/": keep the paths as absolute ones. */
static int absolutize(char **path)
{
    char buf[PATH_MAX], *abs;
    if (!*path || (*path)[0] == '/')
        return 0;
    if (!getcwd(buf, sizeof(buf)) || strlen(buf) + strlen(*path) + 2 > sizeof(buf)) {
        fprintf(stderr, "xhv create: cannot resolve %s against the working directory\n", *path);
        return -1;
    }
    if (asprintf(&abs, "%s/%s", buf, *path) < 0)
        return -1;
    free(*path);
    *path = abs;
    return 0;
}

static int follow(uint32_t domid)
{
    struct xl_ctx ctx;
    int rc;
    if (xl_ctx_open(&ctx, "create", false))
        return 1;
    rc = xl_console_follow(&ctx, domid);
    xl_ctx_close(&ctx);
    return rc ? 1 : 0;
}

int cmd_create(int argc, char **argv)
{
    struct create_opts o;
    struct xl_config c;
    struct xl_ctx ctx;
    char err[512];
    uint32_t domid;
    int rc;
    if (parse_opts(argc, argv, &o))
        return 1;
    if (!o.quiet)
        fprintf(stderr, "Parsing config from %s\n", o.file);
    if (xl_config_load(o.file, o.overrides, o.nr_overrides, &c, stderr))
        return 1;
    if (absolutize(&c.kernel) || absolutize(&c.ramdisk))
        goto fail;
    if (o.dryrun) {
        xl_config_json(&c, stdout, 0);
        fputc('\n', stdout);
        xl_config_free(&c);
        return 0;
    }
    if (xl_ctx_open(&ctx, "create", true))
        goto fail;
    rc = xhv_build_domain(&ctx, &c, o.paused, &domid, err, sizeof(err));
    xl_ctx_close(&ctx); /* the monitor must not share this process's connections */
    if (rc) {
        fprintf(stderr, "xhv create: %s\n", err);
        goto fail;
    }
    if (!o.no_monitor && xhv_monitor_spawn(&c, domid) < 0)
        fprintf(stderr, "xhv create: warning: cannot start the domain's monitor: %m\n");
    rc = o.console ? follow(domid) : 0;
    xl_config_free(&c);
    return rc;
fail:
    xl_config_free(&c);
    return 1;
}
