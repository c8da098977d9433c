/* test_policy.c - the policy compiler: parser errors with exact messages,
 * compiled filters run through sbx_bpf_run on rows of (arch, nr, args,
 * expected action) for every built-in policy and a Docker profile import,
 * extends merge rules, explain and diff on fixtures. */
#include "policy-internal.h"
#include "util.h"

#include <check.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#define FIX "tests/unit/policy-fixtures/"
#define X32 0x40000000U
#define ALLOW SECCOMP_RET_ALLOW
#define KILL SECCOMP_RET_KILL_PROCESS
#define E(x) (SECCOMP_RET_ERRNO | (x))

static sbx_policy *load(const char *name)
{
        sbx_error *err = NULL;
        sbx_policy *pol = NULL;

        if (sbx_policy_load(name, &pol, &err) < 0)
                ck_abort_msg("load %s: %s", name, err->msg);
        return pol;
}

static sbx_plan *compile(const sbx_policy *pol)
{
        sbx_error *err = NULL;
        sbx_plan *plan = NULL;

        if (sbx_policy_compile(pol, &plan, &err) < 0)
                ck_abort_msg("compile: %s", err->msg);
        return plan;
}

/* ---- parser errors ---- */

static const struct {
        const char *text, *msg;
} bad[] = {
    {"sbx-policy: 1\nsyscalls:\n  rules:\n    - {syscall: kill, action: allow, when: arg0 > 0}\n",
     "t.yaml:4:44: condition on arg0 can be bypassed through the upper 32 bits of an int "
     "argument in a rule that permits; compare with == (or `arg0 & MASK == VALUE`) and deny "
     "the rest"},
    {"sbx-policy: 1\nsyscalls:\n  rules:\n    - {syscall: kill, action: errno EPERM, when: "
     "arg0 < 2}\n",
     "t.yaml:4:50: condition on arg0 can be bypassed through the upper 32 bits of an int "
     "argument in a rule that denies; compare with == (or `arg0 & MASK == VALUE`) and permit "
     "the rest"},
    {"sbx-policy: 1\nfoo: 1\n", "t.yaml:2:1: unknown key `foo`"},
    {"network: none\n", "t.yaml:1:1: missing `sbx-policy: 1` (the language version)"},
    {"sbx-policy: 2\n", "t.yaml:1:13: unsupported sbx-policy version `2` (expected 1)"},
    {"", "t.yaml:1:1: empty policy (it needs at least `sbx-policy: 1`)"},
    {"sbx-policy: 1\nsyscalls:\n  allow: [opne]\n", "t.yaml:3:11: unknown syscall `opne`"},
    {"sbx-policy: 1\nsyscalls:\n  deny: [\"@nope\"]\n", "t.yaml:3:10: unknown group `@nope`"},
    {"sbx-policy: 1\nsyscalls:\n  color: red\n", "t.yaml:3:3: unknown key `color` in syscalls"},
    {"sbx-policy: 1\nlimits:\n  memory: 12XB\n",
     "t.yaml:3:11: bad size `12XB` (examples: 512MiB, 1GiB, 0)"},
    {"sbx-policy: 1\nlimits:\n  time: soon\n",
     "t.yaml:3:9: bad duration `soon` (examples: 300s, 5m, 1h)"},
    {"sbx-policy: 1\nlimits:\n  cpu: lots\n",
     "t.yaml:3:8: bad cpu count `lots` (examples: 1, 0.5, 2)"},
    {"sbx-policy: 1\nlimits:\n  disk-speed: 1\n", "t.yaml:3:3: unknown key `disk-speed` in limits"},
    {"sbx-policy: 1\nlimits:\n  memory: {value: 1GiB, enforcement: maybe}\n",
     "t.yaml:3:38: enforcement is strict or best-effort, not `maybe`"},
    {"sbx-policy: 1\nsyscalls:\n  allow: [ptrace]\n  deny: [ptrace]\n",
     "t.yaml:4:10: conflicting rules for `ptrace`: errno EPERM here, allow at t.yaml:3: "
     "syscalls.allow"},
    {"sbx-policy: 1\nkernel:\n  mount: deny\nsyscalls:\n  allow: [mount]\n",
     "t.yaml:5:11: conflicting rules for `mount`: allow here, errno EPERM at t.yaml:3: "
     "kernel.mount"},
    {"sbx-policy: 1\nsyscalls:\n  allow: [\"@mount\"]\n  deny: [\"@namespaces\", \"@mount\"]\n",
     "t.yaml:4:25: conflicting rules for `mount`: errno EPERM here, allow at t.yaml:3: "
     "syscalls.allow"},
    {"sbx-policy: 1\nprocesses:\n  max: 5\nlimits:\n  pids: 6\n",
     "t.yaml:5:3: conflicting rules: processes.max and limits.pids set the same limit"},
    {"sbx-policy: 1\nextends: nosuch\n",
     "t.yaml:2:10: unknown built-in policy `nosuch` (see `sbx policy list`)"},
    {"sbx-policy: 1\nnetwork: internet\n",
     "t.yaml:2:10: network is none or loopback, not `internet`"},
    {"sbx-policy: 1\nkernel:\n  bpf: maybe\n",
     "t.yaml:3:8: `kernel.bpf` is allow or deny, not `maybe`"},
    {"sbx-policy: 1\nkernel:\n  warp-drive: deny\n", "t.yaml:3:3: unknown key `kernel.warp-drive`"},
    {"sbx-policy: 1\nprivileges:\n  no-new-privileges: false\n",
     "t.yaml:3:22: no-new-privileges can not be turned off"},
    {"sbx-policy: 1\nprivileges:\n  capabilities: [CAP_FLY]\n",
     "t.yaml:3:18: unknown capability `CAP_FLY`"},
    {"sbx-policy: 1\nsyscalls:\n  rules:\n    - syscall: socket\n      action: errno EWHAT\n",
     "t.yaml:5:15: unknown action `errno EWHAT` (allow, errno NAME, kill-process, kill-thread, "
     "trap, log, notify)"},
    {"sbx-policy: 1\nsyscalls:\n  rules:\n    - syscall: socket\n      action: allow\n"
     "      when: arg0 == AF_BOGUS\n",
     "t.yaml:6:13: bad condition `arg0 == AF_BOGUS`: unknown constant"},
    {"sbx-policy: 1\nsyscalls:\n  rules:\n    - syscall: socket\n      action: allow\n"
     "      when: [arg0 == 1, arg0 == 2]\n",
     "t.yaml:6:25: two conditions on arg0 in one rule; write two rules"},
    {"sbx-policy: 1\nsyscalls:\n  rules:\n    - syscall: socket\n      action: allow\n"
     "      when: arg0 & 1 == 2\n",
     "t.yaml:6:13: bad condition `arg0 & 1 == 2`: the value has bits outside the mask, so it "
     "can never match"},
    {"sbx-policy: 1\nsyscalls:\n  rules:\n    - action: allow\n",
     "t.yaml:4:7: a rule needs `syscall:` or `syscalls:`"},
    {"sbx-policy: 1\nsyscalls:\n  default-action: allow\n",
     "t.yaml:3:19: default-action allow is refused: list what is allowed"},
    {"sbx-policy: 1\nsyscalls:\n  default-action: log\n",
     "t.yaml:3:19: default-action log is refused: list what is allowed"},
    /* socket(AF_INET, SOCK_RAW) matches both: the filter would allow it. */
    {"sbx-policy: 1\nsyscalls:\n  rules:\n    - {syscall: socket, action: errno EPERM, when: "
     "arg0 == AF_INET}\n    - {syscall: socket, action: allow, when: arg1 == SOCK_RAW}\n",
     "t.yaml:5:17: conflicting rules for `socket`: allow here, errno EPERM at t.yaml:4: "
     "syscalls.rules; one call can match both, make their conditions exclusive"},
    {"sbx-policy: 1\nfilesystem:\n  writable:\n    - path: tmp\n      size: 1MiB\n",
     "t.yaml:4:13: `tmp` must be an absolute path without `..`"},
    {"sbx-policy: 1\nfilesystem:\n  writable:\n    - path: /tmp\n",
     "t.yaml:4:7: a writable path needs `size:`"},
    {"sbx-policy: 1\nfilesystem:\n  root: floppy\n",
     "t.yaml:3:9: filesystem.root is ephemeral or read-only, not `floppy`"},
    {"sbx-policy: 1\nidentity:\n  uid: -1\n", "t.yaml:3:8: bad uid `-1` (0..65534)"},
    {"sbx-policy: 1\nenvironment:\n  pass: [\"A B\"]\n", "t.yaml:3:10: bad variable name `A B`"},
    {"sbx-policy: 1\nnetwork: [\n", "t.yaml:3:1: did not find expected node content while "
                                    "parsing a flow node"},
    {"sbx-policy: 1\n  bad: indent\n",
     "t.yaml:2:6: mapping values are not allowed in this context"},
};

