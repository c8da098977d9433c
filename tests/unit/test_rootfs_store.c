/* test_rootfs_store.c - imports into a temporary store: tarballs, OCI
 * layouts and docker archives the tests build themselves (libarchive's
 * writer, real digests), whiteouts seen through a real overlay mount, every
 * attack as a crafted archive, digest mismatches, truncation, concurrency,
 * SIGKILL halfway, and the store operations (resolve, ls, tag, rm, gc).
 */
/* Test paths live under a short mkdtemp() directory; snprintf truncation
 * can not happen here and checking each call would bury the tests. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "rootfs-internal.h"
#include "sbx-rootfs.h"
#include "sha256.h"
#include "util.h"

static char base[PATH_MAX];  /* per-test temporary directory */
static char store[PATH_MAX]; /* base/store */

static char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *P(const char *fmt, ...)
{
        static char bufs[8][PATH_MAX];
        static int k;
        char rel[PATH_MAX];
        va_list ap;
        char *b = bufs[k++ & 7];

        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        snprintf(b, PATH_MAX, "%s/%s", base, rel);
        return b;
}

static void setup(void)
{
        snprintf(base, sizeof(base), "/tmp/sbx-rootfs-test-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(base));
        snprintf(store, sizeof(store), "%s/store", base);
        setenv("SBX_STORE", store, 1);
}

static void teardown(void)
{
        char cmd[PATH_MAX + 32];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        if (system(cmd) != 0)
                fprintf(stderr, "teardown: could not remove %s\n", base);
}

/* ---- building archives ---- */

struct ent {
        char type; /* f file, d dir, l symlink, h hardlink, c char dev, p fifo */
        const char *path;
        const char *data; /* content, link target, or "major:minor" */
        unsigned mode;
        const char *xname, *xvalue; /* one xattr, optional */
        size_t xlen;                /* 0: strlen(xvalue) */
};

enum { PLAIN, GZIP, ZSTD };

static void add_entry(struct archive *a, const struct ent *e)
{
        struct archive_entry *ae = archive_entry_new();
        size_t len = e->type == 'f' && e->data ? strlen(e->data) : 0;

        archive_entry_set_pathname(ae, e->path);
        archive_entry_set_mtime(ae, 1700000000, 0);
        archive_entry_set_perm(ae, e->mode ? e->mode : (e->type == 'd' ? 0755 : 0644));
        switch (e->type) {
        case 'd':
                archive_entry_set_filetype(ae, AE_IFDIR);
                break;
        case 'l':
                archive_entry_set_filetype(ae, AE_IFLNK);
                archive_entry_set_symlink(ae, e->data);
                break;
        case 'h':
                archive_entry_set_filetype(ae, AE_IFREG);
                archive_entry_set_hardlink(ae, e->data);
                break;
        case 'c': {
                unsigned ma = 0, mi = 0;
                sscanf(e->data, "%u:%u", &ma, &mi);
                archive_entry_set_filetype(ae, AE_IFCHR);
                archive_entry_set_rdevmajor(ae, ma);
                archive_entry_set_rdevminor(ae, mi);
                break;
        }
        case 'p':
                archive_entry_set_filetype(ae, AE_IFIFO);
                break;
        default:
                archive_entry_set_filetype(ae, AE_IFREG);
                archive_entry_set_size(ae, (la_int64_t)len);
                break;
        }
        if (e->xname)
                archive_entry_xattr_add_entry(ae, e->xname, e->xvalue,
                                              e->xlen ? e->xlen : strlen(e->xvalue));
        ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
        if (len)
                ck_assert_int_eq(archive_write_data(a, e->data, len), (la_ssize_t)len);
        archive_entry_free(ae);
}

static void write_tar(const char *out, const struct ent *ents, int compress)
{
        struct archive *a = archive_write_new();

        archive_write_set_format_pax_restricted(a);
        if (compress == GZIP)
                archive_write_add_filter_gzip(a);
        else if (compress == ZSTD)
                archive_write_add_filter_zstd(a);
        ck_assert_int_eq(archive_write_open_filename(a, out), ARCHIVE_OK);
        for (const struct ent *e = ents; e->type; e++)
                add_entry(a, e);
        ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

static void file_hex(const char *path, char hex[65], long long *size)
{
        size_t len;
        char *data = read_file_at(AT_FDCWD, path, &len);

        ck_assert_msg(data != NULL, "read %s", path);
        sha256_hex(data, len, hex);
        if (size)
                *size = (long long)len;
        free(data);
}

static void write_str(const char *path, const char *s)
{
        ck_assert_int_eq(write_file_at(AT_FDCWD, path, s, true, 0644), 0);
}

static void blob_str(const char *dir, const char *s, char hex[65])
{
        char path[PATH_MAX];

        sha256_hex(s, strlen(s), hex);
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, hex);
        write_str(path, s);
}

struct layer_spec {
        const struct ent *ents;
        int compress;
};

enum { CORRUPT_LAYER = 1, BAD_DIFFID = 2, CORRUPT_MANIFEST = 4, BAD_SIZE = 8 };

static char *dumps(json_t *j)
{
        char *s = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        return s;
}

/* Change one byte of file content in a plain tar: the first data block that
 * starts with 'Z' and a NUL (l1's var/z), so the tar itself stays valid. */
static void corrupt_content(const char *path)
{
        size_t len;
        char *data = read_file_at(AT_FDCWD, path, &len);

        ck_assert_ptr_nonnull(data);
        for (size_t off = 512; off + 1 < len; off += 512)
                if (data[off] == 'Z' && data[off + 1] == '\0') {
                        int fd = open(path, O_WRONLY);
                        ck_assert_int_eq(pwrite(fd, "z", 1, (off_t)off), 1);
                        close(fd);
                        free(data);
                        return;
                }
        free(data);
        ck_abort_msg("corrupt_content: no 'Z' block in %s", path);
}

/* Build an OCI layout in dir; returns the manifest digest hex (static). */
static const char *make_oci(const char *dir, const struct layer_spec *ls, size_t n, const char *ref,
                            unsigned flags)
{
        static const char zeros[] =
            "0000000000000000000000000000000000000000000000000000000000000000";
        static char mhex[65];
        char path[PATH_MAX], tmp[PATH_MAX], chex[65];
        json_t *diffs = json_array(), *layers = json_array();
        char *cfg, *man, *idx;

        mkdir(dir, 0755);
        snprintf(path, sizeof(path), "%s/blobs", dir);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
        mkdir(path, 0755);
        for (size_t i = 0; i < n; i++) {
                char dhex[65], bhex[65];
                long long size;

                snprintf(tmp, sizeof(tmp), "%s/layer.tmp", dir);
                write_tar(tmp, ls[i].ents, PLAIN);
                file_hex(tmp, dhex, NULL);
                if (ls[i].compress != PLAIN)
                        write_tar(tmp, ls[i].ents, ls[i].compress);
                file_hex(tmp, bhex, &size);
                snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, bhex);
                ck_assert_int_eq(rename(tmp, path), 0);
                if ((flags & CORRUPT_LAYER) && i == n - 1)
                        corrupt_content(path);
                json_array_append_new(
                    diffs,
                    json_sprintf("sha256:%s", (flags & BAD_DIFFID) && i == n - 1 ? zeros : dhex));
                json_array_append_new(
                    layers,
                    json_pack("{s:s,s:s+,s:I}", "mediaType",
                              ls[i].compress == GZIP ? "application/vnd.oci.image.layer.v1.tar+gzip"
                              : ls[i].compress == ZSTD
                                  ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                  : "application/vnd.oci.image.layer.v1.tar",
                              "digest", "sha256:", bhex, "size", (json_int_t)size));
        }
        cfg = dumps(json_pack("{s:s,s:s,s:{s:[s],s:s},s:{s:s,s:o}}", "architecture", "amd64", "os",
                              "linux", "config", "Env", "PATH=/bin", "WorkingDir", "/", "rootfs",
                              "type", "layers", "diff_ids", diffs));
        blob_str(dir, cfg, chex);
        man = dumps(json_pack("{s:i,s:s,s:{s:s,s:s+,s:I},s:o}", "schemaVersion", 2, "mediaType",
                              "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
                              "application/vnd.oci.image.config.v1+json", "digest", "sha256:", chex,
                              "size", (json_int_t)strlen(cfg), "layers", layers));
        blob_str(dir, man, mhex);
        if (flags & CORRUPT_MANIFEST) {
                snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, mhex);
                man[strlen(man) - 1] = ' ';
                write_str(path, man);
        }
        idx = dumps(json_pack("{s:i,s:[{s:s,s:s+,s:I,s:{s:s}}]}", "schemaVersion", 2, "manifests",
                              "mediaType", "application/vnd.oci.image.manifest.v1+json", "digest",
                              "sha256:", mhex, "size",
                              (json_int_t)strlen(man) + ((flags & BAD_SIZE) ? 1 : 0), "annotations",
                              "org.opencontainers.image.ref.name", ref));
        snprintf(path, sizeof(path), "%s/index.json", dir);
        write_str(path, idx);
        snprintf(path, sizeof(path), "%s/oci-layout", dir);
        write_str(path, "{\"imageLayoutVersion\":\"1.0.0\"}");
        free(cfg);
        free(man);
        free(idx);
        return mhex;
}

