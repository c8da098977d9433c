/* parse.c - policy YAML (libyaml document API) into the typed policy.
 *
 * A file is applied as one layer over what is already loaded: first its
 * `extends:` parents (each a layer of its own, recursively), then its own
 * keys.  Merge rules (docs/policy.md): scalars are replaced; lists of paths
 * are merged by path; env.set by name; env.pass is a union; capabilities and
 * env.allow are replaced as a whole; a syscall the layer mentions (by name,
 * through a group, or through a kernel surface) loses every rule it had from
 * earlier layers.  Inside one layer a syscall named explicitly wins over a
 * group, and two different unconditional actions for one syscall at the same
 * level are an error, so the result never depends on key order.
 */
#include "policy-internal.h"
#include "sha256.h"
#include "units.h"
#include "builtin-policies.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#define MAX_EXTENDS_DEPTH 16

struct loader {
        sbx_policy *pol;
        const char *stack[MAX_EXTENDS_DEPTH]; /* ids being loaded, for cycles */
        size_t depth;
        char *texts; /* every text in load order, for the digest */
        size_t texts_len;
};

struct ctx {
        struct loader *ld;
        sbx_policy *pol;
        const char *file; /* name used in messages and origins */
        const char *dir;  /* for relative extends; NULL for built-ins */
        yaml_document_t *doc;
        unsigned layer;
        const char *pids_key; /* processes.max and limits.pids are one setting */
};

static int load_named(struct loader *ld, const char *name, const char *from_dir, struct ctx *from,
                      yaml_node_t *at, sbx_error **err);

static int fail_at(struct ctx *c, yaml_node_t *n, sbx_error **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct ctx *c, yaml_node_t *n, sbx_error **err, const char *fmt, ...)
{
        cleanup_free char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
        va_end(ap);
        return sbx_fail(err, "%s:%zu:%zu: %s", c->file, n->start_mark.line + 1,
                        n->start_mark.column + 1, msg);
}

static const char *origin(struct ctx *c, yaml_node_t *n, const char *key)
{
        return pol_intern(c->pol, xasprintf("%s:%zu: %s", c->file, n->start_mark.line + 1, key));
}

static yaml_node_t *node(struct ctx *c, int id)
{
        return yaml_document_get_node(c->doc, id);
}

static const char *scalar(yaml_node_t *n)
{
        return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int want_scalar(struct ctx *c, yaml_node_t *n, const char *key, const char **out,
                       sbx_error **err)
{
        *out = scalar(n);
        if (*out == NULL)
                return fail_at(c, n, err, "`%s` must be a single value", key);
        return 0;
}

static int want_type(struct ctx *c, yaml_node_t *n, yaml_node_type_t t, const char *key,
                     sbx_error **err)
{
        if (n->type != t)
                return fail_at(c, n, err, "`%s` must be a %s", key,
                               t == YAML_MAPPING_NODE ? "mapping" : "list");
        return 0;
}

/* ---- values ---- */

static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
        char *end;
        unsigned long long v;

        if (*s < '0' || *s > '9')
                return -1;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > max)
                return -1;
        *out = v;
        return 0;
}

static int parse_bool(const char *s, bool *out)
{
        if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0) {
                *out = true;
                return 0;
        }
        if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0) {
                *out = false;
                return 0;
        }
        return -1;
}

/* ---- syscall rules ---- */

static void sys_reset(struct pol_sys *e)
{
        free(e->rules);
        memset(e, 0, sizeof(*e));
}

/* Can conditions a and b (on the same argument) never hold together?  Only
 * shapes that are cheap to decide are recognised; anything else is taken to
 * overlap. */
static bool cond_pair_disjoint(const struct pol_cond *a, const struct pol_cond *b)
{
        uint64_t lo[2], hi[2];
        const struct pol_cond *c[2] = {a, b};

        if (a->op == POL_OP_MASKED_EQ && b->op == POL_OP_MASKED_EQ)
                return ((a->value ^ b->value) & a->mask & b->mask) != 0;
        if (a->op == POL_OP_MASKED_EQ || b->op == POL_OP_MASKED_EQ) {
                const struct pol_cond *m = a->op == POL_OP_MASKED_EQ ? a : b;
                const struct pol_cond *o = m == a ? b : a;
                uint64_t rlo = 0, rhi = UINT64_MAX;

                if (o->op == POL_OP_EQ)
                        return (o->value & m->mask) != m->value;
                /* A low-32-bit compare (what a deny rule's == becomes) against
                 * a range within 32 bits: disjoint when the value is outside. */
                if (m->mask != 0xffffffffULL)
                        return false;
                switch (o->op) {
                case POL_OP_LT:
                        if (o->value == 0)
                                return true;
                        rhi = o->value - 1;
                        break;
                case POL_OP_LE:
                        rhi = o->value;
                        break;
                default:
                        return false; /* >, >= reach past 32 bits */
                }
                return rhi <= 0xffffffffULL && (m->value < rlo || m->value > rhi);
        }
        if (a->op == POL_OP_NE || b->op == POL_OP_NE) {
                const struct pol_cond *n = a->op == POL_OP_NE ? a : b;
                const struct pol_cond *o = n == a ? b : a;
                return o->op == POL_OP_EQ && o->value == n->value;
        }
        for (int i = 0; i < 2; i++) { /* the values each condition accepts */
                uint64_t v = c[i]->value;

                lo[i] = 0;
                hi[i] = UINT64_MAX;
                switch (c[i]->op) {
                case POL_OP_EQ:
                        lo[i] = hi[i] = v;
                        break;
                case POL_OP_LT:
                        if (v == 0)
                                return true;
                        hi[i] = v - 1;
                        break;
                case POL_OP_LE:
                        hi[i] = v;
                        break;
                case POL_OP_GE:
                        lo[i] = v;
                        break;
                case POL_OP_GT:
                        if (v == UINT64_MAX)
                                return true;
                        lo[i] = v + 1;
                        break;
                default:
                        return false;
                }
        }
        return hi[0] < lo[1] || hi[1] < lo[0];
}

static bool rules_disjoint(const struct pol_crule *a, const struct pol_cond *conds, unsigned n)
{
        for (unsigned i = 0; i < a->n_conds; i++)
                for (unsigned j = 0; j < n; j++)
                        if (a->conds[i].arg == conds[j].arg &&
                            cond_pair_disjoint(&a->conds[i], &conds[j]))
                                return true;
        return false;
}

