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
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
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
        put(root, "etc/apt/apt.conf.d/30broken", "APT::Periodic::Enable \"1\"\n");
        assert_int_equal(find(root, what), -EINVAL);
        assert_non_null(strstr(what, "30broken:2: not apt.conf syntax (apt refuses it too): extra junk at end of file"));
        put(root, "etc/apt/apt.conf.d/30broken", "APT { Periodic { #clear APT; }; };\n");
        assert_int_equal(find(root, what), -EINVAL);
        assert_non_null(strstr(what, "directives can only be done at the top level"));
        put(root, "etc/apt/apt.conf.d/30broken", "{ \"1\"; };\n");
        assert_int_equal(find(root, what), -EINVAL);
        assert_non_null(strstr(what, "block starts with no name"));
        put(root, "etc/apt/apt.conf.d/30broken", "#include \"/etc/apt/elsewhere\";\n");
        assert_int_equal(find(root, what), -EOPNOTSUPP);
        assert_non_null(strstr(what, "30broken:1: #include is not followed"));
}

/* What the real apt-config reads from text alone (no other file): 0 with
 * the two values, or -1 when apt refuses it. */
static int apt_config_reads(const char *dir, const char *text, char *unattended, char *enable) {
        char conf[512], only[512], command[2048], line[256];
        FILE *f;
        int status;

        snprintf(conf, sizeof(conf), "%s/case.conf", dir);
        snprintf(only, sizeof(only), "%s/only.conf", dir);
        put(dir, "case.conf", text);
        /* APT_CONFIG is read first: it keeps the system's apt.conf and apt.conf.d out */
        put(dir, "only.conf", "Dir::Etc::Parts \"/nonexistent\"; Dir::Etc::Main \"/nonexistent\";\n");
        snprintf(command, sizeof(command),
                 "APT_CONFIG='%s' apt-config -c '%s' shell U APT::Periodic::Unattended-Upgrade E APT::Periodic::Enable 2>/dev/null",
                 only, conf);
        unattended[0] = enable[0] = '\0';
        assert_non_null(f = popen(command, "r"));
        while (fgets(line, sizeof(line), f)) {
                char *v = strchr(line, '\'');
                char *end = v ? strrchr(v + 1, '\'') : NULL;
                if (!v || !end)
                        continue;
                *end = '\0';
                snprintf(line[0] == 'U' ? unattended : enable, 64, "%s", v + 1);
        }
        status = pclose(f);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* What apt itself reads, each compared with the real apt-config. */
static void test_apt_syntax(void **state) {
        static const struct {
                const char *text, *unattended, *enable;
        } cases[] = {
                { "\"APT::Periodic::Unattended-Upgrade\" \"1\";", "1", "" },          /* a quoted tag */
                { "APT { Periodic { Enable \"0\" } }", "", "0" },                    /* a value ended by } */
                { "APT { Periodic { Enable 1; }; };", "", "1" },                     /* a bare value */
                { "APT::Periodic { Unattended-Upgrade \"1\"; Enable \"1\"; };\n#clear APT::Periodic;", "", "" },
                { "APT::Periodic::Enable \"1\";\n#clear APT::Periodic::Enable;\nAPT::Periodic::Unattended-Upgrade 7;",
                  "7", "" },
                { "APT { Periodic {\n  Unattended-Upgrade \"1\";\n", "1", "" },   /* left open at the end */
                { "}; APT::Periodic::Enable \"1\";", "", "1" },                      /* a } with no scope */
                { "APT::Periodic::Enable \"%31\";", "", "%31" },                     /* a string is as it is */
                { "APT::Periodic::Enable %31;", "", "1" },                           /* a word's %xx decoded */
                { "APT::Periodic::Enable \"a\" \"b\";", "", "a b" },                 /* strings joined */
                { "Unattended-Upgrade::Origins-Pattern { \"origin=Debian\"; bare-item; };", "", "" },
                { "apt::periodic::enable \"1\"; // \"2\";\n/* APT::Periodic::Enable \"3\";\n */", "", "1" },
                { "APT::Periodic::Enable \"1 // not a comment\";", "", "1 // not a comment" },
                { "# a comment\nAPT::Periodic::Enable \"1\"; # another", "", "1" },
                { "X \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n#clear APT;\nAPT::Periodic::Enable 0;", "", "0" },
        };
        static const char *const refused[] = {
                "APT::Periodic::Enable \"1\"\n", "APT { Periodic { #clear APT; }; };", "{ \"1\"; };",
                "APT::Periodic::Enable \"1\"\nFoo \"2\";", "APT::Periodic::Enable \"1\" junk;", "#clearx y;",
                "APT::Periodic::Enable \"1;\n\";",
        };
        char what[512], dir[300], u[64], e[64];

        snprintf(dir, sizeof(dir), "%s/syntax", (char *) *state);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                AptPeriodic c = {};
                int r = apt_conf_periodic("f", cases[i].text, strlen(cases[i].text), &c, what, sizeof(what));
                if (r != 0 || !STREQ(c.unattended, cases[i].unattended) || !STREQ(c.enable, cases[i].enable))
                        fail_msg("case %zu: %d (%s): unattended \"%s\", enable \"%s\"", i, r, r ? what : "", c.unattended,
                                 c.enable);
                if (apt_config_reads(dir, cases[i].text, u, e) != 0 || !STREQ(u, c.unattended) || !STREQ(e, c.enable))
                        fail_msg("case %zu: apt-config reads unattended \"%s\", enable \"%s\"", i, u, e);
        }
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                AptPeriodic c = {};
                if (apt_conf_periodic("f", refused[i], strlen(refused[i]), &c, what, sizeof(what)) != -EINVAL)
                        fail_msg("refused case %zu is read", i);
                if (apt_config_reads(dir, refused[i], u, e) == 0)
                        fail_msg("refused case %zu: apt-config reads it", i);
        }
}

