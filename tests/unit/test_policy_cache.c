/* test_policy_cache.c - the compiled-program cache gives the same program
 * as a fresh compile, and is ignored when damaged or not trusted. */
#include "policy-internal.h"
#include "precompiled.h"
#include "sha256.h"
#include "util.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/sbx-cache-test.XXXXXX";

/* A policy of the user's (built-in ones use the programs embedded at build
 * time and never reach the cache). */
static sbx_plan *compile_default(void)
{
        static const char text[] = "sbx-policy: 1\nextends: default\n";
        sbx_policy *pol = NULL;
        sbx_plan *plan = NULL;
        sbx_error *err = NULL;

        ck_assert_int_eq(sbx_policy_load_string("mine.yaml", text, strlen(text), &pol, &err), 0);
        ck_assert_int_eq(sbx_policy_compile(pol, &plan, &err), 0);
        sbx_policy_free(pol);
        return plan;
}

/* The one cache file, or NULL. */
static char *cache_file(void)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        char *found = NULL;

        while (d && (de = readdir(d)) != NULL)
                if (strstr(de->d_name, ".bpf"))
                        found = xasprintf("%s/%s", dir, de->d_name);
        if (d)
                closedir(d);
        return found;
}

static void setup(void)
{
        strcpy(dir, "/tmp/sbx-cache-test.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        setenv("SBX_CACHE_DIR", dir, 1);
}

static void teardown(void)
{
        char *f = cache_file();
        if (f)
                unlink(f);
        free(f);
        rmdir(dir);
}

/* Replace the cache file at `path` by a well-formed one holding `insn`. */
static void write_cache_file(const char *path, const struct sock_filter *insn)
{
        uint32_t one = 1;
        char sum[SHA256_HEX_LEN + 1];
        int fd = open(path, O_WRONLY | O_TRUNC);

        ck_assert_int_ge(fd, 0);
        sha256_hex(insn, sizeof(*insn), sum);
        ck_assert_int_eq(write_full(fd, "SBXBPF1\n", 8), 0);
        ck_assert_int_eq(write_full(fd, &one, sizeof(one)), 0);
        ck_assert_int_eq(write_full(fd, insn, sizeof(*insn)), 0);
        ck_assert_int_eq(write_full(fd, sum, SHA256_HEX_LEN), 0);
        close(fd);
}

START_TEST(hit_gives_the_same_program)
{
        struct sock_filter marker = BPF_STMT(BPF_RET | BPF_K, 0x7fff0000);
        sbx_plan *fresh, *cached;
        char *f;

        fresh = compile_default();
        f = cache_file();
        ck_assert_ptr_nonnull(f);
        cached = compile_default();
        ck_assert_uint_eq(fresh->seccomp_len, cached->seccomp_len);
        ck_assert_mem_eq(fresh->seccomp, cached->seccomp,
                         fresh->seccomp_len * sizeof(struct sock_filter));
        sbx_plan_free(cached);
        /* and it really comes from the file: a well-formed file with other
         * content under the key is what the next compile returns */
        write_cache_file(f, &marker);
        cached = compile_default();
        ck_assert_uint_eq(cached->seccomp_len, 1);
        ck_assert_mem_eq(cached->seccomp, &marker, sizeof(marker));
        free(f);
        sbx_plan_free(fresh);
        sbx_plan_free(cached);
}
END_TEST

START_TEST(damaged_file_is_a_miss)
{
        sbx_plan *fresh, *again;
        char *f;
        int fd;
        struct sock_filter bad = BPF_STMT(BPF_RET | BPF_K, 0x7fff0000); /* allow everything */

        fresh = compile_default();
        f = cache_file();
        ck_assert_ptr_nonnull(f);
        /* Overwrite the first instruction after the header with "allow". */
        fd = open(f, O_WRONLY);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pwrite(fd, &bad, sizeof(bad), 12), (ssize_t)sizeof(bad));
        close(fd);
        again = compile_default();
        ck_assert_uint_eq(fresh->seccomp_len, again->seccomp_len);
        ck_assert_mem_eq(fresh->seccomp, again->seccomp,
                         fresh->seccomp_len * sizeof(struct sock_filter));
        free(f);
        sbx_plan_free(fresh);
        sbx_plan_free(again);
}
END_TEST

