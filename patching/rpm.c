/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <libxml/xmlreader.h>
#include <limits.h>
#include <pthread.h>
#include <rpm/header.h>
#include <rpm/rpmcallback.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmps.h>
#include <rpm/rpmts.h>
#include <rpm/rpmver.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/hex.h"
#include "common/text.h"
#include "patching/rpm.h"

typedef struct RpmRepo {
        char *id, *baseurl;
        bool gpgcheck;
} RpmRepo;

/* One package of a repository's primary metadata. */
typedef struct RepoPackage {
        size_t repo;
        char *name, *arch, *evr, *href, *sha256;
        char *advisory; /* the security advisory listing this version, or NULL */
} RepoPackage;

struct RpmSession {
        char *root;
        RpmRepo *repos;
        size_t n_repos;
        RepoPackage *pkgs;
        size_t n_pkgs, allocated_pkgs;
};

static void seterr(char *err, size_t size, const char *format, ...) _printf_(3, 4);
static void seterr(char *err, size_t size, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        vsnprintf(err, size, format, ap);
        va_end(ap);
}

/* ---- versions ------------------------------------------------------ */

int rpm_version_compare(const char *a, const char *b) {
        rpmver va = rpmverParse(a), vb = rpmverParse(b);
        int c = va && vb ? rpmverCmp(va, vb) : strcmp(a, b);

        rpmverFree(va);
        rpmverFree(vb);
        return c;
}

/* ---- repositories -------------------------------------------------- */

static char *trim(char *s) {
        char *end;

        while (*s == ' ' || *s == '\t')
                s++;
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
                *--end = '\0';
        return s;
}

static void repos_free(RpmRepo *r, size_t n) {
        for (size_t i = 0; r && i < n; i++) {
                free(r[i].id);
                free(r[i].baseurl);
        }
        free(r);
}

static bool id_ok(const char *id) {
        if (!*id || strlen(id) > 100)
                return false;
        for (; *id; id++)
                if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') || (*id >= '0' && *id <= '9') ||
                      strchr("-_.:", *id)))
                        return false;
        return true;
}

/* One .repo file, PATH or DATA (SIZE bytes) named PATH: [ID] sections of
 * key=value lines. */
static int parse_repo_file(const char *path, const void *data, size_t size, RpmRepo **repos, size_t *n, char *err,
                           size_t err_size) {
        _cleanup_fclose_ FILE *f = !data ? fopen(path, "re") : size > 0 ? fmemopen((void *) data, size, "r") : NULL;
        _cleanup_free_ char *line = NULL;
        size_t allocated = 0;
        unsigned lineno = 0;
        RpmRepo *cur = NULL;
        bool enabled = true;
        unsigned repo_gpgcheck_line = 0; /* of the section being read */
        char repo_gpgcheck_value[16] = "";

        if (data && size == 0)
                return 0;
        if (!f) {
                seterr(err, err_size, "%s: %s", path, strerror(errno));
                return -errno;
        }
        for (;;) {
                ssize_t len = getline(&line, &allocated, f);
                bool at_end = len < 0;
                char *s = at_end ? NULL : trim(line);

                lineno++;
                if (!at_end && (!*s || *s == '#' || *s == ';'))
                        continue;
                if (at_end || *s == '[') {
                        /* the previous section is complete */
                        if (cur && !cur->baseurl) {
                                seterr(err, err_size, "%s: [%s]: no baseurl", path, cur->id);
                                return -EINVAL;
                        }
                        /* metadata signatures: not checked by hostd, so an
                         * enabled repository that asks for them is refused,
                         * never read as if it had not */
                        if (cur && enabled && repo_gpgcheck_line) {
                                seterr(err, err_size,
                                       "%s:%u: repo_gpgcheck=%s: hostd does not check repository metadata "
                                       "signatures; set repo_gpgcheck=0 (package signatures are still checked "
                                       "with gpgcheck=1) or disable [%s]",
                                       path, repo_gpgcheck_line, repo_gpgcheck_value, cur->id);
                                return -EOPNOTSUPP;
                        }
                        if (cur && !enabled) {
                                free(cur->id);
                                free(cur->baseurl);
                                (*n)--;
                        }
                        cur = NULL;
                        repo_gpgcheck_line = 0;
                        if (at_end)
                                return 0;
                        char *close = strchr(s, ']');
                        if (!close || close[1]) {
                                seterr(err, err_size, "%s:%u: expected [ID]", path, lineno);
                                return -EINVAL;
                        }
                        *close = '\0';
                        if (!id_ok(s + 1)) {
                                seterr(err, err_size, "%s:%u: \"%s\" is not a repository ID", path, lineno, s + 1);
                                return -EINVAL;
                        }
                        RpmRepo *grown = reallocarray(*repos, *n + 1, sizeof(RpmRepo));
                        if (!grown)
                                return -ENOMEM;
                        *repos = grown;
                        cur = &(*repos)[(*n)++];
                        *cur = (RpmRepo){ .id = strdup(s + 1), .gpgcheck = true };
                        enabled = true;
                        if (!cur->id)
                                return -ENOMEM;
                        continue;
                }
                char *eq = strchr(s, '=');
                if (!cur || !eq) {
                        seterr(err, err_size, "%s:%u: expected key=value in a [ID] section", path, lineno);
                        return -EINVAL;
                }
                *eq = '\0';
                char *key = trim(s), *value = trim(eq + 1);
                if (STREQ(key, "baseurl")) {
                        /* the first of several: mirrors are the host tool's business */
                        value[strcspn(value, " \t,")] = '\0';
                        if (strncmp(value, "file:///", 8) != 0 && strncmp(value, "http://", 7) != 0 &&
                            strncmp(value, "https://", 8) != 0) {
                                seterr(err, err_size, "%s:%u: baseurl \"%s\": only file:///, http:// and https://",
                                       path, lineno, value);
                                return -EINVAL;
                        }
                        free(cur->baseurl);
                        size_t vl = strlen(value);
                        while (vl > 0 && value[vl - 1] == '/')
                                value[--vl] = '\0';
                        if (!(cur->baseurl = strdup(value)))
                                return -ENOMEM;
                } else if (STREQ(key, "repo_gpgcheck")) {
                        bool off = STREQ(value, "0") || STREQ(value, "false") || STREQ(value, "no");
                        repo_gpgcheck_line = off ? 0 : lineno;
                        snprintf(repo_gpgcheck_value, sizeof(repo_gpgcheck_value), "%s", value);
                } else if (STREQ(key, "enabled") || STREQ(key, "gpgcheck")) {
                        bool v;
                        if (STREQ(value, "1") || STREQ(value, "true") || STREQ(value, "yes"))
                                v = true;
                        else if (STREQ(value, "0") || STREQ(value, "false") || STREQ(value, "no"))
                                v = false;
                        else {
                                seterr(err, err_size, "%s:%u: %s: \"%s\" is not 0 or 1", path, lineno, key, value);
                                return -EINVAL;
                        }
                        if (STREQ(key, "enabled"))
                                enabled = v;
                        else
                                cur->gpgcheck = v;
                }
                /* other keys (name, metadata_expire, ...) do not concern us */
        }
}

