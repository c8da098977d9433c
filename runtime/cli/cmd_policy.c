/* cmd_policy.c - `sbx policy check|compile|explain|diff|score|show|list|import`.
 *
 * Exit status: 0 success; 1 a negative answer (`check`: the policy is
 * invalid; `diff`: B permits something A does not); 125 usage or system
 * error.
 */
#include "cli.h"
#include "sbx-policy.h"
#include "util.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage_main[] =
    "usage: sbx policy COMMAND [ARGS]\n"
    "\n"
    "  check FILE|NAME...                 validate (exit 1 when invalid)\n"
    "  compile FILE|NAME --format F       F: bpf, pfc, oci, json, plan\n"
    "  explain FILE|NAME [SYSCALL [argN=VALUE...]]\n"
    "                                     the rule behind each setting, or one call\n"
    "  diff A B                           what B permits that A does not (exit 1 if any)\n"
    "  score FILE|NAME                    exposure report\n"
    "  show NAME                          print a built-in policy\n"
    "  list                               list the built-in policies\n"
    "  import FILE                        Docker/OCI seccomp JSON -> sbx policy YAML\n"
    "\n"
    "FILE|NAME: a built-in policy name, or a path (with a '/' or ending in .yaml).\n"
    "See sbx-policy(5).\n";

static const struct {
        const char *name;
        const char *usage;
} sub_usage[] = {
    {"check", "usage: sbx policy check FILE|NAME...\n"
              "Parse, validate and compile each policy; print `ok` or the first error as\n"
              "FILE:LINE:COL: message.  Exit 0 when all are valid, 1 otherwise.\n"},
    {"compile", "usage: sbx policy compile FILE|NAME --format bpf|pfc|oci|json|plan [-o OUT]\n"
                "bpf: raw struct sock_filter array (refused on a terminal)\n"
                "pfc: libseccomp pseudo filter code\n"
                "oci: OCI runtime-spec fragment (process, linux.seccomp, linux.resources)\n"
                "json: the whole plan, each setting with its origin\n"
                "plan: the whole plan in this build's own binary form, as the built-in\n"
                "      policies are embedded when sbx is built (refused on a terminal;\n"
                "      not an interchange format: only the same build reads it)\n"},
    {"explain", "usage: sbx policy explain FILE|NAME [SYSCALL [argN=VALUE...]]\n"
                "Without SYSCALL: every setting and syscall with the rule (file:line) that\n"
                "decided it.  With SYSCALL: the action of the compiled filter for that call\n"
                "and its rule.  VALUE: a number or a constant (AF_INET, CLONE_NEWUSER, ...).\n"},
    {"diff", "usage: sbx policy diff A B\n"
             "Lines: `+` B permits more, `-` B permits less, `~` changed.\n"
             "Exit 0 when B permits nothing A does not, 1 when it does.\n"},
    {"score", "usage: sbx policy score FILE|NAME\n"
              "Each risky permission, its weight, and an overall exposure 0.0-10.0.\n"},
    {"show", "usage: sbx policy show NAME\nPrint the text of a built-in policy.\n"},
    {"list", "usage: sbx policy list\nList the built-in policies with their description.\n"},
    {"import", "usage: sbx policy import FILE\n"
               "Convert a Docker/OCI seccomp profile (JSON) into sbx policy YAML on stdout.\n"},
};

static int sub_help(const char *name, bool error)
{
        for (size_t i = 0; i < ARRAY_SIZE(sub_usage); i++)
                if (strcmp(sub_usage[i].name, name) == 0) {
                        fputs(sub_usage[i].usage, error ? stderr : stdout);
                        return error ? SBX_EXIT_FAILURE : 0;
                }
        fputs(usage_main, error ? stderr : stdout);
        return error ? SBX_EXIT_FAILURE : 0;
}

static bool wants_help(int argc, char **argv)
{
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                        return true;
        return false;
}

static int fail(sbx_error *err, int code)
{
        sbx_error_print(err);
        sbx_error_free(err);
        return code;
}

/* Load and compile; on error print it and return `code`. */
static int load_compile(const char *name, sbx_policy **pol, sbx_plan **plan, int code)
{
        sbx_error *err = NULL;

        if (sbx_policy_load(name, pol, &err) < 0)
                return fail(err, code);
        if (plan && sbx_policy_compile(*pol, plan, &err) < 0) {
                sbx_policy_free(*pol);
                return fail(err, code);
        }
        return 0;
}

static int do_check(int argc, char **argv)
{
        int bad = 0;

        if (argc < 2)
                return sub_help("check", true);
        for (int i = 1; i < argc; i++) {
                sbx_policy *pol;
                sbx_plan *plan;

                if (load_compile(argv[i], &pol, &plan, 1) != 0) {
                        bad = 1;
                        continue;
                }
                printf("%s: ok (%zu BPF instructions)\n", argv[i], plan->seccomp_len);
                sbx_plan_free(plan);
                sbx_policy_free(pol);
        }
        return bad;
}

