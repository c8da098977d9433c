#include "error.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vfail(sbx_error **err, int errnum, const char *fmt, va_list ap)
{
        char *msg;

        if (err == NULL || *err != NULL)
                return -1;
        msg = xvasprintf(fmt, ap);
        if (errnum != 0) {
                char *full = xasprintf("%s: %s", msg, strerror(errnum));
                free(msg);
                msg = full;
        }
        *err = xmalloc(sizeof(**err));
        (*err)->errnum = errnum;
        (*err)->msg = msg;
        return -1;
}

int sbx_fail(sbx_error **err, const char *fmt, ...)
{
        va_list ap;
        int saved = errno;

        va_start(ap, fmt);
        vfail(err, 0, fmt, ap);
        va_end(ap);
        errno = saved;
        return -1;
}

int sbx_fail_errno(sbx_error **err, int errnum, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vfail(err, errnum, fmt, ap);
        va_end(ap);
        errno = errnum;
        return -1;
}

int sbx_error_prefix(sbx_error **err, const char *fmt, ...)
{
        va_list ap;
        char *ctx, *full;

        if (err == NULL || *err == NULL)
                return -1;
        va_start(ap, fmt);
        ctx = xvasprintf(fmt, ap);
        va_end(ap);
        full = xasprintf("%s: %s", ctx, (*err)->msg);
        free(ctx);
        free((*err)->msg);
        (*err)->msg = full;
        return -1;
}

void sbx_error_free(sbx_error *err)
{
        if (err == NULL)
                return;
        free(err->msg);
        free(err);
}

void sbx_error_print(const sbx_error *err)
{
        fprintf(stderr, "sbx: %s\n", err ? err->msg : "unknown error");
}
