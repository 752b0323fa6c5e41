/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostctl seccomp check | compile | run | install | audit. */

#include <getopt.h>

#include "hostd/hostctl/hostctl.h"
#include "policy/seccomp.h"

static int cmd_seccomp_audit(void) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        const json_t *containers, *c;
        long status;
        size_t i;

        status = call_hostd("GET", "/v1/seccomp/audit", NULL, &reply);
        if (status != 200)
                return reply_error(status, reply);
        containers = json_object_get(reply, "containers");
        if (arg_json)
                print_json(reply);
        else {
                printf("%-24s %-12s %8s %8s %8s  %s\n", "CONTAINER", "ID", "PID", "SECCOMP", "FILTERS",
                       "RESULT");
                json_array_foreach(containers, i, c) {
                        const char *problem = json_string_value(json_object_get(c, "problem"));
                        printf("%-24.24s %-12.12s %8lld %8lld %8lld  %s\n", str(c, "name"), str(c, "id"),
                               (long long) json_integer_value(json_object_get(c, "pid")),
                               (long long) json_integer_value(json_object_get(c, "seccomp_mode")),
                               (long long) json_integer_value(json_object_get(c, "seccomp_filters")),
                               problem ? problem : "ok");
                }
                bool all_confined = true;
                json_array_foreach(containers, i, c)
                        all_confined = all_confined && json_is_true(json_object_get(c, "compliant"));
                printf("\n%zu running containers, %s (enforcement: %s)\n", json_array_size(containers),
                       all_confined ? "all under a seccomp filter" : "SOME NOT CONFINED",
                       str(reply, "enforcement"));
                printf("dockerd's default profile: %s (%s)\n", str(reply, "daemon_profile"),
                       json_is_true(json_object_get(reply, "daemon_profile_is_ours"))
                               ? "hostd's"
                               : "NOT hostd's; expected the one installed at");
                if (!json_is_true(json_object_get(reply, "daemon_profile_is_ours")))
                        printf("  %s\n", str(reply, "expected_profile"));
        }
        /* like posture checks: a script can act on the exit status */
        return json_is_true(json_object_get(reply, "compliant")) ? 0 : EXIT_FAILED;
}

static void print_profile_error(const char *file, const SeccompError *e, const char *what) {
        char message[700];

        located_error_format(e, file, message, sizeof(message));
        fprintf(stderr, "%s%s\n", what, message);
}

/* the warnings kept with the profile (the first SECCOMP_MAX_WARNINGS) */
static void print_profile_warnings(const char *file, const SeccompProfile *p) {
        for (size_t i = 0; i < MIN(p->n_warnings, (size_t) SECCOMP_MAX_WARNINGS); i++)
                print_profile_error(file, &p->warnings[i], "warning: ");
}

static json_t *profile_error_json(const char *file, const SeccompError *e) {
        char message[700];

        located_error_format(e, file, message, sizeof(message));
        return json_pack("{s:s, s:s, s:i, s:i, s:s}", "text", message, "path", e->path, "line",
                         (int) e->line, "column", (int) e->column, "message", e->message);
}

static json_t *stats_json(const SeccompTarget *t, const SeccompStats *st) {
        return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "arch", t->arch,
                         "compiler", st->compiler, "rules_in_profile", (json_int_t) st->rules_in_profile, "rules_selected",
                         (json_int_t) st->rules_selected, "syscalls_added",
                         (json_int_t) st->syscalls_added, "syscalls_skipped",
                         (json_int_t) st->syscalls_skipped, "syscalls_unknown",
                         (json_int_t) st->syscalls_unknown, "architectures",
                         (json_int_t) st->architectures, "bpf_instructions",
                         (json_int_t) st->bpf_instructions, "bpf_bytes", (json_int_t) st->bpf_bytes);
}

/* Every architecture the profile maps, besides the host's. */
static size_t profile_arches(const SeccompProfile *p, const char **out, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < p->n_arch_map && n < max; i++) {
                const char *a = seccomp_docker_arch(p->arch_map[i].architecture);
                if (a)
                        out[n++] = a;
        }
        for (size_t i = 0; i < p->n_architectures && n < max; i++) {
                const char *a = seccomp_docker_arch(p->architectures[i]);
                if (a)
                        out[n++] = a;
        }
        return n;
}

/* One file: parse, then compile for the host with Docker's default
 * capabilities and with all of them (both proven in the kernel), and for
 * every other mapped architecture. */
