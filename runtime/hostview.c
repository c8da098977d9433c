/* hostview.c - the skeleton of the read-only host view, built once.
 *
 * The default root file system is an overlay whose lower layer is a small
 * directory prepared here, on the host side, before any sandbox exists:
 * symlinks or mount points for /usr, /bin, /lib*, /sbin, a generated /etc
 * (passwd and group with the sandbox user, hosts, nsswitch, resolv.conf,
 * copies of the host's harmless /etc entries), empty mount points for /proc,
 * /sys, /dev, /tmp and the home directory, and empty files on which /dev's
 * device nodes are bound.  Building it costs about a millisecond; reusing it
 * costs a few stat calls, so it is kept as a cache:
 *
 *   <state root>/.hostview/<key>   key = sha256 of everything it is made of:
 *                                  the generated text, and the identity
 *                                  (inode, size, mtime) of every host file
 *                                  copied into it
 *
 * A host file that changes (a package updates ld.so.cache) changes the key,
 * and the next sandbox gets a fresh skeleton.  Templates are built in a
 * temporary directory and renamed into place, so concurrent runs are safe;
 * a run holds <state root>/.hostview/.lock shared for its whole life, and
 * `sbx gc` removes skeletons only when it can take that lock exclusively.
 * They hold nothing secret: what goes in is listed below.
 */
#include "internal.h"
#include "sha256.h"

#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOSTVIEW_FORMAT "sbx-hostview-1"
#define HOSTNAME "sbx"

