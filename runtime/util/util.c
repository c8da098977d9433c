#include "util.h"

#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void oom(void)
{
        static const char msg[] = "sbx: out of memory\n";
        ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void)r;
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (p == NULL)
                oom();
        return p;
}

void *xcalloc(size_t nmemb, size_t n)
{
        void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);
        if (p == NULL)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        void *q = realloc(p, n ? n : 1);
        if (q == NULL)
                oom();
        return q;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s);
        if (p == NULL)
                oom();
        return p;
}

char *xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);
        if (p == NULL)
                oom();
        return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
        char *s;
        if (vasprintf(&s, fmt, ap) < 0)
                oom();
        return s;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = xvasprintf(fmt, ap);
        va_end(ap);
        return s;
}

void cleanup_freep(void *p)
{
        void **pp = p;
        int saved = errno;
        free(*pp);
        errno = saved;
}

void cleanup_closep(int *fd)
{
        int saved = errno;
        if (*fd >= 0)
                close(*fd);
        errno = saved;
}

void cleanup_fclosep(FILE **f)
{
        int saved = errno;
        if (*f)
                fclose(*f);
        errno = saved;
}

void cleanup_closedirp(DIR **d)
{
        int saved = errno;
        if (*d)
                closedir(*d);
        errno = saved;
}

void cleanup_strvp(char ***v)
{
        int saved = errno;
        strv_free(*v);
        errno = saved;
}

size_t strv_len(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

void strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

char **strv_push(char **v, char *s)
{
        size_t n = strv_len(v);
        v = xrealloc(v, (n + 2) * sizeof(*v));
        v[n] = s;
        v[n + 1] = NULL;
        return v;
}

ssize_t read_full(int fd, void *buf, size_t n)
{
        size_t done = 0;
        while (done < n) {
                ssize_t r = read(fd, (char *)buf + done, n - done);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -1;
                if (r == 0)
                        break;
                done += (size_t)r;
        }
        return (ssize_t)done;
}

int write_full(int fd, const void *buf, size_t n)
{
        size_t done = 0;
        while (done < n) {
                ssize_t r = write(fd, (const char *)buf + done, n - done);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -1;
                done += (size_t)r;
        }
        return 0;
}

int write_file_at(int dirfd, const char *path, const char *data, bool create, mode_t mode)
{
        int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY | (create ? O_CREAT | O_TRUNC : 0);
        cleanup_close int fd = TEMP_FAILURE_RETRY(openat(dirfd, path, flags, mode));
        if (fd < 0)
                return -1;
        if (write_full(fd, data, strlen(data)) < 0)
                return -1;
        return 0;
}

char *read_fd(int fd, size_t *len_out)
{
        size_t cap = 4096, len = 0;
        cleanup_free char *buf = xmalloc(cap + 1);

        for (;;) {
                ssize_t r = read(fd, buf + len, cap - len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return NULL;
                if (r == 0)
                        break;
                len += (size_t)r;
                if (len == cap) {
                        cap *= 2;
                        buf = xrealloc(buf, cap + 1);
                }
        }
        buf[len] = '\0';
        if (len_out)
                *len_out = len;
        return steal_pointer(&buf);
}

char *read_file_at(int dirfd, const char *path, size_t *len_out)
{
        cleanup_close int fd = TEMP_FAILURE_RETRY(openat(dirfd, path, O_RDONLY | O_CLOEXEC));

        return fd < 0 ? NULL : read_fd(fd, len_out);
}

int close_fds_from(int from)
{
        DIR *d;
        struct dirent *de;

        if (syscall(SYS_close_range, (unsigned)from, ~0U, 0) == 0)
                return 0;
        d = opendir("/proc/self/fd");
        if (d == NULL)
                return -1;
        while ((de = readdir(d)) != NULL) {
                int fd = atoi(de->d_name);
                if (de->d_name[0] != '.' && fd >= from && fd != dirfd(d))
                        close(fd);
        }
        closedir(d);
        return 0;
}
