/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "common/fileio.h"
#include "patching/journal.h"
#include "common/json.h"

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static const char *const state_names[] = {
        [JOURNAL_APPLYING] = "applying",
        [JOURNAL_APPLIED] = "applied",
        [JOURNAL_FAILED] = "failed",
        [JOURNAL_ROLLING_BACK] = "rolling-back",
        [JOURNAL_ROLLED_BACK] = "rolled-back",
};

const char *journal_state_to_string(JournalState s) {
        return s < _JOURNAL_STATE_MAX ? state_names[s] : "?";
}

/* ---- package sets ------------------------------------------------- */

static bool field_ok(const char *s) {
        if (!s || !*s || strlen(s) > 512)
                return false;
        for (; *s; s++)
                if ((unsigned char) *s <= ' ' || *s == 0x7f)
                        return false;
        return true;
}

static int compare_key(const PackageVersion *p, const char *name, const char *arch) {
        int c = strcmp(p->name, name);
        return c != 0 ? c : strcmp(p->arch, arch);
}

/* The index of (name, arch), or where it would go (*found false). */
static size_t locate(const PackageSet *s, const char *name, const char *arch, bool *found) {
        size_t lo = 0, hi = s->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = compare_key(&s->items[mid], name, arch);
                if (c == 0) {
                        *found = true;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

int package_set_put(PackageSet *s, const char *name, const char *arch, const char *version) {
        _cleanup_free_ char *v = NULL, *n = NULL, *a = NULL;
        bool found;
        size_t i;

        if (!field_ok(name) || !field_ok(arch) || !field_ok(version))
                return -EINVAL;
        v = strdup(version);
        if (!v)
                return -ENOMEM;
        i = locate(s, name, arch, &found);
        if (found) {
                free(s->items[i].version);
                s->items[i].version = TAKE_PTR(v);
                return 0;
        }
        n = strdup(name);
        a = strdup(arch);
        if (!n || !a)
                return -ENOMEM;
        if (s->n == s->allocated) {
                size_t want = MAX(s->allocated * 2, (size_t) 64);
                PackageVersion *items = reallocarray(s->items, want, sizeof(PackageVersion));
                if (!items)
                        return -ENOMEM;
                s->items = items;
                s->allocated = want;
        }
        memmove(&s->items[i + 1], &s->items[i], (s->n - i) * sizeof(PackageVersion));
        s->items[i] = (PackageVersion){ .name = TAKE_PTR(n), .arch = TAKE_PTR(a), .version = TAKE_PTR(v) };
        s->n++;
        return 0;
}

const PackageVersion *package_set_find(const PackageSet *s, const char *name, const char *arch) {
        bool found;
        size_t i = locate(s, name, arch, &found);

        return found ? &s->items[i] : NULL;
}

void package_set_done(PackageSet *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->items[i].name);
                free(s->items[i].arch);
                free(s->items[i].version);
        }
        free(s->items);
        *s = (PackageSet){};
}

bool package_set_equal(const PackageSet *a, const PackageSet *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (compare_key(&a->items[i], b->items[i].name, b->items[i].arch) != 0 ||
                    !STREQ(a->items[i].version, b->items[i].version))
                        return false;
        return true;
}

