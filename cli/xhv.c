/* xhv.c: the `xhv` command line: a table of verbs, --help, --socket, dispatch, and the
 * toolstack context (daemon and xenstore connections, domain names) the xl verbs share. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli/ctl.h"
#include "cli/xhv.h"
#include "core/core.h"
#include "proto/foreignmemory.h"
#include "proto/xencall.h"
#include "xenstore/xs_client.h"

static const struct xhv_cmd cmds[] = {
    {"run", cmd_run,
     "run [--memory MiB] [--vcpus N] [--cmdline S] [--module FILE] [-v] [--stats] "
     "[--privileged] KERNEL",
     "boot one PVH domain in this process until it shuts down (no daemon)"},
    {"create", cmd_create, "create CFG [-c] [-p] [-q] [-e] [-n] [KEY=VALUE ...]",
     "create a domain from an xl.cfg file through xhvd (-c: follow its console, -p: paused)"},
    {"list", cmd_list, "list [-l|--long] [--json] [DOM ...]",
     "list domains (-l / --json: config and state as JSON)"},
    {"destroy", cmd_destroy, "destroy DOM", "terminate a domain at once"},
    {"shutdown", cmd_shutdown, "shutdown [-w] DOM",
     "ask a domain to power off (-w: wait until it has shut down)"},
    {"reboot", cmd_reboot, "reboot [-w] DOM", "ask a domain to reboot (-w: wait)"},
    {"pause", cmd_pause, "pause DOM", "pause a domain"},
    {"unpause", cmd_unpause, "unpause DOM", "unpause a paused domain"},
    {"console", cmd_console, "console DOM",
     "print a domain's console until it shuts down or goes away"},
    {"dmesg", cmd_dmesg, "dmesg [-c]", "print xhvd's log (-c: and clear it)"},
    {"debug-keys", cmd_debug_keys, "debug-keys KEYS",
     "send debug keys to xhv (h: list them, q: dump domains and raise VIRQ_DEBUG; output in "
     "dmesg)"},
    {"info", cmd_info, "info [FIELD]", "print host and hypervisor information"},
    {"vcpu-list", cmd_vcpu_list, "vcpu-list [DOM ...]", "list the vCPUs of domains"},
    {"vcpu-pin", cmd_vcpu_pin, "vcpu-pin DOM VCPU|all CPUS",
     "pin vCPUs to host CPUs (CPUS: all, 0-1, 0,2 ...)"},
    {"domid", cmd_domid, "domid NAME", "print the id of a domain"},
    {"domname", cmd_domname, "domname ID", "print the name of a domain"},
    {"rename", cmd_rename, "rename DOM NEWNAME", "rename a domain"},
    {"version", cmd_version, "version", "print xhv's version and the Xen ABI it speaks"},
};

const char *xhv_socket_opt;

static void usage(FILE *f)
{
    fprintf(f, "usage: xhv [--socket PATH] COMMAND [ARGS]\n\n"
               "xhv runs Xen PVH guests on Linux KVM, speaking the Xen hypercall ABI.\n"
               "DOM is a domain name or id. The xl verbs talk to xhvd at --socket PATH,\n"
               "else $XHV_SOCKET, else " XHV_DEFAULT_SOCKET ".\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(f, "  %-9s %s\n            xhv %s\n", cmds[i].name, cmds[i].help, cmds[i].usage);
    fprintf(f, "\n`xhv run` exit status: 0 poweroff, 1 xhv error, 2 crash, 3 reboot, 4 suspend,\n"
               "5 watchdog, 6 soft_reset. The other commands: 0 success, 1 failure.\n");
}

/* Take "--socket PATH" / "--socket=PATH" out of argv, wherever it is. -1 if PATH is missing. */
static int strip_socket_opt(int *argc, char **argv)
{
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        if (!strcmp(argv[i], "--")) { /* the rest belongs to the verb */
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (!strcmp(argv[i], "--socket")) {
            if (i + 1 >= *argc)
                return -1;
            xhv_socket_opt = argv[++i];
        } else if (!strncmp(argv[i], "--socket=", 9)) {
            xhv_socket_opt = argv[i] + 9;
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a closed terminal or pipe must not kill the guests */
    xhv_set_cmdline(argc, argv);
    if (strip_socket_opt(&argc, argv)) {
        fprintf(stderr, "xhv: --socket needs a PATH\n");
        return 1;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "xhv: unknown command '%s' (see xhv --help)\n", argv[1]);
    return 1;
}

/* ---- the toolstack context ---- */

const char *xl_socket_path(void)
{
    const char *env = getenv("XHV_SOCKET");
    return xhv_socket_opt ? xhv_socket_opt : env && *env ? env : XHV_DEFAULT_SOCKET;
}

bool xl_errno_disconnected(int e)
{
    return e == EPIPE || e == ECONNRESET || e == ENOTCONN || e == ECONNREFUSED;
}

void xl_perror(const struct xl_ctx *ctx, const char *what)
{
    int e = errno;
    const char *hint = "";
    if (e == EPERM || e == EACCES)
        hint = " (xhvd refused: only the control domain's tools may do this)";
    else if (xl_errno_disconnected(e))
        hint = " (lost the connection to xhvd: did it exit?)";
    fprintf(stderr, "xhv %s: %s: %s%s\n", ctx->verb, what, strerror(e), hint);
}

static struct xs_handle *open_store(void)
{
    char path[4096];
    if (!xhv_socket_opt)
        return xs_open(0);
    snprintf(path, sizeof(path), "%s.xs", xhv_socket_opt);
    return xhv_xs_open_path(path);
}

int xl_ctx_open(struct xl_ctx *ctx, const char *verb, bool need_xs)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->verb = verb;
    ctx->sock = xl_socket_path();
    if (!(ctx->xch = xhv_xc_open(xhv_socket_opt))) {
        if (errno == EACCES || errno == EPERM)
            fprintf(stderr,
                    "xhv %s: cannot connect to xhvd at %s: permission denied (xhvd "
                    "serves root only)\n",
                    verb, ctx->sock);
        else
            fprintf(stderr, "xhv %s: cannot connect to xhvd at %s: is it running? (%s)\n", verb,
                    ctx->sock, strerror(errno));
        return -1;
    }
    ctx->xsh = open_store();
    if (!ctx->xsh && need_xs) {
        fprintf(stderr, "xhv %s: cannot connect to xhvd's xenstore (%s.xs): %s\n", verb, ctx->sock,
                strerror(errno));
        xl_ctx_close(ctx);
        return -1;
    }
    return 0;
}

void xl_ctx_close(struct xl_ctx *ctx)
{
    if (ctx->fmem)
        xenforeignmemory_close(ctx->fmem);
    if (ctx->xsh)
        xs_close(ctx->xsh);
    if (ctx->xch)
        xc_interface_close(ctx->xch);
    ctx->fmem = NULL, ctx->xsh = NULL, ctx->xch = NULL;
}

xenforeignmemory_handle *xl_ctx_fmem(struct xl_ctx *ctx)
{
    if (!ctx->fmem)
        ctx->fmem = xhv_socket_opt ? xhv_foreignmemory_open_path(xhv_socket_opt)
                                   : xenforeignmemory_open(NULL, 0);
    return ctx->fmem;
}

/* ---- names ---- */

static char *xs_read_str(struct xl_ctx *ctx, const char *fmt, unsigned domid, const char *leaf)
{
    char path[256];
    unsigned len;
    if (!ctx->xsh)
        return NULL;
    snprintf(path, sizeof(path), fmt, domid, leaf);
    return xs_read(ctx->xsh, XBT_NULL, path, &len);
}

char *xl_domid_to_name(struct xl_ctx *ctx, uint32_t domid)
{
    char *n = xs_read_str(ctx, "/local/domain/%u/%s", domid, "name");
    return n ? n : domid == 0 ? strdup("Domain-0") : NULL;
}

/* libxl_name_to_domid(): look at every live domain's name (O(domains) store reads). */
static int name_scan(struct xl_ctx *ctx, const char *name, uint32_t *domid)
{
    xc_domaininfo_t info[64];
    uint32_t first = 0;
    int n;
    while ((n = xc_domain_getinfolist(ctx->xch, first, 64, info)) > 0) {
        for (int i = 0; i < n; i++) {
            char *dn = xl_domid_to_name(ctx, info[i].domain);
            bool match = dn && !strcmp(dn, name);
            free(dn);
            if (match) {
                *domid = info[i].domain;
                return 0;
            }
        }
        first = info[n - 1].domain + 1u;
    }
    return -1;
}

/*
 * xhv's name index, /xhv/names/<name> = domid, kept by xhv's builder, rename and destroy so
 * that name checks do not read every domain's name (libxl's way, which makes creation
 * O(domains)). An entry counts only if that domain exists and still has that name. Names
 * with characters a xenstore path cannot hold are not indexed.
 */
static bool name_indexable(const char *name)
{
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_@") ==
           strlen(name);
}

static int index_lookup(struct xl_ctx *ctx, const char *name, uint32_t *domid)
{
    char path[128], *v, *dn, *end;
    unsigned len;
    xc_domaininfo_t info;
    bool hit = false;
    snprintf(path, sizeof(path), "/xhv/names/%s", name);
    if (!ctx->xsh || !(v = xs_read(ctx->xsh, XBT_NULL, path, &len)))
        return -1;
    unsigned long id = strtoul(v, &end, 10);
    if (*v && !*end && id < DOMID_FIRST_RESERVED && (dn = xl_domid_to_name(ctx, (uint32_t)id))) {
        hit = !strcmp(dn, name) && xc_domain_getinfo_single(ctx->xch, (uint32_t)id, &info) == 0;
        free(dn);
    }
    free(v);
    if (hit)
        *domid = (uint32_t)id;
    return hit ? 0 : -1;
}

void xl_name_index_set(struct xl_ctx *ctx, const char *name, uint32_t domid)
{
    char path[128], v[16];
    if (!ctx->xsh || !name_indexable(name))
        return;
    snprintf(path, sizeof(path), "/xhv/names/%s", name);
    snprintf(v, sizeof(v), "%u", domid);
    xs_write(ctx->xsh, XBT_NULL, path, v, (unsigned)strlen(v));
}

/* Remove name's entry if it is domid's. */
static void index_clear(struct xl_ctx *ctx, const char *name, uint32_t domid)
{
    char path[128], *v;
    unsigned len;
    if (!ctx->xsh || !name_indexable(name))
        return;
    snprintf(path, sizeof(path), "/xhv/names/%s", name);
    if ((v = xs_read(ctx->xsh, XBT_NULL, path, &len)) && strtoul(v, NULL, 10) == domid)
        xs_rm(ctx->xsh, XBT_NULL, path);
    free(v);
}

int xl_read_file(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc(n ? (size_t)n : 1)) && fread(b, 1, (size_t)n, f) == (size_t)n) {
        fclose(f);
        *buf = b, *len = (size_t)n;
        return 0;
    }
    int e = errno ? errno : EIO;
    free(b);
    if (f)
        fclose(f);
    return e;
}

