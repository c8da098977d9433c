#include "run-args.h"
#include "internal.h"

#include <getopt.h>
#include <string.h>

static const struct option options[] = {
    {"policy", required_argument, NULL, 'p'},  {"rootfs", required_argument, NULL, 'r'},
    {"timeout", required_argument, NULL, 't'}, {"env", required_argument, NULL, 'e'},
    {"workdir", required_argument, NULL, 'w'}, {"volume", required_argument, NULL, 'v'},
    {"json", required_argument, NULL, 'j'},    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
};

int run_args_parse(int argc, char **argv, struct run_args *a, sbx_error **err)
{
        int c;

        memset(a, 0, sizeof(*a));
        optind = 0; /* full re-initialisation, so tests can parse twice */
        opterr = 0;
        /* '+': stop at the first non-option, so the command's own options
         * are never taken for ours even without "--". */
        while ((c = getopt_long(argc, argv, "+:p:r:t:e:w:v:qh", options, NULL)) != -1) {
                switch (c) {
                case 'p':
                        a->policy = optarg;
                        break;
                case 'r':
                        a->rootfs = optarg;
                        break;
                case 't':
                        if (sbx_parse_duration(optarg, &a->timeout_ms, err) < 0)
                                return sbx_error_prefix(err, "--timeout");
                        break;
                case 'e':
                        if (strchr(optarg, '=') == NULL || optarg[0] == '=')
                                return sbx_fail(err, "--env `%s`: expected K=V", optarg);
                        a->env = strv_push(a->env, xstrdup(optarg));
                        break;
                case 'w':
                        if (optarg[0] != '/')
                                return sbx_fail(err, "--workdir `%s`: must be an absolute path",
                                                optarg);
                        a->workdir = optarg;
                        break;
                case 'v':
                        a->volumes = strv_push(a->volumes, xstrdup(optarg));
                        break;
                case 'j':
                        a->json = optarg;
                        break;
                case 'q':
                        a->quiet = true;
                        break;
                case 'h':
                        a->help = true;
                        return 0;
                case ':':
                        return sbx_fail(err, "run: option `%s` needs a value", argv[optind - 1]);
                case '?':
                        if (optopt)
                                return sbx_fail(err,
                                                "run: unknown option `-%c` (see 'sbx run --help')",
                                                optopt);
                        return sbx_fail(err, "run: unknown option `%s` (see 'sbx run --help')",
                                        argv[optind - 1]);
                default:
                        return sbx_fail(err, "run: bad arguments");
                }
        }
        if (optind >= argc)
                return sbx_fail(err,
                                "run: no command given (usage: sbx run [OPTIONS] -- CMD [ARG...])");
        a->command = argv + optind;
        return 0;
}

void run_args_free(struct run_args *a)
{
        strv_free(a->env);
        strv_free(a->volumes);
        a->env = a->volumes = NULL;
}
