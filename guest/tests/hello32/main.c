/* hello32: the hello guest built for 32-bit protected mode (32-bit hypercall ABI). */
#include "../hello/main.c"
