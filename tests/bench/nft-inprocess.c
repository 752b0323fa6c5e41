/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The peer of hostd's in-daemon apply: libnftables' own in-process path,
 * nft_run_cmd_from_buffer on the same table as text (what hostctl firewall
 * render prints, preceded by a delete of the table so each round replaces
 * it, as hostd's batch does). Prints the median of ROUNDS in ms; the
 * parse of the text is part of it, as hostd's build is part of its own.
 *   nft-inprocess FILE ROUNDS */
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv) {
        static double times[1000];
        struct nft_ctx *nft;
        FILE *f;
        char *text;
        long size;
        int rounds;

        if (argc != 3 || (rounds = atoi(argv[2])) < 1 || rounds > 1000) {
                fprintf(stderr, "usage: nft-inprocess FILE ROUNDS\n");
                return 2;
        }
        f = fopen(argv[1], "re");
        if (!f || fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
                perror(argv[1]);
                return 1;
        }
        text = malloc((size_t) size + 1);
        if (!text || fread(text, 1, (size_t) size, f) != (size_t) size) {
                perror(argv[1]);
                return 1;
        }
        text[size] = '\0';
        fclose(f);
        nft = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!nft)
                return 1;
        for (int i = 0; i < rounds; i++) {
                double t0 = now_ms();
                if (nft_run_cmd_from_buffer(nft, text) != 0) {
                        fprintf(stderr, "nft-inprocess: the table was refused\n");
                        return 1;
                }
                times[i] = now_ms() - t0;
        }
        qsort(times, (size_t) rounds, sizeof(double), compare);
        printf("%.1f\n", times[(rounds - 1) / 2]);
        nft_ctx_free(nft);
        free(text);
        return 0;
}
