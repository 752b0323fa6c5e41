/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/text.h"
#include "hostd/wave-fleetlock.h"
#include "hostd/crash-point.h"
#include "hostd/log.h"
#include "hostd/messages.h"
#include "hostd/wave-agent.h"
#include "patching/wave-node.h"

#define MAX_MANAGERS 16
#define RETRY_MIN_USEC (500 * 1000ULL)
#define RETRY_MAX_USEC (10 * 1000000ULL)
#define VERIFY_RETRY_USEC (1000000ULL)
#define PEER_TIMEOUT_SEC 60 /* above FLEETLOCK_HOLD_USEC: held answers arrive */
#define TASK_LABEL "com.docker.swarm.task.id"

/* A connection to one manager's hostd. The watch and the node's own calls
 * have one each, so that replacing one never cancels the other's request. */
typedef struct PeerConn {
        DockerClient *client;
        char address[64];
} PeerConn;

/* The posture summary's way to one manager; one request at a time. */
typedef struct PostureSend {
        struct WaveAgent *agent;
        PeerConn conn;
        bool in_flight;
        bool failed;       /* sent again by send_retry */
        bool stale;        /* changed while in flight: sent again after */
} PostureSend;

/* What the agent is waiting for; at most one at a time. */
typedef enum Busy {
        BUSY_NONE,
        BUSY_JOB,      /* a patch job (stage, apply, rollback, history) */
        BUSY_CALL,     /* pre-reboot or steady-state */
        BUSY_REBOOT,   /* asked; the reboot (or the hook) takes us down */
        BUSY_CHILD,    /* a health command or the Docker restart command runs */
        BUSY_RETRY,    /* the retry timer */
} Busy;

struct WaveAgent {
        WaveAgentHost host;
        char *record_path;
        char *approved_path;       /* the wave's approved set, kept for the node's whole turn */
        PackageSet approved;
        bool has_approved;
        WaveNodeRecord rec;
        bool record_damaged;
        char boot_id[37];

        /* the managers, from /info, and the one spoken to */
        char managers[MAX_MANAGERS][64];
        size_t n_managers, target, tried, failures;
        bool peer_leader;
        PeerConn watch_conn, call_conn;
        PostureSend posture_sends[MAX_MANAGERS];
        EventClockTimer *send_retry; /* a manager that did not take them gets them again */
        uint64_t send_backoff_usec;
        json_t *posture;           /* the last summary, also sent with wave calls */
        json_t *addresses;         /* this node's own, sent with every POST */
        uint64_t peers_digest;     /* of the peer set last answered */
        bool peers_known;
        char *key_copy;            /* the node key without PEM headers */
        char node_id[64], root_dir[256];

        /* the wave as last read from the coordinator */
        json_t *wave;
        uint64_t known_version;
        bool watch_in_flight;
        bool watch_wait;           /* the next watch long-polls */
        EventClockTimer *watch_retry;
        uint64_t watch_backoff_usec;
        /* managers refused for their certificate, by address: said once,
         * wherever they move in (or out of) Docker's list of managers */
        char rejected[MAX_MANAGERS][64];

        /* this node's Swarm task containers */
        int local_tasks;           /* -1: not known */
        bool tasks_in_flight, tasks_again;
        uint64_t last_task_event_usec;   /* Docker's time of the last task stop */
        uint64_t last_task_stopped_usec; /* CLOCK_REALTIME, by Docker's clock */

        Busy busy;
        bool asked_since_change;   /* pre-reboot refused: wait for news */
        sd_event_source *defer;
        EventClockTimer *retry_timer;
        uint64_t retry_backoff_usec;

        /* a command run (health, Docker restart), watched by its pidfd */
        pid_t child_pid;
        sd_event_source *child_io;
        void (*child_done)(struct WaveAgent *a, const siginfo_t *si);
        EventClockTimer *child_timeout; /* killed when it runs past its deadline */
        bool child_timed_out;

        /* the Docker restart for a seccomp install */
        uint64_t docker_restart_deadline_usec;
        bool docker_restart_ran;   /* by this process */

        /* verification */
        uint64_t verify_deadline_usec;
        size_t health_index;
        char health_failure[WAVE_MESSAGE_MAX];
        bool rolled_back_for_health;

        sd_bus *bus;
        uint64_t granted_usec;     /* pre-reboot answered yes (CLOCK_REALTIME) */
        char message[WAVE_MESSAGE_MAX];
};

static const HostdConfig *config(const WaveAgent *a) {
        return *a->host.config;
}

static void schedule(WaveAgent *a) {
        sd_event_source_set_enabled(a->defer, SD_EVENT_ONESHOT);
}

static void note(WaveAgent *a, const char *format, ...) _printf_(2, 3);
static void note(WaveAgent *a, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        vsnprintf(a->message, sizeof(a->message), format, ap);
        va_end(ap);
        utf8_trim_partial(a->message);
}

/* Every step is written before it is acted on. */
static int record_step(WaveAgent *a, WaveNodeStep step) {
        int r;

        a->rec.step = step;
        a->rec.updated_usec = event_clock_now(a->host.clock, CLOCK_REALTIME);
        /* messages are cut by bytes where they are made: never inside a
         * character, or the record (and the report) would not be JSON */
        utf8_trim_partial(a->rec.message);
        r = wave_node_record_save(a->record_path, &a->rec);
        if (r < 0)
                log_error_errno(r, "Cannot write %s: %m", a->record_path);
        else {
                log_struct(LOG_INFO, LOG_FIELDS("MESSAGE_ID=" MSGID_WAVE_NODE_STEP), "Wave %s: this node is %s",
                           a->rec.wave[0] ? a->rec.wave : "-", wave_node_step_to_string(step));
                char point[64];
                snprintf(point, sizeof(point), "agent-%s", wave_node_step_to_string(step));
                crash_point(point);
        }
        return r;
}

static void retry_in(WaveAgent *a, uint64_t usec) {
        event_clock_timer_set(a->retry_timer, event_clock_now(a->host.clock, CLOCK_MONOTONIC) + usec);
        a->busy = BUSY_RETRY;
}

/* Looks again then, or sooner when something happens (verification: its
 * checks mostly follow events, which kick the agent). */
static void wake_in(WaveAgent *a, uint64_t usec) {
        event_clock_timer_set(a->retry_timer, event_clock_now(a->host.clock, CLOCK_MONOTONIC) + usec);
}

/* A failure that may pass (a manager away, another patch job running). */
static void retry_later(WaveAgent *a) {
        a->retry_backoff_usec = a->retry_backoff_usec == 0 ? RETRY_MIN_USEC
                                                           : MIN(a->retry_backoff_usec * 2, RETRY_MAX_USEC);
        retry_in(a, a->retry_backoff_usec);
}

static void on_retry(void *userdata) {
        WaveAgent *a = userdata;

        if (a->busy == BUSY_RETRY)
                a->busy = BUSY_NONE;
        schedule(a);
}

/* ---- the wave as the coordinator tells it ---------------------------- */

static const json_t *my_entry(const WaveAgent *a) {
        const json_t *n;
        size_t i;

        json_array_foreach(json_object_get(a->wave, "nodes"), i, n)
                if (STREQ_PTR(json_string_value(json_object_get(n, "id")), a->node_id))
                        return n;
        return NULL;
}

static const char *wave_id(const WaveAgent *a) {
        return json_string_value(json_object_get(a->wave, "id"));
}

static const char *wave_status(const WaveAgent *a) {
        return json_string_value(json_object_get(a->wave, "status"));
}

static const char *my_step(const WaveAgent *a) {
        return json_string_value(json_object_get(my_entry(a), "step"));
}

/* ---- the peer: HTTPS to a manager's hostd ----------------------------- */

/* Connects conn to the manager at address, unless it already is. Only
 * called while conn has no request under way. */