const char *const sbx_host_dirs[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", NULL};

/* Host /etc entries that carry no secret and that programs need to run: the
 * dynamic linker cache, alternatives symlinks, shell profiles, time zone,
 * service names.  Never shadow, ssh, sudoers.  CA certificates are left out
 * on purpose: the sandbox has no network. */
static const char *const etc_files[] = {"ld.so.cache", "ld.so.conf", "localtime",  "profile",
                                        "bash.bashrc", "inputrc",    "os-release", "debian_version",
                                        "protocols",   "services",   "timezone"};
static const char *const etc_dirs[] = {"alternatives", "ld.so.conf.d", "profile.d"};
#define ETC_COPY_MAX (1 << 20) /* a host file larger than this is not copied */

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
static const char *const dev_links[][2] = {{"ptmx", "pts/ptmx"},
                                           {"fd", "/proc/self/fd"},
                                           {"stdin", "/proc/self/fd/0"},
                                           {"stdout", "/proc/self/fd/1"},
                                           {"stderr", "/proc/self/fd/2"}};

struct gen_file {
        const char *name;
        char *text;
};

static void gen_files(const sbx_plan *p, struct gen_file out[6])
{
        const char *shell = access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";

        out[0] = (struct gen_file){
            "passwd", xasprintf("root:x:0:0:root:/root:%s\n%s:x:%u:%u:%s:%s:%s\n"
                                "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                                shell, p->user_name, (unsigned)p->uid, (unsigned)p->gid,
                                p->user_name, p->home, shell)};
        out[1] = (struct gen_file){"group",
                                   xasprintf("root:x:0:\ntty:x:5:\n%s:x:%u:\nnogroup:x:65534:\n",
                                             p->user_name, (unsigned)p->gid)};
        out[2] = (struct gen_file){"hosts", xstrdup("127.0.0.1\tlocalhost " HOSTNAME "\n"
                                                    "::1\tlocalhost ip6-localhost ip6-loopback\n")};
        out[3] = (struct gen_file){"hostname", xstrdup(HOSTNAME "\n")};
        out[4] = (struct gen_file){"nsswitch.conf",
                                   xstrdup("passwd: files\ngroup: files\nshadow: files\n"
                                           "hosts: files\n")};
        out[5] = (struct gen_file){
            "resolv.conf", xstrdup("# this sandbox has no network beyond its own loopback\n")};
}

static void hash_stat(sha256_ctx *h, const char *path)
{
        struct stat st;
        char buf[512];
        int n;

        if (lstat(path, &st) < 0)
                n = snprintf(buf, sizeof(buf), "%s absent\n", path);
        else
                n = snprintf(buf, sizeof(buf), "%s %o %llu %lld %lld.%09ld\n", path,
                             (unsigned)st.st_mode, (unsigned long long)st.st_ino,
                             (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                             st.st_mtim.tv_nsec);
        sha256_update(h, buf, (size_t)n);
}

static char *template_key(const sbx_plan *p, const struct gen_file gen[6], uid_t owner)
{
        sha256_ctx h;
        char *hex = xmalloc(SHA256_HEX_LEN + 1);
        char buf[256];
        int n;

        sha256_init(&h);
        n = snprintf(buf, sizeof(buf), "%s owner=%u home=%s\n", HOSTVIEW_FORMAT, (unsigned)owner,
                     p->home);
        sha256_update(&h, buf, (size_t)n);
        for (int i = 0; i < 6; i++) {
                sha256_update(&h, gen[i].name, strlen(gen[i].name) + 1);
                sha256_update(&h, gen[i].text, strlen(gen[i].text) + 1);
        }
        for (const char *const *d = sbx_host_dirs; *d; d++) {
                cleanup_free char *path = xasprintf("/%s", *d);
                hash_stat(&h, path);
        }
        for (size_t i = 0; i < ARRAY_SIZE(etc_files); i++) {
                cleanup_free char *path = xasprintf("/etc/%s", etc_files[i]);
                hash_stat(&h, path);
        }
        /* Directories: their own mtime changes when an entry is added,
         * removed or replaced by rename (how update-alternatives works). */
        for (size_t i = 0; i < ARRAY_SIZE(etc_dirs); i++) {
                cleanup_free char *path = xasprintf("/etc/%s", etc_dirs[i]);
                hash_stat(&h, path);
        }
        sha256_final_hex(&h, hex);
        return hex;
}

/* Copy one /etc entry: a symlink as a symlink, a small regular file by content. */
static int copy_entry(int srcdir, const char *name, int dstdir, sbx_error **err)
{
        char link[4096];
        ssize_t n = readlinkat(srcdir, name, link, sizeof(link) - 1);
        cleanup_close int in = -1, out = -1;
        cleanup_free char *data = NULL;
        struct stat st;

        if (n > 0) {
                link[n] = '\0';
                if (symlinkat(link, dstdir, name) < 0)
                        return sbx_fail_errno(err, errno, "host view: symlink /etc/.../%s", name);
                return 0;
        }
        in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > ETC_COPY_MAX)
                return 0; /* absent here, or not something to copy */
        data = xmalloc((size_t)st.st_size + 1);
        if (read_full(in, data, (size_t)st.st_size) != st.st_size)
                return 0;
        out = openat(dstdir, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        if (out < 0 || write_full(out, data, (size_t)st.st_size) < 0)
                return sbx_fail_errno(err, errno, "host view: write /etc/.../%s", name);
        return 0;
}

static int copy_dir(int hostetc, int etcfd, const char *name, sbx_error **err)
{
        cleanup_close int src =
            openat(hostetc, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        cleanup_close int dst = -1;
        cleanup_dir DIR *d = NULL;
        struct dirent *de;

        if (src < 0)
                return 0;
        if (mkdirat(etcfd, name, 0755) < 0 ||
            (dst = openat(etcfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
            (d = fdopendir(dup(src))) == NULL)
                return sbx_fail_errno(err, errno, "host view: copy /etc/%s", name);
        while ((de = readdir(d)) != NULL)
                if (de->d_name[0] != '.' && copy_entry(src, de->d_name, dst, err) < 0)
                        return -1;
        return 0;
}

/* Give every entry below dirfd to the sandbox's root (rootful mode): files
 * made by the host's root would show up as the overflow uid inside. */
static int chown_tree(int dirfd, uid_t uid, gid_t gid)
{
        cleanup_dir DIR *d = fdopendir(dup(dirfd));
        struct dirent *de;

        if (d == NULL || fchownat(dirfd, "", uid, gid, AT_EMPTY_PATH) < 0)
                return -1;
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (de->d_type == DT_DIR) {
                        cleanup_close int sub = openat(
                            dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0 || chown_tree(sub, uid, gid) < 0)
                                return -1;
                } else if (fchownat(dirfd, de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
                        return -1;
                }
        }
        return 0;
}

static int build(int fd, const sbx_plan *p, const struct gen_file gen[6], sbx_error **err)
{
        static const char *const dirs[] = {"etc",     "proc", "sys",  "dev", "dev/pts",
                                           "dev/shm", "tmp",  "run",  "var", "var/tmp",
                                           "mnt",     "opt",  "home", "root"};
        cleanup_close int etcfd = -1, hostetc = -1, devfd = -1;
        char link[4096];

        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
                if (mkdirat(fd, dirs[i], 0755) < 0)
                        return sbx_fail_errno(err, errno, "host view: mkdir /%s", dirs[i]);
        if (fchmodat(fd, "tmp", 01777, 0) < 0 || fchmodat(fd, "var/tmp", 01777, 0) < 0 ||
            fchmodat(fd, "root", 0700, 0) < 0)
                return sbx_fail_errno(err, errno, "host view: chmod");
        if (p->home && p->home[0] == '/' && p->home[1]) {
                cleanup_free char *h = xstrdup(p->home + 1);
                for (char *s = strchr(h, '/'); s; s = strchr(s + 1, '/')) {
                        *s = '\0';
                        mkdirat(fd, h, 0755);
                        *s = '/';
                }
                mkdirat(fd, h, 0755);
        }
        for (const char *const *d = sbx_host_dirs; *d; d++) {
                cleanup_free char *host = xasprintf("/%s", *d);
                struct stat st;
                ssize_t n;

                if (lstat(host, &st) < 0)
                        continue;
                if (S_ISLNK(st.st_mode)) { /* merged /usr: bin -> usr/bin */
                        n = readlink(host, link, sizeof(link) - 1);
                        if (n < 0)
                                return sbx_fail_errno(err, errno, "readlink `%s`", host);
                        link[n] = '\0';
                        if (symlinkat(link, fd, *d) < 0)
                                return sbx_fail_errno(err, errno, "host view: symlink /%s", *d);
                } else if (S_ISDIR(st.st_mode) && mkdirat(fd, *d, 0755) < 0) {
                        return sbx_fail_errno(err, errno, "host view: mkdir /%s", *d);
                }
        }
        etcfd = openat(fd, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        hostetc = open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        devfd = openat(fd, "dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (etcfd < 0 || hostetc < 0 || devfd < 0)
                return sbx_fail_errno(err, errno, "host view: open /etc");
        for (int i = 0; i < 6; i++)
                if (write_file_at(etcfd, gen[i].name, gen[i].text, true, 0644) < 0)
                        return sbx_fail_errno(err, errno, "host view: write /etc/%s", gen[i].name);
        for (size_t i = 0; i < ARRAY_SIZE(etc_files); i++)
                if (copy_entry(hostetc, etc_files[i], etcfd, err) < 0)
                        return -1;
        for (size_t i = 0; i < ARRAY_SIZE(etc_dirs); i++)
                if (copy_dir(hostetc, etcfd, etc_dirs[i], err) < 0)
                        return -1;
        for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++)
                if (write_file_at(devfd, dev_nodes[i], "", true, 0644) < 0)
                        return sbx_fail_errno(err, errno, "host view: /dev/%s", dev_nodes[i]);
        for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++)
                if (symlinkat(dev_links[i][1], devfd, dev_links[i][0]) < 0)
                        return sbx_fail_errno(err, errno, "host view: /dev/%s", dev_links[i][0]);
        return 0;
}

int sbx_remove_tree(int dirfd, const char *name)
{
        cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        cleanup_dir DIR *d = NULL;
        struct dirent *de;

        if (fd < 0)
                return unlinkat(dirfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
        d = fdopendir(dup(fd));
        while (d && (de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (de->d_type == DT_DIR)
                        sbx_remove_tree(fd, de->d_name);
                else
                        unlinkat(fd, de->d_name, 0);
        }
        return unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* Open <base>/.lock and take it shared: a run holds it for as long as its
 * sandbox may use a skeleton as lower layer, and `sbx gc` removes skeletons
 * only when it gets the lock exclusively. */
static int lock_shared(int basefd, const char *base, sbx_error **err)
{
        int fd = openat(basefd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd < 0)
                return sbx_fail_errno(err, errno, "open `%s/.lock`", base);
        if (TEMP_FAILURE_RETRY(flock(fd, LOCK_SH)) < 0) {
                int e = errno;
                close(fd);
                return sbx_fail_errno(err, e, "lock `%s/.lock`", base);
        }
        return fd;
}

int sbx_hostview_prepare(const sbx_plan *p, uid_t owner, gid_t group, char **out, int *lock_out,
                         sbx_error **err)
{
        cleanup_free char *root = sbx_state_root();
        cleanup_free char *base = xasprintf("%s/.hostview", root);
        cleanup_free char *key = NULL, *dir = NULL, *tmp = NULL;
        cleanup_close int basefd = -1, fd = -1, lock = -1;
        struct gen_file gen[6];
        struct stat st;
        char id[13];
        int r = -1;

        gen_files(p, gen);
        key = template_key(p, gen, owner);
        dir = xasprintf("%s/%s", base, key);
        /* The state root exists by now (sbx_state_create checked it). */
        if (mkdir(base, 0711) < 0 && errno != EEXIST) {
                sbx_fail_errno(err, errno, "create `%s`", base);
                goto done;
        }
        basefd = open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (basefd < 0 || fstat(basefd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
                sbx_fail(err, "`%s` is not a directory owned by uid %u and writable only by it",
                         base, (unsigned)geteuid());
                goto done;
        }
        if ((lock = lock_shared(basefd, base, err)) < 0)
                goto done;
        if (fstatat(basefd, key, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
            st.st_uid == owner) {
                r = 0;
                goto done;
        }
        sbx_random_id(id);
        tmp = xasprintf(".tmp-%s", id);
        if (mkdirat(basefd, tmp, 0755) < 0 ||
            (fd = openat(basefd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
                sbx_fail_errno(err, errno, "create host view in `%s`", base);
                goto done;
        }
        if (build(fd, p, gen, err) < 0)
                goto fail;
        if (owner != geteuid() && chown_tree(fd, owner, group) < 0) {
                sbx_fail_errno(err, errno, "host view: chown to uid %u", (unsigned)owner);
                goto fail;
        }
        /* Another run may have built the same one meanwhile: keep theirs,
         * if it is whole and ours to trust. */
        if (renameat(basefd, tmp, basefd, key) < 0) {
                if ((errno != EEXIST && errno != ENOTEMPTY) ||
                    fstatat(basefd, key, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
                    st.st_uid != owner) {
                        sbx_fail_errno(err, errno ? errno : EEXIST, "install host view `%s`", dir);
                        goto fail;
                }
        }
        sbx_remove_tree(basefd, tmp);
        r = 0;
        goto done;
fail:
        sbx_remove_tree(basefd, tmp);
done:
        for (int i = 0; i < 6; i++)
                free(gen[i].text);
        if (r == 0) {
                *out = steal_pointer(&dir);
                *lock_out = steal_fd(&lock);
        }
        return r;
}

int sbx_hostview_gc(void (*report)(const char *what, void *arg), void *arg)
{
        cleanup_free char *root = sbx_state_root();
        cleanup_free char *base = xasprintf("%s/.hostview", root);
        cleanup_close int basefd = open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        cleanup_close int lock = -1;
        cleanup_dir DIR *d = NULL;
        struct dirent *de;

        if (basefd < 0)
                return 0;
        lock = openat(basefd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        /* A running sandbox may use a skeleton as its lower layer. */
        if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
                return 0;
        d = fdopendir(dup(basefd));
        while (d && (de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.' && strncmp(de->d_name, ".tmp-", 5) != 0)
                        continue;
                if (sbx_remove_tree(basefd, de->d_name) == 0 && report) {
                        cleanup_free char *what = xasprintf("host view %s/%s", base, de->d_name);
                        report(what, arg);
                }
        }
        return 0;
}
