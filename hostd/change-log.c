/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "hostd/change-log.h"
#include "hostd/log.h"
#include "hostd/messages.h"

static const struct {
        const char *name;
        const char *message_id;
} kinds[_CHANGE_KIND_MAX] = {
        [CHANGE_FIREWALL_APPLY] = { "firewall-apply", MSGID_FIREWALL_APPLIED },
        [CHANGE_FIREWALL_APPLY_PENDING] = { "firewall-apply-pending", MSGID_FIREWALL_PENDING },
        [CHANGE_FIREWALL_CONFIRM] = { "firewall-confirm", MSGID_FIREWALL_CONFIRMED },
        [CHANGE_FIREWALL_ROLLBACK] = { "firewall-rollback", MSGID_FIREWALL_ROLLBACK },
        [CHANGE_FIREWALL_REPAIR] = { "firewall-repair", MSGID_FIREWALL_REPAIRED },
        [CHANGE_FIREWALL_REMOVE] = { "firewall-remove", MSGID_FIREWALL_REMOVED },
        [CHANGE_FIREWALL_PEERS] = { "firewall-peers", MSGID_FIREWALL_PEERS },
        [CHANGE_FIREWALL_FAILED] = { "firewall-failed", MSGID_FIREWALL_FAILED },
        [CHANGE_SECCOMP_INSTALL] = { "seccomp-install", MSGID_SECCOMP_INSTALLED },
        [CHANGE_SECCOMP_EFFECTIVE] = { "seccomp-effective", MSGID_SECCOMP_EFFECTIVE },
        [CHANGE_CONTAINER_STOP] = { "container-stop", MSGID_CONTAINER_STOPPED },
        [CHANGE_CONFIG_RELOAD] = { "config-reload", MSGID_CONFIG_RELOADED },
        [CHANGE_PATCH_STAGE] = { "patch-stage", MSGID_PATCH_STAGED },
        [CHANGE_PATCH_APPLY] = { "patch-apply", MSGID_PATCH_APPLIED },
        [CHANGE_PATCH_ROLLBACK] = { "patch-rollback", MSGID_PATCH_ROLLED_BACK },
        [CHANGE_PATCH_FAILED] = { "patch-failed", MSGID_PATCH_FAILED },
        [CHANGE_WAVE_START] = { "wave-start", MSGID_WAVE_STARTED },
        [CHANGE_NODE_DRAIN] = { "node-drain", MSGID_WAVE_DRAINED },
        [CHANGE_NODE_ACTIVATE] = { "node-activate", MSGID_WAVE_ACTIVATED },
        [CHANGE_NODE_REBOOT] = { "node-reboot", MSGID_WAVE_NODE_REBOOT },
        [CHANGE_DOCKER_RESTART] = { "docker-restart", MSGID_WAVE_DOCKER_RESTART },
        [CHANGE_NODE_TASKS_REPLACED] = { "node-tasks-replaced", MSGID_WAVE_TASKS_REPLACED },
};

const char *change_kind_to_string(ChangeKind kind) {
        if ((unsigned) kind >= _CHANGE_KIND_MAX)
                return NULL;
        return kinds[kind].name;
}

int change_kind_from_string(const char *s) {
        for (unsigned k = 0; s && k < _CHANGE_KIND_MAX; k++)
                if (STREQ(s, kinds[k].name))
                        return (int) k;
        return -EINVAL;
}

const char *change_kind_message_id(ChangeKind kind) {
        if ((unsigned) kind >= _CHANGE_KIND_MAX)
                return NULL;
        return kinds[kind].message_id;
}

struct ChangeLog {
        char *path;
        char *rotated_path;
        int fd;
        uint64_t seq;      /* of the last record written */
        uint64_t end;      /* the file's size after it: another size means
                            * another writer (hostd --oneshot) appended */
};

/* Calls each(rec or NULL, line number, why, userdata) for every line of
 * path but empty ones: rec when the line is a record, NULL with why when it
 * is not. A missing file has no lines. */
typedef int (*RecordVisitor)(json_t *rec, unsigned line, const char *why, void *userdata);

