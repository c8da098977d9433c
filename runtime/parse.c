/* parse.c - durations and volume specs with their messages: pure, unit-tested. */
#include "internal.h"
#include "units.h"

#include <string.h>

int sbx_parse_duration(const char *s, uint64_t *ms, sbx_error **err)
{
        if (sbx_units_duration(s, ms) == 0)
                return 0;
        return sbx_fail(err,
                        "invalid duration `%s`: expected a number and ms, s, m, h or d "
                        "(250ms, 30s, 1.5m), from 1ms to a year",
                        s ? s : "");
}

static bool path_is_clean(const char *p)
{
        const char *c = p;

        if (p[0] != '/')
                return false;
        while ((c = strstr(c, "..")) != NULL) {
                bool starts = c == p || c[-1] == '/';
                bool ends = c[2] == '\0' || c[2] == '/';
                if (starts && ends)
                        return false;
                c += 2;
        }
        return true;
}

int sbx_parse_volume(const char *spec, char **src, char **dst, bool *ro, sbx_error **err)
{
        cleanup_free char *copy = xstrdup(spec);
        char *first = strchr(copy, ':'), *second;

        if (first == NULL)
                return sbx_fail(err, "invalid volume `%s`: expected SRC:DST[:ro]", spec);
        *first++ = '\0';
        second = strchr(first, ':');
        *ro = false;
        if (second != NULL) {
                *second++ = '\0';
                if (strcmp(second, "ro") == 0)
                        *ro = true;
                else if (strcmp(second, "rw") != 0)
                        return sbx_fail(err, "invalid volume `%s`: unknown mode `%s` (ro or rw)",
                                        spec, second);
        }
        if (!path_is_clean(copy) || !path_is_clean(first))
                return sbx_fail(
                    err, "invalid volume `%s`: SRC and DST must be absolute paths without `..`",
                    spec);
        if (strcmp(first, "/") == 0)
                return sbx_fail(err, "invalid volume `%s`: DST may not be /", spec);
        *src = xstrdup(copy);
        *dst = xstrdup(first);
        return 0;
}
