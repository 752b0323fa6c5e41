/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Logging for the daemon and hostctl. Under systemd (stderr connected to
 * the journal) messages go to journald with structured fields; otherwise to
 * stderr as "hostd[pid]: <level>: message". Only hostd/ logs: the libraries
 * return errors and let their caller decide. */

#include <stdbool.h>
#include <syslog.h>

#include "common/macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,    /* journal if stderr is the journal, else stderr */
        LOG_TARGET_JOURNAL,
        LOG_TARGET_STDERR,
} LogTarget;

/* Parsed from --log-target and --log-level; the only process-wide state. */
extern LogTarget arg_log_target;
extern int arg_log_level;

/* Resolves LOG_TARGET_AUTO once at startup from $JOURNAL_STREAM. */
void log_setup(void);

int log_level_from_string(const char *s);
const char *log_level_to_string(int level);

/* Logs one message. Extra journal fields are "KEY=value" strings ending with
 * NULL; on stderr they are dropped except for the message. Returns -error
 * when error > 0 (pass errno-style positive codes), so callers can write
 * `return log_error_errno(r, "...")`. */
int log_internal(int level, int error, const char *file, int line,
                 const char *func, const char *const *fields,
                 const char *format, ...) _printf_(7, 8);

#define log_full_errno(level, error, ...)                                      \
        log_internal(level, error, __FILE__, __LINE__, __func__, NULL,         \
                     __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_warning_errno(r, ...) log_full_errno(LOG_WARNING, abs(r), __VA_ARGS__)
#define log_error_errno(r, ...) log_full_errno(LOG_ERR, abs(r), __VA_ARGS__)
#define log_debug_errno(r, ...) log_full_errno(LOG_DEBUG, abs(r), __VA_ARGS__)

/* A message with structured journal fields, e.g.
 *   log_struct(LOG_INFO, LOG_FIELDS("MESSAGE_ID=" MSGID_RELOAD,
 *              "HOSTD_CONFIG=/etc/hostd/hostd.json"), "Reloaded %s", path); */
#define LOG_FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define log_struct(level, fields, ...)                                         \
        log_internal(level, 0, __FILE__, __LINE__, __func__, fields,           \
                     __VA_ARGS__)
