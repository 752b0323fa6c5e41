/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* From the firewall policy (hostd.json "firewall") to the Ruleset hostd
 * applies. The rules, in order, each with a counter and a stable id:
 *
 *   trusted-N        iifname <trusted interface N> accept (lo, Docker's bridges)
 *   established      ct state established,related accept
 *   invalid          ct state invalid drop
 *   icmp             the ICMP IPv4 needs (unreachable, time-exceeded,
 *                    parameter-problem) accept
 *   icmp-echo        ping, rate-limited
 *   icmpv6           the ICMPv6 IPv6 needs (unreachable, packet-too-big,
 *                    time-exceeded, parameter-problem, neighbour and router
 *                    discovery, multicast listener) accept
 *   icmpv6-echo      ping6, rate-limited
 *   dhcpv6-client    replies from link-local DHCPv6 servers
 *   public-tcp       tcp dport @public_tcp accept (443 by default)
 *   peer-tcp-v4/v6   from @peers4/@peers6 to @peer_tcp accept (2377, 7946)
 *   peer-udp-v4/v6   from peers to @peer_udp accept (7946, 4789)
 *   peer-esp-v4/v6   ESP (encrypted overlays) from peers accept
 *   join-v4/v6       from @join4/@join6 ("join-sources") to 2377 accept: a
 *                    node joins before any peer set can name it
 *   ssh-v4/v6        from @management4/@management6 to the SSH port accept
 *   lb-health-v4/v6  from @lb4/@lb6 ("load-balancer.sources") to hostd's
 *                    load-balancer health port accept (only when set)
 *   log-drop         log what is about to be dropped, 5/s at most
 *   drop             drop
 *
 * Peers are the static "peers" plus, when "swarm-peers" is on, the live
 * Swarm node addresses passed in. */

#include "firewall/ruleset.h"
#include "policy/config.h"

/* The port a joining node reaches a manager on (Swarm's, fixed). */
#define FIREWALL_JOIN_PORT 2377

int firewall_build(const FirewallPolicy *policy, const Cidr *live_peers, size_t n_live_peers,
                   Ruleset **ret);
