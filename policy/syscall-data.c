/* syscall-data.c - data, not code: the named syscall groups, the kernel
 * surfaces of the high-level `kernel:` section, symbolic constants usable in
 * argument conditions, and capability names.  Syscall names are libseccomp's
 * x86_64 names; tests/unit/test_policy.c checks that every name resolves.
 */
#include "policy-internal.h"

#include "util.h"

#include <stddef.h>
#include <string.h>

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

const struct pol_group pol_groups[] = {
    {"@basic-io", "read and write open descriptors",
     LIST("read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "preadv2", "pwritev",
          "pwritev2", "lseek", "close", "close_range", "dup", "dup2", "dup3", "sendfile",
          "copy_file_range", "splice", "tee")},
    {"@file-system", "open, stat, create, rename and remove files; extended attributes",
     LIST("access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "chmod", "fchmod",
          "fchmodat", "chown", "fchown", "fchownat", "lchown", "creat", "open", "openat", "openat2",
          "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "link", "linkat",
          "symlink", "symlinkat", "unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir",
          "mkdirat", "rmdir", "mknod", "mknodat", "readlink", "readlinkat", "truncate", "ftruncate",
          "fallocate", "getdents", "getdents64", "utime", "utimes", "utimensat", "futimesat",
          "umask", "fsync", "fdatasync", "syncfs", "sync", "sync_file_range", "flock", "fcntl",
          "fadvise64", "readahead", "inotify_init", "inotify_init1", "inotify_add_watch",
          "inotify_rm_watch", "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr",
          "flistxattr", "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr",
          "fremovexattr")},
    {"@io-event", "wait for events on descriptors",
     LIST("epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
          "epoll_ctl_old", "epoll_wait_old", "poll", "ppoll", "select", "pselect6", "eventfd",
          "eventfd2")},
    {"@aio", "POSIX asynchronous I/O (not io_uring)",
     LIST("io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents")},
    {"@ipc", "pipes, System V and POSIX message queues, semaphores, shared memory",
     LIST("pipe", "pipe2", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop",
          "semctl", "shmget", "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend",
          "mq_timedreceive", "mq_notify", "mq_getsetattr")},
    {"@memory", "map, protect and advise memory",
     LIST("brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock",
          "mlock2", "munlock", "mlockall", "munlockall", "memfd_create", "memfd_secret",
          "membarrier", "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages",
          "get_mempolicy", "set_mempolicy", "mbind")},
    {"@network-io", "sockets (the network namespace still decides what is reachable)",
     LIST("socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname",
          "getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg",
          "sendmmsg", "recvmmsg", "shutdown")},
    {"@process", "create, run, wait for and signal processes; own limits and identity queries",
     LIST("fork", "vfork", "clone", "clone3", "execve", "execveat", "exit", "exit_group", "wait4",
          "waitid", "kill", "tgkill", "tkill", "getpid", "getppid", "gettid", "getpgid", "setpgid",
          "getpgrp", "getsid", "setsid", "pidfd_open", "pidfd_send_signal", "process_mrelease",
          "prctl", "arch_prctl", "set_tid_address", "set_robust_list", "get_robust_list", "rseq",
          "capget", "capset", "getrlimit", "setrlimit", "prlimit64", "getrusage", "getpriority",
          "setpriority", "ioprio_get", "ioprio_set", "times", "uname", "sysinfo", "getcpu",
          "restart_syscall", "seccomp", "getrandom", "modify_ldt")},
    {"@scheduler", "scheduling parameters and CPU affinity",
     LIST("sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
          "sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
          "sched_get_priority_min", "sched_rr_get_interval", "sched_getattr", "sched_setattr")},
    {"@signal", "signal handlers, masks and signal descriptors",
     LIST("rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
          "rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigsuspend", "sigaltstack", "signalfd",
          "signalfd4", "pause")},
    {"@sync", "futexes", LIST("futex", "futex_waitv")},
    {"@timer", "clocks (read only), sleeps and timers",
     LIST("alarm", "getitimer", "setitimer", "timer_create", "timer_delete", "timer_gettime",
          "timer_settime", "timer_getoverrun", "timerfd_create", "timerfd_settime",
          "timerfd_gettime", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres",
          "gettimeofday", "time")},
    {"@credentials", "query and change user and group ids (inside the user namespace)",
     LIST("getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid",
          "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
          "setgroups")},
    {"@landlock", "unprivileged self-sandboxing",
     LIST("landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self")},
    /* risky groups, mostly denied through the kernel surfaces below */
    {"@mount", "mount, unmount, change root",
     LIST("mount", "umount2", "mount_setattr", "move_mount", "open_tree", "fsopen", "fsconfig",
          "fsmount", "fspick", "pivot_root", "chroot")},
    {"@namespaces", "create or join namespaces", LIST("unshare", "setns")},
    {"@module", "load and unload kernel modules",
     LIST("init_module", "finit_module", "delete_module", "create_module", "query_module")},
    {"@reboot", "reboot or replace the kernel", LIST("reboot", "kexec_load", "kexec_file_load")},
    {"@swap", "enable or disable swap", LIST("swapon", "swapoff")},
    {"@clock", "change the system clock",
     LIST("settimeofday", "clock_settime", "clock_adjtime", "adjtimex")},
    {"@debug", "trace and inspect other processes",
     LIST("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "process_madvise",
          "pidfd_getfd")},
    {"@keyring", "kernel key retention service", LIST("keyctl", "add_key", "request_key")},
    {"@raw-io", "raw port and PCI I/O", LIST("iopl", "ioperm")},
    {"@io-uring", "io_uring", LIST("io_uring_setup", "io_uring_enter", "io_uring_register")},
    {"@obsolete", "syscalls the kernel no longer implements",
     LIST("_sysctl", "afs_syscall", "create_module", "get_kernel_syms", "getpmsg", "putpmsg",
          "query_module", "security", "tuxcall", "uselib", "ustat", "vserver", "sysfs",
          "nfsservctl", "lookup_dcookie")},
    {"@privileged", "host administration that needs real privilege",
     LIST("acct", "syslog", "quotactl", "quotactl_fd", "sethostname", "setdomainname", "vhangup",
          "bpf", "perf_event_open", "fanotify_init", "fanotify_mark", "userfaultfd",
          "open_by_handle_at", "name_to_handle_at", "migrate_pages", "move_pages", "io_pgetevents",
          "vmsplice")},
    {NULL, NULL, NULL},
};