static int check_one(const char *file, json_t *results) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        _cleanup_(json_decrefp) json_t *warnings = json_array(), *targets = json_array();
        SeccompError error = {};
        SeccompTarget host, t;
        SeccompStats stats = {}, host_stats = {};
        const char *arches[32];
        size_t n_arches;
        bool loaded = false;
        int r;

        r = seccomp_profile_load(file, &p, &error);
        if (r < 0) {
                if (arg_json)
                        json_array_append_new(results, json_pack("{s:s, s:b, s:o}", "file", file, "valid", 0,
                                                                 "error", profile_error_json(file, &error)));
                else
                        print_profile_error(file, &error, "");
                return EXIT_FAILED;
        }
        if (arg_json)
                for (size_t i = 0; i < MIN(p->n_warnings, (size_t) SECCOMP_MAX_WARNINGS); i++)
                        json_array_append_new(warnings, profile_error_json(file, &p->warnings[i]));
        else
                print_profile_warnings(file, p);

        /* an unconfined profile ({}) is refused by the compiler, with why */
        seccomp_target_host(&host);
        r = seccomp_profile_verify(p, &host_stats, &error);
        loaded = r == 0;
        if (r >= 0)
                json_array_append_new(targets, stats_json(&host, &host_stats));
        n_arches = profile_arches(p, arches, ELEMENTSOF(arches));
        for (size_t i = 0; r >= 0 && i < n_arches; i++) {
                if (STREQ(arches[i], host.arch))
                        continue;
                if (!seccomp_arch_buildable(arches[i])) {
                        /* a node of it runs a libseccomp that can; this one
                         * cannot check it */
                        if (arg_json)
                                json_array_append_new(
                                        warnings, json_pack("{s:s, s:s}", "file", file, "message",
                                                            "not compiled for this architecture: this libseccomp "
                                                            "cannot build filters for it"));
                        else
                                fprintf(stderr, "warning: %s: not compiled for %s: this libseccomp cannot "
                                                "build filters for it\n",
                                        file, arches[i]);
                        continue;
                }
                t = host;
                t.arch = arches[i];
                r = seccomp_check_target(p, &t, &stats, &error);
                if (r >= 0)
                        json_array_append_new(targets, stats_json(&t, &stats));
        }
        if (r < 0) {
                if (arg_json)
                        json_array_append_new(results,
                                              json_pack("{s:s, s:b, s:o, s:O}", "file", file, "valid", 0,
                                                        "error", profile_error_json(file, &error),
                                                        "warnings", warnings));
                else
                        print_profile_error(file, &error, "");
                return EXIT_FAILED;
        }
        if (arg_json)
                json_array_append_new(results, json_pack("{s:s, s:b, s:b, s:O, s:O}", "file", file, "valid",
                                                         1, "loaded", loaded, "warnings", warnings,
                                                         "targets", targets));
        else
                printf("%s: valid: %zu rules; on %s with Docker's default capabilities: %zu syscall "
                       "rules, %zu BPF instructions; %s\n",
                       file, p->n_rules, host.arch, host_stats.syscalls_added,
                       host_stats.bpf_instructions,
                       loaded ? "loads in the kernel"
                              : "not loaded here: its SCMP_ACT_NOTIFY rules need their agent");
        return 0;
}

static int cmd_seccomp_check(int argc, char *argv[]) {
        _cleanup_(json_decrefp) json_t *results = json_array();
        int r = 0;

        if (argc < 2) {
                fprintf(stderr, "hostctl: usage: hostctl seccomp check FILE...\n");
                return EXIT_USAGE;
        }
        for (int i = 1; i < argc; i++)
                if (check_one(argv[i], results) != 0)
                        r = EXIT_FAILED;
        if (arg_json)
                print_json(results);
        return r;
}

/* Options shared by compile and run: --caps, --arch, --kernel. Returns the
 * index of the first operand, or -1 after a usage message. */
