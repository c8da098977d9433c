/* report.c - what `sbx policy` prints: explain, export (json, oci, pfc, bpf),
 * diff, score, and the Docker profile import.  Reads the typed policy and
 * the plan; no side effects beyond writing to the given stream.
 */
#include "policy-internal.h"
#include "builtin-policies.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <unistd.h>

const char *sbx_policy_builtin_text(const char *name, size_t *len)
{
        for (const struct sbx_builtin_policy *b = sbx_builtin_policies; b->name; b++)
                if (strcmp(b->name, name) == 0) {
                        *len = b->len;
                        return b->text;
                }
        return NULL;
}

static const char *net_str(enum sbx_net_mode m)
{
        return m == SBX_NET_LOOPBACK ? "loopback" : "none";
}

static const char *audit_str(enum sbx_audit_mode m)
{
        return m == SBX_AUDIT_ALL ? "all" : m == SBX_AUDIT_DENIED ? "denied" : "none";
}

static const char *const limit_names[LIM_COUNT] = {"memory",    "swap", "cpu",        "pids",
                                                   "io-weight", "time", "open-files", "disk"};

static void limit_value_str(enum pol_limit_id id, const struct pol_limit *l, uint64_t period,
                            char *buf, size_t n)
{
        if (!l->set)
                snprintf(buf, n, "none");
        else if (id == LIM_CPU)
                snprintf(buf, n, "%.2f cores", (double)l->value / (double)period);
        else if (id == LIM_TIME)
                snprintf(buf, n, "%llu ms", (unsigned long long)l->value);
        else if (id == LIM_MEMORY || id == LIM_SWAP || id == LIM_DISK)
                snprintf(buf, n, "%llu MiB", (unsigned long long)(l->value >> 20));
        else
                snprintf(buf, n, "%llu", (unsigned long long)l->value);
}

/* One line per syscall: action, or conditional rules then fallback. */
static void sys_summary(const sbx_policy *pol, int nr, char *buf, size_t n)
{
        const struct pol_sys *e = &pol->sys[nr];
        char a[32], c[96];
        size_t used = 0;

        buf[0] = '\0';
        if (!e->set) {
                snprintf(buf, n, "%s", pol_action_str(pol->default_action, a, sizeof(a)));
                return;
        }
        for (size_t i = 0; i < e->n_rules && used < n; i++) {
                used += snprintf(buf + used, n - used, "%s if",
                                 pol_action_str(e->rules[i].action, a, sizeof(a)));
                for (unsigned k = 0; k < e->rules[i].n_conds && used < n; k++) {
                        pol_cond_str(&e->rules[i].conds[k], c, sizeof(c));
                        used += snprintf(buf + used, n - used, "%s %s", k ? " &&" : "", c);
                }
                if (used < n)
                        used += snprintf(buf + used, n - used, "; ");
        }
        if (used < n)
                snprintf(buf + used, n - used, "%s%s", e->n_rules ? "else " : "",
                         pol_action_str(e->has_fallback ? e->fallback : pol->default_action, a,
                                        sizeof(a)));
}

static void explain_settings(const sbx_policy *pol, const sbx_plan *plan, FILE *out)
{
        char v[64];

        fprintf(out, "policy %s (%s) sha256:%s\n\n", pol->name, pol->source, pol->sha256);
        fprintf(out, "%-24s %-22s %s\n", "SETTING", "VALUE", "ORIGIN");
        fprintf(out, "%-24s %-22s %s\n", "network", net_str(pol->net),
                pol->net_origin ? pol->net_origin : "built-in");
        fprintf(out, "%-24s %-22s %s\n", "enforcement", pol->best_effort ? "best-effort" : "strict",
                pol->enforcement_origin ? pol->enforcement_origin : "built-in");
        fprintf(out, "%-24s %-22s %s\n", "audit", audit_str(pol->audit),
                pol->audit_origin ? pol->audit_origin : "built-in");
        fprintf(out, "%-24s %-22s %s\n", "filesystem.root",
                pol->root_mode == SBX_ROOT_READONLY ? "read-only" : "ephemeral",
                pol->root_origin ? pol->root_origin : "built-in");
        for (int i = 0; i < LIM_COUNT; i++) {
                const struct pol_limit *l = &pol->limits[i];
                char key[40];

                limit_value_str(i, l, pol->cpu_period, v, sizeof(v));
                if (l->set && (l->best_effort < 0 ? pol->best_effort : l->best_effort))
                        strncat(v, " (best-effort)", sizeof(v) - strlen(v) - 1);
                snprintf(key, sizeof(key), "limits.%s", limit_names[i]);
                fprintf(out, "%-24s %-22s %s\n", key, v, l->origin ? l->origin : "built-in");
        }
        for (size_t i = 0; i < plan->n_tmpfs; i++) {
                snprintf(v, sizeof(v), "%s %lluMiB", plan->tmpfs[i].path,
                         (unsigned long long)(plan->tmpfs[i].size >> 20));
                fprintf(out, "%-24s %-22s %s\n", "filesystem.writable", v, plan->tmpfs[i].origin);
        }
        for (size_t i = 0; i < plan->n_binds; i++)
                fprintf(out, "%-24s %s -> %s%s  %s\n", "filesystem.binds", plan->binds[i].source,
                        plan->binds[i].dest, plan->binds[i].writable ? " (rw)" : " (ro)",
                        plan->binds[i].origin);
        for (size_t i = 0; i < plan->n_volume_rules; i++)
                fprintf(out, "%-24s %s%s  %s\n", "filesystem.volumes",
                        plan->volume_rules[i].host_prefix,
                        plan->volume_rules[i].writable ? " (rw)" : " (ro)",
                        plan->volume_rules[i].origin);
        v[0] = '\0';
        for (int c = 0; c < 64; c++)
                if (pol->caps & (1ULL << c)) {
                        strncat(v, pol_cap_name(c) ? pol_cap_name(c) : "?",
                                sizeof(v) - strlen(v) - 2);
                        strncat(v, " ", sizeof(v) - strlen(v) - 1);
                }
        fprintf(out, "%-24s %-22s %s\n", "privileges.capabilities", v[0] ? v : "none",
                pol->caps_origin ? pol->caps_origin : "built-in");
        fprintf(out, "%-24s %-22s %s\n", "no-new-privileges", "true", "built-in (always)");
        snprintf(v, sizeof(v), "%u:%u %s %s", pol->uid, pol->gid, pol->user_name, pol->home);
        fprintf(out, "%-24s %-22s %s\n", "identity", v,
                pol->identity_origin ? pol->identity_origin : "built-in");
        fprintf(out, "%-24s %-22s %s\n", "seccomp", "", "");
        fprintf(out,
                "  %zu BPF instructions, x86_64 only (i386, x32 and other ABIs: kill-process)\n\n",
                plan->seccomp_len);
}