static int for_each_record(const char *path, RecordVisitor each, void *userdata) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        unsigned number = 0;
        int r;

        r = read_file(path, 2 * CHANGE_LOG_ROTATE_BYTES, &data, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        for (char *line = data, *end; line < data + size; line = end + 1) {
                _cleanup_(json_decrefp) json_t *rec = NULL;
                char why[160] = "";

                number++;
                end = memchr(line, '\n', (size_t) (data + size - line));
                if (!end)
                        end = data + size;
                if (end == line)
                        continue;
                if (change_record_parse(line, (size_t) (end - line), &rec, why, sizeof(why)) < 0)
                        rec = NULL;
                r = each(rec, number, why, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int max_seq(json_t *rec, unsigned line _unused_, const char *why _unused_, void *userdata) {
        uint64_t *seq = userdata;

        if (rec)
                *seq = MAX(*seq, (uint64_t) json_integer_value(json_object_get(rec, "seq")));
        return 0;
}

/* every line, not just the last: a damaged tail must not reset it */
static uint64_t last_seq_in(const char *path) {
        uint64_t seq = 0;

        for_each_record(path, max_seq, &seq);
        return seq;
}

static uint64_t file_size(int fd) {
        struct stat st;

        return fstat(fd, &st) < 0 ? 0 : (uint64_t) st.st_size;
}

static int open_append(const char *path) {
        /* read-write for end_torn_line()'s look at the last byte */
        return open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
}

/* A crash in a write leaves a last line without its newline; end it, so
 * that the next record is not glued to it and lost with it. */
static int end_torn_line(int fd) {
        uint64_t size = file_size(fd);
        char last;

        if (size == 0)
                return 0;
        if (pread(fd, &last, 1, (off_t) size - 1) != 1)
                return -EIO;
        if (last != '\n' && write(fd, "\n", 1) != 1)
                return -EIO;
        return 0;
}

int change_log_open(const char *state_directory, ChangeLog **ret) {
        _cleanup_(change_log_freep) ChangeLog *log = calloc(1, sizeof(ChangeLog));
        int r;

        if (!log)
                return -ENOMEM;
        log->fd = -1;
        if (asprintf(&log->path, "%s/%s", state_directory, CHANGE_LOG_FILE) < 0) {
                log->path = NULL;
                return -ENOMEM;
        }
        if (asprintf(&log->rotated_path, "%s.1", log->path) < 0) {
                log->rotated_path = NULL;
                return -ENOMEM;
        }
        r = mkdir_p(state_directory, 0700);
        if (r < 0)
                return r;
        log->fd = open_append(log->path);
        if (log->fd < 0)
                return negative_errno();
        r = end_torn_line(log->fd);
        if (r < 0)
                return r;
        log->seq = MAX(last_seq_in(log->path), last_seq_in(log->rotated_path));
        log->end = file_size(log->fd);
        *ret = TAKE_PTR(log);
        return 0;
}

ChangeLog *change_log_free(ChangeLog *log) {
        if (!log)
                return NULL;
        if (log->fd >= 0)
                close(log->fd);
        free(log->path);
        free(log->rotated_path);
        free(log);
        return NULL;
}

static int rotate_if_full(ChangeLog *log) {
        int fd;

        if (file_size(log->fd) < CHANGE_LOG_ROTATE_BYTES)
                return 0;
        if (rename(log->path, log->rotated_path) < 0)
                return negative_errno();
        fd = open_append(log->path);
        if (fd < 0)
                return negative_errno();
        close(log->fd);
        log->fd = fd;
        return 0;
}

static void format_time(uint64_t usec, char *buf, size_t size) {
        time_t sec = (time_t) (usec / 1000000u);
        struct tm tm;

        gmtime_r(&sec, &tm);
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned) (usec % 1000000u));
}

/* HOSTD_REASON=x -> "reason": "x"; other journal fields keep their name,
 * lowercased. */
static int add_field(json_t *obj, const char *field) {
        const char *eq = strchr(field, '=');
        char key[64];
        size_t n = 0;

        if (!eq)
                return 0;
        if (strncmp(field, "HOSTD_", 6) == 0)
                field += 6;
        for (const char *p = field; p < eq && n < sizeof(key) - 1; p++)
                key[n++] = (char) tolower((unsigned char) *p);
        key[n] = 0;
        if (n == 0 || STREQ(key, "change"))
                return 0;
        return json_object_set_new(obj, key, json_string(eq + 1));
}

static int append_record(ChangeLog *log, int level, ChangeKind kind, const char *const *fields,
                         const char *message) {
        _cleanup_(json_decrefp) json_t *rec = NULL, *f = json_object();
        _cleanup_free_ char *text = NULL;
        uint64_t now = clock_usec(CLOCK_REALTIME);
        char when[96];
        size_t size;
        ssize_t n;

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; fields && fields[i]; i++)
                if (add_field(f, fields[i]) < 0)
                        return -ENOMEM;
        format_time(now, when, sizeof(when));
        rec = json_pack("{sI sI ss ss ss ss ss sO}", "seq", (json_int_t) (log->seq + 1), "time_usec",
                        (json_int_t) now, "time", when, "kind", kinds[kind].name, "message_id",
                        kinds[kind].message_id, "priority", log_level_to_string(level), "message", message,
                        "fields", f);
        if (!rec)
                return -ENOMEM;
        text = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (!text)
                return -ENOMEM;
        size = strlen(text);
        text[size++] = '\n'; /* replaces the NUL: written by length */
        /* one write with O_APPEND: a record is never interleaved, and a
         * crash leaves at most a torn last line, which readers skip */
        n = write(log->fd, text, size);
        if (n < 0)
                return negative_errno();
        if ((size_t) n != size)
                return -EIO;
        if (fdatasync(log->fd) < 0)
                return negative_errno();
        log->seq++;
        log->end = file_size(log->fd);
        return 0;
}

