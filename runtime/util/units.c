#include "units.h"
#include "util.h"

#include <math.h>
#include <string.h>

int sbx_units_size(const char *s, uint64_t *bytes)
{
        static const struct {
                const char *suffix;
                uint64_t mult;
        } units[] = {{"", 1},
                     {"B", 1},
                     {"K", 1ULL << 10},
                     {"KiB", 1ULL << 10},
                     {"M", 1ULL << 20},
                     {"MiB", 1ULL << 20},
                     {"G", 1ULL << 30},
                     {"GiB", 1ULL << 30},
                     {"T", 1ULL << 40},
                     {"TiB", 1ULL << 40},
                     {"kB", 1000},
                     {"KB", 1000},
                     {"MB", 1000000},
                     {"GB", 1000000000ULL},
                     {"TB", 1000000000000ULL}};
        char *end;
        unsigned long long v;

        if (s == NULL || *s < '0' || *s > '9')
                return -1;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(units); i++)
                if (strcmp(end, units[i].suffix) == 0) {
                        if (v > UINT64_MAX / units[i].mult)
                                return -1;
                        *bytes = v * units[i].mult;
                        return 0;
                }
        return -1;
}

int sbx_units_duration(const char *s, uint64_t *ms)
{
        static const struct {
                const char *suffix;
                double ms;
        } units[] = {{"", 1000},   {"s", 1000},    {"ms", 1},
                     {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
        char *end;
        double v;

        if (s == NULL || !((*s >= '0' && *s <= '9') || *s == '.'))
                return -1;
        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || !isfinite(v))
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                if (strcmp(end, units[i].suffix) != 0)
                        continue;
                double r = v * units[i].ms;
                if (r < 1 || r > 366.0 * 86400000)
                        return -1;
                *ms = (uint64_t)llround(r);
                return 0;
        }
        return -1;
}
