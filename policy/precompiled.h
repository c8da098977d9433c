/* precompiled.h - the seccomp programs of the built-in policies, compiled
 * when sbx is built (scripts/embed-bpf.sh runs a first-stage sbx that has
 * none) and embedded in the final binary, so a built-in policy costs no
 * libseccomp time even on the first run.  Weak: binaries built without them
 * (the first stage, the fuzz harness) simply compile. */
#ifndef SBX_PRECOMPILED_H
#define SBX_PRECOMPILED_H

#include <stddef.h>

struct sbx_builtin_bpf {
        const char *name;           /* "default" */
        const char *sha256;         /* of the policy texts it was compiled from */
        const unsigned char *bytes; /* struct sock_filter[] as raw bytes */
        size_t len;                 /* bytes */
};

/* Terminated by an entry whose name is NULL; absent (NULL) in a first-stage
 * build. */
extern const struct sbx_builtin_bpf sbx_builtin_bpf[] __attribute__((weak));

#endif
