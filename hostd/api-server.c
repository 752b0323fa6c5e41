/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "hostd/api-server.h"

struct ControlServer {
        sd_event *event;
        struct MHD_Daemon *mhd;
        sd_event_source *io;
        sd_event_source *timer;
        sd_event_source *kick; /* runs MHD after a suspended call is answered */
        int listen_fd; /* until MHD owns it */
        char *socket_path;
        ControlCall *suspended; /* calls waiting for an asynchronous reply */
        ControlHandler handler;
        void *userdata;
        bool tls;
        bool plain_tcp;  /* TCP without TLS: no peer to tell, for public answers only */
        uint16_t port;
        char *tls_strings[3]; /* cert, key, trust: MHD keeps pointers to them */
};

/* One per HTTP request, kept by MHD as the connection's request context. */
struct ControlCall {
        ControlServer *server;
        struct MHD_Connection *connection;
        char *method;
        char *path;
        char *body_data;
        size_t body_size;
        json_t *body;
        uid_t uid;
        pid_t pid;
        bool has_cert;
        ControlPeerCert cert;
        char cert_why[160];
        bool body_too_large;
        bool dispatched;
        bool suspended;
        bool answered;
        ControlCall *suspended_next, *suspended_prev;
        unsigned reply_status;
        char *reply_text;
        const char *reply_type; /* NULL: application/json */
};

static void call_free(ControlCall *call) {
        if (!call)
                return;
        free(call->method);
        free(call->path);
        free(call->body_data);
        json_decref(call->body);
        free(call->reply_text);
        free(call);
}

unsigned control_check_request(const char *method, const char *url, int64_t content_length,
                               const char *content_type, const char **why) {
        static const char *const methods[] = { "GET", "POST", "PUT", "DELETE", NULL };
        bool known = false;
        size_t n;

        for (size_t i = 0; methods[i]; i++)
                if (STREQ(method, methods[i]))
                        known = true;
        if (!known) {
                *why = "method not allowed";
                return 405;
        }
        n = strlen(url);
        if (n > CONTROL_MAX_URL) {
                *why = "URL too long";
                return 414;
        }
        if (url[0] != '/') {
                *why = "URL must be an absolute path";
                return 400;
        }
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) url[i] <= 0x20 || (unsigned char) url[i] >= 0x7f) {
                        *why = "URL contains a byte outside printable ASCII";
                        return 400;
                }
        if (content_length > CONTROL_MAX_BODY) {
                *why = "request body too large";
                return 413;
        }
        if (content_length > 0 && content_type &&
            strncmp(content_type, "application/json", 16) != 0) {
                *why = "request body must be application/json";
                return 415;
        }
        return 0;
}

int64_t control_parse_content_length(const char *header) {
        int64_t v = 0;

        if (!header)
                return -1;
        /* digits only, as libmicrohttpd reads it (not strtoll, which
         * takes space and signs) */
        if (!*header)
                return INT64_MAX;
        for (const char *p = header; *p; p++) {
                if (*p < '0' || *p > '9' || v > (INT64_MAX - (*p - '0')) / 10)
                        return INT64_MAX;
                v = v * 10 + (*p - '0');
        }
        return v;
}

int control_parse_body(const char *data, size_t size, json_t **ret, char *buf, size_t buf_size) {
        json_error_t jerr;
        json_t *j;
        size_t i;

        for (i = 0; i < size; i++)
                if (data[i] != ' ' && data[i] != '\n' && data[i] != '\r' && data[i] != '\t')
                        break;
        if (i == size) {
                *ret = NULL;
                return 0;
        }
        j = json_loadb(data, size, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) {
                snprintf(buf, buf_size, "malformed JSON body at %d:%d: %s", jerr.line,
                         jerr.column, jerr.text);
                return -EINVAL;
        }
        if (!json_is_object(j)) {
                json_decref(j);
                snprintf(buf, buf_size, "request body must be a JSON object");
                return -EINVAL;
        }
        *ret = j;
        return 0;
}

const char *control_call_method(const ControlCall *call) {
        return call->method;
}

const char *control_call_path(const ControlCall *call) {
        return call->path;
}

const char *control_call_query(const ControlCall *call, const char *key) {
        return MHD_lookup_connection_value(call->connection, MHD_GET_ARGUMENT_KIND, key);
}

