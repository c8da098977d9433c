/* compile.c - typed policy -> plan: the seccomp program (libseccomp, binary
 * tree), limits, capabilities, identity, mounts, network, audit.
 *
 * libseccomp can only give calls that match none of a syscall's conditional
 * rules the filter's default action.  A policy may want another answer for
 * them (clone with namespace flags -> EPERM while unknown syscalls get
 * ENOSYS; ioctl allowed except TIOCSTI).  So the filter is built with a
 * marker default action that no rule uses, and every `ret MARKER` in the
 * exported program is turned into a jump to a short table appended at the
 * end: per syscall its fallback action, then the real default.  Jumps keep
 * their length (ja has a 32-bit offset), so nothing else moves.
 */
#include "policy-internal.h"
#include "util.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MARKER SCMP_ACT_TRACE(0x5b58)

/* The fallback of syscall nr when it differs from the default and the
 * syscall has conditional rules (so libseccomp can not express it). */
static bool needs_dispatch(const sbx_policy *pol, int nr)
{
        const struct pol_sys *e = &pol->sys[nr];

        if (!e->set || !e->has_fallback || e->fallback == pol->default_action)
                return false;
        for (size_t i = 0; i < e->n_rules; i++)
                if (e->rules[i].action != e->fallback)
                        return true;
        return false;
}

static int add_sys_rules(scmp_filter_ctx ctx, const sbx_policy *pol, int nr, sbx_error **err)
{
        const struct pol_sys *e = &pol->sys[nr];
        uint32_t fb = e->has_fallback ? e->fallback : pol->default_action;
        bool any = false;
        int r;

        for (size_t i = 0; i < e->n_rules; i++) {
                const struct pol_crule *cr = &e->rules[i];
                struct scmp_arg_cmp cmp[6];

                if (cr->action == fb)
                        continue; /* the same answer as without the rule */
                for (unsigned k = 0; k < cr->n_conds; k++) {
                        const struct pol_cond *c = &cr->conds[k];

                        cmp[k] = (struct scmp_arg_cmp){
                            c->arg, (enum scmp_compare)c->op,
                            c->op == POL_OP_MASKED_EQ ? c->mask : c->value, c->value};
                }
                r = seccomp_rule_add_exact_array(ctx, cr->action, nr, cr->n_conds, cmp);
                if (r == -EEXIST) {
                        /* libseccomp refuses a second action for the same
                         * conditions: name both rules. */
                        const char *other = "another rule";
                        for (size_t j = 0; j < i; j++)
                                if (e->rules[j].n_conds == cr->n_conds &&
                                    memcmp(e->rules[j].conds, cr->conds,
                                           cr->n_conds * sizeof(*cr->conds)) == 0)
                                        other = e->rules[j].origin;
                        return sbx_fail(err,
                                        "%s: conflicting rules for `%s`: the same conditions "
                                        "have another action at %s",
                                        cr->origin, pol_syscall_name(nr), other);
                }
                if (r < 0)
                        return sbx_fail_errno(err, -r, "%s: seccomp rule for `%s`", cr->origin,
                                              pol_syscall_name(nr));
                any = true;
        }
        if (!any && fb != pol->default_action) {
                r = seccomp_rule_add_exact(ctx, fb, nr, 0);
                if (r < 0)
                        return sbx_fail_errno(err, -r, "%s: seccomp rule for `%s`", e->origin,
                                              pol_syscall_name(nr));
        }
        return 0;
}

/* Build the libseccomp filter (with MARKER as default when a dispatch table
 * is needed, *marker tells).  Exposed for `policy compile --format pfc`. */
int pol_build_filter(const sbx_policy *pol, void **out, bool *marker, sbx_error **err)
{
        scmp_filter_ctx ctx;
        bool dispatch = false;

        for (int nr = 0; nr < POL_NR_MAX; nr++)
                dispatch |= needs_dispatch(pol, nr);
        ctx = seccomp_init(dispatch ? MARKER : pol->default_action);
        if (ctx == NULL)
                return sbx_fail(err, "seccomp_init failed");
        /* x86_64 only: i386 and any other arch are killed by the arch check;
         * libseccomp also sends x32 numbers (>= 0x40000000) to BADARCH. */
        if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
            seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0 ||
            seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
                seccomp_release(ctx);
                return sbx_fail(err, "seccomp_attr_set failed");
        }
        for (int nr = 0; nr < POL_NR_MAX; nr++)
                if (pol->sys[nr].set && add_sys_rules(ctx, pol, nr, err) < 0) {
                        seccomp_release(ctx);
                        return -1;
                }
        *out = ctx;
        *marker = dispatch;
        return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **prog, size_t *len, sbx_error **err)
{
        cleanup_close int fd = memfd_create("sbx-seccomp", MFD_CLOEXEC);
        off_t size;
        int r;

        if (fd < 0)
                return sbx_fail_errno(err, errno, "memfd_create");
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return sbx_fail_errno(err, -r, "seccomp_export_bpf");
        size = lseek(fd, 0, SEEK_END);
        if (size <= 0 || size % sizeof(struct sock_filter) != 0)
                return sbx_fail(err, "seccomp_export_bpf: bad program size %lld", (long long)size);
        *prog = xmalloc((size_t)size + 64 * sizeof(struct sock_filter));
        if (pread(fd, *prog, (size_t)size, 0) != size) {
                free(*prog);
                return sbx_fail_errno(err, errno, "read back the seccomp program");
        }
        *len = (size_t)size / sizeof(struct sock_filter);
        return 0;
}

