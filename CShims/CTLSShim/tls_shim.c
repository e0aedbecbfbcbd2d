// OpenSSL through a BIO pair: the session never sees a socket. See rtes_tls_shim.h.
#define _GNU_SOURCE
#include "rtes_tls_shim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

struct rtes_tls_context {
    SSL_CTX *ctx;
};

struct rtes_tls_session {
    SSL *ssl;
    /// Our end of the BIO pair: ciphertext from the peer is written here, ciphertext for
    /// the peer is read from here. The SSL object owns the other end.
    BIO *network;
    int failure_kind;
    long verify_result;
    char failure_text[256];
};

// ---- Failure classification ------------------------------------------------

static int kind_for_verify_result(long result) {
    switch (result) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return RTES_TLS_FAILURE_CERTIFICATE_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return RTES_TLS_FAILURE_CERTIFICATE_NOT_YET_VALID;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return RTES_TLS_FAILURE_UNKNOWN_CA;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return RTES_TLS_FAILURE_HOSTNAME_MISMATCH;
    default:
        return RTES_TLS_FAILURE_BAD_CERTIFICATE;
    }
}

static int kind_for_reason(int reason) {
    switch (reason) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_VERSION_TOO_LOW:
        return RTES_TLS_FAILURE_PROTOCOL_VERSION;
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_WRONG_SSL_VERSION:
        return RTES_TLS_FAILURE_NOT_TLS;
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        return RTES_TLS_FAILURE_NO_CERTIFICATE;
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
        return RTES_TLS_FAILURE_CERTIFICATE_EXPIRED;
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
        return RTES_TLS_FAILURE_UNKNOWN_CA;
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
        return RTES_TLS_FAILURE_BAD_CERTIFICATE;
    default:
        return RTES_TLS_FAILURE_OTHER;
    }
}

/// Copies the first error of this thread's queue into text (ERR_error_string_n), empties
/// the queue, and returns the error's reason code (0 when the queue was empty).
static int take_error_queue(char *text, size_t capacity) {
    unsigned long first = ERR_get_error();
    if (first == 0) {
        if (capacity > 0) text[0] = '\0';
        return 0;
    }
    ERR_error_string_n(first, text, capacity);
    ERR_clear_error();
    return ERR_GET_REASON(first);
}

static void record_failure(rtes_tls_session *session, int ssl_error) {
    char queued[200];
    int reason = take_error_queue(queued, sizeof queued);
    long verify = SSL_get_verify_result(session->ssl);
    session->verify_result = verify;
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
        session->failure_kind = kind_for_verify_result(verify);
        snprintf(session->failure_text, sizeof session->failure_text, "%s (%s)",
                 X509_verify_cert_error_string(verify), queued);
    } else if (reason != 0) {
        session->failure_kind = kind_for_reason(reason);
        snprintf(session->failure_text, sizeof session->failure_text, "%s", queued);
    } else {
        session->failure_kind = RTES_TLS_FAILURE_OTHER;
        snprintf(session->failure_text, sizeof session->failure_text,
                 ssl_error == SSL_ERROR_SYSCALL ? "the TLS stream ended unexpectedly" : "TLS failed (SSL_get_error %d)",
                 ssl_error);
    }
}

/// Turns an SSL_* call's non-success result into an RTES_TLS_* code.
static long classify(rtes_tls_session *session, int result) {
    int error = SSL_get_error(session->ssl, result);
    switch (error) {
    case SSL_ERROR_WANT_READ:
        return RTES_TLS_WANT_INPUT;
    case SSL_ERROR_WANT_WRITE:
        return RTES_TLS_WANT_OUTPUT;
    case SSL_ERROR_ZERO_RETURN:
        return RTES_TLS_CLOSED;
    default:
        record_failure(session, error);
        return RTES_TLS_FAILED;
    }
}

// ---- Contexts --------------------------------------------------------------

static void context_error(rtes_tls_context_error *error, const char *what, const char *file) {
    if (error == NULL) return;
    char queued[160];
    take_error_queue(queued, sizeof queued);
    error->kind = RTES_TLS_FAILURE_CONFIGURATION;
    if (file != NULL)
        snprintf(error->text, sizeof error->text, "%s %s: %s", what, file, queued[0] ? queued : "failed");
    else
        snprintf(error->text, sizeof error->text, "%s: %s", what, queued[0] ? queued : "failed");
}