static int explain_table(const sbx_policy *pol, const sbx_plan *plan, FILE *out)
{
        char a[32], sum[512];

        explain_settings(pol, plan, out);
        fprintf(out, "%-24s %4s  %-40s %s\n", "SYSCALL", "NR", "ACTION", "ORIGIN");
        for (int nr = 0; nr < POL_NR_MAX; nr++) {
                const char *name = pol_syscall_name(nr);

                if (name == NULL)
                        continue;
                sys_summary(pol, nr, sum, sizeof(sum));
                fprintf(out, "%-24s %4d  %-40s %s\n", name, nr, sum,
                        pol->sys[nr].set ? pol->sys[nr].origin : pol->default_origin);
                for (size_t i = 0; pol->sys[nr].set && i < pol->sys[nr].n_rules; i++)
                        if (pol->sys[nr].rules[i].origin != pol->sys[nr].origin)
                                fprintf(out, "%-24s %4s  %-40s %s\n", "", "", "",
                                        pol->sys[nr].rules[i].origin);
        }
        fprintf(out, "%-24s %4s  %-40s %s\n", "(any other)", "",
                pol_action_str(pol->default_action, a, sizeof(a)), pol->default_origin);
        return 0;
}

int sbx_policy_explain(const sbx_policy *pol, const sbx_plan *plan, const char *syscall,
                       char *const *args, FILE *out, sbx_error **err)
{
        struct seccomp_data sd = {.arch = AUDIT_ARCH_X86_64};
        uint64_t av[6] = {0};
        const char *org;
        char a[32], b[32];
        uint32_t model, real;
        int nr;

        if (syscall == NULL)
                return explain_table(pol, plan, out);
        nr = pol_syscall_nr(syscall);
        if (nr == -1)
                return sbx_fail(err, "unknown syscall `%s`", syscall);
        if (nr < 0)
                return sbx_fail(err, "`%s` does not exist on x86_64", syscall);
        for (size_t i = 0; args && args[i]; i++) {
                cleanup_free char *expr = NULL;
                struct pol_cond c;
                const char *eq = strchr(args[i], '='), *why, *s = args[i];

                if (strncmp(s, "arg", 3) == 0)
                        s += 3;
                if (eq == NULL || eq != s + 1 || *s < '0' || *s > '5')
                        return sbx_fail(err, "bad argument `%s` (expected argN=VALUE, N in 0..5)",
                                        args[i]);
                expr = xasprintf("arg%c == %s", *s, eq + 1);
                if (pol_parse_cond(expr, &c, &why) < 0)
                        return sbx_fail(err, "bad argument `%s`: %s", args[i], why);
                av[c.arg] = c.value;
        }
        sd.nr = nr;
        memcpy(sd.args, av, sizeof(av));
        real = sbx_bpf_run(plan->seccomp, plan->seccomp_len, &sd);
        model = pol_decide(pol, nr, av, &org);
        fprintf(out, "%s (%d): %s\n", syscall, nr, pol_action_str(real, a, sizeof(a)));
        fprintf(out, "  rule: %s\n", org);
        if (model != real)
                fprintf(out,
                        "  note: the rule says %s; the filter, which is what the kernel runs, "
                        "says %s\n",
                        pol_action_str(model, b, sizeof(b)), a);
        return 0;
}

/* ---- export ---- */

static json_t *limit_json(const struct sbx_plan_limit *l)
{
        if (!l->set)
                return json_null();
        return json_pack("{s:I, s:b, s:s}", "value", (json_int_t)l->value, "best_effort",
                         l->best_effort, "origin", l->origin);
}

