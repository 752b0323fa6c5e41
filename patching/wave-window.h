/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* When a wave may start a node: maintenance windows and blackout dates in
 * one IANA time zone, as pure logic over a zone read by the caller
 * (common/timezone.h).
 *
 *   window    "Mon-Fri 22:00 4h", "Sat,Sun 01:30 90m", "* 03:00 1h30m":
 *             days of the week, a start on the wall clock, a length up to
 *             7 days; it may cross midnight. Its start and its end (start +
 *             length) are wall-clock times in the zone: on a DST change day
 *             it lasts an hour more or less. A wall time shown twice (the
 *             clock set back) means its first showing; one never shown (the
 *             clock set forward) means the moment it is skipped.
 *   blackout  "2026-12-24" or "2026-12-24..2026-12-26": whole local days on
 *             which no node starts, whatever the windows say.
 *
 * With no window the wave may start nodes at any time outside blackouts.
 * A node starts only if the window (windows that touch count as one) stays
 * open for what the node may take, so that it never runs past the close. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/timezone.h"

#define WAVE_WINDOWS_MAX 16
#define WAVE_BLACKOUTS_MAX 64
#define WAVE_WINDOW_SPEC_MAX 64

typedef struct WaveWindow {
        uint8_t days;            /* bit d: weekday d, 0 Sunday */
        unsigned start_minute;   /* of the local day */
        unsigned length_minutes; /* 1 .. 7 days */
} WaveWindow;

typedef struct WaveBlackout {
        int64_t first_day, last_day; /* local dates, days since 1970-01-01, inclusive */
} WaveBlackout;

typedef struct WaveSchedule {
        char zone[TIMEZONE_NAME_MAX]; /* the IANA zone of both; "" when no window nor blackout */
        WaveWindow windows[WAVE_WINDOWS_MAX];
        size_t n_windows;
        WaveBlackout blackouts[WAVE_BLACKOUTS_MAX];
        size_t n_blackouts;
} WaveSchedule;

/* Whether the schedule restricts anything. */
bool wave_schedule_active(const WaveSchedule *s);

/* One specification each; -EINVAL with err saying what is wrong. */
int wave_window_parse(const char *spec, WaveWindow *ret, char *err, size_t err_size);
int wave_blackout_parse(const char *spec, WaveBlackout *ret, char *err, size_t err_size);
/* The canonical specification ("Mon-Fri 22:00 4h", "2026-12-24..2026-12-26"),
 * which wave_*_parse read back to the same value. */
void wave_window_format(const WaveWindow *w, char *buf, size_t size);
void wave_blackout_format(const WaveBlackout *b, char *buf, size_t size);

/* The first instant at or after now when a node that may take need_usec
 * may start: inside a window, outside any blackout, with the window open
 * need_usec longer. *ret_close is when that window closes. -ENOENT when
 * there is none within a year. tz is the schedule's zone. */
int wave_schedule_next_start(const WaveSchedule *s, const TimeZone *tz, uint64_t now_usec, uint64_t need_usec,
                             uint64_t *ret_start, uint64_t *ret_close);

/* "2026-12-05 22:00 CET"-like: the local date and time of t in tz, and the
 * offset ("+01:00"). */
void wave_schedule_format_time(const TimeZone *tz, uint64_t usec, char *buf, size_t size);
