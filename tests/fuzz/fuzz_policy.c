/* fuzz_policy.c - libFuzzer harness for the policy parser and compiler.
 * Any input must either load (and then compile) or fail with one error;
 * never crash, leak or read out of bounds.
 *
 * Without libFuzzer (-DSBX_FUZZ_REPLAY) main() replays files: each input runs
 * in a child process so that a sanitizer abort counts as one failure. */
#include "sbx-policy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        sbx_policy *pol = NULL;
        sbx_plan *plan = NULL;
        sbx_error *err = NULL;

        if (sbx_policy_load_string("fuzz.yaml", (const char *)data, size, &pol, &err) < 0) {
                if (err == NULL || pol != NULL)
                        abort(); /* a failure must say why and leave nothing loaded */
                sbx_error_free(err);
                return 0;
        }
        if (sbx_policy_compile(pol, &plan, &err) == 0)
                sbx_plan_free(plan);
        else
                sbx_error_free(err);
        sbx_policy_free(pol);
        return 0;
}

#ifdef SBX_FUZZ_REPLAY
static int run_one(const char *path)
{
        FILE *f = fopen(path, "rb");
        uint8_t *buf;
        long n;

        if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0)
                return 2;
        rewind(f);
        buf = malloc((size_t)n + 1);
        if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
                return 2;
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)n);
        free(buf);
        return 0;
}

int main(int argc, char **argv)
{
        int passed = 0, failed = 0;

        for (int i = 1; i < argc; i++) {
                int status;
                pid_t pid = fork();

                if (pid == 0)
                        _exit(run_one(argv[i]));
                if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
                    WEXITSTATUS(status) != 0) {
                        printf("FAIL %s\n", argv[i]);
                        failed++;
                } else {
                        passed++;
                }
        }
        printf("%d passed, %d failed\n", passed, failed);
        return failed ? 1 : 0;
}
#endif
