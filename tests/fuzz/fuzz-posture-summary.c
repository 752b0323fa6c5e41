/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the posture summaries managers accept from nodes
 * (POST /v1/posture): any JSON is accepted or rejected with a reason, and
 * an accepted one goes on the board and into the cluster view. */
#include <stdint.h>

#include "hostd/posture-board.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *summary = json_loadb((const char *) data, size, JSON_DECODE_ANY, NULL);
        char why[160] = "";

        if (!summary)
                return 0;
        if (posture_summary_validate(summary, why, sizeof(why)) == 0) {
                PostureBoard *b = NULL;
                json_t *nodes = json_pack("[{s:s}]", "ID", "n1"), *view;

                if (posture_board_new(&b) == 0 && nodes && posture_board_put(b, "n1", summary, 1) == 0) {
                        view = posture_cluster_view(b, nodes, 2);
                        if (view && json_array_size(json_object_get(view, "nodes")) != 1)
                                __builtin_trap();
                        json_decref(view);
                }
                posture_board_free(b);
                json_decref(nodes);
        } else if (!why[0])
                __builtin_trap();
        json_decref(summary);
        return 0;
}
