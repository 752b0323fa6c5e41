/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <curl/curl.h>
#include <inttypes.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/fileio.h"
#include "hostd/docker-client.h"

/* Bodies larger than this are refused: /tasks of a large cluster stays far
 * below, and a runaway peer cannot make us allocate without bound. */
#define DOCKER_MAX_BODY (64u * 1024 * 1024)
#define DOCKER_MAX_EVENT_LINE (1024u * 1024)
#define RECONNECT_MIN_USEC (100 * 1000ULL)
#define RECONNECT_MAX_USEC (5 * 1000 * 1000ULL)

typedef struct DockerRequest DockerRequest;

struct DockerRequest {
        DockerClient *client;
        DockerRequest *next, *prev;
        CURL *easy;
        struct curl_slist *headers;
        char *request_body;
        char *response;
        size_t response_size;
        bool overflow;
        bool is_stream; /* the /events stream: lines go to the event handler */
        bool stream_announced;
        DockerReplyHandler handler;
        void *userdata;
        char error_buffer[CURL_ERROR_SIZE];
};

struct DockerClient {
        sd_event *event;
        CURLM *multi;
        sd_event_source *curl_timer;
        char *socket_path;   /* NULL for an HTTPS peer */
        /* an HTTPS peer: base URL, CURLOPT_CONNECT_TO entry, TLS files */
        char *url_base;
        struct curl_slist *connect_to;
        char *cert_file, *key_file, *ca_file, *extra_header;
        unsigned timeout_sec;
        DockerRequest *requests;

        /* the /events stream; what curl's callbacks receive is handed to the
         * caller from a deferred event source, because libcurl forbids
         * starting requests (what handlers do) from inside its callbacks */
        DockerRequest *stream;
        sd_event_source *deliver;
        json_t *pending_events;
        bool announce_connected;
        sd_event_source *reconnect_timer;
        uint64_t backoff_usec;
        DockerEventHandler on_event;
        DockerStreamHandler on_state;
        void *stream_userdata;
        bool stream_wanted;
};

static void request_free(DockerRequest *r) {
        if (!r)
                return;
        if (r->easy) {
                if (r->client)
                        curl_multi_remove_handle(r->client->multi, r->easy);
                curl_easy_cleanup(r->easy);
        }
        curl_slist_free_all(r->headers);
        free(r->request_body);
        free(r->response);
        free(r);
}

static void request_unlink(DockerRequest *r) {
        DockerClient *c = r->client;

        if (r->prev)
                r->prev->next = r->next;
        else if (c->requests == r)
                c->requests = r->next;
        if (r->next)
                r->next->prev = r->prev;
        r->next = r->prev = NULL;
        if (c->stream == r)
                c->stream = NULL;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata);
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata);

size_t docker_events_split(const char *buf, size_t size, DockerEventHandler on_event, void *userdata) {
        size_t start = 0;

        for (size_t i = 0; i < size; i++) {
                if (buf[i] != '\n')
                        continue;
                if (i > start) {
                        json_error_t jerr;
                        json_t *event = json_loadb(buf + start, i - start, 0, &jerr);
                        /* A line that is not JSON is skipped: one bad event
                         * must not end the stream. */
                        if (event && json_is_object(event))
                                on_event(event, userdata);
                        json_decref(event);
                }
                start = i + 1;
        }
        return start;
}

static void stream_queue_event(const json_t *event, void *userdata) {
        DockerClient *c = userdata;

        if (c->on_event && json_array_append(c->pending_events, (json_t *) event) == 0)
                sd_event_source_set_enabled(c->deliver, SD_EVENT_ONESHOT);
}

/* Hands over the complete event lines in the buffer; keeps a trailing
 * partial line for the next chunk. */
static void stream_dispatch_lines(DockerRequest *r) {
        size_t start = docker_events_split(r->response, r->response_size, stream_queue_event, r->client);

        if (start > 0) {
                memmove(r->response, r->response + start, r->response_size - start);
                r->response_size -= start;
        }
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
        DockerRequest *r = userdata;
        size_t n = size * nmemb;
        size_t limit = r->is_stream ? DOCKER_MAX_EVENT_LINE : DOCKER_MAX_BODY;
        char *p;

        if (r->response_size + n > limit) {
                r->overflow = true;
                return 0; /* aborts the transfer */
        }
        p = realloc(r->response, r->response_size + n + 1);
        if (!p)
                return 0;
        r->response = p;
        memcpy(r->response + r->response_size, data, n);
        r->response_size += n;
        r->response[r->response_size] = 0;

        if (r->is_stream)
                stream_dispatch_lines(r);
        return n;
}

