/* sandbox.c - create, run and tear down one sandbox.
 *
 * Processes:
 *   supervisor (the `sbx` process)      waits, enforces the deadline, forwards
 *     |                                 signals, collects usage, tears down
 *     +-- init (pid 1 of the sandbox)   builds the mounts, pivots, then forks
 *           +-- command                 drops every privilege, loads the
 *                                       filter and execs CMD
 *
 * The supervisor clones init with clone3() into new user, mount, pid, net,
 * ipc, uts and cgroup namespaces and, with CLONE_INTO_CGROUP, directly into
 * the sandbox cgroup, so no sandbox process ever exists outside it.  Init
 * has PR_SET_PDEATHSIG(SIGKILL): if the supervisor dies, init dies, and the
 * kernel kills everything else in the pid namespace with it.  When the
 * command exits, init reports its wait status and exits, which ends every
 * process it left behind.
 *
 * Messages from the sandbox to the supervisor travel on one pipe as fixed
 * records (one write each, smaller than PIPE_BUF, so never interleaved):
 *   'E' text   init failed before the command ran (sbx exits 125)
 *   'X' errno  execve of the command failed (126 or 127)
 *   'S' status the command's wait status
 */
#include "internal.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

struct sbx_sandbox {
        const sbx_plan *plan;
        char **argv;
        char *rootfs_dir;
        char *image_name, *image_digest;
        char **layers;
        size_t n_layers;
        char **env_extra;
        struct sbx_volume *volumes;
        size_t n_volumes;
        char *workdir;
        uint64_t timeout_ms;
        bool quiet;
        bool no_usage;
        char *args_area; /* the caller's argv strings, overwritten in init */
        size_t args_len;
};

struct msg {
        char type;
        int value;
        char text[480];
};

/* Everything the child needs, computed before clone so the child only
 * makes system calls. */
struct child_ctx {
        const struct sbx_sandbox *sb;
        const sbx_plan *plan;
        struct sbx_idmap idmap;
        struct sbx_approx approx;
        char **envp;
        const char *scratch;
        const char *hostview; /* skeleton of the host view, NULL for other roots */
        char hostname[64];
        int sync_fd, msg_fd;
        int audit_fd; /* unix socket to pass the seccomp listener on, or -1 */
        bool rootless;
};

sbx_sandbox *sbx_sandbox_new(const sbx_plan *plan)
{
        sbx_sandbox *sb = xcalloc(1, sizeof(*sb));
        sb->plan = plan;
        return sb;
}

void sbx_sandbox_free(sbx_sandbox *sb)
{
        if (sb == NULL)
                return;
        strv_free(sb->argv);
        free(sb->rootfs_dir);
        free(sb->image_name);
        free(sb->image_digest);
        strv_free(sb->layers);
        strv_free(sb->env_extra);
        for (size_t i = 0; i < sb->n_volumes; i++) {
                free(sb->volumes[i].src);
                free(sb->volumes[i].dst);
        }
        free(sb->volumes);
        free(sb->workdir);
        free(sb);
}

void sbx_sandbox_set_argv(sbx_sandbox *sb, char *const *argv)
{
        strv_free(sb->argv);
        sb->argv = NULL;
        for (size_t i = 0; argv && argv[i]; i++)
                sb->argv = strv_push(sb->argv, xstrdup(argv[i]));
}

void sbx_sandbox_set_rootfs_dir(sbx_sandbox *sb, const char *dir)
{
        free(sb->rootfs_dir);
        sb->rootfs_dir = dir ? xstrdup(dir) : NULL;
}

void sbx_sandbox_set_rootfs_layers(sbx_sandbox *sb, const char *name, const char *digest,
                                   char *const *layers, size_t n)
{
        free(sb->image_name);
        free(sb->image_digest);
        strv_free(sb->layers);
        sb->image_name = xstrdup(name);
        sb->image_digest = digest ? xstrdup(digest) : NULL;
        sb->layers = NULL;
        for (size_t i = 0; i < n; i++)
                sb->layers = strv_push(sb->layers, xstrdup(layers[i]));
        sb->n_layers = n;
}

void sbx_sandbox_add_env(sbx_sandbox *sb, const char *kv)
{
        sb->env_extra = strv_push(sb->env_extra, xstrdup(kv));
}

int sbx_sandbox_add_volume(sbx_sandbox *sb, const char *spec, sbx_error **err)
{
        struct sbx_volume v;

        if (sbx_parse_volume(spec, &v.src, &v.dst, &v.ro, err) < 0)
                return -1;
        sb->volumes = xrealloc(sb->volumes, (sb->n_volumes + 1) * sizeof(*sb->volumes));
        sb->volumes[sb->n_volumes++] = v;
        return 0;
}

void sbx_sandbox_set_workdir(sbx_sandbox *sb, const char *dir)
{
        free(sb->workdir);
        sb->workdir = dir ? xstrdup(dir) : NULL;
}

void sbx_sandbox_set_timeout_ms(sbx_sandbox *sb, uint64_t ms)
{
        sb->timeout_ms = ms;
}

void sbx_sandbox_set_args_area(sbx_sandbox *sb, char *start, size_t len)
{
        sb->args_area = start;
        sb->args_len = len;
}

void sbx_sandbox_set_usage(sbx_sandbox *sb, bool usage)
{
        sb->no_usage = !usage;
}

