/* archive_extract.c - safe extraction of one layer tar into a directory.
 *
 * Every entry first passes the pure rf_check_entry() (no absolute paths, no
 * `..`, hardlink targets inside the layer, whiteout mapping).  Then every
 * parent directory is opened with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), so an entry can never be
 * written through a symlink an earlier entry planted, and the final
 * component is created with O_EXCL / O_NOFOLLOW semantics.
 *
 * The compressed input is hashed as it is read (blob digest) and the
 * decompressed stream as it is parsed (diff-id): a raw-format libarchive
 * reader decompresses, and a tar reader pulls from it through a callback.
 */
#include "rootfs-internal.h"
#include "sha256.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define SRC_BUF (256 * 1024)

struct extract {
        struct rf_import_ctx *ic;
        int rootfd;
        const char *label;
        struct rf_entry ent;
        char cached_dir[PATH_MAX]; /* parent directory of the last entry */
        int cached_fd;
        struct rf_layer_result *res;
};

/* ---- progress bar ---- */

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rf_progress_add(struct rf_import_ctx *ic, uint64_t n)
{
        long long t;
        unsigned pct, bars;
        char bar[41];

        ic->prog_done += n;
        if (!ic->opts->progress || ic->prog_total == 0)
                return;
        t = now_ms();
        if (t - ic->prog_last_ms < 100)
                return;
        ic->prog_last_ms = t;
        pct = (unsigned)(ic->prog_done >= ic->prog_total ? 100
                                                         : ic->prog_done * 100 / ic->prog_total);
        bars = pct * 40 / 100;
        memset(bar, '#', bars);
        memset(bar + bars, '.', 40 - bars);
        bar[40] = '\0';
        fprintf(stderr, "\rimporting [%s] %3u%% %llu/%llu MiB", bar, pct,
                (unsigned long long)(ic->prog_done >> 20),
                (unsigned long long)(ic->prog_total >> 20));
}

void rf_progress_end(struct rf_import_ctx *ic)
{
        if (ic->opts->progress && ic->prog_last_ms != 0)
                fprintf(stderr, "\r\033[K");
        ic->prog_last_ms = 0;
}

/* ---- directories ---- */

static int open_beneath(int at, const char *path)
{
        struct open_how how = {
            .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int)syscall(SYS_openat2, at, path, &how, sizeof(how));

        /* Before Linux 5.6: one component at a time is the same guarantee,
         * since checked components are never "..". */
        if (fd < 0 && errno == ENOSYS && strchr(path, '/') == NULL)
                fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd;
}

static int dir_error(struct extract *x, int e, const char *prefix, sbx_error **err)
{
        if (e == ELOOP)
                return sbx_fail(err,
                                "%s: entry `%s`: `%s` is a symlink: refusing to extract "
                                "through it",
                                x->label, x->ent.path, prefix);
        if (e == ENOTDIR)
                return sbx_fail(err, "%s: entry `%s`: `%s` is not a directory", x->label,
                                x->ent.path, prefix);
        return sbx_fail_errno(err, e, "%s: entry `%s`: open `%s`", x->label, x->ent.path, prefix);
}

/* Walk (creating as needed) the directories of `dir`, one component at a
 * time, never following a symlink. */
static int make_dirs(struct extract *x, const char *dir, sbx_error **err)
{
        char prefix[PATH_MAX];
        const char *p = dir;
        int cur = dup(x->rootfd);

        while (cur >= 0 && *p) {
                const char *end = strchrnul(p, '/');
                char comp[RF_NAME_MAX + 1];
                int next;

                memcpy(comp, p, (size_t)(end - p));
                comp[end - p] = '\0';
                snprintf(prefix, sizeof(prefix), "%.*s", (int)(end - dir), dir);
                if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
                        int e = errno;
                        close(cur);
                        return sbx_fail_errno(err, e, "%s: entry `%s`: create `%s`", x->label,
                                              x->ent.path, prefix);
                }
                next = open_beneath(cur, comp);
                if (next < 0) {
                        int e = errno;
                        close(cur);
                        return dir_error(x, e, prefix, err);
                }
                close(cur);
                cur = next;
                p = *end ? end + 1 : end;
        }
        return cur;
}

static void drop_cache(struct extract *x)
{
        if (x->cached_fd >= 0)
                close(x->cached_fd);
        x->cached_fd = -1;
        x->cached_dir[0] = '\0';
}

