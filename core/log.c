/* log.c: host log (stderr + ring for `xhv dmesg`) and rate-limited guest-triggered messages. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/event.h"

int xhv_log_level = LOG_WARN;

static char log_ring[XHV_LOG_RING];
static uint64_t log_prod; /* free-running */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Guest messages: a burst of 50, then 10 per second per domain. */
#define GLOG_BURST 50
#define GLOG_PER_SEC 10

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void log_ring_put(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        log_ring[(log_prod + i) % XHV_LOG_RING] = s[i];
    log_prod += n;
}

static void log_emit(enum log_level lvl, const char *prefix, const char *fmt, va_list ap)
{
    static const char *const tag[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    char line[512];
    if (lvl == LOG_DEBUG && xhv_log_level < LOG_DEBUG)
        return; /* before formatting: the tool path logs every call at DEBUG */
    int n = snprintf(line, sizeof(line), "(XHV) %s%s: ", tag[lvl], prefix);
    if (n < 0)
        return;
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    size_t len = m < 0 ? (size_t)n : strnlen(line, sizeof(line) - 2);
    if (len && line[len - 1] != '\n')
        line[len++] = '\n';
    pthread_mutex_lock(&log_lock);
    log_ring_put(line, len);
    pthread_mutex_unlock(&log_lock);
    console_ring_notify();
    if ((int)lvl <= xhv_log_level)
        fwrite(line, 1, len, stderr);
}

void xhv_log(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_emit(lvl, "", fmt, ap);
    va_end(ap);
}

bool token_bucket_take(struct token_bucket *b, uint64_t burst, uint64_t per_sec, uint64_t cost)
{
    uint64_t now = now_ns(), elapsed, add;
    if (!b->last_ns) {
        b->tokens = burst;
        b->last_ns = now;
    }
    elapsed = now - b->last_ns;
    if (elapsed > 100000000000ull) /* 100 s idle refills any bucket; avoids overflow */
        elapsed = 100000000000ull, b->last_ns = now - elapsed;
    add = elapsed * per_sec / 1000000000ull;
    if (add) {
        /* keep the fraction of a token not yet earned */
        b->last_ns += add * 1000000000ull / per_sec;
        b->tokens = b->tokens + add > burst ? burst : b->tokens + add;
    }
    if (b->tokens < cost)
        return false;
    b->tokens -= cost;
    return true;
}

/* Per domain; returns false when the message must be dropped. */
static bool glog_allow(struct domain *d)
{
    bool ok;
    pthread_mutex_lock(&log_lock);
    ok = token_bucket_take(&d->glog_bucket, GLOG_BURST, GLOG_PER_SEC, 1);
    if (!ok)
        d->glog_dropped++;
    pthread_mutex_unlock(&log_lock);
    return ok;
}

static void glog_emit(struct domain *d, const char *prefix, const char *fmt, va_list ap)
{
    uint64_t dropped;
    if (!glog_allow(d))
        return;
    pthread_mutex_lock(&log_lock);
    dropped = d->glog_dropped;
    d->glog_dropped = 0;
    pthread_mutex_unlock(&log_lock);
    if (dropped)
        xhv_log(LOG_WARN, " d%u: %llu guest messages suppressed", d->domain_id,
                (unsigned long long)dropped);
    log_emit(LOG_WARN, prefix, fmt, ap);
}

void gprintk(const struct vcpu *v, const char *fmt, ...)
{
    char prefix[32];
    va_list ap;
    snprintf(prefix, sizeof(prefix), " d%uv%u", v->domain->domain_id, v->vcpu_id);
    va_start(ap, fmt);
    glog_emit(v->domain, prefix, fmt, ap);
    va_end(ap);
}

void dprintk(const struct domain *d, const char *fmt, ...)
{
    char prefix[32];
    va_list ap;
    snprintf(prefix, sizeof(prefix), " d%u", d->domain_id);
    va_start(ap, fmt);
    glog_emit((struct domain *)d, prefix, fmt, ap);
    va_end(ap);
}

size_t xhv_log_read(char *buf, size_t len, uint32_t *index)
{
    size_t n = 0;
    pthread_mutex_lock(&log_lock);
    uint64_t start = log_prod > XHV_LOG_RING ? log_prod - XHV_LOG_RING : 0;
    uint64_t pos = index ? *index : start;
    if (pos < start || pos > log_prod)
        pos = start;
    while (pos < log_prod && n < len)
        buf[n++] = log_ring[pos++ % XHV_LOG_RING];
    if (index)
        *index = (uint32_t)pos;
    pthread_mutex_unlock(&log_lock);
    return n;
}