START_TEST(untrusted_directory_is_not_used)
{
        sbx_plan *p;
        char *f;

        ck_assert_int_eq(chmod(dir, 0777), 0);
        p = compile_default();
        f = cache_file();
        ck_assert_ptr_null(f); /* nothing written where others may write */
        sbx_plan_free(p);
}
END_TEST

/* Whoever can write the directory can rename a file of ours (the program of
 * a weaker policy, checksum and all) to this key's name: a well-formed file
 * there must not be loaded either. */
START_TEST(file_in_untrusted_directory_is_not_loaded)
{
        struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, 0x7fff0000); /* allow everything */
        sbx_plan *fresh, *again;
        char *f;

        fresh = compile_default();
        f = cache_file();
        ck_assert_ptr_nonnull(f);
        write_cache_file(f, &allow);
        ck_assert_int_eq(chmod(dir, 0777), 0);
        again = compile_default();
        ck_assert_uint_eq(fresh->seccomp_len, again->seccomp_len);
        ck_assert_mem_eq(fresh->seccomp, again->seccomp,
                         fresh->seccomp_len * sizeof(struct sock_filter));
        free(f);
        sbx_plan_free(fresh);
        sbx_plan_free(again);
}
END_TEST

START_TEST(empty_setting_disables)
{
        sbx_plan *p;
        char *f;

        setenv("SBX_CACHE_DIR", "", 1);
        p = compile_default();
        f = cache_file();
        ck_assert_ptr_null(f);
        sbx_plan_free(p);
}
END_TEST

/* The programs embedded at build time are exactly what libseccomp compiles
 * from the same texts now, and the plan uses them for every built-in. */
START_TEST(embedded_programs_match_fresh_compiles)
{
        size_t n = 0;

        ck_assert_ptr_nonnull(sbx_builtin_bpf); /* this binary has them */
        setenv("SBX_CACHE_DIR", "", 1);
        for (const char *const *name = sbx_policy_builtin_names(); *name; name++) {
                sbx_policy *pol = NULL;
                sbx_plan *plan = NULL;
                sbx_error *err = NULL;
                struct sock_filter *fresh = NULL;
                size_t len = 0;
                const struct sbx_builtin_bpf *e = sbx_builtin_bpf;

                while (e->name && strcmp(e->name, *name) != 0)
                        e++;
                ck_assert_msg(e->name != NULL, "no embedded program for `%s`", *name);
                ck_assert_int_eq(sbx_policy_load(*name, &pol, &err), 0);
                ck_assert_str_eq(e->sha256, pol->sha256);
                ck_assert_int_eq(pol_compile_bpf(pol, &fresh, &len, &err), 0);
                ck_assert_uint_eq(e->len, len * sizeof(struct sock_filter));
                ck_assert_mem_eq(e->bytes, fresh, e->len);
                ck_assert_int_eq(sbx_policy_compile(pol, &plan, &err), 0);
                ck_assert_mem_eq(plan->seccomp, fresh, e->len);
                free(fresh);
                sbx_plan_free(plan);
                sbx_policy_free(pol);
                n++;
        }
        ck_assert_uint_ge(n, 4);
        ck_assert_ptr_null(cache_file()); /* nothing went through the cache */
}
END_TEST

int main(void)
{
        Suite *s = suite_create("policy-cache");
        TCase *tc = tcase_create("cache");
        SRunner *sr;
        int failed;

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, hit_gives_the_same_program);
        tcase_add_test(tc, damaged_file_is_a_miss);
        tcase_add_test(tc, untrusted_directory_is_not_used);
        tcase_add_test(tc, file_in_untrusted_directory_is_not_loaded);
        tcase_add_test(tc, empty_setting_disables);
        tcase_add_test(tc, embedded_programs_match_fresh_compiles);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? 0 : 1;
}
