/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostctl wave start | status | watch | pause | resume | abort. */

#include <getopt.h>

#include "common/clock.h"
#include "hostd/hostctl/hostctl.h"
#include "patching/wave.h"

static void print_wave(const json_t *reply) {
        const json_t *w = json_object_get(reply, "wave"), *n;
        const char *blocked = json_string_value(json_object_get(reply, "blocked"));
        uint64_t now = clock_usec(CLOCK_REALTIME);
        size_t i;

        if (!json_is_object(w)) {
                printf("no wave\n");
                return;
        }
        uint64_t started = (uint64_t) json_integer_value(json_object_get(w, "started"));
        char took[32] = "";
        if (started && now > started)
                format_duration((json_int_t) ((now - started) / 1000000), took, sizeof(took));
        printf("wave %s: %s%s%s%s%s%s\n", str(w, "id"), str(w, "status"),
               json_string_length(json_object_get(w, "reason")) ? ": " : "",
               json_string_length(json_object_get(w, "reason")) ? str(w, "reason") : "", took[0] ? " (started " : "",
               took, took[0] ? " ago)" : "");
        size_t failed = 0;
        json_array_foreach(json_object_get(w, "nodes"), i, n)
                failed += json_is_true(json_object_get(n, "failed")) || STREQ(str(n, "step"), "failed");
        printf("max unavailable %lld, most drained at once %lld, on failure: %s, failed nodes %zu",
               (long long) json_integer_value(json_object_get(w, "max_unavailable")),
               (long long) json_integer_value(json_object_get(w, "max_held")),
               json_string_value(json_object_get(w, "on_failure")) ?: "halt", failed);
        if (!STREQ_PTR(json_string_value(json_object_get(w, "on_failure")), "continue"))
                printf(" (error budget %lld)", (long long) json_integer_value(json_object_get(w, "max_errors")));
        if (json_integer_value(json_object_get(w, "deregistration_delay")) > 0)
                printf(", deregistration delay %llds",
                       (long long) (json_integer_value(json_object_get(w, "deregistration_delay")) / 1000000));
        printf("\n");
        const json_t *schedule = json_object_get(w, "schedule"), *spec;
        if (json_is_object(schedule)) {
                printf("schedule (%s): windows", str(schedule, "zone"));
                if (json_array_size(json_object_get(schedule, "windows")) == 0)
                        printf(" none (any time)");
                json_array_foreach(json_object_get(schedule, "windows"), i, spec)
                        printf("%s %s", i ? "," : "", json_string_value(spec));
                json_array_foreach(json_object_get(schedule, "blackouts"), i, spec)
                        printf("%s %s", i ? "," : "; blackouts", json_string_value(spec));
                printf("\n");
        }
        const json_t *approved = json_object_get(w, "approved"), *a;
        if (json_is_array(approved)) {
                size_t security = 0;
                json_array_foreach(approved, i, a)
                        security += json_is_true(json_object_get(a, "security"));
                printf("approved set: %zu package(s), %zu security:", json_array_size(approved), security);
                json_array_foreach(approved, i, a) {
                        if (i == 8) {
                                printf(" ... (--json lists them all)");
                                break;
                        }
                        printf(" %s %s", str(a, "name"), str(a, "version"));
                }
                printf("\n");
        } else
                printf("approved set: none (each node installs what it is offered at its turn)\n");
        if (blocked && *blocked)
                printf("waiting: %s\n", blocked);
        printf("\n%-24s %-8s %-11s %-9s %s\n", "NODE", "ROLE", "STEP", "ELAPSED", "RESULT");
        json_array_foreach(json_object_get(w, "nodes"), i, n) {
                char elapsed[32] = "-";
                const char *step = str(n, "step");
                uint64_t since = (uint64_t) json_integer_value(json_object_get(n, "since"));
                if (!STREQ(step, "pending") && !STREQ(step, "done") && !STREQ(step, "failed") && since && now > since)
                        format_duration((json_int_t) ((now - since) / 1000000), elapsed, sizeof(elapsed));
                printf("%-24s %-8s %-11s %-9s %s%s\n", str(n, "hostname"),
                       json_is_true(json_object_get(n, "manager")) ? "manager" : "worker", step, elapsed,
                       json_is_true(json_object_get(n, "canary")) ? "(canary) " : "", str(n, "message"));
        }
}

static const char wave_usage[] =
        "hostctl: usage: hostctl wave start [--max-unavailable N] [--soak DURATION] [--deadline DURATION]\n"
        "                              [--label KEY=VALUE] [--canary NODE]... [--on-failure halt|continue]\n"
        "                              [--max-errors N|P%] [--window 'DAYS HH:MM LENGTH']...\n"
        "                              [--blackout YYYY-MM-DD[..YYYY-MM-DD]]... [--zone ZONE] [--any-version]\n"
        "                              [--deregistration-delay DURATION]\n"
        "       hostctl wave status|watch\n"
        "       hostctl wave pause|abort [--reason TEXT]\n"
        "       hostctl wave resume\n";

