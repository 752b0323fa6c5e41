/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Seccomp profiles in Docker's JSON format: parsed and validated with the
 * JSON path and line:column of every error, resolved for a target the way
 * Docker resolves them (architecture, capability set, kernel version), and
 * compiled with libseccomp to prove they load before they are installed.
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
 * Unknown keys are errors, as in hostd.json. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

typedef struct SeccompError {
        unsigned line, column; /* 0 when the error has no position */
        char path[128];        /* JSON path, e.g. "syscalls[12].args[0].op" */
        char message[256];
} SeccompError;

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

/* "FILE:LINE:COL: PATH: MESSAGE" */
void seccomp_error_format(const SeccompError *error, const char *filename, char *buf, size_t size);

/* What a profile is resolved for, as Docker resolves it per container. */
typedef struct SeccompTarget {
        const char *arch;             /* Docker short name: "amd64", "arm64", ... */
        const char *const *caps;      /* the container's bounding set, NULL-terminated */
        unsigned kernel_major, kernel_minor;
} SeccompTarget;

/* The host's target: its architecture, Docker's default capability set,
 * and the running kernel. */
void seccomp_target_host(SeccompTarget *ret);

typedef struct SeccompCompiled SeccompCompiled;

typedef struct SeccompStats {
        size_t rules_in_profile;  /* syscalls[] entries */
        size_t rules_selected;    /* after includes/excludes */
        size_t syscalls_added;    /* (name, args) rules given to libseccomp */
        size_t syscalls_skipped;  /* same action as the default, as runc skips them */
        size_t bpf_instructions;  /* of the exported program */
        size_t bpf_bytes;
} SeccompStats;

/* Resolves and compiles: the filter runc would build for this target
 * (rules equal to the default action skipped, binary-tree optimisation
 * above 32 rules where libseccomp supports it, default errno EPERM where
 * none is given). Errors name the rule that libseccomp refused. */
int seccomp_compile(const SeccompProfile *p, const SeccompTarget *target, SeccompCompiled **ret,
                    SeccompError *error);
SeccompCompiled *seccomp_compiled_free(SeccompCompiled *c);
DEFINE_CLEANUP_FUNC(SeccompCompiled, seccomp_compiled_free);
void seccomp_compiled_stats(const SeccompCompiled *c, SeccompStats *ret);

/* Installs the filter in the calling thread (and sets no_new_privs). For a
 * child process about to exec the command under test. */
int seccomp_compiled_load(SeccompCompiled *c);
