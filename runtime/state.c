/* state.c - per-sandbox state files and `sbx gc`.
 *
 * Each run keeps the file <state root>/<id> for as long as it lives:
 *   supervisor PID STARTTIME    of the supervising sbx process
 *   cgroup PATH                 of the sandbox cgroup (when it has one)
 * A file rather than a directory because rmdir costs several times what
 * unlink does (it must look for mounts on the directory).  Beside them, <state root>/.mnt is the
 * mount point of every sandbox's scratch tmpfs (each in its own mount namespace, so it is always
 * empty as seen from the host) and <state root>/.hostview holds the skeletons of the host view
 * (hostview.c).  `sbx gc` removes the state files whose supervisor is gone, after killing and
 * removing their cgroup.
 */
#include "internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *sbx_state_root(void)
{
        const char *xdg;

        if (geteuid() == 0)
                return xstrdup("/run/sbx");
        xdg = getenv("XDG_RUNTIME_DIR");
        if (xdg && xdg[0] == '/' && access(xdg, W_OK) == 0)
                return xasprintf("%s/sbx", xdg);
        return xasprintf("/tmp/sbx-%u", (unsigned)geteuid());
}

void sbx_random_id(char out[13])
{
        static const char hex[] = "0123456789abcdef";
        unsigned char b[6];

        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
                /* The id only needs to be unique among live sandboxes. */
                uint64_t v = (uint64_t)getpid() ^ ((uint64_t)time(NULL) << 20);
                memcpy(b, &v, sizeof(b));
        }
        for (size_t i = 0; i < sizeof(b); i++) {
                out[2 * i] = hex[b[i] >> 4];
                out[2 * i + 1] = hex[b[i] & 15];
        }
        out[12] = '\0';
}

/* The state root must belong to us and not be writable by others, or
 * another user could plant a directory or symlink where we mount. */
static int ensure_root(const char *root, sbx_error **err)
{
        struct stat st;

        /* 0711: the sandbox's root (an unprivileged host uid) must be able
         * to reach its own state directory to mount on it, but not list
         * the others. */
        if (mkdir(root, 0711) < 0 && errno != EEXIST)
                return sbx_fail_errno(err, errno, "create state directory `%s`", root);
        if (lstat(root, &st) < 0)
                return sbx_fail_errno(err, errno, "stat `%s`", root);
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
                return sbx_fail(err,
                                "state directory `%s` is not a directory owned by uid %u and "
                                "writable only by it",
                                root, (unsigned)geteuid());
        if ((st.st_mode & 07777) != 0711 && chmod(root, 0711) < 0)
                return sbx_fail_errno(err, errno, "chmod `%s`", root);
        {
                /* The scratch mount point: mounting on a directory that
                 * outlives the sandbox keeps teardown from waiting for the
                 * release of its dead mount namespace. */
                cleanup_free char *mnt = xasprintf("%s/.mnt", root);
                if (mkdir(mnt, 0755) < 0 && errno != EEXIST)
                        return sbx_fail_errno(err, errno, "create `%s`", mnt);
        }
        return 0;
}

char *sbx_state_scratch_dir(void)
{
        cleanup_free char *root = sbx_state_root();
        return xasprintf("%s/.mnt", root);
}

int sbx_state_create(const char *id, char **path_out, sbx_error **err)
{
        cleanup_free char *root = sbx_state_root();
        cleanup_free char *path = NULL, *rec = NULL;
        cleanup_close int fd = -1;

        if (ensure_root(root, err) < 0)
                return -1;
        path = xasprintf("%s/%s", root, id);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return sbx_fail_errno(err, errno, "create state file `%s`", path);
        rec = sbx_supervisor_record();
        if (write_full(fd, rec, strlen(rec)) < 0) {
                int e = errno;
                unlink(path);
                return sbx_fail_errno(err, e, "write state file `%s`", path);
        }
        *path_out = steal_pointer(&path);
        return 0;
}

