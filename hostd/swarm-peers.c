/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "hostd/docker-client.h"
#include "hostd/swarm-peers.h"

#define STATE_FILE_MAX (1024 * 1024)

typedef struct NodeEntry {
        char *id;
        Cidr advertise[2]; /* Status.Addr, ManagerStatus.Addr's host */
        size_t n_advertise;
        Cidr reported[SWARM_NODE_ADDRESSES_MAX];
        size_t n_reported;
        bool listed;       /* in the last node list */
        bool has_report;
} NodeEntry;

struct SwarmPeers {
        NodeEntry *nodes;
        size_t n_nodes;
        Cidr *set;         /* swarm_peers_list */
        size_t n_set;
        bool known;        /* a node list was read */
};

static void node_entry_done(NodeEntry *e) {
        free(e->id);
        e->id = NULL;
}

int swarm_peers_new(SwarmPeers **ret) {
        SwarmPeers *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

SwarmPeers *swarm_peers_free(SwarmPeers *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_nodes; i++)
                node_entry_done(&p->nodes[i]);
        free(p->nodes);
        free(p->set);
        free(p);
        return NULL;
}

static int cidr_compare(const void *a, const void *b) {
        const Cidr *x = a, *y = b;

        if (x->family != y->family)
                return x->family < y->family ? -1 : 1;
        return memcmp(x->address, y->address, sizeof(x->address));
}

/* Sorts and drops repeats, in place; the new length. */
static size_t sort_unique(Cidr *list, size_t n) {
        size_t k = 0;

        if (n == 0)
                return 0;
        qsort(list, n, sizeof(Cidr), cidr_compare);
        for (size_t i = 1; i < n; i++)
                if (cidr_compare(&list[k], &list[i]) != 0)
                        list[++k] = list[i];
        return k + 1;
}

static bool address_unset(const Cidr *c) {
        static const uint8_t zero[16];
        return memcmp(c->address, zero, c->family == AF_INET ? 4 : 16) == 0;
}

/* A host address as Docker or a node writes it: "10.0.0.1",
 * "10.0.0.1:2377", "[fd00::1]:2377", "fd00::1". */
static int parse_address(const char *text, Cidr *ret) {
        char host[64];

        if (docker_address_host(text, host, sizeof(host)) < 0 || cidr_parse(host, ret) < 0)
                return -EINVAL;
        return 0;
}

/* Rebuilds the set from the entries; 1 when it differs from before. */
static int rebuild(SwarmPeers *p) {
        size_t total = 0, n = 0;
        Cidr *set;

        for (size_t i = 0; i < p->n_nodes; i++)
                if (p->nodes[i].listed)
                        total += p->nodes[i].n_advertise + p->nodes[i].n_reported;
        set = calloc(MAX(total, 1u), sizeof(Cidr));
        if (!set)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_nodes; i++) {
                const NodeEntry *e = &p->nodes[i];
                if (!e->listed)
                        continue;
                memcpy(set + n, e->advertise, e->n_advertise * sizeof(Cidr));
                n += e->n_advertise;
                memcpy(set + n, e->reported, e->n_reported * sizeof(Cidr));
                n += e->n_reported;
        }
        n = sort_unique(set, n);
        bool changed = n != p->n_set || (n > 0 && memcmp(set, p->set, n * sizeof(Cidr)) != 0);
        free(p->set);
        p->set = set;
        p->n_set = n;
        return changed;
}

static NodeEntry *find_node(const SwarmPeers *p, const char *id) {
        for (size_t i = 0; i < p->n_nodes; i++)
                if (STREQ(p->nodes[i].id, id))
                        return &p->nodes[i];
        return NULL;
}

static NodeEntry *add_node(SwarmPeers *p, const char *id) {
        NodeEntry *nodes = realloc(p->nodes, (p->n_nodes + 1) * sizeof(NodeEntry));

        if (!nodes)
                return NULL;
        p->nodes = nodes;
        NodeEntry *e = &p->nodes[p->n_nodes];
        *e = (NodeEntry){ .id = strdup(id) };
        if (!e->id)
                return NULL;
        p->n_nodes++;
        return e;
}

