/* conformance32: the conformance guest built for 32-bit mode (compat ABI and struct layouts). */
#include "../conformance/main.c"