START_TEST(test_parse_errors)
{
        sbx_error *err = NULL;
        sbx_policy *pol = NULL;

        ck_assert_int_eq(
            sbx_policy_load_string("t.yaml", bad[_i].text, strlen(bad[_i].text), &pol, &err), -1);
        ck_assert_ptr_null(pol);
        ck_assert_ptr_nonnull(err);
        ck_assert_str_eq(err->msg, bad[_i].msg);
        sbx_error_free(err);
}
END_TEST

/* Two rules with the same conditions and different actions: caught when
 * the filter is built, both rules named, nothing compiled. */
START_TEST(test_conflicting_conditions)
{
        static const char text[] = "sbx-policy: 1\nsyscalls:\n  rules:\n"
                                   "    - syscall: socket\n      action: errno EACCES\n"
                                   "      when: arg0 == AF_UNIX\n"
                                   "    - syscall: socket\n      action: errno EPERM\n"
                                   "      when: arg0 == AF_UNIX\n";
        sbx_error *err = NULL;
        sbx_policy *pol = NULL;
        sbx_plan *plan = NULL;

        ck_assert_int_eq(sbx_policy_load_string("t.yaml", text, strlen(text), &pol, &err), 0);
        ck_assert_int_eq(sbx_policy_compile(pol, &plan, &err), -1);
        ck_assert_ptr_null(plan);
        ck_assert_str_eq(err->msg, "t.yaml:7: syscalls.rules: conflicting rules for `socket`: "
                                   "the same conditions have another action at t.yaml:4: "
                                   "syscalls.rules");
        sbx_error_free(err);
        sbx_policy_free(pol);
}
END_TEST

START_TEST(test_extends_cycle)
{
        sbx_error *err = NULL;
        sbx_policy *pol = NULL;
        char *real = realpath(FIX "cycle-a.yaml", NULL),
             *realb = realpath(FIX "cycle-b.yaml", NULL);
        char *want =
            xasprintf(FIX "cycle-b.yaml:2:10: cycle in extends: %s -> %s -> %s", real, realb, real);

        ck_assert_int_eq(sbx_policy_load(FIX "cycle-a.yaml", &pol, &err), -1);
        ck_assert_str_eq(err->msg, want);
        sbx_error_free(err);
        free(real);
        free(realb);
        free(want);
}
END_TEST

