/* xsm.h: the one place for privilege checks, as Xen's dummy XSM module (xsm/dummy.h). */
#ifndef XHV_XSM_H
#define XHV_XSM_H

#include <stdint.h>

struct domain;
struct vcpu;

/*
 * Default actions (xsm_default_t in xen/include/xsm/xsm.h), as xsm_default_action() decides
 * them with FLASK off:
 *   XSM_HOOK    anyone;
 *   XSM_TARGET  the domain acting on itself, or a control domain;
 *   XSM_XS_PRIV the xenstore domain (XEN_DOMCTL_CDF_xs_domain), or a control domain;
 *   XSM_PRIV    a control domain only (xhv: d->privileged, i.e. domain 0 or a domain created
 *               with ssidref XHV_SSIDREF_CONTROL).
 * Every check returns 0 or -XEN_EPERM. There are no device-model targets (XSM_DM_PRIV) in xhv.
 */
enum xsm_default { XSM_HOOK, XSM_TARGET, XSM_XS_PRIV, XSM_PRIV };

int xsm_default_action(enum xsm_default action, const struct domain *src,
                       const struct domain *target);

/* XSM_TARGET on behalf of v's domain: the target itself, or a control domain. */
int xsm_target(const struct vcpu *v, const struct domain *t);

/* do_domctl(): XSM_XS_PRIV for getdomaininfo, XSM_PRIV for everything else (d may be NULL). */
int xsm_domctl(const struct vcpu *v, const struct domain *d, uint32_t cmd);
/* do_sysctl(): XSM_PRIV. */
int xsm_sysctl(const struct vcpu *v, uint32_t cmd);
/* XSM_HOOK checks made after xsm_domctl()/xsm_sysctl() have admitted the caller. */
int xsm_getdomaininfo(const struct vcpu *v, const struct domain *d);
int xsm_readconsole(const struct vcpu *v, uint32_t clear);
int xsm_domain_create(const struct vcpu *v, uint32_t ssidref);

/* Hooks for the handlers that still test d->privileged themselves (sched_op, console_io,
 * xen_version): dummy.h's rules, so that every privilege decision can live here. */
int xsm_schedop_shutdown(const struct vcpu *v, const struct domain *t); /* XSM_DM_PRIV */
int xsm_console_io(const struct vcpu *v, int cmd); /* the console domain, else XSM_PRIV */
int xsm_xen_version(const struct vcpu *v, uint32_t op);

/* memory_op / hvm_op targets: all XSM_TARGET. */
int xsm_memory_adjust_reservation(const struct vcpu *v, const struct domain *t);
int xsm_memory_stat_reservation(const struct vcpu *v, const struct domain *t);
int xsm_add_to_physmap(const struct vcpu *v, const struct domain *t);
int xsm_hvm_param(const struct vcpu *v, const struct domain *t);

/* XEN_DOMCTL_set_virq_handler: XSM_PRIV (checked again after xsm_domctl(), as Xen). */
int xsm_set_virq_handler(const struct vcpu *v, const struct domain *d, uint32_t virq);

#endif
