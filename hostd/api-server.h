/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The control API server: HTTP/1.1 + JSON on a unix socket, served by
 * libmicrohttpd driven from the sd-event loop (MHD's own epoll fd is watched
 * by the loop, so no thread is started).
 *
 * Only peers whose SO_PEERCRED uid is 0 or our own uid are served; the
 * socket is created with mode 0600 too. Requests are bounded before any
 * handler sees them (see control_check_request) and bodies must be JSON.
 * Errors are answered as {"message": "..."} like the Docker Engine API.
 *
 * A handler answers with control_call_reply(), either before returning or
 * later (the connection is suspended meanwhile), exactly once. Freeing the
 * server answers calls still pending with 503; their handlers must forget
 * them then. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "common/macro.h"

#define CONTROL_DEFAULT_SOCKET "/run/hostd/hostd.sock"
#define CONTROL_MAX_URL 1024
#define CONTROL_MAX_BODY (1024 * 1024)

typedef struct ControlServer ControlServer;
typedef struct ControlCall ControlCall;

typedef void (*ControlHandler)(ControlCall *call, void *userdata);

int control_server_new(sd_event *event, const char *socket_path, ControlHandler handler,
                       void *userdata, ControlServer **ret);

/* The same server over TCP and TLS (GnuTLS): served with cert_pem/key_pem,
 * and asking each client for a certificate issued by trust_pem. Instead of
 * the peer's uid, a call carries the client certificate's subject once
 * GnuTLS has verified it against trust_pem (control_call_peer_cert); a
 * call without one is still dispatched, with the reason, so that the
 * handler can refuse it in its own protocol's words. port 0 picks one
 * (control_server_port). */
typedef struct ControlTls {
        const char *cert_pem, *key_pem, *trust_pem;
} ControlTls;

int control_server_new_tls(sd_event *event, uint16_t port, const ControlTls *tls, ControlHandler handler,
                           void *userdata, ControlServer **ret);
/* The same over plain TCP, for answers anyone may have (the load
 * balancer's health endpoint): a call carries no peer at all (uid -1). */
int control_server_new_tcp(sd_event *event, uint16_t port, ControlHandler handler, void *userdata,
                           ControlServer **ret);
uint16_t control_server_port(const ControlServer *server);

/* The verified client certificate's subject on a TLS server. */
typedef struct ControlPeerCert {
        char organization[128];  /* O: the Swarm's cluster ID */
        char unit[64];           /* OU: swarm-manager or swarm-worker */
        char common_name[128];   /* CN: the node ID */
} ControlPeerCert;

/* The peer's verified certificate, or NULL with why (no certificate, or
 * why it did not verify). */
const ControlPeerCert *control_call_peer_cert(const ControlCall *call, const char **why);
ControlServer *control_server_free(ControlServer *server);
DEFINE_CLEANUP_FUNC(ControlServer, control_server_free);

/* What a handler sees of a request. */
const char *control_call_method(const ControlCall *call);
const char *control_call_path(const ControlCall *call);   /* without the query */
const char *control_call_query(const ControlCall *call, const char *key); /* or NULL */
const json_t *control_call_body(const ControlCall *call); /* NULL when empty */
const char *control_call_header(const ControlCall *call, const char *name); /* or NULL */
uid_t control_call_uid(const ControlCall *call);
pid_t control_call_pid(const ControlCall *call);

/* Answers the call; takes the reference to body (may be NULL for an empty
 * object). The call must not be used afterwards. */
void control_call_reply(ControlCall *call, unsigned status, json_t *body);
/* Answers with text of another type (content_type must be a literal);
 * takes text (NULL: 500, out of memory). */
void control_call_reply_text(ControlCall *call, unsigned status, const char *content_type, char *text);
/* Answers {"message": ...} with the given status. */
void control_call_reply_error(ControlCall *call, unsigned status, const char *format, ...)
        _printf_(3, 4);

/* The checks made before a request reaches a handler. Returns 0 when the
 * request may proceed, or the HTTP status to answer with *why set:
 * 405 unknown method, 414 URL too long, 400 URL not a path or with bytes
 * outside printable ASCII, 413 declared body too large, 415 a body that is
 * not declared as JSON. content_length < 0 means "not declared". */
unsigned control_check_request(const char *method, const char *url,
                               int64_t content_length, const char *content_type,
                               const char **why);

/* A Content-Length header's value for control_check_request: -1 when
 * there is none (NULL), the length when it is decimal digits only, or
 * INT64_MAX (too large) for anything else or a length past INT64_MAX. */
int64_t control_parse_content_length(const char *header);

/* Parses a complete request body: NULL for an empty one, or a JSON object.
 * On failure returns 400's message in *why (static or in buf). */
int control_parse_body(const char *data, size_t size, json_t **ret, char *buf,
                       size_t buf_size);
