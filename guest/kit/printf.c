/* printf.c: a small vsnprintf and a line-buffered console over CONSOLEIO_write. */
#include "kit.h"

extern bool hypercall_ready;

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

/* Digits of v in base 10 or 16, least significant first (32-bit: libgcc's __udivdi3). */
static unsigned int utoa_rev(char *d, uint64_t v, unsigned int base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    unsigned int n = 0;

    do {
        d[n++] = digits[v % base];
        v /= base;
    } while (v);
    return n;
}

static void put_num(struct out *o, uint64_t v, bool neg, unsigned int base, bool upper,
                    unsigned int width, bool zero, bool left)
{
    char d[24];
    unsigned int n = utoa_rev(d, v, base, upper), len = n + neg;

    if (neg && zero)
        put(o, '-');
    for (; !left && width > len; width--)
        put(o, zero ? '0' : ' ');
    if (neg && !zero)
        put(o, '-');
    while (n)
        put(o, d[--n]);
    for (; left && width > len; width--)
        put(o, ' ');
}

static void put_str(struct out *o, const char *s, unsigned int width, bool left, size_t prec)
{
    size_t len = strnlen(s, prec);

    for (; !left && width > len; width--)
        put(o, ' ');
    for (size_t i = 0; i < len; i++)
        put(o, s[i]);
    for (; left && width > len; width--)
        put(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};

    for (; *fmt; fmt++) {
        bool zero = false, left = false, neg = false;
        unsigned int width = 0, lng = 0;
        size_t prec = (size_t)-1;
        uint64_t v;

        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        for (fmt++; *fmt == '0' || *fmt == '-'; fmt++)
            *fmt == '0' ? (zero = true) : (left = true);
        for (; *fmt >= '0' && *fmt <= '9'; fmt++)
            width = width * 10 + (*fmt - '0');
        if (*fmt == '.') {
            if (*++fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            } else {
                for (prec = 0; *fmt >= '0' && *fmt <= '9'; fmt++)
                    prec = prec * 10 + (*fmt - '0');
            }
        }
        for (; *fmt == 'l' || *fmt == 'z'; fmt++)
            lng++;
        switch (*fmt) {
        case 'd':
        case 'i':
            v = lng >= 2 ? (uint64_t)va_arg(ap, long long)
                : lng    ? (uint64_t)(long long)va_arg(ap, long)
                         : (uint64_t)(long long)va_arg(ap, int);
            neg = (int64_t)v < 0;
            put_num(&o, neg ? -v : v, neg, 10, false, width, zero, left);
            break;
        case 'u':
        case 'x':
        case 'X':
            v = lng >= 2 ? va_arg(ap, unsigned long long)
                : lng    ? va_arg(ap, unsigned long)
                         : va_arg(ap, unsigned int);
            put_num(&o, v, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, zero, left);
            break;
        case 'p':
            put_str(&o, "0x", 0, false, 2);
            put_num(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, width, zero, left);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            put_str(&o, s ? s : "(null)", width, left, prec);
            break;
        }
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case '%':
            put(&o, '%');
            break;
        default:
            put(&o, '%');
            if (!*fmt)
                goto out;
            put(&o, *fmt);
        }
    }
out:
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static char line[256];
static size_t line_len;

void console_flush(void)
{
    if (!line_len)
        return;
    if (hypercall_ready) {
        HYPERVISOR_console_io(CONSOLEIO_write, line_len, line);
    } else {
        /* no hypercall page yet: the debug console port */
        for (size_t i = 0; i < line_len; i++)
            outb(XHV_DEBUGCON_PORT, line[i]);
    }
    line_len = 0;
}

int printf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (const char *p = buf; *p; p++) {
        line[line_len++] = *p;
        if (*p == '\n' || line_len == sizeof(line))
            console_flush();
    }
    return n;
}
