/* hostinfo.c - read what the host offers: cgroup2 mount, own cgroup.
 * The parsers are pure so that they are unit-tested on fixture text. */
#include "internal.h"

#include <string.h>

void sbx_mountinfo_unescape(char *s)
{
        char *w = s;

        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else {
                        *w++ = *r;
                }
        }
        *w = '\0';
}

/* mountinfo line: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER */
char *sbx_mountinfo_cgroup2(const char *mountinfo)
{
        const char *line = mountinfo;

        while (line && *line) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);
                cleanup_free char *copy = xstrndup(line, len);
                char *save = NULL, *field, *mnt = NULL;
                int i = 0;
                bool after_sep = false;

                for (field = strtok_r(copy, " ", &save); field;
                     field = strtok_r(NULL, " ", &save), i++) {
                        if (i == 4)
                                mnt = field;
                        if (after_sep) {
                                if (strcmp(field, "cgroup2") == 0 && mnt) {
                                        char *r = xstrdup(mnt);
                                        sbx_mountinfo_unescape(r);
                                        return r;
                                }
                                break;
                        }
                        if (i > 5 && strcmp(field, "-") == 0)
                                after_sep = true;
                }
                line = eol ? eol + 1 : NULL;
        }
        return NULL;
}

char *sbx_proc_cgroup_unified(const char *proc_cgroup)
{
        const char *line = proc_cgroup;

        while (line && *line) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);
                if (len >= 3 && strncmp(line, "0::", 3) == 0)
                        return xstrndup(line + 3, len - 3);
                line = eol ? eol + 1 : NULL;
        }
        return NULL;
}
