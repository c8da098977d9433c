/* precompiled.h - the built-in policies compiled when sbx is built
 * (scripts/embed-compiled.sh runs a first-stage sbx that has none) and
 * embedded in the final binary: their seccomp programs, so that a built-in
 * policy costs no libseccomp time even on a first run, and their whole
 * plans (plan-io.c), so that `sbx run` on a built-in policy parses no YAML.
 * Weak: binaries built without them (the first stage, the fuzz harness)
 * simply compile. */
#ifndef SBX_PRECOMPILED_H
#define SBX_PRECOMPILED_H

#include <stddef.h>

struct sbx_builtin_compiled {
        const char *name;          /* "default" */
        const char *sha256;        /* of the policy texts it was compiled from */
        const unsigned char *bpf;  /* struct sock_filter[] as raw bytes */
        size_t bpf_len;            /* bytes */
        const unsigned char *plan; /* sbx_plan_encode() of the compiled plan */
        size_t plan_len;           /* bytes */
};

/* Terminated by an entry whose name is NULL; absent (NULL) in a first-stage
 * build. */
extern const struct sbx_builtin_compiled sbx_builtin_compiled[] __attribute__((weak));

#endif