static void add_advertise(NodeEntry *e, const char *text) {
        Cidr c;

        if (!text || !*text || e->n_advertise >= ELEMENTSOF(e->advertise) || parse_address(text, &c) < 0 ||
            address_unset(&c))
                return;
        for (size_t i = 0; i < e->n_advertise; i++)
                if (cidr_compare(&e->advertise[i], &c) == 0)
                        return;
        e->advertise[e->n_advertise++] = c;
}

int swarm_peers_set_nodes(SwarmPeers *p, const json_t *nodes) {
        const json_t *node;
        size_t i;

        if (!json_is_array(nodes))
                return -EPROTO;
        json_array_foreach(nodes, i, node)
                if (!json_is_string(json_object_get(node, "ID")) || !*json_string_value(json_object_get(node, "ID")))
                        return -EPROTO;

        for (i = 0; i < p->n_nodes; i++) {
                p->nodes[i].listed = false;
                p->nodes[i].n_advertise = 0;
        }
        json_array_foreach(nodes, i, node) {
                const char *id = json_string_value(json_object_get(node, "ID"));
                NodeEntry *e = find_node(p, id) ?: add_node(p, id);
                if (!e)
                        return -ENOMEM;
                e->listed = true;
                add_advertise(e, json_string_value(json_object_get(json_object_get(node, "Status"), "Addr")));
                add_advertise(e, json_string_value(json_object_get(json_object_get(node, "ManagerStatus"), "Addr")));
        }
        /* a node removed from the Swarm takes its report with it */
        size_t k = 0;
        for (i = 0; i < p->n_nodes; i++) {
                if (p->nodes[i].listed)
                        p->nodes[k++] = p->nodes[i];
                else
                        node_entry_done(&p->nodes[i]);
        }
        p->n_nodes = k;
        p->known = true;
        return rebuild(p);
}

bool swarm_peers_known(const SwarmPeers *p) {
        return p->known;
}

/* Reads an array of host addresses into list (room for max); -EINVAL with
 * err "NAME[i]: ..." */
static int read_addresses(const json_t *array, const char *name, size_t max, Cidr *list, size_t *ret_n, char *err,
                          size_t err_size) {
        const json_t *v;
        size_t i;

        if (!json_is_array(array)) {
                snprintf(err, err_size, "%s: expected an array of addresses", name);
                return -EINVAL;
        }
        if (json_array_size(array) > max) {
                snprintf(err, err_size, "%s: %zu addresses, more than the %zu allowed", name, json_array_size(array),
                         max);
                return -EINVAL;
        }
        json_array_foreach(array, i, v) {
                const char *text = json_string_value(v);
                Cidr c;

                if (!text) {
                        snprintf(err, err_size, "%s[%zu]: expected a string", name, i);
                        return -EINVAL;
                }
                /* a host, never a prefix: a whole network as a peer would
                 * open the Swarm's ports to it */
                if (strchr(text, '/') || cidr_parse(text, &c) < 0) {
                        snprintf(err, err_size, "%s[%zu]: \"%.64s\" is not an IPv4 or IPv6 address", name, i, text);
                        return -EINVAL;
                }
                if (address_unset(&c)) {
                        snprintf(err, err_size, "%s[%zu]: \"%.64s\" is the unspecified address", name, i, text);
                        return -EINVAL;
                }
                if (list)
                        list[i] = c;
        }
        *ret_n = json_array_size(array);
        return 0;
}

int swarm_peers_check_report(const json_t *addresses, char *err, size_t err_size) {
        size_t n;
        return read_addresses(addresses, "addresses", SWARM_NODE_ADDRESSES_MAX, NULL, &n, err, err_size);
}

