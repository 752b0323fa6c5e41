/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hostd/posture-board.h"

json_t *posture_summary_new(const json_t *report, const char *hostname, unsigned interval_sec, uint64_t now_usec) {
        const json_t *counts = json_object_get(report, "summary"), *c;
        json_t *failing = json_array();
        size_t i;

        if (!failing)
                return NULL;
        json_array_foreach(json_object_get(report, "checks"), i, c) {
                const char *status = json_string_value(json_object_get(c, "status"));
                if (status && STREQ(status, "fail") && json_array_size(failing) < POSTURE_SUMMARY_MAX_FAILING)
                        json_array_append(failing, json_object_get(c, "id"));
        }
        return json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:o, s:s, s:I, s:I}", "hostname", hostname ? hostname : "",
                         "compliant", json_is_true(json_object_get(report, "compliant")), "pass",
                         json_integer_value(json_object_get(counts, "pass")), "fail",
                         json_integer_value(json_object_get(counts, "fail")), "warn",
                         json_integer_value(json_object_get(counts, "warn")), "not_applicable",
                         json_integer_value(json_object_get(counts, "not-applicable")), "failing", failing,
                         "hostd_version", HOSTD_VERSION, "generated_usec", (json_int_t) now_usec, "interval_seconds",
                         (json_int_t) interval_sec);
}

json_t *posture_summary_plan(const json_t *plan, uint64_t plan_usec) {
        json_t *packages = json_array(), *p;
        const json_t *item;
        size_t i;

        if (!packages)
                return NULL;
        json_array_foreach(json_object_get(plan, "packages"), i, item) {
                if (!json_is_true(json_object_get(item, "included")))
                        continue;
                if (json_array_size(packages) == POSTURE_SUMMARY_MAX_PLAN ||
                    !(p = json_pack("{s:O, s:O, s:O, s:O, s:b}", "name", json_object_get(item, "name"), "arch",
                                    json_object_get(item, "arch"), "from",
                                    json_object_get(item, "from") ?: json_null(), "to", json_object_get(item, "to"),
                                    "security", json_is_true(json_object_get(item, "security")))) ||
                    json_array_append_new(packages, p) < 0) {
                        json_decref(packages);
                        return NULL;
                }
        }
        return json_pack("{s:O, s:I, s:o}", "id", json_object_get(plan, "id"), "generated_usec", (json_int_t) plan_usec,
                         "packages", packages);
}

static bool short_string(const json_t *v, size_t max) {
        return json_is_string(v) && json_string_length(v) <= max;
}

/* a package name, architecture or version: printable, no space */
static bool package_field(const json_t *v) {
        const char *s = json_string_value(v);

        if (!s || json_string_length(v) == 0 || json_string_length(v) > 256 || strlen(s) != json_string_length(v))
                return false;
        for (; *s; s++)
                if ((unsigned char) *s <= ' ' || *s == 0x7f)
                        return false;
        return true;
}

static int validate_plan(const json_t *plan, char *err, size_t err_size) {
        const json_t *packages = json_object_get(plan, "packages"), *p;
        size_t i;

        if (!json_is_object(plan) || json_object_size(plan) != 3 || !short_string(json_object_get(plan, "id"), 64) ||
            !json_is_integer(json_object_get(plan, "generated_usec")) ||
            json_integer_value(json_object_get(plan, "generated_usec")) < 0) {
                snprintf(err, err_size, "posture.plan: not {\"id\", \"generated_usec\", \"packages\"}");
                return -EINVAL;
        }
        if (!json_is_array(packages) || json_array_size(packages) > POSTURE_SUMMARY_MAX_PLAN) {
                snprintf(err, err_size, "posture.plan.packages: not an array of at most %d updates",
                         POSTURE_SUMMARY_MAX_PLAN);
                return -EINVAL;
        }
        json_array_foreach(packages, i, p) {
                bool ok = json_is_object(p) && json_object_size(p) == 5 && package_field(json_object_get(p, "name")) &&
                          package_field(json_object_get(p, "arch")) && package_field(json_object_get(p, "to")) &&
                          json_is_boolean(json_object_get(p, "security")) &&
                          (json_is_null(json_object_get(p, "from")) || package_field(json_object_get(p, "from")));
                if (!ok) {
                        snprintf(err, err_size, "posture.plan.packages[%zu]: not {\"name\", \"arch\", \"from\", \"to\", "
                                 "\"security\"} of package names and versions", i);
                        return -EINVAL;
                }
        }
        return 0;
}