static int peer_open_to(WaveAgent *a, PeerConn *conn, const char *address) {
        _cleanup_free_ char *key = NULL, *cert = NULL, *ca = NULL;
        char why[512];
        int r;

        if (conn->client && STREQ(conn->address, address))
                return 0;
        conn->client = docker_client_free(conn->client);
        if (a->host.open_peer) {
                r = a->host.open_peer(a->host.userdata, address, &conn->client);
                if (r < 0)
                        return r;
                snprintf(conn->address, sizeof(conn->address), "%s", address);
                return 0;
        }
        if (!a->root_dir[0])
                return -ENXIO;
        /* GnuTLS takes no PEM headers, which Swarm writes into its key */
        r = fleetlock_read_pem(a->root_dir, "swarm-node.key", &key, why, sizeof(why));
        if (r < 0) {
                note(a, "cannot read this node's Swarm key: %s", why);
                return r;
        }
        r = write_file_atomic(a->key_copy, key, strlen(key), 0600);
        explicit_bzero(key, strlen(key));
        if (r < 0) {
                note(a, "cannot write %s: %s", a->key_copy, strerror(-r));
                return r;
        }
        if (asprintf(&cert, "%s/swarm/certificates/swarm-node.crt", a->root_dir) < 0 ||
            asprintf(&ca, "%s/swarm/certificates/swarm-root-ca.crt", a->root_dir) < 0)
                return -ENOMEM;
        r = docker_client_new_https(a->host.event,
                                    &(HttpsPeer){ .host = "swarm-manager", .address = address,
                                                  .port = (uint16_t) config(a)->coordination_port,
                                                  .cert_file = cert, .key_file = a->key_copy, .ca_file = ca,
                                                  .extra_header = "fleet-lock-protocol: true" },
                                    PEER_TIMEOUT_SEC, &conn->client);
        if (r < 0)
                return r;
        snprintf(conn->address, sizeof(conn->address), "%s", address);
        return 0;
}

/* ... to the manager spoken to */
static int peer_open(WaveAgent *a, PeerConn *conn) {
        if (a->n_managers == 0)
                return -ENXIO;
        return peer_open_to(a, conn, a->managers[a->target]);
}

/* The body every node-protocol POST starts from: who speaks, and the
 * node's posture summary when there is one yet. */
static json_t *call_body(const WaveAgent *a) {
        return json_pack("{s:{s:s, s:s}, s:O*, s:O*}", "client_params", "id", a->node_id, "group",
                         config(a)->wave.group, "posture", a->posture, "addresses", a->addresses);
}

static void watch(WaveAgent *a, bool wait);
static void send_to_managers(WaveAgent *a);
static void on_send_retry(void *userdata);
static void arm_send_retry(WaveAgent *a);

static void next_manager(WaveAgent *a) {
        if (a->n_managers > 0)
                a->target = (a->target + 1) % a->n_managers;
        a->peer_leader = false;
}

static void on_watch_retry(void *userdata) {
        WaveAgent *a = userdata;

        a->watch_wait = false;
        watch(a, false);
}

/* Records address as refused; whether it was not already. */
static bool rejected_mark(WaveAgent *a, const char *address) {
        size_t free_slot = MAX_MANAGERS;

        for (size_t i = 0; i < MAX_MANAGERS; i++) {
                if (STREQ(a->rejected[i], address))
                        return false;
                if (!a->rejected[i][0] && free_slot == MAX_MANAGERS)
                        free_slot = i;
        }
        if (free_slot < MAX_MANAGERS) {
                size_t len = strnlen(address, sizeof(a->rejected[0]) - 1);
                memcpy(a->rejected[free_slot], address, len);
                a->rejected[free_slot][len] = 0;
        }
        return true;
}

static void rejected_clear(WaveAgent *a, const char *address) {
        for (size_t i = 0; i < MAX_MANAGERS; i++)
                if (STREQ(a->rejected[i], address))
                        a->rejected[i][0] = 0;
}

static void on_watch(const DockerReply *reply, void *userdata) {
        WaveAgent *a = userdata;
        const json_t *wave;
        bool leader;

        a->watch_in_flight = false;
        if (reply->error == -EKEYREJECTED && a->target < a->n_managers) {
                /* not this Swarm's manager (another cluster's CA, not the
                 * manager's name, expired): nothing of it is taken, no wave,
                 * no peer set; said once per manager, until it answers */
                if (rejected_mark(a, a->managers[a->target]))
                        log_warning("Wave: manager %s refused, nothing taken from it: its certificate is not "
                                    "one this Swarm's CA gives a manager (%s)",
                                    a->managers[a->target], reply->message);
        } else if (reply->error)
                log_debug("Wave: manager %s: %s", a->managers[a->target], reply->message);
        if (reply->error) {
                next_manager(a);
                a->watch_wait = false;
                if (++a->failures < a->n_managers) {
                        /* from the loop: a client is never freed in its own callback */
                        schedule(a);
                        return;
                }
                /* every manager failed: wait before the next round */
                a->failures = 0;
                a->watch_backoff_usec = a->watch_backoff_usec == 0 ? RETRY_MIN_USEC
                                                                   : MIN(a->watch_backoff_usec * 2, RETRY_MAX_USEC);
                event_clock_timer_set(a->watch_retry,
                                      event_clock_now(a->host.clock, CLOCK_MONOTONIC) + a->watch_backoff_usec);
                return;
        }
        a->failures = 0;
        a->watch_backoff_usec = 0;
        if (a->target < a->n_managers)
                rejected_clear(a, a->managers[a->target]);
        wave = json_object_get(reply->json, "wave");
        leader = json_is_true(json_object_get(reply->json, "leader"));
        /* the leader's set only: managers' views differ while a report
         * travels, and a worker looking for the leader asks several */
        if (leader && json_object_get(reply->json, "peers") && a->host.peers) {
                a->host.peers(a->host.userdata, json_object_get(reply->json, "peers"), a->watch_conn.address);
                a->peers_known = json_is_integer(json_object_get(reply->json, "peers_digest"));
                a->peers_digest = (uint64_t) json_integer_value(json_object_get(reply->json, "peers_digest"));
        }
        /* a manager that started since: it gets this node's addresses again */
        if (a->addresses && json_is_false(json_object_get(reply->json, "reported")))
                send_to_managers(a);
        json_decref(a->wave);
        a->wave = json_is_object(wave) ? json_incref((json_t *) wave) : NULL;
        a->known_version = (uint64_t) json_integer_value(json_object_get(reply->json, "version"));
        a->asked_since_change = false;
        a->peer_leader = leader;
        const char *hint = json_string_value(json_object_get(reply->json, "leader_address"));
        size_t hinted = a->n_managers;
        for (size_t i = 0; hint && *hint && i < a->n_managers; i++)
                if (STREQ(a->managers[i], hint))
                        hinted = i;
        if (!leader && hinted < a->n_managers && hinted != a->target && a->tried < a->n_managers) {
                /* this manager knows who leads: go there */
                a->tried++;
                a->target = hinted;
                a->peer_leader = false;
                a->watch_wait = false;
        } else if (!leader && ++a->tried < a->n_managers) {
                /* look for the leader: its answers move first */
                next_manager(a);
                a->watch_wait = false;
        } else {
                /* the leader; or none is now: wait here, then look again */
                a->tried = 0;
                a->watch_wait = true;
        }
        schedule(a);
}