const struct pol_group *pol_group_find(const char *name)
{
        for (const struct pol_group *g = pol_groups; g->name; g++)
                if (strcmp(g->name, name) == 0)
                        return g;
        return NULL;
}

/* Namespace creation through clone(2) is refused by flag; the flags of
 * clone3(2) live in memory where a filter can not see them, so clone3 answers
 * ENOSYS and glibc (>= 2.34) falls back to clone. */
#define NS_FLAGS                                                                                   \
        "CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_"  \
        "NEWNET|CLONE_NEWTIME"
#define RULES(...) ((const struct pol_surface_rule[]){__VA_ARGS__, {NULL, NULL, NULL}})

const struct pol_surface pol_surfaces[] = {
    {"kernel.module-loading", "load or unload kernel modules", 10,
     LIST("init_module", "finit_module", "delete_module"), NULL, NULL},
    {"kernel.bpf", "load eBPF programs and maps", 8, LIST("bpf"), NULL, NULL},
    {"kernel.perf", "performance counters and profiling", 6,
     LIST("perf_event_open", "lookup_dcookie"), NULL, NULL},
    {"kernel.io-uring", "io_uring (a large, often exploited kernel surface)", 7,
     LIST("io_uring_setup", "io_uring_enter", "io_uring_register"), NULL, NULL},
    {"kernel.namespaces", "create or join namespaces (user namespaces included)", 8,
     LIST("unshare", "setns"),
     RULES({"clone", "errno EPERM", NULL}, {"clone", "allow", "arg0 & " NS_FLAGS " == 0"},
           {"clone3", "errno ENOSYS", NULL}),
     RULES({"clone", "allow", NULL}, {"clone3", "allow", NULL})},
    {"kernel.keyrings", "kernel keyrings", 4, LIST("keyctl", "add_key", "request_key"), NULL, NULL},
    {"kernel.mount", "mount file systems, change root", 9,
     LIST("mount", "umount2", "mount_setattr", "move_mount", "open_tree", "fsopen", "fsconfig",
          "fsmount", "fspick", "pivot_root", "chroot"),
     NULL, NULL},
    {"kernel.clock-change", "set the system clock", 5,
     LIST("settimeofday", "clock_settime", "clock_adjtime", "adjtimex"), NULL, NULL},
    {"kernel.reboot", "reboot, load a new kernel", 10,
     LIST("reboot", "kexec_load", "kexec_file_load"), NULL, NULL},
    {"kernel.swap", "enable or disable swap", 5, LIST("swapon", "swapoff"), NULL, NULL},
    {"kernel.accounting", "process accounting", 3, LIST("acct"), NULL, NULL},
    {"kernel.kernel-log", "read the kernel log", 4, LIST("syslog"), NULL, NULL},
    {"kernel.quota", "disk quotas", 3, LIST("quotactl", "quotactl_fd"), NULL, NULL},
    {"kernel.userfaultfd", "userfaultfd (used to win kernel races)", 6, LIST("userfaultfd"), NULL,
     NULL},
    {"kernel.file-handles", "open files by handle, bypassing path checks", 7,
     LIST("open_by_handle_at", "name_to_handle_at"), NULL, NULL},
    {"kernel.raw-io", "raw I/O ports", 10, LIST("iopl", "ioperm"), NULL, NULL},
    {"kernel.fanotify", "file-system wide event monitoring", 3,
     LIST("fanotify_init", "fanotify_mark"), NULL, NULL},
    {"kernel.numa", "move other processes' pages between NUMA nodes", 2,
     LIST("migrate_pages", "move_pages"), NULL, NULL},
    {"kernel.hostname", "set host and domain name (of the sandbox's own UTS namespace)", 1,
     LIST("sethostname", "setdomainname"), NULL, NULL},
    {"kernel.personality", "execution domains other than the harmless ones", 3, NULL,
     RULES({"personality", "errno EPERM", NULL}, {"personality", "allow", "arg0 & 0xffffffff == 0"},
           {"personality", "allow", "arg0 & 0xffffffff == 0x8"},
           {"personality", "allow", "arg0 & 0xffffffff == 0x20000"},
           {"personality", "allow", "arg0 & 0xffffffff == 0x20008"},
           {"personality", "allow", "arg0 & 0xffffffff == 0xffffffff"}),
     RULES({"personality", "allow", NULL})},
    {"kernel.terminal-injection", "push input into the terminal (TIOCSTI, TIOCLINUX)", 5, NULL,
     RULES({"ioctl", "allow", NULL}, {"ioctl", "errno EPERM", "arg1 & 0xffffffff == TIOCSTI"},
           {"ioctl", "errno EPERM", "arg1 & 0xffffffff == TIOCLINUX"}),
     RULES({"ioctl", "allow", NULL})},
    {"processes.tracing", "trace or read the memory of other processes", 8,
     LIST("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "process_madvise",
          "pidfd_getfd"),
     NULL, NULL},
};
const size_t pol_n_surfaces = ARRAY_SIZE(pol_surfaces);

