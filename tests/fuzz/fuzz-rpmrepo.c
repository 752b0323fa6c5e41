/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the rpm backend's repository readers, on memory
 * as rpm_metadata_read takes them: a .repo file (first byte 0), a
 * repomd.xml (1), a repository's primary metadata (2) or its updateinfo on
 * a known primary (3), each into a fresh session on an empty root. Any input
 * is read or gives an error message naming it; never a crash or a leak. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patching/rpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char primary[] =
        "<?xml version=\"1.0\"?><metadata packages=\"1\"><package type=\"rpm\"><name>a</name><arch>noarch</arch>"
        "<version epoch=\"0\" ver=\"1\" rel=\"1\"/><checksum type=\"sha256\" pkgid=\"YES\">00</checksum>"
        "<location href=\"a-1-1.noarch.rpm\"/></package></metadata>";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const names[] = { "f.repo", "repomd.xml", "primary.xml", "updateinfo.xml" };
        char err[2048] = "";
        RpmSession *s = NULL;
        int r;

        if (size < 1)
                return 0;
        /* a root without repositories: the session holds only what is read here */
        if (rpm_session_open("/nonexistent-hostd-fuzz-root", &s, err, sizeof(err)) < 0)
                abort();
        unsigned kind = data[0] % 4;
        if (kind == RPM_UPDATEINFO &&
            rpm_metadata_read(s, RPM_PRIMARY, "primary.xml", primary, strlen(primary), err, sizeof(err)) < 0)
                abort();
        r = rpm_metadata_read(s, (RpmMetadataKind) kind, names[kind], data + 1, size - 1, err, sizeof(err));
        /* an error always says where and what */
        if (r < 0 && r != -ENOMEM && (!err[0] || strncmp(err, names[kind], strlen(names[kind])) != 0))
                __builtin_trap();
        rpm_session_close(s);
        return 0;
}
