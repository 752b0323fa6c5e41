/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the firewall's saved state (hostd/firewall-store.h),
 * on the text of STATE/firewall-state.json: a file hostd cannot read is
 * refused with a message naming the file and an empty store; one it reads
 * is written back into a text that reads into the same policies and is its
 * own fixed point. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostd/firewall-store.h"

#define NAME "/var/lib/hostd/firewall-state.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const FirewallPolicy *a, const FirewallPolicy *b) {
        return (!a && !b) || (a && b && firewall_policy_equal(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FirewallStore *s = NULL, *back = NULL;
        char err[1024] = "", *text = NULL, *again = NULL;
        const char *reason = NULL, *reason_back = NULL;
        uint64_t deadline = 0, deadline_back = 0, since = 0, since_back = 0;
        int r;

        r = firewall_store_from_text(NAME, (const char *) data, size, &s, err, sizeof(err));
        if (r < 0) {
                if (r != -EINVAL || !s || strncmp(err, NAME ":", strlen(NAME ":")) != 0 || firewall_store_good(s) ||
                    firewall_store_pending(s, NULL) || firewall_store_held(s, NULL, NULL))
                        __builtin_trap();
                goto out;
        }
        text = firewall_store_to_text(s);
        if (!text)
                __builtin_trap();
        if (firewall_store_from_text(NAME, text, strlen(text), &back, err, sizeof(err)) < 0)
                __builtin_trap();
        if (!same(firewall_store_good(s), firewall_store_good(back)) ||
            !same(firewall_store_pending(s, &deadline), firewall_store_pending(back, &deadline_back)) ||
            !same(firewall_store_held(s, &reason, &since), firewall_store_held(back, &reason_back, &since_back)) ||
            deadline != deadline_back || since != since_back ||
            (reason && (!reason_back || strcmp(reason, reason_back) != 0)))
                __builtin_trap();
        again = firewall_store_to_text(back);
        if (!again || strcmp(text, again) != 0)
                __builtin_trap();
out:
        firewall_store_free(s);
        firewall_store_free(back);
        free(text);
        free(again);
        return 0;
}
