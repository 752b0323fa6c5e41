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

/* ---- apt.conf, read as apt's ReadConfigFile reads it ---------------------
 * Line by line: comments ("//", "#" but for "#clear" and "#include", and
 * slash-star comments across lines) are dropped outside quotes; what is left builds up
 * a statement until a "{", ";" or "}" outside quotes ends it. A statement
 * is a tag and a value ("Tag value;"), a tag opening a scope ("Tag {"), or
 * a value alone (a list item). Tags and values are apt's quote-words:
 * quotes are taken out, %xx is decoded. A "}" leaves the scope (or none),
 * scopes left open at the end are closed, a statement left unended is an
 * error, as in apt. */

#define STATEMENT_MAX 4096

typedef struct AptReader {
        AptPeriodic *c;
        char parent[1024];                       /* the scope's full name */
        char stack[APT_CONF_MAX_DEPTH][1024];    /* the enclosing scopes' */
        size_t depth;
        char statement[STATEMENT_MAX];
        size_t length;
        const char *why;                         /* what apt would say */
} AptReader;

static void assign(AptPeriodic *c, const char *key, const char *value) {
        if (strcasecmp(key, "APT::Periodic::Unattended-Upgrade") == 0)
                snprintf(c->unattended, sizeof(c->unattended), "%.63s", value);
        else if (strcasecmp(key, "APT::Periodic::Enable") == 0)
                snprintf(c->enable, sizeof(c->enable), "%.63s", value);
}

/* #clear NAME: the tree at NAME, and NAME itself, as never set */
static void clear_tree(AptPeriodic *c, const char *name) {
        static const char *const keys[] = { "APT::Periodic::Unattended-Upgrade", "APT::Periodic::Enable" };
        size_t n = strlen(name);

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (strcasecmp(keys[i], name) == 0 || (strncasecmp(keys[i], name, n) == 0 && strncmp(keys[i] + n, "::", 2) == 0))
                        (i == 0 ? c->unattended : c->enable)[0] = '\0';
}