/* For the stream, the end of the headers with status 200 means dockerd
 * accepted it: report "connected" then rather than on the first event, which
 * may be long in coming. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata) {
        DockerRequest *r = userdata;
        size_t n = size * nmemb;
        DockerClient *c = r->client;
        long status = 0;

        if (!r->is_stream || r->stream_announced)
                return n;
        if (n == 2 && data[0] == '\r' && data[1] == '\n') {
                curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
                if (status == 200) {
                        r->stream_announced = true;
                        c->backoff_usec = 0;
                        c->announce_connected = true;
                        sd_event_source_set_enabled(c->deliver, SD_EVENT_ONESHOT);
                }
        }
        return n;
}

static int map_curl_error(CURLcode code, const DockerRequest *r) {
        switch (code) {
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT:
                /* curl folds ENOENT and ECONNREFUSED together; tell them
                 * apart so status can say "socket missing". */
                if (!r->client->socket_path)
                        return -ECONNREFUSED;
                return access(r->client->socket_path, F_OK) < 0 ? -ENOENT : -ECONNREFUSED;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_ISSUER_ERROR:
                /* the peer's certificate is not one the CA given signed */
                return -EKEYREJECTED;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
                return -EPROTO;
        case CURLE_WRITE_ERROR:
                return r->overflow ? -EFBIG : -ENOMEM;
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
                return -ECONNRESET;
        default:
                return -EIO;
        }
}

static int map_status(long status, const char *message) {
        if (status >= 200 && status < 300)
                return 0;
        /* swarmkit's store answers a stale ?version= with "update out of
         * sequence", which the Engine API passes on as a plain error status
         * (500 on 20.10, other codes on later releases). */
        if (message && strstr(message, "update out of sequence"))
                return -ESTALE;
        if (status == 409)
                return -ESTALE;
        if (status == 503) {
                if (message && strstr(message, "not a swarm manager"))
                        return -EPERM;
                return -ENOTCONN;
        }
        if (status == 404)
                return -ENXIO;
        return -EPROTO;
}

/* Hands over what the stream received, in order, outside curl's callbacks. */
static void deliver_pending(DockerClient *c) {
        if (c->announce_connected) {
                c->announce_connected = false;
                if (c->on_state)
                        c->on_state(true, 0, c->stream_userdata);
        }
        while (json_array_size(c->pending_events) > 0) {
                json_t *event = json_incref(json_array_get(c->pending_events, 0));

                json_array_remove(c->pending_events, 0);
                if (c->on_event)
                        c->on_event(event, c->stream_userdata);
                json_decref(event);
        }
}

static int on_deliver(sd_event_source *s _unused_, void *userdata) {
        deliver_pending(userdata);
        return 0;
}

