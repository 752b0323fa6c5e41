/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Seccomp profiles in Docker's JSON format: parsed and validated with the
 * JSON path and line:column of every error, resolved for a target the way
 * Docker resolves them (architecture, capability set, kernel version), and
 * compiled to BPF to prove they load before they are installed.
 *
 * The format (moby profiles/seccomp/seccomp.go, as Docker 20.10 reads it):
 *   {
 *     "defaultAction": "SCMP_ACT_ERRNO",        required unless no syscalls
 *     "defaultErrnoRet": 1,                      optional
 *     "architectures": ["SCMP_ARCH_X86_64"],     or "archMap", not both
 *     "archMap": [{"architecture": "SCMP_ARCH_X86_64",
 *                  "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
 *     "flags": ["SECCOMP_FILTER_FLAG_LOG"],      optional
 *     "listenerPath": "/run/...",                with SCMP_ACT_NOTIFY only
 *     "listenerMetadata": "...",
 *     "syscalls": [{
 *       "names": ["read", "write"],              or "name", not both
 *       "action": "SCMP_ACT_ALLOW",
 *       "errnoRet": 38,                           SCMP_ACT_ERRNO/TRACE only
 *       "args": [{"index": 0, "value": 2080505856, "valueTwo": 0,
 *                 "op": "SCMP_CMP_MASKED_EQ"}],   index 0..5
 *       "comment": "...",
 *       "includes": {"caps": [...], "arches": [...], "minKernel": "4.8"},
 *       "excludes": {"caps": [...], "arches": [...], "minKernel": "4.8"}
 *     }]
 *   }
 * Actions: SCMP_ACT_KILL (= KILL_THREAD), SCMP_ACT_KILL_THREAD,
 * SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE,
 * SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY. Ops: SCMP_CMP_NE, _LT, _LE,
 * _EQ, _GE, _GT, _MASKED_EQ. Arches in includes/excludes use Docker's short
 * names (amd64, x86, arm64, ...); architectures use SCMP_ARCH_* names.
 * Podman's profiles (containers/common) also carry "defaultErrno" and
 * "errno", errno names ("ENOSYS") beside the numbers: accepted, and they
 * must agree with the numbers when both are given.
 *
 * Unknown keys are errors, as in hostd.json (Docker's Go decoder ignores
 * them, so a misspelt key there silently does nothing). Things Docker
 * accepts but that cannot do what the author meant are warnings: an arch
 * in includes/excludes that no Docker build reports (Docker's own profile
 * says "mips3l64n32"), a syscall newer than this libseccomp knows. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "common/json.h"

typedef LocatedError SeccompError; /* path: e.g. "syscalls[12].args[0].op" */

#define SECCOMP_PROFILE_MAX_SIZE (4u << 20)
#define SECCOMP_MAX_WARNINGS 32

typedef enum SeccompActionKind {
        SECCOMP_ACTION_KILL_THREAD,
        SECCOMP_ACTION_KILL_PROCESS,
        SECCOMP_ACTION_TRAP,
        SECCOMP_ACTION_ERRNO,
        SECCOMP_ACTION_TRACE,
        SECCOMP_ACTION_ALLOW,
        SECCOMP_ACTION_LOG,
        SECCOMP_ACTION_NOTIFY,
} SeccompActionKind;

typedef enum SeccompOp {
        SECCOMP_OP_NE,
        SECCOMP_OP_LT,
        SECCOMP_OP_LE,
        SECCOMP_OP_EQ,
        SECCOMP_OP_GE,
        SECCOMP_OP_GT,
        SECCOMP_OP_MASKED_EQ,
} SeccompOp;

typedef struct SeccompArg {
        unsigned index; /* 0..5 */
        uint64_t value, value_two;
        SeccompOp op;
} SeccompArg;

typedef struct SeccompFilter {
        char **caps;    /* "CAP_SYS_ADMIN", ... */
        size_t n_caps;
        char **arches;  /* Docker's short names: "amd64", "x86", ... */
        size_t n_arches;
        unsigned min_kernel_major, min_kernel_minor; /* 0.0: none */
} SeccompFilter;

typedef struct SeccompRule {
        char **names;
        size_t n_names;
        SeccompActionKind action;
        bool has_errno;
        unsigned errno_ret;
        SeccompArg args[6];
        size_t n_args;
        SeccompFilter includes, excludes;
        char *comment;
        unsigned line, column; /* of the syscalls[] entry */
} SeccompRule;

typedef struct SeccompProfile {
        bool has_default;           /* false: "no default action, no syscalls" = unconfined */
        SeccompActionKind default_action;
        bool has_default_errno;
        unsigned default_errno_ret;
        char **architectures;       /* SCMP_ARCH_* names, from "architectures" */
        size_t n_architectures;
        struct {
                char *architecture;
                char **sub_architectures;
                size_t n_sub_architectures;
        } *arch_map;
        size_t n_arch_map;
        char **flags;
        size_t n_flags;
        char *listener_path, *listener_metadata;
        SeccompRule *rules;
        size_t n_rules;
        SeccompError warnings[SECCOMP_MAX_WARNINGS]; /* the first ones */
        size_t n_warnings;                           /* all of them */
} SeccompProfile;

/* Parses and validates a profile: structure, types, action and op names,
 * arg indexes, errnoRet only where it applies, listenerPath only with
 * SCMP_ACT_NOTIFY, architecture names, kernel versions, and every syscall
 * name known to libseccomp (for some architecture: names of other
 * architectures, like chown32 in an x86_64 profile, are legitimate).
 * Returns 0, or -EINVAL/-E2BIG/-ENOMEM with *error located. */
int seccomp_profile_parse(const char *text, size_t length, SeccompProfile **ret, SeccompError *error);
int seccomp_profile_load(const char *path, SeccompProfile **ret, SeccompError *error);
SeccompProfile *seccomp_profile_free(SeccompProfile *p);
DEFINE_CLEANUP_FUNC(SeccompProfile, seccomp_profile_free);

/* Errors print with located_error_format(): "FILE:LINE:COL: PATH: MESSAGE". */

/* "SCMP_ACT_ERRNO", ... */
const char *seccomp_action_name(SeccompActionKind action);

/* What a profile is resolved for, as Docker resolves it per container. */
typedef struct SeccompTarget {
        const char *arch;             /* Docker short name: "amd64", "arm64", ... */
        const char *const *caps;      /* the container's bounding set, NULL-terminated */
        unsigned kernel_major, kernel_minor;
} SeccompTarget;

/* The host's target: its architecture, Docker's default capability set,
 * and the running kernel. */
void seccomp_target_host(SeccompTarget *ret);

/* Docker's default capability set for a container (NULL-terminated), and
 * every capability this build knows (what --privileged grants). */
extern const char *const seccomp_docker_default_caps[];
extern const char *const seccomp_all_caps[];

/* A capability list as people write it: "CAP_NET_ADMIN,SYS_PTRACE" (the
 * prefix is optional, case is not significant), "default" for Docker's
 * default set or "all". *ret is a NULL-terminated array of static strings,
 * freed with free(). -EINVAL with the offending name in err. */
int seccomp_caps_parse(const char *list, const char ***ret, char *err, size_t err_size);

/* Docker's short name ("amd64") of a libseccomp architecture name
 * ("x86_64", "SCMP_ARCH_X86_64") or of the short name itself; NULL when unknown. */
const char *seccomp_docker_arch(const char *name);

typedef struct SeccompCompiled SeccompCompiled;

typedef struct SeccompStats {
        const char *compiler;     /* "hostd" or "libseccomp" (see below) */
        size_t rules_in_profile;  /* syscalls[] entries */
        size_t rules_selected;    /* after includes/excludes */
        size_t syscalls_added;    /* (name, args) rules in the filter */
        size_t syscalls_skipped;  /* same action as the default, as runc skips them */
        size_t syscalls_unknown;  /* names this libseccomp cannot resolve, skipped as runc does */
        size_t architectures;     /* in the filter */
        size_t bpf_instructions;  /* of the exported program */
        size_t bpf_bytes;
} SeccompStats;

/* Resolves and compiles: the filter runc would build for this target
 * (rules equal to the default action skipped, default errno EPERM where
 * none is given). Errors name the rule that libseccomp refused.
 *
 * SECCOMP_COMPILER_AUTO builds the program with hostd's own generator
 * (policy/seccomp-bpf.h), which gives every syscall the verdict
 * libseccomp's program gives it in a small fraction of the time, and
 * falls back to libseccomp where that generator does not reach (other
 * architectures, SCMP_ACT_NOTIFY, conditional rules of different actions
 * for one syscall). SECCOMP_COMPILER_LIBSECCOMP is what runc runs, with
 * its binary tree above 32 rules: for the pseudo-code listing, and for the
 * tests that hold the two to the same verdicts. */
typedef enum SeccompCompiler {
        SECCOMP_COMPILER_AUTO,
        SECCOMP_COMPILER_LIBSECCOMP,
} SeccompCompiler;
int seccomp_compile_with(const SeccompProfile *p, const SeccompTarget *target, SeccompCompiler compiler,
                         SeccompCompiled **ret, SeccompError *error);
int seccomp_compile(const SeccompProfile *p, const SeccompTarget *target, SeccompCompiled **ret,
                    SeccompError *error);
SeccompCompiled *seccomp_compiled_free(SeccompCompiled *c);
DEFINE_CLEANUP_FUNC(SeccompCompiled, seccomp_compiled_free);
void seccomp_compiled_stats(const SeccompCompiled *c, SeccompStats *ret);

/* The BPF program (struct sock_filter[]), owned by c. */
struct sock_filter;
void seccomp_compiled_program(const SeccompCompiled *c, const struct sock_filter **ret, size_t *ret_n);

/* Loads the filter in a short-lived child process, so the kernel itself
 * accepts or refuses it (program size, flags) without touching the caller.
 * Only for a target of the host's architecture (-EXDEV otherwise), and not
 * for filters with SCMP_ACT_NOTIFY rules, whose agent is not there
 * (-EOPNOTSUPP). 0, or the kernel's negative errno. */
int seccomp_compiled_prove_load(SeccompCompiled *c);

/* Installs the filter in the calling thread (and sets no_new_privs). For a
 * child process about to exec the command under test. */
int seccomp_compiled_load(SeccompCompiled *c);

/* What a profile lets a container on target do, to judge it against a
 * baseline: whether its default action allows (SCMP_ACT_ALLOW or
 * SCMP_ACT_LOG: every syscall it does not name), and the syscalls its
 * rules selected for target allow (ALLOW or LOG, with or without argument
 * conditions: allowed in some calls is allowed), sorted, each once. names
 * point into p, which must outlive it. */
typedef struct SeccompAllowed {
        bool default_allows;
        const char **names;
        size_t n_names;
} SeccompAllowed;

int seccomp_allowed(const SeccompProfile *p, const SeccompTarget *t, SeccompAllowed *ret);
void seccomp_allowed_done(SeccompAllowed *a);

/* The syscalls a allows that baseline does not, sorted (borrowed from a):
 * *ret is malloc'd (free() it), NULL when there are none. */
int seccomp_allowed_beyond(const SeccompAllowed *a, const SeccompAllowed *baseline, const char ***ret,
                           size_t *ret_n);

/* Whether this libseccomp can build filters for the Docker-named
 * architecture arch ("loong64" needs libseccomp 2.6). */
bool seccomp_arch_buildable(const char *arch);

/* Compiles for one target and, when the target is this host's
 * architecture, has the kernel load the filter in a child. Returns 0 when
 * loaded, 1 when only compiled (another architecture, or SCMP_ACT_NOTIFY
 * rules whose agent is not there), -EINVAL with *error filled otherwise.
 * *ret (optional) gets the stats. */
int seccomp_check_target(const SeccompProfile *p, const SeccompTarget *t, SeccompStats *ret,
                         SeccompError *error);

/* What must hold before a profile is installed on this host: it compiles
 * for the host's architecture both with Docker's default capabilities and
 * with all of them (privileged-like sets select other rules), and the
 * kernel loads both. *ret gets the stats of the default-capabilities
 * filter. Returns 0, or 1 when the filters compiled but were not loaded
 * because SCMP_ACT_NOTIFY rules need their agent; -EINVAL with *error
 * filled when any of it fails. */
int seccomp_profile_verify(const SeccompProfile *p, SeccompStats *ret, SeccompError *error);

/* libseccomp's pseudo filter code (a readable listing of the filter), for
 * filters compiled by libseccomp; -EOPNOTSUPP otherwise. */
int seccomp_compiled_export_pfc(SeccompCompiled *c, int fd);
