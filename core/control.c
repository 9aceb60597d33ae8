/* control.c: domain 0 (the host-side toolstack, no VM) and its tool connections' vCPUs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static struct domain *dom0;
static pthread_once_t dom0_once = PTHREAD_ONCE_INIT;

/* Domain 0 has no RAM and no vCPUs of its own: it exists so that tool calls are dispatched
 * with a real (privileged) caller domain, exactly like a guest's. */
static void dom0_init(void)
{
    struct domain *d = calloc(1, sizeof(*d));
    if (!d)
        return;
    d->domain_id = 0;
    snprintf(d->name, sizeof(d->name), "Domain-0");
    d->privileged = d->is_control = true;
    d->ssidref = XHV_SSIDREF_CONTROL;
    d->shutdown_code = -1;
    d->shared_info_gfn = INVALID_GFN;
    d->p2m.memfd = -1;
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->memop_lock, NULL);
    pthread_mutex_init(&d->p2m.lock, NULL);
    pthread_mutex_init(&d->console.lock, NULL);
    pthread_cond_init(&d->shutdown_cond, NULL);
    pthread_mutex_lock(&domain_table_lock);
    domain_table[0] = d;
    pthread_mutex_unlock(&domain_table_lock);
    dom0 = d;
}

struct domain *control_domain(void)
{
    pthread_once(&dom0_once, dom0_init);
    return dom0;
}

struct vcpu *ctl_vcpu_create(uint8_t *buf, uint64_t size, uint64_t tool_base)
{
    struct domain *d = control_domain();
    struct vcpu *v;
    if (!d || !buf || !size || tool_base + size < tool_base || !(v = calloc(1, sizeof(*v))))
        return NULL;
    v->domain = d;
    v->ctl_buf = buf;
    v->ctl_size = size;
    v->ctl_base = tool_base;
    v->vcpu_info_gfn = INVALID_GFN;
    v->online = true;
    v->runstate = RUNSTATE_running;
    v->runstate_entry = now_ns();
    return v;
}

void ctl_vcpu_destroy(struct vcpu *v)
{
    free(v);
}
