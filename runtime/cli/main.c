/* main.c - `sbx` dispatch table.  Everything else is in the libraries. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct subcommand {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *summary;
};

static const struct subcommand subcommands[] = {
    {"run", cmd_run, "create a sandbox, run a command in it, tear it down"},
    {"gc", cmd_gc, "reclaim what a crashed run left behind"},
    {"policy", cmd_policy, "check, compile, explain, diff and list policies"},
    {"image", cmd_image, "import and manage root filesystem images"},
};

static void usage(FILE *out)
{
        fprintf(out, "Usage: sbx COMMAND [OPTIONS] [ARGS]\n\nCommands:\n");
        for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
                fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
        fprintf(out, "\nRun 'sbx COMMAND --help' for a command's options; see sbx(1).\n");
}

/* A standard stream the caller left closed is opened on /dev/null: the next
 * file sbx opens would otherwise take its number, and its own messages or a
 * sandbox's stdio would land in that file (a state file, a pipe to init).
 * The command gets /dev/null there too.  Without even that, stop. */
static void sanitize_stdio(void)
{
        for (int fd = 0; fd <= 2; fd++) {
                int n;
                if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
                        continue;
                n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
                if (n != fd) /* /dev/null missing, or not the lowest free fd */
                        _exit(SBX_EXIT_FAILURE);
        }
}

int main(int argc, char **argv)
{
        sanitize_stdio();
        cli_set_args(argc, argv);
        if (argc < 2) {
                usage(stderr);
                return SBX_EXIT_FAILURE;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
            strcmp(argv[1], "help") == 0) {
                usage(stdout);
                return 0;
        }
        if (strcmp(argv[1], "--version") == 0) {
                printf("sbx %s\n", SBX_VERSION);
                return 0;
        }
        for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
                if (strcmp(argv[1], subcommands[i].name) == 0)
                        return subcommands[i].fn(argc - 1, argv + 1);
        fprintf(stderr, "sbx: unknown command `%s` (see 'sbx --help')\n", argv[1]);
        return SBX_EXIT_FAILURE;
}
