/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control server's request checks, and the real server (libmicrohttpd
 * on an sd-event loop) fed malformed, oversized and valid requests over its
 * unix socket by a child process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "hostd/api-server.h"

static void test_check_request(void **state _unused_) {
        const char *why = NULL;
        char long_url[CONTROL_MAX_URL + 10];

        assert_int_equal(control_check_request("GET", "/v1/status", -1, NULL, &why), 0);
        assert_int_equal(control_check_request("POST", "/v1/reload", 10, "application/json", &why), 0);
        assert_int_equal(control_check_request("POST", "/v1/reload", 10,
                                               "application/json; charset=utf-8", &why), 0);
        assert_int_equal(control_check_request("TRACE", "/v1/status", -1, NULL, &why), 405);
        assert_string_equal(why, "method not allowed");
        assert_int_equal(control_check_request("GET", "v1/status", -1, NULL, &why), 400);
        assert_int_equal(control_check_request("GET", "/v1/st\x01tus", -1, NULL, &why), 400);
        assert_int_equal(control_check_request("GET", "/v1/st\x80tus", -1, NULL, &why), 400);
        assert_int_equal(control_check_request("POST", "/v1/reload", CONTROL_MAX_BODY + 1,
                                               "application/json", &why), 413);
        assert_int_equal(control_check_request("POST", "/v1/reload", CONTROL_MAX_BODY,
                                               "application/json", &why), 0);
        assert_int_equal(control_check_request("POST", "/v1/reload", 5, "text/plain", &why), 415);

        memset(long_url, 'a', sizeof(long_url));
        long_url[0] = '/';
        long_url[CONTROL_MAX_URL + 1] = 0;
        assert_int_equal(control_check_request("GET", long_url, -1, NULL, &why), 414);
        long_url[CONTROL_MAX_URL] = 0;
        assert_int_equal(control_check_request("GET", long_url, -1, NULL, &why), 0);
}

static void test_content_length(void **state _unused_) {
        static const char *const not_lengths[] = { "", " 5", "+5", "-1", "5 ", "0x10", "9223372036854775808" };

        assert_int_equal(control_parse_content_length(NULL), -1);
        assert_int_equal(control_parse_content_length("0"), 0);
        assert_int_equal(control_parse_content_length("57"), 57);
        assert_true(control_parse_content_length("9223372036854775807") == INT64_MAX);
        for (size_t i = 0; i < ELEMENTSOF(not_lengths); i++)
                assert_true(control_parse_content_length(not_lengths[i]) == INT64_MAX);
}

static void test_parse_body(void **state _unused_) {
        json_t *j = (json_t *) 1;
        char why[256];

        assert_int_equal(control_parse_body("", 0, &j, why, sizeof(why)), 0);
        assert_null(j);
        assert_int_equal(control_parse_body(" \n\t", 3, &j, why, sizeof(why)), 0);
        assert_null(j);
        assert_int_equal(control_parse_body("{\"a\":1}", 7, &j, why, sizeof(why)), 0);
        assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
        json_decref(j);
        assert_int_equal(control_parse_body("[1]", 3, &j, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "request body must be a JSON object");
        assert_int_equal(control_parse_body("{\"a\":", 5, &j, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "malformed JSON body at 1:"));
        assert_int_equal(control_parse_body("{\"a\":1,\"a\":2}", 13, &j, why, sizeof(why)), -EINVAL);
}

/* --- the real server --- */

typedef struct Fixture {
        sd_event *event;
        ControlServer *server;
        char path[108];
        ControlCall *deferred;
        sd_event_source *defer_timer;
        int child_status;
} Fixture;

static int on_defer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        Fixture *f = userdata;

        control_call_reply(f->deferred, 202, json_pack("{s:s}", "late", "yes"));
        f->deferred = NULL;
        return 0;
}

static void handler(ControlCall *call, void *userdata) {
        Fixture *f = userdata;
        const char *path = control_call_path(call);

        if (STREQ(path, "/echo")) {
                const json_t *body = control_call_body(call);
                control_call_reply(call, 200,
                                   json_pack("{s:s, s:O?, s:s?}", "method", control_call_method(call),
                                             "body", body, "q", control_call_query(call, "q")));
        } else if (STREQ(path, "/later")) {
                /* answered from a timer: the connection is suspended meanwhile */
                uint64_t now;
                f->deferred = call;
                sd_event_now(f->event, CLOCK_MONOTONIC, &now);
                sd_event_add_time(f->event, &f->defer_timer, CLOCK_MONOTONIC, now + 50000, 0,
                                  on_defer, f);
        } else
                control_call_reply_error(call, 404, "no such endpoint: %s", path);
}

/* Child side: sends raw bytes, returns the whole response. */
static char *roundtrip(const char *path, const void *data, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        static char response[65536];
        size_t got = 0;
        int fd;

        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return NULL;
        for (size_t off = 0; off < size;) {
                ssize_t n = send(fd, (const char *) data + off, size - off, MSG_NOSIGNAL);
                if (n <= 0)
                        break; /* the server may close early on a rejected upload */
                off += (size_t) n;
        }
        shutdown(fd, SHUT_WR);
        for (;;) {
                ssize_t n = read(fd, response + got, sizeof(response) - 1 - got);
                if (n <= 0)
                        break;
                got += (size_t) n;
        }
        close(fd);
        response[got] = 0;
        return response;
}

