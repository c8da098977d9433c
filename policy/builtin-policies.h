/* builtin-policies.h - the built-in policy texts (policy/builtin/NAME.yaml),
 * embedded by scripts/embed-policies.sh into build/gen/builtin-policies.c. */
#ifndef SBX_BUILTIN_POLICIES_H
#define SBX_BUILTIN_POLICIES_H

#include <stddef.h>

struct sbx_builtin_policy {
        const char *name;     /* "default" */
        const char *filename; /* "default.yaml", used in messages and origins */
        const char *text;
        size_t len;
};

/* Terminated by an entry whose name is NULL. */
extern const struct sbx_builtin_policy sbx_builtin_policies[];

#endif