static void request_complete(DockerRequest *r, CURLcode code) {
        DockerClient *c = r->client;
        DockerReply reply = {};
        _cleanup_free_ char *message = NULL;
        json_t *json = NULL;

        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &reply.status);

        if (code != CURLE_OK) {
                reply.error = map_curl_error(code, r);
                if (reply.error == -EFBIG)
                        reply.message = "response body too large";
                else if (c->socket_path && (reply.error == -ENOENT || reply.error == -ECONNREFUSED)) {
                        if (asprintf(&message, "cannot connect to %s: %s", c->socket_path,
                                     strerror(-reply.error)) < 0)
                                message = NULL;
                        reply.message = message ? message : "cannot connect";
                } else
                        reply.message = r->error_buffer[0] ? r->error_buffer : curl_easy_strerror(code);
        } else if (r->response_size > 0) {
                json_error_t jerr;

                json = json_loadb(r->response, r->response_size, JSON_DECODE_ANY, &jerr);
                if (!json && reply.status >= 200 && reply.status < 300) {
                        reply.error = -EPROTO;
                        if (asprintf(&message, "malformed JSON from dockerd: %s", jerr.text) < 0)
                                message = NULL;
                        reply.message = message ? message : "malformed JSON from dockerd";
                }
        }
        if (!reply.error && reply.status != 0 && (reply.status < 200 || reply.status >= 300)) {
                const char *m = json_string_value(json_object_get(json, "message"));

                if (!m && r->response_size > 0)
                        m = r->response; /* plain-text error */
                if (asprintf(&message, "HTTP %ld: %s", reply.status, m ? m : "(no message)") < 0)
                        message = NULL;
                reply.error = map_status(reply.status, m);
                reply.message = message ? message : "error from dockerd";
        }
        reply.json = json;

        request_unlink(r);
        curl_multi_remove_handle(c->multi, r->easy);

        if (r->is_stream) {
                int error = reply.error ? reply.error : -ECONNRESET;
                bool was_connected = r->stream_announced;

                /* what arrived before the end is reported before the end */
                deliver_pending(c);
                request_free(r);
                json_decref(json);
                /* One "disconnected" per outage, not one per retry. */
                if (c->on_state && (was_connected || c->backoff_usec == 0))
                        c->on_state(false, error, c->stream_userdata);
                if (c->stream_wanted) {
                        uint64_t now;

                        c->backoff_usec = c->backoff_usec == 0 ? RECONNECT_MIN_USEC
                                                               : MIN(c->backoff_usec * 2, RECONNECT_MAX_USEC);
                        sd_event_now(c->event, CLOCK_MONOTONIC, &now);
                        sd_event_source_set_time(c->reconnect_timer, now + c->backoff_usec);
                        sd_event_source_set_enabled(c->reconnect_timer, SD_EVENT_ONESHOT);
                }
                return;
        }

        if (r->handler)
                r->handler(&reply, r->userdata);
        json_decref(json);
        request_free(r);
}

static void process_completions(DockerClient *c) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(c->multi, &left))) {
                DockerRequest *r = NULL;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &r);
                if (r)
                        request_complete(r, msg->data.result);
        }
}

static int on_curl_io(sd_event_source *s _unused_, int fd, uint32_t revents, void *userdata) {
        DockerClient *c = userdata;
        int action = 0, running;

        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;
        curl_multi_socket_action(c->multi, fd, action, &running);
        process_completions(c);
        return 0;
}

static int on_curl_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        DockerClient *c = userdata;
        int running;

        curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        process_completions(c);
        return 0;
}

static int curl_socket_cb(CURL *easy _unused_, curl_socket_t fd, int what, void *userp,
                          void *socketp) {
        DockerClient *c = userp;
        sd_event_source *io = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        sd_event_source_disable_unref(io);
                        curl_multi_assign(c->multi, fd, NULL);
                }
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;

        if (io) {
                if (sd_event_source_set_io_events(io, events) < 0)
                        return -1;
                return sd_event_source_set_enabled(io, SD_EVENT_ON) < 0 ? -1 : 0;
        }
        if (sd_event_add_io(c->event, &io, fd, events, on_curl_io, c) < 0)
                return -1;
        sd_event_source_set_description(io, "docker-curl-io");
        if (curl_multi_assign(c->multi, fd, io) != CURLM_OK) {
                sd_event_source_disable_unref(io);
                return -1;
        }
        return 0;
}

