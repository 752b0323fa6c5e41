/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>

#include "patching/package.h"

void package_update_done(PackageUpdate *u) {
        free(u->name);
        free(u->arch);
        free(u->from);
        free(u->to);
        free(u->origin);
        free(u->suite);
        *u = (PackageUpdate){};
}

void package_updates_free(PackageUpdate *u, size_t n) {
        for (size_t i = 0; u && i < n; i++)
                package_update_done(&u[i]);
        free(u);
}

void fetch_results_free(FetchResult *r, size_t n) {
        for (size_t i = 0; r && i < n; i++) {
                free(r[i].file);
                free(r[i].error);
        }
        free(r);
}
