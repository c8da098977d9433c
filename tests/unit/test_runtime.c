/* test_runtime.c - the runtime's pure parts: durations, sizes, volumes,
 * mountinfo and /proc/self/cgroup parsing, id maps, `sbx run` arguments,
 * the result record. */
#include "internal.h"
#include "run-args.h"
#include "units.h"

#include <check.h>
#include <jansson.h>
#include <string.h>

static const struct {
        const char *in;
        uint64_t ms;
} durations[] = {
    {"300", 300000}, {"30s", 30000}, {"500ms", 500}, {"1.5m", 90000},
    {"2h", 7200000}, {".5s", 500},   {"1ms", 1},     {"1d", 86400000},
};

START_TEST(duration_ok)
{
        uint64_t ms = 0;
        sbx_error *err = NULL;

        ck_assert_int_eq(sbx_parse_duration(durations[_i].in, &ms, &err), 0);
        ck_assert_ptr_null(err);
        ck_assert_uint_eq(ms, durations[_i].ms);
}
END_TEST

static const char *const bad_durations[] = {"",    "abc",   "10parsecs", "0",    "0.1ms",
                                            "-5s", "9999h", "5 s",       "1e400"};

START_TEST(duration_bad)
{
        uint64_t ms = 0;
        sbx_error *err = NULL;
        char *want = xasprintf("invalid duration `%s`: expected a number and ms, s, m, h or d "
                               "(250ms, 30s, 1.5m), from 1ms to a year",
                               bad_durations[_i]);

        ck_assert_int_eq(sbx_parse_duration(bad_durations[_i], &ms, &err), -1);
        ck_assert_ptr_nonnull(err);
        ck_assert_str_eq(err->msg, want);
        sbx_error_free(err);
        free(want);
}
END_TEST

static const struct {
        const char *in;
        uint64_t bytes;
} sizes[] = {
    {"4096", 4096},
    {"64K", 65536},
    {"512M", 536870912ULL},
    {"1G", 1073741824ULL},
    {"1GiB", 1073741824ULL},
    {"2GB", 2000000000ULL},
    {"0", 0},
    {"3T", 3298534883328ULL},
    {"10kB", 10000},
    {"7B", 7},
};

START_TEST(size_ok)
{
        uint64_t b = 1;

        ck_assert_int_eq(sbx_units_size(sizes[_i].in, &b), 0);
        ck_assert_uint_eq(b, sizes[_i].bytes);
}
END_TEST

START_TEST(size_bad)
{
        static const char *const bad[] = {
            "", "M", "12Q", "-1", "99999999999999999999", "17179869184G", "2 GB", "1.5G", "64k"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                uint64_t b;
                ck_assert_msg(sbx_units_size(bad[i], &b) == -1, "accepted `%s`", bad[i]);
        }
}
END_TEST

START_TEST(volume_parse)
{
        char *src, *dst;
        bool ro;
        sbx_error *err = NULL;

        ck_assert_int_eq(sbx_parse_volume("/data:/mnt/data:ro", &src, &dst, &ro, &err), 0);
        ck_assert_str_eq(src, "/data");
        ck_assert_str_eq(dst, "/mnt/data");
        ck_assert(ro);
        free(src);
        free(dst);
        ck_assert_int_eq(sbx_parse_volume("/a:/b", &src, &dst, &ro, &err), 0);
        ck_assert(!ro);
        free(src);
        free(dst);

        static const char *const bad[] = {"nocolon",      "rel:/b",   "/a:rel", "/a:/b:rx",
                                          "/a/../etc:/b", "/a:/b/..", "/a:/"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                err = NULL;
                ck_assert_int_eq(sbx_parse_volume(bad[i], &src, &dst, &ro, &err), -1);
                ck_assert(strstr(err->msg, "invalid volume") != NULL);
                sbx_error_free(err);
        }
        /* ".." inside a name is not a parent reference */
        ck_assert_int_eq(sbx_parse_volume("/a..b:/c..d", &src, &dst, &ro, &err), 0);
        free(src);
        free(dst);
}
END_TEST

