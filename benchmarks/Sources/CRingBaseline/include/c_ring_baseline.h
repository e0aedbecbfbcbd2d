#ifndef RTES_C_RING_BASELINE_H
#define RTES_C_RING_BASELINE_H

// The runtime's single-producer/single-consumer ring (ExchangeRuntime's SPSCRing) written
// again in C, with the same layout, the same cached indices and the same memory orderings,
// and the benchmark loops that drive it, so that ring-bench can run the two side by side.
// Each loop exists for two message sizes (64 bytes: one cache line; 80 bytes: the engine's
// command envelope), each compiled for its size, as the Swift ring is specialized for its
// element. Built at -O2 without -march=native (which made the C ring 4x slower on the
// development VM).
//
// Layout (as SPSCRingLayout): producer index at 0, consumer index at 128, slots from 256.

#include <stddef.h>
#include <stdint.h>

/// A 64-byte message, the same fields as ring-bench's Swift `Message64`.
typedef struct {
    uint64_t sequence;
    uint64_t send_tsc;     ///< rdtsc when the producer pushed it (latency runs)
    uint64_t planned_tsc;  ///< when it was due by the schedule (latency runs)
    uint64_t payload[4];
    uint64_t checksum;
} rtes_cring_message64;

/// An 80-byte message (the stride of the engine's `CommandEnvelope`), as ring-bench's `Message80`.
typedef struct {
    uint64_t sequence;
    uint64_t send_tsc;
    uint64_t planned_tsc;
    uint64_t payload[6];
    uint64_t checksum;
} rtes_cring_message80;

/// The writing end (slots typed by the loop that uses it).
typedef struct {
    char *slots;
    uint64_t capacity, mask;
    uint64_t *published;  ///< own index, stored with release
    uint64_t *released;   ///< consumer's index, loaded with acquire when the cache says full
    uint64_t tail, cached_head, full_count;
} rtes_cring_producer;

/// The reading end.
typedef struct {
    char *slots;
    uint64_t capacity, mask;
    uint64_t *published;  ///< producer's index, loaded with acquire when the cache says empty
    uint64_t *released;   ///< own index, stored with release
    uint64_t head, cached_tail;
} rtes_cring_consumer;

/// Bytes a ring of `capacity` slots of `slot_bytes` needs (a multiple of 128; the memory
/// must be 128-aligned).
size_t rtes_cring_required_bytes(uint64_t capacity, size_t slot_bytes);

/// Sets both indices to zero and returns the two ends. `capacity` is a power of two.
void rtes_cring_init(void *memory, uint64_t capacity, rtes_cring_producer *producer, rtes_cring_consumer *consumer);

/// What a benchmark loop saw.
typedef struct {
    uint64_t start_tsc;  ///< producer: rdtscp before the first message
    uint64_t end_tsc;    ///< consumer: rdtscp after the last message
    uint64_t errors;     ///< consumer: messages out of sequence
    uint64_t sum;        ///< consumer: a sum over the payload, so nothing is optimized away
} rtes_cring_run;

// Every loop's waiting side spins, executing `pause` in each turn if `pause` is non-zero.
//
// Throughput: `count` messages flat out, singly or claimed and peeked `batch` at a time.
//
// One-way latency: the producer sends message i when the TSC passes start + i * interval,
// stamping `planned_tsc` and `send_tsc` (rdtsc); the consumer spins on the ring, takes
// rdtscp on receipt and stores receipt − send in `from_send[i]` and receipt − planned in
// `from_plan[i]`.
//
// One thread: `count` messages pushed and popped in turn (`batch` 0) or claimed, published,
// peeked and released `batch` at a time, on the calling thread: the instructions per message
// without a second core (run it under callgrind). Returns the payload sum.
#define RTES_CRING_DECLARE_LOOPS(SIZE)                                                                              \
    void rtes_cring_produce_single_##SIZE(rtes_cring_producer *p, uint64_t count, int pause, rtes_cring_run *run);  \
    void rtes_cring_consume_single_##SIZE(rtes_cring_consumer *c, uint64_t count, int pause, rtes_cring_run *run);  \
    void rtes_cring_produce_batched_##SIZE(rtes_cring_producer *p, uint64_t count, uint64_t batch, int pause,       \
                                           rtes_cring_run *run);                                                    \
    void rtes_cring_consume_batched_##SIZE(rtes_cring_consumer *c, uint64_t count, uint64_t batch, int pause,       \
                                           rtes_cring_run *run);                                                    \
    void rtes_cring_produce_paced_##SIZE(rtes_cring_producer *p, uint64_t count, uint64_t start_tsc,                \
                                         uint64_t interval_ticks, int pause, rtes_cring_run *run);                  \
    void rtes_cring_consume_timed_##SIZE(rtes_cring_consumer *c, uint64_t count, uint64_t *from_send,               \
                                         uint64_t *from_plan, int pause, rtes_cring_run *run);                       \
    uint64_t rtes_cring_one_thread_##SIZE(rtes_cring_producer *p, rtes_cring_consumer *c, uint64_t count, uint64_t batch);

RTES_CRING_DECLARE_LOOPS(64)
RTES_CRING_DECLARE_LOOPS(80)

#endif
