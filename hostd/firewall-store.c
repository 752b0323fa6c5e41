/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hostd/firewall-store.h"

#include <jansson.h>

#include "common/fileio.h"
#include "common/json.h"

/* 100000 CIDRs in each of a policy's two lists, three policies */
#define STATE_MAX_SIZE (64 * 1024 * 1024)

typedef struct StoredPolicy {
        bool present;
        FirewallPolicy policy;
} StoredPolicy;

struct FirewallStore {
        char *path;
        StoredPolicy good, pending, held;
        uint64_t pending_deadline_usec, held_since_usec;
        char held_reason[256];
};

static void stored_clear(StoredPolicy *p) {
        if (p->present)
                firewall_policy_done(&p->policy);
        *p = (StoredPolicy){};
}

static void store_clear(FirewallStore *s) {
        stored_clear(&s->good);
        stored_clear(&s->pending);
        stored_clear(&s->held);
        s->pending_deadline_usec = s->held_since_usec = 0;
        s->held_reason[0] = '\0';
}

FirewallStore *firewall_store_free(FirewallStore *s) {
        if (!s)
                return NULL;
        store_clear(s);
        free(s->path);
        free(s);
        return NULL;
}

static json_t *stored_to_json(const StoredPolicy *p) {
        return p->present ? firewall_policy_to_json(&p->policy) : json_null();
}

char *firewall_store_to_text(const FirewallStore *s) {
        json_t *pending = json_null(), *held = json_null(), *root;
        char *text;

        if (s->pending.present)
                pending = json_pack("{s:I, s:o}", "deadline", (json_int_t) s->pending_deadline_usec, "policy",
                                    stored_to_json(&s->pending));
        if (s->held.present)
                held = json_pack("{s:s, s:I, s:o}", "reason", s->held_reason, "since",
                                 (json_int_t) s->held_since_usec, "policy", stored_to_json(&s->held));
        root = json_pack("{s:o*, s:o*, s:o*}", "good", stored_to_json(&s->good), "pending", pending, "held", held);
        if (!root)
                return NULL;
        text = json_dumps(root, JSON_INDENT(1));
        json_decref(root);
        return text;
}

static int save(FirewallStore *s) {
        _cleanup_free_ char *text = firewall_store_to_text(s);

        if (!text)
                return -ENOMEM;
        return write_file_atomic(s->path, text, strlen(text), 0600);
}

static int get_time(const JsonValue *o, const char *key, const char *path, uint64_t *ret, LocatedError *e) {
        const JsonValue *v = jv_object_get(o, key);

        if (!v || v->type != JV_NUMBER || !v->number.is_integer || v->number.integer < 0)
                return located_error_at(e, v ? v : o, path, "expected a time in microseconds");
        *ret = (uint64_t) v->number.integer;
        return 0;
}

static int read_policy(const JsonValue *v, const char *path, StoredPolicy *ret, LocatedError *e) {
        int r;

        if (!v || v->type == JV_NULL)
                return 0;
        if (v->type != JV_OBJECT)
                return located_error_at(e, v, path, "expected a firewall policy or null, got %s",
                                        jv_type_name(v->type));
        r = firewall_policy_from_value(v, &ret->policy, e);
        if (r < 0 && e) {
                /* the member is named as in this file ("good.ssh-port"), not as in hostd.json */
                char member[sizeof(e->path)];
                const char *rest = strncmp(e->path, "firewall", 8) == 0 ? e->path + 8 : e->path;
                snprintf(member, sizeof(member), "%s%s", path, rest);
                memcpy(e->path, member, sizeof(member));
        }
        if (r < 0)
                return r;
        ret->present = true;
        return 0;
}

/* v's "policy" member, which must be there, named path in errors */
static int read_member_policy(const JsonValue *v, const char *path, StoredPolicy *ret, LocatedError *e) {
        const JsonValue *policy = jv_object_get(v, "policy");

        if (!policy || policy->type != JV_OBJECT)
                return located_error_at(e, v, path, "expected a firewall policy");
        return read_policy(policy, path, ret, e);
}