void sbx_sandbox_set_quiet(sbx_sandbox *sb, bool quiet)
{
        sb->quiet = quiet;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- checks */

static bool env_name_allowed(const sbx_plan *p, const char *kv)
{
        size_t n = strcspn(kv, "=");
        if (p->env_allow == NULL)
                return true;
        for (char **a = p->env_allow; *a; a++)
                if (strlen(*a) == n && strncmp(*a, kv, n) == 0)
                        return true;
        return false;
}

static char **env_set(char **env, const char *kv)
{
        size_t n = strcspn(kv, "=");
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], kv, n) == 0 && env[i][n] == '=') {
                        free(env[i]);
                        env[i] = xstrdup(kv);
                        return env;
                }
        return strv_push(env, xstrdup(kv));
}

/* The clean environment: a few defaults, then what the policy sets, then
 * host variables the policy passes by name, then -e. */
static int build_env(const struct sbx_sandbox *sb, char ***out, sbx_error **err)
{
        const sbx_plan *p = sb->plan;
        cleanup_strv char **env = NULL;
        cleanup_free char *home = xasprintf("HOME=%s", p->home);
        cleanup_free char *user = xasprintf("USER=%s", p->user_name);
        cleanup_free char *logname = xasprintf("LOGNAME=%s", p->user_name);

        env = env_set(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env = env_set(env, home);
        env = env_set(env, user);
        env = env_set(env, logname);
        env = env_set(env, "LANG=C.UTF-8");
        for (char **e = p->env_set; e && *e; e++)
                env = env_set(env, *e);
        for (char **e = p->env_pass; e && *e; e++) {
                const char *v = getenv(*e);
                if (v != NULL) {
                        cleanup_free char *kv = xasprintf("%s=%s", *e, v);
                        env = env_set(env, kv);
                }
        }
        for (char **e = sb->env_extra; e && *e; e++) {
                if (strchr(*e, '=') == NULL || **e == '=')
                        return sbx_fail(err, "invalid environment variable `%s`: expected K=V", *e);
                if (!env_name_allowed(p, *e))
                        return sbx_fail(err,
                                        "environment variable `%.*s` is not allowed by policy `%s`",
                                        (int)strcspn(*e, "="), *e, p->policy_name);
                env = env_set(env, *e);
        }
        *out = steal_pointer(&env);
        return 0;
}

static bool under(const char *path, const char *prefix)
{
        size_t n = strlen(prefix);
        while (n > 1 && prefix[n - 1] == '/')
                n--;
        return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/' || n == 1);
}

static int check_volumes(const struct sbx_sandbox *sb, sbx_error **err)
{
        const sbx_plan *p = sb->plan;

        for (size_t i = 0; i < sb->n_volumes; i++) {
                struct sbx_volume *v = &sb->volumes[i];
                char *real = realpath(v->src, NULL);
                bool ok = false;

                if (real == NULL)
                        return sbx_fail_errno(err, errno, "volume source `%s`", v->src);
                for (size_t j = 0; j < p->n_volume_rules && !ok; j++)
                        ok = under(real, p->volume_rules[j].host_prefix) &&
                             (v->ro || p->volume_rules[j].writable);
                if (!ok) {
                        sbx_fail(err, "volume `%s:%s%s` is not allowed by policy `%s`", v->src,
                                 v->dst, v->ro ? ":ro" : "", p->policy_name);
                        free(real);
                        return -1;
                }
                /* Bind what was checked, not what a symlink may point to
                 * later: the path has no symlink now, and init refuses to
                 * follow one that appears before the mount (rootfs.c). */
                free(v->src);
                v->src = real;
        }
        return 0;
}

/* As root the sandbox's ids must be nobody else's: a host user given the
 * same subordinate ids could signal its processes or write its files. */
static int check_id_range(sbx_error **err)
{
        static const char *const files[] = {"/etc/subuid", "/etc/subgid"};

        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                cleanup_free char *text = read_file_at(AT_FDCWD, files[i], NULL);
                cleanup_free char *who =
                    text ? sbx_subid_overlap(text, SBX_ROOTFUL_HOST_BASE, SBX_ROOTFUL_RANGE) : NULL;
                if (who)
                        return sbx_fail(err,
                                        "%s gives `%s` ids in %u-%u, the range sbx maps "
                                        "sandboxes to; refusing to share it",
                                        files[i], who, SBX_ROOTFUL_HOST_BASE,
                                        SBX_ROOTFUL_HOST_BASE + SBX_ROOTFUL_RANGE - 1);
        }
        return 0;
}

/* The command hands the audit listener over with sendmsg and close after
 * its filter is loaded: were either denied, the call would wait for an
 * answer from a listener nobody holds yet. */
static int check_audit_handover(const sbx_plan *p, sbx_error **err)
{
        static const struct {
                int nr;
                const char *name;
        } calls[] = {{SYS_sendmsg, "sendmsg"}, {SYS_close, "close"}};

        for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
                struct seccomp_data sd = {.nr = calls[i].nr, .arch = AUDIT_ARCH_X86_64};
                uint32_t act = sbx_bpf_run(p->seccomp, p->seccomp_len, &sd);
                if ((act & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_ALLOW)
                        return sbx_fail(err,
                                        "policy `%s` audits denied syscalls but does not allow "
                                        "`%s`, which hands the audit over to sbx",
                                        p->policy_name, calls[i].name);
        }
        return 0;
}

