/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Records the replies fuzz-nft-readback starts from (tests/fuzz/nft-replies),
 * from this network namespace's kernel: hostd's table read back as applied,
 * absent, and with a peer set grown behind hostd's back. Each file is the
 * datagrams the read received, each a 32-bit length and its bytes. Run in
 * a network namespace of its own (make fuzz-replies): it replaces hostd's
 * table there.
 *   nft-record DIR */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall/build.h"
#include "firewall/netlink.h"

/* the configuration and live peers fuzz-nft-readback builds its table from */
static const char CONFIG[] = "{\"firewall\": {\"enabled\": true, \"peers\": [\"192.168.50.0/24\", "
                             "\"fd12::/64\"], \"public-tcp-ports\": [443, 8443]}}";

static void record(const void *datagram, size_t size, void *userdata) {
        uint32_t n = (uint32_t) size;

        if (fwrite(&n, 4, 1, userdata) != 1 || fwrite(datagram, 1, size, userdata) != size)
                abort();
}

static int read_into(NftSocket *s, const Ruleset *desired, const char *dir, const char *name) {
        char path[512];
        NftLiveTable *t = NULL;
        FILE *f;
        int r;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        if (!f)
                return -errno;
        nft_socket_record(s, record, f);
        r = nft_read_table(s, desired, &t);
        nft_socket_record(s, NULL, NULL);
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r >= 0)
                printf("%s: exists %d, matches %d%s%s\n", name, t->exists, t->matches_desired,
                       t->difference[0] ? ": " : "", t->difference);
        nft_live_table_free(t);
        return r;
}

int main(int argc, char **argv) {
        HostdConfig *c = NULL;
        ConfigError e = {};
        Ruleset *desired = NULL, *grown = NULL;
        NftSocket *s = NULL;
        Cidr peers[3];
        char err[256] = "";

        if (argc != 2) {
                fprintf(stderr, "usage: nft-record DIR\n");
                return 2;
        }
        if (config_parse(CONFIG, strlen(CONFIG), &c, &e) < 0 || cidr_parse("10.1.0.5", &peers[0]) < 0 ||
            cidr_parse("fd00::7", &peers[1]) < 0 || cidr_parse("10.1.0.99", &peers[2]) < 0 ||
            firewall_build(&c->firewall, peers, 2, &desired) < 0 ||
            firewall_build(&c->firewall, peers, 3, &grown) < 0 || nft_socket_open(&s) < 0) {
                fprintf(stderr, "nft-record: cannot build the table or open netlink\n");
                return 1;
        }
        if (nft_apply(s, desired, err, sizeof(err)) < 0 || read_into(s, desired, argv[1], "applied") < 0 ||
            nft_delete_table(s, err, sizeof(err)) < 0 || read_into(s, desired, argv[1], "absent") < 0 ||
            nft_apply(s, desired, err, sizeof(err)) < 0 ||
            nft_replace_set(s, ruleset_find_set(grown, "peers4"), err, sizeof(err)) < 0 ||
            read_into(s, desired, argv[1], "drifted") < 0 || nft_delete_table(s, err, sizeof(err)) < 0) {
                fprintf(stderr, "nft-record: %s\n", err[0] ? err : "cannot write the recordings");
                return 1;
        }
        nft_socket_close(s);
        ruleset_free(desired);
        ruleset_free(grown);
        config_free(c);
        return 0;
}