static int curl_timer_cb(CURLM *multi _unused_, long timeout_ms, void *userp) {
        DockerClient *c = userp;
        uint64_t now;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(c->curl_timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        if (sd_event_now(c->event, CLOCK_MONOTONIC, &now) < 0)
                return -1;
        /* timeout 0 still goes through the loop, so no handler runs inside
         * the call that started the request. */
        if (sd_event_source_set_time(c->curl_timer, now + (uint64_t) timeout_ms * 1000) < 0)
                return -1;
        return sd_event_source_set_enabled(c->curl_timer, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
}

static int stream_connect(DockerClient *c);

static int on_reconnect(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        DockerClient *c = userdata;

        if (c->stream_wanted && !c->stream && stream_connect(c) < 0) {
                /* Could not even start the request (memory): try again later. */
                uint64_t now;

                sd_event_now(c->event, CLOCK_MONOTONIC, &now);
                sd_event_source_set_time(c->reconnect_timer, now + RECONNECT_MAX_USEC);
                sd_event_source_set_enabled(c->reconnect_timer, SD_EVENT_ONESHOT);
        }
        return 0;
}

static int client_new(sd_event *event, unsigned timeout_sec, DockerClient **ret) {
        _cleanup_(docker_client_freep) DockerClient *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->timeout_sec = timeout_sec;

        c->multi = curl_multi_init();
        if (!c->multi)
                return -ENOMEM;
        if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK)
                return -EIO;

        /* accuracy 1 us: sd-event's default (250 ms) would delay every
         * request, curl's timeouts being mostly "now" */
        r = sd_event_add_time(event, &c->curl_timer, CLOCK_MONOTONIC, UINT64_MAX, 1,
                              on_curl_timer, c);
        if (r < 0)
                return r;
        sd_event_source_set_description(c->curl_timer, "docker-curl-timer");
        r = sd_event_add_time(event, &c->reconnect_timer, CLOCK_MONOTONIC, UINT64_MAX, 1000,
                              on_reconnect, c);
        if (r < 0)
                return r;
        sd_event_source_set_enabled(c->reconnect_timer, SD_EVENT_OFF);
        sd_event_source_set_description(c->reconnect_timer, "docker-events-reconnect");
        r = sd_event_add_defer(event, &c->deliver, on_deliver, c);
        if (r < 0)
                return r;
        sd_event_source_set_enabled(c->deliver, SD_EVENT_OFF);
        sd_event_source_set_description(c->deliver, "docker-events-deliver");
        c->pending_events = json_array();
        if (!c->pending_events)
                return -ENOMEM;

        *ret = TAKE_PTR(c);
        return 0;
}

int docker_client_new(sd_event *event, const char *socket_path, unsigned timeout_sec, DockerClient **ret) {
        _cleanup_(docker_client_freep) DockerClient *c = NULL;
        int r;

        r = client_new(event, timeout_sec, &c);
        if (r < 0)
                return r;
        c->socket_path = strdup(socket_path);
        if (!c->socket_path)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

int docker_client_new_https(sd_event *event, const HttpsPeer *peer, unsigned timeout_sec, DockerClient **ret) {
        _cleanup_(docker_client_freep) DockerClient *c = NULL;
        _cleanup_free_ char *entry = NULL;
        bool v6;
        int r;

        if (!peer->host || !peer->address || peer->port == 0 || !peer->cert_file || !peer->key_file ||
            !peer->ca_file || strpbrk(peer->host, ":/[]@ ") || strpbrk(peer->address, "/[]@ "))
                return -EINVAL;
        r = client_new(event, timeout_sec, &c);
        if (r < 0)
                return r;
        v6 = strchr(peer->address, ':');
        /* CONNECT_TO "HOST:PORT:ADDRESS:PORT": the URL names the host the
         * certificate must carry; the connection goes to the address */
        if (asprintf(&c->url_base, "https://%s:%u", peer->host, peer->port) < 0 ||
            asprintf(&entry, "%s:%u:%s%s%s:%u", peer->host, peer->port, v6 ? "[" : "", peer->address, v6 ? "]" : "",
                     peer->port) < 0) {
                c->url_base = NULL;
                return -ENOMEM;
        }
        c->connect_to = curl_slist_append(NULL, entry);
        c->cert_file = strdup(peer->cert_file);
        c->key_file = strdup(peer->key_file);
        c->ca_file = strdup(peer->ca_file);
        c->extra_header = peer->extra_header ? strdup(peer->extra_header) : NULL;
        if (!c->connect_to || !c->cert_file || !c->key_file || !c->ca_file ||
            (peer->extra_header && !c->extra_header))
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

int docker_client_new_url(sd_event *event, const char *base_url, unsigned timeout_sec, DockerClient **ret) {
        _cleanup_(docker_client_freep) DockerClient *c = NULL;
        int r;

        if (!base_url || (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0))
                return -EINVAL;
        r = client_new(event, timeout_sec, &c);
        if (r < 0)
                return r;
        c->url_base = strdup(base_url);
        if (!c->url_base)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

void docker_cancel(DockerClient *c, void *userdata) {
        DockerRequest *r, *next;

        if (!c)
                return;
        for (r = c->requests; r; r = next) {
                next = r->next;
                if (r->userdata != userdata || r->is_stream)
                        continue;
                request_unlink(r);
                request_free(r); /* removes it from the multi handle */
        }
}

DockerClient *docker_client_free(DockerClient *c) {
        if (!c)
                return NULL;
        while (c->requests) {
                DockerRequest *r = c->requests;
                request_unlink(r);
                request_free(r);
        }
        if (c->multi)
                curl_multi_cleanup(c->multi);
        sd_event_source_disable_unref(c->curl_timer);
        sd_event_source_disable_unref(c->reconnect_timer);
        sd_event_source_disable_unref(c->deliver);
        json_decref(c->pending_events);
        sd_event_unref(c->event);
        free(c->socket_path);
        free(c->url_base);
        curl_slist_free_all(c->connect_to);
        free(c->cert_file);
        free(c->key_file);
        free(c->ca_file);
        free(c->extra_header);
        free(c);
        return NULL;
}

const char *docker_client_socket(const DockerClient *c) {
        return c->socket_path ? c->socket_path : c->url_base;
}

static int request_start(DockerClient *c, const char *method, const char *path,
                         const json_t *body, bool is_stream, DockerReplyHandler handler,
                         void *userdata) {
        DockerRequest *r;
        _cleanup_free_ char *url = NULL;

        if (!path || path[0] != '/')
                return -EINVAL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->client = c;
        r->handler = handler;
        r->userdata = userdata;
        r->is_stream = is_stream;

        if (asprintf(&url, "%s%s", c->url_base ? c->url_base : "http://docker", path) < 0) {
                url = NULL;
                goto fail_nomem;
        }
        r->easy = curl_easy_init();
        if (!r->easy)
                goto fail_nomem;
        if (body) {
                r->request_body = json_dumps(body, JSON_COMPACT);
                if (!r->request_body)
                        goto fail_nomem;
                r->headers = curl_slist_append(NULL, "Content-Type: application/json");
                if (!r->headers)
                        goto fail_nomem;
        }
        if (c->extra_header) {
                struct curl_slist *h = curl_slist_append(r->headers, c->extra_header);
                if (!h)
                        goto fail_nomem;
                r->headers = h;
        }

        if (c->socket_path && curl_easy_setopt(r->easy, CURLOPT_UNIX_SOCKET_PATH, c->socket_path) != CURLE_OK)
                goto fail_io;
        /* a plain URL (Alertmanager): http or https, the system's CAs */
        if (c->url_base && !c->connect_to &&
            curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
                goto fail_io;
        if (c->url_base && c->connect_to &&
            (curl_easy_setopt(r->easy, CURLOPT_CONNECT_TO, c->connect_to) != CURLE_OK ||
             curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
             curl_easy_setopt(r->easy, CURLOPT_SSLCERT, c->cert_file) != CURLE_OK ||
             curl_easy_setopt(r->easy, CURLOPT_SSLKEY, c->key_file) != CURLE_OK ||
             curl_easy_setopt(r->easy, CURLOPT_CAINFO, c->ca_file) != CURLE_OK ||
             curl_easy_setopt(r->easy, CURLOPT_CAPATH, NULL) != CURLE_OK ||
             curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
             curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK))
                goto fail_io;
        if (curl_easy_setopt(r->easy, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK ||
            curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r) != CURLE_OK ||
            curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->error_buffer) != CURLE_OK ||
            curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK ||
            curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r) != CURLE_OK ||
            curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
            curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r) != CURLE_OK ||
            curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT, (long) c->timeout_sec) != CURLE_OK ||
            curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, is_stream ? 0L : (long) c->timeout_sec) != CURLE_OK)
                goto fail_io;
        if (r->request_body && curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->request_body) != CURLE_OK)
                goto fail_io;
        if (r->headers && curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers) != CURLE_OK)
                goto fail_io;
        if (!r->request_body && STREQ(method, "POST") &&
            curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, "") != CURLE_OK)
                goto fail_io;

        if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK)
                goto fail_io;

        r->next = c->requests;
        if (c->requests)
                c->requests->prev = r;
        c->requests = r;
        if (is_stream)
                c->stream = r;
        return 0;

