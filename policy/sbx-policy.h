/* sbx-policy.h - governance policy: parse, validate, compile to a plan.
 *
 * Lifecycle:
 *   sbx_policy *pol;
 *   sbx_policy_load("default", &pol, &err);        built-in name, or a file path
 *   sbx_plan *plan;
 *   sbx_policy_compile(pol, &plan, &err);          pure: no syscall is filtered here
 *   ... the runtime reads the plan's fields (read-only) ...
 *   sbx_plan_free(plan);
 *   sbx_policy_free(pol);
 *
 * The plan is data: the runtime (runtime/sbx-runtime.h) applies it, the CLI
 * prints it (explain, compile --format ...).  Every setting carries the rule
 * that produced it ("file:line: key") so that any kernel setting can be
 * explained back to the policy text.
 */
#ifndef SBX_POLICY_H
#define SBX_POLICY_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

typedef struct sbx_policy sbx_policy; /* opaque */
typedef struct sbx_plan sbx_plan;     /* data, documented below */

/* Where a setting came from: "default.yaml:14: limits.memory", or
 * "built-in" for a value no rule set. */
typedef const char *sbx_origin;

/* A resource limit.  set=false: no limit asked for. */
struct sbx_plan_limit {
        bool set;
        bool best_effort; /* enforcement: best-effort for this limit */
        uint64_t value;   /* bytes, count, or microseconds (see field) */
        sbx_origin origin;
};

enum sbx_net_mode {
        SBX_NET_NONE = 0,     /* new netns, lo left down */
        SBX_NET_LOOPBACK = 1, /* new netns, lo up (127.0.0.1 inside only) */
};

enum sbx_root_mode {
        SBX_ROOT_EPHEMERAL = 0, /* overlay, tmpfs upper: writes vanish at teardown */
        SBX_ROOT_READONLY = 1,  /* root mounted read-only; only writable paths take writes */
};

enum sbx_audit_mode {
        SBX_AUDIT_NONE = 0,
        SBX_AUDIT_DENIED = 1, /* record each denied syscall in the result record */
        SBX_AUDIT_ALL = 2,    /* also log allowed ones (SECCOMP_RET_LOG) */
};

struct sbx_plan_tmpfs { /* a writable path inside the sandbox */
        char *path;
        uint64_t size; /* bytes */
        sbx_origin origin;
};

struct sbx_plan_bind { /* a host path the policy binds in (always mounted) */
        char *source, *dest;
        bool writable;
        sbx_origin origin;
};

struct sbx_plan_volume_rule { /* which -v SRC:DST the policy allows */
        char *host_prefix;    /* SRC must be this path or below it */
        bool writable;        /* may be mounted read-write */
        sbx_origin origin;
};

struct sbx_plan {
        char *policy_name;      /* "default", or the file's basename */
        char *policy_source;    /* "built-in" or the path it was loaded from */
        char policy_sha256[65]; /* of the policy text (extends included, in order) */

        /* seccomp: a complete classic-BPF program, architecture checked first */
        struct sock_filter *seccomp; /* enforcing program */
        size_t seccomp_len;
        /* audit == DENIED: same program with every errno-deny turned into
         * SECCOMP_RET_USER_NOTIF; the runtime answers each notification with the
         * action of the enforcing program (run through sbx_bpf_run) and records it. */
        struct sock_filter *seccomp_audit;
        size_t seccomp_audit_len;
        unsigned seccomp_flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
        enum sbx_audit_mode audit;
        sbx_origin seccomp_origin;

        /* cgroup v2 limits (and their rlimit approximations when best-effort) */
        struct sbx_plan_limit memory_max; /* bytes */
        struct sbx_plan_limit swap_max;   /* bytes */
        struct sbx_plan_limit pids_max;   /* count */
        struct sbx_plan_limit cpu_quota;  /* microseconds of CPU per cpu_period */
        uint64_t cpu_period;              /* microseconds, 100000 unless set */
        struct sbx_plan_limit io_weight;  /* 1..10000 */
        struct sbx_plan_limit timeout;    /* wall-clock, milliseconds */
        struct sbx_plan_limit nofile;     /* RLIMIT_NOFILE */

        /* privileges */
        uint64_t caps_keep; /* bit N = keep capability N (inside the userns); default 0 */
        bool no_new_privs;  /* default true; a policy can not turn it off for untrusted code */
        sbx_origin caps_origin;

