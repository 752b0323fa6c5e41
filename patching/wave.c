/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/text.h"
#include "patching/wave.h"

#define HOUR_USEC (3600ULL * 1000000ULL)

static const char *const status_names[] = {
        [WAVE_RUNNING] = "running", [WAVE_PAUSED] = "paused", [WAVE_HALTED] = "halted",
        [WAVE_ABORTED] = "aborted", [WAVE_DONE] = "done",
};

static const char *const step_names[] = {
        [NODE_PENDING] = "pending",         [NODE_DRAINING] = "draining", [NODE_PATCHING] = "patching",
        [NODE_ACTIVATING] = "activating",   [NODE_DONE] = "done",         [NODE_FAILED] = "failed",
};

const char *wave_status_to_string(WaveStatus s) {
        return s < _WAVE_STATUS_MAX ? status_names[s] : "?";
}

const char *node_step_to_string(NodeStep s) {
        return s < _NODE_STEP_MAX ? step_names[s] : "?";
}

static void approved_free(WaveApproved *a, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(a[i].name);
                free(a[i].arch);
                free(a[i].version);
        }
        free(a);
}

Wave *wave_free(Wave *w) {
        if (!w)
                return NULL;
        free(w->nodes);
        approved_free(w->approved, w->n_approved);
        free(w);
        return NULL;
}

static int by_package(const void *a, const void *b) {
        const WaveApproved *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : strcmp(x->arch, y->arch);
}

static int by_planned(const void *a, const void *b) {
        const json_t *x = *(const json_t *const *) a, *y = *(const json_t *const *) b;
        int c = strcmp(json_string_value(json_object_get(x, "name")), json_string_value(json_object_get(y, "name")));
        if (!c)
                c = strcmp(json_string_value(json_object_get(x, "arch")), json_string_value(json_object_get(y, "arch")));
        return c ? c : strcmp(json_string_value(json_object_get(x, "to")), json_string_value(json_object_get(y, "to")));
}

const WaveApproved *wave_approved_find(const Wave *w, const char *name, const char *arch) {
        WaveApproved key = { .name = (char *) name, .arch = (char *) arch };

        return w->n_approved ? bsearch(&key, w->approved, w->n_approved, sizeof(WaveApproved), by_package) : NULL;
}

static int approved_add(Wave *w, size_t *allocated, const char *name, const char *arch, const char *version,
                        bool security) {
        if (w->n_approved == WAVE_MAX_APPROVED)
                return -E2BIG;
        if (w->n_approved == *allocated) {
                size_t n = *allocated ? *allocated * 2 : 16;
                WaveApproved *grown = realloc(w->approved, n * sizeof(WaveApproved));
                if (!grown)
                        return -ENOMEM;
                w->approved = grown;
                *allocated = n;
        }
        WaveApproved *a = &w->approved[w->n_approved];
        *a = (WaveApproved){ .name = strdup(name), .arch = strdup(arch), .version = strdup(version),
                             .security = security };
        w->n_approved++;
        return a->name && a->arch && a->version ? 0 : -ENOMEM;
}

/* The approved set from the covered nodes' plans: their included updates,
 * one version per (name, arch), every node with a plan. */
