/* policy_bench.c - numbers for docs/benchmarks.md: compile time of each
 * built-in policy, BPF size against Docker's profile, and the cost of an
 * allowed and of an argument-filtered syscall under the default filter. */
#include "policy-internal.h"
#include "sbx-policy.h"
#include "util.h"

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1e9 + t.tv_nsec;
}

static sbx_plan *plan_of(const char *name, sbx_policy **polp)
{
        sbx_error *err = NULL;
        sbx_policy *pol;
        sbx_plan *plan;

        if (sbx_policy_load(name, &pol, &err) < 0 || sbx_policy_compile(pol, &plan, &err) < 0) {
                sbx_error_print(err);
                exit(1);
        }
        if (polp)
                *polp = pol;
        else
                sbx_policy_free(pol);
        return plan;
}

/* Mean ms over 200 rounds of loading a built-in policy and producing its
 * seccomp program, either with the program embedded at build time (what
 * `sbx policy` commands do) or with libseccomp, as any policy file's first
 * compile does. */
static double time_compile(const char *name, bool fresh, size_t *len)
{
        double t0;

        t0 = now_ns();
        for (int i = 0; i < 200; i++) {
                sbx_error *err = NULL;
                sbx_policy *pol;

                if (sbx_policy_load(name, &pol, &err) < 0) {
                        sbx_error_print(err);
                        exit(1);
                }
                if (fresh) {
                        struct sock_filter *prog;
                        if (pol_compile_bpf(pol, &prog, len, &err) < 0) {
                                sbx_error_print(err);
                                exit(1);
                        }
                        free(prog);
                } else {
                        sbx_plan *p;
                        if (sbx_policy_compile(pol, &p, &err) < 0) {
                                sbx_error_print(err);
                                exit(1);
                        }
                        *len = p->seccomp_len;
                        sbx_plan_free(p);
                }
                sbx_policy_free(pol);
        }
        return (now_ns() - t0) / 200 / 1e6;
}

/* Mean ms over 200 rounds of decoding a built-in policy's plan embedded at
 * build time: all `sbx run` does with a built-in policy. */
static double time_embedded_plan(const char *name)
{
        double t0 = now_ns();

        for (int i = 0; i < 200; i++) {
                sbx_error *err = NULL;
                sbx_plan *p = NULL;

                if (sbx_plan_builtin(name, &p, &err) != 1) {
                        fprintf(stderr, "no embedded plan for %s\n", name);
                        exit(1);
                }
                sbx_plan_free(p);
        }
        return (now_ns() - t0) / 200 / 1e6;
}

static void bench_compile(void)
{
        setenv("SBX_CACHE_DIR", "", 1);
        printf("| policy | load + libseccomp compile (ms, mean of 200) | load + program embedded "
               "at build time, as `sbx policy` does (ms) | plan embedded at build time, as `sbx "
               "run` does (ms) | BPF instructions |\n|---|---:|---:|---:|---:|\n");
        for (const char *const *n = sbx_policy_builtin_names(); *n; n++) {
                size_t len = 0;
                double cold, warm, plan;

                time_compile(*n, true, &len); /* warm CPU caches */
                cold = time_compile(*n, true, &len);
                warm = time_compile(*n, false, &len);
                plan = time_embedded_plan(*n);
                printf("| %s | %.3f | %.3f | %.3f | %zu |\n", *n, cold, warm, plan, len);
        }
        unsetenv("SBX_CACHE_DIR");
}

struct prog {
        struct sock_filter *insns;
        size_t len;
};

/* ns per call, measured in a child that first loads `prog` (or no filter) */
static double per_call(const struct prog *plan, int which)
{
        int fds[2];
        double r = -1;
        pid_t pid;

        if (pipe(fds) < 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                const long n = 2000000;
                struct termios t;
                double t0;

                if (plan) {
                        struct sock_fprog prog = {(unsigned short)plan->len, plan->insns};
                        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                                _exit(1);
                }
                t0 = now_ns();
                for (long i = 0; i < n; i++) {
                        if (which == 0)
                                syscall(SYS_getppid);
                        else
                                ioctl(-1, TCGETS, &t);
                }
                t0 = (now_ns() - t0) / n;
                if (write(fds[1], &t0, sizeof(t0)) != sizeof(t0))
                        _exit(1);
                _exit(0);
        }
        close(fds[1]);
        if (read(fds[0], &r, sizeof(r)) != sizeof(r))
                r = -1;
        close(fds[0]);
        waitpid(pid, NULL, 0);
        return r;
}

static double best_of(const struct prog *plan, int which)
{
        double best = 1e18;

        for (int i = 0; i < 5; i++) {
                double v = per_call(plan, which);
                if (v > 0 && v < best)
                        best = v;
        }
        return best;
}

int main(int argc, char **argv)
{
        sbx_plan *def = plan_of("default", NULL);

        bench_compile();
        printf("\n| filter | BPF instructions |\n|---|---|\n");
        printf("| sbx default policy | %zu |\n", def->seccomp_len);
        if (argc > 1) {
                sbx_plan *docker = plan_of(argv[1], NULL);
                printf("| Docker profile (%s), compiled by libseccomp | %zu |\n", argv[1],
                       docker->seccomp_len);
                sbx_plan_free(docker);
        }
        {
                /* Any filter at all sends every syscall through the kernel's
                 * seccomp entry path; a one-instruction "allow" filter shows
                 * that floor, and default minus it is what the rules cost. */
                struct sock_filter allow_insn = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
                struct prog allow = {&allow_insn, 1}, dprog = {def->seccomp, def->seccomp_len};
                const char *names[2] = {"getppid (allowed, cacheable)",
                                        "ioctl(-1, TCGETS) (argument-filtered)"};

                printf("\n| syscall (best of 5 x 2M calls) | no filter (ns) | allow-all "
                       "filter, 1 instruction (ns) | default filter (ns) | default vs no "
                       "filter | default vs allow-all |\n|---|---:|---:|---:|---:|---:|\n");
                for (int w = 0; w < 2; w++) {
                        double none = best_of(NULL, w), all = best_of(&allow, w),
                               d = best_of(&dprog, w);
                        printf("| %s | %.1f | %.1f | %.1f | %+.1f%% | %+.1f%% |\n", names[w], none,
                               all, d, (d / none - 1) * 100, (d / all - 1) * 100);
                }
        }
        sbx_plan_free(def);
        return 0;
}
