// The floor server of gateway-bench: see include/echo_floor.h.
//
// Loop turn: enter the kernel only when there is something to submit or the kernel says
// deferred task work is waiting (IORING_SQ_TASKRUN); drain the completion queue; frame
// what arrived and append the answers to each connection's outgoing buffer; then one send
// per connection with bytes waiting and no send in flight (two buffers per connection: one
// filling, one in flight; a partial send is resubmitted from where it stopped).
#define _GNU_SOURCE
#include "echo_floor.h"

#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    RING_ENTRIES = 256,
    BUFFER_COUNT = 256,          /* provided buffers, a power of two */
    BUFFER_SIZE = 4096,
    BUFFER_GROUP = 7,
    SEND_CAPACITY = 1 << 18,     /* per buffer; a client that lets this fill is an error */
    CARRY_CAPACITY = 256,        /* a partial packet kept across receives */
    CQE_BATCH = 64,
};

enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3 };

#define USER_DATA(op, index) (((uint64_t)(op) << 32) | (uint32_t)(index))

typedef struct connection {
    int fd;                      /* -1: free slot */
    int send_in_flight;
    int dirty;                   /* in the dirty list this turn */
    uint32_t fill_length;
    uint32_t flight_length;
    uint32_t flight_offset;
    uint32_t carry_length;
    uint8_t *fill;
    uint8_t *flight;
    uint8_t carry[CARRY_CAPACITY];
} connection;

struct rtes_echo_floor {
    int listen_fd;
    uint16_t port;
    int cpu;
    int fifo_priority;
    int defer_taskrun;
    pthread_t thread;
    _Atomic int state;           /* 0 starting, 1 running, -errno failed */
    _Atomic int stop;
    struct io_uring ring;
    struct io_uring_buf_ring *buffer_ring;
    size_t buffer_ring_bytes;
    uint8_t *buffers;
    connection connections[RTES_ECHO_FLOOR_MAX_CONNECTIONS];
    int dirty[RTES_ECHO_FLOOR_MAX_CONNECTIONS];
    int dirty_count;
    uint8_t login_accepted[33];
    uint8_t accepted[69];
    uint8_t canceled[31];
    rtes_echo_floor_stats stats;
};

static void fail(rtes_echo_floor *s, int error) {
    if (s->stats.error == 0) s->stats.error = error;
}

static struct io_uring_sqe *get_sqe(rtes_echo_floor *s) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
    if (!sqe) {
        io_uring_submit(&s->ring);
        s->stats.kernel_entries++;
        sqe = io_uring_get_sqe(&s->ring);
    }
    return sqe;
}

static void arm_accept(rtes_echo_floor *s) {
    struct io_uring_sqe *sqe = get_sqe(s);
    io_uring_prep_multishot_accept(sqe, s->listen_fd, NULL, NULL, 0);
    io_uring_sqe_set_data64(sqe, USER_DATA(OP_ACCEPT, 0));
}