/* Under the file's lock, so that the sequence stays one even with another
 * writer: it is re-read when the file is not as this process left it. */
static int append_record_locked(ChangeLog *log, int level, ChangeKind kind, const char *const *fields,
                                const char *message) {
        int r;

        if (flock(log->fd, LOCK_EX) < 0)
                return negative_errno();
        r = rotate_if_full(log);
        if (r >= 0 && file_size(log->fd) != log->end) {
                end_torn_line(log->fd);
                log->seq = MAX(log->seq, last_seq_in(log->path));
        }
        if (r >= 0)
                r = append_record(log, level, kind, fields, message);
        flock(log->fd, LOCK_UN);
        return r;
}

void change_record(ChangeLog *log, int level, ChangeKind kind, const char *const *fields,
                   const char *format, ...) {
        const char *journal[24];
        char message[2048], id[64], what[64];
        size_t n = 0;
        va_list ap;
        int r;

        if ((unsigned) kind >= _CHANGE_KIND_MAX)
                return;
        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        snprintf(id, sizeof(id), "MESSAGE_ID=%s", kinds[kind].message_id);
        snprintf(what, sizeof(what), "HOSTD_CHANGE=%s", kinds[kind].name);
        journal[n++] = id;
        journal[n++] = what;
        for (size_t i = 0; fields && fields[i] && n < ELEMENTSOF(journal) - 1; i++)
                journal[n++] = fields[i];
        journal[n] = NULL;
        log_struct(level, journal, "%s", message);

        if (!log)
                return;
        r = append_record_locked(log, level, kind, fields, message);
        if (r < 0)
                log_warning_errno(r, "Cannot append the %s record to %s", kinds[kind].name, log->path);
}

int change_record_parse(const char *line, size_t size, json_t **ret, char *err, size_t err_size) {
        _cleanup_(json_decrefp) json_t *rec = NULL;
        json_t *seq, *usec, *kind, *f, *value;
        const char *key;
        json_error_t error;
        int k;

        rec = json_loadb(line, size, JSON_REJECT_DUPLICATES, &error);
        if (!rec) {
                snprintf(err, err_size, "column %d: %s", error.column, error.text);
                return -EINVAL;
        }
        if (!json_is_object(rec)) {
                snprintf(err, err_size, "not an object");
                return -EINVAL;
        }
        seq = json_object_get(rec, "seq");
        if (!json_is_integer(seq) || json_integer_value(seq) < 1) {
                snprintf(err, err_size, ".seq: not a positive integer");
                return -EINVAL;
        }
        usec = json_object_get(rec, "time_usec");
        if (!json_is_integer(usec) || json_integer_value(usec) < 0) {
                snprintf(err, err_size, ".time_usec: not a time");
                return -EINVAL;
        }
        kind = json_object_get(rec, "kind");
        k = change_kind_from_string(json_string_value(kind));
        if (k < 0) {
                snprintf(err, err_size, ".kind: not a kind of change");
                return -EINVAL;
        }
        if (!STREQ_PTR(json_string_value(json_object_get(rec, "message_id")), kinds[k].message_id)) {
                snprintf(err, err_size, ".message_id: not the one of %s", kinds[k].name);
                return -EINVAL;
        }
        if (!json_is_string(json_object_get(rec, "message")) || !json_is_string(json_object_get(rec, "priority"))) {
                snprintf(err, err_size, ".message, .priority: not strings");
                return -EINVAL;
        }
        f = json_object_get(rec, "fields");
        if (!json_is_object(f)) {
                snprintf(err, err_size, ".fields: not an object");
                return -EINVAL;
        }
        json_object_foreach(f, key, value)
                if (!json_is_string(value)) {
                        snprintf(err, err_size, ".fields.%.40s: not a string", key);
                        return -EINVAL;
                }
        *ret = TAKE_PTR(rec);
        return 0;
}

typedef struct ReadFilter {
        const char *path;
        uint64_t since_usec;
        const char *kind;
        json_t *records, *damaged;
} ReadFilter;