static int filter_repo(const struct dirent *de) {
        size_t n = strlen(de->d_name);
        return de->d_name[0] != '.' && n > 5 && STREQ(de->d_name + n - 5, ".repo");
}

static int load_repos(RpmSession *s, char *err, size_t err_size) {
        _cleanup_free_ char *dir = NULL;
        struct dirent **names = NULL;
        int n, r = 0;

        if (asprintf(&dir, "%s/etc/yum.repos.d", s->root) < 0)
                return -ENOMEM;
        n = scandir(dir, &names, filter_repo, alphasort);
        if (n < 0)
                return errno == ENOENT ? 0 : -errno;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;
                if (r >= 0 && asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
                        r = -ENOMEM;
                if (r >= 0)
                        r = parse_repo_file(path, NULL, 0, &s->repos, &s->n_repos, err, err_size);
                free(names[i]);
        }
        free(names);
        return r;
}

/* ---- downloads ----------------------------------------------------- */

typedef struct Download {
        FILE *out;
        gnutls_hash_hd_t hash;
} Download;

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata) {
        Download *d = userdata;
        size_t n = size * nmemb;

        gnutls_hash(d->hash, data, n);
        return fwrite(data, 1, n, d->out);
}

/* Fetches url into path (atomically); checked against sha256 (hex) when
 * given. */
static int download(const char *url, const char *path, const char *sha256, char *err, size_t err_size) {
        _cleanup_free_ char *tmp = NULL;
        char curl_err[CURL_ERROR_SIZE] = "", hex[65];
        unsigned char digest[32];
        Download d = {};
        CURLcode code;
        CURL *c;
        long status = 0;

        if (asprintf(&tmp, "%s.partial", path) < 0)
                return -ENOMEM;
        d.out = fopen(tmp, "wxe");
        if (!d.out && errno == EEXIST && unlink(tmp) == 0)
                d.out = fopen(tmp, "wxe");
        if (!d.out) {
                seterr(err, err_size, "cannot create %s: %s", tmp, strerror(errno));
                return -errno;
        }
        if (gnutls_hash_init(&d.hash, GNUTLS_DIG_SHA256) < 0 || !(c = curl_easy_init())) {
                fclose(d.out);
                unlink(tmp);
                return -ENOMEM;
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "file,http,https");
        code = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        gnutls_hash_deinit(d.hash, digest);
        if (fclose(d.out) != 0 && code == CURLE_OK)
                code = CURLE_WRITE_ERROR;
        if (code != CURLE_OK) {
                unlink(tmp);
                seterr(err, err_size, "%s: %s", url, curl_err[0] ? curl_err : curl_easy_strerror(code));
                return -EIO;
        }
        hex_encode(digest, sizeof(digest), hex);
        if (sha256 && strcasecmp(hex, sha256) != 0) {
                unlink(tmp);
                seterr(err, err_size, "%s: sha256 mismatch: got %s, the metadata says %s", url, hex, sha256);
                return -EBADMSG;
        }
        if (rename(tmp, path) < 0) {
                int r = -errno;
                unlink(tmp);
                seterr(err, err_size, "cannot rename %s: %s", tmp, strerror(-r));
                return r;
        }
        return 0;
}

static int file_sha256(const char *path, char hex[65]) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        gnutls_hash_hd_t hash;
        unsigned char digest[32], buf[65536];
        ssize_t n;

        if (fd < 0)
                return -errno;
        if (gnutls_hash_init(&hash, GNUTLS_DIG_SHA256) < 0)
                return -ENOMEM;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                gnutls_hash(hash, buf, n);
        gnutls_hash_deinit(hash, digest);
        if (n < 0)
                return -errno;
        hex_encode(digest, sizeof(digest), hex);
        return 0;
}

/* ---- repository metadata ------------------------------------------- */

static char *xml_attr(xmlTextReaderPtr r, const char *name) {
        xmlChar *v = xmlTextReaderGetAttribute(r, (const xmlChar *) name);
        char *copy = v ? strdup((const char *) v) : NULL;

        xmlFree(v);
        return copy;
}

static char *xml_text(xmlTextReaderPtr r) {
        xmlChar *v = xmlTextReaderReadString(r);
        char *copy = strdup(v ? (const char *) v : "");

        xmlFree(v);
        return copy;
}