static void watch(WaveAgent *a, bool wait) {
        char path[128];
        int r;

        if (a->watch_in_flight)
                return;
        r = peer_open(a, &a->watch_conn);
        if (r < 0) {
                log_debug_errno(r, "Wave: no manager to ask: %s", a->message);
                return; /* the next /info (managers known, certificates there) starts it */
        }
        if (wait && a->peers_known)
                snprintf(path, sizeof(path), "/v1/wave?wait=%" PRIu64 "&peers=%" PRIu64, a->known_version,
                         a->peers_digest);
        else if (wait)
                snprintf(path, sizeof(path), "/v1/wave?wait=%" PRIu64, a->known_version);
        else
                snprintf(path, sizeof(path), "/v1/wave");
        r = docker_call(a->watch_conn.client, "GET", path, NULL, on_watch, a);
        if (r < 0)
                log_warning_errno(r, "Wave: cannot ask manager %s: %m", a->managers[a->target]);
        else
                a->watch_in_flight = true;
}

/* ---- this node's Swarm tasks ------------------------------------------ */

static void count_tasks(WaveAgent *a);

static void on_tasks(const DockerReply *reply, void *userdata) {
        WaveAgent *a = userdata;
        int before = a->local_tasks;

        a->tasks_in_flight = false;
        if (reply->error || !json_is_array(reply->json))
                a->local_tasks = 0; /* unknown: the coordinator's store decides alone */
        else
                a->local_tasks = (int) json_array_size(reply->json);
        if (before > 0 && a->local_tasks == 0)
                a->last_task_stopped_usec = a->last_task_event_usec ? a->last_task_event_usec
                                                                    : event_clock_now(a->host.clock, CLOCK_REALTIME);
        if (a->tasks_again) {
                a->tasks_again = false;
                count_tasks(a);
        }
        schedule(a);
}

static void count_tasks(WaveAgent *a) {
        if (a->tasks_in_flight) {
                a->tasks_again = true;
                return;
        }
        /* running containers with the Swarm task label:
         * filters={"label":["com.docker.swarm.task.id"]} */
        if (docker_call(*a->host.docker, "GET", "/containers/json?filters=%7B%22label%22%3A%5B%22" TASK_LABEL "%22%5D%7D",
                        NULL, on_tasks, a) >= 0)
                a->tasks_in_flight = true;
}

/* ---- the steps -------------------------------------------------------- */

/* What must pass after patching: what passed before, Docker and the node,
 * and the installed seccomp default when this drain was to put it in force. */
static unsigned health_required(const WaveAgent *a) {
        return a->rec.baseline | NODE_HEALTH_DOCKER | NODE_HEALTH_NODE |
               (a->rec.docker_restart && a->rec.ok ? NODE_HEALTH_SECCOMP_DEFAULT : 0);
}

static unsigned health_now(WaveAgent *a, char *failed, size_t size) {
        unsigned ok = a->host.health(a->host.userdata, a->node_id);

        if (failed) {
                unsigned missing = health_required(a) & ~ok;
                snprintf(failed, size, "%s%s%s%s%s", missing & NODE_HEALTH_DOCKER ? "Docker is not up; " : "",
                         missing & NODE_HEALTH_NODE ? "the node is not an active Swarm member; " : "",
                         missing & NODE_HEALTH_FIREWALL ? "the firewall is not in place; " : "",
                         missing & NODE_HEALTH_SECCOMP ? "seccomp is not in place; " : "",
                         missing & NODE_HEALTH_SECCOMP_DEFAULT ?
                                 "dockerd's default seccomp profile is not the one hostd installed (see "
                                 "hostctl seccomp audit); " : "");
                size_t n = strlen(failed);
                if (n >= 2)
                        failed[n - 2] = '\0';
        }
        return ok;
}

/* The approved set of the wave this node's turn is in, from the stored
 * wave at the turn's start, written to STATE/wave-approved.json so that a
 * restarted hostd applies the same set:
 *   {"wave": ID, "approved": [{"name", "arch", "version", "security"}]}
 * A wave without one removes the file. */
/* The set from its JSON list (the stored wave's, or the kept file's). */
static int approved_read(WaveAgent *a, const json_t *list) {
        const json_t *p;
        size_t i;
        int r;

        package_set_done(&a->approved);
        a->has_approved = false;
        json_array_foreach(list, i, p)
                if ((r = package_set_put(&a->approved, json_string_value(json_object_get(p, "name")) ?: "",
                                         json_string_value(json_object_get(p, "arch")) ?: "",
                                         json_string_value(json_object_get(p, "version")) ?: "")) < 0)
                        return r;
        a->has_approved = true;
        return 0;
}