int sbx_state_set_cgroup(const char *path, const char *cgroup)
{
        cleanup_close int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
        cleanup_free char *line = xasprintf("cgroup %s\n", cgroup);

        if (fd < 0)
                return -1;
        return write_full(fd, line, strlen(line));
}

void sbx_state_remove(const char *path)
{
        unlink(path);
}

/* Start time (field 22 of /proc/PID/stat), to tell a live supervisor from a
 * recycled pid. */
static unsigned long long proc_starttime(pid_t pid)
{
        cleanup_free char *path = xasprintf("/proc/%d/stat", (int)pid);
        cleanup_free char *stat = read_file_at(AT_FDCWD, path, NULL);
        char *p = stat ? strrchr(stat, ')') : NULL;
        int field = 2;

        if (p == NULL)
                return 0;
        for (p++; *p && field < 22; p++)
                if (*p == ' ')
                        field++;
        return strtoull(p, NULL, 10);
}

char *sbx_supervisor_record(void)
{
        return xasprintf("supervisor %d %llu\n", (int)getpid(), proc_starttime(getpid()));
}

static bool supervisor_alive(const char *rec)
{
        int pid;
        unsigned long long start;

        if (sscanf(rec, "supervisor %d %llu", &pid, &start) != 2)
                return false;
        return proc_starttime(pid) == start && start != 0;
}

int sbx_gc(void (*report)(const char *what, void *arg), void *arg, sbx_error **err)
{
        cleanup_free char *root = sbx_state_root();
        cleanup_dir DIR *d = opendir(root);
        struct dirent *de;
        int r = 0;

        if (d == NULL)
                return errno == ENOENT ? 0 : sbx_fail_errno(err, errno, "open `%s`", root);
        while ((de = readdir(d)) != NULL) {
                cleanup_free char *path = NULL, *rec = NULL;
                cleanup_close int fd = -1;
                struct stat st;
                char *cg;

                if (de->d_name[0] == '.')
                        continue;
                path = xasprintf("%s/%s", root, de->d_name);
                fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
                        continue;
                rec = read_fd(fd, NULL);
                /* A file younger than two seconds may belong to a run that
                 * has not finished writing it. */
                if (rec == NULL || supervisor_alive(rec) || time(NULL) - st.st_mtime < 2)
                        continue;
                cg = strstr(rec, "\ncgroup ");
                if (cg) {
                        cg += strlen("\ncgroup ");
                        cg[strcspn(cg, "\n")] = '\0';
                        if (sbx_cgroup_remove_path(cg, err) < 0)
                                r = -1;
                        else if (report) {
                                cleanup_free char *what = xasprintf("cgroup %s", cg);
                                report(what, arg);
                        }
                }
                sbx_state_remove(path);
                if (report) {
                        cleanup_free char *what = xasprintf("state %s", path);
                        report(what, arg);
                }
        }
        /* Host view skeletons are a cache, removed when no run holds them. */
        sbx_hostview_gc(report, arg);
        /* Cgroups whose state file is gone (the supervisor died between
         * removing one and the other): every sbx cgroup has a state file. */
        if (geteuid() == 0) {
                cleanup_free char *parent = sbx_cgroup_parent_dir();
                cleanup_dir DIR *cd = parent ? opendir(parent) : NULL;
                while (cd && (de = readdir(cd)) != NULL) {
                        cleanup_free char *sd = NULL, *cgp = NULL;
                        if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                                continue;
                        sd = xasprintf("%s/%s", root, de->d_name);
                        if (access(sd, F_OK) == 0)
                                continue;
                        cgp = xasprintf("%s/%s", parent, de->d_name);
                        if (sbx_cgroup_remove_path(cgp, err) < 0)
                                r = -1;
                        else if (report) {
                                cleanup_free char *what = xasprintf("cgroup %s", cgp);
                                report(what, arg);
                        }
                }
        }
        return r;
}