/* A docker-save archive (legacy layout: <id>/layer.tar, <config hex>.json). */
static const char *make_docker(const char *tarfile, const struct layer_spec *ls, size_t n,
                               const char *repotag)
{
        static char chex[65];
        char dir[PATH_MAX], path[PATH_MAX], cmd[3 * PATH_MAX];
        json_t *diffs = json_array(), *paths = json_array();
        char *cfg, *man;

        snprintf(dir, sizeof(dir), "%s.d", tarfile);
        mkdir(dir, 0755);
        for (size_t i = 0; i < n; i++) {
                char dhex[65], id[65];
                char seed[32];

                snprintf(seed, sizeof(seed), "layer-id-%zu", i);
                sha256_hex(seed, strlen(seed), id);
                snprintf(path, sizeof(path), "%s/%s", dir, id);
                mkdir(path, 0755);
                snprintf(path, sizeof(path), "%s/%s/layer.tar", dir, id);
                write_tar(path, ls[i].ents, PLAIN);
                file_hex(path, dhex, NULL);
                json_array_append_new(diffs, json_sprintf("sha256:%s", dhex));
                json_array_append_new(paths, json_sprintf("%s/layer.tar", id));
        }
        cfg = dumps(json_pack("{s:s,s:s,s:{s:[s]},s:{s:s,s:o}}", "architecture", "amd64", "os",
                              "linux", "config", "Cmd", "/bin/sh", "rootfs", "type", "layers",
                              "diff_ids", diffs));
        sha256_hex(cfg, strlen(cfg), chex);
        snprintf(path, sizeof(path), "%s/%s.json", dir, chex);
        write_str(path, cfg);
        man = dumps(json_pack("[{s:s+,s:[s],s:o}]", "Config", chex, ".json", "RepoTags", repotag,
                              "Layers", paths));
        snprintf(path, sizeof(path), "%s/manifest.json", dir);
        write_str(path, man);
        snprintf(cmd, sizeof(cmd), "tar -C '%s' -cf '%s' .", dir, tarfile);
        ck_assert_int_eq(system(cmd), 0);
        free(cfg);
        free(man);
        return chex;
}

/* ---- store helpers ---- */

static int import(const char *src, const char *name, struct sbx_import_opts *o, sbx_error **err)
{
        struct sbx_import_opts def;
        sbx_store *st = NULL;
        int r;

        if (o == NULL) {
                sbx_import_opts_init(&def);
                o = &def;
        }
        o->name = name;
        if (sbx_store_open(NULL, &st, err) < 0)
                return -1;
        r = sbx_import(st, src, o, NULL, NULL, err);
        sbx_store_close(st);
        return r;
}

static void import_ok(const char *src, const char *name, struct sbx_import_opts *o)
{
        sbx_error *err = NULL;
        int r = import(src, name, o, &err);
        ck_assert_msg(r == 0, "import %s: %s", src, err ? err->msg : "?");
}

static struct sbx_image *resolve(const char *ref)
{
        sbx_store *st = NULL;
        sbx_error *err = NULL;
        struct sbx_image *img = NULL;

        ck_assert_int_eq(sbx_store_open(NULL, &st, &err), 0);
        if (sbx_store_resolve(st, ref, &img, &err) < 0) {
                sbx_error_free(err);
                img = NULL;
        }
        sbx_store_close(st);
        return img;
}