static int freeze_approved(Wave *w, const json_t *plans, char *err, size_t err_size) {
        _cleanup_free_ const json_t **all = NULL;
        size_t n_all = 0, n_missing = 0, allocated = 0;
        char missing[160] = "";
        int r;

        w->has_approved = true;
        for (size_t i = 0; i < w->n_nodes; i++) {
                const json_t *plan = json_object_get(plans, w->nodes[i].id);
                if (!plan) {
                        size_t len = strlen(missing);
                        if (n_missing++ < 4)
                                snprintf(missing + len, sizeof(missing) - len, "%s%s", len ? ", " : "",
                                         w->nodes[i].hostname);
                        continue;
                }
                n_all += json_array_size(json_object_get(plan, "packages"));
        }
        if (n_missing) {
                snprintf(err, err_size, "no patch plan from %zu node(s) of the wave (%s%s) reached this manager: "
                         "each node sends its latest plan with its posture summary; start again once they have, "
                         "or with any version", n_missing, missing, n_missing > 4 ? ", ..." : "");
                return -EINVAL;
        }
        /* every node's updates, sorted: a package two nodes plan differently is side by side */
        all = calloc(MAX(n_all, (size_t) 1), sizeof(json_t *));
        if (!all)
                return -ENOMEM;
        n_all = 0;
        for (size_t i = 0; i < w->n_nodes; i++) {
                const json_t *p;
                size_t k;
                json_array_foreach(json_object_get(json_object_get(plans, w->nodes[i].id), "packages"), k, p) {
                        if (!json_string_value(json_object_get(p, "name")) ||
                            !json_string_value(json_object_get(p, "arch")) || !json_string_value(json_object_get(p, "to"))) {
                                snprintf(err, err_size, "the plan of node %s names a package without name, "
                                         "architecture or version", w->nodes[i].hostname);
                                return -EINVAL;
                        }
                        all[n_all++] = p;
                }
        }
        qsort(all, n_all, sizeof(json_t *), by_planned);
        for (size_t i = 0; i < n_all; i++) {
                const char *name = json_string_value(json_object_get(all[i], "name"));
                const char *arch = json_string_value(json_object_get(all[i], "arch"));
                const char *to = json_string_value(json_object_get(all[i], "to"));
                const WaveApproved *last = w->n_approved ? &w->approved[w->n_approved - 1] : NULL;

                if (last && STREQ(last->name, name) && STREQ(last->arch, arch)) {
                        if (!STREQ(last->version, to)) {
                                snprintf(err, err_size, "the nodes' plans disagree on %s (%s): %s and %s; refresh "
                                         "their plans from the same repositories, or start with any version",
                                         name, arch, last->version, to);
                                return -EINVAL;
                        }
                        continue;
                }
                r = approved_add(w, &allocated, name, arch, to, json_is_true(json_object_get(all[i], "security")));
                if (r == -E2BIG)
                        snprintf(err, err_size, "more than %d packages to approve", WAVE_MAX_APPROVED);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool held(NodeStep s) {
        return s == NODE_DRAINING || s == NODE_PATCHING || s == NODE_ACTIVATING;
}

unsigned wave_held(const Wave *w) {
        unsigned n = 0;

        for (size_t i = 0; i < w->n_nodes; i++)
                n += held(w->nodes[i].step);
        return n;
}

static void set_message(char *buf, const char *format, ...) _printf_(2, 3);
static void set_message(char *buf, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        vsnprintf(buf, WAVE_MESSAGE_MAX, format, ap);
        va_end(ap);
        utf8_trim_partial(buf); /* cut by bytes: never inside a character */
}

/* Microseconds from since to now; 0 when since is ahead (a leader whose
 * clock is behind the one that stored it). */
static uint64_t elapsed(uint64_t now, uint64_t since) {
        return now > since ? now - since : 0;
}

/* ---- placement constraints ----------------------------------------- */

static const char *label_value(const ClusterNode *node, const char *key) {
        size_t n = strlen(key);

        for (const char *const *l = node->labels; l && *l; l++)
                if (strncmp(*l, key, n) == 0 && (*l)[n] == '=')
                        return *l + n + 1;
        return NULL;
}

int wave_constraint_matches(const char *constraint, const ClusterNode *node) {
        char lhs[256], rhs[256];
        const char *op = strstr(constraint, "==");
        bool equal = true;
        const char *actual;

        if (!op) {
                op = strstr(constraint, "!=");
                equal = false;
        }
        if (!op || (size_t) (op - constraint) >= sizeof(lhs) || strlen(op + 2) >= sizeof(rhs))
                return -EINVAL;
        snprintf(lhs, sizeof(lhs), "%.*s", (int) (op - constraint), constraint);
        snprintf(rhs, sizeof(rhs), "%s", op + 2);
        /* Swarm trims spaces around both sides */
        for (char *s = lhs + strlen(lhs); s > lhs && s[-1] == ' '; *--s = '\0')
                ;
        const char *l = lhs, *r = rhs;
        while (*l == ' ')
                l++;
        while (*r == ' ')
                r++;
        for (char *s = rhs + strlen(rhs); s > r && s[-1] == ' '; *--s = '\0')
                ;

        if (STREQ(l, "node.role"))
                actual = node->manager ? "manager" : "worker";
        else if (STREQ(l, "node.hostname"))
                actual = node->hostname;
        else if (STREQ(l, "node.id"))
                actual = node->id;
        else if (strncmp(l, "node.labels.", 12) == 0)
                actual = label_value(node, l + 12);
        else
                return -EINVAL; /* engine labels, platform: not known here */
        if (!actual)
                return equal ? 0 : 1; /* a missing label is "not equal" */
        return (strcasecmp(actual, r) == 0) == equal;
}

/* ---- a new wave ------------------------------------------------------ */

static bool has_label(const ClusterNode *n, const char *label) {
        for (const char *const *l = n->labels; l && *l; l++)
                if (STREQ(*l, label))
                        return true;
        return false;
}

static int by_wave_order(const void *a, const void *b) {
        const WaveNode *x = a, *y = b;

        /* canaries keep the order given (set by the caller); then workers, managers last */
        if (x->canary != y->canary)
                return x->canary ? -1 : 1;
        if (x->canary)
                return 0;
        if (x->manager != y->manager)
                return x->manager ? 1 : -1;
        return strcmp(x->hostname, y->hostname);
}

uint64_t wave_node_time(const Wave *w) {
        return 2 * w->node_deadline_usec;
}

/* The schedule's windows, for messages: "Mon-Fri 22:00 4h, Sat 02:00 1h" */
static void format_windows(const WaveSchedule *s, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < s->n_windows && n < size; i++) {
                char spec[WAVE_WINDOW_SPEC_MAX];
                wave_window_format(&s->windows[i], spec, sizeof(spec));
                n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? ", " : "", spec);
        }
        if (s->n_windows == 0)
                snprintf(buf, size, "none (any time but the blackouts)");
}

