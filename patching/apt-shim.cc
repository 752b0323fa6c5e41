// SPDX-License-Identifier: GPL-2.0-or-later
// The libapt-pkg shim: C++ stays in this file, behind patching/apt.h.
#include <apt-pkg/acquire.h>
#include <apt-pkg/cachefile.h>
#include <apt-pkg/configuration.h>
#include <apt-pkg/depcache.h>
#include <apt-pkg/error.h>
#include <apt-pkg/init.h>
#include <apt-pkg/pkgcache.h>
#include <apt-pkg/pkgsystem.h>
#include <apt-pkg/sourcelist.h>
#include <apt-pkg/update.h>
#include <apt-pkg/upgrade.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "patching/apt.h"
}

struct AptSession {
        std::string root;
        pkgCacheFile *cache = nullptr;
};

// Empties apt's message stack into err as "CONTEXT: MSG; MSG", in the order
// apt keeps them: its errors, and with fetch_failures also the warnings
// about sources that could not be fetched. Returns whether any was taken.
static bool take_errors(char *err, size_t err_size, const char *context, bool fetch_failures = false) {
        std::string all;
        while (!_error->empty()) {
                std::string msg;
                bool is_error = _error->PopMessage(msg);
                if (!is_error && !(fetch_failures && msg.find("Failed to fetch") != std::string::npos))
                        continue;
                all += (all.empty() ? "" : "; ") + msg;
        }
        snprintf(err, err_size, "%s%s%s", context, all.empty() ? "" : ": ", all.c_str());
        return !all.empty();
}

static int open_cache(AptSession *s, char *err, size_t err_size) {
        delete s->cache;
        s->cache = new pkgCacheFile();
        // no lock: planning reads; apply takes dpkg's lock itself
        if (!s->cache->ReadOnlyOpen(nullptr) || !s->cache->GetDepCache()) {
                take_errors(err, err_size, "cannot open the package cache");
                delete s->cache;
                s->cache = nullptr;
                return -EIO;
        }
        return 0;
}

extern "C" int apt_session_open(const char *root, AptSession **ret, char *err, size_t err_size) {
        if (!root || root[0] != '/') {
                snprintf(err, err_size, "root \"%s\" is not an absolute path", root ? root : "");
                return -EINVAL;
        }
        _error->Discard();
        if (!pkgInitConfig(*_config)) {
                take_errors(err, err_size, "cannot initialise apt's configuration");
                return -EIO;
        }
        std::string dir = std::string(root) + (root[strlen(root) - 1] == '/' ? "" : "/");
        if (dir != "/") {
                // what apt-get -o Dir=ROOT/ does; methods and dpkg come from the host
                _config->Set("Dir", dir);
                _config->Set("Dir::State::status", dir + "var/lib/dpkg/status");
                _config->Set("Dir::Bin::Methods", "/usr/lib/apt/methods");
                _config->Set("Dir::Bin::dpkg", "/usr/bin/dpkg");
                _config->Set("Debug::NoLocking", "true");
        }
        if (!pkgInitSystem(*_config, _system)) {
                take_errors(err, err_size, "cannot initialise the packaging system");
                return -EIO;
        }
        AptSession *s = new AptSession();
        s->root = dir;
        int r = open_cache(s, err, err_size);
        if (r < 0) {
                delete s;
                return r;
        }
        *ret = s;
        return 0;
}

extern "C" void apt_session_close(AptSession *s) {
        if (!s)
                return;
        delete s->cache;
        delete s;
        _error->Discard();
}

namespace {
// Quiet progress: hostd reports its own.
class SilentStatus : public pkgAcquireStatus {
public:
        bool MediaChange(std::string, std::string) override { return false; }
};
}

