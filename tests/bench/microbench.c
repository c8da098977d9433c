/*
 * microbench: the per-operation cost a sandbox adds to code running inside it.
 *
 *   microbench spawn N PATH     fork + execv(PATH) + waitpid, N times, each timed
 *   microbench syscall B K      B batches of K getppid() calls, each batch timed
 *
 * Prints one JSON object on stdout: the mode, the count, and p50/p90/mean/min
 * of the per-operation time in nanoseconds.  The same binary runs on the host,
 * under bwrap and under sbx, so the differences between the three are what
 * the namespaces, the overlay rootfs and the seccomp filter cost.
 *
 * Percentiles use linear interpolation between the closest ranks (the method
 * scripts/bench.sh uses for hyperfine's times), so the tables agree.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
        struct timespec ts;

        /* CLOCK_MONOTONIC is served by the vDSO: reading it is not a syscall,
         * so the filter under test does not see it and does not skew it. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* Sorted input; q in [0, 1]. */
static double quantile(const double *v, size_t n, double q)
{
        double pos = q * (double)(n - 1);
        size_t lo = (size_t)pos;
        double frac = pos - (double)lo;

        if (lo + 1 >= n)
                return v[n - 1];
        return v[lo] + frac * (v[lo + 1] - v[lo]);
}

static void report(const char *mode, double *v, size_t n)
{
        double sum = 0;

        qsort(v, n, sizeof(*v), cmp_double);
        for (size_t i = 0; i < n; i++)
                sum += v[i];
        printf("{\"mode\": \"%s\", \"n\": %zu, \"p50_ns\": %.1f, \"p90_ns\": %.1f, "
               "\"mean_ns\": %.1f, \"min_ns\": %.1f}\n",
               mode, n, quantile(v, n, 0.5), quantile(v, n, 0.9), sum / (double)n, v[0]);
}

static long parse_count(const char *s)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || v <= 0 || v > 100000000) {
                fprintf(stderr, "microbench: bad count `%s`\n", s);
                exit(2);
        }
        return v;
}

static int bench_spawn(size_t n, const char *path)
{
        double *v = calloc(n, sizeof(*v));

        if (!v)
                abort();
        for (size_t i = 0; i < n; i++) {
                char *const argv[] = {(char *)path, NULL};
                uint64_t t0 = now_ns();
                int status;
                pid_t pid = fork();

                if (pid < 0) {
                        fprintf(stderr, "microbench: fork: %s\n", strerror(errno));
                        return 1;
                }
                if (pid == 0) {
                        execv(path, argv);
                        _exit(127);
                }
                while (waitpid(pid, &status, 0) < 0) {
                        if (errno != EINTR) {
                                fprintf(stderr, "microbench: waitpid: %s\n", strerror(errno));
                                return 1;
                        }
                }
                v[i] = (double)(now_ns() - t0);
                /* A failed exec would be timed as a fast success: refuse it. */
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "microbench: `%s` failed (status 0x%x)\n", path, status);
                        return 1;
                }
        }
        report("spawn", v, n);
        free(v);
        return 0;
}

static int bench_syscall(size_t batches, size_t per_batch)
{
        double *v = calloc(batches, sizeof(*v));

        if (!v)
                abort();
        for (size_t b = 0; b < batches; b++) {
                uint64_t t0 = now_ns();

                /* The raw syscall, not the libc wrapper, so that no library can
                 * answer from a cache and every call enters the kernel (and the
                 * seccomp filter). */
                for (size_t i = 0; i < per_batch; i++)
                        syscall(SYS_getppid);
                v[b] = (double)(now_ns() - t0) / (double)per_batch;
        }
        report("syscall", v, batches);
        free(v);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 4 && strcmp(argv[1], "spawn") == 0)
                return bench_spawn((size_t)parse_count(argv[2]), argv[3]);
        if (argc == 4 && strcmp(argv[1], "syscall") == 0)
                return bench_syscall((size_t)parse_count(argv[2]), (size_t)parse_count(argv[3]));
        fprintf(stderr, "usage: microbench spawn N PATH | microbench syscall BATCHES PER_BATCH\n");
        return 2;
}
