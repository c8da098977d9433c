/* archive_import.c - `sbx image import`: OCI layouts (directory or tar),
 * docker-save archives and plain rootfs tarballs into the store.
 *
 * Order of work, so that a failure or SIGKILL at any point leaves nothing
 * visible: (1) every blob is read and checked against the digest naming it,
 * layers are extracted into tmp/import-*; (2) syncfs; (3) each layer is
 * renamed to layers/sha256/<diff-id> (losing a rename race to a concurrent
 * import of the same layer just discards our copy); (4) the image record and
 * its name are written under refs.lock.  Until (4) nothing names the new
 * layers, and gc (which needs the store lock exclusively, while imports hold
 * it shared) removes them.
 */
#include "rootfs-internal.h"
#include "sha256.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define JSON_BLOB_MAX (4 << 20)
#define HASH_BUF (256 * 1024)

void (*rf_import_hook)(const char *stage);

struct layer {
        char diff_hex[65];
        char *blob; /* "sha256:<hex>" */
        uint64_t size, files;
        char *work; /* name under the work dir, NULL when already in the store */
};

struct importer {
        sbx_store *st;
        struct rf_import_ctx ic;
        int workfd, layersfd;
        struct layer *layers;
        size_t n_layers;
        const char *kind;
        char *source, *source_sha256, *manifest_digest, *config_digest, *digest;
        char *derived_name; /* from the image's own metadata or the file name */
        json_t *config;     /* the image config's "config" object */
};

static void hook(const char *stage)
{
        if (rf_import_hook)
                rf_import_hook(stage);
}

void sbx_import_opts_init(struct sbx_import_opts *opts)
{
        memset(opts, 0, sizeof(*opts));
        opts->max_size = SBX_IMPORT_MAX_SIZE_DEFAULT;
        opts->max_files = SBX_IMPORT_MAX_FILES_DEFAULT;
        opts->max_path = SBX_IMPORT_MAX_PATH_DEFAULT;
}

/* ---- reading blobs ---- */

/* A member of the image: inside the layout, and a regular file (a symlink to
 * /dev/zero would never end). */
static int open_beneath_file(int at, const char *path)
{
        struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
        int fd = (int)syscall(SYS_openat2, at, path, &how, sizeof(how));
        struct stat sb;

        if (fd >= 0 && (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))) {
                close(fd);
                errno = EINVAL;
                return -1;
        }
        return fd;
}

static int hash_fd(struct importer *im, int fd, char hex[65])
{
        cleanup_free uint8_t *buf = xmalloc(HASH_BUF);
        sha256_ctx h;
        ssize_t n;

        sha256_init(&h);
        while ((n = TEMP_FAILURE_RETRY(read(fd, buf, HASH_BUF))) > 0) {
                sha256_update(&h, buf, (size_t)n);
                rf_progress_add(&im->ic, (uint64_t)n);
        }
        if (n < 0)
                return -1;
        sha256_final_hex(&h, hex);
        return 0;
}

static const char *desc_hex(json_t *desc, const char *what, sbx_error **err)
{
        const char *d = json_string_value(json_object_get(desc, "digest"));
        const char *hex = rf_digest_hex(d);

        if (hex == NULL)
                sbx_fail(err, "%s: digest `%s` is not sha256:<64 hex digits>", what,
                         d ? d : "(none)");
        return hex;
}

/* Read a whole small file; NULL with errno (EFBIG when over max). */
static char *read_small(int fd, size_t max, size_t *len)
{
        struct stat sb;
        cleanup_free char *data = NULL;

        if (fstat(fd, &sb) < 0)
                return NULL;
        if ((size_t)sb.st_size > max) {
                errno = EFBIG;
                return NULL;
        }
        data = xmalloc((size_t)sb.st_size + 1);
        errno = EIO;
        if (read_full(fd, data, (size_t)sb.st_size) != sb.st_size)
                return NULL;
        data[sb.st_size] = '\0';
        *len = (size_t)sb.st_size;
        return steal_pointer(&data);
}

/* Read a JSON blob; check its size (when want_size >= 0) and its digest
 * (when want_hex is not NULL). */