static void arm_recv(rtes_echo_floor *s, int index) {
    struct io_uring_sqe *sqe = get_sqe(s);
    io_uring_prep_recv_multishot(sqe, s->connections[index].fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BUFFER_GROUP;
    io_uring_sqe_set_data64(sqe, USER_DATA(OP_RECV, index));
}

static void submit_send(rtes_echo_floor *s, int index) {
    connection *c = &s->connections[index];
    struct io_uring_sqe *sqe = get_sqe(s);
    io_uring_prep_send(sqe, c->fd, c->flight + c->flight_offset, c->flight_length - c->flight_offset, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, USER_DATA(OP_SEND, index));
    c->send_in_flight = 1;
    s->stats.sends++;
}

static void close_connection(rtes_echo_floor *s, int index) {
    connection *c = &s->connections[index];
    if (c->fd < 0) return;
    shutdown(c->fd, SHUT_RDWR);  /* ends the multishot recv */
    close(c->fd);
    c->fd = -1;
    c->fill_length = 0;
    c->carry_length = 0;
}

static void mark_dirty(rtes_echo_floor *s, int index) {
    connection *c = &s->connections[index];
    if (!c->dirty) {
        c->dirty = 1;
        s->dirty[s->dirty_count++] = index;
    }
}

static int append(rtes_echo_floor *s, int index, const uint8_t *bytes, uint32_t length) {
    connection *c = &s->connections[index];
    if (c->fill_length + length > SEND_CAPACITY) {
        fail(s, -ENOBUFS);
        return -1;
    }
    memcpy(c->fill + c->fill_length, bytes, length);
    c->fill_length += length;
    return 0;
}

/// One whole SoupBinTCP packet (length field included).
static int answer(rtes_echo_floor *s, int index, const uint8_t *packet, uint32_t total) {
    s->stats.packets_received++;
    connection *c = &s->connections[index];
    uint8_t type = total > 2 ? packet[2] : 0;
    if (type == 'L') {
        if (append(s, index, s->login_accepted, sizeof s->login_accepted) < 0) return -1;
    } else if (type == 'U' && total >= 4 + 14) {
        const uint8_t message = packet[3];
        if (message == 'O') {
            if (append(s, index, s->accepted, sizeof s->accepted) < 0) return -1;
            memcpy(c->fill + c->fill_length - sizeof s->accepted + 3 + 9, packet + 4, 14);
        } else if (message == 'X') {
            if (append(s, index, s->canceled, sizeof s->canceled) < 0) return -1;
            memcpy(c->fill + c->fill_length - sizeof s->canceled + 3 + 9, packet + 4, 14);
        } else {
            return 0;
        }
    } else {
        return 0;
    }
    s->stats.packets_answered++;
    mark_dirty(s, index);
    return 0;
}

/// Frames `length` received bytes, completing a packet carried over from before first.
static int received(rtes_echo_floor *s, int index, const uint8_t *bytes, uint32_t length) {
    connection *c = &s->connections[index];
    s->stats.bytes_received += length;
    if (c->carry_length > 0) {
        while (c->carry_length < 2 && length > 0) {
            c->carry[c->carry_length++] = *bytes++;
            length--;
        }
        if (c->carry_length < 2) return 0;
        uint32_t total = 2u + (((uint32_t)c->carry[0] << 8) | c->carry[1]);
        if (total > CARRY_CAPACITY) return -EMSGSIZE;
        uint32_t take = total - c->carry_length;
        if (take > length) take = length;
        memcpy(c->carry + c->carry_length, bytes, take);
        c->carry_length += take;
        bytes += take;
        length -= take;
        if (c->carry_length < total) return 0;
        c->carry_length = 0;
        if (answer(s, index, c->carry, total) < 0) return -ENOBUFS;
    }
    while (length >= 2) {
        uint32_t total = 2u + (((uint32_t)bytes[0] << 8) | bytes[1]);
        if (total > length) break;
        if (answer(s, index, bytes, total) < 0) return -ENOBUFS;
        bytes += total;
        length -= total;
    }
    if (length > 0) {
        if (length >= 2 && 2u + (((uint32_t)bytes[0] << 8) | bytes[1]) > CARRY_CAPACITY) return -EMSGSIZE;
        memcpy(c->carry, bytes, length);
        c->carry_length = length;
    }
    return 0;
}

static void accepted_connection(rtes_echo_floor *s, int fd) {
    for (int i = 0; i < RTES_ECHO_FLOOR_MAX_CONNECTIONS; i++) {
        connection *c = &s->connections[i];
        if (c->fd >= 0 || c->send_in_flight) continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->fill_length = 0;
        c->carry_length = 0;
        s->stats.connections++;
        arm_recv(s, i);
        return;
    }
    close(fd);
    fail(s, -EMFILE);
}

static void completion(rtes_echo_floor *s, const struct io_uring_cqe *cqe, unsigned *returned) {
    int op = (int)(cqe->user_data >> 32);
    int index = (int)(uint32_t)cqe->user_data;
    int res = cqe->res;
    switch (op) {
    case OP_ACCEPT:
        if (res >= 0) accepted_connection(s, res);
        if (!(cqe->flags & IORING_CQE_F_MORE) && !atomic_load_explicit(&s->stop, memory_order_relaxed)) arm_accept(s);
        break;
    case OP_RECV: {
        connection *c = &s->connections[index];
        if (res > 0) {
            unsigned id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
            int result = c->fd >= 0 ? received(s, index, s->buffers + (size_t)id * BUFFER_SIZE, (uint32_t)res) : 0;
            io_uring_buf_ring_add(s->buffer_ring, s->buffers + (size_t)id * BUFFER_SIZE, BUFFER_SIZE, (unsigned short)id,
                                  io_uring_buf_ring_mask(BUFFER_COUNT), (int)*returned);
            (*returned)++;
            if (result < 0) {
                fail(s, result);
                close_connection(s, index);
            } else if (!(cqe->flags & IORING_CQE_F_MORE) && c->fd >= 0) {
                s->stats.recv_rearms++;
                arm_recv(s, index);
            }
        } else if (res == -ENOBUFS && c->fd >= 0) {
            s->stats.recv_rearms++;
            arm_recv(s, index);
        } else if (!(cqe->flags & IORING_CQE_F_MORE)) {
            if (res < 0 && res != -ECONNRESET && res != -ECANCELED) fail(s, res);
            close_connection(s, index);
        }
        break;
    }
    case OP_SEND: {
        connection *c = &s->connections[index];
        c->send_in_flight = 0;
        if (c->fd < 0) break;
        if (res < 0) {
            if (res != -EPIPE && res != -ECONNRESET) fail(s, res);
            close_connection(s, index);
            break;
        }
        c->flight_offset += (uint32_t)res;
        if (c->flight_offset < c->flight_length) {
            submit_send(s, index);  /* partial send: the rest */
        } else if (c->fill_length > 0) {
            mark_dirty(s, index);
        }
        break;
    }
    }
}

/// One send per connection that has answers waiting and nothing in flight.
static void flush_sends(rtes_echo_floor *s) {
    for (int d = 0; d < s->dirty_count; d++) {
        int index = s->dirty[d];
        connection *c = &s->connections[index];
        c->dirty = 0;
        if (c->fd < 0 || c->send_in_flight || c->fill_length == 0) continue;
        uint8_t *swap = c->flight;
        c->flight = c->fill;
        c->fill = swap;
        c->flight_length = c->fill_length;
        c->flight_offset = 0;
        c->fill_length = 0;
        submit_send(s, index);
    }
    s->dirty_count = 0;
}

static int setup_ring(rtes_echo_floor *s) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = s->defer_taskrun
        ? IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG
        : IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    int result = io_uring_queue_init_params(RING_ENTRIES, &s->ring, &params);
    if (result < 0) return result;
    s->stats.setup_flags = params.flags;

    s->buffer_ring_bytes = BUFFER_COUNT * sizeof(struct io_uring_buf);
    void *mapped = mmap(NULL, s->buffer_ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mapped == MAP_FAILED) return -errno;
    s->buffer_ring = mapped;
    io_uring_buf_ring_init(s->buffer_ring);
    struct io_uring_buf_reg registration;
    memset(&registration, 0, sizeof registration);
    registration.ring_addr = (unsigned long)s->buffer_ring;
    registration.ring_entries = BUFFER_COUNT;
    registration.bgid = BUFFER_GROUP;
    result = io_uring_register_buf_ring(&s->ring, &registration, 0);
    if (result < 0) return result;
    if (posix_memalign((void **)&s->buffers, 4096, (size_t)BUFFER_COUNT * BUFFER_SIZE) != 0) return -ENOMEM;
    for (int i = 0; i < BUFFER_COUNT; i++) {
        io_uring_buf_ring_add(s->buffer_ring, s->buffers + (size_t)i * BUFFER_SIZE, BUFFER_SIZE, (unsigned short)i,
                              io_uring_buf_ring_mask(BUFFER_COUNT), i);
    }
    io_uring_buf_ring_advance(s->buffer_ring, BUFFER_COUNT);
    arm_accept(s);
    io_uring_submit(&s->ring);
    return 0;
}