static int approved_take(WaveAgent *a) {
        const json_t *list = json_object_get(a->wave, "approved");
        _cleanup_free_ char *text = NULL;
        int r;

        package_set_done(&a->approved);
        a->has_approved = false;
        if (!list) {
                if (unlink(a->approved_path) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        if ((r = approved_read(a, list)) < 0)
                return r;
        json_t *doc = json_pack("{s:s, s:O}", "wave", a->rec.wave, "approved", list);
        text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        if (!text)
                return -ENOMEM;
        return write_file_atomic(a->approved_path, text, strlen(text), 0600);
}

/* After a restart inside a turn: the set written when it started. */
static int approved_load(WaveAgent *a) {
        _cleanup_free_ char *text = NULL;
        json_t *doc;
        int r = read_file(a->approved_path, 16 * 1024 * 1024, &text, NULL);

        if (r == -ENOENT)
                return 0; /* its wave had none */
        if (r < 0)
                return r;
        doc = json_loads(text, 0, NULL);
        if (!doc || !STREQ_PTR(json_string_value(json_object_get(doc, "wave")), a->rec.wave) ||
            !json_is_array(json_object_get(doc, "approved"))) {
                json_decref(doc);
                return doc ? 0 : -EBADMSG; /* another wave's: not this turn's */
        }
        r = approved_read(a, json_object_get(doc, "approved"));
        json_decref(doc);
        return r < 0 ? -EBADMSG : 0;
}

static void start_job(WaveAgent *a, PatchOp op, const char *expected_plan, const char *entry_id,
                      PatchJobDone done) {
        int r = a->host.start_patch(a->host.userdata, op, expected_plan, entry_id,
                                    a->has_approved && op != PATCH_OP_ROLLBACK ? &a->approved : NULL, done, a);

        if (r == -EBUSY) {
                /* an operator's job runs: try again once it may be over */
                retry_later(a);
                return;
        }
        if (r < 0) {
                log_warning_errno(r, "Wave: cannot start the patch %s: %m", patch_op_to_string(op));
                retry_later(a);
                return;
        }
        a->busy = BUSY_JOB;
}

static void on_staged(const json_t *result, const char *error, void *userdata) {
        WaveAgent *a = userdata;
        const json_t *plan = json_object_get(result, "plan"), *stage = json_object_get(result, "stage");

        a->busy = BUSY_NONE;
        snprintf(a->rec.plan, sizeof(a->rec.plan), "%s", json_string_value(json_object_get(plan, "id")) ?: "");
        a->rec.ok = true;
        a->rec.message[0] = '\0';
        if (error) {
                a->rec.ok = false;
                snprintf(a->rec.message, sizeof(a->rec.message), "staging failed: %s", error);
        } else if (!json_is_true(json_object_get(stage, "complete"))) {
                /* name the first package that could not be had, and why
                 * (an approved version the repositories no longer offer) */
                const json_t *p, *missing = NULL;
                size_t i;
                json_array_foreach(json_object_get(stage, "apply"), i, p)
                        if (!missing && json_string_value(json_object_get(p, "error")))
                                missing = p;
                a->rec.ok = false;
                if (missing)
                        snprintf(a->rec.message, sizeof(a->rec.message), "staging is incomplete: %s %s (%s): %s",
                                 json_string_value(json_object_get(missing, "name")) ?: "?",
                                 json_string_value(json_object_get(missing, "version")) ?: "?",
                                 json_string_value(json_object_get(missing, "arch")) ?: "?",
                                 json_string_value(json_object_get(missing, "error")));
                else
                        snprintf(a->rec.message, sizeof(a->rec.message),
                                 "staging is incomplete: a package could not be had");
                utf8_trim_partial(a->rec.message);
        }
        record_step(a, AGENT_STAGED);
        schedule(a);
}

static void on_report_answer(const DockerReply *reply, void *userdata) {
        WaveAgent *a = userdata;

        a->busy = BUSY_NONE;
        if (reply->error && reply->status != 409) {
                log_warning("Wave %s: cannot report to manager %s: %s", a->rec.wave, a->managers[a->target],
                            reply->message);
                next_manager(a);
                retry_later(a);
                return;
        }
        if (reply->error)
                /* the coordinator failed us already (deadline): it knows */
                log_warning("Wave %s: the coordinator did not take the report: %s", a->rec.wave, reply->message);
        log_struct(LOG_NOTICE, LOG_FIELDS("MESSAGE_ID=" MSGID_WAVE_NODE_REPORTED),
                   "Wave %s: reported %s%s, %s: %s", a->rec.wave, a->rec.ok ? "patched" : "failed",
                   a->rec.ok ? "" : " and rolled back", a->rec.healthy ? "healthy" : "not healthy", a->rec.message);
        a->retry_backoff_usec = 0;
        record_step(a, AGENT_IDLE);
        schedule(a);
}

static void report(WaveAgent *a) {
        json_t *body;
        int r;

        r = peer_open(a, &a->call_conn);
        if (r < 0) {
                retry_later(a);
                return;
        }
        body = call_body(a);
        if (body && json_object_set_new(body, "wave",
                                        json_pack("{s:s, s:b, s:b, s:s, s:s}", "id", a->rec.wave, "ok", a->rec.ok,
                                                  "healthy", a->rec.healthy,
                                                  "message", a->rec.message, "transaction", a->rec.transaction)) < 0) {
                json_decref(body);
                body = NULL;
        }
        if (!body) {
                retry_later(a);
                return;
        }
        r = docker_call(a->call_conn.client, "POST", "/v1/steady-state", body, on_report_answer, a);
        json_decref(body);
        if (r < 0) {
                retry_later(a);
                return;
        }
        a->busy = BUSY_CALL;
}

static void verify(WaveAgent *a);

static void on_rolled_back(const json_t *result, const char *error, void *userdata) {
        WaveAgent *a = userdata;
        const json_t *entry = json_object_get(result, "entry");

        a->busy = BUSY_NONE;
        a->rec.ok = false;
        if (error)
                text_append(a->rec.message, sizeof(a->rec.message), "; ", "the rollback failed: %s", error);
        else
                text_append(a->rec.message, sizeof(a->rec.message), "; ", "rolled back (%s)",
                            json_string_value(json_object_get(entry, "state")) ?: "?");
        a->rolled_back_for_health = true;
        a->verify_deadline_usec = 0;
        record_step(a, AGENT_VERIFYING);
        schedule(a);
}

/* roll_back: the failure may come from the patches (not only from the
 * seccomp default, which a rollback of packages does not change) */
static void verify_done(WaveAgent *a, bool healthy, const char *why_in, bool roll_back) {
        char why[WAVE_MESSAGE_MAX];

        /* why may be rec.message itself, which is written below */
        snprintf(why, sizeof(why), "%s", why_in);
        a->verify_deadline_usec = 0;
        if (!healthy && roll_back && a->rec.ok && !a->rolled_back_for_health) {
                /* patched, but not healthy: go back, then check again */
                a->rec.message[0] = '\0';
                text_append(a->rec.message, sizeof(a->rec.message), NULL, "health check failed after patching: %s",
                            why);
                log_warning("Wave %s: %s; rolling back %s", a->rec.wave, a->rec.message, a->rec.transaction);
                /* still "ok" until rolled back: a restart here checks and
                 * rolls back again */
                record_step(a, AGENT_VERIFYING);
                start_job(a, PATCH_OP_ROLLBACK, NULL, a->rec.transaction[0] ? a->rec.transaction : NULL,
                          on_rolled_back);
                return;
        }
        a->rec.healthy = healthy;
        if (!healthy)
                text_append(a->rec.message, sizeof(a->rec.message), "; ", "not healthy: %s", why);
        record_step(a, AGENT_REPORTING);
        schedule(a);
}

static void run_health_command(WaveAgent *a);

/* In a child: runs argv with no input or output and the signals hostd
 * blocks unblocked; detached (its own session) when asked. */
_noreturn_ static void exec_command(char *const *argv, bool detach) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (detach)
                setsid();
        else
                setpgid(0, 0); /* its own group: a timeout kills what it started too */
        if (null >= 0) {
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
        }
        execv(argv[0], argv);
        _exit(127);
}

static int on_child_exit(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        WaveAgent *a = userdata;
        siginfo_t si = {};

        if (waitid(P_PID, a->child_pid, &si, WEXITED) < 0)
                si.si_code = 0;
        a->child_io = sd_event_source_disable_unref(a->child_io);
        a->child_pid = 0;
        a->busy = BUSY_NONE;
        event_clock_timer_off(a->child_timeout);
        a->child_done(a, &si);
        return 0;
}

static void on_child_timeout(void *userdata) {
        WaveAgent *a = userdata;

        /* its exit (SIGKILL) is read by on_child_exit, as any other */
        if (a->child_pid > 0) {
                a->child_timed_out = true;
                kill(-a->child_pid, SIGKILL);
                kill(a->child_pid, SIGKILL);
        }
}

/* Runs argv with no input or output; done(si) when it exits, or once it
 * has been killed at deadline_usec (CLOCK_MONOTONIC; child_timed_out). */
static int start_child(WaveAgent *a, char *const *argv, uint64_t deadline_usec,
                       void (*done)(WaveAgent *a, const siginfo_t *si)) {
        int pidfd;
        pid_t pid;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                exec_command(argv, false);
        (void) setpgid(pid, pid); /* as the child does: whichever comes first */
        pidfd = pidfd_open(pid, 0);
        if (pidfd < 0 || sd_event_add_io(a->host.event, &a->child_io, pidfd, EPOLLIN, on_child_exit, a) < 0) {
                if (pidfd >= 0)
                        close(pidfd);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return -EIO;
        }
        sd_event_source_set_io_fd_own(a->child_io, true);
        a->child_pid = pid;
        a->child_done = done;
        a->child_timed_out = false;
        event_clock_timer_set(a->child_timeout, deadline_usec);
        a->busy = BUSY_CHILD;
        return 0;
}

static void child_failure(const WaveAgent *a, const siginfo_t *si, char *const *argv, char *buf, size_t size) {
        if (a->child_timed_out)
                snprintf(buf, size, "%s did not finish in time and was killed", argv[0]);
        else
                snprintf(buf, size, "%s %s %d", argv[0],
                         si->si_code == CLD_EXITED ? "exited with" : "was killed by signal", si->si_status);
}

static void on_health_exit(WaveAgent *a, const siginfo_t *si) {
        char *const *argv = config(a)->wave.health_commands[a->health_index];

        if (si->si_code != CLD_EXITED || si->si_status != 0) {
                child_failure(a, si, argv, a->health_failure, sizeof(a->health_failure));
                /* it may pass later (services still starting): until the deadline */
                a->health_index = 0;
                retry_in(a, VERIFY_RETRY_USEC);
                return;
        }
        a->health_index++;
        run_health_command(a);
}

static void run_health_command(WaveAgent *a) {
        char **argv = config(a)->wave.health_commands[a->health_index];

        if (!argv) {
                verify_done(a, true, "", false);
                return;
        }
        /* a command that hangs is killed when the checks' time is up */
        if (start_child(a, argv, MAX(a->verify_deadline_usec, event_clock_now(a->host.clock, CLOCK_MONOTONIC) + 1000000ULL),
                        on_health_exit) < 0)
                verify_done(a, false, "cannot start a health command", true);
}

static void verify(WaveAgent *a) {
        uint64_t now = event_clock_now(a->host.clock, CLOCK_MONOTONIC);
        char failed[WAVE_MESSAGE_MAX];
        unsigned required = health_required(a), missing;

        if (a->verify_deadline_usec == 0)
                a->verify_deadline_usec = now + (uint64_t) config(a)->wave.health_timeout_sec * 1000000ULL;
        missing = required & ~health_now(a, failed, sizeof(failed));
        if (missing) {
                if (now >= a->verify_deadline_usec) {
                        verify_done(a, false, failed, (missing & ~NODE_HEALTH_SECCOMP_DEFAULT) != 0);
                        return;
                }
                snprintf(a->health_failure, sizeof(a->health_failure), "%s", failed);
                /* most checks move with events (Docker, firewall), which
                 * kick the agent; this catches the rest */
                wake_in(a, VERIFY_RETRY_USEC);
                return;
        }
        if (a->health_failure[0] && now >= a->verify_deadline_usec) {
                verify_done(a, false, a->health_failure, true);
                return;
        }
        a->health_index = 0;
        a->health_failure[0] = '\0';
        run_health_command(a);
}

static void reboot_now(WaveAgent *a);

static void on_docker_restart_exit(WaveAgent *a, const siginfo_t *si) {
        char failed[WAVE_MESSAGE_MAX];

        if (si->si_code != CLD_EXITED || si->si_status != 0) {
                char why[WAVE_MESSAGE_MAX + 64];

                child_failure(a, si, config(a)->wave.docker_restart_command, failed, sizeof(failed));
                snprintf(why, sizeof(why), "cannot restart Docker for the seccomp install: %s", failed);
                utf8_trim_partial(why);
                log_error("Wave %s: %s", a->rec.wave, why);
                /* the packages are not why: the node stays drained, the wave halts */
                verify_done(a, false, why, false);
                return;
        }
        schedule(a); /* dockerd's return (its events stream) moves on */
}

static void restart_docker(WaveAgent *a) {
        char *const *argv = config(a)->wave.docker_restart_command;
        char f_wave[96];

        snprintf(f_wave, sizeof(f_wave), "HOSTD_WAVE=%s", a->rec.wave);
        a->docker_restart_ran = true;
        if (start_child(a, argv, a->docker_restart_deadline_usec, on_docker_restart_exit) < 0) {
                verify_done(a, false, "cannot start the Docker restart command", false);
                return;
        }
        change_record(a->host.changes, LOG_NOTICE, CHANGE_DOCKER_RESTART, LOG_FIELDS(f_wave, "HOSTD_SUBSYSTEM=seccomp"),
                      "Wave %s: restarting Docker while the node is drained, so that the installed seccomp "
                      "profile is its default (%s)", a->rec.wave, argv[0]);
}

/* No Docker restart after all: the install waits for the next drain or
 * reboot, and the verify does not ask for it. */
static void docker_restart_skip(WaveAgent *a, const char *why) {
        log_warning("Wave %s: Docker is not restarted: %s; the seccomp install waits for the next drain or reboot",
                    a->rec.wave, why);
        a->rec.docker_restart = false;
        record_step(a, AGENT_VERIFYING);
        schedule(a);
}

/* The Docker restart step: done once the dockerd that answers started
 * after the install. A hostd restarted in this step restarts dockerd again
 * only if the one running is still the old one. */
static void docker_restart_step(WaveAgent *a) {
        uint64_t now = event_clock_now(a->host.clock, CLOCK_MONOTONIC);
        int pending = a->host.seccomp_restart_pending(a->host.userdata);
        bool up = health_now(a, NULL, 0) & NODE_HEALTH_DOCKER;

        if (pending == 0 && up) {
                log_notice("Wave %s: dockerd started after the seccomp install; verifying its default profile",
                           a->rec.wave);
                text_append(a->rec.message, sizeof(a->rec.message), "; ", "%s",
                            a->docker_restart_ran ? "Docker restarted for the seccomp install" :
                                                    "dockerd had restarted since the seccomp install");
                record_step(a, AGENT_VERIFYING);
                schedule(a);
                return;
        }
        if (a->docker_restart_deadline_usec == 0)
                a->docker_restart_deadline_usec = now + (uint64_t) config(a)->wave.health_timeout_sec * 1000000ULL;
        if (pending > 0 && !a->docker_restart_ran) {
                const char *step = my_step(a);

                /* only while the wave holds this node drained: a hostd
                 * restarted in this step may find it reactivated (a missed
                 * deadline, an aborted wave) */
                if (!a->wave)
                        return; /* the watch's answer moves on */
                if (!step || !STREQ(step, "patching")) {
                        char why[WAVE_MESSAGE_MAX];
                        snprintf(why, sizeof(why), "the wave no longer holds this node drained (%s)",
                                 step ? step : "not in the wave");
                        docker_restart_skip(a, why);
                        return;
                }
                if (!config(a)->wave.docker_restart_command[0]) {
                        docker_restart_skip(a, "wave.docker-restart-command is empty");
                        return;
                }
                restart_docker(a);
                return;
        }
        if (now >= a->docker_restart_deadline_usec) {
                char why[WAVE_MESSAGE_MAX];
                unsigned s = config(a)->wave.health_timeout_sec;

                if (!up)
                        snprintf(why, sizeof(why), "Docker did not answer within %u s%s", s,
                                 a->docker_restart_ran ? " of its restart" : "");
                else if (pending > 0)
                        snprintf(why, sizeof(why), "the dockerd that answers started before the seccomp install "
                                 "(%u s after its restart)", s);
                else
                        snprintf(why, sizeof(why), "cannot tell when dockerd started: the process behind the socket "
                                 "is not dockerd, and " DOCKERD_PIDFILE " names none");
                log_error("Wave %s: %s", a->rec.wave, why);
                verify_done(a, false, why, false);
                return;
        }
        wake_in(a, a->docker_restart_deadline_usec - now);
}

/* Applied: reboot if the root says so (which restarts Docker too), else
 * restart Docker when a seccomp install waits for it, else verify. */
static void after_apply(WaveAgent *a, const json_t *reboot) {
        if (json_is_true(json_object_get(reboot, "required"))) {
                snprintf(a->rec.boot_id, sizeof(a->rec.boot_id), "%s", a->boot_id);
                log_notice("Wave %s: a reboot is required: %s", a->rec.wave,
                           json_string_value(json_object_get(reboot, "reasons")) ?: "");
                if (record_step(a, AGENT_REBOOTING) >= 0)
                        reboot_now(a);
                return;
        }
        if (a->rec.docker_restart && !config(a)->wave.docker_restart_command[0]) {
                log_notice("Wave %s: the seccomp install waits for the next reboot (wave.docker-restart-command "
                           "is empty)", a->rec.wave);
                a->rec.docker_restart = false;
        }
        if (a->rec.docker_restart) {
                a->docker_restart_deadline_usec = 0;
                a->docker_restart_ran = false;
                if (record_step(a, AGENT_DOCKER_RESTART) >= 0)
                        schedule(a);
                return;
        }
        record_step(a, AGENT_VERIFYING);
        schedule(a);
}

static void on_applied(const json_t *result, const char *error, void *userdata) {
        WaveAgent *a = userdata;
        const json_t *entry = json_object_get(result, "entry"), *reboot = json_object_get(result, "reboot");
        const char *state = json_string_value(json_object_get(entry, "state"));

        a->busy = BUSY_NONE;
        snprintf(a->rec.transaction, sizeof(a->rec.transaction), "%s",
                 json_string_value(json_object_get(entry, "id")) ?: "");
        if (error || (state && !STREQ(state, "applied"))) {
                a->rec.ok = false;
                snprintf(a->rec.message, sizeof(a->rec.message), "%s", error ? error : state);
                record_step(a, AGENT_VERIFYING);
                schedule(a);
                return;
        }
        a->rec.ok = true;
        if (entry && !json_is_null(entry))
                snprintf(a->rec.message, sizeof(a->rec.message), "%s",
                         json_string_value(json_object_get(entry, "message")) ?: "applied");
        else
                snprintf(a->rec.message, sizeof(a->rec.message), "nothing to apply");
        after_apply(a, reboot);
}

static void apply(WaveAgent *a) {
        char failed[WAVE_MESSAGE_MAX];

        /* what passes now must pass afterwards */
        a->rec.baseline = health_now(a, failed, sizeof(failed));
        /* a seccomp install waiting for dockerd's restart: now is when
         * Docker may restart (the node is drained) */
        a->rec.docker_restart = a->host.seccomp_restart_pending(a->host.userdata) > 0;
        a->rec.transaction[0] = '\0';
        a->rolled_back_for_health = false;
        if (!a->rec.ok) {
                /* staging failed: nothing is applied; the report says why */
                record_step(a, AGENT_VERIFYING);
                schedule(a);
                return;
        }
        if (record_step(a, AGENT_APPLYING) < 0)
                return;
        start_job(a, PATCH_OP_APPLY, a->rec.plan, NULL, on_applied);
}

static void on_grant(const DockerReply *reply, void *userdata) {
        WaveAgent *a = userdata;

        a->busy = BUSY_NONE;
        if (reply->error) {
                if (reply->status == 409)
                        a->asked_since_change = true; /* not yet: ask again when something moves */
                else {
                        log_warning("Wave %s: cannot ask manager %s: %s", a->rec.wave, a->managers[a->target],
                                    reply->message);
                        next_manager(a);
                        retry_later(a);
                }
                schedule(a);
                return;
        }
        a->granted_usec = event_clock_now(a->host.clock, CLOCK_REALTIME);
        if (a->last_task_stopped_usec && a->granted_usec >= a->last_task_stopped_usec)
                log_struct(LOG_INFO, LOG_FIELDS("MESSAGE_ID=" MSGID_WAVE_NODE_STEP),
                           "Wave %s: allowed to patch %.0f ms after this node's last task stopped", a->rec.wave,
                           (double) (a->granted_usec - a->last_task_stopped_usec) / 1000.0);
        apply(a);
}

static void ask(WaveAgent *a) {
        json_t *body;
        int r;

        if (a->rec.step != AGENT_WAITING && record_step(a, AGENT_WAITING) < 0)
                return;
        r = peer_open(a, &a->call_conn);
        if (r < 0) {
                retry_later(a);
                return;
        }
        body = call_body(a);
        log_info("Wave %s: asking manager %s (%s) for this node's turn", a->rec.wave, a->managers[a->target],
                 a->peer_leader ? "the leader" : "no leader known");
        r = body ? docker_call(a->call_conn.client, "POST", "/v1/pre-reboot", body, on_grant, a) : -ENOMEM;
        json_decref(body);
        if (r < 0) {
                retry_later(a);
                return;
        }
        a->busy = BUSY_CALL;
}

static void on_reboot_reply(sd_bus_message *m, void *userdata) {
        WaveAgent *a = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (!e)
                return; /* going down */
        a->busy = BUSY_NONE;
        snprintf(a->rec.message, sizeof(a->rec.message), "patched, but logind refused the reboot: %s",
                 e->message ? e->message : e->name);
        log_error("Wave %s: %s", a->rec.wave, a->rec.message);
        /* not rebooted: the new packages are not all in use; go back */
        a->rolled_back_for_health = false;
        verify_done(a, false, a->rec.message, true);
}

static int on_reboot_reply_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error _unused_) {
        on_reboot_reply(m, userdata);
        return 0;
}

