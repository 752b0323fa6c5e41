/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A wave's alert gate, as pure logic: which of Alertmanager's alerts hold
 * the wave. Matchers are Alertmanager's own (`severity="critical"`,
 * `alertname=~"Node.*"`, `env!="dev"`, `job!~"batch-.*"`; a bare value
 * needs no quotes); an alert holds the wave when it fires (not silenced,
 * not inhibited) and matches every matcher. Regular expressions are
 * anchored at both ends, as Alertmanager anchors them; counted repetitions
 * ({n,m}), repeated repetitions and more than 8 repetitions are refused, as
 * they can compile into gigabytes. The answer read is that of GET
 * /api/v2/alerts. */

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define WAVE_ALERT_MATCHERS_MAX 16

typedef struct json_t json_t;

typedef enum AlertMatchOp {
        ALERT_MATCH_EQUAL,
        ALERT_MATCH_NOT_EQUAL,
        ALERT_MATCH_REGEX,
        ALERT_MATCH_NOT_REGEX,
} AlertMatchOp;

typedef struct AlertMatcher {
        char name[128];
        AlertMatchOp op;
        char value[256];
        regex_t regex;
        bool compiled;
} AlertMatcher;

typedef struct AlertFilter {
        AlertMatcher matchers[WAVE_ALERT_MATCHERS_MAX];
        size_t n;
} AlertFilter;

/* Parses the matchers (NULL-terminated; none: every firing alert holds).
 * -EINVAL with err naming the matcher and what is wrong. */
int alert_filter_parse(const char *const *matchers, AlertFilter *ret, char *err, size_t err_size);
void alert_filter_done(AlertFilter *f);

/* How many alerts of Alertmanager's answer fire and match: *ret_count, and
 * the first ones as "NodeDown{instance="node-3"}, ..." in names. -EBADMSG
 * with err for an answer that is not a list of Alertmanager's alerts. */
int alert_filter_firing(const AlertFilter *f, const json_t *answer, unsigned *ret_count, char *names,
                        size_t names_size, char *err, size_t err_size);
