/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cidr.h"

int cidr_parse(const char *s, Cidr *ret) {
        char address[INET6_ADDRSTRLEN + 1];
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t) (slash - s) : strlen(s);
        Cidr c = {};
        unsigned max, bytes;

        if (n == 0 || n >= sizeof(address))
                return -EINVAL;
        memcpy(address, s, n);
        address[n] = 0;

        if (inet_pton(AF_INET, address, c.address) == 1) {
                c.family = AF_INET;
                max = 32;
        } else if (inet_pton(AF_INET6, address, c.address) == 1) {
                c.family = AF_INET6;
                max = 128;
        } else
                return -EINVAL;

        c.prefix = (uint8_t) max;
        if (slash) {
                char *end;
                unsigned long p;

                if (!slash[1] || slash[1] < '0' || slash[1] > '9')
                        return -EINVAL;
                errno = 0;
                p = strtoul(slash + 1, &end, 10);
                if (errno || *end || p > max || (slash[1] == '0' && slash[2]))
                        return -EINVAL;
                c.prefix = (uint8_t) p;
        }

        /* host bits beyond the prefix must be zero */
        bytes = max / 8;
        for (unsigned i = 0; i < bytes; i++) {
                unsigned bit = i * 8;
                uint8_t mask = bit >= c.prefix ? 0 : bit + 8 <= c.prefix ? 0xff
                                                    : (uint8_t) (0xff << (8 - (c.prefix - bit)));
                if (c.address[i] & ~mask)
                        return -EINVAL;
        }
        *ret = c;
        return 0;
}

void cidr_format(const Cidr *c, char *buf, size_t size) {
        char a[INET6_ADDRSTRLEN];
        unsigned max = c->family == AF_INET ? 32 : 128;

        inet_ntop(c->family, c->address, a, sizeof(a));
        if (c->prefix == max)
                snprintf(buf, size, "%s", a);
        else
                snprintf(buf, size, "%s/%u", a, c->prefix);
}