static int parse_target_options(int argc, char *argv[], bool allow_arch, SeccompTarget *t,
                                const char ***caps, bool *pfc) {
        enum { ARG_CAPS = 0x100, ARG_ARCH, ARG_KERNEL, ARG_PFC };
        static const struct option options[] = {
                { "caps", required_argument, NULL, ARG_CAPS },
                { "arch", required_argument, NULL, ARG_ARCH },
                { "kernel", required_argument, NULL, ARG_KERNEL },
                { "pfc", no_argument, NULL, ARG_PFC },
                {},
        };
        char err[128];
        int c, n;

        seccomp_target_host(t);
        optind = 0; /* also resets GNU getopt's state from main's scan */
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_CAPS:
                        free(*caps);
                        *caps = NULL;
                        if (seccomp_caps_parse(optarg, caps, err, sizeof(err)) < 0) {
                                fprintf(stderr, "hostctl: --caps: %s\n", err);
                                return -1;
                        }
                        t->caps = *caps;
                        break;
                case ARG_ARCH:
                        if (!allow_arch || !seccomp_docker_arch(optarg)) {
                                fprintf(stderr, "hostctl: --arch: %s\n",
                                        allow_arch ? "unknown architecture" : "only the host's");
                                return -1;
                        }
                        t->arch = seccomp_docker_arch(optarg);
                        break;
                case ARG_KERNEL:
                        n = 0;
                        if (sscanf(optarg, "%u.%u%n", &t->kernel_major, &t->kernel_minor, &n) != 2 ||
                            optarg[n] != 0) {
                                fprintf(stderr, "hostctl: --kernel: expected MAJOR.MINOR\n");
                                return -1;
                        }
                        break;
                case ARG_PFC:
                        if (!pfc)
                                return -1;
                        *pfc = true;
                        break;
                default:
                        return -1;
                }
        return optind;
}

static int load_profile_or_report(const char *file, SeccompProfile **ret) {
        SeccompError error = {};
        int r;

        r = seccomp_profile_load(file, ret, &error);
        if (r < 0) {
                print_profile_error(file, &error, "");
                return EXIT_FAILED;
        }
        print_profile_warnings(file, *ret);
        return 0;
}

static int cmd_seccomp_compile(int argc, char *argv[]) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        _cleanup_(seccomp_compiled_freep) SeccompCompiled *c = NULL;
        _cleanup_free_ const char **caps = NULL;
        SeccompError error = {};
        SeccompTarget t;
        SeccompStats st;
        bool pfc = false;
        int first, r;

        first = parse_target_options(argc, argv, true, &t, &caps, &pfc);
        if (first < 0 || first != argc - 1) {
                fprintf(stderr, "hostctl: usage: hostctl seccomp compile FILE [--caps LIST] "
                                "[--arch ARCH] [--kernel X.Y] [--pfc]\n");
                return EXIT_USAGE;
        }
        r = load_profile_or_report(argv[first], &p);
        if (r != 0)
                return r;
        /* the listing is libseccomp's: compile with it */
        r = seccomp_compile_with(p, &t, pfc ? SECCOMP_COMPILER_LIBSECCOMP : SECCOMP_COMPILER_AUTO, &c, &error);
        if (r < 0) {
                print_profile_error(argv[first], &error, "");
                return EXIT_FAILED;
        }
        if (pfc) {
                fflush(stdout);
                return seccomp_compiled_export_pfc(c, STDOUT_FILENO) < 0 ? EXIT_FAILED : 0;
        }
        seccomp_compiled_stats(c, &st);
        if (arg_json) {
                _cleanup_(json_decrefp) json_t *j = stats_json(&t, &st);
                json_object_set_new(j, "file", json_string(argv[first]));
                return print_json(j);
        }
        size_t n_caps = 0;
        while (t.caps[n_caps])
                n_caps++;
        printf("%s for %s, kernel %u.%u, %zu capabilities\n\n", argv[first], t.arch, t.kernel_major,
               t.kernel_minor, n_caps);
        printf("  %-44s %6zu\n", "syscalls[] entries in the profile", st.rules_in_profile);
        printf("  %-44s %6zu\n", "entries that apply to this target", st.rules_selected);
        printf("  %-44s %6zu\n", "syscall rules in the filter", st.syscalls_added);
        printf("  %-44s %6zu\n", "skipped: same action as the default", st.syscalls_skipped);
        printf("  %-44s %6zu\n", "skipped: unknown to this libseccomp", st.syscalls_unknown);
        printf("  %-44s %6zu\n", "architectures in the filter", st.architectures);
        printf("  %-44s %6zu\n", "BPF instructions", st.bpf_instructions);
        printf("  %-44s %6zu\n", "BPF bytes", st.bpf_bytes);
        printf("  %-44s %6s\n", "compiled by", st.compiler);
        return 0;
}

/* Runs a command under the profile, as a container's process would be:
 * the filter that runc would build for Docker's default capabilities (or
 * --caps), loaded here, then exec. The exit status is the command's. */
