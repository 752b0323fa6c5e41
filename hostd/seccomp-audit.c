/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>

#include "common/macro.h"
#include "hostd/seccomp-audit.h"

int proc_seccomp_status(const char *proc_root, pid_t pid, int *mode, unsigned *filters) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[256], line[256];
        bool have_mode = false;

        snprintf(path, sizeof(path), "%s/%d/status", proc_root, (int) pid);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        *filters = 0;
        while (fgets(line, sizeof(line), f)) {
                if (sscanf(line, "Seccomp: %d", mode) == 1)
                        have_mode = true;
                else
                        sscanf(line, "Seccomp_filters: %u", filters);
        }
        /* kernels without CONFIG_SECCOMP print no line at all */
        if (!have_mode)
                *mode = -1;
        return 0;
}

static bool security_opt_unconfined(const json_t *opts) {
        const json_t *o;
        size_t i;

        json_array_foreach(opts, i, o) {
                const char *s = json_string_value(o);
                /* "seccomp=unconfined" and the old "seccomp:unconfined" */
                if (s && (STREQ(s, "seccomp=unconfined") || STREQ(s, "seccomp:unconfined")))
                        return true;
        }
        return false;
}

/* The name for people: a long one is cut, at a character boundary so
 * that it stays UTF-8. */
static void copy_name(char *dst, size_t size, const char *name) {
        size_t n = strlen(name);

        if (n >= size) {
                n = size - 1;
                while (n > 0 && ((unsigned char) name[n] & 0xc0) == 0x80)
                        n--;
        }
        memcpy(dst, name, n);
        dst[n] = 0;
}

int container_assess(const json_t *inspect, const char *proc_root, ContainerFinding *ret) {
        const json_t *state, *host_config, *pid;
        const char *id, *name;
        ContainerFinding f = { .seccomp_mode = -1 };
        int r;

        if (!json_is_object(inspect))
                return -EPROTO;
        id = json_string_value(json_object_get(inspect, "Id"));
        name = json_string_value(json_object_get(inspect, "Name"));
        state = json_object_get(inspect, "State");
        host_config = json_object_get(inspect, "HostConfig");
        pid = json_object_get(state, "Pid");
        /* an ID that does not fit or a pid beyond pid_t would, cut, name
         * another container or process */
        if (!id || strlen(id) >= sizeof(f.id) || !json_is_object(state) || !json_is_object(host_config) ||
            !json_is_integer(pid) || json_integer_value(pid) > INT_MAX)
                return -EPROTO;
        snprintf(f.id, sizeof(f.id), "%s", id);
        copy_name(f.name, sizeof(f.name), name ? (name[0] == '/' ? name + 1 : name) : "");
        if (!json_is_true(json_object_get(state, "Running")) || json_integer_value(pid) <= 0)
                return -ESRCH;
        f.pid = (pid_t) json_integer_value(pid);
        f.privileged = json_is_true(json_object_get(host_config, "Privileged"));
        f.seccomp_unconfined = security_opt_unconfined(json_object_get(host_config, "SecurityOpt"));

        r = proc_seccomp_status(proc_root, f.pid, &f.seccomp_mode, &f.seccomp_filters);
        if (r == -ENOENT)
                return -ESRCH; /* exited between the inspect and now */
        if (r < 0)
                return r;

        if (f.seccomp_mode != 2)
                snprintf(f.problem, sizeof(f.problem), "runs without a seccomp filter (Seccomp: %d)%s%s",
                         f.seccomp_mode, f.privileged ? ", started privileged" : "",
                         f.seccomp_unconfined ? ", started with seccomp=unconfined" : "");
        else if (f.privileged)
                snprintf(f.problem, sizeof(f.problem), "started privileged");
        else if (f.seccomp_unconfined)
                snprintf(f.problem, sizeof(f.problem), "started with seccomp=unconfined");
        f.compliant = f.problem[0] == 0;
        *ret = f;
        return 0;
}

json_t *container_finding_json(const ContainerFinding *f) {
        return json_pack("{s:s, s:s, s:i, s:i, s:i, s:b, s:b, s:b, s:s?}", "id", f->id, "name",
                         f->name, "pid", (int) f->pid, "seccomp_mode", f->seccomp_mode,
                         "seccomp_filters", (int) f->seccomp_filters, "seccomp_unconfined",
                         f->seccomp_unconfined, "privileged", f->privileged, "compliant",
                         f->compliant, "problem", f->problem[0] ? f->problem : NULL);
}