START_TEST(test_unknown_builtin)
{
        sbx_error *err = NULL;
        sbx_policy *pol = NULL;

        ck_assert_int_eq(sbx_policy_load("nosuch", &pol, &err), -1);
        ck_assert_str_eq(err->msg, "unknown built-in policy `nosuch` (see `sbx policy list`)");
        sbx_error_free(err);
}
END_TEST

/* every name in the data tables is one libseccomp knows (on some arch) */
START_TEST(test_data_names)
{
        for (const struct pol_group *g = pol_groups; g->name; g++)
                for (size_t i = 0; g->syscalls[i]; i++)
                        ck_assert_msg(pol_syscall_nr(g->syscalls[i]) != -1, "%s: %s", g->name,
                                      g->syscalls[i]);
        for (size_t s = 0; s < pol_n_surfaces; s++) {
                for (size_t i = 0; pol_surfaces[s].syscalls && pol_surfaces[s].syscalls[i]; i++)
                        ck_assert_msg(pol_syscall_nr(pol_surfaces[s].syscalls[i]) >= 0, "%s",
                                      pol_surfaces[s].syscalls[i]);
        }
}
END_TEST

/* ---- filters on rows ---- */

struct row {
        const char *policy;
        uint32_t arch;
        uint32_t nr;
        uint64_t args[6];
        uint32_t want;
};

#define X86 AUDIT_ARCH_X86_64
#define NS_ALL 0x7e020080ULL

