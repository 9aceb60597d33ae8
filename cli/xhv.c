/* xhv.c: the `xhv` command line: a table of verbs, --help, and dispatch. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/xhv.h"
#include "core/core.h"

static const struct xhv_cmd cmds[] = {
    {"run", cmd_run,
     "run [--memory MiB] [--vcpus N] [--cmdline S] [--module FILE] [-v] [--stats] KERNEL",
     "boot one PVH domain in this process until it shuts down"},
    {"version", cmd_version, "version", "print xhv's version and the Xen ABI it speaks"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: xhv COMMAND [ARGS]\n\n"
               "xhv runs Xen PVH guests on Linux KVM, speaking the Xen hypercall ABI.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(f, "  %-9s %s\n            xhv %s\n", cmds[i].name, cmds[i].help, cmds[i].usage);
    fprintf(f, "\n`xhv run` exit status: 0 poweroff, 1 xhv error, 2 crash, 3 reboot, 4 suspend,\n"
               "5 watchdog, 6 soft_reset.\n");
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a closed terminal or pipe must not kill the guests */
    for (int i = 0, n = 0; i < argc && n < (int)sizeof(xhv_cmdline) - 1; i++)
        n += snprintf(xhv_cmdline + n, sizeof(xhv_cmdline) - (size_t)n, "%s%s", i ? " " : "",
                      argv[i]);
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
