/* error.h - the one error convention of sbx (see docs/errors.md).
 *
 * A function that can fail takes `sbx_error **err` as its last parameter and
 * returns a negative value (or NULL) on failure after filling *err through
 * sbx_fail() / sbx_fail_errno().  Callers that pass the failure up may add
 * context with sbx_error_prefix().  Only the command line front end prints an
 * error (sbx_error_print) and frees it (sbx_error_free).
 *
 * Messages are one line, lower case, no trailing period, and name the object
 * they are about: "open `/etc/passwd`: Permission denied",
 * "policy.yaml:12:5: unknown syscall `opne`".
 */
#ifndef SBX_ERROR_H
#define SBX_ERROR_H

#include <stdarg.h>

typedef struct sbx_error {
        int errnum; /* errno that caused it, 0 when none */
        char *msg;  /* full one-line message */
} sbx_error;

/* Fill *err (when err is not NULL and *err is still NULL) and return -1. */
int sbx_fail(sbx_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, appending ": strerror(errnum)". */
int sbx_fail_errno(sbx_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepend "context: " to an existing error. Returns -1 for tail calls. */
int sbx_error_prefix(sbx_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbx_error_free(sbx_error *err);
/* Print "sbx: MESSAGE\n" on stderr. */
void sbx_error_print(const sbx_error *err);

#endif