static bool xml_is(xmlTextReaderPtr r, const char *name, int depth) {
        return xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT &&
               STREQ((const char *) xmlTextReaderConstLocalName(r), name) &&
               (depth < 0 || xmlTextReaderDepth(r) == depth);
}

static char *make_evr(const char *epoch, const char *ver, const char *rel) {
        char *evr;

        if (!ver || !rel)
                return NULL;
        if (asprintf(&evr, "%s%s%s-%s", epoch && !STREQ(epoch, "0") && *epoch ? epoch : "",
                     epoch && !STREQ(epoch, "0") && *epoch ? ":" : "", ver, rel) < 0)
                return NULL;
        return evr;
}

static void xml_error(const char *path, char *err, size_t err_size) {
        const xmlError *e = xmlGetLastError();

        seterr(err, err_size, "%s:%d: %s", path, e ? e->line : 0,
               e && e->message ? trim(e->message) : "malformed XML");
}

/* A reader of the file PATH or, when DATA is set, of its SIZE bytes named PATH. */
static xmlTextReaderPtr xml_open(const char *path, const void *data, size_t size, int options) {
        if (!data)
                return xmlReaderForFile(path, NULL, options);
        if (size > INT_MAX)
                return NULL;
        return xmlReaderForMemory(data, (int) size, path, NULL, options);
}

/* repomd.xml: where the primary and updateinfo files are (in the
 * repository, .xml or .xml.gz), with their sha256 */
static int read_repomd(const char *path, const void *data, size_t size, char *locations[2], char *sums[2], char *err,
                       size_t err_size) {
        xmlTextReaderPtr r = xml_open(path, data, size, XML_PARSE_NONET);
        int which = -1, ret;

        if (!r) {
                xml_error(path, err, err_size);
                return -EINVAL;
        }
        while ((ret = xmlTextReaderRead(r)) == 1) {
                if (xml_is(r, "data", -1)) {
                        _cleanup_free_ char *type = xml_attr(r, "type");
                        which = type && STREQ(type, "primary") ? 0 : type && STREQ(type, "updateinfo") ? 1 : -1;
                } else if (which >= 0 && xml_is(r, "location", -1)) {
                        free(locations[which]);
                        locations[which] = xml_attr(r, "href");
                } else if (which >= 0 && xml_is(r, "checksum", -1)) {
                        _cleanup_free_ char *type = xml_attr(r, "type");
                        free(sums[which]);
                        sums[which] = type && STREQ(type, "sha256") ? xml_text(r) : NULL;
                }
        }
        xmlFreeTextReader(r);
        if (ret < 0) {
                xml_error(path, err, err_size);
                return -EINVAL;
        }
        if (!locations[0] || !sums[0]) {
                seterr(err, err_size, "%s: no primary metadata with a sha256 checksum", path);
                return -EINVAL;
        }
        for (size_t k = 0; k < 2; k++) {
                size_t n = locations[k] ? strlen(locations[k]) : 0;
                bool gz = n > 3 && STREQ(locations[k] + n - 3, ".gz");
                bool xml = n > 4 && STREQ(locations[k] + n - 4, ".xml");

                if (locations[k] && (strstr(locations[k], "..") || locations[k][0] == '/' || (!gz && !xml))) {
                        seterr(err, err_size, "%s: %s location \"%s\" is not a .xml or .xml.gz file of the repository",
                               path, k == 0 ? "primary" : "updateinfo", locations[k]);
                        return -EINVAL;
                }
        }
        return 0;
}

static int add_package(RpmSession *s, RepoPackage *p) {
        if (s->n_pkgs == s->allocated_pkgs) {
                size_t want = MAX(s->allocated_pkgs * 2, (size_t) 64);
                RepoPackage *grown = reallocarray(s->pkgs, want, sizeof(RepoPackage));
                if (!grown)
                        return -ENOMEM;
                s->pkgs = grown;
                s->allocated_pkgs = want;
        }
        s->pkgs[s->n_pkgs++] = *p;
        return 0;
}

static void repo_package_done(RepoPackage *p) {
        free(p->name);
        free(p->arch);
        free(p->evr);
        free(p->href);
        free(p->sha256);
        free(p->advisory);
        *p = (RepoPackage){};
}

/* primary.xml(.gz): every package's name, arch, EVR, location and sha256 */
static int read_primary(RpmSession *s, size_t repo, const char *path, const void *data, size_t size, char *err,
                        size_t err_size) {
        xmlTextReaderPtr r = xml_open(path, data, size, XML_PARSE_NONET | XML_PARSE_HUGE);
        RepoPackage p = {};
        bool in_package = false;
        int ret, q = 0;

        if (!r) {
                xml_error(path, err, err_size);
                return -EINVAL;
        }
        while (q >= 0 && (ret = xmlTextReaderRead(r)) == 1) {
                int type = xmlTextReaderNodeType(r);
                const char *name = (const char *) xmlTextReaderConstLocalName(r);

                if (type == XML_READER_TYPE_ELEMENT && STREQ(name, "package") && xmlTextReaderDepth(r) == 1) {
                        repo_package_done(&p);
                        p.repo = repo;
                        in_package = true;
                } else if (type == XML_READER_TYPE_END_ELEMENT && STREQ(name, "package") &&
                           xmlTextReaderDepth(r) == 1) {
                        in_package = false;
                        if (!p.name || !p.arch || !p.evr || !p.href || !p.sha256) {
                                seterr(err, err_size, "%s:%d: a package without name, arch, version, location or sha256",
                                       path, xmlTextReaderGetParserLineNumber(r));
                                q = -EINVAL;
                        } else if (!STREQ(p.arch, "src")) {
                                q = add_package(s, &p);
                                p = (RepoPackage){};
                        }
                } else if (in_package && type == XML_READER_TYPE_ELEMENT && xmlTextReaderDepth(r) == 2) {
                        if (STREQ(name, "name") && !p.name)
                                p.name = xml_text(r);
                        else if (STREQ(name, "arch") && !p.arch)
                                p.arch = xml_text(r);
                        else if (STREQ(name, "version") && !p.evr) {
                                _cleanup_free_ char *e = xml_attr(r, "epoch"), *v = xml_attr(r, "ver"),
                                                    *rel = xml_attr(r, "rel");
                                p.evr = make_evr(e, v, rel);
                        } else if (STREQ(name, "location") && !p.href)
                                p.href = xml_attr(r, "href");
                        else if (STREQ(name, "checksum") && !p.sha256) {
                                _cleanup_free_ char *t = xml_attr(r, "type");
                                if (t && STREQ(t, "sha256"))
                                        p.sha256 = xml_text(r);
                        }
                }
        }
        repo_package_done(&p);
        xmlFreeTextReader(r);
        if (q < 0)
                return q;
        if (ret < 0) {
                xml_error(path, err, err_size);
                return -EINVAL;
        }
        return 0;
}