/* fd of the entry's parent directory (borrowed: owned by the cache). */
static int parent_fd(struct extract *x, const char *dir, sbx_error **err)
{
        int fd;

        if (dir[0] == '\0')
                return x->rootfd;
        if (x->cached_fd >= 0 && strcmp(x->cached_dir, dir) == 0)
                return x->cached_fd;
        /* Fast path: one openat2 for the whole directory.  On failure the
         * walk creates what is missing and names the offending component. */
        fd = open_beneath(x->rootfd, dir);
        if (fd < 0)
                fd = make_dirs(x, dir, err);
        if (fd < 0)
                return -1;
        drop_cache(x);
        x->cached_fd = fd;
        snprintf(x->cached_dir, sizeof(x->cached_dir), "%s", dir);
        return fd;
}

/* Make room for a new entry: later entries of a tar replace earlier ones. */
static int remove_existing(struct extract *x, int pfd, const char *name, sbx_error **err)
{
        if (unlinkat(pfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno == EISDIR || errno == EPERM) {
                drop_cache(x);
                if (unlinkat(pfd, name, AT_REMOVEDIR) == 0)
                        return 0;
        }
        return sbx_fail_errno(err, errno, "%s: entry `%s`: replace the existing entry", x->label,
                              x->ent.path);
}

/* ---- metadata ---- */

static mode_t entry_mode(struct extract *x, struct archive_entry *e, enum rf_type type)
{
        mode_t mode = archive_entry_perm(e) & 07777;

        if (type == RF_DIR) {
                /* Without CAP_DAC_OVERRIDE the owner must be able to fill it. */
                if (!x->ic->is_root)
                        mode |= 0700;
                return mode;
        }
        if ((mode & (S_ISUID | S_ISGID)) && !x->ic->opts->keep_setid) {
                mode &= ~(mode_t)(S_ISUID | S_ISGID);
                x->ic->dropped_setid++;
        }
        return mode;
}

/* Overlay metadata in a layer would let an image forge whiteouts, redirects
 * or metacopy files; file capabilities are setuid in disguise. */
static bool xattr_allowed(struct extract *x, const char *name)
{
        if (strncmp(name, "user.overlay.", 13) == 0)
                return false;
        if (strcmp(name, "security.capability") == 0)
                return x->ic->opts->keep_setid;
        return strncmp(name, "user.", 5) == 0;
}

static int set_xattrs(struct extract *x, struct archive_entry *e, int fd, sbx_error **err)
{
        const char *name;
        const void *value;
        size_t size;

        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (!xattr_allowed(x, name)) {
                        x->ic->dropped_xattrs++;
                        continue;
                }
                if (fsetxattr(fd, name, value, size, 0) < 0 && errno != ENOTSUP)
                        return sbx_fail_errno(err, errno, "%s: entry `%s`: set xattr `%s`",
                                              x->label, x->ent.path, name);
        }
        return 0;
}

