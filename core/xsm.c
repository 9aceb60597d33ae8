/* xsm.c: privilege checks for every hypercall that names another domain (Xen's dummy XSM). */
#include "core/xsm.h"

#include "core/domctl.h"

/* is_control_domain(): Xen's d->is_privileged. */
static bool is_control_domain(const struct domain *d)
{
    return d->privileged;
}

/* is_xenstore_domain(): created with XEN_DOMCTL_CDF_xs_domain. */
static bool is_xenstore_domain(const struct domain *d)
{
    return d->cdf_flags & XEN_DOMCTL_CDF_xs_domain;
}

/*
 * xsm_default_action() (xen/include/xsm/dummy.h). Note the fall-through shape of Xen's switch:
 * XSM_TARGET admits the domain itself and then only a control domain (the xenstore domain
 * does not get XSM_TARGET rights on others), XSM_XS_PRIV admits the xenstore domain and a
 * control domain.
 */
int xsm_default_action(enum xsm_default action, const struct domain *src,
                       const struct domain *target)
{
    switch (action) {
    case XSM_HOOK:
        return 0;
    case XSM_TARGET:
        if (src == target)
            return 0;
        break;
    case XSM_XS_PRIV:
        if (is_xenstore_domain(src))
            return 0;
        break;
    case XSM_PRIV:
        break;
    default:
        return -XEN_EPERM;
    }
    return is_control_domain(src) ? 0 : -XEN_EPERM;
}

int xsm_target(const struct vcpu *v, const struct domain *t)
{
    return xsm_default_action(XSM_TARGET, v->domain, t);
}

/* dummy.h xsm_domctl() (XSM_OTHER): getdomaininfo is XSM_XS_PRIV, the pass-through device
 * ops XSM_DM_PRIV (no device models in xhv: XSM_PRIV), everything else XSM_PRIV. */
int xsm_domctl(const struct vcpu *v, const struct domain *d, uint32_t cmd)
{
    if (cmd == XEN_DOMCTL_getdomaininfo)
        return xsm_default_action(XSM_XS_PRIV, v->domain, d);
    return xsm_default_action(XSM_PRIV, v->domain, d);
}

int xsm_sysctl(const struct vcpu *v, uint32_t cmd)
{
    (void)cmd;
    return xsm_default_action(XSM_PRIV, v->domain, NULL);
}

int xsm_getdomaininfo(const struct vcpu *v, const struct domain *d)
{
    return xsm_default_action(XSM_HOOK, v->domain, d);
}

int xsm_readconsole(const struct vcpu *v, uint32_t clear)
{
    (void)clear;
    return xsm_default_action(XSM_HOOK, v->domain, NULL);
}

/* xsm_domain_create(XSM_HOOK): the dummy module ignores the label; FLASK would check
 * domain:create on it. */
int xsm_domain_create(const struct vcpu *v, uint32_t ssidref)
{
    (void)ssidref;
    return xsm_default_action(XSM_HOOK, v->domain, NULL);
}

int xsm_memory_adjust_reservation(const struct vcpu *v, const struct domain *t)
{
    return xsm_default_action(XSM_TARGET, v->domain, t);
}

int xsm_memory_stat_reservation(const struct vcpu *v, const struct domain *t)
{
    return xsm_default_action(XSM_TARGET, v->domain, t);
}

int xsm_add_to_physmap(const struct vcpu *v, const struct domain *t)
{
    return xsm_default_action(XSM_TARGET, v->domain, t);
}

int xsm_hvm_param(const struct vcpu *v, const struct domain *t)
{
    return xsm_default_action(XSM_TARGET, v->domain, t);
}

int xsm_set_virq_handler(const struct vcpu *v, const struct domain *d, uint32_t virq)
{
    (void)virq;
    return xsm_default_action(XSM_PRIV, v->domain, d);
}

/* XSM_DM_PRIV: the target's device model (none in xhv) or a control domain. */
int xsm_schedop_shutdown(const struct vcpu *v, const struct domain *t)
{
    return xsm_default_action(XSM_PRIV, v->domain, t);
}

/* dummy.h xsm_console_io(): the console domain (d->is_console; in xhv the domain whose
 * console is the terminal) may use the console, otherwise XSM_PRIV. */
int xsm_console_io(const struct vcpu *v, int cmd)
{
    (void)cmd;
    if (v->domain->console.to_terminal)
        return 0;
    return xsm_default_action(XSM_PRIV, v->domain, NULL);
}

/* dummy.h xsm_xen_version(): version, platform_parameters and get_features unchecked,
 * extraversion .. guest_handle XSM_HOOK, the rest (commandline, build_id, ...) XSM_PRIV. */
int xsm_xen_version(const struct vcpu *v, uint32_t op)
{
    switch (op) {
    case XENVER_version:
    case XENVER_platform_parameters:
    case XENVER_get_features:
        return 0;
    case XENVER_extraversion:
    case XENVER_compile_info:
    case XENVER_capabilities:
    case XENVER_changeset:
    case XENVER_pagesize:
    case XENVER_guest_handle:
        return xsm_default_action(XSM_HOOK, v->domain, NULL);
    default:
        return xsm_default_action(XSM_PRIV, v->domain, NULL);
    }
}
