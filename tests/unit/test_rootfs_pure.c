/* test_rootfs_pure.c - the pure parts of rootfs-tools: sha256, the entry
 * path checks (one row per attack), whiteout mapping, image references. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rootfs-internal.h"
#include "sha256.h"

static void hex_of(const void *p, size_t n, char out[65])
{
        sha256_hex(p, n, out);
}

START_TEST(test_sha256_vectors)
{
        static const struct {
                const char *in, *hex;
        } rows[] = {
            {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
            {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
            {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
            {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqk"
             "lmnopqrlmnopqrsmnopqrstnopqrstu",
             "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
        };
        char out[65];

        for (int portable = 0; portable < 2; portable++) {
                sha256_force_portable(portable);
                for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                        hex_of(rows[i].in, strlen(rows[i].in), out);
                        ck_assert_str_eq(out, rows[i].hex);
                }
        }
        sha256_force_portable(false);
}
END_TEST

START_TEST(test_sha256_million_a)
{
        char *a = malloc(1000000), out[65];
        sha256_ctx c;

        memset(a, 'a', 1000000);
        /* Odd-sized updates cross the block buffer in every way. */
        sha256_init(&c);
        for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 3 % 997 + 1)
                sha256_update(&c, a + off, off + step > 1000000 ? 1000000 - off : step);
        sha256_final_hex(&c, out);
        ck_assert_str_eq(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        free(a);
}
END_TEST

START_TEST(test_sha256_accelerated_matches_portable)
{
        unsigned char buf[4099];
        char a[65], b[65];

        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (unsigned char)(i * 131 + 7);
        for (size_t n = 0; n < sizeof(buf); n += 61) {
                sha256_force_portable(false);
                hex_of(buf, n, a);
                sha256_force_portable(true);
                hex_of(buf, n, b);
                ck_assert_str_eq(a, b);
        }
        sha256_force_portable(false);
}
END_TEST

/* ---- entry checks: every attack is a row ---- */

struct row {
        const char *path;
        enum rf_type type;
        const char *link;
        const char *reason; /* substring of the refusal, NULL when accepted */
        enum rf_action action;
        const char *norm, *dir, *name;
};

