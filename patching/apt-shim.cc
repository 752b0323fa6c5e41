// SPDX-License-Identifier: GPL-2.0-or-later
// The libapt-pkg shim: C++ stays in this file, behind patching/apt.h.
#include <apt-pkg/acquire-item.h>
#include <apt-pkg/acquire.h>
#include <apt-pkg/cachefile.h>
#include <apt-pkg/configuration.h>
#include <apt-pkg/depcache.h>
#include <apt-pkg/error.h>
#include <apt-pkg/debversion.h>
#include <apt-pkg/fileutl.h>
#include <apt-pkg/indexfile.h>
#include <apt-pkg/init.h>
#include <apt-pkg/install-progress.h>
#include <apt-pkg/packagemanager.h>
#include <apt-pkg/pkgrecords.h>
#include <apt-pkg/strutl.h>
#include <apt-pkg/pkgcache.h>
#include <apt-pkg/pkgsystem.h>
#include <apt-pkg/sourcelist.h>
#include <apt-pkg/update.h>
#include <apt-pkg/upgrade.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
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
                // a source that failed, or whose signature did not verify,
                // is only a warning to apt's refresh; here it says why
                bool source_failure = msg.find("Failed to fetch") != std::string::npos ||
                                      msg.find("GPG error") != std::string::npos ||
                                      msg.find("is not signed") != std::string::npos;
                if (!is_error && !(fetch_failures && source_failure))
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

// A session whose cache could not be opened again after a change (dpkg
// ran, a refresh) has none: every operation then fails, never crashes.
static int no_cache(char *err, size_t err_size) {
        if (err)
                snprintf(err, err_size, "the package cache could not be read again after the last change");
        return -EIO;
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
                // dpkg acts on the root; scripts run outside it (a sandbox
                // root has no shell of its own) with DPKG_ROOT set
                _config->Set("DPkg::Options::", "--root=" + dir);
                _config->Set("DPkg::Options::", "--log=" + dir + "var/log/dpkg.log");
                _config->Set("DPkg::Options::", "--force-script-chrootless");
                // the host's hooks are not the root's
                _config->Clear("DPkg::Pre-Invoke");
                _config->Clear("DPkg::Post-Invoke");
                _config->Clear("DPkg::Pre-Install-Pkgs");
                _config->Clear("APT::Update::Post-Invoke");
                _config->Clear("APT::Update::Post-Invoke-Success");
        }
        // unattended: keep the admin's changed conffiles, never ask
        _config->Set("DPkg::Options::", "--force-confdef");
        _config->Set("DPkg::Options::", "--force-confold");
        _config->Set("Dpkg::Use-Pty", "false");
        _config->Set("Dpkg::ApportFailureReport", "false");
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
        if (!s->cache)
                return no_cache(err, err_size);
        SilentStatus status;
        pkgSourceList *list = s->cache->GetSourceList();

        if (!list) {
                take_errors(err, err_size, "cannot read the sources");
                return -EIO;
        }
        if (!ListUpdate(status, *list)) {
                take_errors(err, err_size, "cannot refresh the package lists", true);
                return -EIO;
        }
        // a source that cannot be fetched is only a warning to ListUpdate; here it fails
        if (take_errors(err, err_size, "cannot refresh the package lists", true))
                return -EIO;
        return open_cache(s, err, err_size);
}