int wave_new(const char *id, const WaveOptions *o, const ClusterView *c, const TimeZone *tz, uint64_t now_usec,
             Wave **ret, char *err, size_t err_size) {
        _cleanup_(wave_freep) Wave *w = calloc(1, sizeof(Wave));
        size_t n_canaries = 0;
        int r;

        if (!w || !(w->nodes = calloc(MAX(c->n_nodes, (size_t) 1), sizeof(WaveNode))))
                return -ENOMEM;
        if (!id || !*id || strlen(id) >= WAVE_ID_MAX) {
                snprintf(err, err_size, "a wave ID of 1..%d characters is needed", WAVE_ID_MAX - 1);
                return -EINVAL;
        }
        snprintf(w->id, sizeof(w->id), "%s", id);
        w->max_unavailable = o->max_unavailable ? o->max_unavailable : 1;
        w->soak_usec = o->soak_usec;
        w->on_failure = o->on_failure;
        w->max_errors = o->max_errors;
        w->node_deadline_usec = o->node_deadline_usec ? o->node_deadline_usec : HOUR_USEC;
        if (o->deregistration_usec >= w->node_deadline_usec) {
                snprintf(err, err_size, "the deregistration delay (%llu s) must be shorter than the node deadline "
                         "(%llu s): it counts against the drain's", (unsigned long long) (o->deregistration_usec / 1000000),
                         (unsigned long long) (w->node_deadline_usec / 1000000));
                return -EINVAL;
        }
        w->deregistration_usec = o->deregistration_usec;
        w->started_usec = now_usec;
        w->status = WAVE_RUNNING;
        if (o->schedule && wave_schedule_active(o->schedule)) {
                uint64_t start, close;
                char windows[160];

                if (!tz) {
                        snprintf(err, err_size, "the schedule's time zone %s is not read", o->schedule->zone);
                        return -EINVAL;
                }
                w->schedule = *o->schedule;
                format_windows(&w->schedule, windows, sizeof(windows));
                r = wave_schedule_next_start(&w->schedule, tz, now_usec, wave_node_time(w), &start, &close);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        snprintf(err, err_size, "no window within a year holds a node's time (%llu min: twice the "
                                 "node deadline) outside the blackouts; windows: %s",
                                 (unsigned long long) (wave_node_time(w) / 60000000), windows);
                        return -EINVAL;
                }
        }

        for (size_t i = 0; i < c->n_nodes; i++) {
                const ClusterNode *cn = &c->nodes[i];
                if (o->label && !has_label(cn, o->label))
                        continue;
                if (strlen(cn->id) >= WAVE_NODE_ID_MAX || strlen(cn->hostname) >= WAVE_NODE_ID_MAX) {
                        snprintf(err, err_size, "node %.64s: ID or hostname too long", cn->id);
                        return -EINVAL;
                }
                WaveNode *n = &w->nodes[w->n_nodes++];
                snprintf(n->id, sizeof(n->id), "%s", cn->id);
                snprintf(n->hostname, sizeof(n->hostname), "%s", cn->hostname);
                n->manager = cn->manager;
                n->step = NODE_PENDING;
                n->step_since_usec = now_usec;
        }
        if (w->n_nodes == 0) {
                snprintf(err, err_size, o->label ? "no node has the label %s" : "the cluster has no node",
                         o->label ? o->label : "");
                return -EINVAL;
        }
        if (o->max_errors_percent > 100) {
                snprintf(err, err_size, "an error budget of %u%% is more than every node", o->max_errors_percent);
                return -EINVAL;
        }
        if (o->approve && (r = freeze_approved(w, o->plans, err, err_size)) < 0) {
                if (r == -ENOMEM)
                        snprintf(err, err_size, "out of memory");
                return r == -ENOMEM ? r : -EINVAL;
        }
        if (o->max_errors_percent) {
                w->max_errors = (unsigned) (w->n_nodes * o->max_errors_percent / 100);
                if (w->max_errors == 0) {
                        /* asked for a budget: never silently none */
                        snprintf(err, err_size, "an error budget of %u%% of %zu node(s) rounds down to no node: "
                                 "give a number of nodes, or at least %zu%%", o->max_errors_percent, w->n_nodes,
                                 (100 + w->n_nodes - 1) / w->n_nodes);
                        return -EINVAL;
                }
        }
        /* canaries first, in the order given */
        for (const char *const *cn = o->canaries; cn && *cn; cn++) {
                size_t i;
                for (i = n_canaries; i < w->n_nodes; i++)
                        if (STREQ(w->nodes[i].id, *cn) || STREQ(w->nodes[i].hostname, *cn))
                                break;
                if (i == w->n_nodes) {
                        bool twice = false;
                        for (size_t k = 0; k < n_canaries; k++)
                                twice = twice || STREQ(w->nodes[k].id, *cn) || STREQ(w->nodes[k].hostname, *cn);
                        snprintf(err, err_size, twice ? "canary %s is given twice" : "canary %s is not a node of the wave",
                                 *cn);
                        return -EINVAL;
                }
                WaveNode tmp = w->nodes[i];
                memmove(&w->nodes[n_canaries + 1], &w->nodes[n_canaries], (i - n_canaries) * sizeof(WaveNode));
                w->nodes[n_canaries] = tmp;
                w->nodes[n_canaries++].canary = true;
        }
        qsort(w->nodes + n_canaries, w->n_nodes - n_canaries, sizeof(WaveNode), by_wave_order);
        if (n_canaries == 0)
                w->canaries_done_usec = now_usec;
        *ret = TAKE_PTR(w);
        return 0;
}

/* ---- advancing ------------------------------------------------------- */

static const ClusterNode *cluster_node(const ClusterView *c, const char *id) {
        for (size_t i = 0; i < c->n_nodes; i++)
                if (STREQ(c->nodes[i].id, id))
                        return &c->nodes[i];
        return NULL;
}

static const WaveNode *wave_node(const Wave *w, const char *id) {
        for (size_t i = 0; i < w->n_nodes; i++)
                if (STREQ(w->nodes[i].id, id))
                        return &w->nodes[i];
        return NULL;
}

/* Could another node run a task of s if `leaving` is drained? */
static bool service_has_other_node(const Wave *w, const ClusterView *c, const ClusterService *s, const char *leaving) {
        for (size_t i = 0; i < c->n_nodes; i++) {
                const ClusterNode *n = &c->nodes[i];
                const WaveNode *wn = wave_node(w, n->id);
                bool eligible = !STREQ(n->id, leaving) && n->ready && n->availability == AVAILABILITY_ACTIVE &&
                                !(wn && held(wn->step));

                for (const char *const *k = s->constraints; eligible && k && *k; k++)
                        eligible = wave_constraint_matches(*k, n) == 1;
                if (eligible)
                        return true;
        }
        return false;
}

bool wave_service_converged(const ClusterService *s) {
        return !s->replicated || s->desired == 0 || s->running >= s->desired;
}

bool wave_service_on_node(const ClusterService *s, const char *node_id) {
        for (const char *const *t = s->task_nodes; t && *t; t++)
                if (STREQ(*t, node_id))
                        return true;
        return false;
}

/* A replicated service that does not run all the tasks it wants, or NULL. */
static const ClusterService *unconverged(const ClusterView *c) {
        for (size_t i = 0; i < c->n_services; i++)
                if (!wave_service_converged(&c->services[i]))
                        return &c->services[i];
        return NULL;
}

/* Why this node may not be drained now, or NULL. */
static const char *guard(const Wave *w, const ClusterView *c, const WaveNode *node, char *buf, size_t size) {
        const ClusterNode *cn = cluster_node(c, node->id);

        if (!cn) {
                snprintf(buf, size, "node %s (%s) is no longer in the Swarm", node->hostname, node->id);
                return buf;
        }
        if (!cn->ready) {
                snprintf(buf, size, "node %s is not ready", node->hostname);
                return buf;
        }
        if (node->manager) {
                for (size_t i = 0; i < w->n_nodes; i++)
                        if (w->nodes[i].manager && held(w->nodes[i].step) && &w->nodes[i] != node) {
                                snprintf(buf, size, "manager %s waits for manager %s: managers go one at a time",
                                         node->hostname, w->nodes[i].hostname);
                                return buf;
                        }
                for (size_t i = 0; i < c->n_nodes; i++)
                        if (c->nodes[i].manager && (!c->nodes[i].manager_reachable || !c->nodes[i].ready)) {
                                snprintf(buf, size, "manager %s waits: manager %s is not reachable", node->hostname,
                                         c->nodes[i].hostname);
                                return buf;
                        }
        }
        const ClusterService *behind = unconverged(c);
        if (behind) {
                snprintf(buf, size, "node %s waits: service %s runs %u of its %u tasks (not converged)",
                         node->hostname, behind->name, behind->running, behind->desired);
                return buf;
        }
        for (size_t i = 0; i < c->n_services; i++) {
                const ClusterService *s = &c->services[i];
                /* every service with a task keeps a node it may run on, whether
                 * or not it runs here: draining a node that runs none of it
                 * still takes a place it could move to */
                if (s->replicated && s->task_nodes && s->task_nodes[0] && !service_has_other_node(w, c, s, node->id)) {
                        snprintf(buf, size, "node %s waits: service %s has no other node it may run on",
                                 node->hostname, s->name);
                        return buf;
                }
        }
        return NULL;
}