static const struct row rows[] = {
    /* accepted, normalised */
    {"etc/passwd", RF_FILE, NULL, NULL, RF_CREATE, "etc/passwd", "etc", "passwd"},
    {"./etc/passwd", RF_FILE, NULL, NULL, RF_CREATE, "etc/passwd", "etc", "passwd"},
    {"etc//./passwd", RF_FILE, NULL, NULL, RF_CREATE, "etc/passwd", "etc", "passwd"},
    {"usr/lib/", RF_DIR, NULL, NULL, RF_CREATE, "usr/lib", "usr", "lib"},
    {"bin", RF_FILE, NULL, NULL, RF_CREATE, "bin", "", "bin"},
    {"./", RF_DIR, NULL, NULL, RF_ROOT, "", "", ""},
    {".", RF_DIR, NULL, NULL, RF_ROOT, "", "", ""},
    {"a/..b/c..", RF_FILE, NULL, NULL, RF_CREATE, "a/..b/c..", "a/..b", "c.."},
    {"lib/ld", RF_SYMLINK, "/etc/passwd", NULL, RF_CREATE, "lib/ld", "lib", "ld"},
    {"bin/sh", RF_HARDLINK, "./bin/busybox", NULL, RF_CREATE, "bin/sh", "bin", "sh"},
    {"dev/null", RF_CHAR, NULL, NULL, RF_CREATE, "dev/null", "dev", "null"},
    /* whiteouts */
    {"etc/.wh.passwd", RF_FILE, NULL, NULL, RF_WHITEOUT, "etc/.wh.passwd", "etc", "passwd"},
    {".wh.opt", RF_FILE, NULL, NULL, RF_WHITEOUT, ".wh.opt", "", "opt"},
    {"var/.wh..wh..opq", RF_FILE, NULL, NULL, RF_OPAQUE, "var/.wh..wh..opq", "var", NULL},
    {".wh..wh..opq", RF_FILE, NULL, NULL, RF_OPAQUE, ".wh..wh..opq", "", NULL},
    {"x/.wh..wh.plnk", RF_DIR, NULL, "whiteout entry is a directory", 0, NULL, NULL, NULL},
    {"x/.wh..wh.plnk/1", RF_FILE, NULL, NULL, RF_CREATE, NULL, NULL, NULL},
    {"x/.wh..wh.aufs", RF_FILE, NULL, NULL, RF_IGNORE, NULL, NULL, NULL},
    {"etc/.wh.", RF_FILE, NULL, "whiteout names no file", 0, NULL, NULL, NULL},
    {"etc/.wh..", RF_FILE, NULL, "whiteout names no file", 0, NULL, NULL, NULL},
    {"etc/.wh.x", RF_DIR, NULL, "whiteout entry is a directory", 0, NULL, NULL, NULL},
    /* attacks */
    {"/etc/passwd", RF_FILE, NULL, "absolute path", 0, NULL, NULL, NULL},
    {"../etc/passwd", RF_FILE, NULL, "`..` component", 0, NULL, NULL, NULL},
    {"a/../../etc/passwd", RF_FILE, NULL, "`..` component", 0, NULL, NULL, NULL},
    {"a/b/..", RF_DIR, NULL, "`..` component", 0, NULL, NULL, NULL},
    {"./..", RF_DIR, NULL, "`..` component", 0, NULL, NULL, NULL},
    {"", RF_FILE, NULL, "empty path", 0, NULL, NULL, NULL},
    {"./", RF_FILE, NULL, "top directory but is not a directory", 0, NULL, NULL, NULL},
    {"x", RF_OTHER, NULL, "unsupported entry type", 0, NULL, NULL, NULL},
    {"bin/sh", RF_HARDLINK, "/etc/shadow", "hardlink target is an absolute path", 0, NULL, NULL,
     NULL},
    {"bin/sh", RF_HARDLINK, "../../etc/shadow", "hardlink target has a `..`", 0, NULL, NULL, NULL},
    {"bin/sh", RF_HARDLINK, "bin/../../x", "hardlink target has a `..`", 0, NULL, NULL, NULL},
    {"bin/sh", RF_HARDLINK, "", "hardlink without a target", 0, NULL, NULL, NULL},
    {"bin/sh", RF_HARDLINK, "./", "hardlink target is the layer's top", 0, NULL, NULL, NULL},
    {"bin/sh", RF_HARDLINK, "bin/sh", "hardlink to itself", 0, NULL, NULL, NULL},
    {"../.wh.etc", RF_FILE, NULL, "`..` component", 0, NULL, NULL, NULL},
    {"/.wh..wh..opq", RF_FILE, NULL, "absolute path", 0, NULL, NULL, NULL},
};

START_TEST(test_entry_table)
{
        const struct row *r = &rows[_i];
        struct rf_entry e;
        const char *reason = rf_check_entry(r->path, r->type, r->link, 4095, &e);

        if (r->reason != NULL) {
                ck_assert_msg(reason != NULL, "row %d `%s` accepted", _i, r->path);
                ck_assert_msg(strstr(reason, r->reason) != NULL, "row %d `%s`: reason `%s`", _i,
                              r->path, reason);
                return;
        }
        ck_assert_msg(reason == NULL, "row %d `%s` refused: %s", _i, r->path, reason);
        ck_assert_int_eq(e.action, r->action);
        if (r->norm)
                ck_assert_str_eq(e.path, r->norm);
        if (r->dir)
                ck_assert_str_eq(e.dir, r->dir);
        if (r->name)
                ck_assert_str_eq(e.name, r->name);
}
END_TEST

