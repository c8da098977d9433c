/* rootfs.c - build the sandbox's file system tree inside its own mount
 * namespace, then pivot_root into it.  Runs in the sandbox init, as root of
 * the sandbox's user namespace, before anything untrusted runs.
 *
 * Every mount target below the new root is opened with openat2(
 * RESOLVE_IN_ROOT) and mounted through its /proc/self/fd/N name, so that a
 * symlink planted in an image (proc -> /etc) resolves inside the new root
 * and can never redirect a mount onto a path of the host.
 *
 * Nothing here is visible to the host: the mount namespace is private from
 * the first call, and every mount dies with the namespace.
 */
#include "internal.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PROC_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static int do_mount(const char *src, const char *tgt, const char *type, unsigned long flags,
                    const char *data, const char *what, sbx_error **err)
{
        if (mount(src, tgt, type, flags, data) < 0)
                return sbx_fail_errno(err, errno, "mount %s", what);
        return 0;
}

static int openat2_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = {
            .flags = (uint64_t)(flags | O_CLOEXEC),
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        while (*path == '/')
                path++;
        if (*path == '\0')
                path = ".";
        return (int)TEMP_FAILURE_RETRY(syscall(SYS_openat2, rootfd, path, &how, sizeof(how)));
}

/* Create `path` (and its parents) below rootfd as directories, or as an empty
 * file when `file` is set; return an O_PATH fd of it.  Each component is
 * created in a parent opened with RESOLVE_IN_ROOT, never through a path
 * the kernel would resolve from the host's root: an image whose `a` is a
 * symlink to /tmp must not make `a/b` a directory /tmp/b of the host. */
static int make_target(int rootfd, const char *path, bool file, sbx_error **err)
{
        cleanup_free char *prefix = xstrdup(path);
        int fd = openat2_in_root(rootfd, path, O_PATH);
        size_t len = strlen(prefix);

        if (fd >= 0)
                return fd;
        for (size_t i = 1; i <= len; i++) {
                cleanup_close int pfd = -1, cur = -1;
                char saved = prefix[i];
                char *name;
                bool last = i == len;

                if (!last && prefix[i] != '/')
                        continue;
                prefix[i] = '\0';
                cur = openat2_in_root(rootfd, prefix, O_PATH);
                if (cur < 0) {
                        name = strrchr(prefix, '/');
                        if (name == NULL) { /* a relative single component */
                                pfd = openat2_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
                                name = prefix;
                        } else {
                                *name = '\0';
                                pfd = openat2_in_root(rootfd, prefix[0] ? prefix : "/",
                                                      O_PATH | O_DIRECTORY);
                                *name++ = '/';
                        }
                        if (pfd < 0)
                                return sbx_fail_errno(err, errno, "open parent of `%s`", prefix);
                        if (last && file) {
                                int f = openat(pfd, name,
                                               O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                                               0644);
                                if (f < 0 && errno != EEXIST)
                                        return sbx_fail_errno(err, errno, "create `%s`", path);
                                if (f >= 0)
                                        close(f);
                        } else if (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST) {
                                return sbx_fail_errno(err, errno, "create `%s`", prefix);
                        }
                }
                prefix[i] = saved;
        }
        fd = openat2_in_root(rootfd, path, O_PATH);
        if (fd < 0)
                return sbx_fail_errno(err, errno, "open `%s`", path);
        return fd;
}

/* Mount onto `path` below the new root, through /proc/self/fd. */
static int mount_in(int rootfd, const char *path, bool file, const char *src, const char *type,
                    unsigned long flags, const char *data, sbx_error **err)
{
        cleanup_close int fd = make_target(rootfd, path, file, err);
        char tgt[64];

        if (fd < 0)
                return -1;
        snprintf(tgt, sizeof(tgt), "/proc/self/fd/%d", fd);
        if (mount(src, tgt, type, flags, data) < 0)
                return sbx_fail_errno(err, errno, "mount %s on `%s`", type ? type : src, path);
        return 0;
}

/* Remount a bind read-only, keeping the flags the kernel locks on mounts
 * inherited from a more privileged namespace (else EPERM). */
