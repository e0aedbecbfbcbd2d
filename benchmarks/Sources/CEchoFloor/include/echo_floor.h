#ifndef RTES_ECHO_FLOOR_H
#define RTES_ECHO_FLOOR_H

// gateway-bench's floor: the least a server on this host's TCP stack can do with an order
// entry connection, built the way the gateway is built (io_uring, multishot accept,
// multishot recv into a registered provided-buffer ring, DEFER_TASKRUN + SINGLE_ISSUER +
// TASKRUN_FLAG, the completion queue busy-polled, sends batched per loop turn) but with no
// session, no decoding and no engine: it frames SoupBinTCP packets and answers each with a
// fixed packet of the size the exchange would send.
//
//   L Login Request (49 B)               → A Login Accepted (33 B)
//   U + OUCH O Enter Order (52 B)        → S + OUCH A Accepted (69 B), the order's token copied in
//   U + OUCH X Cancel Order (22 B)       → S + OUCH C Canceled (31 B), the token copied in
//   anything else                        → nothing
//
// One thread, pinned, serves every connection (at most RTES_ECHO_FLOOR_MAX_CONNECTIONS).

#include <stdint.h>

#define RTES_ECHO_FLOOR_MAX_CONNECTIONS 64

typedef struct rtes_echo_floor rtes_echo_floor;

/// What the server did, read after rtes_echo_floor_stop.
typedef struct rtes_echo_floor_stats {
    uint64_t loop_turns;
    uint64_t kernel_entries;   /* io_uring_enter calls (submit and/or run task work) */
    uint64_t bytes_received;
    uint64_t packets_received;
    uint64_t packets_answered;
    uint64_t sends;            /* send operations submitted */
    uint64_t connections;      /* accepted in all */
    uint64_t recv_rearms;      /* multishot recv re-armed (ENOBUFS, or ended by the kernel) */
    uint32_t setup_flags;      /* IORING_SETUP_* the ring was created with */
    int32_t error;             /* 0, or the first -errno that closed a connection or the server */
} rtes_echo_floor_stats;

/// Listens on 127.0.0.1:`port` (0: an ephemeral port; see rtes_echo_floor_port) and starts
/// the server thread, pinned to `cpu` (-1: not pinned) and, when `fifo_priority` > 0,
/// running under SCHED_FIFO at that priority. Returns once the thread's ring is set up, or
/// NULL with *error = -errno (the listen, the thread, or the ring setup that failed).
/// `defer_taskrun` 0 tries COOP_TASKRUN + TASKRUN_FLAG instead (for comparison).
rtes_echo_floor *rtes_echo_floor_start(uint16_t port, int cpu, int fifo_priority, int defer_taskrun, int *error);

/// The port the server listens on.
uint16_t rtes_echo_floor_port(const rtes_echo_floor *server);

/// Stops the thread, joins it, closes every socket and the ring, frees the server, and
/// writes what it did into *stats (may be NULL).
void rtes_echo_floor_stop(rtes_echo_floor *server, rtes_echo_floor_stats *stats);

#endif
