/* store.c - the content-addressed image store (see docs/architecture-rootfs.md).
 *
 *   ROOT/layers/sha256/<hex>/        one extracted layer per diff-id, shared
 *   ROOT/images/sha256/<hex>.json    one record per image (layers, provenance)
 *   ROOT/refs.json                   {"name:tag": "sha256:<hex>"}
 *   ROOT/tmp/                        work directories of running imports
 *   ROOT/lock                        flock: shared by imports and by sandboxes
 *                                    running on an image, exclusive for gc
 *   ROOT/refs.lock                   flock: serialises changes to refs.json
 *
 * Everything becomes visible by rename(2) only, so readers never see a
 * half-written layer or record.  No libarchive here: this file is on the
 * `sbx run` path.
 */
#include "rootfs-internal.h"
#include "util.h"

#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const store_dirs[] = {"layers", "layers/sha256", "images", "images/sha256",
                                         "tmp"};

static char *default_root(void)
{
        const char *env = getenv("SBX_STORE");
        const char *xdg = getenv("XDG_DATA_HOME");
        const char *home = getenv("HOME");

        if (env != NULL && env[0] != '\0')
                return xstrdup(env);
        if (geteuid() == 0)
                return xstrdup("/var/lib/sbx");
        if (xdg != NULL && xdg[0] == '/')
                return xasprintf("%s/sbx", xdg);
        if (home != NULL && home[0] == '/')
                return xasprintf("%s/.local/share/sbx", home);
        return NULL;
}

static char *absolute(const char *path)
{
        char cwd[PATH_MAX];

        if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
                return xstrdup(path);
        return xasprintf("%s/%s", cwd, path);
}

/* Whoever can write the store root can plant layers and refs, which `sbx
 * run` mounts: like the state root (runtime/state.c), it must be a real
 * directory (not a symlink, which whoever made it can point elsewhere),
 * owned by the effective uid and writable only by it.  Checked with fstat on
 * the fd that records, refs and layers are then reached through. */
static int check_root(const char *root, int fd, sbx_error **err)
{
        struct stat sb;
        char why[64];

        if (fstat(fd, &sb) < 0)
                return sbx_fail_errno(err, errno, "image store: stat `%s`", root);
        if (S_ISLNK(sb.st_mode))
                snprintf(why, sizeof(why), "it is a symlink");
        else if (!S_ISDIR(sb.st_mode))
                snprintf(why, sizeof(why), "it is not a directory");
        else if (sb.st_uid != geteuid())
                snprintf(why, sizeof(why), "it belongs to uid %u", (unsigned)sb.st_uid);
        else if (sb.st_mode & 022)
                snprintf(why, sizeof(why), "its mode is %04o", (unsigned)(sb.st_mode & 07777));
        else
                return 0;
        return sbx_fail(err,
                        "image store `%s` is not a directory owned by uid %u and writable only "
                        "by it: %s",
                        root, (unsigned)geteuid(), why);
}

/* Open the store root and check it; *fd is -1 when it does not exist.
 * O_NOFOLLOW without O_DIRECTORY opens a symlink itself, for check_root to
 * see. */