static int cmd_seccomp_run(int argc, char *argv[]) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        _cleanup_(seccomp_compiled_freep) SeccompCompiled *c = NULL;
        _cleanup_free_ const char **caps = NULL;
        SeccompError error = {};
        SeccompTarget t;
        int first, dashes = 0, r;

        /* options are looked for only before "--": the command has its own */
        for (int i = 1; i < argc && dashes == 0; i++)
                if (STREQ(argv[i], "--"))
                        dashes = i;
        first = dashes > 0 ? parse_target_options(dashes, argv, false, &t, &caps, NULL) : -1;
        if (first < 0 || first != dashes - 1 || dashes + 1 >= argc) {
                fprintf(stderr, "hostctl: usage: hostctl seccomp run FILE [--caps LIST] -- COMMAND [ARG...]\n");
                return EXIT_USAGE;
        }
        r = load_profile_or_report(argv[first], &p);
        if (r != 0)
                return r;
        for (size_t i = 0; i < p->n_rules; i++)
                if (p->rules[i].action == SECCOMP_ACTION_NOTIFY) {
                        fprintf(stderr, "hostctl: %s uses SCMP_ACT_NOTIFY; running it needs the agent "
                                        "listening at %s\n", argv[first], p->listener_path);
                        return EXIT_FAILED;
                }
        r = seccomp_compile(p, &t, &c, &error);
        if (r < 0) {
                print_profile_error(argv[first], &error, "");
                return EXIT_FAILED;
        }
        first = dashes + 1;
        fflush(NULL);
        r = seccomp_compiled_load(c);
        if (r < 0) {
                fprintf(stderr, "hostctl: cannot load the filter: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        execvp(argv[first], argv + first);
        fprintf(stderr, "hostctl: cannot run %s under the profile: %m\n", argv[first]);
        return errno == ENOENT ? 127 : 126;
}

static int cmd_seccomp_install(int argc, char *argv[]) {
        _cleanup_(json_decrefp) json_t *reply = NULL, *body = NULL;
        _cleanup_free_ char *path = NULL;
        const char *file = argc > 1 ? argv[1] : HOSTD_DATADIR "/hostd/seccomp/hostd-hardened.json";
        long status;

        if (argc > 2) {
                fprintf(stderr, "hostctl: usage: hostctl seccomp install [FILE]\n");
                return EXIT_USAGE;
        }
        /* hostd reads the file itself, so it must be named from /, not from here */
        path = realpath(file, NULL);
        if (!path) {
                fprintf(stderr, "hostctl: %s: %m\n", file);
                return EXIT_FAILED;
        }
        body = json_pack("{s:s}", "profile", path);
        status = call_hostd("POST", "/v1/seccomp/install", body, &reply);
        if (status != 200)
                return reply_error(status, reply);
        if (arg_json)
                return print_json(reply);
        printf("%s %s as %s\n", path,
               json_is_true(json_object_get(reply, "profile_changed")) ? "installed" : "already installed",
               str(reply, "installed_profile"));
        printf("%s: \"seccomp-profile\" %s\n", str(reply, "daemon_json"),
               json_is_true(json_object_get(reply, "daemon_json_changed")) ? "set" : "already set");
        if (json_is_true(json_object_get(reply, "restart_pending")))
                printf("dockerd reads it when it restarts: hostd restarts Docker only while this node "
                       "is drained (patch wave), never under running tasks\n");
        else
                printf("dockerd already uses it\n");
        return 0;
}

int cmd_seccomp(int argc, char *argv[]) {
        static const char usage[] =
                "hostctl: usage: hostctl seccomp check FILE...\n"
                "       hostctl seccomp compile FILE [--caps LIST] [--arch ARCH] [--kernel X.Y] [--pfc]\n"
                "       hostctl seccomp run FILE [--caps LIST] -- COMMAND [ARG...]\n"
                "       hostctl seccomp install [FILE]\n"
                "       hostctl seccomp audit\n";

        if (argc == 2 && STREQ(argv[1], "audit"))
                return cmd_seccomp_audit();
        if (argc >= 2 && STREQ(argv[1], "check"))
                return cmd_seccomp_check(argc - 1, argv + 1);
        if (argc >= 2 && STREQ(argv[1], "compile"))
                return cmd_seccomp_compile(argc - 1, argv + 1);
        if (argc >= 2 && STREQ(argv[1], "run"))
                return cmd_seccomp_run(argc - 1, argv + 1);
        if (argc >= 2 && STREQ(argv[1], "install"))
                return cmd_seccomp_install(argc - 1, argv + 1);
        fputs(usage, stderr);
        return EXIT_USAGE;
}