const json_t *control_call_body(const ControlCall *call) {
        return call->body;
}

const char *control_call_header(const ControlCall *call, const char *name) {
        return MHD_lookup_connection_value(call->connection, MHD_HEADER_KIND, name);
}

uid_t control_call_uid(const ControlCall *call) {
        return call->uid;
}

pid_t control_call_pid(const ControlCall *call) {
        return call->pid;
}

static enum MHD_Result queue_text(struct MHD_Connection *connection, unsigned status, const char *type,
                                  char *text /* takes it */) {
        struct MHD_Response *response;
        enum MHD_Result ret;

        response = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (!response) {
                free(text);
                return MHD_NO;
        }
        MHD_add_response_header(response, "Content-Type", type ? type : "application/json");
        MHD_add_response_header(response, "Cache-Control", "no-store");
        ret = MHD_queue_response(connection, status, response);
        MHD_destroy_response(response);
        return ret;
}

static char *error_text(const char *message) {
        json_t *j = json_pack("{s:s}", "message", message);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

        json_decref(j);
        if (s) {
                /* one JSON document per line, like the Engine API */
                char *t = realloc(s, strlen(s) + 2);
                if (t) {
                        strcat(t, "\n");
                        return t;
                }
        }
        return s;
}

static enum MHD_Result queue_error(struct MHD_Connection *connection, unsigned status,
                                   const char *message) {
        char *text = error_text(message);
        return text ? queue_text(connection, status, NULL, text) : MHD_NO;
}

static void server_schedule_run(ControlServer *s) {
        sd_event_source_set_enabled(s->kick, SD_EVENT_ONESHOT);
}

static void suspended_unlink(ControlCall *call) {
        ControlServer *s = call->server;

        if (call->suspended_prev)
                call->suspended_prev->suspended_next = call->suspended_next;
        else if (s->suspended == call)
                s->suspended = call->suspended_next;
        if (call->suspended_next)
                call->suspended_next->suspended_prev = call->suspended_prev;
        call->suspended_next = call->suspended_prev = NULL;
}

/* Keeps the answer (taking text) and resumes a suspended call. */
static void answer(ControlCall *call, unsigned status, const char *type, char *text) {
        call->answered = true;
        call->reply_status = status;
        call->reply_text = text;
        call->reply_type = type;
        if (call->suspended) {
                call->suspended = false;
                suspended_unlink(call);
                MHD_resume_connection(call->connection);
                server_schedule_run(call->server);
        }
}

void control_call_reply(ControlCall *call, unsigned status, json_t *body) {
        char *text;

        if (call->answered) {
                json_decref(body);
                return;
        }
        if (!body)
                body = json_object();
        text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        json_decref(body);
        if (text) {
                char *t = realloc(text, strlen(text) + 2);
                if (t)
                        text = strcat(t, "\n");
        }
        answer(call, text ? status : 500, NULL, text ? text : error_text("out of memory"));
}

void control_call_reply_text(ControlCall *call, unsigned status, const char *content_type, char *text) {
        if (call->answered) {
                free(text);
                return;
        }
        if (!text)
                answer(call, 500, NULL, error_text("out of memory"));
        else
                answer(call, status, content_type, text);
}

void control_call_reply_error(ControlCall *call, unsigned status, const char *format, ...) {
        char message[512];
        va_list ap;

        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);
        control_call_reply(call, status, json_pack("{s:s}", "message", message));
}

static int peer_credentials(struct MHD_Connection *connection, struct ucred *ret) {
        const union MHD_ConnectionInfo *info;
        socklen_t len = sizeof(*ret);

        info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!info)
                return -EBADF;
        if (getsockopt(info->connect_fd, SOL_SOCKET, SO_PEERCRED, ret, &len) < 0)
                return negative_errno();
        return 0;
}

static void dn_field(gnutls_x509_crt_t crt, const char *oid, char *buf, size_t size) {
        size_t n = size;

        if (gnutls_x509_crt_get_dn_by_oid(crt, oid, 0, 0, buf, &n) < 0)
                buf[0] = '\0';
}

