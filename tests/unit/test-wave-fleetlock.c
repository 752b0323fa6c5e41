/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the node protocol's server reads from nodes: their calls' bodies,
 * in the order the handler refuses them, and the Swarm key with its PEM
 * headers stripped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hostd/wave-fleetlock.h"

#define PARAMS "\"client_params\": {\"id\": \"n1\", \"group\": \"default\"}"
#define SUMMARY                                                                                                   \
        "{\"hostname\": \"node1\", \"compliant\": true, \"pass\": 3, \"fail\": 0, \"warn\": 0, \"not_applicable\": 0," \
        " \"failing\": [], \"hostd_version\": \"0.1.0\", \"generated_usec\": 1, \"interval_seconds\": 60}"

static int parse(FleetLockCall call, const char *text, const char *speaker, json_t **body, FleetLockRequest *req,
                 char *err, size_t err_size) {
        *body = NULL;
        return fleetlock_request_parse(call, text, strlen(text), speaker, body, req, err, err_size);
}

static void test_call_from_path(void **state _unused_) {
        assert_int_equal(fleetlock_call_from_path("/v1/pre-reboot"), FLEETLOCK_PRE_REBOOT);
        assert_int_equal(fleetlock_call_from_path("/v1/steady-state"), FLEETLOCK_STEADY_STATE);
        assert_int_equal(fleetlock_call_from_path("/v1/posture"), FLEETLOCK_POSTURE);
        assert_int_equal(fleetlock_call_from_path("/v1/wave"), -ENOENT);
        assert_int_equal(fleetlock_call_from_path(NULL), -ENOENT);
}

static void test_requests(void **state _unused_) {
        FleetLockRequest req;
        char why[512];
        json_t *body;

        assert_int_equal(parse(FLEETLOCK_PRE_REBOOT, "{" PARAMS "}", "n1", &body, &req, why, sizeof(why)), 0);
        assert_int_equal(req.call, FLEETLOCK_PRE_REBOOT);
        assert_string_equal(req.node_id, "n1");
        assert_string_equal(req.group, "default");
        assert_null(req.posture);
        json_decref(body);

        /* plain FleetLock: a steady state is a good one */
        assert_int_equal(parse(FLEETLOCK_STEADY_STATE, "{" PARAMS "}", "n1", &body, &req, why, sizeof(why)), 0);
        assert_true(req.ok && req.healthy);
        assert_null(req.message);
        json_decref(body);
        assert_int_equal(parse(FLEETLOCK_STEADY_STATE,
                               "{" PARAMS ", \"wave\": {\"id\": \"w-1\", \"ok\": false, \"healthy\": true, \"message\": \"dpkg failed\","
                               " \"transaction\": \"t1\"}}",
                               "n1", &body, &req, why, sizeof(why)),
                         0);
        assert_false(req.ok);
        assert_true(req.healthy);
        assert_string_equal(req.message, "dpkg failed");
        assert_string_equal(req.transaction, "t1");
        assert_string_equal(req.wave_id, "w-1");
        json_decref(body);

        assert_int_equal(parse(FLEETLOCK_POSTURE, "{" PARAMS ", \"posture\": " SUMMARY "}", "n1", &body, &req, why,
                               sizeof(why)),
                         0);
        assert_non_null(req.posture);
        assert_string_equal(json_string_value(json_object_get(req.posture, "hostname")), "node1");
        json_decref(body);
}

