/* policy-internal.h - the typed policy shared by the parser, the compiler and
 * the reports (explain, diff, score, export).  Not part of the public API.
 *
 * A policy is the result of applying layers in order: the built-in defaults,
 * then every `extends:` parent (recursively), then the file itself.  Each
 * setting remembers the rule that set it last ("file:line: key").
 */
#ifndef SBX_POLICY_INTERNAL_H
#define SBX_POLICY_INTERNAL_H

#include "sbx-policy.h"

#include <stdbool.h>
#include <stdint.h>

/* x86_64 syscall numbers are below this (the highest in 6.x is in the 460s). */
#define POL_NR_MAX 512

/* Kernel return values (SECCOMP_RET_*), identical to libseccomp's SCMP_ACT_*. */
#define POL_ACT_KILL_PROCESS 0x80000000U
#define POL_ACT_KILL_THREAD 0x00000000U
#define POL_ACT_TRAP 0x00030000U
#define POL_ACT_ERRNO(e) (0x00050000U | ((uint32_t)(e)&0xffffU))
#define POL_ACT_NOTIFY 0x7fc00000U
#define POL_ACT_LOG 0x7ffc0000U
#define POL_ACT_ALLOW 0x7fff0000U
#define POL_ACT_MASK 0xffff0000U

enum pol_op { /* values are libseccomp's enum scmp_compare */
              POL_OP_NE = 1,
              POL_OP_LT = 2,
              POL_OP_LE = 3,
              POL_OP_EQ = 4,
              POL_OP_GE = 5,
              POL_OP_GT = 6,
              POL_OP_MASKED_EQ = 7,
};

struct pol_cond {
        unsigned arg; /* 0..5 */
        enum pol_op op;
        uint64_t mask; /* MASKED_EQ only */
        uint64_t value;
};

/* One argument-conditioned rule: all conditions must hold (AND); several
 * rules for one syscall are alternatives (OR). */
struct pol_crule {
        uint32_t action;
        unsigned n_conds;
        struct pol_cond conds[6];
        const char *origin;
};

/* What the policy says about one syscall.  has_fallback=false: nothing
 * unconditional, calls that match no conditional rule get the default. */
struct pol_sys {
        bool set;
        bool has_fallback;
        uint32_t fallback;
        const char *origin; /* of the fallback, or of the first rule */
        struct pol_crule *rules;
        size_t n_rules;
        unsigned layer; /* layer that last decided this syscall */
        int level;      /* within that layer: 1 = via a group, 2 = named */
};

struct pol_limit {
        bool set;
        uint64_t value;
        int best_effort; /* -1: follow the global enforcement */
        const char *origin;
};

struct pol_path {     /* writable path, bind or volume rule */
        char *path;   /* dest for writable/binds; host prefix for volumes */
        char *source; /* binds only */
        uint64_t size;
        bool writable;
        const char *origin;
};

enum pol_limit_id {
        LIM_MEMORY,
        LIM_SWAP,
        LIM_CPU, /* quota in microseconds per cpu_period */
        LIM_PIDS,
        LIM_IO_WEIGHT,
        LIM_TIME, /* milliseconds */
        LIM_NOFILE,
        LIM_DISK, /* bytes of the root tmpfs */
        LIM_COUNT,
};

struct pol_setting { /* an origin for each scalar setting */
        const char *origin;
};

struct sbx_policy {
        char *name;
        char *source; /* "built-in" or a path */
        char sha256[65];
        char **pool; /* every origin string, freed with the policy */
        size_t n_pool;
        unsigned n_layers;

        /* syscalls */
        struct pol_sys sys[POL_NR_MAX];
        uint32_t default_action;
        const char *default_origin;
        /* surfaces: last value set (1 allow, 0 deny, -1 unset) for reports */
        int *surface_state;
        const char **surface_origin;

        /* scalars */
        bool best_effort; /* global enforcement */
        const char *enforcement_origin;
        enum sbx_audit_mode audit;
        const char *audit_origin;
        enum sbx_net_mode net;
        const char *net_origin;
        enum sbx_root_mode root_mode;
        const char *root_origin;
        struct pol_limit limits[LIM_COUNT];
        uint64_t cpu_period;
        uint64_t caps;
        const char *caps_origin;
        bool no_new_privs;
        uint32_t uid, gid;
        char *user_name, *home;
        const char *identity_origin;