static int check_input(struct sbx_sandbox *sb, sbx_error **err)
{
        const sbx_plan *p = sb->plan;
        struct stat st;

        if (sb->argv == NULL || sb->argv[0] == NULL)
                return sbx_fail(err, "no command given");
        if (p->seccomp == NULL || p->seccomp_len == 0)
                return sbx_fail(err, "policy `%s` compiled to no seccomp filter", p->policy_name);
        if (sb->rootfs_dir) {
                if (stat(sb->rootfs_dir, &st) < 0)
                        return sbx_fail_errno(err, errno, "rootfs `%s`", sb->rootfs_dir);
                if (!S_ISDIR(st.st_mode))
                        return sbx_fail(err, "rootfs `%s`: not a directory", sb->rootfs_dir);
        }
        if (sb->timeout_ms && p->timeout.set && sb->timeout_ms > p->timeout.value)
                return sbx_fail(err, "timeout %llums exceeds the limit of policy `%s`: %llums (%s)",
                                (unsigned long long)sb->timeout_ms, p->policy_name,
                                (unsigned long long)p->timeout.value,
                                p->timeout.origin ? p->timeout.origin : "built-in");
        if (geteuid() == 0 && check_id_range(err) < 0)
                return -1;
        if (p->audit != SBX_AUDIT_NONE && check_audit_handover(p, err) < 0)
                return -1;
        if (sb->workdir && sb->workdir[0] != '/')
                return sbx_fail(err, "workdir `%s`: must be an absolute path", sb->workdir);
        return check_volumes(sb, err);
}

/* ----------------------------------------------------------- the sandbox */

static void send_msg(int fd, char type, int value, const char *text)
{
        struct msg m = {.type = type, .value = value};
        if (text)
                snprintf(m.text, sizeof(m.text), "%s", text);
        if (write_full(fd, &m, sizeof(m)) < 0) {
                /* Nobody to tell: the supervisor is gone. */
        }
}

static __attribute__((noreturn)) void child_fail(const struct child_ctx *c, sbx_error *e)
{
        send_msg(c->msg_fd, 'E', e ? e->errnum : 0, e ? e->msg : "sandbox set-up failed");
        _exit(SBX_EXIT_FAILURE);
}

static int drop_privileges(const struct child_ctx *c, sbx_error **err)
{
        const sbx_plan *p = c->plan;
        int last = (int)cap_max_bits();
        cap_t caps;
        gid_t gid = p->gid;

        /* The bounding set was cut by init before the fork. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return sbx_fail_errno(err, errno, "clear ambient capabilities");
        if (p->caps_keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return sbx_fail_errno(err, errno, "keep capabilities");
        if (!c->rootless && setgroups(1, &gid) < 0)
                return sbx_fail_errno(err, errno, "setgroups");
        if (setresgid(p->gid, p->gid, p->gid) < 0)
                return sbx_fail_errno(err, errno, "setresgid %u", (unsigned)p->gid);
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return sbx_fail_errno(err, errno, "setresuid %u", (unsigned)p->uid);
        caps = cap_init();
        for (int cap = 0; cap < last && cap < 64; cap++) {
                cap_value_t v = cap;
                if (!(p->caps_keep & (1ULL << cap)))
                        continue;
                cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
                cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
                cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET);
        }
        if (cap_set_proc(caps) < 0) {
                int e = errno;
                cap_free(caps);
                return sbx_fail_errno(err, e, "set capabilities");
        }
        cap_free(caps);
        for (int cap = 0; cap < last && cap < 64; cap++)
                if ((p->caps_keep & (1ULL << cap)) &&
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
                        return sbx_fail_errno(err, errno, "raise ambient capability %d", cap);
        return 0;
}

/* Each is a limit: where the hard limit sbx itself was given is lower, that
 * one stands (the sandbox could never raise it: that needs
 * CAP_SYS_RESOURCE in the host's user namespace). */
static int set_rlimit(int res, uint64_t v, const char *name, sbx_error **err)
{
        struct rlimit cur, rl = {.rlim_cur = v, .rlim_max = v};

        if (getrlimit(res, &cur) == 0 && cur.rlim_max != RLIM_INFINITY && cur.rlim_max < v)
                rl.rlim_cur = rl.rlim_max = cur.rlim_max;
        if (setrlimit(res, &rl) < 0)
                return sbx_fail_errno(err, errno, "setrlimit %s=%llu", name, (unsigned long long)v);
        return 0;
}

static __attribute__((noreturn)) void run_command(const struct child_ctx *c)
{
        const sbx_plan *p = c->plan;
        const char *dir = c->sb->workdir ? c->sb->workdir : p->home;
        struct sock_fprog prog = {.len = (unsigned short)p->seccomp_len, .filter = p->seccomp};
        sbx_error *err = NULL;
        sigset_t none;

        /* Every disposition is the default already (init reset them). */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* A new session: the command has no controlling terminal, so it can
         * not push input into the caller's terminal (TIOCSTI). */
        if (setsid() < 0) {
                sbx_fail_errno(&err, errno, "setsid");
                child_fail(c, err);
        }
        /* No core dumps, hard limit included (raising it back needs
         * CAP_SYS_RESOURCE): with a core_pattern pipe (systemd-coredump,
         * apport) the kernel hands a crashed process's memory to a helper
         * of the host, which keeps it on the host's disk, outside the
         * sandbox and after it. */
        if (set_rlimit(RLIMIT_CORE, 0, "RLIMIT_CORE", &err) < 0 ||
            (p->nofile.set &&
             set_rlimit(RLIMIT_NOFILE, p->nofile.value, "RLIMIT_NOFILE", &err) < 0) ||
            (c->approx.rlimit_data &&
             set_rlimit(RLIMIT_DATA, c->approx.rlimit_data, "RLIMIT_DATA", &err) < 0) ||
            (c->approx.rlimit_nproc &&
             set_rlimit(RLIMIT_NPROC, c->approx.rlimit_nproc, "RLIMIT_NPROC", &err) < 0))
                child_fail(c, err);
        if (drop_privileges(c, &err) < 0)
                child_fail(c, err);
        /* A working directory asked for must exist; the default home may
         * be absent from a --rootfs, then / will do. */
        if (chdir(dir) < 0 && (c->sb->workdir != NULL || chdir("/") < 0)) {
                sbx_fail_errno(&err, errno, "working directory `%s`", dir);
                child_fail(c, err);
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                sbx_fail_errno(&err, errno, "no_new_privs");
                child_fail(c, err);
        }
        /* Last: from here on every system call goes through the filter. */
        if (c->audit_fd >= 0) {
                long listener;
                prog.len = (unsigned short)p->seccomp_audit_len;
                prog.filter = p->seccomp_audit;
                listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                   p->seccomp_flags | SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
                if (listener < 0) {
                        sbx_fail_errno(&err, errno, "load seccomp audit filter");
                        child_fail(c, err);
                }
                /* The listener answers denied calls: it must leave the
                 * sandbox before anything untrusted runs.  sendmsg and
                 * close already run under the new filter (check_input made
                 * sure it allows them). */
                if (sbx_send_fd(c->audit_fd, (int)listener) < 0) {
                        sbx_fail_errno(&err, errno, "hand the seccomp listener to the supervisor");
                        child_fail(c, err);
                }
                close((int)listener);
                close(c->audit_fd);
        } else if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog) < 0) {
                sbx_fail_errno(&err, errno, "load seccomp filter");
                child_fail(c, err);
        }
        environ = c->envp;
        execvp(c->sb->argv[0], c->sb->argv);
        {
                int e = errno; /* send_msg may change it */
                send_msg(c->msg_fd, 'X', e, c->sb->argv[0]);
                _exit(e == ENOENT ? SBX_EXIT_NOT_FOUND : SBX_EXIT_CANNOT_EXEC);
        }
}