static int expect(const char *path, const char *request, size_t size, const char *status_line,
                  const char *body_needle) {
        char *r = roundtrip(path, request, size);

        if (!r || strncmp(r, status_line, strlen(status_line)) != 0 ||
            (body_needle && !strstr(r, body_needle)) ||
            (body_needle && !strstr(r, "application/json"))) {
                fprintf(stderr, "request %.60s...: expected '%s' with '%s', got:\n%.400s\n",
                        request, status_line, body_needle ? body_needle : "", r ? r : "(connect failed)");
                return 1;
        }
        return 0;
}

#define EXPECT(req, status, needle) expect(path, req, strlen(req), status, needle)

static int client_main(const char *path) {
        int failures = 0;
        char *big;
        size_t big_size = CONTROL_MAX_BODY + 4096;

        failures += EXPECT("GET /echo?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                           "HTTP/1.1 200", "\"q\":\"1\"");
        failures += EXPECT("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                           "Content-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"a\":[1]}",
                           "HTTP/1.1 200", "\"body\":{\"a\":[1]}");
        failures += EXPECT("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                           "HTTP/1.1 404", "\"message\":\"no such endpoint: /nope\"");
        failures += EXPECT("BREW /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                           "HTTP/1.1 405", "method not allowed");
        failures += EXPECT("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                           "Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{\"a\":",
                           "HTTP/1.1 400", "malformed JSON body");
        failures += EXPECT("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                           "Content-Type: application/json\r\nContent-Length: 3\r\n\r\n[1]",
                           "HTTP/1.1 400", "must be a JSON object");
        failures += EXPECT("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                           "Content-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc",
                           "HTTP/1.1 415", "application/json");
        failures += EXPECT("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                           "Content-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{}",
                           "HTTP/1.1 413", "too large");
        failures += EXPECT("GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                           "HTTP/1.1 202", "\"late\":\"yes\"");

        /* A chunked body (no Content-Length) over the limit. */
        big = malloc(big_size + 256);
        if (!big)
                return 100;
        int n = snprintf(big, 256, "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                   "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "%zx\r\n", big_size);
        memset(big + n, ' ', big_size);
        memcpy(big + n + big_size, "\r\n0\r\n\r\n", 7);
        failures += expect(path, big, (size_t) n + big_size + 7, "HTTP/1.1 413", "too large");
        free(big);

        /* Garbage and oversized headers: answered 4xx (by MHD itself) and the
         * server keeps serving. */
        failures += EXPECT("\x01\x02\x03 garbage\r\n\r\n", "HTTP/1.1 400", NULL);
        big = malloc(200000);
        if (!big)
                return 100;
        n = snprintf(big, 200, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ");
        memset(big + n, 'a', 150000);
        memcpy(big + n + 150000, "\r\n\r\n", 4);
        failures += expect(path, big, (size_t) n + 150004, "HTTP/1.1 431", NULL);
        free(big);

        failures += EXPECT("GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                           "HTTP/1.1 200", "\"method\":\"GET\"");
        return failures;
}

static int on_child(sd_event_source *s _unused_, const siginfo_t *si, void *userdata) {
        Fixture *f = userdata;

        f->child_status = si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
        sd_event_exit(f->event, 0);
        return 0;
}

static void test_server_roundtrips(void **state _unused_) {
        Fixture f = {};
        struct stat st;
        sigset_t mask;
        pid_t pid;

        snprintf(f.path, sizeof(f.path), "/tmp/test-control-%d.sock", (int) getpid());
        assert_int_equal(sd_event_new(&f.event), 0);
        assert_int_equal(control_server_new(f.event, f.path, handler, &f, &f.server), 0);
        assert_int_equal(stat(f.path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0600);

        /* A second server on a live socket is refused, not allowed to steal it. */
        ControlServer *second = NULL;
        assert_int_equal(control_server_new(f.event, f.path, handler, &f, &second), -EADDRINUSE);

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(client_main(f.path));
        assert_int_equal(sd_event_add_child(f.event, NULL, pid, WEXITED, on_child, &f), 0);
        assert_int_equal(sd_event_loop(f.event), 0);
        assert_int_equal(f.child_status, 0);

        control_server_free(f.server);
        assert_int_equal(access(f.path, F_OK), -1); /* socket removed */
        sd_event_source_disable_unref(f.defer_timer);
        sd_event_unref(f.event);
}

static void test_stale_socket_replaced(void **state _unused_) {
        char path[108];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        sd_event *e = NULL;
        ControlServer *s = NULL;
        int fd;

        snprintf(path, sizeof(path), "/tmp/test-control-stale-%d.sock", (int) getpid());
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        close(fd); /* bound, never listened: what a crashed hostd leaves */

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(control_server_new(e, path, handler, NULL, &s), 0);
        control_server_free(s);

        /* A regular file at the path is not ours to delete. */
        fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        close(fd);
        assert_int_equal(control_server_new(e, path, handler, NULL, &s), -EEXIST);
        unlink(path);
        sd_event_unref(e);
        assert_null(control_server_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_check_request),
                cmocka_unit_test(test_content_length),
                cmocka_unit_test(test_parse_body),
                cmocka_unit_test(test_server_roundtrips),
                cmocka_unit_test(test_stale_socket_replaced),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
