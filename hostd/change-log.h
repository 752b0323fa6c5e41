/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Change records: every change hostd makes to the host or the Swarm is one
 * record, written twice:
 *   - to the journal, with the kind's stable MESSAGE_ID, HOSTD_CHANGE=<kind>
 *     and the change's own HOSTD_* fields (`journalctl MESSAGE_ID=...`);
 *   - as one JSON line appended to <state>/changes.jsonl, which is what
 *     `hostctl changes` and GET /v1/changes list. It does not depend on
 *     journald running or on its retention: compliance asks for the list of
 *     changes long after the journal has rotated them away.
 *
 * A line is {"seq", "time_usec", "time", "kind", "message_id", "priority",
 * "message", "fields": {"reason": ..., ...}}; seq grows by one per record
 * and survives restarts. When the file passes CHANGE_LOG_ROTATE_BYTES it is
 * renamed to changes.jsonl.1 (replacing the older one), so the log keeps
 * between one and two files' worth of the newest records. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/macro.h"

#define CHANGE_LOG_FILE "changes.jsonl"
#define CHANGE_LOG_ROTATE_BYTES (4u * 1024 * 1024)

typedef enum ChangeKind {
        CHANGE_FIREWALL_APPLY,         /* the desired table replaced the live one */
        CHANGE_FIREWALL_APPLY_PENDING, /* applied, rolls back unless confirmed */
        CHANGE_FIREWALL_CONFIRM,       /* a pending apply confirmed */
        CHANGE_FIREWALL_ROLLBACK,      /* the previous table restored */
        CHANGE_FIREWALL_REPAIR,        /* drift undone */
        CHANGE_FIREWALL_REMOVE,        /* the table deleted (firewall disabled) */
        CHANGE_FIREWALL_PEERS,         /* the Swarm peers' set changed */
        CHANGE_FIREWALL_FAILED,        /* any of the above that failed */
        CHANGE_SECCOMP_INSTALL,        /* dockerd's default profile written */
        CHANGE_SECCOMP_EFFECTIVE,      /* dockerd restarted with it */
        CHANGE_CONTAINER_STOP,         /* an unconfined container stopped */
        CHANGE_CONFIG_RELOAD,
        CHANGE_PATCH_STAGE,
        CHANGE_PATCH_APPLY,
        CHANGE_PATCH_ROLLBACK,
        CHANGE_PATCH_FAILED,
        CHANGE_WAVE_START,
        CHANGE_NODE_DRAIN,             /* a node's availability set to drain */
        CHANGE_NODE_ACTIVATE,          /* ... and back to active */
        CHANGE_NODE_REBOOT,            /* this node rebooted by its wave agent */
        CHANGE_DOCKER_RESTART,         /* dockerd restarted by the wave agent (seccomp install) */
        CHANGE_NODE_TASKS_REPLACED,    /* a drained node's services run all their tasks elsewhere */
        _CHANGE_KIND_MAX,
} ChangeKind;

/* "firewall-apply", ... ; NULL when out of range */
const char *change_kind_to_string(ChangeKind kind);
int change_kind_from_string(const char *s); /* the ChangeKind, or -EINVAL */
/* 32 lowercase hex digits, never changed once released */
const char *change_kind_message_id(ChangeKind kind);

typedef struct ChangeLog ChangeLog;

/* Opens (creating) <state_directory>/changes.jsonl for appending and finds
 * the last sequence number. */
int change_log_open(const char *state_directory, ChangeLog **ret);
ChangeLog *change_log_free(ChangeLog *log);
DEFINE_CLEANUP_FUNC(ChangeLog, change_log_free);

/* Records one change: logs it (level, "KEY=value" journal fields ending with
 * NULL, may be NULL) and appends it to the log, when log is not NULL. A
 * failure to append is logged, never returned: the change itself happened.
 * Journal fields named HOSTD_X become "x" in the record's "fields". */
void change_record(ChangeLog *log, int level, ChangeKind kind, const char *const *fields,
                   const char *format, ...) _printf_(5, 6);

/* Parses one line of the log. Returns 0 and the record, or -EINVAL with err
 * naming the member at fault. */
int change_record_parse(const char *line, size_t size, json_t **ret, char *err, size_t err_size);

/* Reads the records of <state_directory> at or after since_usec (realtime)
 * and of kind (NULL: any), oldest first, at most limit of the newest (0:
 * all), into a JSON array.
 * Lines that do not parse are skipped and described in *ret_damaged as
 * {"file", "line", "error"}. Missing files are an empty log. */
int change_log_read(const char *state_directory, uint64_t since_usec, const char *kind, size_t limit,
                    json_t **ret_records, json_t **ret_damaged);

/* Parses --since: "@EPOCH", "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (or with
 * a 'T'; local time, or UTC with a trailing 'Z'), "today", "yesterday", or
 * an age "-30s", "-15min", "-2h", "-7d" (also without the '-'), against
 * now_usec. Returns -EINVAL for anything else. */
int change_since_parse(const char *s, uint64_t now_usec, uint64_t *ret_usec);