/* Record one rule for syscall nr in the current layer.  conds == NULL: an
 * unconditional rule. */
static int apply_rule(struct ctx *c, yaml_node_t *at, int nr, int level, uint32_t act,
                      const struct pol_cond *conds, unsigned n_conds, const char *org,
                      sbx_error **err)
{
        struct pol_sys *e = &c->pol->sys[nr];
        char b1[32], b2[32];

        if (!e->set || e->layer != c->layer || level > e->level) {
                sys_reset(e);
                e->set = true;
                e->layer = c->layer;
                e->level = level;
        } else if (level < e->level) {
                return 0; /* a group does not override a syscall named in the same layer */
        }
        if (conds == NULL) {
                if (e->has_fallback && e->fallback != act)
                        return fail_at(c, at, err, "conflicting rules for `%s`: %s here, %s at %s",
                                       pol_syscall_name(nr), pol_action_str(act, b1, sizeof(b1)),
                                       pol_action_str(e->fallback, b2, sizeof(b2)), e->origin);
                e->has_fallback = true;
                e->fallback = act;
                e->origin = org;
                return 0;
        }
        /* The rule model (explain, diff) takes the first rule that matches,
         * but libseccomp orders a syscall's rules by argument, not by their
         * place in the file: when one call can match two rules with different
         * actions, the filter may answer with either one (an allow could win
         * over the deny written before it).  Such rules are refused; rules with
         * identical conditions are reported by the compiler. */
        for (size_t i = 0; i < e->n_rules; i++) {
                const struct pol_crule *r = &e->rules[i];

                if (r->action == act ||
                    (r->n_conds == n_conds &&
                     memcmp(r->conds, conds, n_conds * sizeof(*conds)) == 0) ||
                    rules_disjoint(r, conds, n_conds))
                        continue;
                return fail_at(c, at, err,
                               "conflicting rules for `%s`: %s here, %s at %s; one call can "
                               "match both, make their conditions exclusive",
                               pol_syscall_name(nr), pol_action_str(act, b1, sizeof(b1)),
                               pol_action_str(r->action, b2, sizeof(b2)), r->origin);
        }
        e->rules = xrealloc(e->rules, (e->n_rules + 1) * sizeof(*e->rules));
        memset(&e->rules[e->n_rules], 0, sizeof(*e->rules));
        e->rules[e->n_rules].action = act;
        e->rules[e->n_rules].n_conds = n_conds;
        memcpy(e->rules[e->n_rules].conds, conds, n_conds * sizeof(*conds));
        e->rules[e->n_rules].origin = org;
        e->n_rules++;
        if (!e->has_fallback && e->n_rules == 1)
                e->origin = org;
        return 0;
}

/* A name or @group; each syscall of it gets the rule. */
static int apply_target(struct ctx *c, yaml_node_t *at, const char *target, uint32_t act,
                        const struct pol_cond *conds, unsigned n_conds, const char *org,
                        sbx_error **err)
{
        if (target[0] == '@') {
                const struct pol_group *g = pol_group_find(target);

                if (g == NULL)
                        return fail_at(c, at, err, "unknown group `%s`", target);
                for (size_t i = 0; g->syscalls[i]; i++) {
                        int nr = pol_syscall_nr(g->syscalls[i]);

                        if (nr >= 0 && apply_rule(c, at, nr, 1, act, conds, n_conds, org, err) < 0)
                                return -1;
                }
                return 0;
        }
        int nr = pol_syscall_nr(target);
        if (nr == -1)
                return fail_at(c, at, err, "unknown syscall `%s`", target);
        if (nr == -2)
                return 0; /* exists on other architectures only: nothing to do on x86_64 */
        return apply_rule(c, at, nr, 2, act, conds, n_conds, org, err);
}

/* Parse "c1; c2" (surface data) or one condition into conds[]. */
static int add_cond(struct ctx *c, yaml_node_t *at, const char *text, struct pol_cond *conds,
                    unsigned *n, sbx_error **err)
{
        const char *why = NULL;

        if (*n == 6)
                return fail_at(c, at, err, "too many conditions in one rule (at most 6)");
        if (pol_parse_cond(text, &conds[*n], &why) < 0)
                return fail_at(c, at, err, "bad condition `%s`: %s", text, why);
        for (unsigned i = 0; i < *n; i++)
                if (conds[i].arg == conds[*n].arg)
                        return fail_at(c, at, err,
                                       "two conditions on arg%u in one rule; write two rules",
                                       conds[i].arg);
        (*n)++;
        return 0;
}

