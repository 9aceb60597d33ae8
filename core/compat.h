/* compat.h: the field tables behind the 32-bit (compat) caller translation in core/compat.c. */
#ifndef XHV_COMPAT_H
#define XHV_COMPAT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"

/* One field of a struct: where it is in the native (x86-64) and the compat (i386) layout. */
struct xlat_field {
    uint16_t native_off, native_size;
    uint16_t compat_off, compat_size;
    bool is_signed; /* widening sign-extends (otherwise zero-extends) */
};

/* Largest compat struct a table may describe (copy_struct_* bounce buffer). */
#define XLAT_MAX_COMPAT 256

/* Every table, for self-checks and tests. */
extern const struct xlat_struct *const xlat_tables[];
extern const unsigned xlat_nr_tables;

/* 0 if table x is sane (fields inside both sizes, no overlaps, widening only, no gaps a
 * missing field would leave), else -XEN_EINVAL. */
int xlat_check(const struct xlat_struct *x);
/* xlat_check() over every table; logs the first bad one. */
int compat_selfcheck(void);

#endif