static int push(WaveAction *actions, size_t max, size_t *n, WaveActionKind kind, size_t node) {
        if (*n >= max)
                return -ENOBUFS;
        actions[(*n)++] = (WaveAction){ .kind = kind, .node = node };
        return 0;
}

static void enter(WaveNode *n, NodeStep step, uint64_t now, bool *changed) {
        n->step = step;
        n->step_since_usec = now;
        *changed = true;
}

/* Whether the schedule lets a node start now; else why not in buf, and
 * w->window_opens_usec set to when one may. */
static bool schedule_allows(Wave *w, const TimeZone *tz, uint64_t now, char *buf, size_t size) {
        uint64_t start, close;
        char when[64], windows[160];
        int r;

        if (!wave_schedule_active(&w->schedule))
                return true;
        if (!tz) {
                /* fail closed: a leader that cannot read the zone starts no node */
                snprintf(buf, size, "the schedule's time zone %s cannot be read here: no node starts",
                         w->schedule.zone);
                w->window_opens_usec = now + 60 * 1000000ULL;
                return false;
        }
        r = wave_schedule_next_start(&w->schedule, tz, now, wave_node_time(w), &start, &close);
        if (r >= 0 && start <= now)
                return true;
        if (r == -ENOMEM) {
                snprintf(buf, size, "out of memory computing the maintenance windows");
                w->window_opens_usec = now + 60 * 1000000ULL;
                return false;
        }
        format_windows(&w->schedule, windows, sizeof(windows));
        if (r < 0) {
                snprintf(buf, size, "no window within a year holds a node's time (%llu min) outside the blackouts; "
                         "windows: %s", (unsigned long long) (wave_node_time(w) / 60000000), windows);
                w->window_opens_usec = now + 3600 * 1000000ULL;
                return false;
        }
        wave_schedule_format_time(tz, start, when, sizeof(when));
        snprintf(buf, size, "waiting for the maintenance window: the next node may start at %s (%s); windows: %.100s",
                 when, w->schedule.zone, windows);
        w->window_opens_usec = start;
        return false;
}

int wave_advance(Wave *w, const ClusterView *c, const TimeZone *tz, uint64_t now, WaveAction *actions, size_t max,
                 size_t *n_actions, bool *changed, char *blocked, size_t blocked_size) {
        char buf[WAVE_MESSAGE_MAX];
        bool canaries_done = true, scheduled = false;
        int r;

        *n_actions = 0;
        *changed = false;
        w->window_opens_usec = 0;
        if (blocked_size)
                blocked[0] = '\0';

        /* nodes under way */
        for (size_t i = 0; i < w->n_nodes; i++) {
                WaveNode *n = &w->nodes[i];
                const ClusterNode *cn = cluster_node(c, n->id);

                if ((n->step == NODE_DRAINING || n->step == NODE_PATCHING) &&
                    elapsed(now, n->step_since_usec) > w->node_deadline_usec) {
                        set_message(n->message, "missed its deadline: %s for more than %llu s",
                                    node_step_to_string(n->step),
                                    (unsigned long long) (w->node_deadline_usec / 1000000));
                        enter(n, NODE_FAILED, now, changed);
                        if (w->status == WAVE_RUNNING || w->status == WAVE_PAUSED) {
                                w->status = WAVE_HALTED;
                                set_message(w->reason, "node %s %s", n->hostname, n->message);
                        }
                        continue;
                }
                switch (n->step) {
                case NODE_DRAINING: {
                        const ClusterService *behind;
                        if (!cn)
                                break;
                        if (cn->availability != AVAILABILITY_DRAIN) {
                                /* chosen: the load balancers take it out first */
                                if (elapsed(now, n->step_since_usec) < w->deregistration_usec)
                                        break;
                                /* the guards again: the cluster may have changed
                                 * during the delay (the node stays held, out of
                                 * the balancers, until they pass) */
                                const char *why = n->drained_usec ? NULL : guard(w, c, n, buf, sizeof(buf));
                                if (why) {
                                        char held_msg[WAVE_MESSAGE_MAX];
                                        snprintf(held_msg, sizeof(held_msg), "chosen; its drain waits: %s", why);
                                        utf8_trim_partial(held_msg);
                                        if (!STREQ(held_msg, n->message)) {
                                                snprintf(n->message, sizeof(n->message), "%s", held_msg);
                                                *changed = true;
                                        }
                                        if (blocked_size && !blocked[0])
                                                snprintf(blocked, blocked_size, "%s", held_msg);
                                        break;
                                }
                                if (!n->drained_usec) {
                                        n->drained_usec = now;
                                        set_message(n->message, "drained; its tasks stopping");
                                        *changed = true;
                                }
                                /* the drain was not written yet, or undone: (again) */
                                if ((r = push(actions, max, n_actions, WAVE_ACTION_DRAIN, i)) < 0)
                                        return r;
                        } else if (cn->running_tasks > 0)
                                break;
                        else if ((behind = unconverged(c))) {
                                /* patched only once what it ran runs elsewhere */
                                char why[WAVE_MESSAGE_MAX];
                                snprintf(why, sizeof(why), "its tasks stopped; waiting for service %s to run all its "
                                         "tasks (%u of %u)", behind->name, behind->running, behind->desired);
                                utf8_trim_partial(why);
                                if (!STREQ(why, n->message)) {
                                        snprintf(n->message, sizeof(n->message), "%s", why);
                                        *changed = true;
                                }
                        } else {
                                if (n->drained_usec)
                                        set_message(n->message, "its tasks run elsewhere, %.1f s after its drain",
                                                    (double) elapsed(now, n->drained_usec) / 1e6);
                                enter(n, NODE_PATCHING, now, changed);
                        }
                        break;
                }
                case NODE_ACTIVATING:
                        if (!n->was_active || (cn && cn->availability == AVAILABILITY_ACTIVE)) {
                                enter(n, n->failed ? NODE_FAILED : NODE_DONE, now, changed);
                                break;
                        }
                        if (c->hold) {
                                /* not made active while the gate holds */
                                if (blocked_size && !blocked[0])
                                        snprintf(blocked, blocked_size, "node %s waits to be made active: %s",
                                                 n->hostname, c->hold);
                                break;
                        }
                        if (cn && (r = push(actions, max, n_actions, WAVE_ACTION_ACTIVATE, i)) < 0)
                                return r;
                        break;
                default:
                        break;
                }
        }

        for (size_t i = 0; i < w->n_nodes; i++)
                if (w->nodes[i].canary && w->nodes[i].step != NODE_DONE)
                        canaries_done = false;
        if (canaries_done && w->canaries_done_usec == 0) {
                w->canaries_done_usec = now;
                *changed = true;
        }

        /* new nodes, as far as the guards allow; none while the gate holds */
        if (w->status == WAVE_RUNNING && c->hold) {
                if (blocked_size && !blocked[0])
                        snprintf(blocked, blocked_size, "%s", c->hold);
        } else if (w->status == WAVE_RUNNING) {
                for (size_t i = 0; i < w->n_nodes; i++) {
                        WaveNode *n = &w->nodes[i];
                        const char *why;

                        if (n->step != NODE_PENDING)
                                continue;
                        if (wave_held(w) >= w->max_unavailable) {
                                snprintf(blocked, blocked_size, "%u of %u node(s) held: waiting for a slot",
                                         wave_held(w), w->max_unavailable);
                                break;
                        }
                        if (!n->canary && !canaries_done) {
                                snprintf(blocked, blocked_size, "waiting for the canaries");
                                break;
                        }
                        if (!n->canary && elapsed(now, w->canaries_done_usec) < w->soak_usec) {
                                snprintf(blocked, blocked_size, "soaking after the canaries: %llu s left",
                                         (unsigned long long) ((w->soak_usec - elapsed(now, w->canaries_done_usec)) /
                                                               1000000));
                                break;
                        }
                        if (!scheduled && !schedule_allows(w, tz, now, buf, sizeof(buf))) {
                                snprintf(blocked, blocked_size, "%s", buf);
                                break;
                        }
                        scheduled = true; /* once per advance: every node starting now starts in it */
                        if ((why = guard(w, c, n, buf, sizeof(buf)))) {
                                /* in order: a later node does not overtake a waiting one */
                                snprintf(blocked, blocked_size, "%s", why);
                                break;
                        }
                        n->was_active = cluster_node(c, n->id)->availability == AVAILABILITY_ACTIVE;
                        n->message[0] = '\0';
                        n->drained_usec = 0;
                        enter(n, NODE_DRAINING, now, changed);
                        if (w->deregistration_usec) {
                                set_message(n->message, "chosen: out of the load balancers first, drained in %llu s",
                                            (unsigned long long) (w->deregistration_usec / 1000000));
                        } else {
                                n->drained_usec = now;
                                if ((r = push(actions, max, n_actions, WAVE_ACTION_DRAIN, i)) < 0)
                                        return r;
                        }
                        if (n->canary)
                                break; /* canaries one at a time */
                }
        }

        if (wave_held(w) > w->max_held) {
                w->max_held = wave_held(w);
                *changed = true;
        }

        /* the end */
        bool all_settled = true;
        for (size_t i = 0; i < w->n_nodes; i++)
                if (w->nodes[i].step != NODE_DONE && w->nodes[i].step != NODE_FAILED &&
                    !(w->status != WAVE_RUNNING && w->nodes[i].step == NODE_PENDING))
                        all_settled = false;
        if (all_settled && w->finished_usec == 0 && w->status != WAVE_PAUSED) {
                if (w->status == WAVE_RUNNING)
                        w->status = WAVE_DONE;
                w->finished_usec = now;
                *changed = true;
        }
        return 0;
}

