/* idle: prints one line, then sleeps in SCHEDOP_block until the domain is destroyed or shut
 * down from outside (a long-lived guest for the control-plane tests and benchmarks). */
#include "kit.h"

int main(void)
{
    struct sched_shutdown s = {.reason = SHUTDOWN_crash};

    printf("idle: up, blocking\n");
    for (;;) {
        long rc = HYPERVISOR_sched_op(SCHEDOP_block, NULL);
        if (rc) { /* block failing is a hypervisor bug: make it visible */
            printf("idle: SCHEDOP_block returned %ld\n", rc);
            HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
        }
    }
    return 0;
}
