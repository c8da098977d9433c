/* policy_bench.c - numbers for docs/benchmarks.md: compile time of each
 * built-in policy, BPF size against Docker's profile, and the cost of an
 * allowed and of an argument-filtered syscall under the default filter. */
#include "sbx-policy.h"
#include "util.h"

#include <linux/seccomp.h>
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

static void bench_compile(void)
{
        printf("| policy | load + compile (ms, mean of 200) | BPF instructions |\n|---|---|---|\n");
        for (const char *const *n = sbx_policy_builtin_names(); *n; n++) {
                size_t len = 0;
                double t0;

                sbx_plan_free(plan_of(*n, NULL)); /* warm caches */
                t0 = now_ns();
                for (int i = 0; i < 200; i++) {
                        sbx_plan *p = plan_of(*n, NULL);
                        len = p->seccomp_len;
                        sbx_plan_free(p);
                }
                printf("| %s | %.3f | %zu |\n", *n, (now_ns() - t0) / 200 / 1e6, len);
        }
}

/* ns per call of fn, measured in a child that first loads `plan` (or no filter) */
static double per_call(const sbx_plan *plan, int which)
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
                        struct sock_fprog prog = {(unsigned short)plan->seccomp_len, plan->seccomp};
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

static double best_of(const sbx_plan *plan, int which)
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
        double none0, def0, none1, def1;

        bench_compile();
        printf("\n| filter | BPF instructions |\n|---|---|\n");
        printf("| sbx default policy | %zu |\n", def->seccomp_len);
        if (argc > 1) {
                sbx_plan *docker = plan_of(argv[1], NULL);
                printf("| Docker profile (%s), compiled by libseccomp | %zu |\n", argv[1],
                       docker->seccomp_len);
                sbx_plan_free(docker);
        }
        none0 = best_of(NULL, 0);
        def0 = best_of(def, 0);
        none1 = best_of(NULL, 1);
        def1 = best_of(def, 1);
        printf("\n| syscall (best of 5 x 2M calls) | no filter (ns) | default filter (ns) | "
               "overhead |\n|---|---|---|---|\n");
        printf("| getppid (allowed, cacheable) | %.1f | %.1f | %+.1f%% |\n", none0, def0,
               (def0 / none0 - 1) * 100);
        printf("| ioctl(-1, TCGETS) (argument-filtered) | %.1f | %.1f | %+.1f%% |\n", none1, def1,
               (def1 / none1 - 1) * 100);
        sbx_plan_free(def);
        return 0;
}