static SSL_CTX *new_ctx(const SSL_METHOD *method, int min_version, int max_version, rtes_tls_context_error *error) {
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (ctx == NULL) {
        context_error(error, "SSL_CTX_new", NULL);
        return NULL;
    }
    int minimum = min_version == 10 ? TLS1_VERSION : min_version == 11 ? TLS1_1_VERSION
                : min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    int maximum = max_version == 12 ? TLS1_2_VERSION : max_version == 11 ? TLS1_1_VERSION : TLS1_3_VERSION;
    if (min_version == 10 || min_version == 11) {
        // Only test clients offer old versions, to prove the server refuses them; OpenSSL
        // 3 allows TLS 1.0/1.1 only at security level 0.
        SSL_CTX_set_security_level(ctx, 0);
    }
    if (!SSL_CTX_set_min_proto_version(ctx, minimum) || !SSL_CTX_set_max_proto_version(ctx, maximum)) {
        context_error(error, "setting the protocol versions", NULL);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION);
    // Keep the record buffers for the session's life rather than freeing them when idle.
    SSL_CTX_clear_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    return ctx;
}

static int use_certificate(SSL_CTX *ctx, const char *certificate_file, const char *key_file,
                           rtes_tls_context_error *error) {
    if (SSL_CTX_use_certificate_chain_file(ctx, certificate_file) != 1) {
        context_error(error, "cannot load the certificate chain", certificate_file);
        return 0;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        // OpenSSL checks the pair while loading the key: say so in words.
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
            context_error(error, "the private key does not match the certificate", certificate_file);
        else
            context_error(error, "cannot load the private key", key_file);
        return 0;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        context_error(error, "the private key does not match the certificate", certificate_file);
        return 0;
    }
    return 1;
}

rtes_tls_context *rtes_tls_server_context_new(
    const char *certificate_file, const char *key_file, const char *ca_file, rtes_tls_context_error *error) {
    SSL_CTX *ctx = new_ctx(TLS_server_method(), 0, 0, error);
    if (ctx == NULL) return NULL;
    if (!use_certificate(ctx, certificate_file, key_file, error)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
            context_error(error, "cannot load the CA certificates", ca_file);
            SSL_CTX_free(ctx);
            return NULL;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_file);
        if (names == NULL) {
            context_error(error, "no CA names in", ca_file);
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    rtes_tls_context *context = malloc(sizeof *context);
    if (context == NULL) {
        SSL_CTX_free(ctx);
        if (error) { error->kind = RTES_TLS_FAILURE_OTHER; snprintf(error->text, sizeof error->text, "out of memory"); }
        return NULL;
    }
    context->ctx = ctx;
    return context;
}

rtes_tls_context *rtes_tls_client_context_new(
    const char *ca_file, const char *certificate_file, const char *key_file,
    int min_version, int max_version, rtes_tls_context_error *error) {
    SSL_CTX *ctx = new_ctx(TLS_client_method(), min_version, max_version, error);
    if (ctx == NULL) return NULL;
    int loaded = ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx);
    if (loaded != 1) {
        context_error(error, "cannot load the CA certificates", ca_file != NULL ? ca_file : "(system default)");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (certificate_file != NULL && key_file != NULL && !use_certificate(ctx, certificate_file, key_file, error)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    rtes_tls_context *context = malloc(sizeof *context);
    if (context == NULL) {
        SSL_CTX_free(ctx);
        if (error) { error->kind = RTES_TLS_FAILURE_OTHER; snprintf(error->text, sizeof error->text, "out of memory"); }
        return NULL;
    }
    context->ctx = ctx;
    return context;
}

void rtes_tls_context_free(rtes_tls_context *context) {
    if (context == NULL) return;
    SSL_CTX_free(context->ctx); // sessions made from it hold their own reference
    free(context);
}

// ---- Sessions --------------------------------------------------------------

rtes_tls_session *rtes_tls_session_new(rtes_tls_context *context, int server, size_t buffer_capacity,
                                       const char *expected_host) {
    rtes_tls_session *session = calloc(1, sizeof *session);
    if (session == NULL) return NULL;
    session->ssl = SSL_new(context->ctx);
    if (session->ssl == NULL) {
        free(session);
        return NULL;
    }
    BIO *internal = NULL;
    if (BIO_new_bio_pair(&internal, buffer_capacity, &session->network, buffer_capacity) != 1) {
        SSL_free(session->ssl);
        free(session);
        return NULL;
    }
    SSL_set_bio(session->ssl, internal, internal);
    if (server) {
        SSL_set_accept_state(session->ssl);
    } else {
        if (expected_host != NULL) {
            unsigned char address[16];
            int numeric = inet_pton(AF_INET, expected_host, address) == 1 || inet_pton(AF_INET6, expected_host, address) == 1;
            if (numeric) {
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session->ssl), expected_host);
            } else {
                SSL_set1_host(session->ssl, expected_host);
                SSL_set_tlsext_host_name(session->ssl, expected_host);
            }
        }
        SSL_set_connect_state(session->ssl);
    }
    return session;
}

void rtes_tls_session_free(rtes_tls_session *session) {
    if (session == NULL) return;
    SSL_free(session->ssl); // frees the internal end of the pair
    BIO_free(session->network);
    free(session);
}