extern "C" int apt_refresh(AptSession *s, char *err, size_t err_size) {
        SilentStatus status;
        pkgSourceList *list = s->cache->GetSourceList();

        if (!list) {
                take_errors(err, err_size, "cannot read the sources");
                return -EIO;
        }
        if (!ListUpdate(status, *list)) {
                take_errors(err, err_size, "cannot refresh the package lists");
                return -EIO;
        }
        // a source that cannot be fetched is only a warning to ListUpdate; here it fails
        if (take_errors(err, err_size, "cannot refresh the package lists", true))
                return -EIO;
        return open_cache(s, err, err_size);
}

extern "C" int apt_installed(AptSession *s, PackageSet *ret) {
        pkgCache &cache = *s->cache->GetPkgCache();
        PackageSet set = {};

        for (pkgCache::PkgIterator p = cache.PkgBegin(); !p.end(); ++p) {
                pkgCache::VerIterator cur = p.CurrentVer();
                if (cur.end() || p->CurrentState != pkgCache::State::Installed)
                        continue;
                // the version's arch, as dpkg records it ("all" stays "all")
                int r = package_set_put(&set, p.Name(), cur.Arch(), cur.VerStr());
                if (r < 0) {
                        package_set_done(&set);
                        return r;
                }
        }
        *ret = set;
        return 0;
}

static void updates_clear(std::vector<PackageUpdate> &v) {
        for (PackageUpdate &u : v)
                package_update_done(&u);
        v.clear();
}



static char *dup_or_null(const char *s) {
        return s ? strdup(s) : nullptr;
}

extern "C" int apt_plan_upgrade(AptSession *s, PackageUpdate **ret, size_t *ret_n, char *err,
                                size_t err_size) {
        pkgDepCache &dep = *s->cache->GetDepCache();
        std::vector<PackageUpdate> out;

        // like `apt upgrade`: new packages allowed (a new kernel), removals not
        if (!APT::Upgrade::Upgrade(dep, APT::Upgrade::FORBID_REMOVE_PACKAGES)) {
                take_errors(err, err_size, "the upgrade cannot be resolved");
                return -EIO;
        }
        for (pkgCache::PkgIterator p = dep.GetCache().PkgBegin(); !p.end(); ++p) {
                pkgDepCache::StateCache &st = dep[p];
                if (!st.Install())
                        continue;
                pkgCache::VerIterator cand = st.InstVerIter(dep.GetCache());
                pkgCache::VerIterator cur = p.CurrentVer();
                PackageUpdate u = {};
                u.name = strdup(p.Name());
                u.arch = strdup(cand.Arch());
                u.from = cur.end() ? nullptr : strdup(cur.VerStr());
                u.to = strdup(cand.VerStr());
                for (pkgCache::VerFileIterator vf = cand.FileList(); !vf.end(); ++vf) {
                        pkgCache::PkgFileIterator file = vf.File();
                        const char *label = file.Label(), *archive = file.Archive();
                        bool security = (label && strcmp(label, "Debian-Security") == 0) ||
                                        (archive && strstr(archive, "-security"));
                        if (!u.origin || security) {
                                free(u.origin);
                                free(u.suite);
                                u.origin = dup_or_null(file.Origin());
                                u.suite = dup_or_null(archive);
                        }
                        u.security = u.security || security;
                }
                out.push_back(u);
                if (!u.name || !u.arch || !u.to) {
                        updates_clear(out);
                        return -ENOMEM;
                }
        }
        // the upgrade marks are only a question asked: forget them
        s->cache->Close();
        open_cache(s, err, err_size);

        std::sort(out.begin(), out.end(), [](const PackageUpdate &a, const PackageUpdate &b) {
                int c = strcmp(a.name, b.name);
                return c != 0 ? c < 0 : strcmp(a.arch, b.arch) < 0;
        });
        PackageUpdate *arr = (PackageUpdate *) calloc(std::max<size_t>(out.size(), 1), sizeof(PackageUpdate));
        if (!arr) {
                updates_clear(out);
                return -ENOMEM;
        }
        std::copy(out.begin(), out.end(), arr);
        *ret = arr;
        *ret_n = out.size();
        return 0;
}