/* Real lines: a hybrid host (cgroup2 beside v1), a pure v2 host, a path with
 * a space (escaped \040), and optional fields of varying count. */
static const char hybrid[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 master:3 - cgroup2 cgroup2 rw\n";
static const char pure_v2[] = "24 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                              "30 24 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";
static const char spaced[] = "30 24 0:26 / /mnt/my\\040cgroup rw - cgroup2 none rw\n";
static const char none[] = "24 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                           "25 24 0:5 / /cgroup2 rw - tmpfs cgroup2 rw\n";

START_TEST(mountinfo_cgroup2)
{
        char *m;

        m = sbx_mountinfo_cgroup2(hybrid);
        ck_assert_str_eq(m, "/sys/fs/cgroup/unified");
        free(m);
        m = sbx_mountinfo_cgroup2(pure_v2);
        ck_assert_str_eq(m, "/sys/fs/cgroup");
        free(m);
        m = sbx_mountinfo_cgroup2(spaced);
        ck_assert_str_eq(m, "/mnt/my cgroup");
        free(m);
        /* a tmpfs whose *source* is called cgroup2 is not a cgroup2 mount */
        ck_assert_ptr_null(sbx_mountinfo_cgroup2(none));
        ck_assert_ptr_null(sbx_mountinfo_cgroup2(""));
}
END_TEST

START_TEST(proc_cgroup)
{
        char *p;

        p = sbx_proc_cgroup_unified("4:memory:/x\n0::/user.slice/user-1000.slice\n");
        ck_assert_str_eq(p, "/user.slice/user-1000.slice");
        free(p);
        p = sbx_proc_cgroup_unified("0::/\n");
        ck_assert_str_eq(p, "/");
        free(p);
        ck_assert_ptr_null(sbx_proc_cgroup_unified("1:name=systemd:/\n"));
}
END_TEST

START_TEST(idmaps)
{
        struct sbx_idmap m;

        sbx_idmap_compute(0, 0, 1000, 1000, &m);
        ck_assert_str_eq(m.uid_map, "0 2113929216 65536\n");
        ck_assert_str_eq(m.gid_map, "0 2113929216 65536\n");
        ck_assert(!m.deny_setgroups);
        ck_assert_uint_eq(m.setup_uid, 0);

        sbx_idmap_compute(1234, 99, 1000, 1000, &m);
        ck_assert_str_eq(m.uid_map, "1000 1234 1\n");
        ck_assert_str_eq(m.gid_map, "1000 99 1\n");
        ck_assert(m.deny_setgroups);
        ck_assert_uint_eq(m.setup_uid, 1000);
        ck_assert_uint_eq(m.setup_gid, 1000);
}
END_TEST

START_TEST(subid_overlap)
{
        const char *text = "# comment\nalice:100000:65536\nbob:2113990000:10\n";
        char *who;

        ck_assert_ptr_null(sbx_subid_overlap("alice:100000:65536\n", 2113929216, 65536));
        who = sbx_subid_overlap(text, 2113929216, 65536);
        ck_assert_str_eq(who, "bob");
        free(who);
        /* touching ends do not overlap */
        ck_assert_ptr_null(
            sbx_subid_overlap("c:2113994752:5\nd:2113929211:5\n", 2113929216, 65536));
        who = sbx_subid_overlap("e:2113929215:2\n", 2113929216, 65536);
        ck_assert_str_eq(who, "e");
        free(who);
        ck_assert_ptr_null(sbx_subid_overlap("garbage\n:::\n", 2113929216, 65536));
}
END_TEST

START_TEST(run_args_full)
{
        char *argv[] = {"run",   "-p",      "strict",   "-r",       "/srv/root", "-t",
                        "30s",   "-e",      "A=1",      "--env",    "B=2",       "-w",
                        "/work", "-v",      "/a:/b:ro", "--json",   "-",         "-q",
                        "--",    "python3", "-c",       "print(1)", NULL};
        struct run_args a;
        sbx_error *err = NULL;

        ck_assert_int_eq(run_args_parse(ARRAY_SIZE(argv) - 1, argv, &a, &err), 0);
        ck_assert_str_eq(a.policy, "strict");
        ck_assert_str_eq(a.rootfs, "/srv/root");
        ck_assert_uint_eq(a.timeout_ms, 30000);
        ck_assert_str_eq(a.env[0], "A=1");
        ck_assert_str_eq(a.env[1], "B=2");
        ck_assert_ptr_null(a.env[2]);
        ck_assert_str_eq(a.workdir, "/work");
        ck_assert_str_eq(a.volumes[0], "/a:/b:ro");
        ck_assert_str_eq(a.json, "-");
        ck_assert(a.quiet);
        ck_assert_str_eq(a.command[0], "python3");
        ck_assert_str_eq(a.command[2], "print(1)");
        run_args_free(&a);
}
END_TEST

START_TEST(run_args_command_options_are_not_ours)
{
        /* without "--", parsing stops at the command */
        char *argv[] = {"run", "ls", "-p", "-t", NULL};
        struct run_args a;
        sbx_error *err = NULL;

        ck_assert_int_eq(run_args_parse(4, argv, &a, &err), 0);
        ck_assert_ptr_null(a.policy);
        ck_assert_str_eq(a.command[0], "ls");
        ck_assert_str_eq(a.command[1], "-p");
        run_args_free(&a);
}
END_TEST

static const struct {
        const char *argv[6];
        const char *msg;
} bad_args[] = {
    {{"run", NULL}, "run: no command given (usage: sbx run [OPTIONS] -- CMD [ARG...])"},
    {{"run", "--", NULL}, "run: no command given (usage: sbx run [OPTIONS] -- CMD [ARG...])"},
    {{"run", "--frob", "--", "x", NULL}, "run: unknown option `--frob` (see 'sbx run --help')"},
    {{"run", "-Z", "x", NULL}, "run: unknown option `-Z` (see 'sbx run --help')"},
    {{"run", "-t", NULL}, "run: option `-t` needs a value"},
    {{"run", "-t", "5y", "x", NULL},
     "--timeout: invalid duration `5y`: expected a number and ms, s, m, h or d (250ms, 30s, "
     "1.5m), from 1ms to a year"},
    {{"run", "-e", "NOVALUE", "x", NULL}, "--env `NOVALUE`: expected K=V"},
    {{"run", "-w", "rel", "x", NULL}, "--workdir `rel`: must be an absolute path"},
};

START_TEST(run_args_bad)
{
        struct run_args a;
        sbx_error *err = NULL;
        int argc = 0;

        while (bad_args[_i].argv[argc])
                argc++;
        ck_assert_int_eq(run_args_parse(argc, (char **)bad_args[_i].argv, &a, &err), -1);
        ck_assert_ptr_nonnull(err);
        ck_assert_str_eq(err->msg, bad_args[_i].msg);
        sbx_error_free(err);
        run_args_free(&a);
}
END_TEST

START_TEST(result_json)
{
        struct sbx_result r;
        json_t *j, *v;
        json_error_t je;
        char *text;

        memset(&r, 0, sizeof(r));
        strcpy(r.id, "0123456789ab");
        r.policy_name = xstrdup("default");
        r.policy_sha256 = xstrdup("ab");
        r.rootfs_kind = xstrdup("image");
        r.rootfs = xstrdup("alpine:3");
        r.rootfs_digest = xstrdup("sha256:00");
        r.argv = strv_push(NULL, xstrdup("true"));
        r.start_ms = 1764000000123;
        r.end_ms = 1764000000456;
        r.signal = 9;
        r.exit_code = -1;
        r.status = 137;
        r.oom_killed = true;
        r.has_cgroup = true;
        r.memory_peak = 4096;
        sbx_result_add_degradation(&r, "pids.max", "512", "no pids controller", "RLIMIT_NPROC=512");
        text = sbx_result_to_json(&r);
        j = json_loads(text, 0, &je);
        ck_assert_ptr_nonnull(j);
        ck_assert_str_eq(json_string_value(json_object_get(j, "id")), "0123456789ab");
        ck_assert(json_is_null(json_object_get(j, "exit_code")));
        ck_assert_int_eq(json_integer_value(json_object_get(j, "signal")), 9);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 137);
        ck_assert(json_is_true(json_object_get(j, "oom_killed")));
        ck_assert(json_is_false(json_object_get(j, "timed_out")));
        ck_assert_int_eq(json_integer_value(json_object_get(j, "memory_peak_bytes")), 4096);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "duration_ms")), 333);
        ck_assert_str_eq(json_string_value(json_object_get(j, "started_at")),
                         "2025-11-24T16:00:00.123Z");
        v = json_object_get(json_object_get(j, "rootfs"), "digest");
        ck_assert_str_eq(json_string_value(v), "sha256:00");
        /* not audited: null, not an empty list that would claim "nothing denied" */
        ck_assert(json_is_null(json_object_get(j, "denied_syscalls")));
        v = json_array_get(json_object_get(j, "degraded"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(v, "applied")), "RLIMIT_NPROC=512");
        json_decref(j);
        free(text);
        sbx_result_clear(&r);
}
END_TEST