/* ---- the node's side ------------------------------------------------ */

int wave_node_may_patch(const Wave *w, const char *node_id) {
        const WaveNode *n = wave_node(w, node_id);

        if (!n)
                return -ENOENT;
        switch (n->step) {
        case NODE_PATCHING:
                return 0;
        case NODE_PENDING:
                return w->status == WAVE_RUNNING ? -EAGAIN : -ESTALE;
        case NODE_DRAINING:
                return -EAGAIN;
        default:
                return -ESTALE;
        }
}

static const char *const on_failure_names[] = {
        [WAVE_ON_FAILURE_HALT] = "halt",
        [WAVE_ON_FAILURE_CONTINUE] = "continue",
};

const char *wave_on_failure_to_string(WaveOnFailure f) {
        return f < _WAVE_ON_FAILURE_MAX ? on_failure_names[f] : "?";
}

int wave_on_failure_from_string(const char *s) {
        for (size_t i = 0; s && i < _WAVE_ON_FAILURE_MAX; i++)
                if (STREQ(s, on_failure_names[i]))
                        return (int) i;
        return -EINVAL;
}

unsigned wave_errors(const Wave *w) {
        unsigned n = 0;

        for (size_t i = 0; i < w->n_nodes; i++)
                n += w->nodes[i].failed || w->nodes[i].step == NODE_FAILED;
        return n;
}

int wave_node_report(Wave *w, const char *node_id, bool ok, bool healthy, const char *message,
                     const char *transaction, uint64_t now) {
        WaveNode *n = (WaveNode *) wave_node(w, node_id);
        bool changed;

        if (!n)
                return -ENOENT;
        if (n->step != NODE_PATCHING)
                return -EPROTO;
        set_message(n->message, "%s", message ? message : "");
        snprintf(n->transaction, sizeof(n->transaction), "%s", transaction ? transaction : "");
        utf8_trim_partial(n->transaction);
        if (ok) {
                enter(n, NODE_ACTIVATING, now, &changed);
                return 0;
        }
        /* failed: the node rolled back; activate it only if healthy on the old state */
        n->failed = true;
        enter(n, healthy ? NODE_ACTIVATING : NODE_FAILED, now, &changed);
        if (!healthy)
                n->was_active = false;
        unsigned errors = wave_errors(w);
        /* within the error budget, a node healthy on its old state is passed;
         * never a canary: the rest of the wave waits on the canaries */
        if (healthy && !n->canary && (w->on_failure == WAVE_ON_FAILURE_CONTINUE || errors <= w->max_errors))
                return 0;
        if (w->status == WAVE_RUNNING || w->status == WAVE_PAUSED) {
                w->status = WAVE_HALTED;
                if (healthy && !n->canary && w->max_errors > 0)
                        set_message(w->reason, "node %s failed and was rolled back: %u failed node(s), more than the "
                                    "error budget of %u: %s", n->hostname, errors, w->max_errors, n->message);
                else
                        set_message(w->reason, "node %s failed%s: %s", n->hostname,
                                    healthy ? " and was rolled back" : " and is not healthy (left drained)",
                                    n->message);
        }
        return 0;
}