static int syscall_list(struct ctx *c, yaml_node_t *n, const char *key, uint32_t act,
                        sbx_error **err)
{
        if (want_type(c, n, YAML_SEQUENCE_NODE, key, err) < 0)
                return -1;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
                yaml_node_t *x = node(c, *it);
                const char *name;

                if (want_scalar(c, x, key, &name, err) < 0)
                        return -1;
                if (apply_target(c, x, name, act, NULL, 0, origin(c, x, key), err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_action_at(struct ctx *c, yaml_node_t *n, uint32_t *act, sbx_error **err)
{
        const char *s;

        if (want_scalar(c, n, "action", &s, err) < 0)
                return -1;
        if (pol_parse_action(s, act) < 0)
                return fail_at(c, n, err,
                               "unknown action `%s` (allow, errno NAME, kill-process, kill-thread, "
                               "trap, log, notify)",
                               s);
        return 0;
}

/* The kernel reads int arguments (socket's family, ioctl's request, ...)
 * from the low 32 bits of a 64-bit register, while the filter compares all
 * 64: a caller that sets upper bits changes what the filter sees and not
 * what the kernel does.  Without a table of argument widths, rules are made
 * safe either way: in a rule that denies, `==` compares the low 32 bits only
 * (a 64-bit argument then matches a little more often: more denial, never
 * less); comparisons the upper bits could turn toward permitting (`!=`, `>`,
 * `>=` in a rule that permits; `<`, `<=` in one that denies) are refused,
 * with a way to write them that holds. */
static int harden_conds(struct ctx *c, yaml_node_t *at, uint32_t act, struct pol_cond *conds,
                        unsigned n, sbx_error **err)
{
        bool permits = act == POL_ACT_ALLOW || act == POL_ACT_LOG;

        for (unsigned i = 0; i < n; i++) {
                struct pol_cond *k = &conds[i];
                bool unsafe = permits
                                  ? (k->op == POL_OP_NE || k->op == POL_OP_GT || k->op == POL_OP_GE)
                                  : (k->op == POL_OP_LT || k->op == POL_OP_LE);

                if (unsafe)
                        return fail_at(c, at, err,
                                       "condition on arg%u can be bypassed through the upper 32 "
                                       "bits of an int argument in a rule that %s; compare with "
                                       "== (or `arg%u & MASK == VALUE`) and %s",
                                       k->arg, permits ? "permits" : "denies", k->arg,
                                       permits ? "deny the rest" : "permit the rest");
                if (!permits && k->op == POL_OP_EQ && k->value <= 0xffffffffULL) {
                        k->op = POL_OP_MASKED_EQ;
                        k->mask = 0xffffffffULL;
                }
        }
        return 0;
}

static int syscall_rule(struct ctx *c, yaml_node_t *n, sbx_error **err)
{
        yaml_node_t *targets = NULL, *action = NULL, *when = NULL;
        struct pol_cond conds[6];
        unsigned n_conds = 0;
        uint32_t act;
        const char *org;

        if (want_type(c, n, YAML_MAPPING_NODE, "syscalls.rules[]", err) < 0)
                return -1;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
                const char *ks = scalar(k) ? scalar(k) : "";

                if (strcmp(ks, "syscall") == 0 || strcmp(ks, "syscalls") == 0)
                        targets = v;
                else if (strcmp(ks, "action") == 0)
                        action = v;
                else if (strcmp(ks, "when") == 0)
                        when = v;
                else if (strcmp(ks, "comment") != 0)
                        return fail_at(c, k, err, "unknown key `%s` in syscalls.rules", ks);
        }
        if (targets == NULL)
                return fail_at(c, n, err, "a rule needs `syscall:` or `syscalls:`");
        if (action == NULL)
                return fail_at(c, n, err, "a rule needs `action:`");
        if (parse_action_at(c, action, &act, err) < 0)
                return -1;
        if (when != NULL && when->type == YAML_SCALAR_NODE) {
                if (add_cond(c, when, scalar(when), conds, &n_conds, err) < 0)
                        return -1;
        } else if (when != NULL && when->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *it = when->data.sequence.items.start;
                     it < when->data.sequence.items.top; it++) {
                        yaml_node_t *x = node(c, *it);
                        const char *s;

                        if (want_scalar(c, x, "when", &s, err) < 0 ||
                            add_cond(c, x, s, conds, &n_conds, err) < 0)
                                return -1;
                }
        } else if (when != NULL) {
                return fail_at(c, when, err, "`when` must be a condition or a list of them");
        }
        if (when != NULL && harden_conds(c, when, act, conds, n_conds, err) < 0)
                return -1;
        org = origin(c, n, "syscalls.rules");
        if (targets->type == YAML_SCALAR_NODE)
                return apply_target(c, targets, scalar(targets), act, when ? conds : NULL, n_conds,
                                    org, err);
        if (want_type(c, targets, YAML_SEQUENCE_NODE, "syscalls", err) < 0)
                return -1;
        for (yaml_node_item_t *it = targets->data.sequence.items.start;
             it < targets->data.sequence.items.top; it++) {
                yaml_node_t *x = node(c, *it);
                const char *s;

                if (want_scalar(c, x, "syscalls", &s, err) < 0 ||
                    apply_target(c, x, s, act, when ? conds : NULL, n_conds, org, err) < 0)
                        return -1;
        }
        return 0;
}

static int section_syscalls(struct ctx *c, yaml_node_t *n, sbx_error **err)
{
        if (want_type(c, n, YAML_MAPPING_NODE, "syscalls", err) < 0)
                return -1;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
                const char *ks = scalar(k) ? scalar(k) : "";
                int r;

                if (strcmp(ks, "default-action") == 0) {
                        r = parse_action_at(c, v, &c->pol->default_action, err);
                        /* log runs every call too: it is allow under another name. */
                        if (r == 0 && (c->pol->default_action == POL_ACT_ALLOW ||
                                       c->pol->default_action == POL_ACT_LOG))
                                r = fail_at(c, v, err,
                                            "default-action %s is refused: list what is allowed",
                                            scalar(v));
                        c->pol->default_origin = origin(c, k, "syscalls.default-action");
                } else if (strcmp(ks, "allow") == 0) {
                        r = syscall_list(c, v, "syscalls.allow", POL_ACT_ALLOW, err);
                } else if (strcmp(ks, "deny") == 0) {
                        r = syscall_list(c, v, "syscalls.deny", POL_ACT_ERRNO(EPERM), err);
                } else if (strcmp(ks, "rules") == 0) {
                        r = want_type(c, v, YAML_SEQUENCE_NODE, "syscalls.rules", err);
                        for (yaml_node_item_t *it = v->data.sequence.items.start;
                             r == 0 && it < v->data.sequence.items.top; it++)
                                r = syscall_rule(c, node(c, *it), err);
                } else {
                        r = fail_at(c, k, err, "unknown key `%s` in syscalls", ks);
                }
                if (r < 0)
                        return -1;
        }
        return 0;
}

/* ---- kernel surfaces ---- */

static int apply_surface_rules(struct ctx *c, yaml_node_t *at, const struct pol_surface_rule *r,
                               const char *org, sbx_error **err)
{
        for (; r && r->syscall; r++) {
                struct pol_cond conds[6];
                unsigned n = 0;
                uint32_t act;
                int nr = pol_syscall_nr(r->syscall);

                if (nr < 0)
                        continue;
                if (pol_parse_action(r->action, &act) < 0)
                        return fail_at(c, at, err, "internal: bad surface action `%s`", r->action);
                if (r->when && add_cond(c, at, r->when, conds, &n, err) < 0)
                        return -1;
                if (apply_rule(c, at, nr, 2, act, r->when ? conds : NULL, n, org, err) < 0)
                        return -1;
        }
        return 0;
}

