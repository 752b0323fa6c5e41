/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Automatic upgraders read from a root's files, as apt and systemd read
 * them: unattended-upgrades counts only installed, switched on in apt.conf
 * (apt.conf.d in order, later files and apt.conf winning, ignored names
 * skipped, nested scopes) and with apt-daily-upgrade.timer enabled and not
 * masked; dnf-automatic's installing timers; a file apt would refuse, or an
 * #include, is "cannot tell", naming the file and the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"
#include "patching/auto-upgrades.h"
#include "tests/unit/scratch-dir.h"

static void put(const char *root, const char *path, const char *text) {
        char full[512];

        snprintf(full, sizeof(full), "%s/%s", root, path);
        assert_int_equal(mkdir_parents(full, 0755), 0);
        assert_int_equal(write_file_atomic(full, text, strlen(text), 0644), 0);
}

static void link_to(const char *root, const char *path, const char *target) {
        char full[512];

        snprintf(full, sizeof(full), "%s/%s", root, path);
        assert_int_equal(mkdir_parents(full, 0755), 0);
        unlink(full);
        assert_int_equal(symlink(target, full), 0);
}

static void gone(const char *root, const char *path) {
        char full[512];

        snprintf(full, sizeof(full), "%s/%s", root, path);
        assert_int_equal(unlink(full), 0);
}

static int find(const char *root, char *what) {
        return auto_upgrades_find(root, what, 512);
}

static void test_unattended_upgrades(void **state) {
        char root[300], what[512];

        snprintf(root, sizeof(root), "%s/debian", (char *) *state);
        assert_int_equal(mkdir_p(root, 0755), 0);
        assert_int_equal(find(root, what), 0);
        assert_non_null(strstr(what, "unattended-upgrades is not installed"));

        /* as the package leaves a Debian 12 root */
        put(root, "usr/bin/unattended-upgrade", "#!/usr/bin/python3\n");
        put(root, "etc/apt/apt.conf.d/20auto-upgrades",
            "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n");
        put(root, "etc/apt/apt.conf.d/50unattended-upgrades",
            "// comment\nUnattended-Upgrade::Origins-Pattern {\n        \"origin=Debian,codename=${distro_codename},"
            "label=Debian-Security\";\n};\n/* block\n comment */\n");
        assert_int_equal(find(root, what), 0);
        assert_non_null(strstr(what, "apt-daily-upgrade.timer is not enabled"));
        link_to(root, "etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer",
                "/lib/systemd/system/apt-daily-upgrade.timer");
        assert_int_equal(find(root, what), 1);
        assert_non_null(strstr(what, "unattended-upgrades installs updates daily"));

        /* masked */
        link_to(root, "etc/systemd/system/apt-daily-upgrade.timer", "/dev/null");
        assert_int_equal(find(root, what), 0);
        gone(root, "etc/systemd/system/apt-daily-upgrade.timer");

        /* a later file switches it off; files apt does not read are not read */
        put(root, "etc/apt/apt.conf.d/99off", "APT::Periodic::Unattended-Upgrade \"0\";\n");
        put(root, "etc/apt/apt.conf.d/99zz.dpkg-old", "APT::Periodic::Unattended-Upgrade \"1\";\n");
        put(root, "etc/apt/apt.conf.d/99zz~", "APT::Periodic::Unattended-Upgrade \"1\";\n");
        assert_int_equal(find(root, what), 0);
        assert_non_null(strstr(what, "APT::Periodic::Unattended-Upgrade is \"0\""));
        /* apt.systemd.daily tests [ "$x" -eq 0 ]: "00" is off, "false" is not */
        put(root, "etc/apt/apt.conf.d/99off", "APT::Periodic::Unattended-Upgrade \"00\";\n");
        assert_int_equal(find(root, what), 0);
        put(root, "etc/apt/apt.conf.d/99off", "APT::Periodic::Unattended-Upgrade \"false\";\n");
        assert_int_equal(find(root, what), 1);
        put(root, "etc/apt/apt.conf.d/99off", "APT::Periodic::Unattended-Upgrade \"0\";\n");
        /* ...and apt.conf, read last, on again */
        put(root, "etc/apt/apt.conf", "apt::periodic::unattended-upgrade \"1\";\n");
        assert_int_equal(find(root, what), 1);
        gone(root, "etc/apt/apt.conf");

        /* nested scopes: APT { Periodic { Enable "0"; }; }; */
        gone(root, "etc/apt/apt.conf.d/99off");
        put(root, "etc/apt/apt.conf.d/10periodic", "APT {\n  Periodic {\n    Enable \"0\";\n  };\n};\n");
        assert_int_equal(find(root, what), 0);
        assert_non_null(strstr(what, "APT::Periodic::Enable is \"0\""));
        gone(root, "etc/apt/apt.conf.d/10periodic");
        assert_int_equal(find(root, what), 1);
}

static void test_refused(void **state) {
        char root[300], what[512];

        snprintf(root, sizeof(root), "%s/broken", (char *) *state);
        put(root, "usr/bin/unattended-upgrade", "#!/usr/bin/python3\n");
        link_to(root, "etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer",
                "/lib/systemd/system/apt-daily-upgrade.timer");
        put(root, "etc/apt/apt.conf.d/20auto-upgrades", "APT::Periodic::Unattended-Upgrade \"1\";\n");
        put(root, "etc/apt/apt.conf.d/30broken", "// fine\nAPT::Periodic::Enable \"1\"\nFoo \"2\";\n");
        assert_int_equal(find(root, what), -EINVAL);
        assert_non_null(strstr(what, "/etc/apt/apt.conf.d/30broken:3: not apt.conf syntax"));
        put(root, "etc/apt/apt.conf.d/30broken", "APT {\n  Periodic {\n");
        assert_int_equal(find(root, what), -EINVAL);
        put(root, "etc/apt/apt.conf.d/30broken", "#include \"/etc/apt/elsewhere\";\n");
        assert_int_equal(find(root, what), -EOPNOTSUPP);
        assert_non_null(strstr(what, "30broken:1: #include is not followed"));
}

static void test_dnf_automatic(void **state) {
        char root[300], what[512];

        snprintf(root, sizeof(root), "%s/rpm", (char *) *state);
        assert_int_equal(mkdir_p(root, 0755), 0);
        link_to(root, "etc/systemd/system/timers.target.wants/dnf-automatic.timer",
                "/usr/lib/systemd/system/dnf-automatic.timer");
        put(root, "etc/dnf/automatic.conf", "[commands]\nupgrade_type = security\napply_updates = no\n[emitters]\n");
        assert_int_equal(find(root, what), 0);
        put(root, "etc/dnf/automatic.conf", "[commands]\napply_updates = yes\n");
        assert_int_equal(find(root, what), 1);
        assert_non_null(strstr(what, "dnf-automatic.timer is enabled and installs updates"));
        gone(root, "etc/systemd/system/timers.target.wants/dnf-automatic.timer");
        assert_int_equal(find(root, what), 0);
        link_to(root, "etc/systemd/system/timers.target.wants/dnf-automatic-install.timer",
                "/usr/lib/systemd/system/dnf-automatic-install.timer");
        assert_int_equal(find(root, what), 1);
        assert_non_null(strstr(what, "dnf-automatic-install.timer"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unattended_upgrades),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_dnf_automatic),
        };
        return cmocka_run_group_tests(tests, scratch_dir_setup, scratch_dir_teardown);
}