const struct pol_const pol_consts[] = {
    {"AF_UNSPEC", 0},
    {"AF_UNIX", 1},
    {"AF_LOCAL", 1},
    {"AF_INET", 2},
    {"AF_INET6", 10},
    {"AF_NETLINK", 16},
    {"AF_PACKET", 17},
    {"AF_VSOCK", 40},
    {"SOCK_STREAM", 1},
    {"SOCK_DGRAM", 2},
    {"SOCK_RAW", 3},
    {"CLONE_NEWTIME", 0x00000080},
    {"CLONE_VM", 0x00000100},
    {"CLONE_FS", 0x00000200},
    {"CLONE_FILES", 0x00000400},
    {"CLONE_SIGHAND", 0x00000800},
    {"CLONE_PIDFD", 0x00001000},
    {"CLONE_PTRACE", 0x00002000},
    {"CLONE_VFORK", 0x00004000},
    {"CLONE_PARENT", 0x00008000},
    {"CLONE_THREAD", 0x00010000},
    {"CLONE_NEWNS", 0x00020000},
    {"CLONE_SYSVSEM", 0x00040000},
    {"CLONE_SETTLS", 0x00080000},
    {"CLONE_NEWCGROUP", 0x02000000},
    {"CLONE_NEWUTS", 0x04000000},
    {"CLONE_NEWIPC", 0x08000000},
    {"CLONE_NEWUSER", 0x10000000},
    {"CLONE_NEWPID", 0x20000000},
    {"CLONE_NEWNET", 0x40000000},
    {"CLONE_IO", 0x80000000},
    {"TIOCSTI", 0x5412},
    {"TIOCLINUX", 0x541C},
    {"TIOCSCTTY", 0x540E},
    {"FIONREAD", 0x541B},
    {"PER_LINUX", 0x0},
    {"UNAME26", 0x0020000},
    {"PER_LINUX32", 0x8},
    {"O_RDONLY", 0},
    {"O_WRONLY", 1},
    {"O_RDWR", 2},
    {"O_ACCMODE", 3},
    {"PROT_EXEC", 4},
    {"PROT_WRITE", 2},
    {"PROT_READ", 1},
    {NULL, 0},
};