/* The files apt reads in apt.conf.d: no extension, or .conf */
static void test_apt_file_names(void **state) {
        char root[300], what[512];

        snprintf(root, sizeof(root), "%s/names", (char *) *state);
        put(root, "usr/bin/unattended-upgrade", "#!/usr/bin/python3\n");
        link_to(root, "etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer",
                "/lib/systemd/system/apt-daily-upgrade.timer");
        put(root, "etc/apt/apt.conf.d/20auto-upgrades", "APT::Periodic::Unattended-Upgrade \"1\";\n");
        assert_int_equal(find(root, what), 1);
        /* apt ignores these: a later "0" in them changes nothing */
        static const char *const ignored[] = { "90off.txt", "90off.dpkg-dist", "90off.ucf-old", ".90off", "90off.",
                                               "90 off", "90off.conf.bak" };
        for (size_t i = 0; i < ELEMENTSOF(ignored); i++) {
                char path[128];
                snprintf(path, sizeof(path), "etc/apt/apt.conf.d/%s", ignored[i]);
                put(root, path, "APT::Periodic::Unattended-Upgrade \"0\";\n");
                assert_int_equal(find(root, what), 1);
        }
        put(root, "etc/apt/apt.conf.d/95off.conf", "APT::Periodic::Unattended-Upgrade \"0\";\n");
        assert_int_equal(find(root, what), 0);
        assert_non_null(strstr(what, "APT::Periodic::Unattended-Upgrade is \"0\""));
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
        gone(root, "etc/systemd/system/timers.target.wants/dnf-automatic-install.timer");

        /* dnf5: the distribution's defaults, then the host's /etc/dnf/automatic.conf */
        link_to(root, "etc/systemd/system/timers.target.wants/dnf5-automatic.timer",
                "/usr/lib/systemd/system/dnf5-automatic.timer");
        gone(root, "etc/dnf/automatic.conf");
        assert_int_equal(find(root, what), 0); /* nothing says apply: off */
        put(root, "usr/share/dnf5/dnf5-plugins/automatic.conf", "[commands]\napply_updates = True\n");
        assert_int_equal(find(root, what), 1);
        assert_non_null(strstr(what, "dnf5-automatic.timer is enabled and installs updates: apply_updates = yes in "
                                     "/usr/share/dnf5/dnf5-plugins/automatic.conf"));
        put(root, "etc/dnf/automatic.conf", "[commands]\napply_updates = False\n");
        assert_int_equal(find(root, what), 0);
        put(root, "etc/dnf/automatic.conf", "[commands]\nupgrade_type = security\n"); /* not set here: the defaults' */
        assert_int_equal(find(root, what), 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unattended_upgrades),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_apt_syntax),
                cmocka_unit_test(test_apt_file_names),
                cmocka_unit_test(test_dnf_automatic),
        };
        return cmocka_run_group_tests(tests, scratch_dir_setup, scratch_dir_teardown);
}