/* The options after the verb, into the request body; 0 or the exit code of
 * a usage error (said). */
static int parse_wave_args(int argc, char *argv[], json_t *body) {
        enum { ARG_MAX_UNAVAILABLE = 0x100, ARG_SOAK, ARG_DEADLINE, ARG_LABEL, ARG_CANARY, ARG_REASON, ARG_ON_FAILURE,
               ARG_MAX_ERRORS, ARG_WINDOW, ARG_BLACKOUT, ARG_ZONE, ARG_ANY_VERSION, ARG_DEREGISTRATION };
        static const struct option options[] = {
                { "max-unavailable", required_argument, NULL, ARG_MAX_UNAVAILABLE },
                { "soak", required_argument, NULL, ARG_SOAK },
                { "deadline", required_argument, NULL, ARG_DEADLINE },
                { "label", required_argument, NULL, ARG_LABEL },
                { "canary", required_argument, NULL, ARG_CANARY },
                { "reason", required_argument, NULL, ARG_REASON },
                { "on-failure", required_argument, NULL, ARG_ON_FAILURE },
                { "max-errors", required_argument, NULL, ARG_MAX_ERRORS },
                { "window", required_argument, NULL, ARG_WINDOW },
                { "blackout", required_argument, NULL, ARG_BLACKOUT },
                { "zone", required_argument, NULL, ARG_ZONE },
                { "any-version", no_argument, NULL, ARG_ANY_VERSION },
                { "deregistration-delay", required_argument, NULL, ARG_DEREGISTRATION },
                {},
        };
        _cleanup_(json_decrefp) json_t *canaries = json_array(), *windows = json_array(), *blackouts = json_array();
        int c;

        if (!canaries || !windows || !blackouts)
                return EXIT_FAILED;
        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                uint64_t usec;
                char *end;
                switch (c) {
                case ARG_MAX_UNAVAILABLE: {
                        long v = strtol(optarg, &end, 10);
                        if (*end || v < 1 || v > 1024) {
                                fprintf(stderr, "hostctl: --max-unavailable: expected 1..1024\n");
                                return EXIT_USAGE;
                        }
                        json_object_set_new(body, "max_unavailable", json_integer(v));
                        break;
                }
                case ARG_SOAK:
                case ARG_DEADLINE:
                case ARG_DEREGISTRATION: {
                        const char *name = c == ARG_SOAK ? "--soak" : c == ARG_DEADLINE ? "--deadline" :
                                                                                       "--deregistration-delay";
                        /* "0" is a duration too: no delay */
                        if (!STREQ(optarg, "0") && parse_duration(optarg, &usec) < 0) {
                                fprintf(stderr, "hostctl: %s \"%s\": expected a duration such as 90s, 30m or 2h\n",
                                        name, optarg);
                                return EXIT_USAGE;
                        }
                        if (STREQ(optarg, "0"))
                                usec = 0;
                        json_object_set_new(body, c == ARG_SOAK ? "soak_seconds" : c == ARG_DEADLINE ?
                                                  "deadline_seconds" : "deregistration_seconds",
                                            json_integer((json_int_t) (usec / 1000000)));
                        break;
                }
                case ARG_LABEL:
                        json_object_set_new(body, "label", json_string(optarg));
                        break;
                case ARG_CANARY:
                        json_array_append_new(canaries, json_string(optarg));
                        break;
                case ARG_REASON:
                        json_object_set_new(body, "reason", json_string(optarg));
                        break;
                case ARG_ON_FAILURE:
                        if (wave_on_failure_from_string(optarg) < 0) {
                                fprintf(stderr, "hostctl: --on-failure \"%s\": expected halt or continue\n", optarg);
                                return EXIT_USAGE;
                        }
                        json_object_set_new(body, "on_failure", json_string(optarg));
                        break;
                case ARG_MAX_ERRORS: {
                        long v = strtol(optarg, &end, 10);
                        if (end == optarg || v < 0 || (*end && !STREQ(end, "%")) || (*end && (v < 1 || v > 100)) ||
                            (!*end && v > 1024)) {
                                fprintf(stderr, "hostctl: --max-errors \"%s\": expected a number of nodes (0..1024) "
                                        "or a percentage of the wave's (1%%..100%%)\n", optarg);
                                return EXIT_USAGE;
                        }
                        json_object_set_new(body, "max_errors", *end ? json_string(optarg) : json_integer(v));
                        break;
                }
                case ARG_WINDOW:
                case ARG_BLACKOUT: {
                        /* read here too: a typo is told before anything is asked */
                        WaveWindow window;
                        WaveBlackout blackout;
                        char why[256];
                        if ((c == ARG_WINDOW ? wave_window_parse(optarg, &window, why, sizeof(why)) :
                                               wave_blackout_parse(optarg, &blackout, why, sizeof(why))) < 0) {
                                fprintf(stderr, "hostctl: --%s: %s\n", c == ARG_WINDOW ? "window" : "blackout", why);
                                return EXIT_USAGE;
                        }
                        json_array_append_new(c == ARG_WINDOW ? windows : blackouts, json_string(optarg));
                        break;
                }
                case ARG_ZONE:
                        json_object_set_new(body, "zone", json_string(optarg));
                        break;
                case ARG_ANY_VERSION:
                        json_object_set_new(body, "any_version", json_true());
                        break;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind != argc) {
                fputs(wave_usage, stderr);
                return EXIT_USAGE;
        }
        if (json_array_size(canaries) > 0)
                json_object_set(body, "canaries", canaries);
        if (json_array_size(windows) > 0)
                json_object_set(body, "windows", windows);
        if (json_array_size(blackouts) > 0)
                json_object_set(body, "blackouts", blackouts);
        return 0;
}

