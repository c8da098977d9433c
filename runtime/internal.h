/* internal.h - declarations shared by the runtime's own files.  Pure helpers
 * (parse.c, hostinfo.c, idmap.c) are unit-tested without root; the files
 * with side effects (sandbox.c, rootfs.c, cgroup.c, net.c, supervisor.c,
 * state.c) are exercised by the integration tests. */
#ifndef SBX_RUNTIME_INTERNAL_H
#define SBX_RUNTIME_INTERNAL_H

#include "sbx-runtime.h"
#include "util.h"

#include <pthread.h>
#include <semaphore.h>

/* ---- parse.c (pure) ---- */
/* "300", "300s", "1.5m", "250ms", "2h" -> milliseconds (units.h grammar). */
int sbx_parse_duration(const char *s, uint64_t *ms, sbx_error **err);
/* SRC:DST[:ro|:rw] -> parts; both absolute, no "..". */
int sbx_parse_volume(const char *spec, char **src, char **dst, bool *ro, sbx_error **err);

/* ---- hostinfo.c (pure parsers + thin readers) ---- */
/* From /proc/self/mountinfo text: the mount point of the first cgroup2 mount. */
char *sbx_mountinfo_cgroup2(const char *mountinfo);
/* From /proc/self/cgroup text: the unified ("0::") path, e.g. "/user.slice/x". */
char *sbx_proc_cgroup_unified(const char *proc_cgroup);
/* Unescape the octal escapes (\040) of a mountinfo field in place. */
void sbx_mountinfo_unescape(char *s);

/* ---- idmap.c (pure) ---- */
/* inside 0..65535 -> host 2113929216..2113994751 (0x7E000000...): above the
 * ranges useradd hands out in /etc/subuid (100000..600165535) and systemd's
 * container range (524288..1879048191), below its foreign range
 * (2147352576..) and 2^31; checked against /etc/subuid at run time. */
#define SBX_ROOTFUL_HOST_BASE 0x7E000000u
#define SBX_ROOTFUL_RANGE 65536u
struct sbx_idmap {
        char uid_map[64];
        char gid_map[64];
        bool deny_setgroups; /* rootless: must write "deny" to setgroups first */
        uid_t setup_uid;     /* uid the sandbox init switches to inside */
        gid_t setup_gid;
};
/* Compute the maps: as root (host_euid 0) map a whole unprivileged range;
 * otherwise map only the caller's own ids onto the sandbox user. */
void sbx_idmap_compute(uid_t host_euid, gid_t host_egid, uid_t inside_uid, gid_t inside_gid,
                       struct sbx_idmap *out);
/* In /etc/subuid or /etc/subgid text ("name:start:count" lines), the name
 * of the first entry that overlaps [base, base+count), or NULL. */
char *sbx_subid_overlap(const char *text, uint64_t base, uint64_t count);

/* ---- cgroup.c ---- */
struct sbx_cgroup;
struct sbx_cgroup_usage {
        int64_t memory_peak;
        uint64_t cpu_usec, cpu_user_usec, cpu_system_usec, nr_throttled, throttled_usec;
        uint64_t oom_kill;
};
/* rlimit approximations of best-effort limits the cgroup could not apply
 * (0: none); applied to the command before exec. */
struct sbx_approx {
        uint64_t rlimit_data;  /* for memory.max */
        uint64_t rlimit_nproc; /* for pids.max */
};
/* Create the sandbox cgroup and apply the plan's limits; degradations are
 * appended to res (best-effort limits) or returned as errors (strict).
 * *out is NULL (not an error) when no cgroup can be had and the plan asks
 * for no limit that needs one (rootless without delegation). */
int sbx_cgroup_create(const char *id, const sbx_plan *plan, struct sbx_result *res,
                      struct sbx_approx *approx, struct sbx_cgroup **out, sbx_error **err);
int sbx_cgroup_fd(const struct sbx_cgroup *cg);
const char *sbx_cgroup_path(const struct sbx_cgroup *cg);
int sbx_cgroup_kill(struct sbx_cgroup *cg);
void sbx_cgroup_usage(struct sbx_cgroup *cg, struct sbx_cgroup_usage *u);
/* Kill what is left, wait until empty, rmdir; frees cg. */
int sbx_cgroup_destroy(struct sbx_cgroup *cg, sbx_error **err);
/* For gc: kill and remove the cgroup at an absolute path. */
int sbx_cgroup_remove_path(const char *path, sbx_error **err);
/* Where sandbox cgroups are created (NULL when no cgroup2 is mounted). */
char *sbx_cgroup_parent_dir(void);