static int do_compile(int argc, char **argv)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                             {"output", required_argument, NULL, 'o'},
                                             {NULL, 0, NULL, 0}};
        const char *format = NULL, *output = NULL;
        sbx_policy *pol;
        sbx_plan *plan;
        sbx_error *err = NULL;
        cleanup_close int ofd = -1;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "f:o:", opts, NULL)) != -1) {
                if (c == 'f')
                        format = optarg;
                else if (c == 'o')
                        output = optarg;
                else
                        return sub_help("compile", true);
        }
        if (optind + 1 != argc || format == NULL)
                return sub_help("compile", true);
        if (output) {
                ofd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (ofd < 0)
                        return cli_usage_error("open `%s`: %m", output);
        }
        if ((strcmp(format, "bpf") == 0 || strcmp(format, "plan") == 0) && ofd < 0 &&
            isatty(STDOUT_FILENO))
                return cli_usage_error(
                    "compile --format %s writes binary; redirect stdout or use -o", format);
        if ((r = load_compile(argv[optind], &pol, &plan, SBX_EXIT_FAILURE)) != 0)
                return r;
        fflush(stdout);
        r = sbx_policy_export(pol, plan, format, ofd >= 0 ? ofd : STDOUT_FILENO, &err);
        sbx_plan_free(plan);
        sbx_policy_free(pol);
        return r < 0 ? fail(err, SBX_EXIT_FAILURE) : 0;
}

static int do_explain(int argc, char **argv)
{
        sbx_policy *pol;
        sbx_plan *plan;
        sbx_error *err = NULL;
        int r;

        if (argc < 2)
                return sub_help("explain", true);
        if ((r = load_compile(argv[1], &pol, &plan, SBX_EXIT_FAILURE)) != 0)
                return r;
        r = sbx_policy_explain(pol, plan, argc > 2 ? argv[2] : NULL, argc > 3 ? argv + 3 : NULL,
                               stdout, &err);
        sbx_plan_free(plan);
        sbx_policy_free(pol);
        return r < 0 ? fail(err, SBX_EXIT_FAILURE) : 0;
}

static int do_diff(int argc, char **argv)
{
        sbx_policy *a, *b;
        int r;

        if (argc != 3)
                return sub_help("diff", true);
        if ((r = load_compile(argv[1], &a, NULL, SBX_EXIT_FAILURE)) != 0)
                return r;
        if ((r = load_compile(argv[2], &b, NULL, SBX_EXIT_FAILURE)) != 0) {
                sbx_policy_free(a);
                return r;
        }
        r = sbx_policy_diff(a, b, stdout);
        sbx_policy_free(a);
        sbx_policy_free(b);
        return r ? 1 : 0;
}

static int do_score(int argc, char **argv)
{
        sbx_policy *pol;
        int r;

        if (argc != 2)
                return sub_help("score", true);
        if ((r = load_compile(argv[1], &pol, NULL, SBX_EXIT_FAILURE)) != 0)
                return r;
        sbx_policy_score(pol, stdout);
        sbx_policy_free(pol);
        return 0;
}

static int do_show(int argc, char **argv)
{
        const char *text;
        size_t len;

        if (argc != 2)
                return sub_help("show", true);
        text = sbx_policy_builtin_text(argv[1], &len);
        if (text == NULL)
                return cli_usage_error("unknown built-in policy `%s` (see `sbx policy list`)",
                                       argv[1]);
        fwrite(text, 1, len, stdout);
        return 0;
}

/* The description is the `description:` line of the policy text. */
static void print_description(const char *text)
{
        const char *d = strstr(text, "\ndescription:");
        size_t n;

        if (d == NULL) {
                putchar('\n');
                return;
        }
        d += strlen("\ndescription:");
        while (*d == ' ')
                d++;
        n = strcspn(d, "\n");
        printf("%.*s\n", (int)n, d);
}

static int do_list(int argc, char **argv)
{
        (void)argv;
        if (argc != 1)
                return sub_help("list", true);
        for (const char *const *n = sbx_policy_builtin_names(); *n; n++) {
                size_t len;

                printf("%-12s ", *n);
                print_description(sbx_policy_builtin_text(*n, &len));
        }
        return 0;
}

static int do_import(int argc, char **argv)
{
        sbx_error *err = NULL;

        if (argc != 2)
                return sub_help("import", true);
        if (sbx_policy_import_docker(argv[1], stdout, &err) < 0)
                return fail(err, SBX_EXIT_FAILURE);
        return 0;
}

int cmd_policy(int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*fn)(int, char **);
        } subs[] = {{"check", do_check}, {"compile", do_compile}, {"explain", do_explain},
                    {"diff", do_diff},   {"score", do_score},     {"show", do_show},
                    {"list", do_list},   {"import", do_import}};

        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                fputs(usage_main, argc < 2 ? stderr : stdout);
                return argc < 2 ? SBX_EXIT_FAILURE : 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
                if (strcmp(argv[1], subs[i].name) == 0) {
                        if (wants_help(argc - 1, argv + 1))
                                return sub_help(subs[i].name, false);
                        return subs[i].fn(argc - 1, argv + 1);
                }
        return cli_usage_error("policy: unknown command `%s` (see `sbx policy --help`)", argv[1]);
}