fail_nomem:
        request_free(r);
        return -ENOMEM;
fail_io:
        r->client = NULL; /* not added to the multi handle */
        request_free(r);
        return -EIO;
}

int docker_call(DockerClient *c, const char *method, const char *path, const json_t *body,
                DockerReplyHandler handler, void *userdata) {
        return request_start(c, method, path, body, false, handler, userdata);
}

int docker_get_info(DockerClient *c, DockerReplyHandler handler, void *userdata) {
        return docker_call(c, "GET", "/info", NULL, handler, userdata);
}

int docker_list_nodes(DockerClient *c, DockerReplyHandler handler, void *userdata) {
        return docker_call(c, "GET", "/nodes", NULL, handler, userdata);
}

/* Node and swarm IDs are base-36 strings; anything else would be a caller
 * bug or an injection into the path. */
static bool id_valid(const char *id) {
        size_t n = id ? strlen(id) : 0;

        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') ||
                      (id[i] >= 'A' && id[i] <= 'Z')))
                        return false;
        return true;
}

int docker_inspect_node(DockerClient *c, const char *node_id, DockerReplyHandler handler,
                        void *userdata) {
        char path[128];

        if (!id_valid(node_id))
                return -EINVAL;
        snprintf(path, sizeof(path), "/nodes/%s", node_id);
        return docker_call(c, "GET", path, NULL, handler, userdata);
}