static void test_refused(void **state _unused_) {
        FleetLockRequest req, before;
        char why[512];
        json_t *body;

        memset(&req, 0x5a, sizeof(req));
        before = req;
        assert_int_equal(parse(FLEETLOCK_PRE_REBOOT, "", "n1", &body, &req, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "expected {\"client_params\": {\"id\": NODE_ID, \"group\": GROUP}}");
        assert_int_equal(parse(FLEETLOCK_PRE_REBOOT, "{\"client_params\": {\"id\": \"n1\"}}", "n1", &body, &req, why,
                               sizeof(why)),
                         -EINVAL);
        assert_int_equal(parse(FLEETLOCK_PRE_REBOOT, "[1]", "n1", &body, &req, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "request body must be a JSON object");
        assert_int_equal(parse(FLEETLOCK_PRE_REBOOT, "{\"client", "n1", &body, &req, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "malformed JSON body"));

        /* speaking for another node: 403 before what else is wrong */
        assert_int_equal(parse(FLEETLOCK_POSTURE, "{" PARAMS ", \"posture\": 1}", "n2", &body, &req, why, sizeof(why)),
                         -EPERM);
        assert_string_equal(why, "the client certificate is node n2's: it cannot speak for node n1");
        /* without a certificate to check against, the posture is what is wrong */
        assert_int_equal(parse(FLEETLOCK_POSTURE, "{" PARAMS ", \"posture\": 1}", NULL, &body, &req, why, sizeof(why)),
                         -EINVAL);
        assert_string_equal(why, "posture: not an object");
        assert_int_equal(parse(FLEETLOCK_POSTURE, "{" PARAMS "}", "n1", &body, &req, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "posture: not an object");
        assert_int_equal(parse(FLEETLOCK_STEADY_STATE, "{" PARAMS ", \"wave\": {\"ok\": true}}", "n1", &body, &req,
                               why, sizeof(why)),
                         -EINVAL);
        assert_non_null(strstr(why, "wave: expected {\"id\": string, \"ok\": bool, \"healthy\": bool"));
        /* a report names its wave, and a wave's ID is short */
        assert_int_equal(parse(FLEETLOCK_STEADY_STATE,
                               "{" PARAMS ", \"wave\": {\"id\": \"w-0123456789012345678901234567890123456789012345678901234567890123\","
                               " \"ok\": true, \"healthy\": true}}",
                               "n1", &body, &req, why, sizeof(why)),
                         -EINVAL);
        assert_non_null(strstr(why, "wave.id: expected a wave ID of 1..39 characters"));
        assert_int_equal(parse(FLEETLOCK_STEADY_STATE, "{" PARAMS ", \"wave\": {\"ok\": true, \"healthy\": true}}", "n1",
                               &body, &req, why, sizeof(why)),
                         -EINVAL);
        assert_non_null(strstr(why, "\"id\": string"));
        /* a valid posture with a malformed report: refused whole */
        assert_int_equal(parse(FLEETLOCK_STEADY_STATE, "{" PARAMS ", \"posture\": " SUMMARY ", \"wave\": []}", "n1",
                               &body, &req, why, sizeof(why)),
                         -EINVAL);
        assert_null(body);
        assert_memory_equal(&req, &before, sizeof(req));
}

static void strip(const char *in, int expected_r, const char *expected) {
        char *text = strdup(in), why[256] = "";

        assert_non_null(text);
        assert_int_equal(fleetlock_pem_strip_headers(text, "swarm-node.key", why, sizeof(why)), expected_r);
        assert_string_equal(text, expected);
        if (expected_r < 0)
                assert_string_equal(why, "swarm-node.key: the key is encrypted (is the Swarm autolocked?)");
        free(text);
}

static void test_pem_strip_headers(void **state _unused_) {
        /* as Swarm writes its key */
        strip("-----BEGIN PRIVATE KEY-----\nkek-version: 0\nraft-dek: CAESMBpi\n\nMIGHAgEA\nMBMGByqG\n"
              "-----END PRIVATE KEY-----\n",
              0, "-----BEGIN PRIVATE KEY-----\nMIGHAgEA\nMBMGByqG\n-----END PRIVATE KEY-----\n");
        /* certificates have no headers; text outside the blocks is kept */
        strip("subject: n1\n\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", 0,
              "subject: n1\n\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        /* an autolocked Swarm's key is refused and left as it is */
        strip("-----BEGIN EC PRIVATE KEY-----\nkek-version: 1\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\n"
              "MHcC\n-----END EC PRIVATE KEY-----\n",
              -EKEYREJECTED,
              "-----BEGIN EC PRIVATE KEY-----\nkek-version: 1\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\n"
              "MHcC\n-----END EC PRIVATE KEY-----\n");
        /* CRLF: the blank line after the headers goes too */
        strip("-----BEGIN PRIVATE KEY-----\r\nkek-version: 0\r\n\r\nMIGH\r\n-----END PRIVATE KEY-----\r\n", 0,
              "-----BEGIN PRIVATE KEY-----\r\nMIGH\r\n-----END PRIVATE KEY-----\r\n");
        /* a last line of one character is not a blank line */
        strip("-----BEGIN PRIVATE KEY-----\nMIGH\nA", 0, "-----BEGIN PRIVATE KEY-----\nMIGH\nA");
        strip("", 0, "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_call_from_path),
                cmocka_unit_test(test_requests),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_pem_strip_headers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