/* The client's certificate, verified against the server's trust. */
static int peer_certificate(struct MHD_Connection *connection, ControlPeerCert *ret, char *err, size_t err_size) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        gnutls_session_t session = info ? (gnutls_session_t) info->tls_session : NULL;
        const gnutls_datum_t *chain;
        unsigned n = 0, status = 0;
        gnutls_x509_crt_t crt;

        if (!session || !(chain = gnutls_certificate_get_peers(session, &n)) || n == 0) {
                snprintf(err, err_size, "no client certificate");
                return -EPERM;
        }
        if (gnutls_certificate_verify_peers2(session, &status) < 0 || status != 0) {
                gnutls_datum_t text = {};
                if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) >= 0) {
                        snprintf(err, err_size, "the client certificate does not verify: %s", (char *) text.data);
                        gnutls_free(text.data);
                } else
                        snprintf(err, err_size, "the client certificate does not verify");
                return -EPERM;
        }
        if (gnutls_x509_crt_init(&crt) < 0)
                return -ENOMEM;
        if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) < 0) {
                gnutls_x509_crt_deinit(crt);
                snprintf(err, err_size, "the client certificate cannot be read");
                return -EPERM;
        }
        dn_field(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, ret->organization, sizeof(ret->organization));
        dn_field(crt, GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, ret->unit, sizeof(ret->unit));
        dn_field(crt, GNUTLS_OID_X520_COMMON_NAME, ret->common_name, sizeof(ret->common_name));
        gnutls_x509_crt_deinit(crt);
        return 0;
}

const ControlPeerCert *control_call_peer_cert(const ControlCall *call, const char **why) {
        if (call->has_cert)
                return &call->cert;
        if (why)
                *why = call->server->tls ? call->cert_why : "not a TLS connection";
        return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection,
                                  const char *url, const char *method,
                                  const char *version _unused_, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
        ControlServer *s = cls;
        ControlCall *call = *con_cls;

        if (!call) {
                const char *length_header, *why = NULL;
                struct ucred cred;
                unsigned status;

                if (s->tls || s->plain_tcp) {
                        cred = (struct ucred){ .uid = (uid_t) -1, .pid = 0 };
                } else {
                        if (peer_credentials(connection, &cred) < 0)
                                return queue_error(connection, 403, "cannot read peer credentials");
                        if (cred.uid != 0 && cred.uid != geteuid())
                                return queue_error(connection, 403, "permission denied: root only");
                }

                length_header = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                            MHD_HTTP_HEADER_CONTENT_LENGTH);
                /* a load balancer's checker may ask with HEAD or OPTIONS
                 * (haproxy's plain httpchk): the plain TCP server's to answer */
                bool check_method = s->plain_tcp && (STREQ(method, "HEAD") || STREQ(method, "OPTIONS"));
                status = control_check_request(
                        check_method ? "GET" : method, url, control_parse_content_length(length_header),
                        MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_CONTENT_TYPE),
                        &why);
                if (status != 0)
                        return queue_error(connection, status, why);

                call = calloc(1, sizeof(*call));
                if (!call)
                        return MHD_NO;
                call->server = s;
                call->connection = connection;
                call->uid = cred.uid;
                call->pid = cred.pid;
                if (s->tls)
                        call->has_cert = peer_certificate(connection, &call->cert, call->cert_why,
                                                          sizeof(call->cert_why)) == 0;
                call->method = strdup(method);
                call->path = strdup(url);
                if (!call->method || !call->path) {
                        call_free(call);
                        return MHD_NO;
                }
                *con_cls = call;
                return MHD_YES;
        }

        if (*upload_data_size > 0) {
                /* Chunked bodies carry no Content-Length: bound them here
                 * and drop the rest once over the limit. */
                if (!call->body_too_large) {
                        if (call->body_size + *upload_data_size > CONTROL_MAX_BODY) {
                                call->body_too_large = true;
                                free(call->body_data);
                                call->body_data = NULL;
                                call->body_size = 0;
                        } else {
                                char *p = realloc(call->body_data,
                                                  call->body_size + *upload_data_size + 1);
                                if (!p)
                                        return MHD_NO;
                                memcpy(p + call->body_size, upload_data, *upload_data_size);
                                call->body_data = p;
                                call->body_size += *upload_data_size;
                                p[call->body_size] = 0;
                        }
                }
                *upload_data_size = 0;
                return MHD_YES;
        }

        if (call->answered) {
                char *text = TAKE_PTR(call->reply_text);
                return queue_text(connection, call->reply_status, call->reply_type, text);
        }
        if (call->dispatched)
                return MHD_YES; /* spurious call while suspended */

        if (call->body_too_large)
                return queue_error(connection, 413, "request body too large");
        if (call->body_size > 0) {
                char why[256];
                if (control_parse_body(call->body_data, call->body_size, &call->body, why,
                                       sizeof(why)) < 0)
                        return queue_error(connection, 400, why);
        }

        call->dispatched = true;
        s->handler(call, s->userdata);
        if (call->answered) {
                char *text = TAKE_PTR(call->reply_text);
                return queue_text(connection, call->reply_status, call->reply_type, text);
        }
        call->suspended = true;
        call->suspended_next = s->suspended;
        if (s->suspended)
                s->suspended->suspended_prev = call;
        s->suspended = call;
        MHD_suspend_connection(connection);
        return MHD_YES;
}

