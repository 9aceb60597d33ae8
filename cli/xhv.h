/* xhv.h: the `xhv` command table shared by the cmd_<verb>.c files. */
#ifndef XHV_CLI_H
#define XHV_CLI_H

struct xhv_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
    const char *help;
};

int cmd_run(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* Exit statuses of `xhv run`: how the domain ended. */
enum xhv_exit {
    XHV_EXIT_POWEROFF = 0,
    XHV_EXIT_ERROR = 1, /* xhv itself failed: bad arguments, no KVM, bad image */
    XHV_EXIT_CRASH = 2, /* SHUTDOWN_crash, triple fault, unrecoverable exit */
    XHV_EXIT_REBOOT = 3,
    XHV_EXIT_SUSPEND = 4,
    XHV_EXIT_WATCHDOG = 5,
    XHV_EXIT_SOFT_RESET = 6,
};

#endif
