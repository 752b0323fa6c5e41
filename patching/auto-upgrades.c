/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "patching/auto-upgrades.h"

#define APT_CONF_MAX_SIZE (1024 * 1024)
#define APT_CONF_MAX_DEPTH 16
#define APT_CONF_MAX_FILES 512

typedef struct Lexer {
        const char *p, *end, *path;
        unsigned line;
} Lexer;

typedef enum Token { TOKEN_END, TOKEN_WORD, TOKEN_STRING, TOKEN_OPEN, TOKEN_CLOSE, TOKEN_SEMICOLON } Token;

/* The next token; word and string values into buf. -EINVAL on what apt
 * would refuse too, -EOPNOTSUPP for #include (not followed here). */
static int next_token(Lexer *l, char *buf, size_t size, Token *ret) {
        for (;;) {
                while (l->p < l->end && strchr(" \t\r\n", *l->p)) {
                        if (*l->p == '\n')
                                l->line++;
                        l->p++;
                }
                if (l->p >= l->end) {
                        *ret = TOKEN_END;
                        return 0;
                }
                if (l->end - l->p >= 2 && l->p[0] == '/' && l->p[1] == '/') {
                        while (l->p < l->end && *l->p != '\n')
                                l->p++;
                        continue;
                }
                if (l->end - l->p >= 2 && l->p[0] == '/' && l->p[1] == '*') {
                        for (l->p += 2; l->p < l->end && !(l->end - l->p >= 2 && l->p[0] == '*' && l->p[1] == '/');
                             l->p++)
                                if (*l->p == '\n')
                                        l->line++;
                        if (l->p >= l->end)
                                return -EINVAL;
                        l->p += 2;
                        continue;
                }
                if (*l->p == '#') {
                        if ((size_t) (l->end - l->p) >= 8 && strncmp(l->p, "#include", 8) == 0)
                                return -EOPNOTSUPP;
                        /* #clear and comments: to the end of the line */
                        while (l->p < l->end && *l->p != '\n')
                                l->p++;
                        continue;
                }
                break;
        }
        switch (*l->p) {
        case '{': l->p++; *ret = TOKEN_OPEN; return 0;
        case '}': l->p++; *ret = TOKEN_CLOSE; return 0;
        case ';': l->p++; *ret = TOKEN_SEMICOLON; return 0;
        default: break;
        }
        size_t n = 0;
        if (*l->p == '"') {
                for (l->p++; l->p < l->end && *l->p != '"'; l->p++) {
                        if (*l->p == '\n')
                                return -EINVAL;
                        if (n + 1 < size)
                                buf[n++] = *l->p;
                }
                if (l->p >= l->end)
                        return -EINVAL;
                l->p++;
                *ret = TOKEN_STRING;
        } else {
                for (; l->p < l->end && !strchr(" \t\r\n{};\"", *l->p); l->p++)
                        if (n + 1 < size)
                                buf[n++] = *l->p;
                *ret = TOKEN_WORD;
        }
        buf[n] = '\0';
        return 0;
}

static void assign(AptPeriodic *c, const char *key, const char *value) {
        if (strcasecmp(key, "APT::Periodic::Unattended-Upgrade") == 0)
                snprintf(c->unattended, sizeof(c->unattended), "%.63s", value);
        else if (strcasecmp(key, "APT::Periodic::Enable") == 0)
                snprintf(c->enable, sizeof(c->enable), "%.63s", value);
}

/* "}": leaves the scope; one that was never opened is not apt.conf */
static int close_scope(size_t *depth) {
        if (*depth == 0)
                return -EINVAL;
        (*depth)--;
        return 0;
}