extern "C" int apt_installed(AptSession *s, PackageSet *ret) {
        if (!s->cache)
                return -EIO;
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
        if (!s->cache)
                return no_cache(err, err_size);
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
        // the upgrade marks are only a question asked: forget them (the
        // states are rebuilt from the cache already read, not read again)
        if (!dep.Init(nullptr)) {
                updates_clear(out);
                take_errors(err, err_size, "cannot reset the package states");
                return -EIO;
        }

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

extern "C" int apt_reload(AptSession *s, char *err, size_t err_size) {
        return open_cache(s, err, err_size);
}

extern "C" int apt_version_compare(const char *a, const char *b) {
        return debVS.CmpVersion(a, b);
}

// The package of (name, arch) and its version `version`, or end iterators.
static pkgCache::VerIterator find_version(pkgCache &cache, const PackageVersion *w) {
        // "all" packages live under the native architecture
        const char *arch = strcmp(w->arch, "all") == 0 ? "native" : w->arch;
        pkgCache::PkgIterator p = cache.FindPkg(w->name, arch);
        if (p.end())
                return pkgCache::VerIterator(cache);
        for (pkgCache::VerIterator v = p.VersionList(); !v.end(); ++v)
                if (strcmp(v.VerStr(), w->version) == 0 && strcmp(v.Arch(), w->arch) == 0)
                        return v;
        return pkgCache::VerIterator(cache);
}

// The file name apt gives a package in its archive cache.
static std::string archive_name(const char *name, const char *version, const char *arch) {
        return QuoteString(name, "_:") + '_' + QuoteString(version, "_:") + '_' + QuoteString(arch, "_:.") + ".deb";
}

static bool copy_file(const std::string &from, const std::string &to) {
        FileFd in, out;
        if (!in.Open(from, FileFd::ReadOnly) || !out.Open(to, FileFd::WriteAtomic, 0644))
                return false;
        return CopyFile(in, out) && out.Close();
}

extern "C" int apt_fetch(AptSession *s, const PackageSet *want, const char *dir, FetchResult *results,
                         char *err, size_t err_size) {
        if (!s->cache)
                return no_cache(err, err_size);
        pkgCache &cache = *s->cache->GetPkgCache();
        pkgSourceList *list = s->cache->GetSourceList();
        std::vector<pkgAcquire::Item *> items(want->n, nullptr);
        std::vector<std::string> dests(want->n);
        SilentStatus status;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                snprintf(err, err_size, "cannot create %s: %s", dir, strerror(errno));
                return -errno;
        }
        if (!list) {
                take_errors(err, err_size, "cannot read the sources");
                return -EIO;
        }
        pkgRecords records(*s->cache->GetPkgCache());
        pkgAcquire fetcher(&status);

        for (size_t i = 0; i < want->n; i++) {
                const PackageVersion *w = &want->items[i];
                pkgCache::VerIterator v = find_version(cache, w);
                std::string name = archive_name(w->name, w->version, w->arch);
                dests[i] = std::string(dir) + "/" + name;
                for (pkgCache::VerFileIterator vf = v.end() ? pkgCache::VerFileIterator() : v.FileList();
                     !v.end() && !vf.end(); ++vf) {
                        pkgIndexFile *index;
                        if (vf.File().Flagged(pkgCache::Flag::NotSource) || !list->FindIndex(vf.File(), index))
                                continue;
                        pkgRecords::Parser &rec = records.Lookup(vf);
                        HashStringList hashes = rec.Hashes();
                        if (RealFileExists(dests[i]) && hashes.usable() && hashes.VerifyFile(dests[i])) {
                                results[i].file = strdup(dests[i].c_str()); // staged before
                                break;
                        }
                        // checked against the repository's hashes as it arrives
                        items[i] = new pkgAcqFile(&fetcher, index->ArchiveURI(rec.FileName()), hashes, v->Size,
                                                  w->name, w->name, "", dests[i]);
                        break;
                }
                if (items[i] || results[i].file)
                        continue;
                // no repository has it (a replaced version, typically): staged
                // here before, or in apt's cache since apt installed it
                std::string cached = _config->FindDir("Dir::Cache::Archives") + name;
                if (RealFileExists(dests[i]) || (RealFileExists(cached) && copy_file(cached, dests[i])))
                        results[i].file = strdup(dests[i].c_str());
                else
                        results[i].error = strdup("no repository has this version and apt's cache has no copy");
        }
        _error->Discard();
        fetcher.Run();
        for (size_t i = 0; i < want->n; i++) {
                pkgAcquire::Item *item = items[i];
                if (!item)
                        continue;
                if (item->Status == pkgAcquire::Item::StatDone && item->Complete)
                        results[i].file = strdup(dests[i].c_str());
                else
                        results[i].error = strdup(item->ErrorText.empty() ? "not fetched" : item->ErrorText.c_str());
        }
        _error->Discard();
        return 0;
}

namespace {
// dpkg's progress, passed on; its errors kept for the report
class Progress : public APT::Progress::PackageManager {
public:
        Progress(BackendProgressFn fn_, void *userdata_) : fn(fn_), userdata(userdata_) {}
        bool StatusChanged(std::string package, unsigned done, unsigned total, std::string action) override {
                if (fn)
                        fn(userdata, package.c_str(), done, total, action.c_str());
                return true;
        }
        void Error(std::string package, unsigned, unsigned, std::string message) override {
                errors += (errors.empty() ? "" : "; ") + package + ": " + message;
        }
        std::string errors;

private:
        BackendProgressFn fn;
        void *userdata;
};
}