static int keep_matching(json_t *rec, unsigned line, const char *why, void *userdata) {
        ReadFilter *f = userdata;

        if (!rec)
                return json_array_append_new(f->damaged, json_pack("{ss si ss}", "file", f->path, "line", line,
                                                                   "error", why)) < 0 ? -ENOMEM : 0;
        if ((uint64_t) json_integer_value(json_object_get(rec, "time_usec")) < f->since_usec ||
            (f->kind && !STREQ(f->kind, json_string_value(json_object_get(rec, "kind")))))
                return 0;
        return json_array_append(f->records, rec) < 0 ? -ENOMEM : 0;
}

int change_log_read(const char *state_directory, uint64_t since_usec, const char *kind, size_t limit,
                    json_t **ret_records, json_t **ret_damaged) {
        _cleanup_(json_decrefp) json_t *records = json_array(), *damaged = json_array();
        _cleanup_free_ char *path = NULL, *rotated = NULL;
        int r;

        if (!records || !damaged)
                return -ENOMEM;
        if (asprintf(&path, "%s/%s", state_directory, CHANGE_LOG_FILE) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        if (asprintf(&rotated, "%s.1", path) < 0) {
                rotated = NULL;
                return -ENOMEM;
        }
        ReadFilter filter = { .path = rotated, .since_usec = since_usec, .kind = kind, .records = records,
                              .damaged = damaged };
        r = for_each_record(rotated, keep_matching, &filter);
        filter.path = path;
        if (r >= 0)
                r = for_each_record(path, keep_matching, &filter);
        if (r < 0)
                return r;
        if (limit > 0 && json_array_size(records) > limit) {
                json_t *newest = json_array();
                size_t skip = json_array_size(records) - limit;

                if (!newest)
                        return -ENOMEM;
                for (size_t i = skip; i < json_array_size(records); i++)
                        json_array_append(newest, json_array_get(records, i));
                json_decref(records);
                records = newest;
        }
        *ret_records = TAKE_PTR(records);
        *ret_damaged = TAKE_PTR(damaged);
        return 0;
}

static int parse_age(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "s", 1000000ull },        { "sec", 1000000ull },     { "m", 60000000ull },
                { "min", 60000000ull },     { "h", 3600000000ull },    { "hour", 3600000000ull },
                { "d", 86400000000ull },    { "day", 86400000000ull }, { "days", 86400000000ull },
                { "w", 604800000000ull },   { "week", 604800000000ull },
        };
        char *end;
        unsigned long long n;

        if (!isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        n = strtoull(s, &end, 10);
        if (errno != 0 || n > 100000000ull)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (STREQ(end, units[i].suffix)) {
                        *ret_usec = n * units[i].usec;
                        return 0;
                }
        return -EINVAL;
}

static int midnight_local(uint64_t now_usec, int days_back, uint64_t *ret) {
        time_t t = (time_t) (now_usec / 1000000u);
        struct tm tm;

        if (!localtime_r(&t, &tm))
                return -EINVAL;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_mday -= days_back;
        tm.tm_isdst = -1;
        t = mktime(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret = (uint64_t) t * 1000000u;
        return 0;
}

int change_since_parse(const char *s, uint64_t now_usec, uint64_t *ret_usec) {
        struct tm tm = { .tm_isdst = -1 };
        uint64_t age;
        const char *end;
        time_t t;

        if (!s || !*s)
                return -EINVAL;
        if (STREQ(s, "today"))
                return midnight_local(now_usec, 0, ret_usec);
        if (STREQ(s, "yesterday"))
                return midnight_local(now_usec, 1, ret_usec);
        if (s[0] == '@') {
                char *e;
                unsigned long long sec;

                if (!isdigit((unsigned char) s[1]))
                        return -EINVAL;
                errno = 0;
                sec = strtoull(s + 1, &e, 10);
                if (errno != 0 || *e || sec > UINT64_MAX / 1000000u)
                        return -EINVAL;
                *ret_usec = sec * 1000000u;
                return 0;
        }
        if (parse_age(s[0] == '-' ? s + 1 : s, &age) == 0) {
                *ret_usec = age > now_usec ? 0 : now_usec - age;
                return 0;
        }
        end = strptime(s, "%Y-%m-%d", &tm);
        if (!end)
                return -EINVAL;
        if (*end == ' ' || *end == 'T') {
                const char *rest = strptime(end + 1, "%H:%M:%S", &tm);

                if (!rest)
                        rest = strptime(end + 1, "%H:%M", &tm);
                if (!rest)
                        return -EINVAL;
                end = rest;
        }
        if (STREQ(end, "Z")) {
                t = timegm(&tm);
        } else if (*end == 0) {
                t = mktime(&tm);
        } else
                return -EINVAL;
        if (t == (time_t) -1 || t < 0)
                return -EINVAL;
        *ret_usec = (uint64_t) t * 1000000u;
        return 0;
}
