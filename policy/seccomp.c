/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "common/fileio.h"
#include "common/json.h"
#include "policy/seccomp.h"
#include "policy/syscall-table.h"
#include "policy/seccomp-bpf.h"

/* ---- names ---------------------------------------------------------- */

static const struct {
        const char *name;
        SeccompActionKind kind;
} action_names[] = {
        { "SCMP_ACT_KILL", SECCOMP_ACTION_KILL_THREAD },
        { "SCMP_ACT_KILL_THREAD", SECCOMP_ACTION_KILL_THREAD },
        { "SCMP_ACT_KILL_PROCESS", SECCOMP_ACTION_KILL_PROCESS },
        { "SCMP_ACT_TRAP", SECCOMP_ACTION_TRAP },
        { "SCMP_ACT_ERRNO", SECCOMP_ACTION_ERRNO },
        { "SCMP_ACT_TRACE", SECCOMP_ACTION_TRACE },
        { "SCMP_ACT_ALLOW", SECCOMP_ACTION_ALLOW },
        { "SCMP_ACT_LOG", SECCOMP_ACTION_LOG },
        { "SCMP_ACT_NOTIFY", SECCOMP_ACTION_NOTIFY },
};

static const char *const op_names[] = {
        [SECCOMP_OP_NE] = "SCMP_CMP_NE", [SECCOMP_OP_LT] = "SCMP_CMP_LT",
        [SECCOMP_OP_LE] = "SCMP_CMP_LE", [SECCOMP_OP_EQ] = "SCMP_CMP_EQ",
        [SECCOMP_OP_GE] = "SCMP_CMP_GE", [SECCOMP_OP_GT] = "SCMP_CMP_GT",
        [SECCOMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

/* SCMP_ARCH_* names of the OCI runtime spec, with libseccomp's name for each
 * and Docker's short name (runtime.GOARCH as Docker maps it). */
static const struct {
        const char *scmp, *libseccomp, *docker;
} arch_names[] = {
        { "SCMP_ARCH_X86", "x86", "x86" },
        { "SCMP_ARCH_X86_64", "x86_64", "amd64" },
        { "SCMP_ARCH_X32", "x32", "x32" },
        { "SCMP_ARCH_ARM", "arm", "arm" },
        { "SCMP_ARCH_AARCH64", "aarch64", "arm64" },
        { "SCMP_ARCH_MIPS", "mips", "mips" },
        { "SCMP_ARCH_MIPS64", "mips64", "mips64" },
        { "SCMP_ARCH_MIPS64N32", "mips64n32", "mips64n32" },
        { "SCMP_ARCH_MIPSEL", "mipsel", "mipsel" },
        { "SCMP_ARCH_MIPSEL64", "mipsel64", "mipsel64" },
        { "SCMP_ARCH_MIPSEL64N32", "mipsel64n32", "mips3l64n32" },
        { "SCMP_ARCH_PPC", "ppc", "ppc" },
        { "SCMP_ARCH_PPC64", "ppc64", "ppc64" },
        { "SCMP_ARCH_PPC64LE", "ppc64le", "ppc64le" },
        { "SCMP_ARCH_S390", "s390", "s390" },
        { "SCMP_ARCH_S390X", "s390x", "s390x" },
        { "SCMP_ARCH_PARISC", "parisc", "parisc" },
        { "SCMP_ARCH_PARISC64", "parisc64", "parisc64" },
        { "SCMP_ARCH_RISCV64", "riscv64", "riscv64" },
        { "SCMP_ARCH_LOONGARCH64", "loongarch64", "loong64" },
        { "SCMP_ARCH_M68K", "m68k", "m68k" },
        { "SCMP_ARCH_SH", "sh", "sh" },
        { "SCMP_ARCH_SHEB", "sheb", "sheb" },
};

/* Short names that appear in includes/excludes of real profiles but that
 * Docker never reports as its own architecture: legal, never matching. */
static const char *const docker_arch_aliases[] = { "mipsle", "386" };

static const char *const flag_names[] = {
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

const char *const seccomp_all_caps[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE", NULL,
};

/* moby oci/caps/defaults.go */
const char *const seccomp_docker_default_caps[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
        "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL,
};

/* Linux syscalls newer than the libseccomp this was built with may know.
 * A profile naming them is not misspelt; runc skips what libseccomp cannot
 * resolve, and so does the compiler here. */

const char *seccomp_action_name(SeccompActionKind action) {
        switch (action) {
        case SECCOMP_ACTION_KILL_THREAD: return "SCMP_ACT_KILL_THREAD";
        case SECCOMP_ACTION_KILL_PROCESS: return "SCMP_ACT_KILL_PROCESS";
        case SECCOMP_ACTION_TRAP: return "SCMP_ACT_TRAP";
        case SECCOMP_ACTION_ERRNO: return "SCMP_ACT_ERRNO";
        case SECCOMP_ACTION_TRACE: return "SCMP_ACT_TRACE";
        case SECCOMP_ACTION_ALLOW: return "SCMP_ACT_ALLOW";
        case SECCOMP_ACTION_LOG: return "SCMP_ACT_LOG";
        case SECCOMP_ACTION_NOTIFY: return "SCMP_ACT_NOTIFY";
        }
        return "?";
}

static bool in_list(const char *const *list, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (list[i] && STREQ(list[i], s))
                        return true;
        return false;
}

static bool in_null_list(const char *const *list, const char *s) {
        for (; list && *list; list++)
                if (STREQ(*list, s))
                        return true;
        return false;
}

static int arch_index_by_scmp(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(arch_names); i++)
                if (STREQ(arch_names[i].scmp, s))
                        return (int) i;
        return -1;
}

static int arch_index_by_docker(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(arch_names); i++)
                if (STREQ(arch_names[i].docker, s))
                        return (int) i;
        return -1;
}

const char *seccomp_docker_arch(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(arch_names); i++)
                if (STREQ(arch_names[i].docker, name) || STREQ(arch_names[i].libseccomp, name) ||
                    STREQ(arch_names[i].scmp, name))
                        return arch_names[i].docker;
        return NULL;
}

/* errno names through glibc, so no table of our own can fall behind. */
static int errno_from_name(const char *name) {
        for (int e = 1; e < 4096; e++) {
                const char *n = strerrorname_np(e);
                if (n && STREQ(n, name))
                        return e;
        }
        return -1;
}

/* ---- errors --------------------------------------------------------- */

static void warn(SeccompProfile *p, const JsonValue *at, const char *path, const char *format, ...)
        _printf_(4, 5);

static void warn(SeccompProfile *p, const JsonValue *at, const char *path, const char *format, ...) {
        va_list ap;

        if (p->n_warnings < SECCOMP_MAX_WARNINGS) {
                va_start(ap, format);
                located_error_setv(&p->warnings[p->n_warnings], at ? at->line : 0, at ? at->column : 0, path,
                          format, ap);
                va_end(ap);
        }
        p->n_warnings++;
}

/* ---- parsing -------------------------------------------------------- */