int wave_pause(Wave *w, const char *reason) {
        if (w->status != WAVE_RUNNING)
                return -EPROTO;
        w->status = WAVE_PAUSED;
        set_message(w->reason, "%s", reason ? reason : "paused");
        return 0;
}

int wave_resume(Wave *w) {
        if (w->status != WAVE_PAUSED)
                return -EPROTO;
        w->status = WAVE_RUNNING;
        w->reason[0] = '\0';
        return 0;
}

int wave_abort(Wave *w, const char *reason, uint64_t now) {
        if (w->status == WAVE_DONE || w->status == WAVE_ABORTED)
                return -EPROTO;
        w->status = WAVE_ABORTED;
        set_message(w->reason, "%s", reason ? reason : "aborted");
        if (wave_held(w) == 0)
                w->finished_usec = now;
        return 0;
}

/* ---- stored form ----------------------------------------------------- */

json_t *wave_to_json_value(const Wave *w) {
        json_t *nodes = json_array();

        for (size_t i = 0; nodes && i < w->n_nodes; i++) {
                const WaveNode *n = &w->nodes[i];
                json_t *node = json_pack("{s:s, s:s, s:b, s:b, s:s, s:I, s:b, s:b, s:s, s:s}", "id", n->id,
                                                       "hostname", n->hostname, "manager", n->manager, "canary",
                                                       n->canary, "step", node_step_to_string(n->step), "since",
                                                       (json_int_t) n->step_since_usec, "failed", n->failed,
                                                       "was_active", n->was_active, "message", n->message,
                                                       "transaction", n->transaction);
                /* a node that cannot be written fails the whole wave's
                 * form: never a stored wave without it */
                if (node && n->drained_usec && json_object_set_new(node, "drained", json_integer((json_int_t) n->drained_usec)) < 0)
                        json_decref(TAKE_PTR(node));
                if (!node || json_array_append_new(nodes, node) < 0) {
                        json_decref(nodes);
                        return NULL;
                }
        }
        if (!nodes)
                return NULL;
        json_t *schedule = NULL;
        if (wave_schedule_active(&w->schedule)) {
                json_t *windows = json_array(), *blackouts = json_array();
                char spec[WAVE_WINDOW_SPEC_MAX];

                schedule = json_pack("{s:s, s:o*, s:o*}", "zone", w->schedule.zone, "windows", windows, "blackouts",
                                     blackouts);
                for (size_t i = 0; schedule && windows && i < w->schedule.n_windows; i++) {
                        wave_window_format(&w->schedule.windows[i], spec, sizeof(spec));
                        if (json_array_append_new(windows, json_string(spec)) < 0)
                                json_decref(TAKE_PTR(schedule));
                }
                for (size_t i = 0; schedule && blackouts && i < w->schedule.n_blackouts; i++) {
                        wave_blackout_format(&w->schedule.blackouts[i], spec, sizeof(spec));
                        if (json_array_append_new(blackouts, json_string(spec)) < 0)
                                json_decref(TAKE_PTR(schedule));
                }
                if (!schedule || !windows || !blackouts) {
                        json_decref(schedule);
                        json_decref(nodes);
                        return NULL;
                }
        }
        json_t *approved = NULL;
        if (w->has_approved) {
                approved = json_array();
                for (size_t i = 0; approved && i < w->n_approved; i++) {
                        const WaveApproved *a = &w->approved[i];
                        if (json_array_append_new(approved, json_pack("{s:s, s:s, s:s, s:b}", "name", a->name, "arch",
                                                                      a->arch, "version", a->version, "security",
                                                                      a->security)) < 0)
                                json_decref(TAKE_PTR(approved));
                }
                if (!approved) {
                        json_decref(schedule);
                        json_decref(nodes);
                        return NULL;
                }
        }
        /* version 2 has a schedule or an approved set, version 3 a
         * deregistration delay too: a hostd that cannot keep to them
         * refuses the wave rather than ignore them (a hostd of version 2
         * reads unknown members as absent: the delay needs its own) */
        json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:i, s:I, s:I, s:s, s:i, s:I, s:I, s:I, s:i, s:o}", "version", 1, "id",
                         w->id, "status", wave_status_to_string(w->status), "reason", w->reason, "max_unavailable",
                         (int) w->max_unavailable, "soak", (json_int_t) w->soak_usec, "node_deadline",
                         (json_int_t) w->node_deadline_usec, "on_failure", wave_on_failure_to_string(w->on_failure),
                         "max_errors", (int) w->max_errors,
                         "started", (json_int_t) w->started_usec,
                         "canaries_done", (json_int_t) w->canaries_done_usec, "finished",
                         (json_int_t) w->finished_usec, "max_held", (int) w->max_held, "nodes", nodes);
        if (j && (schedule || approved || w->deregistration_usec) &&
            json_object_set_new(j, "version", json_integer(w->deregistration_usec ? 3 : 2)) < 0)
                json_decref(TAKE_PTR(j));
        if (j && w->deregistration_usec &&
            json_object_set_new(j, "deregistration_delay", json_integer((json_int_t) w->deregistration_usec)) < 0)
                json_decref(TAKE_PTR(j));
        if (j && schedule && json_object_set_new(j, "schedule", TAKE_PTR(schedule)) < 0)
                json_decref(TAKE_PTR(j));
        if (j && approved && json_object_set_new(j, "approved", TAKE_PTR(approved)) < 0)
                json_decref(TAKE_PTR(j));
        json_decref(schedule);
        json_decref(approved);
        return j;
}

char *wave_to_json(const Wave *w) {
        json_t *j = wave_to_json_value(w);
        char *text;

        if (!j)
                return NULL;
        text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        return text;
}

static int need(const JsonValue *o, const char *key, JsonType type, const char *path, const JsonValue **ret,
                LocatedError *error) {
        const JsonValue *v = jv_object_get(o, key);
        char p[128];

        snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
        if (!v)
                return located_error_at(error, o, p, "missing");
        if (v->type != type)
                return located_error_at(error, v, p, "expected %s, got %s", jv_type_name(type), jv_type_name(v->type));
        *ret = v;
        return 0;
}

