/* util.h - small helpers shared by every sbx library: allocation that aborts
 * on out-of-memory, cleanup attributes, and syscall wrappers that retry on
 * EINTR and preserve errno.  Pure helpers only; nothing here mounts, clones
 * or writes to cgroupfs.
 */
#ifndef SBX_UTIL_H
#define SBX_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <sys/types.h>

#define SBX_API __attribute__((visibility("default")))

#ifndef TEMP_FAILURE_RETRY
#define TEMP_FAILURE_RETRY(expr)                                                                   \
        ({                                                                                         \
                long _r;                                                                           \
                do                                                                                 \
                        _r = (long)(expr);                                                         \
                while (_r == -1L && errno == EINTR);                                               \
                _r;                                                                                \
        })
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation: abort with a message on out-of-memory (one policy, no ENOMEM paths). */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Cleanup attributes. */
void cleanup_freep(void *p);
void cleanup_closep(int *fd);
void cleanup_fclosep(FILE **f);
void cleanup_closedirp(DIR **d);
void cleanup_strvp(char ***v);
#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_file __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_dir __attribute__((cleanup(cleanup_closedirp)))
#define cleanup_strv __attribute__((cleanup(cleanup_strvp)))

/* Hand ownership out of a cleanup variable. */
#define steal_pointer(pp)                                                                          \
        ({                                                                                         \
                __typeof__(*(pp)) _p = *(pp);                                                      \
                *(pp) = NULL;                                                                      \
                _p;                                                                                \
        })
static inline int steal_fd(int *fd)
{
        int r = *fd;
        *fd = -1;
        return r;
}

/* NULL-terminated string vectors. */
size_t strv_len(char *const *v);
void strv_free(char **v);
char **strv_push(char **v, char *s); /* takes ownership of s */

/* I/O that retries on EINTR and short counts; -1 with errno on failure. */
ssize_t read_full(int fd, void *buf, size_t n);
int write_full(int fd, const void *buf, size_t n);
/* Write a string to dirfd/path (O_WRONLY|O_CLOEXEC, no O_CREAT unless create). */
int write_file_at(int dirfd, const char *path, const char *data, bool create, mode_t mode);
/* Read what is left of fd into a NUL-terminated buffer; NULL with errno. */
char *read_fd(int fd, size_t *len_out);
/* Read a whole (small) file into a NUL-terminated buffer; NULL with errno. */
char *read_file_at(int dirfd, const char *path, size_t *len_out);
/* Close every fd >= from (close_range, with a /proc/self/fd fallback). */
int close_fds_from(int from);

#endif
