/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/macro.h"
#include "firewall/exposure.h"

static int bound(int family, int type, const char *address, uint16_t *port) {
        struct sockaddr_storage ss = {};
        socklen_t len;
        int fd = socket(family, type | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        if (family == AF_INET) {
                struct sockaddr_in *a = (struct sockaddr_in *) &ss;
                a->sin_family = AF_INET;
                assert_int_equal(inet_pton(AF_INET, address, &a->sin_addr), 1);
                len = sizeof(*a);
        } else {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
                int on = 1;
                a->sin6_family = AF_INET6;
                assert_int_equal(inet_pton(AF_INET6, address, &a->sin6_addr), 1);
                assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)), 0);
                len = sizeof(*a);
        }
        assert_int_equal(bind(fd, (struct sockaddr *) &ss, len), 0);
        if (type == SOCK_STREAM)
                assert_int_equal(listen(fd, 1), 0);
        len = sizeof(ss);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &ss, &len), 0);
        *port = ntohs(family == AF_INET ? ((struct sockaddr_in *) &ss)->sin_port
                                        : ((struct sockaddr_in6 *) &ss)->sin6_port);
        return fd;
}

static const Listener *find(const Listener *l, int n, uint8_t proto, uint16_t port, int family) {
        for (int i = 0; i < n; i++)
                if (l[i].l4proto == proto && l[i].port == port && l[i].family == family)
                        return &l[i];
        return NULL;
}

/* The kernel's own list, in this process's namespace: sockets opened here
 * are found, with their address, v6-only flag and owner. */
static void test_listeners_from_the_kernel(void **state _unused_) {
        uint16_t tcp_port, udp_port, v6_port;
        int tcp = bound(AF_INET, SOCK_STREAM, "127.0.0.1", &tcp_port);
        int udp = bound(AF_INET, SOCK_DGRAM, "0.0.0.0", &udp_port);
        int v6 = bound(AF_INET6, SOCK_STREAM, "::1", &v6_port);
        Listener *list = NULL;
        char why[256] = "", addr[64], comm[32];
        const Listener *l;
        int n, *pids;

        n = exposure_listeners(&list, why, sizeof(why));
        if (n < 0)
                fail_msg("%s", why);
        l = find(list, n, IPPROTO_TCP, tcp_port, AF_INET);
        assert_non_null(l);
        assert_true(listener_is_loopback(l));
        listener_address(l, addr, sizeof(addr));
        assert_string_equal(addr, "127.0.0.1");
        /* one scan of /proc for all of them */
        pids = calloc(n, sizeof(int));
        assert_non_null(pids);
        assert_int_equal(exposure_socket_owners(list, n, pids), 0);
        assert_int_equal(pids[l - list], getpid());
        assert_int_equal(pids[find(list, n, IPPROTO_UDP, udp_port, AF_INET) - list], getpid());
        exposure_process_name(pids[l - list], comm, sizeof(comm));
        assert_string_equal(comm, "test-exposure");
        exposure_process_name(0, comm, sizeof(comm));
        assert_string_equal(comm, "?");
        free(pids);

        l = find(list, n, IPPROTO_UDP, udp_port, AF_INET);
        assert_non_null(l);
        assert_false(listener_is_loopback(l));
        listener_address(l, addr, sizeof(addr));
        assert_string_equal(addr, "0.0.0.0");

        l = find(list, n, IPPROTO_TCP, v6_port, AF_INET6);
        assert_non_null(l);
        assert_true(l->v6only);
        assert_true(listener_is_loopback(l));
        listener_address(l, addr, sizeof(addr));
        assert_string_equal(addr, "[::1]");

        /* sorted by protocol, then port */
        for (int i = 1; i < n; i++)
                assert_true(list[i - 1].l4proto < list[i].l4proto ||
                            (list[i - 1].l4proto == list[i].l4proto && list[i - 1].port <= list[i].port));
        free(list);
        close(tcp);
        close(udp);
        close(v6);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_listeners_from_the_kernel),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