static int parse(FirewallStore *s, const char *text, size_t size, LocatedError *e) {
        _cleanup_(jv_freep) JsonValue *root = NULL;
        const JsonValue *v;
        int r;

        r = jv_parse_document(text, size, &root, e);
        if (r < 0)
                return r;
        if (root->type != JV_OBJECT)
                return located_error_at(e, root, "", "expected an object, got %s", jv_type_name(root->type));
        for (size_t i = 0; i < root->object.count; i++) {
                const char *key = root->object.members[i].key;
                if (!STREQ(key, "good") && !STREQ(key, "pending") && !STREQ(key, "held"))
                        return located_error_at(e, root->object.members[i].value, key, "unknown member");
        }
        r = read_policy(jv_object_get(root, "good"), "good", &s->good, e);
        if (r < 0)
                return r;
        v = jv_object_get(root, "pending");
        if (v && v->type != JV_NULL) {
                if (v->type != JV_OBJECT)
                        return located_error_at(e, v, "pending", "expected an object or null");
                if ((r = get_time(v, "deadline", "pending.deadline", &s->pending_deadline_usec, e)) < 0)
                        return r;
                if ((r = read_member_policy(v, "pending.policy", &s->pending, e)) < 0)
                        return r;
        }
        v = jv_object_get(root, "held");
        if (v && v->type != JV_NULL) {
                const JsonValue *reason = jv_object_get(v, "reason");
                if (v->type != JV_OBJECT)
                        return located_error_at(e, v, "held", "expected an object or null");
                if (!reason || reason->type != JV_STRING)
                        return located_error_at(e, reason ? reason : v, "held.reason", "expected a string");
                if (reason->string.length >= sizeof(s->held_reason))
                        return located_error_at(e, reason, "held.reason", "expected a text of at most %zu bytes",
                                                sizeof(s->held_reason) - 1);
                memcpy(s->held_reason, reason->string.chars, reason->string.length + 1);
                if ((r = get_time(v, "since", "held.since", &s->held_since_usec, e)) < 0)
                        return r;
                if ((r = read_member_policy(v, "held.policy", &s->held, e)) < 0)
                        return r;
        }
        return 0;
}

int firewall_store_from_text(const char *path, const char *text, size_t size, FirewallStore **ret, char *err,
                             size_t err_size) {
        _cleanup_(firewall_store_freep) FirewallStore *s = calloc(1, sizeof(FirewallStore));
        LocatedError e = {};
        int r = 0;

        if (!s || !(s->path = strdup(path)))
                return -ENOMEM;
        if (text) {
                r = parse(s, text, size, &e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        located_error_format(&e, path, err, err_size);
                        store_clear(s);
                        r = -EINVAL; /* too deep, too long: damaged all the same */
                }
        }
        *ret = TAKE_PTR(s);
        return r;
}

int firewall_store_open(const char *state_directory, FirewallStore **ret, char *err, size_t err_size) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t size = 0;
        int r;

        if (asprintf(&path, "%s/%s", state_directory, FIREWALL_STATE_FILE) < 0)
                return -ENOMEM;
        r = read_file(path, STATE_MAX_SIZE, &text, &size);
        if (r == -ENOENT || r == -ENOMEM)
                return r == -ENOMEM ? r : firewall_store_from_text(path, NULL, 0, ret, err, err_size);
        if (r < 0) {
                int q = firewall_store_from_text(path, NULL, 0, ret, err, err_size);
                if (q < 0)
                        return q;
                snprintf(err, err_size, "%s: cannot read: %s", path, strerror(-r));
                return r;
        }
        return firewall_store_from_text(path, text, size, ret, err, err_size);
}

const FirewallPolicy *firewall_store_good(const FirewallStore *s) {
        return s->good.present ? &s->good.policy : NULL;
}

const FirewallPolicy *firewall_store_pending(const FirewallStore *s, uint64_t *ret_deadline_usec) {
        if (!s->pending.present)
                return NULL;
        if (ret_deadline_usec)
                *ret_deadline_usec = s->pending_deadline_usec;
        return &s->pending.policy;
}

