/* result.c - the result record of a run (DESIGN.md), encoded with jansson. */
#include "internal.h"

#include <jansson.h>
#include <string.h>
#include <time.h>

void sbx_result_add_degradation(struct sbx_result *res, const char *setting, const char *requested,
                                const char *reason, const char *applied)
{
        struct sbx_degradation *d;

        res->degraded = xrealloc(res->degraded, (res->n_degraded + 1) * sizeof(*res->degraded));
        d = &res->degraded[res->n_degraded++];
        d->setting = xstrdup(setting);
        d->requested = xstrdup(requested);
        d->reason = xstrdup(reason);
        d->applied = xstrdup(applied);
}

/* One line for all of them: a default run on a host without the
 * controllers should say so once, not once per limit.  The record keeps
 * each setting with its rule, reason and approximation. */
void sbx_result_print_degradations(const struct sbx_result *res, FILE *out)
{
        if (res->n_degraded == 0)
                return;
        fprintf(out, "sbx: warning: best-effort limits of policy `%s` not enforced here:",
                res->policy_name ? res->policy_name : "");
        for (size_t i = 0; i < res->n_degraded; i++)
                fprintf(out, "%s %s", i ? "," : "", res->degraded[i].setting);
        for (size_t i = 0; i < res->n_degraded; i++) {
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                        seen = strcmp(res->degraded[j].reason, res->degraded[i].reason) == 0;
                if (!seen)
                        fprintf(out, "; %s", res->degraded[i].reason);
        }
        fputs("; approximated by", out);
        bool any = false;
        for (size_t i = 0; i < res->n_degraded; i++)
                if (strcmp(res->degraded[i].applied, "none") != 0) {
                        fprintf(out, " %s", res->degraded[i].applied);
                        any = true;
                }
        fprintf(out, "%s (details: --json)\n", any ? "" : " nothing");
}

void sbx_result_clear(struct sbx_result *res)
{
        free(res->policy_name);
        free(res->policy_sha256);
        free(res->rootfs_kind);
        free(res->rootfs);
        free(res->rootfs_digest);
        strv_free(res->argv);
        for (size_t i = 0; i < res->n_denied; i++)
                free(res->denied[i].name);
        free(res->denied);
        for (size_t i = 0; i < res->n_degraded; i++) {
                free(res->degraded[i].setting);
                free(res->degraded[i].requested);
                free(res->degraded[i].reason);
                free(res->degraded[i].applied);
        }
        free(res->degraded);
        free(res->cgroup_path);
        free(res->message);
        memset(res, 0, sizeof(*res));
}

static json_t *time_json(int64_t ms)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        char buf[64];

        gmtime_r(&t, &tm);
        snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
        return json_string(buf);
}

/* A JSON string of s.  jansson refuses text that is not UTF-8 (returns
 * NULL, which would drop the member from the record); a command line or path
 * may hold any bytes, so those are written with each byte outside ASCII
 * replaced by '?', rather than lost. */
static json_t *jtext(const char *s)
{
        json_t *j = json_string(s);
        cleanup_free char *copy = NULL;

        if (j != NULL)
                return j;
        copy = xstrdup(s);
        for (char *c = copy; *c; c++)
                if ((unsigned char)*c >= 0x80)
                        *c = '?';
        return json_string(copy);
}

static json_t *str_or_null(const char *s)
{
        return s ? jtext(s) : json_null();
}