        /* identity inside */
        uint32_t uid, gid; /* default 1000:1000 */
        char *user_name;   /* "user" */
        char *home;        /* "/home/user" */

        /* filesystem */
        enum sbx_root_mode root_mode;
        uint64_t root_size; /* bytes of the tmpfs that holds the overlay upper */
        sbx_origin root_origin;
        struct sbx_plan_tmpfs *tmpfs; /* writable paths: /tmp, the home directory, ... */
        size_t n_tmpfs;
        struct sbx_plan_bind *binds;
        size_t n_binds;
        struct sbx_plan_volume_rule *volume_rules; /* none: -v is refused */
        size_t n_volume_rules;

        /* network */
        enum sbx_net_mode net;
        sbx_origin net_origin;

        /* environment: fixed values, then host variables passed by name */
        char **env_set;   /* NULL-terminated "K=V" */
        char **env_pass;  /* NULL-terminated names */
        char **env_allow; /* names -e may set; NULL = any */
};

/* Load a built-in policy by name, or a policy file when `name` contains a '/'
 * or ends in .yaml/.yml.  Errors name file:line:column. */
int sbx_policy_load(const char *name, sbx_policy **out, sbx_error **err);
/* Parse policy text held in memory; `filename` is used in messages. */
int sbx_policy_load_string(const char *filename, const char *text, size_t len, sbx_policy **out,
                           sbx_error **err);
void sbx_policy_free(sbx_policy *pol);

/* Compile to a plan (allocates; free with sbx_plan_free). */
int sbx_policy_compile(const sbx_policy *pol, sbx_plan **out, sbx_error **err);
void sbx_plan_free(sbx_plan *plan);

/* A plan as bytes, and back (plan-io.c).  The format belongs to one build
 * of sbx: it is how the plans of the built-in policies are embedded when
 * sbx is built, not an interchange format.  Decoding checks every length
 * and fails on bytes that are not a whole plan. */
unsigned char *sbx_plan_encode(const sbx_plan *plan, size_t *len);
int sbx_plan_decode(const unsigned char *bytes, size_t len, sbx_plan **out, sbx_error **err);
/* The plan of built-in policy `name` compiled when sbx was built: 1 and
 * *out set, or 0 when this binary has none by that name (a first-stage
 * build, or `name` is a file).  Equal to compiling the built-in afresh. */
int sbx_plan_builtin(const char *name, sbx_plan **out, sbx_error **err);

/* Names of the built-in policies, NULL-terminated, static storage. */
const char *const *sbx_policy_builtin_names(void);

/* Run a classic seccomp BPF program on one seccomp_data in user space, the way
 * the kernel would; returns the SECCOMP_RET_* value (action | data). */
struct seccomp_data;
uint32_t sbx_bpf_run(const struct sock_filter *prog, size_t len, const struct seccomp_data *sd);

/* ---- reports for `sbx policy ...` (policy/report.c); they print to `out` ---- */

/* Without `syscall`: every setting and every syscall with the rule that
 * decided it.  With it: the action for that call (run through the compiled
 * program) and the rule (file:line).  args: "arg0=AF_UNIX", "1=0x5412". */
int sbx_policy_explain(const sbx_policy *pol, const sbx_plan *plan, const char *syscall,
                       char *const *args, FILE *out, sbx_error **err);
/* format: "json" (the whole plan), "oci" (runtime-spec fragment: linux.seccomp,
 * linux.resources, process), "pfc" (libseccomp pseudo filter code), "bpf",
 * "plan" (sbx_plan_encode). */
int sbx_policy_export(const sbx_policy *pol, const sbx_plan *plan, const char *format, int fd,
                      sbx_error **err);
/* What b permits that a does not ("+" lines) and what it removes ("-").
 * Returns 1 when b is wider than a in any respect, else 0. */
int sbx_policy_diff(const sbx_policy *a, const sbx_policy *b, FILE *out);
/* Exposure report; returns the overall exposure scaled 0..100. */
int sbx_policy_score(const sbx_policy *pol, FILE *out);
/* Convert a Docker/OCI seccomp JSON profile into sbx policy YAML. */
int sbx_policy_import_docker(const char *path, FILE *out, sbx_error **err);
/* Text of a built-in policy, NULL when there is none by that name. */
const char *sbx_policy_builtin_text(const char *name, size_t *len);

#endif