int docker_update_node(DockerClient *c, const char *node_id, uint64_t version,
                       const json_t *spec, DockerReplyHandler handler, void *userdata) {
        char path[160];

        if (!id_valid(node_id) || !spec)
                return -EINVAL;
        snprintf(path, sizeof(path), "/nodes/%s/update?version=%" PRIu64, node_id, version);
        return docker_call(c, "POST", path, spec, handler, userdata);
}

int docker_list_tasks(DockerClient *c, const char *node_id, DockerReplyHandler handler,
                      void *userdata) {
        char path[256];

        if (!node_id)
                return docker_call(c, "GET", "/tasks", NULL, handler, userdata);
        if (!id_valid(node_id))
                return -EINVAL;
        /* filters={"node":["ID"]}, URL-encoded */
        snprintf(path, sizeof(path), "/tasks?filters=%%7B%%22node%%22%%3A%%5B%%22%s%%22%%5D%%7D",
                 node_id);
        return docker_call(c, "GET", path, NULL, handler, userdata);
}

int docker_inspect_swarm(DockerClient *c, DockerReplyHandler handler, void *userdata) {
        return docker_call(c, "GET", "/swarm", NULL, handler, userdata);
}

int docker_list_containers(DockerClient *c, DockerReplyHandler handler, void *userdata) {
        return docker_call(c, "GET", "/containers/json", NULL, handler, userdata);
}

int docker_inspect_container(DockerClient *c, const char *id, DockerReplyHandler handler,
                             void *userdata) {
        char path[128];

        if (!id_valid(id))
                return -EINVAL;
        snprintf(path, sizeof(path), "/containers/%s/json", id);
        return docker_call(c, "GET", path, NULL, handler, userdata);
}

int docker_stop_container(DockerClient *c, const char *id, unsigned timeout_sec,
                          DockerReplyHandler handler, void *userdata) {
        char path[160];

        if (!id_valid(id))
                return -EINVAL;
        snprintf(path, sizeof(path), "/containers/%s/stop?t=%u", id, timeout_sec);
        return docker_call(c, "POST", path, NULL, handler, userdata);
}

int docker_update_swarm(DockerClient *c, uint64_t version, const json_t *spec,
                        DockerReplyHandler handler, void *userdata) {
        char path[96];

        if (!spec)
                return -EINVAL;
        snprintf(path, sizeof(path), "/swarm/update?version=%" PRIu64, version);
        return docker_call(c, "POST", path, spec, handler, userdata);
}

static int stream_connect(DockerClient *c) {
        return request_start(c, "GET", "/events", NULL, true, NULL, NULL);
}

int docker_events_start(DockerClient *c, DockerEventHandler on_event,
                        DockerStreamHandler on_state, void *userdata) {
        if (c->stream_wanted)
                return -EBUSY;
        c->on_event = on_event;
        c->on_state = on_state;
        c->stream_userdata = userdata;
        c->stream_wanted = true;
        c->backoff_usec = 0;
        return stream_connect(c);
}