int xl_name_to_domid(struct xl_ctx *ctx, const char *name, uint32_t *domid)
{
    return index_lookup(ctx, name, domid) == 0 ? 0 : name_scan(ctx, name, domid);
}

int xl_name_in_use(struct xl_ctx *ctx, const char *name, uint32_t *domid)
{
    return name_indexable(name) ? index_lookup(ctx, name, domid) : name_scan(ctx, name, domid);
}

int xl_find_domain(struct xl_ctx *ctx, const char *dom, uint32_t *domid)
{
    char *end;
    xc_domaininfo_t info;
    unsigned long id = strtoul(dom, &end, 10);
    if (*dom && !*end && strspn(dom, "0123456789") == strlen(dom)) {
        if (id < DOMID_FIRST_RESERVED && xc_domain_getinfo_single(ctx->xch, id, &info) == 0) {
            *domid = (uint32_t)id;
            return 0;
        }
        if (id < DOMID_FIRST_RESERVED && errno != ESRCH) {
            xl_perror(ctx, "cannot get domain info");
            return -1;
        }
    } else if (xl_name_to_domid(ctx, dom, domid) == 0) {
        return 0;
    }
    fprintf(stderr, "xhv %s: domain '%s' does not exist\n", ctx->verb, dom);
    return -1;
}

