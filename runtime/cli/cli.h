/* cli.h - the `sbx` command line: one function per subcommand, dispatched
 * from main.c's table.  Subcommands parse their arguments, call the
 * libraries and print; only they print errors.
 *
 * Exit status conventions (docs/sbx.1):
 *   sbx run         the command's status, 128+N on signal N, 124 on time limit,
 *                   125 when sbx failed before the command ran
 *   other commands  0 success, 1 a negative answer (policy check found errors,
 *                   ...), 125 usage or system error
 */
#ifndef SBX_CLI_H
#define SBX_CLI_H

#include "sbx-runtime.h"

#ifndef SBX_VERSION
#define SBX_VERSION "0.1.0"
#endif

int cmd_run(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_image(int argc, char **argv);

/* The process's own command line in memory (main's argv strings, one
 * block): recorded by main, overwritten by the sandbox's init so that the
 * sandbox's /proc/1/cmdline shows no host path. */
void cli_set_args(int argc, char **argv);
char *cli_args_area(size_t *len);

/* Print "sbx: MSG\n" to stderr and return SBX_EXIT_FAILURE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
