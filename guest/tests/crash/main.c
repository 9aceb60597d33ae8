/* crash: triple faults on purpose (empty IDT + #UD); xhv must report the crash. */
#include "kit.h"

int main(void)
{
    printf("crash: triple faulting now (empty IDT, then ud2)\n");
    console_flush();
    kit_triple_fault();
}