void docker_events_stop(DockerClient *c) {
        c->stream_wanted = false;
        c->announce_connected = false;
        json_array_clear(c->pending_events);
        sd_event_source_set_enabled(c->deliver, SD_EVENT_OFF);
        sd_event_source_set_enabled(c->reconnect_timer, SD_EVENT_OFF);
        if (c->stream) {
                DockerRequest *r = c->stream;
                request_unlink(r);
                request_free(r);
        }
}

/* A string member into a field, "" when it is not a string. A string that
 * does not fit is refused rather than cut: a cut node ID, path or profile
 * would name something else. */
static bool copy_string(char *dst, size_t size, const json_t *v) {
        const char *s = json_string_value(v);

        if (s && strlen(s) >= size)
                return false;
        snprintf(dst, size, "%s", s ? s : "");
        return true;
}

int docker_parse_info(const json_t *info, DockerSwarmInfo *ret, const char **what) {
        const json_t *swarm;
        DockerSwarmInfo out = {};
        const char *state;

        if (!json_is_object(info)) {
                *what = "response is not an object";
                return -EPROTO;
        }
        if (!copy_string(out.hostname, sizeof(out.hostname), json_object_get(info, "Name"))) {
                *what = "Name is too long";
                return -EPROTO;
        }
        if (!copy_string(out.server_version, sizeof(out.server_version), json_object_get(info, "ServerVersion"))) {
                *what = "ServerVersion is too long";
                return -EPROTO;
        }
        if (!copy_string(out.root_dir, sizeof(out.root_dir), json_object_get(info, "DockerRootDir"))) {
                *what = "DockerRootDir is too long";
                return -EPROTO;
        }

        const json_t *opt;
        size_t i;
        json_array_foreach(json_object_get(info, "SecurityOptions"), i, opt) {
                const char *o = json_string_value(opt);
                const char *p = o && strncmp(o, "name=seccomp", 12) == 0 ? strstr(o, ",profile=") : NULL;
                if (p && strlen(p + 9) >= sizeof(out.seccomp_profile)) {
                        *what = "SecurityOptions' seccomp profile is too long";
                        return -EPROTO;
                }
                if (p)
                        snprintf(out.seccomp_profile, sizeof(out.seccomp_profile), "%s", p + 9);
        }

        swarm = json_object_get(info, "Swarm");
        if (!json_is_object(swarm)) {
                *what = "Swarm is missing or not an object";
                return -EPROTO;
        }
        state = json_string_value(json_object_get(swarm, "LocalNodeState"));
        if (!state) {
                *what = "Swarm.LocalNodeState is missing";
                return -EPROTO;
        }
        if (!copy_string(out.local_state, sizeof(out.local_state), json_object_get(swarm, "LocalNodeState"))) {
                *what = "Swarm.LocalNodeState is too long";
                return -EPROTO;
        }
        if (!copy_string(out.node_id, sizeof(out.node_id), json_object_get(swarm, "NodeID"))) {
                *what = "Swarm.NodeID is too long";
                return -EPROTO;
        }
        if (!copy_string(out.node_addr, sizeof(out.node_addr), json_object_get(swarm, "NodeAddr"))) {
                *what = "Swarm.NodeAddr is too long";
                return -EPROTO;
        }
        if (!copy_string(out.cluster_id, sizeof(out.cluster_id), json_object_get(json_object_get(swarm, "Cluster"), "ID"))) {
                *what = "Swarm.Cluster.ID is too long";
                return -EPROTO;
        }

        if (STREQ(state, "active") && out.node_id[0]) {
                const json_t *control = json_object_get(swarm, "ControlAvailable");
                if (!json_is_boolean(control)) {
                        *what = "Swarm.ControlAvailable is missing";
                        return -EPROTO;
                }
                out.role = json_is_true(control) ? SWARM_ROLE_MANAGER : SWARM_ROLE_WORKER;
        } else
                out.role = SWARM_ROLE_NONE;

        *ret = out;
        return 0;
}

bool docker_node_is_leader(const json_t *node) {
        return json_is_true(json_object_get(json_object_get(node, "ManagerStatus"), "Leader"));
}

int docker_object_version(const json_t *object, uint64_t *ret) {
        const json_t *index = json_object_get(json_object_get(object, "Version"), "Index");

        if (!json_is_integer(index) || json_integer_value(index) < 0)
                return -EPROTO;
        *ret = (uint64_t) json_integer_value(index);
        return 0;
}