/* One call about the wave, and the wave hostd answers with. */
static int wave_call(const char *method, const char *path, json_t *body) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        long status = call_hostd(method, path, body, &reply);

        if (status != 200)
                return reply_error(status, reply);
        if (arg_json)
                return print_json(reply);
        print_wave(reply);
        return 0;
}

/* start, pause, resume, abort: one POST, the wave it left */
static int wave_control(const char *verb, json_t *body) {
        bool start = STREQ(verb, "start");
        char path[64];

        if (!start && (json_object_size(body) > (json_object_get(body, "reason") ? 1u : 0u) ||
                       (STREQ(verb, "resume") && json_object_get(body, "reason")))) {
                fputs(wave_usage, stderr);
                return EXIT_USAGE;
        }
        snprintf(path, sizeof(path), "/v1/wave/%s", verb);
        return wave_call("POST", path, body);
}

/* The wave as it changes, until it ends: 0 when it is done. */
static int wave_watch(void) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        bool tty = isatty(STDOUT_FILENO);
        json_int_t version = 0;

        for (bool first = true;; first = false) {
                char path[64];
                long status;

                /* the first read at once; then each answer comes when the
                 * stored wave may have changed (a long poll) */
                if (first)
                        snprintf(path, sizeof(path), "/v1/wave");
                else
                        snprintf(path, sizeof(path), "/v1/wave?wait=%" JSON_INTEGER_FORMAT, version);
                json_decref(reply);
                reply = NULL;
                status = call_hostd_timeout("GET", path, NULL, &reply, 0);
                if (status != 200)
                        return reply_error(status, reply);
                version = json_integer_value(json_object_get(reply, "version"));
                if (arg_json) {
                        char *text = json_dumps(reply, JSON_COMPACT | JSON_SORT_KEYS);
                        if (text)
                                puts(text);
                        free(text);
                } else {
                        if (tty)
                                printf("\033[H\033[2J");
                        print_wave(reply);
                        if (!tty)
                                printf("\n");
                }
                fflush(stdout);
                const char *st = json_string_value(json_object_get(json_object_get(reply, "wave"), "status"));
                json_int_t finished = json_integer_value(json_object_get(json_object_get(reply, "wave"), "finished"));
                if (!st || (finished && !STREQ(st, "paused"))) {
                        const json_t *n;
                        size_t i, failed = 0;
                        json_array_foreach(json_object_get(json_object_get(reply, "wave"), "nodes"), i, n)
                                failed += STREQ_PTR(json_string_value(json_object_get(n, "step")), "failed");
                        /* done within the error budget is not success for a script */
                        if (st && STREQ(st, "done") && failed)
                                fprintf(stderr, "hostctl: the wave is done, but %zu node(s) failed (within its error "
                                        "budget)\n", failed);
                        return st && STREQ(st, "done") && !failed ? 0 : EXIT_FAILED;
                }
        }
}

int cmd_wave(int argc, char *argv[]) {
        _cleanup_(json_decrefp) json_t *body = json_object();
        const char *verb;
        int r;

        if (argc < 2 || !body) {
                fputs(wave_usage, stderr);
                return EXIT_USAGE;
        }
        verb = argv[1];
        r = parse_wave_args(argc - 1, argv + 1, body);
        if (r != 0)
                return r;
        if (STREQ(verb, "start") || STREQ(verb, "pause") || STREQ(verb, "resume") || STREQ(verb, "abort"))
                return wave_control(verb, body);
        if (json_object_size(body) > 0 || (!STREQ(verb, "status") && !STREQ(verb, "watch"))) {
                fputs(wave_usage, stderr);
                return EXIT_USAGE;
        }
        if (STREQ(verb, "watch"))
                return wave_watch();
        return wave_call("GET", "/v1/wave", NULL);
}
