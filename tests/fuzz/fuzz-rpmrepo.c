/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the rpm backend's repository readers: a .repo file
 * (first byte 0), a repository's primary metadata (1) or its updateinfo
 * (2), read through rpm_session_open on a scratch root. Any input opens a
 * session or gives an error message; never a crash or a leak. */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "patching/rpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char repo_file[] = "[f]\nbaseurl=file:///nonexistent\ngpgcheck=0\n";
static const char primary[] =
        "<?xml version=\"1.0\"?><metadata packages=\"1\"><package type=\"rpm\"><name>a</name><arch>noarch</arch>"
        "<version epoch=\"0\" ver=\"1\" rel=\"1\"/><checksum type=\"sha256\" pkgid=\"YES\">00</checksum>"
        "<location href=\"a-1-1.noarch.rpm\"/></package></metadata>";

static void put(const char *root, const char *path, const void *data, size_t size) {
        char p[512];

        snprintf(p, sizeof(p), "%s/%s", root, path);
        /* plain writes: fsync would make each run cost milliseconds */
        FILE *f = mkdir_parents(p, 0755) < 0 ? NULL : fopen(p, "we");
        if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
                abort();
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) st;
        (void) type;
        (void) ftw;
        return remove(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char root[] = "/tmp/hostd-fuzz-rpmrepo-XXXXXX", err[2048] = "";
        RpmSession *s = NULL;
        int r;

        if (size < 1 || !mkdtemp(root))
                return 0;
        switch (data[0] % 3) {
        case 0:
                put(root, "etc/yum.repos.d/f.repo", data + 1, size - 1);
                break;
        case 1:
                put(root, "etc/yum.repos.d/f.repo", repo_file, strlen(repo_file));
                put(root, "var/cache/hostd/rpm/f/primary.xml", data + 1, size - 1);
                break;
        default:
                put(root, "etc/yum.repos.d/f.repo", repo_file, strlen(repo_file));
                put(root, "var/cache/hostd/rpm/f/primary.xml", primary, strlen(primary));
                put(root, "var/cache/hostd/rpm/f/updateinfo.xml", data + 1, size - 1);
        }
        r = rpm_session_open(root, &s, err, sizeof(err));
        if (r < 0 && (s || (r != -ENOMEM && !err[0])))
                __builtin_trap();
        rpm_session_close(s);
        if (nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
                abort();
        return 0;
}