int apt_conf_periodic(const char *path, const char *text, size_t size, AptPeriodic *ret, char *what,
                      size_t what_size) {
        Lexer l = { .p = text, .end = text + size, .path = path, .line = 1 };
        AptPeriodic settings = *ret, *c = &settings; /* *ret changed only when the whole text reads */
        /* scope[i]: the full name of the scope opened at depth i + 1 */
        char scope[APT_CONF_MAX_DEPTH][1024], name[256], value[256], key[1024];
        size_t depth = 0;
        Token t;
        int r;

        for (;;) {
                r = next_token(&l, name, sizeof(name), &t);
                if (r < 0)
                        goto bad;
                if (t == TOKEN_END)
                        break;
                if (t == TOKEN_SEMICOLON)
                        continue;
                if (t == TOKEN_CLOSE) {
                        if ((r = close_scope(&depth)) < 0)
                                goto bad;
                        continue;
                }
                if (t == TOKEN_OPEN) {
                        r = -EINVAL;
                        goto bad;
                }
                /* a bare string: an item of a list */
                if (t == TOKEN_STRING) {
                        r = next_token(&l, value, sizeof(value), &t);
                        if (r < 0 || (t != TOKEN_SEMICOLON && t != TOKEN_CLOSE)) {
                                r = r < 0 ? r : -EINVAL;
                                goto bad;
                        }
                        if (t == TOKEN_CLOSE && (r = close_scope(&depth)) < 0)
                                goto bad;
                        continue;
                }
                /* names longer than these are none apt's daily job reads */
                snprintf(key, sizeof(key), "%.700s%s%.255s", depth ? scope[depth - 1] : "", depth ? "::" : "", name);
                r = next_token(&l, value, sizeof(value), &t);
                if (r < 0)
                        goto bad;
                if (t == TOKEN_OPEN) {
                        if (depth == APT_CONF_MAX_DEPTH) {
                                r = -E2BIG;
                                goto bad;
                        }
                        snprintf(scope[depth++], sizeof(scope[0]), "%s", key);
                        continue;
                }
                if (t != TOKEN_STRING && t != TOKEN_WORD) {
                        r = -EINVAL;
                        goto bad;
                }
                assign(c, key, value);
                r = next_token(&l, value, sizeof(value), &t);
                if (r < 0 || t != TOKEN_SEMICOLON) {
                        r = r < 0 ? r : -EINVAL;
                        goto bad;
                }
        }
        if (depth != 0) {
                r = -EINVAL;
                goto bad;
        }
        *ret = settings;
        return 0;
bad:
        snprintf(what, what_size, "%s:%u: %s", path, l.line,
                 r == -EOPNOTSUPP ? "#include is not followed: cannot tell what apt's daily job does" :
                 r == -E2BIG      ? "scopes nested too deep" :
                                    "not apt.conf syntax (apt refuses it too)");
        return r;
}

/* apt's Dir::Ignore-Files-Silently, and names apt does not read at all */
static bool apt_reads(const char *name) {
        static const char *const ignored[] = { "~", ".disabled", ".bak", ".save", ".orig", ".distUpgrade", NULL };
        size_t n = strlen(name);

        if (name[0] == '.' || n == 0 || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
                return false;
        for (const char *const *s = ignored; *s; s++)
                if (n >= strlen(*s) && STREQ(name + n - strlen(*s), *s))
                        return false;
        return !strstr(name, ".dpkg-") && !strstr(name, ".ucf-");
}

static int by_name(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int read_apt_file(const char *path, AptPeriodic *c, char *what, size_t what_size) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r = read_file(path, APT_CONF_MAX_SIZE, &text, &size);

        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                snprintf(what, what_size, "%s: %s", path, r == -E2BIG ? "larger than 1 MiB" : strerror(-r));
                return r;
        }
        return apt_conf_periodic(path, text, size, c, what, what_size);
}

