/* fake_accel.c: the unit tests' backend: scripted exits over the domain's guest memory. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/fake_accel.h"

#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

static int fake_domain_init(struct domain *d)
{
    struct fake_domain *f = calloc(1, sizeof(*f));

    if (!f)
        return -XEN_ENOMEM;
    pthread_mutex_init(&f->lock, NULL);
    d->accel = f;
    return 0;
}

static void fake_domain_destroy(struct domain *d)
{
    struct fake_domain *f = d->accel;

    pthread_mutex_destroy(&f->lock);
    free(f);
    d->accel = NULL;
}

static int fake_mem_set(struct domain *d, int slot, uint64_t gpa, uint64_t size, void *hva)
{
    struct fake_domain *f = d->accel;

    if (slot < 0 || slot >= FAKE_MAX_SLOTS)
        return -XEN_EINVAL;
    pthread_mutex_lock(&f->lock);
    f->slots[slot].used = hva != NULL;
    f->slots[slot].gpa = gpa;
    f->slots[slot].size = hva ? size : 0;
    f->slots[slot].hva = hva;
    f->mem_set_calls++;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int fake_vcpu_init(struct vcpu *v)
{
    struct fake_vcpu *f = calloc(1, sizeof(*f));

    if (!f)
        return -XEN_ENOMEM;
    pthread_mutex_init(&f->lock, NULL);
    v->accel = f;
    return 0;
}

static void fake_vcpu_destroy(struct vcpu *v)
{
    struct fake_vcpu *f = v->accel;

    pthread_mutex_destroy(&f->lock);
    free(f->script);
    free(f);
    v->accel = NULL;
}

static int fake_vcpu_set_state(struct vcpu *v, const struct vcpu_init_state *s)
{
    struct fake_vcpu *f = v->accel;

    pthread_mutex_lock(&f->lock);
    f->state = *s;
    f->state_set = true;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

/* The state last set (as KVM keeps it): what gethvmcontext reads back. */
static int fake_vcpu_get_state(struct vcpu *v, struct vcpu_init_state *s)
{
    struct fake_vcpu *f = v->accel;

    pthread_mutex_lock(&f->lock);
    *s = f->state;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

/* Record how the core completed the previous exit, then hand out the next scripted one. */
static int fake_vcpu_run(struct vcpu *v, struct vm_exit *ex)
{
    struct fake_vcpu *f = v->accel;

    pthread_mutex_lock(&f->lock);
    if (f->runs++) {
        f->completed = true;
        f->completed_reason = ex->reason;
        f->completed_ret = ex->ret;
        f->completed_cpu_dirty = ex->cpu_dirty;
        f->completed_inject_gp = ex->inject_gp;
    }
    if (f->next_script < f->nr_script) {
        *ex = f->script[f->next_script++];
        f->cpu = ex->cpu;
    } else {
        memset(ex, 0, sizeof(*ex));
        ex->reason = VMEXIT_FAULT;
        strcpy(ex->fault.why, "script empty");
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static void fake_vcpu_kick(struct vcpu *v)
{
    struct fake_vcpu *f = v->accel;

    pthread_mutex_lock(&f->lock);
    f->kicks++;
    pthread_mutex_unlock(&f->lock);
}

static int fake_vcpu_inject_irq(struct vcpu *v, uint8_t vector)
{
    struct fake_vcpu *f = v->accel;

    pthread_mutex_lock(&f->lock);
    if (f->nr_irqs < FAKE_MAX_IRQS)
        f->irqs[f->nr_irqs++] = vector;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int fake_vcpu_get_cpu(struct vcpu *v, struct guest_cpu *cpu)
{
    struct fake_vcpu *f = v->accel;

    pthread_mutex_lock(&f->lock);
    *cpu = f->cpu;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

/* The offset a test set in f->tsc_offset (guest TSC = host TSC + offset); counts the reads. */
static int fake_vcpu_tsc_offset(struct vcpu *v, int64_t *offset)
{
    struct fake_vcpu *f = v->accel;

    pthread_mutex_lock(&f->lock);
    *offset = f->tsc_offset;
    f->tsc_offset_reads++;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

const struct accel_ops fake_accel_ops = {
    .name = "fake",
    .domain_init = fake_domain_init,
    .domain_destroy = fake_domain_destroy,
    .mem_set = fake_mem_set,
    .vcpu_init = fake_vcpu_init,
    .vcpu_destroy = fake_vcpu_destroy,
    .vcpu_set_state = fake_vcpu_set_state,
    .vcpu_run = fake_vcpu_run,
    .vcpu_kick = fake_vcpu_kick,
    .vcpu_inject_irq = fake_vcpu_inject_irq,
    .vcpu_get_cpu = fake_vcpu_get_cpu,
    .vcpu_get_state = fake_vcpu_get_state,
    .vcpu_tsc_offset = fake_vcpu_tsc_offset,
};

struct domain *fake_domain(uint64_t mem_mb, unsigned vcpus, bool privileged)
{
    struct domain_config cfg = {
        .mem_bytes = mem_mb << 20,
        .max_vcpus = vcpus,
        .privileged = privileged,
        .name = privileged ? "fake-dom0" : "fake",
    };
    int rc;

    return domain_create(0, &cfg, &fake_accel_ops, &rc);
}

void fake_script_exit(struct vcpu *v, const struct vm_exit *ex)
{
    struct fake_vcpu *f = v->accel;

    pthread_mutex_lock(&f->lock);
    if (f->nr_script == f->cap_script) {
        unsigned cap = f->cap_script ? 2 * f->cap_script : 8;
        struct vm_exit *n = realloc(f->script, cap * sizeof(*n));
        if (!n)
            abort(); /* test infrastructure only */
        f->script = n;
        f->cap_script = cap;
    }
    f->script[f->nr_script++] = *ex;
    pthread_mutex_unlock(&f->lock);
}

void fake_set_paging(struct vcpu *v, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
    struct fake_vcpu *f = v->accel;

    f->paging = (struct vcpu_paging){.cr0 = cr0, .cr3 = cr3, .cr4 = cr4, .efer = efer};
}

void fake_set_rflags(struct vcpu *v, uint64_t rflags)
{
    ((struct fake_vcpu *)v->accel)->rflags = rflags;
}

struct vm_exit fake_hcall_exit(struct vcpu *v, unsigned cpl, bool is64, uint64_t nr,
                               const uint64_t a[5])
{
    const struct fake_vcpu *f = v->accel;
    struct vm_exit ex = {.reason = VMEXIT_HCALL, .cpu_valid = true};
    struct guest_cpu *c = &ex.cpu;

    c->cr0 = f->paging.cr0, c->cr3 = f->paging.cr3, c->cr4 = f->paging.cr4;
    c->efer = f->paging.efer;
    c->cpl = (uint8_t)cpl;
    c->rflags = f->rflags ? f->rflags : 0x2;
    if (is64) { /* RAX nr; RDI RSI RDX R10 R8 */
        c->efer |= EFER_LMA | EFER_LME;
        c->cs_l = true;
        c->gpr[R_AX] = nr;
        c->gpr[R_DI] = a[0], c->gpr[R_SI] = a[1], c->gpr[R_DX] = a[2];
        c->gpr[R_R10] = a[3], c->gpr[R_R8] = a[4];
    } else { /* EAX nr; EBX ECX EDX ESI EDI */
        c->efer &= ~EFER_LMA;
        c->cs_db = true;
        c->gpr[R_AX] = nr;
        c->gpr[R_BX] = a[0], c->gpr[R_CX] = a[1], c->gpr[R_DX] = a[2];
        c->gpr[R_SI] = a[3], c->gpr[R_DI] = a[4];
    }
    return ex;
}

long fake_hypercall(struct vcpu *v, unsigned cpl, bool is64, uint64_t nr, uint64_t a1, uint64_t a2,
                    uint64_t a3, uint64_t a4, uint64_t a5)
{
    const uint64_t a[5] = {a1, a2, a3, a4, a5};
    struct vm_exit ex = fake_hcall_exit(v, cpl, is64, nr, a);

    vcpu_handle_exit(v, &ex);
    return is64 ? (long)ex.ret : (long)(int32_t)ex.ret;
}
