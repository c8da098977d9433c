/* plan-io.c - a compiled plan as bytes, and back.
 *
 * Running a built-in policy would otherwise parse its YAML (and the YAML of
 * what it extends) and rebuild the plan on every `sbx run`: about 0.4 ms,
 * a tenth of a whole sandbox's start.  The plans of the built-in policies
 * are therefore compiled when sbx is built, by a first-stage binary, and
 * embedded in the final one as these bytes (scripts/embed-compiled.sh,
 * precompiled.h).  The format is private to one build: native byte order,
 * no versioning beyond a magic string, never written to disk.  Decoding
 * still checks every length, so damaged bytes fail instead of misreading.
 */
#include "policy-internal.h"
#include "precompiled.h"
#include "util.h"

#include <linux/filter.h>
#include <string.h>

#define PLAN_MAGIC "sbx-plan-1"
#define NO_STRING UINT32_MAX

struct wbuf {
        unsigned char *p;
        size_t len, cap;
};

static void put(struct wbuf *w, const void *data, size_t n)
{
        if (w->len + n > w->cap) {
                w->cap = (w->len + n) * 2;
                w->p = xrealloc(w->p, w->cap);
        }
        memcpy(w->p + w->len, data, n);
        w->len += n;
}

static void put_u64(struct wbuf *w, uint64_t v)
{
        put(w, &v, sizeof(v));
}

static void put_str(struct wbuf *w, const char *s)
{
        uint32_t n = s ? (uint32_t)strlen(s) : NO_STRING;

        put(w, &n, sizeof(n));
        if (s)
                put(w, s, n);
}

static void put_strv(struct wbuf *w, char *const *v)
{
        if (v == NULL) {
                put_u64(w, UINT64_MAX);
                return;
        }
        put_u64(w, strv_len(v));
        for (size_t i = 0; v[i]; i++)
                put_str(w, v[i]);
}

static void put_prog(struct wbuf *w, const struct sock_filter *prog, size_t len)
{
        put_u64(w, prog ? len : UINT64_MAX);
        if (prog)
                put(w, prog, len * sizeof(*prog));
}

static void put_limit(struct wbuf *w, const struct sbx_plan_limit *l)
{
        put_u64(w, l->set);
        put_u64(w, l->best_effort);
        put_u64(w, l->value);
        put_str(w, l->origin);
}

unsigned char *sbx_plan_encode(const sbx_plan *p, size_t *len)
{
        struct wbuf w = {0};

        put_str(&w, PLAN_MAGIC);
        put_str(&w, p->policy_name);
        put_str(&w, p->policy_source);
        put_str(&w, p->policy_sha256);
        put_prog(&w, p->seccomp, p->seccomp_len);
        put_prog(&w, p->seccomp_audit, p->seccomp_audit_len);
        put_u64(&w, p->seccomp_flags);
        put_u64(&w, p->audit);
        put_str(&w, p->seccomp_origin);
        put_limit(&w, &p->memory_max);
        put_limit(&w, &p->swap_max);
        put_limit(&w, &p->pids_max);
        put_limit(&w, &p->cpu_quota);
        put_u64(&w, p->cpu_period);
        put_limit(&w, &p->io_weight);
        put_limit(&w, &p->timeout);
        put_limit(&w, &p->nofile);
        put_u64(&w, p->caps_keep);
        put_u64(&w, p->no_new_privs);
        put_str(&w, p->caps_origin);
        put_u64(&w, p->uid);
        put_u64(&w, p->gid);
        put_str(&w, p->user_name);
        put_str(&w, p->home);
        put_u64(&w, p->root_mode);
        put_u64(&w, p->root_size);
        put_str(&w, p->root_origin);
        put_u64(&w, p->n_tmpfs);
        for (size_t i = 0; i < p->n_tmpfs; i++) {
                put_str(&w, p->tmpfs[i].path);
                put_u64(&w, p->tmpfs[i].size);
                put_str(&w, p->tmpfs[i].origin);
        }
        put_u64(&w, p->n_binds);
        for (size_t i = 0; i < p->n_binds; i++) {
                put_str(&w, p->binds[i].source);
                put_str(&w, p->binds[i].dest);
                put_u64(&w, p->binds[i].writable);
                put_str(&w, p->binds[i].origin);
        }
        put_u64(&w, p->n_volume_rules);
        for (size_t i = 0; i < p->n_volume_rules; i++) {
                put_str(&w, p->volume_rules[i].host_prefix);
                put_u64(&w, p->volume_rules[i].writable);
                put_str(&w, p->volume_rules[i].origin);
        }
        put_u64(&w, p->net);
        put_str(&w, p->net_origin);
        put_strv(&w, p->env_set);
        put_strv(&w, p->env_pass);
        put_strv(&w, p->env_allow);
        *len = w.len;
        return w.p;
}

