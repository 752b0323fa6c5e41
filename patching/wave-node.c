/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <jansson.h>
#include <stdio.h>

#include "common/fileio.h"
#include "patching/wave-node.h"

#define RECORD_MAX_SIZE (64 * 1024)

static const char *const step_names[] = {
        [AGENT_IDLE] = "idle",           [AGENT_STAGED] = "staged",       [AGENT_WAITING] = "waiting",
        [AGENT_APPLYING] = "applying",   [AGENT_REBOOTING] = "rebooting", [AGENT_DOCKER_RESTART] = "docker-restart",
        [AGENT_VERIFYING] = "verifying", [AGENT_REPORTING] = "reporting",
};

const char *wave_node_step_to_string(WaveNodeStep s) {
        return s < _AGENT_STEP_MAX ? step_names[s] : "?";
}

int wave_node_record_save(const char *path, const WaveNodeRecord *r) {
        _cleanup_free_ char *text = NULL;
        json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:s, s:i, s:b, s:I}", "version", 1, "wave",
                              r->wave, "step", wave_node_step_to_string(r->step), "plan", r->plan, "transaction",
                              r->transaction, "ok", r->ok, "healthy", r->healthy, "message", r->message, "boot_id",
                              r->boot_id, "baseline", (int) r->baseline, "docker_restart", r->docker_restart,
                              "updated", (json_int_t) r->updated_usec);

        if (!j)
                return -ENOMEM;
        text = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        json_decref(j);
        if (!text)
                return -ENOMEM;
        return write_file_atomic(path, text, strlen(text), 0600);
}

static int get(const JsonValue *o, const char *key, JsonType type, const JsonValue **ret, LocatedError *error) {
        const JsonValue *v = jv_object_get(o, key);

        if (!v)
                return located_error_at(error, o, key, "missing");
        if (v->type != type)
                return located_error_at(error, v, key, "expected %s, got %s", jv_type_name(type), jv_type_name(v->type));
        *ret = v;
        return 0;
}

static int get_string(const JsonValue *o, const char *key, char *buf, size_t size, LocatedError *error) {
        const JsonValue *v;
        int r = get(o, key, JV_STRING, &v, error);

        if (r < 0)
                return r;
        if (v->string.length >= size)
                return located_error_at(error, v, key, "longer than %zu characters", size - 1);
        memcpy(buf, v->string.chars, v->string.length + 1);
        return 0;
}

int wave_node_record_load(const char *path, WaveNodeRecord *ret, LocatedError *error) {
        static const char *const keys[] = { "version", "wave", "step", "plan", "transaction", "ok", "healthy",
                                            "message", "boot_id", "baseline", "docker_restart", "updated", NULL };
        _cleanup_(jv_freep) JsonValue *root = NULL;
        _cleanup_free_ char *text = NULL;
        WaveNodeRecord rec = {};
        const JsonValue *v;
        char step[16];
        size_t size;
        int r;

        *ret = (WaveNodeRecord){ .step = AGENT_IDLE };
        r = read_file(path, RECORD_MAX_SIZE, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                located_error_at(error, NULL, "", "cannot read: %s", strerror(-r));
                return r;
        }
        if ((r = jv_parse_document(text, size, &root, error)) < 0)
                return r;
        if (root->type != JV_OBJECT)
                return located_error_at(error, root, "", "expected an object");
        for (size_t i = 0; i < root->object.count; i++) {
                bool known = false;
                for (const char *const *k = keys; *k; k++)
                        known = known || STREQ(*k, root->object.members[i].key);
                if (!known)
                        return located_error_at(error, root->object.members[i].value, root->object.members[i].key,
                                                "unknown key");
        }
        if ((r = get(root, "version", JV_NUMBER, &v, error)) < 0)
                return r;
        if (!v->number.is_integer || v->number.integer != 1)
                return located_error_at(error, v, "version", "unsupported version");
        if ((r = get_string(root, "wave", rec.wave, sizeof(rec.wave), error)) < 0 ||
            (r = get_string(root, "step", step, sizeof(step), error)) < 0)
                return r;
        rec.step = _AGENT_STEP_MAX;
        for (size_t i = 0; i < _AGENT_STEP_MAX; i++)
                if (STREQ(step_names[i], step))
                        rec.step = (WaveNodeStep) i;
        if (rec.step == _AGENT_STEP_MAX)
                return located_error_at(error, jv_object_get(root, "step"), "step", "unknown step \"%s\"", step);
        if (rec.step != AGENT_IDLE && !rec.wave[0])
                return located_error_at(error, jv_object_get(root, "wave"), "wave", "empty while the step is %s", step);
        if ((r = get_string(root, "plan", rec.plan, sizeof(rec.plan), error)) < 0 ||
            (r = get_string(root, "transaction", rec.transaction, sizeof(rec.transaction), error)) < 0 ||
            (r = get_string(root, "message", rec.message, sizeof(rec.message), error)) < 0 ||
            (r = get_string(root, "boot_id", rec.boot_id, sizeof(rec.boot_id), error)) < 0)
                return r;
        if ((r = get(root, "ok", JV_BOOLEAN, &v, error)) < 0)
                return r;
        rec.ok = v->boolean;
        if ((r = get(root, "healthy", JV_BOOLEAN, &v, error)) < 0)
                return r;
        rec.healthy = v->boolean;
        if ((r = get(root, "baseline", JV_NUMBER, &v, error)) < 0)
                return r;
        if (!v->number.is_integer || v->number.integer < 0 || v->number.integer > NODE_HEALTH_ALL)
                return located_error_at(error, v, "baseline", "expected health check bits 0..%u", NODE_HEALTH_ALL);
        rec.baseline = (unsigned) v->number.integer;
        /* absent in records written before it existed */
        if (jv_object_get(root, "docker_restart")) {
                if ((r = get(root, "docker_restart", JV_BOOLEAN, &v, error)) < 0)
                        return r;
                rec.docker_restart = v->boolean;
        }
        if ((r = get(root, "updated", JV_NUMBER, &v, error)) < 0)
                return r;
        if (!v->number.is_integer || v->number.integer < 0)
                return located_error_at(error, v, "updated", "expected microseconds since the epoch");
        rec.updated_usec = (uint64_t) v->number.integer;
        if (rec.step == AGENT_REBOOTING && !rec.boot_id[0])
                return located_error_at(error, jv_object_get(root, "boot_id"), "boot_id",
                                        "empty while the step is rebooting");
        *ret = rec;
        return 0;
}

WaveNodeResume wave_node_resume(const WaveNodeRecord *r, const char *current_boot_id) {
        switch (r->step) {
        case AGENT_IDLE:
                return RESUME_NOTHING;
        case AGENT_STAGED:
        case AGENT_WAITING:
                return RESUME_ASK;
        case AGENT_APPLYING:
                return RESUME_CHECK_APPLY;
        case AGENT_REBOOTING:
                return current_boot_id && STREQ(current_boot_id, r->boot_id) ? RESUME_REBOOT : RESUME_VERIFY;
        case AGENT_DOCKER_RESTART:
                return RESUME_DOCKER_RESTART;
        case AGENT_VERIFYING:
                return RESUME_VERIFY;
        case AGENT_REPORTING:
                return RESUME_REPORT;
        default:
                return RESUME_NOTHING;
        }
}
