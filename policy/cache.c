/* cache.c - a per-user cache of compiled seccomp programs.
 *
 * libseccomp needs about 3 ms to build and export the default policy's
 * program, more than the rest of a sandbox's start-up.  The program depends
 * only on the policy text (extends included, which the policy digest
 * covers) and on the compiler (the syscall tables and libseccomp inside this
 * very executable), so it is kept under a key of both:
 *
 *   key  = sha256(policy digest, libseccomp version, identity of /proc/self/exe)
 *   file = <dir>/<key>.bpf: "SBXBPF1\n", u32 count, instructions, sha256 of them
 *
 * Built-in policies need neither: their programs are compiled when sbx is
 * built and embedded (precompiled.h).
 *
 * <dir> is $SBX_CACHE_DIR (empty: no cache), else /var/cache/sbx/seccomp as
 * root, else $XDG_CACHE_HOME/sbx/seccomp (~/.cache/sbx/seccomp).  A filter is
 * a security boundary, so the cache is trusted only when the directory and
 * file belong to the caller and nobody else can write them; anything else,
 * and any damaged or short file, is a miss and the program is compiled again.
 */
#include "policy-internal.h"
#include "precompiled.h"
#include "sha256.h"
#include "util.h"

#include <fcntl.h>
#include <seccomp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "SBXBPF1\n"

static char *cache_dir(void)
{
        const char *env = getenv("SBX_CACHE_DIR");
        const char *xdg, *home;

        if (env != NULL)
                return env[0] == '/' ? xstrdup(env) : NULL;
        if (geteuid() == 0)
                return xstrdup("/var/cache/sbx/seccomp");
        xdg = getenv("XDG_CACHE_HOME");
        if (xdg && xdg[0] == '/')
                return xasprintf("%s/sbx/seccomp", xdg);
        home = getenv("HOME");
        if (home && home[0] == '/')
                return xasprintf("%s/.cache/sbx/seccomp", home);
        return NULL;
}

static bool trusted(const struct stat *st)
{
        return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* mkdir -p with 0700 for what we create; the leaf must end up trusted. */
static bool ensure_dir(const char *dir)
{
        cleanup_free char *copy = xstrdup(dir);
        struct stat st;

        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, 0700) < 0 && errno != EEXIST)
                        return false;
                *p = '/';
        }
        if (mkdir(copy, 0700) < 0 && errno != EEXIST)
                return false;
        return lstat(copy, &st) == 0 && S_ISDIR(st.st_mode) && trusted(&st);
}

static char *cache_key(const sbx_policy *pol)
{
        const struct scmp_version *v = seccomp_version();
        struct stat exe;
        cleanup_free char *material = NULL;
        char *hex = xmalloc(SHA256_HEX_LEN + 1);

        if (stat("/proc/self/exe", &exe) < 0)
                memset(&exe, 0, sizeof(exe));
        material =
            xasprintf("%s libseccomp-%u.%u.%u exe-%llu-%llu-%lld.%09ld-%lld", pol->sha256,
                      v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0,
                      (unsigned long long)exe.st_dev, (unsigned long long)exe.st_ino,
                      (long long)exe.st_mtim.tv_sec, exe.st_mtim.tv_nsec, (long long)exe.st_size);
        sha256_hex(material, strlen(material), hex);
        return hex;
}

/* The file is opened relative to the directory, and the directory is checked
 * as well as the file: whoever can write the directory can rename any of our
 * files, a program of a weaker policy included, to the name of this key, and
 * the checksum inside would still match. */
