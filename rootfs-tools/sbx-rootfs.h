/* sbx-rootfs.h - root filesystems without Docker: a verified,
 * content-addressed image store, safe layer extraction, image lookup.
 *
 * Lifecycle:
 *   sbx_store *st;
 *   sbx_store_open(NULL, &st, &err);        NULL: /var/lib/sbx as root,
 *                                           $XDG_DATA_HOME/sbx (~/.local/share/sbx) otherwise
 *   sbx_store_hold(st, &err);               before resolving, until the layers are unused
 *   sbx_store_resolve(st, "alpine:3.20", &img, &err);   for `sbx run --rootfs NAME[:TAG]`
 *   ... mount img->layers as overlay lowerdirs ...
 *   sbx_image_free(img);
 *   sbx_store_close(st);
 *
 * Importing (libarchive) lives in the sbx-import helper binary so that the
 * `sbx run` path does not load libarchive; see docs/architecture.md.
 */
#ifndef SBX_ROOTFS_H
#define SBX_ROOTFS_H

#include <stddef.h>

#include "error.h"

typedef struct sbx_store sbx_store; /* opaque */

struct sbx_image {
        char *name;    /* "alpine:3.20" */
        char *digest;  /* "sha256:<hex>": the image's manifest (or rootfs tarball) digest */
        char **layers; /* absolute directories, TOP layer first (overlay lowerdir order) */
        size_t n_layers;
};

int sbx_store_open(const char *root, sbx_store **out, sbx_error **err);
void sbx_store_close(sbx_store *st);
const char *sbx_store_root(const sbx_store *st);

/* Look up NAME[:TAG] (":latest" when no tag) or "sha256:<hex>" (or a unique
 * prefix of at least 12 hex digits).  Fails with a clear message when absent. */
int sbx_store_resolve(sbx_store *st, const char *ref, struct sbx_image **out, sbx_error **err);
/* Keep the store's layers from being pruned (by gc, or rm's reclaim) until
 * sbx_store_close: `sbx run` holds it for the life of a sandbox whose lower
 * layers they are; take it before sbx_store_resolve, or a gc between the two
 * may remove what resolve found.  The shared lock imports take; gc needs it
 * exclusive. */
int sbx_store_hold(sbx_store *st, sbx_error **err);
void sbx_image_free(struct sbx_image *img);

/* ---- listing and managing the store (additions; linked into `sbx`) ---- */

#include <stdint.h>

struct sbx_layer_info {
        char *diff_id;  /* "sha256:<hex>" of the uncompressed layer tar */
        char *blob;     /* digest of the blob it came from (may equal diff_id) */
        char *dir;      /* absolute directory in the store */
        uint64_t size;  /* bytes of file content */
        uint64_t files; /* entries extracted */
};

struct sbx_image_info {
        char *digest;                  /* as in struct sbx_image */
        char **names;                  /* NULL-terminated "name:tag" list, sorted */
        char *kind;                    /* "oci", "docker" or "tarball" */
        char *source;                  /* absolute path of what was imported */
        char *source_sha256;           /* "sha256:<hex>" of the source file; NULL for a directory */
        char *manifest_digest;         /* NULL for docker archives and tarballs */
        char *config_digest;           /* NULL for tarballs */
        char *imported;                /* UTC time, RFC 3339 */
        uint64_t size;                 /* sum of the layer sizes */
        struct sbx_layer_info *layers; /* BOTTOM layer first (manifest order) */
        size_t n_layers;
        char *json; /* the whole record, indented, with "names" added */
};

/* Named images in the store, sorted by first name.  *out is an array of n
 * pointers; free each with sbx_image_info_free and the array with free(). */
int sbx_store_list(sbx_store *st, struct sbx_image_info ***out, size_t *n, sbx_error **err);
int sbx_store_inspect(sbx_store *st, const char *ref, struct sbx_image_info **out, sbx_error **err);
void sbx_image_info_free(struct sbx_image_info *info);

/* Remove a name; by digest, remove the image and all its names.  An image
 * left without names is deleted and its unshared layers are reclaimed at
 * once when no import is running (else by sbx_store_gc).  *deleted (may be
 * NULL) receives the digest of a deleted image, or NULL. */
int sbx_store_remove(sbx_store *st, const char *ref, char **deleted, sbx_error **err);
/* Give the image that SRC resolves to the name DST (moved if DST existed). */
int sbx_store_tag(sbx_store *st, const char *src, const char *dst, sbx_error **err);

struct sbx_gc_stats {
        size_t tmp_removed;    /* debris of failed or killed imports */
        size_t images_removed; /* records without a name */
        size_t layers_removed; /* layers no image uses */
};
/* Reclaim debris and unreferenced layers.  Fails when an import is running. */
int sbx_store_gc(sbx_store *st, struct sbx_gc_stats *stats, sbx_error **err);

/* ---- import (additions; implemented in rootfs-tools/archive*.c, linked
 * only into the sbx-import helper because it needs libarchive) ---- */

#include <stdbool.h>

#define SBX_IMPORT_MAX_SIZE_DEFAULT (16ULL << 30) /* bytes extracted per import */
#define SBX_IMPORT_MAX_FILES_DEFAULT 1000000ULL   /* entries per import */
#define SBX_IMPORT_MAX_PATH_DEFAULT 4095          /* bytes per entry path */
#define SBX_IMPORT_MAX_LAYERS 500                 /* overlay's lower layer limit */

struct sbx_import_opts {
        const char *name;  /* NAME[:TAG], or NULL to derive one from the source */
        bool keep_devices; /* create device nodes instead of dropping them */
        bool keep_setid;   /* keep setuid/setgid bits and security.capability */
        bool progress;     /* draw a progress bar on stderr */
        bool no_sync;      /* skip the syncfs before commit (throwaway stores) */
        uint64_t max_size;
        uint64_t max_files;
        size_t max_path;
};

void sbx_import_opts_init(struct sbx_import_opts *opts);
/* Import FILE or DIR (OCI layout, docker-save archive, plain rootfs tarball)
 * into the store, verified; on success *name_out and *digest_out (may be
 * NULL) receive the image's name and digest.  On failure nothing is visible
 * in the store (debris under tmp/ is removed, or by sbx_store_gc). */
int sbx_import(sbx_store *st, const char *src, const struct sbx_import_opts *opts, char **name_out,
               char **digest_out, sbx_error **err);

#endif
