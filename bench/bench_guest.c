/* bench_guest.c: times N null hypercalls, N raw port exits and N ioeventfd exits with rdtsc. */
#include "kit.h"

struct bench {
    const char *name;
    uint64_t cycles;
};

static unsigned long bench_count(void)
{
    const char *p = strstr(kit_cmdline(), "n=");
    unsigned long n = p ? strtoul(p + 2, NULL, 10) : 0;

    return n ? n : 20000;
}

static uint64_t loop_hypercall(unsigned long n)
{
    uint64_t t = rdtsc();

    for (unsigned long i = 0; i < n; i++)
        HYPERVISOR_xen_version(XENVER_version, NULL);
    return rdtsc() - t;
}

static uint64_t loop_out(unsigned long n, uint16_t port)
{
    uint64_t t = rdtsc();

    for (unsigned long i = 0; i < n; i++)
        outl(port, 0);
    return rdtsc() - t;
}

static void report(const struct bench *b, unsigned long n, uint32_t khz)
{
    uint64_t cpc = b->cycles / n;

    if (khz)
        printf("bench: %s %lu calls %llu cycles/call %llu ns/call\n", b->name, n,
               (unsigned long long)cpc, (unsigned long long)(b->cycles * 1000000 / khz / n));
    else
        printf("bench: %s %lu calls %llu cycles/call\n", b->name, n, (unsigned long long)cpc);
}

static void ratio(const struct bench *a, const struct bench *b)
{
    uint64_t r = b->cycles ? a->cycles * 100 / b->cycles : 0;

    printf("bench: ratio %s/%s %llu.%02llu\n", a->name, b->name, (unsigned long long)(r / 100),
           (unsigned long long)(r % 100));
}

int main(void)
{
    unsigned long n = bench_count();
    struct bench b[3] = {{"null_hypercall", 0}, {"raw_exit", 0}, {"ioeventfd", 0}};
    uint32_t r[4];

    cpuid(xen_cpuid_base + 3, 0, r); /* ECX: guest TSC frequency in kHz (0: unknown) */
    printf("bench setup: n=%lu tsc_khz=%u\n", n, r[2]);
    console_flush();
    b[0].cycles = loop_hypercall(n);
    b[1].cycles = loop_out(n, XHV_RAW_PORT);
    b[2].cycles = loop_out(n, XHV_EVENTFD_PORT);
    for (unsigned int i = 0; i < ARRAY_SIZE(b); i++)
        report(&b[i], n, r[2]);
    ratio(&b[0], &b[1]);
    ratio(&b[1], &b[2]);
    kit_shutdown(SHUTDOWN_poweroff);
}
