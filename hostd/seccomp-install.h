/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Installing a seccomp profile as dockerd's daemon-wide default, and
 * knowing when dockerd has really picked it up.
 *
 * dockerd reads daemon.json "seccomp-profile" and the profile's content
 * only when it starts, so an install is effective after the next restart of
 * dockerd. hostd never restarts Docker under running tasks: the restart
 * belongs to a drain of this node (patch waves). Until then the install is
 * "pending", a state kept in a file under hostd's state directory (the
 * boot ID and the CLOCK_BOOTTIME of the install) so that it survives a
 * restart of hostd, and settled by comparing it with the start time of the
 * dockerd process behind the API socket (its SO_PEERCRED pid). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/seccomp.h"

#define PROFILE_PENDING_FILE "seccomp-restart-pending"
/* The SHA-256 of the installed profile, as sha256sum writes it, so that a
 * file changed behind hostd's back is seen (and `sha256sum -c` checks it). */
#define PROFILE_DIGEST_FILE "seccomp-profile.sha256"
#define PROFILE_DIGEST_HEX 65

typedef struct ProfileInstall {
        bool profile_changed;      /* the installed file was written */
        bool daemon_json_changed;  /* "seccomp-profile" was set */
        SeccompStats stats;        /* of the filter for this host */
        char digest[PROFILE_DIGEST_HEX]; /* SHA-256 of the installed content */
        char error[768];           /* why it failed, located where it can be */
} ProfileInstall;

/* Validates source (parse, compile for the host with Docker's default
 * capabilities and with all, load both in a child), then writes it to
 * installed_path (mode 0644, atomically, only when the bytes differ) and
 * sets "seccomp-profile" to installed_path in daemon_json (every other key
 * kept). Nothing is changed when validation or reading daemon.json fails;
 * a failure to write daemon.json puts the previous profile back.
 * dockerd_cmdline (NULL: not known, dockerd not running) is the running
 * dockerd's /proc/PID/cmdline: dockerd refuses to start when a setting is
 * given both as a flag and in daemon.json, so a --seccomp-profile flag
 * there refuses the install (-EEXIST), naming it, before anything changes.
 * Returns 0 or a negative errno with ret->error set. */
int profile_install(const char *source, const char *installed_path, const char *daemon_json,
                    const char *dockerd_cmdline, ProfileInstall *ret);

/* Records ret->digest for installed_path, for profile_digest_verify(). */
int profile_digest_record(const char *state_directory, const char *installed_path, const char *digest);

/* Whether installed_path still has the content recorded at install: 0, or
 * a negative errno with why set: -ENOENT nothing recorded for this path,
 * -EBADMSG the content changed (both digests named), or the file or the
 * record unreadable. */
int profile_digest_verify(const char *state_directory, const char *installed_path, char *why, size_t why_size);

/* Records that an install happened now, for profile_restart_pending(). */
int profile_pending_record(const char *state_directory, const char *installed_path);

/* Whether the dockerd serving docker_socket (docker_daemon_pid, with
 * dockerd_pidfile for a socket systemd made) started before the recorded
 * install (1), after it or on a later boot (0, and the record is removed),
 * or nothing is recorded (0). Negative errno when dockerd's start cannot be
 * read (not running): the record is kept. */
int profile_restart_pending(const char *state_directory, const char *docker_socket, const char *dockerd_pidfile);

/* The start of process pid in CLOCK_BOOTTIME microseconds, from
 * /proc/PID/stat (proc_root is "/proc" except in tests). */
int process_start_boottime_usec(const char *proc_root, pid_t pid, uint64_t *ret);