/* Owner first: chown clears setuid/setgid bits. */
static int set_meta_fd(struct extract *x, struct archive_entry *e, int fd, mode_t mode,
                       sbx_error **err)
{
        if (x->ic->is_root &&
            fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
                return sbx_fail_errno(err, errno, "%s: entry `%s`: chown", x->label, x->ent.path);
        if (fchmod(fd, mode) < 0)
                return sbx_fail_errno(err, errno, "%s: entry `%s`: chmod", x->label, x->ent.path);
        return set_xattrs(x, e, fd, err);
}

static void set_mtime_at(int pfd, const char *name, struct archive_entry *e, int fd)
{
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
                                 {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
        if (fd >= 0)
                futimens(fd, ts);
        else
                utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

/* ---- entry types ---- */

static int write_data(struct extract *x, struct archive *a, int fd, sbx_error **err)
{
        const void *buf;
        size_t size;
        la_int64_t off;
        int r;

        while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
                x->ic->bytes += size;
                x->res->size += size;
                if (x->ic->bytes > x->ic->opts->max_size)
                        return sbx_fail(err,
                                        "%s: entry `%s`: the import exceeds %llu bytes "
                                        "(--max-size)",
                                        x->label, x->ent.path,
                                        (unsigned long long)x->ic->opts->max_size);
                while (size > 0) {
                        ssize_t w = pwrite(fd, buf, size, off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return sbx_fail_errno(err, errno, "%s: entry `%s`: write", x->label,
                                                      x->ent.path);
                        buf = (const char *)buf + w;
                        size -= (size_t)w;
                        off += w;
                }
        }
        if (r != ARCHIVE_EOF)
                return sbx_fail(err, "%s: entry `%s`: %s", x->label, x->ent.path,
                                archive_error_string(a));
        return 0;
}

static int make_file(struct extract *x, struct archive *a, struct archive_entry *e, int pfd,
                     sbx_error **err)
{
        const char *name = x->ent.name;
        mode_t mode = entry_mode(x, e, RF_FILE);
        cleanup_close int fd = -1;

        for (int i = 0; i < 2 && fd < 0; i++) {
                fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0 && errno == EEXIST && i == 0 && remove_existing(x, pfd, name, err) < 0)
                        return -1;
        }
        if (fd < 0)
                return sbx_fail_errno(err, errno, "%s: entry `%s`: create", x->label, x->ent.path);
        if (write_data(x, a, fd, err) < 0)
                return -1;
        /* A sparse file's hole at the end is not in any data block. */
        if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
                return sbx_fail_errno(err, errno, "%s: entry `%s`: truncate", x->label,
                                      x->ent.path);
        if (set_meta_fd(x, e, fd, mode, err) < 0)
                return -1;
        set_mtime_at(pfd, name, e, fd);
        return 0;
}

static int make_dir(struct extract *x, struct archive_entry *e, sbx_error **err)
{
        cleanup_close int fd = -1;
        struct stat sb;
        int pfd = parent_fd(x, x->ent.dir, err);

        if (pfd < 0)
                return -1;
        if (mkdirat(pfd, x->ent.name, 0700) < 0 && errno == EEXIST &&
            fstatat(pfd, x->ent.name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(sb.st_mode)) {
                if (remove_existing(x, pfd, x->ent.name, err) < 0)
                        return -1;
                mkdirat(pfd, x->ent.name, 0700);
        }
        fd = open_beneath(pfd, x->ent.name);
        if (fd < 0)
                return dir_error(x, errno, x->ent.path, err);
        return set_meta_fd(x, e, fd, entry_mode(x, e, RF_DIR), err);
}

static int make_symlink(struct extract *x, struct archive_entry *e, int pfd, sbx_error **err)
{
        const char *target = archive_entry_symlink(e);

        if (target == NULL || target[0] == '\0')
                return sbx_fail(err, "%s: entry `%s`: symlink without a target", x->label,
                                x->ent.path);
        if (strlen(target) > x->ic->opts->max_path)
                return sbx_fail(err,
                                "%s: entry `%s`: symlink target longer than the limit "
                                "(--max-path)",
                                x->label, x->ent.path);
        if (symlinkat(target, pfd, x->ent.name) < 0 &&
            (errno != EEXIST || remove_existing(x, pfd, x->ent.name, err) < 0 ||
             symlinkat(target, pfd, x->ent.name) < 0))
                return sbx_fail_errno(err, errno, "%s: entry `%s`: symlink", x->label, x->ent.path);
        if (x->ic->is_root && fchownat(pfd, x->ent.name, (uid_t)archive_entry_uid(e),
                                       (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
                return sbx_fail_errno(err, errno, "%s: entry `%s`: chown", x->label, x->ent.path);
        set_mtime_at(pfd, x->ent.name, e, -1);
        return 0;
}

static int make_hardlink(struct extract *x, int pfd, sbx_error **err)
{
        char tdir[PATH_MAX];
        const char *slash = strrchr(x->ent.link, '/');
        const char *tname = slash ? slash + 1 : x->ent.link;
        cleanup_close int tfd = -1;
        int at = x->rootfd;

        if (slash != NULL) {
                snprintf(tdir, sizeof(tdir), "%.*s", (int)(slash - x->ent.link), x->ent.link);
                tfd = open_beneath(x->rootfd, tdir);
                if (tfd < 0 && errno == ELOOP)
                        return sbx_fail(err,
                                        "%s: entry `%s`: hardlink target `%s` goes "
                                        "through a symlink",
                                        x->label, x->ent.path, x->ent.link);
                if (tfd < 0)
                        return sbx_fail(err,
                                        "%s: entry `%s`: hardlink target `%s` is not in "
                                        "the layer",
                                        x->label, x->ent.path, x->ent.link);
                at = tfd;
        }
        for (int i = 0; i < 2; i++) {
                if (linkat(at, tname, pfd, x->ent.name, 0) == 0)
                        return 0;
                if (errno != EEXIST || i > 0 || remove_existing(x, pfd, x->ent.name, err) < 0)
                        break;
        }
        if (errno == ENOENT)
                return sbx_fail(err, "%s: entry `%s`: hardlink target `%s` is not in the layer",
                                x->label, x->ent.path, x->ent.link);
        return sbx_fail_errno(err, errno, "%s: entry `%s`: hardlink to `%s`", x->label, x->ent.path,
                              x->ent.link);
}

static int make_node(struct extract *x, struct archive_entry *e, enum rf_type type, int pfd,
                     sbx_error **err)
{
        mode_t fmt = type == RF_CHAR ? S_IFCHR : type == RF_BLOCK ? S_IFBLK : S_IFIFO;
        dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));

        if (type != RF_FIFO && !x->ic->opts->keep_devices) {
                x->ic->dropped_devices++;
                return 0;
        }
        if (mknodat(pfd, x->ent.name, fmt | 0600, type == RF_FIFO ? 0 : dev) < 0 &&
            (errno != EEXIST || remove_existing(x, pfd, x->ent.name, err) < 0 ||
             mknodat(pfd, x->ent.name, fmt | 0600, type == RF_FIFO ? 0 : dev) < 0))
                return sbx_fail_errno(err, errno, "%s: entry `%s`: mknod", x->label, x->ent.path);
        if (x->ic->is_root && fchownat(pfd, x->ent.name, (uid_t)archive_entry_uid(e),
                                       (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
                return sbx_fail_errno(err, errno, "%s: entry `%s`: chown", x->label, x->ent.path);
        if (fchmodat(pfd, x->ent.name, entry_mode(x, e, type), 0) < 0)
                return sbx_fail_errno(err, errno, "%s: entry `%s`: chmod", x->label, x->ent.path);
        return 0;
}

/* An overlay whiteout is a 0:0 character device; creating one needs no
 * privilege since Linux 5.8. */
static int make_whiteout(struct extract *x, int pfd, sbx_error **err)
{
        if (mknodat(pfd, x->ent.name, S_IFCHR | 0, makedev(0, 0)) == 0)
                return 0;
        if (errno == EEXIST && remove_existing(x, pfd, x->ent.name, err) == 0 &&
            mknodat(pfd, x->ent.name, S_IFCHR | 0, makedev(0, 0)) == 0)
                return 0;
        return sbx_fail_errno(err, errno, "%s: entry `%s`: create whiteout `%s`", x->label,
                              x->ent.path, x->ent.name);
}

/* user.overlay.opaque is what overlay reads when mounted with userxattr (in
 * a user namespace); trusted.overlay.opaque is for a mount by real root. */
static int make_opaque(struct extract *x, sbx_error **err)
{
        cleanup_close int fd = -1;
        int pfd = parent_fd(x, x->ent.dir, err);

        if (pfd < 0)
                return -1;
        fd = dup(pfd);
        if (fsetxattr(fd, "user.overlay.opaque", "y", 1, 0) < 0)
                return sbx_fail_errno(err, errno, "%s: entry `%s`: mark `%s` opaque", x->label,
                                      x->ent.path, x->ent.dir[0] ? x->ent.dir : ".");
        if (x->ic->is_root && fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                return sbx_fail_errno(err, errno, "%s: entry `%s`: mark `%s` opaque", x->label,
                                      x->ent.path, x->ent.dir[0] ? x->ent.dir : ".");
        return 0;
}

static enum rf_type type_of(struct archive_entry *e)
{
        const char *hl = archive_entry_hardlink(e);

        if (hl != NULL && hl[0] != '\0')
                return RF_HARDLINK;
        switch (archive_entry_filetype(e)) {
        case AE_IFDIR:
                return RF_DIR;
        case AE_IFREG:
                return RF_FILE;
        case AE_IFLNK:
                return RF_SYMLINK;
        case AE_IFCHR:
                return RF_CHAR;
        case AE_IFBLK:
                return RF_BLOCK;
        case AE_IFIFO:
                return RF_FIFO;
        case AE_IFSOCK:
                return RF_SOCKET;
        default:
                return RF_OTHER;
        }
}

static int count_entry(struct extract *x, struct archive_entry *e, sbx_error **err)
{
        const struct sbx_import_opts *o = x->ic->opts;

        x->res->files++;
        if (++x->ic->files > o->max_files)
                return sbx_fail(err,
                                "%s: entry `%s`: the import has more than %llu entries "
                                "(--max-files)",
                                x->label, x->ent.path, (unsigned long long)o->max_files);
        if (archive_entry_size(e) > 0 &&
            x->ic->bytes + (uint64_t)archive_entry_size(e) > o->max_size)
                return sbx_fail(err,
                                "%s: entry `%s`: the import exceeds %llu bytes "
                                "(--max-size)",
                                x->label, x->ent.path, (unsigned long long)o->max_size);
        return 0;
}

static int extract_entry(struct extract *x, struct archive *a, struct archive_entry *e,
                         sbx_error **err)
{
        const char *path = archive_entry_pathname(e);
        enum rf_type type = type_of(e);
        const char *reason =
            rf_check_entry(path, type, archive_entry_hardlink(e), x->ic->opts->max_path, &x->ent);
        int pfd;

        if (reason != NULL)
                return sbx_fail(err, "%s: entry `%s`: %s", x->label, path ? path : "", reason);
        if (count_entry(x, e, err) < 0)
                return -1;
        switch (x->ent.action) {
        case RF_ROOT:
        case RF_IGNORE:
                return 0;
        case RF_OPAQUE:
                return make_opaque(x, err);
        case RF_WHITEOUT:
        case RF_CREATE:
        default:
                break;
        }
        if (type == RF_DIR && x->ent.action == RF_CREATE)
                return make_dir(x, e, err);
        if ((pfd = parent_fd(x, x->ent.dir, err)) < 0)
                return -1;
        if (x->ent.action == RF_WHITEOUT)
                return make_whiteout(x, pfd, err);
        switch (type) {
        case RF_FILE:
                return make_file(x, a, e, pfd, err);
        case RF_SYMLINK:
                return make_symlink(x, e, pfd, err);
        case RF_HARDLINK:
                return make_hardlink(x, pfd, err);
        case RF_CHAR:
        case RF_BLOCK:
        case RF_FIFO:
                return make_node(x, e, type, pfd, err);
        case RF_SOCKET:
                x->ic->dropped_devices++;
                return 0;
        case RF_DIR:
        case RF_OTHER:
        default:
                return sbx_fail(err, "%s: entry `%s`: unsupported entry type", x->label,
                                x->ent.path);
        }
}

/* ---- the two-stage reader ---- */

struct src_reader {
        struct rf_import_ctx *ic;
        int fd;
        sha256_ctx h;
        uint8_t *buf;
};

struct mid_reader {
        struct archive *raw;
        sha256_ctx h;
        bool hash; /* false when the input is not compressed: the hashes agree */
        bool eof;
};

static la_ssize_t src_read(struct archive *a, void *cd, const void **out)
{
        struct src_reader *s = cd;
        ssize_t n = TEMP_FAILURE_RETRY(read(s->fd, s->buf, SRC_BUF));

        if (n < 0) {
                archive_set_error(a, errno, "read: %s", strerror(errno));
                return -1;
        }
        sha256_update(&s->h, s->buf, (size_t)n);
        rf_progress_add(s->ic, (uint64_t)n);
        *out = s->buf;
        return n;
}

static la_ssize_t mid_read(struct archive *a, void *cd, const void **out)
{
        struct mid_reader *m = cd;
        size_t size = 0;
        la_int64_t off;

        while (!m->eof && size == 0) {
                int r = archive_read_data_block(m->raw, out, &size, &off);
                if (r == ARCHIVE_EOF) {
                        m->eof = true;
                        return 0;
                }
                if (r < ARCHIVE_WARN) {
                        archive_set_error(a, EIO, "%s", archive_error_string(m->raw));
                        return -1;
                }
        }
        if (m->hash)
                sha256_update(&m->h, *out, size);
        return (la_ssize_t)size;
}

static int drain(struct src_reader *s, struct mid_reader *m, struct archive *tar, const char *label,
                 sbx_error **err)
{
        const void *p;

        while (!m->eof)
                if (mid_read(tar, m, &p) < 0)
                        return sbx_fail(err, "%s: %s", label, archive_error_string(tar));
        for (;;) {
                la_ssize_t n = src_read(tar, s, &p);
                if (n < 0)
                        return sbx_fail(err, "%s: %s", label, archive_error_string(tar));
                if (n == 0)
                        return 0;
        }
}

static void final_hashes(struct src_reader *s, struct mid_reader *m, struct rf_layer_result *res)
{
        sha256_final_hex(&s->h, res->blob_hex);
        if (m->hash)
                sha256_final_hex(&m->h, res->diff_hex);
        else
                memcpy(res->diff_hex, res->blob_hex, sizeof(res->diff_hex));
}

static int extract_all(struct extract *x, struct archive *tar, sbx_error **err)
{
        struct archive_entry *e;
        int r;

        while ((r = archive_read_next_header(tar, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
                if (extract_entry(x, tar, e, err) < 0)
                        return -1;
        if (r != ARCHIVE_EOF)
                return sbx_fail(err, "%s: %s", x->label, archive_error_string(tar));
        return 0;
}

/* Start the two hashing stages on s: the raw (decompressing) reader of m,
 * and whether the layer is compressed, so that its diff-id needs a hash of
 * its own.  m->raw is set even on failure, for the caller to free. */
static int open_raw(struct src_reader *s, struct mid_reader *m, const char *label, sbx_error **err)
{
        struct archive_entry *e;

        sha256_init(&s->h);
        sha256_init(&m->h);
        m->raw = archive_read_new();
        archive_read_support_filter_all(m->raw);
        archive_read_support_format_raw(m->raw);
        if (archive_read_open(m->raw, s, NULL, src_read, NULL) != ARCHIVE_OK ||
            archive_read_next_header(m->raw, &e) != ARCHIVE_OK)
                return sbx_fail(err, "%s: %s", label, archive_error_string(m->raw));
        m->hash = archive_filter_code(m->raw, 0) != ARCHIVE_FILTER_NONE;
        return 0;
}

int rf_extract_layer_fd(struct rf_import_ctx *ic, int fd, int destfd, const char *label,
                        struct rf_layer_result *res, sbx_error **err)
{
        cleanup_free uint8_t *buf = xmalloc(SRC_BUF);
        struct src_reader s = {.ic = ic, .fd = fd, .buf = buf};
        struct mid_reader m = {0};
        struct extract *x = xcalloc(1, sizeof(*x));
        struct archive *tar = NULL;
        int ret = -1;

        memset(res, 0, sizeof(*res));
        *x = (struct extract){
            .ic = ic, .rootfd = destfd, .label = label, .cached_fd = -1, .res = res};
        if (open_raw(&s, &m, label, err) < 0)
                goto out;
        tar = archive_read_new();
        archive_read_support_format_tar(tar);
        if (archive_read_open(tar, &m, NULL, mid_read, NULL) != ARCHIVE_OK) {
                sbx_fail(err, "%s: %s", label, archive_error_string(tar));
                goto out;
        }
        if (extract_all(x, tar, err) < 0 || drain(&s, &m, tar, label, err) < 0)
                goto out;
        final_hashes(&s, &m, res);
        ret = 0;
out:
        drop_cache(x);
        free(x);
        if (tar)
                archive_read_free(tar);
        archive_read_free(m.raw);
        return ret;
}

int rf_hash_layer_fd(struct rf_import_ctx *ic, int fd, const char *label,
                     struct rf_layer_result *res, sbx_error **err)
{
        cleanup_free uint8_t *buf = xmalloc(SRC_BUF);
        struct src_reader s = {.ic = ic, .fd = fd, .buf = buf};
        struct mid_reader m = {0};
        struct archive *errs = archive_read_new(); /* carries the readers' errors */
        int ret = -1;

        memset(res, 0, sizeof(*res));
        if (open_raw(&s, &m, label, err) < 0)
                goto out;
        if (drain(&s, &m, errs, label, err) < 0)
                goto out;
        final_hashes(&s, &m, res);
        ret = 0;
out:
        archive_read_free(errs);
        archive_read_free(m.raw);
        return ret;
}