static void reboot_now(WaveAgent *a) {
        char *const *argv = config(a)->wave.reboot_command;
        char f_wave[96];
        int r;

        snprintf(f_wave, sizeof(f_wave), "HOSTD_WAVE=%s", a->rec.wave);
        change_record(a->host.changes, LOG_NOTICE, CHANGE_NODE_REBOOT, LOG_FIELDS(f_wave), "Wave %s: rebooting (%s)",
                      a->rec.wave, argv[0] ? argv[0] : "logind");
        a->busy = BUSY_REBOOT;
        if (argv[0]) {
                /* detached: the command may stop hostd itself */
                pid_t pid = fork();
                if (pid == 0) {
                        if (fork() == 0)
                                exec_command(argv, true);
                        _exit(0);
                }
                if (pid > 0)
                        waitpid(pid, NULL, 0);
                return;
        }
        if (!a->bus) {
                r = sd_bus_open_system(&a->bus);
                if (r >= 0)
                        r = sd_bus_attach_event(a->bus, a->host.event, 0);
                if (r < 0) {
                        a->bus = sd_bus_flush_close_unref(a->bus);
                        a->busy = BUSY_NONE;
                        snprintf(a->rec.message, sizeof(a->rec.message),
                                 "patched, but the system bus cannot be reached to reboot: %s", strerror(-r));
                        verify_done(a, false, a->rec.message, true);
                        return;
                }
        }
        r = sd_bus_call_method_async(a->bus, NULL, "org.freedesktop.login1", "/org/freedesktop/login1",
                                     "org.freedesktop.login1.Manager", "Reboot", on_reboot_reply_cb, a, "b", 0);
        if (r < 0) {
                a->busy = BUSY_NONE;
                snprintf(a->rec.message, sizeof(a->rec.message), "patched, but cannot ask logind to reboot: %s",
                         strerror(-r));
                verify_done(a, false, a->rec.message, true);
        }
}

