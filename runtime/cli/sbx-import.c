/* sbx-import.c - the libexec helper behind `sbx image import`.  It is a
 * separate binary because it links libarchive, which the `sbx run` path must
 * not load.  Exit status: 0 imported, 125 any error (one line on stderr).
 */
#include "cli.h"
#include "error.h"
#include "sbx-rootfs.h"
#include "units.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: sbx image import FILE|DIR [OPTIONS]\n"
    "\n"
    "Import an OCI image layout (directory or tar), a docker-save archive or a plain\n"
    "rootfs tarball (.tar, .tar.gz, .tar.zst) into the image store, verified.\n"
    "\n"
    "  --name NAME[:TAG]    name of the image (default: from the image, else the file name)\n"
    "  --keep-devices       create device nodes instead of dropping them\n"
    "  --keep-setid         keep setuid/setgid bits and file capabilities\n"
    "  --max-size BYTES     most file content to extract (default 16G; K, M, G, T suffixes)\n"
    "  --max-files N        most entries to extract (default 1000000)\n"
    "  --max-path BYTES     longest entry path (default 4095)\n"
    "  --no-sync            do not flush the layers to disk before they become visible\n"
    "  --progress           draw a progress bar (default: when stderr is a terminal)\n"
    "  --no-progress        never draw one\n"
    "\n"
    "The store is $SBX_STORE, else /var/lib/sbx as root, else $XDG_DATA_HOME/sbx.\n";

/* cli.o is not linked into this helper: its own one-line error. */
static int usage_error(const char *msg, const char *arg)
{
        fprintf(stderr, "sbx: image import: %s%s%s%s\n", msg, arg ? " `" : "", arg ? arg : "",
                arg ? "` (see --help)" : "");
        return SBX_EXIT_FAILURE;
}

/* Sizes and counts in the one grammar of units.h; false on junk. */
static bool parse_size(const char *s, uint64_t *out)
{
        return sbx_units_size(s, out) == 0;
}

static int parse_args(int argc, char **argv, struct sbx_import_opts *o, const char **src)
{
        bool progress_set = false;

        sbx_import_opts_init(o);
        *src = NULL;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
                uint64_t v;

                if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                        fputs(usage_text, stdout);
                        return 1;
                } else if (strcmp(a, "--keep-devices") == 0) {
                        o->keep_devices = true;
                } else if (strcmp(a, "--no-sync") == 0) {
                        o->no_sync = true;
                } else if (strcmp(a, "--keep-setid") == 0) {
                        o->keep_setid = true;
                } else if (strcmp(a, "--progress") == 0 || strcmp(a, "--no-progress") == 0) {
                        o->progress = a[2] == 'p';
                        progress_set = true;
                } else if (strcmp(a, "--name") == 0 && val) {
                        o->name = argv[++i];
                } else if (strcmp(a, "--max-size") == 0 && val && parse_size(val, &v) && v) {
                        o->max_size = v;
                        i++;
                } else if (strcmp(a, "--max-files") == 0 && val && parse_size(val, &v) && v) {
                        o->max_files = v;
                        i++;
                } else if (strcmp(a, "--max-path") == 0 && val && parse_size(val, &v) && v &&
                           v < 4096) {
                        o->max_path = (size_t)v;
                        i++;
                } else if (a[0] == '-' && a[1] != '\0') {
                        return usage_error("bad option or value", a);
                } else if (*src == NULL) {
                        *src = a;
                } else {
                        return usage_error("more than one FILE|DIR", NULL);
                }
        }
        if (*src == NULL)
                return usage_error("FILE|DIR missing (see --help)", NULL);
        if (!progress_set)
                o->progress = isatty(STDERR_FILENO);
        return 0;
}

int main(int argc, char **argv)
{
        struct sbx_import_opts o;
        const char *src;
        sbx_error *err = NULL;
        sbx_store *st = NULL;
        char *name = NULL, *digest = NULL;
        int r = parse_args(argc, argv, &o, &src);

        if (r != 0)
                return r == 1 ? 0 : r;
        if (sbx_store_open(NULL, &st, &err) < 0 ||
            sbx_import(st, src, &o, &name, &digest, &err) < 0) {
                sbx_error_print(err);
                sbx_error_free(err);
                sbx_store_close(st);
                return SBX_EXIT_FAILURE;
        }
        printf("imported %s %s\n", name, digest);
        free(name);
        free(digest);
        sbx_store_close(st);
        return 0;
}
