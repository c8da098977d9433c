/* state.c - per-sandbox state directories and `sbx gc`.
 *
 * Each run keeps <state root>/<id>/ for as long as it lives:
 *   supervisor   "PID STARTTIME" of the supervising sbx process
 *   cgroup       absolute path of the sandbox cgroup (when it has one)
 * The directory doubles as the scratch mount point of the sandbox's
 * private tmpfs (mounted only inside the sandbox's mount namespace), so it
 * is always empty as seen from the host apart from these files.  `sbx gc`
 * removes the directories whose supervisor is gone, after killing and
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
        return 0;
}

int sbx_state_create(const char *id, uid_t owner, char **dir_out, sbx_error **err)
{
        cleanup_free char *root = sbx_state_root();
        cleanup_free char *dir = NULL;

        if (ensure_root(root, err) < 0)
                return -1;
        dir = xasprintf("%s/%s", root, id);
        if (mkdir(dir, 0700) < 0)
                return sbx_fail_errno(err, errno, "create state directory `%s`", dir);
        if (owner != geteuid() && chown(dir, owner, (gid_t)-1) < 0) {
                int e = errno;
                rmdir(dir);
                return sbx_fail_errno(err, e, "chown state directory `%s`", dir);
        }
        *dir_out = steal_pointer(&dir);
        return 0;
}

int sbx_state_write(const char *dir, const char *key, const char *value)
{
        cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -1;
        return write_file_at(dfd, key, value, true, 0600);
}

void sbx_state_remove(const char *dir)
{
        static const char *const keys[] = {"supervisor", "cgroup"};
        cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd >= 0)
                for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                        unlinkat(dfd, keys[i], 0);
        rmdir(dir);
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
        return xasprintf("%d %llu\n", (int)getpid(), proc_starttime(getpid()));
}

static bool supervisor_alive(int dfd)
{
        cleanup_free char *rec = read_file_at(dfd, "supervisor", NULL);
        int pid;
        unsigned long long start;

        if (rec == NULL || sscanf(rec, "%d %llu", &pid, &start) != 2)
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
                cleanup_free char *dir = NULL, *cg = NULL;
                cleanup_close int dfd = -1;
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                dir = xasprintf("%s/%s", root, de->d_name);
                dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                /* As root, state dirs belong to the sandbox's root uid. */
                if (dfd < 0 || fstat(dfd, &st) < 0 ||
                    (st.st_uid != geteuid() &&
                     !(geteuid() == 0 && st.st_uid == SBX_ROOTFUL_HOST_BASE)))
                        continue;
                /* A directory younger than a second may belong to a run that
                 * has not written its supervisor record yet. */
                if (supervisor_alive(dfd) || time(NULL) - st.st_mtime < 2)
                        continue;
                cg = read_file_at(dfd, "cgroup", NULL);
                if (cg && cg[0] == '/') {
                        cg[strcspn(cg, "\n")] = '\0';
                        if (sbx_cgroup_remove_path(cg, err) < 0)
                                r = -1;
                        else if (report) {
                                cleanup_free char *what = xasprintf("cgroup %s", cg);
                                report(what, arg);
                        }
                }
                sbx_state_remove(dir);
                if (report) {
                        cleanup_free char *what = xasprintf("state %s", dir);
                        report(what, arg);
                }
        }
        /* Cgroups whose state directory is gone (the supervisor died
         * between creating them): every sbx cgroup must have a state dir. */
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