int swarm_peers_put_report(SwarmPeers *p, const char *node_id, const json_t *addresses, char *err,
                           size_t err_size) {
        Cidr list[SWARM_NODE_ADDRESSES_MAX];
        size_t n;
        int r;

        r = read_addresses(addresses, "addresses", SWARM_NODE_ADDRESSES_MAX, list, &n, err, err_size);
        if (r < 0)
                return r;
        NodeEntry *e = find_node(p, node_id) ?: add_node(p, node_id);
        if (!e)
                return -ENOMEM;
        n = sort_unique(list, n);
        e->has_report = true;
        if (n == e->n_reported && memcmp(list, e->reported, n * sizeof(Cidr)) == 0)
                return 0;
        memcpy(e->reported, list, n * sizeof(Cidr));
        e->n_reported = n;
        return rebuild(p);
}

json_t *swarm_peers_reports_to_json(const SwarmPeers *p) {
        json_t *all = json_object();
        char text[64];

        for (size_t i = 0; all && i < p->n_nodes; i++) {
                const NodeEntry *e = &p->nodes[i];
                json_t *list;

                if (!e->has_report)
                        continue;
                list = json_array();
                for (size_t k = 0; list && k < e->n_reported; k++) {
                        cidr_format(&e->reported[k], text, sizeof(text));
                        if (json_array_append_new(list, json_string(text)) < 0)
                                json_decref(TAKE_PTR(list));
                }
                if (!list || json_object_set_new(all, e->id, list) < 0) {
                        json_decref(all);
                        return NULL;
                }
        }
        return all;
}

int swarm_peers_reports_from_json(SwarmPeers *p, const json_t *reports, char *err, size_t err_size) {
        const char *id;
        const json_t *list;
        char why[200];

        if (!json_is_object(reports)) {
                snprintf(err, err_size, "expected an object of node IDs");
                return -EINVAL;
        }
        json_object_foreach((json_t *) reports, id, list)
                if (swarm_peers_check_report(list, why, sizeof(why)) < 0) {
                        snprintf(err, err_size, "node %.64s: %s", id, why);
                        return -EINVAL;
                }
        json_object_foreach((json_t *) reports, id, list) {
                int r = swarm_peers_put_report(p, id, list, why, sizeof(why));
                if (r < 0)
                        return r;
        }
        return 0;
}

bool swarm_peers_has_report(const SwarmPeers *p, const char *node_id) {
        const NodeEntry *e = node_id ? find_node(p, node_id) : NULL;
        return e && e->has_report;
}

const Cidr *swarm_peers_list(const SwarmPeers *p, size_t *ret_n) {
        *ret_n = p->n_set;
        return p->set;
}

uint64_t swarm_peers_digest(const SwarmPeers *p) {
        uint64_t h = 14695981039346656037ULL;

        for (size_t i = 0; i < p->n_set; i++) {
                const uint8_t *b = (const uint8_t *) &p->set[i];
                /* family and address: the prefix is always the host's */
                uint8_t family = (uint8_t) p->set[i].family;
                h = (h ^ family) * 1099511628211ULL;
                for (size_t k = 0; k < sizeof(p->set[i].address); k++)
                        h = (h ^ b[offsetof(Cidr, address) + k]) * 1099511628211ULL;
        }
        return h & INT64_MAX;
}

json_t *swarm_peers_to_json(const SwarmPeers *p) {
        json_t *list = json_array();
        char text[64];

        for (size_t i = 0; list && i < p->n_set; i++) {
                cidr_format(&p->set[i], text, sizeof(text));
                if (json_array_append_new(list, json_string(text)) < 0) {
                        json_decref(list);
                        return NULL;
                }
        }
        return list;
}

int swarm_peers_parse(const json_t *list, Cidr **ret, size_t *ret_n, char *err, size_t err_size) {
        /* read_addresses refuses a list over the bound before it writes */
        size_t n = json_is_array(list) ? MIN(json_array_size(list), (size_t) SWARM_PEERS_MAX) : 0;
        _cleanup_free_ Cidr *peers = calloc(MAX(n, 1u), sizeof(Cidr));
        int r;

        if (!peers)
                return -ENOMEM;
        r = read_addresses(list, "peers", SWARM_PEERS_MAX, peers, &n, err, err_size);
        if (r < 0)
                return r;
        *ret_n = sort_unique(peers, n);
        *ret = TAKE_PTR(peers);
        return 0;
}

