/* pathcheck.c - pure checks on archive entries: path validation, hardlink
 * targets, OCI whiteout mapping, image references.  No I/O here, so every
 * attack is a row in tests/unit/test_rootfs_path.c.
 */
#include "rootfs-internal.h"
#include "util.h"

#include <string.h>

enum norm_err { NORM_OK, NORM_ABSOLUTE, NORM_DOTDOT, NORM_NAME_LONG, NORM_PATH_LONG };

static enum norm_err normalize(const char *in, char *out, size_t outsz, size_t max_path)
{
        size_t len = 0;
        const char *p = in;

        if (in[0] == '/')
                return NORM_ABSOLUTE;
        if (strlen(in) > max_path || strlen(in) >= outsz)
                return NORM_PATH_LONG;
        while (*p) {
                const char *end = strchrnul(p, '/');
                size_t n = (size_t)(end - p);

                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return NORM_DOTDOT;
                if (n > RF_NAME_MAX)
                        return NORM_NAME_LONG;
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        if (len > 0)
                                out[len++] = '/';
                        memcpy(out + len, p, n);
                        len += n;
                }
                p = *end ? end + 1 : end;
        }
        out[len] = '\0';
        return NORM_OK;
}

static const char *const path_reasons[] = {
    [NORM_ABSOLUTE] = "absolute path",
    [NORM_DOTDOT] = "`..` component: path escapes the layer",
    [NORM_NAME_LONG] = "path component longer than 255 bytes",
    [NORM_PATH_LONG] = "path longer than the limit (--max-path)",
};

static const char *const link_reasons[] = {
    [NORM_ABSOLUTE] = "hardlink target is an absolute path: it points outside the layer",
    [NORM_DOTDOT] = "hardlink target has a `..` component: it points outside the layer",
    [NORM_NAME_LONG] = "hardlink target component longer than 255 bytes",
    [NORM_PATH_LONG] = "hardlink target longer than the limit (--max-path)",
};

const char *rf_normalize(const char *in, char *out, size_t outsz, size_t max_path)
{
        enum norm_err e = normalize(in, out, outsz, max_path);
        return e == NORM_OK ? NULL : path_reasons[e];
}

/* Components are at most RF_NAME_MAX bytes (checked by normalize). */
static void split(struct rf_entry *e)
{
        char *slash = strrchr(e->path, '/');
        const char *base = slash ? slash + 1 : e->path;
        size_t n = slash ? (size_t)(slash - e->path) : 0;

        memcpy(e->dir, e->path, n);
        e->dir[n] = '\0';
        memcpy(e->name, base, strlen(base) + 1);
}

/* `.wh.NAME` hides NAME of lower layers; `.wh..wh..opq` hides all of the
 * directory's lower content; other `.wh..wh.` names are aufs bookkeeping. */
static const char *map_whiteout(struct rf_entry *e, enum rf_type type)
{
        const char *target;

        if (strncmp(e->name, ".wh.", 4) != 0)
                return NULL;
        if (type == RF_DIR)
                return "whiteout entry is a directory";
        if (strcmp(e->name, ".wh..wh..opq") == 0) {
                e->action = RF_OPAQUE;
                return NULL;
        }
        if (strncmp(e->name, ".wh..wh.", 8) == 0) {
                e->action = RF_IGNORE;
                return NULL;
        }
        target = e->name + 4;
        if (target[0] == '\0' || strcmp(target, ".") == 0 || strcmp(target, "..") == 0)
                return "whiteout names no file";
        memmove(e->name, target, strlen(target) + 1);
        e->action = RF_WHITEOUT;
        return NULL;
}

const char *rf_check_entry(const char *path, enum rf_type type, const char *link, size_t max_path,
                           struct rf_entry *out)
{
        enum norm_err ne;

