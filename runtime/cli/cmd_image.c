/* cmd_image.c - `sbx image import|ls|inspect|rm|tag|gc` (see sbx-image(1)).
 *
 * `import` execs the sbx-import helper, which links libarchive; everything
 * else reads the store through rootfs-tools without it.
 */
#include "cli.h"
#include "error.h"
#include "sbx-rootfs.h"
#include "util.h"

#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char image_usage[] =
    "Usage: sbx image COMMAND [ARGS]\n"
    "\n"
    "  import FILE|DIR [--name NAME[:TAG]] [OPTIONS]   verify and store an image\n"
    "  ls                                               list images\n"
    "  inspect NAME|DIGEST [--json]                     layers and provenance\n"
    "  rm NAME|DIGEST...                                remove names / images\n"
    "  tag SRC DST                                      give an image another name\n"
    "  gc                                               remove debris, unused layers\n"
    "\n"
    "Run 'sbx image COMMAND --help' for details; see sbx-image(1).\n";

static const char ls_usage[] = "Usage: sbx image ls\n\nList the named images in the store: "
                               "name, digest, layers, size, import time.\n";
static const char inspect_usage[] =
    "Usage: sbx image inspect NAME[:TAG]|DIGEST [--json]\n\nShow an image's names, "
    "digests, provenance (source file and its sha256,\nmanifest and config digests, import "
    "time) and layers (bottom first).\n  --json   print the stored record as JSON\n";
static const char rm_usage[] =
    "Usage: sbx image rm NAME[:TAG]|DIGEST...\n\nRemove a name; by digest, the image and "
    "all its names.  An image left\nwithout names is deleted and layers no other image "
    "uses are reclaimed\n(by `sbx image gc` if an import or a sandbox running on an image\n"
    "holds the store).\n";
static const char tag_usage[] = "Usage: sbx image tag SRC DST\n\nGive the image SRC (name or "
                                "digest) the name DST[:TAG].\n";
static const char gc_usage[] =
    "Usage: sbx image gc\n\nRemove what failed or killed imports "
    "left under tmp/, unnamed image records\nand layers no image "
    "uses.  Fails while an import runs or a sandbox runs on an\nimage of the store.\n";

static bool wants_help(int argc, char **argv)
{
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                        return true;
        return false;
}

static int fail(sbx_error *err, sbx_store *st)
{
        sbx_error_print(err);
        sbx_error_free(err);
        sbx_store_close(st);
        return SBX_EXIT_FAILURE;
}

/* The helper sits next to the running binary (build tree) or, installed,
 * in ../libexec/sbx/ relative to it. */
static char *find_helper(void)
{
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *dir, *p;

        if (n <= 0)
                return NULL;
        self[n] = '\0';
        dir = dirname(self);
        p = xasprintf("%s/sbx-import", dir);
        if (access(p, X_OK) == 0)
                return p;
        free(p);
        p = xasprintf("%s/../libexec/sbx/sbx-import", dir);
        if (access(p, X_OK) == 0)
                return p;
        free(p);
        return NULL;
}

static int do_import(int argc, char **argv)
{
        char *helper = find_helper();
        char **args = xcalloc((size_t)argc + 1, sizeof(char *));

        if (helper == NULL)
                return cli_usage_error("image import: helper sbx-import not found next to sbx "
                                       "or in ../libexec/sbx/");
        args[0] = (char *)"sbx-import";
        for (int i = 1; i < argc; i++)
                args[i] = argv[i];
        execv(helper, args);
        return cli_usage_error("image import: exec `%s`: %s", helper, strerror(errno));
}

static void human_size(uint64_t n, char *buf, size_t len)
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = (double)n;
        size_t u = 0;

        while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
                v /= 1024;
                u++;
        }
        snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static int do_ls(int argc, char **argv)
{
        sbx_store *st = NULL;
        sbx_error *err = NULL;
        struct sbx_image_info **list = NULL;
        size_t n = 0;

        (void)argv;
        if (argc > 1)
                return cli_usage_error("image ls: no arguments expected (see --help)");
        if (sbx_store_open(NULL, &st, &err) < 0 || sbx_store_list(st, &list, &n, &err) < 0)
                return fail(err, st);
        printf("%-32s %-19s %6s %10s  %s\n", "NAME", "DIGEST", "LAYERS", "SIZE", "IMPORTED");
        for (size_t i = 0; i < n; i++) {
                char size[32];
                human_size(list[i]->size, size, sizeof(size));
                for (size_t k = 0; list[i]->names[k]; k++)
                        printf("%-32s %-19.19s %6zu %10s  %s\n", list[i]->names[k], list[i]->digest,
                               list[i]->n_layers, size, list[i]->imported);
                sbx_image_info_free(list[i]);
        }
        free(list);
        sbx_store_close(st);
        return 0;
}