/* ---- decoding: every reader checks the bytes left and sets ok=false ---- */

struct rbuf {
        const unsigned char *p;
        size_t len, off;
        bool ok;
        struct pol_plan_impl *pi;
};

static bool get(struct rbuf *r, void *out, size_t n)
{
        if (!r->ok || r->len - r->off < n) {
                r->ok = false;
                memset(out, 0, n);
                return false;
        }
        memcpy(out, r->p + r->off, n);
        r->off += n;
        return true;
}

static uint64_t get_u64(struct rbuf *r)
{
        uint64_t v;
        get(r, &v, sizeof(v));
        return v;
}

/* A value of 0..max (an enum, a bool). */
static unsigned get_small(struct rbuf *r, unsigned max)
{
        uint64_t v = get_u64(r);
        if (v > max) {
                r->ok = false;
                return 0;
        }
        return (unsigned)v;
}

static bool get_bool(struct rbuf *r)
{
        return get_small(r, 1) == 1;
}

/* A count of items that each take at least `min` bytes. */
static size_t get_count(struct rbuf *r, size_t min)
{
        uint64_t n = get_u64(r);
        if (!r->ok || n > (r->len - r->off) / min) {
                r->ok = false;
                return 0;
        }
        return (size_t)n;
}

static char *get_str(struct rbuf *r)
{
        uint32_t n;
        char *s;

        if (!get(r, &n, sizeof(n)) || n == NO_STRING)
                return NULL;
        if (r->len - r->off < n) {
                r->ok = false;
                return NULL;
        }
        s = xmalloc((size_t)n + 1);
        memcpy(s, r->p + r->off, n);
        s[n] = '\0';
        r->off += n;
        return s;
}

static sbx_origin get_origin(struct rbuf *r)
{
        cleanup_free char *s = get_str(r);
        return s ? pol_plan_origin(r->pi, s) : NULL;
}

static char **get_strv(struct rbuf *r)
{
        uint64_t n = get_u64(r);
        char **v;

        if (n == UINT64_MAX || !r->ok)
                return NULL;
        if (n > (r->len - r->off) / sizeof(uint32_t)) {
                r->ok = false;
                return NULL;
        }
        v = xcalloc((size_t)n + 1, sizeof(*v));
        for (size_t i = 0; i < n && r->ok; i++)
                v[i] = get_str(r);
        for (size_t i = 0; i < n && r->ok; i++)
                if (v[i] == NULL)
                        r->ok = false;
        return v;
}

static struct sock_filter *get_prog(struct rbuf *r, size_t *len)
{
        uint64_t n = get_u64(r);
        struct sock_filter *prog;

        *len = 0;
        if (n == UINT64_MAX || !r->ok)
                return NULL;
        if (n == 0 || n > BPF_MAXINSNS) {
                r->ok = false;
                return NULL;
        }
        prog = xmalloc((size_t)n * sizeof(*prog));
        if (get(r, prog, (size_t)n * sizeof(*prog)))
                *len = (size_t)n;
        return prog;
}

static void get_limit(struct rbuf *r, struct sbx_plan_limit *l)
{
        l->set = get_bool(r);
        l->best_effort = get_bool(r);
        l->value = get_u64(r);
        l->origin = get_origin(r);
}