static const struct row rows[] = {
    /* default: the everyday surface */
    {"default", X86, SYS_read, {0}, ALLOW},
    {"default", X86, SYS_write, {1}, ALLOW},
    {"default", X86, SYS_mmap, {0}, ALLOW},
    {"default", X86, SYS_execve, {0}, ALLOW},
    {"default", X86, SYS_futex, {0}, ALLOW},
    {"default", X86, SYS_getrandom, {0}, ALLOW},
    {"default", X86, SYS_rseq, {0}, ALLOW},
    {"default", X86, SYS_clone, {0x3d0f00}, ALLOW},   /* pthread_create's flags */
    {"default", X86, SYS_clone, {0x01200011}, ALLOW}, /* fork's flags */
    {"default", X86, SYS_clone3, {0}, E(ENOSYS)},
    {"default", X86, SYS_clone, {0x10000000}, E(EPERM)},  /* CLONE_NEWUSER */
    {"default", X86, SYS_clone, {0x40010000}, E(EPERM)},  /* CLONE_NEWNET|CLONE_THREAD */
    {"default", X86, SYS_clone, {0x00000080}, E(EPERM)},  /* CLONE_NEWTIME */
    {"default", X86, SYS_clone, {0x02000000}, E(EPERM)},  /* CLONE_NEWCGROUP */
    {"default", X86, SYS_clone, {0x100000000ULL}, ALLOW}, /* high bits: not a namespace flag */
    {"default", X86, SYS_unshare, {0}, E(EPERM)},
    {"default", X86, SYS_setns, {0}, E(EPERM)},
    {"default", X86, SYS_mount, {0}, E(EPERM)},
    {"default", X86, SYS_umount2, {0}, E(EPERM)},
    {"default", X86, SYS_fsopen, {0}, E(EPERM)},
    {"default", X86, SYS_open_tree, {0}, E(EPERM)},
    {"default", X86, SYS_move_mount, {0}, E(EPERM)},
    {"default", X86, SYS_pivot_root, {0}, E(EPERM)},
    {"default", X86, SYS_chroot, {0}, E(EPERM)},
    {"default", X86, SYS_ptrace, {0}, E(EPERM)},
    {"default", X86, SYS_process_vm_readv, {0}, E(EPERM)},
    {"default", X86, SYS_process_vm_writev, {0}, E(EPERM)},
    {"default", X86, SYS_bpf, {0}, E(EPERM)},
    {"default", X86, SYS_perf_event_open, {0}, E(EPERM)},
    {"default", X86, SYS_keyctl, {0}, E(EPERM)},
    {"default", X86, SYS_add_key, {0}, E(EPERM)},
    {"default", X86, SYS_request_key, {0}, E(EPERM)},
    {"default", X86, SYS_init_module, {0}, E(EPERM)},
    {"default", X86, SYS_finit_module, {0}, E(EPERM)},
    {"default", X86, SYS_delete_module, {0}, E(EPERM)},
    {"default", X86, SYS_kexec_load, {0}, E(EPERM)},
    {"default", X86, SYS_kexec_file_load, {0}, E(EPERM)},
    {"default", X86, SYS_io_uring_setup, {0}, E(EPERM)},
    {"default", X86, SYS_io_uring_enter, {0}, E(EPERM)},
    {"default", X86, SYS_io_uring_register, {0}, E(EPERM)},
    {"default", X86, SYS_userfaultfd, {0}, E(EPERM)},
    {"default", X86, SYS_open_by_handle_at, {0}, E(EPERM)},
    {"default", X86, SYS_name_to_handle_at, {0}, E(EPERM)},
    {"default", X86, SYS_reboot, {0}, E(EPERM)},
    {"default", X86, SYS_settimeofday, {0}, E(EPERM)},
    {"default", X86, SYS_clock_settime, {0}, E(EPERM)},
    {"default", X86, SYS_clock_adjtime, {0}, E(EPERM)},
    {"default", X86, SYS_adjtimex, {0}, E(EPERM)},
    {"default", X86, SYS_acct, {0}, E(EPERM)},
    {"default", X86, SYS_swapon, {0}, E(EPERM)},
    {"default", X86, SYS_swapoff, {0}, E(EPERM)},
    {"default", X86, SYS_quotactl, {0}, E(EPERM)},
    {"default", X86, SYS_syslog, {0}, E(EPERM)},
    {"default", X86, SYS_lookup_dcookie, {0}, E(EPERM)},
    {"default", X86, SYS_fanotify_init, {0}, E(EPERM)},
    {"default", X86, SYS_iopl, {0}, E(EPERM)},
    {"default", X86, SYS_ioperm, {0}, E(EPERM)},
    {"default", X86, SYS_personality, {0}, ALLOW},
    {"default", X86, SYS_personality, {0x8}, ALLOW},
    {"default", X86, SYS_personality, {0x20008}, ALLOW},
    {"default", X86, SYS_personality, {0xffffffff}, ALLOW},        /* query */
    {"default", X86, SYS_personality, {0x0400000}, E(EPERM)},      /* READ_IMPLIES_EXEC */
    {"default", X86, SYS_personality, {0x0040000}, E(EPERM)},      /* ADDR_NO_RANDOMIZE */
    {"default", X86, SYS_ioctl, {0, 0x5401}, ALLOW},               /* TCGETS */
    {"default", X86, SYS_ioctl, {0, 0x5412}, E(EPERM)},            /* TIOCSTI */
    {"default", X86, SYS_ioctl, {0, 0xdead00005412ULL}, E(EPERM)}, /* the kernel reads 32 bits */
    {"default", X86, SYS_ioctl, {0, 0x541C}, E(EPERM)},            /* TIOCLINUX */
    {"default", X86, SYS_socket, {1}, ALLOW},
    {"default", X86, SYS_socket, {2}, ALLOW},
    {"default", X86, SYS_socket, {10}, ALLOW},
    {"default", X86, SYS_socket, {16}, E(EAFNOSUPPORT)}, /* netlink */
    {"default", X86, SYS_socket, {17}, E(EAFNOSUPPORT)}, /* packet */
    {"default", X86, SYS_socket, {40}, E(EAFNOSUPPORT)}, /* vsock */
    {"default", X86, SYS_socket, {0x100000002ULL}, E(EAFNOSUPPORT)},
    {"default", X86, SYS_vmsplice, {0}, E(EPERM)},
    {"default", X86, 460, {0}, E(ENOSYS)}, /* newer than libseccomp's table */
    {"default", X86, 511, {0}, E(ENOSYS)},
    {"default", X86, 0xffffffff, {0}, E(ENOSYS)},
    /* other ABIs: never fall through to allow */
    {"default", X86, X32 | SYS_read, {0}, KILL},
    {"default", X86, X32 | 520, {0}, KILL}, /* x32 execve */
    {"default", X86, X32 | SYS_mount, {0}, KILL},
    {"default", AUDIT_ARCH_I386, 3, {0}, KILL},  /* i386 read */
    {"default", AUDIT_ARCH_I386, 11, {0}, KILL}, /* i386 execve */
    {"default", AUDIT_ARCH_AARCH64, 63, {0}, KILL},
    /* baseline: Docker's surface */
    {"baseline", X86, SYS_read, {0}, ALLOW},
    {"baseline", X86, SYS_ptrace, {0}, ALLOW},
    {"baseline", X86, SYS_process_vm_readv, {0}, ALLOW},
    {"baseline", X86, SYS_keyctl, {0}, ALLOW},
    {"baseline", X86, SYS_ioctl, {0, 0x5412}, ALLOW},
    {"baseline", X86, SYS_socket, {16}, ALLOW},
    {"baseline", X86, SYS_mount, {0}, E(EPERM)},
    {"baseline", X86, SYS_clone, {0x10000000}, E(EPERM)},
    {"baseline", X86, SYS_clone3, {0}, E(ENOSYS)},
    {"baseline", X86, SYS_io_uring_setup, {0}, E(EPERM)},
    {"baseline", X86, SYS_bpf, {0}, E(EPERM)},
    {"baseline", X86, X32 | SYS_read, {0}, KILL},
    {"baseline", AUDIT_ARCH_I386, 3, {0}, KILL},
    /* strict */
    {"strict", X86, SYS_read, {0}, ALLOW},
    {"strict", X86, SYS_socket, {1}, ALLOW},
    {"strict", X86, SYS_socket, {2}, E(EAFNOSUPPORT)},
    {"strict", X86, SYS_socket, {10}, E(EAFNOSUPPORT)},
    {"strict", X86, SYS_shmget, {0}, E(EPERM)},
    {"strict", X86, SYS_io_setup, {0}, E(EPERM)},
    {"strict", X86, SYS_pipe2, {0}, ALLOW},
    {"strict", X86, SYS_ptrace, {0}, E(EPERM)},
    {"strict", X86, SYS_clone, {0x10000000}, E(EPERM)},
    {"strict", X86, SYS_clone3, {0}, E(ENOSYS)},
    {"strict", X86, X32 | SYS_read, {0}, KILL},
    {"strict", AUDIT_ARCH_I386, 3, {0}, KILL},
    /* audit: enforcing program as default */
    {"audit", X86, SYS_read, {0}, ALLOW},
    {"audit", X86, SYS_mount, {0}, E(EPERM)},
    {"audit", X86, X32 | SYS_read, {0}, KILL},
    /* argument-condition edges */
    {FIX "conditions.yaml", X86, SYS_mmap, {0, 4096, 3}, ALLOW},
    {FIX "conditions.yaml", X86, SYS_mmap, {0, 4096, 7}, KILL},
    {FIX "conditions.yaml", X86, SYS_openat, {0, 0, 1}, E(EACCES)},
    {FIX "conditions.yaml", X86, SYS_openat, {0, 0, 0x241}, E(EACCES)},
    {FIX "conditions.yaml", X86, SYS_openat, {0, 0, 2}, ALLOW},
    {FIX "conditions.yaml", X86, SYS_kill, {1, 15}, ALLOW},
    {FIX "conditions.yaml", X86, SYS_kill, {1, 16}, E(ENOSYS)},
    /* upper bits of an int argument can not turn a <= into a match */
    {FIX "conditions.yaml", X86, SYS_kill, {1, 0x100000009ULL}, E(ENOSYS)},
    /* a deny rule's == compares the low 32 bits: upper bits do not get past it */
    {FIX "conditions.yaml", X86, SYS_socket, {17}, E(EPERM)},
    {FIX "conditions.yaml", X86, SYS_socket, {0x100000011ULL}, E(EPERM)},
    {FIX "conditions.yaml", X86, SYS_socket, {2}, ALLOW},
    {FIX "conditions.yaml", X86, SYS_lseek, {0, 0, 2}, ALLOW},
    {FIX "conditions.yaml", X86, SYS_lseek, {0, 0, 3}, SECCOMP_RET_TRAP},
    {FIX "conditions.yaml", X86, SYS_getpid, {0}, SECCOMP_RET_LOG},
    {FIX "conditions.yaml", X86, SYS_close, {0}, E(ENOSYS)},
};

