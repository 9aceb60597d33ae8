/* cmd_console.c: `xhv console DOM` and `xhv create -c`: print a domain's console log as it
 * grows, read from xhvd with CONSOLE_READ, until the domain shuts down or goes away. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/ctl.h"
#include "cli/xhv.h"
#include "proto/xhv_proto.h"

/* Poll fast at first (the first line is what people wait for), then back off when idle. */
#define POLL_FAST_NS 1000000L  /* 1 ms */
#define POLL_SLOW_NS 20000000L /* 20 ms */
#define FAST_POLLS 200

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

/* Read what is new since *index and print it. Bytes printed, or -1 with errno. */
static ssize_t console_drain(struct xl_ctx *ctx, uint32_t domid, uint64_t *index)
{
    static char buf[XHV_CONSOLE_MAX];
    ssize_t total = 0, n;
    uint64_t lost = 0;
    do {
        n = xhv_console_read(xhv_xc_xcall(ctx->xch), (uint16_t)domid, index, buf, sizeof(buf),
                             &lost);
        if (n < 0)
            return -1;
        if (lost)
            fprintf(stderr, "\n[xhv console: %llu bytes lost]\n", (unsigned long long)lost);
        if (n > 0 && write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
            return -1;
        total += n;
    } while (n == (ssize_t)sizeof(buf));
    return total;
}

/* Is the domain still running (not shut down, not gone)? -1 on a transport error. */
static int domain_alive(struct xl_ctx *ctx, uint32_t domid)
{
    xc_domaininfo_t info;
    if (xc_domain_getinfo_single(ctx->xch, domid, &info) < 0)
        return errno == ESRCH ? 0 : -1;
    return !(info.flags & (XEN_DOMINF_shutdown | XEN_DOMINF_dying));
}

int xl_console_follow(struct xl_ctx *ctx, uint32_t domid)
{
    uint64_t index = 0;
    unsigned polls = 0;
    for (;;) {
        /* Look at the state first: output written before a shutdown is still drained. */
        int alive = domain_alive(ctx, domid);
        ssize_t n = alive < 0 ? -1 : console_drain(ctx, domid, &index);
        if (n < 0 && errno == ESRCH)
            return 0;
        if (alive < 0 || n < 0) {
            xl_perror(ctx, "cannot read the console");
            return -1;
        }
        if (!alive)
            return 0;
        polls = n > 0 ? 0 : polls + 1;
        struct timespec ts = {0, polls < FAST_POLLS ? POLL_FAST_NS : POLL_SLOW_NS};
        nanosleep(&ts, NULL);
    }
}

int cmd_console(int argc, char **argv)
{
    static const struct option lo[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    struct xl_ctx ctx;
    uint32_t domid;
    int c, rc = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1)
        if (c == 'h' || c == '?')
            goto usage;
    if (optind != argc - 1)
        goto usage;
    if (xl_ctx_open(&ctx, "console", false))
        return 1;
    if (xl_find_domain(&ctx, argv[optind], &domid) == 0)
        rc = xl_console_follow(&ctx, domid) ? 1 : 0;
    xl_ctx_close(&ctx);
    return rc;
usage:
    fprintf(stderr, "usage: xhv console DOM\n");
    return 1;
}