static void on_history(const json_t *result, const char *error, void *userdata) {
        WaveAgent *a = userdata;
        const json_t *e, *found = NULL;
        size_t i;

        a->busy = BUSY_NONE;
        if (error) {
                log_warning("Wave %s: cannot read the patch journal: %s", a->rec.wave, error);
                retry_later(a);
                return;
        }
        /* the transaction started for this plan after the step was written */
        json_array_foreach(json_object_get(result, "entries"), i, e) {
                json_int_t started = json_integer_value(json_object_get(e, "started"));
                if (STREQ_PTR(json_string_value(json_object_get(e, "plan")), a->rec.plan) &&
                    (uint64_t) started >= a->rec.updated_usec &&
                    (!found || started > json_integer_value(json_object_get(found, "started"))))
                        found = e;
        }
        if (!found) {
                log_notice("Wave %s: the apply had not started when hostd stopped; applying now", a->rec.wave);
                start_job(a, PATCH_OP_APPLY, a->rec.plan, NULL, on_applied);
                return;
        }
        const char *state = json_string_value(json_object_get(found, "state"));
        snprintf(a->rec.transaction, sizeof(a->rec.transaction), "%s",
                 json_string_value(json_object_get(found, "id")) ?: "");
        log_notice("Wave %s: transaction %s was %s when hostd stopped", a->rec.wave, a->rec.transaction, state);
        /* the hostd that started it died before recording how it ended */
        if (state && (STREQ(state, "applied") || STREQ(state, "rolled-back") || STREQ(state, "failed"))) {
                char f_tx[160], f_plan[160], f_wave[96];

                snprintf(f_tx, sizeof(f_tx), "HOSTD_TRANSACTION=%s", a->rec.transaction);
                snprintf(f_plan, sizeof(f_plan), "HOSTD_PLAN=%s", a->rec.plan);
                snprintf(f_wave, sizeof(f_wave), "HOSTD_WAVE=%s", a->rec.wave);
                change_record(a->host.changes, STREQ(state, "applied") ? LOG_NOTICE : LOG_ERR,
                              STREQ(state, "applied")       ? CHANGE_PATCH_APPLY :
                              STREQ(state, "rolled-back") ? CHANGE_PATCH_ROLLBACK :
                                                            CHANGE_PATCH_FAILED,
                              LOG_FIELDS(f_tx, f_plan, f_wave, "HOSTD_REASON=read from the patch journal after a restart"),
                              "Patch transaction %s %s: %s (read from the patch journal after hostd restarted)",
                              a->rec.transaction, state, json_string_value(json_object_get(found, "message")) ?: "");
        }
        if (state && STREQ(state, "applied")) {
                a->rec.ok = true;
                snprintf(a->rec.message, sizeof(a->rec.message), "%s",
                         json_string_value(json_object_get(found, "message")) ?: "applied");
                after_apply(a, json_object_get(result, "reboot"));
                return;
        }
        a->rec.ok = false;
        snprintf(a->rec.message, sizeof(a->rec.message), "transaction %s %s: %s", a->rec.transaction, state ?: "?",
                 json_string_value(json_object_get(found, "message")) ?: "");
        if (state && (STREQ(state, "applying") || STREQ(state, "rolling-back"))) {
                /* interrupted part-way: back to the recorded set */
                start_job(a, PATCH_OP_ROLLBACK, NULL, a->rec.transaction, on_rolled_back);
                return;
        }
        record_step(a, AGENT_VERIFYING);
        schedule(a);
}