static int apply_surface(struct ctx *c, yaml_node_t *k, yaml_node_t *v, const char *full_key,
                         sbx_error **err)
{
        const char *s;
        bool allow;

        for (size_t i = 0; i < pol_n_surfaces; i++) {
                const struct pol_surface *sf = &pol_surfaces[i];
                const char *org;

                if (strcmp(sf->key, full_key) != 0)
                        continue;
                if (want_scalar(c, v, full_key, &s, err) < 0)
                        return -1;
                if (strcmp(s, "allow") == 0)
                        allow = true;
                else if (strcmp(s, "deny") == 0)
                        allow = false;
                else
                        return fail_at(c, v, err, "`%s` is allow or deny, not `%s`", full_key, s);
                org = origin(c, k, full_key);
                c->pol->surface_state[i] = allow;
                c->pol->surface_origin[i] = org;
                for (size_t j = 0; sf->syscalls && sf->syscalls[j]; j++) {
                        int nr = pol_syscall_nr(sf->syscalls[j]);

                        if (nr >= 0 &&
                            apply_rule(c, v, nr, 2, allow ? POL_ACT_ALLOW : POL_ACT_ERRNO(EPERM),
                                       NULL, 0, org, err) < 0)
                                return -1;
                }
                return apply_surface_rules(c, v, allow ? sf->allow : sf->deny, org, err);
        }
        return fail_at(c, k, err, "unknown key `%s`", full_key);
}

static int section_surfaces(struct ctx *c, yaml_node_t *n, const char *section, sbx_error **err)
{
        if (want_type(c, n, YAML_MAPPING_NODE, section, err) < 0)
                return -1;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
                cleanup_free char *full = xasprintf("%s.%s", section, scalar(k) ? scalar(k) : "");

                if (strcmp(full, "processes.max") == 0) {
                        const char *s;
                        uint64_t val;

                        if (c->pids_key && strcmp(c->pids_key, full) != 0)
                                return fail_at(c, k, err,
                                               "conflicting rules: processes.max and limits.pids "
                                               "set the same limit");
                        c->pids_key = "processes.max";
                        if (want_scalar(c, v, full, &s, err) < 0)
                                return -1;
                        if (parse_count(s, 4194304, &val) < 0)
                                return fail_at(c, v, err, "bad count `%s`", s);
                        c->pol->limits[LIM_PIDS] =
                            (struct pol_limit){true, val, -1, origin(c, k, full)};
                        continue;
                }
                if (apply_surface(c, k, v, full, err) < 0)
                        return -1;
        }
        return 0;
}

/* ---- limits ---- */

static const struct {
        const char *key;
        enum pol_limit_id id;
        int kind; /* 0 size, 1 count, 2 duration, 3 cpu cores, 4 io weight */
} limit_keys[] = {
    {"memory", LIM_MEMORY, 0},     {"swap", LIM_SWAP, 0},           {"cpu", LIM_CPU, 3},
    {"pids", LIM_PIDS, 1},         {"io-weight", LIM_IO_WEIGHT, 4}, {"time", LIM_TIME, 2},
    {"open-files", LIM_NOFILE, 1}, {"disk", LIM_DISK, 0},
};

static int limit_value(struct ctx *c, yaml_node_t *v, int kind, const char *key, uint64_t *out,
                       sbx_error **err)
{
        const char *s;
        char *end;
        double cores;

        if (want_scalar(c, v, key, &s, err) < 0)
                return -1;
        switch (kind) {
        case 0:
                if (sbx_units_size(s, out) < 0)
                        return fail_at(c, v, err, "bad size `%s` (examples: 512MiB, 1GiB, 0)", s);
                return 0;
        case 2:
                if (sbx_units_duration(s, out) < 0 || *out == 0)
                        return fail_at(c, v, err, "bad duration `%s` (examples: 300s, 5m, 1h)", s);
                return 0;
        case 3:
                errno = 0;
                cores = strtod(s, &end);
                if (errno != 0 || end == s || *end != '\0' || !(cores >= 0.01) || cores > 1024)
                        return fail_at(c, v, err, "bad cpu count `%s` (examples: 1, 0.5, 2)", s);
                *out = (uint64_t)llround(cores * (double)c->pol->cpu_period);
                return 0;
        case 4:
                if (parse_count(s, 10000, out) < 0 || *out == 0)
                        return fail_at(c, v, err, "bad io weight `%s` (1..10000)", s);
                return 0;
        default:
                if (parse_count(s, UINT32_MAX, out) < 0 || *out == 0)
                        return fail_at(c, v, err, "bad count `%s`", s);
                return 0;
        }
}

static int parse_enforcement(struct ctx *c, yaml_node_t *v, bool *best_effort, sbx_error **err)
{
        const char *s;

        if (want_scalar(c, v, "enforcement", &s, err) < 0)
                return -1;
        if (strcmp(s, "strict") == 0)
                *best_effort = false;
        else if (strcmp(s, "best-effort") == 0)
                *best_effort = true;
        else
                return fail_at(c, v, err, "enforcement is strict or best-effort, not `%s`", s);
        return 0;
}

static int one_limit(struct ctx *c, yaml_node_t *k, yaml_node_t *v, size_t li, const char *alias,
                     sbx_error **err)
{
        cleanup_free char *key =
            alias ? xstrdup(alias) : xasprintf("limits.%s", limit_keys[li].key);
        struct pol_limit lim = {true, 0, -1, origin(c, k, key)};
        yaml_node_t *val = v;

        if (v->type == YAML_MAPPING_NODE) {
                val = NULL;
                for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
                     p < v->data.mapping.pairs.top; p++) {
                        yaml_node_t *kk = node(c, p->key), *vv = node(c, p->value);
                        const char *ks = scalar(kk) ? scalar(kk) : "";
                        bool be;

                        if (strcmp(ks, "value") == 0) {
                                val = vv;
                        } else if (strcmp(ks, "enforcement") == 0) {
                                if (parse_enforcement(c, vv, &be, err) < 0)
                                        return -1;
                                lim.best_effort = be;
                        } else {
                                return fail_at(c, kk, err, "unknown key `%s` in %s", ks, key);
                        }
                }
                if (val == NULL)
                        return fail_at(c, v, err, "%s needs `value:`", key);
        }
        if (scalar(val) && strcmp(scalar(val), "none") == 0) {
                lim.set = false;
        } else if (limit_value(c, val, limit_keys[li].kind, key, &lim.value, err) < 0) {
                return -1;
        }
        c->pol->limits[limit_keys[li].id] = lim;
        return 0;
}