static json_t *strv_json(char *const *v)
{
        json_t *a = json_array();

        for (size_t i = 0; v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

static json_t *plan_json(const sbx_policy *pol, const sbx_plan *p)
{
        json_t *j = json_object(), *sys = json_array(), *t = json_array(), *bi = json_array(),
               *vo = json_array(), *caps = json_array();
        char a[32], sum[512];

        json_object_set_new(j, "policy",
                            json_pack("{s:s, s:s, s:s}", "name", p->policy_name, "source",
                                      p->policy_source, "sha256", p->policy_sha256));
        json_object_set_new(
            j, "network",
            json_pack("{s:s, s:s}", "mode", net_str(p->net), "origin", p->net_origin));
        json_object_set_new(j, "limits",
                            json_pack("{s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o}", "memory",
                                      limit_json(&p->memory_max), "swap", limit_json(&p->swap_max),
                                      "pids", limit_json(&p->pids_max), "cpu_quota",
                                      limit_json(&p->cpu_quota), "cpu_period",
                                      (json_int_t)p->cpu_period, "io_weight",
                                      limit_json(&p->io_weight), "timeout_ms",
                                      limit_json(&p->timeout), "nofile", limit_json(&p->nofile)));
        for (int c = 0; c < 64; c++)
                if (p->caps_keep & (1ULL << c))
                        json_array_append_new(caps, json_string(pol_cap_name(c)));
        json_object_set_new(j, "privileges",
                            json_pack("{s:o, s:b, s:s}", "capabilities", caps, "no_new_privileges",
                                      p->no_new_privs, "origin", p->caps_origin));
        json_object_set_new(j, "identity",
                            json_pack("{s:i, s:i, s:s, s:s}", "uid", (int)p->uid, "gid",
                                      (int)p->gid, "user", p->user_name, "home", p->home));
        for (size_t i = 0; i < p->n_tmpfs; i++)
                json_array_append_new(t, json_pack("{s:s, s:I, s:s}", "path", p->tmpfs[i].path,
                                                   "size", (json_int_t)p->tmpfs[i].size, "origin",
                                                   p->tmpfs[i].origin));
        for (size_t i = 0; i < p->n_binds; i++)
                json_array_append_new(bi, json_pack("{s:s, s:s, s:b, s:s}", "source",
                                                    p->binds[i].source, "dest", p->binds[i].dest,
                                                    "writable", p->binds[i].writable, "origin",
                                                    p->binds[i].origin));
        for (size_t i = 0; i < p->n_volume_rules; i++)
                json_array_append_new(vo, json_pack("{s:s, s:b, s:s}", "host_prefix",
                                                    p->volume_rules[i].host_prefix, "writable",
                                                    p->volume_rules[i].writable, "origin",
                                                    p->volume_rules[i].origin));
        json_object_set_new(j, "filesystem",
                            json_pack("{s:s, s:I, s:s, s:o, s:o, s:o}", "root",
                                      p->root_mode == SBX_ROOT_READONLY ? "read-only" : "ephemeral",
                                      "root_size", (json_int_t)p->root_size, "origin",
                                      p->root_origin, "writable", t, "binds", bi, "volumes", vo));
        json_object_set_new(j, "environment",
                            json_pack("{s:o, s:o, s:o}", "set", strv_json(p->env_set), "pass",
                                      strv_json(p->env_pass), "allow",
                                      p->env_allow ? strv_json(p->env_allow) : json_null()));
        for (int nr = 0; nr < POL_NR_MAX; nr++)
                if (pol->sys[nr].set && pol_syscall_name(nr)) {
                        sys_summary(pol, nr, sum, sizeof(sum));
                        json_array_append_new(
                            sys, json_pack("{s:s, s:i, s:s, s:s}", "name", pol_syscall_name(nr),
                                           "nr", nr, "action", sum, "origin", pol->sys[nr].origin));
                }
        json_object_set_new(j, "seccomp",
                            json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:o}", "default_action",
                                      pol_action_str(pol->default_action, a, sizeof(a)), "origin",
                                      p->seccomp_origin, "audit", audit_str(p->audit),
                                      "instructions", (int)p->seccomp_len, "audit_instructions",
                                      (int)p->seccomp_audit_len, "flags", (int)p->seccomp_flags,
                                      "syscalls", sys));
        return j;
}

static const char *oci_action(uint32_t act)
{
        switch (act & POL_ACT_MASK) {
        case POL_ACT_ALLOW:
                return "SCMP_ACT_ALLOW";
        case POL_ACT_KILL_PROCESS:
                return "SCMP_ACT_KILL_PROCESS";
        case POL_ACT_KILL_THREAD:
                return "SCMP_ACT_KILL_THREAD";
        case POL_ACT_TRAP:
                return "SCMP_ACT_TRAP";
        case POL_ACT_LOG:
                return "SCMP_ACT_LOG";
        case POL_ACT_NOTIFY:
                return "SCMP_ACT_NOTIFY";
        default:
                return "SCMP_ACT_ERRNO";
        }
}

static const char *const oci_ops[] = {"",
                                      "SCMP_CMP_NE",
                                      "SCMP_CMP_LT",
                                      "SCMP_CMP_LE",
                                      "SCMP_CMP_EQ",
                                      "SCMP_CMP_GE",
                                      "SCMP_CMP_GT",
                                      "SCMP_CMP_MASKED_EQ"};

static json_t *oci_entry(const char *name, uint32_t act, const struct pol_crule *r)
{
        json_t *e = json_pack("{s:[s], s:s}", "names", name, "action", oci_action(act));

        if ((act & POL_ACT_MASK) == POL_ACT_ERRNO(0))
                json_object_set_new(e, "errnoRet", json_integer(act & 0xffff));
        if (r) {
                json_t *args = json_array();

                for (unsigned k = 0; k < r->n_conds; k++) {
                        const struct pol_cond *c = &r->conds[k];

                        json_array_append_new(
                            args,
                            json_pack("{s:i, s:I, s:I, s:s}", "index", (int)c->arg, "value",
                                      (json_int_t)(c->op == POL_OP_MASKED_EQ ? c->mask : c->value),
                                      "valueTwo",
                                      (json_int_t)(c->op == POL_OP_MASKED_EQ ? c->value : 0), "op",
                                      oci_ops[c->op]));
                }
                json_object_set_new(e, "args", args);
        }
        return e;
}

/* OCI profiles (like libseccomp) give a call that matches no conditional rule
 * the default action.  Where a policy wants another fallback the export keeps
 * the safer reading and says so on stderr. */
