/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What could be reached from outside: the sockets listening in this
 * network namespace, as the kernel lists them (NETLINK_SOCK_DIAG: TCP in
 * LISTEN, UDP bound and unconnected, IPv4 and IPv6), crossed with the
 * firewall table (ruleset_verdict_from_outside). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firewall/ruleset.h"

typedef struct Listener {
        int family;          /* AF_INET or AF_INET6 */
        uint8_t l4proto;     /* IPPROTO_TCP or IPPROTO_UDP */
        uint8_t addr[16];    /* the bound address (4 bytes for AF_INET); all zero: any */
        uint16_t port;
        uint32_t ifindex;    /* bound to a device (SO_BINDTODEVICE); 0: not */
        uint64_t inode;      /* the socket's inode, to find its process */
        bool v6only;         /* AF_INET6 only: not reachable over IPv4 */
} Listener;

/* Every listening socket, sorted by protocol and port. Returns the count
 * or a negative errno with err. */
int exposure_listeners(Listener **ret, char *err, size_t err_size);

/* Bound to the loopback address (127/8, ::1): unreachable from any other
 * interface, whatever the table says. */
bool listener_is_loopback(const Listener *l);

/* "0.0.0.0", "[::]", "10.0.0.1", "[fd00::1]" */
void listener_address(const Listener *l, char *buf, size_t size);

/* The processes holding the sockets, in one scan of the /proc/PID/fd
 * links: pids[i] for l[i], 0 when none is found (another namespace, a
 * process gone). */
int exposure_socket_owners(const Listener *l, size_t n, int *pids);

/* A process's command name (/proc/PID/comm), "?" when it is gone. */
void exposure_process_name(int pid, char *buf, size_t size);