typedef struct Parser {
        const char *text;
        size_t length;
        size_t *line_starts; /* byte offset of each line, to find a literal again */
        size_t n_lines;
        SeccompProfile *profile;
        SeccompError *error;
} Parser;

static int index_lines(Parser *ps) {
        size_t n = 1;

        for (size_t i = 0; i < ps->length; i++)
                if (ps->text[i] == '\n')
                        n++;
        ps->line_starts = malloc(n * sizeof(size_t));
        if (!ps->line_starts)
                return -ENOMEM;
        ps->line_starts[0] = 0;
        ps->n_lines = 1;
        for (size_t i = 0; i < ps->length; i++)
                if (ps->text[i] == '\n')
                        ps->line_starts[ps->n_lines++] = i + 1;
        return 0;
}

/* Docker decodes these into Go's uint/uint64, so only plain digits count:
 * the JSON reader's double would lose 2^64-1, hence the literal is re-read. */
static int get_u64(Parser *ps, const JsonValue *v, const char *path, uint64_t max, uint64_t *ret) {
        const char *s;
        size_t off, len = 0;
        uint64_t n = 0;

        if (v->type != JV_NUMBER)
                return located_error_at(ps->error, v, path, "expected an unsigned integer, got %s",
                            jv_type_name(v->type));
        if (v->line == 0 || v->line > ps->n_lines)
                return located_error_at(ps->error, v, path, "number not found in the text");
        off = ps->line_starts[v->line - 1] + v->column - 1;
        s = ps->text + off;
        while (off + len < ps->length && s[len] >= '0' && s[len] <= '9')
                len++;
        if (len == 0 || (off + len < ps->length && strchr(".eE-+", s[len])) || s[0] == '-')
                return located_error_at(ps->error, v, path, "expected an unsigned integer, got %.15g",
                            v->number.real);
        for (size_t i = 0; i < len; i++) {
                unsigned d = (unsigned) (s[i] - '0');
                if (n > (UINT64_MAX - d) / 10)
                        return located_error_at(ps->error, v, path, "%.*s does not fit in 64 bits", (int) len, s);
                n = n * 10 + d;
        }
        if (n > max)
                return located_error_at(ps->error, v, path, "%" PRIu64 " is out of range 0..%" PRIu64, n, max);
        *ret = n;
        return 0;
}

static int get_string(Parser *ps, const JsonValue *v, const char *path, const char **ret) {
        if (v->type != JV_STRING)
                return located_error_at(ps->error, v, path, "expected a string, got %s", jv_type_name(v->type));
        *ret = v->string.chars;
        return 0;
}