static json_t *oci_syscalls(const sbx_policy *pol)
{
        json_t *list = json_array(), *allow = json_array();

        for (int nr = 0; nr < POL_NR_MAX; nr++) {
                const struct pol_sys *e = &pol->sys[nr];
                const char *name = pol_syscall_name(nr);
                uint32_t fb;
                bool cond_other = false;

                if (!e->set || name == NULL)
                        continue;
                fb = e->has_fallback ? e->fallback : pol->default_action;
                for (size_t i = 0; i < e->n_rules; i++)
                        cond_other |= e->rules[i].action != fb;
                if (!cond_other) {
                        if (fb == POL_ACT_ALLOW)
                                json_array_append_new(allow, json_string(name));
                        else if (fb != pol->default_action)
                                json_array_append_new(list, oci_entry(name, fb, NULL));
                        continue;
                }
                if (fb == POL_ACT_ALLOW) {
                        fprintf(stderr,
                                "sbx: oci: %s: the conditional exceptions of `%s` can not "
                                "be expressed in OCI seccomp; exported as allow\n",
                                e->origin, name);
                        json_array_append_new(allow, json_string(name));
                        continue;
                }
                if (fb != pol->default_action)
                        fprintf(stderr,
                                "sbx: oci: %s: calls to `%s` that match no condition get "
                                "the default action, not their own\n",
                                e->origin, name);
                for (size_t i = 0; i < e->n_rules; i++)
                        if (e->rules[i].action != pol->default_action)
                                json_array_append_new(
                                    list, oci_entry(name, e->rules[i].action, &e->rules[i]));
        }
        json_array_insert_new(list, 0,
                              json_pack("{s:o, s:s}", "names", allow, "action", "SCMP_ACT_ALLOW"));
        return list;
}

static json_t *oci_json(const sbx_policy *pol, const sbx_plan *p)
{
        json_t *seccomp, *res = json_object(), *caps = json_array(), *proc;

        seccomp = json_pack("{s:s, s:[s], s:o}", "defaultAction", oci_action(pol->default_action),
                            "architectures", "SCMP_ARCH_X86_64", "syscalls", oci_syscalls(pol));
        if ((pol->default_action & POL_ACT_MASK) == POL_ACT_ERRNO(0))
                json_object_set_new(seccomp, "defaultErrnoRet",
                                    json_integer(pol->default_action & 0xffff));
        if (p->memory_max.set) {
                json_t *m = json_pack("{s:I}", "limit", (json_int_t)p->memory_max.value);

                if (p->swap_max.set) /* OCI swap is memory + swap */
                        json_object_set_new(
                            m, "swap",
                            json_integer((json_int_t)(p->memory_max.value + p->swap_max.value)));
                json_object_set_new(res, "memory", m);
        }
        if (p->pids_max.set)
                json_object_set_new(res, "pids",
                                    json_pack("{s:I}", "limit", (json_int_t)p->pids_max.value));
        if (p->cpu_quota.set)
                json_object_set_new(res, "cpu",
                                    json_pack("{s:I, s:I}", "quota", (json_int_t)p->cpu_quota.value,
                                              "period", (json_int_t)p->cpu_period));
        for (int c = 0; c < 64; c++)
                if (p->caps_keep & (1ULL << c))
                        json_array_append_new(caps, json_string(pol_cap_name(c)));
        proc = json_pack("{s:b, s:{s:i, s:i}, s:{s:O, s:O, s:O}}", "noNewPrivileges", 1, "user",
                         "uid", (int)p->uid, "gid", (int)p->gid, "capabilities", "bounding", caps,
                         "effective", caps, "permitted", caps);
        json_decref(caps);
        if (p->nofile.set)
                json_object_set_new(proc, "rlimits",
                                    json_pack("[{s:s, s:I, s:I}]", "type", "RLIMIT_NOFILE", "hard",
                                              (json_int_t)p->nofile.value, "soft",
                                              (json_int_t)p->nofile.value));
        return json_pack("{s:s, s:o, s:{s:o, s:o}}", "ociVersion", "1.0.2", "process", proc,
                         "linux", "seccomp", seccomp, "resources", res);
}

static int dump_json(json_t *j, int fd, sbx_error **err)
{
        char *s = json_dumps(j, JSON_INDENT(2));
        int r = 0;

        json_decref(j);
        if (s == NULL)
                return sbx_fail(err, "json encoding failed");
        if (write_full(fd, s, strlen(s)) < 0 || write_full(fd, "\n", 1) < 0)
                r = sbx_fail_errno(err, errno, "write");
        free(s);
        return r;
}

int sbx_policy_export(const sbx_policy *pol, const sbx_plan *plan, const char *format, int fd,
                      sbx_error **err)
{
        if (strcmp(format, "json") == 0)
                return dump_json(plan_json(pol, plan), fd, err);
        if (strcmp(format, "oci") == 0)
                return dump_json(oci_json(pol, plan), fd, err);
        if (strcmp(format, "bpf") == 0) {
                if (write_full(fd, plan->seccomp, plan->seccomp_len * sizeof(*plan->seccomp)) < 0)
                        return sbx_fail_errno(err, errno, "write");
                return 0;
        }
        if (strcmp(format, "plan") == 0) {
                size_t len;
                cleanup_free unsigned char *bytes = sbx_plan_encode(plan, &len);
                if (write_full(fd, bytes, len) < 0)
                        return sbx_fail_errno(err, errno, "write");
                return 0;
        }
        if (strcmp(format, "pfc") == 0) {
                void *ctx;
                bool marker;
                char a[32];
                int r;

                if (pol_build_filter(pol, &ctx, &marker, err) < 0)
                        return -1;
                if (marker) {
                        cleanup_free char *hdr = xasprintf(
                            "#\n# TRACE(23384) below stands for: the syscall's own fallback "
                            "action, else the default %s\n#\n",
                            pol_action_str(pol->default_action, a, sizeof(a)));
                        if (write_full(fd, hdr, strlen(hdr)) < 0) {
                                seccomp_release(ctx);
                                return sbx_fail_errno(err, errno, "write");
                        }
                }
                r = seccomp_export_pfc(ctx, fd);
                seccomp_release(ctx);
                if (r < 0)
                        return sbx_fail_errno(err, -r, "seccomp_export_pfc");
                return 0;
        }
        return sbx_fail(err, "unknown format `%s` (bpf, pfc, oci, json, plan)", format);
}