START_TEST(test_rows)
{
        const struct row *r = &rows[_i];
        sbx_policy *pol = load(r->policy);
        sbx_plan *plan = compile(pol);
        struct seccomp_data sd = {.nr = (int)r->nr, .arch = r->arch};
        uint32_t got;

        memcpy(sd.args, r->args, sizeof(sd.args));
        got = sbx_bpf_run(plan->seccomp, plan->seccomp_len, &sd);
        ck_assert_msg(got == r->want, "%s: arch %x nr %#x arg0 %#llx arg1 %#llx: got %#x want %#x",
                      r->policy, r->arch, r->nr, (unsigned long long)r->args[0],
                      (unsigned long long)r->args[1], got, r->want);
        if (r->arch == X86 && r->nr < POL_NR_MAX) {
                const char *origin;
                ck_assert_uint_eq(pol_decide(pol, (int)r->nr, r->args, &origin), r->want);
        }
        sbx_plan_free(plan);
        sbx_policy_free(pol);
}
END_TEST

/* The compiled program and the rule model agree on every syscall number. */
START_TEST(test_model_agrees)
{
        const char *name = sbx_policy_builtin_names()[_i];
        static const uint64_t samples[][6] = {{0}, {1, 0x5412}, {16, 0x10000000}, {~0ULL, ~0ULL}};
        sbx_policy *pol = load(name);
        sbx_plan *plan = compile(pol);

        for (int nr = 0; nr < POL_NR_MAX; nr++)
                for (size_t s = 0; s < ARRAY_SIZE(samples); s++) {
                        struct seccomp_data sd = {.nr = nr, .arch = X86};
                        const char *origin;

                        memcpy(sd.args, samples[s], sizeof(sd.args));
                        ck_assert_msg(sbx_bpf_run(plan->seccomp, plan->seccomp_len, &sd) ==
                                          pol_decide(pol, nr, samples[s], &origin),
                                      "%s nr %d sample %zu", name, nr, s);
                }
        sbx_plan_free(plan);
        sbx_policy_free(pol);
}
END_TEST

START_TEST(test_audit_program)
{
        sbx_policy *pol = load("audit");
        sbx_plan *plan = compile(pol);
        struct seccomp_data sd = {.nr = SYS_mount, .arch = X86};

        ck_assert_int_eq(plan->audit, SBX_AUDIT_DENIED);
        ck_assert_uint_eq(plan->seccomp_audit_len, plan->seccomp_len);
        ck_assert_uint_eq(sbx_bpf_run(plan->seccomp_audit, plan->seccomp_audit_len, &sd),
                          SECCOMP_RET_USER_NOTIF);
        sd.nr = SYS_read;
        ck_assert_uint_eq(sbx_bpf_run(plan->seccomp_audit, plan->seccomp_audit_len, &sd), ALLOW);
        sd.nr = X32 | SYS_read;
        ck_assert_uint_eq(sbx_bpf_run(plan->seccomp_audit, plan->seccomp_audit_len, &sd), KILL);
        sbx_plan_free(plan);
        sbx_policy_free(pol);
}
END_TEST

/* Docker's profile, as podman ships it, imported and compiled. */
START_TEST(test_docker_import)
{
        const char *src = "/usr/share/containers/seccomp.json";
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        sbx_error *err = NULL;
        sbx_policy *pol = NULL;
        sbx_plan *plan;
        static const struct row drows[] = {
            {"", X86, SYS_read, {0}, ALLOW},
            {"", X86, SYS_clone, {0}, ALLOW},
            {"", X86, SYS_mount, {0}, ALLOW}, /* podman's profile leaves mount to caps */
            {"", X86, SYS_kexec_load, {0}, E(EPERM)},
            {"", X86, SYS_bpf, {0}, E(EPERM)}, /* needs CAP_SYS_ADMIN */
            {"", X86, SYS_personality, {8}, ALLOW},
            {"", X86, SYS_personality, {0x0400000}, E(ENOSYS)},
            {"", X86, SYS_socket, {16, 3, 9}, E(EINVAL)}, /* NETLINK_AUDIT */
            {"", X86, SYS_socket, {2, 1, 0}, ALLOW},
            /* Docker's own "allow when arg0 != 16" would let these through */
            {"", X86, SYS_socket, {0x100000010ULL, 3, 9}, E(EINVAL)},
            {"", X86, SYS_socket, {16, 3, 0x700000009ULL}, E(EINVAL)},
            {"", X86, SYS_socket, {16, 3, 0}, ALLOW},
            {"", X86, 500, {0}, E(ENOSYS)},
            {"", X86, X32 | SYS_read, {0}, KILL},
            {"", AUDIT_ARCH_I386, 3, {0}, KILL},
        };

        ck_assert_int_eq(sbx_policy_import_docker(src, f, &err), 0);
        fclose(f);
        if (sbx_policy_load_string("docker.yaml", text, len, &pol, &err) < 0)
                ck_abort_msg("%s", err->msg);
        plan = compile(pol);
        for (size_t i = 0; i < ARRAY_SIZE(drows); i++) {
                struct seccomp_data sd = {.nr = (int)drows[i].nr, .arch = drows[i].arch};

                memcpy(sd.args, drows[i].args, sizeof(sd.args));
                ck_assert_msg(sbx_bpf_run(plan->seccomp, plan->seccomp_len, &sd) == drows[i].want,
                              "row %zu", i);
        }
        sbx_plan_free(plan);
        sbx_policy_free(pol);
        free(text);
}
END_TEST

