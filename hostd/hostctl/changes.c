/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostctl changes. */

#include <getopt.h>

#include "common/clock.h"
#include "hostd/change-log.h"
#include "hostd/hostctl/hostctl.h"

int cmd_changes(int argc, char *argv[]) {
        enum { ARG_SINCE = 0x100, ARG_KIND, ARG_LIMIT };
        static const struct option options[] = {
                { "since", required_argument, NULL, ARG_SINCE },
                { "kind", required_argument, NULL, ARG_KIND },
                { "limit", required_argument, NULL, ARG_LIMIT },
                {},
        };
        _cleanup_(json_decrefp) json_t *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *kind = NULL;
        uint64_t since = 0;
        unsigned long limit = 0;
        const json_t *rec, *damaged;
        char *end;
        long status;
        size_t i;
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_SINCE:
                        if (change_since_parse(optarg, clock_usec(CLOCK_REALTIME), &since) < 0) {
                                fprintf(stderr, "hostctl: --since: \"%s\" is not a time (YYYY-MM-DD[ HH:MM[:SS]][Z], "
                                                "@EPOCH, today, yesterday, or an age such as 2h or 7d)\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_KIND:
                        if (change_kind_from_string(optarg) < 0) {
                                fprintf(stderr, "hostctl: --kind: \"%s\" is not a kind of change; one of:", optarg);
                                for (ChangeKind k = 0; k < _CHANGE_KIND_MAX; k++)
                                        fprintf(stderr, " %s", change_kind_to_string(k));
                                fputc('\n', stderr);
                                return EXIT_USAGE;
                        }
                        kind = optarg;
                        break;
                case ARG_LIMIT:
                        errno = 0;
                        limit = strtoul(optarg, &end, 10);
                        if (errno || *end || !*optarg || *optarg == '-') {
                                fprintf(stderr, "hostctl: --limit: \"%s\" is not a count\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc) {
                fputs("hostctl: usage: hostctl changes [--since TIME] [--kind KIND] [--limit N]\n", stderr);
                return EXIT_USAGE;
        }
        if (asprintf(&path, "/v1/changes?since=%llu&limit=%lu%s%s", (unsigned long long) since, limit,
                     kind ? "&kind=" : "", kind ? kind : "") < 0) {
                path = NULL;
                return EXIT_FAILED;
        }
        status = call_hostd("GET", path, NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        damaged = json_object_get(reply, "damaged");
        json_array_foreach(damaged, i, rec)
                fprintf(stderr, "hostctl: %s:%lld: skipped, not a change record: %s\n", str(rec, "file"),
                        (long long) json_integer_value(json_object_get(rec, "line")), str(rec, "error"));
        if (arg_json)
                return print_json(reply);
        printf("%-5s %-19s %-22s %s\n", "SEQ", "TIME", "KIND", "MESSAGE");
        json_array_foreach(json_object_get(reply, "changes"), i, rec) {
                time_t t = (time_t) (json_integer_value(json_object_get(rec, "time_usec")) / 1000000);
                char when[32] = "-";
                struct tm tm;

                if (localtime_r(&t, &tm))
                        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
                printf("%-5lld %-19s %-22s %s\n", (long long) json_integer_value(json_object_get(rec, "seq")), when,
                       str(rec, "kind"), str(rec, "message"));
        }
        return 0;
}
