/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "hostd/log.h"

LogTarget arg_log_target = LOG_TARGET_AUTO;
int arg_log_level = LOG_INFO;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit",
        [LOG_ERR] = "error",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

int log_level_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (STREQ(s, level_names[i]))
                        return (int) i;
        return -EINVAL;
}

const char *log_level_to_string(int level) {
        if (level < 0 || (size_t) level >= ELEMENTSOF(level_names))
                return "unknown";
        return level_names[level];
}

/* systemd sets JOURNAL_STREAM=dev:ino for services whose stderr is the
 * journal; comparing with our stderr tells if that is still true (a child
 * redirected elsewhere inherits the variable but not the stream). */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(void) {
        if (arg_log_target == LOG_TARGET_AUTO)
                arg_log_target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
}

int log_internal(int level, int error, const char *file, int line,
                 const char *func, const char *const *fields,
                 const char *format, ...) {
        char message[2048];
        va_list ap;
        int saved_errno = errno;

        if (level > arg_log_level)
                return error > 0 ? -error : 0;

        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        if (arg_log_target == LOG_TARGET_JOURNAL) {
                char m[2100], p[32], cf[512], cl[32], fn[256], er[32], id[64];
                struct iovec iov[64];
                size_t n = 0;

#define IOV_PRINTF(buf, ...)                                                   \
        do {                                                                   \
                snprintf(buf, sizeof(buf), __VA_ARGS__);                       \
                iov[n++] = (struct iovec){ .iov_base = buf, .iov_len = strlen(buf) }; \
        } while (0)
                IOV_PRINTF(m, "MESSAGE=%s", message);
                IOV_PRINTF(p, "PRIORITY=%d", level);
                IOV_PRINTF(cf, "CODE_FILE=%s", file);
                IOV_PRINTF(cl, "CODE_LINE=%d", line);
                IOV_PRINTF(fn, "CODE_FUNC=%s", func);
                IOV_PRINTF(id, "SYSLOG_IDENTIFIER=%s", program_invocation_short_name);
                if (error > 0)
                        IOV_PRINTF(er, "ERRNO=%d", error);
#undef IOV_PRINTF
                for (size_t i = 0; fields && fields[i] && n < ELEMENTSOF(iov); i++)
                        iov[n++] = (struct iovec){ .iov_base = (char *) fields[i],
                                                   .iov_len = strlen(fields[i]) };
                sd_journal_sendv(iov, (int) n);
        } else {
                if (error > 0)
                        fprintf(stderr, "%s[%d]: %s: %s: %s\n", program_invocation_short_name,
                                (int) getpid(), log_level_to_string(level), message,
                                strerror(error));
                else
                        fprintf(stderr, "%s[%d]: %s: %s\n", program_invocation_short_name,
                                (int) getpid(), log_level_to_string(level), message);
        }
        errno = saved_errno;
        return error > 0 ? -error : 0;
}
