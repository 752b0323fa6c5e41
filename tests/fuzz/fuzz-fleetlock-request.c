/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for what managers read from nodes over the node
 * protocol (hostd/wave-fleetlock.h). The first byte chooses: bits 0-1 the
 * call (pre-reboot, steady-state, posture; 3: GET /v1/wave's ?wait= value),
 * bit 2 whether the client certificate names node "n1". The rest is the
 * request body (or the wait value). A body is read as the server reads it
 * or refused with a reason and nothing filled in; a request that is read
 * says what the body says, and reads the same once written again. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostd/api-requests.h"
#include "hostd/wave-fleetlock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *member_string(const json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key));
}

/* The body a node would send for req. */
static json_t *body_of(const FleetLockRequest *req, bool with_report) {
        json_t *b = json_pack("{s:{s:s, s:s}}", "client_params", "id", req->node_id, "group", req->group);

        if (b && req->posture)
                json_object_set_new(b, "posture", json_deep_copy(req->posture));
        if (b && req->addresses)
                json_object_set_new(b, "addresses", json_deep_copy(req->addresses));
        if (b && with_report) {
                json_t *w = json_pack("{s:s, s:b, s:b}", "id", req->wave_id, "ok", req->ok, "healthy", req->healthy);
                if (w && req->message)
                        json_object_set_new(w, "message", json_string(req->message));
                if (w && req->transaction)
                        json_object_set_new(w, "transaction", json_string(req->transaction));
                json_object_set_new(b, "wave", w);
        }
        return b;
}

static bool same_request(const FleetLockRequest *a, const FleetLockRequest *b) {
        return a->call == b->call && STREQ(a->node_id, b->node_id) && STREQ(a->group, b->group) &&
               !a->posture == !b->posture && (!a->posture || json_equal(a->posture, b->posture)) &&
               !a->addresses == !b->addresses && (!a->addresses || json_equal(a->addresses, b->addresses)) &&
               a->ok == b->ok && a->healthy == b->healthy && STREQ_PTR(a->message, b->message) &&
               STREQ_PTR(a->transaction, b->transaction) && STREQ_PTR(a->wave_id, b->wave_id);
}

static void check_wait(const char *s) {
        uint64_t v = 7;

        if (!api_parse_u64(s, &v)) {
                if (v != 7)
                        __builtin_trap(); /* a refused value leaves the result alone */
                return;
        }
        /* only digits, and exactly their value */
        if (!*s || strspn(s, "0123456789") != strlen(s) || strtoull(s, NULL, 10) != v)
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FleetLockRequest req, again, untouched;
        json_t *body = NULL, *body2 = NULL;
        const char *speaker;
        char why[512] = "";
        unsigned call;
        int r;

        if (size < 1)
                return 0;
        call = data[0] & 3;
        speaker = data[0] & 4 ? "n1" : NULL;
        if (call == 3) {
                char *s = strndup((const char *) data + 1, size - 1);
                if (s)
                        check_wait(s);
                free(s);
                return 0;
        }

        memset(&req, 0xa5, sizeof(req));
        untouched = req;
        r = fleetlock_request_parse((FleetLockCall) call, (const char *) data + 1, size - 1, speaker, &body, &req,
                                    why, sizeof(why));
        if (r < 0) {
                /* refused: a reason, nothing filled in; wrong_node only for a certificate */
                if ((r != -EINVAL && r != -EPERM) || (r == -EPERM && !speaker) || !why[0] || body ||
                    memcmp(&req, &untouched, sizeof(req)) != 0)
                        __builtin_trap();
                return 0;
        }

        /* read: what the body says */
        const json_t *params = json_object_get(body, "client_params"), *report = json_object_get(body, "wave");
        bool with_report = call == FLEETLOCK_STEADY_STATE && report;
        char bad[160];

        if (req.call != call || req.node_id != member_string(params, "id") ||
            req.group != member_string(params, "group") || !req.node_id || !req.group ||
            (speaker && !STREQ(req.node_id, speaker)) || req.posture != json_object_get(body, "posture") ||
            (call == FLEETLOCK_POSTURE && !req.posture && !req.addresses) ||
            req.addresses != json_object_get(body, "addresses") ||
            (req.addresses && swarm_peers_check_report(req.addresses, bad, sizeof(bad)) < 0) ||
            (req.posture && posture_summary_validate(req.posture, bad, sizeof(bad)) < 0))
                __builtin_trap();
        if (call != FLEETLOCK_STEADY_STATE && (req.ok || req.healthy || req.message || req.transaction || req.wave_id))
                __builtin_trap();
        if (call == FLEETLOCK_STEADY_STATE && !report &&
            (!req.ok || !req.healthy || req.message || req.transaction || req.wave_id))
                __builtin_trap();
        /* a node's report names the wave it is for */
        if (with_report && (!req.wave_id || req.wave_id != member_string(report, "id") ||
                            req.ok != json_is_true(json_object_get(report, "ok")) ||
                            req.healthy != json_is_true(json_object_get(report, "healthy")) ||
                            req.message != member_string(report, "message") ||
                            req.transaction != member_string(report, "transaction")))
                __builtin_trap();

        /* written again, it reads the same */
        body2 = body_of(&req, with_report);
        if (body2) {
                char *text = json_dumps(body2, JSON_COMPACT);
                json_t *parsed = NULL;

                if (text && (fleetlock_request_parse((FleetLockCall) call, text, strlen(text), speaker, &parsed,
                                                     &again, why, sizeof(why)) < 0 ||
                             !same_request(&req, &again)))
                        __builtin_trap();
                json_decref(parsed);
                free(text);
        }
        json_decref(body2);
        json_decref(body);
        return 0;
}
