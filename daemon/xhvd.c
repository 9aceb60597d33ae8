/* xhvd.c: the xhv daemon: options, daemonizing, start-up checks, and orderly shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "daemon/xhvd.h"
#include "kvm/kvm.h"
#include "proto/xencall.h"

struct opts {
    const char *socket;
    bool foreground;
    int verbose;
};

/* Files next to the control socket. */
static char pid_path[128], xs_path[128]; /* the socket path is < 108 bytes */
static int pid_fd = -1;
static bool ctl_bound, xs_bound;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: xhvd [--foreground] [--socket PATH] [--stats] [-v]\n\n"
            "The xhv daemon: hosts domains and serves the control socket (default %s, or\n"
            "$XHV_SOCKET) and the xenstore socket PATH.xs. Only root and the daemon's user\n"
            "may connect. --foreground: stay attached and log to stderr; -v: more log (twice\n"
            "for debug). --stats: account xhv's host-side cost per exit and per hypercall of\n"
            "every domain, logged (xhv dmesg) when it is destroyed. SIGTERM or SIGINT destroys\n"
            "every domain and exits.\n",
            XHV_DEFAULT_SOCKET);
}

/* 0 to go on, 1/2 to exit with status 0/1 (help, bad usage). */
static int parse_args(int argc, char **argv, struct opts *o)
{
    const char *env = getenv("XHV_SOCKET");

    o->socket = env && *env ? env : XHV_DEFAULT_SOCKET;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--foreground") || !strcmp(argv[i], "-f")) {
            o->foreground = true;
        } else if (!strcmp(argv[i], "--stats")) {
            xhv_stats_default = true;
        } else if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
            o->socket = argv[++i];
        } else if (!strncmp(argv[i], "-v", 2) && strspn(argv[i] + 1, "v") == strlen(argv[i] + 1)) {
            o->verbose += (int)strlen(argv[i]) - 1;
        } else if (!strcmp(argv[i], "--verbose")) {
            o->verbose++;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 1;
        } else {
            fprintf(stderr, "xhvd: bad argument '%s' (see xhvd --help)\n", argv[i]);
            return 2;
        }
    }
    if (!*o->socket || strlen(o->socket) >= 108 /* sun_path */) {
        fprintf(stderr, "xhvd: bad socket path '%s'\n", o->socket);
        return 2;
    }
    return 0;
}

/* "<dir>/xhvd.sock" -> "<dir>/xhvd.pid"; anything else gets ".pid" appended. */
static void derive_paths(const char *sock)
{
    size_t n = strlen(sock);
    if (n > 5 && !strcmp(sock + n - 5, ".sock"))
        snprintf(pid_path, sizeof(pid_path), "%.*s.pid", (int)(n - 5), sock);
    else
        snprintf(pid_path, sizeof(pid_path), "%s.pid", sock);
    snprintf(xs_path, sizeof(xs_path), "%s.xs", sock);
}

/* Create the socket's directory if it is missing (one level, like /run/xhv). */
static void make_socket_dir(const char *sock)
{
    char dir[128];
    char *slash;
    snprintf(dir, sizeof(dir), "%s", sock);
    if ((slash = strrchr(dir, '/')) && slash != dir) {
        *slash = 0;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            xhv_log(LOG_WARN, "xhvd: cannot create %s: %s", dir, strerror(errno));
    }
}

/*
 * Daemonize: double fork and setsid. The original process waits on a pipe for the daemon's
 * verdict ("ok", or a one-line error it prints) so it returns only once the socket listens.
 * Returns -1 in the daemon (*notify: the pipe's write end), else the exit status of this
 * process (the intermediate child returns 0 at once).
 */
static int daemonize(int *notify)
{
    int p[2];
    pid_t pid;
    char msg[512];
    ssize_t n, got = 0;

    if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
        fprintf(stderr, "xhvd: cannot daemonize: %s\n", strerror(errno));
        return 1;
    }
    if (pid > 0) {
        close(p[1]);
        while ((n = read(p[0], msg + got, sizeof(msg) - 1 - (size_t)got)) > 0 ||
               (n < 0 && errno == EINTR))
            got += n > 0 ? n : 0;
        msg[got] = 0;
        waitpid(pid, NULL, 0);
        if (!strcmp(msg, "ok"))
            return 0;
        if (!got)
            snprintf(msg, sizeof(msg), "the daemon died during start-up");
        fprintf(stderr, "%s%s\n", strncmp(msg, "xhvd ", 5) ? "xhvd: " : "", msg);
        return 1;
    }
    close(p[0]);
    setsid();
    if ((pid = fork()) != 0)
        return pid < 0 ? 1 : 0;
    /* keep nothing of the caller's but stdio: a held pipe would make its reader wait forever */
    if (p[1] > 3)
        close_range(3, (unsigned)p[1] - 1, 0);
    close_range((unsigned)p[1] + 1, ~0u, 0);
    *notify = p[1];
    return -1;
}