/* updateinfo.xml(.gz): the versions security advisories list */
static int read_updateinfo(RpmSession *s, size_t repo, const char *path, const void *data, size_t size, char *err,
                           size_t err_size) {
        xmlTextReaderPtr r = xml_open(path, data, size, XML_PARSE_NONET | XML_PARSE_HUGE);
        _cleanup_free_ char *advisory = NULL;
        bool security = false;
        int ret;

        if (!r) {
                xml_error(path, err, err_size);
                return -EINVAL;
        }
        while ((ret = xmlTextReaderRead(r)) == 1) {
                if (xml_is(r, "update", 1)) {
                        _cleanup_free_ char *type = xml_attr(r, "type");
                        security = type && STREQ(type, "security");
                        free(advisory);
                        advisory = NULL;
                } else if (xml_is(r, "id", 2)) {
                        free(advisory);
                        advisory = xml_text(r);
                } else if (security && xml_is(r, "package", -1)) {
                        _cleanup_free_ char *name = xml_attr(r, "name"), *arch = xml_attr(r, "arch"),
                                            *e = xml_attr(r, "epoch"), *v = xml_attr(r, "version"),
                                            *rel = xml_attr(r, "release"), *evr = make_evr(e, v, rel);
                        for (size_t i = 0; name && arch && evr && i < s->n_pkgs; i++) {
                                RepoPackage *p = &s->pkgs[i];
                                if (p->repo == repo && !p->advisory && STREQ(p->name, name) && STREQ(p->arch, arch) &&
                                    STREQ(p->evr, evr))
                                        p->advisory = strdup(advisory ? advisory : "security");
                        }
                }
        }
        xmlFreeTextReader(r);
        if (ret < 0) {
                xml_error(path, err, err_size);
                return -EINVAL;
        }
        return 0;
}

static char *cache_dir(const RpmSession *s, const RpmRepo *repo) {
        char *p;

        if (asprintf(&p, "%s/var/cache/hostd/rpm/%s", s->root, repo->id) < 0)
                return NULL;
        return p;
}