/* ---- diff ---- */

/* SECCOMP_RET_LOG runs the call after logging it: as permissive as allow. */
static bool permits(uint32_t act)
{
        return act == POL_ACT_ALLOW || act == POL_ACT_LOG;
}

/* 0: never allowed, 1: allowed under conditions, 2: always allowed */
static int allow_rank(const sbx_policy *pol, int nr)
{
        const struct pol_sys *e = &pol->sys[nr];
        uint32_t fb;
        bool some = false;

        if (!e->set)
                return permits(pol->default_action) ? 2 : 0;
        fb = e->has_fallback ? e->fallback : pol->default_action;
        for (size_t i = 0; i < e->n_rules; i++)
                some |= permits(e->rules[i].action);
        if (permits(fb))
                return e->n_rules ? 1 : 2;
        return some ? 1 : 0;
}

static bool rule_in(const struct pol_sys *e, const struct pol_crule *r)
{
        for (size_t i = 0; e->set && i < e->n_rules; i++)
                if (e->rules[i].action == r->action && e->rules[i].n_conds == r->n_conds &&
                    memcmp(e->rules[i].conds, r->conds, r->n_conds * sizeof(*r->conds)) == 0)
                        return true;
        return false;
}

/* Both sides allow nr under conditions: does b allow no call that a refuses?
 * Checked rule by rule, so a rewritten but equivalent condition counts as
 * wider: the reviewer should look at it. */
static bool cond_subset(const sbx_policy *a, const sbx_policy *b, int nr)
{
        const struct pol_sys *ea = &a->sys[nr], *eb = &b->sys[nr];
        uint32_t fa = ea->has_fallback ? ea->fallback : a->default_action;
        uint32_t fb = eb->has_fallback ? eb->fallback : b->default_action;

        if (permits(fb)) { /* b: allowed except its exceptions */
                if (!permits(fa))
                        return false;
                for (size_t i = 0; i < ea->n_rules; i++)
                        if (!permits(ea->rules[i].action) && !rule_in(eb, &ea->rules[i]))
                                return false;
                return true;
        }
        for (size_t i = 0; i < eb->n_rules; i++) /* b: allowed only by its allow rules */
                if (permits(eb->rules[i].action) && !rule_in(ea, &eb->rules[i]))
                        return false;
        return true;
}

struct diff_out {
        FILE *out;
        int wider;
};

static void dline(struct diff_out *d, char sign, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void dline(struct diff_out *d, char sign, const char *fmt, ...)
{
        va_list ap;

        if (sign == '+')
                d->wider = 1;
        fprintf(d->out, "%c ", sign);
        va_start(ap, fmt);
        vfprintf(d->out, fmt, ap);
        va_end(ap);
        fputc('\n', d->out);
}

static void diff_syscalls(const sbx_policy *a, const sbx_policy *b, struct diff_out *d)
{
        char sa[512], sb[512], x[32], y[32];

        if (a->default_action != b->default_action)
                dline(d, permits(b->default_action) && !permits(a->default_action) ? '+' : '~',
                      "syscalls.default-action: %s -> %s", pol_action_str(a->default_action, x, 32),
                      pol_action_str(b->default_action, y, 32));
        for (int nr = 0; nr < POL_NR_MAX; nr++) {
                const char *name = pol_syscall_name(nr);
                int ra, rb;

                if (name == NULL)
                        continue;
                sys_summary(a, nr, sa, sizeof(sa));
                sys_summary(b, nr, sb, sizeof(sb));
                if (strcmp(sa, sb) == 0)
                        continue;
                ra = allow_rank(a, nr);
                rb = allow_rank(b, nr);
                if (ra == 1 && rb == 1)
                        rb = cond_subset(a, b, nr) ? 0 : 2;
                dline(d, rb > ra ? '+' : rb < ra ? '-' : '~', "syscall %s: %s -> %s", name, sa, sb);
        }
}

static void diff_limits(const sbx_policy *a, const sbx_policy *b, struct diff_out *d)
{
        for (int i = 0; i < LIM_COUNT; i++) {
                const struct pol_limit *la = &a->limits[i], *lb = &b->limits[i];
                bool bea = la->best_effort < 0 ? a->best_effort : la->best_effort;
                bool beb = lb->best_effort < 0 ? b->best_effort : lb->best_effort;
                char va[48], vb[48];

                limit_value_str(i, la, a->cpu_period, va, sizeof(va));
                limit_value_str(i, lb, b->cpu_period, vb, sizeof(vb));
                if (la->set != lb->set || la->value != lb->value) {
                        bool wider =
                            (la->set && !lb->set) || (la->set && lb->set && lb->value > la->value);
                        dline(d, wider ? '+' : '-', "limits.%s: %s -> %s", limit_names[i], va, vb);
                }
                if (la->set && lb->set && bea != beb)
                        dline(d, beb ? '+' : '-', "limits.%s enforcement: %s -> %s", limit_names[i],
                              bea ? "best-effort" : "strict", beb ? "best-effort" : "strict");
        }
}

static bool has_path(const struct pol_path *p, size_t n, const char *path, uint64_t *size,
                     bool *writable)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(p[i].path, path) == 0) {
                        *size = p[i].size;
                        *writable = p[i].writable;
                        return true;
                }
        return false;
}

