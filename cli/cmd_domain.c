/* cmd_domain.c: the lifecycle verbs `destroy`, `shutdown [-w]`, `reboot [-w]`, `pause`,
 * `unpause` (xl_vmcontrol.c's shapes: one line on error, exit status 1). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/ctl.h"
#include "cli/xhv.h"

enum dom_op { OP_DESTROY, OP_PAUSE, OP_UNPAUSE, OP_SHUTDOWN, OP_REBOOT };

static const char *const op_verb[] = {"destroy", "pause", "unpause", "shutdown", "reboot"};

static int do_op(struct xl_ctx *ctx, enum dom_op op, uint32_t domid)
{
    switch (op) {
    case OP_DESTROY:
        return xl_domain_destroy(ctx, domid);
    case OP_PAUSE:
        return xc_domain_pause(ctx->xch, domid);
    case OP_UNPAUSE:
        return xc_domain_unpause(ctx->xch, domid);
    case OP_SHUTDOWN:
        return xc_domain_shutdown(ctx->xch, domid, SHUTDOWN_poweroff);
    case OP_REBOOT:
        return xc_domain_shutdown(ctx->xch, domid, SHUTDOWN_reboot);
    }
    return -1;
}

/* xl's wait_for_domain_deaths(): until the domain has shut down or is gone. */
static int wait_shutdown(struct xl_ctx *ctx, uint32_t domid)
{
    const struct timespec poll = {0, 50000000L};
    xc_domaininfo_t info;
    fprintf(stderr, "Waiting for 1 domains\n");
    for (;;) {
        if (xc_domain_getinfo_single(ctx->xch, domid, &info) < 0) {
            if (errno != ESRCH) {
                xl_perror(ctx, "cannot get domain info");
                return 1;
            }
            fprintf(stderr, "Domain %u has been destroyed.\n", domid);
            return 0;
        }
        if (info.flags & XEN_DOMINF_shutdown) {
            fprintf(stderr, "Domain %u has been shut down, reason code %u\n", domid,
                    (info.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask);
            return 0;
        }
        nanosleep(&poll, NULL);
    }
}

static int apply(struct xl_ctx *ctx, enum dom_op op, uint32_t domid, bool wait)
{
    char what[64];
    if (domid == 0 && op != OP_UNPAUSE) {
        fprintf(stderr, "xhv %s: the control domain (0) cannot be %s\n", op_verb[op],
                op == OP_DESTROY ? "destroyed"
                : op == OP_PAUSE ? "paused"
                                 : "shut down");
        return 1;
    }
    if (op == OP_SHUTDOWN || op == OP_REBOOT)
        fprintf(stderr, "%s domain %u\n", op == OP_SHUTDOWN ? "Shutting down" : "Rebooting", domid);
    if (do_op(ctx, op, domid) < 0) {
        snprintf(what, sizeof(what), "cannot %s domain %u", op_verb[op], domid);
        xl_perror(ctx, what);
        return 1;
    }
    return wait ? wait_shutdown(ctx, domid) : 0;
}

static int domain_verb(int argc, char **argv, enum dom_op op)
{
    static const struct option lo[] = {
        {"wait", no_argument, 0, 'w'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    bool can_wait = op == OP_SHUTDOWN || op == OP_REBOOT, wait = false;
    struct xl_ctx ctx;
    uint32_t domid;
    int c, rc = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, can_wait ? "wh" : "h", lo, NULL)) != -1) {
        if (c != 'w' || !can_wait)
            goto usage;
        wait = true;
    }
    if (optind != argc - 1)
        goto usage;
    if (xl_ctx_open(&ctx, op_verb[op], op == OP_DESTROY))
        return 1;
    if (xl_find_domain(&ctx, argv[optind], &domid) == 0)
        rc = apply(&ctx, op, domid, wait);
    xl_ctx_close(&ctx);
    return rc;
usage:
    fprintf(stderr, "usage: xhv %s %sDOM\n", op_verb[op], can_wait ? "[-w] " : "");
    return 1;
}

int cmd_destroy(int argc, char **argv)
{
    return domain_verb(argc, argv, OP_DESTROY);
}

int cmd_pause(int argc, char **argv)
{
    return domain_verb(argc, argv, OP_PAUSE);
}

int cmd_unpause(int argc, char **argv)
{
    return domain_verb(argc, argv, OP_UNPAUSE);
}

int cmd_shutdown(int argc, char **argv)
{
    return domain_verb(argc, argv, OP_SHUTDOWN);
}

int cmd_reboot(int argc, char **argv)
{
    return domain_verb(argc, argv, OP_REBOOT);
}