static int read_apt_config(const char *root, AptPeriodic *c, char *what, size_t what_size) {
        char dir[4096], path[4096 + 256];
        char *names[APT_CONF_MAX_FILES];
        size_t n = 0;
        struct dirent *e;
        DIR *d;
        int r = 0;

        snprintf(dir, sizeof(dir), "%s/etc/apt/apt.conf.d", root);
        d = opendir(dir);
        if (!d && errno != ENOENT) {
                snprintf(what, what_size, "%s: %s", dir, strerror(errno));
                return -errno;
        }
        while (d && (e = readdir(d)) && n < APT_CONF_MAX_FILES) {
                if (!apt_reads(e->d_name))
                        continue;
                names[n] = strdup(e->d_name);
                if (!names[n]) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        if (d)
                closedir(d);
        qsort(names, n, sizeof(char *), by_name);
        for (size_t i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                if (r >= 0)
                        r = read_apt_file(path, c, what, what_size);
                free(names[i]);
        }
        if (r == -ENOMEM)
                snprintf(what, what_size, "out of memory");
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s/etc/apt/apt.conf", root);
        return read_apt_file(path, c, what, what_size);
}

/* enabled (wanted by timers.target) and not masked, in /etc */
static bool timer_enabled(const char *root, const char *timer) {
        char path[4096], target[64];
        struct stat st;
        ssize_t n;

        snprintf(path, sizeof(path), "%s/etc/systemd/system/%s", root, timer);
        n = readlink(path, target, sizeof(target) - 1);
        if (n >= 0) {
                target[n] = '\0';
                if (STREQ(target, "/dev/null"))
                        return false;
        }
        snprintf(path, sizeof(path), "%s/etc/systemd/system/timers.target.wants/%s", root, timer);
        return lstat(path, &st) == 0;
}

/* As apt.systemd.daily tests it ([ "$x" -eq 0 ]): off only when the value
 * is an integer equal to 0; anything else runs the job. */
static bool is_off(const char *value) {
        char *end;
        long v;

        errno = 0;
        v = strtol(value, &end, 10);
        return end != value && *end == '\0' && errno == 0 && v == 0;
}

/* automatic.conf's booleans */
static bool dnf_false(const char *value) {
        return STREQ(value, "0") || strcasecmp(value, "false") == 0 || strcasecmp(value, "no") == 0 ||
               strcasecmp(value, "off") == 0;
}

/* apply_updates in the [commands] section of an automatic.conf: 1 yes, 0
 * no or not set, negative unreadable. */
static int dnf_applies(const char *path, char *what, size_t what_size) {
        _cleanup_free_ char *text = NULL;
        bool in_commands = false;
        int r = read_file(path, APT_CONF_MAX_SIZE, &text, NULL), applies = 0;

        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                snprintf(what, what_size, "%s: %s", path, strerror(-r));
                return r;
        }
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                char key[64], value[64];
                line += strspn(line, " \t");
                if (*line == '[')
                        in_commands = strncmp(line, "[commands]", 10) == 0;
                else if (in_commands && sscanf(line, " %63[^= \t] = %63s", key, value) == 2 &&
                         STREQ(key, "apply_updates"))
                        applies = !dnf_false(value);
        }
        return applies;
}

int auto_upgrades_find(const char *root, char *what, size_t what_size) {
        static const struct {
                const char *timer, *conf; /* conf NULL: the timer installs by itself */
        } dnf[] = {
                { "dnf-automatic-install.timer", NULL },
                { "dnf-automatic.timer", "etc/dnf/automatic.conf" },
                { "dnf5-automatic.timer", "etc/dnf/dnf5-plugins/automatic.conf" },
        };
        AptPeriodic apt = {};
        char path[4096];
        int r;

        for (size_t i = 0; i < ELEMENTSOF(dnf); i++) {
                if (!timer_enabled(root, dnf[i].timer))
                        continue;
                if (dnf[i].conf) {
                        snprintf(path, sizeof(path), "%s/%s", root, dnf[i].conf);
                        r = dnf_applies(path, what, what_size);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                continue;
                }
                snprintf(what, what_size, "%s is enabled and installs updates%s%s", dnf[i].timer,
                         dnf[i].conf ? ": apply_updates = yes in /" : "", dnf[i].conf ? dnf[i].conf : "");
                return 1;
        }

        snprintf(path, sizeof(path), "%s/usr/bin/unattended-upgrade", root);
        if (access(path, F_OK) < 0) {
                snprintf(what, what_size, "no automatic upgrader: unattended-upgrades is not installed");
                return 0;
        }
        r = read_apt_config(root, &apt, what, what_size);
        if (r < 0)
                return r;
        if (!apt.unattended[0] || is_off(apt.unattended)) {
                snprintf(what, what_size, "unattended-upgrades is installed, but APT::Periodic::Unattended-Upgrade is %s",
                         apt.unattended[0] ? "\"0\"" : "not set");
                return 0;
        }
        if (apt.enable[0] && is_off(apt.enable)) {
                snprintf(what, what_size, "unattended-upgrades is installed, but APT::Periodic::Enable is \"0\"");
                return 0;
        }
        if (!timer_enabled(root, "apt-daily-upgrade.timer")) {
                snprintf(what, what_size, "unattended-upgrades is set up, but apt-daily-upgrade.timer is not enabled "
                         "(or masked)");
                return 0;
        }
        snprintf(what, what_size, "unattended-upgrades installs updates daily: apt-daily-upgrade.timer is enabled and "
                 "APT::Periodic::Unattended-Upgrade is \"%s\"", apt.unattended);
        return 1;
}