static int section_limits(struct ctx *c, yaml_node_t *n, sbx_error **err)
{
        if (want_type(c, n, YAML_MAPPING_NODE, "limits", err) < 0)
                return -1;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
                const char *ks = scalar(k) ? scalar(k) : "";
                size_t i;

                for (i = 0; i < ARRAY_SIZE(limit_keys); i++)
                        if (strcmp(ks, limit_keys[i].key) == 0)
                                break;
                if (i == ARRAY_SIZE(limit_keys))
                        return fail_at(c, k, err, "unknown key `%s` in limits", ks);
                if (limit_keys[i].id == LIM_PIDS) {
                        if (c->pids_key && strcmp(c->pids_key, "limits.pids") != 0)
                                return fail_at(c, k, err,
                                               "conflicting rules: processes.max and limits.pids "
                                               "set the same limit");
                        c->pids_key = "limits.pids";
                }
                if (one_limit(c, k, v, i, NULL, err) < 0)
                        return -1;
        }
        return 0;
}

/* ---- filesystem ---- */

static int abs_path(struct ctx *c, yaml_node_t *v, const char *key, const char **out,
                    sbx_error **err)
{
        if (want_scalar(c, v, key, out, err) < 0)
                return -1;
        size_t n = strlen(*out);

        if ((*out)[0] != '/' || strstr(*out, "/../") ||
            (n >= 3 && strcmp(*out + n - 3, "/..") == 0))
                return fail_at(c, v, err, "`%s` must be an absolute path without `..`", *out);
        return 0;
}

/* Insert or replace by path. */
static void upsert_path(struct pol_path **arr, size_t *n, struct pol_path *p)
{
        for (size_t i = 0; i < *n; i++)
                if (strcmp((*arr)[i].path, p->path) == 0) {
                        free((*arr)[i].path);
                        free((*arr)[i].source);
                        (*arr)[i] = *p;
                        return;
                }
        *arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
        (*arr)[(*n)++] = *p;
}

/* One entry of writable/binds/volumes: kind 0 writable, 1 bind, 2 volume. */
static int path_entry(struct ctx *c, yaml_node_t *n, int kind, sbx_error **err)
{
        static const char *const keys[] = {"filesystem.writable", "filesystem.binds",
                                           "filesystem.volumes"};
        const char *path = NULL, *source = NULL, *s;
        struct pol_path p = {0};

        if (want_type(c, n, YAML_MAPPING_NODE, keys[kind], err) < 0)
                return -1;
        p.writable = kind == 0;
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top;
             q++) {
                yaml_node_t *k = node(c, q->key), *v = node(c, q->value);
                const char *ks = scalar(k) ? scalar(k) : "";

                if ((kind == 0 && strcmp(ks, "path") == 0) ||
                    (kind == 1 && strcmp(ks, "dest") == 0) ||
                    (kind == 2 && strcmp(ks, "host") == 0)) {
                        if (abs_path(c, v, ks, &path, err) < 0)
                                return -1;
                } else if (kind == 1 && strcmp(ks, "source") == 0) {
                        if (abs_path(c, v, ks, &source, err) < 0)
                                return -1;
                } else if (kind == 0 && strcmp(ks, "size") == 0) {
                        if (want_scalar(c, v, ks, &s, err) < 0)
                                return -1;
                        if (sbx_units_size(s, &p.size) < 0 || p.size == 0)
                                return fail_at(c, v, err, "bad size `%s` (examples: 512MiB, 1GiB)",
                                               s);
                } else if (kind != 0 && strcmp(ks, "writable") == 0) {
                        if (want_scalar(c, v, ks, &s, err) < 0)
                                return -1;
                        if (parse_bool(s, &p.writable) < 0)
                                return fail_at(c, v, err, "`writable` is true or false, not `%s`",
                                               s);
                } else {
                        return fail_at(c, k, err, "unknown key `%s` in %s", ks, keys[kind]);
                }
        }
        if (kind == 1 && source == NULL)
                return fail_at(c, n, err, "a bind needs `source:`");
        if (path == NULL && kind == 1)
                path = source;
        if (path == NULL)
                return fail_at(c, n, err, "%s needs `%s:`", keys[kind],
                               kind == 0 ? "path" : "host");
        if (kind == 0 && p.size == 0)
                return fail_at(c, n, err, "a writable path needs `size:`");
        p.path = xstrdup(path);
        p.source = source ? xstrdup(source) : NULL;
        p.origin = origin(c, n, keys[kind]);
        if (kind == 0)
                upsert_path(&c->pol->writable, &c->pol->n_writable, &p);
        else if (kind == 1)
                upsert_path(&c->pol->binds, &c->pol->n_binds, &p);
        else
                upsert_path(&c->pol->volumes, &c->pol->n_volumes, &p);
        return 0;
}

static int section_filesystem(struct ctx *c, yaml_node_t *n, sbx_error **err)
{
        if (want_type(c, n, YAML_MAPPING_NODE, "filesystem", err) < 0)
                return -1;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
                const char *ks = scalar(k) ? scalar(k) : "", *s;
                int kind = -1;

                if (strcmp(ks, "root") == 0) {
                        if (want_scalar(c, v, "filesystem.root", &s, err) < 0)
                                return -1;
                        if (strcmp(s, "ephemeral") == 0)
                                c->pol->root_mode = SBX_ROOT_EPHEMERAL;
                        else if (strcmp(s, "read-only") == 0)
                                c->pol->root_mode = SBX_ROOT_READONLY;
                        else
                                return fail_at(
                                    c, v, err,
                                    "filesystem.root is ephemeral or read-only, not `%s`", s);
                        c->pol->root_origin = origin(c, k, "filesystem.root");
                        continue;
                }
                if (strcmp(ks, "root-size") == 0) {
                        for (size_t i = 0; i < ARRAY_SIZE(limit_keys); i++)
                                if (limit_keys[i].id == LIM_DISK &&
                                    one_limit(c, k, v, i, "filesystem.root-size", err) < 0)
                                        return -1;
                        continue;
                }
                if (strcmp(ks, "writable") == 0)
                        kind = 0;
                else if (strcmp(ks, "binds") == 0)
                        kind = 1;
                else if (strcmp(ks, "volumes") == 0)
                        kind = 2;
                else
                        return fail_at(c, k, err, "unknown key `%s` in filesystem", ks);
                if (want_type(c, v, YAML_SEQUENCE_NODE, ks, err) < 0)
                        return -1;
                for (yaml_node_item_t *it = v->data.sequence.items.start;
                     it < v->data.sequence.items.top; it++)
                        if (path_entry(c, node(c, *it), kind, err) < 0)
                                return -1;
        }
        return 0;
}

/* ---- privileges, identity, environment ---- */

