// What this kernel's io_uring offers, found by trying it: rings with each setup flag,
// a multishot accept and a multishot recv on throw-away local sockets.
#define _GNU_SOURCE
#include "exchange_shim.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int try_setup(unsigned flags) {
    struct io_uring ring;
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = flags;
    if (flags & IORING_SETUP_SQPOLL) params.sq_thread_idle = 1; // ms
    int rc = io_uring_queue_init_params(4, &ring, &params);
    if (rc < 0) return rc;
    io_uring_queue_exit(&ring);
    return 0;
}

/// Submits what is prepared and waits up to 1 s for one CQE; returns its res and flags.
static int submit_and_reap(struct io_uring *ring, uint64_t user_data, int *res, unsigned *flags) {
    int rc = io_uring_submit(ring);
    if (rc < 0) return rc;
    for (;;) {
        struct io_uring_cqe *cqe;
        struct __kernel_timespec timeout = { .tv_sec = 1, .tv_nsec = 0 };
        rc = io_uring_wait_cqe_timeout(ring, &cqe, &timeout);
        if (rc < 0) return rc; // -ETIME: nothing came back
        uint64_t got = cqe->user_data;
        *res = cqe->res;
        *flags = cqe->flags;
        io_uring_cqe_seen(ring, cqe);
        if (got == user_data) return 0;
    }
}

/// 0 when a multishot accept is accepted by the kernel (a connection is waiting, so the
/// first completion comes at once and carries IORING_CQE_F_MORE), else -errno.
static int try_multishot_accept(struct io_uring *ring) {
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) return -errno;
    int client = -1, rc;
    struct sockaddr_un address;
    socklen_t length = sizeof address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    // Autobind: an abstract address chosen by the kernel, nothing on the file system.
    if (bind(listener, (struct sockaddr *)&address, sizeof(sa_family_t)) != 0 ||
        listen(listener, 4) != 0 ||
        getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
        rc = -errno;
        goto out;
    }
    client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client < 0 || connect(client, (struct sockaddr *)&address, length) != 0) {
        rc = -errno;
        goto out;
    }
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    if (sqe == NULL) { rc = -EBUSY; goto out; }
    io_uring_prep_multishot_accept(sqe, listener, NULL, NULL, SOCK_CLOEXEC);
    sqe->user_data = 1;
    int res = 0;
    unsigned flags = 0;
    rc = submit_and_reap(ring, 1, &res, &flags);
    if (rc == 0) {
        if (res >= 0) close(res);
        rc = res < 0 ? res : ((flags & IORING_CQE_F_MORE) ? 0 : -EOPNOTSUPP);
    }
out:
    if (client >= 0) close(client);
    close(listener);
    return rc;
}

/// 0 when a multishot recv with a provided buffer delivers a byte and stays armed
/// (IORING_CQE_F_MORE), else -errno.
static int try_multishot_recv(struct io_uring *ring) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return -errno;
    static char buffer[64]; // one provided buffer, group 7, id 0
    int rc, res = 0;
    unsigned flags = 0;
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    if (sqe == NULL) { rc = -EBUSY; goto out; }
    io_uring_prep_provide_buffers(sqe, buffer, sizeof buffer, 1, 7, 0);
    sqe->user_data = 2;
    rc = submit_and_reap(ring, 2, &res, &flags);
    if (rc == 0 && res < 0) rc = res;
    if (rc != 0) goto out;
    if (write(pair[1], "x", 1) != 1) { rc = -errno; goto out; }
    sqe = io_uring_get_sqe(ring);
    if (sqe == NULL) { rc = -EBUSY; goto out; }
    io_uring_prep_recv_multishot(sqe, pair[0], NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 7;
    sqe->user_data = 3;
    rc = submit_and_reap(ring, 3, &res, &flags);
    if (rc == 0) rc = res < 0 ? res : ((flags & IORING_CQE_F_MORE) ? 0 : -EOPNOTSUPP);
out:
    close(pair[0]);
    close(pair[1]);
    return rc;
}

int rtes_uring_probe_features(rtes_uring_features *out) {
    if (out == NULL) return -EINVAL;
    memset(out, 0, sizeof *out);

    struct io_uring ring;
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    int rc = io_uring_queue_init_params(8, &ring, &params);
    if (rc < 0) {
        out->ring = out->sqpoll = out->single_issuer = out->coop_taskrun = rc;
        out->defer_taskrun = out->multishot_accept = out->multishot_recv = rc;
        out->opcodes = out->last_opcode = rc;
        return 0;
    }
    out->features = params.features;

    struct io_uring_probe *probe = io_uring_get_probe_ring(&ring);
    if (probe != NULL) {
        int supported = 0;
        for (int op = 0; op <= probe->last_op && op < probe->ops_len; op++)
            if (io_uring_opcode_supported(probe, op)) supported++;
        out->opcodes = supported;
        out->last_opcode = probe->last_op;
        out->multishot_accept = io_uring_opcode_supported(probe, IORING_OP_ACCEPT)
            ? try_multishot_accept(&ring) : -EOPNOTSUPP;
        out->multishot_recv = io_uring_opcode_supported(probe, IORING_OP_RECV) &&
                              io_uring_opcode_supported(probe, IORING_OP_PROVIDE_BUFFERS)
            ? try_multishot_recv(&ring) : -EOPNOTSUPP;
        io_uring_free_probe(probe);
    } else {
        out->opcodes = out->last_opcode = -ENOMEM;
        out->multishot_accept = try_multishot_accept(&ring);
        out->multishot_recv = try_multishot_recv(&ring);
    }
    io_uring_queue_exit(&ring); // cancels the still-armed multishot requests

    out->sqpoll = try_setup(IORING_SETUP_SQPOLL);
    out->single_issuer = try_setup(IORING_SETUP_SINGLE_ISSUER);
    out->coop_taskrun = try_setup(IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
    out->defer_taskrun = try_setup(IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
                                   IORING_SETUP_TASKRUN_FLAG);
    return 0;
}
