/* rules.c - the small vocabulary shared by parser, compiler and reports:
 * syscall names, actions, argument conditions, and deciding which rule of a
 * policy applies to one call.
 */
#include "policy-internal.h"
#include "util.h"

#include <ctype.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

int pol_syscall_nr(const char *name)
{
        int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);

        if (nr == __NR_SCMP_ERROR)
                return -1;
        if (nr < 0 || nr >= POL_NR_MAX)
                return -2; /* a pseudo number: the syscall exists on other architectures only */
        return nr;
}

const char *pol_syscall_name(int nr)
{
        /* libseccomp returns allocated names; keep one copy per number. */
        static char *names[POL_NR_MAX];
        static bool filled[POL_NR_MAX];

        if (nr < 0 || nr >= POL_NR_MAX)
                return NULL;
        if (!filled[nr]) {
                names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
                filled[nr] = true;
        }
        return names[nr];
}

int pol_parse_action(const char *s, uint32_t *out)
{
        static const struct {
                const char *name;
                uint32_t act;
        } simple[] = {
            {"allow", POL_ACT_ALLOW},       {"kill-process", POL_ACT_KILL_PROCESS},
            {"kill", POL_ACT_KILL_PROCESS}, {"kill-thread", POL_ACT_KILL_THREAD},
            {"trap", POL_ACT_TRAP},         {"log", POL_ACT_LOG},
            {"notify", POL_ACT_NOTIFY},
        };
        char *end;
        long e;

        for (size_t i = 0; i < ARRAY_SIZE(simple); i++)
                if (strcmp(s, simple[i].name) == 0) {
                        *out = simple[i].act;
                        return 0;
                }
        if (strncmp(s, "errno ", 6) != 0)
                return -1;
        s += 6;
        while (*s == ' ')
                s++;
        e = pol_errno_from_name(s);
        if (e < 0) {
                e = strtol(s, &end, 10);
                if (end == s || *end != '\0' || e <= 0 || e > 4095)
                        return -1;
        }
        *out = POL_ACT_ERRNO(e);
        return 0;
}

const char *pol_action_str(uint32_t act, char *buf, size_t n)
{
        const char *en;

        switch (act & POL_ACT_MASK) {
        case POL_ACT_ALLOW:
                return "allow";
        case POL_ACT_KILL_PROCESS:
                return "kill-process";
        case POL_ACT_KILL_THREAD:
                return "kill-thread";
        case POL_ACT_TRAP:
                return "trap";
        case POL_ACT_LOG:
                return "log";
        case POL_ACT_NOTIFY:
                return "notify";
        case POL_ACT_ERRNO(0):
                en = pol_errno_name(act & 0xffff);
                if (en)
                        snprintf(buf, n, "errno %s", en);
                else
                        snprintf(buf, n, "errno %u", act & 0xffff);
                return buf;
        default:
                snprintf(buf, n, "0x%08x", act);
                return buf;
        }
}

