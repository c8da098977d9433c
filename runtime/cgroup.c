/* cgroup.c - one cgroup v2 directory per sandbox, written through the
 * kernel's file interface.
 *
 * Why not libcgroup on this path: cgroup_init() parses every mount and every
 * controller of the host and builds its tables on each call, which costs more
 * than the whole rest of the spin-up (see docs/architecture.md for the
 * numbers); and what sbx needs is five file writes into a directory it
 * created itself.  The sandbox is placed in its cgroup atomically by clone3
 * (CLONE_INTO_CGROUP), so no process ever runs outside it.
 *
 * Layout: as root, <cgroup2 mount>/sbx/<id>; the "sbx" level exists so that
 * controllers can be enabled for sandboxes without touching other cgroups'
 * subtree_control below the root.  Rootless, <own cgroup>/sbx-<id> when the
 * caller's cgroup is delegated to it (writable), else no cgroup at all.
 */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

struct sbx_cgroup {
        char *path;
        int dirfd;
};

/* The cgroup2 mount point.  The kernel takes ~0.2 ms to generate
 * /proc/self/mountinfo here, so the two usual places are tried first, each
 * verified to be a cgroup2 file system by its magic number (a guess is
 * never trusted); anything else is found in mountinfo. */
static char *cgroup2_mount(void)
{
        static const char *const usual[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
        cleanup_free char *mi = NULL;

        for (size_t i = 0; i < ARRAY_SIZE(usual); i++) {
                struct statfs sf;
                if (statfs(usual[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
                        return xstrdup(usual[i]);
        }
        mi = read_file_at(AT_FDCWD, "/proc/self/mountinfo", NULL);
        return mi ? sbx_mountinfo_cgroup2(mi) : NULL;
}

static char *parent_dir_of(const char *mnt)
{
        cleanup_free char *self = NULL, *own = NULL;

        if (geteuid() == 0)
                return xasprintf("%s/sbx", mnt);
        self = read_file_at(AT_FDCWD, "/proc/self/cgroup", NULL);
        own = self ? sbx_proc_cgroup_unified(self) : NULL;
        if (own == NULL)
                return NULL;
        return xasprintf("%s%s", mnt, strcmp(own, "/") == 0 ? "" : own);
}

char *sbx_cgroup_parent_dir(void)
{
        cleanup_free char *mnt = cgroup2_mount();
        return mnt ? parent_dir_of(mnt) : NULL;
}

static bool word_in(const char *list, const char *word)
{
        size_t n = strlen(word);
        for (const char *p = list; p && (p = strstr(p, word)) != NULL; p += n) {
                bool start = p == list || p[-1] == ' ' || p[-1] == '\n';
                bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';
                if (start && end)
                        return true;
        }
        return false;
}

/* Make `ctrl` available to children of `dir` (root only: enable it in the
 * subtree_control of the mount's root and of `dir`).  `avail` is the root's
 * cgroup.controllers, read once by the caller. */
static bool enable_controller(const char *mnt, const char *dir, const char *avail, const char *ctrl)
{
        cleanup_free char *plus = xasprintf("+%s", ctrl);
        const char *levels[2] = {mnt, dir};

        if (avail == NULL || !word_in(avail, ctrl))
                return false;
        for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
                cleanup_free char *sc = xasprintf("%s/cgroup.subtree_control", levels[i]);
                cleanup_free char *cur = read_file_at(AT_FDCWD, sc, NULL);
                if (cur && word_in(cur, ctrl))
                        continue;
                if (write_file_at(AT_FDCWD, sc, plus, false, 0) < 0)
                        return false;
        }
        return true;
}

/* Rootless: usable only when the parent already hands the controller down. */
static bool controller_delegated(const char *dir, const char *ctrl)
{
        cleanup_free char *sc = xasprintf("%s/cgroup.subtree_control", dir);
        cleanup_free char *cur = read_file_at(AT_FDCWD, sc, NULL);
        return cur && word_in(cur, ctrl);
}

struct limit_req {
        const char *file; /* memory.max */
        const char *ctrl; /* memory */
        const struct sbx_plan_limit *lim;
        const char *unit;
};

static char *describe(const struct sbx_plan_limit *lim, const char *unit)
{
        return xasprintf("%llu%s (%s)", (unsigned long long)lim->value, unit,
                         lim->origin ? lim->origin : "built-in");
}

/* A limit that can not be applied: error when strict, else degrade. */
static int cannot_apply(const struct limit_req *r, const char *reason, struct sbx_result *res,
                        struct sbx_approx *approx, sbx_error **err)
{
        cleanup_free char *req = describe(r->lim, r->unit);
        cleanup_free char *applied = NULL;

        if (!r->lim->best_effort)
                return sbx_fail(err,
                                "%s %s can not be enforced: %s (mark the limit best-effort in the "
                                "policy to run with an approximation)",
                                r->file, req, reason);
        if (strcmp(r->file, "memory.max") == 0) {
                approx->rlimit_data = r->lim->value;
                applied = xasprintf("RLIMIT_DATA=%llu", (unsigned long long)r->lim->value);
        } else if (strcmp(r->file, "pids.max") == 0) {
                approx->rlimit_nproc = r->lim->value;
                applied = xasprintf("RLIMIT_NPROC=%llu", (unsigned long long)r->lim->value);
        } else {
                applied = xstrdup("none");
        }
        sbx_result_add_degradation(res, r->file, req, reason, applied);
        return 0;
}

static int write_limit(int dirfd, const char *file, const char *value, sbx_error **err)
{
        if (write_file_at(dirfd, file, value, false, 0) < 0)
                return sbx_fail_errno(err, errno, "write `%s` to cgroup file `%s`", value, file);
        return 0;
}

static char *limit_value(const sbx_plan *plan, const struct limit_req *r)
{
        if (strcmp(r->file, "cpu.max") == 0)
                return xasprintf(
                    "%llu %llu", (unsigned long long)r->lim->value,
                    (unsigned long long)(plan->cpu_period ? plan->cpu_period : 100000));
        if (strcmp(r->file, "io.weight") == 0)
                return xasprintf("default %llu", (unsigned long long)r->lim->value);
        return xasprintf("%llu", (unsigned long long)r->lim->value);
}

int sbx_cgroup_create(const char *id, const sbx_plan *plan, struct sbx_result *res,
                      struct sbx_approx *approx, struct sbx_cgroup **out, sbx_error **err)
{
        const struct limit_req reqs[] = {
            {"memory.max", "memory", &plan->memory_max, " bytes"},
            {"memory.swap.max", "memory", &plan->swap_max, " bytes"},
            {"pids.max", "pids", &plan->pids_max, ""},
            {"cpu.max", "cpu", &plan->cpu_quota, "us per period"},
            {"io.weight", "io", &plan->io_weight, ""},
        };
        cleanup_free char *mnt = cgroup2_mount();
        cleanup_free char *parent = NULL, *path = NULL, *avail = NULL;
        cleanup_free char *missing = NULL, *no_ctrl = NULL;
        bool root = geteuid() == 0, usable[ARRAY_SIZE(reqs)], ctrl_ok[ARRAY_SIZE(reqs)];
        cleanup_close int dfd = -1;
        struct sbx_cgroup *cg;

        *out = NULL;
        parent = mnt ? parent_dir_of(mnt) : NULL;
        if (mnt == NULL || parent == NULL) {
                for (size_t i = 0; i < ARRAY_SIZE(reqs); i++)
                        if (reqs[i].lim->set &&
                            cannot_apply(&reqs[i], "no cgroup2 file system is mounted", res, approx,
                                         err) < 0)
                                return -1;
                return 0;
        }
        if (root && mkdir(parent, 0755) < 0 && errno != EEXIST)
                return sbx_fail_errno(err, errno, "create cgroup `%s`", parent);
        path = root ? xasprintf("%s/%s", parent, id) : xasprintf("%s/sbx-%s", parent, id);
        if (mkdir(path, 0755) < 0) {
                int e = errno;
                if (root)
                        return sbx_fail_errno(err, e, "create cgroup `%s`", path);
                /* Rootless without a delegated cgroup: the pid namespace still
                 * guarantees teardown; only limits need the cgroup. */
                cleanup_free char *why = xasprintf("cgroup `%s` is not delegated to uid %u (%s)",
                                                   parent, (unsigned)geteuid(), strerror(e));
                for (size_t i = 0; i < ARRAY_SIZE(reqs); i++)
                        if (reqs[i].lim->set && cannot_apply(&reqs[i], why, res, approx, err) < 0)
                                return -1;
                return 0;
        }
        dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                int e = errno;
                rmdir(path);
                return sbx_fail_errno(err, e, "open cgroup `%s`", path);
        }
        cg = xcalloc(1, sizeof(*cg));
        cg->path = steal_pointer(&path);
        cg->dirfd = steal_fd(&dfd);

        {
                cleanup_free char *cpath = xasprintf("%s/cgroup.controllers", mnt);
                avail = read_file_at(AT_FDCWD, cpath, NULL);
        }
        for (size_t i = 0; i < ARRAY_SIZE(reqs); i++) {
                ctrl_ok[i] = usable[i] = false;
                if (!reqs[i].lim->set)
                        continue;
                ctrl_ok[i] = root ? enable_controller(mnt, parent, avail, reqs[i].ctrl)
                                  : controller_delegated(parent, reqs[i].ctrl);
                usable[i] = ctrl_ok[i] && faccessat(cg->dirfd, reqs[i].file, W_OK, 0) == 0;
                if (!ctrl_ok[i] && (missing == NULL || !word_in(missing, reqs[i].ctrl))) {
                        char *m = xasprintf("%s%s%s", missing ? missing : "", missing ? ", " : "",
                                            reqs[i].ctrl);
                        free(missing);
                        missing = m;
                }
        }
        /* One reason for every limit whose controller is missing, so that a
         * host without them is described once. */
        if (missing)
                no_ctrl = xasprintf("cgroup2 at %s has no %s controller", mnt, missing);
        for (size_t i = 0; i < ARRAY_SIZE(reqs); i++) {
                if (!reqs[i].lim->set)
                        continue;
                if (usable[i]) {
                        cleanup_free char *v = limit_value(plan, &reqs[i]);
                        if (write_limit(cg->dirfd, reqs[i].file, v, err) < 0)
                                goto fail;
                        continue;
                }
                cleanup_free char *no_file =
                    ctrl_ok[i] ? xasprintf("cgroup2 at %s has the %s controller but no %s%s", mnt,
                                           reqs[i].ctrl, reqs[i].file,
                                           strcmp(reqs[i].file, "memory.swap.max") == 0
                                               ? " (no swap accounting)"
                                               : "")
                               : NULL;
                if (cannot_apply(&reqs[i], ctrl_ok[i] ? no_file : no_ctrl, res, approx, err) < 0)
                        goto fail;
        }
        *out = cg;
        return 0;
fail:
        sbx_cgroup_destroy(cg, NULL);
        return -1;
}

int sbx_cgroup_fd(const struct sbx_cgroup *cg)
{
        return cg->dirfd;
}

const char *sbx_cgroup_path(const struct sbx_cgroup *cg)
{
        return cg->path;
}

/* cgroup.kill (Linux 5.14) kills every process of the cgroup and of its
 * descendants at once, so a forking process can not outrun it.  On older
 * kernels: freeze, signal each member, thaw. */
static int kill_dirfd(int dirfd)
{
        cleanup_free char *procs = NULL;

        if (write_file_at(dirfd, "cgroup.kill", "1", false, 0) == 0)
                return 0;
        write_file_at(dirfd, "cgroup.freeze", "1", false, 0);
        procs = read_file_at(dirfd, "cgroup.procs", NULL);
        for (char *p = procs; p && *p;) {
                char *end;
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (pid > 0)
                        kill((pid_t)pid, SIGKILL);
                p = end + (*end == '\n');
        }
        write_file_at(dirfd, "cgroup.freeze", "0", false, 0);
        return 0;
}

int sbx_cgroup_kill(struct sbx_cgroup *cg)
{
        return kill_dirfd(cg->dirfd);
}

static uint64_t stat_key(const char *text, const char *key)
{
        size_t n = strlen(key);
        for (const char *p = text; p && *p;) {
                if (strncmp(p, key, n) == 0 && p[n] == ' ')
                        return strtoull(p + n + 1, NULL, 10);
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        return 0;
}

void sbx_cgroup_usage(struct sbx_cgroup *cg, struct sbx_cgroup_usage *u)
{
        cleanup_free char *cpu = read_file_at(cg->dirfd, "cpu.stat", NULL);
        cleanup_free char *peak = read_file_at(cg->dirfd, "memory.peak", NULL);
        cleanup_free char *events = read_file_at(cg->dirfd, "memory.events", NULL);

        memset(u, 0, sizeof(*u));
        u->memory_peak = peak ? (int64_t)strtoll(peak, NULL, 10) : -1;
        if (cpu) {
                u->cpu_usec = stat_key(cpu, "usage_usec");
                u->cpu_user_usec = stat_key(cpu, "user_usec");
                u->cpu_system_usec = stat_key(cpu, "system_usec");
                u->nr_throttled = stat_key(cpu, "nr_throttled");
                u->throttled_usec = stat_key(cpu, "throttled_usec");
        }
        if (events)
                u->oom_kill = stat_key(events, "oom_kill");
}

/* Wait until cgroup.events says "populated 0" (poll wakes with POLLPRI on
 * each change), at most `ms`. */
static bool wait_empty(int dirfd, int ms)
{
        cleanup_close int fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        struct timespec start, now;

        if (fd < 0)
                return false;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                char buf[256];
                ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
                struct pollfd p = {.fd = fd, .events = POLLPRI};
                int left;

                if (n > 0) {
                        buf[n] = '\0';
                        if (strstr(buf, "populated 0"))
                                return true;
                }
                clock_gettime(CLOCK_MONOTONIC, &now);
                left = ms - (int)((now.tv_sec - start.tv_sec) * 1000 +
                                  (now.tv_nsec - start.tv_nsec) / 1000000);
                if (left <= 0)
                        return false;
                poll(&p, 1, left > 100 ? 100 : left);
        }
}

static int remove_dir(int dirfd, const char *path, sbx_error **err)
{
        /* The kernel removes only an empty cgroup (EBUSY otherwise), and
         * after a normal end the sandbox's is empty already: init, the last
         * of it, is gone.  Killing and waiting are for what is left. */
        if (rmdir(path) == 0 || errno == ENOENT)
                return 0;
        if (errno != EBUSY)
                return sbx_fail_errno(err, errno, "remove cgroup `%s`", path);
        kill_dirfd(dirfd);
        if (!wait_empty(dirfd, 5000))
                kill_dirfd(dirfd);
        for (int i = 0; i < 50; i++) {
                if (rmdir(path) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        break;
                usleep(10000);
        }
        return sbx_fail_errno(err, errno, "remove cgroup `%s`", path);
}

int sbx_cgroup_destroy(struct sbx_cgroup *cg, sbx_error **err)
{
        int r;

        if (cg == NULL)
                return 0;
        r = remove_dir(cg->dirfd, cg->path, err);
        close(cg->dirfd);
        free(cg->path);
        free(cg);
        return r;
}

int sbx_cgroup_remove_path(const char *path, sbx_error **err)
{
        cleanup_close int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : sbx_fail_errno(err, errno, "open cgroup `%s`", path);
        return remove_dir(dfd, path, err);
}