static int dup_string(Parser *ps, const JsonValue *v, const char *path, char **ret) {
        const char *s = NULL;
        int r = get_string(ps, v, path, &s);

        if (r < 0)
                return r;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* null is what Go's decoder reads as an empty list. */
static int get_array(Parser *ps, const JsonValue *v, const char *path, size_t max, size_t *ret_count) {
        if (v->type == JV_NULL) {
                *ret_count = 0;
                return 0;
        }
        if (v->type != JV_ARRAY)
                return located_error_at(ps->error, v, path, "expected an array, got %s", jv_type_name(v->type));
        if (v->array.count > max)
                return located_error_at(ps->error, v, path, "more than %zu entries", max);
        *ret_count = v->array.count;
        return 0;
}

static int check_keys(Parser *ps, const JsonValue *object, const char *path, const char *const *allowed) {
        if (object->type != JV_OBJECT)
                return located_error_at(ps->error, object, path, "expected an object, got %s",
                            jv_type_name(object->type));
        for (size_t i = 0; i < object->object.count; i++) {
                const JsonMember *m = &object->object.members[i];
                char p[128];

                if (in_null_list(allowed, m->key))
                        continue;
                snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", m->key);
                located_error_at(ps->error, NULL, p, "unknown key \"%s\"", m->key);
                if (ps->error) {
                        ps->error->line = m->line;
                        ps->error->column = m->column;
                }
                return -EINVAL;
        }
        return 0;
}

static void free_strv(char **v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

/* An array of distinct strings, each passing check (NULL: any). */
typedef int (*StringCheck)(Parser *ps, const JsonValue *item, const char *path);

static int get_string_list(Parser *ps, const JsonValue *v, const char *path, size_t max,
                           StringCheck check, char ***ret, size_t *ret_n) {
        char **list = NULL;
        size_t n;
        int r;

        r = get_array(ps, v, path, max, &n);
        if (r < 0)
                return r;
        if (n > 0) {
                list = calloc(n, sizeof(char *));
                if (!list)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const JsonValue *item = v->array.items[i];
                char p[160];

                snprintf(p, sizeof(p), "%s[%zu]", path, i);
                r = dup_string(ps, item, p, &list[i]);
                if (r >= 0 && check)
                        r = check(ps, item, p);
                if (r >= 0 && in_list((const char *const *) list, i, list[i]))
                        r = located_error_at(ps->error, item, p, "\"%s\" is listed twice", list[i]);
                if (r < 0) {
                        free_strv(list, i + 1);
                        return r;
                }
        }
        free_strv(*ret, *ret_n);
        *ret = list;
        *ret_n = n;
        return 0;
}

static int check_scmp_arch(Parser *ps, const JsonValue *item, const char *path) {
        if (arch_index_by_scmp(item->string.chars) < 0)
                return located_error_at(ps->error, item, path, "unknown architecture \"%s\" (expected SCMP_ARCH_*)",
                            item->string.chars);
        return 0;
}

static int check_cap(Parser *ps, const JsonValue *item, const char *path) {
        if (!in_null_list(seccomp_all_caps, item->string.chars))
                return located_error_at(ps->error, item, path, "unknown capability \"%s\"", item->string.chars);
        return 0;
}

static int check_docker_arch(Parser *ps, const JsonValue *item, const char *path) {
        const char *s = item->string.chars;

        if (arch_index_by_docker(s) < 0 &&
            !in_list(docker_arch_aliases, ELEMENTSOF(docker_arch_aliases), s)) {
                if (seccomp_docker_arch(s))
                        return located_error_at(ps->error, item, path,
                                    "\"%s\" is not how Docker names an architecture here: use \"%s\"",
                                    s, seccomp_docker_arch(s));
                warn(ps->profile, item, path,
                     "\"%s\" is not an architecture Docker reports, so this never matches", s);
        }
        return 0;
}

static int check_flag(Parser *ps, const JsonValue *item, const char *path) {
        if (!in_list(flag_names, ELEMENTSOF(flag_names), item->string.chars))
                return located_error_at(ps->error, item, path, "unknown flag \"%s\"", item->string.chars);
        return 0;
}

static int check_syscall(Parser *ps, const JsonValue *item, const char *path) {
        const char *name = item->string.chars;

        const SyscallName *known;
        const struct scmp_version *v;

        if (seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR)
                return 0;
        /* a real syscall this libseccomp does not know yet: runc skips
         * it, so does the filter; a name no kernel has is a mistake */
        known = syscall_table_find(name);
        if (known) {
                v = seccomp_version();
                warn(ps->profile, item, path,
                     "\"%s\" (Linux %u.%u%s) is unknown to this libseccomp (%u.%u.%u): it is left out of the "
                     "filter, as runc does",
                     name, known->major, known->minor, known->exact ? "" : " or earlier", v ? v->major : 0,
                     v ? v->minor : 0, v ? v->micro : 0);
                return 0;
        }
        return located_error_at(ps->error, item, path,
                                "unknown syscall \"%s\": no Linux up to %s has it on any architecture Docker maps",
                                name, syscall_table_kernel);
}

static int get_action(Parser *ps, const JsonValue *v, const char *path, SeccompActionKind *ret) {
        const char *s = NULL;
        int r = get_string(ps, v, path, &s);

        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(action_names); i++)
                if (STREQ(action_names[i].name, s)) {
                        *ret = action_names[i].kind;
                        return 0;
                }
        return located_error_at(ps->error, v, path, "unknown action \"%s\"", s);
}

static bool action_takes_errno(SeccompActionKind a) {
        return a == SECCOMP_ACTION_ERRNO || a == SECCOMP_ACTION_TRACE;
}

/* "errnoRet": 38 and/or Podman's "errno": "ENOSYS"; they must agree. */
static int get_errno(Parser *ps, const JsonValue *number, const JsonValue *name, const char *path,
                     const char *number_key, const char *name_key, bool *has, unsigned *ret) {
        char p[160];
        uint64_t n;
        int r, e;

        if (number) {
                snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", number_key);
                /* libseccomp, and so runc, refuses ERRNO(4095) and up */
                r = get_u64(ps, number, p, 4094, &n);
                if (r < 0)
                        return r;
                *has = true;
                *ret = (unsigned) n;
        }
        if (name) {
                const char *s = NULL;

                snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", name_key);
                r = get_string(ps, name, p, &s);
                if (r < 0)
                        return r;
                e = errno_from_name(s);
                if (e < 0)
                        return located_error_at(ps->error, name, p, "unknown errno name \"%s\"", s);
                if (number && (unsigned) e != *ret)
                        return located_error_at(ps->error, name, p, "\"%s\" is %d, but %s says %u", s, e,
                                    number_key, *ret);
                *has = true;
                *ret = (unsigned) e;
        }
        return 0;
}

static int get_min_kernel(Parser *ps, const JsonValue *v, const char *path, unsigned *major,
                          unsigned *minor) {
        unsigned a, b;
        const char *s = NULL;
        int n = 0, r;

        r = get_string(ps, v, path, &s);
        if (r < 0)
                return r;
        if (s[0] == 0) /* Docker reads "" as no minimum */
                return 0;
        if (sscanf(s, "%3u.%3u%n", &a, &b, &n) != 2 || s[n] != 0 || !isdigit((unsigned char) s[0]) ||
            strchr(s, '+') || strchr(s, ' '))
                return located_error_at(ps->error, v, path, "invalid kernel version \"%s\", expected \"<kernel>.<major>\"", s);
        if (a > 255 || b > 255)
                return located_error_at(ps->error, v, path, "kernel version \"%s\" is out of range", s);
        if (a == 0 && b == 0)
                return located_error_at(ps->error, v, path, "kernel version cannot be 0.0");
        *major = a;
        *minor = b;
        return 0;
}

static int parse_filter(Parser *ps, const JsonValue *v, const char *path, SeccompFilter *f) {
        static const char *const keys[] = { "caps", "arches", "minKernel", NULL };
        const JsonValue *x;
        char p[160];
        int r;

        if (v->type == JV_NULL)
                return 0;
        r = check_keys(ps, v, path, keys);
        if (r < 0)
                return r;
        if ((x = jv_object_get(v, "caps"))) {
                snprintf(p, sizeof(p), "%s.caps", path);
                r = get_string_list(ps, x, p, 64, check_cap, &f->caps, &f->n_caps);
                if (r < 0)
                        return r;
        }
        if ((x = jv_object_get(v, "arches"))) {
                snprintf(p, sizeof(p), "%s.arches", path);
                r = get_string_list(ps, x, p, 64, check_docker_arch, &f->arches, &f->n_arches);
                if (r < 0)
                        return r;
        }
        if ((x = jv_object_get(v, "minKernel"))) {
                snprintf(p, sizeof(p), "%s.minKernel", path);
                r = get_min_kernel(ps, x, p, &f->min_kernel_major, &f->min_kernel_minor);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_arg(Parser *ps, const JsonValue *v, const char *path, SeccompArg *arg) {
        static const char *const keys[] = { "index", "value", "valueTwo", "op", NULL };
        const JsonValue *x;
        const char *op = NULL;
        char p[200];
        uint64_t n;
        int r;

        r = check_keys(ps, v, path, keys);
        if (r < 0)
                return r;
        snprintf(p, sizeof(p), "%s.index", path);
        if (!(x = jv_object_get(v, "index")))
                return located_error_at(ps->error, v, p, "missing (the argument's position, 0..5)");
        r = get_u64(ps, x, p, 5, &n);
        if (r < 0)
                return r;
        arg->index = (unsigned) n;
        if ((x = jv_object_get(v, "value"))) {
                snprintf(p, sizeof(p), "%s.value", path);
                r = get_u64(ps, x, p, UINT64_MAX, &arg->value);
                if (r < 0)
                        return r;
        }
        if ((x = jv_object_get(v, "valueTwo"))) {
                snprintf(p, sizeof(p), "%s.valueTwo", path);
                r = get_u64(ps, x, p, UINT64_MAX, &arg->value_two);
                if (r < 0)
                        return r;
        }
        snprintf(p, sizeof(p), "%s.op", path);
        if (!(x = jv_object_get(v, "op")))
                return located_error_at(ps->error, v, p, "missing (SCMP_CMP_EQ, SCMP_CMP_MASKED_EQ, ...)");
        r = get_string(ps, x, p, &op);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(op_names); i++)
                if (STREQ(op_names[i], op)) {
                        arg->op = (SeccompOp) i;
                        return 0;
                }
        return located_error_at(ps->error, x, p, "unknown operator \"%s\"", op);
}

static int parse_rule(Parser *ps, const JsonValue *v, size_t index, SeccompRule *rule) {
        static const char *const keys[] = { "name", "names", "action", "errnoRet", "errno", "args",
                                            "comment", "includes", "excludes", NULL };
        const JsonValue *x, *name, *names;
        char path[64], p[160];
        size_t n_args;
        int r;

        snprintf(path, sizeof(path), "syscalls[%zu]", index);
        rule->line = v->line;
        rule->column = v->column;
        r = check_keys(ps, v, path, keys);
        if (r < 0)
                return r;

        name = jv_object_get(v, "name");
        names = jv_object_get(v, "names");
        if (name && names)
                return located_error_at(ps->error, name, path, "both \"name\" and \"names\": use one");
        if (name) {
                snprintf(p, sizeof(p), "%s.name", path);
                rule->names = calloc(1, sizeof(char *));
                if (!rule->names)
                        return -ENOMEM;
                r = dup_string(ps, name, p, &rule->names[0]);
                if (r < 0)
                        return r;
                rule->n_names = 1;
                r = check_syscall(ps, name, p);
                if (r < 0)
                        return r;
        } else if (names) {
                snprintf(p, sizeof(p), "%s.names", path);
                r = get_string_list(ps, names, p, 1024, check_syscall, &rule->names, &rule->n_names);
                if (r < 0)
                        return r;
        }
        if (rule->n_names == 0)
                return located_error_at(ps->error, v, path, "no syscall named (\"names\" is missing or empty)");

        snprintf(p, sizeof(p), "%s.action", path);
        if (!(x = jv_object_get(v, "action")))
                return located_error_at(ps->error, v, p, "missing");
        r = get_action(ps, x, p, &rule->action);
        if (r < 0)
                return r;

        r = get_errno(ps, jv_object_get(v, "errnoRet"), jv_object_get(v, "errno"), path, "errnoRet",
                      "errno", &rule->has_errno, &rule->errno_ret);
        if (r < 0)
                return r;
        if (rule->has_errno && !action_takes_errno(rule->action)) {
                bool numeric = jv_object_get(v, "errnoRet");

                x = numeric ? jv_object_get(v, "errnoRet") : jv_object_get(v, "errno");
                snprintf(p, sizeof(p), "%s.%s", path, numeric ? "errnoRet" : "errno");
                return located_error_at(ps->error, x, p, "an errno applies only to SCMP_ACT_ERRNO and "
                            "SCMP_ACT_TRACE, not %s", seccomp_action_name(rule->action));
        }

        if ((x = jv_object_get(v, "args"))) {
                snprintf(p, sizeof(p), "%s.args", path);
                r = get_array(ps, x, p, 6, &n_args);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_args; i++) {
                        snprintf(p, sizeof(p), "%s.args[%zu]", path, i);
                        r = parse_arg(ps, x->array.items[i], p, &rule->args[i]);
                        if (r < 0)
                                return r;
                }
                rule->n_args = n_args;
        }
        if ((x = jv_object_get(v, "comment"))) {
                snprintf(p, sizeof(p), "%s.comment", path);
                r = dup_string(ps, x, p, &rule->comment);
                if (r < 0)
                        return r;
        }
        if ((x = jv_object_get(v, "includes"))) {
                snprintf(p, sizeof(p), "%s.includes", path);
                r = parse_filter(ps, x, p, &rule->includes);
                if (r < 0)
                        return r;
        }
        if ((x = jv_object_get(v, "excludes"))) {
                snprintf(p, sizeof(p), "%s.excludes", path);
                r = parse_filter(ps, x, p, &rule->excludes);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_arch_map(Parser *ps, const JsonValue *v) {
        static const char *const keys[] = { "architecture", "subArchitectures", NULL };
        SeccompProfile *prof = ps->profile;
        size_t n;
        int r;

        r = get_array(ps, v, "archMap", 64, &n);
        if (r < 0 || n == 0)
                return r;
        prof->arch_map = calloc(n, sizeof(*prof->arch_map));
        if (!prof->arch_map)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const JsonValue *entry = v->array.items[i], *x;
                char path[64], p[96];

                snprintf(path, sizeof(path), "archMap[%zu]", i);
                r = check_keys(ps, entry, path, keys);
                if (r < 0)
                        return r;
                prof->n_arch_map = i + 1;
                snprintf(p, sizeof(p), "%s.architecture", path);
                if (!(x = jv_object_get(entry, "architecture")))
                        return located_error_at(ps->error, entry, p, "missing");
                r = dup_string(ps, x, p, &prof->arch_map[i].architecture);
                if (r < 0)
                        return r;
                r = check_scmp_arch(ps, x, p);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (STREQ(prof->arch_map[j].architecture, prof->arch_map[i].architecture))
                                return located_error_at(ps->error, x, p, "%s is mapped twice",
                                            prof->arch_map[i].architecture);
                if ((x = jv_object_get(entry, "subArchitectures"))) {
                        snprintf(p, sizeof(p), "%s.subArchitectures", path);
                        r = get_string_list(ps, x, p, 16, check_scmp_arch,
                                            &prof->arch_map[i].sub_architectures,
                                            &prof->arch_map[i].n_sub_architectures);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int parse_profile(Parser *ps, const JsonValue *root) {
        static const char *const keys[] = { "defaultAction", "defaultErrnoRet", "defaultErrno",
                                            "architectures", "archMap", "syscalls", "flags",
                                            "listenerPath", "listenerMetadata", NULL };
        SeccompProfile *prof = ps->profile;
        const JsonValue *x, *syscalls;
        bool uses_notify = false;
        size_t n_rules = 0;
        int r;

        r = check_keys(ps, root, "", keys);
        if (r < 0)
                return r;

        x = jv_object_get(root, "defaultAction");
        if (x && !(x->type == JV_STRING && x->string.length == 0)) {
                r = get_action(ps, x, "defaultAction", &prof->default_action);
                if (r < 0)
                        return r;
                prof->has_default = true;
                if (prof->default_action == SECCOMP_ACTION_NOTIFY)
                        return located_error_at(ps->error, x, "defaultAction",
                                    "SCMP_ACT_NOTIFY cannot be the default action");
        }
        r = get_errno(ps, jv_object_get(root, "defaultErrnoRet"), jv_object_get(root, "defaultErrno"),
                      "", "defaultErrnoRet", "defaultErrno", &prof->has_default_errno,
                      &prof->default_errno_ret);
        if (r < 0)
                return r;
        if (prof->has_default_errno && !(prof->has_default && action_takes_errno(prof->default_action))) {
                x = jv_object_get(root, "defaultErrnoRet") ?: jv_object_get(root, "defaultErrno");
                return located_error_at(ps->error, x, x == jv_object_get(root, "defaultErrnoRet") ? "defaultErrnoRet" : "defaultErrno",
                            "a default errno applies only to a defaultAction of SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
        }

        if ((x = jv_object_get(root, "architectures"))) {
                r = get_string_list(ps, x, "architectures", 32, check_scmp_arch, &prof->architectures,
                                    &prof->n_architectures);
                if (r < 0)
                        return r;
        }
        if ((x = jv_object_get(root, "archMap"))) {
                r = parse_arch_map(ps, x);
                if (r < 0)
                        return r;
        }
        if (prof->n_architectures > 0 && prof->n_arch_map > 0)
                return located_error_at(ps->error, x, "archMap",
                            "both \"architectures\" and \"archMap\" are given: use one");
        if ((x = jv_object_get(root, "flags"))) {
                r = get_string_list(ps, x, "flags", 8, check_flag, &prof->flags, &prof->n_flags);
                if (r < 0)
                        return r;
        }

        syscalls = jv_object_get(root, "syscalls");
        if (syscalls) {
                r = get_array(ps, syscalls, "syscalls", 4096, &n_rules);
                if (r < 0)
                        return r;
        }
        if (n_rules > 0) {
                prof->rules = calloc(n_rules, sizeof(SeccompRule));
                if (!prof->rules)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n_rules; i++) {
                prof->n_rules = i + 1;
                r = parse_rule(ps, syscalls->array.items[i], i, &prof->rules[i]);
                if (r < 0)
                        return r;
                if (prof->rules[i].action == SECCOMP_ACTION_NOTIFY)
                        uses_notify = true;
        }
        if (n_rules > 0 && !prof->has_default)
                return located_error_at(ps->error, root, "defaultAction", "missing, but syscalls are listed");

        x = jv_object_get(root, "listenerPath");
        if (x) {
                r = dup_string(ps, x, "listenerPath", &prof->listener_path);
                if (r < 0)
                        return r;
                if (prof->listener_path[0] != '/')
                        return located_error_at(ps->error, x, "listenerPath", "\"%s\" is not an absolute path",
                                    prof->listener_path);
                if (!uses_notify)
                        return located_error_at(ps->error, x, "listenerPath",
                                    "given, but no rule uses SCMP_ACT_NOTIFY");
        } else if (uses_notify)
                return located_error_at(ps->error, root, "listenerPath",
                            "missing: rules using SCMP_ACT_NOTIFY need an agent listening");
        if ((x = jv_object_get(root, "listenerMetadata"))) {
                r = dup_string(ps, x, "listenerMetadata", &prof->listener_metadata);
                if (r < 0)
                        return r;
                if (!prof->listener_path)
                        return located_error_at(ps->error, x, "listenerMetadata", "given without listenerPath");
        }
        return 0;
}

static void filter_done(SeccompFilter *f) {
        free_strv(f->caps, f->n_caps);
        free_strv(f->arches, f->n_arches);
}

SeccompProfile *seccomp_profile_free(SeccompProfile *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_rules; i++) {
                free_strv(p->rules[i].names, p->rules[i].n_names);
                filter_done(&p->rules[i].includes);
                filter_done(&p->rules[i].excludes);
                free(p->rules[i].comment);
        }
        free(p->rules);
        free_strv(p->architectures, p->n_architectures);
        for (size_t i = 0; i < p->n_arch_map; i++) {
                free(p->arch_map[i].architecture);
                free_strv(p->arch_map[i].sub_architectures, p->arch_map[i].n_sub_architectures);
        }
        free(p->arch_map);
        free_strv(p->flags, p->n_flags);
        free(p->listener_path);
        free(p->listener_metadata);
        free(p);
        return NULL;
}

int seccomp_profile_parse(const char *text, size_t length, SeccompProfile **ret, SeccompError *error) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        _cleanup_(jv_freep) JsonValue *root = NULL;
        _cleanup_free_ size_t *line_starts = NULL;
        Parser ps;
        int r;

        if (length > SECCOMP_PROFILE_MAX_SIZE) {
                located_error_at(error, NULL, "", "larger than %u bytes", SECCOMP_PROFILE_MAX_SIZE);
                return -E2BIG;
        }
        r = jv_parse_document(text, length, &root, error);
        if (r < 0)
                return r;
        p = calloc(1, sizeof(SeccompProfile));
        if (!p)
                return -ENOMEM;
        ps = (Parser){ .text = text, .length = length, .profile = p, .error = error };
        r = index_lines(&ps);
        line_starts = ps.line_starts;
        if (r < 0)
                return r;
        r = parse_profile(&ps, root);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int seccomp_profile_load(const char *path, SeccompProfile **ret, SeccompError *error) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_file(path, SECCOMP_PROFILE_MAX_SIZE, &text, &size);
        if (r < 0) {
                if (error) {
                        *error = (SeccompError){};
                        snprintf(error->message, sizeof(error->message), "%s",
                                 r == -E2BIG ? "file too large" : strerror(-r));
                }
                return r;
        }
        return seccomp_profile_parse(text, size, ret, error);
}

/* ---- targets -------------------------------------------------------- */

void seccomp_target_host(SeccompTarget *ret) {
        uint32_t native = seccomp_arch_native();
        struct utsname u;
        const char *arch = "amd64";

        for (size_t i = 0; i < ELEMENTSOF(arch_names); i++)
                if (seccomp_arch_resolve_name(arch_names[i].libseccomp) == native) {
                        arch = arch_names[i].docker;
                        break;
                }
        *ret = (SeccompTarget){ .arch = arch, .caps = seccomp_docker_default_caps };
        if (uname(&u) == 0 && sscanf(u.release, "%u.%u", &ret->kernel_major, &ret->kernel_minor) != 2)
                ret->kernel_major = ret->kernel_minor = 0;
}

int seccomp_caps_parse(const char *list, const char ***ret, char *err, size_t err_size) {
        _cleanup_free_ char *copy = strdup(list ? list : "");
        _cleanup_free_ const char **caps = NULL;
        size_t n = 0;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        caps = calloc(ELEMENTSOF(seccomp_all_caps), sizeof(char *));
        if (!caps)
                return -ENOMEM;
        for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
                const char *const *from = NULL;
                char name[64];

                if (strcasecmp(tok, "all") == 0)
                        from = seccomp_all_caps;
                else if (strcasecmp(tok, "default") == 0)
                        from = seccomp_docker_default_caps;
                if (from) {
                        for (; *from; from++)
                                if (!in_list(caps, n, *from))
                                        caps[n++] = *from;
                        continue;
                }
                snprintf(name, sizeof(name), "%s%s", strncasecmp(tok, "CAP_", 4) == 0 ? "" : "CAP_", tok);
                for (char *c = name; *c; c++)
                        *c = (char) toupper((unsigned char) *c);
                from = NULL;
                for (const char *const *c = seccomp_all_caps; *c; c++)
                        if (STREQ(*c, name))
                                from = c;
                if (!from) {
                        snprintf(err, err_size, "unknown capability \"%s\"", tok);
                        return -EINVAL;
                }
                if (!in_list(caps, n, *from))
                        caps[n++] = *from;
        }
        *ret = TAKE_PTR(caps);
        return 0;
}

/* ---- compiling ------------------------------------------------------ */

struct SeccompCompiled {
        scmp_filter_ctx ctx;   /* libseccomp's filter, or */
        SeccompBpf *bpf;       /* hostd's own */
        struct sock_filter *exported; /* libseccomp's program, read back */
        const struct sock_filter *program;
        size_t n_program;
        unsigned kernel_flags; /* SECCOMP_FILTER_FLAG_*, for hostd's own */
        SeccompStats stats;
        bool host_arch;
        bool notify; /* a rule needs a listener: loading it would block its caller */
};

SeccompCompiled *seccomp_compiled_free(SeccompCompiled *c) {
        if (!c)
                return NULL;
        if (c->ctx)
                seccomp_release(c->ctx);
        seccomp_bpf_free(c->bpf);
        free(c->exported);
        free(c);
        return NULL;
}

static bool kernel_at_least(const SeccompTarget *t, unsigned major, unsigned minor) {
        return t->kernel_major > major || (t->kernel_major == major && t->kernel_minor >= minor);
}

static bool has_cap(const SeccompTarget *t, const char *cap) {
        return in_null_list(t->caps, cap);
}

/* Docker's setupSeccomp: whether a syscalls[] entry applies to the target. */
static bool rule_selected(const SeccompRule *r, const SeccompTarget *t) {
        const SeccompFilter *ex = &r->excludes, *in = &r->includes;

        if (ex->n_arches > 0 && in_list((const char *const *) ex->arches, ex->n_arches, t->arch))
                return false;
        for (size_t i = 0; i < ex->n_caps; i++)
                if (has_cap(t, ex->caps[i]))
                        return false;
        if ((ex->min_kernel_major || ex->min_kernel_minor) &&
            kernel_at_least(t, ex->min_kernel_major, ex->min_kernel_minor))
                return false;
        if (in->n_arches > 0 && !in_list((const char *const *) in->arches, in->n_arches, t->arch))
                return false;
        for (size_t i = 0; i < in->n_caps; i++)
                if (!has_cap(t, in->caps[i]))
                        return false;
        if ((in->min_kernel_major || in->min_kernel_minor) &&
            !kernel_at_least(t, in->min_kernel_major, in->min_kernel_minor))
                return false;
        return true;
}

/* runc: an ERRNO or TRACE action without a number answers EPERM. */
static uint32_t scmp_action(SeccompActionKind kind, bool has_errno, unsigned errno_ret) {
        unsigned e = has_errno ? errno_ret : EPERM;

        switch (kind) {
        case SECCOMP_ACTION_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
        case SECCOMP_ACTION_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
        case SECCOMP_ACTION_TRAP: return SCMP_ACT_TRAP;
        case SECCOMP_ACTION_ERRNO: return SCMP_ACT_ERRNO(e);
        case SECCOMP_ACTION_TRACE: return SCMP_ACT_TRACE(e);
        case SECCOMP_ACTION_ALLOW: return SCMP_ACT_ALLOW;
        case SECCOMP_ACTION_LOG: return SCMP_ACT_LOG;
        case SECCOMP_ACTION_NOTIFY: return SCMP_ACT_NOTIFY;
        }
        return SCMP_ACT_KILL_PROCESS;
}

static enum scmp_compare scmp_op(SeccompOp op) {
        switch (op) {
        case SECCOMP_OP_NE: return SCMP_CMP_NE;
        case SECCOMP_OP_LT: return SCMP_CMP_LT;
        case SECCOMP_OP_LE: return SCMP_CMP_LE;
        case SECCOMP_OP_EQ: return SCMP_CMP_EQ;
        case SECCOMP_OP_GE: return SCMP_CMP_GE;
        case SECCOMP_OP_GT: return SCMP_CMP_GT;
        case SECCOMP_OP_MASKED_EQ: return SCMP_CMP_MASKED_EQ;
        }
        return _SCMP_CMP_MIN;
}

static int compile_fail(SeccompError *error, const SeccompRule *rule, const char *path,
                        const char *format, ...) _printf_(4, 5);

static int compile_fail(SeccompError *error, const SeccompRule *rule, const char *path,
                        const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        located_error_setv(error, rule ? rule->line : 0, rule ? rule->column : 0, path, format, ap);
        va_end(ap);
        return -EINVAL;
}

/* The filter's architectures, as runc builds them: the target's, then the
 * profile's "architectures" or the target's archMap entry. */
typedef struct ArchSet {
        uint32_t tokens[ELEMENTSOF(arch_names)];
        size_t n;
} ArchSet;

static int arch_set_add(ArchSet *set, const char *scmp_name, SeccompError *error) {
        int i = arch_index_by_scmp(scmp_name);
        uint32_t token;

        if (i < 0)
                return compile_fail(error, NULL, "architectures", "unknown architecture %s", scmp_name);
        token = seccomp_arch_resolve_name(arch_names[i].libseccomp);
        if (token == 0)
                return compile_fail(error, NULL, "architectures",
                                    "%s is not supported by this libseccomp", scmp_name);
        for (size_t j = 0; j < set->n; j++)
                if (set->tokens[j] == token)
                        return 0;
        set->tokens[set->n++] = token;
        return 0;
}

static int arch_set_build(const SeccompProfile *p, int target, ArchSet *ret, SeccompError *error) {
        int r;

        *ret = (ArchSet){ .n = 1, .tokens = { seccomp_arch_resolve_name(arch_names[target].libseccomp) } };
        for (size_t i = 0; i < p->n_architectures; i++) {
                r = arch_set_add(ret, p->architectures[i], error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < p->n_arch_map; i++) {
                if (!STREQ(p->arch_map[i].architecture, arch_names[target].scmp))
                        continue;
                r = arch_set_add(ret, p->arch_map[i].architecture, error);
                for (size_t j = 0; r >= 0 && j < p->arch_map[i].n_sub_architectures; j++)
                        r = arch_set_add(ret, p->arch_map[i].sub_architectures[j], error);
                return r;
        }
        return 0;
}

/* libseccomp's filter attribute, or the kernel's flag, for each flag */
static int resolve_flags(const SeccompProfile *p, SeccompCompiled *c, SeccompError *error) {
        for (size_t i = 0; i < p->n_flags; i++) {
                enum scmp_filter_attr attr;
                unsigned kernel_flag;
                char path[32];
                int r;

                snprintf(path, sizeof(path), "flags[%zu]", i);
                if (STREQ(p->flags[i], "SECCOMP_FILTER_FLAG_TSYNC")) {
                        attr = SCMP_FLTATR_CTL_TSYNC;
                        kernel_flag = SECCOMP_FILTER_FLAG_TSYNC;
                } else if (STREQ(p->flags[i], "SECCOMP_FILTER_FLAG_LOG")) {
                        attr = SCMP_FLTATR_CTL_LOG;
                        kernel_flag = SECCOMP_FILTER_FLAG_LOG;
                } else if (STREQ(p->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW")) {
                        attr = SCMP_FLTATR_CTL_SSB;
                        kernel_flag = SECCOMP_FILTER_FLAG_SPEC_ALLOW;
                } else
                        return compile_fail(error, NULL, path, "%s is not supported by this libseccomp",
                                            p->flags[i]);
                c->kernel_flags |= kernel_flag;
                if (!c->ctx)
                        continue;
                r = seccomp_attr_set(c->ctx, attr, 1);
                if (r < 0)
                        return compile_fail(error, NULL, path, "libseccomp refused %s: %s", p->flags[i],
                                            strerror(-r));
        }
        return 0;
}

/* One (syscall, action, args) as runc adds it: conditions on distinct
 * arguments go in one rule (ANDed); several on the same argument become a
 * rule each (ORed), since libseccomp cannot AND two tests of one argument. */
static int add_syscall(SeccompCompiled *c, const char *name, int nr, uint32_t action, const SeccompRule *rule) {
        struct scmp_arg_cmp conds[6];
        unsigned per_index[6] = {};
        bool separate = false;
        int r;

        for (size_t i = 0; i < rule->n_args; i++) {
                const SeccompArg *a = &rule->args[i];

                conds[i] = (struct scmp_arg_cmp){ .arg = a->index, .op = scmp_op(a->op),
                                                  .datum_a = a->value, .datum_b = a->value_two };
                if (++per_index[a->index] > 1)
                        separate = true;
        }
        for (size_t i = 0; i < (separate ? rule->n_args : 1); i++) {
                const struct scmp_arg_cmp *first = separate ? &conds[i] : conds;
                unsigned n = separate ? 1 : (unsigned) rule->n_args;

                r = c->bpf ? seccomp_bpf_add_rule(c->bpf, name, action, first, n)
                           : seccomp_rule_add_array(c->ctx, action, nr, n, first);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The program libseccomp generates, read back for stats and comparison. */
static int export_program(SeccompCompiled *c, SeccompError *error) {
        _cleanup_close_ int fd = memfd_create("hostd-seccomp-bpf", MFD_CLOEXEC);
        struct stat st;
        int r;

        if (fd < 0)
                return negative_errno();
        r = seccomp_export_bpf(c->ctx, fd);
        if (r < 0)
                return compile_fail(error, NULL, "", "libseccomp cannot generate the filter: %s",
                                    strerror(-r));
        if (fstat(fd, &st) < 0)
                return negative_errno();
        c->n_program = (size_t) st.st_size / sizeof(struct sock_filter);
        c->exported = calloc(c->n_program ?: 1, sizeof(struct sock_filter));
        if (!c->exported)
                return -ENOMEM;
        if (pread(fd, c->exported, c->n_program * sizeof(struct sock_filter), 0) !=
            (ssize_t) (c->n_program * sizeof(struct sock_filter)))
                return -EIO;
        c->program = c->exported;
        return 0;
}

static int compile_with(const SeccompProfile *p, const SeccompTarget *target, const ArchSet *arches,
                        bool own, SeccompCompiled **ret, SeccompError *error) {
        _cleanup_(seccomp_compiled_freep) SeccompCompiled *c = NULL;
        uint32_t default_action, native = seccomp_arch_native();
        int r;

        c = calloc(1, sizeof(SeccompCompiled));
        if (!c)
                return -ENOMEM;
        default_action = scmp_action(p->default_action, p->has_default_errno, p->default_errno_ret);
        c->host_arch = arches->tokens[0] == native;
        if (own) {
                /* libseccomp's default for a foreign architecture: kill;
                 * an architecture the generator lacks is -EOPNOTSUPP */
                r = seccomp_bpf_new(default_action, SCMP_ACT_KILL_THREAD, &c->bpf);
                for (size_t i = 0; r >= 0 && i < arches->n; i++)
                        r = seccomp_bpf_add_arch(c->bpf, arches->tokens[i]);
                if (r < 0)
                        return r;
                c->stats.compiler = "hostd";
        } else {
                c->ctx = seccomp_init(default_action);
                if (!c->ctx)
                        return compile_fail(error, NULL, "defaultAction", "libseccomp refused %s",
                                            seccomp_action_name(p->default_action));
                if (!c->host_arch) {
                        /* native first: libseccomp refuses to mix byte orders */
                        r = seccomp_arch_remove(c->ctx, native);
                        if (r >= 0)
                                r = seccomp_arch_add(c->ctx, arches->tokens[0]);
                        if (r < 0)
                                return compile_fail(error, NULL, "", "cannot target %s: %s", target->arch,
                                                    strerror(-r));
                }
                for (size_t i = 1; i < arches->n; i++) {
                        r = seccomp_arch_add(c->ctx, arches->tokens[i]);
                        if (r < 0 && r != -EEXIST)
                                return compile_fail(error, NULL, "architectures", "cannot add architecture %#x: %s",
                                                    arches->tokens[i], strerror(-r));
                }
                c->stats.compiler = "libseccomp";
        }
        c->stats.architectures = arches->n;

        r = resolve_flags(p, c, error);
        if (r < 0)
                return r;

        c->stats.rules_in_profile = p->n_rules;
        for (size_t i = 0; i < p->n_rules; i++) {
                const SeccompRule *rule = &p->rules[i];
                uint32_t action;

                if (!rule_selected(rule, target))
                        continue;
                c->stats.rules_selected++;
                if (rule->action == SECCOMP_ACTION_NOTIFY) {
                        if (c->bpf)
                                return -EOPNOTSUPP; /* libseccomp sets up its listener at load */
                        c->notify = true;
                }
                action = scmp_action(rule->action, rule->has_errno, rule->errno_ret);
                for (size_t j = 0; j < rule->n_names; j++) {
                        int nr = seccomp_syscall_resolve_name(rule->names[j]);
                        char path[96];

                        if (action == default_action) {
                                c->stats.syscalls_skipped++;
                                continue;
                        }
                        if (nr == __NR_SCMP_ERROR) {
                                c->stats.syscalls_unknown++;
                                continue;
                        }
                        r = add_syscall(c, rule->names[j], nr, action, rule);
                        if (r < 0 && c->bpf)
                                return -EOPNOTSUPP; /* libseccomp then says what is wrong */
                        if (r < 0) {
                                snprintf(path, sizeof(path), "syscalls[%zu].names[%zu]", i, j);
                                return compile_fail(error, rule, path, "libseccomp refused %s (%s): %s",
                                                    rule->names[j], seccomp_action_name(rule->action),
                                                    strerror(-r));
                        }
                        c->stats.syscalls_added++;
                }
        }

        if (c->bpf) {
                /* rules only libseccomp's tree merge decides, or a program
                 * too long: libseccomp's may be shorter, and it decides */
                r = seccomp_bpf_build(c->bpf, c->stats.syscalls_added > 32, &c->program, &c->n_program);
                if (r == -E2BIG)
                        return -EOPNOTSUPP;
                if (r < 0)
                        return r;
        } else {
                /* runc's threshold: below it a linear list is as fast (the
                 * generator above is told the same) */
                if (c->stats.syscalls_added > 32) {
                        r = seccomp_attr_set(c->ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
                        if (r < 0 && r != -EOPNOTSUPP && r != -EINVAL)
                                return compile_fail(error, NULL, "", "cannot enable the binary tree: %s",
                                                    strerror(-r));
                }
                r = export_program(c, error);
                if (r < 0)
                        return r;
        }
        c->stats.bpf_instructions = c->n_program;
        c->stats.bpf_bytes = c->n_program * sizeof(struct sock_filter);
        /* BPF_MAXINSNS: the kernel refuses longer seccomp programs */
        if (c->stats.bpf_instructions > 4096)
                return compile_fail(error, NULL, "",
                                    "the filter has %zu BPF instructions; the kernel accepts at most 4096",
                                    c->stats.bpf_instructions);
        *ret = TAKE_PTR(c);
        return 0;
}

static bool action_allows(SeccompActionKind a) {
        return a == SECCOMP_ACTION_ALLOW || a == SECCOMP_ACTION_LOG;
}

static int by_string(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int seccomp_allowed(const SeccompProfile *p, const SeccompTarget *t, SeccompAllowed *ret) {
        SeccompAllowed a = { .default_allows = !p->has_default || action_allows(p->default_action) };
        size_t total = 0, n = 0;

        for (size_t i = 0; i < p->n_rules; i++)
                total += p->rules[i].n_names;
        a.names = calloc(MAX(total, (size_t) 1), sizeof(char *));
        if (!a.names)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_rules; i++) {
                const SeccompRule *r = &p->rules[i];
                if (!action_allows(r->action) || !rule_selected(r, t))
                        continue;
                for (size_t k = 0; k < r->n_names; k++)
                        a.names[n++] = r->names[k];
        }
        if (n > 1)
                qsort(a.names, n, sizeof(char *), by_string);
        /* each once */
        size_t w = 0;
        for (size_t i = 0; i < n; i++)
                if (w == 0 || !STREQ(a.names[w - 1], a.names[i]))
                        a.names[w++] = a.names[i];
        a.n_names = w;
        *ret = a;
        return 0;
}

void seccomp_allowed_done(SeccompAllowed *a) {
        if (!a)
                return;
        free(a->names);
        *a = (SeccompAllowed){};
}

int seccomp_allowed_beyond(const SeccompAllowed *a, const SeccompAllowed *baseline, const char ***ret,
                           size_t *ret_n) {
        const char **beyond = NULL;
        size_t n = 0;

        *ret = NULL;
        *ret_n = 0;
        for (size_t i = 0; i < a->n_names; i++) {
                if (baseline->default_allows ||
                    bsearch(&a->names[i], baseline->names, baseline->n_names, sizeof(char *), by_string))
                        continue;
                if (!beyond && !(beyond = calloc(a->n_names, sizeof(char *))))
                        return -ENOMEM;
                beyond[n++] = a->names[i];
        }
        *ret = beyond;
        *ret_n = n;
        return 0;
}

bool seccomp_arch_buildable(const char *arch) {
        int ai = arch ? arch_index_by_docker(arch) : -1;

        return ai >= 0 && seccomp_arch_resolve_name(arch_names[ai].libseccomp) != 0;
}

int seccomp_compile_with(const SeccompProfile *p, const SeccompTarget *target, SeccompCompiler compiler,
                         SeccompCompiled **ret, SeccompError *error) {
        ArchSet arches;
        int ai, r;

        if (!p->has_default)
                return compile_fail(error, NULL, "defaultAction",
                                    "the profile has no defaultAction and no syscalls, which Docker "
                                    "reads as seccomp disabled: nothing to compile");
        ai = arch_index_by_docker(target->arch);
        if (ai < 0)
                return compile_fail(error, NULL, "", "unknown target architecture \"%s\"", target->arch);
        if (seccomp_arch_resolve_name(arch_names[ai].libseccomp) == 0)
                return compile_fail(error, NULL, "", "this libseccomp cannot build filters for %s",
                                    target->arch);
        r = arch_set_build(p, ai, &arches, error);
        if (r < 0)
                return r;
        /* hostd's generator, unless it cannot take these architectures or
         * rules (-EOPNOTSUPP): then libseccomp */
        if (compiler == SECCOMP_COMPILER_AUTO) {
                r = compile_with(p, target, &arches, true, ret, error);
                if (r != -EOPNOTSUPP)
                        return r;
        }
        return compile_with(p, target, &arches, false, ret, error);
}

int seccomp_compile(const SeccompProfile *p, const SeccompTarget *target, SeccompCompiled **ret,
                    SeccompError *error) {
        return seccomp_compile_with(p, target, SECCOMP_COMPILER_AUTO, ret, error);
}

void seccomp_compiled_stats(const SeccompCompiled *c, SeccompStats *ret) {
        *ret = c->stats;
}

void seccomp_compiled_program(const SeccompCompiled *c, const struct sock_filter **ret, size_t *ret_n) {
        *ret = c->program;
        *ret_n = c->n_program;
}

int seccomp_compiled_load(SeccompCompiled *c) {
        struct sock_fprog prog = { .len = (unsigned short) c->n_program,
                                   .filter = (struct sock_filter *) c->program };

        if (!c->host_arch)
                return -EXDEV;
        if (c->ctx)
                return seccomp_load(c->ctx);
        /* as libseccomp loads: no_new_privs, so that no root is needed */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, c->kernel_flags, &prog) < 0)
                return negative_errno();
        return 0;
}

int seccomp_compiled_prove_load(SeccompCompiled *c) {
        int status, r;
        pid_t pid;

        if (!c->host_arch)
                return -EXDEV;
        if (c->notify)
                return -EOPNOTSUPP;
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                /* Once loaded, the filter may deny exit_group itself: glibc's
                 * _exit then faults, and the child must die of that fault
                 * (which also means "loaded") rather than enter a handler
                 * that may loop on denied calls. */
                static const int faults[] = { SIGSEGV, SIGBUS, SIGILL, SIGSYS, SIGTRAP, SIGABRT };
                sigset_t unblock;

                sigemptyset(&unblock);
                for (size_t i = 0; i < ELEMENTSOF(faults); i++) {
                        signal(faults[i], SIG_DFL);
                        sigaddset(&unblock, faults[i]);
                }
                sigprocmask(SIG_UNBLOCK, &unblock, NULL);
                r = seccomp_compiled_load(c);
                /* the raw call: sanitizers hook noreturn calls like _exit()
                 * with syscalls of their own, which the filter may deny */
                syscall(SYS_exit_group, r < 0 ? MIN(-r, 254) : 0);
                __builtin_trap();
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        if (WIFEXITED(status))
                return -WEXITSTATUS(status);
        return 0;
}

int seccomp_compiled_export_pfc(SeccompCompiled *c, int fd) {
        if (!c->ctx)
                return -EOPNOTSUPP;
        return seccomp_export_pfc(c->ctx, fd);
}

int seccomp_check_target(const SeccompProfile *p, const SeccompTarget *t, SeccompStats *ret,
                         SeccompError *error) {
        _cleanup_(seccomp_compiled_freep) SeccompCompiled *c = NULL;
        int r;

        r = seccomp_compile(p, t, &c, error);
        if (r < 0)
                return r;
        if (ret)
                seccomp_compiled_stats(c, ret);
        r = seccomp_compiled_prove_load(c);
        if (r == -EOPNOTSUPP || r == -EXDEV) /* notify rules, or not this kernel's arch */
                return 1;
        if (r < 0)
                return compile_fail(error, NULL, "", "the kernel refuses the filter built for %s: %s",
                                    t->arch, strerror(-r));
        return 0;
}

int seccomp_profile_verify(const SeccompProfile *p, SeccompStats *ret, SeccompError *error) {
        SeccompTarget t;
        int r, r2;

        seccomp_target_host(&t);
        r = seccomp_check_target(p, &t, ret, error);
        if (r < 0)
                return r;
        t.caps = seccomp_all_caps;
        r2 = seccomp_check_target(p, &t, NULL, error);
        return r2 < 0 ? r2 : MAX(r, r2);
}