static void on_request_completed(void *cls _unused_, struct MHD_Connection *connection _unused_,
                                 void **con_cls, enum MHD_RequestTerminationCode toe _unused_) {
        ControlCall *call = *con_cls;

        if (call && call->suspended)
                suspended_unlink(call);
        call_free(call);
        *con_cls = NULL;
}

static void server_run(ControlServer *s) {
        MHD_UNSIGNED_LONG_LONG timeout_ms;

        MHD_run(s->mhd);
        if (MHD_get_timeout(s->mhd, &timeout_ms) == MHD_YES) {
                uint64_t now;
                sd_event_now(s->event, CLOCK_MONOTONIC, &now);
                sd_event_source_set_time(s->timer, now + (uint64_t) timeout_ms * 1000);
                sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        } else
                sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
}

static int on_mhd_io(sd_event_source *src _unused_, int fd _unused_, uint32_t revents _unused_,
                     void *userdata) {
        server_run(userdata);
        return 0;
}

static int on_mhd_timer(sd_event_source *src _unused_, uint64_t usec _unused_, void *userdata) {
        server_run(userdata);
        return 0;
}

static int on_kick(sd_event_source *src _unused_, void *userdata) {
        server_run(userdata);
        return 0;
}

static void mhd_log(void *cls _unused_, const char *fmt, va_list ap) {
        if (getenv("HOSTD_DEBUG_MHD"))
                vfprintf(stderr, fmt, ap);
        /* MHD's own messages (clients that drop, TCP options that do not
         * apply to unix sockets) are noise for a local control socket. */
}

/* Binds the listening socket. A live socket at the path means another hostd
 * is running: refuse rather than steal it. A stale one is replaced. */
static int listen_unix(const char *path, int *ret) {
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct stat st;
        mode_t old_umask;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();

        if (lstat(path, &st) == 0) {
                _cleanup_close_ int probe = -1;

                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe < 0)
                        return negative_errno();
                if (connect(probe, (struct sockaddr *) &sa, sizeof(sa)) == 0)
                        return -EADDRINUSE;
                if (unlink(path) < 0 && errno != ENOENT)
                        return negative_errno();
        }

        old_umask = umask(0177);
        r = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
        umask(old_umask);
        if (r < 0)
                return negative_errno();
        if (chmod(path, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
                r = negative_errno();
                unlink(path);
                return r;
        }
        *ret = TAKE_FD(fd);
        return 0;
}

static int server_start(ControlServer *s, sd_event *event) {
        const union MHD_DaemonInfo *info;
        int r;

        if (s->tls)
                s->mhd = MHD_start_daemon(
                        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TLS, 0, NULL, NULL,
                        on_request, s, MHD_OPTION_LISTEN_SOCKET, s->listen_fd, MHD_OPTION_NOTIFY_COMPLETED,
                        on_request_completed, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                        MHD_OPTION_HTTPS_MEM_CERT, s->tls_strings[0], MHD_OPTION_HTTPS_MEM_KEY, s->tls_strings[1],
                        MHD_OPTION_HTTPS_MEM_TRUST, s->tls_strings[2],
                        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024, MHD_OPTION_CONNECTION_LIMIT, 256u,
                        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
        else
                s->mhd = MHD_start_daemon(
                        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                        on_request, s, MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
                        MHD_OPTION_NOTIFY_COMPLETED, on_request_completed, s,
                        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                        /* bounds headers: a request whose headers exceed it gets 431 */
                        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
                        MHD_OPTION_CONNECTION_LIMIT, 64u,
                        MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                        MHD_OPTION_END);
        if (!s->mhd)
                return -EIO;
        s->listen_fd = -1; /* MHD closes it when stopped */

        info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info)
                return -EIO;
        r = sd_event_add_io(event, &s->io, info->epoll_fd, EPOLLIN, on_mhd_io, s);
        if (r < 0)
                return r;
        sd_event_source_set_description(s->io, "control-io");
        /* accuracy 1 us: not sd-event's default 250 ms, by which MHD's
         * "run now" would wait */
        r = sd_event_add_time(event, &s->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_mhd_timer, s);
        if (r < 0)
                return r;
        sd_event_source_set_description(s->timer, "control-timer");
        r = sd_event_add_defer(event, &s->kick, on_kick, s);
        if (r < 0)
                return r;
        sd_event_source_set_enabled(s->kick, SD_EVENT_OFF);
        sd_event_source_set_description(s->kick, "control-kick");
        return 0;
}