static int cap_from_name(const char *s)
{
        char buf[64];

        if (strncasecmp(s, "CAP_", 4) != 0) {
                snprintf(buf, sizeof(buf), "CAP_%s", s);
                s = buf;
        }
        for (const struct pol_cap *c = pol_caps; c->name; c++)
                if (strcasecmp(c->name, s) == 0)
                        return c->nr;
        return -1;
}

static int section_privileges(struct ctx *c, yaml_node_t *n, sbx_error **err)
{
        if (want_type(c, n, YAML_MAPPING_NODE, "privileges", err) < 0)
                return -1;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
                const char *ks = scalar(k) ? scalar(k) : "", *s;
                bool b;

                if (strcmp(ks, "no-new-privileges") == 0) {
                        if (want_scalar(c, v, ks, &s, err) < 0)
                                return -1;
                        if (parse_bool(s, &b) < 0)
                                return fail_at(c, v, err, "`%s` is true or false", ks);
                        if (!b)
                                return fail_at(c, v, err,
                                               "no-new-privileges can not be turned off");
                } else if (strcmp(ks, "capabilities") == 0) {
                        uint64_t caps = 0;

                        if (want_type(c, v, YAML_SEQUENCE_NODE, ks, err) < 0)
                                return -1;
                        for (yaml_node_item_t *it = v->data.sequence.items.start;
                             it < v->data.sequence.items.top; it++) {
                                yaml_node_t *x = node(c, *it);
                                int nr;

                                if (want_scalar(c, x, ks, &s, err) < 0)
                                        return -1;
                                nr = cap_from_name(s);
                                if (nr < 0)
                                        return fail_at(c, x, err, "unknown capability `%s`", s);
                                caps |= 1ULL << nr;
                        }
                        c->pol->caps = caps;
                        c->pol->caps_origin = origin(c, k, "privileges.capabilities");
                } else {
                        return fail_at(c, k, err, "unknown key `%s` in privileges", ks);
                }
        }
        return 0;
}

static int section_identity(struct ctx *c, yaml_node_t *n, sbx_error **err)
{
        if (want_type(c, n, YAML_MAPPING_NODE, "identity", err) < 0)
                return -1;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
                const char *ks = scalar(k) ? scalar(k) : "", *s;
                uint64_t id;

                if (want_scalar(c, v, ks, &s, err) < 0)
                        return -1;
                if (strcmp(ks, "uid") == 0 || strcmp(ks, "gid") == 0) {
                        if (parse_count(s, 65534, &id) < 0)
                                return fail_at(c, v, err, "bad %s `%s` (0..65534)", ks, s);
                        if (ks[0] == 'u')
                                c->pol->uid = (uint32_t)id;
                        else
                                c->pol->gid = (uint32_t)id;
                } else if (strcmp(ks, "user") == 0) {
                        if (s[0] == '\0' || strpbrk(s, ":/\n") != NULL)
                                return fail_at(c, v, err, "bad user name `%s`", s);
                        free(c->pol->user_name);
                        c->pol->user_name = xstrdup(s);
                } else if (strcmp(ks, "home") == 0) {
                        if (abs_path(c, v, ks, &s, err) < 0)
                                return -1;
                        free(c->pol->home);
                        c->pol->home = xstrdup(s);
                } else {
                        return fail_at(c, k, err, "unknown key `%s` in identity", ks);
                }
                c->pol->identity_origin = origin(c, k, "identity");
        }
        return 0;
}

static bool env_name_ok(const char *s)
{
        if (*s == '\0' || (*s >= '0' && *s <= '9'))
                return false;
        for (; *s; s++)
                if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                      (*s >= '0' && *s <= '9')))
                        return false;
        return true;
}

static int env_names(struct ctx *c, yaml_node_t *v, const char *key, char ***out, bool replace,
                     sbx_error **err)
{
        const char *s;

        if (want_type(c, v, YAML_SEQUENCE_NODE, key, err) < 0)
                return -1;
        if (replace) {
                strv_free(*out);
                *out = xcalloc(1, sizeof(char *));
        }
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
                yaml_node_t *x = node(c, *it);
                bool dup = false;

                if (want_scalar(c, x, key, &s, err) < 0)
                        return -1;
                if (!env_name_ok(s))
                        return fail_at(c, x, err, "bad variable name `%s`", s);
                for (size_t i = 0; *out && (*out)[i]; i++)
                        dup |= strcmp((*out)[i], s) == 0;
                if (!dup)
                        *out = strv_push(*out, xstrdup(s));
        }
        return 0;
}

static int section_environment(struct ctx *c, yaml_node_t *n, sbx_error **err)
{
        if (want_type(c, n, YAML_MAPPING_NODE, "environment", err) < 0)
                return -1;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
                const char *ks = scalar(k) ? scalar(k) : "";

                c->pol->env_origin = origin(c, k, "environment");
                if (strcmp(ks, "pass") == 0) {
                        if (env_names(c, v, "environment.pass", &c->pol->env_pass, false, err) < 0)
                                return -1;
                } else if (strcmp(ks, "allow") == 0) {
                        if (env_names(c, v, "environment.allow", &c->pol->env_allow, true, err) < 0)
                                return -1;
                        c->pol->env_allow_set = true;
                } else if (strcmp(ks, "set") == 0) {
                        if (want_type(c, v, YAML_MAPPING_NODE, "environment.set", err) < 0)
                                return -1;
                        for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
                             q < v->data.mapping.pairs.top; q++) {
                                yaml_node_t *kk = node(c, q->key), *vv = node(c, q->value);
                                const char *name = scalar(kk), *val;
                                size_t len, i;

                                if (name == NULL || !env_name_ok(name))
                                        return fail_at(c, kk, err, "bad variable name `%s`",
                                                       name ? name : "");
                                if (want_scalar(c, vv, name, &val, err) < 0)
                                        return -1;
                                len = strlen(name);
                                for (i = 0; c->pol->env_set && c->pol->env_set[i]; i++)
                                        if (strncmp(c->pol->env_set[i], name, len) == 0 &&
                                            c->pol->env_set[i][len] == '=')
                                                break;
                                if (c->pol->env_set && c->pol->env_set[i]) {
                                        free(c->pol->env_set[i]);
                                        c->pol->env_set[i] = xasprintf("%s=%s", name, val);
                                } else {
                                        c->pol->env_set = strv_push(c->pol->env_set,
                                                                    xasprintf("%s=%s", name, val));
                                }
                        }
                } else {
                        return fail_at(c, k, err, "unknown key `%s` in environment", ks);
                }
        }
        return 0;
}

/* ---- top level ---- */