const char *swarm_role_to_string(SwarmRole role) {
        switch (role) {
        case SWARM_ROLE_MANAGER:
                return "manager";
        case SWARM_ROLE_WORKER:
                return "worker";
        default:
                return "none";
        }
}

/* "10.0.0.1", "10.0.0.1:2377", "[fd00::1]:2377", "fd00::1" */
static int parse_host(const char *s, Cidr *ret) {
        char host[64];
        const char *end;
        size_t n;

        if (s[0] == '[') {
                end = strchr(s, ']');
                if (!end)
                        return -EINVAL;
                s++;
                n = (size_t) (end - s);
        } else {
                const char *colon = strchr(s, ':');
                /* one colon: host:port; more: a bare IPv6 address */
                n = colon && !strchr(colon + 1, ':') ? (size_t) (colon - s) : strlen(s);
        }
        if (n == 0 || n >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, n);
        host[n] = 0;
        /* a host, never a prefix: "10.0.0.0/8" as a node's address would
         * let a whole network through the firewall as a peer */
        if (strchr(host, '/'))
                return -EINVAL;
        return cidr_parse(host, ret);
}

int docker_address_host(const char *addr, char *buf, size_t size) {
        Cidr c;

        if (!addr || parse_host(addr, &c) < 0)
                return -EINVAL;
        cidr_format(&c, buf, size);
        return 0;
}

static bool cidr_unset(const Cidr *c) {
        static const uint8_t zero[16];
        return memcmp(c->address, zero, c->family == AF_INET ? 4 : 16) == 0;
}

static int add_address(Cidr *list, size_t *n, const char *text) {
        Cidr c;

        if (!text || !*text || parse_host(text, &c) < 0 || cidr_unset(&c))
                return 0;
        for (size_t i = 0; i < *n; i++)
                if (memcmp(&list[i], &c, sizeof(c)) == 0)
                        return 0;
        list[(*n)++] = c;
        return 0;
}

int docker_nodes_addresses(const json_t *nodes, Cidr **ret) {
        const json_t *node;
        size_t i, n = 0;
        Cidr *list;

        if (!json_is_array(nodes))
                return -EPROTO;
        list = calloc(MAX(json_array_size(nodes), 1u), sizeof(Cidr));
        if (!list)
                return -ENOMEM;
        json_array_foreach(nodes, i, node)
                add_address(list, &n, json_string_value(json_object_get(json_object_get(node, "Status"), "Addr")));
        *ret = list;
        return (int) n;
}

int docker_info_manager_addresses(const json_t *info, Cidr **ret) {
        const json_t *managers = json_object_get(json_object_get(info, "Swarm"), "RemoteManagers");
        const json_t *m;
        size_t i, n = 0;
        Cidr *list;

        if (managers && !json_is_array(managers) && !json_is_null(managers))
                return -EPROTO;
        list = calloc(MAX(json_array_size(managers), 1u), sizeof(Cidr));
        if (!list)
                return -ENOMEM;
        json_array_foreach(managers, i, m)
                add_address(list, &n, json_string_value(json_object_get(m, "Addr")));
        *ret = list;
        return (int) n;
}

static bool is_dockerd(pid_t pid) {
        _cleanup_free_ char *comm = NULL;
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
        return pid > 0 && read_file(path, 64, &comm, NULL) >= 0 && STREQ(comm, "dockerd\n");
}

int docker_daemon_pid(const char *socket_path, const char *pidfile, pid_t *ret) {
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *text = NULL;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        long pid;
        char *end;

        if (fd < 0)
                return -errno;
        if (strlen(socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, socket_path);
        /* non-blocking: a unix socket connects at once, or says EAGAIN */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        if (is_dockerd(cred.pid)) {
                *ret = cred.pid;
                return 0;
        }
        /* the socket is systemd's: the dockerd behind it wrote its pidfile */
        if (!pidfile || read_file(pidfile, 64, &text, NULL) < 0)
                return -ESRCH;
        errno = 0;
        pid = strtol(text, &end, 10);
        if (errno || end == text || pid <= 0 || pid > INT32_MAX || !is_dockerd((pid_t) pid))
                return -ESRCH;
        *ret = (pid_t) pid;
        return 0;
}