static void diff_paths(const char *what, const struct pol_path *pa, size_t na,
                       const struct pol_path *pb, size_t nb, struct diff_out *d)
{
        uint64_t sz;
        bool w;

        for (size_t i = 0; i < nb; i++) {
                if (!has_path(pa, na, pb[i].path, &sz, &w))
                        dline(d, '+', "%s %s%s", what, pb[i].path, pb[i].writable ? " (rw)" : "");
                else if (pb[i].size > sz || (pb[i].writable && !w))
                        dline(d, '+', "%s %s: larger or writable", what, pb[i].path);
        }
        for (size_t i = 0; i < na; i++)
                if (!has_path(pb, nb, pa[i].path, &sz, &w))
                        dline(d, '-', "%s %s", what, pa[i].path);
}

int sbx_policy_diff(const sbx_policy *a, const sbx_policy *b, FILE *out)
{
        struct diff_out d = {out, 0};

        if (a->net != b->net)
                dline(&d, b->net > a->net ? '+' : '-', "network: %s -> %s", net_str(a->net),
                      net_str(b->net));
        for (int c = 0; c < 64; c++) {
                bool ia = a->caps & (1ULL << c), ib = b->caps & (1ULL << c);

                if (ia != ib)
                        dline(&d, ib ? '+' : '-', "capability %s", pol_cap_name(c));
        }
        if (a->root_mode != b->root_mode)
                dline(&d, b->root_mode == SBX_ROOT_EPHEMERAL ? '+' : '-',
                      "filesystem.root: %s -> %s",
                      a->root_mode == SBX_ROOT_READONLY ? "read-only" : "ephemeral",
                      b->root_mode == SBX_ROOT_READONLY ? "read-only" : "ephemeral");
        diff_paths("filesystem.writable", a->writable, a->n_writable, b->writable, b->n_writable,
                   &d);
        diff_paths("filesystem.binds", a->binds, a->n_binds, b->binds, b->n_binds, &d);
        diff_paths("filesystem.volumes", a->volumes, a->n_volumes, b->volumes, b->n_volumes, &d);
        diff_limits(a, b, &d);
        if (a->uid != b->uid)
                dline(&d, b->uid == 0 ? '+' : '~', "identity.uid: %u -> %u", a->uid, b->uid);
        if (a->env_allow_set && !b->env_allow_set)
                dline(&d, '+', "environment.allow: a list -> any name");
        if (a->audit != b->audit)
                dline(&d, '~', "audit: %s -> %s", audit_str(a->audit), audit_str(b->audit));
        diff_syscalls(a, b, &d);
        fprintf(out, "%s\n", d.wider ? "B permits more than A" : "B permits nothing A does not");
        return d.wider;
}

/* ---- score ---- */

int sbx_policy_score(const sbx_policy *pol, FILE *out)
{
        int total = 0, max = 0, n_allowed = 0;

#define ITEM(name, desc, weight, exposed)                                                          \
        do {                                                                                       \
                max += (weight);                                                                   \
                total += (exposed) ? (weight) : 0;                                                 \
                fprintf(out, "%s %-34s %-52s %4.1f\n", (exposed) ? "✗" : "✓", name, desc,          \
                        (exposed) ? (weight) / 10.0 : 0.0);                                        \
        } while (0)

        fprintf(out, "  %-34s %-52s %s\n", "NAME", "DESCRIPTION", "EXPOSURE");
        for (size_t i = 0; i < pol_n_surfaces; i++) {
                const struct pol_surface *s = &pol_surfaces[i];
                int state = pol->surface_state[i];
                /* a surface the policy never mentions is exposed unless the
                 * syscalls are denied anyway */
                bool exposed = state == 1;

                if (state < 0 && s->syscalls) {
                        uint64_t z[6] = {0};
                        const char *o;

                        for (size_t k = 0; s->syscalls[k]; k++) {
                                int nr = pol_syscall_nr(s->syscalls[k]);

                                exposed |= nr >= 0 && permits(pol_decide(pol, nr, z, &o));
                        }
                }
                ITEM(s->key, s->description, s->weight, exposed);
        }
        ITEM("network", "network namespace with loopback up", 2, pol->net == SBX_NET_LOOPBACK);
        for (const struct pol_cap *c = pol_caps; c->name; c++)
                if (pol->caps & (1ULL << c->nr))
                        ITEM(c->name, "capability kept inside the user namespace", c->weight, true);
        ITEM("limits.memory", "no memory limit", 6, !pol->limits[LIM_MEMORY].set);
        ITEM("limits.pids", "no process count limit (fork bombs)", 6, !pol->limits[LIM_PIDS].set);
        ITEM("limits.time", "no wall-clock time limit", 4, !pol->limits[LIM_TIME].set);
        ITEM("limits.cpu", "no CPU limit", 3, !pol->limits[LIM_CPU].set);
        ITEM("enforcement", "limits may degrade to rlimits on weak hosts", 2, pol->best_effort);
        ITEM("filesystem.root", "root file system writable (ephemeral)", 1,
             pol->root_mode == SBX_ROOT_EPHEMERAL);
        for (size_t i = 0; i < pol->n_binds; i++)
                ITEM(pol->binds[i].path, "host path bound in", pol->binds[i].writable ? 6 : 2,
                     true);
        for (size_t i = 0; i < pol->n_volumes; i++)
                ITEM(pol->volumes[i].path, "host volumes allowed below",
                     pol->volumes[i].writable ? 5 : 2, true);
        ITEM("identity.uid", "runs as uid 0 inside", 3, pol->uid == 0);
        ITEM("audit", "denied syscalls are not recorded", 1, pol->audit == SBX_AUDIT_NONE);
        for (int nr = 0; nr < POL_NR_MAX; nr++)
                n_allowed += pol_syscall_name(nr) && allow_rank(pol, nr) > 0;
        ITEM("syscalls", "more than 300 syscalls reachable", 4, n_allowed > 300);
#undef ITEM
        int score = max ? total * 100 / max : 0;
        fprintf(out, "\n→ Overall exposure level for %s: %d.%d %s (%d syscalls reachable)\n",
                pol->name, score / 10, score % 10,
                score < 20   ? "OK"
                : score < 50 ? "MEDIUM"
                : score < 80 ? "EXPOSED"
                             : "UNSAFE",
                n_allowed);
        return score;
}

