/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/macro.h"
#include "common/text.h"
#include "policy/alert-gate.h"

void alert_filter_done(AlertFilter *f) {
        for (size_t i = 0; i < f->n; i++)
                if (f->matchers[i].compiled)
                        regfree(&f->matchers[i].regex);
        f->n = 0;
}

static bool label_char(char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* What glibc could blow up into gigabytes as it compiles: a counted
 * repetition ({n,m}: each a copy), a repetition of a repetition ("a+*",
 * "(a+)*"), or many repetitions. Alert matchers need none of these. */
static bool risky_regex(const char *re) {
        bool group_has[16] = {}; /* a group, open at each depth, holds a repetition */
        unsigned quantifiers = 0, depth = 0;
        bool after = false, closed_with = false;

        for (const char *c = re; *c; c++) {
                if (*c == '\\' && c[1]) {
                        c++;
                        after = closed_with = false;
                        continue;
                }
                bool q = *c == '*' || *c == '+' || *c == '?';
                if (*c == '{' || (q && (after || closed_with)) || (q && ++quantifiers > 8))
                        return true;
                if (q && depth > 0)
                        group_has[depth - 1] = true;
                closed_with = false;
                if (*c == '(') {
                        if (depth == ELEMENTSOF(group_has))
                                return true;
                        group_has[depth++] = false;
                } else if (*c == ')' && depth > 0) {
                        closed_with = group_has[--depth];
                        if (closed_with && depth > 0)
                                group_has[depth - 1] = true;
                }
                after = q;
        }
        return false;
}

static int parse_one(const char *spec, AlertMatcher *m, char *err, size_t err_size) {
        const char *s = spec;
        size_t n = 0;

        *m = (AlertMatcher){};
        while (*s == ' ')
                s++;
        for (; label_char(*s, n == 0); s++) {
                if (n + 1 >= sizeof(m->name))
                        return text_refuse(err, err_size, "alert matcher \"%.64s\": the label name is too long", spec);
                m->name[n++] = *s;
        }
        if (n == 0)
                return text_refuse(err, err_size, "alert matcher \"%.64s\": expected a label name ([a-zA-Z_][a-zA-Z0-9_]*)",
                            spec);
        while (*s == ' ')
                s++;
        if (s[0] == '=' && s[1] == '~')
                m->op = ALERT_MATCH_REGEX, s += 2;
        else if (s[0] == '!' && s[1] == '~')
                m->op = ALERT_MATCH_NOT_REGEX, s += 2;
        else if (s[0] == '!' && s[1] == '=')
                m->op = ALERT_MATCH_NOT_EQUAL, s += 2;
        else if (s[0] == '=')
                m->op = ALERT_MATCH_EQUAL, s += 1;
        else
                return text_refuse(err, err_size, "alert matcher \"%.64s\": expected =, !=, =~ or !~ after %s", spec, m->name);
        while (*s == ' ')
                s++;
        n = 0;
        if (*s == '"') {
                for (s++; *s && *s != '"'; s++) {
                        if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
                                s++;
                        if (n + 1 >= sizeof(m->value))
                                return text_refuse(err, err_size, "alert matcher \"%.64s\": the value is too long", spec);
                        m->value[n++] = *s;
                }
                if (*s != '"')
                        return text_refuse(err, err_size, "alert matcher \"%.64s\": the quoted value does not end", spec);
                s++;
        } else
                for (; *s && *s != ' '; s++) {
                        if (*s == '"' || n + 1 >= sizeof(m->value))
                                return text_refuse(err, err_size, "alert matcher \"%.64s\": the value is not one", spec);
                        m->value[n++] = *s;
                }
        while (*s == ' ')
                s++;
        if (*s)
                return text_refuse(err, err_size, "alert matcher \"%.64s\": something follows the value", spec);
        if (m->op == ALERT_MATCH_REGEX || m->op == ALERT_MATCH_NOT_REGEX) {
                char anchored[sizeof(m->value) + 8];
                if (risky_regex(m->value))
                        return text_refuse(err, err_size, "alert matcher \"%.64s\": counted repetitions ({n,m}), a repetition "
                                    "of a repetition (\"a+*\") and more than 8 repetitions are refused: they can make "
                                    "the expression huge", spec);
                snprintf(anchored, sizeof(anchored), "^(%s)$", m->value);
                if (regcomp(&m->regex, anchored, REG_EXTENDED | REG_NOSUB) != 0)
                        return text_refuse(err, err_size, "alert matcher \"%.64s\": not a regular expression", spec);
                m->compiled = true;
        }
        return 0;
}

int alert_filter_parse(const char *const *matchers, AlertFilter *ret, char *err, size_t err_size) {
        AlertFilter f = {};
        int r;

        for (const char *const *m = matchers; m && *m; m++) {
                if (f.n == WAVE_ALERT_MATCHERS_MAX) {
                        alert_filter_done(&f);
                        return text_refuse(err, err_size, "more than %d alert matchers", WAVE_ALERT_MATCHERS_MAX);
                }
                if ((r = parse_one(*m, &f.matchers[f.n], err, err_size)) < 0) {
                        alert_filter_done(&f);
                        return r;
                }
                f.n++;
        }
        *ret = f;
        return 0;
}

static bool matches(const AlertMatcher *m, const json_t *labels) {
        const char *v = json_string_value(json_object_get(labels, m->name));

        if (!v)
                v = ""; /* as Alertmanager: a missing label is the empty value */
        switch (m->op) {
        case ALERT_MATCH_EQUAL: return STREQ(v, m->value);
        case ALERT_MATCH_NOT_EQUAL: return !STREQ(v, m->value);
        case ALERT_MATCH_REGEX: return regexec(&m->regex, v, 0, NULL, 0) == 0;
        default: return regexec(&m->regex, v, 0, NULL, 0) != 0;
        }
}

int alert_filter_firing(const AlertFilter *f, const json_t *answer, unsigned *ret_count, char *names,
                        size_t names_size, char *err, size_t err_size) {
        const json_t *alert;
        unsigned count = 0;
        size_t i, used = 0;

        if (names_size)
                names[0] = '\0';
        if (!json_is_array(answer)) {
                snprintf(err, err_size, "Alertmanager's answer is not a list of alerts");
                return -EBADMSG;
        }
        json_array_foreach(answer, i, alert) {
                const json_t *labels = json_object_get(alert, "labels"), *status = json_object_get(alert, "status");
                const char *state = json_string_value(json_object_get(status, "state"));
                bool all = true;

                if (!json_is_object(labels) || !state) {
                        snprintf(err, err_size, "alert %zu of Alertmanager's answer has no labels or no status.state", i);
                        return -EBADMSG;
                }
                /* fail closed: an alert not yet processed may fire; silenced
                 * and inhibited ones are "suppressed" */
                if (STREQ(state, "suppressed"))
                        continue;
                for (size_t k = 0; all && k < f->n; k++)
                        all = matches(&f->matchers[k], labels);
                if (!all)
                        continue;
                count++;
                if (count <= 3 && used + 1 < names_size) {
                        const char *name = json_string_value(json_object_get(labels, "alertname"));
                        const char *instance = json_string_value(json_object_get(labels, "instance"));
                        int n = snprintf(names + used, names_size - used, "%s%s%s%s%s", used ? ", " : "",
                                         name ? name : "(no alertname)", instance ? "{instance=\"" : "",
                                         instance ? instance : "", instance ? "\"}" : "");
                        used = n < 0 ? used : MIN(names_size - 1, used + (size_t) n);
                }
        }
        *ret_count = count;
        return 0;
}
