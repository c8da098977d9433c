/* idmap.c - user namespace id maps (pure).
 *
 * As root, the sandbox gets a whole 65536-id range starting at host uid
 * 100000, so that root inside is an unprivileged, unused id outside and the
 * sandbox user (1000 inside) is 101000 outside.  As an ordinary user no
 * helper (newuidmap) is needed: only the caller's own uid/gid is mapped,
 * onto the sandbox user, and setgroups must be denied first (user_namespaces(7)).
 */
#include "internal.h"

#include <stdio.h>

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
