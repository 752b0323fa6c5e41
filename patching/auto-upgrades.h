/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Automatic upgraders: programs that install packages on a root outside
 * any wave, which defeats the wave's patch set and contends for the package
 * manager's lock during one.
 *   Debian: unattended-upgrades, run by apt-daily-upgrade.timer (apt's
 *     apt.systemd.daily install) when installed
 *     (ROOT/usr/bin/unattended-upgrade), APT::Periodic::Unattended-Upgrade
 *     is not "0", APT::Periodic::Enable is not "0" (apt.conf, as apt reads
 *     it: ROOT/etc/apt/apt.conf.d/ in order, then ROOT/etc/apt/apt.conf), and
 *     the timer is enabled and not masked.
 *   rpm: dnf-automatic-install.timer, or dnf-automatic.timer with
 *     apply_updates = yes in /etc/dnf/automatic.conf, or dnf5-automatic.timer
 *     with it there or, when not set there, in dnf5's defaults
 *     (/usr/share/dnf5/dnf5-plugins/automatic.conf), enabled and not masked.
 * Everything is read from the root's files; nothing is run. */

#include <stddef.h>

/* The two apt.conf settings that decide whether apt's daily job upgrades. */
typedef struct AptPeriodic {
        char unattended[64]; /* APT::Periodic::Unattended-Upgrade, "" not set */
        char enable[64];     /* APT::Periodic::Enable, "" not set */
} AptPeriodic;

/* Reads one apt.conf text as apt's ReadConfigFile does ("Name value;",
 * "Name { ... };" with names joined by "::" across scopes, quoted or bare
 * words, list items, a value ended by "}", comments, #clear) into c, whose
 * settings it overrides as a later file does; c is left as it was when the
 * text is refused. 0, or a negative errno with what naming path:line (the
 * line apt names): -EINVAL for what apt refuses too, with apt's reason,
 * -EOPNOTSUPP for #include (not followed), -E2BIG for scopes nested deeper
 * than 16 or a statement longer than 4 KiB. */
int apt_conf_periodic(const char *path, const char *text, size_t size, AptPeriodic *c, char *what,
                      size_t what_size);

/* 1: an automatic upgrader would install packages (what names it and why);
 * 0: none would (what says why not); a negative errno when it cannot be
 * told (what names the file, and the line, and what is wrong there). */
int auto_upgrades_find(const char *root, char *what, size_t what_size);