static json_t *read_json_sized(int lfd, const char *path, const char *want_hex,
                               json_int_t want_size, const char *what, sbx_error **err)
{
        cleanup_close int fd = open_beneath_file(lfd, path);
        cleanup_free char *data = NULL;
        char got[65];
        json_error_t jerr;
        size_t len = 0;
        json_t *j;

        if (fd < 0)
                return sbx_fail_errno(err, errno, "%s: `%s`", what, path), NULL;
        if ((data = read_small(fd, JSON_BLOB_MAX, &len)) == NULL)
                return sbx_fail_errno(err, errno, "%s: read `%s`", what, path), NULL;
        if (want_size >= 0 && (json_int_t)len != want_size)
                return sbx_fail(err,
                                "%s: size mismatch: `%s` has %zu bytes, the descriptor "
                                "says %lld",
                                what, path, len, (long long)want_size),
                       NULL;
        if (want_hex != NULL) {
                sha256_hex(data, len, got);
                if (strcmp(got, want_hex) != 0)
                        return sbx_fail(err,
                                        "%s: digest mismatch: content of `%s` hashes to "
                                        "sha256:%s",
                                        what, path, got),
                               NULL;
        }
        j = json_loadb(data, len, 0, &jerr);
        if (j == NULL)
                return sbx_fail(err, "%s: `%s`: invalid JSON at line %d: %s", what, path, jerr.line,
                                jerr.text),
                       NULL;
        return j;
}

/* Read a small JSON blob named by its digest and check that digest. */
static json_t *read_json_blob(int lfd, const char *path, const char *want_hex, const char *what,
                              sbx_error **err)
{
        return read_json_sized(lfd, path, want_hex, -1, what, err);
}

/* Same, when the descriptor also gives the size. */
static json_t *read_json_desc(int lfd, json_t *desc, const char *hex, const char *what,
                              sbx_error **err)
{
        cleanup_free char *path = xasprintf("blobs/sha256/%s", hex);
        json_t *size = json_object_get(desc, "size");
        return read_json_sized(lfd, path, hex,
                               json_is_integer(size) ? json_integer_value(size) : -1, what, err);
}

static char *blob_path(const char *hex)
{
        return xasprintf("blobs/sha256/%s", hex);
}

/* ---- layers ---- */

static struct layer *planned(struct importer *im, const char *diff_hex)
{
        for (size_t i = 0; i < im->n_layers; i++)
                if (strcmp(im->layers[i].diff_hex, diff_hex) == 0)
                        return &im->layers[i];
        return NULL;
}

static struct layer *push_layer(struct importer *im)
{
        im->layers = xrealloc(im->layers, (im->n_layers + 1) * sizeof(*im->layers));
        memset(&im->layers[im->n_layers], 0, sizeof(*im->layers));
        return &im->layers[im->n_layers++];
}

/* The error a fresh layer and a stored one share when the image's copy
 * does not hash to what names it. */
static int check_layer_digests(const struct rf_layer_result *res, const char *want_blob,
                               const char *want_diff, const char *label, sbx_error **err)
{
        if (want_blob != NULL && strcmp(res->blob_hex, want_blob) != 0)
                return sbx_fail(err, "%s: blob digest mismatch: content hashes to sha256:%s", label,
                                res->blob_hex);
        if (want_diff != NULL && strcmp(res->diff_hex, want_diff) != 0)
                return sbx_fail(err,
                                "%s: diff-id mismatch: the config says sha256:%s, the "
                                "uncompressed layer hashes to sha256:%s",
                                label, want_diff, res->diff_hex);
        return 0;
}

/* A layer already extracted (earlier in this import or by another one) is
 * not extracted again, but the image's copy is still read and hashed: the
 * blob against its digest, since the record names it; a legacy docker-save
 * `<id>/layer.tar`, whose name is no digest, against its diff-id, the one
 * check of its bytes (else a corrupt or forged archive would be accepted).
 * The store only ever holds layers whose diff-id was computed, not claimed. */
static int reuse_layer(struct importer *im, int fd, const char *want_blob, const char *want_diff,
                       const char *label, sbx_error **err)
{
        struct layer *prev = planned(im, want_diff), *l;
        struct rf_layer_result res;

        if (want_blob != NULL) {
                if (hash_fd(im, fd, res.blob_hex) < 0)
                        return sbx_fail_errno(err, errno, "%s: read", label);
                if (check_layer_digests(&res, want_blob, NULL, label, err) < 0)
                        return -1;
        } else if (rf_hash_layer_fd(&im->ic, fd, label, &res, err) < 0 ||
                   check_layer_digests(&res, NULL, want_diff, label, err) < 0) {
                return -1;
        }
        l = push_layer(im);
        snprintf(l->diff_hex, sizeof(l->diff_hex), "%s", want_diff);
        l->blob = xasprintf("sha256:%s", want_blob ? want_blob : want_diff);
        if (prev != NULL) {
                l->size = prev->size;
                l->files = prev->files;
        }
        return 0;
}