static int get_u64(const JsonValue *o, const char *key, const char *path, uint64_t *ret, LocatedError *error) {
        const JsonValue *v;
        int r = need(o, key, JV_NUMBER, path, &v, error);

        if (r < 0)
                return r;
        if (!v->number.is_integer || v->number.integer < 0)
                return located_error_at(error, v, key, "expected a non-negative integer");
        *ret = (uint64_t) v->number.integer;
        return 0;
}

static int get_string(const JsonValue *o, const char *key, const char *path, char *buf, size_t size, bool nonempty,
                      LocatedError *error) {
        const JsonValue *v;
        int r = need(o, key, JV_STRING, path, &v, error);

        if (r < 0)
                return r;
        if (v->string.length >= size || (nonempty && v->string.length == 0))
                return located_error_at(error, v, key, "expected a string of %s%zu characters",
                                        nonempty ? "1.." : "at most ", size - 1);
        memcpy(buf, v->string.chars, v->string.length + 1);
        return 0;
}

static int get_bool(const JsonValue *o, const char *key, const char *path, bool *ret, LocatedError *error) {
        const JsonValue *v;
        int r = need(o, key, JV_BOOLEAN, path, &v, error);

        if (r >= 0)
                *ret = v->boolean;
        return r;
}

static int get_enum(const JsonValue *o, const char *key, const char *path, const char *const *names, size_t n,
                    unsigned *ret, LocatedError *error) {
        const JsonValue *v;
        int r = need(o, key, JV_STRING, path, &v, error);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (STREQ(names[i], v->string.chars)) {
                        *ret = (unsigned) i;
                        return 0;
                }
        return located_error_at(error, v, key, "unknown value \"%s\"", v->string.chars);
}

static int parse_schedule(const JsonValue *o, WaveSchedule *s, LocatedError *error) {
        const JsonValue *windows, *blackouts;
        char why[192], path[48];
        int r;

        if (o->type != JV_OBJECT)
                return located_error_at(error, o, "schedule", "expected an object");
        if ((r = get_string(o, "zone", "schedule", s->zone, sizeof(s->zone), true, error)) < 0 ||
            (r = need(o, "windows", JV_ARRAY, "schedule", &windows, error)) < 0 ||
            (r = need(o, "blackouts", JV_ARRAY, "schedule", &blackouts, error)) < 0)
                return r;
        if (windows->array.count > WAVE_WINDOWS_MAX || blackouts->array.count > WAVE_BLACKOUTS_MAX ||
            windows->array.count + blackouts->array.count == 0)
                return located_error_at(error, o, "schedule", "expected 0..%d windows and 0..%d blackouts, not none",
                                        WAVE_WINDOWS_MAX, WAVE_BLACKOUTS_MAX);
        for (size_t i = 0; i < windows->array.count; i++) {
                const JsonValue *v = windows->array.items[i];
                snprintf(path, sizeof(path), "schedule.windows[%zu]", i);
                if (v->type != JV_STRING || strlen(v->string.chars) != v->string.length ||
                    wave_window_parse(v->string.chars, &s->windows[i], why, sizeof(why)) < 0)
                        return located_error_at(error, v, path, "%s", v->type != JV_STRING ? "expected a string" : why);
                s->n_windows++;
        }
        for (size_t i = 0; i < blackouts->array.count; i++) {
                const JsonValue *v = blackouts->array.items[i];
                snprintf(path, sizeof(path), "schedule.blackouts[%zu]", i);
                if (v->type != JV_STRING || strlen(v->string.chars) != v->string.length ||
                    wave_blackout_parse(v->string.chars, &s->blackouts[i], why, sizeof(why)) < 0)
                        return located_error_at(error, v, path, "%s", v->type != JV_STRING ? "expected a string" : why);
                s->n_blackouts++;
        }
        return 0;
}

static bool package_field(const JsonValue *v) {
        if (v->type != JV_STRING || v->string.length == 0 || v->string.length > 256 ||
            strlen(v->string.chars) != v->string.length)
                return false;
        for (const char *c = v->string.chars; *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f)
                        return false;
        return true;
}

static int parse_approved(const JsonValue *a, Wave *w, LocatedError *error) {
        size_t allocated = 0;
        char path[48];
        int r;

        if (a->type != JV_ARRAY || a->array.count > WAVE_MAX_APPROVED)
                return located_error_at(error, a, "approved", "expected an array of at most %d packages",
                                        WAVE_MAX_APPROVED);
        w->has_approved = true;
        for (size_t i = 0; i < a->array.count; i++) {
                const JsonValue *o = a->array.items[i], *name, *arch, *version, *security;
                snprintf(path, sizeof(path), "approved[%zu]", i);
                if (o->type != JV_OBJECT || !(name = jv_object_get(o, "name")) || !(arch = jv_object_get(o, "arch")) ||
                    !(version = jv_object_get(o, "version")) || !(security = jv_object_get(o, "security")) ||
                    !package_field(name) || !package_field(arch) || !package_field(version) ||
                    security->type != JV_BOOLEAN)
                        return located_error_at(error, o, path, "expected {\"name\", \"arch\", \"version\", "
                                                "\"security\"} of a package name, architecture and version");
                if (w->n_approved > 0) {
                        const WaveApproved *last = &w->approved[w->n_approved - 1];
                        int c = strcmp(last->name, name->string.chars);
                        if (c > 0 || (c == 0 && strcmp(last->arch, arch->string.chars) >= 0))
                                return located_error_at(error, o, path, "not after the one before (sorted by name "
                                                        "and architecture, each once)");
                }
                r = approved_add(w, &allocated, name->string.chars, arch->string.chars, version->string.chars,
                                 security->boolean);
                if (r < 0)
                        return r;
        }
        return 0;
}