static void serve(rtes_echo_floor *s) {
    struct io_uring_cqe *cqes[CQE_BATCH];
    unsigned *sq_flags = s->ring.sq.kflags;
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        s->stats.loop_turns++;
        if (io_uring_sq_ready(&s->ring) > 0) {
            io_uring_submit_and_get_events(&s->ring);
            s->stats.kernel_entries++;
        } else if (IO_URING_READ_ONCE(*sq_flags) & IORING_SQ_TASKRUN) {
            io_uring_get_events(&s->ring);
            s->stats.kernel_entries++;
        }
        unsigned count = io_uring_peek_batch_cqe(&s->ring, cqes, CQE_BATCH);
        if (count == 0) {
            __builtin_ia32_pause();
            continue;
        }
        unsigned returned = 0;
        for (unsigned i = 0; i < count; i++) completion(s, cqes[i], &returned);
        io_uring_cq_advance(&s->ring, count);
        if (returned) io_uring_buf_ring_advance(s->buffer_ring, (int)returned);
        flush_sends(s);
        if (io_uring_sq_ready(&s->ring) > 0) {
            io_uring_submit(&s->ring);
            s->stats.kernel_entries++;
        }
    }
}

static void *server_thread(void *context) {
    rtes_echo_floor *s = context;
    if (s->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(s->cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            atomic_store_explicit(&s->state, -errno, memory_order_release);
            return NULL;
        }
    }
    if (s->fifo_priority > 0) {
        struct sched_param parameters = {.sched_priority = s->fifo_priority};
        int result = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters);
        if (result != 0) {
            atomic_store_explicit(&s->state, -result, memory_order_release);
            return NULL;
        }
    }
    int result = setup_ring(s);
    if (result < 0) {
        atomic_store_explicit(&s->state, result, memory_order_release);
        return NULL;
    }
    atomic_store_explicit(&s->state, 1, memory_order_release);
    serve(s);
    io_uring_queue_exit(&s->ring);  /* by the ring's single issuer; cancels what is still armed */
    return NULL;
}