/* Replace every `ret MARKER` by a jump to the appended fallback table. */
static void patch_marker(const sbx_policy *pol, struct sock_filter **prog, size_t *len)
{
        size_t n = *len, table = n, extra = 2;
        struct sock_filter *p;

        for (int nr = 0; nr < POL_NR_MAX; nr++)
                extra += needs_dispatch(pol, nr) ? 2 : 0;
        p = *prog = xrealloc(*prog, (n + extra) * sizeof(*p));
        for (size_t i = 0; i < n; i++)
                if (p[i].code == (BPF_RET | BPF_K) && p[i].k == MARKER)
                        p[i] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA,
                                                            (uint32_t)(table - i - 1));
        p[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                              offsetof(struct seccomp_data, nr));
        for (int nr = 0; nr < POL_NR_MAX; nr++)
                if (needs_dispatch(pol, nr)) {
                        p[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                                              (uint32_t)nr, 0, 1);
                        p[n++] =
                            (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, pol->sys[nr].fallback);
                }
        p[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, pol->default_action);
        *len = n;
}

int pol_compile_bpf(const sbx_policy *pol, struct sock_filter **prog, size_t *len, sbx_error **err)
{
        void *ctx;
        bool marker;
        int r;

        if (pol_build_filter(pol, &ctx, &marker, err) < 0)
                return -1;
        r = export_bpf(ctx, prog, len, err);
        seccomp_release(ctx);
        if (r < 0)
                return -1;
        if (marker)
                patch_marker(pol, prog, len);
        if (*len > BPF_MAXINSNS) {
                free(*prog);
                return sbx_fail(err,
                                "the seccomp program has %zu instructions, more than the "
                                "kernel's %d",
                                *len, BPF_MAXINSNS);
        }
        return 0;
}

/* The audit twin: identical jumps, errno answers become user notifications
 * (and with audit: all, allowed calls are logged). */
static struct sock_filter *audit_program(const struct sock_filter *prog, size_t len,
                                         enum sbx_audit_mode mode)
{
        struct sock_filter *p = xmalloc(len * sizeof(*p));

        memcpy(p, prog, len * sizeof(*p));
        for (size_t i = 0; i < len; i++) {
                if (p[i].code != (BPF_RET | BPF_K))
                        continue;
                if ((p[i].k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO)
                        p[i].k = SECCOMP_RET_USER_NOTIF;
                else if (mode == SBX_AUDIT_ALL && p[i].k == SECCOMP_RET_ALLOW)
                        p[i].k = SECCOMP_RET_LOG;
        }
        return p;
}

const char *pol_plan_origin(struct pol_plan_impl *pi, const char *s)
{
        if (s == NULL)
                s = "built-in";
        pi->pool = xrealloc(pi->pool, (pi->n_pool + 1) * sizeof(char *));
        return pi->pool[pi->n_pool++] = xstrdup(s);
}

static struct sbx_plan_limit plan_limit(struct pol_plan_impl *pi, const sbx_policy *pol,
                                        enum pol_limit_id id)
{
        const struct pol_limit *l = &pol->limits[id];

