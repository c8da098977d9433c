/* units.h - the one grammar for sizes and durations, shared by the policy
 * language, `sbx run` and `sbx image import` (pure, no messages: callers
 * say what was wrong where).
 *
 * Size: a whole number and an optional unit.  None or B: bytes; K, M, G, T
 * and KiB, MiB, GiB, TiB: powers of 1024; kB/KB, MB, GB, TB: powers of 1000.
 * Duration: a number, fractions allowed, and an optional unit: ms, s (the
 * default), m, h, d; at least 1 ms, at most a year.
 */
#ifndef SBX_UNITS_H
#define SBX_UNITS_H

#include <stdint.h>

int sbx_units_size(const char *s, uint64_t *bytes);
int sbx_units_duration(const char *s, uint64_t *ms);

#endif