/* ---- plan values and merge rules ---- */

START_TEST(test_default_plan)
{
        sbx_policy *pol = load("default");
        sbx_plan *p = compile(pol);

        ck_assert_str_eq(p->policy_name, "default");
        ck_assert_uint_eq(strlen(p->policy_sha256), 64);
        ck_assert(p->memory_max.set && p->memory_max.best_effort);
        ck_assert_uint_eq(p->memory_max.value, 1ULL << 30);
        ck_assert_str_eq(p->memory_max.origin, "default.yaml:36: limits.memory");
        ck_assert(p->swap_max.set && p->swap_max.value == 0);
        ck_assert_uint_eq(p->pids_max.value, 512);
        ck_assert_uint_eq(p->cpu_quota.value, 200000);
        ck_assert_uint_eq(p->cpu_period, 100000);
        ck_assert_uint_eq(p->nofile.value, 1024);
        ck_assert_uint_eq(p->timeout.value, 300000);
        ck_assert_uint_eq(p->root_size, 1ULL << 30);
        ck_assert_int_eq(p->root_mode, SBX_ROOT_EPHEMERAL);
        ck_assert_uint_eq(p->n_tmpfs, 2);
        ck_assert_str_eq(p->tmpfs[0].path, "/tmp");
        ck_assert_uint_eq(p->tmpfs[0].size, 512ULL << 20);
        ck_assert_int_eq(p->net, SBX_NET_LOOPBACK);
        ck_assert_uint_eq(p->caps_keep, 0);
        ck_assert(p->no_new_privs);
        ck_assert_uint_eq(p->uid, 1000);
        ck_assert_str_eq(p->home, "/home/user");
        ck_assert_ptr_null(p->env_allow);
        ck_assert_str_eq(p->env_pass[0], "TERM");
        sbx_plan_free(p);
        sbx_policy_free(pol);
}
END_TEST

START_TEST(test_strict_plan)
{
        sbx_policy *pol = load("strict");
        sbx_plan *p = compile(pol);

        ck_assert(p->memory_max.set && !p->memory_max.best_effort);
        ck_assert_int_eq(p->net, SBX_NET_NONE);
        ck_assert_int_eq(p->root_mode, SBX_ROOT_READONLY);
        ck_assert_uint_eq(p->tmpfs[0].size, 256ULL << 20);
        sbx_plan_free(p);
        sbx_policy_free(pol);
}
END_TEST

START_TEST(test_extends_merge)
{
        sbx_policy *pol = load(FIX "child.yaml");
        sbx_plan *p = compile(pol);
        struct seccomp_data sd = {.nr = SYS_chmod, .arch = X86};

        ck_assert_str_eq(p->policy_name, "child");
        ck_assert_uint_eq(p->memory_max.value, 512ULL << 20); /* child replaces */
        ck_assert_str_eq(p->memory_max.origin, FIX "child.yaml:5: limits.memory");
        ck_assert_uint_eq(p->pids_max.value, 64); /* parent kept */
        ck_assert_str_eq(p->pids_max.origin, FIX "./parent.yaml:7: limits.pids");
        ck_assert_uint_eq(p->timeout.value, 300000); /* grandparent kept */
        ck_assert_int_eq(p->net, SBX_NET_NONE);
        ck_assert_uint_eq(p->n_tmpfs, 3); /* merged by path */
        ck_assert_str_eq(p->tmpfs[0].path, "/tmp");
        ck_assert_uint_eq(p->tmpfs[0].size, 128ULL << 20);
        ck_assert_str_eq(p->tmpfs[2].path, "/data");
        ck_assert_uint_eq(p->caps_keep, 1ULL << 10); /* replaced */
        ck_assert_str_eq(p->env_set[2], "A=1");      /* merged by name */
        ck_assert_str_eq(p->env_set[3], "B=2");
        ck_assert_str_eq(p->env_pass[0], "TERM"); /* union */
        ck_assert_str_eq(p->env_pass[1], "LANG");
        ck_assert_uint_eq(sbx_bpf_run(p->seccomp, p->seccomp_len, &sd), ALLOW);
        sd.nr = SYS_ptrace;
        ck_assert_uint_eq(sbx_bpf_run(p->seccomp, p->seccomp_len, &sd), ALLOW);
        sbx_plan_free(p);
        sbx_policy_free(pol);
}
END_TEST