/* ---- lock, rename, destroy ---- */

int xl_lock(const struct xl_ctx *ctx)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s.lock", ctx->sock);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
            ;
    return fd;
}

void xl_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* drops the flock */
}

static bool xs_write_str(struct xl_ctx *ctx, const char *path, const char *v)
{
    return xs_write(ctx->xsh, XBT_NULL, path, v, (unsigned)strlen(v));
}

int xl_domain_rename(struct xl_ctx *ctx, uint32_t domid, const char *name)
{
    char path[256];
    uint32_t other;
    char *vm;
    if (!ctx->xsh) {
        errno = ENOTCONN;
        return -1;
    }
    if (xl_name_in_use(ctx, name, &other) == 0) {
        errno = other == domid ? 0 : EEXIST;
        return other == domid ? 0 : -1;
    }
    char *old = xl_domid_to_name(ctx, domid);
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    if (!xs_write_str(ctx, path, name)) {
        free(old);
        return -1;
    }
    if (old)
        index_clear(ctx, old, domid);
    free(old);
    xl_name_index_set(ctx, name, domid);
    if ((vm = xs_read_str(ctx, "/local/domain/%u/%s", domid, "vm"))) {
        snprintf(path, sizeof(path), "%s/name", vm);
        xs_write_str(ctx, path, name);
        free(vm);
    }
    return 0;
}

void xl_domain_forget(struct xl_ctx *ctx, uint32_t domid)
{
    char path[256];
    char *vm;
    if (!ctx->xsh)
        return;
    if ((vm = xs_read_str(ctx, "/local/domain/%u/%s", domid, "name"))) {
        index_clear(ctx, vm, domid);
        free(vm);
    }
    if ((vm = xs_read_str(ctx, "/local/domain/%u/%s", domid, "vm"))) {
        if (!strncmp(vm, "/vm/", 4) && !strchr(vm + 4, '/'))
            xs_rm(ctx->xsh, XBT_NULL, vm);
        free(vm);
    }
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    xs_rm(ctx->xsh, XBT_NULL, path);
    snprintf(path, sizeof(path), "/libxl/%u", domid);
    xs_rm(ctx->xsh, XBT_NULL, path);
}

int xl_domain_destroy(struct xl_ctx *ctx, uint32_t domid)
{
    if (xc_domain_destroy(ctx->xch, domid) < 0)
        return -1;
    xl_domain_forget(ctx, domid);
    return 0;
}