START_TEST(test_entry_limits)
{
        struct rf_entry e;
        char longname[300], longpath[5000];

        memset(longname, 'n', 256);
        longname[256] = '\0';
        ck_assert_ptr_nonnull(
            strstr(rf_check_entry(longname, RF_FILE, NULL, 4095, &e), "longer than 255"));
        memset(longpath, 'a', sizeof(longpath) - 1);
        for (size_t i = 100; i < sizeof(longpath) - 1; i += 100)
                longpath[i] = '/';
        longpath[sizeof(longpath) - 1] = '\0';
        ck_assert_ptr_nonnull(
            strstr(rf_check_entry(longpath, RF_FILE, NULL, 4095, &e), "--max-path"));
        ck_assert_ptr_nonnull(
            strstr(rf_check_entry("abcdef/ghi", RF_FILE, NULL, 8, &e), "--max-path"));
        ck_assert_ptr_null(rf_check_entry("abcdef/g", RF_FILE, NULL, 8, &e));
        ck_assert_ptr_nonnull(strstr(rf_check_entry("a", RF_HARDLINK, "abcdefghij", 8, &e),
                                     "hardlink target longer"));
}
END_TEST

START_TEST(test_refs)
{
        static const struct {
                const char *in, *out;
        } ok[] = {
            {"alpine", "alpine:latest"},
            {"alpine:3.20", "alpine:3.20"},
            {"registry:5000/app", "registry:5000/app:latest"},
            {"registry:5000/app:1", "registry:5000/app:1"},
            {"a/b/c", "a/b/c:latest"},
        };
        static const char *const bad[] = {
            "", "sha256:abc", "/abs", "a b", "a:", "x/", ":t", "-x", "a/:t", "a;rm"};
        const char *reason;

        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                char *c = rf_canonical_ref(ok[i].in, &reason);
                ck_assert_ptr_nonnull(c);
                ck_assert_str_eq(c, ok[i].out);
                free(c);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                reason = NULL;
                ck_assert_msg(rf_canonical_ref(bad[i], &reason) == NULL, "`%s` accepted", bad[i]);
                ck_assert_ptr_nonnull(reason);
        }
        ck_assert_ptr_nonnull(rf_digest_hex("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b"
                                            "934ca495991b7852b855"));
        ck_assert_ptr_null(rf_digest_hex("sha256:E3B0"));
        ck_assert_ptr_null(rf_digest_hex("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934"
                                         "ca495991b7852b855"));
}
END_TEST

START_TEST(test_image_members)
{
        const char *h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        char p[128];

        ck_assert(rf_image_member("oci-layout", false));
        ck_assert(rf_image_member("index.json", false));
        ck_assert(rf_image_member("manifest.json", false));
        ck_assert(rf_image_member("blobs", true));
        ck_assert(rf_image_member("blobs/sha256", true));
        ck_assert(rf_image_member("", true));
        snprintf(p, sizeof(p), "blobs/sha256/%s", h);
        ck_assert(rf_image_member(p, false));
        snprintf(p, sizeof(p), "%s.json", h);
        ck_assert(rf_image_member(p, false));
        snprintf(p, sizeof(p), "%s/layer.tar", h);
        ck_assert(rf_image_member(p, false));
        ck_assert(rf_image_member(h, true));
        ck_assert(!rf_image_member("etc", true));
        ck_assert(!rf_image_member("etc/passwd", false));
        ck_assert(!rf_image_member("blobs/sha256/abc", false));
        snprintf(p, sizeof(p), "blobs/sha256/%s/x", h);
        ck_assert(!rf_image_member(p, false));
        snprintf(p, sizeof(p), "%s/other", h);
        ck_assert(!rf_image_member(p, false));
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("rootfs-pure");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_sha256_vectors);
        tcase_add_test(tc, test_sha256_million_a);
        tcase_add_test(tc, test_sha256_accelerated_matches_portable);
        tcase_add_loop_test(tc, test_entry_table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
        tcase_add_test(tc, test_entry_limits);
        tcase_add_test(tc, test_refs);
        tcase_add_test(tc, test_image_members);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