static int extract_layer(struct importer *im, int fd, const char *want_blob, const char *want_diff,
                         const char *label, sbx_error **err)
{
        cleanup_free char *work = xasprintf("layer-%zu", im->n_layers);
        cleanup_close int dfd = -1;
        struct rf_layer_result res;
        struct layer *l;

        if (mkdirat(im->workfd, work, 0755) < 0 ||
            (dfd = openat(im->workfd, work, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return sbx_fail_errno(err, errno, "%s: create work directory", label);
        if (rf_extract_layer_fd(&im->ic, fd, dfd, label, &res, err) < 0 ||
            check_layer_digests(&res, want_blob, want_diff, label, err) < 0)
                return -1;
        l = push_layer(im);
        memcpy(l->diff_hex, res.diff_hex, sizeof(l->diff_hex));
        l->blob = xasprintf("sha256:%s", res.blob_hex);
        l->size = res.size;
        l->files = res.files;
        l->work = steal_pointer(&work);
        hook("layer-extracted");
        return 0;
}

/* want_blob: hex the blob must hash to (NULL when its name is no digest);
 * want_diff: the config's diff-id (NULL for a plain tarball). */
static int add_layer(struct importer *im, int fd, const char *want_blob, const char *want_diff,
                     const char *label, sbx_error **err)
{
        if (im->n_layers >= SBX_IMPORT_MAX_LAYERS)
                return sbx_fail(err, "%s: more than %d layers (overlay's limit)", label,
                                SBX_IMPORT_MAX_LAYERS);
        if (want_diff != NULL &&
            (planned(im, want_diff) || faccessat(im->layersfd, want_diff, F_OK, 0) == 0))
                return reuse_layer(im, fd, want_blob, want_diff, label, err);
        return extract_layer(im, fd, want_blob, want_diff, label, err);
}

static json_t *diff_ids_of(json_t *config, size_t n_layers, const char *what, sbx_error **err)
{
        json_t *ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");

        if (!json_is_array(ids))
                return sbx_fail(err, "%s: no rootfs.diff_ids", what), NULL;
        if (json_array_size(ids) != n_layers)
                return sbx_fail(err, "%s: %zu diff_ids for %zu layers", what, json_array_size(ids),
                                n_layers),
                       NULL;
        if (n_layers == 0)
                return sbx_fail(err, "%s: the image has no layers", what), NULL;
        if (n_layers > SBX_IMPORT_MAX_LAYERS)
                return sbx_fail(err, "%s: %zu layers, more than overlay's limit of %d", what,
                                n_layers, SBX_IMPORT_MAX_LAYERS),
                       NULL;
        return ids;
}

static void keep_config(struct importer *im, json_t *config)
{
        json_t *c = json_object_get(config, "config");
        if (json_is_object(c))
                im->config = json_deep_copy(c);
}

/* ---- OCI image layout ---- */

static const char *host_arch(void)
{
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#else
        return "";
#endif
}

static bool desc_matches_name(json_t *desc, const char *canon)
{
        json_t *ann = json_object_get(desc, "annotations");
        const char *full = json_string_value(json_object_get(ann, "io.containerd.image.name"));
        const char *ref =
            json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
        const char *tag = strrchr(canon, ':');

        return (full && strcmp(full, canon) == 0) ||
               (ref && (strcmp(ref, canon) == 0 || (tag && strcmp(ref, tag + 1) == 0)));
}

static bool desc_is_host(json_t *desc)
{
        json_t *pl = json_object_get(desc, "platform");
        const char *os = json_string_value(json_object_get(pl, "os"));
        const char *arch = json_string_value(json_object_get(pl, "architecture"));
        return os && arch && strcmp(os, "linux") == 0 && strcmp(arch, host_arch()) == 0;
}

/* Flatten the index (following nested indexes, each verified) into a list
 * of image manifest descriptors. */
static int collect_manifests(int lfd, json_t *index, json_t *out, int depth, sbx_error **err)
{
        json_t *m = json_object_get(index, "manifests"), *d;
        size_t i;

        if (!json_is_array(m))
                return sbx_fail(err, "index: no manifests array");
        json_array_foreach(m, i, d)
        {
                const char *mt = json_string_value(json_object_get(d, "mediaType"));
                if (mt && (strstr(mt, "image.index") || strstr(mt, "manifest.list"))) {
                        const char *hex = desc_hex(d, "index", err);
                        json_t *sub;
                        int r;
                        if (hex == NULL)
                                return -1;
                        if (depth >= 4)
                                return sbx_fail(err,
                                                "index sha256:%.12s: indexes nested too "
                                                "deep",
                                                hex);
                        sub = read_json_desc(lfd, d, hex, "index", err);
                        if (sub == NULL)
                                return -1;
                        r = collect_manifests(lfd, sub, out, depth + 1, err);
                        json_decref(sub);
                        if (r < 0)
                                return -1;
                } else {
                        json_array_append(out, d);
                }
        }
        return 0;
}

static json_t *pick_one(json_t *cands, bool (*match)(json_t *, const char *), const char *arg)
{
        json_t *found = NULL, *d;
        size_t i, n = 0;

        json_array_foreach(cands, i, d)
        {
                if (match(d, arg)) {
                        found = d;
                        n++;
                }
        }
        return n == 1 ? found : NULL;
}

static bool host_match(json_t *d, const char *unused)
{
        (void)unused;
        return desc_is_host(d);
}

static json_t *select_manifest(struct importer *im, int lfd, const char *canon, sbx_error **err)
{
        json_t *index = read_json_blob(lfd, "index.json", NULL, "index.json", err);
        json_t *cands, *pick = NULL;

        (void)im;
        if (index == NULL)
                return NULL;
        cands = json_array();
        if (collect_manifests(lfd, index, cands, 0, err) < 0)
                goto out;
        if (json_array_size(cands) == 1)
                pick = json_array_get(cands, 0);
        if (pick == NULL && canon != NULL)
                pick = pick_one(cands, desc_matches_name, canon);
        if (pick == NULL)
                pick = pick_one(cands, host_match, NULL);
        if (pick == NULL)
                sbx_fail(err,
                         "index.json: %zu image manifests and none is chosen: pass "
                         "--name NAME:TAG matching its org.opencontainers.image.ref.name",
                         json_array_size(cands));
        else
                json_incref(pick);
out:
        json_decref(cands);
        json_decref(index);
        return pick;
}

static void name_from_desc(struct importer *im, json_t *desc, const char *stem)
{
        json_t *ann = json_object_get(desc, "annotations");
        const char *full = json_string_value(json_object_get(ann, "io.containerd.image.name"));
        const char *ref =
            json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));

        if (full != NULL)
                im->derived_name = xstrdup(full);
        else if (ref != NULL && (strchr(ref, ':') || strchr(ref, '/')))
                im->derived_name = xstrdup(ref);
        else if (ref != NULL)
                im->derived_name = xasprintf("%s:%s", stem, ref);
}

static int import_oci(struct importer *im, int lfd, const char *canon, const char *stem,
                      sbx_error **err)
{
        json_t *desc = select_manifest(im, lfd, canon, err), *manifest = NULL, *config = NULL;
        json_t *layers, *ids, *l;
        const char *mhex, *chex;
        cleanup_free char *mwhat = NULL, *cwhat = NULL;
        size_t i;
        int ret = -1;

        if (desc == NULL || (mhex = desc_hex(desc, "manifest", err)) == NULL)
                goto out;
        mwhat = xasprintf("manifest sha256:%.12s", mhex);
        if ((manifest = read_json_desc(lfd, desc, mhex, mwhat, err)) == NULL)
                goto out;
        if ((chex = desc_hex(json_object_get(manifest, "config"), mwhat, err)) == NULL)
                goto out;
        cwhat = xasprintf("config sha256:%.12s", chex);
        if ((config = read_json_desc(lfd, json_object_get(manifest, "config"), chex, cwhat, err)) ==
            NULL)
                goto out;
        layers = json_object_get(manifest, "layers");
        if (!json_is_array(layers)) {
                sbx_fail(err, "%s: no layers array", mwhat);
                goto out;
        }
        if ((ids = diff_ids_of(config, json_array_size(layers), cwhat, err)) == NULL)
                goto out;
        json_array_foreach(layers, i, l)
        {
                json_int_t sz = json_integer_value(json_object_get(l, "size"));
                im->ic.prog_total += sz > 0 ? (uint64_t)sz : 0;
        }
        json_array_foreach(layers, i, l)
        {
                const char *bhex = desc_hex(l, mwhat, err);
                const char *dhex = rf_digest_hex(json_string_value(json_array_get(ids, i)));
                cleanup_free char *label = NULL, *bpath = NULL;
                cleanup_close int fd = -1;

                if (bhex == NULL)
                        goto out;
                label = xasprintf("layer sha256:%.12s", bhex);
                if (dhex == NULL) {
                        sbx_fail(err, "%s: diff_ids[%zu] is not sha256:<64 hex digits>", cwhat, i);
                        goto out;
                }
                bpath = blob_path(bhex);
                if ((fd = open_beneath_file(lfd, bpath)) < 0) {
                        sbx_fail_errno(err, errno, "%s: blob `%s`", label, bpath);
                        goto out;
                }
                if (add_layer(im, fd, bhex, dhex, label, err) < 0)
                        goto out;
        }
        im->kind = "oci";
        im->digest = xasprintf("sha256:%s", mhex);
        im->manifest_digest = xstrdup(im->digest);
        im->config_digest = xasprintf("sha256:%s", chex);
        keep_config(im, config);
        name_from_desc(im, desc, stem);
        ret = 0;
out:
        json_decref(desc);
        json_decref(manifest);
        json_decref(config);
        return ret;
}

/* ---- docker save ---- */

/* "<hex>.json" (docker < 25) or "blobs/sha256/<hex>" (docker >= 25). */
static bool hex_of_member(const char *path, char hex[65])
{
        size_t n = strlen(path);

        if (n == 69 && strcmp(path + 64, ".json") == 0 && rf_is_hex(path, 64)) {
                snprintf(hex, 65, "%.64s", path);
                return true;
        }
        if (strncmp(path, "blobs/sha256/", 13) == 0 && strlen(path + 13) == 64 &&
            rf_is_hex(path + 13, 64)) {
                snprintf(hex, 65, "%s", path + 13);
                return true;
        }
        return false;
}

static bool tag_match(json_t *entry, const char *canon)
{
        json_t *t;
        size_t i;

        json_array_foreach(json_object_get(entry, "RepoTags"), i, t)
        {
                if (json_is_string(t) && strcmp(json_string_value(t), canon) == 0)
                        return true;
        }
        return false;
}

static json_t *select_docker(json_t *manifest, const char *canon, sbx_error **err)
{
        json_t *pick = NULL;

        if (!json_is_array(manifest) || json_array_size(manifest) == 0)
                return sbx_fail(err, "manifest.json: not a non-empty array"), NULL;
        if (json_array_size(manifest) == 1)
                pick = json_array_get(manifest, 0);
        else if (canon != NULL)
                pick = pick_one(manifest, tag_match, canon);
        if (pick == NULL)
                return sbx_fail(err,
                                "manifest.json: %zu images and none is chosen: pass "
                                "--name NAME:TAG matching one of their RepoTags",
                                json_array_size(manifest)),
                       NULL;
        return pick;
}

static int import_docker(struct importer *im, int lfd, const char *canon, sbx_error **err)
{
        json_t *manifest = read_json_blob(lfd, "manifest.json", NULL, "manifest.json", err);
        json_t *entry, *config = NULL, *layers, *ids, *l;
        const char *cpath;
        cleanup_free char *cwhat = NULL;
        char chex[65];
        size_t i;
        int ret = -1;

        if (manifest == NULL || (entry = select_docker(manifest, canon, err)) == NULL)
                goto out;
        cpath = json_string_value(json_object_get(entry, "Config"));
        if (cpath == NULL || !hex_of_member(cpath, chex)) {
                sbx_fail(err, "manifest.json: config `%s` is not named by its digest",
                         cpath ? cpath : "(none)");
                goto out;
        }
        cwhat = xasprintf("config sha256:%.12s", chex);
        if ((config = read_json_blob(lfd, cpath, chex, cwhat, err)) == NULL)
                goto out;
        layers = json_object_get(entry, "Layers");
        if (!json_is_array(layers)) {
                sbx_fail(err, "manifest.json: no Layers array");
                goto out;
        }
        if ((ids = diff_ids_of(config, json_array_size(layers), cwhat, err)) == NULL)
                goto out;
        json_array_foreach(layers, i, l)
        {
                const char *path = json_string_value(l);
                const char *dhex = rf_digest_hex(json_string_value(json_array_get(ids, i)));
                cleanup_free char *label = NULL;
                cleanup_close int fd = -1;
                char norm[PATH_MAX], bhex[65];
                struct stat sb;
                bool named;

                if (path == NULL || rf_normalize(path, norm, sizeof(norm), PATH_MAX - 1)) {
                        sbx_fail(err, "manifest.json: layer `%s`: not a path inside the archive",
                                 path ? path : "(none)");
                        goto out;
                }
                if (dhex == NULL) {
                        sbx_fail(err, "%s: diff_ids[%zu] is not sha256:<64 hex digits>", cwhat, i);
                        goto out;
                }
                named = hex_of_member(norm, bhex);
                label = xasprintf("layer sha256:%.12s (`%s`)", named ? bhex : dhex, norm);
                if ((fd = open_beneath_file(lfd, norm)) < 0) {
                        sbx_fail_errno(err, errno, "%s", label);
                        goto out;
                }
                if (fstat(fd, &sb) == 0)
                        im->ic.prog_total += (uint64_t)sb.st_size;
                if (add_layer(im, fd, named ? bhex : NULL, dhex, label, err) < 0)
                        goto out;
        }
        im->kind = "docker";
        im->digest = xasprintf("sha256:%s", chex);
        im->config_digest = xstrdup(im->digest);
        keep_config(im, config);
        {
                const char *tag =
                    json_string_value(json_array_get(json_object_get(entry, "RepoTags"), 0));
                if (tag != NULL)
                        im->derived_name = xstrdup(tag);
        }
        ret = 0;
out:
        json_decref(manifest);
        json_decref(config);
        return ret;
}

static int import_layout(struct importer *im, int lfd, const char *canon, const char *stem,
                         sbx_error **err)
{
        if (faccessat(lfd, "oci-layout", F_OK, 0) == 0 &&
            faccessat(lfd, "index.json", F_OK, 0) == 0)
                return import_oci(im, lfd, canon, stem, err);
        if (faccessat(lfd, "manifest.json", F_OK, 0) == 0)
                return import_docker(im, lfd, canon, err);
        return sbx_fail(err, "neither an OCI image layout (oci-layout, index.json) nor a "
                             "docker-save archive (manifest.json)");
}

/* ---- archives: spool an image archive, or extract a rootfs tarball ---- */

struct hash_reader {
        struct importer *im;
        int fd;
        sha256_ctx h;
        uint8_t *buf;
};

static la_ssize_t hash_read(struct archive *a, void *cd, const void **out)
{
        struct hash_reader *r = cd;
        ssize_t n = TEMP_FAILURE_RETRY(read(r->fd, r->buf, HASH_BUF));

        if (n < 0) {
                archive_set_error(a, errno, "read: %s", strerror(errno));
                return -1;
        }
        sha256_update(&r->h, r->buf, (size_t)n);
        rf_progress_add(&r->im->ic, (uint64_t)n);
        *out = r->buf;
        return n;
}

static int spool_member(struct importer *im, struct archive *a, int spfd, const char *path,
                        sbx_error **err)
{
        cleanup_close int fd = -1;
        const char *slash = strrchr(path, '/');
        const void *buf;
        size_t size;
        la_int64_t off;
        int r;

        if (slash != NULL) {
                /* Shapes are fixed (rf_image_member): at most "blobs/sha256". */
                cleanup_free char *dir = xstrndup(path, (size_t)(slash - path));
                char *s = strchr(dir, '/');
                if (s) {
                        *s = '\0';
                        mkdirat(spfd, dir, 0755);
                        *s = '/';
                }
                mkdirat(spfd, dir, 0755);
        }
        fd = openat(spfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return sbx_fail_errno(err, errno, "archive member `%s`", path);
        while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
                im->ic.bytes += size;
                if (im->ic.bytes > im->ic.opts->max_size)
                        return sbx_fail(err,
                                        "archive member `%s`: the import exceeds %llu "
                                        "bytes (--max-size)",
                                        path, (unsigned long long)im->ic.opts->max_size);
                if (TEMP_FAILURE_RETRY(pwrite(fd, buf, size, off)) != (ssize_t)size)
                        return sbx_fail_errno(err, errno, "archive member `%s`: write", path);
        }
        if (r != ARCHIVE_EOF)
                return sbx_fail(err, "archive member `%s`: %s", path, archive_error_string(a));
        return 0;
}

enum scan { SCAN_ERROR = -1, SCAN_IMAGE, SCAN_ROOTFS };

/* One pass over the archive: members of an image layout are spooled into
 * spfd; the first entry that can not belong to one makes it a rootfs. */
static enum scan scan_archive(struct importer *im, int fd, int spfd, char src_hex[65],
                              sbx_error **err)
{
        cleanup_free uint8_t *buf = xmalloc(HASH_BUF);
        struct hash_reader hr = {.im = im, .fd = fd, .buf = buf};
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        enum scan ret = SCAN_ERROR;
        size_t members = 0;
        int r;

        sha256_init(&hr.h);
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        if (archive_read_open(a, &hr, NULL, hash_read, NULL) != ARCHIVE_OK) {
                sbx_fail(err, "%s", archive_error_string(a));
                goto out;
        }
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
                char norm[PATH_MAX];
                const char *p = archive_entry_pathname(e);
                mode_t t = archive_entry_filetype(e);

                if (p == NULL || rf_normalize(p, norm, sizeof(norm), PATH_MAX - 1) ||
                    !rf_image_member(norm, t == AE_IFDIR)) {
                        ret = SCAN_ROOTFS;
                        goto out;
                }
                if (t != AE_IFREG || archive_entry_hardlink(e) != NULL)
                        continue; /* directories, docker's legacy symlinks */
                if (spool_member(im, a, spfd, norm, err) < 0)
                        goto out;
                members++;
        }
        if (r != ARCHIVE_EOF) {
                sbx_fail(err, "%s", archive_error_string(a));
                goto out;
        }
        if (members == 0) {
                sbx_fail(err, "the archive holds no files");
                goto out;
        }
        for (;;) { /* hash what follows the end-of-archive marker too */
                const void *p;
                la_ssize_t n = hash_read(a, &hr, &p);
                if (n < 0) {
                        sbx_fail(err, "%s", archive_error_string(a));
                        goto out;
                }
                if (n == 0)
                        break;
        }
        sha256_final_hex(&hr.h, src_hex);
        ret = SCAN_IMAGE;
out:
        archive_read_free(a);
        return ret;
}