/* pid 1: reap everything, forward signals to the command, report its
 * status.  Signals stay blocked and are taken with sigwaitinfo. */
static __attribute__((noreturn)) void init_loop(const struct child_ctx *c, pid_t cmd)
{
        sigset_t set;

        sigfillset(&set);
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&set, &si);

                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        kill(cmd, sig);
                        continue;
                }
                for (;;) {
                        int status;
                        pid_t r = waitpid(-1, &status, WNOHANG);
                        if (r <= 0)
                                break;
                        if (r == cmd) {
                                send_msg(c->msg_fd, 'S', status, NULL);
                                _exit(0);
                        }
                }
        }
}

static int command_main(void *arg)
{
        run_command(arg);
}

/* Start the command the way posix_spawn does: a child that shares init's
 * memory (no page tables to copy) while init waits for its execve.  The
 * child only changes what is its own (credentials, rlimits, signal
 * dispositions, seccomp), and init resumes only once it has exec'd or
 * died, so the two never run on the shared memory at once. */
static pid_t spawn_command(struct child_ctx *c)
{
        const size_t size = 256 * 1024;
        void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        pid_t pid;

        if (stack == MAP_FAILED)
                return -1;
        pid = clone(command_main, (char *)stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, c);
        munmap(stack, size);
        return pid;
}

/* Put *fd at `to` (close-on-exec), updating *fd. */
static int move_fd(int *fd, int to)
{
        if (*fd == to)
                return 0;
        if (dup3(*fd, to, O_CLOEXEC) < 0)
                return -1;
        *fd = to;
        return 0;
}

/* execve keeps ignored signals ignored, and sbx installs no handler: the
 * dispositions init inherits are the default or what the caller of sbx left
 * ignored.  Those would reach the command ignored, and an ignored SIGCHLD
 * would have the kernel reap the command unseen, its status lost.  Init sets
 * them back to the default once; the command gets a copy of its table. */
static void reset_ignored_signals(void)
{
        /* The kernel's own struct (x86_64 and the generic layout), through
         * the raw call: libc refuses to touch the two real-time signals it
         * keeps for itself (EINVAL), which a caller may have left ignored
         * all the same.  Init never uses them. */
        struct ksigaction {
                void (*handler)(int);
                unsigned long flags;
                void (*restorer)(void);
                uint64_t mask;
        } dfl = {.handler = SIG_DFL}, old;
        cleanup_free char *status = read_file_at(AT_FDCWD, "/proc/self/status", NULL);
        const char *line = status ? strstr(status, "\nSigIgn:") : NULL;
        unsigned long long ign = line ? strtoull(line + strlen("\nSigIgn:"), NULL, 16) : 0;

        for (int s = 1; s < NSIG && s <= 64; s++) {
                if (s == SIGKILL || s == SIGSTOP)
                        continue;
                /* Without /proc, ask the kernel signal by signal. */
                if (line ? !(ign & (1ULL << (s - 1)))
                         : syscall(SYS_rt_sigaction, s, NULL, &old, sizeof(old.mask)) != 0 ||
                               old.handler != SIG_IGN)
                        continue;
                syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof(dfl.mask));
        }
}

/* Personality flags are inherited through every execve: a caller of sbx
 * under `setarch -R` would turn off address space randomisation for the
 * sandbox's code, `-X` make all its readable memory executable.  These are
 * the flags the kernel itself drops when a program gains privileges
 * (PER_CLEAR_ON_SETID); the base persona is kept. */
