/* sbx-runtime.h - one-shot sandboxes: namespaces, overlay root, cgroup,
 * capabilities, seccomp, supervisor, teardown.
 *
 * Lifecycle:
 *   sbx_sandbox *sb = sbx_sandbox_new(plan);     plan from sbx_policy_compile (borrowed)
 *   sbx_sandbox_set_argv(sb, argv);              required
 *   sbx_sandbox_set_rootfs_dir(sb, dir)          optional; default: read-only host view
 *     or sbx_sandbox_set_rootfs_layers(sb, name, digest, layers, n)
 *   sbx_sandbox_add_env / add_volume / set_workdir / set_timeout_ms ...
 *   FILE *rec = sbx_result_open_json("-" or path, &err);   before the run
 *   struct sbx_result res;
 *   sbx_sandbox_run(sb, &res, &err);             0: the command ran (res says how it ended)
 *                                                -1: sbx failed before the command ran
 *   sbx_result_write_json(&res, rec, path, &err);
 *   sbx_result_clear(&res);
 *   sbx_sandbox_free(sb);
 *
 * sbx_sandbox_run creates every kernel object it needs and removes every one
 * of them before it returns, on success and on failure alike: cgroup, state
 * directory, processes.  Mounts only ever exist inside the sandbox's own
 * mount namespace and vanish with it.  If the supervisor is killed, the
 * sandbox dies with it (PR_SET_PDEATHSIG on its init) and sbx_gc() removes
 * what is left.
 */
#ifndef SBX_RUNTIME_H
#define SBX_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "sbx-policy.h"

typedef struct sbx_sandbox sbx_sandbox; /* opaque */

/* Exit status of `sbx run` besides the command's own (DESIGN.md). */
#define SBX_EXIT_TIMEOUT 124     /* the time limit ended it */
#define SBX_EXIT_FAILURE 125     /* sbx failed before the command ran */
#define SBX_EXIT_CANNOT_EXEC 126 /* the command exists but could not be executed */
#define SBX_EXIT_NOT_FOUND 127   /* the command was not found in the sandbox */

struct sbx_degradation {
        char *setting;   /* "memory.max" */
        char *requested; /* "1073741824 (default.yaml:20: limits.memory)" */
        char *reason;    /* "cgroup2 at /sys/fs/cgroup/unified has no memory controller" */
        char *applied;   /* "RLIMIT_DATA=1073741824" or "none" */
};

struct sbx_denied_syscall {
        char *name; /* "mount" or "nr 1234" */
        int nr;
        uint32_t arch;
        uint64_t count;
};

struct sbx_result {
        char id[32];
        char *policy_name, *policy_sha256;
        char *rootfs_kind;   /* "host", "dir" or "image" */
        char *rootfs;        /* path or image name */
        char *rootfs_digest; /* image digest, NULL otherwise */
        char **argv;
        int64_t start_ms, end_ms; /* Unix epoch milliseconds */
        int exit_code;            /* -1 when killed by a signal */
        int signal;               /* 0 unless killed by a signal */
        int status;               /* what `sbx run` exits with */
        bool timed_out, oom_killed;
        bool has_cgroup;     /* the usage below came from the sandbox's cgroup */
        int64_t memory_peak; /* bytes, -1 when unknown */
        uint64_t cpu_usec, cpu_user_usec, cpu_system_usec;
        uint64_t nr_throttled, throttled_usec;
        bool audited;
        struct sbx_denied_syscall *denied;
        size_t n_denied;
        struct sbx_degradation *degraded;
        size_t n_degraded;
        char *cgroup_path; /* where the sandbox lived (removed by now) */
        char *message;     /* how it ended, when there is more to say (exec failure) */
};

sbx_sandbox *sbx_sandbox_new(const sbx_plan *plan);
void sbx_sandbox_free(sbx_sandbox *sb);
void sbx_sandbox_set_argv(sbx_sandbox *sb, char *const *argv);
void sbx_sandbox_set_rootfs_dir(sbx_sandbox *sb, const char *dir);
void sbx_sandbox_set_rootfs_layers(sbx_sandbox *sb, const char *name, const char *digest,
                                   char *const *layers, size_t n);
/* "K=V"; refused at run time when the policy's env allow-list lacks K. */
void sbx_sandbox_add_env(sbx_sandbox *sb, const char *kv);
/* SRC:DST[:ro]; checked against the policy's volume rules at run time. */
int sbx_sandbox_add_volume(sbx_sandbox *sb, const char *spec, sbx_error **err);
void sbx_sandbox_set_workdir(sbx_sandbox *sb, const char *dir);
/* Shorten the policy's time limit; a longer one is refused. */
void sbx_sandbox_set_timeout_ms(sbx_sandbox *sb, uint64_t ms);
/* Print degradations to stderr as they are found (default on). */
void sbx_sandbox_set_quiet(sbx_sandbox *sb, bool quiet);
/* The memory of the caller's own command line (main's argv strings): the
 * sandbox's init, a copy of the caller, overwrites it with "sbx-init" so
 * that /proc/1/cmdline inside shows none of the host paths and values it
 * was started with.  NULL: left as it is.  Every setter here copies what it
 * is given, so nothing init uses lives in that memory. */
void sbx_sandbox_set_args_area(sbx_sandbox *sb, char *start, size_t len);
/* Whether the caller keeps the result record's usage (cgroup cpu.stat,
 * memory.peak, memory.events; default on).  Off, they are not read. */
void sbx_sandbox_set_usage(sbx_sandbox *sb, bool usage);

int sbx_sandbox_run(sbx_sandbox *sb, struct sbx_result *res, sbx_error **err);

void sbx_result_clear(struct sbx_result *res);
/* JSON text of the record (caller frees). */
char *sbx_result_to_json(const struct sbx_result *res);
/* Open where the record goes ("-": stdout) before the run, so that a
 * destination that can not be written stops the run before it starts;
 * write puts the record there and closes it (stdout stays open). */
FILE *sbx_result_open_json(const char *path, sbx_error **err);
int sbx_result_write_json(const struct sbx_result *res, FILE *f, const char *path, sbx_error **err);

/* Remove what crashed runs left: state dirs whose supervisor is gone, their
 * cgroups (killed first).  Reports what it removed through `report`. */
int sbx_gc(void (*report)(const char *what, void *arg), void *arg, sbx_error **err);

/* Where state lives: /run/sbx as root, $XDG_RUNTIME_DIR/sbx or /tmp/sbx-UID otherwise. */
char *sbx_state_root(void);

#endif