static ControlServer *server_alloc(sd_event *event, ControlHandler handler, void *userdata) {
        ControlServer *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        s->listen_fd = -1;
        s->event = sd_event_ref(event);
        s->handler = handler;
        s->userdata = userdata;
        return s;
}

int control_server_new(sd_event *event, const char *socket_path, ControlHandler handler,
                       void *userdata, ControlServer **ret) {
        _cleanup_(control_server_freep) ControlServer *s = server_alloc(event, handler, userdata);
        int r, fd = -1;

        if (!s)
                return -ENOMEM;
        r = listen_unix(socket_path, &fd);
        if (r < 0)
                return r;
        s->listen_fd = fd;
        s->socket_path = strdup(socket_path);
        if (!s->socket_path)
                return -ENOMEM;
        r = server_start(s, event);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* Any address, IPv6 and IPv4 on one socket. */
static int listen_tcp(uint16_t port, int *ret, uint16_t *ret_port) {
        _cleanup_close_ int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT };
        socklen_t len = sizeof(sa);
        int off = 0, on = 1;

        if (fd < 0)
                return negative_errno();
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
            bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, SOMAXCONN) < 0 ||
            getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return negative_errno();
        *ret_port = ntohs(sa.sin6_port);
        *ret = TAKE_FD(fd);
        return 0;
}

int control_server_new_tls(sd_event *event, uint16_t port, const ControlTls *tls, ControlHandler handler,
                           void *userdata, ControlServer **ret) {
        _cleanup_(control_server_freep) ControlServer *s = server_alloc(event, handler, userdata);
        int r, fd = -1;

        if (!s)
                return -ENOMEM;
        s->tls = true;
        s->tls_strings[0] = strdup(tls->cert_pem);
        s->tls_strings[1] = strdup(tls->key_pem);
        s->tls_strings[2] = strdup(tls->trust_pem);
        if (!s->tls_strings[0] || !s->tls_strings[1] || !s->tls_strings[2])
                return -ENOMEM;
        r = listen_tcp(port, &fd, &s->port);
        if (r < 0)
                return r;
        s->listen_fd = fd;
        r = server_start(s, event);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int control_server_new_tcp(sd_event *event, uint16_t port, ControlHandler handler, void *userdata,
                           ControlServer **ret) {
        _cleanup_(control_server_freep) ControlServer *s = server_alloc(event, handler, userdata);
        int r, fd = -1;

        if (!s)
                return -ENOMEM;
        s->plain_tcp = true;
        r = listen_tcp(port, &fd, &s->port);
        if (r < 0)
                return r;
        s->listen_fd = fd;
        r = server_start(s, event);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

uint16_t control_server_port(const ControlServer *s) {
        return s->port;
}

ControlServer *control_server_free(ControlServer *s) {
        if (!s)
                return NULL;
        /* MHD refuses to stop with suspended connections: answer them. */
        while (s->suspended)
                control_call_reply_error(s->suspended, 503, "hostd is shutting down");
        sd_event_source_disable_unref(s->io);
        sd_event_source_disable_unref(s->timer);
        sd_event_source_disable_unref(s->kick);
        if (s->mhd)
                MHD_stop_daemon(s->mhd);
        if (s->listen_fd >= 0)
                close(s->listen_fd);
        if (s->socket_path)
                unlink(s->socket_path);
        free(s->socket_path);
        for (size_t i = 0; i < ELEMENTSOF(s->tls_strings); i++)
                free(s->tls_strings[i]);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}