/* ---- import ---- */

static const char *imp_action(json_t *e, json_t *root, char *buf, size_t n)
{
        const char *act = json_string_value(json_object_get(e, "action"));
        json_t *ret = json_object_get(e, "errnoRet");

        if (act == NULL)
                return NULL;
        if (strcmp(act, "SCMP_ACT_ALLOW") == 0)
                return "allow";
        if (strcmp(act, "SCMP_ACT_KILL") == 0 || strcmp(act, "SCMP_ACT_KILL_THREAD") == 0)
                return "kill-thread";
        if (strcmp(act, "SCMP_ACT_KILL_PROCESS") == 0)
                return "kill-process";
        if (strcmp(act, "SCMP_ACT_TRAP") == 0)
                return "trap";
        if (strcmp(act, "SCMP_ACT_LOG") == 0)
                return "log";
        if (strcmp(act, "SCMP_ACT_NOTIFY") == 0)
                return "notify";
        if (strcmp(act, "SCMP_ACT_ERRNO") == 0) {
                int e_ = ret ? (int)json_integer_value(ret)
                         : json_object_get(root, "defaultErrnoRet")
                             ? (int)json_integer_value(json_object_get(root, "defaultErrnoRet"))
                             : EPERM;
                const char *nm = pol_errno_name(e_);

                if (nm)
                        snprintf(buf, n, "errno %s", nm);
                else
                        snprintf(buf, n, "errno %d", e_);
                return buf;
        }
        return NULL;
}

/* Entries for other architectures or granted capabilities do not apply: an
 * sbx sandbox is x86_64 and keeps no capability unless the policy says so. */
static bool imp_applies(json_t *e)
{
        json_t *inc = json_object_get(e, "includes"), *exc = json_object_get(e, "excludes");
        json_t *arches = json_object_get(inc, "arches"), *v;
        size_t i;
        bool ok = arches == NULL || json_array_size(arches) == 0;

        json_array_foreach(arches, i, v)
        {
                const char *a = json_string_value(v);

                ok |= a && (strcmp(a, "amd64") == 0 || strcmp(a, "x86_64") == 0);
        }
        if (json_array_size(json_object_get(inc, "caps")) > 0)
                return false;
        if (json_array_size(json_object_get(exc, "arches")) > 0)
                json_array_foreach(json_object_get(exc, "arches"), i, v)
                {
                        const char *a = json_string_value(v);
                        if (a && (strcmp(a, "amd64") == 0 || strcmp(a, "x86_64") == 0))
                                return false;
                }
        return ok;
}

static void imp_cond(json_t *arg, FILE *out)
{
        static const char *const ops[] = {"SCMP_CMP_NE", "!=", "SCMP_CMP_LT", "<",
                                          "SCMP_CMP_LE", "<=", "SCMP_CMP_EQ", "==",
                                          "SCMP_CMP_GE", ">=", "SCMP_CMP_GT", ">"};
        const char *op = json_string_value(json_object_get(arg, "op"));
        unsigned long long v =
            (unsigned long long)json_integer_value(json_object_get(arg, "value"));
        unsigned long long v2 =
            (unsigned long long)json_integer_value(json_object_get(arg, "valueTwo"));
        int idx = (int)json_integer_value(json_object_get(arg, "index"));

        if (op && strcmp(op, "SCMP_CMP_MASKED_EQ") == 0) {
                fprintf(out, "\"arg%d & 0x%llx == 0x%llx\"", idx, v, v2);
                return;
        }
        for (size_t i = 0; i < ARRAY_SIZE(ops); i += 2)
                if (op && strcmp(op, ops[i]) == 0)
                        fprintf(out, "\"arg%d %s 0x%llx\"", idx, ops[i + 1], v);
}

static bool names_has(json_t *e, const char *name)
{
        size_t k;
        json_t *v;

        json_array_foreach(json_object_get(e, "names"), k, v)
        {
                const char *n = json_string_value(v);
                if (n && strcmp(n, name) == 0)
                        return true;
        }
        return false;
}

static bool arg_is(json_t *arg, const char *op, int *idx, unsigned long long *v)
{
        const char *o = json_string_value(json_object_get(arg, "op"));

        *idx = (int)json_integer_value(json_object_get(arg, "index"));
        *v = (unsigned long long)json_integer_value(json_object_get(arg, "value"));
        return o && strcmp(o, op) == 0;
}