static size_t count_dir(const char *rel)
{
        DIR *d = opendir(P("store/%s", rel));
        struct dirent *de;
        size_t n = 0;

        if (d == NULL)
                return 0;
        while ((de = readdir(d)) != NULL)
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

/* Everything visible in the store (not tmp/), for "store unchanged". */
static char *snapshot(void)
{
        char cmd[PATH_MAX + 200], *buf = xcalloc(1, 1 << 16);
        FILE *f;
        size_t n;

        snprintf(cmd, sizeof(cmd),
                 "cd '%s' 2>/dev/null && find layers/sha256 images/sha256 -mindepth 1 "
                 "2>/dev/null | sort; cat refs.json 2>/dev/null",
                 store);
        f = popen(cmd, "r");
        n = fread(buf, 1, (1 << 16) - 1, f);
        buf[n] = '\0';
        pclose(f);
        return buf;
}

static void expect_refused(const char *src, struct sbx_import_opts *o, const char *entry,
                           const char *reason)
{
        char *before = snapshot(), *after;
        sbx_error *err = NULL;

        ck_assert_msg(import(src, "victim", o, &err) < 0, "%s: import succeeded", src);
        ck_assert_ptr_nonnull(err);
        if (entry)
                ck_assert_msg(strstr(err->msg, entry) != NULL, "entry `%s` not named in: %s", entry,
                              err->msg);
        ck_assert_msg(strstr(err->msg, reason) != NULL, "reason `%s` not in: %s", reason, err->msg);
        after = snapshot();
        ck_assert_str_eq(before, after);
        ck_assert_int_eq(count_dir("tmp"), 0);
        ck_assert_ptr_null(resolve("victim"));
        sbx_error_free(err);
        free(before);
        free(after);
}

/* ---- plain tarballs ---- */

static const struct ent rootfs_ents[] = {
    {'d', "./", NULL, 0755},
    {'d', "./etc", NULL, 0755},
    {'f', "./etc/hello", "hi\n", 0644},
    {'f', "./bin/su", "#!/bin/true\n", 04755},
    {'f', "./bin/sg", "#!/bin/true\n", 02755},
    {'l', "./bin/sh", "su", 0777},
    {'h', "./bin/su2", "./bin/su", 0},
    {'c', "./dev/null", "1:3", 0666},
    {'p', "./run/fifo", NULL, 0600},
    {'f', "./xa/user", "u", 0644, "user.note", "kept"},
    /* VFS_CAP_REVISION_2, permitted: cap_net_raw */
    {'f', "./xa/cap", "c", 0755, "security.capability",
     "\x00\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20},
    {'f', "./xa/ovl", "o", 0644, "user.overlay.redirect", "/etc"},
    {0},
};

START_TEST(test_tarball_import)
{
        static const int comps[] = {PLAIN, GZIP, ZSTD};
        static const char *const names[] = {"t.tar", "t.tar.gz", "t.tar.zst"};
        struct sbx_image *img;
        struct stat a, b;
        char val[64];
        const char *l;

        for (int i = 0; i < 3; i++) {
                write_tar(P("%s", names[i]), rootfs_ents, comps[i]);
                import_ok(P("%s", names[i]), i == 0 ? NULL : (i == 1 ? "tgz" : "tzst"), NULL);
        }
        /* Same uncompressed stream, one diff-id: one shared layer directory. */
        ck_assert_int_eq(count_dir("layers/sha256"), 1);
        ck_assert_int_eq(count_dir("images/sha256"), 3);
        img = resolve("t"); /* name derived from the file name */
        ck_assert_ptr_nonnull(img);
        ck_assert_int_eq(img->n_layers, 1);
        l = img->layers[0];
        ck_assert_str_eq(read_file_at(AT_FDCWD,
                                      P("store/layers/sha256/%s/etc/hello", strrchr(l, '/') + 1),
                                      NULL),
                         "hi\n");
        ck_assert_int_eq(chdir(l), 0);
        ck_assert_int_eq(stat("bin/su", &a), 0);
        ck_assert_int_eq(a.st_mode & 07777, 0755); /* setuid dropped */
        ck_assert_int_eq(stat("bin/sg", &a), 0);
        ck_assert_int_eq(a.st_mode & 07777, 0755); /* setgid dropped */
        ck_assert_int_eq(lstat("bin/sh", &a), 0);
        ck_assert(S_ISLNK(a.st_mode));
        ck_assert_int_eq(stat("bin/su", &a), 0);
        ck_assert_int_eq(stat("bin/su2", &b), 0);
        ck_assert_int_eq(a.st_ino, b.st_ino);
        ck_assert_int_eq(lstat("dev/null", &a), -1); /* device dropped */
        ck_assert_int_eq(lstat("run/fifo", &a), 0);
        ck_assert(S_ISFIFO(a.st_mode));
        ck_assert_int_eq(getxattr("xa/user", "user.note", val, sizeof(val)), 4);
        ck_assert_int_eq(getxattr("xa/cap", "security.capability", val, sizeof(val)), -1);
        ck_assert_int_eq(getxattr("xa/ovl", "user.overlay.redirect", val, sizeof(val)), -1);
        ck_assert_int_eq(stat("etc/hello", &a), 0);
        ck_assert_int_eq(a.st_mtime, 1700000000);
        ck_assert_int_eq(chdir("/"), 0);
        sbx_image_free(img);
}
END_TEST

START_TEST(test_keep_devices_and_setid)
{
        struct sbx_import_opts o;
        struct sbx_image *img;
        struct stat sb;

        /* A real device node needs CAP_MKNOD: this test must run as root. */
        ck_assert_msg(geteuid() == 0, "test_keep_devices_and_setid needs root (mknod)");
        sbx_import_opts_init(&o);
        o.keep_devices = true;
        o.keep_setid = true;
        write_tar(P("k.tar"), rootfs_ents, PLAIN);
        import_ok(P("k.tar"), "keep", &o);
        img = resolve("keep");
        ck_assert_ptr_nonnull(img);
        ck_assert_int_eq(chdir(img->layers[0]), 0);
        ck_assert_int_eq(lstat("dev/null", &sb), 0);
        ck_assert(S_ISCHR(sb.st_mode));
        ck_assert_int_eq(major(sb.st_rdev), 1);
        ck_assert_int_eq(minor(sb.st_rdev), 3);
        ck_assert_int_eq(stat("bin/su", &sb), 0);
        ck_assert_int_eq(sb.st_mode & 07777, 04755);
        ck_assert_int_eq(getxattr("xa/cap", "security.capability", NULL, 0), 20);
        ck_assert_int_eq(chdir("/"), 0);
        sbx_image_free(img);
}
END_TEST

/* ---- OCI layouts with whiteouts, seen through overlay ---- */

static const struct ent l0[] = {
    {'f', "etc/a", "A", 0}, {'f', "etc/b", "B", 0},  {'f', "var/x", "X", 0},
    {'f', "var/y", "Y", 0}, {'f', "keep/k", "K", 0}, {0},
};
static const struct ent l1[] = {
    {'f', "etc/.wh.a", "", 0},
    {'f', "var/.wh..wh..opq", "", 0},
    {'f', "var/z", "Z", 0},
    {0},
};
static const struct ent l2[] = {
    {'f', "etc/c", "C", 0},
    {'f', ".wh.keep", "", 0},
    {0},
};
static const struct layer_spec three[] = {{l0, PLAIN}, {l1, GZIP}, {l2, ZSTD}};

static bool exists(const char *dir, const char *rel)
{
        char p[PATH_MAX];
        struct stat sb;
        snprintf(p, sizeof(p), "%s/%s", dir, rel);
        return lstat(p, &sb) == 0;
}

/* Mount the layers as the runtime does (user + mount namespace, userxattr)
 * and report what is visible; runs in a child, returns a bit mask of
 * failures (0 = all as expected). */
static int overlay_check(struct sbx_image *img)
{
        char opts[8192], map[64];
        size_t off;
        const char *mnt = P("mnt");
        int status, fd;
        pid_t pid;

        mkdir(mnt, 0755);
        off = (size_t)snprintf(opts, sizeof(opts), "userxattr,lowerdir=");
        for (size_t i = 0; i < img->n_layers; i++)
                off += (size_t)snprintf(opts + off, sizeof(opts) - off, "%s%s", i ? ":" : "",
                                        img->layers[i]);
        pid = fork();
        if (pid == 0) {
                uid_t uid = getuid();
                gid_t gid = getgid();
                int bad = 0;

                if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                        _exit(100);
                fd = open("/proc/self/setgroups", O_WRONLY);
                if (fd >= 0 && write(fd, "deny", 4) < 0)
                        _exit(101);
                close(fd);
                snprintf(map, sizeof(map), "0 %d 1", (int)uid);
                if (write_file_at(AT_FDCWD, "/proc/self/uid_map", map, false, 0) < 0)
                        _exit(102);
                snprintf(map, sizeof(map), "0 %d 1", (int)gid);
                if (write_file_at(AT_FDCWD, "/proc/self/gid_map", map, false, 0) < 0)
                        _exit(103);
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                        _exit(104);
                if (mount("sbx-test", mnt, "overlay", MS_RDONLY, opts) < 0) {
                        fprintf(stderr, "overlay mount: %s\n", strerror(errno));
                        _exit(105);
                }
                bad |= exists(mnt, "etc/a") << 0;  /* whited out by layer 1 */
                bad |= !exists(mnt, "etc/b") << 1; /* from layer 0 */
                bad |= !exists(mnt, "etc/c") << 2; /* from layer 2 */
                bad |= exists(mnt, "var/x") << 3;  /* hidden by the opaque var/ */
                bad |= exists(mnt, "var/y") << 4;
                bad |= !exists(mnt, "var/z") << 5; /* layer 1's own var/ content */
                bad |= exists(mnt, "keep") << 6;   /* whited out by layer 2 */
                _exit(bad);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        return WEXITSTATUS(status);
}

START_TEST(test_oci_whiteouts_overlay)
{
        struct sbx_image *img;
        struct stat sb;
        char val[8];
        const char *mhex = make_oci(P("oci"), three, 3, "v1", 0);
        char digest[80];

        import_ok(P("oci"), "multi:v1", NULL);
        img = resolve("multi:v1");
        ck_assert_ptr_nonnull(img);
        snprintf(digest, sizeof(digest), "sha256:%s", mhex);
        ck_assert_str_eq(img->digest, digest);
        ck_assert_int_eq(img->n_layers, 3);
        /* Top first: layer 2 holds etc/c, layer 1 the whiteout of etc/a. */
        ck_assert(exists(img->layers[0], "etc/c"));
        ck_assert_int_eq(lstat(img->layers[1], &sb), 0);
        {
                char p[PATH_MAX];
                snprintf(p, sizeof(p), "%s/etc/a", img->layers[1]);
                ck_assert_int_eq(lstat(p, &sb), 0);
                ck_assert(S_ISCHR(sb.st_mode));
                ck_assert_int_eq(sb.st_rdev, makedev(0, 0));
                snprintf(p, sizeof(p), "%s/var", img->layers[1]);
                ck_assert_int_eq(getxattr(p, "user.overlay.opaque", val, sizeof(val)), 1);
                ck_assert_int_eq(val[0], 'y');
                snprintf(p, sizeof(p), "%s/var/.wh..wh..opq", img->layers[1]);
                ck_assert_int_eq(lstat(p, &sb), -1);
        }
        ck_assert_int_eq(overlay_check(img), 0);
        sbx_image_free(img);
}
END_TEST

/* Unprivileged whiteout creation (Linux >= 5.8): import as user nobody. */
START_TEST(test_rootless_import_whiteouts)
{
        struct sbx_image *img;
        pid_t pid;
        int status;

        make_oci(P("oci"), three, 3, "v1", 0);
        ck_assert_int_eq(chmod(base, 0755), 0);
        /* The store root must belong to the importing user. */
        ck_assert_int_eq(mkdir(store, 0755), 0);
        if (geteuid() == 0)
                ck_assert_int_eq(chown(store, 65534, 65534), 0);
        pid = fork();
        if (pid == 0) {
                sbx_error *err = NULL;
                if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
                        _exit(90);
                if (import(P("oci"), "rootless:v1", NULL, &err) < 0) {
                        fprintf(stderr, "rootless import: %s\n", err->msg);
                        _exit(91);
                }
                _exit(0);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rootless import failed");
        ck_assert_int_eq(chown(store, geteuid(), getegid()), 0); /* ours again, to resolve */
        img = resolve("rootless:v1");
        ck_assert_ptr_nonnull(img);
        ck_assert_int_eq(overlay_check(img), 0);
        sbx_image_free(img);
}
END_TEST

START_TEST(test_oci_tar_and_docker_archive)
{
        static const struct ent d0[] = {{'f', "bin/tool", "T", 0755}, {'f', "etc/os", "d", 0}, {0}};
        static const struct ent d1[] = {{'f', "etc/.wh.os", "", 0}, {'f', "app/x", "x", 0}, {0}};
        static const struct layer_spec two[] = {{d0, PLAIN}, {d1, PLAIN}};
        static const struct layer_spec other[] = {{d0, PLAIN}, {l2, PLAIN}};
        struct sbx_store *st = NULL;
        struct sbx_image_info *info = NULL;
        sbx_error *err = NULL;
        struct sbx_image *img;
        char cmd[3 * PATH_MAX];
        const char *chex;
        char want[80];

        /* OCI layout as a (compressed) tar. */
        make_oci(P("lay"), three, 3, "3.1", 0);
        snprintf(cmd, sizeof(cmd), "tar -C '%s' -czf '%s' .", P("lay"), P("img-oci.tar.gz"));
        ck_assert_int_eq(system(cmd), 0);
        import_ok(P("img-oci.tar.gz"), NULL, NULL);
        img = resolve("img-oci:3.1"); /* file stem + ref.name annotation */
        ck_assert_ptr_nonnull(img);
        ck_assert_int_eq(overlay_check(img), 0);
        sbx_image_free(img);

        /* docker save */
        chex = make_docker(P("dock.tar"), two, 2, "dock:1");
        snprintf(want, sizeof(want), "sha256:%s", chex);
        import_ok(P("dock.tar"), NULL, NULL);
        img = resolve("dock:1");
        ck_assert_ptr_nonnull(img);
        ck_assert_str_eq(img->digest, want);
        ck_assert_int_eq(img->n_layers, 2);
        ck_assert(exists(img->layers[0], "app/x"));
        ck_assert(exists(img->layers[1], "bin/tool"));
        sbx_image_free(img);
        ck_assert_int_eq(sbx_store_open(NULL, &st, &err), 0);
        ck_assert_int_eq(sbx_store_inspect(st, "dock:1", &info, &err), 0);
        ck_assert_str_eq(info->kind, "docker");
        ck_assert_str_eq(info->config_digest, want);
        ck_assert_ptr_nonnull(info->source_sha256);
        ck_assert_ptr_nonnull(strstr(info->json, "\"Cmd\""));
        ck_assert_ptr_nonnull(strstr(info->json, "dock.tar"));
        sbx_image_info_free(info);
        sbx_store_close(st);

        /* A second image whose layers are all stored already (d0 from dock:1,
         * l2 from the OCI image, there zstd-compressed) adds no layer. */
        ck_assert_int_eq(count_dir("layers/sha256"), 5);
        make_docker(P("dock2.tar"), other, 2, "dock:2");
        import_ok(P("dock2.tar"), NULL, NULL);
        ck_assert_int_eq(count_dir("layers/sha256"), 5);
        ck_assert_ptr_nonnull(img = resolve("dock:2"));
        ck_assert(exists(img->layers[0], "etc/c"));
        sbx_image_free(img);
}
END_TEST

/* A legacy docker-save layer (`<id>/layer.tar`) has no digest in its name:
 * when its diff-id is in the store already, the archive's copy is hashed all
 * the same, and one that does not match the config is refused. */
START_TEST(test_docker_stored_layer_rehashed)
{
        static const struct layer_spec two[] = {{l0, PLAIN}, {l1, PLAIN}};
        char id[65], cmd[3 * PATH_MAX];

        make_docker(P("dock.tar"), two, 2, "dock:1");
        import_ok(P("dock.tar"), NULL, NULL);
        /* The same config and diff_ids; one byte of l1's var/z changed. */
        sha256_hex("layer-id-1", strlen("layer-id-1"), id);
        corrupt_content(P("dock.tar.d/%s/layer.tar", id));
        snprintf(cmd, sizeof(cmd), "tar -C '%s' -cf '%s' .", P("dock.tar.d"), P("forged.tar"));
        ck_assert_int_eq(system(cmd), 0);
        expect_refused(P("forged.tar"), NULL, "layer.tar", "diff-id mismatch");
        /* The same, imported as a directory. */
        expect_refused(P("dock.tar.d"), NULL, "layer.tar", "diff-id mismatch");
}
END_TEST

/* ---- attacks: refused, named, store unchanged ---- */

struct attack {
        const char *what;
        struct ent ents[4];
        const char *entry, *reason;
        size_t max_path;
        uint64_t max_files, max_size;
};

static const struct attack attacks[] = {
    {"absolute path", {{'f', "/etc/evil", "x"}}, "/etc/evil", "absolute path"},
    {"dotdot", {{'f', "../evil", "x"}}, "../evil", "`..` component"},
    {"dotdot inside", {{'f', "a/../../evil", "x"}}, "a/../../evil", "`..` component"},
    {"through absolute symlink",
     {{'l', "lnk", "/tmp"}, {'f', "lnk/evil", "x"}},
     "lnk/evil",
     "is a symlink"},
    {"through relative symlink",
     {{'l', "up", ".."}, {'f', "up/evil", "x"}},
     "up/evil",
     "is a symlink"},
    {"through harmless-looking symlink",
     {{'d', "d"}, {'l', "s", "d"}, {'f', "s/evil", "x"}},
     "s/evil",
     "is a symlink"},
    {"dir over symlink", {{'l', "s", "/etc"}, {'d', "s/sub"}}, "s/sub", "is a symlink"},
    {"hardlink absolute", {{'h', "h", "/etc/passwd"}}, "`h`", "absolute path"},
    {"hardlink dotdot", {{'h', "h", "../../etc/passwd"}}, "`h`", "points outside the layer"},
    {"hardlink through symlink",
     {{'l', "s", "/etc"}, {'h', "h", "s/passwd"}},
     "`h`",
     "goes through a symlink"},
    {"hardlink to nothing", {{'h', "h", "nothere"}}, "`h`", "is not in the layer"},
    {"whiteout of ..", {{'f', "etc/.wh..", ""}}, "etc/.wh..", "whiteout names no file"},
    {"path too long",
     {{'f', "aaaaaaaaaa/bbbbbbbbbbbbbbb", "x"}},
     "aaaaaaaaaa/bbbbbbbbbbbbbbb",
     "--max-path",
     20},
    {"too many files",
     {{'f', "1", "x"}, {'f', "2", "x"}, {'f', "3", "x"}},
     "`3`",
     "--max-files",
     0,
     2},
    {"too big",
     {{'f', "big", "0123456789012345678901234567890123456789"}},
     "`big`",
     "--max-size",
     0,
     0,
     16},
};

START_TEST(test_attack_tarball)
{
        const struct attack *a = &attacks[_i];
        struct sbx_import_opts o;

        sbx_import_opts_init(&o);
        if (a->max_path)
                o.max_path = a->max_path;
        if (a->max_files)
                o.max_files = a->max_files;
        if (a->max_size)
                o.max_size = a->max_size;
        /* A legitimate image first, so "unchanged" compares a non-empty store. */
        write_tar(P("good.tar"), l0, GZIP);
        import_ok(P("good.tar"), "good", NULL);
        write_tar(P("evil.tar"), a->ents, GZIP);
        expect_refused(P("evil.tar"), &o, a->entry, a->reason);
}
END_TEST

/* The same attack in the second layer of an OCI image: the first layer,
 * already extracted, must not become visible either. */
START_TEST(test_attack_in_oci_layer)
{
        static const struct ent evil[] = {{'l', "etc", "/etc"}, {'f', "etc/cron.d/x", "x"}, {0}};
        static const struct layer_spec ls[] = {{l0, GZIP}, {evil, GZIP}};

        make_oci(P("oci"), ls, 2, "v1", 0);
        expect_refused(P("oci"), NULL, "etc/cron.d/x", "is a symlink");
        ck_assert_int_eq(count_dir("layers/sha256"), 0);
}
END_TEST

/* ---- digests, truncation ---- */

START_TEST(test_digest_mismatch)
{
        static const struct layer_spec ls[] = {{l0, PLAIN}, {l1, PLAIN}};

        write_tar(P("good.tar"), l0, PLAIN);
        import_ok(P("good.tar"), "good", NULL);
        make_oci(P("c1"), ls, 2, "v1", CORRUPT_LAYER);
        expect_refused(P("c1"), NULL, "layer sha256:", "blob digest mismatch");
        make_oci(P("c2"), ls, 2, "v1", CORRUPT_MANIFEST);
        expect_refused(P("c2"), NULL, "manifest sha256:", "digest mismatch");
        make_oci(P("c3"), ls, 2, "v1", BAD_DIFFID);
        expect_refused(P("c3"), NULL, "layer sha256:", "diff-id mismatch");
        make_oci(P("c4"), ls, 2, "v1", BAD_SIZE);
        expect_refused(P("c4"), NULL, "manifest sha256:", "size mismatch");
}
END_TEST

static void truncate_half(const char *path)
{
        struct stat sb;
        ck_assert_int_eq(stat(path, &sb), 0);
        ck_assert_int_eq(truncate(path, sb.st_size / 2), 0);
}

START_TEST(test_truncated)
{
        static struct ent big[] = {{'f', "a", NULL}, {'f', "b", NULL}, {0}};
        char *data = xmalloc(200001), cmd[3 * PATH_MAX];

        for (int i = 0; i < 200000; i++)
                data[i] = (char)('a' + (i * 7919) % 26);
        data[200000] = '\0';
        big[0].data = big[1].data = data;
        write_tar(P("t.tar.gz"), big, GZIP);
        truncate_half(P("t.tar.gz"));
        expect_refused(P("t.tar.gz"), NULL, NULL, "rootfs tarball");
        write_tar(P("t.tar"), big, PLAIN);
        truncate_half(P("t.tar"));
        expect_refused(P("t.tar"), NULL, NULL, "runcated");
        make_oci(P("lay"), three, 3, "v1", 0);
        snprintf(cmd, sizeof(cmd), "tar -C '%s' -cf '%s' .", P("lay"), P("oci.tar"));
        ck_assert_int_eq(system(cmd), 0);
        truncate_half(P("oci.tar"));
        expect_refused(P("oci.tar"), NULL, NULL, "oci.tar");
        free(data);
}
END_TEST

START_TEST(test_too_many_layers)
{
        static const struct layer_spec one[] = {{l0, PLAIN}};
        char path[PATH_MAX], mhex[65], chex[65], *cfg, *man;
        json_t *diffs = json_array(), *layers = json_array(), *ld;
        const char *hex = make_oci(P("oci"), one, 1, "v1", 0);
        json_t *m;

        /* Rewrite the manifest and config to list the one layer 501 times. */
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", P("oci"), hex);
        m = json_loads(read_file_at(AT_FDCWD, path, NULL), 0, NULL);
        ld = json_array_get(json_object_get(m, "layers"), 0);
        for (int i = 0; i < 501; i++) {
                json_array_append(layers, ld);
                json_array_append_new(diffs, json_string("sha256:0000000000000000000000000000"
                                                         "000000000000000000000000000000000000"));
        }
        cfg = dumps(json_pack("{s:{s:s,s:o}}", "rootfs", "type", "layers", "diff_ids", diffs));
        blob_str(P("oci"), cfg, chex);
        json_object_set_new(m, "config", json_pack("{s:s+}", "digest", "sha256:", chex));
        json_object_set_new(m, "layers", layers);
        man = dumps(m);
        blob_str(P("oci"), man, mhex);
        snprintf(path, sizeof(path), "%s/index.json", P("oci"));
        write_str(path, "");
        {
                char *idx =
                    dumps(json_pack("{s:[{s:s+}]}", "manifests", "digest", "sha256:", mhex));
                write_str(path, idx);
                free(idx);
        }
        expect_refused(P("oci"), NULL, NULL, "501 layers");
        free(cfg);
        free(man);
}
END_TEST

/* An index listing two images: chosen by --name's tag, else refused. */
START_TEST(test_index_with_two_images)
{
        static const struct layer_spec one[] = {{l0, PLAIN}};
        static const struct layer_spec two[] = {{l0, PLAIN}, {l2, PLAIN}};
        char path[PATH_MAX];
        json_t *first, *second;
        struct sbx_image *img;
        char *merged;

        snprintf(path, sizeof(path), "%s/index.json", P("oci"));
        make_oci(P("oci"), one, 1, "one", 0);
        first = json_loads(read_file_at(AT_FDCWD, path, NULL), 0, NULL);
        make_oci(P("oci"), two, 2, "two", 0);
        second = json_loads(read_file_at(AT_FDCWD, path, NULL), 0, NULL);
        json_array_extend(json_object_get(second, "manifests"),
                          json_object_get(first, "manifests"));
        merged = json_dumps(second, 0);
        write_str(path, merged);
        expect_refused(P("oci"), NULL, "index.json", "2 image manifests and none is chosen");
        import_ok(P("oci"), "app:two", NULL);
        ck_assert_ptr_nonnull(img = resolve("app:two"));
        ck_assert_int_eq(img->n_layers, 2);
        sbx_image_free(img);
        import_ok(P("oci"), "app:one", NULL);
        ck_assert_ptr_nonnull(img = resolve("app:one"));
        ck_assert_int_eq(img->n_layers, 1);
        sbx_image_free(img);
        free(merged);
        json_decref(first);
        json_decref(second);
}
END_TEST

/* ---- store operations ---- */

START_TEST(test_store_ops)
{
        static const struct layer_spec a[] = {{l0, PLAIN}, {l1, PLAIN}};
        static const struct layer_spec b[] = {{l0, PLAIN}, {l2, PLAIN}};
        sbx_store *st = NULL;
        sbx_error *err = NULL;
        struct sbx_image_info **list = NULL;
        struct sbx_gc_stats gs;
        struct sbx_image *img;
        char *deleted = NULL, ref[80];
        const char *ahex;
        size_t n;

        ck_assert_ptr_null(resolve("nothing")); /* store does not exist yet */
        ahex = make_oci(P("a"), a, 2, "1", 0);
        snprintf(ref, sizeof(ref), "sha256:%s", ahex);
        import_ok(P("a"), "app:1", NULL);
        make_oci(P("b"), b, 2, "2", 0);
        import_ok(P("b"), "app:2", NULL);
        ck_assert_int_eq(count_dir("layers/sha256"), 3);
        ck_assert_int_eq(sbx_store_open(NULL, &st, &err), 0);

        /* resolve by name, digest, prefix */
        img = resolve(ref);
        ck_assert_ptr_nonnull(img);
        ck_assert_str_eq(img->name, "app:1");
        sbx_image_free(img);
        snprintf(ref, sizeof(ref), "%.12s", ahex);
        ck_assert_ptr_nonnull(img = resolve(ref));
        sbx_image_free(img);
        snprintf(ref, sizeof(ref), "%.8s", ahex);
        ck_assert_ptr_null(resolve(ref)); /* too short */
        ck_assert_int_eq(sbx_store_resolve(st, "app:9", &img, &err), -1);
        ck_assert_ptr_nonnull(strstr(err->msg, "`app:9` not found"));
        sbx_error_free(err);
        err = NULL;

        /* tag, list */
        ck_assert_int_eq(sbx_store_tag(st, "app:1", "stable", &err), 0);
        ck_assert_ptr_nonnull(img = resolve("stable:latest"));
        sbx_image_free(img);
        ck_assert_int_eq(sbx_store_list(st, &list, &n, &err), 0);
        ck_assert_int_eq(n, 2);
        ck_assert_str_eq(list[0]->names[0], "app:1");
        ck_assert_str_eq(list[0]->names[1], "stable:latest");
        ck_assert_str_eq(list[1]->names[0], "app:2");
        ck_assert_int_eq(list[0]->n_layers, 2);
        for (size_t i = 0; i < n; i++)
                sbx_image_info_free(list[i]);
        free(list);

        /* rm a name: the image stays while it has another */
        ck_assert_int_eq(sbx_store_remove(st, "app:1", &deleted, &err), 0);
        ck_assert_ptr_null(deleted);
        ck_assert_ptr_nonnull(img = resolve("stable"));
        sbx_image_free(img);
        /* rm the last name: image deleted, its own layer reclaimed, shared kept */
        ck_assert_int_eq(sbx_store_remove(st, "stable", &deleted, &err), 0);
        ck_assert_ptr_nonnull(deleted);
        free(deleted);
        ck_assert_ptr_null(resolve("stable"));
        ck_assert_int_eq(count_dir("layers/sha256"), 2);
        ck_assert_ptr_nonnull(img = resolve("app:2"));
        ck_assert(exists(img->layers[1], "etc/a"));
        sbx_image_free(img);
        ck_assert_int_eq(sbx_store_gc(st, &gs, &err), 0);
        ck_assert_int_eq(gs.layers_removed + gs.tmp_removed + gs.images_removed, 0);
        ck_assert_int_eq(sbx_store_remove(st, "nope", NULL, &err), -1);
        sbx_error_free(err);
        sbx_store_close(st);
}
END_TEST

/* A named image whose record can not be read keeps its layers: gc fails
 * rather than guess that nothing uses them. */
START_TEST(test_gc_keeps_layers_of_unreadable_record)
{
        static const struct layer_spec a[] = {{l0, PLAIN}, {l1, PLAIN}};
        sbx_store *st = NULL;
        sbx_error *err = NULL;
        struct sbx_gc_stats gs;
        const char *ahex;
        char *rec;

        ahex = make_oci(P("a"), a, 2, "1", 0);
        import_ok(P("a"), "app:1", NULL);
        ck_assert_int_eq(count_dir("layers/sha256"), 2);
        rec = P("store/images/sha256/%s.json", ahex);
        write_str(rec, "{\"digest\": "); /* damaged: cut short */
        ck_assert_int_eq(sbx_store_open(NULL, &st, &err), 0);
        ck_assert_int_eq(sbx_store_gc(st, &gs, &err), -1);
        ck_assert_ptr_nonnull(strstr(err->msg, "not pruning layers"));
        sbx_error_free(err);
        ck_assert_int_eq(count_dir("layers/sha256"), 2);
        sbx_store_close(st);
}
END_TEST

/* A layer may nest ~2000 directories; removing it must not need a file
 * descriptor per level, or gc fails on it for good. */
START_TEST(test_gc_removes_deep_tree)
{
        struct rlimit rl = {256, 256};
        sbx_store *st = NULL;
        sbx_error *err = NULL;
        struct sbx_gc_stats gs;
        int fd;

        ck_assert_int_eq(mkdir(store, 0755), 0);
        ck_assert_int_eq(mkdir(P("store/tmp"), 0755), 0);
        fd = open(P("store/tmp"), O_RDONLY | O_DIRECTORY);
        ck_assert_int_ge(fd, 0);
        for (int i = 0; i < 1500; i++) {
                int sub;
                ck_assert_int_eq(mkdirat(fd, "a", 0755), 0);
                sub = openat(fd, "a", O_RDONLY | O_DIRECTORY);
                ck_assert_int_ge(sub, 0);
                close(fd);
                fd = sub;
        }
        ck_assert_int_eq(mkdirat(fd, "last", 0555), 0);
        close(fd);
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
        ck_assert_int_eq(sbx_store_open(NULL, &st, &err), 0);
        ck_assert_msg(sbx_store_gc(st, &gs, &err) == 0, "gc: %s", err ? err->msg : "?");
        ck_assert_int_eq(gs.tmp_removed, 1);
        ck_assert_int_eq(rmdir(P("store/tmp")), 0); /* empty: nothing parked left */
        sbx_store_close(st);
}
END_TEST

/* refs.json is written through refs.json.tmp.<pid>: a symlink of that name
 * planted in the store is replaced, never written through. */
START_TEST(test_planted_temp_symlink_not_followed)
{
        static const struct layer_spec a[] = {{l0, PLAIN}};
        sbx_store *st = NULL;
        sbx_error *err = NULL;
        struct sbx_image *img;
        char *victim = P("victim"), *data;
        struct stat sb;

        make_oci(P("a"), a, 1, "1", 0);
        import_ok(P("a"), "app:1", NULL);
        write_str(victim, "precious\n");
        ck_assert_int_eq(symlink(victim, P("store/refs.json.tmp.%d", (int)getpid())), 0);
        ck_assert_int_eq(sbx_store_open(NULL, &st, &err), 0);
        ck_assert_msg(sbx_store_tag(st, "app:1", "other", &err) == 0, "tag: %s",
                      err ? err->msg : "?");
        sbx_store_close(st);
        data = read_file_at(AT_FDCWD, victim, NULL);
        ck_assert_str_eq(data, "precious\n");
        free(data);
        ck_assert_int_eq(lstat(P("store/refs.json"), &sb), 0);
        ck_assert(S_ISREG(sb.st_mode));
        ck_assert_ptr_nonnull(img = resolve("other"));
        sbx_image_free(img);
}
END_TEST

/* ---- concurrency and SIGKILL ---- */

static struct ent many[302];

static void fill_many(void)
{
        static char names[300][16];
        for (int i = 0; i < 300; i++) {
                snprintf(names[i], sizeof(names[i]), "f/%03d", i);
                many[i] = (struct ent){'f', names[i], "shared content of the base layer\n"};
        }
}

START_TEST(test_concurrent_shared_layer)
{
        struct layer_spec a[2] = {{many, GZIP}, {l1, PLAIN}}, b[2] = {{many, GZIP}, {l2, PLAIN}};
        int go[2], status;
        pid_t pids[2];
        struct sbx_image *ia, *ib;

        fill_many();
        make_oci(P("a"), a, 2, "1", 0);
        make_oci(P("b"), b, 2, "1", 0);
        ck_assert_int_eq(pipe(go), 0);
        for (int i = 0; i < 2; i++) {
                pids[i] = fork();
                if (pids[i] == 0) {
                        char c;
                        sbx_error *err = NULL;
                        close(go[1]);
                        if (read(go[0], &c, 1) < 0)
                                _exit(80);
                        if (import(P("%s", i ? "b" : "a"), i ? "cb" : "ca", NULL, &err) < 0) {
                                fprintf(stderr, "concurrent import: %s\n", err->msg);
                                _exit(81);
                        }
                        _exit(0);
                }
        }
        close(go[0]);
        close(go[1]); /* both start now */
        for (int i = 0; i < 2; i++) {
                ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
                ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "import %d", i);
        }
        ck_assert_int_eq(count_dir("layers/sha256"), 3);
        ck_assert_int_eq(count_dir("tmp"), 0);
        ck_assert_ptr_nonnull(ia = resolve("ca"));
        ck_assert_ptr_nonnull(ib = resolve("cb"));
        ck_assert_str_eq(ia->layers[1], ib->layers[1]);
        sbx_image_free(ia);
        sbx_image_free(ib);
}
END_TEST

static const char *kill_stage;

static void kill_at(const char *stage)
{
        if (strcmp(stage, kill_stage) == 0)
                raise(SIGKILL);
}

static void killed_import(const char *stage)
{
        pid_t pid;
        int status;

        pid = fork();
        if (pid == 0) {
                kill_stage = stage;
                rf_import_hook = kill_at;
                import(P("oci"), "killed", NULL, NULL);
                _exit(0);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "not killed at %s",
                      stage);
}

START_TEST(test_sigkill_halfway)
{
        static const struct layer_spec ls[] = {{l0, GZIP}, {l1, GZIP}};
        struct sbx_gc_stats gs;
        sbx_store *st = NULL;
        sbx_error *err = NULL;
        struct sbx_image_info **list = NULL;
        size_t n = 1;

        make_oci(P("oci"), ls, 2, "v1", 0);

        /* Killed after the first layer was extracted into tmp/. */
        killed_import("layer-extracted");
        ck_assert_ptr_null(resolve("killed"));
        ck_assert_int_eq(sbx_store_open(NULL, &st, &err), 0);
        ck_assert_int_eq(sbx_store_list(st, &list, &n, &err), 0);
        ck_assert_int_eq(n, 0);
        free(list);
        ck_assert_int_eq(count_dir("tmp"), 1);
        ck_assert_int_eq(count_dir("layers/sha256"), 0);
        ck_assert_int_eq(sbx_store_gc(st, &gs, &err), 0);
        ck_assert_int_eq(gs.tmp_removed, 1);
        ck_assert_int_eq(count_dir("tmp"), 0);

        /* Killed after the layers were committed, before the record. */
        killed_import("layers-committed");
        ck_assert_ptr_null(resolve("killed"));
        ck_assert_int_eq(count_dir("layers/sha256"), 2);
        ck_assert_int_eq(sbx_store_gc(st, &gs, &err), 0);
        ck_assert_int_eq(gs.layers_removed, 2);
        ck_assert_int_eq(count_dir("layers/sha256"), 0);
        ck_assert_int_eq(count_dir("tmp"), 0);

        /* And the same import then succeeds. */
        import_ok(P("oci"), "killed", NULL);
        ck_assert_int_eq(count_dir("layers/sha256"), 2);
        sbx_store_close(st);
}
END_TEST

/* ---- the store root must be ours alone ---- */

static void expect_root_refused(const char *root, const char *reason)
{
        sbx_store *st = NULL;
        sbx_error *err = NULL;

        ck_assert_int_eq(sbx_store_open(root, &st, &err), -1);
        ck_assert_ptr_null(st);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err->msg, root) != NULL, "`%s` not named in: %s", root, err->msg);
        ck_assert_msg(strstr(err->msg, "writable only by it") != NULL, "%s", err->msg);
        ck_assert_msg(strstr(err->msg, reason) != NULL, "`%s` not in: %s", reason, err->msg);
        sbx_error_free(err);
}

START_TEST(test_store_root_trust)
{
        const char *other = P("other");
        sbx_store *st = NULL;
        sbx_error *err = NULL;
        struct sbx_image *img;
        struct stat sb;
        mode_t mask;

        /* Writable by others: refused, and nothing is created in it. */
        ck_assert_int_eq(mkdir(store, 0700), 0);
        ck_assert_int_eq(chmod(store, 0777), 0);
        expect_root_refused(store, "mode is 0777");
        ck_assert_int_eq(chmod(store, 0720), 0);
        expect_root_refused(store, "mode is 0720");
        write_tar(P("r.tar"), l0, PLAIN);
        ck_assert_int_eq(import(P("r.tar"), "r", NULL, &err), -1);
        ck_assert_ptr_nonnull(strstr(err->msg, "writable only by it"));
        sbx_error_free(err);
        err = NULL;
        ck_assert_int_eq(count_dir(""), 0);
        ck_assert_int_eq(rmdir(store), 0);

        /* Another uid's directory: as root, one we give away; otherwise "/". */
        if (geteuid() == 0) {
                ck_assert_int_eq(mkdir(other, 0755), 0);
                ck_assert_int_eq(chown(other, 65534, 65534), 0);
                expect_root_refused(other, "belongs to uid 65534");
        } else {
                expect_root_refused("/", "belongs to uid 0");
        }

        /* A symlink to a good directory, and a file. */
        ck_assert_int_eq(mkdir(P("real"), 0700), 0);
        ck_assert_int_eq(symlink(P("real"), store), 0);
        expect_root_refused(store, "is a symlink");
        ck_assert_int_eq(unlink(store), 0);
        write_str(store, "");
        expect_root_refused(store, "is not a directory");
        ck_assert_int_eq(unlink(store), 0);

        /* A root the store creates passes, whatever the umask. */
        mask = umask(0);
        ck_assert_int_eq(sbx_store_open(NULL, &st, &err), 0);
        ck_assert_msg(rf_store_prepare(st, &err) == 0, "prepare: %s", err ? err->msg : "?");
        sbx_store_close(st);
        umask(mask);
        ck_assert_int_eq(lstat(store, &sb), 0);
        ck_assert_int_eq(sb.st_mode & 07777, 0755);
        import_ok(P("r.tar"), "r", NULL);
        ck_assert_ptr_nonnull(img = resolve("r"));
        sbx_image_free(img);
        /* and so does a private 0700 one */
        ck_assert_int_eq(chmod(store, 0700), 0);
        ck_assert_ptr_nonnull(img = resolve("r"));
        sbx_image_free(img);
}
END_TEST

START_TEST(test_gc_refuses_during_import)
{
        sbx_store *st = NULL, *st2 = NULL;
        sbx_error *err = NULL;
        struct sbx_gc_stats gs;

        ck_assert_int_eq(sbx_store_open(store, &st, &err), 0);
        ck_assert_int_eq(rf_store_lock(st, LOCK_SH, &err), 0); /* as an import does */
        ck_assert_int_eq(sbx_store_open(store, &st2, &err), 0);
        ck_assert_int_eq(sbx_store_gc(st2, &gs, &err), -1);
        ck_assert_ptr_nonnull(strstr(err->msg, "in use by an import or a running sandbox"));
        sbx_error_free(err);
        sbx_store_close(st);
        sbx_store_close(st2);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("rootfs-store");
        TCase *tc = tcase_create("import");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_tarball_import);
        tcase_add_test(tc, test_keep_devices_and_setid);
        tcase_add_test(tc, test_oci_whiteouts_overlay);
        tcase_add_test(tc, test_rootless_import_whiteouts);
        tcase_add_test(tc, test_oci_tar_and_docker_archive);
        tcase_add_test(tc, test_docker_stored_layer_rehashed);
        tcase_add_loop_test(tc, test_attack_tarball, 0,
                            (int)(sizeof(attacks) / sizeof(attacks[0])));
        tcase_add_test(tc, test_attack_in_oci_layer);
        tcase_add_test(tc, test_digest_mismatch);
        tcase_add_test(tc, test_truncated);
        tcase_add_test(tc, test_too_many_layers);
        tcase_add_test(tc, test_index_with_two_images);
        tcase_add_test(tc, test_store_ops);
        tcase_add_test(tc, test_gc_keeps_layers_of_unreadable_record);
        tcase_add_test(tc, test_gc_removes_deep_tree);
        tcase_add_test(tc, test_planted_temp_symlink_not_followed);
        tcase_add_test(tc, test_concurrent_shared_layer);
        tcase_add_test(tc, test_sigkill_halfway);
        tcase_add_test(tc, test_store_root_trust);
        tcase_add_test(tc, test_gc_refuses_during_import);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