static void write_templates(rtes_echo_floor *s) {
    // A Login Accepted: session "FLOOR", next sequence number 1 (right-justified a20).
    uint8_t *p = s->login_accepted;
    memset(p, ' ', sizeof s->login_accepted);
    p[0] = 0; p[1] = 31; p[2] = 'A';
    memcpy(p + 3, "FLOOR", 5);
    p[3 + 10 + 19] = '1';
    // S + OUCH Accepted (66): timestamp 0, token (copied per order), buy 100 AAPL 220.00,
    // market hours, firm FLOR, reference 1, live.
    p = s->accepted;
    memset(p, 0, sizeof s->accepted);
    p[0] = 0; p[1] = 67; p[2] = 'S';
    uint8_t *m = p + 3;
    m[0] = 'A';
    m[23] = 'B';
    m[27] = 100;
    memcpy(m + 28, "AAPL    ", 8);
    m[36] = 0x00; m[37] = 0x21; m[38] = 0x92; m[39] = 0xC0;      /* 2,200,000 */
    m[40] = 0x00; m[41] = 0x01; m[42] = 0x86; m[43] = 0x9E;      /* 99,998 */
    memcpy(m + 44, "FLOR", 4);
    m[48] = 'Y';
    m[56] = 1;
    m[57] = 'A'; m[58] = 'N'; m[63] = 'N'; m[64] = 'L'; m[65] = ' ';
    // S + OUCH Canceled (28): 100 shares, reason U (user requested).
    p = s->canceled;
    memset(p, 0, sizeof s->canceled);
    p[0] = 0; p[1] = 29; p[2] = 'S';
    m = p + 3;
    m[0] = 'C';
    m[26] = 100;
    m[27] = 'U';
}

rtes_echo_floor *rtes_echo_floor_start(uint16_t port, int cpu, int fifo_priority, int defer_taskrun, int *error) {
    rtes_echo_floor *s = calloc(1, sizeof *s);
    if (!s) {
        *error = -ENOMEM;
        return NULL;
    }
    s->listen_fd = -1;
    s->cpu = cpu;
    s->fifo_priority = fifo_priority;
    s->defer_taskrun = defer_taskrun;
    write_templates(s);
    for (int i = 0; i < RTES_ECHO_FLOOR_MAX_CONNECTIONS; i++) {
        s->connections[i].fd = -1;
        s->connections[i].fill = malloc(SEND_CAPACITY);
        s->connections[i].flight = malloc(SEND_CAPACITY);
        if (!s->connections[i].fill || !s->connections[i].flight) {
            *error = -ENOMEM;
            goto failed;
        }
    }
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0) {
        *error = -errno;
        goto failed;
    }
    int one = 1;
    setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = {htonl(INADDR_LOOPBACK)}};
    if (bind(s->listen_fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(s->listen_fd, 128) != 0) {
        *error = -errno;
        goto failed;
    }
    socklen_t length = sizeof address;
    getsockname(s->listen_fd, (struct sockaddr *)&address, &length);
    s->port = ntohs(address.sin_port);

    int result = pthread_create(&s->thread, NULL, server_thread, s);
    if (result != 0) {
        *error = -result;
        goto failed;
    }
    int state;
    while ((state = atomic_load_explicit(&s->state, memory_order_acquire)) == 0) sched_yield();
    if (state < 0) {
        pthread_join(s->thread, NULL);
        *error = state;
        if (s->stats.setup_flags) io_uring_queue_exit(&s->ring);
        goto failed;
    }
    *error = 0;
    return s;

failed:
    if (s->listen_fd >= 0) close(s->listen_fd);
    if (s->buffer_ring) munmap(s->buffer_ring, s->buffer_ring_bytes);
    free(s->buffers);
    for (int i = 0; i < RTES_ECHO_FLOOR_MAX_CONNECTIONS; i++) {
        free(s->connections[i].fill);
        free(s->connections[i].flight);
    }
    free(s);
    return NULL;
}

uint16_t rtes_echo_floor_port(const rtes_echo_floor *server) { return server->port; }

void rtes_echo_floor_stop(rtes_echo_floor *s, rtes_echo_floor_stats *stats) {
    atomic_store_explicit(&s->stop, 1, memory_order_relaxed);
    pthread_join(s->thread, NULL);
    for (int i = 0; i < RTES_ECHO_FLOOR_MAX_CONNECTIONS; i++) {
        if (s->connections[i].fd >= 0) close(s->connections[i].fd);
        free(s->connections[i].fill);
        free(s->connections[i].flight);
    }
    close(s->listen_fd);
    munmap(s->buffer_ring, s->buffer_ring_bytes);
    free(s->buffers);
    if (stats) *stats = s->stats;
    free(s);
}