static int top_scalar(struct ctx *c, yaml_node_t *k, yaml_node_t *v, const char *ks,
                      sbx_error **err)
{
        const char *s;

        if (want_scalar(c, v, ks, &s, err) < 0)
                return -1;
        if (strcmp(ks, "network") == 0) {
                if (strcmp(s, "none") == 0)
                        c->pol->net = SBX_NET_NONE;
                else if (strcmp(s, "loopback") == 0)
                        c->pol->net = SBX_NET_LOOPBACK;
                else
                        return fail_at(c, v, err, "network is none or loopback, not `%s`", s);
                c->pol->net_origin = origin(c, k, "network");
        } else if (strcmp(ks, "audit") == 0) {
                if (strcmp(s, "none") == 0)
                        c->pol->audit = SBX_AUDIT_NONE;
                else if (strcmp(s, "denied") == 0)
                        c->pol->audit = SBX_AUDIT_DENIED;
                else if (strcmp(s, "all") == 0)
                        c->pol->audit = SBX_AUDIT_ALL;
                else
                        return fail_at(c, v, err, "audit is none, denied or all, not `%s`", s);
                c->pol->audit_origin = origin(c, k, "audit");
        } else if (strcmp(ks, "enforcement") == 0) {
                if (parse_enforcement(c, v, &c->pol->best_effort, err) < 0)
                        return -1;
                c->pol->enforcement_origin = origin(c, k, "enforcement");
        }
        return 0; /* name, description: informational */
}

static int apply_key(struct ctx *c, yaml_node_t *k, yaml_node_t *v, sbx_error **err)
{
        const char *ks = scalar(k);

        if (ks == NULL)
                return fail_at(c, k, err, "keys must be plain names");
        if (strcmp(ks, "sbx-policy") == 0 || strcmp(ks, "extends") == 0)
                return 0; /* handled first */
        if (strcmp(ks, "network") == 0 || strcmp(ks, "audit") == 0 ||
            strcmp(ks, "enforcement") == 0 || strcmp(ks, "name") == 0 ||
            strcmp(ks, "description") == 0)
                return top_scalar(c, k, v, ks, err);
        if (strcmp(ks, "kernel") == 0 || strcmp(ks, "processes") == 0)
                return section_surfaces(c, v, ks, err);
        if (strcmp(ks, "syscalls") == 0)
                return section_syscalls(c, v, err);
        if (strcmp(ks, "limits") == 0)
                return section_limits(c, v, err);
        if (strcmp(ks, "filesystem") == 0)
                return section_filesystem(c, v, err);
        if (strcmp(ks, "privileges") == 0)
                return section_privileges(c, v, err);
        if (strcmp(ks, "identity") == 0)
                return section_identity(c, v, err);
        if (strcmp(ks, "environment") == 0)
                return section_environment(c, v, err);
        return fail_at(c, k, err, "unknown key `%s`", ks);
}

static int do_extends(struct ctx *c, yaml_node_t *v, sbx_error **err)
{
        if (v->type == YAML_SCALAR_NODE)
                return load_named(c->ld, scalar(v), c->dir, c, v, err);
        if (want_type(c, v, YAML_SEQUENCE_NODE, "extends", err) < 0)
                return -1;
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
                yaml_node_t *x = node(c, *it);
                const char *s;

                if (want_scalar(c, x, "extends", &s, err) < 0 ||
                    load_named(c->ld, s, c->dir, c, x, err) < 0)
                        return -1;
        }
        return 0;
}

static int apply_document(struct ctx *c, sbx_error **err)
{
        yaml_node_t *root = yaml_document_get_root_node(c->doc), *version = NULL, *ext = NULL;

        if (root == NULL)
                return sbx_fail(err, "%s:1:1: empty policy (it needs at least `sbx-policy: 1`)",
                                c->file);
        if (want_type(c, root, YAML_MAPPING_NODE, "policy", err) < 0)
                return -1;
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
                const char *ks = scalar(node(c, p->key));

                if (ks && strcmp(ks, "sbx-policy") == 0)
                        version = node(c, p->value);
                else if (ks && strcmp(ks, "extends") == 0)
                        ext = node(c, p->value);
        }
        if (version == NULL)
                return fail_at(c, root, err, "missing `sbx-policy: 1` (the language version)");
        if (scalar(version) == NULL || strcmp(scalar(version), "1") != 0)
                return fail_at(c, version, err, "unsupported sbx-policy version `%s` (expected 1)",
                               scalar(version) ? scalar(version) : "");
        if (ext && do_extends(c, ext, err) < 0)
                return -1;
        c->layer = ++c->pol->n_layers;
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++)
                if (apply_key(c, node(c, p->key), node(c, p->value), err) < 0)
                        return -1;
        return 0;
}

/* Parse one text and apply it (with its parents) as layers. */
static int load_text(struct loader *ld, const char *file, const char *dir, const char *text,
                     size_t len, sbx_error **err)
{
        yaml_parser_t parser;
        yaml_document_t doc;
        struct ctx c = {.ld = ld, .pol = ld->pol, .file = file, .dir = dir, .doc = &doc};
        int r;

        ld->texts = xrealloc(ld->texts, ld->texts_len + len + 1);
        memcpy(ld->texts + ld->texts_len, text, len);
        ld->texts_len += len;
        if (memchr(text, '\0', len) != NULL)
                return sbx_fail(err, "%s:1:1: policy text contains a NUL byte", file);
        yaml_parser_initialize(&parser);
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        if (!yaml_parser_load(&parser, &doc)) {
                r = sbx_fail(err, "%s:%zu:%zu: %s%s%s", file, parser.problem_mark.line + 1,
                             parser.problem_mark.column + 1,
                             parser.problem ? parser.problem : "invalid YAML",
                             parser.context ? " " : "", parser.context ? parser.context : "");
                yaml_parser_delete(&parser);
                return r;
        }
        r = apply_document(&c, err);
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        return r;
}