static int open_root(const char *root, int *fd, sbx_error **err)
{
        cleanup_close int rfd = open(root, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        *fd = -1;
        if (rfd < 0)
                return errno == ENOENT ? 0 : sbx_fail_errno(err, errno, "image store `%s`", root);
        if (check_root(root, rfd, err) < 0)
                return -1;
        *fd = steal_fd(&rfd);
        return 0;
}

int sbx_store_open(const char *root, sbx_store **out, sbx_error **err)
{
        cleanup_free char *def = root ? NULL : default_root();
        sbx_store *st;

        if (root == NULL && def == NULL)
                return sbx_fail(err, "image store: neither SBX_STORE, XDG_DATA_HOME nor HOME "
                                     "is set");
        st = xcalloc(1, sizeof(*st));
        st->root = absolute(root ? root : def);
        st->lockfd = -1;
        if (open_root(st->root, &st->rootfd, err) < 0) {
                sbx_store_close(st);
                return -1;
        }
        *out = st;
        return 0;
}

void sbx_store_close(sbx_store *st)
{
        if (st == NULL)
                return;
        if (st->rootfd >= 0)
                close(st->rootfd);
        if (st->lockfd >= 0)
                close(st->lockfd);
        free(st->root);
        free(st);
}

const char *sbx_store_root(const sbx_store *st)
{
        return st->root;
}

static int mkdir_p(const char *path, mode_t mode)
{
        cleanup_free char *p = xstrdup(path);

        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -1;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -1;
        return 0;
}

/* Directories are 0755: the layers must be readable from inside a sandbox's
 * user namespace, whose root may map to another host uid.  A umask only
 * takes bits away, so a root made here passes check_root; one that another
 * process made meanwhile is checked like any other. */
int rf_store_prepare(sbx_store *st, sbx_error **err)
{
        if (st->rootfd < 0) {
                if (mkdir_p(st->root, 0755) < 0)
                        return sbx_fail_errno(err, errno, "image store: create `%s`", st->root);
                if (open_root(st->root, &st->rootfd, err) < 0)
                        return -1;
                if (st->rootfd < 0)
                        return sbx_fail_errno(err, ENOENT, "image store: open `%s`", st->root);
        }
        for (size_t i = 0; i < ARRAY_SIZE(store_dirs); i++)
                if (mkdirat(st->rootfd, store_dirs[i], 0755) < 0 && errno != EEXIST)
                        return sbx_fail_errno(err, errno, "image store: create `%s/%s`", st->root,
                                              store_dirs[i]);
        return 0;
}

int rf_store_subdir(sbx_store *st, const char *sub, sbx_error **err)
{
        int fd = openat(st->rootfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return sbx_fail_errno(err, errno, "image store: open `%s/%s`", st->root, sub);
        return fd;
}

static int lock_file(sbx_store *st, const char *name, int how, sbx_error **err)
{
        cleanup_close int fd =
            openat(st->rootfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);

        if (fd < 0)
                return sbx_fail_errno(err, errno, "image store: open `%s/%s`", st->root, name);
        if (TEMP_FAILURE_RETRY(flock(fd, how)) < 0) {
                if (errno == EWOULDBLOCK)
                        return sbx_fail(err,
                                        "image store `%s` is in use by an import or a running "
                                        "sandbox; try again when they are done",
                                        st->root);
                return sbx_fail_errno(err, errno, "image store: lock `%s/%s`", st->root, name);
        }
        return steal_fd(&fd);
}

int rf_store_lock(sbx_store *st, int how, sbx_error **err)
{
        int fd;

        if (rf_store_prepare(st, err) < 0)
                return -1;
        fd = lock_file(st, "lock", how, err);
        if (fd < 0)
                return -1;
        if (st->lockfd >= 0)
                close(st->lockfd);
        st->lockfd = fd;
        return 0;
}

int sbx_store_hold(sbx_store *st, sbx_error **err)
{
        return rf_store_lock(st, LOCK_SH, err);
}

int rf_write_atomic(int dirfd, const char *name, const char *data, sbx_error **err)
{
        cleanup_free char *tmp = xasprintf("%s.tmp.%d", name, (int)getpid());
        cleanup_close int fd = -1;

        /* Callers hold refs.lock, so a file of this name is the leftover of
         * a killed writer with our pid, or planted: never write through it. */
        unlinkat(dirfd, tmp, 0);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return sbx_fail_errno(err, errno, "create `%s`", tmp);
        if (write_full(fd, data, strlen(data)) < 0 || fsync(fd) < 0) {
                int e = errno;
                unlinkat(dirfd, tmp, 0);
                return sbx_fail_errno(err, e, "write `%s`", tmp);
        }
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
                int e = errno;
                unlinkat(dirfd, tmp, 0);
                return sbx_fail_errno(err, e, "rename `%s`", tmp);
        }
        fsync(dirfd);
        return 0;
}

int rf_store_mktemp(sbx_store *st, char **name_out, sbx_error **err)
{
        cleanup_close int tmpfd = rf_store_subdir(st, "tmp", err);
        struct timespec ts;

        if (tmpfd < 0)
                return -1;
        clock_gettime(CLOCK_REALTIME, &ts);
        for (int i = 0; i < 100; i++) {
                cleanup_free char *name =
                    xasprintf("import-%d-%lx-%d", (int)getpid(), (long)ts.tv_nsec, i);
                int fd;

                if (mkdirat(tmpfd, name, 0755) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return sbx_fail_errno(err, errno, "image store: create `%s/tmp/%s`",
                                              st->root, name);
                }
                fd = openat(tmpfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return sbx_fail_errno(err, errno, "open `%s/tmp/%s`", st->root, name);
                *name_out = steal_pointer(&name);
                return fd;
        }
        return sbx_fail(err, "image store: no unique name under `%s/tmp`", st->root);
}

/* Deeper than this, a subdirectory is moved up into the top directory and
 * removed from there: each level holds a directory fd, and a layer may nest
 * about 2000 directories (--max-path), more than RLIMIT_NOFILE often allows.
 * A failed gc would then keep failing on the same tmp/ entry forever. */
#define RM_DEPTH_MAX 64

static int rm_rf(int at, const char *name, int top, unsigned depth, char ***parked)
{
        cleanup_dir DIR *d = NULL;
        struct dirent *de;
        int fd;

        if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -1;
        fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -1;
        fchmod(fd, 0700);
        d = fdopendir(fd);
        if (d == NULL) {
                close(fd);
                return -1;
        }
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (depth >= RM_DEPTH_MAX && de->d_type == DT_DIR) {
                        char *p = xasprintf(".rm-%d-%zu", (int)getpid(), strv_len(*parked));
                        if (renameat2(dirfd(d), de->d_name, top, p, RENAME_NOREPLACE) < 0) {
                                free(p);
                                return -1;
                        }
                        *parked = strv_push(*parked, p);
                        continue;
                }
                if (rm_rf(dirfd(d), de->d_name, top, depth + 1, parked) < 0)
                        return -1;
        }
        return unlinkat(at, name, AT_REMOVEDIR);
}

/* rm -rf without following symlinks; directories a rootless import made
 * read-only are made writable first.  `at` is the store's tmp/, where
 * subtrees nested too deep are parked (and left for gc after a crash). */
int rf_rm_rf_at(int at, const char *name)
{
        char **parked = NULL;
        int r = rm_rf(at, name, at, 0, &parked);

        /* Indexed: removing one parked tree may park more. */
        for (size_t i = 0; r == 0 && parked && parked[i]; i++)
                r = rm_rf(at, parked[i], at, 0, &parked);
        strv_free(parked);
        return r;
}

/* ---- refs.json and image records ---- */

static json_t *load_json_at(int dirfd, const char *path, const char *what, sbx_error **err)
{
        cleanup_free char *data = read_file_at(dirfd, path, NULL);
        json_error_t jerr;
        json_t *j;

        if (data == NULL)
                return sbx_fail_errno(err, errno, "%s", what), NULL;
        j = json_loads(data, 0, &jerr);
        if (j == NULL || !json_is_object(j)) {
                json_decref(j);
                return sbx_fail(err, "%s: corrupt record (line %d: %s)", what, jerr.line,
                                jerr.text),
                       NULL;
        }
        return j;
}

/* refs.json, or an empty object when the store has none yet. */
static json_t *load_refs(sbx_store *st, sbx_error **err)
{
        cleanup_free char *what = NULL;

        if (st->rootfd < 0 || (faccessat(st->rootfd, "refs.json", F_OK, 0) < 0 && errno == ENOENT))
                return json_object();
        what = xasprintf("image store: `%s/refs.json`", st->root);
        return load_json_at(st->rootfd, "refs.json", what, err);
}

static int save_refs(sbx_store *st, json_t *refs, sbx_error **err)
{
        cleanup_free char *s = json_dumps(refs, JSON_INDENT(2) | JSON_SORT_KEYS);
        cleanup_free char *withnl = xasprintf("%s\n", s);

        if (rf_write_atomic(st->rootfd, "refs.json", withnl, err) < 0)
                return sbx_error_prefix(err, "image store `%s`", st->root);
        return 0;
}

static json_t *load_image(sbx_store *st, const char *hex, sbx_error **err)
{
        cleanup_free char *path = xasprintf("images/sha256/%s.json", hex);
        cleanup_free char *what = xasprintf("image sha256:%.12s", hex);
        return load_json_at(st->rootfd, path, what, err);
}

static bool image_exists(sbx_store *st, const char *hex)
{
        char path[128];
        snprintf(path, sizeof(path), "images/sha256/%s.json", hex);
        return st->rootfd >= 0 && faccessat(st->rootfd, path, F_OK, 0) == 0;
}

/* Find the image digest hex a reference names: "sha256:<hex>", a hex prefix
 * of at least 12 digits (with or without "sha256:"), or NAME[:TAG]. */
static int lookup(sbx_store *st, json_t *refs, const char *ref, char hex_out[65], sbx_error **err)
{
        const char *h = strncmp(ref, "sha256:", 7) == 0 ? ref + 7 : ref;
        size_t n = strlen(h);
        const char *reason = NULL;
        cleanup_free char *canon = NULL;
        json_t *v;

        if (n >= 12 && n <= 64 && rf_is_hex(h, n)) {
                const char *key;
                int found = 0;
                json_object_foreach(refs, key, v)
                {
                        const char *d = rf_digest_hex(json_string_value(v));
                        if (d && strncmp(d, h, n) == 0 && (found == 0 || strcmp(hex_out, d))) {
                                found++;
                                memcpy(hex_out, d, 65);
                        }
                }
                if (found == 1)
                        return 0;
                if (found > 1)
                        return sbx_fail(err, "image `%s`: ambiguous digest prefix", ref);
                if (n == 64 && image_exists(st, h)) {
                        memcpy(hex_out, h, 65);
                        return 0;
                }
                if (h != ref)
                        return sbx_fail(err, "image `%s` not found in store `%s`", ref, st->root);
        }
        canon = rf_canonical_ref(ref, &reason);
        if (canon == NULL)
                return sbx_fail(err, "image `%s`: %s", ref, reason);
        v = json_object_get(refs, canon);
        if (rf_digest_hex(json_string_value(v)) == NULL)
                return sbx_fail(err, "image `%s` not found in store `%s` (see `sbx image ls`)",
                                canon, st->root);
        memcpy(hex_out, rf_digest_hex(json_string_value(v)), 65);
        return 0;
}

static char **names_of(json_t *refs, const char *digest)
{
        char **names = NULL;
        const char *key;
        json_t *v;

        json_object_foreach(refs, key, v)
        {
                if (json_is_string(v) && strcmp(json_string_value(v), digest) == 0)
                        names = strv_push(names, xstrdup(key));
        }
        return names ? names : xcalloc(1, sizeof(char *));
}

static const char *layer_hex(json_t *layer)
{
        return rf_digest_hex(json_string_value(json_object_get(layer, "diff_id")));
}

int sbx_store_resolve(sbx_store *st, const char *ref, struct sbx_image **out, sbx_error **err)
{
        json_t *refs = load_refs(st, err), *img = NULL, *layers;
        char hex[65];
        struct sbx_image *res = NULL;
        int ret = -1;

        if (refs == NULL)
                return -1;
        if (lookup(st, refs, ref, hex, err) < 0 || (img = load_image(st, hex, err)) == NULL)
                goto out;
        layers = json_object_get(img, "layers");
        if (!json_is_array(layers) || json_array_size(layers) == 0) {
                sbx_fail(err, "image `%s`: record has no layers", ref);
                goto out;
        }
        res = xcalloc(1, sizeof(*res));
        res->digest = xasprintf("sha256:%s", hex);
        {
                cleanup_strv char **names = names_of(refs, res->digest);
                res->name = xstrdup(names[0] ? names[0] : res->digest);
        }
        res->n_layers = json_array_size(layers);
        res->layers = xcalloc(res->n_layers + 1, sizeof(char *));
        for (size_t i = 0; i < res->n_layers; i++) {
                /* The record lists layers bottom first; overlay wants top first. */
                json_t *l = json_array_get(layers, res->n_layers - 1 - i);
                const char *lh = layer_hex(l);
                struct stat sb;

                if (lh == NULL) {
                        sbx_fail(err, "image `%s`: corrupt layer entry", ref);
                        goto out;
                }
                res->layers[i] = xasprintf("%s/layers/sha256/%s", st->root, lh);
                if (stat(res->layers[i], &sb) < 0 || !S_ISDIR(sb.st_mode)) {
                        sbx_fail(err,
                                 "image `%s`: layer sha256:%.12s is missing from the "
                                 "store (import the image again)",
                                 ref, lh);
                        goto out;
                }
        }
        *out = steal_pointer(&res);
        ret = 0;
out:
        sbx_image_free(res);
        json_decref(img);
        json_decref(refs);
        return ret;
}

void sbx_image_free(struct sbx_image *img)
{
        if (img == NULL)
                return;
        free(img->name);
        free(img->digest);
        for (size_t i = 0; i < img->n_layers; i++)
                free(img->layers[i]);
        free(img->layers);
        free(img);
}

/* ---- list / inspect ---- */

static char *jstr(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? xstrdup(s) : NULL;
}

static uint64_t jnum(json_t *o, const char *key)
{
        json_int_t v = json_integer_value(json_object_get(o, key));
        return v > 0 ? (uint64_t)v : 0;
}

static struct sbx_image_info *info_from(sbx_store *st, json_t *img, char **names)
{
        struct sbx_image_info *info = xcalloc(1, sizeof(*info));
        json_t *layers = json_object_get(img, "layers"), *src = json_object_get(img, "source");
        json_t *copy = json_deep_copy(img), *jn = json_array();

        info->digest = jstr(img, "digest");
        info->names = names;
        info->kind = jstr(img, "kind");
        info->source = jstr(src, "path");
        info->source_sha256 = jstr(src, "sha256");
        info->manifest_digest = jstr(img, "manifest_digest");
        info->config_digest = jstr(img, "config_digest");
        info->imported = jstr(img, "imported");
        info->n_layers = json_array_size(layers);
        info->layers = xcalloc(info->n_layers + 1, sizeof(*info->layers));
        for (size_t i = 0; i < info->n_layers; i++) {
                json_t *l = json_array_get(layers, i);
                struct sbx_layer_info *li = &info->layers[i];
                li->diff_id = jstr(l, "diff_id");
                li->blob = jstr(l, "blob");
                li->size = jnum(l, "size");
                li->files = jnum(l, "files");
                li->dir =
                    xasprintf("%s/layers/sha256/%s", st->root, layer_hex(l) ? layer_hex(l) : "?");
                info->size += li->size;
        }
        for (size_t i = 0; names[i]; i++)
                json_array_append_new(jn, json_string(names[i]));
        json_object_set_new(copy, "names", jn);
        info->json = json_dumps(copy, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(copy);
        return info;
}

void sbx_image_info_free(struct sbx_image_info *info)
{
        if (info == NULL)
                return;
        free(info->digest);
        strv_free(info->names);
        free(info->kind);
        free(info->source);
        free(info->source_sha256);
        free(info->manifest_digest);
        free(info->config_digest);
        free(info->imported);
        for (size_t i = 0; i < info->n_layers; i++) {
                free(info->layers[i].diff_id);
                free(info->layers[i].blob);
                free(info->layers[i].dir);
        }
        free(info->layers);
        free(info->json);
        free(info);
}

int sbx_store_inspect(sbx_store *st, const char *ref, struct sbx_image_info **out, sbx_error **err)
{
        json_t *refs = load_refs(st, err), *img;
        char hex[65];
        cleanup_free char *digest = NULL;

        if (refs == NULL)
                return -1;
        if (lookup(st, refs, ref, hex, err) < 0 || (img = load_image(st, hex, err)) == NULL) {
                json_decref(refs);
                return -1;
        }
        digest = xasprintf("sha256:%s", hex);
        *out = info_from(st, img, names_of(refs, digest));
        json_decref(img);
        json_decref(refs);
        return 0;
}

static int cmp_info(const void *a, const void *b)
{
        const struct sbx_image_info *x = *(struct sbx_image_info *const *)a;
        const struct sbx_image_info *y = *(struct sbx_image_info *const *)b;
        return strcmp(x->names[0], y->names[0]);
}

int sbx_store_list(sbx_store *st, struct sbx_image_info ***out, size_t *n, sbx_error **err)
{
        json_t *refs = load_refs(st, err), *done = json_object(), *v;
        struct sbx_image_info **list = NULL;
        const char *key;
        size_t count = 0;

        if (refs == NULL)
                return json_decref(done), -1;
        json_object_foreach(refs, key, v)
        {
                const char *digest = json_string_value(v), *hex = rf_digest_hex(digest);
                json_t *img;
                sbx_error *ignored = NULL;

                if (hex == NULL || json_object_get(done, digest))
                        continue;
                json_object_set_new(done, digest, json_true());
                /* A record that vanished under a concurrent rm is not listed. */
                img = load_image(st, hex, &ignored);
                sbx_error_free(ignored);
                if (img == NULL)
                        continue;
                list = xrealloc(list, (count + 1) * sizeof(*list));
                list[count++] = info_from(st, img, names_of(refs, digest));
                json_decref(img);
        }
        if (count > 1)
                qsort(list, count, sizeof(*list), cmp_info);
        json_decref(done);
        json_decref(refs);
        *out = list;
        *n = count;
        return 0;
}

/* ---- commit, tag, remove ---- */

int rf_store_commit_image(sbx_store *st, const char *digest, const char *json, const char *canon,
                          sbx_error **err)
{
        cleanup_close int lk = lock_file(st, "refs.lock", LOCK_EX, err);
        cleanup_close int imgdir = -1;
        cleanup_free char *file = xasprintf("%s.json", rf_digest_hex(digest));
        json_t *refs;
        int r;

        if (lk < 0 || (imgdir = rf_store_subdir(st, "images/sha256", err)) < 0)
                return -1;
        if (rf_write_atomic(imgdir, file, json, err) < 0)
                return sbx_error_prefix(err, "image store `%s`", st->root);
        if ((refs = load_refs(st, err)) == NULL)
                return -1;
        json_object_set_new(refs, canon, json_string(digest));
        r = save_refs(st, refs, err);
        json_decref(refs);
        return r;
}

int sbx_store_tag(sbx_store *st, const char *src, const char *dst, sbx_error **err)
{
        cleanup_close int lk = -1;
        cleanup_free char *canon = NULL, *digest = NULL;
        const char *reason = NULL;
        char hex[65];
        json_t *refs;
        int r;

        canon = rf_canonical_ref(dst, &reason);
        if (canon == NULL)
                return sbx_fail(err, "image name `%s`: %s", dst, reason);
        if (st->rootfd < 0)
                return sbx_fail(err, "image `%s` not found in store `%s`", src, st->root);
        if ((lk = lock_file(st, "refs.lock", LOCK_EX, err)) < 0)
                return -1;
        if ((refs = load_refs(st, err)) == NULL)
                return -1;
        if (lookup(st, refs, src, hex, err) < 0)
                return json_decref(refs), -1;
        digest = xasprintf("sha256:%s", hex);
        json_object_set_new(refs, canon, json_string(digest));
        r = save_refs(st, refs, err);
        json_decref(refs);
        return r;
}

static bool digest_named(json_t *refs, const char *digest)
{
        const char *key;
        json_t *v;

        json_object_foreach(refs, key, v)
        {
                if (json_is_string(v) && strcmp(json_string_value(v), digest) == 0)
                        return true;
        }
        return false;
}

static void remove_names(json_t *refs, const char *digest)
{
        const char *key;
        json_t *v;
        void *tmp;

        json_object_foreach_safe(refs, tmp, key, v)
        {
                if (json_is_string(v) && strcmp(json_string_value(v), digest) == 0)
                        json_object_del(refs, key);
        }
}

static int prune_layers(sbx_store *st, struct sbx_gc_stats *stats, sbx_error **err);

int sbx_store_remove(sbx_store *st, const char *ref, char **deleted, sbx_error **err)
{
        cleanup_close int lk = -1;
        cleanup_free char *digest = NULL, *canon = NULL, *file = NULL;
        const char *reason = NULL;
        char hex[65];
        json_t *refs;
        bool by_name;

        if (deleted)
                *deleted = NULL;
        if (st->rootfd < 0)
                return sbx_fail(err, "image `%s` not found in store `%s`", ref, st->root);
        if ((lk = lock_file(st, "refs.lock", LOCK_EX, err)) < 0)
                return -1;
        if ((refs = load_refs(st, err)) == NULL)
                return -1;
        if (lookup(st, refs, ref, hex, err) < 0)
                return json_decref(refs), -1;
        digest = xasprintf("sha256:%s", hex);
        canon = rf_canonical_ref(ref, &reason);
        by_name = canon != NULL && json_object_get(refs, canon) != NULL;
        if (by_name)
                json_object_del(refs, canon);
        else
                remove_names(refs, digest);
        if (save_refs(st, refs, err) < 0)
                return json_decref(refs), -1;
        if (!digest_named(refs, digest)) {
                file = xasprintf("images/sha256/%s.json", hex);
                if (unlinkat(st->rootfd, file, 0) < 0 && errno != ENOENT)
                        return json_decref(refs),
                               sbx_fail_errno(err, errno, "image store: remove `%s`", file);
                if (deleted)
                        *deleted = xstrdup(digest);
        }
        json_decref(refs);
        /* Reclaim layers now if no import holds the store; else gc will.
         * refs.lock stays held, as in gc. */
        if (file != NULL && rf_store_lock(st, LOCK_EX | LOCK_NB, NULL) == 0) {
                struct sbx_gc_stats stats = {0};
                prune_layers(st, &stats, NULL);
                flock(st->lockfd, LOCK_UN);
        }
        return 0;
}

/* ---- gc ---- */

/* Move a store entry into tmp/ first: a layer directory is then either whole
 * under its digest or gone, never half-deleted under its digest. */
static int discard_entry(sbx_store *st, int dirfd, const char *name)
{
        cleanup_close int tmpfd = openat(st->rootfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cleanup_free char *dead = xasprintf("gc-%d-%s", (int)getpid(), name);

        if (tmpfd < 0)
                return -1;
        if (renameat(dirfd, name, tmpfd, dead) < 0)
                return -1;
        return rf_rm_rf_at(tmpfd, dead);
}

/* The layers the named images use, or NULL when a named image's record can
 * not be read: its layers are then unknown, and pruning would delete a named
 * image's content (a damaged record, EMFILE).  Fail closed. */
static json_t *referenced_layers(sbx_store *st, json_t *refs, size_t *images_removed,
                                 sbx_error **err)
{
        json_t *used = json_object();
        cleanup_close int imgfd =
            openat(st->rootfd, "images/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cleanup_dir DIR *d = imgfd >= 0 ? fdopendir(imgfd) : NULL;
        struct dirent *de;

        if (d == NULL)
                return used;
        imgfd = -1; /* owned by d */
        while ((de = readdir(d)) != NULL) {
                size_t n = strlen(de->d_name);
                char digest[80];
                json_t *img, *l;
                size_t i;

                if (n != 69 || strcmp(de->d_name + 64, ".json") != 0) {
                        if (de->d_name[0] != '.' && strstr(de->d_name, ".tmp.")) {
                                unlinkat(dirfd(d), de->d_name, 0);
                                (*images_removed)++;
                        }
                        continue;
                }
                snprintf(digest, sizeof(digest), "sha256:%.64s", de->d_name);
                if (!digest_named(refs, digest)) {
                        unlinkat(dirfd(d), de->d_name, 0);
                        (*images_removed)++;
                        continue;
                }
                img = load_image(st, digest + 7, err);
                if (img == NULL || !json_is_array(json_object_get(img, "layers"))) {
                        if (img != NULL)
                                sbx_fail(err, "image sha256:%.12s: corrupt record (no layers)",
                                         digest + 7);
                        sbx_error_prefix(err, "image store `%s`: not pruning layers", st->root);
                        json_decref(img);
                        json_decref(used);
                        return NULL;
                }
                json_array_foreach(json_object_get(img, "layers"), i, l)
                {
                        if (layer_hex(l))
                                json_object_set_new(used, layer_hex(l), json_true());
                }
                json_decref(img);
        }
        return used;
}

static int prune_layers(sbx_store *st, struct sbx_gc_stats *stats, sbx_error **err)
{
        json_t *refs = load_refs(st, err), *used;
        cleanup_close int lfd = -1;
        cleanup_dir DIR *d = NULL;
        struct dirent *de;
        char **victims = NULL;
        int ret = 0;

        if (refs == NULL)
                return -1;
        used = referenced_layers(st, refs, &stats->images_removed, err);
        json_decref(refs);
        if (used == NULL)
                return -1;
        if ((lfd = rf_store_subdir(st, "layers/sha256", err)) < 0 ||
            (d = fdopendir(dup(lfd))) == NULL) {
                json_decref(used);
                return -1;
        }
        while ((de = readdir(d)) != NULL)
                if (de->d_name[0] != '.' && json_object_get(used, de->d_name) == NULL)
                        victims = strv_push(victims, xstrdup(de->d_name));
        for (size_t i = 0; victims && victims[i]; i++) {
                if (discard_entry(st, lfd, victims[i]) < 0) {
                        ret = sbx_fail_errno(err, errno, "image store: remove layer `%s`",
                                             victims[i]);
                        break;
                }
                stats->layers_removed++;
        }
        strv_free(victims);
        json_decref(used);
        return ret;
}

/* refs.json.tmp.<pid> of a writer killed before its rename. */
static void remove_root_temps(sbx_store *st)
{
        int fd = openat(st->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cleanup_dir DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (d == NULL) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        while ((de = readdir(d)) != NULL)
                if (strncmp(de->d_name, "refs.json.tmp.", 14) == 0)
                        unlinkat(dirfd(d), de->d_name, 0);
}

int sbx_store_gc(sbx_store *st, struct sbx_gc_stats *stats, sbx_error **err)
{
        cleanup_close int tmpfd = -1, refslk = -1;
        cleanup_dir DIR *d = NULL;
        struct dirent *de;
        char **debris = NULL;
        int ret = 0;

        memset(stats, 0, sizeof(*stats));
        if (rf_store_lock(st, LOCK_EX | LOCK_NB, err) < 0)
                return -1;
        /* tag and rm change refs.json and records without the store lock: a
         * record gc reads as unnamed must stay so until it is gone. */
        if ((refslk = lock_file(st, "refs.lock", LOCK_EX, err)) < 0) {
                flock(st->lockfd, LOCK_UN);
                return -1;
        }
        if ((tmpfd = rf_store_subdir(st, "tmp", err)) < 0 || (d = fdopendir(dup(tmpfd))) == NULL)
                return -1;
        while ((de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        debris = strv_push(debris, xstrdup(de->d_name));
        for (size_t i = 0; debris && debris[i]; i++) {
                if (rf_rm_rf_at(tmpfd, debris[i]) < 0) {
                        ret = sbx_fail_errno(err, errno, "image store: remove `%s/tmp/%s`",
                                             st->root, debris[i]);
                        break;
                }
                stats->tmp_removed++;
        }
        strv_free(debris);
        remove_root_temps(st);
        if (ret == 0)
                ret = prune_layers(st, stats, err);
        flock(st->lockfd, LOCK_UN);
        return ret;
}