        return (struct sbx_plan_limit){
            .set = l->set,
            .best_effort = l->best_effort < 0 ? pol->best_effort : l->best_effort,
            .value = l->value,
            .origin = pol_plan_origin(pi, l->origin),
        };
}

static char **strv_copy(char *const *v)
{
        char **out = xcalloc(strv_len(v) + 1, sizeof(char *));

        for (size_t i = 0; v && v[i]; i++)
                out[i] = xstrdup(v[i]);
        return out;
}

static void plan_paths(struct pol_plan_impl *pi, const sbx_policy *pol)
{
        struct sbx_plan *p = &pi->pub;

        p->tmpfs = xcalloc(pol->n_writable + 1, sizeof(*p->tmpfs));
        for (size_t i = 0; i < pol->n_writable; i++)
                p->tmpfs[i] =
                    (struct sbx_plan_tmpfs){xstrdup(pol->writable[i].path), pol->writable[i].size,
                                            pol_plan_origin(pi, pol->writable[i].origin)};
        p->n_tmpfs = pol->n_writable;
        p->binds = xcalloc(pol->n_binds + 1, sizeof(*p->binds));
        for (size_t i = 0; i < pol->n_binds; i++)
                p->binds[i] = (struct sbx_plan_bind){
                    xstrdup(pol->binds[i].source), xstrdup(pol->binds[i].path),
                    pol->binds[i].writable, pol_plan_origin(pi, pol->binds[i].origin)};
        p->n_binds = pol->n_binds;
        p->volume_rules = xcalloc(pol->n_volumes + 1, sizeof(*p->volume_rules));
        for (size_t i = 0; i < pol->n_volumes; i++)
                p->volume_rules[i] = (struct sbx_plan_volume_rule){
                    xstrdup(pol->volumes[i].path), pol->volumes[i].writable,
                    pol_plan_origin(pi, pol->volumes[i].origin)};
        p->n_volume_rules = pol->n_volumes;
}

/* Root tmpfs size when no rule sets one: a tmpfs without size= is only bounded
 * by RAM, which must never happen by accident. */
#define DEFAULT_ROOT_SIZE (1ULL << 30)

int sbx_policy_compile(const sbx_policy *pol, sbx_plan **out, sbx_error **err)
{
        struct pol_plan_impl *pi = xcalloc(1, sizeof(*pi));
        struct sbx_plan *p = &pi->pub;

        if (pol_compile_bpf_cached(pol, &p->seccomp, &p->seccomp_len, err) < 0) {
                free(pi);
                return -1;
        }
        p->policy_name = xstrdup(pol->name);
        p->policy_source = xstrdup(pol->source);
        memcpy(p->policy_sha256, pol->sha256, sizeof(p->policy_sha256));
        p->audit = pol->audit;
        if (pol->audit != SBX_AUDIT_NONE) {
                p->seccomp_audit = audit_program(p->seccomp, p->seccomp_len, pol->audit);
                p->seccomp_audit_len = p->seccomp_len;
                p->seccomp_flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
                if (pol->audit == SBX_AUDIT_ALL)
                        p->seccomp_flags |= SECCOMP_FILTER_FLAG_LOG;
        }
        p->seccomp_origin = pol_plan_origin(pi, pol->default_origin);
        p->memory_max = plan_limit(pi, pol, LIM_MEMORY);
        p->swap_max = plan_limit(pi, pol, LIM_SWAP);
        p->pids_max = plan_limit(pi, pol, LIM_PIDS);
        p->cpu_quota = plan_limit(pi, pol, LIM_CPU);
        p->cpu_period = pol->cpu_period;
        p->io_weight = plan_limit(pi, pol, LIM_IO_WEIGHT);
        p->timeout = plan_limit(pi, pol, LIM_TIME);
        p->nofile = plan_limit(pi, pol, LIM_NOFILE);
        p->caps_keep = pol->caps;
        p->no_new_privs = true;
        p->caps_origin = pol_plan_origin(pi, pol->caps_origin);
        p->uid = pol->uid;
        p->gid = pol->gid;
        p->user_name = xstrdup(pol->user_name);
        p->home = xstrdup(pol->home);
        p->root_mode = pol->root_mode;
        p->root_size = pol->limits[LIM_DISK].set ? pol->limits[LIM_DISK].value : DEFAULT_ROOT_SIZE;
        p->root_origin = pol_plan_origin(
            pi, pol->limits[LIM_DISK].set ? pol->limits[LIM_DISK].origin : pol->root_origin);
        plan_paths(pi, pol);
        p->net = pol->net;
        p->net_origin = pol_plan_origin(pi, pol->net_origin);
        p->env_set = strv_copy(pol->env_set);
        p->env_pass = strv_copy(pol->env_pass);
        p->env_allow = pol->env_allow_set ? strv_copy(pol->env_allow) : NULL;
        *out = p;
        return 0;
}

void sbx_plan_free(sbx_plan *plan)
{
        struct pol_plan_impl *pi = (struct pol_plan_impl *)plan;

        if (plan == NULL)
                return;
        free(plan->policy_name);
        free(plan->policy_source);
        free(plan->seccomp);
        free(plan->seccomp_audit);
        free(plan->user_name);
        free(plan->home);
        for (size_t i = 0; i < plan->n_tmpfs; i++)
                free(plan->tmpfs[i].path);
        free(plan->tmpfs);
        for (size_t i = 0; i < plan->n_binds; i++) {
                free(plan->binds[i].source);
                free(plan->binds[i].dest);
        }
        free(plan->binds);
        for (size_t i = 0; i < plan->n_volume_rules; i++)
                free(plan->volume_rules[i].host_prefix);
        free(plan->volume_rules);
        strv_free(plan->env_set);
        strv_free(plan->env_pass);
        strv_free(plan->env_allow);
        for (size_t i = 0; i < pi->n_pool; i++)
                free(pi->pool[i]);
        free(pi->pool);
        free(pi);
}