static bool load(const char *dir, const char *name, struct sock_filter **prog, size_t *len)
{
        cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        cleanup_close int fd = -1;
        cleanup_free char *data = NULL;
        struct stat st;
        uint32_t n;
        char want[SHA256_HEX_LEN + 1], got[SHA256_HEX_LEN + 1];
        size_t head = sizeof(MAGIC) - 1 + sizeof(n), body;

        if (dfd < 0 || fstat(dfd, &st) < 0 || !trusted(&st))
                return false;
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !trusted(&st) ||
            st.st_size < (off_t)head || st.st_size > (off_t)(head + 65536 * 8 + SHA256_HEX_LEN))
                return false;
        data = xmalloc((size_t)st.st_size);
        if (read_full(fd, data, (size_t)st.st_size) != st.st_size ||
            memcmp(data, MAGIC, sizeof(MAGIC) - 1) != 0)
                return false;
        memcpy(&n, data + sizeof(MAGIC) - 1, sizeof(n));
        body = (size_t)n * sizeof(struct sock_filter);
        if (n == 0 || n > BPF_MAXINSNS || (size_t)st.st_size != head + body + SHA256_HEX_LEN)
                return false;
        sha256_hex(data + head, body, got);
        memcpy(want, data + head + body, SHA256_HEX_LEN);
        want[SHA256_HEX_LEN] = '\0';
        if (strcmp(want, got) != 0)
                return false;
        /* Room for the audit twin and marker patching, as the compiler gives. */
        *prog = xmalloc(body + 64 * sizeof(struct sock_filter));
        memcpy(*prog, data + head, body);
        *len = n;
        return true;
}

static void store(const char *dir, const char *path, const struct sock_filter *prog, size_t len)
{
        cleanup_free char *tmp = xasprintf("%s/.tmp-%d", dir, (int)getpid());
        uint32_t n = (uint32_t)len;
        char sum[SHA256_HEX_LEN + 1];
        cleanup_close int fd = -1;
        bool ok;

        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        sha256_hex(prog, len * sizeof(*prog), sum);
        ok = write_full(fd, MAGIC, sizeof(MAGIC) - 1) == 0 && write_full(fd, &n, sizeof(n)) == 0 &&
             write_full(fd, prog, len * sizeof(*prog)) == 0 &&
             write_full(fd, sum, SHA256_HEX_LEN) == 0;
        /* rename is atomic: a reader sees the old file, the new one, or none. */
        if (!ok || rename(tmp, path) < 0)
                unlink(tmp);
}

/* A built-in policy's program compiled when sbx was built, if this binary
 * has them and the policy texts are the ones it was compiled from. */
static bool embedded(const sbx_policy *pol, struct sock_filter **prog, size_t *len)
{
        if (sbx_builtin_compiled == NULL || pol->source == NULL ||
            strcmp(pol->source, "built-in") != 0)
                return false;
        for (const struct sbx_builtin_compiled *e = sbx_builtin_compiled; e->name; e++) {
                if (strcmp(e->name, pol->name) != 0 || strcmp(e->sha256, pol->sha256) != 0 ||
                    e->bpf_len == 0 || e->bpf_len % sizeof(struct sock_filter) != 0)
                        continue;
                *prog = xmalloc(e->bpf_len + 64 * sizeof(struct sock_filter));
                memcpy(*prog, e->bpf, e->bpf_len);
                *len = e->bpf_len / sizeof(struct sock_filter);
                return true;
        }
        return false;
}

int pol_compile_bpf_cached(const sbx_policy *pol, struct sock_filter **prog, size_t *len,
                           sbx_error **err)
{
        cleanup_free char *dir = NULL;
        cleanup_free char *key = NULL, *name = NULL, *path = NULL;

        if (embedded(pol, prog, len))
                return 0;
        dir = cache_dir();
        if (dir == NULL)
                return pol_compile_bpf(pol, prog, len, err);
        key = cache_key(pol);
        name = xasprintf("%s.bpf", key);
        path = xasprintf("%s/%s", dir, name);
        if (load(dir, name, prog, len))
                return 0;
        if (pol_compile_bpf(pol, prog, len, err) < 0)
                return -1;
        if (ensure_dir(dir))
                store(dir, path, *prog, *len);
        return 0;
}
