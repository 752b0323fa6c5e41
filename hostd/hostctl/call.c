/* SPDX-License-Identifier: GPL-2.0-or-later */
/* calls to hostd's control API and what every verb prints with. */

#include <curl/curl.h>

#include "common/text.h"
#include "hostd/hostctl/hostctl.h"

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
        Buffer *b = userdata;
        size_t n = size * nmemb;
        char *p;

        if (b->size + n > 64u * 1024 * 1024)
                return 0;
        p = realloc(b->data, b->size + n + 1);
        if (!p)
                return 0;
        memcpy(p + b->size, data, n);
        b->data = p;
        b->size += n;
        p[b->size] = 0;
        return n;
}

static void curl_easy_cleanupp(CURL **c) {
        if (*c)
                curl_easy_cleanup(*c);
}

/* Calls hostd. Returns the HTTP status (>0), or -1 when hostd could not be
 * reached (message printed). *ret gets the parsed reply. timeout_sec 0
 * waits as long as hostd keeps the connection (a long poll). */
/* One request to hostd: the status (-1 when hostd cannot be reached, said
 * on stderr) and the body as it came, in *response (free its data). */
long call_hostd_raw(const char *method, const char *path, const json_t *body, long timeout_sec,
                    Buffer *response) {
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        _cleanup_free_ char *url = NULL, *request = NULL;
        struct curl_slist *headers = NULL;
        char error[CURL_ERROR_SIZE] = "";
        long status = 0;
        CURLcode code;

        c = curl_easy_init();
        if (!c || asprintf(&url, "http://hostd%s", path) < 0) {
                fprintf(stderr, "hostctl: out of memory\n");
                return -1;
        }
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, arg_socket);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, response);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_sec);
        if (body) {
                request = json_dumps(body, JSON_COMPACT);
                headers = curl_slist_append(NULL, "Content-Type: application/json");
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, request);
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        } else if (STREQ(method, "POST"))
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");

        code = curl_easy_perform(c);
        curl_slist_free_all(headers);
        if (code != CURLE_OK) {
                fprintf(stderr, "hostctl: cannot reach hostd at %s: %s\n", arg_socket,
                        error[0] ? error : curl_easy_strerror(code));
                free(response->data);
                response->data = NULL;
                return -1;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        return status;
}

long call_hostd_timeout(const char *method, const char *path, const json_t *body, json_t **ret,
                               long timeout_sec) {
        Buffer response = {};
        json_error_t jerr;
        long status = call_hostd_raw(method, path, body, timeout_sec, &response);

        if (status < 0)
                return -1;
        *ret = response.size ? json_loadb(response.data, response.size, 0, &jerr) : json_object();
        free(response.data);
        if (!*ret) {
                fprintf(stderr, "hostctl: malformed reply from hostd: %s\n", jerr.text);
                return -1;
        }
        return status;
}

int print_json(const json_t *j) {
        char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

        if (!s)
                return EXIT_FAILED;
        puts(s);
        free(s);
        return 0;
}

/* Maps a reply to an exit code, printing hostd's error message. */
long call_hostd(const char *method, const char *path, const json_t *body, json_t **ret) {
        return call_hostd_timeout(method, path, body, ret, 600);
}

int reply_error(long status, const json_t *reply) {
        const char *m = json_string_value(json_object_get(reply, "message"));

        if (status < 0)
                return EXIT_UNREACHABLE;
        if (arg_json)
                print_json(reply);
        else
                fprintf(stderr, "hostctl: %s (HTTP %ld)\n", m ? m : "request failed", status);
        return EXIT_FAILED;
}

void format_duration(json_int_t s, char *buf, size_t size) {
        if (s >= 86400)
                snprintf(buf, size, "%lldd %lldh %lldm", (long long) s / 86400,
                         (long long) (s % 86400) / 3600, (long long) (s % 3600) / 60);
        else if (s >= 3600)
                snprintf(buf, size, "%lldh %lldm %llds", (long long) s / 3600,
                         (long long) (s % 3600) / 60, (long long) s % 60);
        else if (s >= 60)
                snprintf(buf, size, "%lldm %llds", (long long) s / 60, (long long) s % 60);
        else
                snprintf(buf, size, "%llds", (long long) s);
}

const char *str(const json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "-";
}
/* ---- hostctl patch ----------------------------------------------- */

/* "90", "90s", "30m", "12h", "3d" into microseconds */
int parse_duration(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;
        uint64_t unit = 1000000;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || s[0] == '-')
                return -EINVAL;
        if (STREQ(end, "m"))
                unit *= 60;
        else if (STREQ(end, "h"))
                unit *= 3600;
        else if (STREQ(end, "d"))
                unit *= 86400;
        else if (!STREQ(end, "") && !STREQ(end, "s"))
                return -EINVAL;
        if (v > UINT64_MAX / unit / 2)
                return -ERANGE;
        *ret = v * unit;
        return 0;
}