static void print_info(const struct sbx_image_info *in)
{
        char size[32];

        human_size(in->size, size, sizeof(size));
        printf("Names:     ");
        for (size_t i = 0; in->names[i]; i++)
                printf("%s%s", i ? ", " : "", in->names[i]);
        printf("\nDigest:    %s\nKind:      %s\n", in->digest, in->kind);
        printf("Source:    %s\nSource sha256: %s\n", in->source,
               in->source_sha256 ? in->source_sha256 : "- (a directory)");
        printf("Manifest:  %s\n", in->manifest_digest ? in->manifest_digest : "-");
        printf("Config:    %s\n", in->config_digest ? in->config_digest : "-");
        printf("Imported:  %s\nSize:      %s\n", in->imported, size);
        printf("Layers (%zu, bottom first):\n", in->n_layers);
        for (size_t i = 0; i < in->n_layers; i++) {
                human_size(in->layers[i].size, size, sizeof(size));
                printf("  %2zu %s %10s %8llu files  %s\n", i, in->layers[i].diff_id, size,
                       (unsigned long long)in->layers[i].files, in->layers[i].dir);
        }
}

static int do_inspect(int argc, char **argv)
{
        sbx_store *st = NULL;
        sbx_error *err = NULL;
        struct sbx_image_info *info = NULL;
        const char *ref = NULL;
        bool json = false;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (ref == NULL && argv[i][0] != '-')
                        ref = argv[i];
                else
                        return cli_usage_error("image inspect: unexpected `%s` (see --help)",
                                               argv[i]);
        }
        if (ref == NULL)
                return cli_usage_error("image inspect: NAME missing (see --help)");
        if (sbx_store_open(NULL, &st, &err) < 0 || sbx_store_inspect(st, ref, &info, &err) < 0)
                return fail(err, st);
        if (json)
                printf("%s\n", info->json);
        else
                print_info(info);
        sbx_image_info_free(info);
        sbx_store_close(st);
        return 0;
}

static int do_rm(int argc, char **argv)
{
        sbx_store *st = NULL;
        sbx_error *err = NULL;

        if (argc < 2)
                return cli_usage_error("image rm: NAME missing (see --help)");
        if (sbx_store_open(NULL, &st, &err) < 0)
                return fail(err, st);
        for (int i = 1; i < argc; i++) {
                char *deleted = NULL;
                if (sbx_store_remove(st, argv[i], &deleted, &err) < 0)
                        return fail(err, st);
                printf("removed %s\n", argv[i]);
                if (deleted)
                        printf("deleted %s\n", deleted);
                free(deleted);
        }
        sbx_store_close(st);
        return 0;
}

static int do_tag(int argc, char **argv)
{
        sbx_store *st = NULL;
        sbx_error *err = NULL;

        if (argc != 3)
                return cli_usage_error("image tag: SRC and DST expected (see --help)");
        if (sbx_store_open(NULL, &st, &err) < 0 || sbx_store_tag(st, argv[1], argv[2], &err) < 0)
                return fail(err, st);
        sbx_store_close(st);
        return 0;
}

static int do_gc(int argc, char **argv)
{
        sbx_store *st = NULL;
        sbx_error *err = NULL;
        struct sbx_gc_stats stats;

        (void)argv;
        if (argc > 1)
                return cli_usage_error("image gc: no arguments expected (see --help)");
        if (sbx_store_open(NULL, &st, &err) < 0 || sbx_store_gc(st, &stats, &err) < 0)
                return fail(err, st);
        printf("removed %zu work directories, %zu unnamed image records, %zu layers\n",
               stats.tmp_removed, stats.images_removed, stats.layers_removed);
        sbx_store_close(st);
        return 0;
}

struct image_cmd {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *usage; /* NULL: the subcommand prints its own */
};

static const struct image_cmd image_cmds[] = {
    {"import", do_import, NULL}, {"ls", do_ls, ls_usage},    {"inspect", do_inspect, inspect_usage},
    {"rm", do_rm, rm_usage},     {"tag", do_tag, tag_usage}, {"gc", do_gc, gc_usage},
};

int cmd_image(int argc, char **argv)
{
        if (argc < 2) {
                fputs(image_usage, stderr);
                return SBX_EXIT_FAILURE;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
            strcmp(argv[1], "help") == 0) {
                fputs(image_usage, stdout);
                return 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(image_cmds); i++) {
                const struct image_cmd *c = &image_cmds[i];
                if (strcmp(argv[1], c->name) != 0)
                        continue;
                if (c->usage != NULL && wants_help(argc - 1, argv + 1)) {
                        fputs(c->usage, stdout);
                        return 0;
                }
                return c->fn(argc - 1, argv + 1);
        }
        return cli_usage_error("image: unknown command `%s` (see 'sbx image --help')", argv[1]);
}
