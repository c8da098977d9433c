/* test_policy_cache.c - the compiled-program cache gives the same program
 * as a fresh compile, and is ignored when damaged or not trusted; the
 * programs and plans embedded at build time equal fresh compiles, and a
 * plan survives encoding whole. */
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

/* The two plans carry the same seccomp program, instruction for instruction. */
static void assert_same_program(const sbx_plan *a, const sbx_plan *b)
{
        ck_assert_uint_eq(a->seccomp_len, b->seccomp_len);
        ck_assert_mem_eq(a->seccomp, b->seccomp, a->seccomp_len * sizeof(struct sock_filter));
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
        assert_same_program(fresh, cached);
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
        assert_same_program(fresh, again);
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
        assert_same_program(fresh, again);
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

        ck_assert_ptr_nonnull(sbx_builtin_compiled); /* this binary has them */
        setenv("SBX_CACHE_DIR", "", 1);
        for (const char *const *name = sbx_policy_builtin_names(); *name; name++) {
                sbx_policy *pol = NULL;
                sbx_plan *plan = NULL;
                sbx_error *err = NULL;
                struct sock_filter *fresh = NULL;
                size_t len = 0;
                const struct sbx_builtin_compiled *e = sbx_builtin_compiled;

                while (e->name && strcmp(e->name, *name) != 0)
                        e++;
                ck_assert_msg(e->name != NULL, "no embedded program for `%s`", *name);
                ck_assert_int_eq(sbx_policy_load(*name, &pol, &err), 0);
                ck_assert_str_eq(e->sha256, pol->sha256);
                ck_assert_int_eq(pol_compile_bpf(pol, &fresh, &len, &err), 0);
                ck_assert_uint_eq(e->bpf_len, len * sizeof(struct sock_filter));
                ck_assert_mem_eq(e->bpf, fresh, e->bpf_len);
                ck_assert_int_eq(sbx_policy_compile(pol, &plan, &err), 0);
                ck_assert_mem_eq(plan->seccomp, fresh, e->bpf_len);
                free(fresh);
                sbx_plan_free(plan);
                sbx_policy_free(pol);
                n++;
        }
        ck_assert_uint_ge(n, 4);
        ck_assert_ptr_null(cache_file()); /* nothing went through the cache */
}
END_TEST

/* The JSON report of a plan: every setting with its origin. */
static char *plan_report(const sbx_policy *pol, const sbx_plan *plan)
{
        char path[] = "/tmp/sbx-plan-report.XXXXXX";
        int fd = mkstemp(path);
        sbx_error *err = NULL;
        char *text;

        ck_assert_int_ge(fd, 0);
        unlink(path);
        ck_assert_int_eq(sbx_policy_export(pol, plan, "json", fd, &err), 0);
        lseek(fd, 0, SEEK_SET);
        text = read_fd(fd, NULL);
        close(fd);
        ck_assert_ptr_nonnull(text);
        return text;
}

/* Decoding gives back the same plan: the same bytes when encoded again,
 * the same report, the same seccomp programs. */
static void check_round_trip(const sbx_policy *pol, const sbx_plan *plan)
{
        size_t len = 0, len2 = 0;
        unsigned char *bytes = sbx_plan_encode(plan, &len), *again;
        sbx_plan *back = NULL;
        sbx_error *err = NULL;
        char *want, *got;

        ck_assert_int_eq(sbx_plan_decode(bytes, len, &back, &err), 0);
        again = sbx_plan_encode(back, &len2);
        ck_assert_uint_eq(len, len2);
        ck_assert_mem_eq(bytes, again, len);
        want = plan_report(pol, plan);
        got = plan_report(pol, back);
        ck_assert_str_eq(want, got);
        ck_assert_uint_eq(plan->seccomp_len, back->seccomp_len);
        ck_assert_mem_eq(plan->seccomp, back->seccomp, plan->seccomp_len * sizeof(*plan->seccomp));
        ck_assert_uint_eq(plan->seccomp_audit_len, back->seccomp_audit_len);
        if (plan->seccomp_audit)
                ck_assert_mem_eq(plan->seccomp_audit, back->seccomp_audit,
                                 plan->seccomp_audit_len * sizeof(*plan->seccomp_audit));
        else
                ck_assert_ptr_null(back->seccomp_audit);
        ck_assert_uint_eq(plan->seccomp_flags, back->seccomp_flags);
        ck_assert_int_eq(plan->audit, back->audit);
        ck_assert_uint_eq(plan->no_new_privs, back->no_new_privs);
        free(want);
        free(got);
        free(bytes);
        free(again);
        sbx_plan_free(back);
}

/* `sbx run` takes a built-in policy's plan from the binary: it must be the
 * plan a fresh load and compile gives, byte for byte. */
START_TEST(embedded_plans_match_fresh_compiles)
{
        size_t n = 0;

        for (const char *const *name = sbx_policy_builtin_names(); *name; name++) {
                sbx_policy *pol = NULL;
                sbx_plan *fresh = NULL, *embedded = NULL;
                sbx_error *err = NULL;
                unsigned char *want;
                size_t len = 0;
                const struct sbx_builtin_compiled *e = sbx_builtin_compiled;

                while (e->name && strcmp(e->name, *name) != 0)
                        e++;
                ck_assert_msg(e->name != NULL, "no embedded plan for `%s`", *name);
                ck_assert_int_eq(sbx_policy_load(*name, &pol, &err), 0);
                ck_assert_int_eq(sbx_policy_compile(pol, &fresh, &err), 0);
                want = sbx_plan_encode(fresh, &len);
                ck_assert_uint_eq(e->plan_len, len);
                ck_assert_mem_eq(e->plan, want, len);
                ck_assert_int_eq(sbx_plan_builtin(*name, &embedded, &err), 1);
                ck_assert_str_eq(embedded->policy_sha256, pol->sha256);
                check_round_trip(pol, fresh);
                free(want);
                sbx_plan_free(embedded);
                sbx_plan_free(fresh);
                sbx_policy_free(pol);
                n++;
        }
        ck_assert_uint_ge(n, 4);
}
END_TEST