long rtes_tls_feed(rtes_tls_session *session, const void *bytes, size_t count) {
    if (count == 0) return 0;
    size_t room = BIO_ctrl_get_write_guarantee(session->network);
    if (room == 0) return 0;
    if (count > room) count = room;
    int written = BIO_write(session->network, bytes, (int)count);
    return written > 0 ? written : 0;
}

size_t rtes_tls_pending_output(rtes_tls_session *session) {
    return BIO_ctrl_pending(session->network);
}

long rtes_tls_take(rtes_tls_session *session, void *buffer, size_t capacity) {
    if (capacity == 0 || BIO_ctrl_pending(session->network) == 0) return 0;
    int n = BIO_read(session->network, buffer, capacity > INT32_MAX ? INT32_MAX : (int)capacity);
    return n > 0 ? n : 0;
}

int rtes_tls_handshake(rtes_tls_session *session) {
    if (session->failure_kind != RTES_TLS_FAILURE_NONE) return RTES_TLS_FAILED;
    ERR_clear_error();
    int result = SSL_do_handshake(session->ssl);
    if (result == 1) return RTES_TLS_OK;
    return (int)classify(session, result);
}

int rtes_tls_handshake_done(rtes_tls_session *session) {
    return SSL_is_init_finished(session->ssl) ? 1 : 0;
}

long rtes_tls_read(rtes_tls_session *session, void *buffer, size_t capacity) {
    if (session->failure_kind != RTES_TLS_FAILURE_NONE) return RTES_TLS_FAILED;
    if (capacity == 0) return RTES_TLS_WANT_INPUT;
    size_t read = 0;
    int result = SSL_read_ex(session->ssl, buffer, capacity, &read);
    if (result == 1) return (long)read;
    return classify(session, result);
}

long rtes_tls_write(rtes_tls_session *session, const void *bytes, size_t count) {
    if (session->failure_kind != RTES_TLS_FAILURE_NONE) return RTES_TLS_FAILED;
    if (count == 0) return 0;
    size_t written = 0;
    int result = SSL_write_ex(session->ssl, bytes, count, &written);
    if (result == 1) return (long)written;
    return classify(session, result);
}

int rtes_tls_close(rtes_tls_session *session) {
    if (session->failure_kind != RTES_TLS_FAILURE_NONE) return RTES_TLS_FAILED;
    int result = SSL_shutdown(session->ssl);
    if (result >= 0) return RTES_TLS_OK; // 0: our close_notify is queued; the peer's need not come
    return (int)classify(session, result);
}

int rtes_tls_failure_kind(const rtes_tls_session *session) { return session->failure_kind; }
long rtes_tls_failure_verify_result(const rtes_tls_session *session) { return session->verify_result; }
const char *rtes_tls_failure_text(const rtes_tls_session *session) { return session->failure_text; }

int rtes_tls_protocol_version(const rtes_tls_session *session) {
    if (!SSL_is_init_finished(session->ssl)) return 0;
    switch (SSL_version(session->ssl)) {
    case TLS1_3_VERSION: return 13;
    case TLS1_2_VERSION: return 12;
    case TLS1_1_VERSION: return 11;
    case TLS1_VERSION: return 10;
    default: return 0;
    }
}

const char *rtes_tls_cipher_name(const rtes_tls_session *session) {
    const SSL_CIPHER *cipher = SSL_get_current_cipher(session->ssl);
    return cipher != NULL ? SSL_CIPHER_get_name(cipher) : "";
}

long rtes_tls_peer_common_name(rtes_tls_session *session, char *buffer, size_t capacity) {
    if (capacity == 0) return -1;
    buffer[0] = '\0';
    X509 *peer = SSL_get0_peer_certificate(session->ssl);
    if (peer == NULL) return 0;
    X509_NAME *subject = X509_get_subject_name(peer);
    int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index < 0) return 0;
    ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    int length = ASN1_STRING_length(data);
    if (length < 0 || (size_t)length >= capacity) return -1;
    const unsigned char *bytes = ASN1_STRING_get0_data(data);
    if (memchr(bytes, 0, (size_t)length) != NULL) return -1; // an embedded NUL is no name
    memcpy(buffer, bytes, (size_t)length);
    buffer[length] = '\0';
    return length;
}

int rtes_tls_probe_kernel_tls(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) return -errno;
    // The "tls" upper-layer protocol refuses an unconnected socket with ENOTCONN when the
    // kernel has it, and the lookup fails with ENOENT when it does not.
    int result = setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls");
    int saved = errno;
    close(fd);
    if (result == 0 || saved == ENOTCONN) return 1;
    if (saved == ENOENT) return 0;
    return -saved;
}

const char *rtes_tls_library_version(void) {
    return OpenSSL_version(OPENSSL_VERSION);
}