const FirewallPolicy *firewall_store_held(const FirewallStore *s, const char **ret_reason,
                                          uint64_t *ret_since_usec) {
        if (!s->held.present)
                return NULL;
        if (ret_reason)
                *ret_reason = s->held_reason;
        if (ret_since_usec)
                *ret_since_usec = s->held_since_usec;
        return &s->held.policy;
}

/* Each transition is made in memory, saved, and undone when the save
 * fails: what the store says is always what is on disk. */

int firewall_store_set_good(FirewallStore *s, const FirewallPolicy *p, bool clear_held) {
        StoredPolicy old_good = s->good, old_held = s->held;
        FirewallPolicy copy;
        int r = firewall_policy_copy(p, &copy);

        if (r < 0)
                return r;
        s->good = (StoredPolicy){ .present = true, .policy = copy };
        if (clear_held)
                s->held = (StoredPolicy){};
        r = save(s);
        if (r < 0) {
                stored_clear(&s->good);
                s->good = old_good;
                s->held = old_held;
                return r;
        }
        stored_clear(&old_good);
        if (clear_held)
                stored_clear(&old_held);
        return 0;
}

int firewall_store_begin_pending(FirewallStore *s, const FirewallPolicy *p, uint64_t deadline_usec) {
        StoredPolicy old_pending = s->pending, old_held = s->held;
        uint64_t old_deadline = s->pending_deadline_usec;
        FirewallPolicy copy;
        int r = firewall_policy_copy(p, &copy);

        if (r < 0)
                return r;
        s->pending = (StoredPolicy){ .present = true, .policy = copy };
        s->pending_deadline_usec = deadline_usec;
        s->held = (StoredPolicy){};
        r = save(s);
        if (r < 0) {
                stored_clear(&s->pending);
                s->pending = old_pending;
                s->pending_deadline_usec = old_deadline;
                s->held = old_held;
                return r;
        }
        stored_clear(&old_pending);
        stored_clear(&old_held);
        return 0;
}

int firewall_store_cancel_pending(FirewallStore *s) {
        StoredPolicy old_pending = s->pending;
        int r;

        s->pending = (StoredPolicy){};
        r = save(s);
        if (r < 0) {
                s->pending = old_pending;
                return r;
        }
        stored_clear(&old_pending);
        return 0;
}

int firewall_store_confirm(FirewallStore *s) {
        StoredPolicy old_good = s->good;
        int r;

        if (!s->pending.present)
                return -ENOENT;
        s->good = s->pending;
        s->pending = (StoredPolicy){};
        r = save(s);
        if (r < 0) {
                s->pending = s->good;
                s->good = old_good;
                return r;
        }
        stored_clear(&old_good);
        return 0;
}

int firewall_store_roll_back(FirewallStore *s, const char *reason, uint64_t now_usec) {
        StoredPolicy old_held = s->held;
        uint64_t old_since = s->held_since_usec;
        char old_reason[sizeof(s->held_reason)];
        int r;

        if (!s->pending.present)
                return -ENOENT;
        memcpy(old_reason, s->held_reason, sizeof(old_reason));
        s->held = s->pending;
        s->pending = (StoredPolicy){};
        snprintf(s->held_reason, sizeof(s->held_reason), "%s", reason);
        s->held_since_usec = now_usec;
        r = save(s);
        if (r < 0) {
                s->pending = s->held;
                s->held = old_held;
                s->held_since_usec = old_since;
                memcpy(s->held_reason, old_reason, sizeof(old_reason));
                return r;
        }
        stored_clear(&old_held);
        return 0;
}

const FirewallPolicy *firewall_store_choose(const FirewallStore *s, const FirewallPolicy *file, bool *ret_held) {
        bool held = s->held.present && firewall_policy_equal(&s->held.policy, file);

        if (ret_held)
                *ret_held = held;
        return held ? firewall_store_good(s) : file;
}