/* A command line that is not UTF-8 stays in the record, made readable. */
START_TEST(result_json_not_utf8)
{
        struct sbx_result r;
        json_t *j, *cmd;
        json_error_t je;
        char *text;

        memset(&r, 0, sizeof(r));
        strcpy(r.id, "0123456789ab");
        r.rootfs_kind = xstrdup("dir");
        r.rootfs = xstrdup("/srv/r\xff\xfeot");
        r.argv = strv_push(NULL, xstrdup("echo"));
        r.argv = strv_push(r.argv, xstrdup("caf\xe9"));
        r.message = xstrdup("bad \xc3(");
        text = sbx_result_to_json(&r);
        j = json_loads(text, 0, &je);
        ck_assert_ptr_nonnull(j);
        cmd = json_object_get(j, "command");
        ck_assert_int_eq(json_array_size(cmd), 2);
        ck_assert_str_eq(json_string_value(json_array_get(cmd, 1)), "caf?");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "rootfs"), "source")),
                         "/srv/r??ot");
        ck_assert_str_eq(json_string_value(json_object_get(j, "message")), "bad ?(");
        json_decref(j);
        free(text);
        sbx_result_clear(&r);
}
END_TEST

static Suite *runtime_suite(void)
{
        Suite *s = suite_create("runtime");
        TCase *tc = tcase_create("pure");

        tcase_add_loop_test(tc, duration_ok, 0, ARRAY_SIZE(durations));
        tcase_add_loop_test(tc, duration_bad, 0, ARRAY_SIZE(bad_durations));
        tcase_add_loop_test(tc, size_ok, 0, ARRAY_SIZE(sizes));
        tcase_add_test(tc, size_bad);
        tcase_add_test(tc, volume_parse);
        tcase_add_test(tc, mountinfo_cgroup2);
        tcase_add_test(tc, proc_cgroup);
        tcase_add_test(tc, idmaps);
        tcase_add_test(tc, subid_overlap);
        tcase_add_test(tc, run_args_full);
        tcase_add_test(tc, run_args_command_options_are_not_ours);
        tcase_add_loop_test(tc, run_args_bad, 0, ARRAY_SIZE(bad_args));
        tcase_add_test(tc, result_json);
        tcase_add_test(tc, result_json_not_utf8);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(runtime_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? 0 : 1;
}