int wave_parse(const char *text, size_t length, Wave **ret, LocatedError *error) {
        _cleanup_(jv_freep) JsonValue *root = NULL;
        _cleanup_(wave_freep) Wave *w = calloc(1, sizeof(Wave));
        const JsonValue *nodes;
        uint64_t u;
        unsigned e = 0;
        int r;

        if (!w)
                return -ENOMEM;
        r = jv_parse_document(text, length, &root, error);
        if (r < 0)
                return r;
        if (root->type != JV_OBJECT)
                return located_error_at(error, root, "", "expected an object");
        if ((r = get_u64(root, "version", "", &u, error)) < 0)
                return r;
        if (u != 1 && u != 2 && u != 3)
                return located_error_at(error, jv_object_get(root, "version"), "version", "unsupported wave version %llu",
                                        (unsigned long long) u);
        bool v2 = jv_object_get(root, "schedule") || jv_object_get(root, "approved");
        bool v3 = jv_object_get(root, "deregistration_delay");
        if (u == 3 && !v3)
                return located_error_at(error, root, "deregistration_delay",
                                        "version 3 has a deregistration delay: it is not there");
        if (v3 && u != 3)
                return located_error_at(error, root, "deregistration_delay", "a deregistration delay needs version 3");
        if (u == 2 && !v2)
                return located_error_at(error, root, "schedule",
                                        "version 2 has a schedule or an approved set: neither is there");
        if (u == 1 && v2)
                return located_error_at(error, root, "schedule", "a schedule or an approved set needs version 2");
        if (jv_object_get(root, "deregistration_delay")) {
                if ((r = get_u64(root, "deregistration_delay", "", &w->deregistration_usec, error)) < 0)
                        return r;
                if (w->deregistration_usec == 0)
                        return located_error_at(error, jv_object_get(root, "deregistration_delay"),
                                                "deregistration_delay", "expected a delay above 0 (absent: none)");
        }
        if (jv_object_get(root, "schedule") &&
            (r = parse_schedule(jv_object_get(root, "schedule"), &w->schedule, error)) < 0)
                return r;
        if (jv_object_get(root, "approved") && (r = parse_approved(jv_object_get(root, "approved"), w, error)) < 0)
                return r;
        if ((r = get_string(root, "id", "", w->id, sizeof(w->id), true, error)) < 0 ||
            (r = get_enum(root, "status", "", status_names, _WAVE_STATUS_MAX, &e, error)) < 0)
                return r;
        w->status = (WaveStatus) e;
        if ((r = get_string(root, "reason", "", w->reason, sizeof(w->reason), false, error)) < 0 ||
            (r = get_u64(root, "max_unavailable", "", &u, error)) < 0)
                return r;
        if (u < 1 || u > WAVE_MAX_NODES)
                return located_error_at(error, jv_object_get(root, "max_unavailable"), "max_unavailable",
                                        "expected 1..%d", WAVE_MAX_NODES);
        w->max_unavailable = (unsigned) u;
        /* optional: written always, absent in waves stored before it existed */
        if (jv_object_get(root, "on_failure")) {
                if ((r = get_enum(root, "on_failure", "", on_failure_names, _WAVE_ON_FAILURE_MAX, &e, error)) < 0)
                        return r;
                w->on_failure = (WaveOnFailure) e;
        }
        if (jv_object_get(root, "max_errors")) {
                if ((r = get_u64(root, "max_errors", "", &u, error)) < 0)
                        return r;
                if (u > WAVE_MAX_NODES)
                        return located_error_at(error, jv_object_get(root, "max_errors"), "max_errors",
                                                "expected 0..%d", WAVE_MAX_NODES);
                w->max_errors = (unsigned) u;
        }
        if ((r = get_u64(root, "soak", "", &w->soak_usec, error)) < 0 ||
            (r = get_u64(root, "node_deadline", "", &w->node_deadline_usec, error)) < 0 ||
            (r = get_u64(root, "started", "", &w->started_usec, error)) < 0 ||
            (r = get_u64(root, "canaries_done", "", &w->canaries_done_usec, error)) < 0 ||
            (r = get_u64(root, "finished", "", &w->finished_usec, error)) < 0 ||
            (r = get_u64(root, "max_held", "", &u, error)) < 0)
                return r;
        w->max_held = (unsigned) MIN(u, (uint64_t) WAVE_MAX_NODES);
        if (w->deregistration_usec && w->deregistration_usec >= w->node_deadline_usec)
                return located_error_at(error, jv_object_get(root, "deregistration_delay"), "deregistration_delay",
                                        "must be shorter than node_deadline");
        if ((r = need(root, "nodes", JV_ARRAY, "", &nodes, error)) < 0)
                return r;
        if (nodes->array.count == 0 || nodes->array.count > WAVE_MAX_NODES)
                return located_error_at(error, nodes, "nodes", "expected 1..%d nodes", WAVE_MAX_NODES);
        w->nodes = calloc(nodes->array.count, sizeof(WaveNode));
        if (!w->nodes)
                return -ENOMEM;
        for (size_t i = 0; i < nodes->array.count; i++) {
                const JsonValue *o = nodes->array.items[i];
                WaveNode *n = &w->nodes[w->n_nodes++];
                char path[32];

                snprintf(path, sizeof(path), "nodes[%zu]", i);
                if (o->type != JV_OBJECT)
                        return located_error_at(error, o, path, "expected an object");
                if ((r = get_string(o, "id", path, n->id, sizeof(n->id), true, error)) < 0 ||
                    (r = get_string(o, "hostname", path, n->hostname, sizeof(n->hostname), false, error)) < 0 ||
                    (r = get_bool(o, "manager", path, &n->manager, error)) < 0 ||
                    (r = get_bool(o, "canary", path, &n->canary, error)) < 0 ||
                    (r = get_enum(o, "step", path, step_names, _NODE_STEP_MAX, &e, error)) < 0)
                        return r;
                n->step = (NodeStep) e;
                if ((r = get_u64(o, "since", path, &n->step_since_usec, error)) < 0 ||
                    (r = get_bool(o, "failed", path, &n->failed, error)) < 0 ||
                    (r = get_bool(o, "was_active", path, &n->was_active, error)) < 0 ||
                    (r = get_string(o, "message", path, n->message, sizeof(n->message), false, error)) < 0 ||
                    (r = get_string(o, "transaction", path, n->transaction, sizeof(n->transaction), false, error)) < 0)
                        return r;
                /* optional: absent before it existed, and until the drain */
                if (jv_object_get(o, "drained") && (r = get_u64(o, "drained", path, &n->drained_usec, error)) < 0)
                        return r;
                for (size_t k = 0; k + 1 < w->n_nodes; k++)
                        if (STREQ(w->nodes[k].id, n->id))
                                return located_error_at(error, o, path, "node %s is listed twice", n->id);
        }
        *ret = TAKE_PTR(w);
        return 0;
}
