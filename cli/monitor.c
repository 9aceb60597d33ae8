/* monitor.c: xl's per-domain background process: waits for the domain to shut down and applies
 * the config's on_poweroff / on_reboot / on_crash / ... action (xl_vmcontrol.c's
 * handle_domain_death() and preserve_domain()). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/build.h"
#include "cli/ctl.h"
#include "core/core.h"
#include "xenstore/xs_client.h"

#define POLL_NS 100000000L            /* getdomaininfo every 100 ms */
#define FAST_RESTART_NS 1000000000ULL /* a domain that lived less than this is restarted late */

enum outcome { MON_EXIT, MON_WATCH }; /* stop, or watch m->domid again */

/* SIGTERM / SIGINT: stop watching (between polls, or after a rebuild in progress). */
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct mon {
    struct xl_ctx ctx;
    struct xl_config c;
    uint32_t domid;
    uint64_t born_ns; /* when the watched incarnation was built */
};

static void mlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mlog(const char *fmt, ...)
{
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    va_list ap;
    strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
    fprintf(stderr, "%s xhv-monitor[%d]: ", ts, (int)getpid());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Detach from the terminal: stdin /dev/null, stdout+stderr to the log (xl's daemonize()). */
static void daemonize(const struct xl_config *c)
{
    char sock[4096], log[4200];
    int fd = open("/dev/null", O_RDWR);
    snprintf(sock, sizeof(sock), "%s", xl_socket_path());
    snprintf(log, sizeof(log), "%s/xl-%s.log", dirname(sock), c->name);
    int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(lfd >= 0 ? lfd : fd, STDOUT_FILENO);
        dup2(lfd >= 0 ? lfd : fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    if (lfd > STDERR_FILENO)
        close(lfd);
    setvbuf(stderr, NULL, _IOLBF, 0);
    setsid();
    if (chdir("/") < 0)
        mlog("cannot chdir to /: %s", strerror(errno));
}

static enum xl_action action_for(const struct xl_config *c, unsigned reason)
{
    switch (reason) {
    case SHUTDOWN_poweroff:
        return c->on_poweroff;
    case SHUTDOWN_reboot:
        return c->on_reboot;
    case SHUTDOWN_crash:
        return c->on_crash;
    case SHUTDOWN_watchdog:
        return c->on_watchdog;
    case SHUTDOWN_soft_reset:
        return c->on_soft_reset;
    default:
        mlog("unknown shutdown reason code %u: destroying the domain", reason);
        return XL_ACTION_DESTROY;
    }
}

/* libxl_domain_preserve()'s new uuid, so that a config's fixed uuid can go to the new
 * incarnation: XEN_DOMCTL_setdomainhandle and the /vm/<uuid> entries moved. */
static int new_handle(struct mon *m, const char *name)
{
    char uuid[37], path[128], vm[64], old[64];
    xen_domain_handle_t h;
    xl_uuid_generate(h);
    xl_uuid_format(h, uuid);
    xl_uuid_format(m->c.uuid, old);
    snprintf(vm, sizeof(vm), "/vm/%s", uuid);
    if (xc_domain_sethandle(m->ctx.xch, m->domid, h) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/uuid", vm);
    xs_write(m->ctx.xsh, XBT_NULL, path, uuid, (unsigned)strlen(uuid));
    snprintf(path, sizeof(path), "%s/name", vm);
    xs_write(m->ctx.xsh, XBT_NULL, path, name, (unsigned)strlen(name));
    snprintf(path, sizeof(path), "/local/domain/%u/vm", m->domid);
    xs_write(m->ctx.xsh, XBT_NULL, path, vm, (unsigned)strlen(vm));
    snprintf(path, sizeof(path), "/vm/%s", old);
    xs_rm(m->ctx.xsh, XBT_NULL, path);
    return 0;
}

/* preserve_domain(): keep the old domain under NAME-YYYYMMDDTHHMMZ with a new uuid. */
static int preserve(struct mon *m)
{
    char name[XL_NAME_MAX + 1], stamp[24];
    time_t now = time(NULL);
    struct tm tm;
    int lock, rc = -1;
    strftime(stamp, sizeof(stamp), "-%Y%m%dT%H%MZ", gmtime_r(&now, &tm));
    lock = xl_lock(&m->ctx);
    for (unsigned n = 1; n < 100 && rc; n++) { /* xl fails on a clash; we number it */
        if (n == 1)
            snprintf(name, sizeof(name), "%.40s%.15s", m->c.name, stamp);
        else
            snprintf(name, sizeof(name), "%.40s%.15s-%u", m->c.name, stamp, n);
        rc = xl_domain_rename(&m->ctx, m->domid, name);
        if (rc && errno != EEXIST)
            break;
    }
    xl_unlock(lock);
    if (rc) {
        mlog("cannot rename domain %u: %s", m->domid, strerror(errno));
        return -1;
    }
    if (m->c.uuid_set && new_handle(m, name))
        mlog("cannot give domain %u a new uuid: %s", m->domid, strerror(errno));
    mlog("preserving domain %u %s as %s", m->domid, m->c.name, name);
    return 0;
}

/* Destroy (unless preserved), then build a new incarnation from the same config. */
static enum outcome restart(struct mon *m, bool rename)
{
    char err[512];
    uint32_t old = m->domid;
    if (rename ? preserve(m) : xl_domain_destroy(&m->ctx, old)) {
        if (!rename)
            mlog("cannot destroy domain %u: %s", old, strerror(errno));
        return MON_EXIT;
    }
    if (now_ns() - m->born_ns < FAST_RESTART_NS) {
        const struct timespec delay = {1, 0}; /* xl sleeps before every restart; we only for */
        nanosleep(&delay, NULL);              /* a fast crash loop */
    }
    if (stop_requested)
        return MON_EXIT;
    if (xhv_build_domain(&m->ctx, &m->c, false, &m->domid, err, sizeof(err))) {
        mlog("cannot restart %s: %s", m->c.name, err);
        return MON_EXIT;
    }
    m->born_ns = now_ns();
    mlog("domain %s restarted: %u -> %u", m->c.name, old, m->domid);
    return MON_WATCH;
}

/* handle_domain_death(): apply the action for the shutdown reason. */
/* A rename since creation is kept across restarts (xl's reload_domain_config()). */
static void reload_name(struct mon *m)
{
    char *name = xl_domid_to_name(&m->ctx, m->domid);
    if (name && !xl_name_invalid(name) && strcmp(name, m->c.name)) {
        mlog("domain %u was renamed %s -> %s", m->domid, m->c.name, name);
        snprintf(m->c.name, sizeof(m->c.name), "%s", name);
    }
    free(name);
}

static enum outcome domain_died(struct mon *m, unsigned reason)
{
    enum xl_action a = action_for(&m->c, reason);
    reload_name(m);
    if (reason == SHUTDOWN_suspend) {
        mlog("domain %u has suspended", m->domid);
        return MON_EXIT;
    }
    mlog("domain %u shut down (reason code %u): action %s", m->domid, reason, xl_action_name(a));
    switch (a) {
    case XL_ACTION_PRESERVE:
        return MON_EXIT;
    case XL_ACTION_DESTROY:
        if (xl_domain_destroy(&m->ctx, m->domid) < 0 && errno != ESRCH)
            mlog("cannot destroy domain %u: %s", m->domid, strerror(errno));
        return MON_EXIT;
    case XL_ACTION_RESTART:
        return restart(m, false);
    case XL_ACTION_RENAME_RESTART:
        return restart(m, true);
    }
    return MON_EXIT;
}

/* Poll until the domain shuts down or goes away (or is replaced by another with its id). */
static enum outcome watch(struct mon *m)
{
    const struct timespec poll = {0, POLL_NS};
    xc_domaininfo_t info;
    while (!stop_requested) {
        if (xc_domain_getinfo_single(m->ctx.xch, m->domid, &info) < 0) {
            if (errno == ESRCH)
                mlog("domain %u has been destroyed", m->domid);
            else
                mlog("lost domain %u: %s%s", m->domid, strerror(errno),
                     xl_errno_disconnected(errno) ? " (xhvd went away)" : "");
            return MON_EXIT;
        }
        if (memcmp(info.handle, m->c.uuid, sizeof(info.handle))) {
            mlog("domain %u has been destroyed (its id was reused)", m->domid);
            return MON_EXIT;
        }
        if ((info.flags & XEN_DOMINF_shutdown) && !(info.flags & XEN_DOMINF_dying))
            return domain_died(m,
                               (info.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask);
        nanosleep(&poll, NULL);
    }
    mlog("stopped by a signal: no longer watching domain %u", m->domid);
    return MON_EXIT;
}

static void monitor_main(struct mon *m)
{
    struct sigaction sa = {.sa_handler = on_stop, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    daemonize(&m->c);
    if (xl_ctx_open(&m->ctx, "monitor", true)) {
        mlog("cannot connect to xhvd: not watching domain %u", m->domid);
        return;
    }
    mlog("watching domain %u (%s)", m->domid, m->c.name);
    m->born_ns = now_ns();
    while (watch(m) == MON_WATCH)
        ;
    xl_ctx_close(&m->ctx);
}

int xhv_monitor_spawn(const struct xl_config *c, uint32_t domid)
{
    pid_t pid;
    int st;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (fork() == 0) { /* the grandchild is the monitor: nobody's child */
            struct mon m = {.c = *c, .domid = domid};
            monitor_main(&m);
            _exit(0);
        }
        _exit(0);
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return 0;
}