static int append_string(json_t *list, const char *text) {
        const json_t *v;
        size_t i;

        json_array_foreach(list, i, v)
                if (STREQ(json_string_value(v), text))
                        return 0;
        if (json_array_size(list) >= SWARM_NODE_ADDRESSES_MAX)
                return 0;
        return json_array_append_new(list, json_string(text)) < 0 ? -ENOMEM : 0;
}

/* The global addresses of interface name (Docker takes the first; any of
 * them may carry the node's traffic). */
static int interface_addresses(const char *name, json_t *list, char *err, size_t err_size) {
        struct ifaddrs *all, *a;
        bool found = false;
        int r = 0;

        if (getifaddrs(&all) < 0)
                return -errno;
        for (a = all; a && r >= 0; a = a->ifa_next) {
                char text[INET6_ADDRSTRLEN];
                const void *addr;

                if (!a->ifa_addr || !STREQ(a->ifa_name, name))
                        continue;
                if (a->ifa_addr->sa_family == AF_INET)
                        addr = &((const struct sockaddr_in *) (const void *) a->ifa_addr)->sin_addr;
                else if (a->ifa_addr->sa_family == AF_INET6) {
                        const struct in6_addr *a6 = &((const struct sockaddr_in6 *) (const void *) a->ifa_addr)->sin6_addr;
                        if (IN6_IS_ADDR_LINKLOCAL(a6))
                                continue;
                        addr = a6;
                } else
                        continue;
                if (!inet_ntop(a->ifa_addr->sa_family, addr, text, sizeof(text)))
                        continue;
                found = true;
                r = append_string(list, text);
        }
        freeifaddrs(all);
        if (r >= 0 && !found) {
                snprintf(err, err_size, "data-path interface %s has no address", name);
                return -ENODEV;
        }
        return r;
}

int swarm_local_addresses(const char *swarm_root, const char *node_addr, json_t **ret, char *err,
                          size_t err_size) {
        _cleanup_(json_decrefp) json_t *list = json_array(), *state = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        const char *data_path;
        char host[64];
        json_error_t jerr;
        size_t size;
        int r;

        if (!list)
                return -ENOMEM;
        if (node_addr && *node_addr && docker_address_host(node_addr, host, sizeof(host)) == 0 &&
            (r = append_string(list, host)) < 0)
                return r;
        if (!swarm_root || !*swarm_root)
                goto done;
        if (asprintf(&path, "%s/swarm/docker-state.json", swarm_root) < 0)
                return -ENOMEM;
        r = read_file(path, STATE_FILE_MAX, &text, &size);
        if (r == -ENOENT)
                goto done;
        if (r < 0) {
                snprintf(err, err_size, "%s: %s", path, strerror(-r));
                return r;
        }
        state = json_loadb(text, size, 0, &jerr);
        if (!json_is_object(state)) {
                snprintf(err, err_size, "%s:%d:%d: %s", path, jerr.line, jerr.column,
                         state ? "expected an object" : jerr.text);
                return -EINVAL;
        }
        data_path = json_string_value(json_object_get(state, "DataPathAddr"));
        if (!data_path || !*data_path)
                goto done;
        if (docker_address_host(data_path, host, sizeof(host)) == 0)
                r = append_string(list, host);
        else if (strlen(data_path) < IFNAMSIZ)
                r = interface_addresses(data_path, list, err, err_size);
        else {
                snprintf(err, err_size, "%s: DataPathAddr \"%.64s\" is neither an address nor an interface", path,
                         data_path);
                r = -EINVAL;
        }
        if (r < 0)
                return r;
done:
        *ret = TAKE_PTR(list);
        return 0;
}
