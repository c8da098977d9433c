/* cmd_run.c - `sbx run`: one-shot sandbox. */
#include "cli.h"
#include "run-args.h"
#include "sbx-rootfs.h"
#include "util.h"

#include <string.h>
#include <sys/stat.h>

static const char run_help[] =
    "Usage: sbx run [OPTIONS] [--] CMD [ARG...]\n"
    "\n"
    "Create a sandbox, run CMD in it with no network, tear it down.\n"
    "\n"
    "  -p, --policy NAME|FILE   policy to run under (default: the built-in `default`)\n"
    "  -r, --rootfs DIR|IMAGE   root filesystem: a directory (used read-only as the\n"
    "                           overlay lower layer) or an imported image NAME[:TAG];\n"
    "                           default: a read-only view of the host's /usr, /bin,\n"
    "                           /lib*, /sbin with a generated minimal /etc\n"
    "  -t, --timeout DURATION   end the sandbox after DURATION (300, 30s, 500ms, 5m, 1h);\n"
    "                           at most the policy's time limit\n"
    "  -e, --env K=V            set an environment variable (the policy may restrict names)\n"
    "  -w, --workdir DIR        working directory inside (default: the user's home)\n"
    "  -v, --volume SRC:DST[:ro|:rw]\n"
    "                           bind a host path, if the policy allows it\n"
    "      --json FILE|-        write the result record as JSON\n"
    "  -q, --quiet              do not print degradation warnings (still recorded)\n"
    "  -h, --help               show this help\n"
    "\n"
    "Exit status: CMD's own; 128+N if it died of signal N; 124 when the time limit\n"
    "ended it; 125 when sbx failed before CMD ran; 126/127 when CMD could not be\n"
    "executed / was not found.  See sbx(1).\n";

static bool looks_like_dir(const char *s)
{
        struct stat st;
        return s[0] == '/' || s[0] == '.' || (stat(s, &st) == 0 && S_ISDIR(st.st_mode));
}

/* The store stays open, and held, until the sandbox is gone: its layers are
 * the sandbox's lower layers and must not be pruned meanwhile. */
static int set_image(sbx_sandbox *sb, const char *ref, sbx_store **st, sbx_error **err)
{
        struct sbx_image *img = NULL;

        if (sbx_store_open(NULL, st, err) < 0)
                return -1;
        /* Resolved once to fail early (without creating a store that is not
         * there), then again once held: a gc between a resolve and the hold
         * could have removed the layers the first one found. */
        if (sbx_store_resolve(*st, ref, &img, err) < 0)
                return sbx_error_prefix(err, "rootfs `%s` (not a directory, nor an imported image)",
                                        ref);
        sbx_image_free(img);
        img = NULL;
        if (sbx_store_hold(*st, err) < 0 || sbx_store_resolve(*st, ref, &img, err) < 0)
                return sbx_error_prefix(err, "rootfs `%s`", ref);
        sbx_sandbox_set_rootfs_layers(sb, img->name, img->digest, img->layers, img->n_layers);
        sbx_image_free(img);
        return 0;
}

static int prepare(const struct run_args *a, sbx_policy **pol, sbx_plan **plan, sbx_sandbox **sb,
                   sbx_store **st, sbx_error **err)
{
        const char *name = a->policy ? a->policy : "default";
        int builtin = sbx_plan_builtin(name, plan, err);

        /* A built-in policy's plan was compiled when sbx was built. */
        if (builtin < 0 || (builtin == 0 && (sbx_policy_load(name, pol, err) < 0 ||
                                             sbx_policy_compile(*pol, plan, err) < 0)))
                return -1;
        *sb = sbx_sandbox_new(*plan);
        sbx_sandbox_set_argv(*sb, a->command);
        sbx_sandbox_set_quiet(*sb, a->quiet);
        {
                size_t len;
                char *area = cli_args_area(&len);
                sbx_sandbox_set_args_area(*sb, area, len);
        }
        /* Usage goes only into the --json record. */
        sbx_sandbox_set_usage(*sb, a->json != NULL);
        if (a->rootfs) {
                if (looks_like_dir(a->rootfs))
                        sbx_sandbox_set_rootfs_dir(*sb, a->rootfs);
                else if (set_image(*sb, a->rootfs, st, err) < 0)
                        return -1;
        }
        for (char **e = a->env; e && *e; e++)
                sbx_sandbox_add_env(*sb, *e);
        for (char **v = a->volumes; v && *v; v++)
                if (sbx_sandbox_add_volume(*sb, *v, err) < 0)
                        return -1;
        if (a->workdir)
                sbx_sandbox_set_workdir(*sb, a->workdir);
        if (a->timeout_ms)
                sbx_sandbox_set_timeout_ms(*sb, a->timeout_ms);
        return 0;
}

int cmd_run(int argc, char **argv)
{
        struct run_args a;
        sbx_error *err = NULL;
        sbx_policy *pol = NULL;
        sbx_plan *plan = NULL;
        sbx_sandbox *sb = NULL;
        sbx_store *store = NULL;
        struct sbx_result res = {0};
        FILE *rec = NULL;
        int status = SBX_EXIT_FAILURE;
        bool ran = false;

        if (run_args_parse(argc, argv, &a, &err) < 0)
                goto out;
        if (a.help) {
                fputs(run_help, stdout);
                status = 0;
                goto out;
        }
        if (prepare(&a, &pol, &plan, &sb, &store, &err) < 0)
                goto out;
        /* Before the sandbox starts: a record that could not be written
         * would lose the outcome of a command that ran. */
        if (a.json && (rec = sbx_result_open_json(a.json, &err)) == NULL)
                goto out;
        ran = sbx_sandbox_run(sb, &res, &err) == 0;
        if (ran) {
                status = res.status;
                if (res.message)
                        fprintf(stderr, "sbx: %s\n", res.message);
        }
        /* The record is written for failed starts too: it says why. */
        if (rec) {
                sbx_error *jerr = NULL;
                if (!ran && err)
                        res.message = xstrdup(err->msg);
                if (sbx_result_write_json(&res, steal_pointer(&rec), a.json, &jerr) < 0) {
                        sbx_error_print(jerr);
                        sbx_error_free(jerr);
                        if (ran && status == 0)
                                status = SBX_EXIT_FAILURE;
                }
        }
out:
        if (err) {
                sbx_error_print(err);
                sbx_error_free(err);
        }
        sbx_result_clear(&res);
        sbx_sandbox_free(sb);
        if (store)
                sbx_store_close(store);
        sbx_plan_free(plan);
        sbx_policy_free(pol);
        run_args_free(&a);
        return status;
}