static void stdio_to_null(void)
{
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

/* Signals: TERM/INT through the signalfd (blocked before any thread exists, so the vCPU
 * threads inherit the mask); a closed peer or terminal must not kill us. */
static void signals_setup(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
}

/* Hundreds of domains need thousands of descriptors (memfds, KVM fds, eventfds). */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            xhv_log(LOG_WARN, "xhvd: cannot raise RLIMIT_NOFILE: %s", strerror(errno));
    }
}

/* The pid file, locked for the daemon's lifetime: two daemons can never share a path. */
static int pidfile_lock(const char *sock, char *err, size_t errlen)
{
    pid_fd = open(pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (pid_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", pid_path, strerror(errno));
        return -1;
    }
    if (flock(pid_fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errlen, "xhvd already running at %s", sock);
        close(pid_fd);
        pid_fd = -1;
        return -1;
    }
    return 0;
}

static void pidfile_write(void)
{
    if (ftruncate(pid_fd, 0) == 0)
        dprintf(pid_fd, "%d\n", (int)getpid());
}

/* Everything before serving; -1 with a one-line reason in err. */
static int startup(const struct opts *o, char *err, size_t errlen)
{
    int ctl_fd, xs_fd = -1;

    signals_setup();
    raise_nofile();
    make_socket_dir(o->socket);
    if (pidfile_lock(o->socket, err, errlen) < 0)
        return -1;
    if (kvm_probe(err, errlen) < 0)
        return -1;
    xhv_accel = &kvm_accel_ops;
    if (!control_domain()) {
        snprintf(err, errlen, "cannot create the control domain");
        return -1;
    }
    if ((ctl_fd = server_listen(o->socket, err, errlen)) < 0)
        return -1;
    ctl_bound = true;
    if (xs_host_init()) {
        if ((xs_fd = server_listen(xs_path, err, errlen)) < 0)
            return -1;
        xs_bound = true;
    } else {
        xhv_log(LOG_WARN, "xhvd: no memory for the xenstore store: no socket at %s", xs_path);
    }
    if (server_init(ctl_fd, xs_fd, err, errlen) < 0)
        return -1;
    pidfile_write();
    return 0;
}

/* Remove what we created (only while we hold the pid file lock). */
static void cleanup_files(const struct opts *o)
{
    if (ctl_bound)
        unlink(o->socket);
    if (xs_bound)
        unlink(xs_path);
    if (pid_fd >= 0) {
        unlink(pid_path);
        close(pid_fd);
    }
}

int main(int argc, char **argv)
{
    struct opts o = {0};
    char err[512] = "";
    int notify = -1, rc, sig;

    xhv_set_cmdline(argc, argv);
    if ((rc = parse_args(argc, argv, &o)))
        return rc - 1;
    xhv_log_level = (o.foreground ? LOG_INFO : LOG_WARN) + o.verbose;
    if (xhv_log_level > LOG_DEBUG)
        xhv_log_level = LOG_DEBUG;
    derive_paths(o.socket);
    if (!o.foreground && (rc = daemonize(&notify)) >= 0)
        return rc;
    if (startup(&o, err, sizeof(err)) < 0) {
        if (notify < 0 || write(notify, err, strlen(err)) < 0)
            fprintf(stderr, "%s%s\n", strncmp(err, "xhvd ", 5) ? "xhvd: " : "", err);
        server_fini();
        cleanup_files(&o);
        return 1;
    }
    xhv_log(LOG_INFO, "xhvd: pid %d serving %s", (int)getpid(), o.socket);
    if (notify >= 0) {
        stdio_to_null();
        if (write(notify, "ok", 2) < 0)
            xhv_log(LOG_WARN, "xhvd: start-up notification lost");
        close(notify);
    }
    sig = server_run();
    xhv_log(LOG_INFO, "xhvd: shutting down: destroying every domain");
    server_fini();
    domain_destroy_all();
    cleanup_files(&o);
    return sig > 0 ? 0 : 1;
}
