/* rootfs-internal.h - internals of rootfs-tools shared between its files and
 * the unit tests.  Not part of the public API (sbx-rootfs.h is).
 */
#ifndef SBX_ROOTFS_INTERNAL_H
#define SBX_ROOTFS_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "error.h"
#include "sbx-rootfs.h"

/* ---- pure: entry path validation and whiteout mapping (pathcheck.c) ---- */

enum rf_type {
        RF_DIR,
        RF_FILE,
        RF_SYMLINK,
        RF_HARDLINK,
        RF_CHAR,
        RF_BLOCK,
        RF_FIFO,
        RF_SOCKET,
        RF_OTHER,
};

enum rf_action {
        RF_CREATE,   /* create `name` of the entry's type in `dir` */
        RF_ROOT,     /* the layer's top directory itself ("./"): nothing to create */
        RF_WHITEOUT, /* `.wh.NAME`: make an overlay whiteout `name` in `dir` */
        RF_OPAQUE,   /* `.wh..wh..opq`: mark `dir` opaque */
        RF_IGNORE,   /* other `.wh..wh.*` bookkeeping entries (aufs): skipped */
};

#define RF_NAME_MAX 255

struct rf_entry {
        enum rf_action action;
        char path[PATH_MAX]; /* normalised: no "./", "//", trailing "/" */
        char dir[PATH_MAX];  /* parent, "" for the layer top */
        char name[RF_NAME_MAX + 1];
        char link[PATH_MAX]; /* hardlink target, normalised; "" otherwise */
};

/* Normalise a path inside a layer: drop leading "/"-less "./", empty and "."
 * components.  Returns NULL (ok) or a static reason. */
const char *rf_normalize(const char *in, char *out, size_t outsz, size_t max_path);

/* Validate one archive entry and decide what extracting it means.
 * `link` is the hardlink target for RF_HARDLINK (ignored otherwise; symlink
 * targets are never resolved on the host, so any text is allowed).
 * Returns NULL when the entry may be extracted, else a static reason. */
const char *rf_check_entry(const char *path, enum rf_type type, const char *link, size_t max_path,
                           struct rf_entry *out);

/* Is the normalised path a member of an OCI layout / docker-save archive? */
bool rf_image_member(const char *path, bool is_dir);

/* ---- helpers shared by store.c and the importer ---- */

bool rf_is_hex(const char *s, size_t n);
/* "sha256:<64 hex>" -> pointer to the hex part, or NULL. */
const char *rf_digest_hex(const char *digest);
/* Split NAME[:TAG] into a canonical "name:tag" (tag "latest" when absent).
 * Returns NULL with *reason on an invalid reference. */
char *rf_canonical_ref(const char *ref, const char **reason);
/* Remove a directory tree below dirfd (no symlinks followed). */
int rf_rm_rf_at(int dirfd, const char *name);

/* Store internals. */
struct sbx_store {
        char *root; /* absolute */
        int rootfd; /* -1 when the store does not exist yet */
        int lockfd; /* shared while importing, exclusive for gc */
};

/* Create the store's directories (import, tag, gc need them). */
int rf_store_prepare(sbx_store *st, sbx_error **err);
/* flock the store lock: LOCK_SH while importing, LOCK_EX (non-blocking) for gc. */
int rf_store_lock(sbx_store *st, int how, sbx_error **err);
/* Write images/sha256/<hex>.json and point name:tag (canonical) at it, both
 * atomically and under refs.lock, so that rm can not race an import. */
int rf_store_commit_image(sbx_store *st, const char *digest, const char *json, const char *canon,
                          sbx_error **err);
/* Durably write dirfd/name through name.tmp + fsync + rename. */
int rf_write_atomic(int dirfd, const char *name, const char *data, sbx_error **err);
/* Make a private work directory under tmp/; returns its fd, *name_out is
 * its name inside tmp/. */
int rf_store_mktemp(sbx_store *st, char **name_out, sbx_error **err);
/* fd of a store subdirectory ("tmp", "layers/sha256", ...); -1 on error. */
int rf_store_subdir(sbx_store *st, const char *sub, sbx_error **err);

/* ---- extraction and import (archive*.c, linked into sbx-import only) ---- */

struct rf_import_ctx {
        const struct sbx_import_opts *opts;
        bool is_root;   /* chown to the archive's owners, set trusted.* xattrs */
        uint64_t bytes; /* file content extracted so far by this import */
        uint64_t files; /* entries extracted so far by this import */
        uint64_t dropped_devices, dropped_setid, dropped_xattrs;
        uint64_t prog_total, prog_done; /* source bytes, for the progress bar */
        long long prog_last_ms;
};

struct rf_layer_result {
        char blob_hex[65]; /* sha256 of the bytes read from fd (compressed) */
        char diff_hex[65]; /* sha256 of the uncompressed tar stream: the diff-id */
        uint64_t size, files;
};

/* Extract the (possibly compressed) layer tar read from fd into destfd,
 * hashing both the compressed and the uncompressed stream.  `label` names the
 * layer in messages.  On error destfd may hold a partial tree. */
int rf_extract_layer_fd(struct rf_import_ctx *ic, int fd, int destfd, const char *label,
                        struct rf_layer_result *res, sbx_error **err);
/* Hash a layer as rf_extract_layer_fd does, without extracting it: for a
 * layer already in the store, whose copy in the image must still match. */
int rf_hash_layer_fd(struct rf_import_ctx *ic, int fd, const char *label,
                     struct rf_layer_result *res, sbx_error **err);
void rf_progress_add(struct rf_import_ctx *ic, uint64_t n);
void rf_progress_end(struct rf_import_ctx *ic);

/* Test hook: called by the importer at named stages ("layer-committed"). */
extern void (*rf_import_hook)(const char *stage);

#endif