/* Decides the next thing to do; runs from the loop whenever anything
 * changed. */
static int on_defer(sd_event_source *s _unused_, void *userdata) {
        WaveAgent *a = userdata;
        const char *step, *status, *id;

        /* the managers serve the node protocol on the port this node is
         * configured with; 0 serves and uses none */
        if (a->record_damaged || !config(a)->wave.agent || !a->node_id[0] ||
            config(a)->coordination_port == 0)
                return 0;
        if (!event_clock_timer_armed(a->watch_retry))
                watch(a, a->watch_wait);
        if (a->busy != BUSY_NONE)
                return 0;
        id = wave_id(a);
        status = wave_status(a);
        step = my_step(a);

        switch (a->rec.step) {
        case AGENT_IDLE:
                /* a wave names this node and it has not done it yet */
                if (id && status && STREQ(status, "running") && step &&
                    (STREQ(step, "pending") || STREQ(step, "draining") || STREQ(step, "patching")) &&
                    !STREQ(id, a->rec.wave)) {
                        a->rec = (WaveNodeRecord){ .step = AGENT_IDLE };
                        snprintf(a->rec.wave, sizeof(a->rec.wave), "%s", id);
                        a->last_task_stopped_usec = a->last_task_event_usec = 0;
                        log_info("Wave %s names this node: staging its patches", id);
                        int r = approved_take(a);
                        if (r < 0) {
                                log_error_errno(r, "Wave %s: cannot keep its approved set in %s: %m", id,
                                                a->approved_path);
                                a->rec.wave[0] = '\0'; /* not started: the next look starts it again */
                                retry_later(a);
                                return 0;
                        }
                        if (a->has_approved)
                                log_info("Wave %s: within its approved set of %zu package(s)", id, a->approved.n);
                        start_job(a, PATCH_OP_STAGE, NULL, NULL, on_staged);
                        if (a->busy != BUSY_JOB)
                                a->rec.wave[0] = '\0'; /* busy, or could not start: again on the retry */
                }
                return 0;
        default:
                break;
        }

        /* the node's calls go to the leader, whose answers move first (a
         * report to another manager is stored too, but the leader learns of
         * it only when it next reads the Swarm): while the managers are
         * still being asked which one leads, wait for the answer */
        if (!a->peer_leader && !a->watch_wait && a->watch_in_flight &&
            (a->rec.step == AGENT_STAGED || a->rec.step == AGENT_WAITING || a->rec.step == AGENT_REPORTING))
                return 0;

        switch (a->rec.step) {
        case AGENT_STAGED:
        case AGENT_WAITING:
                if (!id || !STREQ(id, a->rec.wave) || !step || STREQ(step, "done") || STREQ(step, "failed") ||
                    STREQ(step, "activating")) {
                        if (a->wave || (id && !STREQ(id, a->rec.wave))) {
                                log_notice("Wave %s no longer needs this node (%s)", a->rec.wave,
                                           id && STREQ(id, a->rec.wave) ? step ?: "gone" : "another wave");
                                record_step(a, AGENT_IDLE);
                                schedule(a);
                        }
                        return 0;
                }
                if (STREQ(step, "pending") || a->asked_since_change)
                        return 0;
                /* draining: ask once its own tasks have stopped (the
                 * coordinator holds the question until the store agrees) */
                if (STREQ(step, "draining") && a->local_tasks != 0) {
                        if (a->local_tasks < 0)
                                count_tasks(a);
                        return 0; /* container events count again */
                }
                ask(a);
                return 0;
        case AGENT_APPLYING:
                /* only after a restart: how did the transaction end? */
                start_job(a, PATCH_OP_HISTORY, NULL, NULL, on_history);
                return 0;
        case AGENT_REBOOTING:
                if (!STREQ(a->boot_id, a->rec.boot_id)) {
                        log_notice("Wave %s: rebooted; verifying", a->rec.wave);
                        record_step(a, AGENT_VERIFYING);
                        schedule(a);
                } else
                        reboot_now(a); /* the reboot did not happen */
                return 0;
        case AGENT_DOCKER_RESTART:
                docker_restart_step(a);
                return 0;
        case AGENT_VERIFYING:
                verify(a);
                return 0;
        case AGENT_REPORTING:
                report(a);
                return 0;
        default:
                return 0;
        }
}

static int read_boot_id(const char *path, char *buf, size_t size) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0;
        int r = read_file(path, 4096, &text, &n);

        if (r < 0)
                return r;
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
                text[--n] = '\0';
        if (n == 0 || n >= size)
                return -EINVAL;
        memcpy(buf, text, n + 1);
        return 0;
}

int wave_agent_new(const WaveAgentHost *host, WaveAgent **ret) {
        _cleanup_(wave_agent_freep) WaveAgent *a = calloc(1, sizeof(WaveAgent));
        LocatedError e = {};
        char where[600];
        int r;

        if (!a)
                return -ENOMEM;
        a->host = *host;
        a->local_tasks = -1;
        if (asprintf(&a->record_path, "%s/wave-node.json", config(a)->state_directory) < 0 ||
            asprintf(&a->approved_path, "%s/wave-approved.json", config(a)->state_directory) < 0)
                return -ENOMEM;
        /* named after the socket: two hostds sharing a runtime directory
         * (tests) never overwrite each other's copy */
        if (asprintf(&a->key_copy, "%s.node-key", host->control_socket) < 0)
                return -ENOMEM;
        r = read_boot_id(config(a)->wave.boot_id_file, a->boot_id, sizeof(a->boot_id));
        if (r < 0)
                log_warning_errno(r, "Cannot read the boot ID from %s: %m", config(a)->wave.boot_id_file);
        r = wave_node_record_load(a->record_path, &a->rec, &e);
        if (r < 0) {
                located_error_format(&e, a->record_path, where, sizeof(where));
                log_error("The wave record is damaged; this node takes no part in waves until it is repaired or "
                          "removed: %s",
                          where);
                a->record_damaged = true;
        } else if (a->rec.step != AGENT_IDLE) {
                log_notice("Wave %s: resuming this node at step %s", a->rec.wave, wave_node_step_to_string(a->rec.step));
                if ((r = approved_load(a)) < 0) {
                        log_error_errno(r, "The wave's approved set in %s cannot be read; this node takes no part in "
                                        "waves until it is repaired or removed: %m", a->approved_path);
                        a->record_damaged = true;
                }
        }
        if ((r = sd_event_add_defer(host->event, &a->defer, on_defer, a)) < 0 ||
            (r = event_clock_timer_new(host->clock, 1000, on_retry, a, &a->retry_timer)) < 0 ||
            (r = event_clock_timer_new(host->clock, 1000, on_watch_retry, a, &a->watch_retry)) < 0 ||
            (r = event_clock_timer_new(host->clock, 1000, on_send_retry, a, &a->send_retry)) < 0 ||
            (r = event_clock_timer_new(host->clock, 1000, on_child_timeout, a, &a->child_timeout)) < 0)
                return r;
        sd_event_source_set_enabled(a->defer, SD_EVENT_OFF);
        *ret = TAKE_PTR(a);
        return 0;
}