#define UNSAFE_PERSONALITY                                                                         \
        (READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE | ADDR_COMPAT_LAYOUT | MMAP_PAGE_ZERO)

static int clear_unsafe_personality(sbx_error **err)
{
        int cur = personality(0xffffffff);

        if (cur == -1)
                return sbx_fail_errno(err, errno, "read the personality");
        if ((cur & UNSAFE_PERSONALITY) &&
            personality((unsigned long)cur & ~(unsigned long)UNSAFE_PERSONALITY) == -1)
                return sbx_fail_errno(err, errno, "clear personality flags %#x",
                                      (unsigned)(cur & UNSAFE_PERSONALITY));
        return 0;
}

static int enter_net(void *arg, sbx_error **err)
{
        return sbx_net_enter(arg, err);
}

static __attribute__((noreturn)) void child_main(struct child_ctx *c)
{
        struct sbx_rootfs_spec spec = {
            .plan = c->plan,
            .scratch = c->scratch,
            .hostview = c->hostview,
            .dir = c->sb->rootfs_dir,
            .layers = c->sb->layers,
            .n_layers = c->sb->n_layers,
            .hostname = c->hostname,
            .volumes = c->sb->volumes,
            .n_volumes = c->sb->n_volumes,
            .rootless = c->rootless,
        };
        struct sbx_net net = {.started = false, .nsfd = -1};
        sbx_error *err = NULL;
        char go;
        pid_t cmd;

        /* pid 1's command line is readable by everything in the sandbox:
         * make it say what it is, not the host paths, volume sources and
         * values sbx was started with. */
        if (c->sb->args_area && c->sb->args_len > 0) {
                memset(c->sb->args_area, 0, c->sb->args_len);
                snprintf(c->sb->args_area, c->sb->args_len, "sbx-init");
        }
        prctl(PR_SET_NAME, "sbx-init", 0, 0, 0);
        /* The network namespace is made, and lo brought up in it, on a
         * thread (net.c) from here on, while the supervisor writes the id
         * maps and init builds the root file system: most of a millisecond
         * of the kernel's time that nothing else waits for.  The thread
         * has the full capabilities in the user namespace every task has
         * on entering it.  Init enters the namespace as soon as it exists,
         * before it mounts /sys, and joins the thread once lo is up, before
         * any fd is closed and before the command exists; a failure of
         * either fails the run. */
        if (sbx_net_start(&net, c->plan->net == SBX_NET_LOOPBACK, &err) < 0)
                child_fail(c, err);
        /* While the supervisor writes the id maps. */
        reset_ignored_signals();
        if (clear_unsafe_personality(&err) < 0)
                child_fail(c, err);
        /* EOF instead of the go byte: the supervisor is gone. */
        if (read_full(c->sync_fd, &go, 1) != 1)
                _exit(SBX_EXIT_FAILURE);
        /* The ids of this thread only: libc's wrappers would signal the
         * network thread to change its ids too, and wait for it.  That
         * thread needs none of them, and ends before the command exists. */
        if (syscall(SYS_setresgid, c->idmap.setup_gid, c->idmap.setup_gid, c->idmap.setup_gid) <
                0 ||
            syscall(SYS_setresuid, c->idmap.setup_uid, c->idmap.setup_uid, c->idmap.setup_uid) <
                0) {
                sbx_fail_errno(&err, errno, "switch to the sandbox's ids");
                child_fail(c, err);
        }
        /* Armed only now: a change of credentials clears the parent-death
         * signal.  The supervisor holds the sync pipe open for as long as
         * it lives, so a hang-up here means it died before we armed it. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                _exit(SBX_EXIT_FAILURE);
        {
                struct pollfd p = {.fd = c->sync_fd, .events = POLLIN};
                if (poll(&p, 1, 0) != 0)
                        _exit(SBX_EXIT_FAILURE);
        }
        close(c->sync_fd);
        if (!c->rootless && syscall(SYS_setgroups, 0, NULL) < 0) {
                sbx_fail_errno(&err, errno, "setgroups");
                child_fail(c, err);
        }
        if (sethostname(c->hostname, strlen(c->hostname)) < 0) {
                sbx_fail_errno(&err, errno, "sethostname");
                child_fail(c, err);
        }
        /* Cut the bounding set once here, before the mounts, while the
         * network thread works; the command inherits it, and init needs only
         * its effective capabilities from now on.  (The bounding set is a
         * thread's own: the network thread keeps its full one, and ends
         * before the command exists.) */
        for (int cap = 0; cap < (int)cap_max_bits(); cap++)
                if (!(c->plan->caps_keep & (1ULL << cap)) &&
                    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
                        sbx_fail_errno(&err, errno, "drop capability %d from the bounding set",
                                       cap);
                        child_fail(c, err);
                }
        spec.enter_net = enter_net;
        spec.enter_net_arg = &net;
        if (sbx_rootfs_setup(&spec, &err) < 0)
                child_fail(c, err);
        /* lo came up meanwhile; the thread ends here, before its fds
         * could be closed below and long before the command exists. */
        if (sbx_net_finish(&net, &err) < 0)
                child_fail(c, err);
        /* Only stdio, the message pipe and the audit socket cross into the
         * command, all close-on-exec. */
        if (move_fd(&c->msg_fd, 3) < 0 || (c->audit_fd >= 0 && move_fd(&c->audit_fd, 4) < 0)) {
                sbx_fail_errno(&err, errno, "move supervisor pipes");
                child_fail(c, err);
        }
        if (close_fds_from(c->audit_fd >= 0 ? 5 : 4) < 0) {
                /* An fd of sbx's caller must never reach the command. */
                sbx_fail_errno(&err, errno, "close inherited file descriptors");
                child_fail(c, err);
        }
        /* Before the command exists: nothing in the sandbox may ever
         * inspect init (its /proc entries stay root's). */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        cmd = spawn_command(c);
        if (cmd < 0) {
                sbx_fail_errno(&err, errno, "start the command");
                child_fail(c, err);
        }
        /* init keeps only CAP_KILL, to forward signals to a command that
         * runs under another uid, and can not be inspected by it. */
        {
                cap_t keep = cap_init();
                cap_value_t kill_cap = CAP_KILL;
                cap_set_flag(keep, CAP_PERMITTED, 1, &kill_cap, CAP_SET);
                cap_set_flag(keep, CAP_EFFECTIVE, 1, &kill_cap, CAP_SET);
                cap_set_proc(keep);
                cap_free(keep);
        }
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        init_loop(c, cmd);
}

