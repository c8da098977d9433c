#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char *args_start;
static size_t args_len;

void cli_set_args(int argc, char **argv)
{
        if (argc < 1 || argv[0] == NULL)
                return;
        /* The kernel lays argv's strings out back to back. */
        for (int i = 1; i < argc; i++)
                if (argv[i] != argv[i - 1] + strlen(argv[i - 1]) + 1)
                        return;
        args_start = argv[0];
        args_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
}

char *cli_args_area(size_t *len)
{
        *len = args_len;
        return args_start;
}

int cli_usage_error(const char *fmt, ...)
{
        va_list ap;

        fputs("sbx: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return SBX_EXIT_FAILURE;
}