int sbx_plan_decode(const unsigned char *bytes, size_t len, sbx_plan **out, sbx_error **err)
{
        struct pol_plan_impl *pi = xcalloc(1, sizeof(*pi));
        struct sbx_plan *p = &pi->pub;
        struct rbuf r = {.p = bytes, .len = len, .ok = true, .pi = pi};
        cleanup_free char *magic = get_str(&r), *sha = NULL;

        if (magic == NULL || strcmp(magic, PLAN_MAGIC) != 0)
                r.ok = false;
        p->policy_name = get_str(&r);
        p->policy_source = get_str(&r);
        sha = get_str(&r);
        if (sha == NULL || strlen(sha) != sizeof(p->policy_sha256) - 1)
                r.ok = false;
        else
                memcpy(p->policy_sha256, sha, sizeof(p->policy_sha256));
        p->seccomp = get_prog(&r, &p->seccomp_len);
        if (p->seccomp == NULL)
                r.ok = false;
        p->seccomp_audit = get_prog(&r, &p->seccomp_audit_len);
        p->seccomp_flags = get_small(&r, UINT32_MAX);
        p->audit = (enum sbx_audit_mode)get_small(&r, SBX_AUDIT_ALL);
        p->seccomp_origin = get_origin(&r);
        get_limit(&r, &p->memory_max);
        get_limit(&r, &p->swap_max);
        get_limit(&r, &p->pids_max);
        get_limit(&r, &p->cpu_quota);
        p->cpu_period = get_u64(&r);
        get_limit(&r, &p->io_weight);
        get_limit(&r, &p->timeout);
        get_limit(&r, &p->nofile);
        p->caps_keep = get_u64(&r);
        p->no_new_privs = get_bool(&r);
        p->caps_origin = get_origin(&r);
        p->uid = get_small(&r, UINT32_MAX);
        p->gid = get_small(&r, UINT32_MAX);
        p->user_name = get_str(&r);
        p->home = get_str(&r);
        p->root_mode = (enum sbx_root_mode)get_small(&r, SBX_ROOT_READONLY);
        p->root_size = get_u64(&r);
        p->root_origin = get_origin(&r);
        /* Each item takes at least its strings' lengths and its numbers. */
        p->n_tmpfs = get_count(&r, 16);
        p->tmpfs = xcalloc(p->n_tmpfs + 1, sizeof(*p->tmpfs));
        for (size_t i = 0; i < p->n_tmpfs && r.ok; i++) {
                p->tmpfs[i].path = get_str(&r);
                p->tmpfs[i].size = get_u64(&r);
                p->tmpfs[i].origin = get_origin(&r);
        }
        p->n_binds = get_count(&r, 20);
        p->binds = xcalloc(p->n_binds + 1, sizeof(*p->binds));
        for (size_t i = 0; i < p->n_binds && r.ok; i++) {
                p->binds[i].source = get_str(&r);
                p->binds[i].dest = get_str(&r);
                p->binds[i].writable = get_bool(&r);
                p->binds[i].origin = get_origin(&r);
        }
        p->n_volume_rules = get_count(&r, 16);
        p->volume_rules = xcalloc(p->n_volume_rules + 1, sizeof(*p->volume_rules));
        for (size_t i = 0; i < p->n_volume_rules && r.ok; i++) {
                p->volume_rules[i].host_prefix = get_str(&r);
                p->volume_rules[i].writable = get_bool(&r);
                p->volume_rules[i].origin = get_origin(&r);
        }
        p->net = (enum sbx_net_mode)get_small(&r, SBX_NET_LOOPBACK);
        p->net_origin = get_origin(&r);
        p->env_set = get_strv(&r);
        p->env_pass = get_strv(&r);
        p->env_allow = get_strv(&r);
        if (!r.ok || r.off != r.len || p->policy_name == NULL || p->user_name == NULL ||
            p->home == NULL) {
                sbx_plan_free(p);
                return sbx_fail(err, "compiled plan: damaged or truncated bytes (%zu of %zu read)",
                                r.off, len);
        }
        *out = p;
        return 0;
}

int sbx_plan_builtin(const char *name, sbx_plan **out, sbx_error **err)
{
        if (sbx_builtin_compiled == NULL)
                return 0;
        for (const struct sbx_builtin_compiled *e = sbx_builtin_compiled; e->name; e++) {
                if (strcmp(e->name, name) != 0)
                        continue;
                if (sbx_plan_decode(e->plan, e->plan_len, out, err) < 0)
                        return sbx_error_prefix(err, "built-in policy `%s`", name);
                return 1;
        }
        return 0;
}
