/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "firewall/exposure.h"

typedef struct Collect {
        Listener *list;
        size_t n, capacity;
        int family;
        uint8_t l4proto;
        int error;
} Collect;

static int on_attr(const struct nlattr *a, void *data) {
        const struct nlattr **tb = data;

        if (mnl_attr_type_valid(a, INET_DIAG_MAX) > 0)
                tb[mnl_attr_get_type(a)] = a;
        return MNL_CB_OK;
}

static int on_message(const struct nlmsghdr *nlh, void *data) {
        Collect *c = data;
        const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *tb[INET_DIAG_MAX + 1] = {};
        Listener l = {};

        if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
                return MNL_CB_ERROR;
        l.family = m->idiag_family;
        l.l4proto = c->l4proto;
        l.port = ntohs(m->id.idiag_sport);
        l.ifindex = m->id.idiag_if;
        l.inode = m->idiag_inode;
        memcpy(l.addr, m->id.idiag_src, l.family == AF_INET ? 4 : 16);
        if (l.port == 0)
                return MNL_CB_OK; /* not bound */
        mnl_attr_parse(nlh, sizeof(*m), on_attr, tb);
        if (tb[INET_DIAG_SKV6ONLY] && mnl_attr_get_payload_len(tb[INET_DIAG_SKV6ONLY]) >= 1)
                l.v6only = mnl_attr_get_u8(tb[INET_DIAG_SKV6ONLY]);
        if (c->n == c->capacity) {
                size_t cap = c->capacity ? c->capacity * 2 : 64;
                Listener *grown = realloc(c->list, cap * sizeof(Listener));
                if (!grown) {
                        c->error = -ENOMEM;
                        return MNL_CB_ERROR;
                }
                c->list = grown;
                c->capacity = cap;
        }
        c->list[c->n++] = l;
        return MNL_CB_OK;
}

static int dump(struct mnl_socket *nl, Collect *c, char *err, size_t err_size) {
        char buf[32768];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct inet_diag_req_v2 *req;
        unsigned seq = (unsigned) time(NULL) + (unsigned) c->family * 16 + c->l4proto;
        unsigned portid = mnl_socket_get_portid(nl);
        int r;

        nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = seq;
        req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
        req->sdiag_family = (uint8_t) c->family;
        req->sdiag_protocol = c->l4proto;
        /* TCP listening; UDP bound and not connected (the kernel keeps
         * those in the state TCP calls "close") */
        req->idiag_states = c->l4proto == IPPROTO_TCP ? 1u << TCP_LISTEN : 1u << TCP_CLOSE;
        /* INET_DIAG_SKV6ONLY comes with every IPv6 socket, unasked */
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
                snprintf(err, err_size, "sock_diag request: %m");
                return -errno;
        }
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
                if (n < 0) {
                        snprintf(err, err_size, "sock_diag answer: %m");
                        return -errno;
                }
                r = mnl_cb_run(buf, (size_t) n, seq, portid, on_message, c);
                if (r == MNL_CB_STOP)
                        return 0;
                if (r < 0) {
                        r = c->error ? c->error : -errno;
                        snprintf(err, err_size, "sock_diag: %s", strerror(-r));
                        return r;
                }
        }
}

static int compare_listeners(const void *a, const void *b) {
        const Listener *x = a, *y = b;

        if (x->l4proto != y->l4proto)
                return x->l4proto < y->l4proto ? -1 : 1;
        if (x->port != y->port)
                return x->port < y->port ? -1 : 1;
        if (x->family != y->family)
                return x->family < y->family ? -1 : 1;
        return memcmp(x->addr, y->addr, sizeof(x->addr));
}

int exposure_listeners(Listener **ret, char *err, size_t err_size) {
        static const int families[] = { AF_INET, AF_INET6 };
        static const uint8_t protocols[] = { IPPROTO_TCP, IPPROTO_UDP };
        struct mnl_socket *nl;
        Collect c = {};
        int r = 0;

        nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
        if (!nl) {
                snprintf(err, err_size, "cannot open a sock_diag netlink socket: %m");
                return -errno;
        }
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                r = -errno;
                snprintf(err, err_size, "cannot bind the sock_diag socket: %m");
                goto out;
        }
        for (size_t f = 0; f < ELEMENTSOF(families) && r >= 0; f++)
                for (size_t p = 0; p < ELEMENTSOF(protocols) && r >= 0; p++) {
                        c.family = families[f];
                        c.l4proto = protocols[p];
                        r = dump(nl, &c, err, err_size);
                }
out:
        mnl_socket_close(nl);
        if (r < 0) {
                free(c.list);
                return r;
        }
        if (c.n > 0)
                qsort(c.list, c.n, sizeof(Listener), compare_listeners);
        *ret = c.list;
        return (int) c.n;
}

bool listener_is_loopback(const Listener *l) {
        static const uint8_t v6_loopback[16] = { [15] = 1 };

        if (l->family == AF_INET)
                return l->addr[0] == 127;
        return memcmp(l->addr, v6_loopback, 16) == 0;
}

void listener_address(const Listener *l, char *buf, size_t size) {
        char text[INET6_ADDRSTRLEN] = "?";

        inet_ntop(l->family, l->addr, text, sizeof(text));
        snprintf(buf, size, l->family == AF_INET6 ? "[%s]" : "%s", text);
}

int exposure_socket_owners(const Listener *l, size_t n, int *pids) {
        char path[300], link[64];
        DIR *proc = opendir("/proc");
        struct dirent *de;
        size_t found = 0;

        memset(pids, 0, n * sizeof(int));
        if (!proc)
                return -errno;
        while (found < n && (de = readdir(proc))) {
                DIR *fds;
                struct dirent *fe;
                int pid = atoi(de->d_name);

                if (pid <= 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/fd", pid);
                fds = opendir(path);
                if (!fds)
                        continue;
                while ((fe = readdir(fds))) {
                        unsigned long long inode;
                        ssize_t len;
                        if (fe->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, fe->d_name);
                        len = readlink(path, link, sizeof(link) - 1);
                        if (len <= 0)
                                continue;
                        link[len] = '\0';
                        if (sscanf(link, "socket:[%llu]", &inode) != 1)
                                continue;
                        for (size_t i = 0; i < n; i++)
                                if (!pids[i] && l[i].inode == inode) {
                                        pids[i] = pid;
                                        found++;
                                }
                }
                closedir(fds);
        }
        closedir(proc);
        return 0;
}

void exposure_process_name(int pid, char *buf, size_t size) {
        char path[64];
        int fd;
        ssize_t len = -1;

        snprintf(path, sizeof(path), "/proc/%d/comm", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                len = read(fd, buf, size - 1);
                close(fd);
        }
        if (len <= 0) {
                snprintf(buf, size, "?");
                return;
        }
        buf[len] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
}
