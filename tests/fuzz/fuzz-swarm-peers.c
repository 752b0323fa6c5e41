/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the Swarm's peer set (hostd/swarm-peers.h) on any
 * JSON: read as a manager's list (swarm_peers_parse), as Docker's node list
 * and as a node's report. A list taken is sorted and unique, and written
 * and read again gives the same; anything refused says why and changes
 * nothing. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostd/swarm-peers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int compare(const Cidr *a, const Cidr *b) {
        if (a->family != b->family)
                return a->family < b->family ? -1 : 1;
        return memcmp(a->address, b->address, sizeof(a->address));
}

static void set_text(const SwarmPeers *p, char **ret) {
        json_t *v = swarm_peers_to_json(p);
        *ret = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *v = json_loadb((const char *) data, size, JSON_DECODE_ANY, NULL);
        SwarmPeers *p = NULL;
        Cidr *peers = NULL;
        size_t n = 0;
        char err[256] = "", *before = NULL, *after = NULL;
        int r;

        if (!v)
                return 0;
        r = swarm_peers_parse(v, &peers, &n, err, sizeof(err));
        if (r == 0) {
                if (n > SWARM_PEERS_MAX)
                        abort();
                for (size_t i = 1; i < n; i++)
                        if (compare(&peers[i - 1], &peers[i]) >= 0)
                                abort();
        } else if (r != -EINVAL || !err[0] || peers)
                abort();
        free(peers);

        if (swarm_peers_new(&p) < 0)
                abort();
        json_t *nodes = json_pack("[{s:s, s:{s:s}}]", "ID", "n1", "Status", "Addr", "10.0.0.1");
        if (swarm_peers_set_nodes(p, nodes) != 1)
                abort();
        set_text(p, &before);
        /* as a node list: refused whole, or taken */
        r = swarm_peers_set_nodes(p, v);
        if (r == -EPROTO) {
                set_text(p, &after);
                if (!before || !after || strcmp(before, after) != 0)
                        abort();
                free(after);
                after = NULL;
        } else if (r < 0 && r != -ENOMEM)
                abort();
        /* as n1's report */
        if (swarm_peers_set_nodes(p, nodes) < 0)
                abort();
        free(before);
        set_text(p, &before);
        err[0] = '\0';
        r = swarm_peers_put_report(p, "n1", v, err, sizeof(err));
        set_text(p, &after);
        if (r == -EINVAL && (!err[0] || strcmp(before, after) != 0 || swarm_peers_has_report(p, "n1")))
                abort();
        if (r >= 0 && !swarm_peers_has_report(p, "n1"))
                abort();
        /* what a manager sends reads back as itself */
        if (after) {
                json_t *sent = json_loads(after, 0, NULL);
                Cidr *back = NULL;
                size_t k, m;
                const Cidr *list = swarm_peers_list(p, &m);
                if (!sent || swarm_peers_parse(sent, &back, &k, err, sizeof(err)) < 0 || k != m)
                        abort();
                for (size_t i = 0; i < k; i++)
                        if (compare(&back[i], &list[i]) != 0)
                                abort();
                free(back);
                json_decref(sent);
        }
        free(before);
        free(after);
        json_decref(nodes);
        swarm_peers_free(p);
        json_decref(v);
        return 0;
}