static int write_idmaps(pid_t pid, const struct sbx_idmap *m, sbx_error **err)
{
        char path[64];

        if (m->deny_setgroups) {
                snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
                if (write_file_at(AT_FDCWD, path, "deny", false, 0) < 0)
                        return sbx_fail_errno(err, errno, "write `%s`", path);
        }
        snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
        if (write_file_at(AT_FDCWD, path, m->uid_map, false, 0) < 0)
                return sbx_fail_errno(err, errno, "write uid map `%s`", m->uid_map);
        snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
        if (write_file_at(AT_FDCWD, path, m->gid_map, false, 0) < 0)
                return sbx_fail_errno(err, errno, "write gid map `%s`", m->gid_map);
        return 0;
}

static pid_t clone_sandbox(int cgroup_fd, int *pidfd, sbx_error **err)
{
        struct clone_args args = {
            /* Not CLONE_NEWNET: init makes the network namespace on a
             * thread (net.c). */
            .flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                     CLONE_NEWCGROUP | CLONE_PIDFD,
            .pidfd = (uint64_t)(uintptr_t)pidfd,
            .exit_signal = SIGCHLD,
        };
        long pid;

        if (cgroup_fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t)cgroup_fd;
        }
        pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0)
                return sbx_fail_errno(err, errno, "clone3 into new namespaces");
        return (pid_t)pid;
}

/* ------------------------------------------------------------ supervise */

struct outcome {
        bool have_status, exec_failed, setup_failed, timed_out;
        int status, exec_errno;
        char text[480];
};

static void handle_msg(struct msg *m, struct outcome *o)
{
        m->text[sizeof(m->text) - 1] = '\0';
        switch (m->type) {
        case 'E':
                if (!o->setup_failed) { /* the first error is the cause */
                        o->setup_failed = true;
                        snprintf(o->text, sizeof(o->text), "%s", m->text);
                }
                break;
        case 'X':
                o->exec_failed = true;
                o->exec_errno = m->value;
                snprintf(o->text, sizeof(o->text), "%s", m->text);
                break;
        case 'S':
                o->have_status = true;
                o->status = m->value;
                break;
        default:
                break;
        }
}

/* Take one record; false at end of file (every writer gone). */
static bool read_msg(int fd, struct outcome *o)
{
        struct msg m;

        if (read_full(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
                return false;
        handle_msg(&m, o);
        return true;
}

static void kill_sandbox(struct sbx_cgroup *cg, pid_t init)
{
        if (cg)
                sbx_cgroup_kill(cg);
        /* SIGKILL to a pid namespace's init kills every process in it. */
        kill(init, SIGKILL);
}

struct audit_io {
        struct sbx_audit *audit; /* NULL: not audited */
        int sock;                /* where the listener arrives, -1 once it has */
        int listener;            /* -1 until it arrives, and once every user is gone */
        struct sbx_result *res;
};

static void audit_events(struct audit_io *a, short sock_ev, short lis_ev)
{
        if (sock_ev) {
                a->listener = sbx_recv_fd(a->sock);
                close(a->sock);
                a->sock = -1;
        }
        if (lis_ev & POLLIN)
                sbx_audit_handle(a->audit, a->listener, a->res);
        else if (lis_ev) { /* POLLHUP: no process uses the filter any more */
                close(a->listener);
                a->listener = -1;
        }
}

static void supervise(pid_t init, int pidfd, int msgfd, int sigfd, struct sbx_cgroup *cg,
                      uint64_t timeout_ms, struct audit_io *a, struct outcome *o,
                      siginfo_t *init_info)
{
        int64_t deadline = timeout_ms ? mono_ms() + (int64_t)timeout_ms : 0;

        /* The message pipe is read once init is gone: every record is sent
         * just before its writer exits (a few hundred bytes in all, far
         * below a pipe's buffer), so waking for each would only cost a
         * round trip of the scheduler. */
        for (;;) {
                struct pollfd fds[4] = {{.fd = pidfd, .events = POLLIN},
                                        {.fd = sigfd, .events = POLLIN},
                                        {.fd = a->sock, .events = POLLIN},
                                        {.fd = a->listener, .events = POLLIN}};
                int wait = -1;

                if (deadline && !o->timed_out) {
                        int64_t left = deadline - mono_ms();
                        wait = left < 0 ? 0 : (int)(left > 60000 ? 60000 : left);
                }
                if (poll(fds, 4, wait) < 0 && errno != EINTR)
                        break;
                if (fds[2].revents || fds[3].revents)
                        audit_events(a, fds[2].revents, fds[3].revents);
                if (deadline && !o->timed_out && mono_ms() >= deadline) {
                        o->timed_out = true;
                        kill_sandbox(cg, init);
                }
                if (fds[1].revents) {
                        struct signalfd_siginfo si;
                        if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
                            si.ssi_signo != SIGCHLD)
                                kill(init, (int)si.ssi_signo);
                }
                if (fds[0].revents) {
                        memset(init_info, 0, sizeof(*init_info));
                        /* Any error but EINTR: init is gone, unseen. */
                        if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, init_info, WEXITED) == 0 ||
                            errno != EINTR)
                                break;
                }
        }
        while (read_msg(msgfd, o))
                ;
}