static bool is_file_name(const char *name)
{
        size_t n = strlen(name);

        return strchr(name, '/') != NULL || (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
               (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static const struct sbx_builtin_policy *builtin_find(const char *name)
{
        for (const struct sbx_builtin_policy *b = sbx_builtin_policies; b->name; b++)
                if (strcmp(b->name, name) == 0)
                        return b;
        return NULL;
}

static int push_id(struct loader *ld, const char *id, struct ctx *from, yaml_node_t *at,
                   sbx_error **err)
{
        cleanup_free char *chain = NULL;

        for (size_t i = 0; i < ld->depth; i++)
                if (strcmp(ld->stack[i], id) == 0) {
                        chain = xstrdup(ld->stack[i]);
                        for (size_t j = i + 1; j < ld->depth; j++) {
                                char *n = xasprintf("%s -> %s", chain, ld->stack[j]);
                                free(chain);
                                chain = n;
                        }
                        return fail_at(from, at, err, "cycle in extends: %s -> %s", chain, id);
                }
        if (ld->depth == MAX_EXTENDS_DEPTH)
                return fail_at(from, at, err, "extends nested deeper than %d", MAX_EXTENDS_DEPTH);
        ld->stack[ld->depth++] = id;
        return 0;
}

/* Load NAME (built-in or path) as parent of `from` (NULL for the root). */
static int load_named(struct loader *ld, const char *name, const char *from_dir, struct ctx *from,
                      yaml_node_t *at, sbx_error **err)
{
        const struct sbx_builtin_policy *b;
        cleanup_free char *path = NULL, *real = NULL, *text = NULL, *dircopy = NULL;
        size_t len;
        int r;

        if (!is_file_name(name)) {
                b = builtin_find(name);
                if (b == NULL) {
                        if (from)
                                return fail_at(
                                    from, at, err,
                                    "unknown built-in policy `%s` (see `sbx policy list`)", name);
                        return sbx_fail(err, "unknown built-in policy `%s` (see `sbx policy list`)",
                                        name);
                }
                if (from && push_id(ld, b->filename, from, at, err) < 0)
                        return -1;
                if (!from)
                        ld->stack[ld->depth++] = b->filename;
                r = load_text(ld, b->filename, NULL, b->text, b->len, err);
                ld->depth--;
                return r;
        }
        if (from && from_dir == NULL)
                return fail_at(from, at, err, "a built-in policy can only extend built-in ones");
        path = (name[0] == '/' || from_dir == NULL) ? xstrdup(name)
                                                    : xasprintf("%s/%s", from_dir, name);
        real = realpath(path, NULL);
        if (real == NULL) {
                if (from)
                        return fail_at(from, at, err, "extends `%s`: %s", path, strerror(errno));
                return sbx_fail_errno(err, errno, "open `%s`", path);
        }
        if (from && push_id(ld, real, from, at, err) < 0)
                return -1;
        if (!from)
                ld->stack[ld->depth++] = real;
        text = read_file_at(AT_FDCWD, real, &len);
        if (text == NULL) {
                ld->depth--;
                return sbx_fail_errno(err, errno, "read `%s`", path);
        }
        dircopy = xstrdup(path);
        r = load_text(ld, path, dirname(dircopy), text, len, err);
        ld->depth--;
        return r;
}

static sbx_policy *policy_new(void)
{
        sbx_policy *pol = xcalloc(1, sizeof(*pol));

        pol->default_action = POL_ACT_ERRNO(ENOSYS);
        pol->default_origin = "built-in";
        pol->net = SBX_NET_NONE;
        pol->root_mode = SBX_ROOT_EPHEMERAL;
        pol->cpu_period = 100000;
        pol->no_new_privs = true;
        pol->uid = pol->gid = 1000;
        pol->user_name = xstrdup("user");
        pol->home = xstrdup("/home/user");
        pol->surface_state = xmalloc(pol_n_surfaces * sizeof(int));
        pol->surface_origin = xcalloc(pol_n_surfaces, sizeof(char *));
        for (size_t i = 0; i < pol_n_surfaces; i++)
                pol->surface_state[i] = -1;
        return pol;
}

static void free_paths(struct pol_path *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(p[i].path);
                free(p[i].source);
        }
        free(p);
}

void sbx_policy_free(sbx_policy *pol)
{
        if (pol == NULL)
                return;
        for (size_t i = 0; i < POL_NR_MAX; i++)
                free(pol->sys[i].rules);
        for (size_t i = 0; i < pol->n_pool; i++)
                free(pol->pool[i]);
        free(pol->pool);
        free(pol->surface_state);
        free(pol->surface_origin);
        free(pol->name);
        free(pol->source);
        free(pol->user_name);
        free(pol->home);
        free_paths(pol->writable, pol->n_writable);
        free_paths(pol->binds, pol->n_binds);
        free_paths(pol->volumes, pol->n_volumes);
        strv_free(pol->env_set);
        strv_free(pol->env_pass);
        strv_free(pol->env_allow);
        free(pol);
}

static char *base_name(const char *path)
{
        const char *b = strrchr(path, '/');
        char *s = xstrdup(b ? b + 1 : path), *dot = strrchr(s, '.');

        if (dot && (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0))
                *dot = '\0';
        return s;
}

static int finish(struct loader *ld, const char *name, const char *source, sbx_policy **out)
{
        sha256_hex(ld->texts ? ld->texts : "", ld->texts_len, ld->pol->sha256);
        free(ld->texts);
        ld->pol->name = base_name(name);
        ld->pol->source = xstrdup(source);
        *out = ld->pol;
        return 0;
}

int sbx_policy_load(const char *name, sbx_policy **out, sbx_error **err)
{
        struct loader ld = {.pol = policy_new()};

        if (load_named(&ld, name, NULL, NULL, NULL, err) < 0) {
                free(ld.texts);
                sbx_policy_free(ld.pol);
                return -1;
        }
        return finish(&ld, name, is_file_name(name) ? name : "built-in", out);
}

int sbx_policy_load_string(const char *filename, const char *text, size_t len, sbx_policy **out,
                           sbx_error **err)
{
        struct loader ld = {.pol = policy_new()};
        cleanup_free char *dir = NULL;
        char *slash;

        dir = xstrdup(filename);
        slash = strrchr(dir, '/');
        if (slash)
                *slash = '\0';
        else
                strcpy(dir, ".");
        ld.stack[ld.depth++] = filename;
        if (load_text(&ld, filename, dir, text, len, err) < 0) {
                free(ld.texts);
                sbx_policy_free(ld.pol);
                return -1;
        }
        return finish(&ld, filename, filename, out);
}

const char *const *sbx_policy_builtin_names(void)
{
        static const char *names[64];

        if (names[0] == NULL) {
                size_t i = 0;

                for (const struct sbx_builtin_policy *b = sbx_builtin_policies;
                     b->name && i + 1 < ARRAY_SIZE(names); b++)
                        names[i++] = b->name;
        }
        return names;
}
