/* parse.c - durations, sizes, volume specs: pure, unit-tested. */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

int sbx_parse_duration(const char *s, uint64_t *ms, sbx_error **err)
{
        static const struct {
                const char *suffix;
                double ms;
        } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
        char *end;
        double v;

        if (s == NULL || *s == '\0')
                return sbx_fail(err, "invalid duration ``: empty");
        if (!isdigit((unsigned char)s[0]) && s[0] != '.')
                return sbx_fail(err, "invalid duration `%s`: expected a number with s, ms, m or h",
                                s);
        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || !isfinite(v))
                return sbx_fail(err, "invalid duration `%s`: not a number", s);
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                if (strcmp(end, units[i].suffix) != 0)
                        continue;
                double r = v * units[i].ms;
                if (r < 1)
                        return sbx_fail(err, "invalid duration `%s`: must be at least 1ms", s);
                if (r > 366.0 * 24 * 3600 * 1000)
                        return sbx_fail(err, "invalid duration `%s`: longer than a year", s);
                *ms = (uint64_t)llround(r);
                return 0;
        }
        return sbx_fail(err, "invalid duration `%s`: unknown unit `%s` (use ms, s, m or h)", s,
                        end);
}

int sbx_parse_size(const char *s, uint64_t *bytes, sbx_error **err)
{
        static const struct {
                const char *suffix;
                unsigned shift;
        } units[] = {{"", 0},    {"b", 0},    {"k", 10},   {"kb", 10}, {"kib", 10},
                     {"m", 20},  {"mb", 20},  {"mib", 20}, {"g", 30},  {"gb", 30},
                     {"gib", 30}, {"t", 40},  {"tb", 40},  {"tib", 40}};
        char unit[8];
        char *end;
        unsigned long long v;
        size_t n = 0;

        if (s == NULL || !isdigit((unsigned char)s[0]))
                return sbx_fail(err, "invalid size `%s`: expected a number like 512M or 1G",
                                s ? s : "");
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return sbx_fail(err, "invalid size `%s`: out of range", s);
        while (*end == ' ')
                end++;
        for (; end[n] && n < sizeof(unit) - 1; n++)
                unit[n] = (char)tolower((unsigned char)end[n]);
        unit[n] = '\0';
        if (end[n] != '\0')
                return sbx_fail(err, "invalid size `%s`: unknown unit `%s`", s, end);
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                if (strcmp(unit, units[i].suffix) != 0)
                        continue;
                if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
                        return sbx_fail(err, "invalid size `%s`: out of range", s);
                *bytes = (uint64_t)v << units[i].shift;
                return 0;
        }
        return sbx_fail(err, "invalid size `%s`: unknown unit `%s` (use k, M, G or T)", s, end);
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
                return sbx_fail(err,
                                "invalid volume `%s`: SRC and DST must be absolute paths without `..`",
                                spec);
        if (strcmp(first, "/") == 0)
                return sbx_fail(err, "invalid volume `%s`: DST may not be /", spec);
        *src = xstrdup(copy);
        *dst = xstrdup(first);
        return 0;
}
