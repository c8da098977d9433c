/* run-args.h - parsing of `sbx run` arguments (pure, unit-tested). */
#ifndef SBX_RUN_ARGS_H
#define SBX_RUN_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct run_args {
        const char *policy;  /* NULL: "default" */
        const char *rootfs;  /* NULL: host view */
        uint64_t timeout_ms; /* 0: the policy's */
        char **env;          /* K=V, NULL-terminated (owned) */
        char **volumes;      /* SRC:DST[:ro] (owned) */
        const char *workdir;
        const char *json; /* path or "-" */
        bool quiet;
        bool help;
        char **command; /* points into argv */
};

/* Parse argv of `sbx run` (argv[0] is "run").  Errors are one line. */
int run_args_parse(int argc, char **argv, struct run_args *a, sbx_error **err);
void run_args_free(struct run_args *a);

#endif