START_TEST(test_group_vs_name)
{
        static const char text[] = "sbx-policy: 1\nsyscalls:\n  deny: [\"@debug\"]\n"
                                   "  allow: [ptrace]\n";
        sbx_error *err = NULL;
        sbx_policy *pol = NULL;
        const char *origin;
        uint64_t z[6] = {0};

        ck_assert_int_eq(sbx_policy_load_string("t.yaml", text, strlen(text), &pol, &err), 0);
        ck_assert_uint_eq(pol_decide(pol, SYS_ptrace, z, &origin), ALLOW);
        ck_assert_str_eq(origin, "t.yaml:4: syscalls.allow");
        ck_assert_uint_eq(pol_decide(pol, SYS_kcmp, z, &origin), E(EPERM));
        sbx_policy_free(pol);
}
END_TEST

/* ---- explain and diff ---- */

static char *capture_explain(const char *policy, const char *sc, char *const *args)
{
        sbx_policy *pol = load(policy);
        sbx_plan *plan = compile(pol);
        sbx_error *err = NULL;
        char *buf = NULL;
        size_t len;
        FILE *f = open_memstream(&buf, &len);

        ck_assert_int_eq(sbx_policy_explain(pol, plan, sc, args, f, &err), 0);
        fclose(f);
        sbx_plan_free(plan);
        sbx_policy_free(pol);
        return buf;
}

START_TEST(test_explain_call)
{
        char *a1[] = {"arg0=CLONE_NEWUSER|CLONE_NEWNS", NULL};
        char *a2[] = {"arg1=TIOCSTI", NULL};
        char *a3[] = {"0=AF_INET6", NULL};
        char *s;

        s = capture_explain("default", "clone", a1);
        ck_assert_str_eq(s,
                         "clone (56): errno EPERM\n  rule: baseline.yaml:13: kernel.namespaces\n");
        free(s);
        s = capture_explain("default", "ioctl", a2);
        ck_assert_str_eq(
            s, "ioctl (16): errno EPERM\n  rule: default.yaml:16: kernel.terminal-injection\n");
        free(s);
        s = capture_explain("default", "socket", a3);
        ck_assert_str_eq(s, "socket (41): allow\n  rule: default.yaml:56: syscalls.rules\n");
        free(s);
        s = capture_explain(FIX "child.yaml", "chmod", NULL);
        ck_assert_str_eq(s, "chmod (90): allow\n  rule: " FIX "child.yaml:19: syscalls.allow\n");
        free(s);
        s = capture_explain(FIX "child.yaml", "fchmod", NULL);
        ck_assert_str_eq(s, "fchmod (91): allow\n  rule: baseline.yaml:37: syscalls.allow\n");
        free(s);
}
END_TEST

START_TEST(test_explain_table)
{
        char *s = capture_explain("default", NULL, NULL);

        ck_assert_ptr_nonnull(strstr(s, "\nlimits.memory            1024 MiB (best-effort) "
                                        "default.yaml:36: limits.memory\n"));
        ck_assert_ptr_nonnull(strstr(s, "\nptrace                    101  errno EPERM"));
        ck_assert_ptr_nonnull(strstr(s, "default.yaml:18: processes.tracing\n"));
        ck_assert_ptr_nonnull(strstr(s, "\n(any other)                    errno ENOSYS"));
        free(s);
}
END_TEST

static char *capture_diff(const char *a, const char *b, int *wider)
{
        sbx_policy *pa = load(a), *pb = load(b);
        char *buf = NULL;
        size_t len;
        FILE *f = open_memstream(&buf, &len);

        *wider = sbx_policy_diff(pa, pb, f);
        fclose(f);
        sbx_policy_free(pa);
        sbx_policy_free(pb);
        return buf;
}

START_TEST(test_diff)
{
        int wider;
        char *s = capture_diff(FIX "parent.yaml", FIX "child.yaml", &wider);

        ck_assert_int_eq(wider, 1);
        ck_assert_str_eq(s, "+ capability CAP_NET_BIND_SERVICE\n"
                            "+ filesystem.writable /tmp: larger or writable\n"
                            "+ limits.memory: 256 MiB -> 512 MiB\n"
                            "+ syscall chmod: errno EPERM -> allow\n"
                            "+ syscall ptrace: errno EPERM -> allow\n"
                            "+ syscall process_vm_readv: errno EPERM -> allow\n"
                            "+ syscall process_vm_writev: errno EPERM -> allow\n"
                            "+ syscall kcmp: errno EPERM -> allow\n"
                            "+ syscall pidfd_getfd: errno EPERM -> allow\n"
                            "+ syscall process_madvise: errno EPERM -> allow\n"
                            "B permits more than A\n");
        free(s);
        s = capture_diff("default", "strict", &wider);
        ck_assert_int_eq(wider, 0);
        ck_assert_ptr_nonnull(strstr(s, "- network: loopback -> none\n"));
        ck_assert_ptr_nonnull(strstr(s, "- syscall socket: "));
        free(s);
        s = capture_diff("strict", "default", &wider);
        ck_assert_int_eq(wider, 1);
        ck_assert_ptr_nonnull(strstr(s, "+ syscall socket: "));
        free(s);
        s = capture_diff("default", "default", &wider);
        ck_assert_int_eq(wider, 0);
        ck_assert_str_eq(s, "B permits nothing A does not\n");
        free(s);
}
END_TEST

static sbx_policy *load_text(const char *text)
{
        sbx_error *err = NULL;
        sbx_policy *pol = NULL;

        if (sbx_policy_load_string("t.yaml", text, strlen(text), &pol, &err) < 0)
                ck_abort_msg("load: %s", err->msg);
        return pol;
}

