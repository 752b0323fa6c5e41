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

/* The profile a container was started with, as Docker keeps it in
 * SecurityOpt ("seccomp={...}", the JSON itself), or NULL. */
static const char *security_opt_profile(const json_t *opts) {
        const json_t *o;
        size_t i;

        json_array_foreach(opts, i, o) {
                const char *s = json_string_value(o);
                if (s && (strncmp(s, "seccomp=", 8) == 0 || strncmp(s, "seccomp:", 8) == 0) && s[8] == '{')
                        return s + 8;
        }
        return NULL;
}

/* What the container's own profile allows beyond the baseline, in
 * problem; empty when nothing. */
static void judge_profile(const char *json, const SeccompBaseline *baseline, char *problem, size_t size) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        _cleanup_free_ const char **beyond = NULL;
        SeccompAllowed allowed = {};
        SeccompError error = {};
        SeccompTarget host;
        size_t n = 0;
        int r;

        r = seccomp_profile_parse(json, strlen(json), &p, &error);
        if (r < 0) {
                char where[320];
                located_error_format(&error, "HostConfig.SecurityOpt", where, sizeof(where));
                snprintf(problem, size, "its seccomp profile cannot be read, so it cannot be judged: %s", where);
                return;
        }
        if (!baseline->allowed) {
                snprintf(problem, size, "its own seccomp profile cannot be judged: %s cannot be read (%s)",
                         baseline->name, baseline->error ? baseline->error : "unknown");
                return;
        }
        seccomp_target_host(&host);
        if (seccomp_allowed(p, &host, &allowed) < 0) {
                snprintf(problem, size, "its seccomp profile cannot be judged: out of memory");
                return;
        }
        if (allowed.default_allows)
                snprintf(problem, size,
                         "its seccomp profile allows every syscall it does not name (defaultAction %s): in effect "
                         "unconfined",
                         p->has_default ? seccomp_action_name(p->default_action) : "none");
        else if (seccomp_allowed_beyond(&allowed, baseline->allowed, &beyond, &n) < 0)
                snprintf(problem, size, "its seccomp profile cannot be judged: out of memory");
        else if (n > 0) {
                size_t used = (size_t) snprintf(problem, size, "its seccomp profile allows %zu syscall%s %s denies:", n,
                                                n == 1 ? "" : "s", baseline->name);
                for (size_t i = 0; i < n && used + 1 < size; i++)
                        used += (size_t) snprintf(problem + used, size - used, "%s %s", i ? "," : "", beyond[i]);
        }
        seccomp_allowed_done(&allowed);
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

int container_assess(const json_t *inspect, const char *proc_root, const SeccompBaseline *baseline,
                     ContainerFinding *ret) {
        const char *own;
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
        /* a filter is in force: judged by what it allows, when it is the
         * container's own */
        own = security_opt_profile(json_object_get(host_config, "SecurityOpt"));
        f.own_profile = own != NULL;
        if (!f.problem[0] && own && baseline)
                judge_profile(own, baseline, f.problem, sizeof(f.problem));
        f.compliant = f.problem[0] == 0;
        *ret = f;
        return 0;
}

json_t *container_finding_json(const ContainerFinding *f) {
        return json_pack("{s:s, s:s, s:i, s:i, s:i, s:b, s:b, s:b, s:b, s:s?}", "id", f->id, "name",
                         f->name, "pid", (int) f->pid, "seccomp_mode", f->seccomp_mode,
                         "seccomp_filters", (int) f->seccomp_filters, "seccomp_unconfined",
                         f->seccomp_unconfined, "privileged", f->privileged, "own_profile", f->own_profile,
                         "compliant", f->compliant, "problem", f->problem[0] ? f->problem : NULL);
}