// Marks exactly `want`; anything else the resolver would change is an error.
static int mark_exactly(pkgDepCache &dep, const PackageSet *want, char *err, size_t err_size) {
        pkgCache &cache = dep.GetCache();
        {
                pkgDepCache::ActionGroup group(dep);
                for (size_t i = 0; i < want->n; i++) {
                        pkgCache::VerIterator v = find_version(cache, &want->items[i]);
                        if (v.end()) {
                                snprintf(err, err_size, "%s %s (%s) is not available from any repository",
                                         want->items[i].name, want->items[i].version, want->items[i].arch);
                                return -ENOENT;
                        }
                        dep.SetCandidateVersion(v);
                }
                for (size_t i = 0; i < want->n; i++) {
                        pkgCache::VerIterator v = find_version(cache, &want->items[i]);
                        dep.MarkInstall(v.ParentPkg(), true, 0, true);
                }
        }
        std::string extra;
        for (pkgCache::PkgIterator p = cache.PkgBegin(); !p.end(); ++p) {
                pkgDepCache::StateCache &st = dep[p];
                if (st.Delete()) {
                        extra += std::string(extra.empty() ? "" : ", ") + "remove " + p.FullName(true);
                        continue;
                }
                if (!st.Install() && !st.InstBroken())
                        continue;
                pkgCache::VerIterator v = st.InstVerIter(cache);
                const PackageVersion *w = v.end() ? nullptr : package_set_find(want, p.Name(), v.Arch());
                if (!w || strcmp(w->version, v.VerStr()) != 0 || st.InstBroken())
                        extra += std::string(extra.empty() ? "" : ", ") + (st.InstBroken() ? "broken " : "") +
                                 p.FullName(true) + (v.end() ? "" : std::string(" ") + v.VerStr());
        }
        if (dep.BrokenCount() > 0 || !extra.empty()) {
                snprintf(err, err_size, "the transaction would change more than the plan: %s",
                         extra.empty() ? "unmet dependencies" : extra.c_str());
                return -EDEADLK;
        }
        return 0;
}

extern "C" int apt_apply(AptSession *s, const PackageSet *want, const char *archives, int log_fd,
                         BackendProgressFn progress, void *userdata, char *err, size_t err_size) {
        if (!s->cache)
                return no_cache(err, err_size);
        pkgDepCache &dep = *s->cache->GetDepCache();
        pkgSourceList *list = s->cache->GetSourceList();
        int r;

        _error->Discard();
        if (!list) {
                take_errors(err, err_size, "cannot read the sources");
                return -EIO;
        }
        r = mark_exactly(dep, want, err, err_size);
        if (r < 0) {
                open_cache(s, err, err_size);
                return r;
        }
        // the staged files; apt's own cache directory is put back below
        std::string apt_archives = _config->Find("Dir::Cache::Archives");
        struct RestoreArchives {
                std::string value;
                ~RestoreArchives() { _config->Set("Dir::Cache::Archives", value); }
        } restore_archives{apt_archives};
        _config->Set("Dir::Cache::Archives", std::string(archives) + "/");
        mkdir(archives, 0755);
        mkdir((std::string(archives) + "/partial").c_str(), 0700);

        pkgRecords records(*s->cache->GetPkgCache());
        SilentStatus status;
        pkgAcquire fetcher(&status);
        std::unique_ptr<pkgPackageManager> pm(_system->CreatePM(&dep));
        if (!pm->GetArchives(&fetcher, list, &records) || fetcher.Run() != pkgAcquire::Continue) {
                take_errors(err, err_size, "cannot fetch the packages; nothing was changed");
                open_cache(s, err, err_size);
                return -EIO;
        }
        for (auto i = fetcher.ItemsBegin(); i != fetcher.ItemsEnd(); ++i)
                if ((*i)->Status != pkgAcquire::Item::StatDone || !(*i)->Complete) {
                        snprintf(err, err_size, "cannot fetch %s: %s; nothing was changed",
                                 (*i)->DescURI().c_str(), (*i)->ErrorText.c_str());
                        open_cache(s, err, err_size);
                        return -EIO;
                }

        if (!_system->Lock()) {
                take_errors(err, err_size, "cannot lock the package database");
                open_cache(s, err, err_size);
                return -EBUSY;
        }
        // dpkg takes the inner lock itself, apt keeps the frontend lock
        _system->UnLockInner();

        // dpkg's own output goes to the log, not to our caller's streams
        fflush(stdout);
        fflush(stderr);
        int saved_out = fcntl(1, F_DUPFD_CLOEXEC, 3), saved_err = fcntl(2, F_DUPFD_CLOEXEC, 3);
        dup2(log_fd, 1);
        dup2(log_fd, 2);
        Progress prog(progress, userdata);
        pkgPackageManager::OrderResult result = pm->DoInstall(&prog);
        fflush(stdout);
        fflush(stderr);
        dup2(saved_out, 1);
        dup2(saved_err, 2);
        close(saved_out);
        close(saved_err);
        _system->UnLock(true);

        if (result != pkgPackageManager::Completed) {
                std::string context = "the package transaction failed";
                if (!prog.errors.empty())
                        context += ": " + prog.errors;
                take_errors(err, err_size, context.c_str());
                r = -EIO;
        }
        char ignored[256];
        open_cache(s, r < 0 ? ignored : err, r < 0 ? sizeof(ignored) : err_size);
        return r;
}