static int remount_ro(int rootfd, const char *path, sbx_error **err)
{
        cleanup_close int fd = openat2_in_root(rootfd, path, O_PATH);
        struct statvfs sv;
        unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
        char tgt[64];

        if (fd < 0)
                return sbx_fail_errno(err, errno, "open `%s`", path);
        snprintf(tgt, sizeof(tgt), "/proc/self/fd/%d", fd);
        if (statvfs(tgt, &sv) == 0) {
                flags |= (sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
                flags |= (sv.f_flag & ST_NODEV) ? MS_NODEV : 0;
                flags |= (sv.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
                flags |= (sv.f_flag & ST_NOATIME) ? MS_NOATIME : 0;
                flags |= (sv.f_flag & ST_RELATIME) ? MS_RELATIME : 0;
        }
        if (mount(NULL, tgt, NULL, flags, NULL) < 0)
                return sbx_fail_errno(err, errno, "remount `%s` read-only", path);
        return 0;
}

/* The bind is recursive, and a remount changes only its top mount: every
 * mount below the source (a host file system mounted under a volume) would
 * stay writable.  mount_setattr(AT_RECURSIVE) seals the whole tree. */
static int seal_ro_recursive(int rootfd, const char *path, sbx_error **err)
{
        cleanup_close int fd = openat2_in_root(rootfd, path, O_PATH);
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

        if (fd < 0)
                return sbx_fail_errno(err, errno, "open `%s`", path);
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return sbx_fail_errno(err, errno, "make `%s` and the mounts below it read-only",
                                      path);
        return 0;
}

/* Bind `src` onto `dst`.  A volume's source is the real path that was
 * checked against the policy: it is opened without following any symlink,
 * so a component replaced by one since the check (by anyone who can write
 * beside it, another sandbox through a shared writable volume for one) makes
 * the run fail instead of binding what the symlink points to. */
static int bind_in(int rootfd, const char *src, bool nofollow, const char *dst, bool ro,
                   sbx_error **err)
{
        struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS};
        cleanup_close int srcfd = -1;
        char self[64];
        struct stat st;

        if (nofollow) {
                srcfd =
                    (int)TEMP_FAILURE_RETRY(syscall(SYS_openat2, AT_FDCWD, src, &how, sizeof(how)));
                if (srcfd < 0)
                        return sbx_fail_errno(err, errno, "volume source `%s`", src);
                snprintf(self, sizeof(self), "/proc/self/fd/%d", srcfd);
        }
        if ((nofollow ? fstat(srcfd, &st) : stat(src, &st)) < 0)
                return sbx_fail_errno(err, errno, "bind `%s`", src);
        if (mount_in(rootfd, dst, !S_ISDIR(st.st_mode), nofollow ? self : src, NULL,
                     MS_BIND | MS_REC, NULL, err) < 0)
                return -1;
        /* mount_setattr changes only the read-only flag, so unlike a
         * remount it needs no care for the flags locked on the host's mount. */
        return ro ? seal_ro_recursive(rootfd, dst, err) : 0;
}

/* ---- the read-only view of the host ---- */

/* Bind a host directory (/usr, and /bin, /lib... where they are not
 * symlinks into /usr) onto its mount point in the new root, read-only,
 * nosuid and nodev, the mounts below it included.  Not an overlay: files
 * there belong to the host's root, which is never mapped into a sandbox, so
 * not even root inside could change them through one; a bind costs a
 * fraction of an overlay to mount and tear down, and path look-ups through
 * it hit the host's warm dentry cache instead of a new overlay's cold one. */
static int bind_host_dir(int rootfd, const char *name, sbx_error **err)
{
        cleanup_free char *host = xasprintf("/%s", name);
        struct mount_attr attr = {.attr_set =
                                      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
        cleanup_close int fd = -1;
        struct stat st;

        if (lstat(host, &st) < 0 || !S_ISDIR(st.st_mode))
                return 0; /* absent on this host, or a symlink the skeleton has */
        if (mount_in(rootfd, host, false, host, NULL, MS_BIND | MS_REC, NULL, err) < 0)
                return -1;
        fd = openat2_in_root(rootfd, host, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return sbx_fail_errno(err, errno, "open `%s`", host);
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return sbx_fail_errno(err, errno, "make `%s` read-only", host);
        return 0;
}

/* The root is an overlay of the prepared skeleton (hostview.c): /etc and
 * the mount points come from it, writes land in the scratch tmpfs. */
static int setup_host_view(const struct sbx_rootfs_spec *spec, sbx_error **err)
{
        cleanup_free char *opts =
            xasprintf("lowerdir=%s,upperdir=%s/upper,workdir=%s/work,userxattr", spec->hostview,
                      spec->scratch, spec->scratch);
        cleanup_free char *root = xasprintf("%s/root", spec->scratch);

        return do_mount("overlay", root, "overlay", MS_NOSUID | MS_NODEV, opts, "host view root",
                        err);
}

/* The root from a directory or image layers.  Each lower layer is reached
 * through a short symlink in the scratch tmpfs (l/0, l/1, ...) and the
 * mount is made relative to it: the option string is one page, and this way
 * 500 layers (overlay's own limit) fit in it whatever the store's paths, and
 * no path needs escaping of ':' or ','. */
static int setup_overlay_root(int scratchfd, const struct sbx_rootfs_spec *spec, sbx_error **err)
{
        size_t n = spec->layers ? spec->n_layers : 1;
        size_t cap = 64 + n * 8, len;
        cleanup_free char *opts = xmalloc(cap);

        if (mkdirat(scratchfd, "l", 0755) < 0)
                return sbx_fail_errno(err, errno, "create layer links");
        len = (size_t)snprintf(opts, cap, "lowerdir=");
        for (size_t i = 0; i < n; i++) {
                const char *dir = spec->layers ? spec->layers[i] : spec->dir;
                char name[32];
                struct stat st;

                if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        return sbx_fail_errno(err, errno ? errno : ENOTDIR, "rootfs layer `%s`",
                                              dir);
                snprintf(name, sizeof(name), "l/%zu", i);
                if (symlinkat(dir, scratchfd, name) < 0)
                        return sbx_fail_errno(err, errno, "link rootfs layer `%s`", dir);
                len += (size_t)snprintf(opts + len, cap - len, "%s%s", i ? ":" : "", name);
        }
        snprintf(opts + len, cap - len, ",upperdir=upper,workdir=work,userxattr");
        if (strlen(opts) >= 4096)
                return sbx_fail(err, "rootfs has too many layers (%zu) for one overlay mount", n);
        if (fchdir(scratchfd) < 0)
                return sbx_fail_errno(err, errno, "chdir to the scratch tmpfs");
        return do_mount("overlay", "root", "overlay", MS_NOSUID | MS_NODEV, opts, "overlay root",
                        err);
}

/* Paths of /proc that expose the host kernel, hidden behind /dev/null, an
 * empty read-only tmpfs, or made read-only.  The list is short on purpose:
 * files of /proc belong to the host's root, which is never mapped into a
 * sandbox, so what is writable or readable only by that owner (kmsg,
 * kallsyms addresses, /proc/bus, /proc/irq, /proc/fs) is already out of
 * reach; these are the ones readable by all, or sysctls some of which a
 * namespace's root may write. */
static const char *const proc_masked_files[] = {
    "kcore", "keys", "timer_list", "sched_debug", "sysrq-trigger", "latency_stats", "timer_stats"};
static const char *const proc_masked_dirs[] = {"acpi", "scsi", "asound"};
static const char *const proc_ro_dirs[] = {"sys"};

/* Directories hidden behind an empty read-only tmpfs: the first one gets a
 * tmpfs, the others a bind of it (a bind takes its source's read-only and
 * nosuid/nodev/noexec flags), so that all share one superblock, which is one
 * fewer to set up and to tear down for each. */
struct masks {
        char *first; /* path of the mounted one, NULL until then */
};

static int mask_dir(int rootfd, struct masks *m, const char *path, sbx_error **err)
{
        cleanup_close int src = -1;
        char self[64];

        if (m->first == NULL) {
                if (mount_in(rootfd, path, false, "tmpfs", "tmpfs", MS_RDONLY | PROC_FLAGS,
                             "size=0,mode=0555", err) < 0)
                        return -1;
                m->first = xstrdup(path);
                return 0;
        }
        src = openat2_in_root(rootfd, m->first, O_PATH | O_DIRECTORY);
        if (src < 0)
                return sbx_fail_errno(err, errno, "open `%s`", m->first);
        snprintf(self, sizeof(self), "/proc/self/fd/%d", src);
        return mount_in(rootfd, path, false, self, NULL, MS_BIND, NULL, err);
}

static int setup_proc(int rootfd, struct masks *masks, sbx_error **err)
{
        if (mount_in(rootfd, "/proc", false, "proc", "proc", PROC_FLAGS, NULL, err) < 0)
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(proc_ro_dirs); i++) {
                cleanup_free char *p = xasprintf("/proc/%s", proc_ro_dirs[i]);
                cleanup_close int fd = openat2_in_root(rootfd, p, O_PATH);
                char self[64];
                if (fd < 0)
                        continue;
                /* Bind the new /proc's own directory onto itself, then seal it. */
                snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
                if (mount(self, self, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return sbx_fail_errno(err, errno, "bind `%s`", p);
                if (remount_ro(rootfd, p, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < ARRAY_SIZE(proc_masked_files); i++) {
                cleanup_free char *p = xasprintf("/proc/%s", proc_masked_files[i]);
                cleanup_close int fd = openat2_in_root(rootfd, p, O_PATH);
                if (fd < 0)
                        continue;
                if (mount_in(rootfd, p, true, "/dev/null", NULL, MS_BIND, NULL, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < ARRAY_SIZE(proc_masked_dirs); i++) {
                cleanup_free char *p = xasprintf("/proc/%s", proc_masked_dirs[i]);
                cleanup_close int fd = openat2_in_root(rootfd, p, O_PATH | O_DIRECTORY);
                if (fd < 0)
                        continue;
                if (mask_dir(rootfd, masks, p, err) < 0)
                        return -1;
        }
        return 0;
}

static int setup_sys(int rootfd, struct masks *masks, sbx_error **err)
{
        /* A sysfs of the sandbox's own network namespace, read-only; the
         * firmware tables and power controls of the host hidden. */
        if (mount_in(rootfd, "/sys", false, "sysfs", "sysfs", MS_RDONLY | PROC_FLAGS, NULL, err) <
            0)
                return -1;
        static const char *const masked[] = {"/sys/firmware", "/sys/devices/virtual/powercap"};
        for (size_t i = 0; i < ARRAY_SIZE(masked); i++) {
                cleanup_close int fd = openat2_in_root(rootfd, masked[i], O_PATH | O_DIRECTORY);
                if (fd < 0)
                        continue;
                if (mask_dir(rootfd, masks, masked[i], err) < 0)
                        return -1;
        }
        return 0;
}

/* /dev: a small tmpfs with the harmless device nodes bound from the host
 * (mknod is not allowed in a user namespace), a private devpts and a
 * tmpfs /dev/shm.  With the host view the skeleton already holds /dev with
 * the files to bind on and the symlinks, so the tmpfs is not needed. */
static int setup_dev(int rootfd, bool rootless, bool prepared, sbx_error **err)
{
        static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
        static const char *const links[][2] = {{"ptmx", "pts/ptmx"},
                                               {"fd", "/proc/self/fd"},
                                               {"stdin", "/proc/self/fd/0"},
                                               {"stdout", "/proc/self/fd/1"},
                                               {"stderr", "/proc/self/fd/2"}};
        cleanup_close int devfd = -1;

        if (!prepared && mount_in(rootfd, "/dev", false, "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC,
                                  "size=64k,mode=0755", err) < 0)
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
                cleanup_free char *src = xasprintf("/dev/%s", nodes[i]);
                if (mount_in(rootfd, src, true, src, NULL, MS_BIND, NULL, err) < 0)
                        return -1;
        }
        if (mount_in(rootfd, "/dev/pts", false, "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                     rootless ? "newinstance,ptmxmode=0666,mode=0620"
                              : "newinstance,ptmxmode=0666,mode=0620,gid=5",
                     err) < 0)
                return -1;
        if (mount_in(rootfd, "/dev/shm", false, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV,
                     "size=64m,mode=1777", err) < 0)
                return -1;
        if (prepared)
                return 0;
        devfd = openat2_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
        if (devfd < 0)
                return sbx_fail_errno(err, errno, "open /dev");
        for (size_t i = 0; i < ARRAY_SIZE(links); i++)
                if (symlinkat(links[i][1], devfd, links[i][0]) < 0)
                        return sbx_fail_errno(err, errno, "symlink `/dev/%s`", links[i][0]);
        /* No new files in /dev: the device nodes are binds of their own. */
        return remount_ro(rootfd, "/dev", err);
}

static int setup_writable(int rootfd, const sbx_plan *p, sbx_error **err)
{
        for (size_t i = 0; i < p->n_tmpfs; i++) {
                const struct sbx_plan_tmpfs *t = &p->tmpfs[i];
                bool home = p->home && strcmp(t->path, p->home) == 0;
                cleanup_free char *opts =
                    home
                        ? xasprintf("size=%llu,mode=0700,uid=%u,gid=%u",
                                    (unsigned long long)t->size, (unsigned)p->uid, (unsigned)p->gid)
                        : xasprintf("size=%llu,mode=1777", (unsigned long long)t->size);
                if (mount_in(rootfd, t->path, false, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, opts,
                             err) < 0)
                        return -1;
        }
        return 0;
}

static int pivot(const char *root, sbx_error **err)
{
        if (chdir(root) < 0)
                return sbx_fail_errno(err, errno, "chdir to new root");
        /* pivot_root(".", ".") stacks the old root on top of the new one;
         * detaching "." then removes the old root from this namespace. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return sbx_fail_errno(err, errno, "pivot_root");
        if (umount2(".", MNT_DETACH) < 0)
                return sbx_fail_errno(err, errno, "detach old root");
        if (chdir("/") < 0)
                return sbx_fail_errno(err, errno, "chdir /");
        return 0;
}

int sbx_rootfs_setup(const struct sbx_rootfs_spec *spec, sbx_error **err)
{
        const sbx_plan *p = spec->plan;
        cleanup_free char *opts = NULL, *root = NULL;
        cleanup_close int scratchfd = -1, rootfd = -1;
        bool host = spec->hostview != NULL;
        struct masks masks = {NULL};
        int r;

        /* Nothing we mount may propagate back to the host. */
        if (do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, "/ private", err) < 0)
                return -1;
        opts = xasprintf("size=%llu,mode=0755", (unsigned long long)p->root_size);
        if (do_mount("sbx", spec->scratch, "tmpfs", MS_NOSUID | MS_NODEV, opts, "scratch tmpfs",
                     err) < 0)
                return -1;
        scratchfd = open(spec->scratch, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (scratchfd < 0)
                return sbx_fail_errno(err, errno, "open scratch tmpfs");
        if (mkdirat(scratchfd, "root", 0755) < 0 || mkdirat(scratchfd, "upper", 0755) < 0 ||
            mkdirat(scratchfd, "work", 0755) < 0)
                return sbx_fail_errno(err, errno, "create scratch directories");
        if ((host ? setup_host_view(spec, err) : setup_overlay_root(scratchfd, spec, err)) < 0)
                return -1;
        root = xasprintf("%s/root", spec->scratch);
        rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return sbx_fail_errno(err, errno, "open new root");
        for (const char *const *d = sbx_host_dirs; host && *d; d++)
                if (bind_host_dir(rootfd, *d, err) < 0)
                        return -1;
        r = setup_proc(rootfd, &masks, err) < 0 ||
            setup_dev(rootfd, spec->rootless, host, err) < 0 ||
            setup_writable(rootfd, p, err) < 0 ||
            (spec->enter_net && spec->enter_net(spec->enter_net_arg, err) < 0) ||
            setup_sys(rootfd, &masks, err) < 0;
        free(masks.first);
        if (r)
                return -1;
        for (size_t i = 0; i < p->n_binds; i++)
                if (bind_in(rootfd, p->binds[i].source, false, p->binds[i].dest,
                            !p->binds[i].writable, err) < 0)
                        return -1;
        for (size_t i = 0; i < spec->n_volumes; i++)
                if (bind_in(rootfd, spec->volumes[i].src, true, spec->volumes[i].dst,
                            spec->volumes[i].ro, err) < 0)
                        return -1;
        if (p->root_mode == SBX_ROOT_READONLY && remount_ro(rootfd, "/", err) < 0)
                return -1;
        return pivot(root, err);
}