/* The cached metadata of every repository (what the last refresh got). */
static int load_metadata(RpmSession *s, char *err, size_t err_size) {
        for (size_t i = 0; i < s->n_repos; i++) {
                _cleanup_free_ char *dir = cache_dir(s, &s->repos[i]);
                static const char *const kinds[] = { "primary", "updateinfo" };
                if (!dir)
                        return -ENOMEM;
                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        _cleanup_free_ char *path = NULL;
                        int r;

                        if (asprintf(&path, "%s/%s.xml.gz", dir, kinds[k]) < 0)
                                return -ENOMEM;
                        if (access(path, F_OK) < 0)
                                path[strlen(path) - 3] = '\0'; /* uncompressed */
                        if (access(path, F_OK) < 0)
                                continue;
                        r = k == 0 ? read_primary(s, i, path, NULL, 0, err, err_size)
                                   : read_updateinfo(s, i, path, NULL, 0, err, err_size);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static void packages_clear(RpmSession *s) {
        for (size_t i = 0; i < s->n_pkgs; i++)
                repo_package_done(&s->pkgs[i]);
        s->n_pkgs = 0;
}

int rpm_refresh(RpmSession *s, char *err, size_t err_size) {
        for (size_t i = 0; i < s->n_repos; i++) {
                const RpmRepo *repo = &s->repos[i];
                _cleanup_free_ char *dir = cache_dir(s, repo), *url = NULL, *repomd = NULL;
                char *locations[2] = {}, *sums[2] = {};
                char why[1024];
                int r;

                if (!dir || asprintf(&url, "%s/repodata/repomd.xml", repo->baseurl) < 0 ||
                    asprintf(&repomd, "%s/repomd.xml", dir) < 0)
                        return -ENOMEM;
                if ((r = mkdir_p(dir, 0755)) < 0) {
                        seterr(err, err_size, "cannot create %s: %s", dir, strerror(-r));
                        return r;
                }
                r = download(url, repomd, NULL, why, sizeof(why));
                if (r >= 0)
                        r = read_repomd(repomd, NULL, 0, locations, sums, why, sizeof(why));
                for (size_t k = 0; r >= 0 && k < 2; k++) {
                        _cleanup_free_ char *from = NULL, *to = NULL;
                        const char *kind = k == 0 ? "primary" : "updateinfo";
                        size_t n;

                        if (!locations[k])
                                continue;
                        n = strlen(locations[k]);
                        bool gz = n > 3 && STREQ(locations[k] + n - 3, ".gz");
                        if (asprintf(&from, "%s/%s", repo->baseurl, locations[k]) < 0 ||
                            asprintf(&to, "%s/%s.xml%s", dir, kind, gz ? ".gz" : "") < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        r = download(from, to, sums[k], why, sizeof(why));
                }
                for (size_t k = 0; k < 2; k++) {
                        free(locations[k]);
                        free(sums[k]);
                }
                if (r < 0) {
                        seterr(err, err_size, "cannot refresh repository %s (%s): %s", repo->id, repo->baseurl, why);
                        return r;
                }
        }
        packages_clear(s);
        return load_metadata(s, err, err_size);
}

/* ---- the database -------------------------------------------------- */

static bool any_gpgcheck(const RpmSession *s) {
        for (size_t i = 0; i < s->n_repos; i++)
                if (s->repos[i].gpgcheck)
                        return true;
        return false;
}

/* A transaction set on the root. When any enabled repository asks for
 * signatures (gpgcheck=1, the default), every package must carry a valid
 * one from a key in the root's rpm keyring (a signature is required, not
 * only checked when present); otherwise signatures are not read. Files are
 * checked against the repository's sha256 either way. */
static rpmts ts_new(const RpmSession *s) {
        rpmts ts = rpmtsCreate();

        if (!ts)
                return NULL;
        rpmtsSetRootDir(ts, s->root);
        if (!any_gpgcheck(s))
                rpmtsSetVSFlags(ts, rpmtsVSFlags(ts) | RPMVSF_MASK_NOSIGNATURES);
        else
                rpmtsSetVfyLevel(ts, RPMSIG_SIGNATURE_TYPE | RPMSIG_DIGEST_TYPE);
        return ts;
}

static pthread_once_t config_once = PTHREAD_ONCE_INIT;

static void read_rpm_config(void) {
        if (rpmReadConfigFiles(NULL, NULL) != 0)
                return;
        /* the database where rpm distributions keep it, whatever this host's rpm says */
        rpmPushMacro(NULL, "_dbpath", NULL, "/var/lib/rpm", RMIL_CMDLINE);
}

static bool rpm_config_read(void) {
        return rpmExpandNumeric("%{?_dbpath:1}") == 1;
}

int rpm_session_open(const char *root, RpmSession **ret, char *err, size_t err_size) {
        RpmSession *s;
        int r;

        if (!root || root[0] != '/') {
                seterr(err, err_size, "root \"%s\" is not an absolute path", root ? root : "");
                return -EINVAL;
        }
        /* librpm's configuration is process-wide: read once */
        pthread_once(&config_once, read_rpm_config);
        if (!rpm_config_read()) {
                seterr(err, err_size, "cannot read rpm's configuration");
                return -EIO;
        }
        s = calloc(1, sizeof(RpmSession));
        if (!s || !(s->root = strdup(root))) {
                free(s);
                return -ENOMEM;
        }
        r = load_repos(s, err, err_size);
        if (r >= 0)
                r = load_metadata(s, err, err_size);
        if (r < 0) {
                rpm_session_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

int rpm_metadata_read(RpmSession *s, RpmMetadataKind kind, const char *name, const void *data, size_t size, char *err,
                      size_t err_size) {
        char *locations[2] = {}, *sums[2] = {};
        int r;

        if (!data)
                return -EINVAL;
        switch (kind) {
        case RPM_REPO_FILE:
                return parse_repo_file(name, data, size, &s->repos, &s->n_repos, err, err_size);
        case RPM_REPOMD:
                r = read_repomd(name, data, size, locations, sums, err, err_size);
                for (size_t k = 0; k < 2; k++) {
                        free(locations[k]);
                        free(sums[k]);
                }
                return r;
        case RPM_PRIMARY:
                return read_primary(s, 0, name, data, size, err, err_size);
        case RPM_UPDATEINFO:
                return read_updateinfo(s, 0, name, data, size, err, err_size);
        }
        return -EINVAL;
}

void rpm_session_close(RpmSession *s) {
        if (!s)
                return;
        packages_clear(s);
        free(s->pkgs);
        repos_free(s->repos, s->n_repos);
        free(s->root);
        free(s);
}

int rpm_installed(RpmSession *s, PackageSet *ret) {
        rpmts ts = ts_new(s);
        rpmdbMatchIterator mi;
        PackageSet set = {};
        Header h;
        int r = 0;

        if (!ts)
                return -ENOMEM;
        mi = rpmtsInitIterator(ts, RPMDBI_PACKAGES, NULL, 0);
        while (r >= 0 && mi && (h = rpmdbNextIterator(mi))) {
                const char *name = headerGetString(h, RPMTAG_NAME), *arch = headerGetString(h, RPMTAG_ARCH);
                char *evr = headerGetAsString(h, RPMTAG_EVR);
                /* gpg-pubkey entries have no arch: keys, not packages */
                if (name && arch && evr)
                        r = package_set_put(&set, name, arch, evr);
                free(evr);
        }
        rpmdbFreeIterator(mi);
        rpmtsFree(ts);
        if (r < 0) {
                package_set_done(&set);
                return r;
        }
        *ret = set;
        return 0;
}

static const RepoPackage *find_repo_package(const RpmSession *s, const char *name, const char *arch, const char *evr) {
        for (size_t i = 0; i < s->n_pkgs; i++)
                if (STREQ(s->pkgs[i].name, name) && STREQ(s->pkgs[i].arch, arch) && STREQ(s->pkgs[i].evr, evr))
                        return &s->pkgs[i];
        return NULL;
}

int rpm_plan_upgrade(RpmSession *s, PackageUpdate **ret, size_t *ret_n, char *err, size_t err_size) {
        PackageSet installed = {};
        PackageUpdate *out = NULL;
        size_t n = 0;
        int r;

        r = rpm_installed(s, &installed);
        if (r < 0) {
                seterr(err, err_size, "cannot read the rpm database of %s", s->root);
                return r;
        }
        out = calloc(MAX(installed.n, (size_t) 1), sizeof(PackageUpdate));
        if (!out) {
                package_set_done(&installed);
                return -ENOMEM;
        }
        /* installed is sorted by name, arch: so is the result */
        for (size_t i = 0; i < installed.n; i++) {
                const PackageVersion *cur = &installed.items[i];
                const RepoPackage *best = NULL;

                for (size_t k = 0; k < s->n_pkgs; k++) {
                        const RepoPackage *p = &s->pkgs[k];
                        if (STREQ(p->name, cur->name) && STREQ(p->arch, cur->arch) &&
                            rpm_version_compare(p->evr, cur->version) > 0 &&
                            (!best || rpm_version_compare(p->evr, best->evr) > 0))
                                best = p;
                }
                if (!best)
                        continue;
                PackageUpdate *u = &out[n++];
                u->name = strdup(cur->name);
                u->arch = strdup(cur->arch);
                u->from = strdup(cur->version);
                u->to = strdup(best->evr);
                u->origin = strdup(s->repos[best->repo].id);
                u->suite = strdup(best->advisory ? best->advisory : s->repos[best->repo].id);
                u->security = best->advisory != NULL;
                if (!u->name || !u->arch || !u->from || !u->to || !u->origin || !u->suite) {
                        package_updates_free(out, n);
                        package_set_done(&installed);
                        return -ENOMEM;
                }
        }
        package_set_done(&installed);
        *ret = out;
        *ret_n = n;
        return 0;
}

/* ---- fetch --------------------------------------------------------- */

static char *package_file_name(const char *dir, const char *name, const char *evr, const char *arch) {
        const char *colon = strchr(evr, ':');
        char *p;

        /* rpm's own naming, without the epoch */
        if (asprintf(&p, "%s/%s-%s.%s.rpm", dir, name, colon ? colon + 1 : evr, arch) < 0)
                return NULL;
        return p;
}

int rpm_fetch(RpmSession *s, const PackageSet *want, const char *dir, FetchResult *results, char *err,
              size_t err_size) {
        int r = mkdir_p(dir, 0755);

        if (r < 0) {
                seterr(err, err_size, "cannot create %s: %s", dir, strerror(-r));
                return r;
        }
        for (size_t i = 0; i < want->n; i++) {
                const PackageVersion *w = &want->items[i];
                const RepoPackage *p = find_repo_package(s, w->name, w->arch, w->version);
                _cleanup_free_ char *dest = package_file_name(dir, w->name, w->version, w->arch), *url = NULL;
                char why[1024], hex[65];

                if (!dest)
                        return -ENOMEM;
                if (!p) {
                        /* no repository has it: staged here before, verified then */
                        if (access(dest, F_OK) == 0)
                                results[i].file = TAKE_PTR(dest);
                        else
                                results[i].error = strdup("no repository has this version");
                        continue;
                }
                if (file_sha256(dest, hex) == 0 && strcasecmp(hex, p->sha256) == 0) {
                        results[i].file = TAKE_PTR(dest);
                        continue;
                }
                if (strstr(p->href, "..") || p->href[0] == '/' ||
                    asprintf(&url, "%s/%s", s->repos[p->repo].baseurl, p->href) < 0) {
                        results[i].error = strdup("the repository gives no usable location");
                        continue;
                }
                if (download(url, dest, p->sha256, why, sizeof(why)) < 0)
                        results[i].error = strdup(why);
                else
                        results[i].file = TAKE_PTR(dest);
        }
        return 0;
}

/* ---- transactions -------------------------------------------------- */

typedef struct Transaction {
        BackendProgressFn progress;
        void *userdata;
        unsigned done, total;
        FD_t open_fd;
        char errors[2048];
        bool script_failed;
        int log_fd;
} Transaction;

/* rpm's messages: to the transaction log, and its errors kept */
static int on_rpmlog(rpmlogRec rec, rpmlogCallbackData data) {
        Transaction *t = data;
        const char *msg = rpmlogRecMessage(rec);

        if (t->log_fd >= 0)
                (void) !write(t->log_fd, msg, strlen(msg));
        if (rpmlogRecPriority(rec) <= RPMLOG_ERR || strstr(msg, "scriptlet failed")) {
                char copy[512];
                snprintf(copy, sizeof(copy), "%s", msg);
                text_append(t->errors, sizeof(t->errors), "; ", "%s", trim(copy));
        }
        return 0;
}

static void *on_notify(const void *arg, const rpmCallbackType what, const rpm_loff_t amount, const rpm_loff_t total _unused_,
                       fnpyKey key, rpmCallbackData data) {
        Transaction *t = data;
        Header h = (Header) arg;
        const char *name = h ? headerGetString(h, RPMTAG_NAME) : NULL;
        char action[256];

        switch (what) {
        case RPMCALLBACK_INST_OPEN_FILE:
                t->open_fd = Fopen(key, "r.ufdio");
                return t->open_fd;
        case RPMCALLBACK_INST_CLOSE_FILE:
                if (t->open_fd)
                        Fclose(t->open_fd);
                t->open_fd = NULL;
                break;
        case RPMCALLBACK_INST_START:
        case RPMCALLBACK_UNINST_START:
                snprintf(action, sizeof(action), "%s %s", what == RPMCALLBACK_INST_START ? "Installing" : "Cleaning up",
                         name ? name : "?");
                if (t->progress)
                        t->progress(t->userdata, name ? name : "", t->done++, t->total, action);
                break;
        case RPMCALLBACK_SCRIPT_ERROR:
                /* rpm goes on after a failed %post (total is then 0, "only a
                 * warning"); for us the transaction failed. rpm's own message
                 * has the exit status. */
                t->script_failed = true;
                if (!strstr(t->errors, "scriptlet failed"))
                        text_append(t->errors, sizeof(t->errors), "; ", "%s: %s scriptlet failed", name ? name : "?",
                                    rpmTagGetName((rpmTagVal) amount));
                break;
        default:
                break;
        }
        return NULL;
}

/* Runs ts: checks dependencies first (nothing changes on a problem), then
 * the transaction with output to log_fd. */
static int run_transaction(rpmts ts, rpmprobFilterFlags filter, int log_fd, BackendProgressFn progress,
                           void *userdata, char *err, size_t err_size) {
        Transaction t = { .progress = progress, .userdata = userdata, .log_fd = log_fd };
        rpmlogCallback old_cb;
        int rc;

        rpmtsCheck(ts);
        rpmps problems = rpmtsProblems(ts);
        if (rpmpsNumProblems(problems) > 0) {
                rpmpsi psi = rpmpsInitIterator(problems);
                while (rpmpsNextIterator(psi) >= 0) {
                        char *msg = rpmProblemString(rpmpsGetProblem(psi));
                        text_append(t.errors, sizeof(t.errors), "; ", "%s", msg);
                        free(msg);
                }
                rpmpsFreeIterator(psi);
                rpmpsFree(problems);
                seterr(err, err_size, "the transaction cannot be resolved: %s; nothing was changed", t.errors);
                return -EDEADLK;
        }
        rpmpsFree(problems);
        rpmtsOrder(ts);
        t.total = (unsigned) rpmtsNElements(ts);
        rpmtsSetNotifyCallback(ts, on_notify, &t);
        FD_t script_fd = fdDup(log_fd);
        rpmtsSetScriptFd(ts, script_fd);
        old_cb = rpmlogSetCallback(on_rpmlog, &t);
        rc = rpmtsRun(ts, NULL, filter);
        rpmlogSetCallback(old_cb, NULL);
        rpmtsSetScriptFd(ts, NULL);
        Fclose(script_fd);
        if (rc != 0 || t.script_failed || t.errors[0]) {
                if (rc > 0 && !t.errors[0]) {
                        rpmps ps = rpmtsProblems(ts);
                        rpmpsi psi = rpmpsInitIterator(ps);
                        while (rpmpsNextIterator(psi) >= 0) {
                                char *msg = rpmProblemString(rpmpsGetProblem(psi));
                                text_append(t.errors, sizeof(t.errors), "; ", "%s", msg);
                                free(msg);
                        }
                        rpmpsFreeIterator(psi);
                        rpmpsFree(ps);
                }
                seterr(err, err_size, "the package transaction failed: %s", t.errors[0] ? t.errors : "rpm reported failure");
                return -EIO;
        }
        return 0;
}

/* Reads a package file into the transaction, its signature judged as
 * signed_only says: before anything changes, a package that fails is an
 * error naming it and why. */
static int add_file(rpmts ts, const char *path, bool signed_only, char *err, size_t err_size) {
        FD_t fd = Fopen(path, "r.ufdio");
        Header h = NULL;
        rpmRC rc;
        int r;

        if (!fd || Ferror(fd)) {
                seterr(err, err_size, "cannot open %s", path);
                if (fd)
                        Fclose(fd);
                return -EIO;
        }
        rc = rpmReadPackageFile(ts, fd, path, &h);
        Fclose(fd);
        /* signatures not asked for: an unknown key is read, not judged */
        if (rc != RPMRC_OK && (signed_only || (rc != RPMRC_NOTTRUSTED && rc != RPMRC_NOKEY))) {
                const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
                if (rc == RPMRC_NOKEY)
                        seterr(err, err_size, "%s: signed by a key the root's rpm keyring does not have (gpgcheck=1)",
                               base);
                else if (rc == RPMRC_NOTTRUSTED)
                        seterr(err, err_size, "%s: signed by a key that is not trusted (gpgcheck=1)", base);
                else if (signed_only)
                        seterr(err, err_size, "%s: no valid signature (unsigned, or the signature or digest is bad; "
                                              "gpgcheck=1)", base);
                else
                        seterr(err, err_size, "%s is not a readable rpm package (its digest is bad)", path);
                headerFree(h);
                return rc == RPMRC_NOKEY || rc == RPMRC_NOTTRUSTED || signed_only ? -EKEYREJECTED : -EINVAL;
        }
        /* the key is the file's path (the caller's, alive until the
         * transaction is freed): the notify callback opens it */
        r = rpmtsAddInstallElement(ts, h, (fnpyKey) path, 1, NULL);
        headerFree(h);
        if (r != 0) {
                seterr(err, err_size, "cannot add %s to the transaction", path);
                return -EINVAL;
        }
        return 0;
}

int rpm_apply(RpmSession *s, const PackageSet *want, const char *archives, int log_fd, BackendProgressFn progress,
              void *userdata, char *err, size_t err_size) {
        FetchResult *files = calloc(MAX(want->n, (size_t) 1), sizeof(FetchResult));
        rpmts ts = NULL;
        int r;

        if (!files)
                return -ENOMEM;
        r = rpm_fetch(s, want, archives, files, err, err_size);
        for (size_t i = 0; r >= 0 && i < want->n; i++)
                if (!files[i].file) {
                        seterr(err, err_size, "cannot fetch %s %s (%s): %s; nothing was changed", want->items[i].name,
                               want->items[i].version, want->items[i].arch, files[i].error);
                        r = -EIO;
                }
        if (r >= 0 && !(ts = ts_new(s)))
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < want->n; i++)
                r = add_file(ts, files[i].file, any_gpgcheck(s), err, err_size);
        if (r >= 0)
                r = run_transaction(ts, RPMPROB_FILTER_NONE, log_fd, progress, userdata, err, err_size);
        rpmtsFree(ts);
        fetch_results_free(files, want->n);
        return r;
}

int rpm_restore(RpmSession *s, char *const *files, size_t n_files, const PackageSet *remove, int log_fd, char *err,
                size_t err_size) {
        rpmts ts = ts_new(s);
        int r = 0;

        if (!ts)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n_files; i++)
                r = add_file(ts, files[i], any_gpgcheck(s), err, err_size);
        for (size_t i = 0; r >= 0 && i < remove->n; i++) {
                rpmdbMatchIterator mi = rpmtsInitIterator(ts, RPMDBI_NAME, remove->items[i].name, 0);
                Header h;
                bool found = false;

                while (mi && (h = rpmdbNextIterator(mi))) {
                        const char *arch = headerGetString(h, RPMTAG_ARCH);
                        if (arch && STREQ(arch, remove->items[i].arch)) {
                                rpmtsAddEraseElement(ts, h, (int) rpmdbGetIteratorOffset(mi));
                                found = true;
                        }
                }
                rpmdbFreeIterator(mi);
                if (!found) {
                        seterr(err, err_size, "%s (%s) is not installed", remove->items[i].name, remove->items[i].arch);
                        r = -ENOENT;
                }
        }
        /* downgrades and reinstalls are the point of a restore */
        if (r >= 0)
                r = run_transaction(ts, RPMPROB_FILTER_OLDPACKAGE | RPMPROB_FILTER_REPLACEPKG, log_fd, NULL, NULL,
                                    err, err_size);
        rpmtsFree(ts);
        return r;
}

/* A package the database lists, where it is in it. */
typedef struct DbPackage {
        char *name, *arch, *evr;
        unsigned offset;
} DbPackage;

static int by_name_arch_evr(const void *a, const void *b) {
        const DbPackage *x = a, *y = b;
        int c = strcmp(x->name, y->name);

        if (c == 0)
                c = strcmp(x->arch, y->arch);
        return c != 0 ? c : rpm_version_compare(x->evr, y->evr);
}

/* Packages installed side by side by design (dnf's installonlypkgs):
 * listed more than once without anything having gone wrong. */
static bool install_only(Header h, const char *name) {
        struct rpmtd_s td;
        bool found = STREQ(name, "kernel") || strncmp(name, "kernel-", 7) == 0;

        if (!found && headerGet(h, RPMTAG_PROVIDENAME, &td, HEADERGET_MINMEM)) {
                const char *p;
                while (!found && (p = rpmtdNextString(&td)))
                        found = strncmp(p, "installonlypkg(", 15) == 0;
                rpmtdFreeData(&td);
        }
        return found;
}

int rpm_finish_interrupted(RpmSession *s, const PackageSet *record, int log_fd, char *err, size_t err_size) {
        rpmts ts = ts_new(s);
        rpmdbMatchIterator mi;
        DbPackage *pkgs = NULL;
        size_t n = 0, allocated = 0, n_erased = 0;
        Header h;
        int r = 0;

        if (!ts)
                return -ENOMEM;
        mi = rpmtsInitIterator(ts, RPMDBI_PACKAGES, NULL, 0);
        while (r >= 0 && mi && (h = rpmdbNextIterator(mi))) {
                const char *name = headerGetString(h, RPMTAG_NAME), *arch = headerGetString(h, RPMTAG_ARCH);
                if (!name || !arch || install_only(h, name))
                        continue; /* gpg-pubkey; kernels side by side */
                if (n == allocated) {
                        size_t want = MAX(allocated * 2, (size_t) 64);
                        DbPackage *grown = reallocarray(pkgs, want, sizeof(*pkgs));
                        if (!grown) {
                                r = -ENOMEM;
                                break;
                        }
                        pkgs = grown;
                        allocated = want;
                }
                pkgs[n] = (DbPackage){ .name = strdup(name), .arch = strdup(arch),
                                       .evr = headerGetAsString(h, RPMTAG_EVR),
                                       .offset = rpmdbGetIteratorOffset(mi) };
                if (!pkgs[n].name || !pkgs[n].arch || !pkgs[n].evr)
                        r = -ENOMEM;
                n++;
        }
        rpmdbFreeIterator(mi);
        if (r >= 0 && n > 1)
                qsort(pkgs, n, sizeof(*pkgs), by_name_arch_evr);
        /* listed twice: an upgrade that installed the new version and died
         * before erasing the old; the old is erased, as the upgrade would
         * have (its scripts run, files the new one owns stay) */
        for (size_t i = 0; r >= 0 && i + 1 < n; i++) {
                if (!STREQ(pkgs[i].name, pkgs[i + 1].name) || !STREQ(pkgs[i].arch, pkgs[i + 1].arch))
                        continue;
                /* the newest copy of this (name, arch), sorted last */
                size_t last = i + 1;
                while (last + 1 < n && STREQ(pkgs[last + 1].name, pkgs[i].name) && STREQ(pkgs[last + 1].arch, pkgs[i].arch))
                        last++;
                const PackageVersion *recorded = package_set_find(record, pkgs[i].name, pkgs[i].arch);
                /* only an upgrade the transaction started: the newest copy is
                 * not the version recorded before it */
                if (!recorded || STREQ(recorded->version, pkgs[last].evr))
                        continue;
                unsigned offset = pkgs[i].offset;
                mi = rpmtsInitIterator(ts, RPMDBI_PACKAGES, &offset, sizeof(offset));
                if (mi && (h = rpmdbNextIterator(mi))) {
                        rpmtsAddEraseElement(ts, h, (int) offset);
                        n_erased++;
                }
                rpmdbFreeIterator(mi);
        }
        if (r >= 0 && n_erased > 0)
                r = run_transaction(ts, 0, log_fd, NULL, NULL, err, err_size);
        for (size_t i = 0; i < n; i++) {
                free(pkgs[i].name);
                free(pkgs[i].arch);
                free(pkgs[i].evr);
        }
        free(pkgs);
        rpmtsFree(ts);
        return r;
}