static void fill_usage(struct sbx_result *res, struct sbx_cgroup *cg, const struct rusage *ru)
{
        if (cg) {
                struct sbx_cgroup_usage u;
                sbx_cgroup_usage(cg, &u);
                res->has_cgroup = true;
                res->memory_peak = u.memory_peak;
                res->cpu_usec = u.cpu_usec;
                res->cpu_user_usec = u.cpu_user_usec;
                res->cpu_system_usec = u.cpu_system_usec;
                res->nr_throttled = u.nr_throttled;
                res->throttled_usec = u.throttled_usec;
                res->oom_killed = u.oom_kill > 0;
                return;
        }
        res->memory_peak = -1;
        res->cpu_user_usec =
            (uint64_t)ru->ru_utime.tv_sec * 1000000 + (uint64_t)ru->ru_utime.tv_usec;
        res->cpu_system_usec =
            (uint64_t)ru->ru_stime.tv_sec * 1000000 + (uint64_t)ru->ru_stime.tv_usec;
        res->cpu_usec = res->cpu_user_usec + res->cpu_system_usec;
}

static void result_begin(const struct sbx_sandbox *sb, const char *id, struct sbx_result *res)
{
        memset(res, 0, sizeof(*res));
        snprintf(res->id, sizeof(res->id), "%s", id);
        res->policy_name = xstrdup(sb->plan->policy_name ? sb->plan->policy_name : "");
        res->policy_sha256 = xstrdup(sb->plan->policy_sha256);
        if (sb->layers) {
                res->rootfs_kind = xstrdup("image");
                res->rootfs = xstrdup(sb->image_name);
                res->rootfs_digest = sb->image_digest ? xstrdup(sb->image_digest) : NULL;
        } else if (sb->rootfs_dir) {
                res->rootfs_kind = xstrdup("dir");
                res->rootfs = xstrdup(sb->rootfs_dir);
        } else {
                res->rootfs_kind = xstrdup("host");
                res->rootfs = xstrdup("/");
        }
        for (char **a = sb->argv; a && *a; a++)
                res->argv = strv_push(res->argv, xstrdup(*a));
        res->start_ms = now_ms();
        res->exit_code = -1;
        res->memory_peak = -1;
        res->status = SBX_EXIT_FAILURE;
}

static void finish_status(const struct outcome *o, const siginfo_t *ii, struct sbx_result *res)
{
        if (o->exec_failed) {
                res->exit_code =
                    o->exec_errno == ENOENT ? SBX_EXIT_NOT_FOUND : SBX_EXIT_CANNOT_EXEC;
                res->status = res->exit_code;
        } else if (o->have_status && WIFEXITED(o->status)) {
                res->exit_code = WEXITSTATUS(o->status);
                res->status = res->exit_code;
        } else if (o->have_status && WIFSIGNALED(o->status)) {
                res->signal = WTERMSIG(o->status);
                res->status = 128 + res->signal;
        } else if (ii->si_code == CLD_KILLED || ii->si_code == CLD_DUMPED) {
                /* init itself was killed (OOM, deadline, host) */
                res->signal = ii->si_status;
                res->status = 128 + res->signal;
        } else {
                res->exit_code = ii->si_status;
                res->status = ii->si_status;
        }
        if (o->timed_out) {
                res->timed_out = true;
                res->status = SBX_EXIT_TIMEOUT;
        }
}

