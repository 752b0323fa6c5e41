/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The time the wave's timed steps see (deadlines, soak, backoff, held
 * questions) and timers on it, over an sd-event loop. It is the system's
 * clocks, shifted by event_clock_advance: the daemon never shifts it; a
 * test does, to pass a 30-minute deadline or a backoff's ceiling in no
 * time, with every timer due by then firing on the loop's next run, as it
 * would once that time had passed. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "common/macro.h"

typedef struct EventClock EventClock;
typedef struct EventClockTimer EventClockTimer;

typedef void (*EventClockHandler)(void *userdata);

int event_clock_new(sd_event *event, EventClock **ret);
/* Every timer must be freed first. */
EventClock *event_clock_free(EventClock *c);
DEFINE_CLEANUP_FUNC(EventClock, event_clock_free);

/* CLOCK_MONOTONIC or CLOCK_REALTIME, in microseconds. */
uint64_t event_clock_now(const EventClock *c, clockid_t clock);

/* Moves both clocks forward by usec. */
void event_clock_advance(EventClock *c, uint64_t usec);

/* A one-shot timer, off until set; handler runs from the loop. accuracy_usec
 * lets sd-event coalesce wake-ups. */
int event_clock_timer_new(EventClock *c, uint64_t accuracy_usec, EventClockHandler handler, void *userdata,
                          EventClockTimer **ret);
EventClockTimer *event_clock_timer_free(EventClockTimer *t);
DEFINE_CLEANUP_FUNC(EventClockTimer, event_clock_timer_free);

/* Fires once at monotonic_usec (event_clock_now's CLOCK_MONOTONIC; a time
 * past fires at once), replacing any earlier setting. */
void event_clock_timer_set(EventClockTimer *t, uint64_t monotonic_usec);
void event_clock_timer_off(EventClockTimer *t);
bool event_clock_timer_armed(const EventClockTimer *t);
