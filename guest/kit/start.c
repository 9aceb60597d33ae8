/* start.c: C entry of every kit guest, start_info helpers, shutdown. */
#include "kit.h"

const struct hvm_start_info *start_info;

void arch_init_traps(void);
__noreturn void kit_start(unsigned long start_info_gpa);

__noreturn void kit_start(unsigned long start_info_gpa)
{
    start_info = (const struct hvm_start_info *)start_info_gpa;
    arch_init_traps();
    hypercall_init();
    if (start_info->magic != XEN_HVM_START_MAGIC_VALUE)
        printf("kit: bad start_info magic 0x%x at 0x%lx\n", start_info->magic, start_info_gpa);
    main();
    test_finish();
}

const char *kit_cmdline(void)
{
    return start_info->cmdline_paddr ? (const char *)(uintptr_t)start_info->cmdline_paddr : "";
}

static uint64_t max64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

uint64_t kit_used_end(void)
{
    const struct hvm_start_info *si = start_info;
    uint64_t end = max64((uintptr_t)_end, (uintptr_t)si + sizeof(*si));

    if (si->cmdline_paddr)
        end = max64(end, si->cmdline_paddr + strlen(kit_cmdline()) + 1);
    if (si->memmap_paddr)
        end = max64(end,
                    si->memmap_paddr + si->memmap_entries * sizeof(struct hvm_memmap_table_entry));
    if (si->modlist_paddr)
        end = max64(end, si->modlist_paddr + si->nr_modules * sizeof(struct hvm_modlist_entry));
    return end;
}

bool kit_is_ram(uint64_t addr, uint64_t len)
{
    const struct hvm_memmap_table_entry *m = (const void *)(uintptr_t)start_info->memmap_paddr;

    for (unsigned int i = 0; i < start_info->memmap_entries; i++)
        if (m[i].type == XEN_HVM_MEMMAP_TYPE_RAM && addr >= m[i].addr &&
            addr + len <= m[i].addr + m[i].size)
            return true;
    return false;
}

__noreturn void kit_shutdown(unsigned int reason)
{
    struct sched_shutdown s = {.reason = reason};
    long rc;

    console_flush();
    rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
    printf("kit: SCHEDOP_shutdown(%u) returned %ld\n", reason, rc);
    console_flush();
    kit_triple_fault();
}