/* ---- degradations ---- */
void sbx_result_add_degradation(struct sbx_result *res, const char *setting, const char *requested,
                                const char *reason, const char *applied);
/* Print the degradations of res as one warning line (nothing if none). */
void sbx_result_print_degradations(const struct sbx_result *res, FILE *out);

/* ---- net.c ---- */
/* Bring lo up inside the current network namespace (libnl-route-3). */
int sbx_net_loopback_up(sbx_error **err);
/* The sandbox's network namespace, made on a thread of init while init
 * builds the root file system: start runs the thread; enter waits until the
 * namespace exists and moves the caller into it; finish waits for the thread
 * to end (lo is up then, when loopback_up) and fails unless enter succeeded. */
struct sbx_net {
        pthread_t thread;
        sem_t ready; /* posted once the namespace exists, or making it failed */
        bool started, entered, loopback_up;
        int nsfd;
        sbx_error *ns_err; /* set before `ready` is posted */
        sbx_error *lo_err; /* set before the thread ends */
};
int sbx_net_start(struct sbx_net *n, bool loopback_up, sbx_error **err);
int sbx_net_enter(struct sbx_net *n, sbx_error **err);
int sbx_net_finish(struct sbx_net *n, sbx_error **err);

/* ---- rootfs.c (runs inside the new mount namespace) ---- */
struct sbx_rootfs_spec {
        const sbx_plan *plan;
        const char *scratch;  /* host directory the scratch tmpfs is mounted on,
                                 inside the sandbox's mount namespace only */
        const char *hostview; /* skeleton of the host view (hostview.c), or NULL */
        const char *dir;      /* --rootfs DIR, or NULL */
        char *const *layers;  /* image layers (top first), or NULL */
        size_t n_layers;
        const char *hostname;
        struct sbx_volume *volumes;
        size_t n_volumes;
        bool rootless;
        /* Called once the mounts that do not depend on the network namespace
         * are made, before the sysfs (which shows the namespace of the task
         * that mounts it); NULL when the caller is in its namespace already. */
        int (*enter_net)(void *arg, sbx_error **err);
        void *enter_net_arg;
};
struct sbx_volume {
        char *src, *dst;
        bool ro;
};
int sbx_rootfs_setup(const struct sbx_rootfs_spec *spec, sbx_error **err);

/* ---- audit.c ---- */
struct sbx_audit;
struct sbx_audit *sbx_audit_new(const sbx_plan *plan);
void sbx_audit_free(struct sbx_audit *a);
/* Take one notification from `listener`, answer it as the enforcing program
 * would, record it in res.  -1 when there was nothing to take. */
int sbx_audit_handle(struct sbx_audit *a, int listener, struct sbx_result *res);
/* Pass one fd over a unix socket (SCM_RIGHTS); recv returns it, or -1. */
int sbx_send_fd(int sock, int fd);
int sbx_recv_fd(int sock);

/* ---- hostview.c (host side, before clone) ---- */
extern const char *const sbx_host_dirs[]; /* usr, bin, sbin, lib... NULL-terminated */
/* Find or build the skeleton of the host view for this plan, owned by
 * owner:group (the sandbox's root); *out is its absolute path, *lock an fd
 * holding the skeletons' lock shared, to be closed once the sandbox is gone. */
int sbx_hostview_prepare(const sbx_plan *p, uid_t owner, gid_t group, char **out, int *lock,
                         sbx_error **err);
/* Remove every skeleton when no run holds the lock (`sbx gc`). */
int sbx_hostview_gc(void (*report)(const char *what, void *arg), void *arg);
/* rm -rf of dirfd/name, without following symlinks. */
int sbx_remove_tree(int dirfd, const char *name);

/* ---- state.c ---- */
/* Create the state file <state root>/<id> with the supervisor record (and
 * the state root itself, checked). */
int sbx_state_create(const char *id, char **path_out, sbx_error **err);
int sbx_state_set_cgroup(const char *path, const char *cgroup);
/* <state root>/.mnt: the one directory every sandbox mounts its scratch
 * tmpfs on, each in its own mount namespace (mounts are per namespace). */
char *sbx_state_scratch_dir(void);
void sbx_state_remove(const char *path);
void sbx_random_id(char out[13]);
/* "PID STARTTIME\n" of the calling process, for the supervisor record. */
char *sbx_supervisor_record(void);

#endif