/* A `log` answer runs the call: diff must count it as permitted. */
START_TEST(test_diff_log_permits)
{
        sbx_policy *a = load("default");
        sbx_policy *b = load_text("sbx-policy: 1\nextends: default\nsyscalls:\n  rules:\n"
                                  "    - {syscall: ptrace, action: log}\n");
        FILE *f = fopen("/dev/null", "w");

        ck_assert_int_eq(sbx_policy_diff(a, b, f), 1);
        fclose(f);
        sbx_policy_free(a);
        sbx_policy_free(b);
}
END_TEST

/* Rules that can not both match may have different actions; the filter and
 * the rule model agree on them. */
START_TEST(test_exclusive_rules_agree)
{
        sbx_policy *pol = load_text(
            "sbx-policy: 1\nsyscalls:\n  rules:\n"
            "    - {syscall: socket, action: errno EPERM, when: [arg0 == AF_INET, arg1 == 3]}\n"
            "    - {syscall: socket, action: allow, when: [arg0 == AF_INET, arg1 < 3]}\n"
            "    - {syscall: socket, action: allow, when: arg0 == AF_UNIX}\n"
            "    - {syscall: ioctl, action: errno EPERM, when: arg1 & 0xffff == 0x5412}\n"
            "    - {syscall: ioctl, action: allow, when: arg1 & 0xff == 0x13}\n"
            "    - {syscall: prctl, action: allow, when: arg0 < 5}\n"
            "    - {syscall: prctl, action: errno EPERM, when: arg0 >= 5}\n");
        sbx_plan *plan = compile(pol);
        static const uint64_t samples[][6] = {{2, 3},    {2, 1}, {1, 3},       {0, 0x5412},
                                              {5, 0x13}, {4},    {10, 0x10013}};

        for (size_t i = 0; i < ARRAY_SIZE(samples); i++)
                for (int nr = 0; nr < POL_NR_MAX; nr++) {
                        struct seccomp_data sd = {.nr = nr, .arch = X86};
                        const char *origin;

                        memcpy(sd.args, samples[i], sizeof(sd.args));
                        ck_assert_msg(sbx_bpf_run(plan->seccomp, plan->seccomp_len, &sd) ==
                                          pol_decide(pol, nr, samples[i], &origin),
                                      "nr %d sample %zu", nr, i);
                }
        sbx_plan_free(plan);
        sbx_policy_free(pol);
}
END_TEST

START_TEST(test_score)
{
        FILE *f = fopen("/dev/null", "w");
        sbx_policy *d = load("default"), *b = load("baseline"), *s = load("strict");
        int sd = sbx_policy_score(d, f), sb = sbx_policy_score(b, f), ss = sbx_policy_score(s, f);

        ck_assert_int_lt(ss, sd);
        ck_assert_int_lt(sd, sb);
        fclose(f);
        sbx_policy_free(d);
        sbx_policy_free(b);
        sbx_policy_free(s);
}
END_TEST

START_TEST(test_bpf_interpreter)
{
        /* scratch memory, ALU and X register, the way the kernel runs them */
        struct sock_filter prog[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),  /* A = nr */
            BPF_STMT(BPF_ST, 3),                    /* M[3] = A */
            BPF_STMT(BPF_LDX | BPF_IMM, 5),         /* X = 5 */
            BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0), /* A += X */
            BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 1), /* A <<= 1 */
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 20, 1, 0),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
            BPF_STMT(BPF_LD | BPF_MEM, 3),
            BPF_STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
            BPF_STMT(BPF_RET | BPF_A, 0),
        };
        struct sock_filter bad_load[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64),
                                         BPF_STMT(BPF_RET | BPF_K, ALLOW)};
        struct sock_filter fall_off[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0)};
        struct seccomp_data sd = {.nr = 5};

        ck_assert_uint_eq(sbx_bpf_run(prog, ARRAY_SIZE(prog), &sd), SECCOMP_RET_ERRNO | 5);
        sd.nr = 6;
        ck_assert_uint_eq(sbx_bpf_run(prog, ARRAY_SIZE(prog), &sd), KILL);
        ck_assert_uint_eq(sbx_bpf_run(bad_load, 2, &sd), KILL);
        ck_assert_uint_eq(sbx_bpf_run(fall_off, 1, &sd), KILL);
}
END_TEST

static Suite *policy_suite(void)
{
        Suite *s = suite_create("policy");
        TCase *tc = tcase_create("parse");
        size_t n_builtin = 0;

        while (sbx_policy_builtin_names()[n_builtin])
                n_builtin++;
        tcase_add_loop_test(tc, test_parse_errors, 0, ARRAY_SIZE(bad));
        tcase_add_test(tc, test_conflicting_conditions);
        tcase_add_test(tc, test_extends_cycle);
        tcase_add_test(tc, test_unknown_builtin);
        tcase_add_test(tc, test_data_names);
        tcase_add_test(tc, test_group_vs_name);
        suite_add_tcase(s, tc);
        tc = tcase_create("filter");
        tcase_set_timeout(tc, 30);
        tcase_add_loop_test(tc, test_rows, 0, ARRAY_SIZE(rows));
        tcase_add_loop_test(tc, test_model_agrees, 0, (int)n_builtin);
        tcase_add_test(tc, test_audit_program);
        tcase_add_test(tc, test_docker_import);
        tcase_add_test(tc, test_bpf_interpreter);
        suite_add_tcase(s, tc);
        tc = tcase_create("plan");
        tcase_add_test(tc, test_default_plan);
        tcase_add_test(tc, test_strict_plan);
        tcase_add_test(tc, test_extends_merge);
        tcase_add_test(tc, test_explain_call);
        tcase_add_test(tc, test_explain_table);
        tcase_add_test(tc, test_diff);
        tcase_add_test(tc, test_diff_log_permits);
        tcase_add_test(tc, test_exclusive_rules_agree);
        tcase_add_test(tc, test_score);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(policy_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
