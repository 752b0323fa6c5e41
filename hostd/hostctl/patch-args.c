/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The patch verb's arguments, read by hostctl and by hostd-patch-worker
 * alike, and the durations they (and the wave verb) take. */

#include <getopt.h>

#include "hostd/hostctl/hostctl.h"

/* "90", "90s", "30m", "12h", "3d" into microseconds */
int parse_duration(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;
        uint64_t unit = 1000000;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || s[0] == '-')
                return -EINVAL;
        if (STREQ(end, "m"))
                unit *= 60;
        else if (STREQ(end, "h"))
                unit *= 3600;
        else if (STREQ(end, "d"))
                unit *= 86400;
        else if (!STREQ(end, "") && !STREQ(end, "s"))
                return -EINVAL;
        if (v > UINT64_MAX / unit / 2)
                return -ERANGE;
        *ret = v * unit;
        return 0;
}

static const char patch_usage[] =
        "hostctl: usage: hostctl patch plan|stage|apply|rollback|history --root DIR [OPTIONS]\n"
        "  --refresh --security-only --allow GLOB --deny GLOB --hold NAME --min-age DURATION\n"
        "  --plan ID (stage, apply) --id TRANSACTION (rollback) --state-dir DIR\n"
        "without --root: through hostd, with its configured root and policy\n";

/* argv[1] is the operation; 0, or the exit code of a usage error (said). */
int patch_args_parse(int argc, char *argv[], PatchArgs *a) {
        enum {
                ARG_ROOT = 0x100, ARG_STATE_DIR, ARG_REFRESH, ARG_SECURITY_ONLY, ARG_ALLOW, ARG_DENY, ARG_HOLD,
                ARG_MIN_AGE, ARG_PLAN, ARG_ID,
        };
        static const struct option options[] = {
                { "root", required_argument, NULL, ARG_ROOT },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "refresh", no_argument, NULL, ARG_REFRESH },
                { "security-only", no_argument, NULL, ARG_SECURITY_ONLY },
                { "allow", required_argument, NULL, ARG_ALLOW },
                { "deny", required_argument, NULL, ARG_DENY },
                { "hold", required_argument, NULL, ARG_HOLD },
                { "min-age", required_argument, NULL, ARG_MIN_AGE },
                { "plan", required_argument, NULL, ARG_PLAN },
                { "id", required_argument, NULL, ARG_ID },
                {},
        };
        PatchRequest *req = &a->req;
        int c;

        *req = (PatchRequest){ .policy = { .allow = a->allow, .deny = a->deny, .held = a->held } };
        if (argc < 2) {
                fputs(patch_usage, stderr);
                return EXIT_USAGE;
        }
        for (req->op = 0; req->op < _PATCH_OP_MAX; req->op++)
                if (STREQ(argv[1], patch_op_to_string(req->op)))
                        break;
        if (req->op == _PATCH_OP_MAX) {
                fputs(patch_usage, stderr);
                return EXIT_USAGE;
        }
        argc--;
        argv++;
        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_ROOT:
                        req->root = optarg;
                        break;
                case ARG_STATE_DIR:
                        req->state_dir = optarg;
                        break;
                case ARG_REFRESH:
                        req->refresh = true;
                        break;
                case ARG_SECURITY_ONLY:
                        req->policy.security_only = true;
                        break;
                case ARG_MIN_AGE:
                        if (parse_duration(optarg, &req->policy.min_age_usec) < 0) {
                                fprintf(stderr, "hostctl: --min-age \"%s\": expected a duration such as 90s, 30m, 12h or 3d\n",
                                        optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_PLAN:
                        req->expected_plan = optarg;
                        break;
                case ARG_ID:
                        req->entry_id = optarg;
                        break;
                case ARG_ALLOW:
                case ARG_DENY:
                case ARG_HOLD: {
                        const char **list = c == ARG_ALLOW ? a->allow : c == ARG_DENY ? a->deny : a->held;
                        size_t *n = c == ARG_ALLOW ? &a->n_allow : c == ARG_DENY ? &a->n_deny : &a->n_held;
                        if (*n >= 32) {
                                fprintf(stderr, "hostctl: at most 32 of each of --allow, --deny, --hold\n");
                                return EXIT_USAGE;
                        }
                        list[(*n)++] = optarg;
                        break;
                }
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc) {
                fputs(patch_usage, stderr);
                return EXIT_USAGE;
        }
        /* through hostd, which patches its configured root with its
         * configured policy */
        if (!req->root && (req->state_dir || a->n_allow || a->n_deny || a->n_held || req->policy.security_only ||
                           req->policy.min_age_usec)) {
                fprintf(stderr, "hostctl: policy options and --state-dir need --root; hostd uses the "
                                "\"patching\" section of its configuration\n");
                return EXIT_USAGE;
        }
        return 0;
}

