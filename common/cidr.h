/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* IPv4 and IPv6 prefixes, as policy files write them and the firewall uses
 * them. */

#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 prefix. */
typedef struct Cidr {
        int family; /* AF_INET or AF_INET6 */
        uint8_t address[16]; /* network byte order; 4 bytes used for AF_INET */
        uint8_t prefix;
} Cidr;

/* "10.0.0.0/8", "192.0.2.7" (a /32), "fd00::/64", "2001:db8::1". Host bits
 * set beyond the prefix are an error (-EINVAL), so "10.0.0.1/8" is caught as
 * the typo it usually is. */
int cidr_parse(const char *s, Cidr *ret);
/* Canonical text ("10.0.0.0/8", a bare address for /32 and /128). */
void cidr_format(const Cidr *c, char *buf, size_t size);
