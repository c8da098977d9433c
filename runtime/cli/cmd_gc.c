/* cmd_gc.c - `sbx gc`: reclaim what crashed runs left behind. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void report(const char *what, void *arg)
{
        int *n = arg;
        printf("removed %s\n", what);
        (*n)++;
}

int cmd_gc(int argc, char **argv)
{
        sbx_error *err = NULL;
        int n = 0;

        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                puts("Usage: sbx gc\n\n"
                     "Kill and remove what runs whose supervisor died left behind: their\n"
                     "cgroups and state files.  Live sandboxes are not touched.  When no\n"
                     "sandbox runs, the cached host view skeletons are dropped too.\n"
                     "Image store debris is collected by 'sbx image gc'.");
                return 0;
        }
        if (argc > 1)
                return cli_usage_error("gc: unexpected argument `%s`", argv[1]);
        if (sbx_gc(report, &n, &err) < 0) {
                sbx_error_print(err);
                sbx_error_free(err);
                return SBX_EXIT_FAILURE;
        }
        if (n == 0)
                printf("nothing to remove\n");
        return 0;
}