static void leave_scope(AptReader *r) {
        if (r->depth == 0)
                r->parent[0] = '\0';
        else
                memcpy(r->parent, r->stack[--r->depth], sizeof(r->parent));
}

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int hex_value(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* apt's ParseQuoteWord: a word up to white space, "..." and [...] held
 * together; quotes taken out and %xx decoded; then past the white space */
static bool quote_word(const char **s, char *out, size_t size) {
        const char *c = *s, *start = *s;
        size_t n = 0;

        while (*c == ' ')
                c++;
        if (!*c)
                return false;
        for (; *c && !is_space(*c); c++) {
                if (*c == '"' && !(c = strchr(c + 1, '"')))
                        return false;
                if (*c == '[' && !(c = strchr(c + 1, ']')))
                        return false;
        }
        for (; start != c && n + 1 < size; start++) {
                if (*start == '%' && start + 2 < c && hex_value(start[1]) >= 0 && hex_value(start[2]) >= 0) {
                        out[n++] = (char) (hex_value(start[1]) * 16 + hex_value(start[2]));
                        start += 2;
                } else if (*start != '"')
                        out[n++] = *start;
        }
        out[n] = '\0';
        while (*c && is_space(*c))
                c++;
        *s = c;
        return true;
}

/* apt's ParseCWord: only quoted strings to the end, joined by a space */
static bool c_word(const char **s, char *out, size_t size) {
        const char *c = *s, *begin = *s;
        size_t n = 0;

        while (*c == ' ')
                c++;
        if (!*c || strlen(*s) >= size)
                return false;
        for (; *c; c++) {
                if (*c == '"') {
                        for (c++; *c && *c != '"'; c++)
                                out[n++] = *c;
                        if (!*c)
                                return false;
                        continue;
                }
                if (c != begin && is_space(*c) && is_space(c[-1]))
                        continue;
                if (!is_space(*c))
                        return false;
                out[n++] = ' ';
        }
        out[n] = '\0';
        *s = c;
        return true;
}

/* A statement ended by term ('{', ';' or '}'). */
static int statement_end(AptReader *r, char term) {
        char tag[1024], word[1024], item[2048 + 2];
        const char *pos = r->statement;
        bool no_word = false;

        if (term == '{' && r->length == 0) {
                r->why = "block starts with no name";
                return -EINVAL;
        }
        if (r->length == 0) {
                if (term == '}')
                        leave_scope(r);
                return 0;
        }
        if (!quote_word(&pos, tag, sizeof(tag))) {
                r->why = "malformed tag";
                return -EINVAL;
        }
        if (!c_word(&pos, word, sizeof(word)) && !quote_word(&pos, word, sizeof(word))) {
                if (term != '{') {
                        memcpy(word, tag, sizeof(word)); /* a list item */
                        tag[0] = '\0';
                } else
                        no_word = true;
        }
        if (*pos) {
                r->why = "extra junk after value";
                return -EINVAL;
        }
        if (term == '{') {
                if (r->depth == APT_CONF_MAX_DEPTH)
                        return -E2BIG;
                memcpy(r->stack[r->depth++], r->parent, sizeof(r->parent));
                if (r->parent[0])
                        snprintf(r->parent + strlen(r->parent), sizeof(r->parent) - strlen(r->parent), "::%s", tag);
                else
                        snprintf(r->parent, sizeof(r->parent), "%s", tag);
                tag[0] = '\0';
        }
        if (!r->parent[0])
                snprintf(item, sizeof(item), "%s", tag);
        else if (term != '{' || tag[0])
                snprintf(item, sizeof(item), "%s::%s", r->parent, tag);
        else
                snprintf(item, sizeof(item), "%s", r->parent);

        if (tag[0] == '#') {
                if (r->parent[0]) {
                        r->why = "directives can only be done at the top level";
                        return -EINVAL;
                }
                if (STREQ(tag + 1, "clear"))
                        clear_tree(r->c, word);
                else if (STREQ(tag + 1, "include"))
                        return -EOPNOTSUPP;
                else if (!STREQ(tag + 1, "x-apt-configure-index")) {
                        r->why = "unsupported directive";
                        return -EINVAL;
                }
        } else if (!tag[0] && !no_word && STREQ(word, "#clear")) {
                r->why = "clear directive requires an option tree as argument";
                return -EINVAL;
        } else if (!no_word)
                assign(r->c, item, word);
        r->length = 0;
        r->statement[0] = '\0';
        if (term == '}')
                leave_scope(r);
        return 0;
}

/* Appends text[0..n) trimmed to the statement, a space between pieces. */
static int statement_add(AptReader *r, const char *text, size_t n) {
        while (n && is_space(*text))
                text++, n--;
        while (n && is_space(text[n - 1]))
                n--;
        if (n == 0)
                return 0;
        if (r->length + n + 2 >= sizeof(r->statement))
                return -E2BIG;
        if (r->length)
                r->statement[r->length++] = ' ';
        memcpy(r->statement + r->length, text, n);
        r->length += n;
        r->statement[r->length] = '\0';
        return 0;
}

int apt_conf_periodic(const char *path, const char *text, size_t size, AptPeriodic *ret, char *what,
                      size_t what_size) {
        AptPeriodic settings = *ret; /* *ret changed only when the whole text reads */
        _cleanup_free_ AptReader *r = calloc(1, sizeof(AptReader));
        _cleanup_free_ char *line = malloc(size + 1), *fragment = malloc(size + 1);
        bool in_comment = false;
        unsigned number = 0;
        int e = 0;

        if (!r || !line || !fragment)
                return -ENOMEM;
        r->c = &settings;
        for (size_t at = 0; at < size && e >= 0;) {
                const char *nl = memchr(text + at, '\n', size - at);
                size_t n = nl ? (size_t) (nl - (text + at)) : size - at, len = 0, f = 0;

                /* the line, a NUL in it ending it as in apt's getline into a C string */
                for (size_t k = 0; k < n && text[at + k]; k++)
                        line[len++] = text[at + k];
                line[len] = '\0';
                at += n + 1;
                number++;

                char *l = line;
                if (in_comment) {
                        char *end = strstr(l, "*/");
                        if (!end)
                                continue;
                        l = end + 2;
                        in_comment = false;
                }
                /* "//" and "#" comments, outside quotes (counted from the line's
                 * start); #clear and #include stay */
                bool q = false;
                for (char *c = l; *c; c++) {
                        if (*c == '"')
                                q = !q;
                        else if (!q && ((c[0] == '/' && c[1] == '/') ||
                                        (c[0] == '#' && strncmp(c + 1, "clear", 5) != 0 &&
                                         strncmp(c + 1, "include", 7) != 0 &&
                                         strncmp(c + 1, "x-apt-configure-index", 21) != 0))) {
                                *c = '\0';
                                break;
                        }
                }
                /* slash-star comments, possibly to a later line; quotes are
                 * counted afresh after each, as apt does */
                q = false;
                for (const char *c = l; *c;) {
                        if (*c == '"')
                                q = !q;
                        else if (!q && c[0] == '/' && c[1] == '*') {
                                const char *close = strstr(c + 2, "*/");
                                if (!close) {
                                        in_comment = true;
                                        break;
                                }
                                c = close + 2;
                                q = false;
                                continue;
                        }
                        fragment[f++] = *c++;
                }
                fragment[f] = '\0';

                bool quoted = false;
                size_t start = 0;
                for (size_t i = 0; i < f && e >= 0; i++) {
                        if (fragment[i] == '"')
                                quoted = !quoted;
                        if (quoted || (fragment[i] != '{' && fragment[i] != ';' && fragment[i] != '}'))
                                continue;
                        if ((e = statement_add(r, fragment + start, i - start)) >= 0)
                                e = statement_end(r, fragment[i]);
                        start = i + 1;
                }
                if (e >= 0)
                        e = statement_add(r, fragment + start, f - start);
        }
        if (e >= 0 && r->length) {
                r->why = "extra junk at end of file";
                e = -EINVAL;
                number += size > 0 && text[size - 1] == '\n'; /* apt counts the line after the last newline */
        }
        if (e < 0) {
                snprintf(what, what_size, "%s:%u: %s%s", path, number,
                         e == -EOPNOTSUPP ? "#include is not followed: cannot tell what apt's daily job does" :
                         e == -E2BIG      ? "scopes nested too deep or a statement too long" :
                                            "not apt.conf syntax (apt refuses it too): ",
                         e == -EINVAL && r->why ? r->why : "");
                return e;
        }
        *ret = settings;
        return 0;
}

/* The names apt's ReadConfigDir reads (GetListOfFilesInDir with "conf",
 * files without an extension allowed): no leading dot, only letters,
 * digits, "_", "-", ":" and ".", not ending in "."; an extension, if any,
 * "conf". */
static bool apt_reads(const char *name) {
        size_t n = strlen(name);
        const char *dot = strrchr(name, '.');

        if (n == 0 || name[0] == '.' || name[n - 1] == '.' ||
            strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-:.") != n)
                return false;
        return !dot || STREQ(dot + 1, "conf");
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

#define DNF_NOT_SET 2

/* apply_updates in the [commands] section of an automatic.conf: 1 yes, 0
 * no, DNF_NOT_SET (no file, or no such line), negative unreadable. */
static int dnf_applies(const char *path, char *what, size_t what_size) {
        _cleanup_free_ char *text = NULL;
        bool in_commands = false;
        int r = read_file(path, APT_CONF_MAX_SIZE, &text, NULL), applies = DNF_NOT_SET;

        if (r == -ENOENT)
                return DNF_NOT_SET;
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
                const char *timer;
                const char *conf, *defaults; /* conf NULL: the timer installs by itself; defaults: read
                                              * when conf does not set apply_updates */
        } dnf[] = {
                { "dnf-automatic-install.timer", NULL, NULL },
                { "dnf-automatic.timer", "etc/dnf/automatic.conf", NULL },
                /* dnf5: the distribution's defaults, overridden by the host's */
                { "dnf5-automatic.timer", "etc/dnf/automatic.conf", "usr/share/dnf5/dnf5-plugins/automatic.conf" },
        };
        AptPeriodic apt = {};
        char path[4096];
        int r;

        for (size_t i = 0; i < ELEMENTSOF(dnf); i++) {
                const char *from = dnf[i].conf;
                if (!timer_enabled(root, dnf[i].timer))
                        continue;
                if (dnf[i].conf) {
                        snprintf(path, sizeof(path), "%s/%s", root, dnf[i].conf);
                        r = dnf_applies(path, what, what_size);
                        if (r == DNF_NOT_SET && dnf[i].defaults) {
                                from = dnf[i].defaults;
                                snprintf(path, sizeof(path), "%s/%s", root, dnf[i].defaults);
                                r = dnf_applies(path, what, what_size);
                        }
                        if (r < 0)
                                return r;
                        if (r != 1)
                                continue; /* no, or not set: apply_updates is off by default */
                }
                snprintf(what, what_size, "%s is enabled and installs updates%s%s", dnf[i].timer,
                         from ? ": apply_updates = yes in /" : "", from ? from : "");
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
