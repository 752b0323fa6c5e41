/* SPDX-License-Identifier: GPL-2.0-or-later */
/* New TCP connections per second, each a SYN that the firewall judges by
 * its source address (the peer set lookup on the path), not an established
 * stream.
 *   connect-rate server ADDR PORT           accepts and closes, forever
 *   connect-rate client ADDR PORT SECONDS   connects and closes in a loop;
 *                                           prints connections per second */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        struct linger no_linger = { .l_onoff = 1, .l_linger = 0 };
        int one = 1;

        if (argc < 4 || inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
                fprintf(stderr, "usage: connect-rate server ADDR PORT | client ADDR PORT SECONDS\n");
                return 2;
        }
        sa.sin_port = htons((uint16_t) atoi(argv[3]));
        if (strcmp(argv[1], "server") == 0) {
                int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
                    bind(s, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(s, 4096) < 0) {
                        perror("server");
                        return 1;
                }
                for (;;) {
                        int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
                        if (c >= 0)
                                close(c);
                }
        }
        if (argc != 5)
                return 2;
        double seconds = atof(argv[4]), start = now_s(), end = start + seconds;
        unsigned long n = 0;
        while (now_s() < end) {
                int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (c < 0) {
                        perror("socket");
                        return 1;
                }
                /* a reset at close: no TIME_WAIT piling up over the run */
                setsockopt(c, SOL_SOCKET, SO_LINGER, &no_linger, sizeof(no_linger));
                if (connect(c, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                        perror("connect");
                        return 1;
                }
                close(c);
                n++;
        }
        printf("%.0f\n", n / (now_s() - start));
        return 0;
}