static const char *skip_space(const char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/* VALUE := TERM ('|' TERM)*, TERM := integer | constant name */
static const char *parse_value(const char *s, uint64_t *out, const char **why)
{
        uint64_t v = 0;

        for (;;) {
                char *end;

                s = skip_space(s);
                if (isdigit((unsigned char)*s)) {
                        errno = 0;
                        v |= strtoull(s, &end, 0);
                        if (errno != 0 || end == s) {
                                *why = "bad number";
                                return NULL;
                        }
                        s = end;
                } else if (isalpha((unsigned char)*s) || *s == '_') {
                        const char *b = s;
                        const struct pol_const *c;

                        while (isalnum((unsigned char)*s) || *s == '_')
                                s++;
                        for (c = pol_consts; c->name; c++)
                                if (strlen(c->name) == (size_t)(s - b) &&
                                    strncmp(c->name, b, s - b) == 0)
                                        break;
                        if (c->name == NULL) {
                                *why = "unknown constant";
                                return NULL;
                        }
                        v |= c->value;
                } else {
                        *why = "expected a number or a constant";
                        return NULL;
                }
                s = skip_space(s);
                if (*s != '|')
                        break;
                s++;
        }
        *out = v;
        return s;
}

int pol_parse_cond(const char *s, struct pol_cond *out, const char **why)
{
        static const struct {
                const char *tok;
                enum pol_op op;
        } ops[] = {{"==", POL_OP_EQ}, {"!=", POL_OP_NE}, {"<=", POL_OP_LE},
                   {">=", POL_OP_GE}, {"<", POL_OP_LT},  {">", POL_OP_GT}};
        size_t i;

        memset(out, 0, sizeof(*out));
        s = skip_space(s);
        if (strncmp(s, "arg", 3) != 0 || s[3] < '0' || s[3] > '5') {
                *why = "a condition starts with arg0..arg5";
                return -1;
        }
        out->arg = (unsigned)(s[3] - '0');
        s = skip_space(s + 4);
        if (*s == '&') {
                s = parse_value(s + 1, &out->mask, why);
                if (s == NULL)
                        return -1;
                if (strncmp(s, "==", 2) != 0) {
                        *why = "a masked condition is `argN & MASK == VALUE`";
                        return -1;
                }
                out->op = POL_OP_MASKED_EQ;
                s += 2;
        } else {
                for (i = 0; i < ARRAY_SIZE(ops); i++)
                        if (strncmp(s, ops[i].tok, strlen(ops[i].tok)) == 0)
                                break;
                if (i == ARRAY_SIZE(ops)) {
                        *why = "expected one of == != < <= > >= &";
                        return -1;
                }
                out->op = ops[i].op;
                s += strlen(ops[i].tok);
        }
        s = parse_value(s, &out->value, why);
        if (s == NULL)
                return -1;
        if (*skip_space(s) != '\0') {
                *why = "unexpected text after the value";
                return -1;
        }
        if (out->op == POL_OP_MASKED_EQ && (out->value & ~out->mask) != 0) {
                *why = "the value has bits outside the mask, so it can never match";
                return -1;
        }
        return 0;
}

void pol_cond_str(const struct pol_cond *c, char *buf, size_t n)
{
        static const char *const names[] = {"?", "!=", "<", "<=", "==", ">=", ">", "=="};

        if (c->op == POL_OP_MASKED_EQ)
                snprintf(buf, n, "arg%u & 0x%llx == 0x%llx", c->arg, (unsigned long long)c->mask,
                         (unsigned long long)c->value);
        else
                snprintf(buf, n, "arg%u %s 0x%llx", c->arg, names[c->op],
                         (unsigned long long)c->value);
}

bool pol_cond_match(const struct pol_cond *c, const uint64_t args[6])
{
        uint64_t a = args[c->arg];

        switch (c->op) {
        case POL_OP_NE:
                return a != c->value;
        case POL_OP_LT:
                return a < c->value;
        case POL_OP_LE:
                return a <= c->value;
        case POL_OP_EQ:
                return a == c->value;
        case POL_OP_GE:
                return a >= c->value;
        case POL_OP_GT:
                return a > c->value;
        case POL_OP_MASKED_EQ:
                return (a & c->mask) == c->value;
        default:
                return false;
        }
}

uint32_t pol_decide(const sbx_policy *pol, int nr, const uint64_t args[6], const char **origin)
{
        const struct pol_sys *e;

        if (nr < 0 || nr >= POL_NR_MAX || !pol->sys[nr].set) {
                *origin = pol->default_origin;
                return pol->default_action;
        }
        e = &pol->sys[nr];
        for (size_t i = 0; i < e->n_rules; i++) {
                const struct pol_crule *r = &e->rules[i];
                unsigned k;

                for (k = 0; k < r->n_conds; k++)
                        if (!pol_cond_match(&r->conds[k], args))
                                break;
                if (k == r->n_conds) {
                        *origin = r->origin;
                        return r->action;
                }
        }
        if (e->has_fallback) {
                *origin = e->origin;
                return e->fallback;
        }
        *origin = pol->default_origin;
        return pol->default_action;
}

const char *pol_intern(sbx_policy *pol, char *s)
{
        pol->pool = xrealloc(pol->pool, (pol->n_pool + 1) * sizeof(char *));
        pol->pool[pol->n_pool++] = s;
        return s;
}
