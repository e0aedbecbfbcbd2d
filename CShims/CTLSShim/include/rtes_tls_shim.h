#ifndef RTES_TLS_SHIM_H
#define RTES_TLS_SHIM_H

// OpenSSL (Debian's libssl-dev, libssl/libcrypto 3.x) as ExchangeTLS needs it: contexts for the
// server and the client role (TLS 1.2 and 1.3 only), certificate and key loading from files,
// optional client-certificate verification against a CA file, and per connection an SSL object
// bound to a BIO pair — two fixed-size memory buffers, one per direction, allocated when the
// session is made — so the caller moves ciphertext in and out and no socket is ever touched
// here. OpenSSL's types stay behind opaque pointers; Swift imports this header only.
//
// Errors: every function that can fail returns a negative RTES_TLS_* code, and the reason is
// kept — OpenSSL's error queue is per thread and is read at the moment of failure — as a
// failure kind, the certificate verification result and a short text (ERR_error_string_n into
// the session's own memory). Nothing secret (keys, plaintext) ever reaches that text.

#include <stddef.h>
#include <stdint.h>

typedef struct rtes_tls_context rtes_tls_context;
typedef struct rtes_tls_session rtes_tls_session;

/// Results of the session calls (besides byte counts, which are >= 0).
enum {
    RTES_TLS_OK = 0,
    /// The session needs more ciphertext from the peer before it can go on.
    RTES_TLS_WANT_INPUT = -1,
    /// The ciphertext buffer toward the peer is full: take (rtes_tls_take) before going on.
    RTES_TLS_WANT_OUTPUT = -2,
    /// The peer sent close_notify: no more plaintext will come.
    RTES_TLS_CLOSED = -3,
    /// The session failed; rtes_tls_failure_* say why. The session cannot be used again
    /// except to take the alert it may have left for the peer.
    RTES_TLS_FAILED = -4,
};

/// Why a session (or a context) failed, classified for a reason a person can act on.
enum {
    RTES_TLS_FAILURE_NONE = 0,
    /// The peer offered only protocol versions older than TLS 1.2 (or none we accept).
    RTES_TLS_FAILURE_PROTOCOL_VERSION = 1,
    /// The peer's certificate has expired (or the peer said ours has).
    RTES_TLS_FAILURE_CERTIFICATE_EXPIRED = 2,
    /// The peer's certificate is not yet valid.
    RTES_TLS_FAILURE_CERTIFICATE_NOT_YET_VALID = 3,
    /// The peer's certificate was issued by a CA we do not trust (or the peer said so of ours).
    RTES_TLS_FAILURE_UNKNOWN_CA = 4,
    /// The peer's certificate is unusable for another reason (signature, purpose, name).
    RTES_TLS_FAILURE_BAD_CERTIFICATE = 5,
    /// A client certificate was required and the peer sent none.
    RTES_TLS_FAILURE_NO_CERTIFICATE = 6,
    /// The bytes were not a TLS record at all (plain text, HTTP, garbage).
    RTES_TLS_FAILURE_NOT_TLS = 7,
    /// The server certificate does not name the host we connected to.
    RTES_TLS_FAILURE_HOSTNAME_MISMATCH = 8,
    /// A file (certificate, key, CA) could not be read or parsed, or key and certificate differ.
    RTES_TLS_FAILURE_CONFIGURATION = 9,
    /// Anything else OpenSSL reported; the text says what.
    RTES_TLS_FAILURE_OTHER = 10,
};

/// Text written by the context constructors on failure (truncated to fit, NUL-terminated).
typedef struct {
    int kind;
    char text[256];
} rtes_tls_context_error;

/// A server context: certificate chain and private key (PEM files), TLS 1.2 and 1.3 only,
/// no session tickets, no renegotiation. With ca_file, clients must present a certificate
/// that chains to it (mutual TLS); NULL accepts clients without one. Returns NULL and fills
/// *error on failure.
rtes_tls_context *rtes_tls_server_context_new(
    const char *certificate_file, const char *key_file, const char *ca_file, rtes_tls_context_error *error);