static bool count_ok(const json_t *s, const char *key) {
        const json_t *v = json_object_get(s, key);
        return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 1000;
}

int posture_summary_validate(const json_t *s, char *err, size_t err_size) {
        static const char *const known[] = { "hostname", "compliant", "pass", "fail", "warn", "not_applicable",
                                             "failing", "hostd_version", "generated_usec", "interval_seconds",
                                             "plan" };
        static const char *const counts[] = { "pass", "fail", "warn", "not_applicable" };
        const json_t *v, *failing;
        const char *key;
        size_t i;

        if (!json_is_object(s)) {
                snprintf(err, err_size, "posture: not an object");
                return -EINVAL;
        }
        json_object_foreach((json_t *) s, key, v) {
                bool found = false;
                for (i = 0; i < ELEMENTSOF(known) && !found; i++)
                        found = STREQ(key, known[i]);
                if (!found) {
                        snprintf(err, err_size, "posture.%.40s: not a member of a posture summary", key);
                        return -EINVAL;
                }
        }
        if (!short_string(json_object_get(s, "hostname"), 253)) {
                snprintf(err, err_size, "posture.hostname: not a host name");
                return -EINVAL;
        }
        if (!json_is_boolean(json_object_get(s, "compliant"))) {
                snprintf(err, err_size, "posture.compliant: not a boolean");
                return -EINVAL;
        }
        for (i = 0; i < ELEMENTSOF(counts); i++)
                if (!count_ok(s, counts[i])) {
                        snprintf(err, err_size, "posture.%s: not a count of checks", counts[i]);
                        return -EINVAL;
                }
        failing = json_object_get(s, "failing");
        if (!json_is_array(failing) || json_array_size(failing) > POSTURE_SUMMARY_MAX_FAILING) {
                snprintf(err, err_size, "posture.failing: not an array of at most %d check IDs",
                         POSTURE_SUMMARY_MAX_FAILING);
                return -EINVAL;
        }
        json_array_foreach(failing, i, v)
                if (!short_string(v, 64)) {
                        snprintf(err, err_size, "posture.failing[%zu]: not a check ID", i);
                        return -EINVAL;
                }
        if (json_is_true(json_object_get(s, "compliant")) !=
            (json_integer_value(json_object_get(s, "fail")) == 0)) {
                snprintf(err, err_size, "posture.compliant: disagrees with posture.fail");
                return -EINVAL;
        }
        if (!short_string(json_object_get(s, "hostd_version"), 64)) {
                snprintf(err, err_size, "posture.hostd_version: not a version");
                return -EINVAL;
        }
        v = json_object_get(s, "generated_usec");
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
                snprintf(err, err_size, "posture.generated_usec: not a time");
                return -EINVAL;
        }
        v = json_object_get(s, "interval_seconds");
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 86400) {
                snprintf(err, err_size, "posture.interval_seconds: not 1..86400");
                return -EINVAL;
        }
        if (json_object_get(s, "plan"))
                return validate_plan(json_object_get(s, "plan"), err, err_size);
        return 0;
}

typedef struct BoardEntry {
        char node_id[64];
        json_t *summary; /* without its plan */
        json_t *plan;
        uint64_t received_usec;
} BoardEntry;

struct PostureBoard {
        BoardEntry *entries;
        size_t n;
};

int posture_board_new(PostureBoard **ret) {
        *ret = calloc(1, sizeof(PostureBoard));
        return *ret ? 0 : -ENOMEM;
}

PostureBoard *posture_board_free(PostureBoard *b) {
        if (!b)
                return NULL;
        for (size_t i = 0; i < b->n; i++) {
                json_decref(b->entries[i].summary);
                json_decref(b->entries[i].plan);
        }
        free(b->entries);
        free(b);
        return NULL;
}

static BoardEntry *board_find(const PostureBoard *b, const char *node_id) {
        for (size_t i = 0; i < b->n; i++)
                if (STREQ(b->entries[i].node_id, node_id))
                        return &b->entries[i];
        return NULL;
}