        memset(out, 0, sizeof(*out));
        out->action = RF_CREATE;
        if (path == NULL || path[0] == '\0')
                return "empty path";
        ne = normalize(path, out->path, sizeof(out->path), max_path);
        if (ne != NORM_OK)
                return path_reasons[ne];
        if (out->path[0] == '\0') {
                if (type != RF_DIR)
                        return "entry names the layer's top directory but is not a directory";
                out->action = RF_ROOT;
                return NULL;
        }
        split(out);
        if (type == RF_OTHER)
                return "unsupported entry type";
        if (type == RF_HARDLINK) {
                if (link == NULL || link[0] == '\0')
                        return "hardlink without a target";
                ne = normalize(link, out->link, sizeof(out->link), max_path);
                if (ne != NORM_OK)
                        return link_reasons[ne];
                if (out->link[0] == '\0')
                        return "hardlink target is the layer's top directory";
                if (strcmp(out->link, out->path) == 0)
                        return "hardlink to itself";
        }
        return map_whiteout(out, type);
}

bool rf_is_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

const char *rf_digest_hex(const char *digest)
{
        if (digest == NULL || strncmp(digest, "sha256:", 7) != 0)
                return NULL;
        if (strlen(digest + 7) != 64 || !rf_is_hex(digest + 7, 64))
                return NULL;
        return digest + 7;
}

static bool ref_char_ok(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-' || c == '/' || c == ':';
}

/* A tag follows the last ':' that comes after the last '/', so that
 * "registry:5000/app" has no tag and "registry:5000/app:1" has tag "1". */
char *rf_canonical_ref(const char *ref, const char **reason)
{
        const char *slash, *colon;
        size_t n;

        if (ref == NULL || ref[0] == '\0') {
                *reason = "empty image name";
                return NULL;
        }
        n = strlen(ref);
        if (n > 255) {
                *reason = "image name longer than 255 bytes";
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                if (!ref_char_ok(ref[i])) {
                        *reason = "image name may only hold letters, digits and . _ - / :";
                        return NULL;
                }
        if (strncmp(ref, "sha256:", 7) == 0 || ref[0] == '/' || ref[0] == '.' || ref[0] == ':' ||
            ref[0] == '-') {
                *reason = "image name must start with a letter or digit";
                return NULL;
        }
        slash = strrchr(ref, '/');
        colon = strrchr(ref, ':');
        if (colon != NULL && (slash == NULL || colon > slash)) {
                if (colon[1] == '\0' || colon == ref || colon[-1] == '/') {
                        *reason = "empty name or tag";
                        return NULL;
                }
                return xstrdup(ref);
        }
        if (ref[n - 1] == '/') {
                *reason = "image name ends with `/`";
                return NULL;
        }
        return xasprintf("%s:latest", ref);
}

static bool is_hex64(const char *s, size_t n)
{
        return n == 64 && rf_is_hex(s, 64);
}

/* Members of an OCI image layout or a docker-save archive, by exact shape;
 * anything else in an archive makes it a plain rootfs tarball. */
bool rf_image_member(const char *p, bool is_dir)
{
        static const char *const top[] = {"oci-layout", "index.json", "manifest.json",
                                          "repositories"};
        static const char *const legacy[] = {"layer.tar", "json", "VERSION"};
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);

        if (is_dir)
                return p[0] == '\0' || strcmp(p, "blobs") == 0 || strcmp(p, "blobs/sha256") == 0 ||
                       (slash == NULL && is_hex64(p, n));
        if (slash == NULL) {
                for (size_t i = 0; i < ARRAY_SIZE(top); i++)
                        if (strcmp(p, top[i]) == 0)
                                return true;
                return n == 69 && is_hex64(p, 64) && strcmp(p + 64, ".json") == 0;
        }
        if (strncmp(p, "blobs/sha256/", 13) == 0)
                return is_hex64(p + 13, strlen(p + 13));
        if (!is_hex64(p, n))
                return false;
        for (size_t i = 0; i < ARRAY_SIZE(legacy); i++)
                if (strcmp(slash + 1, legacy[i]) == 0)
                        return true;
        return false;
}