START_TEST(builtin_plan_absent_for_files_and_unknown_names)
{
        sbx_plan *plan = NULL;
        sbx_error *err = NULL;

        ck_assert_int_eq(sbx_plan_builtin("no-such-policy", &plan, &err), 0);
        ck_assert_int_eq(sbx_plan_builtin("./default.yaml", &plan, &err), 0);
        ck_assert_ptr_null(plan);
        ck_assert_ptr_null(err);
}
END_TEST

/* Every field the language can set, through encoding and back. */
START_TEST(rich_plan_round_trips)
{
        static const char text[] = "sbx-policy: 1\n"
                                   "extends: default\n"
                                   "audit: denied\n"
                                   "network: none\n"
                                   "privileges:\n"
                                   "  capabilities: [CAP_NET_BIND_SERVICE]\n"
                                   "identity: {uid: 0, gid: 0, user: root, home: /root}\n"
                                   "filesystem:\n"
                                   "  root: read-only\n"
                                   "  binds: [{source: /usr/share, dest: /opt/share}]\n"
                                   "  volumes: [{host: /srv, writable: true}, {host: /data}]\n"
                                   "  writable: [{path: /scratch, size: 8MiB}]\n"
                                   "environment:\n"
                                   "  set: {A: '1'}\n"
                                   "  pass: [HOME]\n"
                                   "  allow: [B, C]\n"
                                   "limits: {io-weight: 50}\n";
        sbx_policy *pol = NULL;
        sbx_plan *plan = NULL;
        sbx_error *err = NULL;

        if (sbx_policy_load_string("rich.yaml", text, strlen(text), &pol, &err) < 0)
                ck_abort_msg("%s", err->msg);
        ck_assert_int_eq(sbx_policy_compile(pol, &plan, &err), 0);
        ck_assert_ptr_nonnull(plan->seccomp_audit);
        ck_assert_uint_eq(plan->n_binds, 1);
        ck_assert_uint_eq(plan->n_volume_rules, 2);
        ck_assert_ptr_nonnull(plan->env_allow);
        ck_assert(plan->io_weight.set);
        check_round_trip(pol, plan);
        sbx_plan_free(plan);
        sbx_policy_free(pol);
}
END_TEST

/* Bytes that are not a whole plan are refused, never misread: every
 * truncation, a wrong magic, a count larger than the bytes, trailing bytes. */
START_TEST(damaged_plan_bytes_are_refused)
{
        sbx_plan *plan = compile_default(), *back = NULL;
        size_t len = 0;
        unsigned char *bytes = sbx_plan_encode(plan, &len);
        unsigned char *copy = xmalloc(len + 1);

        for (size_t cut = 0; cut < len; cut++) {
                sbx_error *err = NULL;
                ck_assert_int_eq(sbx_plan_decode(bytes, cut, &back, &err), -1);
                ck_assert_ptr_nonnull(err);
                ck_assert_ptr_nonnull(strstr(err->msg, "damaged or truncated"));
                sbx_error_free(err);
        }
        memcpy(copy, bytes, len);
        copy[5] ^= 0x20; /* the magic string */
        {
                sbx_error *err = NULL;
                ck_assert_int_eq(sbx_plan_decode(copy, len, &back, &err), -1);
                sbx_error_free(err);
        }
        memcpy(copy, bytes, len);
        copy[len] = 0;
        {
                sbx_error *err = NULL;
                ck_assert_int_eq(sbx_plan_decode(copy, len + 1, &back, &err), -1);
                sbx_error_free(err);
        }
        /* The seccomp program's length: first a huge one, then zero. */
        {
                size_t off = 4 + strlen("sbx-plan-1");
                sbx_error *err = NULL;
                uint32_t n;

                for (int i = 0; i < 3; i++) { /* name, source, sha256 */
                        memcpy(&n, bytes + off, sizeof(n));
                        off += 4 + n;
                }
                memcpy(copy, bytes, len);
                memset(copy + off, 0x7f, 8);
                ck_assert_int_eq(sbx_plan_decode(copy, len, &back, &err), -1);
                sbx_error_free(err);
                err = NULL;
                memset(copy + off, 0, 8);
                ck_assert_int_eq(sbx_plan_decode(copy, len, &back, &err), -1);
                sbx_error_free(err);
        }
        /* Values out of their range: an enum, a flag. */
        for (int i = 0; i < 2; i++) {
                sbx_error *err = NULL;
                unsigned char *bad;
                size_t n;

                if (i == 0)
                        plan->net = (enum sbx_net_mode)7;
                else
                        plan->root_mode = (enum sbx_root_mode)9;
                bad = sbx_plan_encode(plan, &n);
                ck_assert_int_eq(sbx_plan_decode(bad, n, &back, &err), -1);
                sbx_error_free(err);
                free(bad);
                plan->net = SBX_NET_LOOPBACK;
                plan->root_mode = SBX_ROOT_EPHEMERAL;
        }
        ck_assert_ptr_null(back);
        free(copy);
        free(bytes);
        sbx_plan_free(plan);
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
        tcase_add_test(tc, embedded_plans_match_fresh_compiles);
        tcase_add_test(tc, builtin_plan_absent_for_files_and_unknown_names);
        tcase_add_test(tc, rich_plan_round_trips);
        tcase_add_test(tc, damaged_plan_bytes_are_refused);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? 0 : 1;
}