/// A client context: TLS 1.2 and 1.3 only, the server's certificate verified against ca_file
/// (NULL: the system's default trust store). certificate_file and key_file (both or neither)
/// are this client's certificate for mutual TLS. max_version 12 caps the client at TLS 1.2,
/// min_version 10/11 lets a test client offer older versions (0: the defaults, 1.2–1.3).
rtes_tls_context *rtes_tls_client_context_new(
    const char *ca_file, const char *certificate_file, const char *key_file,
    int min_version, int max_version, rtes_tls_context_error *error);

void rtes_tls_context_free(rtes_tls_context *context);

/// A session on context with its two ciphertext buffers of buffer_capacity bytes each.
/// expected_host (client role only; NULL: none) is checked against the server's certificate
/// (an IP address or a DNS name) and sent as SNI when it is a name. Returns NULL when memory
/// runs out.
rtes_tls_session *rtes_tls_session_new(rtes_tls_context *context, int server, size_t buffer_capacity,
                                       const char *expected_host);

void rtes_tls_session_free(rtes_tls_session *session);

/// Copies up to count bytes of the peer's ciphertext into the session. Returns how many it
/// took (fewer than count when the inbound buffer is full: read plaintext, then feed the rest).
long rtes_tls_feed(rtes_tls_session *session, const void *bytes, size_t count);

/// Bytes of ciphertext waiting to go to the peer.
size_t rtes_tls_pending_output(rtes_tls_session *session);

/// Moves up to capacity bytes of ciphertext for the peer into buffer. Returns the count.
long rtes_tls_take(rtes_tls_session *session, void *buffer, size_t capacity);

/// Advances the handshake. RTES_TLS_OK once it is complete; WANT_INPUT or WANT_OUTPUT
/// while it needs the peer or room; FAILED with the reason kept.
int rtes_tls_handshake(rtes_tls_session *session);

/// 1 once the handshake has completed.
int rtes_tls_handshake_done(rtes_tls_session *session);

/// Decrypts up to capacity bytes of plaintext. Returns the count (> 0), WANT_INPUT, CLOSED or FAILED.
long rtes_tls_read(rtes_tls_session *session, void *buffer, size_t capacity);

/// Encrypts count bytes of plaintext (all of them or, when the outbound buffer fills, a
/// prefix). Returns the count taken, WANT_OUTPUT, or FAILED.
long rtes_tls_write(rtes_tls_session *session, const void *bytes, size_t count);

/// Queues close_notify for the peer. Returns OK, WANT_OUTPUT or FAILED.
int rtes_tls_close(rtes_tls_session *session);

/// The failure kind (RTES_TLS_FAILURE_*), the X509 verification result (0 when none) and the text.
int rtes_tls_failure_kind(const rtes_tls_session *session);
long rtes_tls_failure_verify_result(const rtes_tls_session *session);
const char *rtes_tls_failure_text(const rtes_tls_session *session);

/// The negotiated protocol version: 12 or 13 (0 before the handshake).
int rtes_tls_protocol_version(const rtes_tls_session *session);

/// The negotiated cipher suite's name (static storage), or "" before the handshake.
const char *rtes_tls_cipher_name(const rtes_tls_session *session);

/// Copies the peer certificate's subject commonName into buffer (NUL-terminated). Returns its
/// length, 0 when the peer sent no certificate or it has no CN, or -1 when it does not fit.
long rtes_tls_peer_common_name(rtes_tls_session *session, char *buffer, size_t capacity);

/// Kernel TLS: 1 when the kernel accepts the "tls" upper-layer protocol on a TCP socket,
/// 0 when it does not (no tls module), or -errno when the probe itself failed.
int rtes_tls_probe_kernel_tls(void);

/// OpenSSL's version text (static storage).
const char *rtes_tls_library_version(void);

#endif