WaveAgent *wave_agent_free(WaveAgent *a) {
        if (!a)
                return NULL;
        if (a->child_pid > 0) {
                /* with what it started: its own process group */
                kill(-a->child_pid, SIGKILL);
                kill(a->child_pid, SIGKILL);
                waitpid(a->child_pid, NULL, 0);
        }
        /* its calls on the daemon's client (the task count) die with it */
        docker_cancel(*a->host.docker, a);
        sd_event_source_disable_unref(a->child_io);
        sd_event_source_disable_unref(a->defer);
        event_clock_timer_free(a->retry_timer);
        event_clock_timer_free(a->child_timeout);
        event_clock_timer_free(a->watch_retry);
        event_clock_timer_free(a->send_retry);
        docker_client_free(a->watch_conn.client);
        docker_client_free(a->call_conn.client);
        for (size_t i = 0; i < MAX_MANAGERS; i++)
                docker_client_free(a->posture_sends[i].conn.client);
        json_decref(a->posture);
        json_decref(a->addresses);
        sd_bus_flush_close_unref(a->bus);
        json_decref(a->wave);
        free(a->record_path);
        free(a->approved_path);
        package_set_done(&a->approved);
        free(a->key_copy);
        free(a);
        return NULL;
}

static void on_posture_sent(const DockerReply *reply, void *userdata) {
        PostureSend *p = userdata;
        WaveAgent *a = p->agent;

        p->in_flight = false;
        p->failed = reply->error != 0 || p->stale;
        if (!reply->error) {
                a->send_backoff_usec = 0;
                if (p->stale) {
                        /* from the loop: a client is never reused in its own callback */
                        p->stale = false;
                        event_clock_timer_set(a->send_retry, event_clock_now(a->host.clock, CLOCK_MONOTONIC));
                }
                return;
        }
        /* a manager whose hostd is not serving yet (they all start at
         * once) or restarting: its peer set needs this node's addresses */
        log_debug("Posture summary and addresses not taken by manager %s: %s", p->conn.address, reply->message);
        arm_send_retry(a);
}

static void arm_send_retry(WaveAgent *a) {
        if (event_clock_timer_armed(a->send_retry))
                return;
        a->send_backoff_usec = a->send_backoff_usec == 0 ? RETRY_MIN_USEC : MIN(a->send_backoff_usec * 2, RETRY_MAX_USEC);
        event_clock_timer_set(a->send_retry, event_clock_now(a->host.clock, CLOCK_MONOTONIC) + a->send_backoff_usec);
}

void wave_agent_send_posture(WaveAgent *a, const json_t *summary) {
        json_decref(a->posture);
        a->posture = json_incref((json_t *) summary);
        send_to_managers(a);
}

void wave_agent_set_addresses(WaveAgent *a, const json_t *addresses) {
        if (json_equal(a->addresses, addresses))
                return;
        json_decref(a->addresses);
        a->addresses = json_incref((json_t *) addresses);
        send_to_managers(a);
}

/* The posture summary and addresses, to every manager: each keeps the
 * whole cluster's view, and makes its peer set. */
static void send_to(WaveAgent *a, bool only_failed) {
        _cleanup_(json_decrefp) json_t *body = NULL;

        if (!a->node_id[0] || (!a->posture && !a->addresses))
                return;
        body = call_body(a);
        if (!body)
                return;
        for (size_t i = 0; i < a->n_managers; i++) {
                PostureSend *p = &a->posture_sends[i];

                p->agent = a;
                if (p->in_flight) {
                        p->stale = p->stale || !only_failed;
                        continue;
                }
                if (only_failed && !p->failed)
                        continue;
                if (peer_open_to(a, &p->conn, a->managers[i]) < 0) {
                        p->failed = true;
                        arm_send_retry(a);
                        continue;
                }
                if (docker_call(p->conn.client, "POST", "/v1/posture", body, on_posture_sent, p) >= 0)
                        p->in_flight = true;
                else {
                        p->failed = true;
                        arm_send_retry(a);
                }
        }
}

static void send_to_managers(WaveAgent *a) {
        send_to(a, false);
}

static void on_send_retry(void *userdata) {
        send_to(userdata, true);
}

void wave_agent_swarm_changed(WaveAgent *a, const json_t *info, const DockerSwarmInfo *swarm) {
        _cleanup_free_ Cidr *addresses = NULL;
        char list[MAX_MANAGERS][64] = {};
        size_t n = 0;
        bool same;
        int k = docker_info_manager_addresses(info, &addresses);

        /* bare addresses, as the managers name the leader's */
        for (int i = 0; i < k && n < MAX_MANAGERS; i++)
                cidr_format(&addresses[i], list[n++], sizeof(list[0]));
        same = n == a->n_managers && memcmp(list, a->managers, n * sizeof(list[0])) == 0 &&
               STREQ(a->node_id, swarm->node_id) && STREQ(a->root_dir, swarm->root_dir);
        if (!same) {
                memcpy(a->managers, list, n * sizeof(list[0]));
                a->n_managers = n;
                snprintf(a->node_id, sizeof(a->node_id), "%s", swarm->node_id);
                snprintf(a->root_dir, sizeof(a->root_dir), "%s", swarm->root_dir);
                if (a->target >= n)
                        a->target = 0;
                if (a->local_tasks < 0)
                        count_tasks(a);
                /* the managers known (anew): they get this node's posture now */
                if (n > 0)
                        a->host.posture_report(a->host.userdata);
        }
        schedule(a);
}

void wave_agent_container_event(WaveAgent *a, const json_t *event) {
        const json_t *attrs = json_object_get(json_object_get(event, "Actor"), "Attributes");
        const char *action = json_string_value(json_object_get(event, "Action"));

        if (!json_object_get(attrs, TASK_LABEL) || !action)
                return;
        if (STREQ(action, "start") || STREQ(action, "die") || STREQ(action, "stop") || STREQ(action, "destroy")) {
                json_int_t ns = json_integer_value(json_object_get(event, "timeNano"));
                if (STREQ(action, "die") && ns > 0)
                        a->last_task_event_usec = (uint64_t) ns / 1000;
                a->asked_since_change = false;
                count_tasks(a);
        }
}

void wave_agent_docker_replaced(WaveAgent *a) {
        a->tasks_in_flight = a->tasks_again = false;
        a->local_tasks = -1;
        schedule(a);
}

void wave_agent_kick(WaveAgent *a) {
        schedule(a);
}

const WaveNodeRecord *wave_agent_record(const WaveAgent *a) {
        return a->record_damaged ? NULL : &a->rec;
}

const json_t *wave_agent_wave(const WaveAgent *a) {
        return a->wave;
}

json_t *wave_agent_status(const WaveAgent *a) {
        return json_pack("{s:s, s:s, s:s, s:b, s:i, s:s}", "step",
                         a->record_damaged ? "damaged" : wave_node_step_to_string(a->rec.step), "wave", a->rec.wave,
                         "manager", a->n_managers ? a->managers[a->target] : "", "leader", a->peer_leader,
                         "local_tasks", a->local_tasks, "message", a->message);
}