const struct pol_cap pol_caps[] = {
    {"CAP_CHOWN", 0, 3},
    {"CAP_DAC_OVERRIDE", 1, 4},
    {"CAP_DAC_READ_SEARCH", 2, 4},
    {"CAP_FOWNER", 3, 3},
    {"CAP_FSETID", 4, 2},
    {"CAP_KILL", 5, 2},
    {"CAP_SETGID", 6, 3},
    {"CAP_SETUID", 7, 3},
    {"CAP_SETPCAP", 8, 4},
    {"CAP_LINUX_IMMUTABLE", 9, 2},
    {"CAP_NET_BIND_SERVICE", 10, 1},
    {"CAP_NET_BROADCAST", 11, 1},
    {"CAP_NET_ADMIN", 12, 7},
    {"CAP_NET_RAW", 13, 5},
    {"CAP_IPC_LOCK", 14, 2},
    {"CAP_IPC_OWNER", 15, 3},
    {"CAP_SYS_MODULE", 16, 10},
    {"CAP_SYS_RAWIO", 17, 10},
    {"CAP_SYS_CHROOT", 18, 4},
    {"CAP_SYS_PTRACE", 19, 8},
    {"CAP_SYS_PACCT", 20, 2},
    {"CAP_SYS_ADMIN", 21, 10},
    {"CAP_SYS_BOOT", 22, 8},
    {"CAP_SYS_NICE", 23, 2},
    {"CAP_SYS_RESOURCE", 24, 4},
    {"CAP_SYS_TIME", 25, 5},
    {"CAP_SYS_TTY_CONFIG", 26, 3},
    {"CAP_MKNOD", 27, 3},
    {"CAP_LEASE", 28, 1},
    {"CAP_AUDIT_WRITE", 29, 2},
    {"CAP_AUDIT_CONTROL", 30, 5},
    {"CAP_SETFCAP", 31, 5},
    {"CAP_MAC_OVERRIDE", 32, 8},
    {"CAP_MAC_ADMIN", 33, 8},
    {"CAP_SYSLOG", 34, 4},
    {"CAP_WAKE_ALARM", 35, 1},
    {"CAP_BLOCK_SUSPEND", 36, 1},
    {"CAP_AUDIT_READ", 37, 3},
    {"CAP_PERFMON", 38, 6},
    {"CAP_BPF", 39, 8},
    {"CAP_CHECKPOINT_RESTORE", 40, 6},
    {NULL, -1, 0},
};

const char *pol_cap_name(int nr)
{
        for (const struct pol_cap *c = pol_caps; c->name; c++)
                if (c->nr == nr)
                        return c->name;
        return NULL;
}

static const struct {
        const char *name;
        int value;
} errnos[] = {
    {"EPERM", 1},    {"ENOENT", 2},      {"ESRCH", 3},  {"EINTR", 4},   {"EIO", 5},
    {"ENXIO", 6},    {"E2BIG", 7},       {"EBADF", 9},  {"EAGAIN", 11}, {"ENOMEM", 12},
    {"EACCES", 13},  {"EFAULT", 14},     {"EBUSY", 16}, {"EEXIST", 17}, {"ENODEV", 19},
    {"EINVAL", 22},  {"ENOTTY", 25},     {"EROFS", 30}, {"ENOSYS", 38}, {"EAFNOSUPPORT", 97},
    {"ENOTSUP", 95}, {"EOPNOTSUPP", 95}, {NULL, 0},
};

int pol_errno_from_name(const char *name)
{
        for (size_t i = 0; errnos[i].name; i++)
                if (strcmp(errnos[i].name, name) == 0)
                        return errnos[i].value;
        return -1;
}

const char *pol_errno_name(int e)
{
        for (size_t i = 0; errnos[i].name; i++)
                if (errnos[i].value == e)
                        return errnos[i].name;
        return NULL;
}
