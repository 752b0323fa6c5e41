/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hostd/event-clock.h"

#include <errno.h>
#include <stdlib.h>

#include "common/clock.h"

struct EventClock {
        sd_event *event;
        uint64_t offset_usec;
        EventClockTimer *timers; /* every timer, to move those armed on advance */
};

struct EventClockTimer {
        EventClock *clock;
        sd_event_source *source;
        uint64_t due_usec; /* the clock's time; UINT64_MAX: off */
        EventClockHandler handler;
        void *userdata;
        EventClockTimer *prev, *next;
};

int event_clock_new(sd_event *event, EventClock **ret) {
        EventClock *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        *ret = c;
        return 0;
}

EventClock *event_clock_free(EventClock *c) {
        if (!c)
                return NULL;
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

uint64_t event_clock_now(const EventClock *c, clockid_t clock) {
        uint64_t now;

        /* the loop's time for this iteration, as sd-event's timers see it */
        if (sd_event_now(c->event, clock, &now) < 0)
                now = clock_usec(clock);
        return now + c->offset_usec;
}

/* The loop's own CLOCK_MONOTONIC time at which the clock reads due. */
static void arm(EventClockTimer *t) {
        uint64_t at = t->due_usec > t->clock->offset_usec ? t->due_usec - t->clock->offset_usec : 1;

        sd_event_source_set_time(t->source, at);
        sd_event_source_set_enabled(t->source, SD_EVENT_ONESHOT);
}

void event_clock_advance(EventClock *c, uint64_t usec) {
        c->offset_usec += usec;
        for (EventClockTimer *t = c->timers; t; t = t->next)
                if (t->due_usec != UINT64_MAX)
                        arm(t);
}

static int on_time(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        EventClockTimer *t = userdata;

        t->due_usec = UINT64_MAX;
        t->handler(t->userdata);
        return 0;
}

int event_clock_timer_new(EventClock *c, uint64_t accuracy_usec, EventClockHandler handler, void *userdata,
                          EventClockTimer **ret) {
        EventClockTimer *t = calloc(1, sizeof(*t));
        int r;

        if (!t)
                return -ENOMEM;
        *t = (EventClockTimer){ .clock = c, .due_usec = UINT64_MAX, .handler = handler, .userdata = userdata };
        r = sd_event_add_time(c->event, &t->source, CLOCK_MONOTONIC, UINT64_MAX, accuracy_usec, on_time, t);
        if (r < 0) {
                free(t);
                return r;
        }
        sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
        t->next = c->timers;
        if (c->timers)
                c->timers->prev = t;
        c->timers = t;
        *ret = t;
        return 0;
}

EventClockTimer *event_clock_timer_free(EventClockTimer *t) {
        if (!t)
                return NULL;
        sd_event_source_disable_unref(t->source);
        if (t->prev)
                t->prev->next = t->next;
        else
                t->clock->timers = t->next;
        if (t->next)
                t->next->prev = t->prev;
        free(t);
        return NULL;
}

void event_clock_timer_set(EventClockTimer *t, uint64_t monotonic_usec) {
        t->due_usec = monotonic_usec == UINT64_MAX ? UINT64_MAX - 1 : monotonic_usec;
        arm(t);
}

void event_clock_timer_off(EventClockTimer *t) {
        t->due_usec = UINT64_MAX;
        sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
}

bool event_clock_timer_armed(const EventClockTimer *t) {
        return t->due_usec != UINT64_MAX;
}
