/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* IANA time zones, read from their compiled form (TZif, RFC 8536, as in
 * /usr/share/zoneinfo): the UTC offset at any instant, and the instant a
 * wall-clock time shows. Read into a value, not through TZ and tzset(), so
 * that a wave's zone never changes the process's own. Beyond the last
 * transition a zone's footer rule (a POSIX TZ string) gives the offset, as
 * it does for glibc. Zones with leap seconds (right/) are refused. */

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

#define TIMEZONE_DIRECTORY "/usr/share/zoneinfo"
#define TIMEZONE_NAME_MAX 64

typedef struct TimeZone TimeZone;

/* A zone from TZif data; -EINVAL (-ENOMEM) with a message in err naming
 * what is wrong. */
int timezone_parse(const void *data, size_t size, TimeZone **ret, char *err, size_t err_size);

/* The zone name ("Europe/Berlin", "UTC") from directory (NULL: the
 * system's). -EINVAL for a name that is not a zone's (absolute, "..",
 * odd characters), -ENOENT for an unknown one, each with err. */
int timezone_load(const char *directory, const char *name, TimeZone **ret, char *err, size_t err_size);

TimeZone *timezone_free(TimeZone *tz);
DEFINE_CLEANUP_FUNC(TimeZone, timezone_free);

/* Seconds east of UTC at the instant t (seconds since the epoch). */
int32_t timezone_offset(const TimeZone *tz, int64_t t);

/* The instant a wall-clock time (seconds since the epoch as if it were
 * UTC) is shown: a time shown twice (the clock set back) gives the first;
 * a time never shown (the clock set forward over it) gives the moment it
 * was skipped, the transition. */
int64_t timezone_from_local(const TimeZone *tz, int64_t local);

/* Days since 1970-01-01 of a civil date, and back; weekday 0 is Sunday. */
int64_t days_from_civil(int year, unsigned month, unsigned day);
void civil_from_days(int64_t days, int *year, unsigned *month, unsigned *day);
unsigned weekday_from_days(int64_t days);
