/* idmap.c - user namespace id maps (pure).
 *
 * As root, the sandbox gets a whole 65536-id range starting at host uid
 * SBX_ROOTFUL_HOST_BASE (2113929216), so that root inside is an
 * unprivileged id outside that no host user or other container tool is
 * given (internal.h says why that number).  As an ordinary user no
 * helper (newuidmap) is needed: only the caller's own uid/gid is mapped,
 * onto the sandbox user, and setgroups must be denied first (user_namespaces(7)).
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

void sbx_idmap_compute(uid_t host_euid, gid_t host_egid, uid_t inside_uid, gid_t inside_gid,
                       struct sbx_idmap *out)
{
        if (host_euid == 0) {
                snprintf(out->uid_map, sizeof(out->uid_map), "0 %u %u\n", SBX_ROOTFUL_HOST_BASE,
                         SBX_ROOTFUL_RANGE);
                snprintf(out->gid_map, sizeof(out->gid_map), "0 %u %u\n", SBX_ROOTFUL_HOST_BASE,
                         SBX_ROOTFUL_RANGE);
                out->deny_setgroups = false;
                out->setup_uid = 0;
                out->setup_gid = 0;
        } else {
                snprintf(out->uid_map, sizeof(out->uid_map), "%u %u 1\n", (unsigned)inside_uid,
                         (unsigned)host_euid);
                snprintf(out->gid_map, sizeof(out->gid_map), "%u %u 1\n", (unsigned)inside_gid,
                         (unsigned)host_egid);
                out->deny_setgroups = true;
                out->setup_uid = inside_uid;
                out->setup_gid = inside_gid;
        }
}

char *sbx_subid_overlap(const char *text, uint64_t base, uint64_t count)
{
        const char *line = text;

        while (line && *line) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);
                cleanup_free char *copy = xstrndup(line, len);
                char *c1 = strchr(copy, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

                line = eol ? eol + 1 : NULL;
                if (copy[0] == '#' || c2 == NULL)
                        continue;
                *c1 = *c2 = '\0';
                uint64_t start = strtoull(c1 + 1, NULL, 10), n = strtoull(c2 + 1, NULL, 10);
                if (start < base + count && base < start + n)
                        return xstrdup(copy);
        }
        return NULL;
}