int package_set_diff(const PackageSet *from, const PackageSet *to, PackageDiff *ret) {
        PackageDiff d = {};
        int r = 0;

        for (size_t i = 0; r >= 0 && i < to->n; i++) {
                const PackageVersion *p = &to->items[i];
                const PackageVersion *old = package_set_find(from, p->name, p->arch);
                if (!old || !STREQ(old->version, p->version))
                        r = package_set_put(&d.install, p->name, p->arch, p->version);
        }
        for (size_t i = 0; r >= 0 && i < from->n; i++) {
                const PackageVersion *p = &from->items[i];
                if (!package_set_find(to, p->name, p->arch))
                        r = package_set_put(&d.remove, p->name, p->arch, p->version);
        }
        if (r < 0) {
                package_diff_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

void package_diff_done(PackageDiff *d) {
        package_set_done(&d->install);
        package_set_done(&d->remove);
}

/* ---- entries ------------------------------------------------------ */

JournalEntry *journal_entry_free(JournalEntry *e) {
        if (!e)
                return NULL;
        free(e->root);
        free(e->message);
        package_set_done(&e->before);
        package_set_done(&e->after);
        free(e);
        return NULL;
}

static bool is_hex(const char *s, size_t min, size_t max) {
        size_t n = strlen(s);

        if (n < min || n > max)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

static bool backend_ok(const char *b) {
        return STREQ(b, "apt") || STREQ(b, "rpm");
}

int journal_entry_new(const char *plan, const char *backend, const char *root, uint64_t now_usec,
                      JournalEntry **ret) {
        _cleanup_(journal_entry_freep) JournalEntry *e = NULL;
        time_t t = (time_t) (now_usec / 1000000);
        struct tm tm;
        char stamp[32];

        if (!is_hex(plan, 12, 64) || !backend_ok(backend) || !root || root[0] != '/')
                return -EINVAL;
        e = calloc(1, sizeof(JournalEntry));
        if (!e)
                return -ENOMEM;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
        snprintf(e->id, sizeof(e->id), "%s-%.12s", stamp, plan);
        snprintf(e->plan, sizeof(e->plan), "%s", plan);
        snprintf(e->backend, sizeof(e->backend), "%s", backend);
        e->root = strdup(root);
        e->message = strdup("");
        if (!e->root || !e->message)
                return -ENOMEM;
        e->state = JOURNAL_APPLYING;
        e->started_usec = now_usec;
        *ret = TAKE_PTR(e);
        return 0;
}

static json_t *set_json(const PackageSet *s) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < s->n; i++)
                if (json_array_append_new(a, json_pack("[s, s, s]", s->items[i].name, s->items[i].arch,
                                                       s->items[i].version)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static bool id_ok(const char *id) {
        /* YYYYmmddTHHMMSSZ-hex: also a safe file name */
        return strlen(id) == 29 && id[8] == 'T' && id[15] == 'Z' && id[16] == '-' && is_hex(id + 17, 12, 12);
}

json_t *journal_entry_to_json(const JournalEntry *e) {
        return json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:s, s:o, s:o}", "version",
                         JOURNAL_VERSION, "id", e->id, "plan", e->plan, "backend", e->backend, "root", e->root,
                         "state", journal_state_to_string(e->state), "interrupted", e->interrupted, "started",
                         (json_int_t) e->started_usec, "finished", (json_int_t) e->finished_usec, "message",
                         e->message ? e->message : "", "before", set_json(&e->before), "after",
                         set_json(&e->after));
}

int journal_write(const char *dir, const JournalEntry *e) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        json_t *j;

        if (!id_ok(e->id))
                return -EINVAL;
        j = journal_entry_to_json(e);
        if (!j)
                return -ENOMEM;
        text = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        json_decref(j);
        if (!text || asprintf(&path, "%s/%s.json", dir, e->id) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        return write_file_atomic(path, text, strlen(text), 0600);
}

/* ---- reading ------------------------------------------------------ */

static int need(const JsonValue *root, const char *key, JsonType type, const JsonValue **ret,
                JournalError *error) {
        const JsonValue *v = jv_object_get(root, key);

        if (!v)
                return located_error_at(error, root, key, "missing");
        if (v->type != type)
                return located_error_at(error, v, key, "expected %s, got %s", jv_type_name(type), jv_type_name(v->type));
        *ret = v;
        return 0;
}

static int get_time(const JsonValue *root, const char *key, uint64_t *ret, JournalError *error) {
        const JsonValue *v;
        int r = need(root, key, JV_NUMBER, &v, error);

        if (r < 0)
                return r;
        if (!v->number.is_integer || v->number.integer < 0)
                return located_error_at(error, v, key, "expected microseconds since the epoch");
        *ret = (uint64_t) v->number.integer;
        return 0;
}

static int get_set(const JsonValue *root, const char *key, PackageSet *set, JournalError *error) {
        const JsonValue *list;
        int r = need(root, key, JV_ARRAY, &list, error);

        if (r < 0)
                return r;
        for (size_t i = 0; i < list->array.count; i++) {
                const JsonValue *item = list->array.items[i];
                const char *f[3];
                char path[64];

                snprintf(path, sizeof(path), "%s[%zu]", key, i);
                if (item->type != JV_ARRAY || item->array.count != 3)
                        return located_error_at(error, item, path, "expected [name, arch, version]");
                for (size_t k = 0; k < 3; k++) {
                        const JsonValue *s = item->array.items[k];
                        char fpath[80];

                        snprintf(fpath, sizeof(fpath), "%s[%zu]", path, k);
                        if (s->type != JV_STRING || !field_ok(s->string.chars))
                                return located_error_at(error, s, fpath, "expected a non-empty string without spaces");
                        f[k] = s->string.chars;
                }
                if (package_set_find(set, f[0], f[1]))
                        return located_error_at(error, item, path, "%s:%s is listed twice", f[0], f[1]);
                r = package_set_put(set, f[0], f[1], f[2]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int journal_parse(const char *text, size_t length, JournalEntry **ret, JournalError *error) {
        static const char *const keys[] = { "version", "id", "plan", "backend", "root", "state", "interrupted",
                                            "started", "finished", "message", "before", "after", NULL };
        _cleanup_(journal_entry_freep) JournalEntry *e = NULL;
        _cleanup_(jv_freep) JsonValue *root = NULL;
        const JsonValue *v;
        int r;

        if (length > JOURNAL_MAX_SIZE) {
                located_error_at(error, NULL, "", "larger than %u bytes", JOURNAL_MAX_SIZE);
                return -E2BIG;
        }
        r = jv_parse_document(text, length, &root, error);
        if (r < 0)
                return r;
        if (root->type != JV_OBJECT)
                return located_error_at(error, root, "", "expected an object, got %s", jv_type_name(root->type));
        for (size_t i = 0; i < root->object.count; i++) {
                const JsonMember *m = &root->object.members[i];
                bool known = false;

                for (size_t k = 0; keys[k]; k++)
                        known = known || STREQ(keys[k], m->key);
                if (!known) {
                        located_error_at(error, NULL, m->key, "unknown key \"%s\"", m->key);
                        if (error) {
                                error->line = m->line;
                                error->column = m->column;
                        }
                        return -EINVAL;
                }
        }
        if ((r = need(root, "version", JV_NUMBER, &v, error)) < 0)
                return r;
        if (!v->number.is_integer || v->number.integer != JOURNAL_VERSION)
                return located_error_at(error, v, "version", "unsupported journal version %.15g (this hostd reads %d)",
                            v->number.real, JOURNAL_VERSION);

        e = calloc(1, sizeof(JournalEntry));
        if (!e)
                return -ENOMEM;
        if ((r = need(root, "id", JV_STRING, &v, error)) < 0)
                return r;
        if (!id_ok(v->string.chars))
                return located_error_at(error, v, "id", "\"%s\" is not a journal ID", v->string.chars);
        snprintf(e->id, sizeof(e->id), "%s", v->string.chars);
        if ((r = need(root, "plan", JV_STRING, &v, error)) < 0)
                return r;
        if (!is_hex(v->string.chars, 12, 64))
                return located_error_at(error, v, "plan", "expected a plan ID (hexadecimal)");
        snprintf(e->plan, sizeof(e->plan), "%s", v->string.chars);
        if ((r = need(root, "backend", JV_STRING, &v, error)) < 0)
                return r;
        if (!backend_ok(v->string.chars))
                return located_error_at(error, v, "backend", "\"%s\" is not apt or rpm", v->string.chars);
        snprintf(e->backend, sizeof(e->backend), "%s", v->string.chars);
        if ((r = need(root, "root", JV_STRING, &v, error)) < 0)
                return r;
        if (v->string.chars[0] != '/')
                return located_error_at(error, v, "root", "not an absolute path");
        if (!(e->root = strdup(v->string.chars)))
                return -ENOMEM;
        if ((r = need(root, "state", JV_STRING, &v, error)) < 0)
                return r;
        e->state = _JOURNAL_STATE_MAX;
        for (size_t i = 0; i < _JOURNAL_STATE_MAX; i++)
                if (STREQ(state_names[i], v->string.chars))
                        e->state = (JournalState) i;
        if (e->state == _JOURNAL_STATE_MAX)
                return located_error_at(error, v, "state", "unknown state \"%s\"", v->string.chars);
        /* absent in entries written before it existed: not interrupted */
        if ((v = jv_object_get(root, "interrupted"))) {
                if (v->type != JV_BOOLEAN)
                        return located_error_at(error, v, "interrupted", "expected %s, got %s",
                                                jv_type_name(JV_BOOLEAN), jv_type_name(v->type));
                e->interrupted = v->boolean;
        }
        if ((r = get_time(root, "started", &e->started_usec, error)) < 0 ||
            (r = get_time(root, "finished", &e->finished_usec, error)) < 0)
                return r;
        if (e->finished_usec != 0 && e->finished_usec < e->started_usec)
                return located_error_at(error, jv_object_get(root, "finished"), "finished", "before the start");
        if ((r = need(root, "message", JV_STRING, &v, error)) < 0)
                return r;
        if (!(e->message = strdup(v->string.chars)))
                return -ENOMEM;
        if ((r = get_set(root, "before", &e->before, error)) < 0 ||
            (r = get_set(root, "after", &e->after, error)) < 0)
                return r;
        *ret = TAKE_PTR(e);
        return 0;
}

int journal_read(const char *path, JournalEntry **ret, JournalError *error) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_file(path, JOURNAL_MAX_SIZE, &text, &size);
        if (r < 0) {
                if (error) {
                        *error = (JournalError){};
                        snprintf(error->message, sizeof(error->message), "%s", strerror(-r));
                }
                return r;
        }
        return journal_parse(text, size, ret, error);
}

void journal_list_free(JournalEntry **list, size_t n) {
        for (size_t i = 0; list && i < n; i++)
                journal_entry_free(list[i]);
        free(list);
}

static int by_start(const void *a, const void *b) {
        const JournalEntry *x = *(JournalEntry *const *) a, *y = *(JournalEntry *const *) b;

        if (x->started_usec != y->started_usec)
                return x->started_usec < y->started_usec ? -1 : 1;
        return strcmp(x->id, y->id);
}

int journal_list(const char *dir, JournalEntry ***ret, size_t *ret_n, JournalError *error,
                 char **error_file) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        JournalEntry **list = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        int r = 0;

        *ret = NULL;
        *ret_n = 0;
        if (!d)
                return errno == ENOENT ? 0 : negative_errno();
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                JournalEntry *e = NULL;
                _cleanup_free_ char *path = NULL;

                /* only finished writes: temporary files end otherwise */
                if (de->d_name[0] == '.' || len < 6 || !STREQ(de->d_name + len - 5, ".json"))
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = journal_read(path, &e, error);
                if (r < 0) {
                        if (error_file)
                                *error_file = TAKE_PTR(path);
                        break;
                }
                if (n == allocated) {
                        size_t want = MAX(allocated * 2, (size_t) 16);
                        JournalEntry **grown = reallocarray(list, want, sizeof(*list));
                        if (!grown) {
                                journal_entry_free(e);
                                r = -ENOMEM;
                                break;
                        }
                        list = grown;
                        allocated = want;
                }
                list[n++] = e;
        }
        if (r < 0) {
                journal_list_free(list, n);
                return r;
        }
        if (n > 0)
                qsort(list, n, sizeof(*list), by_start);
        *ret = list;
        *ret_n = n;
        return 0;
}