/* Docker writes "deny when a == x and b == y" as that rule plus one allow
 * rule per condition, negated ("allow when a != x", "allow when b != y").
 * An `!=` in a rule that permits can be bypassed through the upper 32 bits
 * of an int argument, which sbx refuses; the same meaning without it is an
 * unconditional allow with the deny rule as its exception.  True when the
 * entries for `name` are exactly that shape. */
static bool imp_demorgan(json_t *root, json_t *sys, const char *name)
{
        int d_idx[6], n_d = -1, n_ne = 0;
        unsigned long long d_val[6];
        bool matched[6] = {false};
        size_t i, j;
        json_t *e, *arg;
        char buf[32];

        json_array_foreach(sys, i, e)
        {
                json_t *args = json_object_get(e, "args");
                const char *act = imp_action(e, root, buf, sizeof(buf));

                if (!imp_applies(e) || !names_has(e, name))
                        continue;
                if (act == NULL || json_array_size(args) == 0 || json_array_size(args) > 6)
                        return false;
                if (strcmp(act, "allow") != 0) {
                        if (n_d >= 0)
                                return false; /* one deny rule only */
                        n_d = 0;
                        json_array_foreach(args, j, arg)
                        {
                                if (!arg_is(arg, "SCMP_CMP_EQ", &d_idx[n_d], &d_val[n_d]))
                                        return false;
                                n_d++;
                        }
                        continue;
                }
                int idx;
                unsigned long long v;
                if (json_array_size(args) != 1 ||
                    !arg_is(json_array_get(args, 0), "SCMP_CMP_NE", &idx, &v))
                        return false;
                n_ne++;
        }
        if (n_d <= 0 || n_ne == 0)
                return false;
        /* every negated condition is one of the deny rule's (repeats happen:
         * podman's copy lists one twice), and each of those is negated */
        json_array_foreach(sys, i, e)
        {
                const char *act = imp_action(e, root, buf, sizeof(buf));
                int idx;
                unsigned long long v;
                bool found = false;

                if (!imp_applies(e) || !names_has(e, name) || act == NULL ||
                    strcmp(act, "allow") != 0)
                        continue;
                arg_is(json_array_get(json_object_get(e, "args"), 0), "SCMP_CMP_NE", &idx, &v);
                for (int k = 0; k < n_d; k++)
                        if (d_idx[k] == idx && d_val[k] == v)
                                matched[k] = found = true;
                if (!found)
                        return false;
        }
        for (int k = 0; k < n_d; k++)
                if (!matched[k])
                        return false;
        return true;
}

int sbx_policy_import_docker(const char *path, FILE *out, sbx_error **err)
{
        json_error_t je;
        json_t *root = json_load_file(path, 0, &je), *sys, *e, *name, *tmp;
        char buf[32], dbuf[32];
        const char *dflt;
        size_t i, k;
        bool seen[POL_NR_MAX] = {false};
        cleanup_free char *rules = NULL;
        size_t rules_len = 0;
        FILE *rf;

        if (root == NULL)
                return sbx_fail(err, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        sys = json_object_get(root, "syscalls");
        tmp = json_pack("{s:O?}", "action", json_object_get(root, "defaultAction"));
        dflt = imp_action(tmp, root, dbuf, sizeof(dbuf));
        json_decref(tmp);
        if (dflt == NULL || !json_is_array(sys)) {
                json_decref(root);
                return sbx_fail(
                    err, "%s: not a Docker/OCI seccomp profile (defaultAction, syscalls)", path);
        }
        if (strcmp(dflt, "allow") == 0) {
                json_decref(root);
                return sbx_fail(err,
                                "%s: defaultAction allow can not be imported (sbx policies "
                                "list what is allowed)",
                                path);
        }
        rf = open_memstream(&rules, &rules_len);
        fprintf(out, "# imported by `sbx policy import` from %s\n", path);
        fprintf(out, "# x86_64 entries only; entries that need a capability are left out.\n");
        fprintf(out, "sbx-policy: 1\nsyscalls:\n  default-action: %s\n  allow:\n", dflt);
        json_array_foreach(sys, i, e)
        {
                const char *act = imp_action(e, root, buf, sizeof(buf));
                json_t *args = json_object_get(e, "args");

                if (act == NULL || !imp_applies(e))
                        continue;
                json_array_foreach(json_object_get(e, "names"), k, name)
                {
                        const char *n = json_string_value(name);
                        int nr = n ? pol_syscall_nr(n) : -1;

                        if (nr < 0)
                                continue; /* other architectures, or unknown to libseccomp */
                        bool demorgan = json_array_size(args) > 0 && imp_demorgan(root, sys, n);
                        if (demorgan && strcmp(act, "allow") == 0) {
                                /* a negated condition: the unconditional allow below */
                                if (!seen[nr])
                                        fprintf(out, "    - %s\n", n);
                                seen[nr] = true;
                                continue;
                        }
                        if (json_array_size(args) == 0) {
                                if (seen[nr])
                                        continue; /* first unconditional entry wins */
                                seen[nr] = true;
                                if (strcmp(act, "allow") == 0)
                                        fprintf(out, "    - %s\n", n);
                                else
                                        fprintf(rf, "    - syscall: %s\n      action: %s\n", n,
                                                act);
                                continue;
                        }
                        size_t j;
                        json_t *arg;

                        fprintf(rf, "    - syscall: %s\n      action: %s\n      when: [", n, act);
                        json_array_foreach(args, j, arg)
                        {
                                if (j)
                                        fputs(", ", rf);
                                imp_cond(arg, rf);
                        }
                        fputs("]\n", rf);
                }
        }
        fclose(rf);
        if (rules_len)
                fprintf(out, "  rules:\n%s", rules);
        json_decref(root);
        return 0;
}