int posture_board_put(PostureBoard *b, const char *node_id, const json_t *summary, uint64_t now_usec) {
        BoardEntry *e = board_find(b, node_id);

        if (strlen(node_id) >= sizeof(e->node_id))
                return -EINVAL;
        if (!e) {
                /* the Swarm's nodes; ones that left are few and small */
                BoardEntry *grown = realloc(b->entries, (b->n + 1) * sizeof(BoardEntry));
                if (!grown)
                        return -ENOMEM;
                b->entries = grown;
                e = &b->entries[b->n++];
                *e = (BoardEntry){};
                snprintf(e->node_id, sizeof(e->node_id), "%s", node_id);
        }
        json_decref(e->summary);
        json_decref(e->plan);
        e->summary = json_deep_copy(summary);
        e->plan = json_incref(json_object_get(e->summary, "plan"));
        if (e->summary)
                json_object_del(e->summary, "plan");
        e->received_usec = now_usec;
        return e->summary ? 0 : -ENOMEM;
}

json_t *posture_board_plans(const PostureBoard *b) {
        json_t *plans = json_object();

        for (size_t i = 0; plans && i < b->n; i++)
                if (b->entries[i].plan && json_object_set(plans, b->entries[i].node_id, b->entries[i].plan) < 0)
                        json_decref(TAKE_PTR(plans));
        return plans;
}

const json_t *posture_board_plan(const PostureBoard *b, const char *node_id) {
        const BoardEntry *e = board_find(b, node_id);

        return e ? e->plan : NULL;
}

static const char *nested(const json_t *o, const char *a, const char *b) {
        return json_string_value(json_object_get(json_object_get(o, a), b));
}

static int by_hostname(const void *x, const void *y) {
        const char *a = json_string_value(json_object_get(*(json_t *const *) x, "hostname"));
        const char *b = json_string_value(json_object_get(*(json_t *const *) y, "hostname"));
        return strcmp(a ? a : "", b ? b : "");
}

json_t *posture_cluster_view(const PostureBoard *b, const json_t *nodes, uint64_t now_usec) {
        _cleanup_(json_decrefp) json_t *rows = json_array();
        _cleanup_free_ json_t **sorted = NULL;
        size_t counts[4] = {}, i, n = 0;
        static const char *const names[] = { "pass", "fail", "stale", "missing" };
        const json_t *node;
        json_t *out;

        if (!rows)
                return NULL;
        sorted = calloc(json_array_size(nodes) + 1, sizeof(json_t *));
        if (!sorted)
                return NULL;
        json_array_foreach(nodes, i, node) {
                const char *id = json_string_value(json_object_get(node, "ID"));
                const BoardEntry *e = id ? board_find(b, id) : NULL;
                json_t *age = json_null();
                int status = 3;

                if (!id)
                        continue;
                if (e) {
                        uint64_t age_usec = now_usec > e->received_usec ? now_usec - e->received_usec : 0;
                        uint64_t interval =
                                (uint64_t) json_integer_value(json_object_get(e->summary, "interval_seconds")) * 1000000u;

                        age = json_integer((json_int_t) (age_usec / 1000000u));
                        status = age_usec > POSTURE_STALE_INTERVALS * interval        ? 2 :
                                 json_is_true(json_object_get(e->summary, "compliant")) ? 0 :
                                                                                         1;
                }
                counts[status]++;
                const char *hostname = nested(node, "Description", "Hostname");
                json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:O}", "node_id", id, "hostname",
                                        hostname ? hostname : "", "role", nested(node, "Spec", "Role") ?: "",
                                        "availability", nested(node, "Spec", "Availability") ?: "", "state",
                                        nested(node, "Status", "State") ?: "", "status", names[status], "age_seconds",
                                        age, "summary", e ? e->summary : json_null());
                /* the plan a wave started here would be approved from: which, how old, how big */
                if (row && e && e->plan)
                        json_object_set_new(row, "plan",
                                            json_pack("{s:O, s:O, s:I}", "id", json_object_get(e->plan, "id"),
                                                      "generated_usec", json_object_get(e->plan, "generated_usec"),
                                                      "packages",
                                                      (json_int_t) json_array_size(json_object_get(e->plan, "packages"))));
                else if (row)
                        json_object_set_new(row, "plan", json_null());
                if (!row) {
                        while (n > 0)
                                json_decref(sorted[--n]);
                        return NULL;
                }
                sorted[n++] = row;
        }
        qsort(sorted, n, sizeof(json_t *), by_hostname);
        for (i = 0; i < n; i++)
                json_array_append_new(rows, sorted[i]);
        out = json_pack("{s:O, s:b, s:{s:I, s:I, s:I, s:I}}", "nodes", rows, "compliant",
                        n > 0 && counts[0] == n, "counts", "pass", (json_int_t) counts[0], "fail",
                        (json_int_t) counts[1], "stale", (json_int_t) counts[2], "missing", (json_int_t) counts[3]);
        return out;
}