int sbx_sandbox_run(sbx_sandbox *sb, struct sbx_result *res, sbx_error **err)
{
        const sbx_plan *plan = sb->plan;
        struct child_ctx c = {.sb = sb, .plan = plan, .sync_fd = -1, .msg_fd = -1, .audit_fd = -1};
        cleanup_free char *state = NULL, *hostview = NULL, *scratch = NULL;
        cleanup_strv char **envp = NULL;
        struct sbx_cgroup *cg = NULL;
        int syncp[2] = {-1, -1}, msgp[2] = {-1, -1}, auditp[2] = {-1, -1}, sigfd = -1, pidfd = -1;
        struct audit_io aio = {.sock = -1, .listener = -1, .res = res};
        int hostview_lock = -1;
        sigset_t mask, oldmask;
        bool masked = false;
        struct outcome o = {0};
        siginfo_t ii = {0};
        struct rusage ru = {0};
        char id[13];
        pid_t pid = -1;
        int r = -1;
        uint64_t timeout;

        sbx_random_id(id);
        result_begin(sb, id, res);
        if (check_input(sb, err) < 0 || build_env(sb, &envp, err) < 0)
                goto out;
        timeout = sb->timeout_ms ? sb->timeout_ms : (plan->timeout.set ? plan->timeout.value : 0);
        c.rootless = geteuid() != 0;
        c.envp = envp;
        /* The same for every sandbox: /etc/hosts of the shared host view
         * skeleton names it. */
        snprintf(c.hostname, sizeof(c.hostname), "sbx");
        sbx_idmap_compute(geteuid(), getegid(), plan->uid, plan->gid, &c.idmap);

        /* Signals are taken through a signalfd, blocked from here on: one
         * that came while the state file and the cgroup exist but before
         * the sandbox does would otherwise end sbx with both left behind.
         * The sandbox inherits the blocked mask (init waits for signals
         * with sigwaitinfo).  SIGCHLD left ignored by sbx's caller would
         * have the kernel reap init unseen, its status lost. */
        signal(SIGCHLD, SIG_DFL);
        sigemptyset(&mask);
        for (const int *s = (const int[]){SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
                                          SIGCHLD, SIGPIPE, 0};
             *s; s++)
                sigaddset(&mask, *s);
        sigprocmask(SIG_BLOCK, &mask, &oldmask);
        masked = true;
        sigfd = signalfd(-1, &mask, SFD_CLOEXEC);

        if (sbx_state_create(id, &state, err) < 0)
                goto out;
        scratch = sbx_state_scratch_dir();
        c.scratch = scratch;
        if (sb->rootfs_dir == NULL && sb->layers == NULL) {
                uid_t owner = c.rootless ? geteuid() : SBX_ROOTFUL_HOST_BASE;
                gid_t group = c.rootless ? getegid() : SBX_ROOTFUL_HOST_BASE;
                if (sbx_hostview_prepare(plan, owner, group, &hostview, &hostview_lock, err) < 0)
                        goto out;
                c.hostview = hostview;
        }
        if (sbx_cgroup_create(id, plan, res, &c.approx, &cg, err) < 0)
                goto out;
        if (!sb->quiet)
                sbx_result_print_degradations(res, stderr);
        if (cg) {
                res->cgroup_path = xstrdup(sbx_cgroup_path(cg));
                if (sbx_state_set_cgroup(state, sbx_cgroup_path(cg)) < 0) {
                        sbx_fail_errno(err, errno, "write state of sandbox %s", id);
                        goto out;
                }
        }

        if (sigfd < 0 || pipe2(syncp, O_CLOEXEC) < 0 || pipe2(msgp, O_CLOEXEC) < 0) {
                sbx_fail_errno(err, errno, "create supervisor pipes");
                goto out;
        }
        c.sync_fd = syncp[0];
        c.msg_fd = msgp[1];
        if (plan->audit != SBX_AUDIT_NONE) {
                if (plan->seccomp_audit == NULL) {
                        sbx_fail(err, "policy `%s` asks for an audit but has no audit program",
                                 plan->policy_name);
                        goto out;
                }
                aio.audit = sbx_audit_new(plan);
                if (aio.audit == NULL ||
                    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, auditp) < 0) {
                        sbx_fail_errno(err, errno, "set up the seccomp audit");
                        goto out;
                }
                c.audit_fd = auditp[1];
                aio.sock = auditp[0];
                res->audited = true;
        }
        pid = clone_sandbox(cg ? sbx_cgroup_fd(cg) : -1, &pidfd, err);
        if (pid < 0)
                goto out;
        if (pid == 0) {
                close(syncp[1]);
                close(msgp[0]);
                close(sigfd);
                if (auditp[0] >= 0)
                        close(auditp[0]);
                child_main(&c);
        }
        if (auditp[1] >= 0) {
                close(auditp[1]);
                auditp[1] = -1;
        }
        close(syncp[0]);
        syncp[0] = -1;
        close(msgp[1]);
        msgp[1] = -1;
        if (write_idmaps(pid, &c.idmap, err) < 0) {
                kill(pid, SIGKILL);
                waitid((idtype_t)P_PIDFD, (id_t)pidfd, &ii, WEXITED);
                goto out;
        }
        if (write_full(syncp[1], "g", 1) < 0) {
                sbx_fail_errno(err, errno, "start sandbox");
                kill(pid, SIGKILL);
                waitid((idtype_t)P_PIDFD, (id_t)pidfd, &ii, WEXITED);
                goto out;
        }
        supervise(pid, pidfd, msgp[0], sigfd, cg, timeout, &aio, &o, &ii);
        auditp[0] = aio.sock;
        getrusage(RUSAGE_CHILDREN, &ru);
        if (o.setup_failed && !o.timed_out) {
                sbx_fail(err, "%s", o.text);
                goto out;
        }
        finish_status(&o, &ii, res);
        if (o.exec_failed)
                res->message = xasprintf("%s: %s", o.text,
                                         o.exec_errno == ENOENT ? "command not found"
                                                                : strerror(o.exec_errno));
        if (!sb->no_usage)
                fill_usage(res, cg, &ru);
        r = 0;
out:
        res->end_ms = now_ms();
        if (cg) {
                sbx_error *cerr = NULL;
                if (sbx_cgroup_destroy(cg, &cerr) < 0) {
                        /* The command's result stands; the state file stays
                         * so that `sbx gc` finds the cgroup and finishes. */
                        sbx_error_print(cerr);
                        sbx_error_free(cerr);
                        free(steal_pointer(&state));
                }
        }
        if (state)
                sbx_state_remove(state);
        sbx_audit_free(aio.audit);
        for (int *fd = (int[]){syncp[0], syncp[1], msgp[0], msgp[1], auditp[0], auditp[1],
                               aio.listener, sigfd, pidfd, hostview_lock, -2};
             *fd != -2; fd++)
                if (*fd >= 0)
                        close(*fd);
        if (masked)
                sigprocmask(SIG_SETMASK, &oldmask, NULL);
        return r;
}