        struct pol_path *writable;
        size_t n_writable;
        struct pol_path *binds;
        size_t n_binds;
        struct pol_path *volumes;
        size_t n_volumes;

        char **env_set; /* "K=V" */
        char **env_pass;
        char **env_allow; /* NULL = any */
        bool env_allow_set;
        const char *env_origin;
};

/* ---- data tables (policy/syscall-data.c) ---- */

struct pol_group {
        const char *name; /* "@file-system" */
        const char *description;
        const char *const *syscalls; /* NULL-terminated */
};
extern const struct pol_group pol_groups[];
const struct pol_group *pol_group_find(const char *name);

/* A kernel surface: a high-level switch that expands into syscall rules. */
struct pol_surface_rule {
        const char *syscall;
        const char *action; /* policy syntax: "allow", "errno EPERM", ... */
        const char *when;   /* NULL, or a condition list separated by ';' */
};
struct pol_surface {
        const char *key; /* "kernel.bpf", "processes.tracing" */
        const char *description;
        int weight;                           /* exposure when allowed (policy score) */
        const char *const *syscalls;          /* errno EPERM when denied, allow when allowed */
        const struct pol_surface_rule *deny;  /* further rules when denied */
        const struct pol_surface_rule *allow; /* further rules when allowed */
};
extern const struct pol_surface pol_surfaces[];
extern const size_t pol_n_surfaces;

struct pol_const {
        const char *name;
        uint64_t value;
};
extern const struct pol_const pol_consts[];

struct pol_cap {
        const char *name; /* "CAP_CHOWN" */
        int nr;
        int weight;
};
extern const struct pol_cap pol_caps[];
const char *pol_cap_name(int nr);

/* ---- helpers shared by the policy sources ---- */

/* x86_64 number of a syscall name; -1 unknown everywhere, -2 exists only on
 * other architectures. */
int pol_syscall_nr(const char *name);
/* Name of an x86_64 syscall number, static storage, NULL when none. */
const char *pol_syscall_name(int nr);

/* Parse "allow", "errno EPERM", "errno 38", "kill-process", ... */
int pol_parse_action(const char *s, uint32_t *out);
/* Format an action in policy syntax into buf. */
const char *pol_action_str(uint32_t act, char *buf, size_t n);
/* Parse one condition "arg0 == AF_UNIX", "arg0 & CLONE_NEWUSER == 0". */
int pol_parse_cond(const char *s, struct pol_cond *out, const char **why);
/* Format one condition back in policy syntax. */
void pol_cond_str(const struct pol_cond *c, char *buf, size_t n);
bool pol_cond_match(const struct pol_cond *c, const uint64_t args[6]);

/* The rule of `pol` that decides (nr, args): returns its action and origin. */
uint32_t pol_decide(const sbx_policy *pol, int nr, const uint64_t args[6], const char **origin);

/* Intern a string in the policy's pool. */
const char *pol_intern(sbx_policy *pol, char *s);

/* Compiler internals also used by the reports (compile.c). */
int pol_build_filter(const sbx_policy *pol, void **ctx, bool *marker, sbx_error **err);
int pol_compile_bpf(const sbx_policy *pol, struct sock_filter **prog, size_t *len, sbx_error **err);
/* The same through the per-user program cache (cache.c): loads a program
 * compiled earlier from the same policy text by the same executable. */
int pol_compile_bpf_cached(const sbx_policy *pol, struct sock_filter **prog, size_t *len,
                           sbx_error **err);

/* A plan as allocated by the compiler and the decoder: sbx_plan_free
 * frees the origins through the pool. */
struct pol_plan_impl {
        struct sbx_plan pub; /* first: sbx_plan_free casts back */
        char **pool;
        size_t n_pool;
};
/* A copy of origin s (NULL: "built-in") owned by the plan. */
const char *pol_plan_origin(struct pol_plan_impl *pi, const char *s);

/* Names of errno values the language accepts. */
int pol_errno_from_name(const char *name);
const char *pol_errno_name(int e);

#endif
