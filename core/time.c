/* time.c: Xen system time for guests: nanoseconds since xhv started, as Xen's NOW(). */
#include "core/core.h"

static uint64_t system_time_epoch;

/* Taken before main(): every domain of this host shares one epoch, as under Xen. */
__attribute__((constructor)) static void system_time_init(void)
{
    system_time_epoch = now_ns();
}

uint64_t xen_system_time(void)
{
    return now_ns() - system_time_epoch;
}

uint64_t xen_system_time_epoch(void)
{
    return system_time_epoch;
}