static char *name_stem(const char *src)
{
        static const char *const exts[] = {".tar.gz", ".tar.zst", ".tar.xz", ".tar.bz2", ".tgz",
                                           ".tzst",   ".txz",     ".tar",    ".oci"};
        cleanup_free char *copy = xstrdup(src);
        char *base = xstrdup(basename(copy));
        size_t n = strlen(base);

        /* "app.oci.tar.gz" -> "app" */
        for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
                size_t m = strlen(exts[i]);
                if (n > m && strcmp(base + n - m, exts[i]) == 0) {
                        n -= m;
                        base[n] = '\0';
                        i = (size_t)-1;
                }
        }
        for (char *p = base; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        return base;
}

static int import_file(struct importer *im, int fd, const char *canon, const char *stem,
                       sbx_error **err)
{
        cleanup_close int spfd = -1;
        struct stat sb;
        char src_hex[65];
        enum scan s;

        if (fstat(fd, &sb) == 0)
                im->ic.prog_total = (uint64_t)sb.st_size;
        if (mkdirat(im->workfd, "spool", 0755) < 0 ||
            (spfd = openat(im->workfd, "spool", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return sbx_fail_errno(err, errno, "create work directory");
        s = scan_archive(im, fd, spfd, src_hex, err);
        if (s == SCAN_ERROR)
                return -1;
        if (s == SCAN_IMAGE) {
                im->source_sha256 = xasprintf("sha256:%s", src_hex);
                return import_layout(im, spfd, canon, stem, err);
        }
        /* A plain rootfs: start over and extract it as the single layer. */
        im->ic.bytes = 0;
        im->ic.prog_done = 0;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return sbx_fail_errno(err, errno, "rewind");
        if (add_layer(im, fd, NULL, NULL, "rootfs tarball", err) < 0)
                return -1;
        im->kind = "tarball";
        im->digest = xstrdup(im->layers[0].blob);
        im->source_sha256 = xstrdup(im->layers[0].blob);
        return 0;
}

/* ---- commit ---- */

static int commit_layers(struct importer *im, sbx_error **err)
{
        /* One syncfs instead of an fsync per file: the layers must be on disk
         * before a name makes them visible. */
        if (!im->ic.opts->no_sync && syncfs(im->workfd) < 0)
                return sbx_fail_errno(err, errno, "image store: syncfs");
        for (size_t i = 0; i < im->n_layers; i++) {
                struct layer *l = &im->layers[i];
                if (l->work == NULL)
                        continue;
                if (renameat2(im->workfd, l->work, im->layersfd, l->diff_hex, RENAME_NOREPLACE) ==
                    0)
                        continue;
                /* Another import committed the same layer first: same content. */
                if (errno != EEXIST && errno != ENOTEMPTY)
                        return sbx_fail_errno(err, errno, "image store: commit layer sha256:%s",
                                              l->diff_hex);
        }
        fsync(im->layersfd);
        hook("layers-committed");
        return 0;
}

static char *record_json(struct importer *im)
{
        json_t *r = json_object(), *src = json_object(), *layers = json_array(), *dropped;
        char when[32];
        time_t now = time(NULL);
        struct tm tm;
        char *s, *withnl;

        gmtime_r(&now, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_object_set_new(r, "schema", json_integer(1));
        json_object_set_new(r, "digest", json_string(im->digest));
        json_object_set_new(r, "kind", json_string(im->kind));
        json_object_set_new(src, "path", json_string(im->source));
        json_object_set_new(src, "sha256",
                            im->source_sha256 ? json_string(im->source_sha256) : json_null());
        json_object_set_new(r, "source", src);
        json_object_set_new(r, "manifest_digest",
                            im->manifest_digest ? json_string(im->manifest_digest) : json_null());
        json_object_set_new(r, "config_digest",
                            im->config_digest ? json_string(im->config_digest) : json_null());
        json_object_set_new(r, "imported", json_string(when));
        for (size_t i = 0; i < im->n_layers; i++) {
                json_t *l = json_object();
                char *d = xasprintf("sha256:%s", im->layers[i].diff_hex);
                json_object_set_new(l, "diff_id", json_string(d));
                json_object_set_new(l, "blob", json_string(im->layers[i].blob));
                json_object_set_new(l, "size", json_integer((json_int_t)im->layers[i].size));
                json_object_set_new(l, "files", json_integer((json_int_t)im->layers[i].files));
                json_array_append_new(layers, l);
                free(d);
        }
        json_object_set_new(r, "layers", layers);
        json_object_set_new(r, "config", im->config ? json_incref(im->config) : json_null());
        dropped = json_pack("{s:I,s:I,s:I}", "devices", (json_int_t)im->ic.dropped_devices, "setid",
                            (json_int_t)im->ic.dropped_setid, "xattrs",
                            (json_int_t)im->ic.dropped_xattrs);
        json_object_set_new(r, "dropped", dropped);
        s = json_dumps(r, JSON_INDENT(2) | JSON_SORT_KEYS);
        withnl = xasprintf("%s\n", s);
        free(s);
        json_decref(r);
        return withnl;
}

static void importer_free(struct importer *im)
{
        for (size_t i = 0; i < im->n_layers; i++) {
                free(im->layers[i].blob);
                free(im->layers[i].work);
        }
        free(im->layers);
        free(im->source);
        free(im->source_sha256);
        free(im->manifest_digest);
        free(im->config_digest);
        free(im->digest);
        free(im->derived_name);
        json_decref(im->config);
        if (im->workfd >= 0)
                close(im->workfd);
        if (im->layersfd >= 0)
                close(im->layersfd);
}

static int run_import(struct importer *im, const char *src, const char *canon, sbx_error **err)
{
        cleanup_close int fd = open(src, O_RDONLY | O_CLOEXEC);
        cleanup_free char *stem = name_stem(src);
        cleanup_free char *rec = NULL, *name = NULL;
        const char *reason = NULL;
        struct stat sb;
        char *real;

        if (fd < 0 || fstat(fd, &sb) < 0)
                return sbx_fail_errno(err, errno, "open");
        real = realpath(src, NULL);
        im->source = real ? real : xstrdup(src);
        if (S_ISDIR(sb.st_mode)) {
                if (import_layout(im, fd, canon, stem, err) < 0)
                        return -1;
        } else if (!S_ISREG(sb.st_mode)) {
                return sbx_fail(err, "not a regular file or directory");
        } else if (import_file(im, fd, canon, stem, err) < 0) {
                return -1;
        }
        rf_progress_end(&im->ic);
        if (canon == NULL) {
                cleanup_free char *fallback = xasprintf("%s:latest", stem);
                name = rf_canonical_ref(im->derived_name ? im->derived_name : fallback, &reason);
                if (name == NULL)
                        return sbx_fail(err,
                                        "no valid image name from `%s` (%s): give one "
                                        "with --name NAME[:TAG]",
                                        im->derived_name ? im->derived_name : fallback, reason);
        } else {
                name = xstrdup(canon);
        }
        if (commit_layers(im, err) < 0)
                return -1;
        rec = record_json(im);
        if (rf_store_commit_image(im->st, im->digest, rec, name, err) < 0)
                return -1;
        free(im->derived_name);
        im->derived_name = steal_pointer(&name);
        return 0;
}

int sbx_import(sbx_store *st, const char *src, const struct sbx_import_opts *opts, char **name_out,
               char **digest_out, sbx_error **err)
{
        struct importer im = {.st = st, .workfd = -1, .layersfd = -1};
        cleanup_free char *canon = NULL, *work = NULL;
        cleanup_close int tmpfd = -1;
        const char *reason = NULL;
        int ret = -1;

        im.ic.opts = opts;
        im.ic.is_root = geteuid() == 0;
        if (opts->name != NULL && (canon = rf_canonical_ref(opts->name, &reason)) == NULL)
                return sbx_fail(err, "image name `%s`: %s", opts->name, reason);
        if (rf_store_lock(st, LOCK_SH, err) < 0)
                return -1;
        if ((tmpfd = rf_store_subdir(st, "tmp", err)) < 0 ||
            (im.layersfd = rf_store_subdir(st, "layers/sha256", err)) < 0 ||
            (im.workfd = rf_store_mktemp(st, &work, err)) < 0)
                goto out;
        ret = run_import(&im, src, canon, err);
        if (ret < 0)
                sbx_error_prefix(err, "import `%s`", src);
        else {
                if (name_out)
                        *name_out = xstrdup(im.derived_name);
                if (digest_out)
                        *digest_out = xstrdup(im.digest);
        }
out:
        rf_progress_end(&im.ic);
        if (work != NULL)
                rf_rm_rf_at(tmpfd, work);
        importer_free(&im);
        flock(st->lockfd, LOCK_UN);
        return ret;
}
