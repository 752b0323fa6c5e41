/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Named points where the fault tests kill hostd, as a crash or a power
 * loss would, right after a step was stored: the coordinator's
 * "coordinator-stored-STEP" (a node's wave step written, before the drain
 * or activation that follows it) and the agent's "agent-STEP" (its step
 * record written, before the step's work). Armed by a file of that name in
 * the directory $HOSTD_TEST_CRASH_DIR, which the point removes before it
 * fires: each fires once, whichever restart of hostd reaches it. Without
 * the variable, a point does nothing. */

void crash_point(const char *point);