char *sbx_result_to_json(const struct sbx_result *r)
{
        json_t *o = json_object(), *argv = json_array(), *deg = json_array();
        json_t *denied = r->audited ? json_array() : json_null();
        char *text;

        for (char **a = r->argv; a && *a; a++)
                json_array_append_new(argv, jtext(*a));
        for (size_t i = 0; i < r->n_degraded; i++)
                json_array_append_new(deg, json_pack("{s:o, s:o, s:o, s:o}", "setting",
                                                     jtext(r->degraded[i].setting), "requested",
                                                     jtext(r->degraded[i].requested), "reason",
                                                     jtext(r->degraded[i].reason), "applied",
                                                     jtext(r->degraded[i].applied)));
        for (size_t i = 0; r->audited && i < r->n_denied; i++)
                json_array_append_new(denied, json_pack("{s:o, s:i, s:s, s:I}", "syscall",
                                                        jtext(r->denied[i].name), "nr",
                                                        r->denied[i].nr, "arch",
                                                        r->denied[i].arch == 0xc000003e   ? "x86_64"
                                                        : r->denied[i].arch == 0x40000003 ? "i386"
                                                                                          : "other",
                                                        "count", (json_int_t)r->denied[i].count));
        json_object_set_new(o, "id", json_string(r->id));
        json_object_set_new(o, "policy",
                            json_pack("{s:o, s:o}", "name", str_or_null(r->policy_name), "sha256",
                                      str_or_null(r->policy_sha256)));
        json_object_set_new(o, "rootfs",
                            json_pack("{s:o, s:o, s:o}", "kind", str_or_null(r->rootfs_kind),
                                      "source", str_or_null(r->rootfs), "digest",
                                      str_or_null(r->rootfs_digest)));
        json_object_set_new(o, "command", argv);
        json_object_set_new(o, "started_at", time_json(r->start_ms));
        json_object_set_new(o, "ended_at", time_json(r->end_ms));
        json_object_set_new(o, "duration_ms", json_integer(r->end_ms - r->start_ms));
        json_object_set_new(o, "exit_code",
                            r->signal || r->exit_code < 0 || r->timed_out
                                ? json_null()
                                : json_integer(r->exit_code));
        json_object_set_new(o, "signal", r->signal ? json_integer(r->signal) : json_null());
        json_object_set_new(o, "status", json_integer(r->status));
        json_object_set_new(o, "timed_out", json_boolean(r->timed_out));
        json_object_set_new(o, "oom_killed", json_boolean(r->oom_killed));
        json_object_set_new(o, "memory_peak_bytes",
                            r->memory_peak >= 0 ? json_integer(r->memory_peak) : json_null());
        json_object_set_new(o, "cpu_time_usec", json_integer((json_int_t)r->cpu_usec));
        json_object_set_new(o, "cpu_user_usec", json_integer((json_int_t)r->cpu_user_usec));
        json_object_set_new(o, "cpu_system_usec", json_integer((json_int_t)r->cpu_system_usec));
        json_object_set_new(o, "cpu_nr_throttled",
                            r->has_cgroup ? json_integer((json_int_t)r->nr_throttled)
                                          : json_null());
        json_object_set_new(o, "cpu_throttled_usec",
                            r->has_cgroup ? json_integer((json_int_t)r->throttled_usec)
                                          : json_null());
        json_object_set_new(o, "usage_source", json_string(r->has_cgroup ? "cgroup" : "rusage"));
        json_object_set_new(o, "cgroup", str_or_null(r->cgroup_path));
        json_object_set_new(o, "denied_syscalls", denied);
        json_object_set_new(o, "degraded", deg);
        json_object_set_new(o, "message", str_or_null(r->message));
        text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (text == NULL)
                abort();
        return text;
}

FILE *sbx_result_open_json(const char *path, sbx_error **err)
{
        FILE *f;

        if (strcmp(path, "-") == 0)
                return stdout;
        f = fopen(path, "we");
        if (f == NULL)
                sbx_fail_errno(err, errno, "result record `%s`", path);
        return f;
}

int sbx_result_write_json(const struct sbx_result *res, FILE *f, const char *path, sbx_error **err)
{
        cleanup_free char *text = sbx_result_to_json(res);
        int r = 0;

        if (fprintf(f, "%s\n", text) < 0 || fflush(f) != 0)
                r = sbx_fail_errno(err, errno, "write result record `%s`", path);
        if (f != stdout && fclose(f) != 0 && r == 0)
                r = sbx_fail_errno(err, errno, "write result record `%s`", path);
        return r;
}
