/* SPDX-License-Identifier: GPL-2.0-or-later */
/* calls to hostd's control API and what every verb prints with. */

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/clock.h"
#include "common/http.h"
#include "common/text.h"
#include "hostd/hostctl/hostctl.h"

/* hostd's control API is HTTP/1.1 on a Unix socket, and hostctl needs no
 * more of HTTP than one request per connection: it sends the request with
 * "Connection: close" and reads the answer to the end of the stream. A
 * client of its own rather than libcurl: hostctl then starts without
 * loading a TLS stack it never uses (a tenth of the wall time of a
 * `hostctl firewall apply` went to loading libraries). */

#define RESPONSE_MAX (64u * 1024 * 1024)

static int64_t monotonic_msec(void) {
        return (int64_t) (clock_usec(CLOCK_MONOTONIC) / 1000);
}

static int connect_socket(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* Waits for fd to be ready for events until deadline (-1: none). */
static int wait_fd(int fd, short events, int64_t deadline) {
        struct pollfd p = { .fd = fd, .events = events };
        int r;

        do {
                int timeout = -1;
                if (deadline >= 0)
                        timeout = (int) MAX(deadline - monotonic_msec(), 0);
                r = poll(&p, 1, timeout);
        } while (r < 0 && errno == EINTR);
        if (r < 0)
                return -errno;
        return r == 0 ? -ETIMEDOUT : 0;
}

static int send_all(int fd, const char *data, size_t size, int64_t deadline) {
        while (size > 0) {
                ssize_t n;
                int r = wait_fd(fd, POLLOUT, deadline);

                if (r < 0)
                        return r;
                n = send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                data += n;
                size -= (size_t) n;
        }
        return 0;
}

static int read_all(int fd, Buffer *b, int64_t deadline) {
        size_t allocated = 0;

        for (;;) {
                ssize_t n;
                int r;

                if (b->size + 65536 + 1 > allocated) {
                        char *p;
                        if (allocated >= RESPONSE_MAX)
                                return -EFBIG;
                        allocated = MAX(allocated * 2, (size_t) 65536 * 2);
                        p = realloc(b->data, allocated);
                        if (!p)
                                return -ENOMEM;
                        b->data = p;
                }
                r = wait_fd(fd, POLLIN, deadline);
                if (r < 0)
                        return r;
                n = recv(fd, b->data + b->size, allocated - b->size - 1, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                b->size += (size_t) n;
        }
        b->data[b->size] = 0;
        return 0;
}

/* One request to hostd: the status (-1 when hostd cannot be reached, said
 * on stderr) and the body as it came, in *response (free its data). */
long call_hostd_raw(const char *method, const char *path, const json_t *body, long timeout_sec,
                    Buffer *response) {
        _cleanup_free_ char *payload = NULL, *request = NULL;
        _cleanup_close_ int fd = -1;
        int64_t deadline = timeout_sec > 0 ? monotonic_msec() + timeout_sec * 1000 : -1;
        size_t payload_size = 0;
        long status;
        int len, r;

        if (body) {
                payload = json_dumps(body, JSON_COMPACT);
                if (!payload) {
                        fprintf(stderr, "hostctl: out of memory\n");
                        return -1;
                }
                payload_size = strlen(payload);
        }
        len = asprintf(&request,
                       "%s %s HTTP/1.1\r\nHost: hostd\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n", method,
                       path, body ? "Content-Type: application/json\r\n" : "", payload_size);
        if (len < 0) {
                request = NULL;
                fprintf(stderr, "hostctl: out of memory\n");
                return -1;
        }
        fd = connect_socket(arg_socket);
        r = fd;
        if (r >= 0)
                r = send_all(fd, request, (size_t) len, deadline);
        if (r >= 0 && payload_size)
                r = send_all(fd, payload, payload_size, deadline);
        /* hostd may answer before it has read everything (a body too
         * large) and close: its answer is still there to read */
        if (r >= 0 || (fd >= 0 && (r == -EPIPE || r == -ECONNRESET)))
                r = read_all(fd, response, deadline);
        if (r >= 0)
                r = http_response_split(response->data, &response->size, &status);
        if (r < 0)
                status = r;
        if (status < 0) {
                fprintf(stderr, "hostctl: cannot reach hostd at %s: %s\n", arg_socket,
                        status == -EBADMSG ? "malformed HTTP answer" :
                        status == -ETIMEDOUT ? "no answer in time" : strerror((int) -status));
                free(response->data);
                *response = (Buffer){};
                return -1;
        }
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
