/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Whether a running container really runs under a seccomp filter. Docker's
 * API says what was asked for (SecurityOpt, Privileged); the kernel says
 * what is in force: /proc/PID/status "Seccomp: 2" and "Seccomp_filters: N"
 * for the container's init process. Both are checked, because Swarm tasks
 * started by a worker's executor never pass through authorization plugins
 * and a container started privileged gets no filter at all. */

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "policy/seccomp.h"

typedef struct ContainerFinding {
        char id[65];
        char name[128];
        pid_t pid;
        int seccomp_mode;       /* 0 none, 1 strict, 2 filter; -1 unknown */
        unsigned seccomp_filters;
        bool seccomp_unconfined; /* --security-opt seccomp=unconfined */
        bool privileged;
        bool compliant;
        bool own_profile;       /* started with --security-opt seccomp=PROFILE */
        char problem[512];      /* why not compliant, for people */
        /* not judged: the TCP ports it publishes on the host, kept with it
         * for the load balancer's health (hostd/lb-health.h) */
        uint16_t published_tcp[8];
        size_t n_published_tcp;
} ContainerFinding;

/* What a container's own profile is judged against: Docker's default, or
 * hostd's profile while it is dockerd's default. */
typedef struct SeccompBaseline {
        const char *name;               /* for people: "Docker's default profile" */
        const SeccompAllowed *allowed;  /* NULL: it could not be read, */
        const char *error;              /* and why */
} SeccompBaseline;

/* Reads "Seccomp:" and "Seccomp_filters:" from /proc/PID/status (proc_root
 * is "/proc" except in tests). -ENOENT when the process is gone. */
int proc_seccomp_status(const char *proc_root, pid_t pid, int *mode, unsigned *filters);

/* Judges a container from its GET /containers/{id}/json body and the
 * kernel's view of its init process. A container started with a profile of
 * its own (Docker keeps the profile's JSON in HostConfig.SecurityOpt,
 * "seccomp={...}") is judged by what that profile allows, with hostd's
 * parser, against baseline (NULL: not judged): a default action that
 * allows, or a syscall allowed that the baseline denies, is a finding that
 * names them; a profile that cannot be read, or a baseline that could not
 * be, never passes. -EPROTO when the body is not what the Engine API
 * documents (an Id longer than 64 characters or a Pid beyond pid_t
 * included); -ESRCH when the container is not running. *ret is only
 * written on success. */
int container_assess(const json_t *inspect, const char *proc_root, const SeccompBaseline *baseline,
                     ContainerFinding *ret);

json_t *container_finding_json(const ContainerFinding *f);
