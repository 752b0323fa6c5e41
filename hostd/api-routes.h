/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The control API's routes (README: Control API): each call is matched by
 * method and path and answered through the daemon's functions (daemon.h). */

#include "hostd/api-server.h"

/* Routes one control API call; userdata is the Daemon. A ControlHandler,
 * given to daemon_new by hostd-main.c, so that the daemon does not call
 * back into the routes built on it. */
void api_dispatch(ControlCall *call, void *userdata);
