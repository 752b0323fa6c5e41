/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostd-patch-worker: the worker process of `hostctl patch --root`. hostctl
 * starts it on its own arguments (hostd-patch-worker OPERATION --root DIR
 * [OPTIONS]) with the report socket on fd 3, and reads the report
 * (patch-protocol.h) from it; the package managers' libraries are loaded
 * here, never by hostctl. Not meant to be run by hand. */

#include <fcntl.h>
#include <signal.h>

#include "hostd/hostctl/hostctl.h"
#include "hostd/patch-worker.h"

int main(int argc, char *argv[]) {
        PatchArgs args = {};
        sigset_t none;
        int r;

        if (fcntl(3, F_GETFD) < 0) {
                fprintf(stderr, "hostd-patch-worker: no report socket on fd 3: it is started by "
                                "`hostctl patch ... --root DIR`\n");
                return EXIT_USAGE;
        }
        r = patch_args_parse(argc, argv, &args);
        if (r != 0)
                return r;
        if (!args.req.root) {
                fprintf(stderr, "hostd-patch-worker: --root is required\n");
                return EXIT_USAGE;
        }
        /* the report socket is not the package scripts' */
        if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
                return EXIT_FAILED;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        setenv("DEBIAN_FRONTEND", "noninteractive", 1);
        return patch_worker_run(&args.req, 3);
}
